//! A SumUp sandbox under `/sumup-sandbox`: SumUp's checkout API, its error bodies, a hosted
//! payment page with Pay and Decline, refunds, and webhooks to each checkout's `return_url`.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use storefront_contract::{Money, format_amount};

use crate::store::{NewSandboxCheckout, SandboxCheckoutRow, Store};
use crate::sumup::money_from_amount;
use crate::time;

/// Where the sandbox is mounted.
pub const SANDBOX_PATH: &str = "/sumup-sandbox";

/// SumUp's documented test amounts: paying them fails like a decline.
const FAILING_AMOUNTS: [i64; 4] = [1100, 4201, 4276, 4291];

const PAGE_TEMPLATE: &str = include_str!("../../../assets/sandbox-page.html");

#[derive(Clone)]
pub struct SandboxState {
    store: Store,
    /// The origin buyers' browsers reach us at, for hosted page URLs.
    public_url: String,
    http: reqwest::Client,
}

impl SandboxState {
    pub fn new(store: Store, public_url: &str) -> SandboxState {
        SandboxState {
            store,
            public_url: public_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }
}

/// The sandbox's routes, to be nested under [`SANDBOX_PATH`].
pub fn router(state: SandboxState) -> Router {
    Router::new()
        .route("/v0.1/checkouts", post(create_checkout).get(list_checkouts))
        .route(
            "/v0.1/checkouts/{id}",
            get(get_checkout).delete(deactivate_checkout),
        )
        .route(
            "/v1.0/merchants/{merchant}/payments/{transaction}/refunds",
            post(refund),
        )
        .route("/pay/{id}", get(payment_page).post(submit_payment))
        .with_state(state)
}

fn sumup_error(status: StatusCode, code: &str, message: &str, param: Option<&str>) -> Response {
    let mut body = json!({"error_code": code, "message": message});
    if let Some(param) = param {
        body["param"] = json!(param);
    }
    (status, Json(body)).into_response()
}

/// SumUp's answer for an unknown checkout or transaction.
fn resource_not_found() -> Response {
    sumup_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "Resource not found",
        None,
    )
}

fn internal(err: sqlx::Error) -> Response {
    tracing::error!(error = %err, "sandbox storage failed");
    sumup_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        "Internal error",
        None,
    )
}

/// The refusal of a request without an API key; any non-empty bearer key is accepted.
fn refusal(headers: &HeaderMap) -> Option<Response> {
    let ok = headers
        .get(AUTHORIZATION)
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

fn checkout_json(state: &SandboxState, row: &SandboxCheckoutRow) -> Value {
    let amount = Money::from_minor(row.amount);
    let amount_number: f64 = amount.to_string().parse().unwrap_or(0.0);
    let transactions: Vec<Value> = match (&row.transaction_id, &row.transaction_code) {
        (Some(id), Some(code)) => vec![json!({
            "id": id,
            "transaction_code": code,
            "amount": amount_number,
            "currency": row.currency,
            "status": if row.status == "PAID" { "SUCCESSFUL" } else { "FAILED" },
            "payment_type": "ECOM",
            "timestamp": time::to_utc(row.created_at),
        })],
        _ => Vec::new(),
    };
    json!({
        "id": row.id,
        "checkout_reference": row.reference,
        "amount": amount_number,
        "currency": row.currency,
        "merchant_code": row.merchant_code,
        "description": row.description,
        "return_url": row.return_url,
        "redirect_url": row.redirect_url,
        "status": row.status,
        "date": time::to_utc(row.created_at),
        "hosted_checkout": {"enabled": true},
        "hosted_checkout_url": format!("{}{SANDBOX_PATH}/pay/{}", state.public_url, row.id),
        "transactions": transactions,
    })
}

/// The checkout as SumUp's API shows it now, with `status` on success.
async fn checkout_answer(state: &SandboxState, id: &str, status: StatusCode) -> Response {
    match state.store.sandbox_checkout(id).await {
        Ok(Some(row)) => (status, Json(checkout_json(state, &row))).into_response(),
        Ok(None) => resource_not_found(),
        Err(err) => internal(err),
    }
}

/// The hosted page as the checkout is now.
async fn page_answer(state: &SandboxState, id: &str) -> Response {
    match state.store.sandbox_checkout(id).await {
        Ok(Some(row)) => Html(render_page(&row, None)).into_response(),
        Ok(None) => not_found_page(),
        Err(err) => internal(err),
    }
}

async fn create_checkout(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let Some(Json(body)) = body else {
        return sumup_error(
            StatusCode::BAD_REQUEST,
            "INVALID",
            "Request body must be JSON",
            None,
        );
    };
    let text = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    for param in ["checkout_reference", "currency", "merchant_code"] {
        if text(param).is_none() {
            return sumup_error(
                StatusCode::BAD_REQUEST,
                "MISSING",
                "Validation error",
                Some(param),
            );
        }
    }
    let Some(amount) = body.get("amount").and_then(Value::as_f64) else {
        return sumup_error(
            StatusCode::BAD_REQUEST,
            "MISSING",
            "Validation error",
            Some("amount"),
        );
    };
    let Some(amount) = money_from_amount(amount)
        .and_then(Money::to_minor)
        .filter(|a| *a > 0)
    else {
        return sumup_error(
            StatusCode::BAD_REQUEST,
            "INVALID",
            "Validation error",
            Some("amount"),
        );
    };
    let id = uuid::Uuid::new_v4().to_string();
    let new = NewSandboxCheckout {
        id: &id,
        reference: text("checkout_reference").unwrap_or_default(),
        merchant_code: text("merchant_code").unwrap_or_default(),
        amount,
        currency: text("currency").unwrap_or_default(),
        description: text("description"),
        return_url: text("return_url"),
        redirect_url: text("redirect_url"),
    };
    match state.store.sandbox_create(&new, time::now()).await {
        Ok(true) => {}
        Ok(false) => {
            return sumup_error(
                StatusCode::CONFLICT,
                "DUPLICATED_CHECKOUT",
                "Checkout with this checkout reference and pay to email already exists",
                None,
            );
        }
        Err(err) => return internal(err),
    }
    checkout_answer(&state, &id, StatusCode::CREATED).await
}

async fn get_checkout(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    checkout_answer(&state, &id, StatusCode::OK).await
}

#[derive(Deserialize)]
struct ListQuery {
    checkout_reference: Option<String>,
}

async fn list_checkouts(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let Some(reference) = query.checkout_reference else {
        return sumup_error(
            StatusCode::BAD_REQUEST,
            "MISSING",
            "Validation error",
            Some("checkout_reference"),
        );
    };
    match state.store.sandbox_by_reference(&reference).await {
        Ok(rows) => Json(
            rows.iter()
                .map(|r| checkout_json(&state, r))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(err) => internal(err),
    }
}

async fn deactivate_checkout(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let row = match state.store.sandbox_checkout(&id).await {
        Ok(Some(row)) => row,
        Ok(None) => {
            return resource_not_found();
        }
        Err(err) => return internal(err),
    };
    if row.status == "PAID" {
        return sumup_error(
            StatusCode::CONFLICT,
            "CHECKOUT_PROCESSED",
            "Checkout is already processed",
            None,
        );
    }
    match state.store.sandbox_finish(&id, "EXPIRED", None).await {
        Ok(true) => notify(&state, &row),
        Ok(false) => {}
        Err(err) => return internal(err),
    }
    checkout_answer(&state, &id, StatusCode::OK).await
}

async fn refund(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path((merchant, transaction)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let checkout = match state
        .store
        .sandbox_by_transaction(&merchant, &transaction)
        .await
    {
        Ok(Some(row)) => row,
        Ok(None) => {
            return resource_not_found();
        }
        Err(err) => return internal(err),
    };
    // Without an amount SumUp refunds what is left.
    let amount = match body.as_ref().and_then(|Json(b)| b.get("amount")) {
        None | Some(Value::Null) => checkout.amount - checkout.refunded,
        Some(value) => match value
            .as_f64()
            .and_then(money_from_amount)
            .and_then(Money::to_minor)
        {
            Some(minor) if minor > 0 => minor,
            _ => {
                return sumup_error(
                    StatusCode::BAD_REQUEST,
                    "INVALID",
                    "Validation error",
                    Some("amount"),
                );
            }
        },
    };
    match state
        .store
        .sandbox_refund(&merchant, &transaction, amount)
        .await
    {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => sumup_error(
            StatusCode::CONFLICT,
            "CONFLICT",
            "The refund exceeds the amount left on the transaction",
            None,
        ),
        Err(err) => internal(err),
    }
}

/// Escapes text for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn render_page(row: &SandboxCheckoutRow, notice: Option<&str>) -> String {
    let amount = format_amount(Money::from_minor(row.amount), &row.currency);
    let (title, action) = match row.status.as_str() {
        "PENDING" => (
            "Pay securely".to_owned(),
            format!(
                "<form method=\"post\" action=\"{id}\">\
                 <button class=\"pay\" id=\"pay\" name=\"outcome\" value=\"pay\">Pay {amount}</button>\
                 <button class=\"decline\" id=\"decline\" name=\"outcome\" value=\"decline\">Decline</button>\
                 </form>",
                id = escape(&row.id),
                amount = escape(&amount),
            ),
        ),
        "PAID" => (
            "Payment successful".to_owned(),
            result_block("Paid. Thank you!", row),
        ),
        "FAILED" => (
            "Payment failed".to_owned(),
            result_block("The payment did not go through. Nothing was charged.", row),
        ),
        _ => (
            "This payment has expired".to_owned(),
            result_block("This checkout can no longer be paid.", row),
        ),
    };
    let action = match notice {
        Some(notice) => format!("<p class=\"state\">{}</p>{action}", escape(notice)),
        None => action,
    };
    PAGE_TEMPLATE
        .replace("{{title}}", &escape(&title))
        .replace("{{merchant}}", &escape(&row.merchant_code))
        .replace(
            "{{description}}",
            &escape(row.description.as_deref().unwrap_or("")),
        )
        .replace("{{reference}}", &escape(&row.reference))
        .replace("{{amount}}", &escape(&amount))
        .replace("{{action}}", &action)
}

fn result_block(message: &str, row: &SandboxCheckoutRow) -> String {
    let back = match &row.redirect_url {
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => format!(
            "<p class=\"hint\"><a id=\"back\" href=\"{}\">Back to the shop</a></p>",
            escape(url)
        ),
        _ => String::new(),
    };
    format!(
        "<p class=\"state\" id=\"state\">{}</p>{back}",
        escape(message)
    )
}

fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html("<!doctype html><title>Not found</title><p>There is no such checkout.</p>"),
    )
        .into_response()
}

async fn payment_page(State(state): State<SandboxState>, Path(id): Path<String>) -> Response {
    page_answer(&state, &id).await
}

#[derive(Deserialize)]
struct PaymentForm {
    outcome: String,
}

async fn submit_payment(
    State(state): State<SandboxState>,
    Path(id): Path<String>,
    Form(form): Form<PaymentForm>,
) -> Response {
    let row = match state.store.sandbox_checkout(&id).await {
        Ok(Some(row)) => row,
        Ok(None) => return not_found_page(),
        Err(err) => return internal(err),
    };
    let paid = match form.outcome.as_str() {
        "pay" => !FAILING_AMOUNTS.contains(&row.amount),
        "decline" => false,
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Html(render_page(&row, Some("Choose Pay or Decline."))),
            )
                .into_response();
        }
    };
    let transaction_id = uuid::Uuid::new_v4().to_string();
    let transaction_code = format!("TSANDBOX{}", &transaction_id[..8].to_uppercase());
    let status = if paid { "PAID" } else { "FAILED" };
    match state
        .store
        .sandbox_finish(&id, status, Some((&transaction_id, &transaction_code)))
        .await
    {
        Ok(true) => notify(&state, &row),
        Ok(false) => {
            // Already paid, failed or expired: show what it is now.
            let current = state
                .store
                .sandbox_checkout(&id)
                .await
                .ok()
                .flatten()
                .unwrap_or(row);
            return (StatusCode::CONFLICT, Html(render_page(&current, None))).into_response();
        }
        Err(err) => return internal(err),
    }
    page_answer(&state, &id).await
}

/// Tells the checkout's `return_url` that it changed, as SumUp does, retrying in the
/// background while the receiver is unreachable or failing.
fn notify(state: &SandboxState, row: &SandboxCheckoutRow) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_text_is_escaped() {
        assert_eq!(
            escape("<b>\"Tom & Jerry's\"</b>"),
            "&lt;b&gt;&quot;Tom &amp; Jerry&#39;s&quot;&lt;/b&gt;"
        );
    }
}
