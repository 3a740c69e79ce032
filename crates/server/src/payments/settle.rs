//! Settling an order from what SumUp says of its checkout: asking SumUp, taking the step
//! [`decide`] gives, asking for any refund it made due, and waking those who wait. SumUp is
//! asked, never told; the rule itself is in `decide`.

use std::time::Instant;

use storefront_contract::{CheckoutStatus, OrderStatus};

use super::context::{OwnedCheckoutKey, Payments};
use super::decide::{Attempt, Step, decide};
use super::error::PaymentResult;
use super::refund::send_order_refunds;
use super::remote::{Closed, close_at_sumup, read_checkout};
use crate::credentials::new_ticket_secret;
use crate::store::{CheckoutKey, CheckoutRow, OrderRow, PayPlace};
use crate::sumup::Checkout;
use crate::time;

/// A checkout this young (in whole seconds of its `created_at`) has nothing new to say.
const JUST_MADE_SECS: time::Timestamp = 1;

/// Handles a notice about a checkout on a task of its own, so that SumUp is answered at
/// once; [`Payments::notices_handled`] waits for it.
pub fn hear_notice(payments: &Payments, key: OwnedCheckoutKey) {
    let payments = payments.clone();
    let handling = payments.handling_notice();
    tokio::spawn(async move {
        if let Err(err) = on_notice(&payments, key.as_key()).await {
            tracing::warn!(error = %err, "webhook handling failed");
        }
        drop(handling);
    });
}

/// Handles a notice about a checkout, unless one about it is being handled (which then
/// goes round once more).
pub async fn on_notice(payments: &Payments, key: CheckoutKey<'_>) -> PaymentResult<()> {
    let name = match key {
        CheckoutKey::Id(id) => format!("checkout {id}"),
        CheckoutKey::ReaderPayment(id) => format!("reader payment {id}"),
    };
    if !payments.notices_in_flight().begin(&name) {
        return Ok(());
    }
    loop {
        let done = refresh_checkout(payments, key).await;
        let settled = matches!(done, Ok(Checked::Settled));
        let again = payments.notices_in_flight().end(&name, settled);
        if done.is_err() || !again {
            return done.map(|_| ());
        }
    }
}

/// Reads the order's newest checkout back from SumUp and applies it (at most once a second
/// per order unless `force`); retries a refund that is due. SumUp failures are logged and
/// leave the order as it is. `true` when SumUp was asked (the order may have changed).
pub async fn refresh_order(
    payments: &Payments,
    order: &OrderRow,
    force: bool,
) -> PaymentResult<bool> {
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
    let needs_refund = order.open_refunds > 0;
    if !(needs_status || needs_refund)
        || (!force
            && !payments
                .refresh_throttle()
                .take_turn(order.id, Instant::now()))
    {
        return Ok(false);
    }
    if needs_status && let Some(checkout) = &order.checkout {
        match read_checkout(payments, order, checkout).await {
            Ok(remote) => {
                settle(payments, order, checkout, &remote, Attempt::Newest).await?;
                return Ok(true);
            }
            Err(err) => {
                tracing::warn!(order_id = order.id, error = %err, "could not read the checkout")
            }
        }
    }
    if needs_refund {
        send_order_refunds(payments, order.id).await?;
    }
    Ok(true)
}

/// Whether the checkout was made this second or the last (its time is kept in seconds).
fn just_made(checkout: &CheckoutRow, now: time::Timestamp) -> bool {
    now - checkout.created_at <= JUST_MADE_SECS
}

/// What re-reading a checkout found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Checked {
    /// Paid at SumUp and applied to its order: nothing can change it any more.
    Settled,
    /// Anything else (open, failed, unknown, or SumUp not reached).
    Open,
}

/// What a webhook says changed: re-read that checkout from SumUp (never trusting the body).
async fn refresh_checkout(payments: &Payments, key: CheckoutKey<'_>) -> PaymentResult<Checked> {
    let store = payments.store();
    let Some(order) = store.order_of_checkout(key).await? else {
        tracing::info!(?key, "webhook for a checkout we did not make");
        return Ok(Checked::Open);
    };
    let order_id = order.id;
    // Usually the order's newest checkout; an older one is read on its own.
    let checkout = match order.checkout.as_ref().filter(|newest| key.names(newest)) {
        Some(newest) => newest.clone(),
        None => match store.checkout_of(key).await? {
            Some((_, older)) => older,
            None => return Ok(Checked::Open),
        },
    };
    // Settled already (SumUp sends more than one notice of a payment): nothing can change.
    if order.status == OrderStatus::Paid && checkout.status == CheckoutStatus::Paid {
        return Ok(Checked::Settled);
    }
    let remote = match read_checkout(payments, &order, &checkout).await {
        Ok(remote) => remote,
        Err(err) => {
            tracing::warn!(order_id, error = %err, "could not read the checkout of a webhook");
            return Ok(Checked::Open);
        }
    };
    let attempt = match &order.checkout {
        Some(newest) if newest.sumup_id == checkout.sumup_id => Attempt::Newest,
        _ => Attempt::Older,
    };
    settle(payments, &order, &checkout, &remote, attempt).await?;
    // A paid checkout has been confirmed (or recorded, on an order no longer payable).
    Ok(match remote.status {
        CheckoutStatus::Paid => Checked::Settled,
        _ => Checked::Open,
    })
}

/// Applies SumUp's view of one checkout to its order, then asks for any refund it made due,
/// and only then wakes those waiting on the order, so that they see the refund's outcome.
pub async fn settle(
    payments: &Payments,
    order: &OrderRow,
    local: &CheckoutRow,
    remote: &Checkout,
    attempt: Attempt,
) -> PaymentResult<()> {
    let order_id = order.id;
    let applied = apply(payments, order, local, remote, attempt).await?;
    if applied.refund_due {
        send_order_refunds(payments, order_id).await?;
    }
    if applied.changed {
        payments.order_changed(order_id);
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

/// Takes the step the rule gives for SumUp's view of one checkout; closing an abandoned
/// checkout at SumUp first when the rule says so.
async fn apply(
    payments: &Payments,
    order: &OrderRow,
    local: &CheckoutRow,
    remote: &Checkout,
    attempt: Attempt,
) -> PaymentResult<Applied> {
    let order_id = order.id;
    let store = payments.store();
    let mut remote = remote.clone();
    let step = loop {
        match decide(order.status, local, remote.status, attempt, time::now()) {
            // Closing ends in a paid or an expired checkout, and neither closes again.
            Step::CloseAtSumUp => match close_at_sumup(payments, order, local).await {
                Ok(Closed::Closed) => remote.status = CheckoutStatus::Expired,
                Ok(Closed::Paid(paid)) => remote = paid,
                Err(err) => {
                    tracing::warn!(order_id, error = %err, "could not expire an old checkout");
                    return Ok(Applied::default());
                }
            },
            step => break step,
        }
    };
    Ok(match step {
        Step::Confirm => match store
            .confirm_tickets_and_cancel_oversold(
                order,
                &remote.id,
                remote.transaction_id.as_deref(),
                &new_ticket_secret(),
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
            // Another notice settled it a moment ago.
            None => Applied::changed(store.set_checkout_status(&remote.id, remote.status).await?),
        },
        Step::Fail(status) => {
            let checkout_changed = store.set_checkout_status(&remote.id, status).await?;
            let order_changed = store.fail_order(order_id, &remote.id).await?;
            Applied::changed(checkout_changed || order_changed)
        }
        Step::Record(status) => {
            Applied::changed(store.set_checkout_status(&remote.id, status).await?)
        }
        // (The loop above has closed what was to be closed: still pending here means waiting.)
        Step::Wait | Step::CloseAtSumUp => Applied::changed(
            store
                .set_checkout_status(&remote.id, CheckoutStatus::Pending)
                .await?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
