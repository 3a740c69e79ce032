//! The `Order` the API returns: its lines, its checkout, its refund, and the sentence for
//! the buyer (the sold-out notice while unpaid, the refund sentence once one is due).

use storefront_contract::{
    Money, Order, OrderStatus, Refund, RefundReason, SOLD_OUT_NOTICE, TicketState,
};

use super::context::Payments;
use super::error::PaymentResult;
use super::refund::{box_office_sentence, refund_sentence, refund_view};
use crate::store::{OrderItems, OrderRow};
use crate::time::to_utc;

/// All of a user's orders as the API shows them, newest first, read in a fixed number of
/// queries however many there are.
pub async fn users_orders_view(payments: &Payments, user_id: i64) -> PaymentResult<Vec<Order>> {
    let store = payments.store();
    let orders = store.users_orders(user_id).await?;
    let mut items = store.users_order_items(user_id).await?;
    Ok(orders
        .iter()
        .map(|order| {
            let items = items.remove(&order.id).unwrap_or_default();
            order_with_items(order, &items, payments)
        })
        .collect())
}

/// The order as the API shows it, from what it holds.
pub fn order_with_items(order: &OrderRow, items: &OrderItems, payments: &Payments) -> Order {
    let refunds: Vec<Refund> = items.refunds.iter().map(refund_view).collect();
    let refund = refunds
        .iter()
        .find(|r| r.reason == RefundReason::SoldOut)
        .cloned();
    let holds_tickets = items
        .tickets
        .iter()
        .any(|t| t.state != TicketState::Cancelled);
    let mut sentences: Vec<String> = Vec::new();
    match &refund {
        Some(refund) => sentences.push(refund_sentence(items, refund, &order.currency)),
        None if holds_tickets && order.status != OrderStatus::Paid => {
            sentences.push(SOLD_OUT_NOTICE.to_owned())
        }
        None => {}
    }
    sentences.extend(
        refunds
            .iter()
            .filter(|r| r.reason == RefundReason::BoxOffice && r.amount.to_minor().unwrap_or(0) > 0)
            .map(|r| box_office_sentence(r, &order.currency)),
    );
    let notice = (!sentences.is_empty()).then(|| sentences.join(" "));
    let checkout = order.checkout.as_ref();
    Order {
        id: order.id,
        status: order.status,
        total: Money::from_minor(order.total),
        currency: order.currency.clone(),
        created_at: to_utc(order.created_at),
        paid_at: order.paid_at.map(to_utc),
        page: order.page.clone(),
        checkout_url: checkout.and_then(|c| c.place.url().map(str::to_owned)),
        sumup_checkout_id: checkout.map(|c| c.sumup_id.clone()),
        sumup_status: checkout.map(|c| c.status),
        products: items.products.clone(),
        calendar_entries: items.bookings.clone(),
        tickets: items.tickets.iter().map(|t| t.to_ticket()).collect(),
        refund,
        refunds,
        notice,
        tickets_url: match (order.status, &order.tickets_secret) {
            (OrderStatus::Paid, Some(secret)) => Some(payments.tickets_url(secret)),
            _ => None,
        },
        terminal: order.terminal.clone(),
        payment_method: crate::box_office::payment_method(order),
    }
}
