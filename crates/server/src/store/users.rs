//! Users and their sign-in sessions.

use storefront_contract::{Role, User};

use std::time::Instant;

use super::notices::Forget;
use super::sessions::SessionUser;
use super::{DbConn, Store};
use crate::time::Timestamp;

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    #[sqlx(try_from = "String")]
    role: Role,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> User {
        User {
            id: row.id,
            email: row.email,
            name: row.name,
            role: row.role,
        }
    }
}

impl Store {
    /// The user with this (lower-cased) email, their password hash, and whether the catalog
    /// disabled them.
    pub async fn user_with_password(
        &self,
        email: &str,
    ) -> Result<Option<(User, String, bool)>, sqlx::Error> {
        #[derive(sqlx::FromRow)]
        struct WithHash {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: String,
            disabled_at: Option<i64>,
        }
        let row: Option<WithHash> = sqlx::query_as(
            "SELECT id, email, name, role, password_hash, disabled_at FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|row| {
            let disabled = row.disabled_at.is_some();
            (User::from(row.user), row.password_hash, disabled)
        }))
    }

    /// The user a kiosk account's terminal acts as (its cart, its orders), made on first use.
    /// Its password hash verifies nothing, so no one can sign in as it.
    pub async fn terminal_user(
        &self,
        account: &User,
        terminal: &str,
        now: Timestamp,
    ) -> Result<User, sqlx::Error> {
        let find = || {
            sqlx::query_as::<_, UserRow>(
                "SELECT id, email, name, role FROM users WHERE terminal_of = $1 AND terminal = $2",
            )
            .bind(account.id)
            .bind(terminal)
        };
        if let Some(row) = find().fetch_optional(&self.read).await? {
            return Ok(row.into());
        }
        sqlx::query(
            "INSERT INTO users (email, name, password_hash, created_at, role, terminal_of, terminal) \
             VALUES ($1, $2, '!', $3, 'kiosk', $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(format!("{}#{terminal}", account.email))
        .bind(format!("{} · {terminal}", account.name))
        .bind(now)
        .bind(account.id)
        .bind(terminal)
        .execute(&self.write)
        .await?;
        Ok(find().fetch_one(&self.write).await?.into())
    }

    pub async fn create_session(
        &self,
        user_id: i64,
        token_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO sessions (user_id, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The user a live (unexpired, unrevoked) session token belongs to, and whether the
    /// catalog has disabled them since (kept for a moment: see [`super::kept`]).
    pub async fn user_for_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(User, bool)>, sqlx::Error> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            disabled_at: Option<i64>,
            expires_at: i64,
        }
        if let Some(kept) = self
            .sessions
            .get(token_hash, Instant::now())
            .filter(|kept| kept.lasts_at(now))
        {
            return Ok(Some((kept.user, kept.disabled)));
        }
        let reading = self.sessions.reading();
        let row: Option<Row> = sqlx::query_as(
            "SELECT u.id, u.email, u.name, u.role, u.disabled_at, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|row| {
            let found = SessionUser {
                user: User::from(row.user),
                disabled: row.disabled_at.is_some(),
                expires_at: row.expires_at,
            };
            self.sessions.keep(
                reading,
                token_hash.to_owned(),
                found.clone(),
                Instant::now(),
            );
            (found.user, found.disabled)
        }))
    }

    /// Ends every session of the user, in the caller's transaction (a new password's); the
    /// caller calls [`Store::sessions_changed`] once it is committed.
    pub(super) async fn end_sessions_of_user(
        conn: &mut DbConn,
        user_id: i64,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Forgets who session tokens belong to, here and (on PostgreSQL) on every server: call
    /// after committing a change to sessions or users.
    pub(super) fn sessions_changed(&self) {
        self.changed(Forget::Sessions);
    }

    pub async fn revoke_session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&self.write)
        .await?;
        self.sessions_changed();
        Ok(())
    }
}

impl Store {
    /// Failed sign-ins for this email since `since`: how many, and the oldest.
    pub async fn login_failures(
        &self,
        email: &str,
        address: &str,
        since: Timestamp,
    ) -> Result<(i64, Option<Timestamp>), sqlx::Error> {
        sqlx::query_as(
            "SELECT COUNT(*), MIN(at) FROM login_failures \
             WHERE email = $1 AND address = $2 AND at > $3",
        )
        .bind(email)
        .bind(address)
        .bind(since)
        .fetch_one(&self.write)
        .await
    }

    /// Records a failed sign-in from `address`, forgetting this email's failures from before
    /// `forget_before`.
    pub async fn record_login_failure(
        &self,
        email: &str,
        address: &str,
        now: Timestamp,
        forget_before: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_failures WHERE email = $1 AND at <= $2")
            .bind(email)
            .bind(forget_before)
            .execute(&self.write)
            .await?;
        sqlx::query("INSERT INTO login_failures (email, address, at) VALUES ($1, $2, $3)")
            .bind(email)
            .bind(address)
            .bind(now)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
