//! Paying for orders through SumUp: making checkouts, reading their status back, confirming
//! paid orders exactly once, and refunding what sold out before the payment completed.

use std::time::{Duration, Instant};

use storefront_contract::{
    Money, Order, OrderStatus, Refund, RefundStatus, SOLD_OUT_NOTICE, TicketState, format_amount,
};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{CheckoutRow, OrderItems, OrderRow};
use crate::sumup::{Checkout, NewCheckout, SumUpError};
use crate::time::{self, to_utc};

/// SumUp keeps a hosted checkout open this long; after it, a pending one counts as expired.
pub const CHECKOUT_LIFETIME_SECS: i64 = 30 * 60;
/// SumUp is asked about one order at most this often.
const REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// The contract's error for a SumUp failure, keeping the order.
fn provider_error(order_id: i64, err: &SumUpError) -> ApiError {
    tracing::warn!(order_id, error = %err, "SumUp failed");
    ApiError::PaymentProvider {
        message: "The payment service is unavailable right now. Your order is kept; try paying again in a moment.".to_owned(),
        order_id: Some(order_id),
    }
}

/// The SumUp reference of the `attempt`th checkout for an order.
pub fn checkout_reference(order_id: i64, attempt: i64) -> String {
    if attempt <= 1 {
        format!("order-{order_id}")
    } else {
        format!("order-{order_id}-{attempt}")
    }
}

/// Makes a new SumUp checkout for the order and stores it before anyone sees its URL.
pub async fn start_checkout(state: &AppState, order: &OrderRow) -> ApiResult<CheckoutRow> {
    let store = state.store();
    let attempt = store.checkout_attempts(order.id).await? + 1;
    let reference = checkout_reference(order.id, attempt);
    let description = match order.page() {
        Some(page) => format!("Order {} at {}", order.id, page.title),
        None => format!("Order {}", order.id),
    };
    let merchant_code = order
        .merchant_code
        .clone()
        .unwrap_or_else(|| state.sumup().merchant_code().to_owned());
    let new = NewCheckout {
        reference: &reference,
        amount: Money::from_minor(order.total),
        currency: &order.currency,
        merchant_code: &merchant_code,
        description: &description,
        return_url: &state.webhook_url(),
        redirect_url: &state.return_page_url(),
    };
    let checkout = match state.sumup().create_checkout(&new).await {
        Ok(checkout) => checkout,
        // The checkout exists: an earlier answer was lost on the way. Find it by reference.
        Err(err) if err.is_duplicate() => state
            .sumup()
            .checkouts_by_reference(&reference)
            .await
            .map_err(|err| provider_error(order.id, &err))?
            .into_iter()
            .find(|c| c.checkout_reference.as_deref() == Some(reference.as_str()))
            .ok_or_else(|| provider_error(order.id, &err))?,
        Err(err) => return Err(provider_error(order.id, &err)),
    };
    let url = checkout.hosted_checkout_url.clone().ok_or_else(|| {
        provider_error(
            order.id,
            &SumUpError::Decode("no hosted_checkout_url".to_owned()),
        )
    })?;
    let now = time::now();
    store
        .record_checkout(
            order.id,
            &checkout.id,
            &reference,
            &url,
            &checkout.status,
            now,
        )
        .await?;
    state.orders_changed();
    Ok(CheckoutRow {
        sumup_id: checkout.id,
        url,
        status: checkout.status,
        created_at: now,
    })
}

/// Whether enough time passed since SumUp was last asked about this order.
fn due_for_refresh(state: &AppState, order_id: i64) -> bool {
    let mut last = state
        .refreshed_at()
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    match last.get(&order_id) {
        Some(at) if now.duration_since(*at) < REFRESH_INTERVAL => false,
        _ => {
            if last.len() > 10_000 {
                last.retain(|_, at| now.duration_since(*at) < REFRESH_INTERVAL);
            }
            last.insert(order_id, now);
            true
        }
    }
}

/// Reads the order's newest checkout back from SumUp and applies it (at most once a second
/// per order unless `force`); retries a refund that is due. SumUp failures are logged and
/// leave the order as it is.
pub async fn refresh_order(state: &AppState, order: &OrderRow, force: bool) -> ApiResult<()> {
    let needs_status = order.status() == OrderStatus::Pending;
    let needs_refund = order
        .refund_status
        .as_deref()
        .is_some_and(|s| s != "refunded");
    if !(needs_status || needs_refund) || (!force && !due_for_refresh(state, order.id)) {
        return Ok(());
    }
    if needs_status && let Some(checkout) = order.checkout() {
        match state.sumup().get_checkout(&checkout.sumup_id).await {
            Ok(remote) => return settle(state, order.id, &remote, Attempt::of(&checkout)).await,
            Err(err) => {
                tracing::warn!(order_id = order.id, error = %err, "could not read the checkout")
            }
        }
    }
    if needs_refund {
        try_refund(state, order.id).await?;
    }
    Ok(())
}

/// What a webhook says changed: re-read that checkout from SumUp (never trusting the body).
pub async fn refresh_checkout(state: &AppState, sumup_id: &str) -> ApiResult<()> {
    let Some(order_id) = state.store().order_of_checkout(sumup_id).await? else {
        tracing::info!(sumup_id, "webhook for a checkout we did not make");
        return Ok(());
    };
    let Some(order) = state.store().order(order_id).await? else {
        return Ok(());
    };
    let remote = match state.sumup().get_checkout(sumup_id).await {
        Ok(remote) => remote,
        Err(err) => {
            tracing::warn!(order_id, error = %err, "could not read the checkout of a webhook");
            return Ok(());
        }
    };
    let attempt = match order.checkout() {
        Some(newest) if newest.sumup_id == sumup_id => Attempt::Newest {
            opened_at: newest.created_at,
        },
        _ => Attempt::Older,
    };
    settle(state, order_id, &remote, attempt).await
}

/// Which of an order's SumUp checkouts is meant: the one being paid now, or an earlier one.
#[derive(Clone, Copy, Debug)]
enum Attempt {
    Newest { opened_at: i64 },
    Older,
}

impl Attempt {
    fn of(checkout: &CheckoutRow) -> Attempt {
        Attempt::Newest {
            opened_at: checkout.created_at,
        }
    }
}

/// Applies SumUp's view of one checkout to its order, then asks for any refund it made due,
/// and only then wakes those waiting on the order, so that they see the refund's outcome.
async fn settle(
    state: &AppState,
    order_id: i64,
    remote: &Checkout,
    attempt: Attempt,
) -> ApiResult<()> {
    let changed = apply_checkout(state, order_id, remote, attempt).await?;
    try_refund(state, order_id).await?;
    if changed {
        state.orders_changed();
    }
    Ok(())
}

/// Applies SumUp's view of one checkout to its order; `true` if anything changed. A payment
/// is honoured whichever attempt it came through; failures and expiry only count for the
/// newest attempt.
async fn apply_checkout(
    state: &AppState,
    order_id: i64,
    remote: &Checkout,
    attempt: Attempt,
) -> ApiResult<bool> {
    let store = state.store();
    let mut status = remote.status.as_str();
    let latest = matches!(attempt, Attempt::Newest { .. });
    let expired = matches!(attempt, Attempt::Newest { opened_at } if time::now() - opened_at >= CHECKOUT_LIFETIME_SECS);
    if status == "PENDING" && expired {
        // Too old to be paid now: close it at SumUp first, so it cannot be paid later.
        match state.sumup().deactivate_checkout(&remote.id).await {
            Ok(_) => status = "EXPIRED",
            Err(err) if err.is_processed() => {
                if let Ok(paid) = state.sumup().get_checkout(&remote.id).await {
                    return Box::pin(apply_checkout(state, order_id, &paid, attempt)).await;
                }
                return Ok(false);
            }
            Err(err) => {
                tracing::warn!(order_id, error = %err, "could not expire an old checkout");
                return Ok(false);
            }
        }
    }
    let changed = match status {
        "PAID" => {
            let transaction = remote
                .successful_transaction()
                .and_then(|t| t.id.as_deref());
            match store
                .settle_paid_order(order_id, &remote.id, transaction, time::now())
                .await?
            {
                Some(settlement) => {
                    tracing::info!(
                        order_id,
                        refunded_tickets = settlement.cancelled_tickets,
                        "order paid"
                    );
                    true
                }
                None => store.set_checkout_status(&remote.id, "PAID").await?,
            }
        }
        "FAILED" | "EXPIRED" => {
            let checkout_changed = store.set_checkout_status(&remote.id, status).await?;
            let order_changed = latest && store.fail_order(order_id).await?;
            checkout_changed || order_changed
        }
        other => store.set_checkout_status(&remote.id, other).await?,
    };
    Ok(changed)
}

/// Asks SumUp to refund what is due on the order, once at a time; `due` stays for a retry
/// on the next refresh if SumUp refuses or cannot be reached.
async fn try_refund(state: &AppState, order_id: i64) -> ApiResult<()> {
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
    match &result {
        Ok(()) => tracing::info!(order_id, amount = claim.amount, "refund accepted"),
        Err(err) => tracing::warn!(order_id, error = %err, "refund refused; it stays due"),
    }
    store.finish_refund(order_id, result.is_ok()).await?;
    state.orders_changed();
    Ok(())
}

/// Deactivates the order's open checkout before a new attempt or a cancellation, so that
/// no old page can take money. `Ok(true)` when SumUp says it was paid after all (the order
/// is then settled as paid).
pub async fn close_open_checkout(state: &AppState, order: &OrderRow) -> ApiResult<bool> {
    let Some(checkout) = order.checkout() else {
        return Ok(false);
    };
    let remote = state
        .sumup()
        .get_checkout(&checkout.sumup_id)
        .await
        .map_err(|err| provider_error(order.id, &err))?;
    if remote.status == "PAID" {
        settle(state, order.id, &remote, Attempt::of(&checkout)).await?;
        return Ok(true);
    }
    if remote.status == "PENDING" {
        match state.sumup().deactivate_checkout(&checkout.sumup_id).await {
            Ok(_) => {}
            Err(err) if err.is_processed() => {
                let paid = state
                    .sumup()
                    .get_checkout(&checkout.sumup_id)
                    .await
                    .map_err(|err| provider_error(order.id, &err))?;
                settle(state, order.id, &paid, Attempt::of(&checkout)).await?;
                return Ok(paid.status == "PAID");
            }
            Err(err) => return Err(provider_error(order.id, &err)),
        }
        state
            .store()
            .set_checkout_status(&checkout.sumup_id, "EXPIRED")
            .await?;
    }
    Ok(false)
}

/// The sentence that tells the buyer which events sold out and what comes back to them.
fn refund_sentence(items: &OrderItems, refund: &Refund, currency: &str) -> String {
    let mut events: Vec<(&str, u32)> = Vec::new();
    for ticket in items
        .tickets
        .iter()
        .filter(|t| t.state == TicketState::Cancelled.as_str())
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

/// The order as the API shows it.
pub async fn order_view(state: &AppState, order: &OrderRow) -> ApiResult<Order> {
    let items = state.store().order_items(order.id).await?;
    let status = order.status();
    let refund = match (order.refund_amount, order.refund_status.as_deref()) {
        (Some(amount), Some(refund_status)) => Some(Refund {
            amount: Money::from_minor(amount),
            status: if refund_status == "refunded" {
                RefundStatus::Refunded
            } else {
                RefundStatus::Due
            },
            reason: "sold_out".to_owned(),
        }),
        _ => None,
    };
    let holds_tickets = items
        .tickets
        .iter()
        .any(|t| t.state != TicketState::Cancelled.as_str());
    let notice = match &refund {
        Some(refund) => Some(refund_sentence(&items, refund, &order.currency)),
        None if holds_tickets && status != OrderStatus::Paid => Some(SOLD_OUT_NOTICE.to_owned()),
        None => None,
    };
    let checkout = order.checkout();
    Ok(Order {
        id: order.id,
        status,
        total: Money::from_minor(order.total),
        currency: order.currency.clone(),
        created_at: to_utc(order.created_at),
        paid_at: order.paid_at.map(to_utc),
        page: order.page(),
        checkout_url: checkout.as_ref().map(|c| c.url.clone()),
        sumup_checkout_id: checkout.as_ref().map(|c| c.sumup_id.clone()),
        sumup_status: checkout.map(|c| c.status),
        products: items.products.clone(),
        calendar_entries: items.bookings.clone(),
        tickets: items.tickets.iter().map(|t| t.to_ticket()).collect(),
        refund,
        notice,
    })
}

#[cfg(test)]
mod tests {
    use super::checkout_reference;

    #[test]
    fn references_count_attempts() {
        assert_eq!(checkout_reference(12, 1), "order-12");
        assert_eq!(checkout_reference(12, 2), "order-12-2");
        assert_eq!(checkout_reference(12, 3), "order-12-3");
    }
}
