//! The catalog: the venue's source of truth, applied live. The file is parsed and validated
//! into a plan ([`file`]); the plan is compared by key with what the database holds, giving
//! the changes in words or every reason to refuse ([`diff`], pure); and the changes are
//! applied in one transaction ([`apply`]). Nothing sold is ever deleted or changed under
//! its buyer: what leaves the file is retired.

pub mod apply;
pub mod diff;
mod file;

pub use apply::{Applied, apply_catalog, check_catalog, report};
pub use diff::{Change, ChangeKind, Diff, EntityKind};
pub use file::*;

/// Why a catalog was rejected; nothing of it was applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("the catalog is not valid TOML: {0}")]
    Syntax(String),
    /// `entry` names the offending entry, like `events[3] "Wren Duo"`.
    #[error("{entry}: {message}")]
    Entry { entry: String, message: String },
    /// Applying it would change what was sold: every reason, each naming its entry.
    #[error("the catalog was refused: {}", .0.join("; "))]
    Refused(Vec<String>),
    #[error("the catalog could not be applied: {0}")]
    Load(String),
    #[error("the catalog is empty: it has no events, pages or users")]
    Empty,
}

impl From<sqlx::Error> for CatalogError {
    fn from(err: sqlx::Error) -> CatalogError {
        CatalogError::Load(err.to_string())
    }
}

impl CatalogError {
    /// Each reason on its own, as `catalog check` prints them.
    pub fn reasons(&self) -> Vec<String> {
        match self {
            CatalogError::Refused(reasons) => reasons.clone(),
            other => vec![other.to_string()],
        }
    }
}
