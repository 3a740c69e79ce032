//! SumUp checkouts for an order: made before anyone sees their URL, reused while SumUp still
//! takes them, and closed before a new attempt or a cancellation so that no old page can
//! take money.

use storefront_contract::{CheckoutStatus, Money, OrderStatus};

use super::provider_error;
use super::settle::{Attempt, settle};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{CheckoutRow, OrderRow};
use crate::sumup::{NewCheckout, SumUpError};
use crate::time::{self, Timestamp};

/// SumUp keeps a hosted checkout open this long; after it, a pending one counts as expired.
pub const CHECKOUT_LIFETIME_SECS: i64 = 30 * 60;

/// Whether a checkout opened at `opened_at` is past SumUp's lifetime at `now`.
pub fn has_expired(opened_at: Timestamp, now: Timestamp) -> bool {
    now - opened_at >= CHECKOUT_LIFETIME_SECS
}

/// Whether the buyer can still pay on this checkout's page.
pub fn is_usable(checkout: &CheckoutRow, now: Timestamp) -> bool {
    checkout.status == CheckoutStatus::Pending && !has_expired(checkout.created_at, now)
}

/// The SumUp reference of the `attempt`th checkout for an order.
pub fn checkout_reference(order_id: i64, attempt: i64) -> String {
    if attempt <= 1 {
        format!("order-{order_id}")
    } else {
        format!("order-{order_id}-{attempt}")
    }
}

/// The checkout the buyer should pay on: the open one while SumUp still takes it, else a new
/// one (after closing the old). `order_not_payable` when the order is paid (perhaps just now,
/// on the old checkout) or cancelled.
pub async fn checkout_to_pay(state: &AppState, order: &OrderRow) -> ApiResult<CheckoutRow> {
    if !order.status.is_payable() {
        return Err(not_payable(order.status));
    }
    if order.status == OrderStatus::Pending
        && let Some(checkout) = &order.checkout
        && is_usable(checkout, time::now())
    {
        return Ok(checkout.clone());
    }
    if close_open_checkout(state, order).await? {
        return Err(not_payable(OrderStatus::Paid));
    }
    start_checkout(state, order).await
}

pub fn not_payable(status: OrderStatus) -> ApiError {
    ApiError::OrderNotPayable(match status {
        OrderStatus::Paid => "This order is already paid.",
        _ => "This order was cancelled; it can no longer be paid.",
    })
}

/// Makes a new SumUp checkout for the order and stores it before anyone sees its URL.
pub async fn start_checkout(state: &AppState, order: &OrderRow) -> ApiResult<CheckoutRow> {
    let store = state.store();
    let attempt = store.checkout_attempts(order.id).await? + 1;
    let reference = checkout_reference(order.id, attempt);
    let description = match &order.page {
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
            checkout.status,
            now,
        )
        .await?;
    state.order_changed(order.id).await;
    Ok(CheckoutRow {
        sumup_id: checkout.id,
        url,
        status: checkout.status,
        created_at: now,
    })
}

/// Deactivates the order's open checkout before a new attempt or a cancellation. `Ok(true)`
/// when SumUp says it was paid after all (the order is then settled as paid).
pub async fn close_open_checkout(state: &AppState, order: &OrderRow) -> ApiResult<bool> {
    let Some(checkout) = &order.checkout else {
        return Ok(false);
    };
    let sumup = state.sumup();
    let remote = sumup
        .get_checkout(&checkout.sumup_id)
        .await
        .map_err(|err| provider_error(order.id, &err))?;
    let attempt = Attempt::of(checkout);
    match remote.status {
        CheckoutStatus::Paid => {
            settle(state, order.id, &remote, attempt).await?;
            Ok(true)
        }
        // A failed checkout's page still takes a new attempt: close it too.
        CheckoutStatus::Pending | CheckoutStatus::Failed => {
            match sumup.deactivate_checkout(&checkout.sumup_id).await {
                Ok(_) => {
                    state
                        .store()
                        .set_checkout_status(&checkout.sumup_id, CheckoutStatus::Expired)
                        .await?;
                    Ok(false)
                }
                Err(err) if err.is_processed() => {
                    let paid = sumup
                        .get_checkout(&checkout.sumup_id)
                        .await
                        .map_err(|err| provider_error(order.id, &err))?;
                    settle(state, order.id, &paid, attempt).await?;
                    Ok(paid.status == CheckoutStatus::Paid)
                }
                Err(err) => Err(provider_error(order.id, &err)),
            }
        }
        CheckoutStatus::Expired => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_count_attempts() {
        assert_eq!(checkout_reference(12, 1), "order-12");
        assert_eq!(checkout_reference(12, 2), "order-12-2");
        assert_eq!(checkout_reference(12, 3), "order-12-3");
    }

    #[test]
    fn a_checkout_is_usable_while_pending_and_young() {
        let checkout = CheckoutRow {
            sumup_id: "c".into(),
            url: "u".into(),
            status: CheckoutStatus::Pending,
            created_at: 1_000,
        };
        assert!(is_usable(&checkout, 1_000 + CHECKOUT_LIFETIME_SECS - 1));
        assert!(!is_usable(&checkout, 1_000 + CHECKOUT_LIFETIME_SECS));
        let failed = CheckoutRow {
            status: CheckoutStatus::Failed,
            ..checkout
        };
        assert!(!is_usable(&failed, 1_000));
    }
}
