//! Everything payments ask SumUp and what they assume of it: how long a checkout stays
//! payable, which merchant an order pays, reading a checkout back wherever it is paid, and
//! closing one so that it can take no more money.

use std::time::Duration;

use storefront_contract::CheckoutStatus;

use super::context::Payments;
use crate::store::{CheckoutRow, OrderRow, PayPlace};
use crate::sumup::{Checkout, SumUpError};
use crate::time::Timestamp;

/// SumUp keeps a hosted checkout open this long; after it, a pending one counts as expired.
pub const CHECKOUT_LIFETIME_SECS: i64 = 30 * 60;

/// A payment waits on a card reader this long before it is called off (the customer has
/// walked away, or the reader never woke).
pub const READER_CHECKOUT_LIFETIME_SECS: i64 = 5 * 60;

/// How often, and how far apart, a reader is asked whether it stopped waiting for a card.
const READER_STOP_CHECKS: u32 = 10;
const READER_STOP_WAIT: Duration = Duration::from_millis(300);

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

/// What the buyer sees on SumUp's page or the reader's screen.
pub fn description(order: &OrderRow) -> String {
    match &order.page {
        Some(page) => format!("Order {} at {}", order.id, page.title),
        None => format!("Order {}", order.id),
    }
}

/// The merchant an order pays: its page's, else the server's.
pub fn merchant_code(payments: &Payments, order: &OrderRow) -> String {
    order
        .merchant_code
        .clone()
        .unwrap_or_else(|| payments.sumup().merchant_code().to_owned())
}

/// Reads a checkout of the order back from SumUp, wherever it is paid.
pub async fn read_checkout(
    payments: &Payments,
    order: &OrderRow,
    checkout: &CheckoutRow,
) -> Result<Checkout, SumUpError> {
    match &checkout.place {
        PayPlace::Hosted { .. } => payments.sumup().get_checkout(&checkout.sumup_id).await,
        PayPlace::Reader {
            reader_id,
            client_transaction_id,
            ..
        } => {
            payments
                .sumup()
                .get_reader_checkout(
                    &merchant_code(payments, order),
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

/// Closes a checkout at SumUp so that it can no longer take money: a hosted page is
/// deactivated; a reader is told to stop, then read back until it says how the payment
/// ended (SumUp does not confirm a termination). A reader that does not stop is an error:
/// the order must not be called off while a card may still pay it.
pub async fn close_at_sumup(
    payments: &Payments,
    order: &OrderRow,
    checkout: &CheckoutRow,
) -> Result<Closed, SumUpError> {
    let sumup = payments.sumup();
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
            let merchant = merchant_code(payments, order);
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
                let remote = read_checkout(payments, order, checkout).await?;
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
}
