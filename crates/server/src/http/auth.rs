//! Signing in and out over HTTP; the rules for credentials live in `credentials`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use storefront_contract::{LoginRequest, LoginResponse, User};

use super::extract::{ApiJson, AuthUser, BearerToken, ClientAddress};
use crate::credentials::{
    FAILURE_WINDOW_SECS, SESSION_LIFETIME_SECS, decoy_hash, login_allowed, new_token, token_hash,
    verify_password,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::time::{self, to_utc};

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
    let password = request.password;
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
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
