//! The sandbox's API: checkouts (create, read, list, deactivate) and refunds, with SumUp's
//! JSON shapes and error bodies.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use storefront_contract::{CheckoutStatus, Money};

use super::{
    SANDBOX_PATH, SandboxState, internal, notify, refusal, resource_not_found, sumup_error,
};
use crate::store::{NewSandboxCheckout, SandboxCheckoutRow};
use crate::sumup::money_from_amount;
use crate::time;

fn checkout_json(state: &SandboxState, row: &SandboxCheckoutRow) -> Value {
    let amount = Money::from_minor(row.amount);
    let amount_number = amount.to_string().parse::<f64>().ok();
    let transactions: Vec<Value> = match (&row.transaction_id, &row.transaction_code) {
        (Some(id), Some(code)) => vec![json!({
            "id": id,
            "transaction_code": code,
            "amount": amount_number,
            "currency": row.currency,
            "status": if row.status == CheckoutStatus::Paid { "SUCCESSFUL" } else { "FAILED" },
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
pub(super) async fn checkout_answer(
    state: &SandboxState,
    id: &str,
    status: StatusCode,
) -> Response {
    match state.store.sandbox_checkout(id).await {
        Ok(Some(row)) => (status, Json(checkout_json(state, &row))).into_response(),
        Ok(None) => resource_not_found(),
        Err(err) => internal(err),
    }
}

pub(super) async fn create_checkout(
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

pub(super) async fn list_checkouts(
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
        Ok(None) => {
            return resource_not_found();
        }
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
    match state
        .store
        .sandbox_finish(&id, CheckoutStatus::Expired, None)
        .await
    {
        Ok(true) => notify(&state, &row),
        Ok(false) => {}
        Err(err) => return internal(err),
    }
    checkout_answer(&state, &id, StatusCode::OK).await
}

pub(super) async fn refund(
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
