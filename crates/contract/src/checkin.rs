//! Checking tickets in at the door: what a scan asks, what it answers, and how a typed or
//! scanned code is read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::TicketState;

crate::named_enum! {
    /// What one scan found.
    pub enum CheckinOutcome {
        /// Welcome: the ticket was confirmed and is now checked in.
        CheckedIn = "checked_in",
        /// It was checked in before (`checked_in_at` says when).
        AlreadyCheckedIn = "already_checked_in",
        /// A real ticket, for another event.
        WrongEvent = "wrong_event",
        /// In a cart or an order not yet paid.
        NotPaid = "not_paid",
        /// Removed from a cart, or refunded because its event sold out.
        Cancelled = "cancelled",
        /// Refunded by the box office.
        Refunded = "refunded",
        /// No ticket has this code.
        Unknown = "unknown",
    }
}

/// `POST /checkin`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckinRequest {
    pub code: String,
    pub event_id: i64,
}

/// The ticket a scan found, as door staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedTicket {
    pub code: String,
    pub state: TicketState,
    pub event_id: i64,
    pub event_name: String,
    pub ticket_type_name: Option<String>,
    /// The buyer's name.
    pub holder_name: String,
}

/// The answer to one scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckinResult {
    pub outcome: CheckinOutcome,
    pub ticket: Option<CheckedTicket>,
    /// When the ticket was checked in (now, or at the earlier scan).
    pub checked_in_at: Option<DateTime<Utc>>,
}

/// One scan made while the door was offline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineScan {
    pub code: String,
    pub event_id: i64,
    pub scanned_at: DateTime<Utc>,
}

/// `POST /checkin/batch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckinBatch {
    pub scans: Vec<OfflineScan>,
}

/// The answer to `POST /checkin/batch`: one result per scan, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckinBatchResult {
    pub results: Vec<CheckinResult>,
}

/// One ticket of an event, for scanning without the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeState {
    pub code: String,
    pub state: TicketState,
}

/// `GET /events/{id}/checkins`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventCheckins {
    pub checked_in: u32,
    /// Tickets that can be checked in or were: confirmed and checked in.
    pub sold: u32,
    pub codes: Vec<CodeState>,
}

/// A ticket code as stored (`7KQ2-M9XD`) from what a scanner or a person typed: case,
/// spaces and dashes do not matter, and the letters O, I and L read as the digits they look
/// like (the codes use Crockford's alphabet, which has none of them). `None` when it cannot
/// be a code.
pub fn normalize_ticket_code(typed: &str) -> Option<String> {
    let symbols: Vec<char> = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    if symbols.len() != 8 || !symbols.iter().all(char::is_ascii_alphanumeric) {
        return None;
    }
    let (first, second) = symbols.split_at(4);
    Some(format!(
        "{}-{}",
        first.iter().collect::<String>(),
        second.iter().collect::<String>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_however_they_are_typed() {
        for typed in ["7KQ2-M9XD", "7kq2m9xd", " 7KQ2 M9XD ", "7-K-Q-2-M-9-X-D"] {
            assert_eq!(normalize_ticket_code(typed).as_deref(), Some("7KQ2-M9XD"));
        }
        assert_eq!(
            normalize_ticket_code("O1LI-0000").as_deref(),
            Some("0111-0000")
        );
        assert_eq!(normalize_ticket_code("7KQ2-M9X"), None);
        assert_eq!(normalize_ticket_code("7KQ2-M9XD9"), None);
        assert_eq!(normalize_ticket_code("7KQ2-M9X!"), None);
        assert_eq!(normalize_ticket_code(""), None);
    }
}
