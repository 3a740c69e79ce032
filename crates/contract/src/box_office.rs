//! The box office's JSON (`/admin/*`, managers only): sales at a glance, orders found and
//! opened with their history, refunds of chosen tickets, guest lists and the audit log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{EventSummary, Money, Order};

/// What one ticket type of an event sold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeSales {
    /// `null` for tickets of an event without types.
    pub ticket_type_id: Option<i64>,
    pub name: String,
    /// Paid for (confirmed or checked in).
    pub sold: u32,
    pub revenue: Money,
}

/// One event's sales, as the box office sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSales {
    pub event: EventSummary,
    pub capacity: Option<u32>,
    /// Paid for: confirmed or checked in.
    pub sold: u32,
    /// In buyers' carts (not counted against the capacity).
    pub pending: u32,
    /// Claimed by orders being paid (counted against the capacity).
    #[serde(default)]
    pub reserved: u32,
    pub checked_in: u32,
    /// What the sold tickets brought in, refunds taken off.
    pub revenue: Money,
    /// What the box office refunded.
    pub refunded: Money,
    /// How many tickets the box office refunded.
    #[serde(default)]
    pub refunded_tickets: u32,
    pub by_type: Vec<TypeSales>,
}

/// What an event sold on one day (in its venue's time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySales {
    pub date: chrono::NaiveDate,
    pub sold: u32,
    pub revenue: Money,
}

/// `GET /admin/events/{id}`: one event's sales, and its sales day by day (days with none
/// left out), by the day each order was paid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSalesDetail {
    #[serde(flatten)]
    pub sales: EventSales,
    pub by_day: Vec<DaySales>,
}

/// The figures of every event listed, added up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesTotals {
    pub sold: u32,
    pub checked_in: u32,
    pub revenue: Money,
    pub refunded: Money,
}

/// `GET /admin/events`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoxOfficeEvents {
    pub events: Vec<EventSales>,
    #[serde(default)]
    pub totals: SalesTotals,
    /// Changes whenever any ticket changes (a sale, a refund, a scan): pass it back with
    /// `wait` to be answered when it does.
    pub version: i64,
    pub next_cursor: Option<String>,
}

/// Who an order is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    /// `null` for a kiosk sale or a guest without one.
    pub email: Option<String>,
    pub name: String,
}

/// An order a search found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundOrder {
    #[serde(flatten)]
    pub order: Order,
    pub buyer: Buyer,
}

/// `GET /admin/orders`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundOrders {
    pub orders: Vec<FoundOrder>,
    pub next_cursor: Option<String>,
}

/// One thing that happened to an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub what: String,
    /// Who did it, when it was somebody: the buyer, a manager, the door.
    pub by: Option<String>,
}

/// `GET /admin/orders/{id}`: the order with its buyer and history (oldest first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub order: Order,
    pub buyer: Buyer,
    pub history: Vec<HistoryEntry>,
}

/// `POST /admin/orders/{id}/refund`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// The tickets to refund; `null` (or absent): every ticket still valid.
    #[serde(default)]
    pub tickets: Option<Vec<i64>>,
    /// Why, for the order's history and the audit log.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /admin/comps`: guest-list tickets at no cost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompRequest {
    pub event_id: i64,
    /// `null`: the event's cheapest type, when it has types.
    #[serde(default)]
    pub ticket_type_id: Option<i64>,
    pub quantity: u32,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    pub at: DateTime<Utc>,
    /// The manager's e-mail.
    pub user: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub detail: String,
}

/// `GET /admin/audit`, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLog {
    pub entries: Vec<AuditLine>,
    pub next_cursor: Option<String>,
}
