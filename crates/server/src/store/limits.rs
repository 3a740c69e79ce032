//! The per-order limit: an event's `max_per_order` counts the buyer's pending tickets for it
//! plus the ones being added, and checkout checks it again per event.

use super::DbConn;

use sqlx::{FromRow, Row};

use super::cart::{CartTotals, cart_totals_sql};
use super::tickets::{
    NewTickets, TicketRow, insert_ticket, inserted_tickets, new_ticket_code, ticket_values,
};
use super::{Backend, Store};
use crate::time::Timestamp;

/// The events a buyer's pending tickets are for (user `$user`, on calendars `c` meeting
/// `$calendars`: the whole cart, or one page's group of it), as checkout looks at them: how
/// many the cart holds against the per-order limit, whether it holds more (`over`), and
/// whether paid tickets already fill the event (`full`), from the kept counts, not ticket by
/// ticket. Both are 1 or 0. Checkout's claim refuses a cart with either
/// ([`refused_cart_events!`]); [`Store::cart_events`] says which, so the rule is written here
/// once.
macro_rules! cart_events {
    ($user:literal, $calendars:expr) => {
        concat!(
            "SELECT e.id, e.name, COUNT(*) AS pending, e.max_per_order, \
                    CAST(CASE WHEN COUNT(*) > e.max_per_order THEN 1 ELSE 0 END AS BIGINT) AS over, \
                    CAST(CASE WHEN e.ticket_count IS NOT NULL AND ",
            paid_of_event!(),
            " >= e.ticket_count THEN 1 ELSE 0 END AS BIGINT) AS full \
             FROM tickets t JOIN events e ON e.id = t.event_id \
             JOIN calendars c ON c.id = e.calendar_id \
             WHERE t.user_id = ",
            $user,
            " AND t.state = 'pending' AND ",
            $calendars,
            " GROUP BY e.id, e.name, e.max_per_order, e.ticket_count"
        )
    };
}

/// The cart's events that checkout refuses (see [`cart_events!`]): a statement's condition
/// reads `NOT EXISTS` of it.
macro_rules! refused_cart_events {
    ($user:literal, $calendars:expr) => {
        concat!(
            "SELECT ev.id FROM (",
            cart_events!($user, $calendars),
            ") ev WHERE ev.over <> 0 OR ev.full <> 0"
        )
    };
}

/// An event with pending tickets in a cart, as checkout looks at it: how many the cart holds
/// against the per-order limit, and whether paid tickets already fill it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CartEvent {
    pub id: i64,
    pub name: String,
    pub pending: i64,
    pub max_per_order: i64,
    /// 1 when the cart holds more than the per-order limit.
    over: i64,
    /// 1 when paid tickets (confirmed, checked in) fill its capacity.
    full: i64,
}

impl CartEvent {
    /// More than one order may hold: a cart filled before a limit was lowered.
    pub fn over_limit(&self) -> bool {
        self.over != 0
    }

    /// Paid tickets fill it: a ticket more could only be paid for to be refunded.
    pub fn sold_out(&self) -> bool {
        self.full != 0
    }

    /// An event as a cart holds it, for tests of what checkout decides.
    #[cfg(test)]
    pub fn in_cart(name: &str, pending: i64, max_per_order: i64, sold_out: bool) -> CartEvent {
        CartEvent {
            id: 1,
            name: name.to_owned(),
            pending,
            max_per_order,
            over: i64::from(pending > max_per_order),
            full: i64::from(sold_out),
        }
    }
}

impl Store {
    /// Creates the tickets unless the buyer's pending tickets for the event and these would
    /// be more than `limit`; then `Err` with how many are pending. One buyer's purchases take
    /// turns (see [`Turn`]; SQLite has one writer), so two at once cannot both pass. With the
    /// tickets, the buyer's cart totals once they are in it.
    pub async fn create_tickets_within(
        &self,
        new: &NewTickets,
        limit: i64,
        now: Timestamp,
    ) -> Result<Result<(Vec<TicketRow>, CartTotals), i64>, sqlx::Error> {
        let user_id = new.user_id;
        let new = new.clone();
        let created = self
            .in_turn(move |store| async move {
                let mut conn = store.writing().await?;
                let backend = store.backend;
                // One statement, which SQLite's one writer runs alone; on PostgreSQL, first
                // one statement that takes the buyer's turn itself.
                let mut turn = match backend {
                    Backend::Sqlite => Turn::Held,
                    Backend::Postgres => Turn::InStatement,
                };
                loop {
                    let inserted = match (backend, turn) {
                        (Backend::Postgres, Turn::Held) => {
                            let mut tx = conn.begin_buyers_turn(new.user_id).await?;
                            let inserted =
                                insert_within(&mut tx, &new, limit, now, backend, turn).await?;
                            tx.commit().await?;
                            inserted
                        }
                        _ => insert_within(&mut conn, &new, limit, now, backend, turn).await?,
                    };
                    match inserted {
                        Insert::Made(made) => return Ok(Ok(made)),
                        Insert::OverLimit(pending) => return Ok(Err(pending)),
                        // Another buy of theirs ran alongside: again, after it.
                        Insert::Overtaken => turn = Turn::Held,
                    }
                }
            })
            .await?;
        let Made {
            mut tickets,
            unread,
            cart,
        } = match created {
            Ok(made) => made,
            Err(pending) => return Ok(Err(pending)),
        };
        let cart = match cart {
            Some(cart) if unread.is_empty() => cart,
            _ => self.cart_totals(user_id).await?,
        };
        tickets.extend(self.tickets_by_ids(&unread).await?);
        tickets.sort_by_key(|ticket| ticket.id);
        Ok(Ok((tickets, cart)))
    }

    /// The events (of one page, or the whole cart) the user's pending tickets are for, in one
    /// statement: what checkout refuses is read from them (more than one order may hold, a
    /// cart filled before a limit was lowered; an event its paid tickets fill).
    pub async fn cart_events(
        &self,
        user_id: i64,
        page_id: Option<i64>,
    ) -> Result<Vec<CartEvent>, sqlx::Error> {
        sqlx::query_as(concat!(
            cart_events!("$1", "($2 IS NULL OR c.page_id = $2)"),
            " ORDER BY e.id"
        ))
        .bind(user_id)
        .bind(page_id)
        .fetch_all(&self.read)
        .await
    }
}

/// The tickets an insert made: read back by the insert itself with the cart's totals
/// (PostgreSQL), or only their ids, to be read once the write is done (SQLite, whose writer
/// does nothing else meanwhile, and a ticket inserted again after its code was taken).
struct Made {
    tickets: Vec<TicketRow>,
    unread: Vec<i64>,
    cart: Option<CartTotals>,
}

/// How a buy on PostgreSQL counts the buyer's cart after every other buy of theirs, so that
/// two at once cannot both pass the limit. Either way it moves the buyer's count of buys
/// (`users.buys`), which holds their row until its transaction ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Turn {
    /// Taken before the insert, which then counts what every earlier buy committed: a
    /// transaction that starts by moving the count (on SQLite, its one writer).
    Held,
    /// Taken by the insert's own statement, in one round trip. Its count of the cart is as
    /// of its snapshot, taken before it waited for the buyer's row: it inserts only if the
    /// count it moved is the one that snapshot saw, and is otherwise [`Insert::Overtaken`].
    InStatement,
}

/// The buyer's count of buys as the statement's snapshot saw it (`seen`), and moved (`turn`,
/// after any buy of theirs still running), for [`Turn::InStatement`].
const TURN_IN_STATEMENT: &str = "seen AS (SELECT buys FROM users WHERE id = $2), \
     turn AS (UPDATE users SET buys = buys + 1 WHERE id = $2 RETURNING buys), ";
/// No other buy committed since the snapshot (the condition [`TURN_IN_STATEMENT`] reads).
const NOT_OVERTAKEN: &str = " AND (SELECT buys FROM turn) = (SELECT buys FROM seen) + 1";

/// What one insert of a buy came to.
enum Insert {
    Made(Made),
    /// Over the limit: nothing inserted; the buyer's pending tickets for the event.
    OverLimit(i64),
    /// Another buy of the buyer's committed while the statement ran ([`Turn::InStatement`]):
    /// nothing inserted.
    Overtaken,
}

/// Inserts the tickets in one statement that first counts the buyer's pending tickets for the
/// event: all of them, or none (over the limit, or overtaken).
async fn insert_within(
    conn: &mut DbConn,
    new: &NewTickets,
    limit: i64,
    now: Timestamp,
    backend: Backend,
    turn: Turn,
) -> Result<Insert, sqlx::Error> {
    let quantity = i64::from(new.quantity);
    // `$9` on: one new code per ticket.
    let codes: Vec<String> = (0..new.quantity).map(|i| format!("(${})", i + 9)).collect();
    let (turn_taken, not_overtaken) = match turn {
        Turn::Held => ("", ""),
        Turn::InStatement => (TURN_IN_STATEMENT, NOT_OVERTAKEN),
    };
    // The cost as the database holds it when the tickets are made, should a catalog have
    // changed it since `$4` was read (a catalog that changes prices holds the tickets
    // against writes while it reprices them, so none is left at the old price).
    let insert = format!(
        "INSERT INTO tickets (code, event_id, user_id, ticket_type_id, cost, state, created_at) \
         SELECT codes.column1, $1, $2, $3, \
                COALESCE((SELECT tt.cost FROM ticket_types tt WHERE tt.id = $3), \
                         (SELECT e.ticket_price FROM events e WHERE e.id = $1), $4), \
                $5, $6 FROM (VALUES {}) AS codes \
         WHERE (SELECT COUNT(*) FROM tickets \
                WHERE event_id = $1 AND user_id = $2 AND state = 'pending') + $7 <= $8{not_overtaken} \
         ON CONFLICT (code) DO NOTHING",
        codes.join(", ")
    );
    let insert = match backend {
        Backend::Postgres => inserted_tickets(turn_taken, &insert, &cart_totals_sql("$2")),
        Backend::Sqlite => format!("{insert} RETURNING id"),
    };
    let mut insert = ticket_values(sqlx::query(sqlx::AssertSqlSafe(insert)), new, now)
        .bind(quantity)
        .bind(limit);
    for _ in 0..new.quantity {
        insert = insert.bind(new_ticket_code());
    }
    let mut made = Made {
        tickets: Vec::new(),
        unread: Vec::new(),
        cart: None,
    };
    let rows = insert.fetch_all(&mut *conn).await?;
    for row in &rows {
        match backend {
            Backend::Postgres => {
                made.tickets.push(TicketRow::from_row(row)?);
                made.cart = Some(CartTotals::from_row(row)?);
            }
            Backend::Sqlite => made.unread.push(row.try_get(0)?),
        }
    }
    if rows.is_empty() {
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE event_id = $1 AND user_id = $2 AND state = 'pending'",
        )
        .bind(new.event_id)
        .bind(new.user_id)
        .fetch_one(&mut *conn)
        .await?;
        if pending + quantity > limit {
            return Ok(Insert::OverLimit(pending));
        }
        if turn == Turn::InStatement {
            return Ok(Insert::Overtaken);
        }
    }
    // A code that was taken already (as likely as a lottery win) left its ticket out; the
    // limit held for all of them. (Taken in the statement, the buyer's turn has ended: a buy
    // of theirs made in between counted one ticket fewer, as rare as the clash.)
    for _ in rows.len()..new.quantity as usize {
        made.unread.push(insert_ticket(conn, new, now).await?);
    }
    Ok(Insert::Made(made))
}
