//! `Idempotency-Key` for the POSTs that act (buy, checkout, pay): the same key from the same
//! user within 24 hours replays the first answer without acting again.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::extract::user_of;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::KeyClaim;
use crate::time;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer that is a replay of an earlier one.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Bodies larger than this are refused before they are hashed.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The fingerprint of a request: method, path and body.
fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

pub async fn idempotent(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(value) = request.headers().get(&IDEMPOTENCY_KEY) else {
        return next.run(request).await;
    };
    let key = match value.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) => key.to_owned(),
        _ => {
            return ApiError::validation(
                "Idempotency-Key",
                "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
            )
            .into_response();
        }
    };
    let (parts, body) = request.into_parts();
    // Keys are per user; without a user the handler answers 401 on its own.
    let user = match user_of(&parts, &state).await {
        Ok(Some(user)) => user,
        Ok(None) => return next.run(Request::from_parts(parts, body)).await,
        Err(err) => return err.into_response(),
    };
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::BadRequest("The body is too large.".to_owned()).into_response();
    };
    let hash = request_hash(parts.method.as_str(), parts.uri.path(), &bytes);
    let store = state.store();
    let claim = match store
        .claim_idempotency_key(user.id, &key, &hash, time::now())
        .await
    {
        Ok(claim) => claim,
        Err(err) => return ApiError::from(err).into_response(),
    };
    match claim {
        KeyClaim::Fresh => {}
        KeyClaim::Replay { status, body } => return replay(status, body),
        KeyClaim::InProgress => return ApiError::IdempotencyInProgress.into_response(),
        KeyClaim::Reused => return ApiError::IdempotencyKeyReused.into_response(),
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(err) => {
            let _ = store.release_idempotency_key(user.id, &key).await;
            return ApiError::internal(err).into_response();
        }
    };
    let status = parts.status;
    // An unexpected failure acted on nothing: let a retry with the same key run again.
    // Every other answer, errors included, is what a retry must see.
    let outcome = if status == StatusCode::INTERNAL_SERVER_ERROR {
        store.release_idempotency_key(user.id, &key).await
    } else {
        let text = String::from_utf8_lossy(&body);
        store
            .record_idempotent_response(user.id, &key, status.as_u16(), &text)
            .await
    };
    if let Err(err) = outcome {
        tracing::error!(error = %err, "could not record an idempotent answer");
    }
    Response::from_parts(parts, Body::from(body))
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    if status != StatusCode::NO_CONTENT {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::request_hash;

    #[test]
    fn the_fingerprint_covers_method_path_and_body() {
        let base = request_hash("POST", "/api/v1/events/1/tickets", b"{\"quantity\":1}");
        assert_eq!(
            base,
            request_hash("POST", "/api/v1/events/1/tickets", b"{\"quantity\":1}")
        );
        assert_ne!(
            base,
            request_hash("POST", "/api/v1/events/2/tickets", b"{\"quantity\":1}")
        );
        assert_ne!(
            base,
            request_hash("POST", "/api/v1/events/1/tickets", b"{\"quantity\":2}")
        );
    }
}
