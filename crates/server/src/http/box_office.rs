//! The box office (`/admin/*`, managers only): sales at a glance with a long-poll on change,
//! orders found and opened with their history, refunds of chosen tickets, guest lists, the
//! accountant's CSV and the audit log. Every change writes the audit log in its transaction.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::Offset;
use serde::Deserialize;
use storefront_contract::{
    AuditLine, AuditLog, BoxOfficeEvents, Buyer, CompRequest, DaySales, EventSalesDetail,
    FoundOrder, FoundOrders, Money, OrderDetail, OrderStatus, RefundRequest,
};

use super::admin::Manager;
use super::events::{decode_cursor, encode_cursor, event_summary};
use super::extract::{ApiJson, ApiQuery, ClientAddress, IdPath, whole};
use crate::box_office::{csv, event_sales, history, totals};
use crate::credentials::new_ticket_secret;
use crate::error::{ApiError, ApiResult};
use crate::payments::refund::try_refund;
use crate::state::AppState;
use crate::store::{
    AuditEntry, CompRefusal, ListCursor, NewComp, OrderRow, OrderSearch, RefundRefusal,
};
use crate::time::{self, to_utc};

/// The most events one answer lists.
const MAX_EVENTS: u32 = 200;
/// The longest a long-poll waits.
const MAX_WAIT_SECS: u64 = 30;
/// How often a long-poll looks at the sales' version (across servers: within this).
const WAIT_STEP: Duration = Duration::from_millis(250);
/// The most guest-list tickets one request makes.
const MAX_COMPS: u32 = 100;
/// The most audit lines one answer lists.
const AUDIT_PAGE: u32 = 100;

#[derive(Debug, Default, Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    archived: bool,
    #[serde(default, deserialize_with = "whole")]
    limit: Option<u32>,
    cursor: Option<String>,
    /// Seconds to wait for a change after `version`.
    #[serde(default, deserialize_with = "whole")]
    wait: Option<u64>,
    #[serde(default, deserialize_with = "whole")]
    version: Option<i64>,
}

fn bad_cursor() -> ApiError {
    ApiError::validation(
        "cursor",
        "This cursor is not one we gave out; start again without it.",
    )
}

/// `GET /admin/events`: every event's sales from the kept counts, by ticket type; with
/// `wait` and `version`, answered once sales change (or the wait ends).
pub async fn events(
    State(state): State<AppState>,
    _manager: Manager,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> ApiResult<Json<BoxOfficeEvents>> {
    let limit = query.limit.unwrap_or(MAX_EVENTS);
    if !(1..=MAX_EVENTS).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            format!("limit must be between 1 and {MAX_EVENTS}."),
        ));
    }
    let after = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(decode_cursor(text).ok_or_else(bad_cursor)?),
    };
    if query.wait.is_some_and(|w| w > MAX_WAIT_SECS) {
        return Err(ApiError::validation(
            "wait",
            format!("wait is at most {MAX_WAIT_SECS} seconds."),
        ));
    }
    let store = state.store();
    let mut version = store.sales_version().await?;
    if let (Some(wait), Some(seen)) = (query.wait, query.version) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
        let mut stopping = state.subscribe_stopping();
        while version == seen && tokio::time::Instant::now() < deadline {
            tokio::select! {
                _ = tokio::time::sleep(WAIT_STEP) => {}
                _ = stopping.wait_for(|s| *s) => break,
            }
            version = store.sales_version().await?;
        }
    }
    let mut rows = store
        .box_office_events(query.archived, after, limit)
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|last| {
            encode_cursor(ListCursor {
                starts_at: last.starts_at,
                id: last.id,
            })
        })
    } else {
        None
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts = store.event_counts(&ids).await?;
    let types = store.types_of_events(&ids).await?;
    let currency = state.currency();
    let zone = state.timezone();
    let events: Vec<_> = rows
        .iter()
        .map(|row| {
            event_sales(
                event_summary(row, &currency, zone.name()),
                counts.get(&row.id),
                types.get(&row.id).map_or(&[], Vec::as_slice),
            )
        })
        .collect();
    Ok(Json(BoxOfficeEvents {
        totals: totals(&events),
        events,
        version,
        next_cursor,
    }))
}

/// `GET /admin/events/{id}`: one event's sales, and by day in its venue's time.
pub async fn event(
    State(state): State<AppState>,
    _manager: Manager,
    IdPath(event_id): IdPath,
) -> ApiResult<Json<EventSalesDetail>> {
    let store = state.store();
    let row = store
        .box_office_event(event_id)
        .await?
        .ok_or(ApiError::NotFound("There is no such event."))?;
    let counts = store.event_counts(&[event_id]).await?;
    let types = store.types_of_events(&[event_id]).await?;
    let zone = row
        .page_timezone
        .as_deref()
        .and_then(|name| crate::time::zone(name).ok())
        .unwrap_or(state.timezone());
    let summary = event_summary(&row, &state.currency(), zone.name());
    // Days as the venue keeps them now (a change of summer time within the sales is a day's
    // edge off by an hour).
    let offset = i64::from(
        chrono::Utc::now()
            .with_timezone(&zone)
            .offset()
            .fix()
            .local_minus_utc(),
    );
    let by_day = store
        .sales_by_day(event_id, offset)
        .await?
        .into_iter()
        .filter_map(|(day, sold, revenue)| {
            Some(DaySales {
                date: chrono::DateTime::from_timestamp(day * 86_400, 0)?.date_naive(),
                sold: u32::try_from(sold).unwrap_or(u32::MAX),
                revenue: Money::from_minor(revenue),
            })
        })
        .collect();
    Ok(Json(EventSalesDetail {
        sales: event_sales(
            summary,
            counts.get(&event_id),
            types.get(&event_id).map_or(&[], Vec::as_slice),
        ),
        by_day,
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct OrdersQuery {
    q: Option<String>,
    #[serde(default, deserialize_with = "whole")]
    event_id: Option<i64>,
    status: Option<OrderStatus>,
    cursor: Option<String>,
}

fn encode_id(id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.to_string())
}

fn decode_id(text: &str) -> Option<i64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    String::from_utf8(bytes).ok()?.parse().ok()
}

fn buyer(order: &OrderRow) -> Buyer {
    Buyer {
        email: order.buyer_email.clone(),
        name: order.buyer_name.clone(),
    }
}

/// `GET /admin/orders`: orders found by number, ticket code, or part of the buyer's e-mail
/// or name; newest first.
pub async fn search_orders(
    State(state): State<AppState>,
    _manager: Manager,
    ApiQuery(query): ApiQuery<OrdersQuery>,
) -> ApiResult<Json<FoundOrders>> {
    let status = query.status;
    let before = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(decode_id(text).ok_or_else(bad_cursor)?),
    };
    if query.q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::validation(
            "q",
            "Search with at most 200 characters.",
        ));
    }
    let search = OrderSearch {
        text: query.q,
        event_id: query.event_id,
        status,
        before,
    };
    let store = state.store();
    let ids = store.search_orders(&search).await?;
    let rows = store.orders_by_ids(&ids).await?;
    let mut items = store.items_of(&ids).await?;
    let next_cursor = (ids.len() as i64 >= crate::store::SEARCH_LIMIT)
        .then(|| ids.last().map(|id| encode_id(*id)))
        .flatten();
    let payments = state.payments();
    let orders = rows
        .iter()
        .map(|row| FoundOrder {
            order: crate::payments::view::order_with_items(
                row,
                &items.remove(&row.id).unwrap_or_default(),
                payments,
            ),
            buyer: buyer(row),
        })
        .collect();
    Ok(Json(FoundOrders {
        orders,
        next_cursor,
    }))
}

async fn detail(state: &AppState, order_id: i64) -> ApiResult<OrderDetail> {
    let store = state.store();
    let row = store
        .order(order_id)
        .await?
        .ok_or(ApiError::NotFound("There is no such order."))?;
    let items = store.items_of_order(&row).await?;
    let mails = store.order_mails(order_id).await?;
    Ok(OrderDetail {
        order: crate::payments::view::order_with_items(&row, &items, state.payments()),
        buyer: buyer(&row),
        history: history(&row, &items, &mails),
    })
}

/// `GET /admin/orders/{id}`: any order, with its buyer, tickets, refunds and history.
pub async fn order(
    State(state): State<AppState>,
    _manager: Manager,
    IdPath(order_id): IdPath,
) -> ApiResult<Json<OrderDetail>> {
    Ok(Json(detail(&state, order_id).await?))
}

/// `POST /admin/orders/{id}/refund`: refunds the chosen tickets (all still valid when none
/// are named) through SumUp; they stop being valid and their places go back on sale.
pub async fn refund(
    State(state): State<AppState>,
    Manager(manager): Manager,
    ClientAddress(address): ClientAddress,
    IdPath(order_id): IdPath,
    ApiJson(request): ApiJson<RefundRequest>,
) -> ApiResult<Json<OrderDetail>> {
    if request
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 500)
    {
        return Err(ApiError::validation(
            "reason",
            "Say why in at most 500 characters.",
        ));
    }
    let note = request
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if request.tickets.as_ref().is_some_and(Vec::is_empty) {
        return Err(ApiError::validation(
            "tickets",
            "Name the tickets to refund, or send null for all of them.",
        ));
    }
    let audit = AuditEntry {
        user_id: Some(manager.id),
        address: Some(address),
        action: "order.refund",
    };
    let done = state
        .store()
        .refund_tickets(order_id, request.tickets, note, audit, time::now())
        .await
        .map_err(|refusal| match refusal {
            RefundRefusal::NoOrder => ApiError::NotFound("There is no such order."),
            RefundRefusal::NotPaid => ApiError::validation("order", refusal.to_string()),
            RefundRefusal::NotInOrder(_) => ApiError::validation("tickets", refusal.to_string()),
            RefundRefusal::AlreadyRefunded(message) => ApiError::Conflict(message),
            RefundRefusal::Database(err) => err.into(),
        })?;
    tracing::info!(
        manager = manager.email,
        order_id,
        refund_id = done.refund_id,
        amount = done.amount,
        tickets = done.tickets.len(),
        "the box office refunded tickets"
    );
    let payments = state.payments();
    // Asked of SumUp now; should SumUp not answer, the refund stays due and the worker asks
    // again, so the refund is made whatever happens to this request.
    if let Err(err) = try_refund(payments, done.refund_id).await {
        tracing::warn!(order_id, error = %err, "the refund is due; the worker sends it");
    }
    payments.order_changed(order_id);
    Ok(Json(detail(&state, order_id).await?))
}

/// Whether `text` can be an e-mail address: one `@` with something either side, a dot in
/// the domain, no spaces.
fn is_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !text.chars().any(|c| c.is_whitespace() || c.is_control())
                && text.len() <= 254
        }
        None => false,
    }
}

/// `POST /admin/comps`: guest-list tickets at no cost, with their ticket page.
pub async fn comp(
    State(state): State<AppState>,
    Manager(manager): Manager,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<CompRequest>,
) -> ApiResult<Response> {
    if !(1..=MAX_COMPS).contains(&request.quantity) {
        return Err(ApiError::validation(
            "quantity",
            format!("A guest list takes 1 to {MAX_COMPS} tickets at a time."),
        ));
    }
    let name = request.name.trim().to_owned();
    if name.is_empty() || request.name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "name",
            "Name the guest (at most 100 characters).",
        ));
    }
    let email = request
        .email
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    if email.as_deref().is_some_and(|e| !is_email(e)) {
        return Err(ApiError::validation(
            "email",
            "That is not an e-mail address.",
        ));
    }
    let comp = NewComp {
        event_id: request.event_id,
        ticket_type_id: request.ticket_type_id,
        quantity: request.quantity,
        name,
        email,
        currency: state.currency().to_string(),
        tickets_secret: new_ticket_secret(),
    };
    let audit = AuditEntry {
        user_id: Some(manager.id),
        address: Some(address),
        action: "order.comp",
    };
    let order_id = state
        .store()
        .create_comp(comp, audit, time::now())
        .await
        .map_err(|refusal| match refusal {
            CompRefusal::NoEvent => ApiError::NotFound("There is no such event."),
            CompRefusal::Archived => ApiError::validation("event_id", refusal.to_string()),
            CompRefusal::NoSuchType => ApiError::validation("ticket_type_id", refusal.to_string()),
            CompRefusal::PastCapacity { .. } => ApiError::Conflict(refusal.to_string()),
            CompRefusal::Database(err) => err.into(),
        })?;
    tracing::info!(manager = manager.email, order_id, "guest list tickets made");
    Ok((StatusCode::CREATED, Json(detail(&state, order_id).await?)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    #[serde(default, deserialize_with = "whole")]
    event_id: Option<i64>,
}

/// `GET /admin/orders.csv`: one row per ticket of every paid order (of one event).
pub async fn export(
    State(state): State<AppState>,
    _manager: Manager,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let rows = state.store().export_rows(query.event_id).await?;
    let name = match query.event_id {
        Some(id) => format!("orders-event-{id}.csv"),
        None => "orders.csv".to_owned(),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv(&rows),
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    cursor: Option<String>,
}

/// `GET /admin/audit`: who changed what, newest first.
pub async fn audit(
    State(state): State<AppState>,
    _manager: Manager,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditLog>> {
    let before = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(decode_id(text).ok_or_else(bad_cursor)?),
    };
    let mut rows = state.store().audit_entries(before, AUDIT_PAGE).await?;
    let next_cursor = if rows.len() > AUDIT_PAGE as usize {
        rows.truncate(AUDIT_PAGE as usize);
        rows.last().map(|r| encode_id(r.id))
    } else {
        None
    };
    Ok(Json(AuditLog {
        entries: rows
            .into_iter()
            .map(|r| AuditLine {
                at: to_utc(r.at),
                user: r.user_email,
                address: r.address,
                action: r.action,
                detail: r.detail,
            })
            .collect(),
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_told_from_other_text() {
        assert!(is_email("ada@example.com"));
        assert!(is_email("a.b+c@mail.example.co.uk"));
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada @x.com",
            "a@b@c.d",
            "ada@.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn id_cursors_round_trip_and_reject_junk() {
        assert_eq!(decode_id(&encode_id(42)), Some(42));
        assert_eq!(decode_id("!!"), None);
    }
}
