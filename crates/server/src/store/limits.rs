//! The per-order limit: an event's `max_per_order` counts the buyer's pending tickets for it
//! plus the ones being added, and checkout checks it again per event.

use sqlx::Connection;

use super::tickets::{NewTickets, TicketRow, insert_ticket};
use super::{Backend, Store};
use crate::time::Timestamp;

/// An event whose pending tickets in a cart are more than one order may hold.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OverLimit {
    pub event_name: String,
    pub pending: i64,
    pub max_per_order: i64,
}

impl Store {
    /// Creates the tickets unless the buyer's pending tickets for the event and these would
    /// be more than `limit`; then `Err` with how many are pending. One buyer's purchases take
    /// turns (the user's row is locked on PostgreSQL; SQLite has one writer), so two at once
    /// cannot both pass.
    pub async fn create_tickets_within(
        &self,
        new: &NewTickets,
        limit: i64,
        now: Timestamp,
    ) -> Result<Result<Vec<TicketRow>, i64>, sqlx::Error> {
        let new = new.clone();
        let created = self.in_turn(move |store| async move {
        let mut conn = store.writing().await?;
        let mut tx = conn.begin().await?;
        if store.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(new.user_id)
                .fetch_optional(&mut *tx)
                .await?;
        }
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE event_id = $1 AND user_id = $2 AND state = 'pending'",
        )
        .bind(new.event_id)
        .bind(new.user_id)
        .fetch_one(&mut *tx)
        .await?;
        if pending + i64::from(new.quantity) > limit {
            tx.rollback().await?;
            return Ok(Err(pending));
        }
        let mut ids = Vec::with_capacity(new.quantity as usize);
        for _ in 0..new.quantity {
            ids.push(insert_ticket(&mut tx, &new, now).await?);
        }
        tx.commit().await?;
        Ok(Ok(ids))
        })
        .await?;
        match created {
            Ok(ids) => Ok(Ok(self.tickets_by_ids(&ids).await?)),
            Err(pending) => Ok(Err(pending)),
        }
    }

    /// Events (of one page, or the whole cart) with more pending tickets in the user's cart
    /// than one order may hold: a cart filled before a limit was lowered.
    pub async fn over_limit_events(
        &self,
        user_id: i64,
        page_id: Option<i64>,
    ) -> Result<Vec<OverLimit>, sqlx::Error> {
        sqlx::query_as(
            "SELECT e.name AS event_name, COUNT(*) AS pending, e.max_per_order \
             FROM tickets t JOIN events e ON e.id = t.event_id \
             JOIN calendars c ON c.id = e.calendar_id \
             WHERE t.user_id = $1 AND t.state = 'pending' \
               AND ($2 IS NULL OR c.page_id = $2) \
             GROUP BY e.id, e.name, e.max_per_order \
             HAVING COUNT(*) > e.max_per_order \
             ORDER BY e.id",
        )
        .bind(user_id)
        .bind(page_id)
        .fetch_all(&self.read)
        .await
    }
}
