//! Group commit on SQLite's one writing connection.
//!
//! Every write on SQLite passes one connection, and each commit appends every page it
//! changed to the log: under load most of a write's cost is its commit, and the same few
//! pages (a counter, the tail of a table and its indexes) are appended again by every one.
//! So the writes that are ready to run together share one transaction: the first to take the
//! connection begins it, each keeps its own atomicity in a savepoint (see
//! [`DbConn::begin`](super::DbConn::begin)), and the group is committed once the writer has
//! run every write that was ready (or the group is full). None is answered before its
//! group's commit: a write's task waits for the commit of every group it wrote in
//! ([`committed`]), and if that commit fails, every write of the group fails, as each would
//! alone.
//!
//! A holder that cannot wait (not in [`committed`]: a tool or a test taking the connection
//! directly) commits the group when it gives the connection back.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::checkpoint::Checkpoints;
use super::sqlite::SqliteConn;

/// The most writes one commit takes: past it the group is committed though others wait, so
/// that the first of a long queue is not kept waiting for the last.
const GROUP_MOST: usize = 16;

/// The writing connection's group of writes, while one is open.
#[derive(Debug, Default)]
pub struct Groups {
    open: Mutex<Option<Open>>,
    /// Groups committed (or failed to be) so far.
    commits: AtomicU64,
    /// Told of every commit, on a file: the log is copied back beside the writer.
    checkpoints: Option<Checkpoints>,
}

#[derive(Debug)]
struct Open {
    group: Arc<Group>,
    holders: usize,
}

/// One group's commit: unknown until it is done, then whether it was.
#[derive(Debug)]
pub struct Group {
    outcome: watch::Sender<Option<Result<(), Arc<str>>>>,
}

tokio::task_local! {
    /// The groups the writes of a task in [`committed`] were part of.
    static JOINED: RefCell<Vec<Arc<Group>>>;
}

impl Group {
    fn new() -> Group {
        Group {
            outcome: watch::Sender::new(None),
        }
    }

    fn end(&self, outcome: Result<(), Arc<str>>) {
        self.outcome.send_replace(Some(outcome));
    }

    /// Waits for the group's commit.
    async fn committed(&self) -> Result<(), sqlx::Error> {
        let mut outcome = self.outcome.subscribe();
        let done = outcome
            .wait_for(Option::is_some)
            .await
            .map_err(|_| sqlx::Error::WorkerCrashed)?
            .clone();
        match done {
            Some(Ok(())) => Ok(()),
            Some(Err(why)) => Err(sqlx::Error::AnyDriverError(
                format!("the writes committed together with this one failed: {why}").into(),
            )),
            None => unreachable!("waited for an outcome"),
        }
    }
}

/// Runs `work`, then waits until every group its writes were part of is committed; fails if
/// one was not.
pub async fn committed<F: Future>(work: F) -> Result<F::Output, sqlx::Error> {
    JOINED
        .scope(RefCell::new(Vec::new()), async move {
            let out = work.await;
            let joined = JOINED.with(|joined| std::mem::take(&mut *joined.borrow_mut()));
            for group in joined {
                group.committed().await?;
            }
            Ok(out)
        })
        .await
}

impl Groups {
    /// The writer's groups; its commits told to `checkpoints`.
    pub fn new(checkpoints: Option<Checkpoints>) -> Groups {
        Groups {
            checkpoints,
            ..Groups::default()
        }
    }

    /// Stops checkpointing, if this writer's log is checkpointed (the writer is closed).
    pub async fn stop_checkpoints(&self) {
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.stop().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Open>> {
        // Only swapped whole under the lock: a panic elsewhere cannot leave it torn.
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The connection is taken: its holder joins the open group, or begins one (then
    /// `began`: someone must see that it is committed, see [`Groups::commit`]).
    pub fn join(&self, conn: &SqliteConn) -> Result<Joined, sqlx::Error> {
        let mut open = self.lock();
        match open.as_mut() {
            Some(group) if conn.in_transaction() => {
                group.holders += 1;
                return Ok(Joined {
                    group: Arc::clone(&group.group),
                    began: false,
                });
            }
            // SQLite ended the transaction itself (it does on some errors, such as a full
            // disk): what the group wrote is gone.
            Some(_) => {
                if let Some(lost) = open.take() {
                    lost.group
                        .end(Err("SQLite rolled the transaction back".into()));
                }
            }
            None => {}
        }
        conn.execute_batch("BEGIN")?;
        let group = Arc::new(Group::new());
        *open = Some(Open {
            group: Arc::clone(&group),
            holders: 1,
        });
        Ok(Joined { group, began: true })
    }

    /// The connection is given back by a holder of `group`: the group is committed now if
    /// it is full or the holder cannot wait for a later commit.
    pub fn leave(&self, conn: &SqliteConn, group: Arc<Group>) {
        let waits = JOINED
            .try_with(|joined| {
                let mut joined = joined.borrow_mut();
                if !joined.iter().any(|known| Arc::ptr_eq(known, &group)) {
                    joined.push(Arc::clone(&group));
                }
            })
            .is_ok();
        let mut open = self.lock();
        let full = open.as_ref().is_some_and(|open| open.holders >= GROUP_MOST);
        if !waits || full {
            self.commit_now(conn, &mut open);
        }
    }

    /// Commits the open group, if any (the caller has every turn: no holder will).
    pub fn commit_open(&self, conn: &SqliteConn) {
        self.commit_now(conn, &mut self.lock());
    }

    /// How many groups were committed (or failed to be) so far.
    #[cfg(test)]
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    fn commit_now(&self, conn: &SqliteConn, open: &mut Option<Open>) {
        if open.is_some() {
            self.commits.fetch_add(1, Ordering::Relaxed);
        }
        if commit(conn, open)
            && let Some(checkpoints) = &self.checkpoints
        {
            checkpoints.bound_log(conn);
            checkpoints.wrote();
        }
    }

    /// Commits `group` if it is still open (the caller has the connection's turn).
    pub fn commit(&self, conn: &SqliteConn, group: &Arc<Group>) {
        let mut open = self.lock();
        if open
            .as_ref()
            .is_some_and(|open| Arc::ptr_eq(&open.group, group))
        {
            self.commit_now(conn, &mut open);
        }
    }
}

/// A holder's group, and whether the holder began it.
pub struct Joined {
    pub group: Arc<Group>,
    pub began: bool,
}

/// Commits the open group and tells its holders; whether something was committed.
fn commit(conn: &SqliteConn, open: &mut Option<Open>) -> bool {
    let Some(open) = open.take() else {
        return false;
    };
    let outcome = conn.execute_batch("COMMIT").map_err(|err| {
        tracing::error!(error = %err, "committing a group of writes");
        if conn.in_transaction()
            && let Err(err) = conn.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %err, "rolling back a group of writes");
        }
        Arc::from(err.to_string())
    });
    let committed = outcome.is_ok();
    open.group.end(outcome);
    committed
}

#[cfg(test)]
mod tests {
    use super::super::sqlite::Place;
    use super::*;

    fn conn() -> SqliteConn {
        let conn = SqliteConn::open(&Place::of_url("sqlite::memory:").unwrap()).unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        conn
    }

    fn count(conn: &mut SqliteConn) -> i64 {
        let answers = conn
            .run("SELECT COUNT(*) FROM t", &[], false, None)
            .unwrap();
        let row = answers[0].as_ref().right().unwrap();
        sqlx::Row::get(row, 0)
    }

    #[tokio::test]
    async fn writes_share_a_group_until_it_is_committed_and_wait_for_it() {
        let groups = Groups::default();
        let mut conn = conn();
        let first = committed(async {
            let first = groups.join(&conn).unwrap();
            assert!(first.began);
            conn.execute_batch("INSERT INTO t VALUES (1)").unwrap();
            groups.leave(&conn, Arc::clone(&first.group));
            assert!(conn.in_transaction(), "left open for the next");
            let second = groups.join(&conn).unwrap();
            assert!(!second.began);
            assert!(Arc::ptr_eq(&first.group, &second.group), "one group");
            conn.execute_batch("INSERT INTO t VALUES (2)").unwrap();
            groups.leave(&conn, Arc::clone(&second.group));
            // As the writer does once every ready write has run.
            groups.commit(&conn, &first.group);
            assert!(!conn.in_transaction());
            first.group
        })
        .await
        .unwrap();
        assert!(first.committed().await.is_ok());
        assert_eq!(count(&mut conn), 2);
        // Committing it again does nothing, nor commits a later group.
        let later = groups.join(&conn).unwrap();
        groups.commit(&conn, &first);
        assert!(conn.in_transaction());
        groups.commit(&conn, &later.group);
    }

    #[tokio::test]
    async fn a_holder_that_cannot_wait_commits_at_once() {
        let groups = Groups::default();
        let conn = conn();
        let joined = groups.join(&conn).unwrap();
        groups.leave(&conn, Arc::clone(&joined.group));
        assert!(!conn.in_transaction());
        assert!(joined.group.committed().await.is_ok());
    }

    #[tokio::test]
    async fn a_full_group_is_committed_at_once() {
        let groups = Groups::default();
        let conn = conn();
        committed(async {
            for n in 1..=GROUP_MOST {
                let joined = groups.join(&conn).unwrap();
                assert_eq!(joined.began, n == 1);
                groups.leave(&conn, joined.group);
                assert_eq!(conn.in_transaction(), n < GROUP_MOST, "after {n}");
            }
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_failed_commit_fails_every_write_of_the_group() {
        let groups = Groups::default();
        let mut conn = conn();
        let result = committed(async {
            let joined = groups.join(&conn).unwrap();
            conn.execute_batch("INSERT INTO t VALUES (1)").unwrap();
            // As SQLite does on a full disk: the transaction is gone.
            conn.execute_batch("ROLLBACK").unwrap();
            groups.leave(&conn, Arc::clone(&joined.group));
            groups.commit(&conn, &joined.group);
        })
        .await;
        let err = result.unwrap_err().to_string();
        assert!(err.contains("committed together"), "{err}");
        assert_eq!(count(&mut conn), 0);
    }
}
