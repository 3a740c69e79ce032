//! The one error type of the API, rendered as the contract's error body.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use storefront_contract::{ErrorBody, ErrorCode, ErrorDetail};

/// Every way a request can fail, each with the status and code the contract gives it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Your session has ended. Sign in again.")]
    Unauthorized,
    #[error("The notification's signature does not verify: {0}.")]
    BadSignature(String),
    #[error("Sign in to buy tickets")]
    LoginRequired,
    #[error("That email and password do not match an account.")]
    InvalidCredentials,
    #[error("This account has been disabled by the venue. Ask the box office if you need it.")]
    AccountDisabled,
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("Your cart is empty.")]
    EmptyCart,
    /// The request cannot be met as things stand (a sold-out event's tickets at checkout).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    OrderNotPayable(&'static str),
    #[error("A request with this Idempotency-Key is still being processed. Try again shortly.")]
    IdempotencyInProgress,
    #[error("{message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error("This Idempotency-Key was already used for a different request.")]
    IdempotencyKeyReused,
    #[error("Too many failed sign-in attempts. Wait a minute and try again.")]
    RateLimited { retry_after_secs: u64 },
    /// Every password hasher is busy: the caller comes back in a moment.
    #[error("Many people are signing in at once. Try again in a moment.")]
    Busy { retry_after_secs: u64 },
    #[error("{message}")]
    PaymentProvider {
        message: String,
        order_id: Option<i64>,
    },
    /// Anything unexpected; the cause is logged, never shown.
    #[error("Something went wrong on our side. Please try again.")]
    Internal(#[source] Cause),
}

/// The cause of an internal error: logged, never sent.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

impl ApiError {
    pub fn validation(field: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::Validation {
            field,
            message: message.into(),
        }
    }

    pub fn internal(cause: impl Into<Cause>) -> ApiError {
        ApiError::Internal(cause.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized
            | ApiError::BadSignature(_)
            | ApiError::LoginRequired
            | ApiError::InvalidCredentials
            | ApiError::AccountDisabled => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::EmptyCart
            | ApiError::Conflict(_)
            | ApiError::OrderNotPayable(_)
            | ApiError::IdempotencyInProgress => StatusCode::CONFLICT,
            ApiError::Validation { .. } | ApiError::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::PaymentProvider { .. } => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::Unauthorized | ApiError::BadSignature(_) | ApiError::AccountDisabled => {
                ErrorCode::Unauthorized
            }
            ApiError::LoginRequired => ErrorCode::LoginRequired,
            ApiError::InvalidCredentials => ErrorCode::InvalidCredentials,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            ApiError::EmptyCart => ErrorCode::EmptyCart,
            ApiError::Conflict(_) => ErrorCode::Conflict,
            ApiError::OrderNotPayable(_) => ErrorCode::OrderNotPayable,
            ApiError::IdempotencyInProgress => ErrorCode::IdempotencyInProgress,
            ApiError::Validation { .. } => ErrorCode::Validation,
            ApiError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            ApiError::RateLimited { .. } | ApiError::Busy { .. } => ErrorCode::RateLimited,
            ApiError::PaymentProvider { .. } => ErrorCode::PaymentProviderError,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> ApiError {
        ApiError::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = %cause, "internal error");
        }
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                field: match &self {
                    ApiError::Validation { field, .. } => Some((*field).to_owned()),
                    // Why the session ended: the account itself, not the token.
                    ApiError::AccountDisabled => Some("account".to_owned()),
                    _ => None,
                },
                order_id: match &self {
                    ApiError::PaymentProvider { order_id, .. } => *order_id,
                    _ => None,
                },
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::RateLimited { retry_after_secs } | ApiError::Busy { retry_after_secs } =
            self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
