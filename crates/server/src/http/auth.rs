//! Signing in and out over HTTP; the rules for credentials live in `credentials`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use storefront_contract::{
    LoginRequest, LoginResponse, ResetConfirm, ResetRequest, SignupRequest, User,
};

use super::extract::{ApiJson, AuthUser, BearerToken, ClientAddress};
use crate::credentials::{
    FAILURE_WINDOW_SECS, SESSION_LIFETIME_SECS, decoy_hash, login_allowed, new_reset_code,
    new_token, password_problem, reset_code_hash, token_hash,
};
use crate::error::{ApiError, ApiResult};
use crate::hashing::{HashPool, PoolError};
use crate::state::AppState;
use crate::store::ResetCheck;
use crate::time::{self, to_utc};

/// A name of an account is at most this long.
const MAX_NAME_CHARS: usize = 100;

/// The longest e-mail address taken (RFC 5321's limit).
const MAX_EMAIL_BYTES: usize = 254;

/// The longest password taken (hashing has a cost).
const MAX_PASSWORD_CHARS: usize = 1000;

/// A reset code is valid this long.
const RESET_VALID_SECS: i64 = 30 * 60;

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let email = request.email.trim().to_lowercase();
    let store = state.store();
    let now = time::now();
    // Counted per address and account: a stranger's guesses lock out the stranger, not the
    // venue's own terminals signing in from elsewhere.
    let (failures, oldest) = store
        .login_failures(&email, &address, now - FAILURE_WINDOW_SECS)
        .await?;
    login_allowed(failures, oldest, now)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;

    let found = state.store().user_with_password(&email).await?;
    let (user, hash) = match found {
        Some((user, hash, disabled)) => (Some((user, disabled)), hash),
        None => (None, decoy_hash().to_owned()),
    };
    let matches = state
        .hashes()
        .verify(request.password, hash)
        .await
        .map_err(hashers_busy)?;
    let user = match user {
        // Said only to someone who knows the password.
        Some((_, true)) if matches => return Err(ApiError::AccountDisabled),
        Some((user, false)) if matches => user,
        _ => {
            tracing::warn!(email, address, "failed sign-in");
            store
                .record_login_failure(&email, &address, time::now(), now - FAILURE_WINDOW_SECS)
                .await?;
            return Err(ApiError::InvalidCredentials);
        }
    };

    let token = new_token();
    let now = time::now();
    let expires_at = now + SESSION_LIFETIME_SECS;
    state
        .store()
        .create_session(user.id, &token_hash(&token), now, expires_at)
        .await?;
    Ok(Json(LoginResponse {
        token,
        user,
        expires_at: to_utc(expires_at),
    }))
}

pub async fn me(AuthUser(user): AuthUser) -> Json<User> {
    Json(user)
}

pub async fn logout(
    State(state): State<AppState>,
    AuthUser(_): AuthUser,
    BearerToken(token): BearerToken,
) -> ApiResult<StatusCode> {
    state
        .store()
        .revoke_session(&token_hash(&token), time::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Attempts at sign-up from one address, or at a reset for one e-mail from one address,
/// are counted like failed sign-ins, under their own keys.
fn signup_key() -> String {
    "signup".to_owned()
}

fn reset_key(email: &str) -> String {
    format!("reset:{email}")
}

/// Refuses a request whose key and address used up their attempts within the window, and
/// otherwise counts this one.
async fn throttle(state: &AppState, key: &str, address: &str) -> ApiResult<()> {
    let store = state.store();
    let now = time::now();
    let (attempts, oldest) = store
        .login_failures(key, address, now - FAILURE_WINDOW_SECS)
        .await?;
    login_allowed(attempts, oldest, now)
        .map_err(|retry_after_secs| ApiError::RateLimited { retry_after_secs })?;
    store
        .record_login_failure(key, address, now, now - FAILURE_WINDOW_SECS)
        .await?;
    Ok(())
}

/// Every hasher busy: `503`, to come back in a second; the pool stopping: the server is.
fn hashers_busy(err: PoolError) -> ApiError {
    match err {
        PoolError::Busy => ApiError::Busy {
            retry_after_secs: 1,
        },
        PoolError::Stopped => ApiError::internal(err),
    }
}

/// An e-mail address as an account holds it (trimmed, lower-cased); `422` if it is not one.
fn account_email(text: &str) -> ApiResult<String> {
    if text.len() > MAX_EMAIL_BYTES {
        return Err(ApiError::validation(
            "email",
            format!("An e-mail address has at most {MAX_EMAIL_BYTES} characters."),
        ));
    }
    crate::mail::parse_address(text)
        .map(|address| address.to_lowercase())
        .ok_or_else(|| ApiError::validation("email", "That is not an e-mail address."))
}

/// A new password, checked by the rule and hashed off the async threads.
async fn new_password_hash(hashes: &HashPool, password: String, email: &str) -> ApiResult<String> {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::validation(
            "password",
            format!("Use at most {MAX_PASSWORD_CHARS} characters."),
        ));
    }
    if let Some(problem) = password_problem(&password, email) {
        return Err(ApiError::validation("password", problem.message()));
    }
    hashes
        .hash(password)
        .await
        .map_err(hashers_busy)?
        .map_err(ApiError::internal)
}

/// `POST /auth/signup`: a customer account of the buyer's own, signed in at once.
pub async fn signup(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<SignupRequest>,
) -> ApiResult<(StatusCode, Json<LoginResponse>)> {
    if !state.signup_open() {
        return Err(ApiError::Forbidden(
            "This shop does not take sign-ups: ask the venue for an account.",
        ));
    }
    throttle(&state, &signup_key(), &address).await?;
    let email = account_email(&request.email)?;
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::validation(
            "name",
            format!("Give a name of 1 to {MAX_NAME_CHARS} characters."),
        ));
    }
    let hash = new_password_hash(state.hashes(), request.password, &email).await?;
    let now = time::now();
    let Some(user) = state.store().sign_up(&email, name, &hash, now).await? else {
        return Err(ApiError::Conflict(
            "An account with this e-mail exists: sign in, or reset its password.".to_owned(),
        ));
    };
    tracing::info!(user_id = user.id, address, "signed up");
    let token = new_token();
    let expires_at = now + SESSION_LIFETIME_SECS;
    state
        .store()
        .create_session(user.id, &token_hash(&token), now, expires_at)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(LoginResponse {
            token,
            user,
            expires_at: to_utc(expires_at),
        }),
    ))
}

/// `POST /auth/reset`: `202` whatever the address; when it has an account and mail is on,
/// a code to choose a new password goes to it.
pub async fn reset(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<ResetRequest>,
) -> ApiResult<StatusCode> {
    let email = account_email(&request.email)?;
    throttle(&state, &reset_key(&email), &address).await?;
    let store = state.store();
    if store.mail_on() {
        let code = new_reset_code();
        let mail = crate::mail::render::reset_code(&code, RESET_VALID_SECS / 60);
        let now = time::now();
        let opened = store
            .open_reset(
                &email,
                &reset_code_hash(&code),
                &mail,
                now,
                now + RESET_VALID_SECS,
            )
            .await?;
        tracing::info!(opened, address, "password reset asked");
    } else {
        tracing::warn!(
            address,
            "password reset asked, but this server sends no e-mail"
        );
    }
    Ok(StatusCode::ACCEPTED)
}

/// `POST /auth/reset/confirm`: the code and a new password; every session of the account
/// ends.
pub async fn reset_confirm(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<ResetConfirm>,
) -> ApiResult<StatusCode> {
    let email = account_email(&request.email)?;
    throttle(&state, &reset_key(&email), &address).await?;
    if request.code.len() > 20 {
        return Err(ApiError::validation("code", "That is not the code."));
    }
    let hash = new_password_hash(state.hashes(), request.password, &email).await?;
    let check = state
        .store()
        .confirm_reset(&email, &reset_code_hash(&request.code), &hash, time::now())
        .await?;
    match check {
        ResetCheck::Done => {
            tracing::info!(address, "password reset");
            Ok(StatusCode::NO_CONTENT)
        }
        ResetCheck::NoCode => Err(ApiError::validation(
            "code",
            "This code has expired or was used: ask for a new one.",
        )),
        ResetCheck::Wrong { tries_left: 0 } => Err(ApiError::validation(
            "code",
            "That is not the code, and it had no tries left: ask for a new one.",
        )),
        ResetCheck::Wrong { tries_left } => Err(ApiError::validation(
            "code",
            format!("That is not the code ({tries_left} tries left)."),
        )),
    }
}
