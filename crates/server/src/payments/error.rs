//! How a payment can fail, told apart for the caller; the API's answer for each is made at
//! the edge ([`From<PaymentError> for ApiError`]).

use storefront_contract::OrderStatus;

use crate::error::ApiError;
use crate::sumup::SumUpError;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error(transparent)]
    Store(#[from] sqlx::Error),
    /// SumUp failed or could not be reached; the order is kept and can be paid again.
    #[error("SumUp failed for order {order_id}: {source}")]
    Provider {
        order_id: i64,
        #[source]
        source: SumUpError,
    },
    /// The card reader refused the payment for good (busy, or offline unbeknown to SumUp's
    /// status).
    #[error("the card reader {reader} refused the payment of order {order_id}: {source}")]
    ReaderRefused {
        order_id: i64,
        reader: String,
        #[source]
        source: SumUpError,
    },
    /// SumUp says the card reader is offline: nothing was put on it.
    #[error("the card reader {reader} is offline; order {order_id} was not put on it")]
    ReaderOffline { order_id: i64, reader: String },
    /// The order is paid (perhaps just now) or cancelled.
    #[error("order is {0} and cannot be paid")]
    NotPayable(OrderStatus),
}

pub type PaymentResult<T> = Result<T, PaymentError>;

impl PaymentError {
    pub(super) fn provider(order_id: i64, source: SumUpError) -> PaymentError {
        PaymentError::Provider { order_id, source }
    }
}

impl From<PaymentError> for ApiError {
    fn from(err: PaymentError) -> ApiError {
        match err {
            PaymentError::Store(err) => ApiError::from(err),
            PaymentError::Provider { order_id, source } => {
                tracing::warn!(order_id, error = %source, "SumUp failed");
                ApiError::PaymentProvider {
                    message: "The payment service is unavailable right now. Your order is kept; \
                              try paying again in a moment."
                        .to_owned(),
                    order_id: Some(order_id),
                }
            }
            PaymentError::ReaderRefused {
                order_id,
                reader,
                source,
            } => {
                tracing::warn!(order_id, reader, error = %source, "the reader refused the payment");
                ApiError::PaymentProvider {
                    message: format!(
                        "The card reader {reader} cannot take this payment now (it is busy or \
                         offline). Your order is kept; pay by QR code, or try the reader again \
                         in a moment."
                    ),
                    order_id: Some(order_id),
                }
            }
            PaymentError::ReaderOffline { order_id, reader } => {
                tracing::warn!(order_id, reader, "the reader is offline");
                ApiError::PaymentProvider {
                    message: format!(
                        "The card reader {reader} is offline: switch it on and connect it, or                          pay by QR code. Your order is kept."
                    ),
                    order_id: Some(order_id),
                }
            }
            PaymentError::NotPayable(status) => ApiError::OrderNotPayable(match status {
                OrderStatus::Paid => "This order is already paid.",
                _ => "This order was cancelled; it can no longer be paid.",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use storefront_contract::ErrorCode;

    #[test]
    fn each_failure_has_the_contracts_answer() {
        let down = ApiError::from(PaymentError::provider(
            7,
            SumUpError::Unreachable("timed out".into()),
        ));
        assert_eq!(down.code(), ErrorCode::PaymentProviderError);
        assert!(matches!(
            down,
            ApiError::PaymentProvider {
                order_id: Some(7),
                ..
            }
        ));
        let paid = ApiError::from(PaymentError::NotPayable(OrderStatus::Paid));
        assert_eq!(paid.code(), ErrorCode::OrderNotPayable);
        assert_eq!(paid.to_string(), "This order is already paid.");
        let cancelled = ApiError::from(PaymentError::NotPayable(OrderStatus::Cancelled));
        assert!(cancelled.to_string().contains("cancelled"));
    }
}
