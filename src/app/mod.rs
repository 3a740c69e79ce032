//! The client's model and its update function: messages in, effects out, nothing else.
//!
//! Terminal events and server replies become [`Msg`]s; [`App::update`] changes the model and
//! returns [`Effect`]s (HTTP calls, opening a browser, timers) that run elsewhere and come back
//! as messages. The view only reads the model.

mod cart;
pub mod effect;
mod events;
pub mod kiosk;
pub mod list;
mod orders;
mod payment;
mod signin;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent};
use storefront_contract::{CartSummary, User};
use tokio::time::Instant;

pub use cart::{CartRow, CartState, cart_rows};
pub use effect::{CartChange, Effect, Reply};
pub use events::{EventState, EventsState};
pub use kiosk::KioskState;
pub use orders::{OrdersRow, OrdersState, orders_rows};
pub use payment::{BrowserState, PaymentPhase, PaymentState};
pub use signin::{Field, SignInState};

use crate::api::ApiError;
use crate::config::Settings;

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
}

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
    pub status: Option<Status>,
    pub prompt: Option<Prompt>,
    pub help: bool,
    pub size: (u16, u16),
    pub now: Instant,
    /// Spinner frame, advanced by ticks while something is loading.
    pub frame: usize,
    /// Pause before the next reconnection attempt; grows while the server stays away.
    reconnect_delay: Duration,
    /// Kiosk mode's timers and PIN entry; `None` when not a kiosk.
    pub kiosk: Option<KioskState>,
    pub quit: bool,
}

const RECONNECT_FIRST: Duration = Duration::from_secs(1);
const RECONNECT_MAX: Duration = Duration::from_secs(30);

impl App {
    /// A new client; with a remembered token it tries that first.
    pub fn new(settings: Settings, token: Option<String>, now: Instant) -> (App, Vec<Effect>) {
        let mut app = App {
            settings,
            demo_hint: None,
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
            status: None,
            prompt: None,
            help: false,
            size: (100, 30),
            now,
            frame: 0,
            reconnect_delay: RECONNECT_FIRST,
            kiosk: None,
            quit: false,
        };
        let mut effects = vec![app.load_events(false)];
        if app.settings.kiosk {
            // Nothing of a customer survives them: no remembered token is ever used.
            app.kiosk = Some(KioskState::new(now));
            app.screen = Screen::Start;
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
            || self.payment.is_waiting()
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) if key.kind == KeyEventKind::Press => self.on_key(key),
            Msg::Key(_) => Vec::new(),
            Msg::Mouse(mouse) if self.settings.mouse => self.on_mouse(mouse),
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
        if self.busy() {
            self.frame = self.frame.wrapping_add(1);
        }
        let mut effects = self.events_tick();
        effects.extend(self.kiosk_tick());
        effects
    }

    pub fn set_status(&mut self, kind: StatusKind, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            kind,
        });
    }

    /// Handles a failed request the same way everywhere: a dead session returns to sign-in;
    /// a lost connection shows a status line and retries `retry` (a load) with backoff;
    /// anything else is shown as it was said.
    fn on_error(&mut self, err: ApiError, retry: Option<Effect>) -> Vec<Effect> {
        match err {
            ApiError::SessionEnded => self.session_ended(),
            ApiError::Network { server } => {
                let delay = self.reconnect_delay;
                self.reconnect_delay = (delay * 2).min(RECONNECT_MAX);
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
        self.reconnect_delay = RECONNECT_FIRST;
        if self
            .status
            .as_ref()
            .is_some_and(|s| s.kind == StatusKind::Connection)
        {
            self.status = None;
        }
    }

    /// The server no longer accepts our token: back to sign-in, then back here.
    fn session_ended(&mut self) -> Vec<Effect> {
        let was_signed_in = self.session.take().is_some();
        self.summary = None;
        self.cart = CartState::default();
        self.orders = OrdersState::default();
        self.payment.leave();
        if self.screen != Screen::SignIn {
            self.signin.return_to = Some(self.screen);
        }
        self.screen = Screen::SignIn;
        self.signin.busy = false;
        self.signin.error = Some(if was_signed_in {
            "Your session ended. Sign in again.".to_owned()
        } else {
            "Sign in to continue.".to_owned()
        });
        vec![Effect::SaveToken(None)]
    }

    fn on_reply(&mut self, reply: Reply) -> Vec<Effect> {
        match reply {
            Reply::SignedIn(result) => self.signed_in(result),
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
            Reply::OrderCancelled(result) => self.order_cancelled(result),
            Reply::OrdersLoaded(result) => self.orders_loaded(result),
            Reply::TicketsLoaded(result) => self.tickets_loaded(result),
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

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if let Some(effects) = self.kiosk_key(key) {
            return effects;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
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
        // Text fields take every printable key.
        if self.screen == Screen::SignIn {
            return self.signin_key(key);
        }
        if self.screen == Screen::Events && self.events.editing {
            return self.filter_key(key);
        }
        if self.screen == Screen::Payment && self.payment.confirm_cancel {
            return self.confirm_cancel_key(key);
        }
        match key.code {
            KeyCode::Char('?') => {
                self.help = true;
                Vec::new()
            }
            KeyCode::Char('q') => {
                self.quit = true;
                Vec::new()
            }
            KeyCode::Char('e') => self.show_events(),
            KeyCode::Char('c') => self.show_cart(),
            KeyCode::Char('o') => self.show_orders(),
            KeyCode::Char('L') => self.sign_out(),
            _ => match self.screen {
                Screen::Start | Screen::SignIn => Vec::new(),
                Screen::Events => self.events_key(key),
                Screen::Event => self.event_key(key),
                Screen::Cart => self.cart_key(key),
                Screen::Payment => self.payment_key(key),
                Screen::Orders => self.orders_key(key),
            },
        }
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

    /// What a screen shows in its footer, and what `?` explains.
    pub fn keys(&self) -> Vec<(&'static str, &'static str)> {
        if self.is_kiosk() {
            return self.kiosk_keys();
        }
        let mut keys: Vec<(&'static str, &'static str)> = match self.screen {
            Screen::Start => Vec::new(),
            Screen::SignIn => vec![
                ("Tab", "next field"),
                ("Enter", "sign in"),
                ("Esc", "browse events"),
            ],
            Screen::Events if self.events.editing => {
                vec![
                    ("type", "filter"),
                    ("Enter", "keep filter"),
                    ("Esc", "clear filter"),
                ]
            }
            Screen::Events => vec![
                ("↑↓", "move"),
                ("Enter", "open"),
                ("/", "filter"),
                ("r", "refresh"),
                ("c", "cart"),
                ("o", "orders"),
            ],
            Screen::Event => vec![
                ("←→", "ticket type"),
                ("+ -", "quantity"),
                ("a", "add to cart"),
                ("Esc", "back"),
                ("c", "cart"),
            ],
            Screen::Cart => vec![
                ("↑↓", "move"),
                ("+ -", "quantity"),
                ("Del", "remove"),
                ("p", "check out venue"),
                ("P", "check out all"),
                ("Esc", "back"),
            ],
            Screen::Payment => self.payment.keys(),
            Screen::Orders => vec![
                ("↑↓", "move"),
                ("Enter", "open"),
                ("e", "events"),
                ("Esc", "back"),
            ],
        };
        if self.screen != Screen::SignIn {
            if self.session.is_some() {
                keys.push(("L", "sign out"));
            }
            keys.push(("?", "help"));
            keys.push(("q", "quit"));
        }
        keys
    }
}

impl App {
    /// Kiosk footers: arrows, Enter and Esc reach everything.
    fn kiosk_keys(&self) -> Vec<(&'static str, &'static str)> {
        match self.screen {
            Screen::Start => vec![("any key", "start")],
            Screen::SignIn => vec![("↑↓", "field"), ("Enter", "sign in"), ("Esc", "back")],
            Screen::Events => vec![
                ("↑↓", "choose"),
                ("Enter", "open"),
                ("/", "search"),
                ("Esc", "start over"),
            ],
            Screen::Event => vec![
                ("←→", "ticket type"),
                ("+ -", "how many"),
                ("Enter", "add to cart"),
                ("Esc", "back"),
            ],
            Screen::Cart => vec![
                ("↑↓", "choose"),
                ("+ -", "how many"),
                ("Enter", "pay"),
                ("Esc", "back"),
            ],
            Screen::Payment if self.payment.phase == PaymentPhase::Paid => {
                vec![("↑↓", "ticket"), ("Enter", "done")]
            }
            Screen::Payment => self.payment.keys(),
            Screen::Orders => vec![("↑↓", "choose"), ("Enter", "open"), ("Esc", "back")],
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
