//! Where the store's statements run: connections the store holds itself, taken in turn.
//!
//! sqlx's pool asks the database whether a connection is alive each time one comes back (and,
//! unless told otherwise, each time one is taken): a round trip for every statement that stands
//! alone and every transaction. On PostgreSQL those round trips cost more than most of the
//! statements, and more with every server on the database. The store's connections go back at
//! once instead. A PostgreSQL connection is checked only when there is reason to doubt it: it
//! sat idle (PostgreSQL restarted, a firewall dropped it), or a statement on one of the
//! store's connections found its connection lost. One that does not answer is opened again,
//! and so is one that was never opened. SQLite's run where they are asked (see `sqlite`).
//!
//! SQLite's one writing connection is also the narrow point every write passes. Writes on
//! SQLite run on a thread of their own ([`WriterThread`]), one after the other, each from its
//! first statement to its last without waiting for anything else on the runtime; and the
//! writes ready to run together are committed together (see `group_commit`).
//!
//! A statement or transaction cut off midway (its request dropped) leaves nothing behind: a
//! write on SQLite's writer thread runs to its end, a PostgreSQL connection reads what was
//! left unanswered before its next statement, and a dropped transaction is rolled back (on
//! PostgreSQL, sent as its connection is given back).

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::{Any, AnyConnection, Connection, Either, Execute, Executor, SqlStr};
use tokio::sync::{Semaphore, SemaphorePermit, oneshot};

use super::checkpoint::Checkpoints;
use super::conn::DbConn;
use super::group_commit::{self, Group, Groups};
use super::sqlite::SqliteConn;

/// How long a statement waits for a connection (its turn, or one opened) before it fails.
const TURN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a PostgreSQL connection sits idle before it is checked when taken.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// A set of connections to take one from, for a statement or a transaction: taken in turn
/// (first come, first served) and given back without a check.
#[derive(Clone, Debug)]
pub struct Connections(Arc<Held>);

pub struct Held {
    idle: Mutex<Vec<Idle>>,
    turns: Semaphore,
    count: u32,
    /// Where statements on these connections run, when not where they are asked for.
    thread: Option<WriterThread>,
    /// Where a lost connection is opened again (PostgreSQL); SQLite's are never lost.
    reopen: Option<String>,
    /// Times a statement found its connection lost: every connection given back before the
    /// last of them is checked when next taken.
    doubts: AtomicU64,
    /// On SQLite's writer, the writes that queue are committed together (see `group_commit`).
    groups: Option<Groups>,
}

impl std::fmt::Debug for Held {
    // Without the database's address, which may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("count", &self.count)
            .field("reopened", &self.reopen.is_some())
            .finish_non_exhaustive()
    }
}

/// A connection waiting to be taken (or the place of one not open).
struct Idle {
    conn: Option<DbConn>,
    since: Instant,
    /// [`Held::doubts`] when it was given back.
    doubts: u64,
}

/// A thread that runs the work given to it (on a runtime of its own) and nothing else, until
/// the last holder lets go of it.
#[derive(Debug)]
pub struct WriterThread {
    runtime: tokio::runtime::Handle,
    _stop: oneshot::Sender<()>,
}

impl WriterThread {
    /// Starts the thread.
    pub fn start() -> std::io::Result<WriterThread> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("storefront-writer".to_owned())
            .spawn(move || {
                runtime.block_on(async {
                    // Sent never: dropped with the last holder.
                    let _ = stopped.await;
                });
            })?;
        Ok(WriterThread {
            runtime: handle,
            _stop: stop,
        })
    }

    /// Runs `work` on the thread, to its end even if the caller stops waiting. A panic in it
    /// goes on in the caller.
    pub async fn run<F>(&self, work: F) -> Result<F::Output, sqlx::Error>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.runtime.spawn(group_commit::committed(work)).await {
            Ok(out) => out,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            // The thread stopped: the store is gone.
            Err(_) => Err(sqlx::Error::PoolClosed),
        }
    }
}

/// One connection, for as long as this is held.
pub struct Conn<'a> {
    idle: Idle,
    /// The group of writes it is part of, on SQLite's writer.
    group: Option<Arc<Group>>,
    from: Arc<Held>,
    /// Given back when dropped (after the connection), or kept for a rollback to send.
    turn: Option<SemaphorePermit<'a>>,
}

/// Whether `err` says the connection it ran on is gone (rather than the statement failed).
fn is_lost_connection(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        // PostgreSQL's classes 08 (connection exception) and 57P (shut down, terminated).
        sqlx::Error::Database(err) => err
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

impl Connections {
    /// Holds `connections` itself; statements on them run where they are asked for, or on
    /// `thread`. They are never checked nor opened again (SQLite's).
    pub fn held(connections: Vec<DbConn>, thread: Option<WriterThread>) -> Connections {
        Connections::new(connections.into_iter().map(Some).collect(), thread, None)
    }

    /// SQLite's one writing connection, whose statements run on `thread` and whose writes
    /// are committed in groups, each told to `checkpoints`.
    pub fn writer(
        conn: SqliteConn,
        thread: WriterThread,
        checkpoints: Option<Checkpoints>,
    ) -> Connections {
        let mut connections = Connections::held(vec![DbConn::Sqlite(conn)], Some(thread));
        if let Some(held) = Arc::get_mut(&mut connections.0) {
            held.groups = Some(Groups::new(checkpoints));
        }
        connections
    }

    /// Up to `count` connections to `url`, `first` among them and the others opened when first
    /// needed; one in doubt is checked when taken, and opened again if it does not answer
    /// (PostgreSQL's).
    pub fn reopened(url: &str, first: AnyConnection, count: u32) -> Connections {
        let places = std::iter::once(Some(DbConn::Sqlx(first)))
            .chain(std::iter::repeat_with(|| None))
            .take(count.max(1) as usize)
            .collect();
        Connections::new(places, None, Some(url.to_owned()))
    }

    /// Connections in `places` (a `None` is one not open yet), idle from now.
    fn new(
        places: Vec<Option<DbConn>>,
        thread: Option<WriterThread>,
        reopen: Option<String>,
    ) -> Connections {
        let now = Instant::now();
        let idle: Vec<Idle> = places
            .into_iter()
            .map(|conn| Idle {
                conn,
                since: now,
                doubts: 0,
            })
            .collect();
        let count = u32::try_from(idle.len()).unwrap_or(u32::MAX);
        Connections(Arc::new(Held {
            turns: Semaphore::new(idle.len()),
            idle: Mutex::new(idle),
            count,
            thread,
            reopen,
            doubts: AtomicU64::new(0),
            groups: None,
        }))
    }

    /// The thread the statements on these connections run on, if not the caller's.
    pub fn thread(&self) -> Option<&WriterThread> {
        self.0.thread.as_ref()
    }

    /// A connection, waiting for one to be free.
    pub async fn get(&self) -> Result<Conn<'_>, sqlx::Error> {
        let held = &*self.0;
        // As long as sqlx's pool would wait, then an error rather than a hang.
        let turn = tokio::time::timeout(TURN_TIMEOUT, held.turns.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        // A turn is given back only after its connection is, so one is idle now.
        let idle = held.lock().pop().ok_or(sqlx::Error::PoolClosed)?;
        // From here the place goes back when dropped, open or not, even if this is cut off.
        let mut conn = Conn {
            idle,
            group: None,
            from: Arc::clone(&self.0),
            turn: Some(turn),
        };
        conn.make_ready().await?;
        if let (Some(groups), Some(DbConn::Sqlite(sqlite))) = (&held.groups, &conn.idle.conn) {
            let joined = groups.join(sqlite)?;
            if joined.began {
                self.commit_later(Arc::clone(&joined.group));
            }
            conn.group = Some(joined.group);
        }
        Ok(conn)
    }

    /// Commits `group` on the writer thread once it has run every write ready to run now
    /// (they join the group), and after those already waiting for the connection.
    fn commit_later(&self, group: Arc<Group>) {
        let Some(thread) = self.thread() else {
            return;
        };
        let connections = self.clone();
        thread.runtime.spawn(async move {
            // Run again only when nothing else is ready to run.
            tokio::task::yield_now().await;
            let held = &*connections.0;
            if let Ok(_turn) = held.turns.acquire().await {
                held.with_idle_writer(|groups, conn| groups.commit(conn, &group));
            }
        });
    }

    /// Notes that `result` found its connection lost, if it did: the connections given back
    /// until now are checked before they are used again.
    pub fn note<T>(&self, result: &Result<T, sqlx::Error>) {
        if let Err(err) = result
            && self.0.reopen.is_some()
            && is_lost_connection(err)
        {
            self.0.doubts.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Closes every connection, waiting for those in use to come back; afterwards `get` fails.
    pub async fn close(&self) {
        let held = &*self.0;
        // Every turn taken back: no connection is in use.
        let _all = held.turns.acquire_many(held.count).await;
        held.commit_open_group();
        held.turns.close();
        let idle = std::mem::take(&mut *held.lock());
        for conn in idle.into_iter().filter_map(|idle| idle.conn) {
            if let Err(err) = conn.close().await {
                tracing::warn!(error = %err, "closing a database connection");
            }
        }
        if let Some(groups) = &held.groups {
            groups.stop_checkpoints().await;
        }
    }
}

impl Conn<'_> {
    /// Checks the connection if there is reason to doubt it, and opens one in its place if it
    /// does not answer (or was never opened).
    async fn make_ready(&mut self) -> Result<(), sqlx::Error> {
        let Some(url) = &self.from.reopen else {
            return Ok(());
        };
        let doubted = self.idle.since.elapsed() >= IDLE_CHECK
            || self.idle.doubts < self.from.doubts.load(Ordering::Relaxed);
        if doubted
            && let Some(conn) = &mut self.idle.conn
            && let Err(err) = conn.ping().await
        {
            tracing::info!(error = %err, "a database connection was lost; opening another");
            self.idle.conn = None;
        }
        if self.idle.conn.is_none() {
            let opened = tokio::time::timeout(TURN_TIMEOUT, open_postgres(url))
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)??;
            self.idle.conn = Some(DbConn::Sqlx(opened));
        }
        Ok(())
    }
}

/// How long PostgreSQL lets one of our sessions sit inside a transaction with nothing to do
/// before it ends the session. None of ours waits inside one (nothing is held across a
/// network call), and a transaction dropped midway (its request cut off) has its rollback
/// sent as its connection is given back; this bounds what could still slip past (a rollback
/// that cannot be sent at once, with no runtime to send it from), whose locks would hold every
/// other request that needs those rows. Past this, the locks go, and the connection, found
/// lost when next taken, is opened again.
const IDLE_IN_TRANSACTION: &str = "5s";

/// A PostgreSQL connection, set up like every other of the store's.
pub async fn open_postgres(url: &str) -> Result<AnyConnection, sqlx::Error> {
    let mut conn = AnyConnection::connect(url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION}'"
    )))
    .execute(&mut conn)
    .await?;
    Ok(conn)
}

/// A statement on `&connections` takes a connection for itself, as it would from a pool.
impl<'c> Executor<'c> for &'c Connections {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        // The store's statements answer a few rows: read them all, then give the
        // connection back before they are looked at.
        let all = async move {
            if let Some(thread) = self.thread() {
                return self
                    .on_thread(thread, query, |conn, statement| {
                        Box::pin(conn.fetch_many(statement).try_collect())
                    })
                    .await;
            }
            let rows = async {
                self.get()
                    .await?
                    .fetch_many(query)
                    .try_collect::<Vec<_>>()
                    .await
            }
            .await;
            // Its connection given back first, to be checked if the statement lost it.
            self.note(&rows);
            rows
        };
        stream::once(all)
            .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        Box::pin(async move {
            if let Some(thread) = self.thread() {
                return self
                    .on_thread(thread, query, |conn, statement| {
                        conn.fetch_optional(statement)
                    })
                    .await;
            }
            let row = async { self.get().await?.fetch_optional(query).await }.await;
            self.note(&row);
            row
        })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, sqlx::Error>>
    where
        'c: 'e,
    {
        Box::pin(async move { self.get().await?.prepare_with(sql, parameters).await })
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        Box::pin(async move { self.get().await?.describe(sql).await })
    }
}

/// A statement with its text and values of its own, to be run on another thread.
type OwnedStatement = sqlx::query::Query<'static, Any, AnyArguments>;

impl Connections {
    /// Runs `query` with `run` on a connection of these, on `thread`.
    async fn on_thread<'q, T: Send + 'static>(
        &self,
        thread: &WriterThread,
        mut query: impl Execute<'q, Any>,
        run: for<'a> fn(&'a mut DbConn, OwnedStatement) -> BoxFuture<'a, Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let persistent = query.persistent();
        let arguments = query
            .take_arguments()
            .map_err(sqlx::Error::Encode)?
            .unwrap_or_default();
        let statement = sqlx::query_with(query.sql(), arguments).persistent(persistent);
        let connections = self.clone();
        thread
            .run(async move {
                let mut conn = connections.get().await?;
                run(&mut conn, statement).await
            })
            .await?
    }
}

impl Held {
    /// Puts a connection (or the place of a lost one) back among the idle.
    fn give_back(&self, conn: Option<DbConn>) {
        self.lock().push(Idle {
            conn,
            since: Instant::now(),
            doubts: self.doubts.load(Ordering::Relaxed),
        });
    }

    /// Commits the group of writes still open, if any (the caller has every turn).
    fn commit_open_group(&self) {
        self.with_idle_writer(Groups::commit_open);
    }

    /// Runs `work` with SQLite's writing connection and its groups, if these are the writer's
    /// (the caller has the connection's turn, so it is idle).
    fn with_idle_writer(&self, work: impl FnOnce(&Groups, &SqliteConn)) {
        if let Some(groups) = &self.groups
            && let Some(Idle {
                conn: Some(DbConn::Sqlite(conn)),
                ..
            }) = self.lock().last()
        {
            work(groups, conn);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // The list is only pushed to and popped from: a panic elsewhere cannot leave it torn.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Deref for Conn<'_> {
    type Target = DbConn;

    fn deref(&self) -> &DbConn {
        // Open from `get` until dropped.
        self.idle.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut DbConn {
        self.idle.conn.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let (Some(group), Some(groups), Some(DbConn::Sqlite(conn))) =
            (self.group.take(), &self.from.groups, &self.idle.conn)
        {
            groups.leave(conn, group);
        }
        if let Some(DbConn::Sqlx(conn)) = &self.idle.conn
            && conn.should_flush()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
            && let Some(turn) = self.turn.take()
        {
            // A transaction dropped midway (its request cut off) left its rollback queued:
            // sent now, so that its locks go at once rather than at the connection's next use.
            // The connection comes back, and its turn, once it is sent.
            turn.forget();
            let (held, mut conn) = (Arc::clone(&self.from), self.idle.conn.take());
            runtime.spawn(async move {
                if let Some(DbConn::Sqlx(sent)) = &mut conn
                    && let Err(err) = sent.flush().await
                {
                    tracing::info!(error = %err, "a database connection was lost; opening another");
                    conn = None;
                }
                held.give_back(conn);
                held.turns.add_permits(1);
            });
            return;
        }
        // Back before the turn is (the turn is a field, dropped after this).
        self.from.give_back(self.idle.conn.take());
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::sqlite::{Place, SqliteConn};
    use super::*;

    fn memory() -> DbConn {
        DbConn::Sqlite(SqliteConn::open(&Place::of_url("sqlite::memory:").unwrap()).unwrap())
    }

    async fn one_connection() -> Connections {
        Connections::held(vec![memory()], None)
    }

    #[tokio::test]
    async fn a_held_connection_is_taken_in_turn() {
        let connections = one_connection().await;
        let first = connections.get().await.unwrap();
        let second = tokio::time::timeout(Duration::from_millis(50), connections.get()).await;
        assert!(second.is_err(), "the only connection is in use");
        drop(first);
        let mut again = connections.get().await.unwrap();
        let one: i64 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut *again)
            .await
            .unwrap();
        assert_eq!(one, 1);
    }

    #[tokio::test]
    async fn a_statement_gives_its_connection_back() {
        let connections = one_connection().await;
        for n in 0..3_i64 {
            let got: i64 = sqlx::query_scalar("SELECT $1")
                .bind(n)
                .fetch_one(&connections)
                .await
                .unwrap();
            assert_eq!(got, n);
        }
        let rows: Vec<i64> = sqlx::query_scalar("SELECT 1 UNION ALL SELECT 2")
            .fetch_all(&connections)
            .await
            .unwrap();
        assert_eq!(rows, [1, 2]);
        // Still free: a statement that failed gave it back too.
        assert!(
            sqlx::query("SELECT * FROM nowhere")
                .execute(&connections)
                .await
                .is_err()
        );
        assert!(connections.get().await.is_ok());
    }

    #[tokio::test]
    async fn a_transaction_dropped_midway_is_rolled_back_for_the_next_holder() {
        let connections = one_connection().await;
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&connections)
            .await
            .unwrap();
        {
            let mut conn = connections.get().await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            sqlx::query("INSERT INTO t VALUES (1)")
                .execute(&mut *tx)
                .await
                .unwrap();
            // Dropped here without a commit, as when a request is cut off.
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&connections)
            .await
            .unwrap();
        assert_eq!(count, 0);
    }

    #[tokio::test]
    async fn statements_run_on_the_writer_thread_when_there_is_one() {
        let connections = Connections::held(vec![memory()], Some(WriterThread::start().unwrap()));
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&connections)
            .await
            .unwrap();
        let inserted: i64 = sqlx::query_scalar("INSERT INTO t VALUES ($1) RETURNING x")
            .bind(7_i64)
            .fetch_one(&connections)
            .await
            .unwrap();
        assert_eq!(inserted, 7);
        let thread = connections.thread().unwrap();
        let name = thread
            .run(async { std::thread::current().name().map(str::to_owned) })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("storefront-writer"));
    }

    #[tokio::test]
    async fn writes_that_queue_on_the_writer_are_committed_together_before_they_are_answered() {
        let dir = tempfile::tempdir().unwrap();
        let place = Place::File(dir.path().join("group.db"));
        let writer = SqliteConn::open(&place).unwrap();
        writer
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER)")
            .unwrap();
        let connections = Connections::writer(writer, WriterThread::start().unwrap(), None);
        let mut reader = DbConn::Sqlite(SqliteConn::open(&place).unwrap());
        // The connection held here (as a tool would): twenty writes queue meanwhile.
        let held = connections.get().await.unwrap();
        let writes: Vec<_> = (0..20_i64)
            .map(|n| {
                let connections = connections.clone();
                tokio::spawn(async move {
                    sqlx::query("INSERT INTO t VALUES ($1)")
                        .bind(n)
                        .execute(&connections)
                        .await
                })
            })
            .collect();
        // Time for all of them to be waiting for the connection.
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(held);
        for write in writes {
            write.await.unwrap().unwrap();
            // Answered only once committed: seen by another connection.
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&mut reader)
            .await
            .unwrap();
        assert_eq!(rows, 20);
        // In two groups (the most one takes, then the rest), not twenty commits.
        let commits = connections.0.groups.as_ref().unwrap().commits();
        assert_eq!(commits, 3, "the held connection's, then 16 and 4");
    }

    #[tokio::test]
    async fn work_on_the_writer_thread_ends_even_when_no_one_waits() {
        let thread = WriterThread::start().unwrap();
        let (done, finished) = oneshot::channel();
        let work = thread.run(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            done.send(()).ok();
        });
        // The caller gives up at once.
        drop(tokio::time::timeout(Duration::from_millis(1), work).await);
        finished.await.unwrap();
    }

    #[tokio::test]
    async fn a_panic_on_the_writer_thread_goes_on_in_the_caller() {
        let thread = WriterThread::start().unwrap();
        let caller = tokio::spawn(async move {
            thread.run(async { panic!("in the writer") }).await.ok();
        });
        assert!(caller.await.unwrap_err().is_panic());
    }

    #[test]
    fn a_lost_connection_is_told_from_a_failed_statement() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(is_lost_connection(&sqlx::Error::Io(reset)));
        assert!(is_lost_connection(&sqlx::Error::Protocol("eof".to_owned())));
        assert!(!is_lost_connection(&sqlx::Error::RowNotFound));
        assert!(!is_lost_connection(&sqlx::Error::PoolTimedOut));
    }

    #[tokio::test]
    async fn a_failed_statement_leaves_its_connection_trusted() {
        let connections = one_connection().await;
        let failed = sqlx::query("SELECT * FROM nowhere")
            .execute(&connections)
            .await;
        connections.note(&failed);
        // Only a lost connection raises doubts (and SQLite's are never lost).
        assert_eq!(connections.0.doubts.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn closing_waits_for_connections_in_use_and_then_refuses() {
        let connections = one_connection().await;
        let held = connections.get().await.unwrap();
        let closing = connections.clone();
        let close = tokio::spawn(async move { closing.close().await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!close.is_finished(), "waits for the connection in use");
        drop(held);
        close.await.unwrap();
        assert!(matches!(
            connections.get().await.err(),
            Some(sqlx::Error::PoolClosed)
        ));
    }
}
