//! A SumUp sandbox under `/sumup-sandbox`: SumUp's checkout, transaction and refund API with
//! its answers and error bodies ([`api`]), a hosted payment page with Pay and Decline
//! ([`page`]), a virtual Solo card reader ([`reader`]), and notifications of every change ([`notify`]): the `return_url` callback and
//! SumUp's event notifications, signed as SumUp signs them, retried on SumUp's schedule.

mod api;
mod notify;
mod page;
mod reader;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::store::Store;

pub use notify::{SIGNATURE_HEADER, sign};

/// Where the sandbox is mounted.
pub const SANDBOX_PATH: &str = "/sumup-sandbox";

/// The merchant the sandbox's API key belongs to (`GET /v0.1/me`), and the shop's own.
pub const SANDBOX_MERCHANT: &str = "MSANDBOX";

/// How the sandbox behaves beyond SumUp's API.
#[derive(Clone, Debug)]
pub struct SandboxOptions {
    /// Calls each checkout's `return_url` with `{"event_type":"CHECKOUT_STATUS_CHANGED","id":…}`.
    pub return_url_callbacks: bool,
    /// Sends SumUp's event notification (`checkout.status.updated`) to the shop's webhook.
    pub event_notifications: bool,
    /// Waits before each retry of a notification the receiver did not take: SumUp's
    /// schedule by default, shorter in tests.
    pub webhook_retry: Vec<Duration>,
}

impl SandboxOptions {
    /// SumUp retries a notification after 1 minute, 5 minutes, 20 minutes and 2 hours.
    pub fn sumup_retry_schedule() -> Vec<Duration> {
        [60, 5 * 60, 20 * 60, 2 * 60 * 60]
            .into_iter()
            .map(Duration::from_secs)
            .collect()
    }
}

impl Default for SandboxOptions {
    fn default() -> SandboxOptions {
        SandboxOptions {
            return_url_callbacks: true,
            event_notifications: true,
            webhook_retry: SandboxOptions::sumup_retry_schedule(),
        }
    }
}

#[derive(Clone)]
pub struct SandboxState {
    store: Store,
    /// The origin buyers' browsers reach us at, for hosted page URLs.
    public_url: String,
    /// Where event notifications go (the shop's webhook).
    events_url: String,
    options: Arc<SandboxOptions>,
    /// Signs every notification (`X-SumUp-Webhook-Signature`) when set: the shop's secret.
    signing_secret: Option<Arc<str>>,
    http: reqwest::Client,
    /// Refund requests still to be answered `503`, as a SumUp outage would.
    refunds_unavailable: Arc<AtomicU32>,
    /// Readers that refuse payments as an offline reader does.
    readers_offline: Arc<Mutex<HashSet<String>>>,
    /// Reader checkouts are read back with `null` where SumUp's spec allows it.
    reader_nulls: Arc<std::sync::atomic::AtomicBool>,
    /// Readers paired by a code (`POST …/readers`), oldest first; this process's only.
    paired: Arc<Mutex<Vec<reader::Paired>>>,
}

impl SandboxState {
    /// The merchant the API key belongs to.
    pub(super) fn merchant_code(&self) -> &'static str {
        SANDBOX_MERCHANT
    }

    /// Where the sandbox's API is, as SumUp's `https://api.sumup.com`.
    pub(super) fn api_origin(&self) -> String {
        format!("{}{SANDBOX_PATH}", self.public_url)
    }

    /// Fails only when no HTTP client (for webhooks) can be built.
    pub fn new(
        store: Store,
        public_url: &str,
        events_url: &str,
        signing_secret: Option<&str>,
        options: SandboxOptions,
    ) -> Result<SandboxState, reqwest::Error> {
        Ok(SandboxState {
            store,
            public_url: public_url.trim_end_matches('/').to_owned(),
            events_url: events_url.to_owned(),
            options: Arc::new(options),
            signing_secret: signing_secret.map(Arc::from),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            refunds_unavailable: Arc::default(),
            readers_offline: Arc::default(),
            reader_nulls: Arc::default(),
            paired: Arc::default(),
        })
    }

    /// Takes one of the refund failures asked for through `POST /faults`, if any is left.
    fn take_refund_fault(&self) -> bool {
        self.refunds_unavailable
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub(super) fn reader_is_offline(&self, reader_id: &str) -> bool {
        self.readers_offline
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(reader_id)
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
            "/v2.1/merchants/{merchant}/transactions",
            get(api::get_transaction),
        )
        .route(
            "/v2.1/merchants/{merchant}/transactions/history",
            get(api::transaction_history),
        )
        .route("/v1/merchants/{merchant}", get(api::merchant))
        .route("/v0.1/me", get(api::me))
        .route(
            "/v0.1/merchants/{merchant}/readers",
            post(reader::pair).get(reader::list),
        )
        .route(
            "/v0.1/merchants/{merchant}/readers/{reader}",
            get(reader::get_reader),
        )
        .route(
            "/v0.1/merchants/{merchant}/readers/{reader}/status",
            get(reader::status),
        )
        .route(
            "/v0.1/merchants/{merchant}/readers/{reader}/checkout",
            post(reader::create_checkout),
        )
        .route(
            "/v0.1/merchants/{merchant}/readers/{reader}/checkout/{id}",
            get(reader::get_checkout),
        )
        .route(
            "/v0.1/merchants/{merchant}/readers/{reader}/terminate",
            post(reader::terminate),
        )
        .route(
            "/readers/{reader}",
            get(reader::reader_page).post(reader::present_card),
        )
        .route("/faults", post(api::faults))
        .route(
            "/pay/{id}",
            get(page::payment_page).post(page::submit_payment),
        )
        .layer(axum::middleware::map_response(as_sumup_answers))
        .with_state(state)
}

/// Any refusal made in plain text by axum's extractors (a query or form that does not
/// parse, say) is answered as SumUp answers: a problem document in JSON.
async fn as_sumup_answers(response: Response) -> Response {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    if !(plain && response.status().is_client_error()) {
        return response;
    }
    let status = response.status();
    let detail = match axum::body::to_bytes(response.into_body(), 64 * 1024).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => "The request could not be read.".to_owned(),
    };
    let title = status.canonical_reason().unwrap_or("Bad Request");
    let code = title.to_ascii_uppercase().replace(' ', "_");
    problem(status, &code, title, &detail)
}

/// An error in SumUp's older shape, as its checkout endpoints answer.
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

/// An error as a problem (RFC 9457), as SumUp's newer endpoints (refunds, transactions) and
/// its authorization answer: `type`, `title`, `status`, `detail`, and SumUp's `error_code`.
pub(super) fn problem(status: StatusCode, code: &str, title: &str, detail: &str) -> Response {
    let slug = code.to_ascii_lowercase().replace('_', "-");
    let body = json!({
        "type": format!("https://developer.sumup.com/problem/{slug}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
        "error_code": code,
    });
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
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
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        "Internal error",
        "The sandbox could not read or write its data.",
    )
}

/// Why a request's body is not one SumUp reads.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum BodyError {
    /// A body sent as something other than `application/json`.
    NotJsonType,
    /// A body that does not parse.
    NotJson(String),
}

/// A request's JSON body as SumUp takes it: an empty body is none (SumUp's TypeScript SDK
/// sends a full refund so), anything else must be JSON sent as JSON. Read here rather than
/// by axum's extractor, whose refusals are plain text where SumUp answers JSON.
pub(super) fn json_body(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<Option<serde_json::Value>, BodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            let t = t.trim();
            t.eq_ignore_ascii_case("application/json")
                || (t.starts_with("application/") && t.ends_with("+json"))
        });
    if !json_type {
        return Err(BodyError::NotJsonType);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|err| BodyError::NotJson(err.to_string()))
}

/// A body refused, in SumUp's problem shape (its newer endpoints').
pub(super) fn body_problem(err: BodyError) -> Response {
    match err {
        BodyError::NotJsonType => problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "Unsupported Media Type",
            "The body must be sent as application/json.",
        ),
        BodyError::NotJson(why) => problem(
            StatusCode::BAD_REQUEST,
            "INVALID",
            "Bad Request",
            &format!("The body is not JSON: {why}."),
        ),
    }
}

/// The refusal of a request without an API key; any non-empty bearer key is accepted.
pub(super) fn refusal(headers: &axum::http::HeaderMap) -> Option<Response> {
    let ok = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| !key.trim().is_empty());
    (!ok).then(|| {
        problem(
            StatusCode::UNAUTHORIZED,
            "NOT_AUTHORIZED",
            "Unauthorized",
            "The request is not authorized: a valid API key is missing.",
        )
    })
}
