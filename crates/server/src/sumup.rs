//! A client for SumUp's checkout API (the real service or the sandbox; they speak the same).

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use storefront_contract::{CheckoutStatus, Money};

/// Where SumUp is and how to talk to it.
#[derive(Clone)]
pub struct SumUpConfig {
    /// `https://api.sumup.com`, or the sandbox's base.
    pub base_url: String,
    pub api_key: String,
    /// The merchant paid when an order's page has no merchant code of its own.
    pub merchant_code: String,
    pub timeout: Duration,
}

impl fmt::Debug for SumUpConfig {
    // The key never appears in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SumUpConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("merchant_code", &self.merchant_code)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A checkout as SumUp describes it; unknown fields are ignored.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Checkout {
    pub id: String,
    #[serde(default)]
    pub checkout_reference: Option<String>,
    #[serde(default)]
    pub amount: Option<f64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub merchant_code: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub status: CheckoutStatus,
    #[serde(default)]
    pub hosted_checkout_url: Option<String>,
    #[serde(default)]
    pub transactions: Vec<Transaction>,
}

impl Checkout {
    /// The transaction that took the money, if any.
    pub fn successful_transaction(&self) -> Option<&Transaction> {
        self.transactions
            .iter()
            .find(|t| t.status == Some(TransactionStatus::Successful))
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Transaction {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub transaction_code: Option<String>,
    #[serde(default)]
    pub amount: Option<f64>,
    #[serde(default)]
    pub status: Option<TransactionStatus>,
}

/// A transaction's status. SumUp may add statuses; one we do not know took no money for us.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TransactionStatus {
    Successful,
    Cancelled,
    Failed,
    Pending,
    Refunded,
    #[serde(other)]
    Unrecognised,
}

/// What we ask SumUp to create.
#[derive(Debug)]
pub struct NewCheckout<'a> {
    pub reference: &'a str,
    pub amount: Money,
    pub currency: &'a str,
    pub merchant_code: &'a str,
    pub description: &'a str,
    pub return_url: &'a str,
    pub redirect_url: &'a str,
}

/// One of SumUp's error bodies: `{"error_code", "message", "param"}`, alone or in an array.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ApiErrorBody {
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub param: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SumUpError {
    #[error("SumUp could not be reached: {0}")]
    Unreachable(String),
    #[error("SumUp answered {status}: {}", body.error_code.as_deref().unwrap_or("no error code"))]
    Api { status: u16, body: ApiErrorBody },
    #[error("SumUp's answer could not be read: {0}")]
    Decode(String),
    #[error("the amount {0} cannot be sent to SumUp")]
    Amount(Money),
}

impl SumUpError {
    pub fn error_code(&self) -> Option<&str> {
        match self {
            SumUpError::Api { body, .. } => body.error_code.as_deref(),
            _ => None,
        }
    }

    /// A checkout with this reference exists already (our earlier answer was lost).
    pub fn is_duplicate(&self) -> bool {
        self.error_code() == Some("DUPLICATED_CHECKOUT")
    }

    /// The checkout was processed (paid) and can no longer be changed.
    pub fn is_processed(&self) -> bool {
        self.error_code() == Some("CHECKOUT_PROCESSED")
    }
}

/// Reads SumUp's error body, which is an object or an array of objects.
fn parse_error_body(text: &str) -> ApiErrorBody {
    if let Ok(body) = serde_json::from_str::<ApiErrorBody>(text) {
        return body;
    }
    serde_json::from_str::<Vec<ApiErrorBody>>(text)
        .ok()
        .and_then(|bodies| bodies.into_iter().next())
        .unwrap_or_default()
}

#[derive(Clone)]
pub struct SumUpClient {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
    merchant_code: String,
}

impl fmt::Debug for SumUpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SumUpClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl SumUpClient {
    /// Fails only when no HTTP client can be built (no TLS roots, say).
    pub fn new(config: &SumUpConfig) -> Result<SumUpClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5).min(config.timeout))
            .timeout(config.timeout)
            .build()?;
        Ok(SumUpClient {
            http,
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            api_key: config.api_key.clone(),
            merchant_code: config.merchant_code.clone(),
        })
    }

    pub fn merchant_code(&self) -> &str {
        &self.merchant_code
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Option<T>, SumUpError> {
        let response = request
            .bearer_auth(&self.api_key)
            .send()
            .await
            .map_err(|err| SumUpError::Unreachable(err.without_url().to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|err| SumUpError::Unreachable(err.without_url().to_string()))?;
        if !status.is_success() {
            return Err(SumUpError::Api {
                status: status.as_u16(),
                body: parse_error_body(&text),
            });
        }
        if status == StatusCode::NO_CONTENT || text.trim().is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|err| SumUpError::Decode(err.to_string()))
    }

    async fn expect<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, SumUpError> {
        self.send(request)
            .await?
            .ok_or_else(|| SumUpError::Decode("the answer was empty".to_owned()))
    }

    pub async fn create_checkout(&self, new: &NewCheckout<'_>) -> Result<Checkout, SumUpError> {
        let body = serde_json::json!({
            "checkout_reference": new.reference,
            "amount": amount_number(new.amount)?,
            "currency": new.currency,
            "merchant_code": new.merchant_code,
            "description": new.description,
            "return_url": new.return_url,
            "redirect_url": new.redirect_url,
            "hosted_checkout": {"enabled": true},
        });
        let url = format!("{}/v0.1/checkouts", self.base_url);
        self.expect(self.http.post(url).json(&body)).await
    }

    pub async fn get_checkout(&self, id: &str) -> Result<Checkout, SumUpError> {
        let url = format!("{}/v0.1/checkouts/{}", self.base_url, urlencode(id));
        self.expect(self.http.get(url)).await
    }

    pub async fn checkouts_by_reference(
        &self,
        reference: &str,
    ) -> Result<Vec<Checkout>, SumUpError> {
        let url = format!("{}/v0.1/checkouts", self.base_url);
        self.expect(
            self.http
                .get(url)
                .query(&[("checkout_reference", reference)]),
        )
        .await
    }

    /// Deactivates a pending checkout so that it can no longer be paid.
    pub async fn deactivate_checkout(&self, id: &str) -> Result<Option<Checkout>, SumUpError> {
        let url = format!("{}/v0.1/checkouts/{}", self.base_url, urlencode(id));
        self.send(self.http.delete(url)).await
    }

    pub async fn refund(
        &self,
        merchant_code: &str,
        transaction_id: &str,
        amount: Money,
    ) -> Result<(), SumUpError> {
        let url = format!(
            "{}/v1.0/merchants/{}/payments/{}/refunds",
            self.base_url,
            urlencode(merchant_code),
            urlencode(transaction_id)
        );
        let body = serde_json::json!({"amount": amount_number(amount)?});
        self.send::<serde_json::Value>(self.http.post(url).json(&body))
            .await
            .map(|_| ())
    }
}

fn urlencode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An amount as the number SumUp's API takes.
fn amount_number(amount: Money) -> Result<f64, SumUpError> {
    amount
        .as_decimal()
        .to_f64()
        .filter(|n| n.is_finite())
        .ok_or(SumUpError::Amount(amount))
}

/// Converts SumUp's float amount back to exact money.
pub fn money_from_amount(amount: f64) -> Option<Money> {
    let minor = (amount * 100.0).round();
    (minor.is_finite() && minor >= 0.0).then(|| Money::from_minor(minor as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_in_every_documented_shape() {
        let single =
            parse_error_body(r#"{"error_code":"NOT_FOUND","message":"Resource not found"}"#);
        assert_eq!(single.error_code.as_deref(), Some("NOT_FOUND"));
        let array = parse_error_body(
            r#"[{"error_code":"MISSING","message":"Validation error","param":"amount"}]"#,
        );
        assert_eq!(array.error_code.as_deref(), Some("MISSING"));
        assert_eq!(array.param.as_deref(), Some("amount"));
        assert_eq!(
            parse_error_body("<html>bad gateway</html>"),
            ApiErrorBody::default()
        );
        assert_eq!(parse_error_body("[]"), ApiErrorBody::default());
    }

    #[test]
    fn the_key_is_never_printed() {
        let config = SumUpConfig {
            base_url: "https://api.sumup.com".into(),
            api_key: "sup_sk_secret".into(),
            merchant_code: "M1".into(),
            timeout: Duration::from_secs(10),
        };
        assert!(!format!("{config:?}").contains("secret"));
        assert!(!format!("{:?}", SumUpClient::new(&config).unwrap()).contains("secret"));
    }

    #[test]
    fn amounts_convert_exactly() {
        assert_eq!(money_from_amount(12.5), Some(Money::from_minor(1250)));
        assert_eq!(money_from_amount(42.01), Some(Money::from_minor(4201)));
        assert_eq!(money_from_amount(-1.0), None);
        assert_eq!(amount_number(Money::from_minor(4201)).unwrap(), 42.01);
        assert_eq!(urlencode("a/b c"), "a%2Fb%20c");
    }
}
