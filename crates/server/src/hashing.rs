//! Password hashing on a bounded pool. Argon2 takes about 19 MiB and tens of milliseconds of
//! a core for each password: hashed on as many threads as sign-ins arrive, a burst of them
//! takes gigabytes (each thread's allocator keeps what it had) and every core. Here a few
//! threads of their own (one per core) hash one password at a time each, each reusing its
//! memory, behind a short queue; past the queue the caller is told to come back
//! (`503` with `Retry-After`) instead of memory growing with the requests in flight.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::credentials::{HashError, hash_password, verify_password};

/// Passwords waiting, for each hashing thread.
pub const QUEUE_PER_THREAD: usize = 32;

/// Work for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// Why a password was not hashed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PoolError {
    /// Every thread is hashing and the queue is full: come back in a moment.
    #[error("every password hasher is busy")]
    Busy,
    /// The pool's threads are gone (the server is stopping).
    #[error("the password hashers stopped")]
    Stopped,
}

/// The pool: its queue's sending side. The threads end when the last handle is dropped.
#[derive(Clone, Debug)]
pub struct HashPool {
    jobs: SyncSender<Job>,
}

impl HashPool {
    /// `workers` threads behind a queue of `queue` passwords.
    pub fn new(workers: usize, queue: usize) -> HashPool {
        let (jobs, waiting) = sync_channel::<Job>(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for i in 0..workers.max(1) {
            let waiting = waiting.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&waiting))
                .unwrap_or_else(|err| panic!("cannot start a password hashing thread: {err}"));
        }
        HashPool { jobs }
    }

    /// One thread per core, and a queue of 32 passwords per thread (about a second of
    /// hashing): the memory is the threads', whatever the queue holds, and a queued sign-in
    /// is answered well within a client's patience.
    pub fn for_this_machine() -> HashPool {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        HashPool::new(cores, cores * QUEUE_PER_THREAD)
    }

    /// Whether `password` is the one `hash` holds.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, PoolError> {
        self.run(move || verify_password(&password, &hash)).await
    }

    /// A new argon2id hash of `password`.
    pub async fn hash(&self, password: String) -> Result<Result<String, HashError>, PoolError> {
        self.run(move || hash_password(&password)).await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let (done, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The caller may have gone (its request dropped): nothing to tell then.
            let _ = done.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => answer.await.map_err(|_| PoolError::Stopped),
            Err(TrySendError::Full(_)) => Err(PoolError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(PoolError::Stopped),
        }
    }
}

/// A hashing thread: takes the next password until the pool is dropped.
fn work(waiting: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let waiting = waiting.lock().unwrap_or_else(|p| p.into_inner());
            waiting.recv()
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_a_full_queue_says_busy_at_once() {
        let pool = HashPool::new(1, 1);
        let hash = pool.hash("correct horse".into()).await.unwrap().unwrap();
        assert!(
            pool.verify("correct horse".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(!pool.verify("wrong".into(), hash.clone()).await.unwrap());
        // One hashing, one queued: the third is told to come back, without waiting.
        let (hold, held) = std::sync::mpsc::channel::<()>();
        let blocking = pool.clone();
        let blocked = tokio::spawn(async move { blocking.run(move || held.recv().ok()).await });
        // The thread has taken the blocking job once the queue has room again.
        let queued = loop {
            let pool = pool.clone();
            let queued = tokio::spawn(async move { pool.run(|| 7).await });
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            if !queued.is_finished() {
                break queued;
            }
            assert_eq!(queued.await.unwrap(), Err(PoolError::Busy));
        };
        assert_eq!(pool.run(|| 8).await, Err(PoolError::Busy));
        hold.send(()).unwrap();
        assert_eq!(blocked.await.unwrap(), Ok(Some(())));
        assert_eq!(queued.await.unwrap(), Ok(7));
        assert_eq!(pool.run(|| 9).await, Ok(9), "room again");
    }
}
