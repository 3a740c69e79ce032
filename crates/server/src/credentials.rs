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

/// The fewest characters a password of a buyer's own may have.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Why a password a buyer chose is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    /// One of the 1,000 most common passwords.
    Common,
    /// The account's own e-mail address.
    IsEmail,
}

impl PasswordProblem {
    /// The refusal, in words for the person choosing it.
    pub fn message(self) -> String {
        match self {
            PasswordProblem::TooShort => {
                format!("Use at least {MIN_PASSWORD_CHARS} characters.")
            }
            PasswordProblem::Common => {
                "That is one of the most common passwords: choose another.".to_owned()
            }
            PasswordProblem::IsEmail => "Your password cannot be your e-mail address.".to_owned(),
        }
    }
}

/// What is wrong with a password a buyer chose for the account of `email`, if anything:
/// at least ten characters, not one of the 1,000 most common (zxcvbn's list of passwords,
/// whatever the case), not the e-mail address.
pub fn password_problem(password: &str, email: &str) -> Option<PasswordProblem> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Some(PasswordProblem::TooShort);
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Some(PasswordProblem::IsEmail);
    }
    is_common(password).then_some(PasswordProblem::Common)
}

/// Whether the whole password is one of the 1,000 most common.
fn is_common(password: &str) -> bool {
    use zxcvbn::matching::patterns::MatchPattern;
    let estimate = zxcvbn::zxcvbn(password, &[]);
    let length = password.chars().count();
    match estimate.sequence() {
        // zxcvbn names its dictionaries with a type it does not export; its default is the
        // list of passwords (a test below holds it to that: an English word is no password).
        [only] if only.i == 0 && only.j + 1 == length => matches!(
            &only.pattern,
            MatchPattern::Dictionary(word)
                if word.dictionary_name == Default::default()
                    && word.rank <= 1000
                    && !word.reversed
                    && !word.l33t
        ),
        _ => false,
    }
}

/// A password reset's code: eight characters of the ticket codes' alphabet (no I, L, O or
/// U), easy to read off a phone and type.
pub fn new_reset_code() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    (0..8)
        .map(|_| ALPHABET[rand::Rng::random_range(&mut rng, 0..ALPHABET.len())] as char)
        .collect()
}

/// A reset code as kept: the SHA-256 of the code as typed, whatever the case, spaces and
/// dashes, with the letters O, I and L read as the digits they look like.
pub fn reset_code_hash(typed: &str) -> String {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    token_hash(&code)
}

/// Whether two secrets (hashes) are equal, in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
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
    fn a_password_is_long_uncommon_and_not_the_email() {
        let email = "ada@example.com";
        assert_eq!(
            password_problem("short", email),
            Some(PasswordProblem::TooShort)
        );
        assert_eq!(
            password_problem("123456789", email),
            Some(PasswordProblem::TooShort)
        );
        for common in ["1234567890", "qwertyuiop", "Password123", "PASSWORD123"] {
            assert_eq!(
                password_problem(common, email),
                Some(PasswordProblem::Common),
                "{common}"
            );
        }
        assert_eq!(
            password_problem("ADA@example.com", email),
            Some(PasswordProblem::IsEmail)
        );
        for fine in [
            "correct horse battery",
            "ada-loves-engines",
            "1234567890 tickets",
            "information",
        ] {
            assert_eq!(password_problem(fine, email), None, "{fine}");
        }
    }

    #[test]
    fn reset_codes_are_typed_as_the_door_reads_codes() {
        let code = new_reset_code();
        assert_eq!(code.len(), 8);
        assert_ne!(code, new_reset_code());
        assert_eq!(reset_code_hash("7kq2-m9xd"), reset_code_hash("7KQ2M9XD"));
        assert_eq!(reset_code_hash("O1LI 0000"), reset_code_hash("01110000"));
        assert_ne!(reset_code_hash("7KQ2M9XD"), reset_code_hash("7KQ2M9XE"));
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
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
