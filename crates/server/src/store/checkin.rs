//! Checking tickets in: one guarded statement turns a confirmed ticket into a checked-in
//! one, so however many doors scan a code at once, one of them checks it in.

use storefront_contract::{CheckedTicket, CheckinOutcome, CodeState, TicketState};

use super::Store;
use crate::time::Timestamp;

/// A ticket as the door sees it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DoorTicketRow {
    pub code: String,
    #[sqlx(try_from = "String")]
    pub state: TicketState,
    pub event_id: i64,
    pub event_name: String,
    pub ticket_type_name: Option<String>,
    pub holder_name: String,
    pub checked_in_at: Option<i64>,
}

impl DoorTicketRow {
    pub fn to_checked_ticket(&self) -> CheckedTicket {
        CheckedTicket {
            code: self.code.clone(),
            state: self.state,
            event_id: self.event_id,
            event_name: self.event_name.clone(),
            ticket_type_name: self.ticket_type_name.clone(),
            holder_name: self.holder_name.clone(),
        }
    }
}

/// What one scan did, and the ticket it found.
#[derive(Clone, Debug)]
pub struct Scan {
    pub outcome: CheckinOutcome,
    pub ticket: Option<DoorTicketRow>,
}

impl Store {
    async fn door_ticket(&self, code: &str) -> Result<Option<DoorTicketRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT t.code, t.state, t.event_id, e.name AS event_name, \
                    tt.name AS ticket_type_name, u.name AS holder_name, t.checked_in_at \
             FROM tickets t JOIN events e ON e.id = t.event_id JOIN users u ON u.id = t.user_id \
             LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id WHERE t.code = $1",
        )
        .bind(code)
        .fetch_optional(&self.write)
        .await
    }

    /// Checks the ticket with this (normalized) code in for the event, at `at`.
    pub async fn check_in(
        &self,
        code: &str,
        event_id: i64,
        at: Timestamp,
    ) -> Result<Scan, sqlx::Error> {
        let won = sqlx::query(
            "UPDATE tickets SET state = 'checked_in', checked_in_at = $3 \
             WHERE code = $1 AND event_id = $2 AND state = 'confirmed'",
        )
        .bind(code)
        .bind(event_id)
        .bind(at)
        .execute(&self.write)
        .await?
        .rows_affected()
            == 1;
        let ticket = self.door_ticket(code).await?;
        let outcome = match &ticket {
            _ if won => CheckinOutcome::CheckedIn,
            None => CheckinOutcome::Unknown,
            Some(t) if t.event_id != event_id => CheckinOutcome::WrongEvent,
            Some(t) => match t.state {
                TicketState::CheckedIn => CheckinOutcome::AlreadyCheckedIn,
                TicketState::Cancelled => CheckinOutcome::Cancelled,
                TicketState::Refunded => CheckinOutcome::Refunded,
                TicketState::Pending | TicketState::Reserved => CheckinOutcome::NotPaid,
                // Refunded and cancelled after the update read it: not for the door.
                TicketState::Confirmed => CheckinOutcome::NotPaid,
            },
        };
        Ok(Scan { outcome, ticket })
    }

    /// Whether an event with this id exists (whatever its state).
    pub async fn event_exists(&self, event_id: i64) -> Result<bool, sqlx::Error> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM events WHERE id = $1")
            .bind(event_id)
            .fetch_optional(&self.read)
            .await?;
        Ok(found.is_some())
    }

    /// Every ticket of the event that was paid for (confirmed or checked in), or refunded by
    /// the box office (so that a scanner without the network refuses it by name).
    pub async fn event_door_list(&self, event_id: i64) -> Result<Vec<CodeState>, sqlx::Error> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT code, state FROM tickets \
             WHERE event_id = $1 AND state IN ('confirmed', 'checked_in', 'refunded') \
             ORDER BY code",
        )
        .bind(event_id)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(code, state)| {
                Ok(CodeState {
                    code,
                    state: super::parse_column("state", state)?,
                })
            })
            .collect()
    }
}
