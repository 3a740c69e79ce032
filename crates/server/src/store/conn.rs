//! A connection of the store's, on either database, and its transactions.
//!
//! SQLite's are the store's own ([`SqliteConn`]: a statement runs on the thread that asks);
//! PostgreSQL's are sqlx's. Both take the store's statements as sqlx's `Any` queries, so the
//! store writes each statement once: `sqlx::query(..).fetch_one(&mut *conn)`, on a connection
//! or inside a transaction ([`DbConn::begin`]).

use std::ops::{Deref, DerefMut};

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use sqlx::any::{AnyQueryResult, AnyRow, AnyStatement, AnyTransactionManager, AnyTypeInfo};
use sqlx::{
    Any, AnyConnection, AssertSqlSafe, Connection, Either, Execute, Executor, SqlSafeStr, SqlStr,
};
use sqlx_core::transaction::TransactionManager;

use super::sqlite::{Answer, SqliteConn};

/// One connection to the store's database.
#[derive(Debug)]
pub enum DbConn {
    /// SQLite, run where it is asked.
    Sqlite(SqliteConn),
    /// Any other database, through sqlx (PostgreSQL).
    Sqlx(AnyConnection),
}

impl DbConn {
    /// Starts a transaction, rolled back unless committed.
    /// On SQLite, inside a transaction already open (a group of writes committed together,
    /// see `connections`), it is a savepoint of that transaction.
    pub async fn begin(&mut self) -> Result<Tx<'_>, sqlx::Error> {
        let mut savepoint = false;
        match self {
            DbConn::Sqlite(conn) if conn.in_transaction() => {
                conn.execute_batch("SAVEPOINT storefront")?;
                savepoint = true;
            }
            DbConn::Sqlite(conn) => conn.execute_batch("BEGIN")?,
            DbConn::Sqlx(conn) => AnyTransactionManager::begin(conn, None).await?,
        }
        Ok(Tx {
            conn: self,
            open: true,
            savepoint,
        })
    }

    /// Starts a buy's transaction that takes the buyer's turn: it moves their count of buys,
    /// holding their row against every other buy of theirs until it ends, in one round trip
    /// with PostgreSQL's `BEGIN`. On SQLite it is a plain transaction: its one writer holds
    /// the whole database already.
    pub async fn begin_buyers_turn(&mut self, user_id: i64) -> Result<Tx<'_>, sqlx::Error> {
        let DbConn::Sqlx(conn) = self else {
            return self.begin().await;
        };
        // Both statements as one simple query (an id is a number: nothing to quote); a
        // failure of the second leaves the transaction to be rolled back, as a failed BEGIN.
        let begin = format!("BEGIN; UPDATE users SET buys = buys + 1 WHERE id = {user_id}");
        AnyTransactionManager::begin(conn, Some(AssertSqlSafe(begin).into_sql_str())).await?;
        Ok(Tx {
            conn: self,
            open: true,
            savepoint: false,
        })
    }

    /// Whether the database answers (PostgreSQL's may be lost; SQLite's never is).
    pub async fn ping(&mut self) -> Result<(), sqlx::Error> {
        match self {
            DbConn::Sqlite(_) => Ok(()),
            DbConn::Sqlx(conn) => conn.ping().await,
        }
    }

    /// Closes the connection, saying goodbye to the database where there is one to tell.
    pub async fn close(self) -> Result<(), sqlx::Error> {
        match self {
            DbConn::Sqlite(conn) => {
                drop(conn);
                Ok(())
            }
            DbConn::Sqlx(conn) => conn.close().await,
        }
    }
}

/// A transaction on a connection: committed by [`Tx::commit`], else rolled back when dropped
/// (at once on SQLite; on PostgreSQL before the connection's next statement, as sqlx does).
pub struct Tx<'c> {
    conn: &'c mut DbConn,
    open: bool,
    /// A savepoint in a transaction already open, not a transaction of its own (SQLite).
    savepoint: bool,
}

impl Tx<'_> {
    /// What ends the transaction on SQLite, kept (`commit`) or not.
    fn sqlite_end(&self, commit: bool) -> &'static str {
        match (self.savepoint, commit) {
            (false, true) => "COMMIT",
            (false, false) => "ROLLBACK",
            (true, true) => "RELEASE storefront",
            (true, false) => "ROLLBACK TO storefront; RELEASE storefront",
        }
    }
}

impl Tx<'_> {
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let end = self.sqlite_end(true);
        match &mut *self.conn {
            DbConn::Sqlite(conn) => conn.execute_batch(end)?,
            DbConn::Sqlx(conn) => AnyTransactionManager::commit(conn).await?,
        }
        // Only now: a commit that failed leaves the transaction to be rolled back.
        self.open = false;
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        let end = self.sqlite_end(false);
        match &mut *self.conn {
            DbConn::Sqlite(conn) => conn.execute_batch(end)?,
            DbConn::Sqlx(conn) => AnyTransactionManager::rollback(conn).await?,
        }
        self.open = false;
        Ok(())
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let end = self.sqlite_end(false);
        match &mut *self.conn {
            DbConn::Sqlite(conn) => {
                if let Err(err) = conn.execute_batch(end) {
                    tracing::warn!(error = %err, "rolling back an unfinished transaction");
                }
            }
            DbConn::Sqlx(conn) => AnyTransactionManager::start_rollback(conn),
        }
    }
}

impl Deref for Tx<'_> {
    type Target = DbConn;

    fn deref(&self) -> &DbConn {
        self.conn
    }
}

impl DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut DbConn {
        self.conn
    }
}

/// Runs `query` on an SQLite connection, to its end or its `limit`-th row.
fn run_sqlite<'q>(
    conn: &mut SqliteConn,
    mut query: impl Execute<'q, Any>,
    limit: Option<usize>,
) -> Result<Vec<Answer>, sqlx::Error> {
    let persistent = query.persistent();
    let values = query
        .take_arguments()
        .map_err(sqlx::Error::Encode)?
        .map(|arguments| arguments.values.0)
        .unwrap_or_default();
    conn.run(query.sql().as_str(), &values, persistent, limit)
}

impl<'c> Executor<'c> for &'c mut DbConn {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            DbConn::Sqlx(conn) => conn.fetch_many(query),
            DbConn::Sqlite(conn) => stream::once(async move { run_sqlite(conn, query, None) })
                .map_ok(|answers| stream::iter(answers.into_iter().map(Ok)))
                .try_flatten()
                .boxed(),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match self {
            DbConn::Sqlx(conn) => conn.fetch_optional(query),
            DbConn::Sqlite(conn) => Box::pin(async move {
                let answers = run_sqlite(conn, query, Some(1))?;
                Ok(answers.into_iter().find_map(Either::right))
            }),
        }
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            DbConn::Sqlx(conn) => conn.prepare_with(sql, parameters),
            // The store runs statements (kept prepared by the connection), never prepares them.
            DbConn::Sqlite(_) => Box::pin(async { Err(unsupported("preparing a statement")) }),
        }
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<sqlx::Describe<Any>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            DbConn::Sqlx(conn) => conn.describe(sql),
            DbConn::Sqlite(_) => Box::pin(async { Err(unsupported("describing a statement")) }),
        }
    }
}

fn unsupported(what: &str) -> sqlx::Error {
    sqlx::Error::AnyDriverError(format!("{what} is not supported on the store's SQLite").into())
}

#[cfg(test)]
mod tests {
    use super::super::sqlite::Place;
    use super::*;

    fn sqlite() -> DbConn {
        DbConn::Sqlite(SqliteConn::open(&Place::of_url("sqlite::memory:").unwrap()).unwrap())
    }

    async fn count(conn: &mut DbConn) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(conn)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_transaction_commits_or_is_rolled_back() {
        let mut conn = sqlite();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES ($1)")
            .bind(1_i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(count(&mut conn).await, 1);

        let mut tx = conn.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(count(&mut conn).await, 1);

        {
            let mut tx = conn.begin().await.unwrap();
            sqlx::query("INSERT INTO t VALUES (3)")
                .execute(&mut *tx)
                .await
                .unwrap();
            // Dropped without a commit.
        }
        assert_eq!(count(&mut conn).await, 1);
        // And the connection is out of the transaction: a new one begins.
        conn.begin().await.unwrap().commit().await.unwrap();
    }

    #[tokio::test]
    async fn inside_an_open_transaction_one_is_a_savepoint_rolled_back_alone() {
        let mut conn = sqlite();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        // As a group of writes holds one open (see `group_commit`).
        let DbConn::Sqlite(sqlite) = &conn else {
            unreachable!()
        };
        sqlite.execute_batch("BEGIN").unwrap();
        let mut kept = conn.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut *kept)
            .await
            .unwrap();
        kept.commit().await.unwrap();
        {
            let mut dropped = conn.begin().await.unwrap();
            sqlx::query("INSERT INTO t VALUES (2)")
                .execute(&mut *dropped)
                .await
                .unwrap();
        }
        let mut undone = conn.begin().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (3)")
            .execute(&mut *undone)
            .await
            .unwrap();
        undone.rollback().await.unwrap();
        let DbConn::Sqlite(sqlite) = &conn else {
            unreachable!()
        };
        assert!(sqlite.in_transaction(), "the outer one is still open");
        sqlite.execute_batch("COMMIT").unwrap();
        assert_eq!(count(&mut conn).await, 1);
    }

    #[tokio::test]
    async fn the_store_reads_rows_as_from_sqlx() {
        let mut conn = sqlite();
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT 1, 'a' UNION ALL SELECT 2, 'b'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(rows, [(1, "a".to_owned()), (2, "b".to_owned())]);
        let none: Option<i64> = sqlx::query_scalar("SELECT 1 WHERE 0")
            .fetch_optional(&mut conn)
            .await
            .unwrap();
        assert_eq!(none, None);
        let done = sqlx::query("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2)")
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 2);
    }
}
