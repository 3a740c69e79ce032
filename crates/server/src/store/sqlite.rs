//! SQLite connections that run each statement on the thread that asks for it.
//!
//! sqlx's SQLite driver gives every connection a thread of its own and hands each statement
//! to it and its rows back: two switches between threads per statement, which on the
//! benchmark's two cores cost more than SQLite's own work (a third of the server's time went
//! to them). A statement here runs where it is asked, on the connection the store holds for
//! the asker; the store's statements are short, and a write transaction runs from its start
//! to its end without waiting in between.
//!
//! The statements are the store's own, written once for both databases through sqlx's `Any`:
//! what they are given (`AnyArguments`) and what they answer (`AnyRow`, `AnyQueryResult`)
//! are sqlx's, made the way sqlx's SQLite driver makes them (a value's kind follows what
//! SQLite holds, not what the column is declared as), so the store reads them unchanged.
//! sqlx still prepares the database (its migrations), on a connection of its own.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, Statement};
use sqlx::Either;
use sqlx::any::{AnyQueryResult, AnyRow, AnyTypeInfo, AnyTypeInfoKind, AnyValue};
use sqlx::error::ErrorKind;
use sqlx_core::any::{AnyColumn, AnyValueKind};
use sqlx_core::ext::ustr::UStr;

/// How many prepared statements a connection keeps (the store has about two hundred).
const KEPT_STATEMENTS: usize = 256;

/// How long a statement waits for another connection's lock before it fails (as sqlx's).
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What a statement answered: its rows, then how many rows it changed.
pub type Answer = Either<AnyQueryResult, AnyRow>;

/// One SQLite connection, its statements kept prepared.
pub struct SqliteConn {
    conn: Connection,
}

impl std::fmt::Debug for SqliteConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConn").finish_non_exhaustive()
    }
}

/// Names of in-memory databases of this process, each its own.
static MEMORY_DATABASES: AtomicUsize = AtomicUsize::new(0);

/// Where an SQLite database is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A file, made if missing.
    File(std::path::PathBuf),
    /// A database in this process's memory, shared by the connections opened with this name
    /// while one of them is open.
    Memory(String),
}

impl Place {
    /// The place a `sqlite:` URL names: `sqlite::memory:` (a new database each time) or a
    /// file's path, with sqlx's own reading of the URL.
    pub fn of_url(url: &str) -> Result<Place, sqlx::Error> {
        if super::is_memory(url) {
            let n = MEMORY_DATABASES.fetch_add(1, Ordering::Relaxed);
            return Ok(Place::Memory(format!("file:storefront-memory-{n}")));
        }
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        Ok(Place::File(options.get_filename().to_owned()))
    }

    /// sqlx's options for the same database (for its migrations).
    pub fn sqlx_options(&self) -> sqlx::sqlite::SqliteConnectOptions {
        let options = sqlx::sqlite::SqliteConnectOptions::new();
        match self {
            Place::File(path) => options.filename(path).create_if_missing(true),
            Place::Memory(name) => options.filename(name).in_memory(true).shared_cache(true),
        }
    }
}

impl SqliteConn {
    /// Opens the database at `place` as sqlx would: foreign keys enforced, a wait of five
    /// seconds for a lock held elsewhere; and commits that do not wait for the disk (WAL
    /// keeps the database whole; a power cut may lose the last moments).
    pub fn open(place: &Place) -> Result<SqliteConn, sqlx::Error> {
        // Each connection is used by one holder at a time (see `connections`): no mutex.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match place {
            Place::File(path) => Connection::open_with_flags(path, flags),
            Place::Memory(name) => Connection::open_with_flags(
                name,
                flags | OpenFlags::SQLITE_OPEN_MEMORY | OpenFlags::SQLITE_OPEN_SHARED_CACHE,
            ),
        }
        .map_err(error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(error)?;
        conn.set_prepared_statement_cache_capacity(KEPT_STATEMENTS);
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(error)?;
        Ok(SqliteConn { conn })
    }

    /// Calls `hook` after each commit to a file's log, with how many pages the log holds
    /// (in place of SQLite's own checkpoints after commits).
    pub fn after_commits(
        &self,
        hook: fn(&rusqlite::hooks::Wal, std::ffi::c_int) -> rusqlite::Result<()>,
    ) {
        self.conn.wal_hook(Some(hook));
    }

    /// Whether a transaction is open on the connection.
    pub fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    /// Runs statements without values (one or several, such as `BEGIN` or a `PRAGMA`).
    pub fn execute_batch(&self, sql: &str) -> Result<(), sqlx::Error> {
        self.conn.execute_batch(sql).map_err(error)
    }

    /// Runs `sql` (one statement, or several in turn) with `values` for its `$N` (or `?`)
    /// parameters; answers its rows, at most `limit` of them, and after each statement how
    /// many rows the last change changed (as sqlx does).
    pub fn run(
        &mut self,
        sql: &str,
        values: &[AnyValueKind],
        persistent: bool,
        limit: Option<usize>,
    ) -> Result<Vec<Answer>, sqlx::Error> {
        let mut answers = Vec::new();
        let prepared = if persistent {
            self.conn.prepare_cached(sql).map(Prepared::Kept)
        } else {
            self.conn.prepare(sql).map(Prepared::Once)
        };
        match prepared {
            Ok(mut statement) => {
                bind(&mut statement, values, 0)?;
                step(&self.conn, &mut statement, limit, &mut answers)?;
            }
            // Several statements (rusqlite prepares one; the rest may need the first run),
            // or a statement SQLite refuses, whose error comes again below.
            Err(_) => {
                let mut batch = rusqlite::Batch::new(&self.conn, sql);
                let mut used = 0;
                while let Some(mut statement) = fallible_next(&mut batch)
                    .map_err(error)?
                    .map(Prepared::Once)
                {
                    used += bind(&mut statement, values, used)?;
                    let left = limit.map(|limit| limit.saturating_sub(rows(&answers)));
                    step(&self.conn, &mut statement, left, &mut answers)?;
                    if left == Some(0) {
                        break;
                    }
                }
            }
        }
        Ok(answers)
    }
}

/// The next statement of a batch.
fn fallible_next<'c>(
    batch: &mut rusqlite::Batch<'c, '_>,
) -> rusqlite::Result<Option<Statement<'c>>> {
    use rusqlite::fallible_iterator::FallibleIterator;
    batch.next()
}

/// How many rows are among `answers`.
fn rows(answers: &[Answer]) -> usize {
    answers.iter().filter(|answer| answer.is_right()).count()
}

/// A statement kept prepared on its connection, or prepared for this once.
enum Prepared<'c> {
    Kept(rusqlite::CachedStatement<'c>),
    Once(Statement<'c>),
}

impl<'c> std::ops::Deref for Prepared<'c> {
    type Target = Statement<'c>;

    fn deref(&self) -> &Statement<'c> {
        match self {
            Prepared::Kept(statement) => statement,
            Prepared::Once(statement) => statement,
        }
    }
}

impl std::ops::DerefMut for Prepared<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Prepared::Kept(statement) => statement,
            Prepared::Once(statement) => statement,
        }
    }
}

/// Binds `values` to the statement's parameters as sqlx does: `$N` and `?N` take the N-th
/// value, a bare `?` the next after `offset`; a parameter past the values stays NULL.
/// Answers how many values the bare `?`s took.
fn bind(
    statement: &mut Statement<'_>,
    values: &[AnyValueKind],
    offset: usize,
) -> Result<usize, sqlx::Error> {
    let mut next = offset;
    for parameter in 1..=statement.parameter_count() {
        let n = match statement.parameter_name(parameter) {
            Some(name) => name
                .strip_prefix('$')
                .or_else(|| name.strip_prefix('?'))
                .and_then(|digits| digits.parse::<usize>().ok())
                .ok_or_else(|| {
                    sqlx::Error::Protocol(format!("unsupported SQL parameter {name:?}"))
                })?,
            None => {
                next += 1;
                next
            }
        };
        let Some(value) = n.checked_sub(1).and_then(|at| values.get(at)) else {
            break;
        };
        let value = match value {
            AnyValueKind::Null(_) => ValueRef::Null,
            AnyValueKind::Bool(b) => ValueRef::Integer(i64::from(*b)),
            AnyValueKind::SmallInt(i) => ValueRef::Integer(i64::from(*i)),
            AnyValueKind::Integer(i) => ValueRef::Integer(i64::from(*i)),
            AnyValueKind::BigInt(i) => ValueRef::Integer(*i),
            AnyValueKind::Real(r) => ValueRef::Real(f64::from(*r)),
            AnyValueKind::Double(d) => ValueRef::Real(*d),
            AnyValueKind::Text(text) => ValueRef::Text(text.as_bytes()),
            AnyValueKind::TextSlice(text) => ValueRef::Text(text.as_bytes()),
            AnyValueKind::Blob(blob) => ValueRef::Blob(blob),
            other => {
                return Err(sqlx::Error::Protocol(format!(
                    "a value SQLite cannot take: {other:?}"
                )));
            }
        };
        statement
            .raw_bind_parameter(parameter, ToSqlOutput::Borrowed(value))
            .map_err(error)?;
    }
    Ok(next - offset)
}

/// Steps `statement` to its end (or its `limit`-th row), adding its rows and then what it
/// changed to `answers`.
fn step(
    conn: &Connection,
    statement: &mut Statement<'_>,
    limit: Option<usize>,
    answers: &mut Vec<Answer>,
) -> Result<(), sqlx::Error> {
    let columns: Vec<AnyColumn> = statement
        .column_names()
        .into_iter()
        .enumerate()
        .map(|(ordinal, name)| AnyColumn {
            ordinal,
            name: UStr::new(name),
            type_info: AnyTypeInfo {
                kind: AnyTypeInfoKind::Null,
            },
        })
        .collect();
    let names: Arc<sqlx_core::HashMap<UStr, usize>> = Arc::new(
        columns
            .iter()
            .map(|column| (column.name.clone(), column.ordinal))
            .collect(),
    );
    let mut taken = 0;
    let mut rows = statement.raw_query();
    while limit.is_none_or(|limit| taken < limit) {
        let Some(row) = rows.next().map_err(error)? else {
            answers.push(Either::Left(AnyQueryResult {
                rows_affected: conn.changes(),
                last_insert_id: None,
            }));
            return Ok(());
        };
        let values = (0..columns.len())
            .map(|at| row.get_ref(at).map(value).map_err(error))
            .collect::<Result<Vec<_>, _>>()?;
        answers.push(Either::Right(AnyRow {
            column_names: Arc::clone(&names),
            columns: columns.clone(),
            values,
        }));
        taken += 1;
    }
    Ok(())
}

/// A value as sqlx's SQLite driver gives it to `Any`: of the kind SQLite holds.
fn value(value: ValueRef<'_>) -> AnyValue {
    let kind = match value {
        ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
        ValueRef::Integer(i) => AnyValueKind::BigInt(i),
        ValueRef::Real(r) => AnyValueKind::Double(r),
        ValueRef::Text(text) => {
            AnyValueKind::Text(Arc::new(String::from_utf8_lossy(text).into_owned()))
        }
        ValueRef::Blob(blob) => AnyValueKind::Blob(Arc::new(blob.to_vec())),
    };
    AnyValue { kind }
}

/// SQLite's refusal of a statement, as sqlx's SQLite driver tells it.
#[derive(Debug, thiserror::Error)]
#[error("(code: {code}) {message}")]
pub struct SqliteError {
    /// SQLite's extended result code.
    code: i32,
    message: String,
}

impl sqlx::error::DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        use rusqlite::ffi;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// rusqlite's error as sqlx's: SQLite's refusals as database errors, the rest as the driver's.
fn error(err: rusqlite::Error) -> sqlx::Error {
    match err {
        rusqlite::Error::SqliteFailure(failure, message) => {
            sqlx::Error::Database(Box::new(SqliteError {
                code: failure.extended_code,
                message: message.unwrap_or_else(|| failure.to_string()),
            }))
        }
        other => sqlx::Error::AnyDriverError(Box::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::*;

    fn memory() -> SqliteConn {
        SqliteConn::open(&Place::of_url("sqlite::memory:").unwrap()).unwrap()
    }

    #[test]
    fn a_url_names_its_place() {
        let place = Place::of_url("sqlite:///tmp/shop.db?mode=rwc").unwrap();
        assert_eq!(place, Place::File("/tmp/shop.db".into()));
        let (a, b) = (
            Place::of_url("sqlite::memory:").unwrap(),
            Place::of_url("sqlite::memory:").unwrap(),
        );
        assert!(matches!(a, Place::Memory(_)));
        assert_ne!(a, b, "each in-memory database is its own");
    }

    #[test]
    fn rows_come_back_as_sqlx_reads_them() {
        let mut conn = memory();
        conn.execute_batch("CREATE TABLE t (n INTEGER, s TEXT, r REAL, b BLOB)")
            .unwrap();
        let changed = conn
            .run(
                "INSERT INTO t VALUES ($1, $2, $3, $4), ($5, NULL, NULL, NULL)",
                &[
                    AnyValueKind::BigInt(7),
                    AnyValueKind::Text(Arc::new("seven".to_owned())),
                    AnyValueKind::Double(0.5),
                    AnyValueKind::Blob(Arc::new(vec![1, 2])),
                    AnyValueKind::Integer(8),
                ],
                true,
                None,
            )
            .unwrap();
        assert!(matches!(&changed[..], [Either::Left(done)] if done.rows_affected == 2));
        let answers = conn
            .run("SELECT n, s, r, b FROM t ORDER BY n", &[], true, None)
            .unwrap();
        let rows: Vec<&AnyRow> = answers.iter().filter_map(|a| a.as_ref().right()).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].get::<i64, _>("n"), 7);
        assert_eq!(rows[0].get::<i32, _>(0), 7);
        assert_eq!(rows[0].get::<String, _>("s"), "seven");
        assert_eq!(rows[0].get::<f64, _>("r"), 0.5);
        assert_eq!(rows[0].get::<Vec<u8>, _>("b"), [1, 2]);
        assert_eq!(rows[1].get::<Option<String>, _>("s"), None);
        assert!(rows[0].try_get::<i64, _>("nowhere").is_err());
    }

    #[test]
    fn a_parameter_is_found_by_its_number() {
        let mut conn = memory();
        let answers = conn
            .run(
                "SELECT $2 AS b, $1 AS a, $2 AS again",
                &[AnyValueKind::BigInt(1), AnyValueKind::BigInt(2)],
                true,
                None,
            )
            .unwrap();
        let row = answers[0].as_ref().right().unwrap();
        assert_eq!(
            (
                row.get::<i64, _>("a"),
                row.get::<i64, _>("b"),
                row.get::<i64, _>("again")
            ),
            (1, 2, 2)
        );
    }

    #[test]
    fn several_statements_run_in_turn_and_a_limit_stops_them() {
        let mut conn = memory();
        let answers = conn
            .run(
                "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES ($1); SELECT x FROM t",
                &[AnyValueKind::BigInt(3)],
                true,
                None,
            )
            .unwrap();
        assert_eq!(rows(&answers), 1);
        assert_eq!(answers.len(), 4, "three results and one row");
        let first = conn
            .run("SELECT 1 UNION ALL SELECT 2", &[], false, Some(1))
            .unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].as_ref().right().unwrap().get::<i64, _>(0), 1);
    }

    #[test]
    fn a_refusal_is_a_database_error_of_its_kind() {
        let mut conn = memory();
        conn.execute_batch("CREATE TABLE t (x INTEGER PRIMARY KEY)")
            .unwrap();
        conn.run("INSERT INTO t VALUES (1)", &[], true, None)
            .unwrap();
        let Err(sqlx::Error::Database(err)) = conn.run("INSERT INTO t VALUES (1)", &[], true, None)
        else {
            panic!("a second row of the same key is refused")
        };
        assert!(err.is_unique_violation(), "{err}");
        assert_eq!(err.code().as_deref(), Some("1555"));
        assert!(matches!(
            conn.run("SELECT * FROM nowhere", &[], true, None),
            Err(sqlx::Error::Database(_))
        ));
    }
}
