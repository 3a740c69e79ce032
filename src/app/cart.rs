//! The cart: one section per page, lines that change at once on the server.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use storefront_contract::{BuyTicketsRequest, Cart, CartBooking, CartProduct, Money, Page};

use super::keys::Action;
use super::layout;
use super::list::{ListState, follow_rows};
use super::{App, CartChange, Effect, Screen, StatusKind};
use crate::api::ApiResult;

#[derive(Clone, Debug, Default)]
pub struct CartState {
    pub cart: Option<Cart>,
    /// Over the selectable rows only.
    pub list: ListState,
    pub loading: bool,
    /// A change is on its way to the server.
    pub changing: bool,
    /// The first row shown.
    pub row_offset: usize,
    /// The last line removed, while the buyer stays on the cart: `u` puts it back.
    pub removed: Option<Removed>,
}

/// A removed cart line, and how to put it back.
#[derive(Clone, Debug, PartialEq)]
pub struct Removed {
    /// "2 × Wren Duo: Winter Songs · Concession".
    pub what: String,
    pub undo: Undo,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Undo {
    Tickets {
        event_id: i64,
        ticket_type_id: Option<i64>,
        quantity: i64,
    },
    Product {
        product_id: i64,
        quantity: i64,
    },
}

/// One line of the cart as shown; products, bookings and ticket lines can be selected.
#[derive(Clone, Debug, PartialEq)]
pub enum CartRow {
    Page(Option<Page>),
    Product(CartProduct),
    Booking(CartBooking),
    /// The tickets of one event and type, one line with their count.
    Tickets {
        event_id: i64,
        event_name: String,
        starts_at: chrono::DateTime<chrono::Utc>,
        ticket_type_id: Option<i64>,
        ticket_type_name: Option<String>,
        unit: Money,
        /// The price when they were put in the cart, when the venue has changed it since.
        was: Option<Money>,
        /// Paid tickets fill the event: these can only be removed.
        sold_out: bool,
        ids: Vec<i64>,
    },
    Subtotal(Money),
    Blank,
}

impl CartRow {
    pub fn selectable(&self) -> bool {
        matches!(
            self,
            CartRow::Product(_) | CartRow::Booking(_) | CartRow::Tickets { .. }
        )
    }
}

/// The cart laid out as rows: each group's heading, lines and subtotal.
pub fn cart_rows(cart: &Cart) -> Vec<CartRow> {
    let mut rows = Vec::new();
    for (i, group) in cart.groups.iter().enumerate() {
        if i > 0 {
            rows.push(CartRow::Blank);
        }
        rows.push(CartRow::Page(group.page.clone()));
        rows.extend(group.products.iter().cloned().map(CartRow::Product));
        rows.extend(group.calendar_entries.iter().cloned().map(CartRow::Booking));
        let mut tickets: Vec<CartRow> = Vec::new();
        for ticket in &group.tickets {
            let same = tickets.iter_mut().find(|row| {
                matches!(row, CartRow::Tickets { event_id, ticket_type_id, unit, .. }
                    if *event_id == ticket.entry_id && *ticket_type_id == ticket.ticket_type_id && *unit == ticket.cost)
            });
            match same {
                Some(CartRow::Tickets { ids, .. }) => ids.push(ticket.id),
                _ => tickets.push(CartRow::Tickets {
                    event_id: ticket.entry_id,
                    event_name: ticket.entry_name.clone(),
                    starts_at: ticket.entry_starts_at,
                    ticket_type_id: ticket.ticket_type_id,
                    ticket_type_name: ticket.ticket_type_name.clone(),
                    unit: ticket.cost,
                    was: ticket.previous_cost,
                    sold_out: ticket.sold_out,
                    ids: vec![ticket.id],
                }),
            }
        }
        rows.extend(tickets);
        rows.push(CartRow::Subtotal(group.total));
    }
    rows
}

impl CartState {
    /// The rows, and which of them are selectable (by index into the rows).
    pub fn rows(&self) -> (Vec<CartRow>, Vec<usize>) {
        let rows = self.cart.as_ref().map(cart_rows).unwrap_or_default();
        let selectable = rows
            .iter()
            .enumerate()
            .filter(|(_, row)| row.selectable())
            .map(|(i, _)| i)
            .collect();
        (rows, selectable)
    }

    /// Scrolls so that the selected line shows, with its group's heading when it is first.
    pub fn follow(&mut self, visible: usize) {
        let (rows, selectable) = self.rows();
        let Some(&at) = selectable.get(self.list.selected) else {
            self.row_offset = 0;
            return;
        };
        let top = match at.checked_sub(1).map(|i| &rows[i]) {
            Some(CartRow::Page(_)) => at - 1,
            _ => at,
        };
        follow_rows(&mut self.row_offset, top, at, rows.len(), visible);
    }

    pub fn selected_row(&self) -> Option<CartRow> {
        let (rows, selectable) = self.rows();
        selectable.get(self.list.selected).map(|&i| rows[i].clone())
    }

    /// The page of the selected line's group (`None` for the page-less group).
    pub fn selected_page(&self) -> Option<Option<Page>> {
        let (rows, selectable) = self.rows();
        let &at = selectable.get(self.list.selected)?;
        rows[..=at].iter().rev().find_map(|row| match row {
            CartRow::Page(page) => Some(page.clone()),
            _ => None,
        })
    }
}

impl App {
    pub(super) fn show_cart(&mut self) -> Vec<Effect> {
        let Some(token) = self.require_session(Screen::Cart) else {
            return Vec::new();
        };
        self.remember_previous();
        self.screen = Screen::Cart;
        self.cart.loading = true;
        vec![Effect::LoadCart { token }]
    }

    pub(super) fn cart_loaded(&mut self, result: ApiResult<Cart>) -> Vec<Effect> {
        self.cart.loading = false;
        match result {
            Ok(cart) => {
                self.connected();
                self.summary = Some(cart.summary.clone());
                self.cart.cart = Some(cart);
                let (_, selectable) = self.cart.rows();
                let visible = layout::cart_rows(self.size.0, self.size.1);
                let selected = self.cart.list.selected;
                self.cart.list.select(selected, selectable.len(), visible);
                self.cart.follow(visible);
                Vec::new()
            }
            Err(err) => {
                let retry = self.token().map(|token| Effect::LoadCart {
                    token: token.to_owned(),
                });
                self.on_error(err, retry)
            }
        }
    }

    pub(super) fn cart_action(&mut self, action: Action) -> Vec<Effect> {
        let (_, selectable) = self.cart.rows();
        let visible = layout::cart_rows(self.size.0, self.size.1);
        if self.cart.list.navigate(action, selectable.len(), visible) {
            self.cart.follow(visible);
            return Vec::new();
        }
        match action {
            Action::Back => {
                self.screen = self.previous;
                Vec::new()
            }
            Action::More => self.change_selected(1),
            Action::Fewer => self.change_selected(-1),
            Action::Remove => self.remove_selected(),
            Action::Undo => self.undo_removal(),
            Action::CheckOutVenue => match self.cart.selected_page() {
                Some(Some(page)) => self.check_out(Some(page)),
                Some(None) => {
                    self.set_status(
                        StatusKind::Info,
                        "These items belong to no venue: check them out with the whole cart (P).",
                    );
                    Vec::new()
                }
                None => Vec::new(),
            },
            Action::CheckOutAll => self.check_out(None),
            _ => Vec::new(),
        }
    }

    fn cart_change(&mut self, change: CartChange) -> Vec<Effect> {
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        if self.cart.changing {
            return Vec::new();
        }
        self.cart.changing = true;
        vec![Effect::ChangeCart { token, change }]
    }

    fn change_selected(&mut self, delta: i64) -> Vec<Effect> {
        let change = match self.cart.selected_row() {
            Some(CartRow::Product(line)) => {
                let quantity = i64::from(line.quantity) + delta;
                if quantity > 99 {
                    self.set_status(StatusKind::Info, "A cart line holds at most 99.");
                    return Vec::new();
                }
                if quantity <= 0 {
                    CartChange::RemoveLine { line: line.id }
                } else {
                    CartChange::SetQuantity {
                        line: line.id,
                        quantity,
                    }
                }
            }
            Some(CartRow::Booking(booking)) if delta < 0 => {
                CartChange::RemoveBooking { id: booking.id }
            }
            Some(CartRow::Booking(_)) => {
                self.set_status(StatusKind::Info, "A booking is for one place.");
                return Vec::new();
            }
            Some(CartRow::Tickets {
                event_id,
                ticket_type_id,
                ids,
                ..
            }) => {
                if delta > 0 {
                    CartChange::AddTickets {
                        event_id,
                        request: BuyTicketsRequest {
                            quantity: 1,
                            ticket_type_id,
                        },
                        key: self.new_action_key(),
                    }
                } else {
                    // The newest ticket goes first.
                    CartChange::RemoveTickets {
                        ids: ids.iter().max().copied().into_iter().collect(),
                    }
                }
            }
            _ => return Vec::new(),
        };
        self.cart_change(change)
    }

    fn remove_selected(&mut self) -> Vec<Effect> {
        let (change, removed) = match self.cart.selected_row() {
            Some(CartRow::Product(line)) => (
                CartChange::RemoveLine { line: line.id },
                Some(Removed {
                    what: format!("{} × {}", line.quantity, line.title),
                    undo: Undo::Product {
                        product_id: line.product_id,
                        quantity: i64::from(line.quantity),
                    },
                }),
            ),
            // A booking taken out is cancelled for good: there is nothing to put back.
            Some(CartRow::Booking(booking)) => (CartChange::RemoveBooking { id: booking.id }, None),
            Some(CartRow::Tickets {
                ids,
                event_id,
                event_name,
                ticket_type_id,
                ticket_type_name,
                ..
            }) => {
                let kind = ticket_type_name
                    .map(|t| format!(" · {t}"))
                    .unwrap_or_default();
                let removed = Removed {
                    what: format!("{} × {event_name}{kind}", ids.len()),
                    undo: Undo::Tickets {
                        event_id,
                        ticket_type_id,
                        quantity: i64::try_from(ids.len()).unwrap_or(i64::MAX),
                    },
                };
                (CartChange::RemoveTickets { ids }, Some(removed))
            }
            _ => return Vec::new(),
        };
        let effects = self.cart_change(change);
        if !effects.is_empty() {
            if let Some(removed) = &removed {
                self.set_status(
                    StatusKind::Info,
                    format!("Removed {}. u puts it back.", removed.what),
                );
            }
            self.cart.removed = removed;
        }
        effects
    }

    /// `u`: the last removed line comes back (tickets as new pending tickets).
    fn undo_removal(&mut self) -> Vec<Effect> {
        let Some(removed) = self.cart.removed.clone() else {
            self.set_status(StatusKind::Info, "Nothing to put back.");
            return Vec::new();
        };
        let change = match removed.undo {
            Undo::Tickets {
                event_id,
                ticket_type_id,
                quantity,
            } => CartChange::AddTickets {
                event_id,
                request: BuyTicketsRequest {
                    quantity,
                    ticket_type_id,
                },
                key: self.new_action_key(),
            },
            Undo::Product {
                product_id,
                quantity,
            } => CartChange::AddProduct {
                product_id,
                quantity,
            },
        };
        let effects = self.cart_change(change);
        if !effects.is_empty() {
            self.cart.removed = None;
            self.set_status(StatusKind::Success, format!("Put back {}.", removed.what));
        }
        effects
    }

    pub(super) fn cart_changed(&mut self, result: ApiResult<()>) -> Vec<Effect> {
        self.cart.changing = false;
        let mut effects = match result {
            Ok(()) => {
                self.connected();
                Vec::new()
            }
            Err(err) => self.on_error(err, None),
        };
        // Whatever happened, show what the server now holds.
        if let Some(token) = self.token().map(str::to_owned) {
            self.cart.loading = true;
            effects.push(Effect::LoadCart { token });
        }
        effects
    }

    pub(super) fn cart_mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        let (_, selectable) = self.cart.rows();
        let visible = layout::cart_rows(self.size.0, self.size.1);
        match mouse.kind {
            MouseEventKind::ScrollDown => self.cart.list.move_by(1, selectable.len(), visible),
            MouseEventKind::ScrollUp => self.cart.list.move_by(-1, selectable.len(), visible),
            MouseEventKind::Down(MouseButton::Left) => {
                let top = layout::list_top(self.size, layout::CART_LIST_TOP);
                let Some(row) = mouse.row.checked_sub(top) else {
                    return Vec::new();
                };
                let index = self.cart.row_offset + row as usize;
                if let Some(at) = selectable.iter().position(|&i| i == index) {
                    self.cart.list.select(at, selectable.len(), visible);
                }
            }
            _ => {}
        }
        self.cart.follow(visible);
        Vec::new()
    }
}
