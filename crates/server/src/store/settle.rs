//! Settling orders: confirming a paid one exactly once (and cancelling what it oversold),
//! failing, reopening and cancelling unpaid ones. Each is one guarded statement or one
//! short transaction that starts with one.

use std::sync::LazyLock;

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Row};

use super::DbConn;
use super::outbox::{OrderMailValues, message_key, order_mail_queued};
use super::{Backend, OrderRow, Store};
use crate::mail::MailKind;
use crate::time::Timestamp;

/// What confirming a payment did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settlement {
    /// Tickets cancelled because their event sold out before this payment completed.
    pub cancelled_tickets: u32,
    /// Their cost, now due back to the buyer.
    pub refund: i64,
}

/// How a settlement on PostgreSQL holds the events with a capacity that it counts. On SQLite
/// nothing is held (its one writing connection runs one transaction at a time) and every
/// settlement counts as one held alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hold {
    /// While what is sold (reserved, confirmed, checked in) fits the capacity, no payment can
    /// oversell the event: settlements go side by side, each one statement holding the event
    /// against the one that must count alone ([`paid_if_it_fits`]).
    Shared,
    /// More is sold than fits: settlements take turns, each a transaction, so that each counts
    /// what the one before confirmed, and the later one cancels its excess.
    Alone,
}

/// A payment to confirm.
#[derive(Clone, Copy)]
struct Paid<'a> {
    order_id: i64,
    /// Whether it holds bookings to confirm (an order's items are fixed at checkout).
    bookings: bool,
    sumup_id: &'a str,
    transaction_id: Option<&'a str>,
    tickets_secret: &'a str,
    now: Timestamp,
}

/// How an attempt at confirming a payment ended.
enum Attempt {
    /// Confirmed (and what it cancelled), or `None` when the order was already settled.
    Done(Option<Settlement>),
    /// Held shared, the events showed more sold than fits, or a settlement counted one alone
    /// since the statement began: nothing changed; again, alone.
    HoldAlone,
}

/// An event of the order, as counted once held.
#[derive(sqlx::FromRow)]
struct Counted {
    id: i64,
    capacity: i64,
    confirmed: i64,
}

// A payment's changes, for order `$1` paid at `$2` with ticket page secret `$3` through
// checkout `$4` (SumUp's id) and transaction `$5`. One text for both databases.
macro_rules! order_paid {
    () => {
        "status = 'paid', paid_at = $2, tickets_secret = $3 \
         WHERE id = $1 AND status IN ('pending', 'failed')"
    };
}

macro_rules! checkout_paid {
    () => {
        "status = 'PAID', transaction_id = $5 WHERE sumup_id = $4"
    };
}

macro_rules! tickets_confirmed {
    () => {
        "state = 'confirmed' WHERE order_id = $1 AND state = 'reserved'"
    };
}

macro_rules! bookings_confirmed {
    () => {
        "state = 'confirmed' WHERE order_id = $1 AND state = 'ordered'"
    };
}

/// A payment on PostgreSQL that counts its events alone, in one statement that begins its
/// transaction: its changes, in parts that act only when the order was still unpaid, and
/// then the hold on the events with a capacity of the tickets it confirmed, taken in id order
/// (an event without one cannot sell out, and its payments need not wait for each other) once
/// the tickets are (the hold reads what their change returns), and marked as held alone
/// (`alone_turns`, which tells a shared payment that began before it to count again).
/// Answers 1 when it won the order, else 0 (and then holds nothing). The count follows in a
/// statement of its own, which sees what was committed by the time the hold was granted.
const PAID_AND_HELD_ALONE: &str = concat!(
    "WITH won AS (UPDATE orders SET ",
    order_paid!(),
    " RETURNING id), \
     checkout AS (UPDATE checkouts SET ",
    checkout_paid!(),
    " AND EXISTS (SELECT 1 FROM won)), \
     confirmed AS (UPDATE tickets SET ",
    tickets_confirmed!(),
    " AND EXISTS (SELECT 1 FROM won) RETURNING event_id), \
     booked AS (UPDATE bookings SET ",
    bookings_confirmed!(),
    " AND EXISTS (SELECT 1 FROM won)), \
     held AS (SELECT id FROM events WHERE ticket_count IS NOT NULL AND id IN \
         (SELECT event_id FROM confirmed) ORDER BY id FOR UPDATE), \
     turned AS (UPDATE events SET alone_turns = alone_turns + 1 \
         WHERE id IN (SELECT id FROM held)) \
     SELECT COUNT(*) FROM won"
);

/// A payment on PostgreSQL while what is sold of its events fits, in one statement (atomic
/// without a transaction around it, one round trip). It holds the events with a capacity of
/// the order's reserved tickets (those it confirms) shared, in id order, and makes its changes
/// only if each event's sold tickets, as its snapshot counts them, fit the capacity it holds,
/// and no settlement counted the event alone since that snapshot (`alone_turns` moved): one
/// that did may have confirmed tickets claimed after the snapshot, which it does not count as
/// sold. (A guest list needs no such mark: it counts this order's reserved tickets as sold,
/// and refuses what would not fit with them.) With `mail`, the paid order's e-mail is queued
/// with it. Answers whether it fitted (`fits`, 1 or 0; when 0 nothing changed) and whether it
/// won the order (`won`, 1 or 0).
fn paid_if_it_fits(mail: bool) -> String {
    let mailed = if mail {
        format!(
            ", mailed AS ({} AND EXISTS (SELECT 1 FROM won))",
            order_mail_queued(OrderMailValues {
                kind: "$6",
                order_id: "$1",
                refund_id: "NULL",
                message_key: "$7",
                now: "$2",
            })
        )
    } else {
        String::new()
    };
    format!(
        concat!(
            "WITH held AS MATERIALIZED (SELECT e.id, e.ticket_count, e.alone_turns FROM events e \
                 WHERE e.ticket_count IS NOT NULL AND e.id IN \
                   (SELECT t.event_id FROM tickets t WHERE t.order_id = $1 AND t.state = 'reserved') \
                 ORDER BY e.id FOR SHARE), \
             fits AS (SELECT NOT EXISTS (SELECT 1 FROM held h JOIN events e ON e.id = h.id \
                 WHERE e.alone_turns <> h.alone_turns OR ",
            held_of_event!(),
            " > h.ticket_count) AS yes), \
             won AS (UPDATE orders SET ",
            order_paid!(),
            " AND (SELECT yes FROM fits) RETURNING id), \
             checkout AS (UPDATE checkouts SET ",
            checkout_paid!(),
            " AND EXISTS (SELECT 1 FROM won)), \
             confirmed AS (UPDATE tickets SET ",
            tickets_confirmed!(),
            " AND EXISTS (SELECT 1 FROM won)), \
             booked AS (UPDATE bookings SET ",
            bookings_confirmed!(),
            " AND EXISTS (SELECT 1 FROM won)){} \
             SELECT (SELECT COUNT(*) FROM won) AS won, \
                    CAST(CASE WHEN (SELECT yes FROM fits) THEN 1 ELSE 0 END AS BIGINT) AS fits"
        ),
        mailed
    )
}

/// [`paid_if_it_fits`], without mail and with it.
static PAID_IF_IT_FITS: LazyLock<[String; 2]> =
    LazyLock::new(|| [paid_if_it_fits(false), paid_if_it_fits(true)]);

/// One of a payment's statements, its parameters bound as the texts above number them (a
/// text that names fewer leaves the rest unread).
fn payment_statement<'q>(sql: &'static str, paid: &Paid<'q>) -> Query<'q, Any, AnyArguments> {
    sqlx::query(sql)
        .bind(paid.order_id)
        .bind(paid.now)
        .bind(paid.tickets_secret)
        .bind(paid.sumup_id)
        .bind(paid.transaction_id)
}

impl Store {
    /// Holds the order's row until the transaction ends, on PostgreSQL (on SQLite one
    /// transaction runs at a time). Whatever the holder reads next is read after every change
    /// by an earlier holder: a statement that only waited for the row inside an `UPDATE` would
    /// check its row again, but not what its subqueries read.
    pub(super) async fn hold_order(
        &self,
        conn: &mut DbConn,
        order_id: i64,
    ) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM orders WHERE id = $1 FOR UPDATE")
                .bind(order_id)
                .fetch_optional(conn)
                .await?;
        }
        Ok(())
    }

    /// The payment on the order's newest checkout failed or expired: a pending order becomes
    /// failed (and payable again). An older checkout's end changes nothing, also when a new
    /// checkout is being recorded at that moment (both hold the order).
    pub async fn fail_order(&self, order_id: i64, sumup_id: &str) -> Result<bool, sqlx::Error> {
        let sumup_id = sumup_id.to_owned();
        self.in_turn(move |store| async move {
            let mut conn = store.writing().await?;
            let mut tx = conn.begin().await?;
            store.hold_order(&mut tx, order_id).await?;
            let done = sqlx::query(
                "UPDATE orders SET status = 'failed' WHERE id = $1 AND status = 'pending' \
                 AND $2 = (SELECT ch.sumup_id FROM checkouts ch WHERE ch.order_id = $1 \
                           ORDER BY ch.id DESC LIMIT 1)",
            )
            .bind(order_id)
            .bind(sumup_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    /// Confirms a paid order exactly once, however many times the payment is noticed: the
    /// order becomes paid, its tickets and bookings confirmed; then, per event, tickets of
    /// this order beyond the capacity are cancelled and their cost becomes a refund due. The
    /// order's ticket page gets its secret.
    /// `None` when the order was already settled.
    pub async fn confirm_tickets_and_cancel_oversold(
        &self,
        order: &OrderRow,
        sumup_id: &str,
        transaction_id: Option<&str>,
        tickets_secret: &str,
        now: Timestamp,
    ) -> Result<Option<Settlement>, sqlx::Error> {
        let (order_id, bookings) = (order.id, order.holds.bookings);
        let (sumup_id, transaction_id, tickets_secret) = (
            sumup_id.to_owned(),
            transaction_id.map(str::to_owned),
            tickets_secret.to_owned(),
        );
        self.in_turn(move |store| async move {
            let mut conn = store.writing().await?;
            let paid = Paid {
                order_id,
                bookings,
                sumup_id: &sumup_id,
                transaction_id: transaction_id.as_deref(),
                tickets_secret: &tickets_secret,
                now,
            };
            let mut hold = match store.backend {
                Backend::Postgres => Hold::Shared,
                Backend::Sqlite => Hold::Alone,
            };
            loop {
                match store.confirm(&mut conn, &paid, hold).await? {
                    Attempt::Done(settled) => return Ok(settled),
                    Attempt::HoldAlone => hold = Hold::Alone,
                }
            }
        })
        .await
    }

    /// One attempt at confirming a payment: one statement, or one transaction.
    async fn confirm(
        &self,
        conn: &mut DbConn,
        paid: &Paid<'_>,
        hold: Hold,
    ) -> Result<Attempt, sqlx::Error> {
        let Paid {
            order_id,
            bookings,
            now,
            ..
        } = *paid;
        if hold == Hold::Shared {
            return self.confirm_if_it_fits(conn, paid).await;
        }
        let mut tx = conn.begin().await?;
        let won = match self.backend {
            // The order's, its checkout's and its items' changes in one statement, which then
            // holds the events it counts: the next statement counts what was committed by
            // the time the hold was granted (a statement sees what was committed when it
            // began, before it waited for its holds).
            Backend::Postgres => {
                let won: i64 = payment_statement(PAID_AND_HELD_ALONE, paid)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
                won > 0
            }
            // One transaction at a time: nothing to hold.
            Backend::Sqlite => {
                let won = payment_statement(concat!("UPDATE orders SET ", order_paid!()), paid)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    > 0;
                if won {
                    let mut changes = vec![
                        concat!("UPDATE checkouts SET ", checkout_paid!()),
                        concat!("UPDATE tickets SET ", tickets_confirmed!()),
                    ];
                    if bookings {
                        changes.push(concat!("UPDATE bookings SET ", bookings_confirmed!()));
                    }
                    for change in changes {
                        payment_statement(change, paid).execute(&mut *tx).await?;
                    }
                }
                won
            }
        };
        if !won {
            tx.rollback().await?;
            return Ok(Attempt::Done(None));
        }
        // From the kept counts (this transaction's own changes included), never ticket by
        // ticket: as cheap after a million tickets as after the first.
        let events: Vec<Counted> = sqlx::query_as(concat!(
            "SELECT e.id, e.ticket_count AS capacity, ",
            paid_of_event!(),
            " AS confirmed FROM events e \
             WHERE e.ticket_count IS NOT NULL AND e.id IN \
               (SELECT t.event_id FROM tickets t WHERE t.order_id = $1 AND t.state = 'confirmed') \
             ORDER BY e.id"
        ))
        .bind(order_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut settlement = Settlement {
            cancelled_tickets: 0,
            refund: 0,
        };
        for event in events {
            let excess = crate::capacity::oversold(event.capacity, event.confirmed);
            if excess == 0 {
                continue;
            }
            // The event sold out before this payment completed: this order's newest tickets
            // for it, as many as the excess, are cancelled.
            let over: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT id, cost FROM tickets WHERE order_id = $1 AND event_id = $2 \
                 AND state = 'confirmed' ORDER BY id DESC LIMIT $3",
            )
            .bind(order_id)
            .bind(event.id)
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
                "INSERT INTO refunds (order_id, reason, amount, status, created_at) \
                 VALUES ($1, 'sold_out', $2, 'due', $3)",
            )
            .bind(order_id)
            .bind(settlement.refund)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        self.queue_order_mail(&mut tx, MailKind::OrderPaid, order_id, None, now)
            .await?;
        tx.commit().await?;
        Ok(Attempt::Done(Some(settlement)))
    }

    /// A payment on PostgreSQL while what is sold of its events fits, as one statement
    /// ([`paid_if_it_fits`]); [`Attempt::HoldAlone`] when it does not (nothing changed).
    async fn confirm_if_it_fits(
        &self,
        conn: &mut DbConn,
        paid: &Paid<'_>,
    ) -> Result<Attempt, sqlx::Error> {
        let [without_mail, with_mail] = &*PAID_IF_IT_FITS;
        let statement = if self.mail {
            payment_statement(with_mail, paid)
                .bind(MailKind::OrderPaid.as_str())
                .bind(message_key())
        } else {
            payment_statement(without_mail, paid)
        };
        let row = statement.fetch_one(&mut *conn).await?;
        let (won, fits): (i64, i64) = (row.try_get("won")?, row.try_get("fits")?);
        Ok(match (fits, won) {
            (0, _) => Attempt::HoldAlone,
            (_, 0) => Attempt::Done(None),
            _ => Attempt::Done(Some(Settlement {
                cancelled_tickets: 0,
                refund: 0,
            })),
        })
    }

    /// Cancels a pending or failed order: its tickets and bookings are released, and its
    /// product lines go back to the buyer's cart (joining a line for the same product there,
    /// at most 99); `false` when the order is no longer pending or failed.
    pub async fn cancel_order(&self, order_id: i64, now: Timestamp) -> Result<bool, sqlx::Error> {
        self.in_turn(move |store| async move {
            let mut conn = store.writing().await?;
            let mut tx = conn.begin().await?;
            let done = sqlx::query(
                "UPDATE orders SET status = 'cancelled', cancelled_at = $2 \
                 WHERE id = $1 AND status IN ('pending', 'failed')",
            )
            .bind(order_id)
            .bind(now)
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
            // Back to the cart: into the open line for the same product where there is one,
            // else as the open line itself.
            sqlx::query(
                "UPDATE cart_lines SET quantity = CASE WHEN quantity + (SELECT o.quantity \
                       FROM cart_lines o WHERE o.order_id = $1 \
                         AND o.product_id = cart_lines.product_id) > 99 THEN 99 \
                     ELSE quantity + (SELECT o.quantity FROM cart_lines o \
                       WHERE o.order_id = $1 AND o.product_id = cart_lines.product_id) END \
                 WHERE order_id IS NULL \
                   AND user_id = (SELECT user_id FROM orders WHERE id = $1) \
                   AND product_id IN (SELECT product_id FROM cart_lines WHERE order_id = $1)",
            )
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM cart_lines WHERE order_id = $1 AND product_id IN \
                     (SELECT l.product_id FROM cart_lines l WHERE l.order_id IS NULL \
                        AND l.user_id = (SELECT user_id FROM orders WHERE id = $1))",
            )
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE cart_lines SET order_id = NULL, unit_price = NULL WHERE order_id = $1",
            )
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }
}
