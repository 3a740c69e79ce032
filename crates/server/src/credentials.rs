//! Credentials: argon2id password hashes, opaque bearer tokens stored hashed, and the limit
//! on failed sign-ins per email. No HTTP here; `auth` answers the requests.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Sessions last this long.
pub const SESSION_LIFETIME_SECS: i64 = 30 * 24 * 60 * 60;
/// Failed attempts allowed per email within `FAILURE_WINDOW`.
const MAX_FAILURES: usize = 10;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("cannot hash a password: {0}")]
    Hash(String),
    #[error("the hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| HashError::Hash(err.to_string()))
}

/// Hashes passwords off the async threads (argon2 is deliberately slow).
pub async fn hash_passwords(passwords: Vec<String>) -> Result<Vec<String>, HashError> {
    tokio::task::spawn_blocking(move || passwords.iter().map(|p| hash_password(p)).collect())
        .await?
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The hash of a password nobody has, checked when the email is unknown so that unknown
/// emails take as long to refuse as wrong passwords.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    // A hash that verifies nothing; if hashing failed, an unparsable one verifies nothing too.
    DECOY.get_or_init(|| hash_password("no account has this password").unwrap_or_default())
}

/// A new bearer token: 256 random bits, URL-safe base64.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens are stored as their SHA-256, so a copy of the database signs nobody in.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Counts failed sign-ins per email in a sliding one-minute window.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// `Err(seconds to wait)` when the email has used up its attempts.
    pub fn check(&self, email: &str, now: Instant) -> Result<(), u64> {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = failures.get_mut(email) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= FAILURE_WINDOW)
        {
            times.pop_front();
        }
        if times.is_empty() {
            failures.remove(email);
            return Ok(());
        }
        if times.len() >= MAX_FAILURES {
            let oldest = times[0];
            let wait = FAILURE_WINDOW.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        Ok(())
    }

    pub fn record_failure(&self, email: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Bound the memory an attacker can make us hold.
        if failures.len() > 100_000 {
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < FAILURE_WINDOW)
            });
        }
        failures.entry(email.to_owned()).or_default().push_back(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("Correct horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn tokens_are_long_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn the_eleventh_failure_within_a_minute_is_refused() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.check("a@b.c", start).is_ok());
            limiter.record_failure("a@b.c", start);
        }
        assert_eq!(limiter.check("a@b.c", start), Err(60));
        assert!(limiter.check("other@b.c", start).is_ok());
        let later = start + FAILURE_WINDOW;
        assert!(limiter.check("a@b.c", later).is_ok());
    }
}
