//! The store: every SQL statement the server runs, over one `AnyPool` (SQLite or PostgreSQL).
//!
//! Queries use `$1` placeholders and portable SQL; money is integer minor units and times are
//! Unix seconds. State changes are single conditional statements or short transactions, never
//! held across network calls.

pub(crate) mod cart;
mod catalog;
mod events;
mod idempotency;
mod orders;
mod refunds;
pub(crate) mod sandbox;
mod settle;
pub(crate) mod tickets;
mod users;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};
use storefront_contract::UnknownName;

pub use cart::{AddOutcome, CartContents, MAX_LINE_QUANTITY};
pub use events::{EventFilter, EventRow, ListCursor};
pub use idempotency::KeyClaim;
pub use tickets::NewTickets;

pub use orders::{CheckoutRow, OrderItems, OrderRow, RefundRow};
pub use refunds::RefundState;
pub use sandbox::{NewSandboxCheckout, SandboxCheckoutRow};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The database behind the API.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot prepare the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Unsupported(String),
}

/// Reads a state or status column; a value no statement of ours writes is an error.
pub(crate) fn parse_column<T>(column: &str, text: String) -> Result<T, sqlx::Error>
where
    T: TryFrom<String, Error = UnknownName>,
{
    T::try_from(text).map_err(|err| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: Box::new(err),
    })
}

/// Opens `sqlite://PATH`, `sqlite::memory:` or (later) `postgres://...` and migrates it.
pub async fn connect_database(url: &str) -> Result<Store, OpenError> {
    install_default_drivers();
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Err(OpenError::Unsupported(
            "PostgreSQL is not supported by this build yet; use sqlite://PATH".to_owned(),
        ));
    }
    if !url.starts_with("sqlite:") {
        return Err(OpenError::Unsupported(format!(
            "unknown database URL {url:?}: use sqlite://PATH or sqlite::memory:"
        )));
    }
    let url = sqlite_url(url);
    // SQLite allows one writer at a time, and a transaction that starts reading and then writes
    // fails at once (not after a wait) when another connection wrote meanwhile. One connection
    // serialises every statement instead; it also keeps an in-memory database alive and shared.
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(30))
        .connect(&url)
        .await?;
    SQLITE_MIGRATIONS.run(&pool).await?;
    Ok(Store { pool })
}

/// Adds `mode=rwc` to a file URL so that a new database file is created.
fn sqlite_url(url: &str) -> String {
    let is_memory = url.contains(":memory:") || url.contains("mode=memory");
    if is_memory || url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

impl Store {
    /// The pool itself, for tests and tools that must reach the database directly.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The deployment's currency, set by the catalog; GBP when none was given.
    pub async fn currency(&self) -> Result<String, sqlx::Error> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = 'currency'")
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => row.try_get("value")?,
            None => "GBP".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_create_missing_databases() {
        assert_eq!(sqlite_url("sqlite://shop.db"), "sqlite://shop.db?mode=rwc");
        assert_eq!(sqlite_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(sqlite_url("sqlite://a.db?mode=ro"), "sqlite://a.db?mode=ro");
    }

    #[tokio::test]
    async fn postgres_is_refused_with_a_sentence() {
        let err = connect_database("postgres://localhost/shop")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("PostgreSQL"), "{err}");
        let err = connect_database("mysql://x").await.unwrap_err();
        assert!(err.to_string().contains("sqlite://PATH"), "{err}");
    }
}
