//! Settling an order from what SumUp says of its checkout: a payment confirms the order's
//! tickets exactly once (and cancels what the event oversold, making a refund due); a failure
//! or expiry of the newest attempt makes the order payable again. SumUp is asked, never told.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use storefront_contract::{CheckoutStatus, OrderStatus};

use super::checkout::{Closed, close_at_sumup, has_expired, read_checkout};
use super::refund::try_refund;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::{CheckoutKey, CheckoutRow, OrderRow, PayPlace};
use crate::sumup::Checkout;
use crate::ticket_link;
use crate::time;

/// SumUp is asked about one order at most this often.
const REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// A checkout this young (in whole seconds of its `created_at`) has nothing new to say.
const JUST_MADE_SECS: time::Timestamp = 1;

/// Remembers when SumUp was last asked about each order, so that many waiting buyers
/// (or one impatient one) cost SumUp one request a second per order.
#[derive(Default)]
pub struct RefreshThrottle {
    asked_at: Mutex<HashMap<i64, Instant>>,
}

impl RefreshThrottle {
    /// Whether enough time passed since SumUp was last asked about this order; if so, the
    /// caller asks now.
    fn take_turn(&self, order_id: i64, now: Instant) -> bool {
        let mut asked_at = self.asked_at.lock().unwrap_or_else(|e| e.into_inner());
        match asked_at.get(&order_id) {
            Some(at) if now.duration_since(*at) < REFRESH_INTERVAL => false,
            _ => {
                if asked_at.len() > 10_000 {
                    asked_at.retain(|_, at| now.duration_since(*at) < REFRESH_INTERVAL);
                }
                asked_at.insert(order_id, now);
                true
            }
        }
    }

    /// SumUp was just told about this order (a checkout made): it has nothing new to say for
    /// a moment, and webhooks say when it has.
    pub fn just_asked(&self, order_id: i64) {
        self.take_turn(order_id, Instant::now());
    }
}

/// Notices being handled, by what they are about. SumUp sends more than one notice of a
/// change (the `return_url` callback and the event notification, at once): a notice that
/// arrives while the same checkout is being re-read is not read in parallel; the read in
/// flight goes round once more when it is done, and by then the checkout is usually settled
/// and needs no asking.
#[derive(Default)]
pub struct NoticesInFlight {
    /// Checkouts being re-read, and whether another notice came meanwhile.
    again: Mutex<HashMap<String, bool>>,
}

impl NoticesInFlight {
    /// `true` when the caller is to handle the notice; `false` when a read in flight takes it.
    fn begin(&self, key: &str) -> bool {
        let mut again = self.again.lock().unwrap_or_else(|e| e.into_inner());
        match again.get_mut(key) {
            Some(flag) => {
                *flag = true;
                false
            }
            None => {
                again.insert(key.to_owned(), false);
                true
            }
        }
    }

    /// `true` when another notice came during the read: read once more.
    fn end(&self, key: &str) -> bool {
        let mut again = self.again.lock().unwrap_or_else(|e| e.into_inner());
        match again.get_mut(key) {
            Some(flag) if *flag => {
                *flag = false;
                true
            }
            _ => {
                again.remove(key);
                false
            }
        }
    }
}

/// Handles a notice about a checkout, unless one about it is being handled (which then
/// goes round once more).
pub async fn on_notice(state: &AppState, key: CheckoutKey<'_>) -> ApiResult<()> {
    let name = match key {
        CheckoutKey::Id(id) => format!("checkout {id}"),
        CheckoutKey::ReaderPayment(id) => format!("reader payment {id}"),
    };
    if !state.notices_in_flight().begin(&name) {
        return Ok(());
    }
    loop {
        let done = refresh_checkout(state, key).await;
        let again = state.notices_in_flight().end(&name);
        if done.is_err() || !again {
            return done;
        }
    }
}

/// Which of an order's SumUp checkouts is meant: the one being paid now, or an earlier one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    Newest,
    Older,
}

/// Reads the order's newest checkout back from SumUp and applies it (at most once a second
/// per order unless `force`); retries a refund that is due. SumUp failures are logged and
/// leave the order as it is. `true` when SumUp was asked (the order may have changed).
pub async fn refresh_order(state: &AppState, order: &OrderRow, force: bool) -> ApiResult<bool> {
    // A failed order's newest hosted checkout may still be paid: SumUp's page lets a
    // declined buyer try again.
    let needs_status = match order.status {
        OrderStatus::Pending => true,
        OrderStatus::Failed => order.checkout.as_ref().is_some_and(|c| {
            c.status == CheckoutStatus::Failed && matches!(c.place, PayPlace::Hosted { .. })
        }),
        _ => false,
    };
    // A checkout made a moment ago, by this server or another, was just asked about: its
    // webhook says when it is paid. Across servers this is what spares SumUp a second
    // request when the buyer's long-poll reaches another server than their checkout did.
    let needs_status = needs_status
        && (force
            || !order
                .checkout
                .as_ref()
                .is_some_and(|c| just_made(c, time::now())));
    let needs_refund = order.refund.is_some_and(|refund| refund.state.is_open());
    if !(needs_status || needs_refund)
        || (!force && !state.refresh_throttle().take_turn(order.id, Instant::now()))
    {
        return Ok(false);
    }
    if needs_status && let Some(checkout) = &order.checkout {
        match read_checkout(state, order, checkout).await {
            Ok(remote) => {
                settle(state, order, checkout, &remote, Attempt::Newest).await?;
                return Ok(true);
            }
            Err(err) => {
                tracing::warn!(order_id = order.id, error = %err, "could not read the checkout")
            }
        }
    }
    if needs_refund {
        try_refund(state, order.id).await?;
    }
    Ok(true)
}

/// Whether the checkout was made this second or the last (its time is kept in seconds).
fn just_made(checkout: &CheckoutRow, now: time::Timestamp) -> bool {
    now - checkout.created_at <= JUST_MADE_SECS
}

/// What a webhook says changed: re-read that checkout from SumUp (never trusting the body).
pub async fn refresh_checkout(state: &AppState, key: CheckoutKey<'_>) -> ApiResult<()> {
    let Some((order_id, checkout)) = state.store().checkout_of(key).await? else {
        tracing::info!(?key, "webhook for a checkout we did not make");
        return Ok(());
    };
    let Some(order) = state.store().order(order_id).await? else {
        return Ok(());
    };
    // Settled already (SumUp sends more than one notice of a payment): nothing can change.
    if order.status == OrderStatus::Paid && checkout.status == CheckoutStatus::Paid {
        return Ok(());
    }
    let remote = match read_checkout(state, &order, &checkout).await {
        Ok(remote) => remote,
        Err(err) => {
            tracing::warn!(order_id, error = %err, "could not read the checkout of a webhook");
            return Ok(());
        }
    };
    let attempt = match &order.checkout {
        Some(newest) if newest.sumup_id == checkout.sumup_id => Attempt::Newest,
        _ => Attempt::Older,
    };
    settle(state, &order, &checkout, &remote, attempt).await
}

/// Applies SumUp's view of one checkout to its order, then asks for any refund it made due,
/// and only then wakes those waiting on the order, so that they see the refund's outcome.
pub async fn settle(
    state: &AppState,
    order: &OrderRow,
    local: &CheckoutRow,
    remote: &Checkout,
    attempt: Attempt,
) -> ApiResult<()> {
    let order_id = order.id;
    let applied = apply_checkout(state, order, local, remote, attempt).await?;
    if applied.refund_due {
        try_refund(state, order_id).await?;
    }
    if applied.changed {
        state.order_changed(order_id);
    }
    Ok(())
}

/// What applying SumUp's view did.
#[derive(Clone, Copy, Debug, Default)]
struct Applied {
    changed: bool,
    /// Confirming the payment cancelled oversold tickets: their refund is due now. (A refund
    /// left due by an earlier failure is retried by `refresh_order`.)
    refund_due: bool,
}

impl Applied {
    fn changed(changed: bool) -> Applied {
        Applied {
            changed,
            refund_due: false,
        }
    }
}

/// Applies SumUp's view of one checkout to its order. A payment is honoured whichever
/// attempt it came through; failures and expiry only count for the newest attempt.
async fn apply_checkout(
    state: &AppState,
    order: &OrderRow,
    local: &CheckoutRow,
    remote: &Checkout,
    attempt: Attempt,
) -> ApiResult<Applied> {
    let order_id = order.id;
    let store = state.store();
    let mut status = remote.status;
    let expired = attempt == Attempt::Newest && has_expired(local, time::now());
    if status == CheckoutStatus::Pending && expired {
        // Too old to be paid now: close it at SumUp first, so it cannot be paid later.
        match close_at_sumup(state, order, local).await {
            Ok(Closed::Closed) => status = CheckoutStatus::Expired,
            Ok(Closed::Paid(paid)) => {
                return Box::pin(apply_checkout(state, order, local, &paid, attempt)).await;
            }
            Err(err) => {
                tracing::warn!(order_id, error = %err, "could not expire an old checkout");
                return Ok(Applied::default());
            }
        }
    }
    Ok(match status {
        CheckoutStatus::Paid => {
            let transaction = remote.transaction_id.as_deref();
            match store
                .confirm_tickets_and_cancel_oversold(
                    order_id,
                    &remote.id,
                    transaction,
                    &ticket_link::new_secret(),
                    time::now(),
                )
                .await?
            {
                Some(settlement) => {
                    tracing::info!(
                        order_id,
                        refunded_tickets = settlement.cancelled_tickets,
                        "order paid"
                    );
                    Applied {
                        changed: true,
                        refund_due: settlement.refund > 0,
                    }
                }
                None => Applied::changed(store.set_checkout_status(&remote.id, status).await?),
            }
        }
        CheckoutStatus::Failed | CheckoutStatus::Expired => {
            let checkout_changed = store.set_checkout_status(&remote.id, status).await?;
            let newest = attempt == Attempt::Newest;
            let order_changed = newest && store.fail_order(order_id, &remote.id).await?;
            Applied::changed(checkout_changed || order_changed)
        }
        CheckoutStatus::Pending => {
            Applied::changed(store.set_checkout_status(&remote.id, status).await?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_during_a_read_makes_it_go_round_once_more() {
        let notices = NoticesInFlight::default();
        assert!(notices.begin("c1"));
        assert!(!notices.begin("c1"), "the read in flight takes it");
        assert!(!notices.begin("c1"));
        assert!(notices.begin("c2"), "another checkout is read at once");
        assert!(notices.end("c1"), "once more");
        assert!(!notices.end("c1"), "then done");
        assert!(notices.begin("c1"), "a later notice is read again");
        assert!(!notices.end("c1"));
        assert!(!notices.end("c2"));
    }

    #[test]
    fn an_order_is_asked_about_once_a_second() {
        let throttle = RefreshThrottle::default();
        let start = Instant::now();
        assert!(throttle.take_turn(1, start));
        assert!(!throttle.take_turn(1, start + Duration::from_millis(999)));
        assert!(throttle.take_turn(2, start));
        assert!(throttle.take_turn(1, start + REFRESH_INTERVAL));
    }

    #[test]
    fn a_checkout_is_just_made_for_the_second_it_was_made_in_and_the_next() {
        let checkout = CheckoutRow {
            sumup_id: "c1".to_owned(),
            place: PayPlace::Hosted {
                url: "https://pay.example/c1".to_owned(),
            },
            status: CheckoutStatus::Pending,
            created_at: 1_000,
        };
        assert!(just_made(&checkout, 1_000));
        assert!(just_made(&checkout, 1_001));
        assert!(!just_made(&checkout, 1_002), "then SumUp is asked");
    }
}
