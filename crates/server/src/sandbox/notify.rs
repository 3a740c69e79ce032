//! Telling the shop that a sandbox checkout changed, as SumUp does: the `return_url`
//! callback and SumUp's event notification, each signed when the sandbox has a signing
//! secret, and retried on SumUp's schedule while the receiver does not take it.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

use super::SandboxState;
use storefront_contract::{CheckoutCallback, CheckoutStatus, SumUpCallback};

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
        let body = SumUpCallback::Checkout {
            event_type: CheckoutCallback::StatusChanged,
            id: row.id.clone(),
        };
        deliver(state, url.clone(), json!(body).to_string());
    }
    if options.event_notifications {
        deliver(
            state,
            state.events_url.clone(),
            checkout_event(row, &state.api_origin()).to_string(),
        );
    }
}

/// SumUp's event notification about a checkout, as SumUp's SDKs read it: `{id, type,
/// created_at, object: {id, type, url}}`, the type named by SumUp's crate.
fn checkout_event(row: &SandboxCheckoutRow, api_origin: &str) -> serde_json::Value {
    use sumup::checkouts::{CheckoutExpired, CheckoutFailed, CheckoutPaid, CheckoutUpdated};
    use sumup::events::EventSpec;
    let event_type = match row.status {
        CheckoutStatus::Paid => CheckoutPaid::EVENT_TYPE,
        CheckoutStatus::Failed => CheckoutFailed::EVENT_TYPE,
        CheckoutStatus::Expired => CheckoutExpired::EVENT_TYPE,
        CheckoutStatus::Pending => CheckoutUpdated::EVENT_TYPE,
    };
    let object = sumup::events::EventObject {
        id: row.id.clone(),
        object_type: "checkout".to_owned(),
        url: format!("{api_origin}/v0.1/checkouts/{}", row.id),
    };
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "type": event_type,
        "created_at": time::to_utc(time::now()),
        "object": object,
    })
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
    fn checkout_events_read_as_sumups_own_event_types() {
        use sumup::events::EventNotification;
        let client = sumup::Client::default();
        for (status, kind) in [
            (CheckoutStatus::Paid, "paid"),
            (CheckoutStatus::Failed, "failed"),
            (CheckoutStatus::Expired, "expired"),
            (CheckoutStatus::Pending, "updated"),
        ] {
            let row = SandboxCheckoutRow {
                id: "c-42".into(),
                reference: "order-7".into(),
                merchant_code: "MSANDBOX".into(),
                amount: 1400,
                currency: "GBP".into(),
                description: None,
                return_url: None,
                redirect_url: None,
                status,
                created_at: 0,
                reader_id: None,
                hosted: crate::store::Flag(true),
            };
            let body = checkout_event(&row, "http://127.0.0.1:9/sumup-sandbox").to_string();
            let event = client
                .dangerously_parse_unverified_event_notification(body.as_bytes())
                .unwrap_or_else(|err| panic!("{body}: {err}"));
            assert_eq!(event.event_type(), format!("checkouts.{kind}"));
            let object = match event {
                EventNotification::CheckoutPaid(e) => e.object,
                EventNotification::CheckoutFailed(e) => e.object,
                EventNotification::CheckoutExpired(e) => e.object,
                EventNotification::CheckoutUpdated(e) => e.object,
                other => panic!("not a checkout event: {other:?}"),
            };
            assert_eq!(object.id, "c-42");
            assert_eq!(object.object_type, "checkout");
            assert_eq!(
                object.url,
                "http://127.0.0.1:9/sumup-sandbox/v0.1/checkouts/c-42"
            );
        }
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
