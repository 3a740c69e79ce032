//! Who a session token belongs to, kept for a moment: every request names its session, and
//! a buyer's purchase is three requests in a fraction of a second, so reading the session
//! and its user from the database each time is most of what those requests read.
//!
//! What may change a kept answer (a session ended, a password reset, the catalog changing a
//! user's role or disabling them) forgets every kept answer once it is committed, on this
//! server at once and, on PostgreSQL, on the others as soon as they hear of it (the same
//! `NOTIFY` channel as orders' changes). An answer is kept for at most [`FRESH_FOR`] in any
//! case, so that a server that missed the news (its listener reconnecting) is late by no
//! more than that.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use storefront_contract::User;

use crate::time::Timestamp;

/// The longest an answer is kept.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// The most answers kept; past it the oldest are forgotten all at once (a burst of new
/// sessions costs a read each, not memory).
const MOST: usize = 10_000;

/// A session's user, whether the catalog disabled them, and until when the session lasts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionUser {
    pub user: User,
    pub disabled: bool,
    pub expires_at: Timestamp,
}

#[derive(Debug, Default)]
pub(super) struct Sessions {
    kept: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    answers: HashMap<String, (SessionUser, Instant)>,
    /// Counts what forgot every answer: a read begun before one of them is not kept.
    generation: u64,
}

/// A read of the database about to be made, and what was forgotten before it began.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reading(u64);

impl Sessions {
    /// The kept answer for `token_hash`, if it is fresh at `now` and the session is not over
    /// at `at` (seconds).
    pub(super) fn get(&self, token_hash: &str, now: Instant, at: Timestamp) -> Option<SessionUser> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let (answer, read_at) = kept.answers.get(token_hash)?;
        (now.saturating_duration_since(*read_at) < FRESH_FOR && answer.expires_at > at)
            .then(|| answer.clone())
    }

    /// Call before reading the database for a token.
    pub(super) fn reading(&self) -> Reading {
        Reading(
            self.kept
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .generation,
        )
    }

    /// Keeps what the read begun at `reading` found, unless something was forgotten since
    /// (the read may have seen what was about to change).
    pub(super) fn keep(
        &self,
        reading: Reading,
        token_hash: &str,
        answer: SessionUser,
        now: Instant,
    ) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.generation != reading.0 {
            return;
        }
        if kept.answers.len() >= MOST {
            kept.answers.clear();
        }
        kept.answers.insert(token_hash.to_owned(), (answer, now));
    }

    /// Forgets every kept answer (after a change to sessions or users is committed).
    pub(super) fn forget_all(&self) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.generation += 1;
        kept.answers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use storefront_contract::Role;

    fn ann(expires_at: Timestamp) -> SessionUser {
        SessionUser {
            user: User {
                id: 1,
                email: "ann@example.com".into(),
                name: "Ann".into(),
                role: Role::Customer,
            },
            disabled: false,
            expires_at,
        }
    }

    #[test]
    fn an_answer_is_kept_for_a_moment_and_never_past_its_sessions_end() {
        let sessions = Sessions::default();
        let start = Instant::now();
        let reading = sessions.reading();
        sessions.keep(reading, "t", ann(100), start);
        assert_eq!(sessions.get("t", start, 50), Some(ann(100)));
        assert_eq!(sessions.get("other", start, 50), None);
        let almost = start + FRESH_FOR - Duration::from_millis(1);
        assert_eq!(sessions.get("t", almost, 50), Some(ann(100)));
        assert_eq!(sessions.get("t", start + FRESH_FOR, 50), None, "stale");
        assert_eq!(sessions.get("t", start, 100), None, "the session is over");
    }

    #[test]
    fn forgetting_drops_every_answer_and_what_a_read_begun_before_it_found() {
        let sessions = Sessions::default();
        let now = Instant::now();
        sessions.keep(sessions.reading(), "kept", ann(100), now);
        let before = sessions.reading();
        sessions.forget_all();
        assert_eq!(sessions.get("kept", now, 50), None);
        // A read that began before the change may have seen the old state: not kept.
        sessions.keep(before, "raced", ann(100), now);
        assert_eq!(sessions.get("raced", now, 50), None);
        // One begun after it is.
        sessions.keep(sessions.reading(), "after", ann(100), now);
        assert_eq!(sessions.get("after", now, 50), Some(ann(100)));
    }

    #[test]
    fn the_answers_kept_are_bounded() {
        let sessions = Sessions::default();
        let now = Instant::now();
        for i in 0..MOST + 5 {
            sessions.keep(sessions.reading(), &i.to_string(), ann(100), now);
        }
        let kept = sessions.kept.lock().unwrap().answers.len();
        assert!(kept <= MOST, "{kept}");
        assert_eq!(
            sessions.get(&(MOST + 4).to_string(), now, 50),
            Some(ann(100))
        );
    }
}
