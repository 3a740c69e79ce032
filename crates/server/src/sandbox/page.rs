//! The sandbox's hosted payment page: the amount, a Pay and a Decline button, and the
//! outcome once chosen. A declined card may try again on the same page, as on SumUp's.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use storefront_contract::{CheckoutStatus, Money, format_amount};

use super::{SandboxState, internal, notify};
use crate::html::escape;
use crate::store::SandboxCheckoutRow;
use crate::time;

/// SumUp's documented test amounts: paying them fails like a decline.
pub(super) const FAILING_AMOUNTS: [i64; 4] = [1100, 4201, 4276, 4291];

pub(super) const PAGE_TEMPLATE: &str = include_str!("../../../../assets/sandbox-page.html");

/// The hosted page as the checkout is now.
async fn page_answer(state: &SandboxState, id: &str) -> Response {
    match state.store.sandbox_checkout(id).await {
        // A reader's payment, or a checkout made without `hosted_checkout.enabled`, has none.
        Ok(Some(row)) if row.reader_id.is_none() && row.hosted.0 => {
            Html(render_page(&row, None)).into_response()
        }
        Ok(Some(_)) => not_found_page(),
        Ok(None) => not_found_page(),
        Err(err) => internal(err),
    }
}

fn render_page(row: &SandboxCheckoutRow, notice: Option<&str>) -> String {
    let amount = format_amount(Money::from_minor(row.amount), &row.currency);
    let buttons = format!(
        "<form method=\"post\" action=\"{id}\">\
         <button class=\"pay\" id=\"pay\" name=\"outcome\" value=\"pay\">Pay {amount}</button>\
         <button class=\"decline\" id=\"decline\" name=\"outcome\" value=\"decline\">Decline</button>\
         </form>",
        id = escape(&row.id),
        amount = escape(&amount),
    );
    let (title, action) = match row.status {
        CheckoutStatus::Pending => ("Pay securely".to_owned(), buttons),
        CheckoutStatus::Paid => (
            "Payment successful".to_owned(),
            result_block("Paid. Thank you!", row),
        ),
        CheckoutStatus::Failed => (
            "Payment failed".to_owned(),
            format!(
                "<p class=\"state\" id=\"state\">The payment did not go through. Nothing was charged. \
                 You can try again.</p>{buttons}"
            ),
        ),
        CheckoutStatus::Expired => (
            "This payment has expired".to_owned(),
            result_block("This checkout can no longer be paid.", row),
        ),
    };
    let action = match notice {
        Some(notice) => format!("<p class=\"state\">{}</p>{action}", escape(notice)),
        None => action,
    };
    PAGE_TEMPLATE
        .replace("{{head}}", "")
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

pub(super) async fn payment_page(
    State(state): State<SandboxState>,
    Path(id): Path<String>,
) -> Response {
    page_answer(&state, &id).await
}

#[derive(Deserialize)]
pub(super) struct PaymentForm {
    outcome: String,
}

pub(super) async fn submit_payment(
    State(state): State<SandboxState>,
    Path(id): Path<String>,
    Form(form): Form<PaymentForm>,
) -> Response {
    let row = match state.store.sandbox_checkout(&id).await {
        Ok(Some(row)) if row.reader_id.is_none() && row.hosted.0 => row,
        Ok(_) => return not_found_page(),
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
    match record_attempt(&state, &row, paid).await {
        // The page as the attempt left it, without reading it back.
        Ok(true) => {
            let status = if paid {
                CheckoutStatus::Paid
            } else {
                CheckoutStatus::Failed
            };
            Html(render_page(&SandboxCheckoutRow { status, ..row }, None)).into_response()
        }
        Ok(false) => {
            // Paid or expired meanwhile: show what it is now.
            let current = state
                .store
                .sandbox_checkout(&id)
                .await
                .ok()
                .flatten()
                .unwrap_or(row);
            (StatusCode::CONFLICT, Html(render_page(&current, None))).into_response()
        }
        Err(err) => internal(err),
    }
}

/// Records one attempt to pay the checkout (a new transaction) and tells the shop; `false`
/// when the checkout was paid or ended meanwhile.
pub(super) async fn record_attempt(
    state: &SandboxState,
    row: &SandboxCheckoutRow,
    paid: bool,
) -> Result<bool, sqlx::Error> {
    let transaction_id = uuid::Uuid::new_v4().to_string();
    let transaction_code = format!("TSANDBOX{}", &transaction_id[..8].to_uppercase());
    let recorded = state
        .store
        .sandbox_attempt(row, paid, (&transaction_id, &transaction_code), time::now())
        .await?;
    if recorded {
        let status = if paid {
            CheckoutStatus::Paid
        } else {
            CheckoutStatus::Failed
        };
        notify::checkout_changed(
            state,
            &SandboxCheckoutRow {
                status,
                ..row.clone()
            },
        );
    }
    Ok(recorded)
}
