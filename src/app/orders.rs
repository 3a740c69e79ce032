//! Orders and tickets (`o`): orders newest first, then the buyer's tickets with their codes.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use storefront_contract::{Order, OrderList, OrderStatus, Ticket, TicketList};

use super::keys::Action;
use super::layout;
use super::list::{ListState, follow_rows};
use super::{App, Effect, Prompt, Screen};
use crate::api::ApiResult;

#[derive(Clone, Debug, Default)]
pub struct OrdersState {
    pub orders: Vec<Order>,
    pub tickets: Vec<Ticket>,
    pub list: ListState,
    pub loading: bool,
    pub loaded: bool,
    /// After signing in: offer to resume an unpaid order, once.
    pub offer_resume: bool,
    /// The first row shown.
    pub row_offset: usize,
}

/// A line of the orders screen; orders and tickets can be selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrdersRow {
    Heading(&'static str),
    Order(usize),
    Ticket(usize),
    Empty(&'static str),
    Blank,
}

pub fn orders_rows(state: &OrdersState) -> Vec<OrdersRow> {
    let mut rows = vec![OrdersRow::Heading("Orders")];
    if state.orders.is_empty() {
        rows.push(OrdersRow::Empty("No orders yet."));
    }
    rows.extend((0..state.orders.len()).map(OrdersRow::Order));
    rows.push(OrdersRow::Blank);
    rows.push(OrdersRow::Heading("Tickets"));
    if state.tickets.is_empty() {
        rows.push(OrdersRow::Empty("No tickets yet."));
    }
    rows.extend((0..state.tickets.len()).map(OrdersRow::Ticket));
    rows
}

impl OrdersState {
    /// Scrolls so that the selected row shows, with its section's heading when it is first.
    pub fn follow(&mut self, visible: usize) {
        let rows = orders_rows(self);
        let Some(&at) = self.selectable().get(self.list.selected) else {
            self.row_offset = 0;
            return;
        };
        let top = match at.checked_sub(1).map(|i| rows[i]) {
            Some(OrdersRow::Heading(_)) => at - 1,
            _ => at,
        };
        follow_rows(&mut self.row_offset, top, at, rows.len(), visible);
    }

    /// Indices of the selectable rows.
    pub fn selectable(&self) -> Vec<usize> {
        orders_rows(self)
            .iter()
            .enumerate()
            .filter(|(_, row)| matches!(row, OrdersRow::Order(_) | OrdersRow::Ticket(_)))
            .map(|(i, _)| i)
            .collect()
    }
}

impl App {
    pub(super) fn show_orders(&mut self) -> Vec<Effect> {
        let Some(token) = self.require_session(Screen::Orders) else {
            return Vec::new();
        };
        self.remember_previous();
        self.screen = Screen::Orders;
        self.orders.loading = true;
        vec![
            Effect::LoadOrders {
                token: token.clone(),
            },
            Effect::LoadTickets { token },
        ]
    }

    pub(super) fn orders_loaded(&mut self, result: ApiResult<OrderList>) -> Vec<Effect> {
        self.orders.loading = false;
        match result {
            Ok(list) => {
                self.connected();
                self.orders.orders = list.orders;
                self.orders.loaded = true;
                self.clamp_orders_selection();
                if std::mem::take(&mut self.orders.offer_resume)
                    && self.screen != Screen::Payment
                    && let Some(order) = self
                        .orders
                        .orders
                        .iter()
                        .find(|o| o.status == OrderStatus::Pending && o.checkout_url.is_some())
                {
                    self.prompt = Some(Prompt::ResumeOrder {
                        order_id: order.id,
                        total: storefront_contract::format_amount(order.total, &order.currency),
                    });
                }
                Vec::new()
            }
            Err(err) => {
                let retry = self.token().map(|token| Effect::LoadOrders {
                    token: token.to_owned(),
                });
                self.on_error(err, retry)
            }
        }
    }

    pub(super) fn tickets_loaded(&mut self, result: ApiResult<TicketList>) -> Vec<Effect> {
        match result {
            Ok(list) => {
                self.connected();
                self.orders.tickets = list.tickets;
                self.clamp_orders_selection();
                Vec::new()
            }
            Err(err) => {
                let retry = self.token().map(|token| Effect::LoadTickets {
                    token: token.to_owned(),
                });
                self.on_error(err, retry)
            }
        }
    }

    fn clamp_orders_selection(&mut self) {
        let len = self.orders.selectable().len();
        let visible = layout::orders_rows(self.size.0, self.size.1);
        let selected = self.orders.list.selected;
        self.orders.list.select(selected, len, visible);
        self.orders.follow(visible);
    }

    pub(super) fn orders_action(&mut self, action: Action) -> Vec<Effect> {
        let len = self.orders.selectable().len();
        let visible = layout::orders_rows(self.size.0, self.size.1);
        if !self.orders.list.navigate(action, len, visible) {
            match action {
                Action::Back => self.screen = self.previous,
                Action::Open => return self.open_selected_order(),
                _ => {}
            }
        }
        self.orders.follow(visible);
        Vec::new()
    }

    fn open_selected_order(&mut self) -> Vec<Effect> {
        let rows = orders_rows(&self.orders);
        let selectable = self.orders.selectable();
        let Some(&at) = selectable.get(self.orders.list.selected) else {
            return Vec::new();
        };
        match rows[at] {
            OrdersRow::Order(i) => {
                let id = self.orders.orders[i].id;
                self.open_order(id)
            }
            OrdersRow::Ticket(i) => {
                let ticket = &self.orders.tickets[i];
                let Some(order_id) = ticket.order_id else {
                    return Vec::new();
                };
                let ticket_id = ticket.id;
                let effects = self.open_order(order_id);
                // Show this ticket's code once the order arrives.
                self.payment.focus_ticket = Some(ticket_id);
                effects
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn orders_mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        let selectable = self.orders.selectable();
        let visible = layout::orders_rows(self.size.0, self.size.1);
        match mouse.kind {
            MouseEventKind::ScrollDown => self.orders.list.move_by(1, selectable.len(), visible),
            MouseEventKind::ScrollUp => self.orders.list.move_by(-1, selectable.len(), visible),
            MouseEventKind::Down(MouseButton::Left) => {
                let top = layout::list_top(self.size, layout::ORDERS_LIST_TOP);
                if let Some(row) = mouse.row.checked_sub(top) {
                    let index = self.orders.row_offset + row as usize;
                    if let Some(at) = selectable.iter().position(|&i| i == index) {
                        if at == self.orders.list.selected {
                            return self.open_selected_order();
                        }
                        self.orders.list.select(at, selectable.len(), visible);
                    }
                }
            }
            _ => {}
        }
        self.orders.follow(visible);
        Vec::new()
    }
}
