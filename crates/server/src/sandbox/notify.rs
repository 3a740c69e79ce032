//! Telling the shop that a sandbox checkout changed, as SumUp does: the `return_url`
//! callback and SumUp's event notification, each signed when the sandbox has a signing
//! secret, and retried on SumUp's schedule while the receiver does not take it.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use super::SandboxState;
use storefront_contract::CheckoutStatus;

use crate::store::SandboxCheckoutRow;
use crate::time;

/// The header SumUp signs notifications in.
pub const SIGNATURE_HEADER: &str = "X-SumUp-Webhook-Signature";

/// `t=<unix>,v1=<hex HMAC-SHA256 over "v1:<t>:" and the body>`, as SumUp signs.
pub fn sign(secret: &str, unix_time: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(format!("v1:{unix_time}:").as_bytes());
    mac.update(body);
    format!(
        "t={unix_time},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Sends the notifications the sandbox is set up for about this checkout's new state.
pub(super) fn checkout_changed(state: &SandboxState, row: &SandboxCheckoutRow) {
    let options = &state.options;
    if row.reader_id.is_some() {
        reader_payment_changed(state, row);
        return;
    }
    if options.return_url_callbacks
        && let Some(url) = &row.return_url
    {
        let body = json!({"event_type": "CHECKOUT_STATUS_CHANGED", "id": row.id});
        deliver(state, url.clone(), body.to_string());
    }
    if options.event_notifications {
        let body = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "event_type": "checkout.status.updated",
            "payload": {
                "checkout_id": row.id,
                "reference": row.reference,
                "status": row.status,
            },
            "timestamp": time::to_utc(time::now()),
        });
        deliver(state, state.events_url.clone(), body.to_string());
    }
}

/// A reader payment's outcome goes to its `return_url` as SumUp's Cloud API sends it
/// (`solo.transaction.updated`, `successful` or `failed`); a reader sends no event
/// notifications and nothing while the payment waits.
fn reader_payment_changed(state: &SandboxState, row: &SandboxCheckoutRow) {
    let status = match row.status {
        CheckoutStatus::Paid => "successful",
        CheckoutStatus::Failed | CheckoutStatus::Expired => "failed",
        CheckoutStatus::Pending => return,
    };
    if !state.options.return_url_callbacks {
        return;
    }
    let Some(url) = &row.return_url else {
        return;
    };
    let body = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "event_type": "solo.transaction.updated",
        "payload": {
            "client_transaction_id": row.reference,
            "merchant_code": row.merchant_code,
            "status": status,
        },
        "timestamp": time::to_utc(time::now()),
    });
    deliver(state, url.clone(), body.to_string());
}

/// Posts `body` to `url` in the background, signed afresh for each attempt, retrying after
/// each wait of the schedule until the receiver answers 2xx.
fn deliver(state: &SandboxState, url: String, body: String) {
    let http = state.http.clone();
    let options = state.options.clone();
    let secret = state.signing_secret.clone();
    tokio::spawn(async move {
        let waits = std::iter::once(None).chain(options.webhook_retry.iter().copied().map(Some));
        for (attempt, wait) in waits.enumerate() {
            if let Some(wait) = wait {
                tokio::time::sleep(wait).await;
            }
            let mut request = http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            if let Some(secret) = &secret {
                request =
                    request.header(SIGNATURE_HEADER, sign(secret, time::now(), body.as_bytes()));
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => return,
                Ok(response) => {
                    tracing::warn!(attempt, status = %response.status(), "sandbox notification refused")
                }
                Err(err) => {
                    tracing::warn!(attempt, error = %err.without_url(), "sandbox notification failed")
                }
            }
        }
        tracing::warn!(url, "sandbox notification given up after SumUp's retries");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_sumups_schedule() {
        let minutes: Vec<u64> = super::super::SandboxOptions::sumup_retry_schedule()
            .iter()
            .map(|wait| wait.as_secs() / 60)
            .collect();
        assert_eq!(minutes, [1, 5, 20, 120]);
    }

    #[test]
    fn signatures_verify_with_sumups_own_check() {
        let body = br#"{"id":"e1","event_type":"checkout.status.updated"}"#;
        let header = sign("whsec_test", time::now(), body);
        assert!(sumup::events::verify_signature("whsec_test", body, &header).is_ok());
        assert!(sumup::events::verify_signature("other", body, &header).is_err());
        let stale = sign("whsec_test", time::now() - 301, body);
        assert!(sumup::events::verify_signature("whsec_test", body, &stale).is_err());
    }
}
