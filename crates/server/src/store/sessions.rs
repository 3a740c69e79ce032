//! Who a session token belongs to, kept for a moment (see [`super::kept`]): every request
//! names its session. A sign-out, a password reset or the catalog changing a user's role or
//! disabling them forgets what is kept, and nothing is kept past its session's end.

use storefront_contract::User;

use super::kept::Kept;
use crate::time::Timestamp;

/// Session token hashes and their users.
pub(super) type Sessions = Kept<String, SessionUser>;

/// A session's user, whether the catalog disabled them, and until when the session lasts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionUser {
    pub user: User,
    pub disabled: bool,
    pub expires_at: Timestamp,
}

impl SessionUser {
    /// Whether the session still lasts at `at` (seconds).
    pub fn lasts_at(&self, at: Timestamp) -> bool {
        self.expires_at > at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use storefront_contract::Role;

    #[test]
    fn a_kept_session_is_never_taken_past_its_end() {
        let ann = SessionUser {
            user: User {
                id: 1,
                email: "ann@example.com".into(),
                name: "Ann".into(),
                role: Role::Customer,
            },
            disabled: false,
            expires_at: 100,
        };
        assert!(ann.lasts_at(99));
        assert!(!ann.lasts_at(100), "the session is over");
    }
}
