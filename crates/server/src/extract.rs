//! Request extractors whose failures answer in the contract's error shape.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use storefront_contract::User;

use crate::credentials::token_hash;
use crate::error::ApiError;
use crate::state::AppState;
use crate::time;

/// A JSON body; malformed JSON or wrong types are `400 bad_request`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<serde_json::Value>::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::BadRequest(json_problem(&rejection)))?;
        // serde would read a struct from an array too; the contract's bodies are objects.
        if !value.is_object() {
            return Err(ApiError::BadRequest(
                "The body must be a JSON object.".to_owned(),
            ));
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|err| ApiError::BadRequest(format!("The body does not fit: {err}.")))
    }
}

fn json_problem(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "Send the body as JSON with Content-Type: application/json.".to_owned()
        }
        JsonRejection::JsonSyntaxError(_) => "The body is not valid JSON.".to_owned(),
        JsonRejection::BytesRejection(_) => {
            "The body is too large or could not be read.".to_owned()
        }
        other => format!("The body could not be read: {}", other.body_text()),
    }
}

/// Query parameters; wrong types are `400 bad_request`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection: QueryRejection| {
                ApiError::BadRequest(format!("The query does not fit: {}", rejection.body_text()))
            })
    }
}

/// An integer id from the path; anything else is `400 bad_request`.
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| IdPath(id))
            .map_err(|_: PathRejection| {
                ApiError::BadRequest("The id in the address must be a whole number.".to_owned())
            })
    }
}

/// The bearer token as sent, if any (`None` for a missing or non-bearer header).
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// What the request's credentials say about who is calling.
enum Caller {
    Anonymous,
    Invalid,
    User(User),
}

async fn caller(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    if parts.headers.get(AUTHORIZATION).is_none() {
        return Ok(Caller::Anonymous);
    }
    let Some(token) = bearer(parts) else {
        return Ok(Caller::Invalid);
    };
    Ok(
        match state
            .store()
            .user_for_session(&token_hash(token), time::now())
            .await?
        {
            Some(user) => Caller::User(user),
            None => Caller::Invalid,
        },
    )
}

/// The raw bearer token of a request (for signing out).
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        bearer(parts)
            .map(|token| BearerToken(token.to_owned()))
            .ok_or(ApiError::Unauthorized)
    }
}

/// A signed-in user; anything else is `401 unauthorized`.
pub struct AuthUser(pub User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match caller(parts, state).await? {
            Caller::User(user) => Ok(AuthUser(user)),
            Caller::Anonymous | Caller::Invalid => Err(ApiError::Unauthorized),
        }
    }
}

/// A buyer: without a token `401 login_required`, with a dead one `401 unauthorized`.
pub struct Buyer(pub User);

impl FromRequestParts<AppState> for Buyer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match caller(parts, state).await? {
            Caller::User(user) => Ok(Buyer(user)),
            Caller::Anonymous => Err(ApiError::LoginRequired),
            Caller::Invalid => Err(ApiError::Unauthorized),
        }
    }
}

/// The caller if signed in; public pages treat a dead token as no token.
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(MaybeUser(match caller(parts, state).await? {
            Caller::User(user) => Some(user),
            Caller::Anonymous | Caller::Invalid => None,
        }))
    }
}

/// Resolves the user behind a request's bearer token, for middleware.
pub async fn user_of(parts: &Parts, state: &AppState) -> Result<Option<User>, ApiError> {
    Ok(match caller(parts, state).await? {
        Caller::User(user) => Some(user),
        Caller::Anonymous | Caller::Invalid => None,
    })
}
