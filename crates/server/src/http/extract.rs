//! Request extractors whose failures answer in the contract's error shape.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use storefront_contract::{Role, User};

use crate::credentials::token_hash;
use crate::error::ApiError;
use crate::state::AppState;
use crate::time;

/// Where a request comes from: the peer's address, or behind a proxy on this machine (the
/// peer a loopback address) the last address the proxy added to `X-Forwarded-For`.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|list| list.rsplit(',').next())
            .map(str::trim)
            .filter(|address| address.parse::<std::net::IpAddr>().is_ok());
        Ok(ClientAddress(match (peer, forwarded) {
            (Some(peer), Some(forwarded)) if peer.is_loopback() => forwarded.to_owned(),
            (Some(peer), _) => peer.to_string(),
            (None, _) => String::new(),
        }))
    }
}

/// A JSON body; malformed JSON or wrong types are `400 bad_request`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<serde_json::Value>::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::BadRequest(json_problem(&rejection)))?;
        read_object(value).map(ApiJson)
    }
}

/// A JSON body that may be left out: no body at all reads as `T::default()`.
pub struct OptionalApiJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let headers = request.headers();
        let has_body = match headers.get(axum::http::header::CONTENT_LENGTH) {
            Some(length) => length != "0",
            // A streamed body: read it (and refuse it if it does not say it is JSON).
            None => {
                headers.contains_key(axum::http::header::CONTENT_TYPE)
                    || headers.contains_key(axum::http::header::TRANSFER_ENCODING)
            }
        };
        if !has_body {
            return Ok(OptionalApiJson(T::default()));
        }
        ApiJson::from_request(request, state)
            .await
            .map(|ApiJson(value)| OptionalApiJson(value))
    }
}

/// Reads a body into its type; serde would read a struct from an array too, but the
/// contract's bodies are objects.
fn read_object<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "The body must be a JSON object.".to_owned(),
        ));
    }
    serde_json::from_value(integral_numbers(value))
        .map_err(|err| ApiError::BadRequest(format!("The body does not fit: {err}.")))
}

/// Within ±2^53 every integral float is exact, and converts without loss.
const EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

/// The integer a float with no fraction is, when it is exact.
fn integral(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && f.abs() <= EXACT_FLOAT).then_some(f as i64)
}

/// JSON Schema counts `2.0` as an integer; so does the server: a number with no fraction
/// that fits becomes an integer before the body is read into its type.
fn integral_numbers(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => match n.as_f64().and_then(integral) {
            Some(i) => Value::from(i),
            None => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(integral_numbers).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, value)| (key, integral_numbers(value)))
                .collect(),
        ),
        other => other,
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

/// An integer written in an address or a query, as the API document's `integer` admits it
/// (JSON Schema's): `3`, or the same number with no fraction (`3.0`), as in a body.
pub fn whole_number(text: &str) -> Option<i64> {
    text.parse()
        .ok()
        .or_else(|| text.parse::<f64>().ok().and_then(integral))
}

/// `#[serde(default, deserialize_with = "whole")]` for an optional integer in a query:
/// [`whole_number`]s of the field's range; anything else does not fit.
pub fn whole<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::Deserialize;
    let Some(text) = Option::<String>::deserialize(deserializer)? else {
        return Ok(None);
    };
    whole_number(&text)
        .and_then(|n| T::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a whole number in range")))
}

/// An integer id from the path; anything else is `400 bad_request`.
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|Path(id)| whole_number(&id))
            .map(IdPath)
            .ok_or_else(|| {
                ApiError::BadRequest("The id in the address must be a whole number.".to_owned())
            })
    }
}

/// A name from the path (percent-decoded); one that is not UTF-8 is `400 bad_request`.
pub struct NamePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for NamePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(name)| NamePath(name))
            .map_err(|rejection: PathRejection| {
                ApiError::BadRequest(format!(
                    "The name in the address does not fit: {}",
                    rejection.body_text()
                ))
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
            Some((_, true)) => return Err(ApiError::AccountDisabled),
            Some((user, false)) if user.role == Role::Kiosk => match terminal(parts)? {
                Some(name) => Caller::User(
                    state
                        .store()
                        .terminal_user(&user, name, time::now())
                        .await?,
                ),
                None => Caller::User(user),
            },
            Some((user, false)) => Caller::User(user),
            None => Caller::Invalid,
        },
    )
}

/// The kiosk terminal a request names in `X-Terminal`: 1-64 letters, digits, `.`, `_`, `-`.
fn terminal(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(TERMINAL_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|name| {
            (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
        .map(Some)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "X-Terminal names the kiosk terminal: 1-64 letters, digits, '.', '_' or '-'."
                    .to_owned(),
            )
        })
}

/// The header a kiosk terminal names itself in.
pub const TERMINAL_HEADER: &str = "x-terminal";

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_numbers_are_read_from_text_as_json_schema_counts_them() {
        assert_eq!(whole_number("3"), Some(3));
        assert_eq!(whole_number("3.0"), Some(3));
        assert_eq!(whole_number("-3.00"), Some(-3));
        assert_eq!(whole_number("1e3"), Some(1000));
        assert_eq!(whole_number("9223372036854775807"), Some(i64::MAX));
        for not in ["3.5", "", "three", "1e300", "NaN", "inf", "0x10"] {
            assert_eq!(whole_number(not), None, "{not}");
        }
    }

    #[test]
    fn a_query_takes_whole_numbers_in_its_fields_range() {
        #[derive(Debug, serde::Deserialize)]
        struct Query {
            #[serde(default, deserialize_with = "whole")]
            limit: Option<u32>,
            #[serde(default, deserialize_with = "whole")]
            id: Option<i64>,
        }
        let read = |query: &str| {
            let uri: axum::http::Uri = format!("/x?{query}").parse().unwrap();
            axum::extract::Query::<Query>::try_from_uri(&uri).map(|q| (q.0.limit, q.0.id))
        };
        assert_eq!(read("limit=5&id=3.0").unwrap(), (Some(5), Some(3)));
        assert_eq!(read("").unwrap(), (None, None));
        assert!(read("limit=-1").is_err(), "out of the field's range");
        assert!(read("id=3.5").is_err());
        assert!(read("id=").is_err());
    }

    #[test]
    fn integral_floats_are_integers_as_json_schema_says() {
        assert_eq!(
            integral_numbers(json!({"quantity": 2.0, "ids": [1.0, 1.5], "n": {"x": -3.0}})),
            json!({"quantity": 2, "ids": [1, 1.5], "n": {"x": -3}})
        );
        // Too large to be exact stays a float (and is refused by an integer field).
        assert!(integral_numbers(json!(1e300)).is_f64());
    }
}
