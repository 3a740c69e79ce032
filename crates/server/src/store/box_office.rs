//! The box office's reads and changes: events with their kept sales, any order found by
//! number, ticket code or buyer, an order's history, refunds of chosen tickets, guest-list
//! orders, the accountant's rows and the audit log. Every change is one transaction that
//! writes its audit entry with it.

use super::DbConn;
use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use storefront_contract::{OrderStatus, TicketState, normalize_ticket_code};

use super::catalog::AuditEntry;
use super::events::{EVENT_COLUMNS, EventRow, ListCursor, TicketTypeRow, like_pattern};
use super::tickets::{NewTickets, insert_ticket};
use super::{Backend, Store, id_list, parse_column};
use crate::mail::MailKind;
use crate::time::Timestamp;

/// The most orders one search answers.
pub const SEARCH_LIMIT: i64 = 50;

/// The shortest part of an e-mail or a name searched for (a trigram).
const MIN_BUYER_SEARCH: usize = 3;

/// Which orders to find.
#[derive(Clone, Debug, Default)]
pub struct OrderSearch {
    /// An order number, a ticket code, or part of a buyer's e-mail or name.
    pub text: Option<String>,
    pub event_id: Option<i64>,
    pub status: Option<OrderStatus>,
    /// Only orders older than this one (the cursor).
    pub before: Option<i64>,
}

/// Why the box office refused a refund.
#[derive(Debug, thiserror::Error)]
pub enum RefundRefusal {
    #[error("There is no such order.")]
    NoOrder,
    #[error("Only a paid order can be refunded.")]
    NotPaid,
    #[error("Ticket {0} is not in this order.")]
    NotInOrder(i64),
    #[error("{0}")]
    AlreadyRefunded(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A refund the box office made: its row, what it is worth, which tickets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoxOfficeRefund {
    pub refund_id: i64,
    pub order_id: i64,
    pub amount: i64,
    pub tickets: Vec<i64>,
}

/// A guest-list order to make.
#[derive(Clone, Debug)]
pub struct NewComp {
    pub event_id: i64,
    /// `None`: the event's cheapest type, when it has types.
    pub ticket_type_id: Option<i64>,
    pub quantity: u32,
    pub name: String,
    pub email: Option<String>,
    pub currency: String,
    pub tickets_secret: String,
}

/// Why the box office refused a guest-list order.
#[derive(Debug, thiserror::Error)]
pub enum CompRefusal {
    #[error("There is no such event.")]
    NoEvent,
    #[error("That event is archived.")]
    Archived,
    #[error("That ticket type is not one of the event's.")]
    NoSuchType,
    #[error("Only {available} place(s) left: the guest list cannot go past the capacity.")]
    PastCapacity { available: i64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The event a guest list is for.
#[derive(sqlx::FromRow)]
struct CompEvent {
    capacity: Option<i64>,
    archived_at: Option<i64>,
    page_id: Option<i64>,
    name: String,
}

/// One ticket as the accountant's export lists it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ExportRow {
    pub order_id: i64,
    pub code: String,
    pub event_name: String,
    pub ticket_type: Option<String>,
    pub cost: i64,
    #[sqlx(try_from = "String")]
    pub state: TicketState,
    pub buyer_email: Option<String>,
    pub buyer_name: String,
    pub paid_at: Option<Timestamp>,
    pub checked_in_at: Option<Timestamp>,
    /// What went back to the buyer for this ticket (refunded, or cancelled as oversold).
    pub refunded: i64,
}

/// One line of the audit log.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: Timestamp,
    pub user_email: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub detail: String,
}

/// Writes the audit log's line for a change, in the change's transaction.
pub(super) async fn write_audit(
    conn: &mut DbConn,
    audit: &AuditEntry,
    detail: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, address, action, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now)
    .bind(audit.user_id)
    .bind(audit.address.as_deref())
    .bind(audit.action)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// Every event (archived ones only when asked), by start then id, after the cursor; at
    /// most `limit + 1` (the extra one tells whether there is a next page).
    pub async fn box_office_events(
        &self,
        archived: bool,
        after: Option<ListCursor>,
        limit: u32,
    ) -> Result<Vec<EventRow>, sqlx::Error> {
        let archived = if archived {
            "e.archived_at IS NOT NULL"
        } else {
            "e.archived_at IS NULL"
        };
        let (a, b) = after.map_or((i64::MIN, i64::MIN), |c| (c.starts_at, c.id));
        sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
            "{EVENT_COLUMNS} WHERE {archived} AND $1 = $1 \
               AND (e.starts_at > $2 OR (e.starts_at = $2 AND e.id > $3)) \
             ORDER BY e.starts_at, e.id LIMIT $4"
        )))
        .bind(0_i64)
        .bind(a)
        .bind(b)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.read)
        .await
    }

    /// One event (archived or not), as the box office lists it.
    pub async fn box_office_event(&self, event_id: i64) -> Result<Option<EventRow>, sqlx::Error> {
        sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!("{EVENT_COLUMNS} WHERE e.id = $1")))
            .bind(event_id)
            .fetch_optional(&self.read)
            .await
    }

    /// The event's sold tickets (confirmed or checked in, as its counts have them) by the day
    /// they were sold: an order's by the day it was paid, a catalog's (no order) by the day
    /// it was added; days counted from the epoch `offset` seconds east of UTC: `(day,
    /// tickets, revenue)`.
    pub async fn sales_by_day(
        &self,
        event_id: i64,
        offset: i64,
    ) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT CAST((COALESCE(o.paid_at, t.created_at) + $2) / 86400 AS BIGINT) AS day, \
                    COUNT(*) AS sold, CAST(SUM(t.cost) AS BIGINT) AS revenue \
             FROM tickets t LEFT JOIN orders o ON o.id = t.order_id \
             WHERE t.event_id = $1 AND t.state IN ('confirmed', 'checked_in') \
             GROUP BY CAST((COALESCE(o.paid_at, t.created_at) + $2) / 86400 AS BIGINT) \
             ORDER BY day",
        )
        .bind(event_id)
        .bind(offset)
        .fetch_all(&self.read)
        .await
    }

    /// Every ticket type of these events, retired ones too (what they sold still counts).
    pub async fn types_of_events(
        &self,
        event_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<TicketTypeRow>>, sqlx::Error> {
        if event_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT event_id, id, name, cost FROM ticket_types WHERE event_id IN ({}) \
             ORDER BY cost, id",
            id_list(event_ids)
        )))
        .fetch_all(&self.read)
        .await?;
        let mut types: HashMap<i64, Vec<TicketTypeRow>> = HashMap::new();
        for (event_id, id, name, cost) in rows {
            types
                .entry(event_id)
                .or_default()
                .push(TicketTypeRow { id, name, cost });
        }
        Ok(types)
    }

    /// The orders a search finds, newest first, at most [`SEARCH_LIMIT`]: by order number, by
    /// ticket code, by part of the buyer's e-mail or name; with no text, the newest orders.
    pub async fn search_orders(&self, search: &OrderSearch) -> Result<Vec<i64>, sqlx::Error> {
        let before = search.before.unwrap_or(i64::MAX);
        let mut conn = self.reading().await?;
        // Each way of matching finds its candidates through an index; the filters apply to
        // the union.
        let mut candidates: Vec<i64> = Vec::new();
        let text = search
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        match text {
            None => {
                candidates = sqlx::query_scalar(
                    "SELECT id FROM orders WHERE id < $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(before)
                .bind(SEARCH_LIMIT * 4)
                .fetch_all(&mut *conn)
                .await?;
            }
            Some(text) => {
                let number = text.trim_start_matches('#').parse::<i64>().ok();
                if let Some(id) = number {
                    candidates.push(id);
                }
                let mut by_code = None;
                if let Some(code) = normalize_ticket_code(text) {
                    let order: Option<Option<i64>> =
                        sqlx::query_scalar("SELECT order_id FROM tickets WHERE code = $1")
                            .bind(code)
                            .fetch_optional(&mut *conn)
                            .await?;
                    by_code = order.flatten();
                    candidates.extend(by_code);
                }
                // A number is an order's (or a code's), and a ticket's code names its order:
                // names and e-mails are searched for anything else.
                if number.is_none() && by_code.is_none() {
                    candidates.extend(self.search_buyers(&mut conn, text, before).await?);
                }
            }
        }
        candidates.retain(|id| *id < before);
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        candidates.dedup();
        if candidates.is_empty() {
            return Ok(candidates);
        }
        let status = search.status.map(|s| s.as_str()).unwrap_or("");
        let found: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT o.id FROM orders o WHERE o.id IN ({}) \
               AND ($1 = '' OR o.status = $1) \
               AND ($2 = 0 OR EXISTS (SELECT 1 FROM tickets t WHERE t.order_id = o.id \
                                        AND t.event_id = $2)) \
             ORDER BY o.id DESC LIMIT $3",
            id_list(&candidates)
        )))
        .bind(status)
        .bind(search.event_id.unwrap_or(0))
        .bind(SEARCH_LIMIT)
        .fetch_all(&mut *conn)
        .await?;
        Ok(found)
    }

    /// Orders whose buyer's e-mail or name holds `text` (three characters or more): of
    /// accounts, and of guest lists and kiosk sales that named one. Found through trigram
    /// indexes (migration 0012), never by reading every buyer.
    async fn search_buyers(
        &self,
        conn: &mut DbConn,
        text: &str,
        before: i64,
    ) -> Result<Vec<i64>, sqlx::Error> {
        if text.chars().count() < MIN_BUYER_SEARCH {
            return Ok(Vec::new());
        }
        let (by_account, by_order, needle) = match self.backend {
            // A phrase of the trigram tokenizer: the text's trigrams, in a row.
            Backend::Sqlite => (
                "SELECT o.id FROM orders o WHERE o.id < $2 AND o.user_id IN \
                   (SELECT rowid FROM user_search WHERE user_search MATCH $1) \
                 ORDER BY o.id DESC LIMIT $3",
                "SELECT o.id FROM orders o WHERE o.id < $2 AND o.id IN \
                   (SELECT rowid FROM order_buyer_search WHERE order_buyer_search MATCH $1) \
                 ORDER BY o.id DESC LIMIT $3",
                format!("\"{}\"", text.replace('"', "\"\"")),
            ),
            Backend::Postgres => (
                "SELECT o.id FROM orders o WHERE o.id < $2 AND o.user_id IN \
                   (SELECT u.id FROM users u WHERE u.terminal_of IS NULL \
                      AND LOWER(u.email) || ' ' || LOWER(u.name) LIKE $1 ESCAPE '\\') \
                 ORDER BY o.id DESC LIMIT $3",
                "SELECT id FROM orders WHERE id < $2 \
                   AND (buyer_name IS NOT NULL OR buyer_email IS NOT NULL) \
                   AND LOWER(COALESCE(buyer_email, '')) || ' ' || LOWER(COALESCE(buyer_name, '')) \
                       LIKE $1 ESCAPE '\\' \
                 ORDER BY id DESC LIMIT $3",
                like_pattern(&text.to_lowercase()),
            ),
        };
        let mut candidates = Vec::new();
        for statement in [by_account, by_order] {
            let found: Vec<i64> = sqlx::query_scalar(statement)
                .bind(&needle)
                .bind(before)
                .bind(SEARCH_LIMIT * 4)
                .fetch_all(&mut *conn)
                .await?;
            candidates.extend(found);
        }
        Ok(candidates)
    }

    /// Refunds the order's tickets (`None`: every one still valid) in one transaction: they
    /// become `refunded` (their places free again), a refund of what they cost becomes due
    /// (or is done at once when they cost nothing), and the audit log says who did it.
    pub async fn refund_tickets(
        &self,
        order_id: i64,
        tickets: Option<Vec<i64>>,
        note: Option<String>,
        audit: AuditEntry,
        now: Timestamp,
    ) -> Result<BoxOfficeRefund, RefundRefusal> {
        self.in_turn(move |store| async move {
            let mut conn = store.writing().await?;
            let mut tx = conn.begin().await?;
            store.hold_order(&mut tx, order_id).await?;
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
                    .bind(order_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(status) = status else {
                return Ok(Err(RefundRefusal::NoOrder));
            };
            if parse_column::<OrderStatus>("status", status)? != OrderStatus::Paid {
                return Ok(Err(RefundRefusal::NotPaid));
            }
            let held: Vec<(i64, String, String, i64)> = sqlx::query_as(
                "SELECT id, code, state, cost FROM tickets WHERE order_id = $1 ORDER BY id",
            )
            .bind(order_id)
            .fetch_all(&mut *tx)
            .await?;
            let valid = |state: &str| matches!(state, "confirmed" | "checked_in");
            let chosen: Vec<&(i64, String, String, i64)> = match &tickets {
                None => held.iter().filter(|t| valid(&t.2)).collect(),
                Some(ids) => {
                    let mut chosen = Vec::new();
                    for id in ids {
                        match held.iter().find(|t| t.0 == *id) {
                            Some(t) if valid(&t.2) => chosen.push(t),
                            Some(t) => {
                                return Ok(Err(RefundRefusal::AlreadyRefunded(format!(
                                    "Ticket {} was already {}.",
                                    t.1,
                                    if t.2 == "refunded" {
                                        "refunded"
                                    } else {
                                        "cancelled"
                                    }
                                ))));
                            }
                            None => return Ok(Err(RefundRefusal::NotInOrder(*id))),
                        }
                    }
                    chosen.sort_unstable();
                    chosen.dedup();
                    chosen
                }
            };
            if chosen.is_empty() {
                return Ok(Err(RefundRefusal::AlreadyRefunded(
                    "Every ticket of this order was already refunded or cancelled.".to_owned(),
                )));
            }
            let amount: i64 = chosen.iter().map(|t| t.3).sum();
            let state = if amount == 0 { "refunded" } else { "due" };
            let refund_id: i64 = sqlx::query_scalar(
                "INSERT INTO refunds (order_id, reason, amount, status, created_at, finished_at, \
                                      by_user, note) \
                 VALUES ($1, 'box_office', $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(order_id)
            .bind(amount)
            .bind(state)
            .bind(now)
            .bind((amount == 0).then_some(now))
            .bind(audit.user_id)
            .bind(note.as_deref())
            .fetch_one(&mut *tx)
            .await?;
            let ids: Vec<i64> = chosen.iter().map(|t| t.0).collect();
            let changed = sqlx::query(AssertSqlSafe(format!(
                "UPDATE tickets SET state = 'refunded', refund_id = $1 \
                 WHERE id IN ({}) AND state IN ('confirmed', 'checked_in')",
                id_list(&ids)
            )))
            .bind(refund_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed != ids.len() as u64 {
                // Read under the order's hold: only a change outside the box office could
                // get here, and then nothing is refunded.
                tx.rollback().await?;
                return Ok(Err(RefundRefusal::AlreadyRefunded(
                    "Those tickets changed meanwhile; look again.".to_owned(),
                )));
            }
            let codes: Vec<&str> = chosen.iter().map(|t| t.1.as_str()).collect();
            let detail = format!(
                "order {order_id}: refunded {} ticket(s) ({}), {amount} in minor units{}",
                ids.len(),
                codes.join(", "),
                note.as_deref()
                    .map(|n| format!("; reason: {n}"))
                    .unwrap_or_default()
            );
            write_audit(&mut tx, &audit, &detail, now).await?;
            tx.commit().await?;
            Ok(Ok(BoxOfficeRefund {
                refund_id,
                order_id,
                amount,
                tickets: ids,
            }))
        })
        .await?
    }

    /// Makes a guest-list order in one transaction: paid, nothing to pay, its tickets
    /// confirmed at no cost and counted against the capacity (refused past it), its ticket
    /// page ready; written to the audit log. Returns the order's id.
    pub async fn create_comp(
        &self,
        comp: NewComp,
        audit: AuditEntry,
        now: Timestamp,
    ) -> Result<i64, CompRefusal> {
        self.in_turn(move |store| async move {
            let mut conn = store.writing().await?;
            let mut tx = conn.begin().await?;
            // Against every settlement and other guest list of the event (PostgreSQL; on
            // SQLite one transaction runs at a time).
            if store.backend == super::Backend::Postgres {
                sqlx::query("SELECT id FROM events WHERE id = $1 FOR UPDATE")
                    .bind(comp.event_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            let event: Option<CompEvent> = sqlx::query_as(
                "SELECT e.ticket_count AS capacity, e.archived_at, c.page_id, e.name FROM events e \
                 JOIN calendars c ON c.id = e.calendar_id WHERE e.id = $1",
            )
            .bind(comp.event_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(CompEvent {
                capacity,
                archived_at,
                page_id,
                name: event_name,
            }) = event
            else {
                return Ok(Err(CompRefusal::NoEvent));
            };
            if archived_at.is_some() {
                return Ok(Err(CompRefusal::Archived));
            }
            let types: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM ticket_types WHERE event_id = $1 AND retired_at IS NULL \
                 ORDER BY cost, id",
            )
            .bind(comp.event_id)
            .fetch_all(&mut *tx)
            .await?;
            let ticket_type_id = match comp.ticket_type_id {
                Some(id) if types.contains(&id) => Some(id),
                Some(_) => return Ok(Err(CompRefusal::NoSuchType)),
                None => types.first().copied(),
            };
            if let Some(capacity) = capacity {
                let held: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT {} FROM events e WHERE e.id = $1",
                    super::sales::HELD_OF_EVENT
                )))
                .bind(comp.event_id)
                .fetch_one(&mut *tx)
                .await?;
                let available = (capacity - held).max(0);
                if i64::from(comp.quantity) > available {
                    return Ok(Err(CompRefusal::PastCapacity { available }));
                }
            }
            let order_id: i64 = sqlx::query_scalar(
                "INSERT INTO orders (user_id, status, total, created_at, page_id, currency, \
                                     paid_at, tickets_secret, method, buyer_name, buyer_email) \
                 VALUES ($1, 'paid', 0, $2, $3, $4, $2, $5, 'comp', $6, $7) RETURNING id",
            )
            .bind(audit.user_id)
            .bind(now)
            .bind(page_id)
            .bind(&comp.currency)
            .bind(&comp.tickets_secret)
            .bind(&comp.name)
            .bind(comp.email.as_deref())
            .fetch_one(&mut *tx)
            .await?;
            let new = NewTickets {
                event_id: comp.event_id,
                // The manager holds guest-list tickets; the order names the guest.
                user_id: audit.user_id.unwrap_or_default(),
                ticket_type_id,
                cost: 0,
                quantity: 1,
                state: TicketState::Confirmed,
            };
            for _ in 0..comp.quantity {
                let id = insert_ticket(&mut tx, &new, now).await?;
                sqlx::query("UPDATE tickets SET order_id = $1 WHERE id = $2")
                    .bind(order_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let detail = format!(
                "order {order_id}: guest list, {} ticket(s) to {event_name} for {}{}",
                comp.quantity,
                comp.name,
                comp.email
                    .as_deref()
                    .map(|e| format!(" <{e}>"))
                    .unwrap_or_default()
            );
            write_audit(&mut tx, &audit, &detail, now).await?;
            // The guest's tickets, to the guest (never to the manager who made them).
            if comp.email.is_some() {
                store
                    .queue_order_mail(&mut tx, MailKind::OrderPaid, order_id, None, now)
                    .await?;
            }
            tx.commit().await?;
            Ok(Ok(order_id))
        })
        .await?
    }

    /// Every ticket of a paid order (of one event, or all), for the accountant: by order,
    /// then ticket.
    pub async fn export_rows(&self, event_id: Option<i64>) -> Result<Vec<ExportRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT t.order_id, t.code, e.name AS event_name, tt.name AS ticket_type, t.cost, \
                    t.state, \
                    CASE WHEN o.method = 'comp' OR u.terminal IS NOT NULL THEN o.buyer_email \
                         ELSE COALESCE(o.buyer_email, u.email) END AS buyer_email, \
                    COALESCE(o.buyer_name, u.name) AS buyer_name, o.paid_at, t.checked_in_at, \
                    CASE WHEN t.state IN ('refunded', 'cancelled') THEN t.cost ELSE 0 END \
                      AS refunded \
             FROM tickets t JOIN orders o ON o.id = t.order_id \
             JOIN users u ON u.id = o.user_id JOIN events e ON e.id = t.event_id \
             LEFT JOIN ticket_types tt ON tt.id = t.ticket_type_id \
             WHERE o.status = 'paid' AND ($1 = 0 OR t.event_id = $1) \
             ORDER BY t.order_id, t.id",
        )
        .bind(event_id.unwrap_or(0))
        .fetch_all(&self.read)
        .await
    }

    /// The audit log, newest first, older than the cursor; at most `limit + 1`.
    pub async fn audit_entries(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT a.id, a.at, u.email AS user_email, a.address, a.action, a.detail \
             FROM audit_log a LEFT JOIN users u ON u.id = a.user_id \
             WHERE a.id < $1 ORDER BY a.id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.read)
        .await
    }
}
