//! Kiosk mode: a start screen for passers-by, no way out for customers, an idle countdown,
//! and a clean start after every purchase.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use storefront_contract::Backoff;
use tokio::time::Instant;

use super::{App, CartState, Effect, EventState, OrdersState, PaymentPhase, Screen, SignInState};

/// The first wait after three wrong PINs.
const PIN_WAIT: Duration = Duration::from_secs(30);

/// "Still there?" counts down this long before the customer is signed out.
pub const IDLE_COUNTDOWN: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct KioskState {
    pub last_input: Instant,
    /// The idle countdown ends (and the customer is signed out) at this moment.
    pub idle_deadline: Option<Instant>,
    /// After a purchase: back to the start screen at this moment.
    pub reset_at: Option<Instant>,
    /// The operator is typing the exit PIN.
    pub pin: Option<String>,
    pub pin_refused: bool,
    /// Wrong PINs in a row; from the third on, each makes the next try wait.
    pub pin_failures: u32,
    /// No PIN is taken before this moment.
    pub pin_locked_until: Option<Instant>,
    /// Why the box-office account could not sign in, for the operator.
    pub setup_error: Option<String>,
    /// An order the last customer left unpaid, cancelled with their cart.
    pub abandoned_order: Option<i64>,
    /// "E-mail me my tickets", once paid; gone with the customer.
    pub ticket_mail: TicketMail,
    /// The venue of the kiosk's card reader, once the server said (`Some(None)`: any).
    pub reader_venue: Option<Option<String>>,
}

/// The paid screen's address field, and what became of the e-mail.
#[derive(Clone, Debug, Default)]
pub struct TicketMail {
    pub address: crate::text::LineInput,
    pub phase: MailPhase,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum MailPhase {
    #[default]
    Typing,
    Sending,
    /// On its way; the address is forgotten.
    Sent,
    /// Refused or not reached; the address stays to be corrected and sent again.
    Refused(String),
    /// The shop sends no e-mail: the field is gone, and this says why.
    NoMail(String),
}

impl MailPhase {
    /// Whether the address field takes keys.
    pub fn typing(&self) -> bool {
        matches!(self, MailPhase::Typing | MailPhase::Refused(_))
    }
}

impl KioskState {
    pub fn new(now: Instant) -> KioskState {
        KioskState {
            last_input: now,
            idle_deadline: None,
            reset_at: None,
            pin: None,
            pin_refused: false,
            pin_failures: 0,
            pin_locked_until: None,
            setup_error: None,
            abandoned_order: None,
            ticket_mail: TicketMail::default(),
            reader_venue: None,
        }
    }

    /// The wait before the next PIN after `failures` wrong ones in a row: none for the first
    /// two, then 30 s, doubling each time, at most an hour.
    pub fn pin_wait(failures: u32) -> Duration {
        // The first two are typing slips; the third starts the backoff.
        Backoff::after_failures(
            PIN_WAIT,
            Duration::from_secs(3600),
            failures.saturating_sub(2),
        )
    }

    /// Whole seconds left until `deadline` (for countdowns on screen).
    pub fn seconds_left(deadline: Option<Instant>, now: Instant) -> Option<u64> {
        deadline.map(|d| d.saturating_duration_since(now).as_secs_f64().ceil() as u64)
    }
}

impl App {
    pub fn is_kiosk(&self) -> bool {
        self.kiosk.is_some()
    }

    /// Whether a browser may be opened: never at a kiosk unless `[checkout] open_browser =
    /// true` was set for it.
    pub fn browser_allowed(&self) -> bool {
        !self.is_kiosk() || self.settings.open_browser
    }

    /// A kiosk signed in as the venue's box-office account (customers need no account).
    pub fn is_box_office(&self) -> bool {
        self.is_kiosk() && self.settings.kiosk_account.is_some()
    }

    /// The venue (its page's slug) the kiosk sells for: its own `page`, else its card
    /// reader's once known; `None` (every venue's) for anything but a kiosk.
    pub fn kiosk_page(&self) -> Option<String> {
        self.settings
            .kiosk_page
            .clone()
            .or_else(|| self.kiosk.as_ref()?.reader_venue.clone().flatten())
    }

    /// A kiosk with a card reader and no venue of its own asks the reader's, until told.
    pub(super) fn ask_reader_venue(&self, token: &str) -> Option<Effect> {
        let kiosk = self.kiosk.as_ref()?;
        if self.settings.kiosk_page.is_some() || kiosk.reader_venue.is_some() {
            return None;
        }
        Some(Effect::LoadReader {
            token: token.to_owned(),
            name: self.card_reader()?.to_owned(),
        })
    }

    /// The reader's venue: from now on the kiosk sells its events and products only. Not
    /// told (the reader not in the catalog, or an account that may not ask): every venue's,
    /// as without a reader, and not asked again. Not reached: every venue's until the next
    /// sign-in asks again.
    pub(super) fn reader_loaded(
        &mut self,
        result: crate::api::ApiResult<storefront_contract::Reader>,
    ) -> Vec<Effect> {
        let venue = match result {
            Ok(reader) => reader.page.map(|page| page.slug),
            // Refused for good: no such reader, or not this account's to ask.
            Err(
                err @ crate::api::ApiError::Refused {
                    status: 400..=499, ..
                },
            ) => {
                tracing::warn!(error = %err, "the card reader's venue is not told: every venue's");
                None
            }
            Err(err) => {
                tracing::info!(error = %err, "the card reader's venue is not known yet");
                return Vec::new();
            }
        };
        let Some(kiosk) = &mut self.kiosk else {
            return Vec::new();
        };
        kiosk.reader_venue = Some(venue.clone());
        if venue.is_none() {
            return Vec::new();
        }
        tracing::info!(venue = ?venue, "the kiosk sells for its card reader's venue");
        let mut effects = vec![self.load_events(false)];
        effects.extend(self.load_products());
        effects
    }

    /// Signs the kiosk in as its box-office account.
    pub(super) fn box_office_sign_in(&mut self) -> Vec<Effect> {
        match &self.settings.kiosk_account {
            Some((email, password)) if self.is_box_office() => {
                self.signin.busy = true;
                vec![Effect::Login {
                    email: email.clone(),
                    password: password.expose().to_owned(),
                }]
            }
            _ => Vec::new(),
        }
    }

    /// The box-office account is signed in: the start screen waits for a customer, whose
    /// cart starts empty.
    pub(super) fn box_office_signed_in(&mut self, token: String) -> Vec<Effect> {
        self.signin.busy = false;
        if let Some(kiosk) = &mut self.kiosk {
            kiosk.setup_error = None;
        }
        self.reconnect.reset();
        let mut effects: Vec<Effect> = self.ask_reader_venue(&token).into_iter().collect();
        effects.push(Effect::ClearCart {
            token,
            abandoned_order: None,
        });
        // The venue's products follow its events.
        if !self.shop.loaded {
            effects.extend(self.load_products());
        }
        effects
    }

    /// The box-office account could not sign in: the operator is told, and it is tried again.
    pub(super) fn box_office_refused(&mut self, err: &crate::api::ApiError) -> Vec<Effect> {
        self.signin.busy = false;
        self.screen = Screen::Start;
        let delay = self.reconnect.next_delay();
        if let Some(kiosk) = &mut self.kiosk {
            let said = err.to_string();
            kiosk.setup_error = Some(format!(
                "This terminal is not set up: {}. Trying again in {} s.",
                said.trim_end_matches('.'),
                delay.as_secs()
            ));
        }
        tracing::warn!(error = %err, "the kiosk's box-office account cannot sign in");
        let mut effects = Vec::new();
        for effect in self.box_office_sign_in() {
            effects.push(Effect::Later {
                after: delay,
                effect: Box::new(effect),
            });
        }
        effects
    }

    pub(super) fn kiosk_cart_cleared(&mut self, result: crate::api::ApiResult<()>) -> Vec<Effect> {
        match result {
            Ok(()) => {
                self.connected();
                if let Some(kiosk) = &mut self.kiosk {
                    kiosk.abandoned_order = None;
                }
                Vec::new()
            }
            Err(crate::api::ApiError::Network { .. }) => {
                // Tried again until it works: the next customer must start clean.
                let delay = self.reconnect.next_delay();
                let abandoned_order = self.kiosk.as_ref().and_then(|k| k.abandoned_order);
                match self.token() {
                    Some(token) => vec![Effect::Later {
                        after: delay,
                        effect: Box::new(Effect::ClearCart {
                            token: token.to_owned(),
                            abandoned_order,
                        }),
                    }],
                    None => Vec::new(),
                }
            }
            Err(err) => self.on_error(err, None),
        }
    }

    /// Kiosk keys come first: the PIN, the countdown, the keys customers must not have.
    /// `Some` when the key was taken here.
    pub(super) fn kiosk_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let exit_pin = self.settings.kiosk_exit_pin.clone();
        let now = self.now;
        let kiosk = self.kiosk.as_mut()?;
        kiosk.last_input = now;
        if kiosk.idle_deadline.take().is_some() {
            // Any key means "still here".
            return Some(Vec::new());
        }
        let locked = kiosk.pin_locked_until.is_some_and(|until| now < until);
        if let Some(pin) = &mut kiosk.pin {
            match key.code {
                // Waiting after wrong PINs: no try is taken.
                KeyCode::Char(_) | KeyCode::Enter if locked => {}
                KeyCode::Char(c) if c.is_ascii_digit() && pin.len() < 16 => pin.push(c),
                KeyCode::Backspace => {
                    pin.pop();
                }
                KeyCode::Enter => {
                    if Some(pin.as_str()) == exit_pin.as_deref() {
                        self.quit = true;
                    } else {
                        kiosk.pin_refused = true;
                        kiosk.pin_failures += 1;
                        let wait = KioskState::pin_wait(kiosk.pin_failures);
                        tracing::warn!(
                            failures = kiosk.pin_failures,
                            wait_secs = wait.as_secs(),
                            "wrong kiosk exit PIN"
                        );
                        if !wait.is_zero() {
                            kiosk.pin_locked_until = Some(now + wait);
                        }
                        pin.clear();
                    }
                }
                KeyCode::Esc => {
                    kiosk.pin = None;
                    kiosk.pin_refused = false;
                }
                _ => {}
            }
            return Some(Vec::new());
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::F(10) if exit_pin.is_some() => {
                kiosk.pin = Some(String::new());
                kiosk.pin_refused = false;
                Some(Vec::new())
            }
            // No way out for a customer: quit and suspend do nothing (the kiosk's key tables
            // have no quit or sign-out either).
            KeyCode::Char('c' | 'z' | 'd' | '\\') if ctrl => Some(Vec::new()),
            // Not set up (or not signed in yet): nothing for a customer to start.
            _ if self.screen == Screen::Start
                && (kiosk.setup_error.is_some()
                    || (self.settings.kiosk_account.is_some() && self.session.is_none())) =>
            {
                Some(Vec::new())
            }
            _ if self.screen == Screen::Start => {
                self.screen = Screen::Events;
                Some(self.show_events())
            }
            _ => None,
        }
    }

    /// "E-mail me my tickets" on the kiosk's paid screen.
    pub fn ticket_mail(&self) -> Option<&TicketMail> {
        self.kiosk
            .as_ref()
            .filter(|_| self.kiosk_paid())
            .map(|k| &k.ticket_mail)
    }

    /// The kiosk's paid screen: the tickets to take away, and the address field.
    pub fn kiosk_paid(&self) -> bool {
        self.is_kiosk()
            && self.screen == Screen::Payment
            && self.payment.phase == PaymentPhase::Paid
    }

    /// A key typed into "E-mail me my tickets".
    pub(super) fn ticket_mail_text(&mut self, key: KeyEvent) -> Vec<Effect> {
        if let Some(mail) = self.kiosk.as_mut().map(|k| &mut k.ticket_mail)
            && mail.phase.typing()
            && mail.address.edit(key, 254)
        {
            mail.phase = MailPhase::Typing;
        }
        Vec::new()
    }

    /// Enter on the paid screen: sends the tickets to the address typed, or, with none
    /// (or once sent), is done.
    pub(super) fn send_ticket_mail(&mut self) -> Vec<Effect> {
        let (Some(order_id), Some(token)) =
            (self.payment.order_id, self.token().map(str::to_owned))
        else {
            return self.reset_kiosk();
        };
        let Some(mail) = self.kiosk.as_mut().map(|k| &mut k.ticket_mail) else {
            return Vec::new();
        };
        match &mail.phase {
            MailPhase::Sending => return Vec::new(),
            MailPhase::Sent | MailPhase::NoMail(_) => return self.reset_kiosk(),
            MailPhase::Typing | MailPhase::Refused(_) => {}
        }
        let email = mail.address.trim().to_owned();
        if email.is_empty() {
            return self.reset_kiosk();
        }
        if !email.contains('@') {
            mail.phase = MailPhase::Refused(
                "That is not an e-mail address: it needs an @, as in name@example.com.".to_owned(),
            );
            return Vec::new();
        }
        mail.phase = MailPhase::Sending;
        vec![Effect::EmailTickets {
            token,
            order_id,
            email,
        }]
    }

    pub(super) fn ticket_mail_sent(
        &mut self,
        order_id: i64,
        result: crate::api::ApiResult<()>,
    ) -> Vec<Effect> {
        use crate::api::{ApiError, ErrorCode};
        // An answer for a customer already gone changes nothing on screen.
        if !self.kiosk_paid() || self.payment.order_id != Some(order_id) {
            return Vec::new();
        }
        let Some(mail) = self.kiosk.as_mut().map(|k| &mut k.ticket_mail) else {
            return Vec::new();
        };
        mail.phase = match result {
            Ok(()) => {
                mail.address.clear();
                MailPhase::Sent
            }
            Err(ApiError::Refused {
                code: ErrorCode::Conflict,
                message,
                ..
            }) => {
                mail.address.clear();
                MailPhase::NoMail(message)
            }
            Err(ApiError::Refused {
                code: ErrorCode::Validation,
                message,
                ..
            }) => MailPhase::Refused(message),
            Err(ApiError::SessionEnded(reason)) => {
                mail.phase = MailPhase::Typing;
                return self.session_ended(reason);
            }
            Err(err) => MailPhase::Refused(format!(
                "{} Press Enter to try again.",
                err.to_string().trim_end()
            )),
        };
        Vec::new()
    }

    pub(super) fn kiosk_tick(&mut self) -> Vec<Effect> {
        let now = self.now;
        let idle_timeout = self.settings.kiosk_idle_timeout;
        let reset_after = self.settings.kiosk_reset_after_purchase;
        let paid = self.screen == Screen::Payment && self.payment.phase == PaymentPhase::Paid;
        // A payment being waited for has its own timeout; the idle timer leaves it alone.
        let waiting = self.screen == Screen::Payment && self.payment.is_waiting();
        let at_start = self.screen == Screen::Start;
        let Some(kiosk) = self.kiosk.as_mut() else {
            return Vec::new();
        };
        if paid {
            // Typing an address holds the reset off: it comes `reset_after` after the last key.
            let reset_at = (*kiosk.reset_at.get_or_insert(now + reset_after))
                .max(kiosk.last_input + reset_after);
            kiosk.reset_at = Some(reset_at);
            if now >= reset_at {
                return self.reset_kiosk();
            }
            return Vec::new();
        }
        if at_start || waiting || kiosk.pin.is_some() {
            kiosk.idle_deadline = None;
            return Vec::new();
        }
        match kiosk.idle_deadline {
            Some(deadline) if now >= deadline => self.reset_kiosk(),
            Some(_) => Vec::new(),
            None => {
                if now.duration_since(kiosk.last_input) >= idle_timeout {
                    kiosk.idle_deadline = Some(now + IDLE_COUNTDOWN);
                }
                Vec::new()
            }
        }
    }

    /// Back to the start screen for the next customer, with nothing of the last one left:
    /// with a box-office account the cart is emptied on the server; with a customer's own
    /// account they are signed out (their cart stays there for them).
    pub fn reset_kiosk(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        // The box office's order the customer walked away from is called off with their cart
        // (a customer's own account keeps theirs, to pay later).
        let abandoned_order = self
            .payment
            .order_id
            .filter(|_| self.is_box_office() && self.payment.payable());
        if self.is_box_office() {
            if let Some(token) = self.token() {
                effects.push(Effect::ClearCart {
                    token: token.to_owned(),
                    abandoned_order,
                });
            }
        } else if let Some(session) = self.session.take() {
            effects.push(Effect::Logout {
                token: session.token,
            });
        }
        self.summary = None;
        self.signin = SignInState::default();
        self.event = EventState::default();
        self.cart = CartState::default();
        self.orders = OrdersState::default();
        // The products stay (they are the venue's); what the customer chose does not.
        self.shop = crate::app::ShopState {
            products: std::mem::take(&mut self.shop.products),
            loaded: self.shop.loaded,
            ..Default::default()
        };
        self.payment = self.payment.next();
        self.status = None;
        self.prompt = None;
        self.help = false;
        self.screen = Screen::Start;
        self.previous = Screen::Events;
        let setup_error = self.kiosk.as_ref().and_then(|k| k.setup_error.clone());
        let mut kiosk = KioskState::new(self.now);
        kiosk.setup_error = setup_error;
        kiosk.abandoned_order = abandoned_order;
        self.kiosk = Some(kiosk);
        if !self.events.filter.is_empty() {
            self.events.filter.clear();
            self.events.editing = false;
        }
        self.events.list = Default::default();
        effects.push(self.load_events(false));
        effects
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use storefront_contract::{CheckoutResponse, OrderStatus, PayRequest, PaymentMethod};
    use tokio::time::{Instant, advance};

    use super::super::tests::{cart, ch, key, order, payment_ends};
    use super::*;
    use crate::app::{Msg, PaymentPhase, Reply, Session, Zone};
    use crate::config::Settings;

    pub fn kiosk(now: Instant) -> App {
        // As a kiosk's config resolves: no browser unless asked for.
        let settings = Settings {
            kiosk: true,
            remember_session: false,
            open_browser: false,
            kiosk_exit_pin: Some("2468".into()),
            ..Settings::default()
        };
        let (mut app, _) = App::new(settings, Some("stale-token".into()), now);
        app.zone = Zone::Fixed(chrono::FixedOffset::east_opt(0).unwrap());
        app.size = (100, 30);
        app
    }

    fn signed_in(app: &mut App) {
        app.session = Some(Session {
            token: "customer".into(),
            user: None,
        });
    }

    async fn tick(app: &mut App, by: Duration) -> Vec<Effect> {
        advance(by).await;
        app.update(Msg::Tick(Instant::now()))
    }

    #[tokio::test(start_paused = true)]
    async fn it_starts_on_the_start_screen_and_ignores_a_remembered_token() {
        let app = kiosk(Instant::now());
        assert_eq!(app.screen, Screen::Start);
        assert!(app.session.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn idle_counts_down_then_signs_out_and_starts_over() {
        let mut app = kiosk(Instant::now());
        app.update(ch('x'));
        assert_eq!(app.screen, Screen::Events);
        signed_in(&mut app);
        app.screen = Screen::Cart;
        app.cart.cart = Some(cart());
        assert!(tick(&mut app, Duration::from_secs(89)).await.is_empty());
        assert!(app.kiosk.as_ref().unwrap().idle_deadline.is_none());
        tick(&mut app, Duration::from_secs(2)).await;
        let deadline = app
            .kiosk
            .as_ref()
            .unwrap()
            .idle_deadline
            .expect("the countdown started");
        assert_eq!(KioskState::seconds_left(Some(deadline), app.now), Some(10));
        tick(&mut app, Duration::from_secs(4)).await;
        assert_eq!(KioskState::seconds_left(Some(deadline), app.now), Some(6));
        let effects = tick(&mut app, Duration::from_secs(7)).await;
        assert!(effects.contains(&Effect::Logout {
            token: "customer".into()
        }));
        assert_eq!(app.screen, Screen::Start);
        assert!(app.session.is_none() && app.cart.cart.is_none() && app.signin.email.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn any_key_cancels_the_countdown() {
        let mut app = kiosk(Instant::now());
        app.update(ch('x'));
        signed_in(&mut app);
        tick(&mut app, Duration::from_secs(91)).await;
        assert!(app.kiosk.as_ref().unwrap().idle_deadline.is_some());
        // The key only says "still here"; it does nothing else.
        assert!(app.update(key(KeyCode::Enter)).is_empty());
        assert_eq!(app.screen, Screen::Events);
        assert!(app.kiosk.as_ref().unwrap().idle_deadline.is_none());
        assert!(tick(&mut app, Duration::from_secs(30)).await.is_empty());
        assert!(app.session.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_for_a_payment_is_not_idle() {
        let mut app = kiosk(Instant::now());
        app.update(ch('x'));
        signed_in(&mut app);
        app.cart.cart = Some(cart());
        app.screen = Screen::Cart;
        app.update(key(KeyCode::Enter));
        assert_eq!(app.screen, Screen::Payment);
        app.update(Msg::from(Reply::CheckedOut(Ok(CheckoutResponse {
            order: order(OrderStatus::Pending),
            checkout_url: Some("http://pay/7".into()),
            reader: None,
        }))));
        tick(&mut app, Duration::from_secs(300)).await;
        assert!(app.kiosk.as_ref().unwrap().idle_deadline.is_none());
        assert_eq!(app.screen, Screen::Payment);
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_purchase_the_tickets_stay_then_the_start_screen_returns() {
        let mut app = kiosk(Instant::now());
        app.update(ch('x'));
        signed_in(&mut app);
        app.cart.cart = Some(cart());
        app.screen = Screen::Cart;
        app.update(key(KeyCode::Enter));
        app.update(Msg::from(Reply::CheckedOut(Ok(CheckoutResponse {
            order: order(OrderStatus::Pending),
            checkout_url: Some("http://pay/7".into()),
            reader: None,
        }))));
        payment_ends(&mut app, OrderStatus::Paid);
        tick(&mut app, Duration::from_millis(200)).await;
        let reset_at = app.kiosk.as_ref().unwrap().reset_at;
        assert_eq!(KioskState::seconds_left(reset_at, app.now), Some(30));
        tick(&mut app, Duration::from_secs(29)).await;
        assert_eq!(app.screen, Screen::Payment);
        let effects = tick(&mut app, Duration::from_secs(2)).await;
        assert_eq!(app.screen, Screen::Start);
        assert!(effects.iter().any(|e| matches!(e, Effect::Logout { .. })));
    }

    /// A kiosk customer who has just paid for order 7.
    fn paid_customer() -> App {
        let mut app = kiosk(Instant::now());
        app.update(ch('x'));
        signed_in(&mut app);
        app.cart.cart = Some(cart());
        app.screen = Screen::Cart;
        app.update(key(KeyCode::Enter));
        app.update(Msg::from(Reply::CheckedOut(Ok(CheckoutResponse {
            order: order(OrderStatus::Pending),
            checkout_url: Some("http://pay/7".into()),
            reader: None,
        }))));
        payment_ends(&mut app, OrderStatus::Paid);
        app
    }

    fn types(app: &mut App, text: &str) {
        for c in text.chars() {
            app.update(ch(c));
        }
    }

    fn mail(app: &App) -> &TicketMail {
        &app.kiosk.as_ref().unwrap().ticket_mail
    }

    #[tokio::test(start_paused = true)]
    async fn the_tickets_are_emailed_to_the_address_typed_after_paying() {
        let mut app = paid_customer();
        // Every letter is the address's, even those that are keys elsewhere.
        types(&mut app, "bob.jock@example.org");
        assert_eq!(mail(&app).address.as_str(), "bob.jock@example.org");
        assert_eq!(app.screen, Screen::Payment);
        let effects = app.update(key(KeyCode::Enter));
        assert_eq!(
            effects,
            [Effect::EmailTickets {
                token: "customer".into(),
                order_id: 7,
                email: "bob.jock@example.org".into(),
            }]
        );
        assert!(app.update(key(KeyCode::Enter)).is_empty(), "sent once");
        app.update(Msg::from(Reply::TicketsEmailed {
            order_id: 7,
            result: Ok(()),
        }));
        assert_eq!(mail(&app).phase, MailPhase::Sent);
        assert!(
            mail(&app).address.is_empty(),
            "the address is forgotten once sent"
        );
        // Enter is done now.
        app.update(key(KeyCode::Enter));
        assert_eq!(app.screen, Screen::Start);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_address_stays_to_be_corrected() {
        let mut app = paid_customer();
        types(&mut app, "bob");
        assert!(app.update(key(KeyCode::Enter)).is_empty(), "no @: not sent");
        assert!(matches!(mail(&app).phase, MailPhase::Refused(_)));
        types(&mut app, "@example");
        assert_eq!(
            mail(&app).phase,
            MailPhase::Typing,
            "typing clears the refusal"
        );
        app.update(key(KeyCode::Enter));
        app.update(Msg::from(Reply::TicketsEmailed {
            order_id: 7,
            result: Err(crate::api::ApiError::Network {
                server: "http://127.0.0.1:9".into(),
            }),
        }));
        assert!(
            matches!(&mail(&app).phase, MailPhase::Refused(why) if why.ends_with("Press Enter to try again.")),
            "{:?}",
            mail(&app).phase
        );
        assert_eq!(mail(&app).address.as_str(), "bob@example");
        let effects = app.update(key(KeyCode::Enter));
        assert!(matches!(effects.as_slice(), [Effect::EmailTickets { .. }]));
        // A shop without e-mail: the field goes, and why is said.
        app.update(Msg::from(Reply::TicketsEmailed {
            order_id: 7,
            result: Err(crate::api::ApiError::Refused {
                status: 409,
                code: crate::api::ErrorCode::Conflict,
                message: "This shop sends no e-mail: keep the ticket page's address instead."
                    .into(),
                field: None,
                order_id: None,
            }),
        }));
        assert!(matches!(mail(&app).phase, MailPhase::NoMail(_)));
        assert!(app.ticket_mail().is_some_and(|m| !m.phase.typing()));
    }

    #[tokio::test(start_paused = true)]
    async fn typing_holds_the_reset_off_and_the_reset_forgets_the_address() {
        let mut app = paid_customer();
        tick(&mut app, Duration::from_millis(200)).await;
        tick(&mut app, Duration::from_secs(25)).await;
        types(&mut app, "sam@ex");
        tick(&mut app, Duration::from_secs(10)).await;
        assert_eq!(
            app.screen,
            Screen::Payment,
            "30 s after the last key, not the payment"
        );
        let effects = tick(&mut app, Duration::from_secs(21)).await;
        assert_eq!(app.screen, Screen::Start);
        assert!(effects.iter().any(|e| matches!(e, Effect::Logout { .. })));
        assert!(mail(&app).address.is_empty());
        // An answer for the customer who left changes nothing.
        app.update(Msg::from(Reply::TicketsEmailed {
            order_id: 7,
            result: Ok(()),
        }));
        assert_eq!(mail(&app).phase, MailPhase::Typing);
        assert_eq!(app.screen, Screen::Start);
    }

    #[tokio::test(start_paused = true)]
    async fn esc_skips_the_mail_and_starts_over() {
        let mut app = paid_customer();
        types(&mut app, "sam@example.com");
        app.update(key(KeyCode::Esc));
        assert_eq!(app.screen, Screen::Start);
        assert!(mail(&app).address.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_kiosk_opens_no_browser_and_cancelling_starts_over() {
        let mut app = kiosk(Instant::now());
        app.update(ch('x'));
        signed_in(&mut app);
        app.cart.cart = Some(cart());
        app.screen = Screen::Cart;
        app.update(key(KeyCode::Enter));
        let effects = app.update(Msg::from(Reply::CheckedOut(Ok(CheckoutResponse {
            order: order(OrderStatus::Pending),
            checkout_url: Some("http://pay/7".into()),
            reader: None,
        }))));
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::OpenBrowser { .. }))
        );
        assert!(app.update(ch('b')).is_empty(), "b opens nothing at a kiosk");
        let keys = app.keys();
        assert!(!keys.iter().any(|(key, _)| *key == "b"), "{keys:?}");
        assert!(keys.contains(&("Esc", "cancel and start over")), "{keys:?}");
        assert!(!keys.contains(&("Esc", "back")), "{keys:?}");
        app.update(ch('x'));
        app.update(ch('y'));
        let mut cancelled = order(OrderStatus::Cancelled);
        cancelled.status = OrderStatus::Cancelled;
        app.update(Msg::from(Reply::OrderCancelled(Ok(cancelled))));
        assert_eq!(app.screen, Screen::Start);
    }

    /// A customer at a kiosk with a card reader who pressed Enter on the cart: the order is
    /// made, and the amount goes on the reader at once.
    fn paying_by_card(app: &mut App) -> Vec<Effect> {
        app.settings.kiosk_reader = Some("door-1".into());
        app.update(ch('x'));
        signed_in(app);
        app.cart.cart = Some(cart());
        app.screen = Screen::Cart;
        app.update(key(KeyCode::Enter));
        assert!(app.payment.by_card);
        app.update(Msg::from(Reply::CheckedOut(Ok(CheckoutResponse {
            order: order(OrderStatus::Pending),
            checkout_url: Some("http://pay/7".into()),
            reader: None,
        }))))
    }

    fn pay_effect(effects: &[Effect]) -> Option<&PayRequest> {
        effects.iter().find_map(|e| match e {
            Effect::Pay { with, .. } => Some(with),
            _ => None,
        })
    }

    fn by_card() -> PayRequest {
        PayRequest {
            method: PaymentMethod::Reader,
            reader: Some("door-1".into()),
        }
    }

    fn on_reader(app: &mut App) {
        app.update(Msg::from(Reply::PaymentStarted(Ok(CheckoutResponse {
            order: order(OrderStatus::Pending),
            checkout_url: None,
            reader: Some("door-1".into()),
        }))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_kiosk_with_a_reader_takes_the_card_and_offers_the_qr_code_one_key_away() {
        let mut app = kiosk(Instant::now());
        let effects = paying_by_card(&mut app);
        assert_eq!(pay_effect(&effects), Some(&by_card()));
        on_reader(&mut app);
        assert_eq!(app.payment.phase, PaymentPhase::Waiting);
        assert_eq!(app.payment.reader.as_deref(), Some("door-1"));
        assert!(app.keys().contains(&("Tab", "pay by QR code instead")));

        // Tab: the QR code instead (the server stops the reader first).
        let effects = app.update(key(KeyCode::Tab));
        assert_eq!(pay_effect(&effects), Some(&PayRequest::default()));
        app.update(Msg::from(Reply::PaymentStarted(Ok(CheckoutResponse {
            order: order(OrderStatus::Pending),
            checkout_url: Some("http://pay/7-2".into()),
            reader: None,
        }))));
        assert_eq!(app.payment.reader, None);
        assert_eq!(app.payment.checkout_url.as_deref(), Some("http://pay/7-2"));
        assert!(app.keys().contains(&("Tab", "pay by card instead")));
        // And back to the card.
        let effects = app.update(key(KeyCode::Tab));
        assert_eq!(pay_effect(&effects), Some(&by_card()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_kiosk_for_one_venue_asks_for_its_events_and_products_only() {
        let mut app = kiosk(Instant::now());
        app.settings.kiosk_page = Some("old-granary".into());
        match app.load_events(false) {
            Effect::LoadEvents { page, .. } => assert_eq!(page.as_deref(), Some("old-granary")),
            other => panic!("{other:?}"),
        }
        signed_in(&mut app);
        assert!(matches!(
            &app.load_products()[..],
            [Effect::LoadProducts { page: Some(page), .. }] if page == "old-granary"
        ));
    }

    /// Signs the kiosk in as its box-office account.
    fn box_office_signed_in(app: &mut App) -> Vec<Effect> {
        app.settings.kiosk_account = Some((
            "box@example.com".into(),
            crate::config::Password::new("box-pass"),
        ));
        app.update(Msg::from(Reply::SignedIn(Ok(
            storefront_contract::LoginResponse {
                token: "box".into(),
                user: storefront_contract::User {
                    id: 3,
                    email: "box@example.com".into(),
                    name: "Box Office".into(),
                    role: storefront_contract::Role::Kiosk,
                },
                expires_at: chrono::Utc::now(),
            },
        ))))
    }

    fn reader(page: Option<&str>) -> Msg {
        Msg::from(Reply::ReaderLoaded(Ok(storefront_contract::Reader {
            name: "door-1".into(),
            page: page.map(|slug| storefront_contract::Page {
                id: 2,
                slug: slug.into(),
                title: "Riverside Jazz Club".into(),
            }),
        })))
    }

    /// A kiosk taking cards on the reader `name`.
    fn kiosk_on_reader(name: &str) -> App {
        let mut app = kiosk(Instant::now());
        app.settings.kiosk_reader = Some(name.into());
        app
    }

    fn asks_reader(effects: &[Effect]) -> bool {
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadReader { .. }))
    }

    #[tokio::test(start_paused = true)]
    async fn a_kiosk_with_a_reader_sells_for_the_readers_venue() {
        let mut app = kiosk_on_reader("door-1");
        let effects = box_office_signed_in(&mut app);
        let asked = Effect::LoadReader {
            token: "box".into(),
            name: "door-1".into(),
        };
        assert!(effects.contains(&asked), "{effects:?}");

        // The server unreachable: every venue's, as without a reader; asked at the next
        // sign-in (a refusal, by contrast, is final: see below).
        let effects = app.update(Msg::from(Reply::ReaderLoaded(Err(
            crate::api::ApiError::Network { server: "s".into() },
        ))));
        assert!(effects.is_empty(), "{effects:?}");
        assert_eq!(app.kiosk_page(), None);
        assert!(box_office_signed_in(&mut app).contains(&asked));

        // Its venue: the events and products are asked again, for that venue only.
        let effects = app.update(reader(Some("riverside-jazz")));
        assert!(
            matches!(&effects[0], Effect::LoadEvents { page: Some(page), .. } if page == "riverside-jazz"),
            "{effects:?}"
        );
        assert!(
            effects.iter().any(|e| matches!(e,
                Effect::LoadProducts { page: Some(page), .. } if page == "riverside-jazz")),
            "{effects:?}"
        );
        assert_eq!(app.kiosk_page().as_deref(), Some("riverside-jazz"));
        // Known: not asked again.
        assert!(!box_office_signed_in(&mut app).contains(&asked));
    }

    #[tokio::test(start_paused = true)]
    async fn a_kiosk_keeps_its_own_venue_or_every_venue_of_a_reader_for_any() {
        // Its own `page` wins: the reader is not asked.
        let mut app = kiosk_on_reader("door-1");
        app.settings.kiosk_page = Some("old-granary".into());
        let effects = box_office_signed_in(&mut app);
        assert!(!asks_reader(&effects), "{effects:?}");

        // A reader for any venue: everything, as before, and nothing asked again.
        let mut app = kiosk_on_reader("door-1");
        box_office_signed_in(&mut app);
        assert!(app.update(reader(None)).is_empty());
        assert_eq!(app.kiosk_page(), None);
        assert!(!asks_reader(&box_office_signed_in(&mut app)));

        // A reader the server does not know (or an account that may not ask): every venue's,
        // and not asked at every sign-in.
        let mut app = kiosk_on_reader("front-desk");
        box_office_signed_in(&mut app);
        let effects = app.update(Msg::from(Reply::ReaderLoaded(Err(
            crate::api::ApiError::Refused {
                status: 404,
                code: crate::api::ErrorCode::NotFound,
                message: "There is no card reader of that name.".into(),
                field: None,
                order_id: None,
            },
        ))));
        assert!(effects.is_empty(), "{effects:?}");
        assert_eq!(app.kiosk_page(), None);
        assert!(!asks_reader(&box_office_signed_in(&mut app)));

        // No reader: nothing to ask.
        let mut app = kiosk(Instant::now());
        let effects = box_office_signed_in(&mut app);
        assert!(!asks_reader(&effects), "{effects:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_kiosk_starts_on_the_first_event_on_sale() {
        let mut app = kiosk(Instant::now());
        let events = super::super::tests::events();
        assert!(events[0].sold_out && !events[1].sold_out);
        app.update(Msg::from(Reply::EventsLoaded {
            generation: app.events_generation(),
            append: false,
            result: Ok(storefront_contract::EventList {
                events,
                next_cursor: None,
            }),
        }));
        assert_eq!(app.events.list.selected, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_box_office_account_that_cannot_sign_in_is_out_of_order_in_plain_words() {
        let mut app = kiosk(Instant::now());
        app.settings.kiosk_account = Some((
            "box@example.com".into(),
            crate::config::Password::new("wrong"),
        ));
        let effects = app.update(Msg::from(Reply::SignedIn(Err(
            crate::api::ApiError::Refused {
                status: 401,
                code: crate::api::ErrorCode::InvalidCredentials,
                message: "That email and password do not match an account.".into(),
                field: None,
                order_id: None,
            },
        ))));
        assert!(
            matches!(&effects[..], [Effect::Later { .. }]),
            "{effects:?}"
        );
        let said = app.kiosk.as_ref().unwrap().setup_error.clone().unwrap();
        assert_eq!(
            said,
            "This terminal is not set up: That email and password do not match an account. \
             Trying again in 1 s."
        );
        assert!(!said.contains(".."));
        assert_eq!(app.screen, Screen::Start);
        let offered: Vec<&str> = app.key_table().iter().map(|row| row.name).collect();
        assert!(
            !offered.contains(&"any key"),
            "nothing starts while out of order: {offered:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_customer_who_walks_away_from_the_reader_leaves_nothing_on_it() {
        let mut app = kiosk(Instant::now());
        app.settings.kiosk_account = Some((
            "box@example.com".into(),
            crate::config::Password::new("box-pass"),
        ));
        paying_by_card(&mut app);
        on_reader(&mut app);
        // The payment's own wait ends; then the idle countdown; then the reset.
        payment_ends(&mut app, OrderStatus::Failed);
        let effects = app.reset_kiosk();
        assert!(
            effects.contains(&Effect::ClearCart {
                token: "customer".into(),
                abandoned_order: Some(7),
            }),
            "{effects:?}"
        );
        // Unreachable server: tried again, the order with it.
        let effects = app.update(Msg::from(Reply::CartCleared(Err(
            crate::api::ApiError::Network { server: "s".into() },
        ))));
        assert!(
            matches!(&effects[..], [Effect::Later { effect, .. }]
                if **effect == Effect::ClearCart { token: "customer".into(), abandoned_order: Some(7) }),
            "{effects:?}"
        );
        app.update(Msg::from(Reply::CartCleared(Ok(()))));
        assert_eq!(app.kiosk.as_ref().unwrap().abandoned_order, None);
        assert_eq!(app.screen, Screen::Start);
    }

    #[tokio::test(start_paused = true)]
    async fn adding_at_a_kiosk_says_what_was_added_on_the_cart_without_repeating_its_notice() {
        let mut app = kiosk(Instant::now());
        app.update(ch('x'));
        signed_in(&mut app);
        app.open_event(2);
        app.update(Msg::from(Reply::EventLoaded(Ok(
            super::super::tests::detail(),
        ))));
        app.update(key(KeyCode::Enter));
        app.update(Msg::from(Reply::Bought {
            quantity: 1,
            result: Ok(storefront_contract::BuyTicketsResponse {
                tickets: Vec::new(),
                cart: super::super::tests::summary(1, 1000),
                notice: storefront_contract::SOLD_OUT_NOTICE.into(),
            }),
        }));
        assert_eq!(app.screen, Screen::Cart);
        assert_eq!(
            app.status.as_ref().map(|s| s.text.as_str()),
            Some("1 ticket added to your cart.")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_product_added_at_a_kiosk_brings_up_the_cart() {
        let mut app = kiosk(Instant::now());
        app.update(ch('x'));
        signed_in(&mut app);
        app.update(Msg::from(Reply::ProductsLoaded(Ok(
            super::super::tests::products(),
        ))));
        assert!(app.keys().contains(&("s", "shop")));
        app.update(ch('*'));
        assert_eq!(app.screen, Screen::Shop);
        let effects = app.update(key(KeyCode::Enter));
        assert!(matches!(
            &effects[..],
            [Effect::AddProduct { quantity: 1, .. }]
        ));
        let effects = app.update(Msg::from(Reply::ProductAdded {
            product_id: 2,
            quantity: 1,
            result: Ok(super::super::tests::summary(1, 2500)),
        }));
        assert_eq!(app.screen, Screen::Cart);
        assert!(matches!(&effects[..], [Effect::LoadCart { .. }]));
    }

    #[tokio::test(start_paused = true)]
    async fn a_declined_card_tries_again_with_enter() {
        let mut app = kiosk(Instant::now());
        paying_by_card(&mut app);
        on_reader(&mut app);
        payment_ends(&mut app, OrderStatus::Failed);
        assert_eq!(app.payment.phase, PaymentPhase::Failed);
        assert!(app.keys().contains(&("Enter", "try again")));
        assert!(app.keys().contains(&("Tab", "pay by QR code instead")));
        let effects = app.update(key(KeyCode::Enter));
        assert_eq!(pay_effect(&effects), Some(&by_card()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_or_offline_reader_falls_back_to_the_qr_code() {
        let mut app = kiosk(Instant::now());
        paying_by_card(&mut app);
        let effects = app.update(Msg::from(Reply::PaymentStarted(Err(
            crate::api::ApiError::Refused {
                status: 502,
                code: crate::api::ErrorCode::PaymentProviderError,
                message: "The card reader door-1 cannot take this payment now.".into(),
                field: None,
                order_id: Some(7),
            },
        ))));
        assert_eq!(pay_effect(&effects), Some(&PayRequest::default()));
        assert!(!app.payment.by_card);
        // The server's reason, and what to do instead.
        let said = &app.status.as_ref().expect("said why").text;
        assert!(
            said.starts_with("The card reader door-1 cannot take this payment now.")
                && said.ends_with("Scan the code to pay with your phone."),
            "{said}"
        );
        // A failure of the QR code's payment page is shown as it is, not retried for ever.
        let effects = app.update(Msg::from(Reply::PaymentStarted(Err(
            crate::api::ApiError::Refused {
                status: 502,
                code: crate::api::ErrorCode::PaymentProviderError,
                message: "SumUp is down.".into(),
                field: None,
                order_id: Some(7),
            },
        ))));
        assert!(pay_effect(&effects).is_none());
        assert!(matches!(app.payment.phase, PaymentPhase::ProviderError(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn customers_cannot_quit_suspend_or_sign_out() {
        let mut app = kiosk(Instant::now());
        app.update(ch('x'));
        signed_in(&mut app);
        for msg in [
            ch('q'),
            ch('L'),
            Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Msg::Key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL)),
            Msg::Key(KeyEvent::new(KeyCode::Char('\\'), KeyModifiers::CONTROL)),
        ] {
            assert!(app.update(msg).is_empty());
        }
        assert!(!app.quit);
        assert!(app.session.is_some());
        // A signal from outside still ends it.
        app.update(Msg::Signal);
        assert!(app.quit);
    }

    #[tokio::test(start_paused = true)]
    async fn wrong_pins_make_the_next_try_wait_longer() {
        let mut app = kiosk(Instant::now());
        app.update(key(KeyCode::F(10)));
        let try_pin = |app: &mut App, pin: &str| {
            for c in pin.chars() {
                app.update(ch(c));
            }
            app.update(key(KeyCode::Enter));
        };
        for _ in 0..3 {
            try_pin(&mut app, "1111");
        }
        assert!(!app.quit);
        // Now the right PIN is not even taken, for 30 s.
        try_pin(&mut app, "2468");
        assert!(!app.quit, "locked");
        tick(&mut app, Duration::from_secs(31)).await;
        try_pin(&mut app, "1111");
        assert_eq!(
            app.kiosk.as_ref().unwrap().pin_locked_until.unwrap() - app.now,
            Duration::from_secs(60),
            "the wait doubles"
        );
        tick(&mut app, Duration::from_secs(61)).await;
        try_pin(&mut app, "2468");
        assert!(app.quit);
        assert_eq!(KioskState::pin_wait(2), Duration::ZERO);
        assert_eq!(KioskState::pin_wait(40), Duration::from_secs(3600));
    }

    #[tokio::test(start_paused = true)]
    async fn the_operator_exits_with_f10_and_the_pin() {
        let mut app = kiosk(Instant::now());
        app.update(key(KeyCode::F(10)));
        assert_eq!(app.kiosk.as_ref().unwrap().pin.as_deref(), Some(""));
        for c in "1111".chars() {
            app.update(ch(c));
        }
        app.update(key(KeyCode::Enter));
        assert!(!app.quit);
        assert!(app.kiosk.as_ref().unwrap().pin_refused);
        for c in "2468".chars() {
            app.update(ch(c));
        }
        app.update(key(KeyCode::Enter));
        assert!(app.quit);

        // Without a PIN configured, F10 is just a key.
        let mut open = kiosk(Instant::now());
        open.settings.kiosk_exit_pin = None;
        open.update(key(KeyCode::F(10)));
        assert!(open.kiosk.as_ref().unwrap().pin.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn enter_does_what_letters_do_at_a_keypad() {
        let mut app = kiosk(Instant::now());
        app.update(key(KeyCode::Enter));
        assert_eq!(app.screen, Screen::Events);
        // Esc at the top starts over.
        app.update(key(KeyCode::Esc));
        assert_eq!(app.screen, Screen::Start);
    }
}
