//! `POST /webhooks/sumup`: SumUp's notice that a checkout changed, and the page SumUp's
//! hosted checkout sends the buyer back to.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use storefront_contract::WebhookNotice;

use crate::extract::ApiJson;
use crate::payments::settle::refresh_checkout;
use crate::state::AppState;

/// Answered at once; the checkout is then re-read from SumUp, since anyone can post here.
pub async fn sumup_webhook(
    State(state): State<AppState>,
    ApiJson(notice): ApiJson<WebhookNotice>,
) -> StatusCode {
    tokio::spawn(async move {
        if let Err(err) = refresh_checkout(&state, &notice.id).await {
            tracing::warn!(error = %err, "webhook handling failed");
        }
    });
    StatusCode::NO_CONTENT
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
