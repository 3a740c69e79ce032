//! Checkpoints of a SQLite file's log, on a thread of their own.
//!
//! In WAL mode a commit appends the pages it changed to the log, and from time to time the
//! log's pages are copied back into the database file (a checkpoint, which also waits for
//! the disk). SQLite does that itself in the commit that takes the log past a thousand pages,
//! on the connection that commits: here the one writer, every write of the server waiting
//! meanwhile (an eighth of the writer's time under load, profiled). So this thread
//! checkpoints, on a connection of its own, after a commit, at most once every [`PAUSE`]:
//! passive checkpoints, which wait for neither the writer nor the readers and copy what no
//! reader still needs.
//!
//! Under steady writes such a checkpoint never quite catches up with the log, and the log
//! starts again from its beginning only once a checkpoint has copied all of it with nothing
//! written since. So the writer still checkpoints after its commits ([`after_commit`]): past
//! [`WRITER_PAGES`] (16 MiB) what is left, as SQLite's own would (by then this thread has
//! copied most of the log), unless this thread's checkpoint is under way; past
//! [`CATCH_UP_PAGES`] it waits for that checkpoint to end first, so that its own copies
//! everything and the next commit starts the log again from its beginning. Whatever this
//! thread keeps up with, the log stays within about that bound (longer only while a reader
//! still reads from it: no checkpoint waits for the readers).
//!
//! A checkpoint syncs the log to the disk first (`synchronous = NORMAL`), so a commit is on
//! the disk within about a [`PAUSE`] of it, where SQLite's own checkpoints left it to the next
//! thousand pages.

use std::cell::Cell;
use std::ffi::c_int;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::hooks::{CheckpointMode, Wal};

use super::sqlite::{Place, SqliteConn};

/// The least time between two checkpoints of this thread.
const PAUSE: Duration = Duration::from_millis(100);

/// The log's size in pages past which the writer checkpoints what is left, without waiting
/// (SQLite's own `wal_autocheckpoint` does so past 1,000).
pub const WRITER_PAGES: i32 = 4_000;

/// The log's size in pages past which the writer's checkpoint waits for this thread's to end,
/// so that it copies the whole log (but what a reader still reads) and the next commit starts
/// the log again from its beginning: the log's bound, and one commit's pages more.
pub const CATCH_UP_PAGES: i32 = WRITER_PAGES * 3 / 2;

thread_local! {
    /// How many pages the log held after the last commit of this thread's connection (the
    /// writer's thread: one writing connection each).
    static LOG_PAGES: Cell<c_int> = const { Cell::new(0) };
}

/// The writer's WAL hook, after each of its commits, told how many pages the log holds (in
/// place of `wal_autocheckpoint`): past [`WRITER_PAGES`], what is left is checkpointed without
/// waiting (busy, as when this thread's checkpoint is under way, it is left to the next
/// commit); past [`CATCH_UP_PAGES`], [`Checkpoints::bound_log`] checkpoints. The commit is
/// done whatever comes of it.
pub fn after_commit(wal: &Wal, pages: c_int) -> rusqlite::Result<()> {
    LOG_PAGES.set(pages);
    if (WRITER_PAGES..CATCH_UP_PAGES).contains(&pages) {
        match wal.checkpoint_v2(CheckpointMode::PASSIVE) {
            Err(err) if err.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {}
            Err(err) => tracing::warn!(error = %err, pages, "checkpointing the database's log"),
            Ok(_) => {}
        }
    }
    Ok(())
}

/// The thread that checkpoints one database file, told of each commit.
#[derive(Debug)]
pub struct Checkpoints {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    /// Held through a checkpoint, by this thread or the writer (SQLite would answer the
    /// second one busy at once, without waiting).
    checkpointing: Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    /// Something was committed since the last checkpoint began.
    wrote: bool,
    stop: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Two flags, each set or cleared whole: a panic elsewhere cannot leave them torn.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Checkpoints {
    /// Starts checkpointing the file at `place`.
    pub fn start(place: &Place) -> Result<Checkpoints, sqlx::Error> {
        let conn = SqliteConn::open(place)?;
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("storefront-checkpoint".to_owned())
            .spawn({
                let shared = Arc::clone(&shared);
                move || checkpoint_while_open(&conn, &shared)
            })
            .map_err(sqlx::Error::Io)?;
        Ok(Checkpoints {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// A commit: the log has pages to copy.
    pub fn wrote(&self) {
        let mut state = self.shared.lock();
        if !state.wrote {
            state.wrote = true;
            self.shared.changed.notify_one();
        }
    }

    /// After a commit of the writer, on its thread: past [`CATCH_UP_PAGES`], once this
    /// thread's checkpoint is done (a few milliseconds), the writer checkpoints the log whole
    /// (but what a reader still reads), and its next commit starts the log again.
    pub fn bound_log(&self, writer: &SqliteConn) {
        if LOG_PAGES.get() < CATCH_UP_PAGES {
            return;
        }
        let _alone = self
            .shared
            .checkpointing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Err(err) = writer.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::warn!(error = %err, "catching up with the database's log");
        }
        LOG_PAGES.set(0);
    }

    /// Stops the thread and waits for it (its connection closed), after the checkpoint it
    /// may be in.
    pub async fn stop(&self) {
        self.tell_stop();
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread
            && let Ok(Err(panic)) = tokio::task::spawn_blocking(move || thread.join()).await
        {
            std::panic::resume_unwind(panic);
        }
    }

    fn tell_stop(&self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
    }
}

impl Drop for Checkpoints {
    /// The thread ends on its own (not waited for).
    fn drop(&mut self) {
        self.tell_stop();
    }
}

fn checkpoint_while_open(conn: &SqliteConn, shared: &Shared) {
    loop {
        let mut state = shared
            .changed
            .wait_while(shared.lock(), |state| !state.wrote && !state.stop)
            .unwrap_or_else(PoisonError::into_inner);
        if state.stop {
            return;
        }
        state.wrote = false;
        drop(state);
        let alone = shared
            .checkpointing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Err(err) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::warn!(error = %err, "checkpointing the database's log");
        }
        drop(alone);
        let (state, _) = shared
            .changed
            .wait_timeout_while(shared.lock(), PAUSE, |state| !state.stop)
            .unwrap_or_else(PoisonError::into_inner);
        if state.stop {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file's path, its writer (a log, no checkpoints of its own, a table `t`), and the
    /// thread checkpointing it.
    fn writer_that_never_checkpoints(
        dir: &tempfile::TempDir,
    ) -> (std::path::PathBuf, SqliteConn, Checkpoints) {
        let path = dir.path().join("shop.db");
        let place = Place::File(path.clone());
        let writer = SqliteConn::open(&place).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
                 CREATE TABLE t (x BLOB);",
            )
            .unwrap();
        let checkpoints = Checkpoints::start(&place).unwrap();
        (path, writer, checkpoints)
    }

    fn file_size(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    #[tokio::test]
    async fn commits_reach_the_database_file_though_the_writer_never_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut writer, checkpoints) = writer_that_never_checkpoints(&dir);
        let before = file_size(&path);
        // About 200 pages, all in the log until a checkpoint copies them.
        for _ in 0..100 {
            writer
                .run("INSERT INTO t VALUES (zeroblob(8000))", &[], true, None)
                .unwrap();
            checkpoints.wrote();
        }
        let waited = std::time::Instant::now();
        while file_size(&path) < before + 100 * 8000 {
            assert!(
                waited.elapsed() < Duration::from_secs(10),
                "the file is still {} bytes",
                file_size(&path)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        checkpoints.stop().await;
    }

    #[tokio::test]
    async fn without_commits_it_does_not_checkpoint_and_it_stops_when_told() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut writer, checkpoints) = writer_that_never_checkpoints(&dir);
        let before = file_size(&path);
        writer
            .run("INSERT INTO t VALUES (zeroblob(80000))", &[], true, None)
            .unwrap();
        // Not told of the commit: the file stays as it was.
        tokio::time::sleep(PAUSE * 3).await;
        assert_eq!(file_size(&path), before);
        checkpoints.stop().await;
        assert!(checkpoints.thread.lock().unwrap().is_none());
        // Told after it stopped: nothing happens, nothing fails.
        checkpoints.wrote();
    }
}
