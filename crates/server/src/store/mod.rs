//! The store: every SQL statement the server runs, on SQLite or PostgreSQL through sqlx's `Any`
//! driver.
//!
//! Queries use `$1` placeholders and portable SQL; money is integer minor units and times are
//! Unix seconds. State changes are single conditional statements or short transactions, never
//! held across network calls.

/// A SQL expression for what event `e` holds against its capacity (reserved, confirmed and
/// checked in), from the kept counts (see `sales`): never counted ticket by ticket.
macro_rules! held_of_event {
    () => {
        "(SELECT CAST(COALESCE(SUM(k.reserved + k.confirmed + k.checked_in), 0) AS BIGINT) \
           FROM (SELECT reserved, confirmed, checked_in FROM ticket_counts \
                 WHERE event_id = e.id \
                 UNION ALL SELECT reserved, confirmed, checked_in FROM ticket_count_deltas \
                 WHERE event_id = e.id) k)"
    };
}

/// A SQL expression for what event `e` has sold and been paid for (confirmed and checked in),
/// from the kept counts.
macro_rules! paid_of_event {
    () => {
        "(SELECT CAST(COALESCE(SUM(k.confirmed + k.checked_in), 0) AS BIGINT) \
           FROM (SELECT confirmed, checked_in FROM ticket_counts WHERE event_id = e.id \
                 UNION ALL SELECT confirmed, checked_in FROM ticket_count_deltas \
                 WHERE event_id = e.id) k)"
    };
}

mod accounts;
mod box_office;
pub(crate) mod cart;
mod catalog;
mod checkin;
mod checkpoint;
mod conn;
mod connections;
#[cfg(test)]
mod counts_properties;
mod events;
mod group_commit;
mod idempotency;
mod kept;
// Its statements' texts are parts of checkout's claim (`orders`).
#[macro_use]
mod limits;
mod notices;
mod orders;
mod outbox;
mod readers;
mod refunds;
mod sales;
pub(crate) mod sandbox;
mod sessions;
mod settle;
mod sqlite;
pub(crate) mod tickets;
mod users;

use sqlx::any::install_default_drivers;
use sqlx::{Connection, Row};
use storefront_contract::UnknownName;

use checkpoint::Checkpoints;
pub use conn::DbConn;
pub use connections::Conn;
use connections::{Connections, WriterThread};
use notices::Notices;
use sqlite::{Place, SqliteConn};

pub use accounts::ResetCheck;
pub use box_office::{CompRefusal, ExportRow, NewComp, OrderSearch, RefundRefusal, SEARCH_LIMIT};
pub use cart::{AddOutcome, CartContents, CartTotals, MAX_LINE_QUANTITY};
pub use catalog::{AuditEntry, CatalogMode, CatalogPasswords};
pub use events::{EventFilter, EventRow, ListCursor, OnSale, TicketTypeRow};
pub use idempotency::KeyClaim;
pub use limits::CartEvent;
pub use tickets::NewTickets;

pub use orders::{CheckoutKey, CheckoutRow, OrderItems, OrderRow, PayPlace};
pub use outbox::{ClaimedMail, MailOutcome, MailState, OrderMail};
pub use readers::ReaderRow;
pub use refunds::{RefundOutcome, RefundRow, RefundState};
pub use sales::EventCounts;
pub use sandbox::{
    Flag, NewSandboxCheckout, SandboxCheckoutRow, SandboxRefund, SandboxTransactionRow,
    SandboxTransactionStatus,
};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database is behind the store: the SQL is the same but for locking and notifying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database behind the API.
#[derive(Clone, Debug)]
pub struct Store {
    /// Every write, and every read inside a write's transaction. On SQLite one connection,
    /// so that writers queue here instead of failing on SQLite's lock.
    write: Connections,
    /// Reads that stand alone. On a SQLite file, a few connections beside the writer (WAL
    /// lets them read while it writes); elsewhere the same connections as `write`.
    read: Connections,
    backend: Backend,
    url: String,
    /// On PostgreSQL, what this server tells the others.
    notices: Option<Notices>,
    /// Changes write e-mails to the outbox (the server sends mail).
    mail: bool,
    /// Who session tokens belong to, kept for a moment.
    sessions: std::sync::Arc<sessions::Sessions>,
    /// What buying needs of events on sale, kept for a moment.
    on_sale: std::sync::Arc<events::EventsOnSale>,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the database {place}: {source}")]
    Database {
        place: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot prepare the database {place}: {source}")]
    Migrate {
        place: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error(
        "cannot open the database {place}: the folder {folder} does not exist; create it first"
    )]
    MissingFolder { place: String, folder: String },
    #[error("{0}")]
    Unsupported(String),
}

/// Why opening failed, before it is said where.
enum Failure {
    Database(sqlx::Error),
    Migrate(sqlx::migrate::MigrateError),
    MissingFolder(std::path::PathBuf),
    Unsupported(String),
}

impl From<sqlx::Error> for Failure {
    fn from(err: sqlx::Error) -> Failure {
        Failure::Database(err)
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Failure {
        Failure::Database(sqlx::Error::Io(err))
    }
}

impl From<sqlx::migrate::MigrateError> for Failure {
    fn from(err: sqlx::migrate::MigrateError) -> Failure {
        Failure::Migrate(err)
    }
}

/// A database URL as it may be shown: without its password.
fn shown(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
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

/// PostgreSQL connections per server: one per core of this machine, and two more for the
/// moments those wait on the network (4 on two cores), opened as they are needed. Every
/// server on the database opens as many, and past a few per core PostgreSQL's backends only
/// queue for its cores: measured on two cores with PostgreSQL on them too, one server sold
/// 5 % more with 6 than with 4, but two servers with 6 each sold 8 to 12 % less than one,
/// and with 4 each as much as one.
fn postgres_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores + 2).unwrap_or(u32::MAX)
}

/// Reading connections beside SQLite's one writer.
const SQLITE_READERS: u32 = 4;

/// Opens `sqlite://PATH`, `sqlite::memory:` or `postgres://...` and migrates it.
pub async fn connect_database(url: &str) -> Result<Store, OpenError> {
    open(url).await.map_err(|failure| match failure {
        Failure::Database(source) => OpenError::Database {
            place: shown(url),
            source,
        },
        Failure::Migrate(source) => OpenError::Migrate {
            place: shown(url),
            source,
        },
        Failure::MissingFolder(folder) => OpenError::MissingFolder {
            place: shown(url),
            folder: folder.display().to_string(),
        },
        Failure::Unsupported(message) => OpenError::Unsupported(message),
    })
}

/// Creates a new SQLite database file readable and writable by this user alone (it holds
/// password hashes, sessions and buyers' e-mail addresses); SQLite gives its WAL and
/// shared-memory files the same permissions. A missing folder is said as such.
fn prepare_sqlite_file(url: &str) -> Result<(), Failure> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = std::path::Path::new(rest.split('?').next().unwrap_or(rest));
    if path.as_os_str().is_empty() || path.exists() {
        return Ok(());
    }
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty())
        && !folder.is_dir()
    {
        return Err(Failure::MissingFolder(folder.to_owned()));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another server made it a moment ago.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err.into()),
    }
}

async fn open(url: &str) -> Result<Store, Failure> {
    install_default_drivers();
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let mut first = connections::open_postgres(url).await?;
        // Several servers starting at once: sqlx takes an advisory lock while migrating.
        POSTGRES_MIGRATIONS.run(&mut first).await?;
        let write = Connections::reopened(url, first, postgres_connections());
        return Ok(Store {
            read: write.clone(),
            write,
            backend: Backend::Postgres,
            url: url.to_owned(),
            notices: Some(Notices::start(url)),
            mail: false,
            sessions: Default::default(),
            on_sale: Default::default(),
        });
    }
    if !url.starts_with("sqlite:") {
        return Err(Failure::Unsupported(format!(
            "unknown database URL {url:?}: use sqlite://PATH, sqlite::memory: or postgres://USER:PASSWORD@HOST/DATABASE"
        )));
    }
    let url = sqlite_url(url);
    let place = Place::of_url(&url)?;
    let memory = matches!(place, Place::Memory(_));
    if !memory {
        prepare_sqlite_file(&url)?;
    }
    // SQLite allows one writer at a time, and a transaction that starts reading and then
    // writes fails at once (not after a wait) when another connection wrote meanwhile. One
    // writing connection serialises every write instead; it also keeps an in-memory database
    // alive (opened first, before sqlx's connection for the migrations) and shared.
    let writer = SqliteConn::open(&place)?;
    if !memory {
        // Readers no longer wait for the writer, and a commit is one append to the log,
        // copied back into the file on a thread of its own (see `checkpoint`).
        writer.execute_batch("PRAGMA journal_mode = WAL")?;
        writer.after_commits(checkpoint::after_commit);
    }
    let mut migrating = sqlx::sqlite::SqliteConnection::connect_with(&place.sqlx_options()).await?;
    SQLITE_MIGRATIONS.run(&mut migrating).await?;
    migrating.close().await?;
    // Writes run on a thread of their own, committed in groups (see `connections`); not in
    // memory, where one connection serves the reads too, in their requests' tasks.
    let write = if memory {
        Connections::held(vec![DbConn::Sqlite(writer)], None)
    } else {
        let checkpoints = Checkpoints::start(&place)?;
        Connections::writer(writer, WriterThread::start()?, Some(checkpoints))
    };
    let read = if memory {
        write.clone()
    } else {
        let readers = (0..SQLITE_READERS)
            .map(|_| SqliteConn::open(&place).map(DbConn::Sqlite))
            .collect::<Result<_, _>>()?;
        Connections::held(readers, None)
    };
    Ok(Store {
        write,
        read,
        backend: Backend::Sqlite,
        url,
        notices: None,
        mail: false,
        sessions: Default::default(),
        on_sale: Default::default(),
    })
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Adds `mode=rwc` to a file URL so that a new database file is created.
fn sqlite_url(url: &str) -> String {
    if is_memory(url) || url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

impl Store {
    /// A connection for writing (and reading in a transaction), waiting for its turn. Held
    /// until dropped: on SQLite no other write (and in memory, no read) runs meanwhile, so
    /// it is let go before the store is asked anything else.
    async fn writing(&self) -> Result<Conn<'_>, sqlx::Error> {
        self.write.get().await
    }

    /// A connection for a read that stands alone.
    async fn reading(&self) -> Result<Conn<'_>, sqlx::Error> {
        self.read.get().await
    }

    /// Runs a write transaction where writes run: on SQLite's writer thread (to its end, even
    /// if the caller stops waiting), here on PostgreSQL. `work` gets the store.
    async fn in_turn<T, F, Fut>(&self, work: F) -> Result<T, sqlx::Error>
    where
        F: FnOnce(Store) -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>> + Send + 'static,
        T: Send + 'static,
    {
        let work = work(self.clone());
        let done = match self.write.thread() {
            Some(thread) => thread.run(work).await?,
            None => work.await,
        };
        self.write.note(&done);
        done
    }

    /// The writing connection, for tests and tools that must reach the database directly.
    pub async fn connection(&self) -> Result<Conn<'_>, sqlx::Error> {
        self.writing().await
    }

    pub async fn close(&self) {
        // In memory both are the same connection: the second close finds it closed.
        self.read.close().await;
        self.write.close().await;
        if let Some(notices) = &self.notices {
            notices.close().await;
        }
    }

    /// The store, writing e-mails to the outbox with every change that sends one (`on`).
    pub fn with_mail(mut self, on: bool) -> Store {
        self.mail = on;
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL the store was opened with (for a listener of its own).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.read)
            .await
            .map(|_| ())
    }

    /// The deployment's currency, set by the catalog; GBP when none was given.
    pub async fn currency(&self) -> Result<String, sqlx::Error> {
        // Read twice a second by every server (it follows the catalog): never on the writer.
        let row = sqlx::query("SELECT value FROM settings WHERE key = 'currency'")
            .fetch_optional(&self.read)
            .await?;
        Ok(match row {
            Some(row) => row.try_get("value")?,
            None => "GBP".to_owned(),
        })
    }
}

/// Integers read from the database, as a SQL list (`IN (…)`): nothing to quote.
fn id_list(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How SQLite runs `sql` (its `params` parameters all 1), one line per step, having checked that
/// every table it reads is searched through an index: a step that scans or materializes a
/// table reads all of it, and grows slower as the night's sales grow.
#[cfg(test)]
async fn searched_by_index(store: &Store, sql: &str, params: usize) -> Vec<String> {
    use sqlx::Row;
    let mut conn = store.connection().await.unwrap();
    let mut query = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
    for _ in 0..params {
        query = query.bind(1_i64);
    }
    let steps: Vec<String> = query
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>("detail"))
        .collect();
    for step in &steps {
        assert!(
            !step.starts_with("SCAN") && !step.starts_with("MATERIALIZE"),
            "{step} in {steps:#?}"
        );
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store on a new file `shop.db` in `dir`.
    async fn store_in(dir: &tempfile::TempDir) -> Store {
        let path = dir.path().join("shop.db");
        connect_database(&format!("sqlite://{}", path.display()))
            .await
            .unwrap()
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_database_file_is_readable_by_its_owner_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir).await;
        // Something written, so that the WAL and shared-memory files exist.
        sqlx::query("INSERT INTO settings (key, value) VALUES ('probe', 'x')")
            .execute(&store.write)
            .await
            .unwrap();
        for file in ["shop.db", "shop.db-wal", "shop.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
        }
        store.close().await;
    }

    #[tokio::test]
    async fn the_log_stays_bounded_under_steady_writes_and_goes_with_the_last_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(&dir).await;
        let wal = dir.path().join("shop.db-wal");
        // The log starts again from its beginning once it passes the writer's bound for
        // catching up, whatever the other thread's checkpoints keep up with (without the
        // writer's checkpoints the log would reach five times this, unbounded): within twice
        // the writer's first bound, each page in the log as a frame (a 24-byte header and the
        // 4 KiB page) after the log's 32-byte header.
        let bound = 32 + 2 * u64::try_from(checkpoint::WRITER_PAGES).unwrap() * (24 + 4096);
        // 200 kB a commit, back to back (a busy shop's commits are much smaller).
        for i in 0..(5 * bound / 200_000) {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2)")
                .bind(format!("probe {i}"))
                .bind("x".repeat(200_000))
                .execute(&store.write)
                .await
                .unwrap();
            let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
            assert!(size <= bound, "the log is {size} bytes after {i} writes");
        }
        store.close().await;
        assert!(!wal.exists(), "the log outlives the store");
    }

    #[tokio::test]
    async fn a_missing_folder_is_said_as_such() {
        let err = connect_database("sqlite:///no/such/folder/shop.db")
            .await
            .err()
            .unwrap()
            .to_string();
        assert_eq!(
            err,
            "cannot open the database sqlite:///no/such/folder/shop.db: the folder \
             /no/such/folder does not exist; create it first"
        );
    }

    #[test]
    fn file_urls_create_missing_databases() {
        assert_eq!(sqlite_url("sqlite://shop.db"), "sqlite://shop.db?mode=rwc");
        assert_eq!(sqlite_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(sqlite_url("sqlite://a.db?mode=ro"), "sqlite://a.db?mode=ro");
    }

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(
            shown("postgres://shop:s3cret@db.example/shop"),
            "postgres://shop@db.example/shop"
        );
        assert_eq!(
            shown("sqlite:///var/lib/shop.db"),
            "sqlite:///var/lib/shop.db"
        );
    }

    #[tokio::test]
    async fn a_database_that_cannot_be_opened_is_named() {
        let err = connect_database("sqlite:///no/such/dir/shop.db")
            .await
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cannot open the database sqlite:///no/such/dir/shop.db"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn other_databases_are_refused_with_a_sentence() {
        let err = connect_database("mysql://x").await.unwrap_err();
        assert!(err.to_string().contains("sqlite://PATH"), "{err}");
        assert!(err.to_string().contains("postgres://"), "{err}");
    }
}
