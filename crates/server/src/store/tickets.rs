//! Tickets: bought into the cart as `pending`, removed from it as `cancelled`.

use super::DbConn;
use rand::Rng;
use sqlx::Row;
use storefront_contract::{Money, Page, Ticket, TicketState};

use super::events::page_from;
use super::{Store, id_list};
use crate::time::{Timestamp, to_utc};

/// A ticket as [`TICKET_SELECT`] reads it. The columns an order also has are named for the
/// ticket (`ticket_id`…), so that an order and its tickets can be read in one statement.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TicketRow {
    #[sqlx(rename = "ticket_id")]
    pub id: i64,
    pub code: String,
    #[sqlx(try_from = "String")]
    pub state: TicketState,
    pub event_id: i64,
    pub event_name: String,
    pub event_starts_at: i64,
    pub ticket_type_id: Option<i64>,
    pub ticket_type_name: Option<String>,
    pub cost: i64,
    #[sqlx(rename = "ticket_page_id")]
    pub page_id: Option<i64>,
    #[sqlx(rename = "ticket_page_slug")]
    pub page_slug: Option<String>,
    #[sqlx(rename = "ticket_page_title")]
    pub page_title: Option<String>,
    /// The venue's time zone, when it has its own.
    pub page_timezone: Option<String>,
    pub order_id: Option<i64>,
    #[sqlx(rename = "ticket_created_at")]
    pub created_at: i64,
    /// The cost before the catalog changed the price of this pending ticket.
    pub previous_cost: Option<i64>,
    pub checked_in_at: Option<i64>,
}

impl TicketRow {
    /// When the ticket's event starts, in its venue's zone (`default_zone` when the venue has
    /// none), the zone named: "Sat 7 Mar 2026, 19:30 GMT". The ticket page and the e-mails
    /// say it so.
    pub fn when_at_venue(&self, default_zone: chrono_tz::Tz) -> String {
        let zone = self
            .page_timezone
            .as_deref()
            .and_then(|name| crate::time::zone(name).ok())
            .unwrap_or(default_zone);
        to_utc(self.event_starts_at)
            .with_timezone(&zone)
            .format("%a %-d %b %Y, %H:%M %Z")
            .to_string()
    }

    pub fn page(&self) -> Option<Page> {
        page_from(self.page_id, &self.page_slug, &self.page_title)
    }

    pub fn to_ticket(&self) -> Ticket {
        Ticket {
            id: self.id,
            code: self.code.clone(),
            state: self.state,
            entry_id: self.event_id,
            entry_name: self.event_name.clone(),
            entry_starts_at: to_utc(self.event_starts_at),
            ticket_type_id: self.ticket_type_id,
            ticket_type_name: self.ticket_type_name.clone(),
            cost: Money::from_minor(self.cost),
            calendar_container_id: self.page_id,
            calendar_container_type: self.page_id.map(|_| "page".to_owned()),
            order_id: self.order_id,
            created_at: to_utc(self.created_at),
            previous_cost: self
                .previous_cost
                .filter(|_| self.state == TicketState::Pending)
                .map(Money::from_minor),
            sold_out: false,
            checked_in_at: self.checked_in_at.map(to_utc),
        }
    }
}

/// A ticket's columns as [`TicketRow`] reads them, from tickets named `t`.
macro_rules! ticket_columns {
    () => {
        "t.id AS ticket_id, t.code, t.state, t.event_id, e.name AS event_name, \
                e.starts_at AS event_starts_at, t.ticket_type_id, tt.name AS ticket_type_name, \
                t.cost, c.page_id AS ticket_page_id, p.slug AS ticket_page_slug, \
                p.title AS ticket_page_title, p.timezone AS page_timezone, t.order_id, \
                t.created_at AS ticket_created_at, t.previous_cost, t.checked_in_at"
    };
}

/// What a ticket's columns are read with, after its tickets `t`: its event and calendar
/// joined by `$join` (`JOIN`, or `LEFT JOIN` where the tickets may be none).
macro_rules! ticket_joins {
    ($join:literal) => {
        concat!(
            $join,
            " events e ON e.id = t.event_id ",
            $join,
            " calendars c ON c.id = e.calendar_id \
             LEFT JOIN pages p ON p.id = c.page_id \
             LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id"
        )
    };
}

pub(super) const TICKET_SELECT: &str = concat!(
    "SELECT ",
    ticket_columns!(),
    " FROM tickets t ",
    ticket_joins!("JOIN")
);

/// A ticket's columns (without `SELECT`), for tickets `t` joined on the left to what may
/// have none, with [`TICKET_LEFT_JOINS`] after them.
pub(super) const TICKET_COLUMNS: &str = ticket_columns!();

/// What a ticket's columns are read with when its tickets `t` may be none (every table
/// joined on the left). Joined so, not as a subquery, which SQLite would read whole.
pub(super) const TICKET_LEFT_JOINS: &str = ticket_joins!("LEFT JOIN");

/// Tickets just inserted, read in the statement that inserts them (PostgreSQL: `insert`
/// ends without `RETURNING`), oldest first. Each row also holds the buyer's cart totals with
/// them: `cart` reads the totals (as [`super::cart::cart_totals_sql`] does) before them, and
/// they are added. `before` names the statement's other parts, each followed by a comma.
pub(super) fn inserted_tickets(before: &str, insert: &str, cart: &str) -> String {
    format!(
        "WITH {before}t AS ({insert} RETURNING *) SELECT {}, cart.product_count, cart.product_total, \
           cart.booking_count, cart.booking_total, \
           cart.ticket_count + (SELECT COUNT(*) FROM t) AS ticket_count, \
           CAST(cart.ticket_total + (SELECT COALESCE(SUM(cost), 0) FROM t) AS BIGINT) \
             AS ticket_total \
         FROM t {} CROSS JOIN ({cart}) cart ORDER BY t.id",
        ticket_columns!(),
        ticket_joins!("JOIN")
    )
}

/// Letters and digits that cannot be mistaken for one another (Crockford's base 32).
const CODE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ticket code a person can read out at the door: `7KQ2-M9XD` (40 random bits).
pub(super) fn new_ticket_code() -> String {
    let mut rng = rand::rng();
    let mut code = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            code.push('-');
        }
        code.push(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char);
    }
    code
}

/// What a purchase creates: `quantity` tickets of one event and type at one price.
#[derive(Clone, Debug)]
pub struct NewTickets {
    pub event_id: i64,
    pub user_id: i64,
    pub ticket_type_id: Option<i64>,
    pub cost: i64,
    pub quantity: u32,
    pub state: TicketState,
}

impl Store {
    pub(super) async fn tickets_by_ids(&self, ids: &[i64]) -> Result<Vec<TicketRow>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_as::<_, TicketRow>(sqlx::AssertSqlSafe(format!(
            "{TICKET_SELECT} WHERE t.id IN ({}) ORDER BY t.id",
            id_list(ids)
        )))
        .fetch_all(&self.read)
        .await
    }

    /// The user's tickets waiting in the cart, oldest first.
    pub async fn pending_tickets(&self, user_id: i64) -> Result<Vec<TicketRow>, sqlx::Error> {
        sqlx::query_as::<_, TicketRow>(sqlx::AssertSqlSafe(format!(
            "{TICKET_SELECT} WHERE t.user_id = $1 AND t.state = 'pending' ORDER BY t.id"
        )))
        .bind(user_id)
        .fetch_all(&self.read)
        .await
    }

    /// Takes a pending ticket out of the user's cart; `false` if there is no such ticket.
    pub async fn cancel_pending_ticket(&self, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE tickets SET state = 'cancelled' \
             WHERE id = $1 AND user_id = $2 AND state = 'pending'",
        )
        .bind(id)
        .bind(user_id)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// An insert of tickets, before what it returns is decoded.
pub(super) type TicketInsert<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds what every new ticket is given, as `$1`–`$6`: event, buyer, ticket type, cost,
/// state and time.
pub(super) fn ticket_values<'q>(
    insert: TicketInsert<'q>,
    new: &NewTickets,
    now: Timestamp,
) -> TicketInsert<'q> {
    insert
        .bind(new.event_id)
        .bind(new.user_id)
        .bind(new.ticket_type_id)
        .bind(new.cost)
        .bind(new.state.as_str())
        .bind(now)
}

/// Inserts one ticket, drawing a new code in the (astronomically rare) case of a clash.
pub(super) async fn insert_ticket(
    conn: &mut DbConn,
    new: &NewTickets,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    loop {
        let insert = sqlx::query(
            "INSERT INTO tickets (code, event_id, user_id, ticket_type_id, cost, state, created_at) \
             VALUES ($7, $1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING RETURNING id",
        );
        let id: Option<i64> = ticket_values(insert, new, now)
            .bind(new_ticket_code())
            .try_map(|row: sqlx::any::AnyRow| row.try_get(0))
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(id) = id {
            return Ok(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable() {
        for _ in 0..200 {
            let code = new_ticket_code();
            assert_eq!(code.len(), 9);
            assert_eq!(code.as_bytes()[4], b'-');
            assert!(
                code.chars()
                    .filter(|c| *c != '-')
                    .all(|c| CODE_ALPHABET.contains(&(c as u8)))
            );
            assert!(!code.contains(['I', 'L', 'O', 'U']));
        }
    }
}
