//! The box office (`--box-office`, managers): every event's sales, live; one event's page;
//! orders found as one types; an order's page with refunds of chosen tickets; guest lists;
//! the accountant's CSV. The sales are long-polled: a sale, a refund or a scan anywhere shows
//! within a second.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crossterm::event::KeyEvent;
use storefront_contract::{
    BoxOfficeEvents, CompRequest, EventSales, EventSalesDetail, FoundOrder, Money, OrderDetail,
    OrderStatus, RefundRequest, TicketState, format_amount,
};

use super::keys::Action;
use super::list::ListState;
use super::{App, Effect, Screen, StatusKind};
use crate::api::{ApiError, ApiResult};
use crate::text::LineInput;

/// How long one long-poll of the sales waits on the server.
const SALES_WAIT_SECS: u64 = 25;
/// The longest search text.
const MAX_QUERY: usize = 200;
/// How often an open order's page is read again: what changes no sales figure (an e-mail
/// sent or refused, a refund SumUp took late) shows within this.
const ORDER_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// A form or question over the box office's screens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfficeDialog {
    /// Refund these tickets of the order: the amount said, a reason typed, Enter to confirm.
    Refund {
        order_id: i64,
        tickets: Vec<i64>,
        codes: Vec<String>,
        amount: String,
        reason: LineInput,
        busy: bool,
    },
    /// Guest-list tickets for an event.
    Comp(CompForm),
    /// Where to write the accountant's CSV.
    Export {
        event_id: Option<i64>,
        path: LineInput,
        busy: bool,
    },
}

/// The fields of the guest-list form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompField {
    Name,
    Email,
    Quantity,
    /// The ticket type, chosen with ←→ (only when the event has several).
    Type,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompForm {
    pub event_id: i64,
    pub event_name: String,
    /// The event's ticket types: `(id, name)`; empty for an event priced as a whole.
    pub types: Vec<(Option<i64>, String)>,
    pub type_index: usize,
    pub name: LineInput,
    pub email: LineInput,
    pub quantity: LineInput,
    pub focus: CompField,
    pub busy: bool,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct OfficeState {
    pub sales: Option<BoxOfficeEvents>,
    pub loading: bool,
    pub list: ListState,
    /// Numbers the long-poll loop: an answer of an older loop is dropped.
    pub generation: u64,
    /// The event whose page is open, and its figures by day.
    pub event_id: Option<i64>,
    pub event: Option<EventSalesDetail>,
    /// The search over orders.
    pub query: LineInput,
    pub found: Vec<FoundOrder>,
    pub found_list: ListState,
    pub search_generation: u64,
    pub searching: bool,
    /// The order whose page is open.
    pub order_id: Option<i64>,
    pub order: Option<OrderDetail>,
    pub tickets: ListState,
    /// Tickets chosen for a refund.
    pub marked: BTreeSet<i64>,
    /// Where Esc leads from the order's page.
    pub order_from: Option<Screen>,
    /// When the open order is read again (`None` until its page is read).
    pub order_refresh_at: Option<tokio::time::Instant>,
    /// That read again is under way.
    pub order_rereading: bool,
    pub dialog: Option<OfficeDialog>,
}

impl OfficeState {
    pub fn selected_event(&self) -> Option<&EventSales> {
        self.sales
            .as_ref()
            .and_then(|s| s.events.get(self.list.selected))
    }

    pub fn selected_order(&self) -> Option<&FoundOrder> {
        self.found.get(self.found_list.selected)
    }
}

impl App {
    /// Whether this client is the box office.
    pub fn is_office(&self) -> bool {
        self.settings.box_office
    }

    /// Only managers go on; anyone else is told and signed out again.
    pub(super) fn office_signed_in(&mut self, token: String) -> Vec<Effect> {
        let user = self.user().cloned();
        if user
            .as_ref()
            .is_some_and(|u| u.role == storefront_contract::Role::Manager)
        {
            let name = user.map(|u| u.name).unwrap_or_default();
            self.set_status(StatusKind::Success, format!("Signed in as {name}."));
            self.screen = Screen::Office;
            return self.load_sales();
        }
        self.session = None;
        self.screen = Screen::SignIn;
        self.signin.error = Some(
            "Only the venue's managers can open the box office: sign in with a manager's account."
                .to_owned(),
        );
        vec![Effect::Logout { token }, Effect::SaveToken(None)]
    }

    /// Loads the sales now and starts a new long-poll loop (the old one's answers are dropped).
    pub(super) fn load_sales(&mut self) -> Vec<Effect> {
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        self.office.generation += 1;
        self.office.loading = true;
        vec![Effect::LoadSales {
            token,
            wait: None,
            generation: self.office.generation,
        }]
    }

    pub(super) fn sales_loaded(
        &mut self,
        generation: u64,
        result: ApiResult<BoxOfficeEvents>,
    ) -> Vec<Effect> {
        if generation != self.office.generation {
            return Vec::new();
        }
        self.office.loading = false;
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        match result {
            Ok(mut sales) => {
                self.connected();
                tonight_first(&mut sales.events, chrono::Utc::now());
                let changed = self
                    .office
                    .sales
                    .as_ref()
                    .is_some_and(|old| old.version != sales.version);
                let version = sales.version;
                let len = sales.events.len();
                self.office.sales = Some(sales);
                let visible = usize::from(self.size.1.saturating_sub(8));
                self.office.list.scroll_into_view(len, visible);
                self.office
                    .list
                    .select(self.office.list.selected, len, visible);
                let mut effects = vec![Effect::LoadSales {
                    token: token.clone(),
                    wait: Some((SALES_WAIT_SECS, version)),
                    generation,
                }];
                if changed {
                    // What is open follows the sales: a sale, a refund, a scan.
                    if self.screen == Screen::OfficeEvent
                        && let Some(event_id) = self.office.event_id
                    {
                        effects.push(Effect::LoadEventSales {
                            token: token.clone(),
                            event_id,
                        });
                    }
                    if self.screen == Screen::OfficeOrder
                        && let Some(order_id) = self.office.order_id
                    {
                        effects.push(Effect::LoadOrderDetail { token, order_id });
                    }
                }
                effects
            }
            Err(err) => {
                let retry = Effect::LoadSales {
                    token,
                    wait: None,
                    generation,
                };
                self.on_error(err, Some(retry))
            }
        }
    }

    pub(super) fn event_sales_loaded(
        &mut self,
        result: ApiResult<EventSalesDetail>,
    ) -> Vec<Effect> {
        match result {
            Ok(detail) if Some(detail.sales.event.id) == self.office.event_id => {
                self.connected();
                self.office.event = Some(detail);
                Vec::new()
            }
            Ok(_) => Vec::new(),
            Err(err) => self.on_error(err, None),
        }
    }

    /// The open order's page is read again every few seconds.
    pub(super) fn office_tick(&mut self) -> Vec<Effect> {
        if !self.is_office()
            || self.screen != Screen::OfficeOrder
            || self.office.dialog.is_some()
            || self.office.order_refresh_at.is_none_or(|at| self.now < at)
        {
            return Vec::new();
        }
        self.office.order_refresh_at = None;
        self.office.order_rereading = true;
        self.reload_office_order()
    }

    pub(super) fn orders_found(
        &mut self,
        generation: u64,
        result: ApiResult<storefront_contract::FoundOrders>,
    ) -> Vec<Effect> {
        if generation != self.office.search_generation {
            return Vec::new();
        }
        self.office.searching = false;
        match result {
            Ok(found) => {
                self.connected();
                self.office.found = found.orders;
                self.office.found_list = ListState::default();
                Vec::new()
            }
            Err(err) => self.on_error(err, None),
        }
    }

    pub(super) fn order_detail_loaded(&mut self, result: ApiResult<OrderDetail>) -> Vec<Effect> {
        match result {
            Ok(detail) if Some(detail.order.id) == self.office.order_id => {
                self.connected();
                self.office.order_rereading = false;
                self.office.order_refresh_at = Some(self.now + ORDER_REFRESH);
                let len = detail.order.tickets.len();
                // Marks of tickets no longer valid go.
                self.office.marked.retain(|id| {
                    detail
                        .order
                        .tickets
                        .iter()
                        .any(|t| t.id == *id && is_refundable(t.state))
                });
                self.office.order = Some(detail);
                self.office
                    .tickets
                    .select(self.office.tickets.selected, len, len);
                Vec::new()
            }
            Ok(_) => Vec::new(),
            Err(err) => {
                let again = std::mem::take(&mut self.office.order_rereading);
                self.office.order_refresh_at = Some(self.now + ORDER_REFRESH);
                // Read again on its own, and tried again soon: the sales' long-poll says a
                // lost connection already.
                if again && err.is_network() {
                    return Vec::new();
                }
                self.on_error(err, None)
            }
        }
    }

    pub(super) fn refunded(&mut self, result: ApiResult<OrderDetail>) -> Vec<Effect> {
        let Some(OfficeDialog::Refund { amount, codes, .. }) = self.office.dialog.clone() else {
            return Vec::new();
        };
        match result {
            Ok(detail) => {
                self.office.dialog = None;
                self.office.marked.clear();
                let tickets = if codes.len() == 1 {
                    format!("ticket {}", codes[0])
                } else {
                    format!("{} tickets", codes.len())
                };
                let how = match detail.order.refunds.last().map(|r| r.status) {
                    Some(storefront_contract::RefundStatus::Due) => {
                        " SumUp has not taken it yet; it is retried until it has."
                    }
                    Some(storefront_contract::RefundStatus::Failed) => {
                        " SumUp refused it: refund the buyer by hand."
                    }
                    _ => "",
                };
                self.set_status(
                    StatusKind::Success,
                    format!("Refunded {amount} for {tickets}.{how}"),
                );
                self.office.order_id = Some(detail.order.id);
                self.office.order = Some(detail);
                Vec::new()
            }
            Err(err) => {
                if let Some(OfficeDialog::Refund { busy, .. }) = &mut self.office.dialog {
                    *busy = false;
                }
                self.office.dialog = None;
                let effects = self.on_error(err, None);
                // Whatever happened, show the order as it is now.
                effects
                    .into_iter()
                    .chain(self.reload_office_order())
                    .collect()
            }
        }
    }

    pub(super) fn comped(&mut self, result: ApiResult<OrderDetail>) -> Vec<Effect> {
        match result {
            Ok(detail) => {
                self.office.dialog = None;
                let count = detail.order.tickets.len();
                self.set_status(
                    StatusKind::Success,
                    format!(
                        "{count} guest-list ticket{} for {}: order {}.",
                        if count == 1 { "" } else { "s" },
                        detail.buyer.name,
                        detail.order.id
                    ),
                );
                self.open_order_detail(detail, Screen::Office)
            }
            Err(err) => {
                let message = match &err {
                    ApiError::Refused { message, .. } => Some(message.clone()),
                    _ => None,
                };
                if let (Some(message), Some(OfficeDialog::Comp(form))) =
                    (message, &mut self.office.dialog)
                {
                    form.busy = false;
                    form.error = Some(message);
                    return Vec::new();
                }
                if let Some(OfficeDialog::Comp(form)) = &mut self.office.dialog {
                    form.busy = false;
                }
                self.on_error(err, None)
            }
        }
    }

    pub(super) fn exported(&mut self, path: PathBuf, result: Result<usize, String>) -> Vec<Effect> {
        match result {
            Ok(rows) => {
                self.office.dialog = None;
                self.set_status(
                    StatusKind::Success,
                    format!(
                        "Wrote {rows} ticket{} to {}.",
                        if rows == 1 { "" } else { "s" },
                        path.display()
                    ),
                );
            }
            Err(message) => {
                if let Some(OfficeDialog::Export { busy, .. }) = &mut self.office.dialog {
                    *busy = false;
                }
                self.set_status(StatusKind::Error, message);
            }
        }
        Vec::new()
    }

    fn reload_office_order(&mut self) -> Vec<Effect> {
        match (self.token(), self.office.order_id) {
            (Some(token), Some(order_id)) => vec![Effect::LoadOrderDetail {
                token: token.to_owned(),
                order_id,
            }],
            _ => Vec::new(),
        }
    }

    fn open_order_detail(&mut self, detail: OrderDetail, from: Screen) -> Vec<Effect> {
        self.office.order_id = Some(detail.order.id);
        self.office.order = Some(detail);
        self.office.order_refresh_at = Some(self.now + ORDER_REFRESH);
        self.office.tickets = ListState::default();
        self.office.marked.clear();
        self.office.order_from = Some(from);
        self.screen = Screen::OfficeOrder;
        Vec::new()
    }

    fn open_office_order(&mut self, order_id: i64, from: Screen) -> Vec<Effect> {
        self.office.order_id = Some(order_id);
        self.office.order = None;
        self.office.order_refresh_at = None;
        self.office.order_rereading = false;
        self.office.tickets = ListState::default();
        self.office.marked.clear();
        self.office.order_from = Some(from);
        self.screen = Screen::OfficeOrder;
        self.reload_office_order()
    }

    fn open_search(&mut self) -> Vec<Effect> {
        self.screen = Screen::OfficeOrders;
        self.search()
    }

    fn search(&mut self) -> Vec<Effect> {
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        self.office.search_generation += 1;
        self.office.searching = true;
        vec![Effect::FindOrders {
            token,
            query: self.office.query.trim().to_owned(),
            generation: self.office.search_generation,
        }]
    }

    fn open_comp(&mut self, event_id: i64) -> Vec<Effect> {
        let Some(sales) = self.office_event_sales(event_id) else {
            return Vec::new();
        };
        let mut types: Vec<(Option<i64>, String)> = sales
            .by_type
            .iter()
            .filter(|t| t.ticket_type_id.is_some())
            .map(|t| (t.ticket_type_id, t.name.clone()))
            .collect();
        if types.is_empty() {
            types.push((None, "Tickets".to_owned()));
        }
        self.office.dialog = Some(OfficeDialog::Comp(CompForm {
            event_id,
            event_name: sales.event.name.clone(),
            types,
            type_index: 0,
            name: LineInput::default(),
            email: LineInput::default(),
            quantity: LineInput::from("1"),
            focus: CompField::Name,
            busy: false,
            error: None,
        }));
        Vec::new()
    }

    fn office_event_sales(&self, event_id: i64) -> Option<&EventSales> {
        self.office
            .event
            .as_ref()
            .map(|e| &e.sales)
            .filter(|s| s.event.id == event_id)
            .or_else(|| {
                self.office
                    .sales
                    .as_ref()?
                    .events
                    .iter()
                    .find(|e| e.event.id == event_id)
            })
    }

    fn open_export(&mut self, event_id: Option<i64>) -> Vec<Effect> {
        let name = match event_id.and_then(|id| self.office_event_sales(id)) {
            Some(sales) => format!("orders-{}.csv", sales.event.slug),
            None => "orders.csv".to_owned(),
        };
        self.office.dialog = Some(OfficeDialog::Export {
            event_id,
            path: LineInput::from(name.as_str()),
            busy: false,
        });
        Vec::new()
    }

    /// The refund `R` asks for: the marked tickets, else the one under the cursor.
    fn open_refund(&mut self) -> Vec<Effect> {
        let Some(detail) = &self.office.order else {
            return Vec::new();
        };
        let order = &detail.order;
        if order.status != OrderStatus::Paid {
            self.set_status(StatusKind::Error, "Only a paid order can be refunded.");
            return Vec::new();
        }
        let chosen: Vec<&storefront_contract::Ticket> = if self.office.marked.is_empty() {
            order
                .tickets
                .get(self.office.tickets.selected)
                .into_iter()
                .collect()
        } else {
            order
                .tickets
                .iter()
                .filter(|t| self.office.marked.contains(&t.id))
                .collect()
        };
        if chosen.is_empty() || chosen.iter().any(|t| !is_refundable(t.state)) {
            self.set_status(
                StatusKind::Error,
                "That ticket cannot be refunded: it was refunded or cancelled already.",
            );
            return Vec::new();
        }
        let minor: i64 = chosen.iter().map(|t| t.cost.to_minor().unwrap_or(0)).sum();
        self.office.dialog = Some(OfficeDialog::Refund {
            order_id: order.id,
            tickets: chosen.iter().map(|t| t.id).collect(),
            codes: chosen.iter().map(|t| t.code.clone()).collect(),
            amount: format_amount(Money::from_minor(minor), &order.currency),
            reason: LineInput::default(),
            busy: false,
        });
        Vec::new()
    }

    /// What a key of the box office's tables does on its screens.
    pub(super) fn office_action(&mut self, action: Action) -> Vec<Effect> {
        if self.office.dialog.is_some() {
            return self.dialog_action(action);
        }
        let visible = usize::from(self.size.1.saturating_sub(8));
        match (self.screen, action) {
            (_, Action::Refresh) => {
                let mut effects = self.load_sales();
                if let (Screen::OfficeEvent, Some(token), Some(event_id)) =
                    (self.screen, self.token(), self.office.event_id)
                {
                    effects.push(Effect::LoadEventSales {
                        token: token.to_owned(),
                        event_id,
                    });
                }
                if self.screen == Screen::OfficeOrder {
                    effects.extend(self.reload_office_order());
                }
                effects
            }
            (_, Action::Filter) => self.open_search(),
            (Screen::Office, Action::Open) => {
                let Some(event) = self.office.selected_event() else {
                    return Vec::new();
                };
                let event_id = event.event.id;
                self.office.event_id = Some(event_id);
                self.office.event = None;
                self.screen = Screen::OfficeEvent;
                match self.token() {
                    Some(token) => vec![Effect::LoadEventSales {
                        token: token.to_owned(),
                        event_id,
                    }],
                    None => Vec::new(),
                }
            }
            (Screen::Office, Action::GuestList) => match self.office.selected_event() {
                Some(event) => self.open_comp(event.event.id),
                None => Vec::new(),
            },
            (Screen::Office, Action::Export) => self.open_export(None),
            (Screen::Office, action) => {
                let len = self.office.sales.as_ref().map_or(0, |s| s.events.len());
                self.office.list.navigate(action, len, visible);
                Vec::new()
            }
            (Screen::OfficeEvent, Action::GuestList) => match self.office.event_id {
                Some(id) => self.open_comp(id),
                None => Vec::new(),
            },
            (Screen::OfficeEvent, Action::Export) => self.open_export(self.office.event_id),
            (Screen::OfficeEvent, Action::Back) => {
                self.screen = Screen::Office;
                Vec::new()
            }
            (Screen::OfficeOrders, Action::Open) => match self.office.selected_order() {
                Some(found) => {
                    let id = found.order.id;
                    self.open_office_order(id, Screen::OfficeOrders)
                }
                None => Vec::new(),
            },
            (Screen::OfficeOrders, Action::Back) => {
                self.screen = if self.office.event_id.is_some() && self.office.event.is_some() {
                    Screen::OfficeEvent
                } else {
                    Screen::Office
                };
                Vec::new()
            }
            (Screen::OfficeOrders, action) => {
                let len = self.office.found.len();
                self.office.found_list.navigate(action, len, visible);
                Vec::new()
            }
            (Screen::OfficeOrder, Action::Mark) => {
                if let Some(ticket) = self
                    .office
                    .order
                    .as_ref()
                    .and_then(|d| d.order.tickets.get(self.office.tickets.selected))
                    && is_refundable(ticket.state)
                    && !self.office.marked.remove(&ticket.id)
                {
                    self.office.marked.insert(ticket.id);
                }
                Vec::new()
            }
            (Screen::OfficeOrder, Action::RefundTickets) => self.open_refund(),
            (Screen::OfficeOrder, Action::Back) => {
                self.screen = self.office.order_from.take().unwrap_or(Screen::Office);
                if self.screen == Screen::OfficeOrders {
                    return self.search();
                }
                Vec::new()
            }
            (Screen::OfficeOrder, action) => {
                let len = self
                    .office
                    .order
                    .as_ref()
                    .map_or(0, |d| d.order.tickets.len());
                self.office.tickets.navigate(action, len, len);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn dialog_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        // Numbered before the form is borrowed; a number not used is never sent.
        let key = self.new_action_key();
        let Some(dialog) = self.office.dialog.as_mut() else {
            return Vec::new();
        };
        match (dialog, action) {
            (_, Action::Back) => {
                self.office.dialog = None;
                Vec::new()
            }
            (
                OfficeDialog::Refund {
                    order_id,
                    tickets,
                    reason,
                    busy,
                    ..
                },
                Action::Submit,
            ) if !*busy => {
                *busy = true;
                let (order_id, tickets, reason) = (*order_id, tickets.clone(), reason.trim());
                vec![Effect::Refund {
                    token,
                    order_id,
                    request: RefundRequest {
                        tickets: Some(tickets),
                        reason: (!reason.is_empty()).then(|| reason.to_owned()),
                    },
                    key,
                }]
            }
            (OfficeDialog::Comp(form), Action::NextField) => {
                form.focus = match form.focus {
                    CompField::Name => CompField::Email,
                    CompField::Email => CompField::Quantity,
                    CompField::Quantity if form.types.len() > 1 => CompField::Type,
                    CompField::Quantity | CompField::Type => CompField::Name,
                };
                Vec::new()
            }
            (OfficeDialog::Comp(form), Action::NextType) => {
                form.type_index = (form.type_index + 1) % form.types.len().max(1);
                Vec::new()
            }
            (OfficeDialog::Comp(form), Action::PreviousType) => {
                let len = form.types.len().max(1);
                form.type_index = (form.type_index + len - 1) % len;
                Vec::new()
            }
            (OfficeDialog::Comp(form), Action::Submit) if !form.busy => {
                let quantity = match form.quantity.trim().parse::<u32>() {
                    Ok(n) if (1..=100).contains(&n) => n,
                    _ => {
                        form.error = Some("How many: a number from 1 to 100.".to_owned());
                        form.focus = CompField::Quantity;
                        return Vec::new();
                    }
                };
                if form.name.trim().is_empty() {
                    form.error = Some("Name the guest.".to_owned());
                    form.focus = CompField::Name;
                    return Vec::new();
                }
                form.busy = true;
                form.error = None;
                let email = form.email.trim();
                let request = CompRequest {
                    event_id: form.event_id,
                    ticket_type_id: form.types.get(form.type_index).and_then(|t| t.0),
                    quantity,
                    name: form.name.trim().to_owned(),
                    email: (!email.is_empty()).then(|| email.to_owned()),
                };
                vec![Effect::Comp {
                    token,
                    request,
                    key,
                }]
            }
            (
                OfficeDialog::Export {
                    event_id,
                    path,
                    busy,
                },
                Action::Submit,
            ) if !*busy => {
                let path = PathBuf::from(path.trim());
                if path.as_os_str().is_empty() {
                    self.set_status(StatusKind::Error, "Say where to write the file.");
                    return Vec::new();
                }
                *busy = true;
                vec![Effect::Export {
                    token,
                    event_id: *event_id,
                    path,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// Keys the box office's text fields take: the search, a reason, the guest list's
    /// fields, a file name.
    pub(super) fn office_text(&mut self, key: KeyEvent) -> Vec<Effect> {
        match self.office.dialog.as_mut() {
            Some(OfficeDialog::Refund { reason, busy, .. }) if !*busy => {
                reason.edit(key, 500);
                Vec::new()
            }
            Some(OfficeDialog::Comp(form)) if !form.busy => {
                let (field, max) = match form.focus {
                    CompField::Name => (&mut form.name, 100),
                    CompField::Email => (&mut form.email, 254),
                    CompField::Quantity => (&mut form.quantity, 3),
                    CompField::Type => return Vec::new(),
                };
                if form.focus == CompField::Quantity
                    && let crossterm::event::KeyCode::Char(ch) = key.code
                    && !ch.is_ascii_digit()
                {
                    return Vec::new();
                }
                field.edit(key, max);
                Vec::new()
            }
            Some(OfficeDialog::Export { path, busy, .. }) if !*busy => {
                path.edit(key, 4096);
                Vec::new()
            }
            Some(_) => Vec::new(),
            None if self.screen == Screen::OfficeOrders => {
                if self.office.query.edit(key, MAX_QUERY) {
                    return self.search();
                }
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// Whether the box office is typing text (every unbound key is text).
    pub fn office_typing(&self) -> bool {
        self.office.dialog.is_some() || self.screen == Screen::OfficeOrders
    }
}

/// Orders the events as the box office reads them: tonight and the coming events by start,
/// then those that ended, the latest first. An event without an end is on for 12 hours.
pub fn tonight_first(events: &mut [EventSales], now: chrono::DateTime<chrono::Utc>) {
    let ended = |e: &EventSales| {
        e.event
            .ends_at
            .unwrap_or(e.event.starts_at + chrono::Duration::hours(12))
            < now
    };
    events.sort_by(|a, b| match (ended(a), ended(b)) {
        (false, false) => (a.event.starts_at, a.event.id).cmp(&(b.event.starts_at, b.event.id)),
        (true, true) => (b.event.starts_at, b.event.id).cmp(&(a.event.starts_at, a.event.id)),
        (false, true) => std::cmp::Ordering::Less,
        (true, false) => std::cmp::Ordering::Greater,
    });
}

/// Whether the box office can refund a ticket: paid for and not yet refunded or cancelled.
pub fn is_refundable(state: TicketState) -> bool {
    state.is_held()
}

#[cfg(test)]
mod tests {
    use crossterm::event::KeyCode;
    use storefront_contract::*;

    use super::ORDER_REFRESH;
    use crate::api::ApiError;
    use crate::app::tests::*;
    use crate::app::{Effect, Msg, OfficeDialog, Reply, Screen, Session};

    #[test]
    fn the_sales_are_long_polled_and_what_is_open_follows_them() {
        let mut app = box_office(100, 30);
        // The first answer starts the long-poll on its version.
        let generation = app.office.generation;
        let effects = app.update(Msg::from(Reply::SalesLoaded {
            generation,
            result: Ok(box_office_events()),
        }));
        assert!(
            matches!(
                effects.as_slice(),
                [Effect::LoadSales {
                    wait: Some((25, 41)),
                    ..
                }]
            ),
            "{effects:?}"
        );
        // On an event's page, a change of the sales reloads the page.
        app.update(key(KeyCode::Enter));
        assert_eq!(app.screen, Screen::OfficeEvent);
        let mut changed = box_office_events();
        changed.version = 42;
        let effects = app.update(Msg::from(Reply::SalesLoaded {
            generation,
            result: Ok(changed),
        }));
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::LoadEventSales { event_id: 9, .. })),
            "{effects:?}"
        );
        // An answer of an older loop is dropped.
        app.update(ch('r'));
        let effects = app.update(Msg::from(Reply::SalesLoaded {
            generation,
            result: Ok(box_office_events()),
        }));
        assert!(effects.is_empty());
    }

    #[test]
    fn only_managers_open_the_box_office() {
        let mut app = app(100, 30);
        app.settings.box_office = true;
        let effects = app.update(Msg::from(Reply::SignedIn(Ok(LoginResponse {
            token: "t".into(),
            user: User {
                id: 1,
                email: "ann@example.com".into(),
                name: "Ann".into(),
                role: Role::Customer,
            },
            expires_at: at("2031-03-01T10:00:00Z"),
        }))));
        assert_eq!(app.screen, Screen::SignIn);
        assert!(app.session.is_none());
        assert!(
            app.signin
                .error
                .as_deref()
                .is_some_and(|e| e.contains("managers")),
            "{:?}",
            app.signin.error
        );
        assert!(effects.iter().any(|e| matches!(e, Effect::Logout { .. })));
    }

    #[test]
    fn search_follows_typing_and_drops_older_answers() {
        let mut app = box_office(100, 30);
        let effects = app.update(ch('/'));
        assert!(
            matches!(effects.as_slice(), [Effect::FindOrders { query, .. }] if query.is_empty())
        );
        app.update(ch('a'));
        let effects = app.update(ch('n'));
        assert!(matches!(effects.as_slice(), [Effect::FindOrders { query, .. }] if query == "an"));
        // `q`, `j` and `k` are text here, not quit or moving: ticket codes hold them.
        for c in ['q', 'j', 'k'] {
            app.update(ch(c));
        }
        assert!(!app.quit);
        assert_eq!(app.office.query.as_str(), "anqjk");
        let stale = app.office.search_generation - 1;
        app.update(Msg::from(Reply::OrdersFound {
            generation: stale,
            result: Ok(FoundOrders {
                orders: vec![FoundOrder {
                    order: order(OrderStatus::Paid),
                    buyer: Buyer {
                        email: None,
                        name: "Stale".into(),
                    },
                }],
                next_cursor: None,
            }),
        }));
        assert!(app.office.found.is_empty());
        app.update(key(KeyCode::Esc));
        assert_eq!(app.screen, Screen::Office);
    }

    #[test]
    fn refunding_sends_the_marked_tickets_with_the_reason_once() {
        let mut app = box_office_refund(100, 30);
        let Some(OfficeDialog::Refund {
            amount, tickets, ..
        }) = &app.office.dialog
        else {
            panic!("no refund dialog");
        };
        assert_eq!(amount, "£10.00");
        assert_eq!(tickets, &vec![11]);
        let effects = app.update(key(KeyCode::Enter));
        let [
            Effect::Refund {
                order_id, request, ..
            },
        ] = effects.as_slice()
        else {
            panic!("{effects:?}");
        };
        assert_eq!(*order_id, 7);
        assert_eq!(request.tickets, Some(vec![11]));
        assert_eq!(request.reason.as_deref(), Some("Could not come"));
        // A second Enter while it is on its way sends nothing.
        assert!(app.update(key(KeyCode::Enter)).is_empty());
        let mut done = order_detail();
        done.order.tickets[0].state = TicketState::Refunded;
        app.update(Msg::from(Reply::Refunded(Ok(done))));
        assert!(app.office.dialog.is_none());
        assert!(app.office.marked.is_empty());
        assert!(
            app.status
                .as_ref()
                .is_some_and(|s| s.text.starts_with("Refunded £10.00 for ticket")),
            "{:?}",
            app.status
        );
        // A refunded ticket cannot be marked or refunded again.
        app.update(ch(' '));
        assert!(app.office.marked.is_empty());
        app.update(ch('R'));
        assert!(app.office.dialog.is_none());
    }

    #[test]
    fn an_open_order_is_read_again_every_few_seconds_and_not_while_asked_a_question() {
        let mut app = box_office_order(100, 30);
        let start = app.now;
        let reads = |effects: &[Effect]| {
            effects
                .iter()
                .filter(|e| matches!(e, Effect::LoadOrderDetail { order_id: 7, .. }))
                .count()
        };
        assert_eq!(reads(&app.update(Msg::Tick(start + ORDER_REFRESH / 2))), 0);
        assert_eq!(reads(&app.update(Msg::Tick(start + ORDER_REFRESH))), 1);
        // One read at a time: none more until it is answered.
        assert_eq!(reads(&app.update(Msg::Tick(start + ORDER_REFRESH * 3))), 0);
        // A lost connection while reading on its own is not said here (the sales'
        // long-poll says it) and is tried again.
        app.update(Msg::from(Reply::OrderDetailLoaded(Err(
            ApiError::Network {
                server: "http://x".into(),
            },
        ))));
        assert_eq!(app.status, None);
        let later = app.now + ORDER_REFRESH;
        assert_eq!(reads(&app.update(Msg::Tick(later))), 1);
        app.update(Msg::from(Reply::OrderDetailLoaded(Ok(order_detail()))));
        // Not while the refund question is open, nor on another screen.
        app.update(ch('R'));
        assert!(app.office.dialog.is_some());
        assert_eq!(reads(&app.update(Msg::Tick(later + ORDER_REFRESH * 2))), 0);
        app.update(key(KeyCode::Esc));
        app.update(key(KeyCode::Esc));
        assert_eq!(reads(&app.update(Msg::Tick(later + ORDER_REFRESH * 4))), 0);
    }

    #[test]
    fn esc_keeps_the_tickets_and_an_unchosen_ticket_is_the_one_under_the_cursor() {
        let mut app = box_office_order(100, 30);
        app.update(ch(' '));
        assert!(app.office.marked.is_empty(), "Space unmarks");
        app.update(ch('j'));
        app.update(ch('R'));
        let Some(OfficeDialog::Refund { tickets, .. }) = &app.office.dialog else {
            panic!("no refund dialog");
        };
        assert_eq!(tickets, &vec![12], "the checked-in ticket under the cursor");
        app.update(key(KeyCode::Esc));
        assert!(app.office.dialog.is_none());
        assert_eq!(app.screen, Screen::OfficeOrder);
        app.update(key(KeyCode::Esc));
        assert_eq!(app.screen, Screen::OfficeOrders);
    }

    #[test]
    fn a_guest_list_needs_a_name_and_a_number() {
        let mut app = box_office(100, 30);
        app.update(ch('j'));
        app.update(ch('g'));
        let effects = app.update(key(KeyCode::Enter));
        assert!(effects.is_empty());
        let Some(OfficeDialog::Comp(form)) = &app.office.dialog else {
            panic!("no form");
        };
        assert_eq!(form.error.as_deref(), Some("Name the guest."));
        for c in "Mo".chars() {
            app.update(ch(c));
        }
        app.update(key(KeyCode::Tab));
        for c in "mo@example.com".chars() {
            app.update(ch(c));
        }
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Backspace));
        app.update(ch('x'));
        app.update(ch('2'));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Right));
        let effects = app.update(key(KeyCode::Enter));
        let [Effect::Comp { request, .. }] = effects.as_slice() else {
            panic!("{effects:?}");
        };
        assert_eq!(request.event_id, 1);
        assert_eq!(request.quantity, 2, "letters are not typed into a number");
        assert_eq!(request.name, "Mo");
        assert_eq!(request.email.as_deref(), Some("mo@example.com"));
        assert_eq!(request.ticket_type_id, Some(2), "→ chose the second type");
        app.update(Msg::from(Reply::Comped(Err(
            crate::api::ApiError::Refused {
                status: 409,
                code: ErrorCode::Conflict,
                message: "Only 1 place(s) left".into(),
                field: None,
                order_id: None,
            },
        ))));
        let Some(OfficeDialog::Comp(form)) = &app.office.dialog else {
            panic!("the form stays");
        };
        assert_eq!(form.error.as_deref(), Some("Only 1 place(s) left"));
        assert!(!form.busy);
    }

    #[test]
    fn export_asks_where_and_says_what_it_wrote() {
        let mut app = box_office(100, 30);
        app.update(ch('x'));
        let effects = app.update(key(KeyCode::Enter));
        let [Effect::Export { path, event_id, .. }] = effects.as_slice() else {
            panic!("{effects:?}");
        };
        assert_eq!(path.to_str(), Some("orders.csv"));
        assert_eq!(*event_id, None);
        app.update(Msg::from(Reply::Exported {
            path: path.clone(),
            result: Ok(3),
        }));
        assert!(app.office.dialog.is_none());
        assert_eq!(
            app.status.as_ref().map(|s| s.text.as_str()),
            Some("Wrote 3 tickets to orders.csv.")
        );
        // On an event's page, the file is named for it.
        let mut app = box_office_event(100, 30);
        app.update(ch('x'));
        let Some(OfficeDialog::Export { path, event_id, .. }) = &app.office.dialog else {
            panic!("no export form");
        };
        assert_eq!(path.as_str(), "orders-e1.csv");
        assert_eq!(*event_id, Some(1));
    }

    #[test]
    fn tonight_and_the_coming_events_come_before_those_that_ended() {
        let mut events = box_office_events().events;
        let now = at("2031-03-07T22:00:00Z");
        super::tonight_first(&mut events, now);
        let names: Vec<&str> = events.iter().map(|e| e.event.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Late Night Jazz Session",
                "Village Fete",
                "Wren Duo: Songs for Winter",
                "Harvest Ceilidh"
            ],
            "tonight's show, started an hour ago, is still tonight's"
        );
    }

    #[test]
    fn a_lost_connection_keeps_the_sales_and_retries() {
        let mut app = box_office(100, 30);
        let generation = app.office.generation;
        let effects = app.update(Msg::from(Reply::SalesLoaded {
            generation,
            result: Err(crate::api::ApiError::Network {
                server: "http://127.0.0.1:9".into(),
            }),
        }));
        assert!(
            matches!(effects.as_slice(), [Effect::Later { .. }]),
            "{effects:?}"
        );
        assert!(app.office.sales.is_some(), "what was shown stays");
        let _ = Session {
            token: String::new(),
            user: None,
        };
    }
}
