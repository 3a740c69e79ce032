//! Events: the listing, one event's detail, and buying tickets into the cart.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use serde::Deserialize;
use storefront_contract::{
    BuyTicketsRequest, BuyTicketsResponse, EventDetail, EventList, EventSummary, Money,
    SOLD_OUT_NOTICE, TicketState,
};

use super::cart::summary_from;
use super::extract::{ApiJson, ApiQuery, Buyer, IdPath, MaybeUser, whole};
use crate::capacity::availability;
use crate::error::{ApiError, ApiResult};
use crate::pricing::ticket_price;
use crate::state::AppState;
use crate::store::NewTickets;
use crate::store::{EventFilter, EventRow, ListCursor, OnSale};
use crate::time::{self, to_utc};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<String>,
    #[serde(default, deserialize_with = "whole")]
    limit: Option<i64>,
    cursor: Option<String>,
}

/// The event as the API lists it; its times are in its venue's zone (`default_zone` when
/// the venue has none of its own).
pub(crate) fn event_summary(row: &EventRow, currency: &str, default_zone: &str) -> EventSummary {
    let (capacity, sold, available, sold_out) = availability(row.ticket_count, row.sold);
    EventSummary {
        id: row.id,
        slug: row.slug.clone(),
        name: row.name.clone(),
        starts_at: to_utc(row.starts_at),
        ends_at: row.ends_at.map(to_utc),
        calendar: row.calendar(),
        page: row.page(),
        price_from: row.price_from(),
        currency: currency.to_owned(),
        capacity,
        sold,
        available,
        sold_out,
        timezone: row
            .page_timezone
            .clone()
            .unwrap_or_else(|| default_zone.to_owned()),
    }
}

pub(crate) fn encode_cursor(cursor: ListCursor) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{}.{}", cursor.starts_at, cursor.id))
}

pub(crate) fn decode_cursor(text: &str) -> Option<ListCursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (starts_at, id) = text.split_once('.')?;
    Some(ListCursor {
        starts_at: starts_at.parse().ok()?,
        id: id.parse().ok()?,
    })
}

pub async fn list_events(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<EventList>> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            format!("limit must be between 1 and {MAX_LIMIT}."),
        ));
    }
    let after = match query.cursor.as_deref() {
        None | Some("") => None,
        Some(text) => Some(decode_cursor(text).ok_or_else(|| {
            ApiError::validation(
                "cursor",
                "This cursor is not one we gave out; start again without it.",
            )
        })?),
    };
    let filter = EventFilter {
        text: query
            .q
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty()),
        page_slug: query.page.filter(|p| !p.is_empty()),
        after,
        limit: limit as u32,
    };
    let mut rows = state.store().list_events(&filter, time::now()).await?;
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
    Ok(Json(EventList {
        events: rows
            .iter()
            .map(|row| event_summary(row, &state.currency(), state.timezone().name()))
            .collect(),
        next_cursor,
    }))
}

async fn listed_event(state: &AppState, id: i64) -> ApiResult<EventRow> {
    state
        .store()
        .listed_event(id, time::now())
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_EVENT))
}

const NO_SUCH_EVENT: &str = "There is no such event on sale.";

pub async fn get_event(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    IdPath(id): IdPath,
) -> ApiResult<Json<EventDetail>> {
    let row = listed_event(&state, id).await?;
    let ticket_types = state.store().ticket_types_of(&row).await?;
    let in_my_cart = match &user {
        Some(user) => state.store().pending_ticket_count(row.id, user.id).await?,
        None => 0,
    };
    Ok(Json(EventDetail {
        summary: event_summary(&row, &state.currency(), state.timezone().name()),
        description: row.description.clone(),
        location: row.location.clone(),
        ticket_price: row.ticket_price.map(Money::from_minor),
        ticket_types: ticket_types.iter().map(|t| t.to_ticket_type()).collect(),
        max_per_order: u32::try_from(row.max_per_order).unwrap_or(1),
        in_my_cart: u32::try_from(in_my_cart).unwrap_or(u32::MAX),
    }))
}

/// Puts `quantity` pending tickets in the buyer's cart. No availability check: pending
/// tickets hold no place; checkout claims them and payment confirms them.
pub async fn buy_tickets(
    State(state): State<AppState>,
    Buyer(user): Buyer,
    IdPath(id): IdPath,
    ApiJson(request): ApiJson<BuyTicketsRequest>,
) -> ApiResult<(StatusCode, Json<BuyTicketsResponse>)> {
    let OnSale { event, types } = state
        .store()
        .on_sale(id, time::now())
        .await?
        .ok_or(ApiError::NotFound(NO_SUCH_EVENT))?;
    if !(1..=event.max_per_order).contains(&request.quantity) {
        return Err(ApiError::validation(
            "quantity",
            format!("Choose between 1 and {} tickets.", event.max_per_order),
        ));
    }
    let (ticket_type_id, cost) = ticket_price(event.ticket_price, &types, request.ticket_type_id)
        .map_err(|err| match err.is_request_error() {
        true => ApiError::validation("ticket_type_id", err.to_string()),
        false => ApiError::internal(format!("event {}: {err}", event.id)),
    })?;
    let new = NewTickets {
        event_id: event.id,
        user_id: user.id,
        ticket_type_id,
        cost,
        quantity: request.quantity as u32,
        state: TicketState::Pending,
    };
    let max = event.max_per_order;
    let (tickets, cart) = match state
        .store()
        .create_tickets_within(&new, max, time::now())
        .await?
    {
        Ok(bought) => bought,
        Err(pending) => {
            let more = (max - pending).max(0);
            return Err(ApiError::validation(
                "quantity",
                match more {
                    0 => format!(
                        "Up to {max} per order, and your cart already holds {pending} for this event."
                    ),
                    1 => format!(
                        "Up to {max} per order: your cart holds {pending}, so 1 more can be added."
                    ),
                    _ => format!(
                        "Up to {max} per order: your cart holds {pending}, so {more} more can be added."
                    ),
                },
            ));
        }
    };
    Ok((
        StatusCode::CREATED,
        Json(BuyTicketsResponse {
            tickets: tickets.iter().map(|t| t.to_ticket()).collect(),
            cart: summary_from(&cart, &state.currency()),
            notice: SOLD_OUT_NOTICE.to_owned(),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let cursor = ListCursor {
            starts_at: 1_796_153_400,
            id: 42,
        };
        assert_eq!(decode_cursor(&encode_cursor(cursor)), Some(cursor));
        assert_eq!(decode_cursor("not a cursor"), None);
        assert_eq!(decode_cursor(""), None);
    }
}
