//! Refunding what an order oversold: claiming the refund so that one request at a time goes
//! to SumUp, sending it, deciding from SumUp's answer how it ends (pure: [`outcome`]), the
//! worker that sends every due refund, and the sentence that tells the buyer.

use std::time::Duration;

use storefront_contract::{Backoff, Money, Refund, RefundStatus, TicketState, format_amount};
use tokio::sync::watch;

use super::context::Payments;
use super::error::PaymentResult;
use crate::store::{OrderItems, RefundOutcome, RefundRow, RefundState};
use crate::sumup::SumUpError;
use crate::time::{self, Timestamp};

/// The longest wait between two tries of a refund SumUp could not take.
const LONGEST_WAIT: Duration = Duration::from_secs(60 * 60);

/// A refund SumUp has not taken for this long, try after try, is given up: the venue refunds
/// by hand. Every refund ends.
const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// What the buyer is told when SumUp refused their refund for good.
pub const REFUND_BY_HAND: &str =
    "The automatic refund did not go through; the venue will refund you by hand.";

/// SumUp's answer to a refund request, as the refund rule sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundAnswer {
    Accepted,
    /// Refused for good (404, 409, 422): asking again will not change it.
    Refused(String),
    /// Not taken for now (network, 5xx, 429).
    Unavailable(String),
}

impl RefundAnswer {
    fn of(result: Result<(), SumUpError>) -> RefundAnswer {
        match result {
            Ok(()) => RefundAnswer::Accepted,
            Err(err) if err.is_final() => RefundAnswer::Refused(err.to_string()),
            Err(err) => RefundAnswer::Unavailable(err.to_string()),
        }
    }
}

/// How a refund ends after SumUp's `answer`, when `failures` earlier requests were not taken
/// and the first retry waits `first_wait`: refunded, failed for good, or due again after the
/// backoff's wait; given up once the waits add up to a day.
pub fn outcome(
    answer: RefundAnswer,
    failures: u32,
    first_wait: Duration,
    now: Timestamp,
) -> RefundOutcome {
    match answer {
        RefundAnswer::Accepted => RefundOutcome::Refunded,
        RefundAnswer::Refused(reason) => RefundOutcome::Failed { reason },
        RefundAnswer::Unavailable(reason) => {
            let failures = failures.saturating_add(1);
            if Backoff::waited_after(first_wait, LONGEST_WAIT, failures) >= GIVE_UP_AFTER {
                return RefundOutcome::Failed {
                    reason: format!("SumUp did not take the refund for a day; last: {reason}"),
                };
            }
            let wait = Backoff::after_failures(first_wait, LONGEST_WAIT, failures);
            RefundOutcome::RetryAt {
                at: now.saturating_add(i64::try_from(wait.as_secs()).unwrap_or(i64::MAX / 2)),
            }
        }
    }
}

/// Sends every refund of the order still to be sent (each if due now and nobody else is
/// asking).
pub async fn send_order_refunds(payments: &Payments, order_id: i64) -> PaymentResult<()> {
    for refund_id in payments.store().open_refunds(order_id).await? {
        try_refund(payments, refund_id).await?;
    }
    Ok(())
}

/// Asks SumUp for the refund, if it is due now and nobody else is asking, records how it
/// ended, and wakes those who wait on its order.
pub async fn try_refund(payments: &Payments, refund_id: i64) -> PaymentResult<()> {
    let store = payments.store();
    let now = time::now();
    let Some(claim) = store.claim_refund(refund_id, now).await? else {
        return Ok(());
    };
    let order_id = claim.order_id;
    let answer = RefundAnswer::of(
        payments
            .sumup()
            .refund(
                &claim.merchant_code,
                &claim.transaction_id,
                Money::from_minor(claim.amount),
            )
            .await,
    );
    let failures = u32::try_from(claim.attempts.max(0)).unwrap_or(u32::MAX);
    let outcome = outcome(answer, failures, payments.timing().refund_retry, now);
    match &outcome {
        RefundOutcome::Refunded => {
            tracing::info!(
                order_id,
                refund_id,
                amount = claim.amount,
                "refund accepted"
            )
        }
        RefundOutcome::Failed { reason } => tracing::error!(
            order_id,
            reason,
            "SumUp did not take the refund; the venue must refund the buyer by hand"
        ),
        RefundOutcome::RetryAt { at } => tracing::warn!(
            order_id,
            attempts = failures + 1,
            retry_in_secs = at - now,
            "refund not taken for now; it stays due"
        ),
    }
    store.finish_refund(refund_id, &outcome, now).await?;
    payments.order_changed(order_id);
    Ok(())
}

/// Sends every refund that is due now (one sweep of the worker).
pub async fn send_due_refunds(payments: &Payments) {
    let refunds = match payments.store().refunds_to_send(time::now()).await {
        Ok(refunds) => refunds,
        Err(err) => {
            tracing::warn!(error = %err, "could not look for due refunds");
            return;
        }
    };
    for refund_id in refunds {
        if let Err(err) = try_refund(payments, refund_id).await {
            tracing::warn!(refund_id, error = %err, "could not send a due refund");
        }
    }
}

/// The refund worker beside the server: sends due refunds every sweep interval, on this
/// server as on every other (each refund is claimed before it is sent, so one request goes
/// to SumUp), until `stop` turns true.
pub async fn run_refund_worker(payments: Payments, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(payments.timing().refund_sweep_interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => send_due_refunds(&payments).await,
            // (The guard `wait_for` answers is not `Send`: dropped before the select ends.)
            _ = async { stop.wait_for(|stopping| *stopping).await.map(|_| ()) } => return,
        }
    }
}

/// The refund as the API shows it: a refund being sent is still due to the buyer.
pub fn refund_view(refund: &RefundRow) -> Refund {
    let (status, message) = match refund.state {
        RefundState::Due | RefundState::Refunding => (RefundStatus::Due, None),
        RefundState::Refunded => (RefundStatus::Refunded, None),
        RefundState::Failed => (RefundStatus::Failed, Some(REFUND_BY_HAND.to_owned())),
    };
    Refund {
        amount: Money::from_minor(refund.amount),
        status,
        reason: refund.reason,
        message,
    }
}

/// The sentence that tells the buyer what the box office refunded: "Refunded £14.00."
pub fn box_office_sentence(refund: &Refund, currency: &str) -> String {
    let amount = format_amount(refund.amount, currency);
    match refund.status {
        RefundStatus::Refunded => format!("Refunded {amount}."),
        RefundStatus::Due => format!("{amount} is being refunded."),
        RefundStatus::Failed => format!("{amount} is owed to you. {REFUND_BY_HAND}"),
    }
}

/// The sentence that tells the buyer which events sold out and what comes back to them.
pub fn refund_sentence(items: &OrderItems, refund: &Refund, currency: &str) -> String {
    let mut events: Vec<(&str, u32)> = Vec::new();
    for ticket in items
        .tickets
        .iter()
        .filter(|t| t.state == TicketState::Cancelled)
    {
        match events
            .iter_mut()
            .find(|(name, _)| *name == ticket.event_name)
        {
            Some((_, count)) => *count += 1,
            None => events.push((&ticket.event_name, 1)),
        }
    }
    let count: u32 = events.iter().map(|(_, n)| n).sum();
    let names: Vec<&str> = events.iter().map(|(name, _)| *name).collect();
    let amount = format_amount(refund.amount, currency);
    let tickets = if count == 1 {
        "1 ticket was".to_owned()
    } else {
        format!("{count} tickets were")
    };
    let refunded = match refund.status {
        RefundStatus::Refunded => format!("{amount} has been refunded"),
        RefundStatus::Due => format!("{amount} will be refunded"),
        RefundStatus::Failed => format!("{amount} is owed to you"),
    };
    let sentence = format!(
        "{} sold out before your payment completed: {tickets} cancelled and {refunded}.",
        names.join(", ")
    );
    match &refund.message {
        Some(message) => format!("{sentence} {message}"),
        None => sentence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use storefront_contract::RefundReason;

    const FIRST: Duration = Duration::from_secs(10);

    #[test]
    fn an_accepted_refund_is_refunded_and_a_refused_one_failed() {
        assert_eq!(
            outcome(RefundAnswer::Accepted, 3, FIRST, 100),
            RefundOutcome::Refunded
        );
        assert_eq!(
            outcome(RefundAnswer::Refused("404 NOT_FOUND".into()), 0, FIRST, 100),
            RefundOutcome::Failed {
                reason: "404 NOT_FOUND".into()
            }
        );
    }

    #[test]
    fn an_unavailable_sumup_is_asked_again_after_a_doubling_wait() {
        let at =
            |failures| match outcome(RefundAnswer::Unavailable("503".into()), failures, FIRST, 0) {
                RefundOutcome::RetryAt { at } => at,
                other => panic!("{other:?}"),
            };
        assert_eq!(at(0), 10);
        assert_eq!(at(1), 20);
        assert_eq!(at(3), 80);
        assert_eq!(at(12), 3600, "at most an hour");
    }

    #[test]
    fn a_refund_not_taken_for_a_day_is_given_up_to_the_venue() {
        let mut waited = 0;
        let mut failures = 0;
        loop {
            match outcome(
                RefundAnswer::Unavailable("503".into()),
                failures,
                FIRST,
                waited,
            ) {
                RefundOutcome::RetryAt { at } => waited = at,
                RefundOutcome::Failed { reason } => {
                    assert!(reason.contains("503"), "{reason}");
                    break;
                }
                RefundOutcome::Refunded => panic!("never refunded by a 503"),
            }
            failures += 1;
            assert!(failures < 100, "the refund never ends");
        }
        let day = 24 * 60 * 60;
        assert!(
            (day - 3600..day + 3600).contains(&waited),
            "gave up after {waited} s"
        );
    }

    #[test]
    fn a_failed_refund_tells_the_buyer_the_venue_refunds_by_hand() {
        let view = refund_view(&RefundRow {
            id: 1,
            order_id: 1,
            reason: RefundReason::SoldOut,
            amount: 1000,
            state: RefundState::Failed,
            message: Some("404".into()),
            created_at: 0,
            finished_at: Some(0),
            by_name: None,
            note: None,
        });
        assert_eq!(view.status, RefundStatus::Failed);
        assert_eq!(view.message.as_deref(), Some(REFUND_BY_HAND));
    }
}
