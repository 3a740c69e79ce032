//! Applying a catalog: its passwords prepared (slow hashing, outside any transaction), then
//! compared and written by the store in one transaction. The same path fills an empty
//! database, syncs a live one, and only checks (`catalog check`, `?dry_run=true`).

use std::collections::HashSet;

use super::diff::{Change, ChangeKind};
use super::{Catalog, CatalogError, CatalogPlan};
use crate::credentials;
use crate::store::{AuditEntry, CatalogMode, CatalogPasswords, Store};
use crate::time::{self, Timestamp};

/// What applying (or checking) a catalog did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Whether the changes were written (`false` for a check).
    pub applied: bool,
    pub changes: Vec<Change>,
    /// What is allowed but probably not meant (an event already over, or sold out from the start).
    pub warnings: Vec<String>,
    /// What the catalog holds, whether or not anything changed.
    pub holds: Holdings,
}

/// How many of each thing a catalog holds: what the server logs it loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Holdings {
    pub pages: usize,
    pub events: usize,
    pub users: usize,
    pub readers: usize,
    pub products: usize,
}

impl Holdings {
    pub fn of(plan: &CatalogPlan) -> Holdings {
        Holdings {
            pages: plan.pages.len(),
            events: plan.events.len(),
            users: plan.users.len(),
            readers: plan.readers.len(),
            products: plan.products.len(),
        }
    }
}

/// What `catalog check` and `catalog apply` print: a line per change (`+` added, `~` changed
/// with old → new, `-` retired) or per refusal (`✗`), a line per warning (`!`), then what
/// became of it.
pub fn report(result: &Result<Applied, CatalogError>) -> String {
    let mut lines: Vec<String> = Vec::new();
    match result {
        Ok(applied) => {
            for change in &applied.changes {
                let mark = match change.change {
                    ChangeKind::Added => '+',
                    ChangeKind::Changed => '~',
                    ChangeKind::Retired => '-',
                };
                lines.push(format!(
                    "{mark} {} {}: {}",
                    change.kind, change.key, change.detail
                ));
            }
            for warning in &applied.warnings {
                lines.push(format!("! {warning}"));
            }
            let count = applied.changes.len();
            lines.push(match (count, applied.applied) {
                (0, _) => "Nothing to change: the database holds this catalog.".to_owned(),
                (1, true) => "1 change applied.".to_owned(),
                (n, true) => format!("{n} changes applied."),
                (1, false) => "1 change would be applied.".to_owned(),
                (n, false) => format!("{n} changes would be applied."),
            });
        }
        Err(err) => {
            for reason in err.reasons() {
                lines.push(format!("✗ {reason}"));
            }
            lines.push("Refused: nothing was changed.".to_owned());
        }
    }
    lines.join("\n")
}

/// Parses and validates a catalog's text; `now` anchors its relative times.
pub fn plan_of(text: &str, now: Timestamp) -> Result<CatalogPlan, CatalogError> {
    Catalog::parse(text)?.validate(now)
}

/// The changes the catalog would make, or every reason it would be refused. Writes nothing.
pub async fn check_catalog(store: &Store, text: &str) -> Result<Applied, CatalogError> {
    run(store, text, CatalogMode::Check, None).await
}

/// Applies the catalog in one transaction, writing `audit` with it when given.
pub async fn apply_catalog(
    store: &Store,
    text: &str,
    audit: Option<&AuditEntry>,
) -> Result<Applied, CatalogError> {
    run(store, text, CatalogMode::Apply, audit).await
}

async fn run(
    store: &Store,
    text: &str,
    mode: CatalogMode,
    audit: Option<&AuditEntry>,
) -> Result<Applied, CatalogError> {
    let now = time::now();
    let plan = plan_of(text, now)?;
    let passwords = passwords(store, &plan).await?;
    let diff = store
        .apply_catalog(&plan, &passwords, mode, audit, now)
        .await?;
    Ok(Applied {
        applied: mode == CatalogMode::Apply && !diff.changes.is_empty(),
        changes: diff.changes,
        warnings: plan.warnings(now),
        holds: Holdings::of(&plan),
    })
}

/// Hashes the passwords the plan sets: a new user's, and one whose password in the file is
/// not the one the catalog last set (a password the user reset stays while the file's does
/// not change).
async fn passwords(store: &Store, plan: &CatalogPlan) -> Result<CatalogPasswords, CatalogError> {
    let known = store.catalog_password_hashes().await?;
    let users: Vec<(String, String, Option<Option<String>>)> = plan
        .users
        .iter()
        .map(|u| {
            (
                u.email.clone(),
                u.password.clone(),
                known.get(&u.email).cloned(),
            )
        })
        .collect();
    let hashed = tokio::task::spawn_blocking(move || {
        let mut passwords = CatalogPasswords::default();
        let mut changed = HashSet::new();
        for (email, password, known) in users {
            let set = match &known {
                None => true,
                Some(Some(hash)) => !credentials::verify_password(&password, hash),
                Some(None) => true,
            };
            if set {
                let hash = credentials::hash_password(&password)
                    .map_err(|err| CatalogError::Load(err.to_string()))?;
                if known.is_some() {
                    changed.insert(email.clone());
                }
                passwords.hashes.insert(email, hash);
            }
        }
        passwords.changed = changed;
        Ok::<_, CatalogError>(passwords)
    })
    .await
    .map_err(|err| CatalogError::Load(err.to_string()))??;
    Ok(hashed)
}
