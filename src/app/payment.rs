//! Paying: checkout, the hosted page in a browser and as a QR code, waiting for the payment,
//! and the confirmation with the tickets.

use std::time::Duration;

use storefront_contract::{
    CheckoutResponse, CheckoutStatus, Order, OrderStatus, Page, PayRequest, PaymentMethod,
};
use tokio::time::Instant;

use super::keys::Action;
use super::{App, Effect, Screen, StatusKind};
use crate::api::{ApiError, ApiResult, ErrorCode};
use storefront_contract::Backoff;

/// How long one long-poll asks the server to wait.
pub const WAIT_SECS: u64 = 25;

/// What cancelling `order` does, as it holds it: its tickets and bookings are released, its
/// items go back to the cart. `done` says it as done.
pub fn cancelling_does(order: &Order, done: bool) -> String {
    let tense = |now: &'static str, then: &'static str| if done { then } else { now };
    let mut parts: Vec<&str> = Vec::new();
    if order
        .tickets
        .iter()
        .any(|t| t.state != storefront_contract::TicketState::Cancelled)
    {
        parts.push(tense(
            "its tickets are released",
            "its tickets were released",
        ));
    }
    if !order.calendar_entries.is_empty() {
        parts.push(tense(
            "its bookings are released",
            "its bookings were released",
        ));
    }
    if !order.products.is_empty() {
        parts.push(tense(
            "its items go back to your cart",
            "its items went back to your cart",
        ));
    }
    match parts.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// How long after a declined payment the order is looked at again: the buyer may try another
/// card on the same page.
pub const FAILED_RECHECK: Duration = Duration::from_secs(2);

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PaymentPhase {
    #[default]
    Idle,
    /// Asking the server for the order and its checkout.
    Starting,
    /// The hosted page is open; waiting for the buyer to pay.
    Waiting,
    /// The network failed while waiting; trying again shortly.
    Reconnecting,
    /// Still not paid after `poll_timeout`: waiting stopped, Enter waits again.
    TimedOut,
    Paid,
    Failed,
    Cancelled,
    /// The payment service failed; the order is kept and `r` tries again.
    ProviderError(String),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BrowserState {
    #[default]
    NotTried,
    Opened,
    /// Not an error: the page is on screen as an address and a QR code.
    Failed,
}

#[derive(Clone, Debug, Default)]
pub struct PaymentState {
    pub order_id: Option<i64>,
    /// Once cancelled, what the cancellation did (said from the order as it was).
    pub cancelled_note: Option<String>,
    pub order: Option<Order>,
    pub checkout_url: Option<String>,
    /// The card reader the payment waits on (a kiosk's card payment).
    pub reader: Option<String>,
    /// The customer pays by card on the kiosk's reader (the default where there is one);
    /// off after they chose the QR code, or the reader could not take the payment.
    pub by_card: bool,
    pub phase: PaymentPhase,
    pub waiting_since: Option<Instant>,
    pub browser: BrowserState,
    /// Replies to waits that were left behind are ignored.
    pub generation: u64,
    pub confirm_cancel: bool,
    /// On the confirmation: the ticket whose code is shown as a QR code.
    pub selected_ticket: usize,
    /// The ticket to select when the order arrives (opened from the ticket list).
    pub focus_ticket: Option<i64>,
    reconnect: Backoff,
}

impl PaymentState {
    /// A fresh state whose generation outdates every wait still in flight.
    pub fn next(&self) -> PaymentState {
        PaymentState {
            generation: self.generation + 1,
            ..PaymentState::default()
        }
    }

    pub fn is_waiting(&self) -> bool {
        matches!(
            self.phase,
            PaymentPhase::Starting | PaymentPhase::Waiting | PaymentPhase::Reconnecting
        )
    }

    /// Stops listening to the wait in flight; the order stays as it is on the server.
    pub fn leave(&mut self) {
        self.generation += 1;
        self.confirm_cancel = false;
        if self.is_waiting() {
            self.phase = PaymentPhase::Idle;
        }
    }

    /// Whether the order can still be paid or cancelled.
    pub fn payable(&self) -> bool {
        self.order.as_ref().is_some_and(|o| o.status.is_payable())
            || matches!(self.phase, PaymentPhase::ProviderError(_))
    }

    fn waited(&self, now: Instant) -> Duration {
        self.waiting_since
            .map(|since| now.duration_since(since))
            .unwrap_or_default()
    }

    /// Seconds spent waiting, for the spinner line.
    pub fn elapsed(&self, now: Instant) -> u64 {
        self.waited(now).as_secs()
    }
}

impl App {
    pub(super) fn check_out(&mut self, page: Option<Page>) -> Vec<Effect> {
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        if self.cart.cart.as_ref().is_none_or(|c| c.groups.is_empty()) {
            self.set_status(StatusKind::Info, "Your cart is empty.");
            return Vec::new();
        }
        self.payment = PaymentState {
            generation: self.payment.generation + 1,
            phase: PaymentPhase::Starting,
            by_card: self.card_reader().is_some(),
            ..PaymentState::default()
        };
        self.screen = Screen::Payment;
        let page = page.map(|p| p.slug);
        self.checkout_page = page.clone();
        vec![Effect::Checkout {
            token,
            page,
            key: self.new_action_key(),
        }]
    }

    pub(super) fn checked_out(&mut self, result: ApiResult<CheckoutResponse>) -> Vec<Effect> {
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        // The whole cart moved into the order: it is empty now, as the answer says. After one
        // venue's checkout (or a failure) the server is asked what is left.
        let whole_cart = result.is_ok() && self.checkout_page.take().is_none();
        let mut effects = Vec::new();
        if whole_cart {
            self.cart.cart = None;
            if let Some(summary) = &mut self.summary {
                *summary = storefront_contract::CartSummary {
                    currency: summary.currency.clone(),
                    ..storefront_contract::CartSummary::empty()
                };
            }
        } else {
            self.cart.loading = true;
            effects.push(Effect::LoadSummary {
                token: token.clone(),
            });
            effects.push(Effect::LoadCart {
                token: token.clone(),
            });
        }
        match result {
            // A kiosk with a card reader puts the amount on it at once.
            Ok(checkout) if self.payment.by_card => {
                self.connected();
                self.payment.order_id = Some(checkout.order.id);
                self.payment.order = Some(checkout.order);
                effects.extend(self.pay_again(token));
            }
            Ok(checkout) => effects.extend(self.start_waiting(checkout, true)),
            Err(ApiError::Refused {
                code: ErrorCode::PaymentProviderError,
                message,
                order_id: Some(order_id),
                ..
            }) => {
                self.connected();
                self.payment.order_id = Some(order_id);
                self.payment.phase = PaymentPhase::ProviderError(message);
                effects.push(Effect::LoadOrder { token, order_id });
            }
            Err(err) => {
                self.payment.phase = PaymentPhase::Idle;
                self.screen = Screen::Cart;
                effects.extend(self.on_error(err, None));
            }
        }
        effects
    }

    fn start_waiting(&mut self, checkout: CheckoutResponse, open_browser: bool) -> Vec<Effect> {
        self.connected();
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        let order_id = checkout.order.id;
        self.payment.order_id = Some(order_id);
        self.payment.order = Some(checkout.order);
        self.payment.checkout_url = checkout.checkout_url.clone();
        self.payment.reader = checkout.reader;
        self.payment.generation += 1;
        self.payment.phase = PaymentPhase::Waiting;
        self.payment.waiting_since = Some(self.now);
        self.payment.reconnect.reset();
        let mut effects = Vec::new();
        if open_browser
            && self.settings.open_browser
            && let Some(url) = checkout.checkout_url
        {
            effects.push(Effect::OpenBrowser {
                command: self.settings.browser.clone(),
                url,
            });
        }
        effects.push(self.wait_effect(token, order_id));
        effects
    }

    /// How an order the buyer left while paying ended: said on whatever screen they are.
    pub(super) fn order_watched(&mut self, order_id: i64, result: ApiResult<Order>) -> Vec<Effect> {
        if self.watching != Some(order_id) {
            return Vec::new();
        }
        // Back on its payment screen, that screen follows it.
        if self.screen == Screen::Payment && self.payment.order_id == Some(order_id) {
            self.watching = None;
            return Vec::new();
        }
        let Some(token) = self.token().map(str::to_owned) else {
            self.watching = None;
            return Vec::new();
        };
        let again = |after: Duration| Effect::Later {
            after,
            effect: Box::new(Effect::WatchOrder {
                token: token.clone(),
                order_id,
                wait_secs: WAIT_SECS,
            }),
        };
        match result {
            Ok(order) => match order.status {
                OrderStatus::Pending => vec![again(Duration::ZERO)],
                OrderStatus::Paid => {
                    self.watching = None;
                    self.set_status(
                        StatusKind::Success,
                        format!("Order {order_id} paid: o for your tickets."),
                    );
                    vec![Effect::LoadSummary { token }]
                }
                OrderStatus::Failed => {
                    self.watching = None;
                    self.set_status(
                        StatusKind::Info,
                        format!(
                            "Order {order_id}: the payment did not go through. o to pay again."
                        ),
                    );
                    Vec::new()
                }
                OrderStatus::Cancelled => {
                    self.watching = None;
                    Vec::new()
                }
            },
            Err(ApiError::SessionEnded(_)) => {
                self.watching = None;
                Vec::new()
            }
            Err(_) => vec![again(self.payment.reconnect.next_delay())],
        }
    }

    /// Whether a failed order can still be paid without the buyer asking again: its newest
    /// attempt is SumUp's hosted page, which lets a declined card try again, and the wait
    /// has not run out. (A card reader's declined payment is over.)
    fn may_still_be_paid(&self) -> bool {
        self.payment.order.as_ref().is_some_and(|order| {
            order.payment_method == PaymentMethod::Hosted
                && order.sumup_status == Some(CheckoutStatus::Failed)
        }) && self.payment.waited(self.now) < self.settings.poll_timeout
    }

    fn wait_effect(&self, token: String, order_id: i64) -> Effect {
        Effect::WaitForOrder {
            token,
            order_id,
            wait_secs: WAIT_SECS,
            generation: self.payment.generation,
        }
    }

    pub(super) fn order_update(
        &mut self,
        generation: u64,
        result: ApiResult<Order>,
    ) -> Vec<Effect> {
        if generation != self.payment.generation {
            return Vec::new();
        }
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        match result {
            Ok(order) => {
                self.connected();
                self.payment.reconnect.reset();
                let order_id = order.id;
                let status = order.status;
                self.payment.order = Some(order);
                match status {
                    OrderStatus::Pending => {
                        if self.payment.waited(self.now) >= self.settings.poll_timeout {
                            self.payment.phase = PaymentPhase::TimedOut;
                            return Vec::new();
                        }
                        self.payment.phase = PaymentPhase::Waiting;
                        vec![self.wait_effect(token, order_id)]
                    }
                    OrderStatus::Failed if self.may_still_be_paid() => {
                        // SumUp's page offers a declined buyer another try: the order may
                        // yet be paid there, so it is looked at again until it is, the buyer
                        // acts, or the wait runs out.
                        let mut effects = self.settled(OrderStatus::Failed);
                        effects.push(Effect::Later {
                            after: FAILED_RECHECK,
                            effect: Box::new(self.wait_effect(token, order_id)),
                        });
                        effects
                    }
                    other => self.settled(other),
                }
            }
            Err(ApiError::Network { server }) => {
                let delay = self.payment.reconnect.next_delay();
                self.payment.phase = PaymentPhase::Reconnecting;
                self.set_status(
                    StatusKind::Connection,
                    format!(
                        "Reconnecting to {server} in {}s… Your order is kept.",
                        delay.as_secs()
                    ),
                );
                let Some(order_id) = self.payment.order_id else {
                    return Vec::new();
                };
                vec![Effect::Later {
                    after: delay,
                    effect: Box::new(self.wait_effect(token, order_id)),
                }]
            }
            Err(err) => {
                self.payment.phase = PaymentPhase::TimedOut;
                self.on_error(err, None)
            }
        }
    }

    /// The order left pending: paid, failed or cancelled.
    /// The order left pending: its outcome is shown. Paying or cancelling changes nothing in
    /// the cart, so nothing is asked of the server.
    fn settled(&mut self, status: OrderStatus) -> Vec<Effect> {
        self.payment.phase = match status {
            OrderStatus::Paid => PaymentPhase::Paid,
            OrderStatus::Failed => PaymentPhase::Failed,
            OrderStatus::Cancelled => PaymentPhase::Cancelled,
            OrderStatus::Pending => PaymentPhase::Waiting,
        };
        let focus = self.payment.focus_ticket.take();
        self.payment.selected_ticket = focus
            .and_then(|id| {
                self.payment
                    .order
                    .as_ref()?
                    .tickets
                    .iter()
                    .position(|t| t.id == id)
            })
            .unwrap_or(0);
        // A cancelled order's items went back to the cart: the header's count follows.
        match (status, self.token()) {
            (OrderStatus::Cancelled, Some(token)) => vec![Effect::LoadSummary {
                token: token.to_owned(),
            }],
            _ => Vec::new(),
        }
    }

    pub(super) fn payment_action(&mut self, action: Action) -> Vec<Effect> {
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        match action {
            Action::Back => {
                let left_waiting = self.payment.is_waiting();
                self.payment.leave();
                let mut effects = Vec::new();
                if left_waiting
                    && !self.is_kiosk()
                    && let Some(order_id) = self.payment.order_id
                {
                    self.watching = Some(order_id);
                    effects.push(Effect::WatchOrder {
                        token: token.clone(),
                        order_id,
                        wait_secs: WAIT_SECS,
                    });
                }
                self.screen = if self.previous == Screen::Payment {
                    Screen::Events
                } else {
                    self.previous
                };
                // Only where `o` leads to it (a box-office kiosk shows no orders).
                if !self.is_box_office()
                    && self
                        .payment
                        .order
                        .as_ref()
                        .is_some_and(|o| o.status == OrderStatus::Pending)
                {
                    self.set_status(
                        StatusKind::Info,
                        "Your order is kept: open it under o to pay later.",
                    );
                }
                if self.screen == Screen::Cart {
                    effects.extend(self.show_cart());
                }
                return effects;
            }
            Action::OpenBrowser if !self.browser_allowed() => {}
            Action::CopyAddress => {
                if let Some(url) = self.payment.checkout_url.clone() {
                    self.set_status(
                        StatusKind::Success,
                        "Copied the payment address (where the terminal allows it).",
                    );
                    return vec![Effect::Copy(url)];
                }
            }
            Action::OpenBrowser => {
                if let Some(url) = self.payment.checkout_url.clone() {
                    return vec![Effect::OpenBrowser {
                        command: self.settings.browser.clone(),
                        url,
                    }];
                }
            }
            Action::PayAgain => return self.pay_again(token),
            Action::SwitchMethod if self.card_reader().is_some() && self.payment.payable() => {
                self.payment.by_card = !self.payment.by_card;
                return self.pay_again(token);
            }
            Action::KeepWaiting => {
                if let Some(order_id) = self.payment.order_id {
                    self.payment.generation += 1;
                    self.payment.phase = PaymentPhase::Waiting;
                    self.payment.waiting_since = Some(self.now);
                    return vec![self.wait_effect(token, order_id)];
                }
            }
            Action::CancelOrder => self.payment.confirm_cancel = true,
            Action::ConfirmCancel => {
                self.payment.confirm_cancel = false;
                let Some(order_id) = self.payment.order_id else {
                    return Vec::new();
                };
                self.payment.generation += 1;
                self.payment.phase = PaymentPhase::Starting;
                return vec![Effect::CancelOrder { token, order_id }];
            }
            Action::KeepOrder => self.payment.confirm_cancel = false,
            Action::Up => {
                self.payment.selected_ticket = self.payment.selected_ticket.saturating_sub(1);
            }
            Action::Down => {
                let count = self.payment.order.as_ref().map_or(0, |o| o.tickets.len());
                self.payment.selected_ticket =
                    (self.payment.selected_ticket + 1).min(count.saturating_sub(1));
            }
            _ => {}
        }
        Vec::new()
    }

    /// Whether the customer may switch between card and QR code now: while waiting, or
    /// after a decline.
    pub fn payment_switchable(&self) -> bool {
        !self.payment.confirm_cancel
            && matches!(
                self.payment.phase,
                PaymentPhase::Waiting
                    | PaymentPhase::Reconnecting
                    | PaymentPhase::TimedOut
                    | PaymentPhase::Failed
            )
    }

    /// The card reader this terminal takes cards on.
    pub fn card_reader(&self) -> Option<&str> {
        self.settings
            .kiosk_reader
            .as_deref()
            .filter(|_| self.is_kiosk())
    }

    /// Where the next payment attempt goes: the kiosk's reader while paying by card, else
    /// the hosted page.
    fn pay_request(&self) -> PayRequest {
        match self.card_reader() {
            Some(reader) if self.payment.by_card => PayRequest {
                method: PaymentMethod::Reader,
                reader: Some(reader.to_owned()),
            },
            _ => PayRequest::default(),
        }
    }

    fn pay_again(&mut self, token: String) -> Vec<Effect> {
        let Some(order_id) = self.payment.order_id else {
            return Vec::new();
        };
        self.payment.phase = PaymentPhase::Starting;
        self.payment.generation += 1;
        vec![Effect::Pay {
            token,
            order_id,
            with: self.pay_request(),
            key: self.new_action_key(),
        }]
    }

    pub(super) fn payment_started(&mut self, result: ApiResult<CheckoutResponse>) -> Vec<Effect> {
        match result {
            Ok(checkout) => self.start_waiting(checkout, true),
            // The reader is busy or offline: the QR code takes the payment instead, and the
            // server's reason is said (which reader, and whether it is offline or busy).
            Err(ApiError::Refused {
                code: ErrorCode::PaymentProviderError,
                message,
                ..
            }) if self.payment.by_card => {
                self.connected();
                self.payment.by_card = false;
                let said = if message.trim().is_empty() {
                    "The card reader cannot take this payment now: scan the code to pay with \
                     your phone."
                        .to_owned()
                } else {
                    format!("{} Scan the code to pay with your phone.", message.trim())
                };
                self.set_status(StatusKind::Error, said);
                match self.token().map(str::to_owned) {
                    Some(token) => self.pay_again(token),
                    None => Vec::new(),
                }
            }
            Err(ApiError::Refused {
                code: ErrorCode::PaymentProviderError,
                message,
                ..
            }) => {
                self.connected();
                self.payment.phase = PaymentPhase::ProviderError(message);
                Vec::new()
            }
            Err(err) if err.code() == Some(ErrorCode::OrderNotPayable) => {
                // Paid (or cancelled) meanwhile: show it as it is.
                self.reload_order()
            }
            Err(err) => {
                self.payment.phase = PaymentPhase::Failed;
                self.on_error(err, None)
            }
        }
    }

    fn reload_order(&mut self) -> Vec<Effect> {
        match (self.token().map(str::to_owned), self.payment.order_id) {
            (Some(token), Some(order_id)) => vec![Effect::LoadOrder { token, order_id }],
            _ => Vec::new(),
        }
    }

    /// Opens an order from the list (or the resume prompt): waiting, paying again, or its tickets.
    pub fn open_order(&mut self, order_id: i64) -> Vec<Effect> {
        let Some(token) = self.require_session(Screen::Orders) else {
            return Vec::new();
        };
        if self.screen != Screen::Payment {
            self.previous = self.screen;
        }
        self.payment = PaymentState {
            generation: self.payment.generation + 1,
            order_id: Some(order_id),
            phase: PaymentPhase::Starting,
            ..PaymentState::default()
        };
        self.screen = Screen::Payment;
        vec![Effect::LoadOrder { token, order_id }]
    }

    pub(super) fn resume_payment(&mut self) -> Vec<Effect> {
        match self.payment.order_id {
            Some(order_id) => self.open_order(order_id),
            None => Vec::new(),
        }
    }

    pub(super) fn order_loaded(&mut self, result: ApiResult<Order>) -> Vec<Effect> {
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        let order = match result {
            Ok(order) => order,
            Err(err) => {
                let retry = self.payment.order_id.map(|order_id| Effect::LoadOrder {
                    token: token.clone(),
                    order_id,
                });
                return self.on_error(err, retry);
            }
        };
        self.connected();
        if Some(order.id) != self.payment.order_id {
            return Vec::new();
        }
        let url = order.checkout_url.clone();
        let status = order.status;
        self.payment.order = Some(order.clone());
        if matches!(self.payment.phase, PaymentPhase::ProviderError(_)) {
            return Vec::new();
        }
        match (status, url) {
            // Resume waiting on the page already open (b opens it again).
            (OrderStatus::Pending, Some(url))
                if order.sumup_status == Some(CheckoutStatus::Pending) =>
            {
                self.start_waiting(
                    CheckoutResponse {
                        order,
                        checkout_url: Some(url),
                        reader: None,
                    },
                    false,
                )
            }
            (OrderStatus::Pending | OrderStatus::Failed, _) => self.pay_again(token),
            (other, _) => self.settled(other),
        }
    }

    pub(super) fn order_cancelled(&mut self, result: ApiResult<Order>) -> Vec<Effect> {
        match result {
            Ok(order) => {
                self.connected();
                let status = order.status;
                // Said from the order as it was: cancelled, it holds nothing any more.
                self.payment.cancelled_note = self
                    .payment
                    .order
                    .as_ref()
                    .map(|before| cancelling_does(before, true));
                self.payment.order = Some(order);
                if status == OrderStatus::Cancelled && self.is_kiosk() {
                    // "Cancel and start over": the next customer finds the start screen.
                    return self.reset_kiosk();
                }
                // The screen says it ("This order was cancelled…"): once is enough.
                self.settled(status)
            }
            Err(err) => {
                self.payment.phase = PaymentPhase::Failed;
                let mut effects = self.on_error(err, None);
                effects.extend(self.reload_order());
                effects
            }
        }
    }
}
