//! Refunding what an order oversold: claiming the refund so that one request at a time goes
//! to SumUp, sending it, recording the answer, and the sentence that tells the buyer.

use std::time::Duration;

use storefront_contract::{Money, Refund, RefundStatus, TicketState, format_amount};

use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::{OrderItems, RefundOutcome, RefundRow, RefundState};
use crate::sumup::SumUpError;
use crate::time::{self, Timestamp};

/// The longest wait between two tries of a refund SumUp could not take.
const LONGEST_WAIT: Duration = Duration::from_secs(60 * 60);

/// What the buyer is told when SumUp refused their refund for good.
pub const REFUND_BY_HAND: &str =
    "The automatic refund did not go through; the venue will refund you by hand.";

/// Asks SumUp to refund what is due on the order, if it is due now and nobody else is
/// asking. SumUp's answer ends it: refunded, failed for good (404, 409, 422: logged with
/// SumUp's reason), or due again after a wait that doubles with each temporary failure.
pub async fn try_refund(state: &AppState, order_id: i64) -> ApiResult<()> {
    let store = state.store();
    let now = time::now();
    let Some(claim) = store.claim_refund(order_id, now).await? else {
        return Ok(());
    };
    let result = state
        .sumup()
        .refund(
            &claim.merchant_code,
            &claim.transaction_id,
            Money::from_minor(claim.amount),
        )
        .await;
    let outcome = match result {
        Ok(()) => {
            tracing::info!(order_id, amount = claim.amount, "refund accepted");
            RefundOutcome::Refunded
        }
        Err(err) => outcome_of_refusal(order_id, &err, claim.attempts, state, now),
    };
    store.finish_refund(order_id, &outcome).await?;
    state.order_changed(order_id);
    Ok(())
}

fn outcome_of_refusal(
    order_id: i64,
    err: &SumUpError,
    attempts: i64,
    state: &AppState,
    now: Timestamp,
) -> RefundOutcome {
    if err.is_final() {
        tracing::error!(
            order_id,
            error = %err,
            "SumUp refused the refund for good; the venue must refund the buyer by hand"
        );
        return RefundOutcome::Failed {
            reason: err.to_string(),
        };
    }
    let wait = retry_wait(state.timing().refund_retry, attempts);
    tracing::warn!(order_id, error = %err, attempts = attempts + 1, retry_in = ?wait, "refund not taken for now; it stays due");
    RefundOutcome::RetryAt {
        at: now + i64::try_from(wait.as_secs()).unwrap_or(i64::MAX / 2),
    }
}

/// `first`, doubled for each earlier failure, at most an hour.
fn retry_wait(first: Duration, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    first
        .checked_mul(1 << doublings)
        .unwrap_or(LONGEST_WAIT)
        .min(LONGEST_WAIT)
}

/// Sends every refund that is due now (one sweep of the background task).
pub async fn send_due_refunds(state: &AppState) {
    let orders = match state.store().refunds_to_send(time::now()).await {
        Ok(orders) => orders,
        Err(err) => {
            tracing::warn!(error = %err, "could not look for due refunds");
            return;
        }
    };
    for order_id in orders {
        if let Err(err) = try_refund(state, order_id).await {
            tracing::warn!(order_id, error = %err, "could not send a due refund");
        }
    }
}

/// The refund as the API shows it: a refund being sent is still due to the buyer.
pub fn refund_view(refund: RefundRow) -> Refund {
    let (status, message) = match refund.state {
        RefundState::Due | RefundState::Refunding => (RefundStatus::Due, None),
        RefundState::Refunded => (RefundStatus::Refunded, None),
        RefundState::Failed => (RefundStatus::Failed, Some(REFUND_BY_HAND.to_owned())),
    };
    Refund {
        amount: Money::from_minor(refund.amount),
        status,
        reason: "sold_out".to_owned(),
        message,
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

    #[test]
    fn waits_double_up_to_an_hour() {
        let first = Duration::from_secs(10);
        assert_eq!(retry_wait(first, 0), first);
        assert_eq!(retry_wait(first, 1), Duration::from_secs(20));
        assert_eq!(retry_wait(first, 3), Duration::from_secs(80));
        assert_eq!(retry_wait(first, 12), LONGEST_WAIT);
        assert_eq!(retry_wait(first, i64::MAX), LONGEST_WAIT);
    }

    #[test]
    fn a_failed_refund_tells_the_buyer_the_venue_refunds_by_hand() {
        let view = refund_view(RefundRow {
            amount: 1000,
            state: RefundState::Failed,
        });
        assert_eq!(view.status, RefundStatus::Failed);
        assert_eq!(view.message.as_deref(), Some(REFUND_BY_HAND));
    }
}
