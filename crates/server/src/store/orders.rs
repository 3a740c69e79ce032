//! Orders: made from the cart at checkout, their SumUp checkouts, and settling them.

use storefront_contract::{CartBooking, CartProduct, Money, OrderStatus, Page};

use super::Store;
use super::events::page_from;
use super::tickets::{TICKET_SELECT, TicketRow};
use crate::time::{Timestamp, to_utc};

/// An order with its newest checkout.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub user_id: i64,
    pub status: String,
    pub total: i64,
    pub currency: String,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub merchant_code: Option<String>,
    pub refund_amount: Option<i64>,
    pub refund_status: Option<String>,
    pub page_id: Option<i64>,
    pub page_slug: Option<String>,
    pub page_title: Option<String>,
    pub checkout_id: Option<String>,
    pub checkout_url: Option<String>,
    pub checkout_status: Option<String>,
    pub checkout_created_at: Option<i64>,
}

impl OrderRow {
    pub fn status(&self) -> OrderStatus {
        OrderStatus::parse(&self.status).unwrap_or(OrderStatus::Cancelled)
    }

    pub fn page(&self) -> Option<Page> {
        page_from(self.page_id, &self.page_slug, &self.page_title)
    }

    pub fn checkout(&self) -> Option<CheckoutRow> {
        Some(CheckoutRow {
            sumup_id: self.checkout_id.clone()?,
            url: self.checkout_url.clone()?,
            status: self.checkout_status.clone()?,
            created_at: self.checkout_created_at?,
        })
    }
}

/// One SumUp checkout made for an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutRow {
    pub sumup_id: String,
    pub url: String,
    pub status: String,
    pub created_at: i64,
}

/// Everything an order holds, for showing it.
#[derive(Clone, Debug, Default)]
pub struct OrderItems {
    pub products: Vec<CartProduct>,
    pub bookings: Vec<CartBooking>,
    pub tickets: Vec<TicketRow>,
}

/// What confirming a payment did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settlement {
    /// Tickets cancelled because their event sold out before this payment completed.
    pub cancelled_tickets: u32,
    /// Their cost, now due back to the buyer.
    pub refund: i64,
}

/// A refund this process has claimed the right to ask SumUp for.
#[derive(Clone, Debug)]
pub struct RefundClaim {
    pub amount: i64,
    pub merchant_code: String,
    pub transaction_id: String,
}

const ORDER_SELECT: &str = "\
SELECT o.id, o.user_id, o.status, o.total, o.currency, o.created_at, o.paid_at, o.merchant_code, \
       o.refund_amount, o.refund_status, \
       p.id AS page_id, p.slug AS page_slug, p.title AS page_title, \
       ch.sumup_id AS checkout_id, ch.url AS checkout_url, ch.status AS checkout_status, \
       ch.created_at AS checkout_created_at \
FROM orders o \
LEFT JOIN pages p ON p.id = o.page_id \
LEFT JOIN checkouts ch ON ch.id = (SELECT MAX(c2.id) FROM checkouts c2 WHERE c2.order_id = o.id)";

/// A refund request left unanswered this long (its process died) may be made again.
const REFUND_CLAIM_SECS: i64 = 5 * 60;

impl Store {
    /// Moves everything in scope from the user's cart into a new order, in one transaction:
    /// pending tickets become reserved, pending bookings ordered, product lines take their
    /// price. `None` (and nothing changed) when nothing is in scope.
    pub async fn create_order_from_cart(
        &self,
        user_id: i64,
        page_id: Option<i64>,
        currency: &str,
        default_merchant_code: &str,
        now: Timestamp,
    ) -> Result<Option<i64>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let order_id: i64 = sqlx::query_scalar(
            "INSERT INTO orders (user_id, status, total, currency, created_at) \
             VALUES ($1, 'pending', 0, $2, $3) RETURNING id",
        )
        .bind(user_id)
        .bind(currency)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;

        // `$3` is the page in scope; NULL means the whole cart.
        let claimed_tickets = sqlx::query(
            "UPDATE tickets SET state = 'reserved', order_id = $1 \
             WHERE user_id = $2 AND state = 'pending' AND ($3 IS NULL OR event_id IN \
               (SELECT e.id FROM events e JOIN calendars c ON c.id = e.calendar_id WHERE c.page_id = $3))",
        )
        .bind(order_id)
        .bind(user_id)
        .bind(page_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let claimed_bookings = sqlx::query(
            "UPDATE bookings SET state = 'ordered', order_id = $1 \
             WHERE user_id = $2 AND state = 'pending' AND ($3 IS NULL OR calendar_id IN \
               (SELECT c.id FROM calendars c WHERE c.page_id = $3))",
        )
        .bind(order_id)
        .bind(user_id)
        .bind(page_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let claimed_lines = sqlx::query(
            "UPDATE cart_lines SET order_id = $1, \
                 unit_price = (SELECT pr.price FROM products pr WHERE pr.id = cart_lines.product_id) \
             WHERE user_id = $2 AND order_id IS NULL AND ($3 IS NULL OR product_id IN \
               (SELECT pr.id FROM products pr WHERE pr.page_id = $3))",
        )
        .bind(order_id)
        .bind(user_id)
        .bind(page_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed_tickets + claimed_bookings + claimed_lines == 0 {
            tx.rollback().await?;
            return Ok(None);
        }

        // The total is what was claimed, priced by the server.
        let total: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE((SELECT SUM(cost) FROM tickets WHERE order_id = $1), 0) \
                  + COALESCE((SELECT SUM(cost) FROM bookings WHERE order_id = $1), 0) \
                  + COALESCE((SELECT SUM(unit_price * quantity) FROM cart_lines WHERE order_id = $1), 0) \
                  AS BIGINT)",
        )
        .bind(order_id)
        .fetch_one(&mut *tx)
        .await?;
        // The order belongs to a page when everything in it does.
        let pages: Vec<(Option<i64>,)> = sqlx::query_as(
            "SELECT DISTINCT scope.page_id FROM ( \
               SELECT c.page_id AS page_id FROM tickets t JOIN events e ON e.id = t.event_id \
                 JOIN calendars c ON c.id = e.calendar_id WHERE t.order_id = $1 \
               UNION ALL SELECT c.page_id FROM bookings b JOIN calendars c ON c.id = b.calendar_id \
                 WHERE b.order_id = $1 \
               UNION ALL SELECT pr.page_id FROM cart_lines l JOIN products pr ON pr.id = l.product_id \
                 WHERE l.order_id = $1) scope",
        )
        .bind(order_id)
        .fetch_all(&mut *tx)
        .await?;
        let order_page = match pages.as_slice() {
            [(Some(page),)] => Some(*page),
            _ => None,
        };
        let page_merchant: Option<String> = match order_page {
            Some(page) => {
                sqlx::query_scalar("SELECT sumup_merchant_code FROM pages WHERE id = $1")
                    .bind(page)
                    .fetch_one(&mut *tx)
                    .await?
            }
            None => None,
        };
        sqlx::query("UPDATE orders SET total = $2, page_id = $3, merchant_code = $4 WHERE id = $1")
            .bind(order_id)
            .bind(total)
            .bind(order_page.or(page_id))
            .bind(page_merchant.unwrap_or_else(|| default_merchant_code.to_owned()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(order_id))
    }

    pub async fn order(&self, order_id: i64) -> Result<Option<OrderRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{ORDER_SELECT} WHERE o.id = $1"
        )))
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// The user's order; another user's is as absent as an unknown one.
    pub async fn users_order(
        &self,
        user_id: i64,
        order_id: i64,
    ) -> Result<Option<OrderRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{ORDER_SELECT} WHERE o.id = $1 AND o.user_id = $2"
        )))
        .bind(order_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn users_orders(&self, user_id: i64) -> Result<Vec<OrderRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{ORDER_SELECT} WHERE o.user_id = $1 ORDER BY o.created_at DESC, o.id DESC"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn order_items(&self, order_id: i64) -> Result<OrderItems, sqlx::Error> {
        let lines: Vec<(i64, i64, String, Option<i64>, i64)> = sqlx::query_as(
            "SELECT l.id, l.product_id, pr.title, l.unit_price, l.quantity \
             FROM cart_lines l JOIN products pr ON pr.id = l.product_id \
             WHERE l.order_id = $1 ORDER BY l.id",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?;
        let products = lines
            .into_iter()
            .map(|(id, product_id, title, unit_price, quantity)| {
                let unit_price = Money::from_minor(unit_price.unwrap_or(0));
                let quantity = u32::try_from(quantity).unwrap_or(0);
                CartProduct {
                    id,
                    product_id,
                    title,
                    unit_price,
                    quantity,
                    line_total: unit_price * quantity,
                }
            })
            .collect();
        let bookings: Vec<(i64, String, String, i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT b.id, b.name, c.name, b.starts_at, b.ends_at, b.cost \
             FROM bookings b JOIN calendars c ON c.id = b.calendar_id \
             WHERE b.order_id = $1 ORDER BY b.starts_at, b.id",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?;
        let bookings = bookings
            .into_iter()
            .map(
                |(id, name, calendar_name, starts_at, ends_at, cost)| CartBooking {
                    id,
                    name,
                    calendar_name,
                    starts_at: to_utc(starts_at),
                    ends_at: ends_at.map(to_utc),
                    cost: Money::from_minor(cost),
                },
            )
            .collect();
        let tickets = sqlx::query_as::<_, TicketRow>(sqlx::AssertSqlSafe(format!(
            "{TICKET_SELECT} WHERE t.order_id = $1 ORDER BY t.id"
        )))
        .bind(order_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(OrderItems {
            products,
            bookings,
            tickets,
        })
    }

    /// The user's tickets that left the cart (reserved, confirmed, checked in, cancelled).
    pub async fn users_tickets(&self, user_id: i64) -> Result<Vec<TicketRow>, sqlx::Error> {
        sqlx::query_as::<_, TicketRow>(sqlx::AssertSqlSafe(format!(
            "{TICKET_SELECT} WHERE t.user_id = $1 AND t.state <> 'pending' \
             ORDER BY e.starts_at, t.id"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn checkout_attempts(&self, order_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM checkouts WHERE order_id = $1")
            .bind(order_id)
            .fetch_one(&self.pool)
            .await
    }

    /// Remembers a SumUp checkout for the order (once, however often it is reported).
    pub async fn record_checkout(
        &self,
        order_id: i64,
        sumup_id: &str,
        reference: &str,
        url: &str,
        status: &str,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO checkouts (order_id, sumup_id, reference, url, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sumup_id) DO NOTHING",
        )
        .bind(order_id)
        .bind(sumup_id)
        .bind(reference)
        .bind(url)
        .bind(status)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The order a SumUp checkout was made for.
    pub async fn order_of_checkout(&self, sumup_id: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT order_id FROM checkouts WHERE sumup_id = $1")
            .bind(sumup_id)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn set_checkout_status(
        &self,
        sumup_id: &str,
        status: &str,
    ) -> Result<bool, sqlx::Error> {
        let done =
            sqlx::query("UPDATE checkouts SET status = $2 WHERE sumup_id = $1 AND status <> $2")
                .bind(sumup_id)
                .bind(status)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Back to pending for a new payment attempt after a failure.
    pub async fn reopen_order(&self, order_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE orders SET status = 'pending' WHERE id = $1 AND status = 'failed'")
            .bind(order_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The payment failed or expired: a pending order becomes failed (and payable again).
    pub async fn fail_order(&self, order_id: i64) -> Result<bool, sqlx::Error> {
        let done =
            sqlx::query("UPDATE orders SET status = 'failed' WHERE id = $1 AND status = 'pending'")
                .bind(order_id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Confirms a paid order exactly once, however many times the payment is noticed: the
    /// order becomes paid, its tickets and bookings confirmed; then, per event, tickets of
    /// this order beyond the capacity are cancelled and their cost becomes a refund due.
    /// `None` when the order was already settled.
    pub async fn settle_paid_order(
        &self,
        order_id: i64,
        sumup_id: &str,
        transaction_id: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Settlement>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let won = sqlx::query(
            "UPDATE orders SET status = 'paid', paid_at = $2 \
             WHERE id = $1 AND status IN ('pending', 'failed')",
        )
        .bind(order_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if won == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        sqlx::query(
            "UPDATE checkouts SET status = 'PAID', transaction_id = $2 WHERE sumup_id = $1",
        )
        .bind(sumup_id)
        .bind(transaction_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE tickets SET state = 'confirmed' WHERE order_id = $1 AND state = 'reserved'",
        )
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE bookings SET state = 'confirmed' WHERE order_id = $1 AND state = 'ordered'",
        )
        .bind(order_id)
        .execute(&mut *tx)
        .await?;

        let events: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT DISTINCT e.id, e.ticket_count FROM tickets t JOIN events e ON e.id = t.event_id \
             WHERE t.order_id = $1 AND t.state = 'confirmed' AND e.ticket_count IS NOT NULL",
        )
        .bind(order_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut settlement = Settlement {
            cancelled_tickets: 0,
            refund: 0,
        };
        for (event_id, capacity) in events {
            let held: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM tickets WHERE event_id = $1 AND state IN ('confirmed', 'checked_in')",
            )
            .bind(event_id)
            .fetch_one(&mut *tx)
            .await?;
            let excess = held - capacity;
            if excess <= 0 {
                continue;
            }
            // The event sold out before this payment completed: this order's newest tickets
            // for it, as many as the excess, are cancelled.
            let over: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT id, cost FROM tickets WHERE order_id = $1 AND event_id = $2 \
                 AND state = 'confirmed' ORDER BY id DESC LIMIT $3",
            )
            .bind(order_id)
            .bind(event_id)
            .bind(excess)
            .fetch_all(&mut *tx)
            .await?;
            for (ticket_id, cost) in over {
                sqlx::query(
                    "UPDATE tickets SET state = 'cancelled' WHERE id = $1 AND state = 'confirmed'",
                )
                .bind(ticket_id)
                .execute(&mut *tx)
                .await?;
                settlement.cancelled_tickets += 1;
                settlement.refund += cost;
            }
        }
        if settlement.refund > 0 {
            sqlx::query(
                "UPDATE orders SET refund_amount = $2, refund_status = 'due' WHERE id = $1",
            )
            .bind(order_id)
            .bind(settlement.refund)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(settlement))
    }

    /// Cancels a pending or failed order and releases its tickets and bookings; `false` when
    /// the order is no longer pending or failed.
    pub async fn cancel_order(&self, order_id: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE orders SET status = 'cancelled' WHERE id = $1 AND status IN ('pending', 'failed')",
        )
        .bind(order_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE tickets SET state = 'cancelled' WHERE order_id = $1 AND state = 'reserved'",
        )
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE bookings SET state = 'cancelled' WHERE order_id = $1 AND state = 'ordered'",
        )
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Takes the right to ask SumUp for the order's refund, so that only one request is out.
    pub async fn claim_refund(
        &self,
        order_id: i64,
        now: Timestamp,
    ) -> Result<Option<RefundClaim>, sqlx::Error> {
        let claimed = sqlx::query(
            "UPDATE orders SET refund_status = 'refunding', refund_claimed_at = $2 \
             WHERE id = $1 AND (refund_status = 'due' \
               OR (refund_status = 'refunding' AND refund_claimed_at <= $3))",
        )
        .bind(order_id)
        .bind(now)
        .bind(now - REFUND_CLAIM_SECS)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let row: Option<(i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT o.refund_amount, o.merchant_code, \
                    (SELECT ch.transaction_id FROM checkouts ch WHERE ch.order_id = o.id \
                       AND ch.status = 'PAID' ORDER BY ch.id DESC LIMIT 1) \
             FROM orders o WHERE o.id = $1",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some((amount, Some(merchant_code), Some(transaction_id))) => Ok(Some(RefundClaim {
                amount,
                merchant_code,
                transaction_id,
            })),
            _ => {
                self.finish_refund(order_id, false).await?;
                Ok(None)
            }
        }
    }

    /// Records SumUp's answer to a claimed refund: done, or due again for a later retry.
    pub async fn finish_refund(&self, order_id: i64, refunded: bool) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE orders SET refund_status = $2 WHERE id = $1 AND refund_status = 'refunding'",
        )
        .bind(order_id)
        .bind(if refunded { "refunded" } else { "due" })
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

impl Store {
    pub async fn page_id(&self, slug: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM pages WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await
    }
}
