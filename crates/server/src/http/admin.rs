//! `/admin/*`, for the venue's managers: the catalog applied live. Every change is written
//! to the audit log (who, when, what, from which address) in the change's transaction.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use serde::Deserialize;
use storefront_contract::{CatalogApplied, CatalogChange, Role, User};

use super::extract::{ApiQuery, AuthUser, ClientAddress};
use crate::catalog::{self, Applied, CatalogError};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::AuditEntry;

/// A signed-in manager; anyone else signed in is `403 forbidden` (anonymous: `401`).
pub struct Manager(pub User);

impl FromRequestParts<AppState> for Manager {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if user.role == Role::Manager {
            Ok(Manager(user))
        } else {
            Err(ApiError::Forbidden(
                "Only the venue's managers can do this.",
            ))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CatalogQuery {
    #[serde(default)]
    dry_run: bool,
}

/// `POST /admin/catalog`: the body is a catalog's TOML; applied as a sync by key, or only
/// checked with `?dry_run=true`. Refused as a whole (`422`, every reason) with nothing changed.
pub async fn apply_catalog(
    State(state): State<AppState>,
    Manager(manager): Manager,
    ClientAddress(address): ClientAddress,
    ApiQuery(query): ApiQuery<CatalogQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<CatalogApplied>> {
    let body = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::BadRequest("The catalog is not UTF-8 text.".to_owned()))?;
    let store = state.store();
    let result = if query.dry_run {
        catalog::check_catalog(store, &body).await
    } else {
        let audit = AuditEntry {
            user_id: Some(manager.id),
            address: Some(address),
            action: "catalog.apply",
        };
        catalog::apply_catalog(store, &body, Some(&audit)).await
    };
    let applied = result.map_err(refusal)?;
    if applied.applied {
        tracing::info!(
            manager = manager.email,
            changes = applied.changes.len(),
            "catalog applied over HTTP"
        );
        state.refresh_currency().await;
    }
    Ok(Json(answer(applied)))
}

fn refusal(err: CatalogError) -> ApiError {
    match err {
        CatalogError::Load(message) => ApiError::internal(message),
        refused => ApiError::validation("catalog", refused.reasons().join("\n")),
    }
}

fn answer(applied: Applied) -> CatalogApplied {
    CatalogApplied {
        applied: applied.applied,
        changes: applied
            .changes
            .into_iter()
            .map(|c| CatalogChange {
                kind: c.kind,
                key: c.key,
                change: c.change,
                detail: c.detail,
            })
            .collect(),
        warnings: applied.warnings,
    }
}
