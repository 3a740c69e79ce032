//! SumUp's checkout API (the real service or the sandbox; they speak the same), through
//! SumUp's own Rust SDK, the `sumup` crate.

use std::fmt;
use std::time::Duration;

use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
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

/// A checkout, as much of it as the shop needs, read from SumUp's own types.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkout {
    pub id: String,
    pub checkout_reference: Option<String>,
    pub status: CheckoutStatus,
    pub hosted_checkout_url: Option<String>,
    /// The transaction that took the money: the successful (or since refunded) one of
    /// `transactions`, else SumUp's top-level `transaction_id`.
    pub transaction_id: Option<String>,
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

/// What we ask a card reader to take.
#[derive(Debug)]
pub struct NewReaderCheckout<'a> {
    pub merchant_code: &'a str,
    /// SumUp's id of the reader.
    pub reader_id: &'a str,
    pub amount: Money,
    pub currency: &'a str,
    pub description: &'a str,
    /// Where SumUp reports the payment's outcome (`solo.transaction.updated`).
    pub return_url: &'a str,
}

/// A payment waiting on a card reader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderCheckout {
    pub checkout_id: String,
    /// The payment's id in SumUp's notifications and transactions.
    pub client_transaction_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SumUpError {
    #[error("SumUp could not be reached: {0}")]
    Unreachable(String),
    #[error("SumUp answered {status}{}: {detail}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Api {
        status: u16,
        /// SumUp's `error_code` (or the last part of a problem's `type`).
        code: Option<String>,
        /// SumUp's `detail`, `title` or `message`, as said.
        detail: String,
    },
    #[error("SumUp's answer could not be read: {0}")]
    Decode(String),
    #[error("the amount {0} cannot be sent to SumUp")]
    Amount(Money),
}

impl SumUpError {
    pub fn error_code(&self) -> Option<&str> {
        match self {
            SumUpError::Api { code, .. } => code.as_deref(),
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

    /// SumUp refused for good: asking again will not change its answer (unlike a network
    /// failure, a 5xx or a 429).
    pub fn is_final(&self) -> bool {
        match self {
            SumUpError::Api { status, .. } => {
                (400..500).contains(status) && *status != 408 && *status != 429
            }
            SumUpError::Amount(_) => true,
            SumUpError::Unreachable(_) | SumUpError::Decode(_) => false,
        }
    }

    fn from_sdk<E>(err: sumup::SdkError<E>) -> SumUpError {
        match err {
            sumup::SdkError::InvalidRequest(message) => SumUpError::Decode(message),
            sumup::SdkError::Network(err) if err.is_decode() => {
                SumUpError::Decode(err.without_url().to_string())
            }
            sumup::SdkError::Network(err) => SumUpError::Unreachable(err.without_url().to_string()),
            sumup::SdkError::Response(response) => {
                SumUpError::Unreachable(response.source.without_url().to_string())
            }
            sumup::SdkError::Api(response) => {
                SumUpError::answered(response.status.as_u16(), &response.raw_body)
            }
            sumup::SdkError::Unexpected(response) => {
                SumUpError::answered(response.status.as_u16(), &response.raw_body)
            }
        }
    }

    /// An error answer, in either of SumUp's shapes: `{"error_code", "message", "param"}`
    /// (alone or in an array), or a problem (`{"type", "title", "status", "detail"}`).
    fn answered(status: u16, body: &[u8]) -> SumUpError {
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let object = match &value {
            serde_json::Value::Array(items) => items.first().cloned().unwrap_or_default(),
            other => other.clone(),
        };
        let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let code = text("error_code")
            .or_else(|| text("type").and_then(|t| t.rsplit('/').next().map(str::to_owned)));
        let mut detail: Vec<String> = ["title", "detail", "message"]
            .iter()
            .filter_map(|key| text(key))
            .collect();
        if let Some(param) = text("param") {
            detail.push(format!("({param})"));
        }
        let detail = if detail.is_empty() {
            String::from_utf8_lossy(body).chars().take(200).collect()
        } else {
            detail.join(" ")
        };
        SumUpError::Api {
            status,
            code,
            detail,
        }
    }
}

/// A reader as SumUp's Readers API shows it.
pub type Reader = sumup::readers::Reader;
/// How a reader is now (online, battery, busy), as SumUp says.
pub type ReaderStatusNow = sumup::readers::StatusResponseData;

/// SumUp, through SumUp's own SDK: the checkouts and refunds the shop needs.
#[derive(Clone)]
pub struct SumUpClient {
    sdk: sumup::Client,
    merchant_code: String,
}

impl fmt::Debug for SumUpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SumUpClient")
            .field("base_url", &self.sdk.base_url())
            .finish_non_exhaustive()
    }
}

impl SumUpClient {
    /// Fails only when no HTTP client can be built (no TLS roots, say).
    pub fn new(config: &SumUpConfig) -> Result<SumUpClient, reqwest::Error> {
        let http = sumup::Client::http_client_builder()
            .connect_timeout(Duration::from_secs(5).min(config.timeout))
            .build()?;
        let sdk = sumup::Client::new()
            .with_client(http)
            .with_base_url(config.base_url.trim_end_matches('/'))
            .with_authorization(sumup::Authorization::APIKey(config.api_key.clone()))
            .with_timeout(config.timeout);
        Ok(SumUpClient {
            sdk,
            merchant_code: config.merchant_code.clone(),
        })
    }

    /// Reads an event notification with SumUp's own types. Its signature, when the shop has
    /// a secret, is checked before (`sumup::events::verify_signature`). The SDK's client is
    /// the one kept here: making one loads the system's certificates, far dearer than a
    /// webhook's work.
    pub fn read_event(
        &self,
        body: &[u8],
    ) -> Result<sumup::events::EventNotification, sumup::events::EventError> {
        self.sdk
            .dangerously_parse_unverified_event_notification(body)
    }

    pub fn merchant_code(&self) -> &str {
        &self.merchant_code
    }

    /// Pairs the SumUp Solo that shows `code` (`storefront readers pair`).
    pub async fn pair_reader(&self, code: &str, name: &str) -> Result<Reader, SumUpError> {
        let request = sumup::readers::CreateRequest {
            pairing_code: code.to_owned(),
            name: name.to_owned(),
            metadata: None,
        };
        self.sdk
            .readers()
            .create(urlencode(&self.merchant_code), request)
            .await
            .map_err(SumUpError::from_sdk)
    }

    /// Whether SumUp last heard from the reader as online; `None` when its status cannot be
    /// read (the payment is then tried, and the reader's answer says).
    pub async fn reader_online(&self, merchant_code: &str, reader_id: &str) -> Option<bool> {
        use sumup::readers::StatusResponseDataStatus as Online;
        match self
            .sdk
            .readers()
            .get_status(urlencode(merchant_code), urlencode(reader_id))
            .await
        {
            Ok(status) => match status.data.status {
                Online::Online => Some(true),
                Online::Offline => Some(false),
                other => {
                    tracing::warn!(
                        reader = reader_id,
                        ?other,
                        "a reader status SumUp did not name"
                    );
                    None
                }
            },
            Err(err) => {
                tracing::info!(reader = reader_id, error = %SumUpError::from_sdk(err), "no reader status");
                None
            }
        }
    }

    /// The merchant's paired readers, each with how it is now when SumUp says
    /// (`storefront readers list`).
    pub async fn readers(&self) -> Result<Vec<(Reader, Option<ReaderStatusNow>)>, SumUpError> {
        let merchant = urlencode(&self.merchant_code);
        let listed = self
            .sdk
            .readers()
            .list(&merchant)
            .await
            .map_err(SumUpError::from_sdk)?;
        let mut readers = Vec::with_capacity(listed.items.len());
        for reader in listed.items {
            let status = match self.sdk.readers().get_status(&merchant, &reader.id).await {
                Ok(status) => Some(status.data),
                Err(err) => {
                    tracing::warn!(reader = reader.id, error = %SumUpError::from_sdk(err), "no status");
                    None
                }
            };
            readers.push((reader, status));
        }
        Ok(readers)
    }

    pub async fn create_checkout(&self, new: &NewCheckout<'_>) -> Result<Checkout, SumUpError> {
        let currency: sumup::Currency = serde_json::from_value(serde_json::json!(new.currency))
            .map_err(|err| SumUpError::Decode(err.to_string()))?;
        let request = sumup::checkouts::CreateRequest::builder()
            .checkout_reference(new.reference)
            .amount(amount_number(new.amount)?)
            .currency(currency)
            .merchant_code(new.merchant_code)
            .description(new.description)
            .return_url(new.return_url)
            .redirect_url(new.redirect_url)
            .hosted_checkout(
                sumup::checkouts::HostedCheckout::builder()
                    .enabled(true)
                    .build(),
            )
            .build();
        let created = self
            .sdk
            .checkouts()
            .create(request)
            .await
            .map_err(SumUpError::from_sdk)?;
        checkout_from_value(serde_json::to_value(created))
    }

    pub async fn get_checkout(&self, id: &str) -> Result<Checkout, SumUpError> {
        let checkout = self
            .sdk
            .checkouts()
            .get(urlencode(id))
            .await
            .map_err(SumUpError::from_sdk)?;
        checkout_from_value(serde_json::to_value(checkout))
    }

    pub async fn checkouts_by_reference(
        &self,
        reference: &str,
    ) -> Result<Vec<Checkout>, SumUpError> {
        let params = sumup::checkouts::ListParams::builder()
            .checkout_reference(reference)
            .build();
        self.sdk
            .checkouts()
            .list(params)
            .await
            .map_err(SumUpError::from_sdk)?
            .into_iter()
            .map(|checkout| checkout_from_value(serde_json::to_value(checkout)))
            .collect()
    }

    /// Deactivates a pending checkout so that it can no longer be paid.
    pub async fn deactivate_checkout(&self, id: &str) -> Result<Checkout, SumUpError> {
        let checkout = self
            .sdk
            .checkouts()
            .deactivate(urlencode(id))
            .await
            .map_err(SumUpError::from_sdk)?;
        checkout_from_value(serde_json::to_value(checkout))
    }

    /// Puts the amount on a card reader. SumUp refuses (`422`) while the reader is offline
    /// or busy with another payment.
    pub async fn create_reader_checkout(
        &self,
        new: &NewReaderCheckout<'_>,
    ) -> Result<ReaderCheckout, SumUpError> {
        let minor = new
            .amount
            .to_minor()
            .ok_or(SumUpError::Amount(new.amount))?;
        let request = sumup::readers::CreateCheckoutRequest::builder()
            .total_amount(
                sumup::readers::CreateCheckoutRequestTotalAmount::builder()
                    .currency(new.currency)
                    .minor_unit(2)
                    .value(minor)
                    .build(),
            )
            .description(new.description)
            .return_url(new.return_url)
            .build();
        let created = self
            .sdk
            .readers()
            .create_checkout(
                urlencode(new.merchant_code),
                urlencode(new.reader_id),
                request,
            )
            .await
            .map_err(SumUpError::from_sdk)?
            .data;
        let checkout_id = created.checkout_id.ok_or_else(|| {
            SumUpError::Decode("the reader checkout came without a checkout_id".to_owned())
        })?;
        Ok(ReaderCheckout {
            checkout_id,
            client_transaction_id: created.client_transaction_id,
        })
    }

    /// A reader payment as SumUp sees it now; once paid, with the transaction that took the
    /// money (read from SumUp's transactions by the payment's `client_transaction_id`).
    ///
    /// SumUp's API may answer `null` where the SDK's types want a string (`card_type`,
    /// `payment_status`, …): when the answer cannot be read, the payment's transaction says
    /// how it stands instead.
    pub async fn get_reader_checkout(
        &self,
        merchant_code: &str,
        reader_id: &str,
        checkout_id: &str,
        client_transaction_id: &str,
    ) -> Result<Checkout, SumUpError> {
        use sumup::readers::GetReaderCheckoutResponseDataStatus as Status;
        let answer = self
            .sdk
            .readers()
            .get_checkout(
                urlencode(merchant_code),
                urlencode(reader_id),
                urlencode(checkout_id),
            )
            .await
            .map_err(SumUpError::from_sdk);
        let data = match answer {
            Ok(answer) => answer.data,
            Err(SumUpError::Decode(why)) => {
                tracing::info!(
                    checkout_id,
                    why,
                    "reader checkout unreadable; asking its transaction"
                );
                return self
                    .reader_payment_by_transaction(
                        merchant_code,
                        checkout_id,
                        client_transaction_id,
                    )
                    .await;
            }
            Err(err) => return Err(err),
        };
        let status = match &data.status {
            Status::Pending => CheckoutStatus::Pending,
            Status::Successful => CheckoutStatus::Paid,
            Status::Failed => CheckoutStatus::Failed,
            Status::Cancelled => CheckoutStatus::Expired,
            Status::Other(other) => {
                return Err(SumUpError::Decode(format!(
                    "reader checkout {checkout_id} has the unknown status {other:?}"
                )));
            }
        };
        let transaction_id = if status == CheckoutStatus::Paid {
            let params = sumup::transactions::GetParams::builder()
                .client_transaction_id(data.client_transaction_id.clone())
                .build();
            let transaction = self
                .sdk
                .transactions()
                .get(urlencode(merchant_code), params)
                .await
                .map_err(SumUpError::from_sdk)?;
            transaction.id
        } else {
            None
        };
        Ok(Checkout {
            id: data.checkout_id,
            checkout_reference: Some(data.client_transaction_id),
            status,
            hosted_checkout_url: None,
            transaction_id,
        })
    }

    /// A reader payment as its transaction tells it: none yet is still pending.
    async fn reader_payment_by_transaction(
        &self,
        merchant_code: &str,
        checkout_id: &str,
        client_transaction_id: &str,
    ) -> Result<Checkout, SumUpError> {
        let params = sumup::transactions::GetParams::builder()
            .client_transaction_id(client_transaction_id.to_owned())
            .build();
        let (status, transaction_id) = match self
            .sdk
            .transactions()
            .get(urlencode(merchant_code), params)
            .await
            .map_err(SumUpError::from_sdk)
        {
            Ok(transaction) => {
                let status = paid_by_transaction(transaction.status.as_ref()).map_err(|why| {
                    SumUpError::Decode(format!("reader payment {client_transaction_id}: {why}"))
                })?;
                let paid = status == CheckoutStatus::Paid;
                (status, transaction.id.filter(|_| paid))
            }
            Err(SumUpError::Api { status: 404, .. }) => (CheckoutStatus::Pending, None),
            Err(err) => return Err(err),
        };
        Ok(Checkout {
            id: checkout_id.to_owned(),
            checkout_reference: Some(client_transaction_id.to_owned()),
            status,
            hosted_checkout_url: None,
            transaction_id,
        })
    }

    /// Asks the reader to stop waiting for a card. SumUp does not confirm it: read the
    /// checkout back to see how it ended.
    pub async fn terminate_reader_checkout(
        &self,
        merchant_code: &str,
        reader_id: &str,
    ) -> Result<(), SumUpError> {
        self.sdk
            .readers()
            .terminate_checkout(urlencode(merchant_code), urlencode(reader_id))
            .await
            .map_err(SumUpError::from_sdk)
    }

    pub async fn refund(
        &self,
        merchant_code: &str,
        transaction_id: &str,
        amount: Money,
    ) -> Result<(), SumUpError> {
        let body = sumup::transactions::RefundRequest::builder()
            .amount(amount_number(amount)?)
            .build();
        self.sdk
            .transactions()
            .refund(
                urlencode(merchant_code),
                urlencode(transaction_id),
                Some(body),
            )
            .await
            .map(|_| ())
            .map_err(SumUpError::from_sdk)
    }
}

/// Reads a checkout from the JSON of any of SumUp's checkout types (the one `create`
/// answers and the one `get` and `list` answer differ only in fields we do not read).
fn checkout_from_value(
    value: Result<serde_json::Value, serde_json::Error>,
) -> Result<Checkout, SumUpError> {
    #[derive(Deserialize)]
    struct Shape {
        id: Option<String>,
        checkout_reference: Option<String>,
        status: Option<String>,
        hosted_checkout_url: Option<String>,
        transaction_id: Option<String>,
        #[serde(default)]
        transactions: Vec<TransactionShape>,
    }
    #[derive(Deserialize)]
    struct TransactionShape {
        id: Option<String>,
        status: Option<sumup::common::TransactionStatus>,
    }
    let value = value.map_err(|err| SumUpError::Decode(err.to_string()))?;
    let shape: Shape =
        serde_json::from_value(value).map_err(|err| SumUpError::Decode(err.to_string()))?;
    let id = shape
        .id
        .ok_or_else(|| SumUpError::Decode("a checkout without an id".to_owned()))?;
    let status = shape
        .status
        .ok_or_else(|| SumUpError::Decode(format!("checkout {id} has no status")))?
        .parse()
        .map_err(|err: storefront_contract::UnknownName| SumUpError::Decode(err.to_string()))?;
    // Paid, and perhaps refunded since: either way the transaction that took the money.
    let took_money = |t: &TransactionShape| {
        use sumup::common::TransactionStatus as Status;
        matches!(t.status, Some(Status::Successful | Status::Refunded))
    };
    let transaction_id = shape
        .transactions
        .iter()
        .find(|t| took_money(t))
        .and_then(|t| t.id.clone())
        .or(shape.transaction_id);
    Ok(Checkout {
        id,
        checkout_reference: shape.checkout_reference,
        status,
        hosted_checkout_url: shape.hosted_checkout_url,
        transaction_id,
    })
}

/// How a reader payment stands by its transaction's status. An unknown or missing status is
/// an error, never guessed: the payment stays as we last knew it.
fn paid_by_transaction(
    status: Option<&sumup::common::TransactionStatus>,
) -> Result<CheckoutStatus, String> {
    use sumup::common::TransactionStatus as Status;
    match status {
        Some(Status::Successful | Status::Refunded) => Ok(CheckoutStatus::Paid),
        Some(Status::Failed | Status::Cancelled) => Ok(CheckoutStatus::Failed),
        Some(Status::Pending) => Ok(CheckoutStatus::Pending),
        Some(Status::Other(other)) => Err(format!("unknown transaction status {other:?}")),
        None => Err("a transaction without a status".to_owned()),
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

/// An amount as the number SumUp's API takes (SumUp's types use `f32`; two decimals of
/// any ticket total fit).
fn amount_number(amount: Money) -> Result<f32, SumUpError> {
    amount
        .as_decimal()
        .to_f32()
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
        let single = SumUpError::answered(
            404,
            br#"{"error_code":"NOT_FOUND","message":"Resource not found"}"#,
        );
        assert_eq!(single.error_code(), Some("NOT_FOUND"));
        assert!(
            single.to_string().contains("Resource not found"),
            "{single}"
        );
        let array = SumUpError::answered(
            400,
            br#"[{"error_code":"MISSING","message":"Validation error","param":"amount"}]"#,
        );
        assert_eq!(array.error_code(), Some("MISSING"));
        assert!(array.to_string().contains("(amount)"), "{array}");
        let problem = SumUpError::answered(
            422,
            br#"{"type":"https://developer.sumup.com/problem/invalid-amount","title":"Invalid amount","status":422,"detail":"The refund exceeds what is left."}"#,
        );
        assert_eq!(problem.error_code(), Some("invalid-amount"));
        assert!(
            problem.to_string().contains("exceeds what is left"),
            "{problem}"
        );
        assert!(problem.is_final());
        let html = SumUpError::answered(502, b"<html>bad gateway</html>");
        assert_eq!(html.error_code(), None);
        assert!(!html.is_final());
        assert!(!SumUpError::answered(429, b"{}").is_final());
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
    fn the_paying_transaction_is_found_in_either_place() {
        let listed = checkout_from_value(Ok(serde_json::json!({
            "id": "c1", "status": "PAID",
            "transactions": [{"id": "t0", "status": "FAILED"}, {"id": "t1", "status": "SUCCESSFUL"}]
        })))
        .unwrap();
        assert_eq!(listed.transaction_id.as_deref(), Some("t1"));
        let top = checkout_from_value(Ok(serde_json::json!({
            "id": "c2", "status": "PAID", "transaction_id": "t2"
        })))
        .unwrap();
        assert_eq!(top.transaction_id.as_deref(), Some("t2"));
        let refunded = checkout_from_value(Ok(serde_json::json!({
            "id": "c3", "status": "PAID", "transactions": [{"id": "t3", "status": "REFUNDED"}]
        })))
        .unwrap();
        assert_eq!(refunded.transaction_id.as_deref(), Some("t3"));
        assert!(
            checkout_from_value(Ok(serde_json::json!({"id": "c4", "status": "SOMETHING"})))
                .is_err()
        );
        // A transaction in a state SumUp may add later took no money we know of.
        let unknown = checkout_from_value(Ok(serde_json::json!({
            "id": "c5", "status": "PAID", "transaction_id": "t5",
            "transactions": [{"id": "t4", "status": "CHARGEBACK"}]
        })))
        .unwrap();
        assert_eq!(unknown.transaction_id.as_deref(), Some("t5"));
    }

    #[test]
    fn a_reader_payment_stands_as_its_transaction_says_and_nothing_is_guessed() {
        use sumup::common::TransactionStatus as Status;
        assert_eq!(
            paid_by_transaction(Some(&Status::Successful)),
            Ok(CheckoutStatus::Paid)
        );
        assert_eq!(
            paid_by_transaction(Some(&Status::Refunded)),
            Ok(CheckoutStatus::Paid)
        );
        assert_eq!(
            paid_by_transaction(Some(&Status::Cancelled)),
            Ok(CheckoutStatus::Failed)
        );
        assert_eq!(
            paid_by_transaction(Some(&Status::Pending)),
            Ok(CheckoutStatus::Pending)
        );
        assert!(paid_by_transaction(Some(&Status::Other("CHARGEBACK".into()))).is_err());
        assert!(paid_by_transaction(None).is_err());
    }

    #[test]
    fn amounts_convert_exactly() {
        assert_eq!(money_from_amount(12.5), Some(Money::from_minor(1250)));
        assert_eq!(money_from_amount(42.01), Some(Money::from_minor(4201)));
        assert_eq!(
            money_from_amount(f64::from(amount_number(Money::from_minor(4201)).unwrap())),
            Some(Money::from_minor(4201))
        );
        assert_eq!(money_from_amount(-1.0), None);
        assert_eq!(urlencode("a/b c"), "a%2Fb%20c");
    }
}
