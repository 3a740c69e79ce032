//! `POST /webhooks/sumup`: SumUp's notice that a checkout changed (the `return_url` callback
//! or an event notification), and the page SumUp's hosted checkout sends the buyer back to.

use std::collections::BTreeSet;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Html;
use storefront_contract::{NoticeSubject, SumUpCallback};
use sumup::events::EventNotification;

use crate::error::ApiError;
use crate::payments::OwnedCheckoutKey;
use crate::payments::settle::hear_notice;
use crate::state::AppState;
use crate::sumup::SumUpClient;

/// With a signing secret, only a notification signed with it in the last 5 minutes is taken
/// (checked by SumUp's own SDK); a refused one changes nothing. SumUp's event notifications
/// are read with SumUp's own event types, its `return_url` callbacks with ours. Either way
/// the body only says which payment to read again: it is answered at once, then that payment
/// is re-read from SumUp and only SumUp's answer is applied.
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
    let key = match subject(state.payments().sumup(), &body)? {
        Some(NoticeSubject::Checkout(id)) => OwnedCheckoutKey::Id(id),
        Some(NoticeSubject::ReaderPayment(id)) => OwnedCheckoutKey::ReaderPayment(id),
        None => return Ok(StatusCode::NO_CONTENT),
    };
    hear_notice(state.payments(), key);
    Ok(StatusCode::NO_CONTENT)
}

/// Which payment a notification (already verified, when it is signed) is about: an event
/// SumUp's crate reads, else a `return_url` callback; `None` when it is about something else.
fn subject(sumup: &SumUpClient, body: &[u8]) -> Result<Option<NoticeSubject<String>>, ApiError> {
    match sumup.read_event(body) {
        Ok(event) => return Ok(event_subject(event)),
        Err(err) => tracing::debug!(error = %err, "not an event notification; a callback?"),
    }
    let callback: SumUpCallback = serde_json::from_slice(body).map_err(|err| {
        ApiError::BadRequest(format!(
            "The body is not a notification SumUp sends: {err}."
        ))
    })?;
    let subject = callback.subject().map(|subject| match subject {
        NoticeSubject::Checkout(id) => NoticeSubject::Checkout(id.to_owned()),
        NoticeSubject::ReaderPayment(id) => NoticeSubject::ReaderPayment(id.to_owned()),
    });
    if subject.is_none() {
        heard_of_once("a return_url callback of another kind");
    }
    Ok(subject)
}

/// The checkout an event of SumUp's is about; other events are noted and left.
fn event_subject(event: EventNotification) -> Option<NoticeSubject<String>> {
    let checkout = match event {
        EventNotification::CheckoutCreated(e) => e.object,
        EventNotification::CheckoutPaid(e) => e.object,
        EventNotification::CheckoutFailed(e) => e.object,
        EventNotification::CheckoutExpired(e) => e.object,
        EventNotification::CheckoutUpdated(e) => e.object,
        EventNotification::ReaderCreated(e) => {
            tracing::info!(reader = e.object.id, "SumUp: a reader was paired");
            return None;
        }
        EventNotification::ReaderDeleted(e) => {
            tracing::info!(reader = e.object.id, "SumUp: a reader was unpaired");
            return None;
        }
        EventNotification::Unknown(e) => {
            heard_of_once(&e.event_type);
            return None;
        }
        other => {
            heard_of_once(other.event_type());
            return None;
        }
    };
    Some(NoticeSubject::Checkout(checkout.id))
}

/// Logs an event type this server has nothing to do with, the first time it comes (of the
/// first few hundred kinds: a sender making up kinds cannot fill the memory).
fn heard_of_once(event_type: &str) {
    static HEARD: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut heard = HEARD
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if heard.len() < 256 && heard.insert(event_type.to_owned()) {
        tracing::info!(
            event_type,
            "SumUp notification of a kind this shop does not act on"
        );
    }
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
