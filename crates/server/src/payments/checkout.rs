//! SumUp checkouts for an order: made before anyone sees them (a hosted page's URL, or the
//! amount on a card reader), reused while SumUp still takes them, and closed before a new
//! attempt or a cancellation so that no old page or reader can take money.

use std::time::Duration;

use storefront_contract::{CheckoutStatus, Money, OrderStatus};

use super::provider_error;
use super::settle::{Attempt, settle};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{CheckoutRow, OrderRow, PayPlace, ReaderRow};
use crate::sumup::{Checkout, NewCheckout, NewReaderCheckout, SumUpError};
use crate::time::{self, Timestamp};

/// SumUp keeps a hosted checkout open this long; after it, a pending one counts as expired.
pub const CHECKOUT_LIFETIME_SECS: i64 = 30 * 60;

/// A payment waits on a card reader this long before it is called off (the customer has
/// walked away, or the reader never woke).
pub const READER_CHECKOUT_LIFETIME_SECS: i64 = 5 * 60;

/// How long a checkout stays payable.
fn lifetime(place: &PayPlace) -> i64 {
    match place {
        PayPlace::Hosted { .. } => CHECKOUT_LIFETIME_SECS,
        PayPlace::Reader { .. } => READER_CHECKOUT_LIFETIME_SECS,
    }
}

/// Whether a checkout is past its lifetime at `now`.
pub fn has_expired(checkout: &CheckoutRow, now: Timestamp) -> bool {
    now - checkout.created_at >= lifetime(&checkout.place)
}

/// Whether the buyer can still pay on this checkout.
pub fn is_usable(checkout: &CheckoutRow, now: Timestamp) -> bool {
    checkout.status == CheckoutStatus::Pending && !has_expired(checkout, now)
}

/// The SumUp reference of the `attempt`th checkout for an order.
pub fn checkout_reference(order_id: i64, attempt: i64) -> String {
    if attempt <= 1 {
        format!("order-{order_id}")
    } else {
        format!("order-{order_id}-{attempt}")
    }
}

/// Where the buyer asked to pay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayWith {
    /// SumUp's hosted page.
    Hosted,
    /// By card on this reader.
    Reader(ReaderRow),
}

impl PayWith {
    /// Whether `place` is where the buyer asked to pay.
    fn is(&self, place: &PayPlace) -> bool {
        match (self, place) {
            (PayWith::Hosted, PayPlace::Hosted { .. }) => true,
            (PayWith::Reader(reader), PayPlace::Reader { name, .. }) => reader.name == *name,
            _ => false,
        }
    }
}

/// The merchant an order pays.
pub fn merchant_code(state: &AppState, order: &OrderRow) -> String {
    order
        .merchant_code
        .clone()
        .unwrap_or_else(|| state.sumup().merchant_code().to_owned())
}

/// The checkout the buyer should pay on: the open one while SumUp still takes it and it is
/// where the buyer asked to pay, else a new one (after closing the old).
/// `order_not_payable` when the order is paid (perhaps just now, on the old checkout) or
/// cancelled.
pub async fn checkout_to_pay(
    state: &AppState,
    order: &OrderRow,
    with: &PayWith,
) -> ApiResult<CheckoutRow> {
    if !order.status.is_payable() {
        return Err(not_payable(order.status));
    }
    if order.status == OrderStatus::Pending
        && let Some(checkout) = &order.checkout
        && with.is(&checkout.place)
        && is_usable(checkout, time::now())
    {
        return Ok(checkout.clone());
    }
    if close_open_checkout(state, order).await? {
        return Err(not_payable(OrderStatus::Paid));
    }
    match with {
        PayWith::Hosted => start_checkout(state, order).await,
        PayWith::Reader(reader) => start_reader_checkout(state, order, reader).await,
    }
}

pub fn not_payable(status: OrderStatus) -> ApiError {
    ApiError::OrderNotPayable(match status {
        OrderStatus::Paid => "This order is already paid.",
        _ => "This order was cancelled; it can no longer be paid.",
    })
}

fn description(order: &OrderRow) -> String {
    match &order.page {
        Some(page) => format!("Order {} at {}", order.id, page.title),
        None => format!("Order {}", order.id),
    }
}

/// Makes a new SumUp checkout for the order and stores it before anyone sees its URL.
pub async fn start_checkout(state: &AppState, order: &OrderRow) -> ApiResult<CheckoutRow> {
    let store = state.store();
    // The order as read shows its newest checkout: none means this is the first.
    let attempt = match order.checkout {
        None => 1,
        Some(_) => store.checkout_attempts(order.id).await? + 1,
    };
    let reference = checkout_reference(order.id, attempt);
    let description = description(order);
    let merchant_code = merchant_code(state, order);
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
    let row = CheckoutRow {
        sumup_id: checkout.id,
        place: PayPlace::Hosted { url },
        status: checkout.status,
        created_at: time::now(),
    };
    store.record_checkout(order.id, &row, &reference).await?;
    state.refresh_throttle().just_asked(order.id);
    state.order_changed(order.id);
    Ok(row)
}

/// Puts the order's amount on a card reader and stores the payment before anyone taps a
/// card. A reader that is offline or busy with another payment is a `502` saying so; the
/// buyer can pay on the hosted page instead.
pub async fn start_reader_checkout(
    state: &AppState,
    order: &OrderRow,
    reader: &ReaderRow,
) -> ApiResult<CheckoutRow> {
    let merchant_code = merchant_code(state, order);
    let description = description(order);
    let new = NewReaderCheckout {
        merchant_code: &merchant_code,
        reader_id: &reader.sumup_id,
        amount: Money::from_minor(order.total),
        currency: &order.currency,
        description: &description,
        return_url: &state.webhook_url(),
    };
    let started = match state.sumup().create_reader_checkout(&new).await {
        Ok(started) => started,
        Err(err) if err.is_final() => {
            tracing::warn!(order_id = order.id, reader = reader.name, error = %err, "the reader refused the payment");
            return Err(ApiError::PaymentProvider {
                message: format!(
                    "The card reader {} cannot take this payment now (it is busy or offline). \
                     Your order is kept; pay by QR code, or try the reader again in a moment.",
                    reader.name
                ),
                order_id: Some(order.id),
            });
        }
        Err(err) => return Err(provider_error(order.id, &err)),
    };
    let row = CheckoutRow {
        sumup_id: started.checkout_id,
        place: PayPlace::Reader {
            name: reader.name.clone(),
            reader_id: reader.sumup_id.clone(),
            client_transaction_id: started.client_transaction_id.clone(),
        },
        status: CheckoutStatus::Pending,
        created_at: time::now(),
    };
    state
        .store()
        .record_checkout(order.id, &row, &started.client_transaction_id)
        .await?;
    state.refresh_throttle().just_asked(order.id);
    state.order_changed(order.id);
    Ok(row)
}

/// Reads a checkout of the order back from SumUp, wherever it is paid.
pub async fn read_checkout(
    state: &AppState,
    order: &OrderRow,
    checkout: &CheckoutRow,
) -> Result<Checkout, SumUpError> {
    match &checkout.place {
        PayPlace::Hosted { .. } => state.sumup().get_checkout(&checkout.sumup_id).await,
        PayPlace::Reader {
            reader_id,
            client_transaction_id,
            ..
        } => {
            state
                .sumup()
                .get_reader_checkout(
                    &merchant_code(state, order),
                    reader_id,
                    &checkout.sumup_id,
                    client_transaction_id,
                )
                .await
        }
    }
}

/// How closing a checkout at SumUp ended.
#[derive(Debug)]
pub enum Closed {
    /// No one can pay on it any more.
    Closed,
    /// It was paid before it could be closed.
    Paid(Checkout),
}

/// How often, and how far apart, a reader is asked whether it stopped waiting for a card.
const READER_STOP_CHECKS: u32 = 10;
const READER_STOP_WAIT: Duration = Duration::from_millis(300);

/// Closes a checkout at SumUp so that it can no longer take money: a hosted page is
/// deactivated; a reader is told to stop, then read back until it says how the payment
/// ended (SumUp does not confirm a termination). A reader that does not stop is an error:
/// the order must not be called off while a card may still pay it.
pub async fn close_at_sumup(
    state: &AppState,
    order: &OrderRow,
    checkout: &CheckoutRow,
) -> Result<Closed, SumUpError> {
    let sumup = state.sumup();
    match &checkout.place {
        PayPlace::Hosted { .. } => match sumup.deactivate_checkout(&checkout.sumup_id).await {
            Ok(_) => Ok(Closed::Closed),
            Err(err) if err.is_processed() => {
                let paid = sumup.get_checkout(&checkout.sumup_id).await?;
                Ok(match paid.status {
                    CheckoutStatus::Paid => Closed::Paid(paid),
                    _ => Closed::Closed,
                })
            }
            Err(err) => Err(err),
        },
        PayPlace::Reader { reader_id, .. } => {
            let merchant = merchant_code(state, order);
            // Refused when the reader is no longer waiting for a card: the read says why.
            if let Err(err) = sumup.terminate_reader_checkout(&merchant, reader_id).await
                && !err.is_final()
            {
                return Err(err);
            }
            for check in 0..READER_STOP_CHECKS {
                if check > 0 {
                    tokio::time::sleep(READER_STOP_WAIT).await;
                }
                let remote = read_checkout(state, order, checkout).await?;
                match remote.status {
                    CheckoutStatus::Paid => return Ok(Closed::Paid(remote)),
                    CheckoutStatus::Failed | CheckoutStatus::Expired => return Ok(Closed::Closed),
                    CheckoutStatus::Pending => {}
                }
            }
            Err(SumUpError::Unreachable(format!(
                "the card reader {reader_id} has not stopped waiting for a card"
            )))
        }
    }
}

/// Closes the order's open checkout before a new attempt or a cancellation. `Ok(true)`
/// when SumUp says it was paid after all (the order is then settled as paid).
pub async fn close_open_checkout(state: &AppState, order: &OrderRow) -> ApiResult<bool> {
    let Some(checkout) = &order.checkout else {
        return Ok(false);
    };
    let remote = read_checkout(state, order, checkout)
        .await
        .map_err(|err| provider_error(order.id, &err))?;
    let closable = match (&checkout.place, remote.status) {
        (_, CheckoutStatus::Paid) => {
            settle(state, order, checkout, &remote, Attempt::Newest).await?;
            return Ok(true);
        }
        (_, CheckoutStatus::Expired) => false,
        (_, CheckoutStatus::Pending) => true,
        // A declined card may try again on a hosted page: close it too. A reader's failed
        // payment is over.
        (PayPlace::Hosted { .. }, CheckoutStatus::Failed) => true,
        (PayPlace::Reader { .. }, CheckoutStatus::Failed) => false,
    };
    if !closable {
        return Ok(false);
    }
    match close_at_sumup(state, order, checkout)
        .await
        .map_err(|err| provider_error(order.id, &err))?
    {
        Closed::Closed => {
            state
                .store()
                .set_checkout_status(&checkout.sumup_id, CheckoutStatus::Expired)
                .await?;
            Ok(false)
        }
        Closed::Paid(paid) => {
            settle(state, order, checkout, &paid, Attempt::Newest).await?;
            Ok(true)
        }
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
            place: PayPlace::Hosted { url: "u".into() },
            status: CheckoutStatus::Pending,
            created_at: 1_000,
        };
        assert!(is_usable(&checkout, 1_000 + CHECKOUT_LIFETIME_SECS - 1));
        assert!(!is_usable(&checkout, 1_000 + CHECKOUT_LIFETIME_SECS));
        let failed = CheckoutRow {
            status: CheckoutStatus::Failed,
            ..checkout.clone()
        };
        assert!(!is_usable(&failed, 1_000));
        let reader = CheckoutRow {
            place: PayPlace::Reader {
                name: "door-1".into(),
                reader_id: "rdr_1".into(),
                client_transaction_id: "t".into(),
            },
            ..checkout
        };
        assert!(is_usable(
            &reader,
            1_000 + READER_CHECKOUT_LIFETIME_SECS - 1
        ));
        assert!(!is_usable(&reader, 1_000 + READER_CHECKOUT_LIFETIME_SECS));
    }

    #[test]
    fn an_open_checkout_is_reused_only_where_the_buyer_asked_to_pay() {
        let hosted = PayPlace::Hosted { url: "u".into() };
        let door = PayPlace::Reader {
            name: "door-1".into(),
            reader_id: "rdr_1".into(),
            client_transaction_id: "t".into(),
        };
        let reader = |name: &str| {
            PayWith::Reader(ReaderRow {
                name: name.into(),
                sumup_id: "rdr_1".into(),
                page_id: None,
            })
        };
        assert!(PayWith::Hosted.is(&hosted));
        assert!(!PayWith::Hosted.is(&door));
        assert!(reader("door-1").is(&door));
        assert!(!reader("door-2").is(&door));
        assert!(!reader("door-1").is(&hosted));
    }
}
