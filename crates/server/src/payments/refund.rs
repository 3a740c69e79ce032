//! Refunding what an order oversold: claiming the refund so that one request at a time goes
//! to SumUp, sending it, recording the answer, and the sentence that tells the buyer.

use storefront_contract::{Money, Refund, RefundStatus, TicketState, format_amount};

use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::{OrderItems, RefundRow, RefundState};
use crate::time;

/// Asks SumUp to refund what is due on the order, once at a time; `due` stays for a retry
/// on the next refresh if SumUp refuses or cannot be reached.
pub async fn try_refund(state: &AppState, order_id: i64) -> ApiResult<()> {
    let store = state.store();
    let Some(claim) = store.claim_refund(order_id, time::now()).await? else {
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
    let outcome = match &result {
        Ok(()) => {
            tracing::info!(order_id, amount = claim.amount, "refund accepted");
            RefundState::Refunded
        }
        Err(err) => {
            tracing::warn!(order_id, error = %err, "refund refused; it stays due");
            RefundState::Due
        }
    };
    store.finish_refund(order_id, outcome).await?;
    state.order_changed(order_id).await;
    Ok(())
}

/// The refund as the API shows it: a refund being sent is still due to the buyer.
pub fn refund_view(refund: RefundRow) -> Refund {
    Refund {
        amount: Money::from_minor(refund.amount),
        status: match refund.state {
            RefundState::Due | RefundState::Refunding => RefundStatus::Due,
            RefundState::Refunded => RefundStatus::Refunded,
        },
        reason: "sold_out".to_owned(),
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
    };
    format!(
        "{} sold out before your payment completed: {tickets} cancelled and {refunded}.",
        names.join(", ")
    )
}
