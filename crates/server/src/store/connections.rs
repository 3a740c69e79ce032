//! Where the store's statements run: sqlx's pool on PostgreSQL; on SQLite, connections the
//! store holds itself.
//!
//! sqlx's pool checks every connection when it takes it back, with a round trip to the
//! connection. Over a network that catches a connection the server dropped; an SQLite
//! connection lives in this process (each on a thread of its own), so the check is only a
//! hand-off between threads — one per statement that stands alone, and on SQLite's one
//! writing connection a wait that every write queued behind it shares. The store's own
//! SQLite connections go back at once instead.
//!
//! SQLite's one writing connection is also the narrow point every write passes: while a write
//! transaction holds it, its next statement waits for the task to be run again, behind every
//! other request on the runtime. So writes on SQLite run on a thread of their own
//! ([`WriterThread`]), where a transaction goes on the moment its statement is answered.
//!
//! A statement or transaction cut off midway (its request dropped) leaves nothing behind on
//! an SQLite connection: its thread finishes the statement, and a dropped transaction's
//! rollback is queued before whatever the next holder sends.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Either, Execute, Executor, SqlStr};
use tokio::sync::{Semaphore, SemaphorePermit, oneshot};

/// How long a statement waits for a connection before it fails.
const TURN_TIMEOUT: Duration = Duration::from_secs(30);

/// A set of connections to take one from, for a statement or a transaction.
#[derive(Clone, Debug)]
pub enum Connections {
    Pool(AnyPool),
    Held(Arc<Held>),
}

/// SQLite connections held by the store: taken in turn (first come, first served) and given
/// back without a check.
#[derive(Debug)]
pub struct Held {
    idle: Mutex<Vec<AnyConnection>>,
    turns: Semaphore,
    count: u32,
    /// Where statements on these connections run, when not where they are asked for.
    thread: Option<WriterThread>,
}

/// A thread that runs the work given to it (on a runtime of its own) and nothing else, until
/// the last holder lets go of it.
#[derive(Debug)]
pub struct WriterThread {
    runtime: tokio::runtime::Handle,
    _stop: oneshot::Sender<()>,
}

/// Keeps this thread, and the threads it starts (such as an SQLite connection's, when the
/// connection is opened here), on one core. The writer and its connection hand every
/// statement back and forth: on one core a hand-off is a switch between threads, across two
/// it wakes the other core, which costs more (much more in a virtual machine: on the 2-core
/// machine the benchmark runs on, about 400 against 500 purchases a second).
fn stay_on_one_core() {
    if let Some(core) = core_affinity::get_core_ids().and_then(|cores| cores.last().copied())
        && !core_affinity::set_for_current(core)
    {
        tracing::debug!("the writer thread could not be kept on one core");
    }
}

impl WriterThread {
    /// Starts the thread, which stays on one core; a connection opened in work it runs
    /// (see [`WriterThread::run`]) has its thread kept there too.
    pub fn start() -> std::io::Result<WriterThread> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("storefront-writer".to_owned())
            .spawn(move || {
                stay_on_one_core();
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
        match self.runtime.spawn(work).await {
            Ok(out) => Ok(out),
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            // The thread stopped: the store is gone.
            Err(_) => Err(sqlx::Error::PoolClosed),
        }
    }
}

/// One connection, for as long as this is held.
pub enum Conn<'a> {
    Pooled(PoolConnection<Any>),
    Held {
        conn: Option<AnyConnection>,
        from: &'a Held,
        _turn: SemaphorePermit<'a>,
    },
}

impl Connections {
    /// Holds `connections` itself; statements on them run where they are asked for, or on
    /// `thread`.
    pub fn held(connections: Vec<AnyConnection>, thread: Option<WriterThread>) -> Connections {
        let count = u32::try_from(connections.len()).unwrap_or(u32::MAX);
        Connections::Held(Arc::new(Held {
            turns: Semaphore::new(connections.len()),
            idle: Mutex::new(connections),
            count,
            thread,
        }))
    }

    /// The thread the statements on these connections run on, if not the caller's.
    pub fn thread(&self) -> Option<&WriterThread> {
        match self {
            Connections::Held(held) => held.thread.as_ref(),
            Connections::Pool(_) => None,
        }
    }

    /// A connection, waiting for one to be free.
    pub async fn get(&self) -> Result<Conn<'_>, sqlx::Error> {
        match self {
            Connections::Pool(pool) => Ok(Conn::Pooled(pool.acquire().await?)),
            Connections::Held(held) => {
                // As long as sqlx's pool would wait, then an error rather than a hang.
                let turn = tokio::time::timeout(TURN_TIMEOUT, held.turns.acquire())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?
                    .map_err(|_| sqlx::Error::PoolClosed)?;
                // A turn is given back only after its connection is, so one is idle now.
                let conn = held.lock().pop().ok_or(sqlx::Error::PoolClosed)?;
                Ok(Conn::Held {
                    conn: Some(conn),
                    from: held,
                    _turn: turn,
                })
            }
        }
    }

    /// Closes every connection, waiting for those in use to come back; afterwards `get` fails.
    pub async fn close(&self) {
        match self {
            Connections::Pool(pool) => pool.close().await,
            Connections::Held(held) => {
                // Every turn taken back: no connection is in use.
                let _all = held.turns.acquire_many(held.count).await;
                held.turns.close();
                let connections = std::mem::take(&mut *held.lock());
                for conn in connections {
                    if let Err(err) = conn.close().await {
                        tracing::warn!(error = %err, "closing a database connection");
                    }
                }
            }
        }
    }
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
            let mut conn = self.get().await?;
            conn.fetch_many(query).try_collect::<Vec<_>>().await
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
            self.get().await?.fetch_optional(query).await
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
        run: for<'a> fn(
            &'a mut AnyConnection,
            OwnedStatement,
        ) -> BoxFuture<'a, Result<T, sqlx::Error>>,
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
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<AnyConnection>> {
        // The list is only pushed to and popped from: a panic elsewhere cannot leave it torn.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Deref for Conn<'_> {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match self {
            Conn::Pooled(conn) => conn,
            // Present until dropped.
            Conn::Held { conn, .. } => conn.as_ref().unwrap_or_else(|| unreachable!()),
        }
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Conn::Pooled(conn) => conn,
            Conn::Held { conn, .. } => conn.as_mut().unwrap_or_else(|| unreachable!()),
        }
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        if let Conn::Held { conn, from, .. } = self
            && let Some(conn) = conn.take()
        {
            // Back before the turn is (the turn is a field, dropped after this).
            from.lock().push(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::any::install_default_drivers;

    use super::*;

    async fn one_connection() -> Connections {
        install_default_drivers();
        let conn = AnyConnection::connect("sqlite::memory:").await.unwrap();
        Connections::held(vec![conn], None)
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
        install_default_drivers();
        let conn = AnyConnection::connect("sqlite::memory:").await.unwrap();
        let connections = Connections::held(vec![conn], Some(WriterThread::start().unwrap()));
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
    async fn the_writer_thread_and_the_threads_it_starts_stay_on_one_core() {
        let thread = WriterThread::start().unwrap();
        let cores = thread
            .run(async {
                let own = core_affinity::get_core_ids().map(|cores| cores.len());
                // As sqlx starts an SQLite connection's thread, when it is opened there.
                let started = std::thread::spawn(|| core_affinity::get_core_ids().map(|c| c.len()))
                    .join()
                    .unwrap();
                (own, started)
            })
            .await
            .unwrap();
        assert_eq!(cores, (Some(1), Some(1)));
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
