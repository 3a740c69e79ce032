//! A virtual SumUp Solo: SumUp's Readers API (put an amount on a reader, read the payment
//! back, tell the reader to stop) and a page standing for the reader itself, where the
//! amount waits with "Present card" and "Decline".

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use storefront_contract::{CheckoutStatus, Money, format_amount};

use super::page::{FAILING_AMOUNTS, PAGE_TEMPLATE, record_attempt};
use super::{
    SANDBOX_PATH, SandboxState, body_problem, internal, json_body, notify, problem, refusal,
};
use crate::html::escape;
use crate::store::{Flag, NewSandboxCheckout, SandboxCheckoutRow};
use crate::time;

/// A payment waits this long on a reader; meanwhile the reader takes no other.
pub const READER_PAYMENT_WINDOW: Duration = Duration::from_secs(5 * 60);

fn window_secs() -> i64 {
    READER_PAYMENT_WINDOW.as_secs() as i64
}

/// The status a reader checkout has in SumUp's Readers API.
fn reader_status(status: CheckoutStatus) -> &'static str {
    match status {
        CheckoutStatus::Pending => "pending",
        CheckoutStatus::Paid => "successful",
        CheckoutStatus::Failed => "failed",
        CheckoutStatus::Expired => "cancelled",
    }
}

fn not_found(detail: &str) -> Response {
    problem(StatusCode::NOT_FOUND, "NOT_FOUND", "Not Found", detail)
}

fn invalid(detail: &str) -> Response {
    problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_PARAMS",
        "Unprocessable Entity",
        detail,
    )
}

/// A reader paired with the sandbox by its code.
#[derive(Clone, Debug)]
pub(super) struct Paired {
    id: String,
    merchant: String,
    name: String,
    /// The code it showed, its device's identifier here.
    code: String,
    paired_at: i64,
}

impl Paired {
    /// The reader as SumUp's Readers API shows it.
    fn json(&self) -> Value {
        let at = time::to_utc(self.paired_at);
        json!({
            "id": self.id,
            "name": self.name,
            "status": "paired",
            "device": {"identifier": self.code, "model": "solo"},
            "created_at": at,
            "updated_at": at,
        })
    }
}

/// A pairing code as a Solo shows it: 8 or 9 letters and digits.
fn is_pairing_code(code: &str) -> bool {
    (8..=9).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `POST /v0.1/merchants/{merchant}/readers` `{pairing_code, name}`: pairs the Solo showing
/// the code; `201` with the reader, as SumUp answers.
pub(super) async fn pair(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path(merchant): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let body = match json_body(&headers, &body) {
        Ok(Some(body)) => body,
        Ok(None) => return invalid("The body needs pairing_code and name."),
        Err(err) => return body_problem(err),
    };
    let (Some(code), Some(name)) = (body["pairing_code"].as_str(), body["name"].as_str()) else {
        return invalid("The body needs pairing_code and name.");
    };
    let name = name.trim();
    if !is_pairing_code(code) {
        return invalid("pairing_code is the 8 or 9 letters and digits the reader shows.");
    }
    if name.is_empty() || name.chars().count() > 500 {
        return invalid("name needs 1 to 500 characters.");
    }
    let mut paired = state.paired.lock().unwrap_or_else(|e| e.into_inner());
    if paired.iter().any(|r| r.code.eq_ignore_ascii_case(code)) {
        return problem(
            StatusCode::CONFLICT,
            "CONFLICT",
            "Conflict",
            "A reader with this pairing code is paired already.",
        );
    }
    let reader = Paired {
        id: format!(
            "rdr_{}",
            uuid::Uuid::new_v4().simple().to_string().to_uppercase()[..26].to_owned()
        ),
        merchant,
        name: name.to_owned(),
        code: code.to_ascii_uppercase(),
        paired_at: time::now(),
    };
    let answer = reader.json();
    paired.push(reader);
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// `GET /v0.1/merchants/{merchant}/readers`: the merchant's paired readers.
pub(super) async fn list(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path(merchant): Path<String>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let paired = state.paired.lock().unwrap_or_else(|e| e.into_inner());
    let items: Vec<Value> = paired
        .iter()
        .filter(|r| r.merchant == merchant)
        .map(Paired::json)
        .collect();
    Json(json!({ "items": items })).into_response()
}

/// `GET /v0.1/merchants/{merchant}/readers/{reader}`: one paired reader.
pub(super) async fn get_reader(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path((merchant, reader)): Path<(String, String)>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let paired = state.paired.lock().unwrap_or_else(|e| e.into_inner());
    match paired
        .iter()
        .find(|r| r.merchant == merchant && r.id == reader)
    {
        Some(found) => Json(found.json()).into_response(),
        None => not_found("The reader is not paired with this merchant."),
    }
}

/// `GET /v0.1/merchants/{merchant}/readers/{reader}/status`: any reader id is a virtual Solo,
/// online unless told to be offline (`POST /faults`), waiting for a card while a payment is
/// on it.
pub(super) async fn status(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path((_merchant, reader)): Path<(String, String)>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let offline = state.reader_is_offline(&reader);
    let waiting = match state
        .store
        .sandbox_reader_waiting(&reader, time::now() - window_secs())
        .await
    {
        Ok(waiting) => waiting.is_some(),
        Err(err) => return internal(err),
    };
    let mut data = json!({
        "status": if offline { "OFFLINE" } else { "ONLINE" },
        "battery_level": 87.0,
        "connection_type": "Wi-Fi",
        "firmware_version": "3.3.3.18",
        "last_activity": time::to_utc(time::now()),
    });
    if !offline {
        data["state"] = json!(if waiting { "WAITING_FOR_CARD" } else { "IDLE" });
    }
    Json(json!({ "data": data })).into_response()
}

/// `POST /v0.1/merchants/{merchant}/readers/{reader}/checkout`: the amount goes on the
/// reader, unless it is offline or already waiting for another payment.
pub(super) async fn create_checkout(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path((merchant, reader)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let body = match json_body(&headers, &body) {
        Ok(body) => body,
        Err(err) => return body_problem(err),
    };
    let Some(body) = body else {
        return problem(
            StatusCode::BAD_REQUEST,
            "INVALID",
            "Bad Request",
            "The body must be JSON.",
        );
    };
    let total = &body["total_amount"];
    let (Some(value), Some(minor_unit), Some(currency)) = (
        total["value"].as_i64(),
        total["minor_unit"].as_i64(),
        total["currency"].as_str(),
    ) else {
        return invalid("total_amount needs value, currency and minor_unit.");
    };
    if value <= 0 || minor_unit != 2 || !super::api::is_sumup_currency(currency) {
        return invalid("total_amount must be a positive amount in minor units of 2 decimals.");
    }
    if state.reader_is_offline(&reader) {
        return invalid("The reader is offline.");
    }
    let now = time::now();
    match state
        .store
        .sandbox_reader_waiting(&reader, now - window_secs())
        .await
    {
        Ok(Some(_)) => return invalid("The reader is busy with another checkout."),
        Ok(None) => {}
        Err(err) => return internal(err),
    }
    let id = uuid::Uuid::new_v4().to_string();
    let client_transaction_id = uuid::Uuid::new_v4().to_string();
    let new = NewSandboxCheckout {
        id: &id,
        reference: &client_transaction_id,
        merchant_code: &merchant,
        amount: value,
        currency,
        description: body["description"].as_str(),
        return_url: body["return_url"].as_str(),
        redirect_url: None,
        reader_id: Some(&reader),
        hosted: Flag(false),
    };
    match state.store.sandbox_create(&new, now).await {
        Ok(true) => {}
        Ok(false) => return invalid("The checkout could not be created."),
        Err(err) => return internal(err),
    }
    (
        StatusCode::CREATED,
        Json(json!({"data": {"checkout_id": id, "client_transaction_id": client_transaction_id}})),
    )
        .into_response()
}

/// The reader checkout, if it is this merchant's on this reader.
async fn reader_checkout(
    state: &SandboxState,
    merchant: &str,
    reader: &str,
    id: &str,
) -> Result<SandboxCheckoutRow, Response> {
    match state.store.sandbox_checkout(id).await {
        Ok(Some(row))
            if row.merchant_code == merchant && row.reader_id.as_deref() == Some(reader) =>
        {
            Ok(row)
        }
        Ok(_) => Err(not_found("The checkout does not exist on this reader.")),
        Err(err) => Err(internal(err)),
    }
}

/// `GET /v0.1/merchants/{merchant}/readers/{reader}/checkout/{id}`, as SumUp's SDK reads it.
pub(super) async fn get_checkout(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path((merchant, reader, id)): Path<(String, String, String)>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let row = match reader_checkout(&state, &merchant, &reader, &id).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    let failure = match row.status {
        CheckoutStatus::Failed => "DECLINED",
        CheckoutStatus::Expired => "CANCELLED",
        _ => "",
    };
    let created = time::to_utc(row.created_at);
    // SumUp's spec lets these be null; SumUp's SDK wants them filled.
    let nulls = state.reader_nulls.load(std::sync::atomic::Ordering::SeqCst);
    let or_null = |value: Value| if nulls { Value::Null } else { value };
    Json(json!({"data": {
        "card_type": or_null(json!("debit")),
        "checkout_id": row.id,
        "client_transaction_id": row.reference,
        "created_at": created,
        "installments": or_null(json!(1)),
        "payment_failure_reason": or_null(json!(failure)),
        "payment_status": or_null(json!(row.status.as_str())),
        "payment_type": "card",
        "reader_firmware_version": "3.3.28.0",
        "reader_serial_number": format!("VIRTUAL-{reader}"),
        "status": reader_status(row.status),
        "total_amount": {"currency": row.currency, "minor_unit": 2, "value": row.amount},
        "updated_at": created,
        "valid_until": time::to_utc(row.created_at + window_secs()),
    }}))
    .into_response()
}

/// `POST /v0.1/merchants/{merchant}/readers/{reader}/terminate`: the reader stops waiting
/// for a card (`202`, confirmed by nothing but the checkout's new state); refused when it
/// is not waiting for one.
pub(super) async fn terminate(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path((merchant, reader)): Path<(String, String)>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let waiting = match state
        .store
        .sandbox_reader_waiting(&reader, time::now() - window_secs())
        .await
    {
        Ok(Some(row)) if row.merchant_code == merchant => row,
        Ok(_) => return invalid("The reader is not waiting for a card."),
        Err(err) => return internal(err),
    };
    match state.store.sandbox_expire(&waiting.id).await {
        Ok(true) => notify::checkout_changed(
            &state,
            &SandboxCheckoutRow {
                status: CheckoutStatus::Expired,
                ..waiting
            },
        ),
        Ok(false) => {}
        Err(err) => return internal(err),
    }
    StatusCode::ACCEPTED.into_response()
}

/// `GET /readers/{reader}`: the virtual reader's screen.
pub(super) async fn reader_page(
    State(state): State<SandboxState>,
    Path(reader): Path<String>,
) -> Response {
    screen(&state, &reader, None).await
}

#[derive(Deserialize)]
pub(super) struct CardForm {
    /// The checkout the card was presented for: a page left open does not pay the next one.
    checkout: String,
    outcome: String,
}

/// `POST /readers/{reader}`: a card presented (`outcome=pay`) or declined.
pub(super) async fn present_card(
    State(state): State<SandboxState>,
    Path(reader): Path<String>,
    Form(form): Form<CardForm>,
) -> Response {
    let row = match state.store.sandbox_checkout(&form.checkout).await {
        Ok(Some(row)) if row.reader_id.as_deref() == Some(reader.as_str()) => row,
        Ok(_) => {
            let page = screen(&state, &reader, Some("That payment is not on this reader.")).await;
            return (StatusCode::NOT_FOUND, page).into_response();
        }
        Err(err) => return internal(err),
    };
    let paid = match form.outcome.as_str() {
        "pay" => !FAILING_AMOUNTS.contains(&row.amount),
        "decline" => false,
        _ => {
            let page = screen(&state, &reader, Some("Choose Present card or Decline.")).await;
            return (StatusCode::BAD_REQUEST, page).into_response();
        }
    };
    match record_attempt(&state, &row, paid).await {
        Ok(true) => {
            let said = if paid {
                "Approved. Thank you!"
            } else {
                "Declined. Nothing was charged."
            };
            screen(&state, &reader, Some(said)).await
        }
        Ok(false) => {
            let page = screen(&state, &reader, Some("That payment has ended already.")).await;
            (StatusCode::CONFLICT, page).into_response()
        }
        Err(err) => internal(err),
    }
}

/// The reader's screen: the amount waiting with its buttons, or "Ready" (refreshing itself
/// until an amount arrives), with `said` (the last card's outcome) above.
async fn screen(state: &SandboxState, reader: &str, said: Option<&str>) -> Response {
    let waiting = match state
        .store
        .sandbox_reader_waiting(reader, time::now() - window_secs())
        .await
    {
        Ok(waiting) => waiting,
        Err(err) => return internal(err),
    };
    let said = said
        .map(|said| format!("<p class=\"state\" id=\"said\">{}</p>", escape(said)))
        .unwrap_or_default();
    let page = match &waiting {
        Some(row) => {
            let amount = format_amount(Money::from_minor(row.amount), &row.currency);
            let action = format!(
                "{said}<form method=\"post\" action=\"{SANDBOX_PATH}/readers/{reader}\">\
                 <input type=\"hidden\" name=\"checkout\" value=\"{id}\">\
                 <button class=\"pay\" id=\"pay\" name=\"outcome\" value=\"pay\">Present card</button>\
                 <button class=\"decline\" id=\"decline\" name=\"outcome\" value=\"decline\">Decline</button>\
                 </form>",
                reader = escape(reader),
                id = escape(&row.id),
            );
            fill(reader, row, &amount, &action)
        }
        None => {
            let action =
                format!("{said}<p class=\"state\" id=\"state\">Ready. Waiting for a payment…</p>");
            PAGE_TEMPLATE
                .replace("{{head}}", "<meta http-equiv=\"refresh\" content=\"2\">")
                .replace("{{title}}", &escape(&format!("Virtual Solo {reader}")))
                .replace("{{merchant}}", "")
                .replace("{{description}}", "")
                .replace("{{reference}}", "")
                .replace("{{amount}}", "—")
                .replace("{{action}}", &action)
        }
    };
    Html(page).into_response()
}

/// The screen with an amount waiting.
fn fill(reader: &str, row: &SandboxCheckoutRow, amount: &str, action: &str) -> String {
    PAGE_TEMPLATE
        .replace("{{head}}", "")
        .replace(
            "{{title}}",
            &escape(&format!("Tap, insert or swipe · Virtual Solo {reader}")),
        )
        .replace("{{merchant}}", &escape(&row.merchant_code))
        .replace(
            "{{description}}",
            &escape(row.description.as_deref().unwrap_or("")),
        )
        .replace("{{reference}}", &escape(&row.reference))
        .replace("{{amount}}", &escape(amount))
        .replace("{{action}}", action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_named_as_the_readers_api_names_them() {
        assert_eq!(reader_status(CheckoutStatus::Pending), "pending");
        assert_eq!(reader_status(CheckoutStatus::Paid), "successful");
        assert_eq!(reader_status(CheckoutStatus::Failed), "failed");
        assert_eq!(reader_status(CheckoutStatus::Expired), "cancelled");
    }
}
