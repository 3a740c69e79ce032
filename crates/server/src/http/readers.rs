//! `GET /readers/{name}`: a card reader as the catalog names it, for the venue's terminals.

use axum::Json;
use axum::extract::State;
use storefront_contract::Reader;

use super::extract::{AuthUser, NamePath};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The reader and its venue: a kiosk that takes cards on it sells for that venue. Only the
/// venue's own accounts may ask (`403` for buyers); SumUp's id of the reader is never told.
pub async fn reader(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    NamePath(name): NamePath,
) -> ApiResult<Json<Reader>> {
    if !user.role.is_venue() {
        return Err(ApiError::Forbidden(
            "Only the venue's terminals and staff can see its card readers.",
        ));
    }
    let (name, page) = state
        .store()
        .reader_with_page(&name)
        .await?
        .ok_or(ApiError::NotFound("There is no card reader of that name."))?;
    Ok(Json(Reader { name, page }))
}
