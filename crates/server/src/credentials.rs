//! Credentials: argon2id password hashes, opaque bearer tokens stored hashed, the limit on
//! failed sign-ins per email, and the secrets of ticket pages. No HTTP here; `http::auth`
//! answers the requests.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::time::Timestamp;

/// A new ticket page secret: 128 random bits, URL-safe base64.
pub fn new_ticket_secret() -> String {
    random_text::<16>()
}

/// `N` random bytes as URL-safe base64.
fn random_text<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Sessions last this long.
pub const SESSION_LIFETIME_SECS: i64 = 30 * 24 * 60 * 60;
/// Failed attempts allowed per email within `FAILURE_WINDOW_SECS`.
pub const MAX_FAILURES: i64 = 10;
pub const FAILURE_WINDOW_SECS: i64 = 60;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("cannot hash a password: {0}")]
    Hash(String),
}

pub fn hash_password(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| HashError::Hash(err.to_string()))
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
    random_text::<32>()
}

/// Tokens are stored as their SHA-256, so a copy of the database signs nobody in.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether an email may try to sign in again, given its failures within the last
/// [`FAILURE_WINDOW_SECS`] (how many, and when the oldest was): `Err(seconds to wait)` when
/// they are used up. The failures are kept in the database, so every server counts them.
pub fn login_allowed(failures: i64, oldest: Option<Timestamp>, now: Timestamp) -> Result<(), u64> {
    match oldest {
        Some(oldest) if failures >= MAX_FAILURES => {
            Err(u64::try_from(oldest + FAILURE_WINDOW_SECS - now)
                .unwrap_or(0)
                .max(1))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_secrets_are_long_and_different() {
        let a = new_ticket_secret();
        assert_eq!(a.len(), 22, "128 bits in URL-safe base64");
        assert_ne!(a, new_ticket_secret());
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

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
    fn the_eleventh_attempt_within_a_minute_is_refused() {
        let start = 1_000;
        assert_eq!(login_allowed(0, None, start), Ok(()));
        assert_eq!(login_allowed(MAX_FAILURES - 1, Some(start), start), Ok(()));
        assert_eq!(login_allowed(MAX_FAILURES, Some(start), start), Err(60));
        assert_eq!(login_allowed(MAX_FAILURES, Some(start), start + 59), Err(1));
    }
}
