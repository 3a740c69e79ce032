//! `POST /webhooks/sumup`: SumUp's notice that a checkout changed (the `return_url` callback
//! or an event notification), and the page SumUp's hosted checkout sends the buyer back to.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Html;
use storefront_contract::{NoticeSubject, WebhookNotice};

use crate::error::ApiError;
use crate::payments::OwnedCheckoutKey;
use crate::payments::settle::hear_notice;
use crate::state::AppState;

/// With a signing secret, only a notification signed with it in the last 5 minutes is taken
/// (checked by SumUp's own SDK); a refused one changes nothing. Either way the body only says
/// which checkout to read again: it is answered at once, then that checkout is re-read from
/// SumUp and only SumUp's answer is applied.
pub async fn sumup_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    if let Some(secret) = state.webhook_secret() {
        let signature = headers
            .get(sumup::events::SIGNATURE_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if let Err(err) = sumup::events::verify_signature(secret, &body, signature) {
            tracing::warn!(error = %err, "webhook refused");
            return Err(ApiError::BadSignature(err.to_string()));
        }
    }
    let notice: WebhookNotice = serde_json::from_slice(&body).map_err(|err| {
        ApiError::BadRequest(format!(
            "The body is not a notification SumUp sends: {err}."
        ))
    })?;
    let key = match notice.subject() {
        Some(NoticeSubject::Checkout(id)) => OwnedCheckoutKey::Id(id.to_owned()),
        Some(NoticeSubject::ReaderPayment(id)) => OwnedCheckoutKey::ReaderPayment(id.to_owned()),
        None => {
            tracing::info!(?notice, "webhook about something other than a checkout");
            return Ok(StatusCode::NO_CONTENT);
        }
    };
    hear_notice(state.payments(), key);
    Ok(StatusCode::NO_CONTENT)
}

/// Where SumUp's hosted page sends the buyer after paying.
pub async fn return_page() -> Html<&'static str> {
    Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Thank you</title><style>body{font:18px/1.5 system-ui,sans-serif;display:grid;\
         place-items:center;min-height:90vh;margin:0;text-align:center}</style></head>\
         <body><main><h1>Thank you</h1><p>You can close this page and return to the terminal.\
         <br>It shows your tickets as soon as the payment is confirmed.</p></main></body></html>",
    )
}
