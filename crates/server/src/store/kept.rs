//! Answers kept for a moment: what nearly every request of a purchase reads and almost never
//! changes (who a session token belongs to, what an event on sale is), so that a buyer's
//! three requests in a fraction of a second do not read it from the database each time.
//!
//! What may change a kept answer forgets every answer of its kind once it is committed, on
//! this server at once and, on PostgreSQL, on the others as soon as they hear of it (see
//! [`super::notices`]); a read begun before such a change is not kept. An answer is kept for
//! at most [`FRESH_FOR`] in any case, so that a server that missed the news (its listener
//! reconnecting, or the change made by another process on SQLite) is late by no more than
//! that.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest an answer is kept.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// The most answers kept of a kind; past it they are forgotten all at once (a burst of new
/// keys costs a read each, not memory).
const MOST: usize = 10_000;

#[derive(Debug)]
pub(super) struct Kept<K, V> {
    inner: Mutex<Inner<K, V>>,
}

#[derive(Debug)]
struct Inner<K, V> {
    answers: HashMap<K, (V, Instant)>,
    /// Counts what forgot every answer: a read begun before one of them is not kept.
    generation: u64,
}

impl<K, V> Default for Kept<K, V> {
    fn default() -> Self {
        Kept {
            inner: Mutex::new(Inner {
                answers: HashMap::new(),
                generation: 0,
            }),
        }
    }
}

/// A read of the database about to be made, and what was forgotten before it began.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reading(u64);

impl<K: Hash + Eq, V: Clone> Kept<K, V> {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The answer kept for `key`, if it is fresh at `now`.
    pub(super) fn get<Q>(&self, key: &Q, now: Instant) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let inner = self.inner();
        let (answer, read_at) = inner.answers.get(key)?;
        (now.saturating_duration_since(*read_at) < FRESH_FOR).then(|| answer.clone())
    }

    /// Call before reading the database for a key.
    pub(super) fn reading(&self) -> Reading {
        Reading(self.inner().generation)
    }

    /// Keeps what the read begun at `reading` found, unless something was forgotten since
    /// (the read may have seen what was about to change).
    pub(super) fn keep(&self, reading: Reading, key: K, answer: V, now: Instant) {
        let mut inner = self.inner();
        if inner.generation != reading.0 {
            return;
        }
        if inner.answers.len() >= MOST {
            inner.answers.clear();
        }
        inner.answers.insert(key, (answer, now));
    }

    /// Forgets every kept answer (after a change to what they say is committed).
    pub(super) fn forget_all(&self) {
        let mut inner = self.inner();
        inner.generation += 1;
        inner.answers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_kept_for_a_moment() {
        let kept = Kept::<String, i64>::default();
        let start = Instant::now();
        kept.keep(kept.reading(), "t".to_owned(), 7, start);
        assert_eq!(kept.get("t", start), Some(7));
        assert_eq!(kept.get("other", start), None);
        let almost = start + FRESH_FOR - Duration::from_millis(1);
        assert_eq!(kept.get("t", almost), Some(7));
        assert_eq!(kept.get("t", start + FRESH_FOR), None, "stale");
    }

    #[test]
    fn forgetting_drops_every_answer_and_what_a_read_begun_before_it_found() {
        let kept = Kept::<i64, &str>::default();
        let now = Instant::now();
        kept.keep(kept.reading(), 1, "kept", now);
        let before = kept.reading();
        kept.forget_all();
        assert_eq!(kept.get(&1, now), None);
        // A read that began before the change may have seen the old state: not kept.
        kept.keep(before, 2, "raced", now);
        assert_eq!(kept.get(&2, now), None);
        // One begun after it is.
        kept.keep(kept.reading(), 3, "after", now);
        assert_eq!(kept.get(&3, now), Some("after"));
    }

    #[test]
    fn the_answers_kept_are_bounded() {
        let kept = Kept::<usize, ()>::default();
        let now = Instant::now();
        for i in 0..MOST + 5 {
            kept.keep(kept.reading(), i, (), now);
        }
        let count = kept.inner().answers.len();
        assert!(count <= MOST, "{count}");
        assert_eq!(kept.get(&(MOST + 4), now), Some(()));
    }
}
