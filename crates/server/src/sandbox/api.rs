//! The sandbox's API: checkouts (create, read, list, deactivate), transactions and refunds,
//! with SumUp's JSON shapes (fields without a value left out) and error bodies.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use storefront_contract::{CheckoutStatus, Money};

use super::{
    BodyError, SANDBOX_PATH, SandboxState, body_problem, internal, json_body, notify, problem,
    refusal, resource_not_found, sumup_error,
};
use crate::store::{
    Flag, NewSandboxCheckout, SandboxCheckoutRow, SandboxRefund, SandboxTransactionRow,
    SandboxTransactionStatus,
};
use crate::sumup::money_from_amount;
use crate::time;

/// A sandbox checkout's id: 13 letters and digits (65 random bits), short enough that the
/// hosted page's address makes a QR code a kiosk at 80×24 can show.
fn short_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut rng = rand::rng();
    (0..13)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// An amount as SumUp writes it: a number in major units.
fn amount_number(minor: i64) -> Value {
    Money::from_minor(minor)
        .to_string()
        .parse::<f64>()
        .map_or(Value::Null, Value::from)
}

/// A JSON object of the given fields, leaving out those without a value.
fn object(fields: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(key, value)| (key.to_owned(), value))
            .collect::<Map<String, Value>>(),
    )
}

fn transaction_json(transaction: &SandboxTransactionRow, full: bool) -> Value {
    let mut fields = vec![
        ("id", json!(transaction.id)),
        ("transaction_code", json!(transaction.transaction_code)),
        ("amount", amount_number(transaction.amount)),
        ("currency", json!(transaction.currency)),
        ("status", json!(transaction.status)),
        // A reader's card is present and tapped; a hosted page's is typed in by the buyer.
        (
            "payment_type",
            json!(if transaction.at_reader.0 {
                "POS"
            } else {
                "ECOM"
            }),
        ),
        (
            "entry_mode",
            json!(if transaction.at_reader.0 {
                "CONTACTLESS"
            } else {
                "CUSTOMER_ENTRY"
            }),
        ),
        // When this attempt was made: for a payment, when it was paid.
        ("timestamp", json!(time::to_utc(transaction.created_at))),
    ];
    if full {
        fields.push(("merchant_code", json!(transaction.merchant_code)));
        fields.push(("refunded_amount", amount_number(transaction.refunded)));
    }
    object(fields)
}

fn checkout_json(
    state: &SandboxState,
    row: &SandboxCheckoutRow,
    transactions: &[SandboxTransactionRow],
) -> Value {
    // The attempt that took the money, else the latest one.
    let took_money = transactions
        .iter()
        .find(|t| t.status != SandboxTransactionStatus::Failed)
        .or(transactions.last());
    object([
        ("id", json!(row.id)),
        ("checkout_reference", json!(row.reference)),
        ("amount", amount_number(row.amount)),
        ("currency", json!(row.currency)),
        ("merchant_code", json!(row.merchant_code)),
        ("description", json!(row.description)),
        ("return_url", json!(row.return_url)),
        ("redirect_url", json!(row.redirect_url)),
        ("status", json!(row.status)),
        ("date", json!(time::to_utc(row.created_at))),
        ("transaction_id", json!(took_money.map(|t| &t.id))),
        (
            "transaction_code",
            json!(took_money.map(|t| &t.transaction_code)),
        ),
        ("hosted_checkout", json!({"enabled": row.hosted.0})),
        (
            "hosted_checkout_url",
            json!(
                row.hosted
                    .0
                    .then(|| format!("{}{SANDBOX_PATH}/pay/{}", state.public_url, row.id))
            ),
        ),
        (
            "transactions",
            Value::Array(
                transactions
                    .iter()
                    .map(|t| transaction_json(t, false))
                    .collect(),
            ),
        ),
    ])
}

/// The checkout as SumUp's API shows it now, with its transactions.
async fn checkout_view(state: &SandboxState, row: &SandboxCheckoutRow) -> Result<Value, Response> {
    let transactions = state
        .store
        .sandbox_transactions(&row.id)
        .await
        .map_err(internal)?;
    Ok(checkout_json(state, row, &transactions))
}

/// The checkout as SumUp's API shows it now, with `status` on success.
pub(super) async fn checkout_answer(
    state: &SandboxState,
    id: &str,
    status: StatusCode,
) -> Response {
    match state.store.sandbox_checkout_with_transactions(id).await {
        Ok(Some((row, transactions))) => {
            (status, Json(checkout_json(state, &row, &transactions))).into_response()
        }
        Ok(None) => resource_not_found(),
        Err(err) => internal(err),
    }
}

/// The longest `checkout_reference` SumUp takes.
const MAX_REFERENCE_CHARS: usize = 90;

/// Whether SumUp takes payments in `currency` (one its crate names).
pub(super) fn is_sumup_currency(currency: &str) -> bool {
    matches!(
        serde_json::from_value::<sumup::Currency>(Value::String(currency.to_owned())),
        Ok(known) if !matches!(known, sumup::Currency::Other(_))
    )
}

pub(super) async fn create_checkout(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    // The checkouts API answers in its older error shape.
    let body = match json_body(&headers, &body) {
        Ok(Some(body)) => body,
        Ok(None) | Err(BodyError::NotJson(_)) => {
            return sumup_error(
                StatusCode::BAD_REQUEST,
                "INVALID",
                "Request body must be JSON",
                None,
            );
        }
        Err(BodyError::NotJsonType) => {
            return sumup_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "Request body must be sent as application/json",
                None,
            );
        }
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
    // As SumUp's spec states them: a reference of at most 90 characters, a currency of
    // SumUp's list, an amount in the currency's minor units (cents).
    let invalid = |param| {
        sumup_error(
            StatusCode::BAD_REQUEST,
            "INVALID",
            "Validation error",
            Some(param),
        )
    };
    if text("checkout_reference").is_some_and(|r| r.chars().count() > MAX_REFERENCE_CHARS) {
        return invalid("checkout_reference");
    }
    if !is_sumup_currency(text("currency").unwrap_or_default()) {
        return invalid("currency");
    }
    if ((amount * 100.0).round() - amount * 100.0).abs() > 1e-6 {
        return invalid("amount");
    }
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
    // As at SumUp, a hosted page only when asked for.
    let hosted = Flag(body["hosted_checkout"]["enabled"].as_bool() == Some(true));
    let id = short_id();
    let new = NewSandboxCheckout {
        id: &id,
        reference: text("checkout_reference").unwrap_or_default(),
        merchant_code: text("merchant_code").unwrap_or_default(),
        amount,
        currency: text("currency").unwrap_or_default(),
        description: text("description"),
        return_url: text("return_url"),
        redirect_url: text("redirect_url"),
        reader_id: None,
        hosted,
    };
    let now = time::now();
    match state.store.sandbox_create(&new, now).await {
        // A new checkout has no transactions yet: answered as made, without reading it back.
        Ok(true) => {
            let row = SandboxCheckoutRow {
                id: id.clone(),
                reference: new.reference.to_owned(),
                merchant_code: new.merchant_code.to_owned(),
                amount,
                currency: new.currency.to_owned(),
                description: new.description.map(str::to_owned),
                return_url: new.return_url.map(str::to_owned),
                redirect_url: new.redirect_url.map(str::to_owned),
                status: CheckoutStatus::Pending,
                created_at: now,
                reader_id: None,
                hosted,
            };
            (StatusCode::CREATED, Json(checkout_json(&state, &row, &[]))).into_response()
        }
        Ok(false) => sumup_error(
            StatusCode::CONFLICT,
            "DUPLICATED_CHECKOUT",
            "Checkout with this checkout reference and pay to email already exists",
            None,
        ),
        Err(err) => internal(err),
    }
}

pub(super) async fn get_checkout(
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
pub(super) struct ListQuery {
    checkout_reference: Option<String>,
}

/// The checkouts with a reference, or all of them: the filter is optional.
pub(super) async fn list_checkouts(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let rows = match state
        .store
        .sandbox_checkouts(query.checkout_reference.as_deref())
        .await
    {
        Ok(rows) => rows,
        Err(err) => return internal(err),
    };
    let mut views = Vec::with_capacity(rows.len());
    for row in &rows {
        match checkout_view(&state, row).await {
            Ok(view) => views.push(view),
            Err(response) => return response,
        }
    }
    Json(views).into_response()
}

pub(super) async fn deactivate_checkout(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let row = match state.store.sandbox_checkout(&id).await {
        Ok(Some(row)) => row,
        Ok(None) => return resource_not_found(),
        Err(err) => return internal(err),
    };
    if row.status == CheckoutStatus::Paid {
        return sumup_error(
            StatusCode::CONFLICT,
            "CHECKOUT_PROCESSED",
            "Checkout is already processed",
            None,
        );
    }
    match state.store.sandbox_expire(&id).await {
        Ok(true) => {
            let expired = SandboxCheckoutRow {
                status: CheckoutStatus::Expired,
                ..row
            };
            notify::checkout_changed(&state, &expired);
        }
        Ok(false) => {}
        Err(err) => return internal(err),
    }
    checkout_answer(&state, &id, StatusCode::OK).await
}

#[derive(Deserialize)]
pub(super) struct TransactionQuery {
    id: Option<String>,
    transaction_code: Option<String>,
    foreign_transaction_id: Option<String>,
    client_transaction_id: Option<String>,
}

/// `GET /v2.1/merchants/{merchant}/transactions?id=` (or `?client_transaction_id=`, a
/// reader payment's): one transaction, as SumUp's SDKs read it.
pub(super) async fn get_transaction(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path(merchant): Path<String>,
    Query(query): Query<TransactionQuery>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let store = &state.store;
    let found = if let Some(id) = &query.id {
        store.sandbox_transaction(&merchant, id).await
    } else if let Some(code) = &query.transaction_code {
        store.sandbox_transaction_by_code(&merchant, code).await
    } else if let Some(reference) = &query.foreign_transaction_id {
        store
            .sandbox_transaction_by_reference(&merchant, reference)
            .await
    } else if let Some(client_id) = &query.client_transaction_id {
        store
            .sandbox_transaction_of_reader_payment(&merchant, client_id)
            .await
    } else {
        return sumup_error(
            StatusCode::BAD_REQUEST,
            "MISSING",
            "Validation error",
            Some("id"),
        );
    };
    match found {
        Ok(Some(transaction)) => Json(transaction_json(&transaction, true)).into_response(),
        Ok(None) => resource_not_found(),
        Err(err) => internal(err),
    }
}

#[derive(Deserialize)]
pub(super) struct HistoryQuery {
    limit: Option<String>,
    order: Option<String>,
}

/// `GET /v2.1/merchants/{merchant}/transactions/history?limit=&order=`: the merchant's
/// transactions, oldest first (`order=descending`: newest first), 10 unless `limit` says.
pub(super) async fn transaction_history(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path(merchant): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let limit = match query.limit.as_deref().map(str::parse::<i64>) {
        None => 10,
        Some(Ok(limit)) if (1..=1000).contains(&limit) => limit,
        Some(_) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "INVALID",
                "Bad Request",
                "limit must be a positive integer (at most 1000).",
            );
        }
    };
    let newest_first = match query.order.as_deref() {
        None | Some("ascending") => false,
        Some("descending") => true,
        Some(_) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "INVALID",
                "Bad Request",
                "order must be ascending or descending.",
            );
        }
    };
    match state
        .store
        .sandbox_transaction_history(&merchant, newest_first, limit)
        .await
    {
        Ok(rows) => {
            let items: Vec<Value> = rows
                .iter()
                .map(|t| {
                    let mut item = transaction_json(t, true);
                    if let Value::Object(fields) = &mut item {
                        fields.insert("transaction_id".to_owned(), json!(t.id));
                        fields.insert("type".to_owned(), json!("PAYMENT"));
                    }
                    item
                })
                .collect();
            Json(json!({"items": items, "links": []})).into_response()
        }
        Err(err) => internal(err),
    }
}

/// `GET /v1/merchants/{merchant}`: the sandbox's merchant, whatever its code.
pub(super) async fn merchant(headers: HeaderMap, Path(merchant): Path<String>) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    Json(json!({
        "merchant_code": merchant,
        "country": "GB",
        "default_currency": "GBP",
        "default_locale": "en-GB",
        "sandbox": true,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }))
    .into_response()
}

/// `GET /v0.1/me`: the account the API key belongs to: the sandbox's merchant.
pub(super) async fn me(State(state): State<SandboxState>, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    Json(json!({
        "merchant_profile": {
            "merchant_code": state.merchant_code(),
            "company_name": "Storefront sandbox",
            "country": "GB",
            "locale": "en-GB",
        },
    }))
    .into_response()
}

/// Refunds part of a paid transaction, or all that is left when the body names no amount;
/// `201 {}` as SumUp answers since 2026-07-17.
pub(super) async fn refund(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Path((merchant, transaction)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    // No body, an empty one, or `{}`: all that is left.
    let body = match json_body(&headers, &body) {
        Ok(body) => body,
        Err(err) => return body_problem(err),
    };
    if state.take_refund_fault() {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "Service Unavailable",
            "Refunds are unavailable for a moment; try again.",
        );
    }
    let amount = match body.as_ref().and_then(|b| b.get("amount")) {
        None | Some(Value::Null) => None,
        Some(value) => match value
            .as_f64()
            .and_then(money_from_amount)
            .and_then(Money::to_minor)
        {
            Some(minor) if minor > 0 => Some(minor),
            _ => {
                return problem(
                    StatusCode::BAD_REQUEST,
                    "INVALID",
                    "Bad Request",
                    "The amount must be a number greater than zero.",
                );
            }
        },
    };
    match state
        .store
        .sandbox_refund(&merchant, &transaction, amount)
        .await
    {
        Ok(SandboxRefund::Refunded) => (StatusCode::CREATED, Json(json!({}))).into_response(),
        Ok(SandboxRefund::ExceedsWhatIsLeft) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_AMOUNT",
            "Unprocessable Entity",
            "The refund exceeds the amount left to refund on the transaction.",
        ),
        Ok(SandboxRefund::NotRefundable) => problem(
            StatusCode::CONFLICT,
            "NOT_REFUNDABLE",
            "Conflict",
            "The transaction cannot be refunded in its current state.",
        ),
        Ok(SandboxRefund::Unknown) => problem(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Not Found",
            "The requested transaction doesn't exist or does not belong to you.",
        ),
        Err(err) => internal(err),
    }
}

#[derive(Deserialize)]
pub(super) struct Faults {
    /// The next this many refund requests answer `503`, as during an outage at SumUp.
    #[serde(default)]
    refunds_unavailable: u32,
    /// These readers (by id) refuse payments as offline readers do, until the next call.
    #[serde(default)]
    readers_offline: Vec<String>,
    /// Reader checkouts read back with `null` in the fields SumUp's spec makes nullable.
    #[serde(default)]
    reader_nulls: bool,
}

/// `POST /faults`: makes the sandbox fail as SumUp sometimes does, to see the shop recover.
pub(super) async fn faults(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    Json(faults): Json<Faults>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    state.refunds_unavailable.store(
        faults.refunds_unavailable,
        std::sync::atomic::Ordering::SeqCst,
    );
    *state
        .readers_offline
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = faults.readers_offline.into_iter().collect();
    state
        .reader_nulls
        .store(faults.reader_nulls, std::sync::atomic::Ordering::SeqCst);
    StatusCode::NO_CONTENT.into_response()
}
