//! Paying for orders through SumUp: making and reusing checkouts ([`checkout`]), confirming
//! paid orders exactly once and cancelling what they oversold ([`settle`]), refunding that
//! excess ([`refund`]), and the order as the API shows it ([`view`]).

pub mod checkout;
pub mod refund;
pub mod settle;
pub mod view;

use crate::error::ApiError;
use crate::sumup::SumUpError;

/// The contract's error for a SumUp failure, keeping the order.
fn provider_error(order_id: i64, err: &SumUpError) -> ApiError {
    tracing::warn!(order_id, error = %err, "SumUp failed");
    ApiError::PaymentProvider {
        message: "The payment service is unavailable right now. Your order is kept; try paying again in a moment.".to_owned(),
        order_id: Some(order_id),
    }
}
