//! The client's model and its update function: messages in, effects out, nothing else.
//!
//! Terminal events and server replies become [`Msg`]s; [`App::update`] changes the model and
//! returns [`Effect`]s (HTTP calls, opening a browser, timers) that run elsewhere and come back
//! as messages. The view only reads the model.

mod cart;
pub mod door;
pub mod effect;
mod events;
pub mod keys;
pub mod kiosk;
pub mod layout;
pub mod list;
// Fixtures built from constants: an unwrap there fails the test or the picture that uses it.
#[cfg(any(test, feature = "screenshots"))]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub mod gallery;
pub mod office;
mod orders;
mod payment;
mod shop;
mod signin;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent};
use storefront_contract::{CartSummary, User};
use tokio::time::Instant;

pub use cart::{CartRow, CartState, cart_rows};
pub use door::{DoorState, ScanLine, Verdict};
pub use effect::{ActionKey, CartChange, Effect, Reply};
pub use events::{EventState, EventsState};
pub use keys::Action;
pub use kiosk::{KioskState, MailPhase, TicketMail};
pub use office::{CompField, CompForm, OfficeDialog, OfficeState};
pub use orders::{OrdersRow, OrdersState, orders_rows};
pub use payment::{BrowserState, PaymentPhase, PaymentState, cancelling_does};
pub use shop::{ShopRow, ShopState};
pub use signin::{Field, Mode as SignInMode, SignInState};

use crate::api::ApiError;
use crate::config::Settings;
use storefront_contract::Backoff;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// The kiosk's welcome for passers-by.
    Start,
    SignIn,
    Events,
    Event,
    Cart,
    Payment,
    Orders,
    /// At the door: scan or type ticket codes for the chosen event.
    Scanner,
    /// What the venues sell besides tickets.
    Shop,
    /// The box office (managers): every event's sales, live.
    Office,
    /// The box office: one event's sales, by type and by day.
    OfficeEvent,
    /// The box office: orders found as one types.
    OfficeOrders,
    /// The box office: one order, its tickets, refunds and history.
    OfficeOrder,
}

/// How times are shown: the machine's zone, or a fixed one (tests, snapshots).
#[derive(Clone, Copy, Debug)]
pub enum Zone {
    Local,
    Fixed(chrono::FixedOffset),
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick(Instant),
    /// SIGTERM, SIGHUP or SIGINT from outside.
    Signal,
    Reply(Box<Reply>),
}

impl From<Reply> for Msg {
    fn from(reply: Reply) -> Msg {
        Msg::Reply(Box::new(reply))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Success,
    Error,
    /// The server cannot be reached; cleared by the next answer that arrives.
    Connection,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub kind: StatusKind,
    /// When it was shown: information fades after [`STATUS_LIFETIME`]; errors stay until the
    /// next key, a lost connection until it is back.
    pub shown_at: Instant,
}

/// Information and success lines fade after this long.
pub const STATUS_LIFETIME: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct Session {
    pub token: String,
    pub user: Option<User>,
}

/// A question in a popup that Enter accepts and Esc dismisses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// A pending order from before: pay it now?
    ResumeOrder { order_id: i64, total: String },
}

pub struct App {
    pub settings: Settings,
    /// Demo credentials shown on the sign-in screen.
    pub demo_hint: Option<(String, String)>,
    /// In the demo, what the demo account already holds (said before signing in, so that
    /// a cart with items in it is no surprise).
    pub demo_note: Option<String>,
    /// In the demo, the sandbox's virtual card reader (a web page), shown while a card is
    /// awaited so that a newcomer can present one.
    pub demo_reader_page: Option<String>,
    /// In the demo, where the e-mails it would send are shown (a reset code among them).
    pub demo_mail_page: Option<String>,
    /// In the demo, the codes of the tickets its regular paid for (the door offers one).
    pub demo_codes: Vec<String>,
    pub zone: Zone,
    pub screen: Screen,
    /// Where Esc leads from the cart, orders and payment.
    pub previous: Screen,
    pub session: Option<Session>,
    pub summary: Option<CartSummary>,
    pub signin: SignInState,
    pub events: EventsState,
    pub event: EventState,
    pub cart: CartState,
    pub payment: PaymentState,
    pub orders: OrdersState,
    pub door: DoorState,
    pub shop: ShopState,
    pub office: OfficeState,
    /// An order whose payment page the buyer left while it was being paid: watched, so that
    /// they hear how it ended on whatever screen they are.
    pub watching: Option<i64>,
    /// The page of the checkout on its way (`None` for the whole cart).
    checkout_page: Option<String>,
    pub status: Option<Status>,
    pub prompt: Option<Prompt>,
    pub help: bool,
    pub size: (u16, u16),
    pub now: Instant,
    /// Spinner frame, advanced by ticks while something is loading.
    pub frame: usize,
    /// Pauses between reconnection attempts; they grow while the server stays away.
    reconnect: Backoff,
    /// Kiosk mode's timers and PIN entry; `None` when not a kiosk.
    pub kiosk: Option<KioskState>,
    /// The last user action that was given an idempotency key.
    last_action_key: u64,
    pub quit: bool,
}

impl App {
    /// A new client; with a remembered token it tries that first.
    pub fn new(settings: Settings, token: Option<String>, now: Instant) -> (App, Vec<Effect>) {
        let mut app = App {
            settings,
            demo_hint: None,
            demo_note: None,
            demo_codes: Vec::new(),
            demo_reader_page: None,
            demo_mail_page: None,
            zone: Zone::Local,
            screen: Screen::SignIn,
            previous: Screen::Events,
            session: None,
            summary: None,
            signin: SignInState::default(),
            events: EventsState::default(),
            event: EventState::default(),
            cart: CartState::default(),
            payment: PaymentState::default(),
            orders: OrdersState::default(),
            door: DoorState::new(now, chrono::Utc::now()),
            shop: ShopState::default(),
            office: OfficeState::default(),
            watching: None,
            checkout_page: None,
            status: None,
            prompt: None,
            help: false,
            size: (100, 30),
            now,
            frame: 0,
            reconnect: Backoff::reconnect(),
            kiosk: None,
            last_action_key: 0,
            quit: false,
        };
        // The box office has no listing of its own to load: its sales come once signed in.
        let mut effects = if app.settings.box_office {
            Vec::new()
        } else {
            vec![app.load_events(false)]
        };
        if app.settings.kiosk {
            // Nothing of a customer survives them: no remembered token is ever used.
            app.kiosk = Some(KioskState::new(now));
            app.screen = Screen::Start;
            effects.extend(app.box_office_sign_in());
            return (app, effects);
        }
        if let Some(token) = token {
            app.session = Some(Session {
                token: token.clone(),
                user: None,
            });
            app.signin.busy = true;
            app.screen = Screen::Events;
            effects.push(Effect::RestoreSession { token });
        }
        (app, effects)
    }

    pub fn token(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.token.as_str())
    }

    pub fn user(&self) -> Option<&User> {
        self.session.as_ref().and_then(|s| s.user.as_ref())
    }

    /// Whether anything is on its way from the server (the spinner shows).
    pub fn busy(&self) -> bool {
        self.signin.busy
            || self.events.loading
            || self.event.loading
            || self.event.adding
            || self.cart.loading
            || self.orders.loading
            || self.office.loading
            || self.office.searching
            || self.payment.is_waiting()
            || self.watching.is_some()
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) if key.kind == KeyEventKind::Press => self.on_key(key),
            Msg::Key(_) => Vec::new(),
            Msg::Mouse(mouse) if self.settings.mouse && !self.too_small() => self.on_mouse(mouse),
            Msg::Mouse(_) => Vec::new(),
            Msg::Resize(width, height) => {
                self.size = (width, height);
                self.events.keep_visible(self.size);
                Vec::new()
            }
            Msg::Tick(now) => self.on_tick(now),
            Msg::Signal => {
                self.quit = true;
                Vec::new()
            }
            Msg::Reply(reply) => self.on_reply(*reply),
        }
    }

    fn on_tick(&mut self, now: Instant) -> Vec<Effect> {
        self.now = now;
        if self.status.as_ref().is_some_and(|s| {
            matches!(s.kind, StatusKind::Info | StatusKind::Success)
                && now.saturating_duration_since(s.shown_at) >= STATUS_LIFETIME
        }) {
            self.status = None;
        }
        if self.busy() {
            self.frame = self.frame.wrapping_add(1);
        }
        let mut effects = self.events_tick();
        effects.extend(self.kiosk_tick());
        effects.extend(self.door_tick());
        effects.extend(self.office_tick());
        effects
    }

    pub fn set_status(&mut self, kind: StatusKind, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            kind,
            shown_at: self.now,
        });
    }

    /// Handles a failed request the same way everywhere: a dead session returns to sign-in;
    /// a lost connection shows a status line and retries `retry` (a load) with backoff;
    /// anything else is shown as it was said.
    fn on_error(&mut self, err: ApiError, retry: Option<Effect>) -> Vec<Effect> {
        match err {
            ApiError::SessionEnded(reason) => self.session_ended(reason),
            ApiError::Network { server } => {
                // A kiosk's customer is not shown the server's address.
                let server = if self.is_kiosk() {
                    "the ticket server".to_owned()
                } else {
                    server
                };
                let delay = self.reconnect.next_delay();
                match retry {
                    Some(effect) => {
                        self.set_status(
                            StatusKind::Connection,
                            format!(
                                "Connection lost: cannot reach {server}. Retrying in {}s…",
                                delay.as_secs()
                            ),
                        );
                        vec![Effect::Later {
                            after: delay,
                            effect: Box::new(effect),
                        }]
                    }
                    None => {
                        self.set_status(
                            StatusKind::Connection,
                            format!("Cannot reach {server}. Nothing was changed; try again."),
                        );
                        Vec::new()
                    }
                }
            }
            other => {
                self.set_status(StatusKind::Error, other.to_string());
                Vec::new()
            }
        }
    }

    /// An answer arrived: the connection is back.
    fn connected(&mut self) {
        self.reconnect.reset();
        if self
            .status
            .as_ref()
            .is_some_and(|s| s.kind == StatusKind::Connection)
        {
            self.status = None;
        }
    }

    /// The server no longer accepts our token: back to sign-in, then back here.
    fn session_ended(&mut self, reason: Option<String>) -> Vec<Effect> {
        if self.is_box_office() {
            // The kiosk signs itself in again; a customer never sees a sign-in.
            self.session = None;
            let mut effects = self.reset_kiosk();
            effects.extend(self.box_office_sign_in());
            return effects;
        }
        let was_signed_in = self.session.take().is_some();
        self.summary = None;
        self.cart = CartState::default();
        self.orders = OrdersState::default();
        self.payment.leave();
        if self.screen != Screen::SignIn {
            self.signin.return_to = Some(self.screen);
        }
        self.screen = Screen::SignIn;
        self.signin.switch(signin::Mode::SignIn);
        self.signin.busy = false;
        self.signin.error = Some(match reason {
            // The venue disabled the account: say so, whether or not a session was open.
            Some(reason) => reason,
            None if was_signed_in => "Your session ended. Sign in again.".to_owned(),
            None => "Sign in to continue.".to_owned(),
        });
        vec![Effect::SaveToken(None)]
    }

    fn on_reply(&mut self, reply: Reply) -> Vec<Effect> {
        match reply {
            Reply::SignedIn(result) => self.signed_in(result),
            Reply::SignedUp(result) => self.signed_up(result),
            Reply::ResetAsked(result) => self.reset_asked(result),
            Reply::ResetDone(result) => self.reset_done(result),
            Reply::TicketsEmailed { order_id, result } => self.ticket_mail_sent(order_id, result),
            Reply::SessionRestored(result) => self.session_restored(result),
            Reply::SignedOut => Vec::new(),
            Reply::TokenSaved(Err(err)) => {
                tracing::warn!(error = %err, "could not keep the sign-in");
                self.set_status(
                    StatusKind::Info,
                    format!("Signed in, but the sign-in could not be kept for next time: {err}"),
                );
                Vec::new()
            }
            Reply::TokenSaved(Ok(())) => Vec::new(),
            Reply::EventsLoaded {
                generation,
                append,
                result,
            } => self.events_loaded(generation, append, result),
            Reply::EventLoaded(result) => self.event_loaded(result),
            Reply::ProductsLoaded(result) => self.products_loaded(result),
            Reply::ReaderLoaded(result) => self.reader_loaded(result),
            Reply::ProductAdded {
                product_id,
                quantity,
                result,
            } => self.product_added(product_id, quantity, result),
            Reply::Bought { quantity, result } => self.bought(quantity, result),
            Reply::CartLoaded(result) => self.cart_loaded(result),
            Reply::SummaryLoaded(result) => match result {
                Ok(summary) => {
                    self.connected();
                    self.summary = Some(summary);
                    Vec::new()
                }
                Err(err) => {
                    let retry = self.token().map(|token| Effect::LoadSummary {
                        token: token.to_owned(),
                    });
                    self.on_error(err, retry)
                }
            },
            Reply::CartChanged(result) => self.cart_changed(result),
            Reply::CheckedOut(result) => self.checked_out(result),
            Reply::PaymentStarted(result) => self.payment_started(result),
            Reply::OrderUpdate { generation, result } => self.order_update(generation, result),
            Reply::OrderLoaded(result) => self.order_loaded(result),
            Reply::OrderWatched { order_id, result } => self.order_watched(order_id, result),
            Reply::OrderCancelled(result) => self.order_cancelled(result),
            Reply::OrdersLoaded(result) => self.orders_loaded(result),
            Reply::TicketsLoaded(result) => self.tickets_loaded(result),
            Reply::DoorListLoaded { event_id, result } => self.door_list_loaded(event_id, result),
            Reply::CheckedIn {
                scan,
                event_id,
                code,
                scanned_at,
                result,
            } => self.checked_in(scan, event_id, code, scanned_at, result),
            Reply::ScansUploaded(result) => self.scans_uploaded(result),
            Reply::CartCleared(result) => self.kiosk_cart_cleared(result),
            Reply::SalesLoaded { generation, result } => self.sales_loaded(generation, result),
            Reply::EventSalesLoaded(result) => self.event_sales_loaded(result),
            Reply::OrdersFound { generation, result } => self.orders_found(generation, result),
            Reply::OrderDetailLoaded(result) => self.order_detail_loaded(result),
            Reply::Refunded(result) => self.refunded(result),
            Reply::Comped(result) => self.comped(result),
            Reply::Exported { path, result } => self.exported(path, result),
            Reply::BrowserOpened(result) => {
                self.payment.browser = match result {
                    Ok(()) => BrowserState::Opened,
                    Err(err) => {
                        tracing::info!(error = %err, "could not open a browser");
                        BrowserState::Failed
                    }
                };
                Vec::new()
            }
        }
    }

    /// Whether the window is too small to show anything but a request for more room.
    pub fn too_small(&self) -> bool {
        self.size.0 < layout::MIN_WIDTH || self.size.1 < layout::MIN_HEIGHT
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if self.too_small() {
            // Nothing acts unseen (a blind sign-in, a purchase): only quitting works.
            if ctrl && key.code == KeyCode::Char('c') && !self.is_kiosk() {
                self.quit = true;
            }
            return Vec::new();
        }
        if let Some(effects) = self.kiosk_key(key) {
            return effects;
        }
        if ctrl && key.code == KeyCode::Char('c') {
            self.quit = true;
            return Vec::new();
        }
        // A message stays until the next key; a lost connection stays until it is back.
        if self
            .status
            .as_ref()
            .is_some_and(|s| s.kind != StatusKind::Connection)
        {
            self.status = None;
        }
        if self.help {
            // Any key closes the help.
            self.help = false;
            return Vec::new();
        }
        if let Some(prompt) = self.prompt.clone() {
            return self.prompt_key(prompt, key);
        }
        if let Some(action) = self.action_for(keys::chord(key)) {
            let effects = self.act(action);
            if self.screen != Screen::Cart {
                // An undo is offered only while the buyer stays on the cart.
                self.cart.removed = None;
            }
            return effects;
        }
        // Text fields take the keys their screen does not bind.
        match self.screen {
            Screen::SignIn => self.signin_text(key),
            Screen::Events if self.events.editing => self.filter_text(key),
            Screen::Shop if self.shop.editing => self.shop_filter_text(key),
            Screen::Scanner => self.scanner_text(key),
            Screen::Payment if self.kiosk_paid() => self.ticket_mail_text(key),
            _ if self.office_typing() => self.office_text(key),
            _ => Vec::new(),
        }
    }

    /// Does what a key of the table asks for, as the current screen means it.
    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Help => {
                self.help = true;
                Vec::new()
            }
            Action::Quit => {
                self.quit = true;
                Vec::new()
            }
            Action::ShowEvents => self.show_events(),
            Action::ShowCart => self.show_cart(),
            Action::ShowShop => self.show_shop(),
            // A box-office kiosk's orders are earlier customers': never shown to the next.
            Action::ShowOrders if self.is_box_office() => Vec::new(),
            Action::ShowOrders => self.show_orders(),
            Action::SignOut => self.sign_out(),
            Action::StartOver => self.reset_kiosk(),
            Action::Submit if self.kiosk_paid() => self.send_ticket_mail(),
            _ => match self.screen {
                Screen::Start => Vec::new(),
                Screen::SignIn => self.signin_action(action),
                Screen::Events => self.events_action(action),
                Screen::Event => self.event_action(action),
                Screen::Cart => self.cart_action(action),
                Screen::Payment => self.payment_action(action),
                Screen::Orders => self.orders_action(action),
                Screen::Scanner => self.scanner_action(action),
                Screen::Shop => self.shop_action(action),
                Screen::Office
                | Screen::OfficeEvent
                | Screen::OfficeOrders
                | Screen::OfficeOrder => self.office_action(action),
            },
        }
    }

    /// A new key for a user action that must act once however often it is sent.
    fn new_action_key(&mut self) -> ActionKey {
        self.last_action_key += 1;
        ActionKey(self.last_action_key)
    }

    fn prompt_key(&mut self, prompt: Prompt, key: KeyEvent) -> Vec<Effect> {
        match key.code {
            KeyCode::Enter => {
                self.prompt = None;
                match prompt {
                    Prompt::ResumeOrder { order_id, .. } => self.open_order(order_id),
                }
            }
            KeyCode::Esc => {
                self.prompt = None;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn on_mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        if self.help || self.prompt.is_some() {
            return Vec::new();
        }
        match self.screen {
            Screen::Events => self.events_mouse(mouse),
            Screen::Cart => self.cart_mouse(mouse),
            Screen::Orders => self.orders_mouse(mouse),
            Screen::Shop => self.shop_mouse(mouse),
            _ => Vec::new(),
        }
    }

    pub fn show_events(&mut self) -> Vec<Effect> {
        self.screen = Screen::Events;
        if self.events.events.is_empty() && !self.events.loading {
            return vec![self.load_events(false)];
        }
        Vec::new()
    }

    /// Goes to a screen that needs a session, or to sign-in first (and back here after).
    fn require_session(&mut self, screen: Screen) -> Option<String> {
        match self.token() {
            Some(token) => Some(token.to_owned()),
            None => {
                self.signin.return_to = Some(screen);
                self.signin.error = Some("Sign in to continue.".to_owned());
                self.screen = Screen::SignIn;
                None
            }
        }
    }

    fn remember_previous(&mut self) {
        if matches!(self.screen, Screen::Events | Screen::Event) {
            self.previous = self.screen;
        }
    }

    pub fn sign_out(&mut self) -> Vec<Effect> {
        let Some(session) = self.session.take() else {
            return Vec::new();
        };
        self.summary = None;
        self.cart = CartState::default();
        self.orders = OrdersState::default();
        self.payment.leave();
        self.signin = SignInState::default();
        self.screen = Screen::SignIn;
        self.set_status(StatusKind::Info, "Signed out.");
        let mut effects = vec![
            Effect::Logout {
                token: session.token,
            },
            Effect::SaveToken(None),
        ];
        // Event details carry the caller's cart count; show them anonymous again.
        if let Some(id) = self.event.id {
            effects.push(Effect::LoadEvent { id, token: None });
        }
        effects
    }
}

#[cfg(test)]
pub(crate) mod tests;
