//! A SumUp sandbox under `/sumup-sandbox`: SumUp's checkout API and its error bodies
//! ([`api`]), a hosted payment page with Pay and Decline ([`page`]), and webhooks to each
//! checkout's `return_url`.

mod api;
mod page;

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::store::{SandboxCheckoutRow, Store};

/// Where the sandbox is mounted.
pub const SANDBOX_PATH: &str = "/sumup-sandbox";

#[derive(Clone)]
pub struct SandboxState {
    store: Store,
    /// The origin buyers' browsers reach us at, for hosted page URLs.
    public_url: String,
    http: reqwest::Client,
}

impl SandboxState {
    /// Fails only when no HTTP client (for webhooks) can be built.
    pub fn new(store: Store, public_url: &str) -> Result<SandboxState, reqwest::Error> {
        Ok(SandboxState {
            store,
            public_url: public_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
        })
    }
}

/// The sandbox's routes, to be nested under [`SANDBOX_PATH`].
pub fn router(state: SandboxState) -> Router {
    Router::new()
        .route(
            "/v0.1/checkouts",
            post(api::create_checkout).get(api::list_checkouts),
        )
        .route(
            "/v0.1/checkouts/{id}",
            get(api::get_checkout).delete(api::deactivate_checkout),
        )
        .route(
            "/v1.0/merchants/{merchant}/payments/{transaction}/refunds",
            post(api::refund),
        )
        .route(
            "/pay/{id}",
            get(page::payment_page).post(page::submit_payment),
        )
        .with_state(state)
}

/// An error as SumUp's API answers it.
pub(super) fn sumup_error(
    status: StatusCode,
    code: &str,
    message: &str,
    param: Option<&str>,
) -> Response {
    let mut body = json!({"error_code": code, "message": message});
    if let Some(param) = param {
        body["param"] = json!(param);
    }
    (status, Json(body)).into_response()
}

/// SumUp's answer for an unknown checkout or transaction.
pub(super) fn resource_not_found() -> Response {
    sumup_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "Resource not found",
        None,
    )
}

pub(super) fn internal(err: sqlx::Error) -> Response {
    tracing::error!(error = %err, "sandbox storage failed");
    sumup_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        "Internal error",
        None,
    )
}

/// The refusal of a request without an API key; any non-empty bearer key is accepted.
pub(super) fn refusal(headers: &axum::http::HeaderMap) -> Option<Response> {
    let ok = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| !key.trim().is_empty());
    (!ok).then(|| {
        sumup_error(
            StatusCode::UNAUTHORIZED,
            "NOT_AUTHORIZED",
            "Invalid or missing API key",
            None,
        )
    })
}

/// Tells the checkout's `return_url` that it changed, as SumUp does, retrying in the
/// background while the receiver is unreachable or failing.
pub(super) fn notify(state: &SandboxState, row: &SandboxCheckoutRow) {
    let Some(url) = row.return_url.clone() else {
        return;
    };
    let http = state.http.clone();
    let body = json!({"event_type": "CHECKOUT_STATUS_CHANGED", "id": row.id});
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(200);
        for attempt in 1..=8 {
            match http.post(&url).json(&body).send().await {
                Ok(response) if response.status().is_success() => return,
                Ok(response) => {
                    tracing::warn!(attempt, status = %response.status(), "webhook refused")
                }
                Err(err) => tracing::warn!(attempt, error = %err.without_url(), "webhook failed"),
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(60));
        }
    });
}
