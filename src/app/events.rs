//! The events list (filter, paging, background refresh) and one event (types, quantity, add).

use std::time::Duration;

use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use storefront_contract::{
    BuyTicketsRequest, BuyTicketsResponse, EventDetail, EventList, EventSummary,
};
use tokio::time::Instant;

use super::effect::ActionKey;
use super::keys::Action;
use super::layout;
use super::list::ListState;
use super::{App, Effect, Screen, StatusKind};
use crate::api::{ApiError, ApiResult, ErrorCode};

/// Events fetched per page.
const PAGE_SIZE: u32 = 50;
/// More are fetched when the selection comes this close to the end.
const LOAD_AHEAD: usize = 10;
/// Availability is refreshed this often while the list is shown.
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// Typing pauses this long before the filter goes to the server.
const FILTER_DEBOUNCE: Duration = Duration::from_millis(250);

#[derive(Clone, Debug, Default)]
pub struct EventsState {
    pub events: Vec<EventSummary>,
    pub list: ListState,
    pub filter: crate::text::LineInput,
    pub editing: bool,
    /// The filter was typed into at this moment and not yet sent.
    filter_changed_at: Option<Instant>,
    pub next_cursor: Option<String>,
    pub loading: bool,
    pub loaded_once: bool,
    /// Replies to older requests (an older filter) are ignored.
    generation: u64,
    loaded_at: Option<Instant>,
}

impl EventsState {
    pub fn selected(&self) -> Option<&EventSummary> {
        self.events.get(self.list.selected)
    }

    pub(super) fn keep_visible(&mut self, size: (u16, u16)) {
        let len = self.events.len();
        self.list
            .scroll_into_view(len, layout::events_rows(size.0, size.1));
    }
}

#[derive(Clone, Debug, Default)]
pub struct EventState {
    pub id: Option<i64>,
    pub detail: Option<EventDetail>,
    pub type_index: usize,
    pub quantity: u32,
    pub loading: bool,
    pub adding: bool,
    /// The last purchase attempt and its key: retrying the same purchase reuses the key.
    buy_key: Option<(BuyTicketsRequest, ActionKey)>,
    /// What the last purchase said ("2 tickets added…").
    pub added: Option<String>,
    /// When the event was last read: an open event is read again now and then, so that a
    /// price, a time or an end of sale the venue changes shows while it is looked at.
    loaded_at: Option<Instant>,
}

impl EventState {
    pub fn selected_type(&self) -> Option<&storefront_contract::TicketType> {
        self.detail.as_ref()?.ticket_types.get(self.type_index)
    }

    /// The quantity brought within what the per-order limit still allows (at least 1).
    fn keep_quantity_allowed(&mut self) {
        if let Some(detail) = &self.detail {
            self.quantity = self.quantity.clamp(1, detail.still_allowed().max(1));
        }
    }
}

impl App {
    /// The generation of the newest events request (tests answer it).
    pub fn events_generation(&self) -> u64 {
        self.events.generation
    }

    pub(super) fn load_events(&mut self, append: bool) -> Effect {
        let page = self.kiosk_page();
        let events = &mut self.events;
        events.generation += 1;
        events.loading = true;
        // A refresh fetches as many as are shown, so the list does not shrink under the user.
        let limit = if append {
            PAGE_SIZE
        } else {
            (events.events.len() as u32).clamp(PAGE_SIZE, 200)
        };
        Effect::LoadEvents {
            query: Some(events.filter.trim().to_owned()).filter(|q| !q.is_empty()),
            page,
            cursor: if append {
                events.next_cursor.clone()
            } else {
                None
            },
            limit,
            generation: events.generation,
            append,
        }
    }

    pub(super) fn events_loaded(
        &mut self,
        generation: u64,
        append: bool,
        result: ApiResult<EventList>,
    ) -> Vec<Effect> {
        if generation != self.events.generation {
            return Vec::new();
        }
        self.events.loading = false;
        let list = match result {
            Ok(list) => list,
            Err(err) => {
                // Still loading while a retry waits: the spinner turns, and the 30-second
                // refresh does not pile more requests on top.
                let retry = err.is_network().then(|| self.load_events(append));
                return self.on_error(err, retry);
            }
        };
        self.connected();
        let kiosk = self.is_kiosk();
        let events = &mut self.events;
        events.loaded_once = true;
        events.loaded_at = Some(self.now);
        if append {
            events.events.extend(list.events);
        } else {
            // Keep the selection on the same event across a refresh.
            let selected_id = events.selected().map(|e| e.id);
            events.events = list.events;
            let index = match selected_id {
                Some(id) => events
                    .events
                    .iter()
                    .position(|e| e.id == id)
                    .unwrap_or(events.list.selected),
                // A kiosk's customer starts on the first event they can buy.
                None if kiosk => events.events.iter().position(|e| !e.sold_out).unwrap_or(0),
                None => 0,
            };
            events.list.selected = index;
        }
        events.next_cursor = list.next_cursor;
        self.events.keep_visible(self.size);
        self.load_more_if_near_end().into_iter().collect()
    }

    fn load_more_if_near_end(&mut self) -> Option<Effect> {
        let events = &self.events;
        let near_end = events.list.selected + LOAD_AHEAD >= events.events.len();
        (near_end && events.next_cursor.is_some() && !events.loading)
            .then(|| self.load_events(true))
    }

    pub(super) fn events_tick(&mut self) -> Vec<Effect> {
        let now = self.now;
        let events = &self.events;
        if let Some(changed) = events.filter_changed_at
            && now.duration_since(changed) >= FILTER_DEBOUNCE
        {
            self.events.filter_changed_at = None;
            self.events.list = ListState::default();
            return vec![self.load_events(false)];
        }
        let stale = events
            .loaded_at
            .is_some_and(|at| now.duration_since(at) >= REFRESH_EVERY);
        if self.screen == Screen::Events && stale && !events.loading {
            return vec![self.load_events(false)];
        }
        let event = &self.event;
        let event_stale = event
            .loaded_at
            .is_some_and(|at| now.duration_since(at) >= REFRESH_EVERY);
        if self.screen == Screen::Event
            && event_stale
            && !event.loading
            && !event.adding
            && let Some(id) = event.id
        {
            self.event.loading = true;
            self.event.loaded_at = Some(now);
            return vec![Effect::LoadEvent {
                id,
                token: self.token().map(str::to_owned),
            }];
        }
        Vec::new()
    }

    pub(super) fn events_action(&mut self, action: Action) -> Vec<Effect> {
        let len = self.events.events.len();
        let visible = layout::events_rows(self.size.0, self.size.1);
        if self.events.list.navigate(action, len, visible) {
            return self.load_more_if_near_end().into_iter().collect();
        }
        match action {
            Action::Open if self.is_door() => match self.events.selected() {
                Some(event) => {
                    let (id, name) = (event.id, event.name.clone());
                    self.open_scanner(id, name)
                }
                None => Vec::new(),
            },
            Action::Open => self.open_selected_event(),
            Action::Filter => {
                self.events.editing = true;
                Vec::new()
            }
            Action::KeepFilter => {
                self.events.editing = false;
                if self.events.filter_changed_at.take().is_some() {
                    self.events.list = ListState::default();
                    return vec![self.load_events(false)];
                }
                Vec::new()
            }
            Action::ClearFilter => {
                self.events.editing = false;
                self.clear_filter()
            }
            Action::Refresh => {
                self.set_status(StatusKind::Info, "Refreshing…");
                vec![self.load_events(false)]
            }
            _ => Vec::new(),
        }
    }

    /// A key typed into the filter.
    pub(super) fn filter_text(&mut self, key: KeyEvent) -> Vec<Effect> {
        if self.events.filter.edit(key, 100) {
            self.events.filter_changed_at = Some(self.now);
        }
        Vec::new()
    }

    fn clear_filter(&mut self) -> Vec<Effect> {
        self.events.filter_changed_at = None;
        if self.events.filter.is_empty() {
            return Vec::new();
        }
        self.events.filter.clear();
        self.events.list = ListState::default();
        vec![self.load_events(false)]
    }

    pub(super) fn events_mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        let len = self.events.events.len();
        let visible = layout::events_rows(self.size.0, self.size.1);
        match mouse.kind {
            MouseEventKind::ScrollDown => self.events.list.move_by(3, len, visible),
            MouseEventKind::ScrollUp => self.events.list.move_by(-3, len, visible),
            MouseEventKind::Down(MouseButton::Left) => {
                let top = layout::list_top(self.size, layout::EVENTS_TABLE_TOP);
                let Some(row) = mouse.row.checked_sub(top) else {
                    return Vec::new();
                };
                if let Some(index) = self.events.list.row_at(row as usize, len) {
                    // A click on the selected event opens it.
                    if index == self.events.list.selected {
                        return self.open_selected_event();
                    }
                    self.events.list.select(index, len, visible);
                }
            }
            _ => return Vec::new(),
        }
        self.load_more_if_near_end().into_iter().collect()
    }

    fn open_selected_event(&mut self) -> Vec<Effect> {
        let Some(id) = self.events.selected().map(|e| e.id) else {
            return Vec::new();
        };
        self.open_event(id)
    }

    pub fn open_event(&mut self, id: i64) -> Vec<Effect> {
        if self.event.id != Some(id) {
            self.event = EventState {
                id: Some(id),
                quantity: 1,
                ..EventState::default()
            };
        }
        self.event.added = None;
        self.event.loading = true;
        self.screen = Screen::Event;
        vec![Effect::LoadEvent {
            id,
            token: self.token().map(str::to_owned),
        }]
    }

    pub(super) fn event_loaded(&mut self, result: ApiResult<EventDetail>) -> Vec<Effect> {
        self.event.loading = false;
        match result {
            Ok(detail) => {
                self.connected();
                if Some(detail.summary.id) != self.event.id {
                    return Vec::new();
                }
                self.event.type_index = self
                    .event
                    .type_index
                    .min(detail.ticket_types.len().saturating_sub(1));
                // The list shows the same event: keep its figures in step.
                if let Some(listed) = self
                    .events
                    .events
                    .iter_mut()
                    .find(|e| e.id == detail.summary.id)
                {
                    *listed = detail.summary.clone();
                }
                self.event.detail = Some(detail);
                self.event.keep_quantity_allowed();
                self.event.loaded_at = Some(self.now);
                Vec::new()
            }
            Err(err) if err.code() == Some(ErrorCode::NotFound) => {
                self.event.detail = None;
                self.screen = Screen::Events;
                self.set_status(StatusKind::Error, "That event is no longer on sale.");
                vec![self.load_events(false)]
            }
            Err(err) => {
                let retry = self.event.id.map(|id| Effect::LoadEvent {
                    id,
                    token: self.token().map(str::to_owned),
                });
                self.on_error(err, retry)
            }
        }
    }

    pub(super) fn event_action(&mut self, action: Action) -> Vec<Effect> {
        if action == Action::Back {
            self.screen = Screen::Events;
            return Vec::new();
        }
        let Some(detail) = &self.event.detail else {
            return Vec::new();
        };
        let types = detail.ticket_types.len();
        let allowed = detail.still_allowed();
        let max = allowed.max(1);
        match action {
            Action::PreviousType if types > 0 => {
                self.event.type_index = (self.event.type_index + types - 1) % types;
            }
            Action::NextType if types > 0 => {
                self.event.type_index = (self.event.type_index + 1) % types;
            }
            Action::More if self.event.quantity >= max => {
                let limit = detail.max_per_order;
                self.set_status(
                    StatusKind::Info,
                    if allowed == 0 {
                        format!("Up to {limit} per order, and your cart already holds {limit}.")
                    } else {
                        format!("Up to {limit} per order: {allowed} more can be added.")
                    },
                );
            }
            Action::More => self.event.quantity += 1,
            Action::AddTickets if allowed == 0 => {
                let limit = detail.max_per_order;
                self.set_status(
                    StatusKind::Error,
                    format!("Up to {limit} per order, and your cart already holds {limit}."),
                );
            }
            Action::Fewer => self.event.quantity = self.event.quantity.saturating_sub(1).max(1),
            Action::AddTickets => return self.add_tickets(),
            _ => {}
        }
        Vec::new()
    }

    fn add_tickets(&mut self) -> Vec<Effect> {
        let Some(detail) = &self.event.detail else {
            return Vec::new();
        };
        let Some(token) = self.token().map(str::to_owned) else {
            self.signin.return_to = Some(Screen::Event);
            self.signin.error = Some("Sign in to buy tickets".to_owned());
            self.screen = Screen::SignIn;
            return Vec::new();
        };
        if detail.summary.sold_out {
            self.set_status(StatusKind::Error, "This event is sold out.");
            return Vec::new();
        }
        if self.event.adding {
            return Vec::new();
        }
        let event_id = detail.summary.id;
        let request = BuyTicketsRequest {
            quantity: i64::from(self.event.quantity),
            ticket_type_id: self.event.selected_type().map(|t| t.id),
        };
        // The same purchase tried again (after a lost answer) keeps its key, so it lands once.
        let key = match &self.event.buy_key {
            Some((previous, key)) if *previous == request => *key,
            _ => self.new_action_key(),
        };
        self.event.buy_key = Some((request.clone(), key));
        self.event.adding = true;
        vec![Effect::Buy {
            token,
            event_id,
            request,
            key,
        }]
    }

    pub(super) fn bought(
        &mut self,
        quantity: i64,
        result: ApiResult<BuyTicketsResponse>,
    ) -> Vec<Effect> {
        self.event.adding = false;
        match result {
            Ok(bought) => {
                self.connected();
                self.event.buy_key = None;
                self.summary = Some(bought.cart);
                let tickets = if quantity == 1 {
                    "1 ticket".to_owned()
                } else {
                    format!("{quantity} tickets")
                };
                // More in the cart than are left: say now what happens if they sell first.
                let in_cart = self
                    .event
                    .detail
                    .as_ref()
                    .map_or(0, |d| i64::from(d.in_my_cart))
                    + quantity;
                let available = self
                    .event
                    .detail
                    .as_ref()
                    .and_then(|d| d.summary.available)
                    .map(i64::from);
                let warning = match available {
                    Some(left) if in_cart > left => Some(few_left_warning(left)),
                    _ => None,
                };
                let said = format!("{tickets} added to your cart.");
                // Said once: on the event under its figures (with the notice, or the warning
                // when fewer are left than the cart holds).
                self.event.added = Some(format!(
                    "{said} {}",
                    warning.clone().unwrap_or_else(|| bought.notice.clone())
                ));
                // The answer says all that changed: pending tickets hold no place, so the
                // event's figures stand; only what the buyer holds grew.
                if let Some(detail) = &mut self.event.detail {
                    detail.in_my_cart = detail
                        .in_my_cart
                        .saturating_add(u32::try_from(quantity).unwrap_or(0));
                }
                // The next purchase starts at what the per-order limit still allows.
                self.event.keep_quantity_allowed();
                let mut effects = Vec::new();
                // At a kiosk the next step is paying: the cart comes up by itself, and says
                // what was added there (its notice is on the cart already).
                if self.is_kiosk() {
                    effects.extend(self.show_cart());
                    let said = match warning {
                        Some(warning) => format!("{said} {warning}"),
                        None => said,
                    };
                    self.set_status(StatusKind::Success, said);
                }
                effects
            }
            // Archived or taken off sale while the buyer looked at it.
            Err(err) if err.code() == Some(ErrorCode::NotFound) => self.event_loaded(Err(err)),
            Err(ApiError::Refused {
                code: ErrorCode::Validation,
                field: Some(field),
                message,
                ..
            }) if field == "ticket_type_id" => {
                // The venue took that ticket type off sale: show the event as it is now.
                self.event.buy_key = None;
                self.set_status(StatusKind::Error, message);
                match self.event.id {
                    Some(id) => self.open_event(id),
                    None => Vec::new(),
                }
            }
            Err(err) => {
                if err.is_network() {
                    self.set_status(
                        StatusKind::Connection,
                        format!("{err} Press a to try again (they are added once)."),
                    );
                    return Vec::new();
                }
                self.on_error(err, None)
            }
        }
    }
}

/// What a buyer holding more tickets than are left is told, on the event and in the cart.
pub fn few_left_warning(left: i64) -> String {
    match left {
        0 => {
            "None are left: if the event sells out before you pay, you will be refunded.".to_owned()
        }
        1 => "Only 1 left: if it sells before you pay, the rest will be refunded.".to_owned(),
        n => format!("Only {n} left: if they sell before you pay, the rest will be refunded."),
    }
}
