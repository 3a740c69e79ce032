//! Check-in at the door, for staff only: one scan (`POST /checkin`), the scans made while
//! the door was offline (`POST /checkin/batch`), and an event's list of codes and counts for
//! scanning without the network (`GET /events/{id}/checkins`).

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use storefront_contract::{
    CheckinBatch, CheckinBatchResult, CheckinOutcome, CheckinRequest, CheckinResult, EventCheckins,
    TicketState, normalize_ticket_code,
};

use super::extract::{ApiJson, AuthUser, IdPath};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::time::{self, Timestamp, to_utc};

/// Offline scans uploaded at once, at most.
const MAX_BATCH: usize = 1000;

/// A signed-in member of the door staff; anyone else signed in is `403 forbidden`.
pub struct Staff;

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if user.role.checks_in() {
            Ok(Staff)
        } else {
            Err(ApiError::Forbidden("Only door staff can check tickets in."))
        }
    }
}

/// Checks one scanned or typed code in for the event, at `at`.
async fn scan(
    state: &AppState,
    code: &str,
    event_id: i64,
    at: Timestamp,
) -> ApiResult<CheckinResult> {
    let Some(code) = normalize_ticket_code(code) else {
        return Ok(CheckinResult {
            outcome: CheckinOutcome::Unknown,
            ticket: None,
            checked_in_at: None,
        });
    };
    let scan = state.store().check_in(&code, event_id, at).await?;
    if scan.outcome == CheckinOutcome::CheckedIn {
        tracing::info!(event_id, code, "checked in");
    }
    let checked_in_at = scan
        .ticket
        .as_ref()
        .filter(|t| t.state == TicketState::CheckedIn)
        .and_then(|t| t.checked_in_at)
        .map(to_utc);
    Ok(CheckinResult {
        outcome: scan.outcome,
        // Staff see whose ticket it is, unless it is no ticket at all.
        ticket: scan.ticket.as_ref().map(|t| t.to_checked_ticket()),
        checked_in_at,
    })
}

async fn known_event(state: &AppState, event_id: i64) -> ApiResult<()> {
    if state.store().event_exists(event_id).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound("There is no such event."))
    }
}

/// `POST /checkin`.
pub async fn check_in(
    State(state): State<AppState>,
    _staff: Staff,
    ApiJson(request): ApiJson<CheckinRequest>,
) -> ApiResult<Json<CheckinResult>> {
    known_event(&state, request.event_id).await?;
    Ok(Json(
        scan(&state, &request.code, request.event_id, time::now()).await?,
    ))
}

/// `POST /checkin/batch`: each scan as `POST /checkin` answers it, checked in at the time it
/// was scanned (never later than now).
pub async fn check_in_batch(
    State(state): State<AppState>,
    _staff: Staff,
    ApiJson(batch): ApiJson<CheckinBatch>,
) -> ApiResult<Json<CheckinBatchResult>> {
    if batch.scans.len() > MAX_BATCH {
        return Err(ApiError::validation(
            "scans",
            format!("Send at most {MAX_BATCH} scans at once."),
        ));
    }
    let now = time::now();
    let mut results = Vec::with_capacity(batch.scans.len());
    for offline in &batch.scans {
        known_event(&state, offline.event_id).await?;
        let at = offline.scanned_at.timestamp().min(now);
        results.push(scan(&state, &offline.code, offline.event_id, at).await?);
    }
    Ok(Json(CheckinBatchResult { results }))
}

/// `GET /events/{id}/checkins`.
pub async fn event_checkins(
    State(state): State<AppState>,
    _staff: Staff,
    IdPath(event_id): IdPath,
) -> ApiResult<Json<EventCheckins>> {
    known_event(&state, event_id).await?;
    let codes = state.store().event_door_list(event_id).await?;
    let checked_in = codes
        .iter()
        .filter(|c| c.state == TicketState::CheckedIn)
        .count();
    let sold = codes
        .iter()
        .filter(|c| c.state != TicketState::Refunded)
        .count();
    Ok(Json(EventCheckins {
        checked_in: u32::try_from(checked_in).unwrap_or(u32::MAX),
        sold: u32::try_from(sold).unwrap_or(u32::MAX),
        codes,
    }))
}
