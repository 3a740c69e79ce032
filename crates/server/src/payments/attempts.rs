//! An order's attempts at payment: SumUp checkouts made before anyone sees them (a hosted
//! page's URL, or the amount on a card reader), reused while SumUp still takes them, and
//! closed before a new attempt or a cancellation so that no old page or reader can take money.

use storefront_contract::{CheckoutStatus, Money, OrderStatus};

use super::context::Payments;
use super::decide::Attempt;
use super::error::{PaymentError, PaymentResult};
use super::remote::{
    Closed, checkout_reference, close_at_sumup, description, is_usable, merchant_code,
    read_checkout,
};
use super::settle::settle;
use crate::store::{CheckoutRow, OrderRow, PayPlace, ReaderRow};
use crate::sumup::{NewCheckout, NewReaderCheckout, SumUpError};
use crate::time;

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

/// The checkout the buyer should pay on: the open one while SumUp still takes it and it is
/// where the buyer asked to pay, else a new one (after closing the old).
/// `order_not_payable` when the order is paid (perhaps just now, on the old checkout) or
/// cancelled.
pub async fn checkout_to_pay(
    payments: &Payments,
    order: &OrderRow,
    with: &PayWith,
) -> PaymentResult<CheckoutRow> {
    if !order.status.is_payable() {
        return Err(PaymentError::NotPayable(order.status));
    }
    if order.status == OrderStatus::Pending
        && let Some(checkout) = &order.checkout
        && with.is(&checkout.place)
        && is_usable(checkout, time::now())
    {
        return Ok(checkout.clone());
    }
    if close_open_checkout(payments, order).await? {
        return Err(PaymentError::NotPayable(OrderStatus::Paid));
    }
    let checkout = match with {
        PayWith::Hosted => start_checkout(payments, order).await?,
        PayWith::Reader(reader) => start_reader_checkout(payments, order, reader).await?,
    };
    // Whoever waits on the order sees where it is paid now.
    payments.order_changed(order.id);
    Ok(checkout)
}

/// Makes a new SumUp checkout for the order and stores it before anyone sees its URL.
/// Those waiting on the order are not woken: a new order has none, and paying an order
/// again ([`checkout_to_pay`]) wakes them.
pub async fn start_checkout(payments: &Payments, order: &OrderRow) -> PaymentResult<CheckoutRow> {
    let store = payments.store();
    // The order as read shows its newest checkout: none means this is the first.
    let attempt = match order.checkout {
        None => 1,
        Some(_) => store.checkout_attempts(order.id).await? + 1,
    };
    let reference = checkout_reference(order.id, attempt);
    let description = description(order);
    let merchant_code = merchant_code(payments, order);
    let new = NewCheckout {
        reference: &reference,
        amount: Money::from_minor(order.total),
        currency: &order.currency,
        merchant_code: &merchant_code,
        description: &description,
        return_url: &payments.webhook_url(),
        redirect_url: &payments.return_page_url(),
    };
    let sumup = payments.sumup();
    let checkout = match sumup.create_checkout(&new).await {
        Ok(checkout) => checkout,
        // The checkout exists: an earlier answer was lost on the way. Find it by reference.
        Err(err) if err.is_duplicate() => sumup
            .checkouts_by_reference(&reference)
            .await
            .map_err(|err| PaymentError::provider(order.id, err))?
            .into_iter()
            .find(|c| c.checkout_reference.as_deref() == Some(reference.as_str()))
            .ok_or_else(|| PaymentError::provider(order.id, err))?,
        Err(err) => return Err(PaymentError::provider(order.id, err)),
    };
    let url = checkout.hosted_checkout_url.clone().ok_or_else(|| {
        PaymentError::provider(
            order.id,
            SumUpError::Decode("no hosted_checkout_url".to_owned()),
        )
    })?;
    let row = CheckoutRow {
        sumup_id: checkout.id,
        place: PayPlace::Hosted { url },
        status: checkout.status,
        created_at: time::now(),
    };
    store.record_checkout(order, &row, &reference).await?;
    payments.refresh_throttle().just_asked(order.id);
    Ok(row)
}

/// Puts the order's amount on a card reader and stores the payment before anyone taps a
/// card. A reader SumUp says is offline is told before anything is put on it; one busy with
/// another payment refuses it; either is a `502` saying which, and the buyer can pay on the
/// hosted page instead.
pub async fn start_reader_checkout(
    payments: &Payments,
    order: &OrderRow,
    reader: &ReaderRow,
) -> PaymentResult<CheckoutRow> {
    let merchant_code = merchant_code(payments, order);
    let description = description(order);
    let new = NewReaderCheckout {
        merchant_code: &merchant_code,
        reader_id: &reader.sumup_id,
        amount: Money::from_minor(order.total),
        currency: &order.currency,
        description: &description,
        return_url: &payments.webhook_url(),
    };
    if payments
        .sumup()
        .reader_online(&merchant_code, &reader.sumup_id)
        .await
        == Some(false)
    {
        return Err(PaymentError::ReaderOffline {
            order_id: order.id,
            reader: reader.name.clone(),
        });
    }
    let started = match payments.sumup().create_reader_checkout(&new).await {
        Ok(started) => started,
        Err(source) if source.is_final() => {
            return Err(PaymentError::ReaderRefused {
                order_id: order.id,
                reader: reader.name.clone(),
                source,
            });
        }
        Err(err) => return Err(PaymentError::provider(order.id, err)),
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
    payments
        .store()
        .record_checkout(order, &row, &started.client_transaction_id)
        .await?;
    payments.refresh_throttle().just_asked(order.id);
    Ok(row)
}

/// Closes the order's open checkout before a new attempt or a cancellation. `Ok(true)`
/// when SumUp says it was paid after all (the order is then settled as paid).
pub async fn close_open_checkout(payments: &Payments, order: &OrderRow) -> PaymentResult<bool> {
    let Some(checkout) = &order.checkout else {
        return Ok(false);
    };
    let remote = read_checkout(payments, order, checkout)
        .await
        .map_err(|err| PaymentError::provider(order.id, err))?;
    let closable = match (&checkout.place, remote.status) {
        (_, CheckoutStatus::Paid) => {
            settle(payments, order, checkout, &remote, Attempt::Newest).await?;
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
    match close_at_sumup(payments, order, checkout)
        .await
        .map_err(|err| PaymentError::provider(order.id, err))?
    {
        Closed::Closed => {
            payments
                .store()
                .set_checkout_status(&checkout.sumup_id, CheckoutStatus::Expired)
                .await?;
            Ok(false)
        }
        Closed::Paid(paid) => {
            settle(payments, order, checkout, &paid, Attempt::Newest).await?;
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
