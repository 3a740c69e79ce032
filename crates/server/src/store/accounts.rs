//! Buyers' own accounts: sign-up, and a password reset by a code sent by e-mail (the code's
//! e-mail is written to the outbox in the reset's own transaction).

use storefront_contract::User;

use super::Store;
use crate::mail::MailKind;
use crate::mail::render::Rendered;
use crate::time::Timestamp;

/// How a reset code's check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetCheck {
    /// The password is changed and every session of the user ended.
    Done,
    /// No code is open for the address (none asked, expired, used, or out of tries).
    NoCode,
    /// Not the code; it has this many tries left.
    Wrong { tries_left: i64 },
}

/// A reset code takes this many tries.
pub const RESET_TRIES: i64 = 5;

impl Store {
    /// A new customer account; `None` when the e-mail has one already.
    pub async fn sign_up(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<Option<User>, sqlx::Error> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO users (email, name, password_hash, created_at, role) \
             VALUES ($1, $2, $3, $4, 'customer') ON CONFLICT (email) DO NOTHING RETURNING id",
        )
        .bind(email)
        .bind(name)
        .bind(password_hash)
        .bind(now)
        .fetch_optional(&self.write)
        .await?;
        Ok(id.map(|id| User {
            id,
            email: email.to_owned(),
            name: name.to_owned(),
            role: storefront_contract::Role::Customer,
        }))
    }

    /// Opens a reset for the account with this e-mail (not disabled, not a kiosk terminal)
    /// and queues its e-mail, in one transaction; earlier open codes end. `false` when there
    /// is no such account (which the caller does not say).
    pub async fn open_reset(
        &self,
        email: &str,
        code_hash: &str,
        mail: &Rendered,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let (email, code_hash, mail) = (email.to_owned(), code_hash.to_owned(), mail.clone());
        self.in_turn(move |store| async move {
            let mut conn = store.writing().await?;
            let mut tx = conn.begin().await?;
            let user: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM users WHERE email = $1 AND disabled_at IS NULL \
                   AND terminal_of IS NULL",
            )
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(user_id) = user else {
                tx.rollback().await?;
                return Ok(false);
            };
            sqlx::query(
                "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL",
            )
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO password_resets (user_id, code_hash, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(user_id)
            .bind(&code_hash)
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            store
                .queue_written_mail(&mut tx, MailKind::ResetCode, &email, &mail, now)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// Checks a reset code for the account with this e-mail and, when it is the open code,
    /// sets the new password, closes the code and ends every session of the user, in one
    /// transaction. A wrong code uses one of its tries.
    pub async fn confirm_reset(
        &self,
        email: &str,
        code_hash: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<ResetCheck, sqlx::Error> {
        let (email, code_hash, password_hash) = (
            email.to_owned(),
            code_hash.to_owned(),
            password_hash.to_owned(),
        );
        let checked = self
            .in_turn(move |store| async move {
                let mut conn = store.writing().await?;
                let mut tx = conn.begin().await?;
                let open: Option<(i64, i64, String, i64)> = sqlx::query_as(
                    "SELECT r.id, r.user_id, r.code_hash, r.tries FROM password_resets r \
                 JOIN users u ON u.id = r.user_id \
                 WHERE u.email = $1 AND u.disabled_at IS NULL AND r.used_at IS NULL \
                   AND r.expires_at > $2 AND r.tries < $3 \
                 ORDER BY r.id DESC LIMIT 1",
                )
                .bind(&email)
                .bind(now)
                .bind(RESET_TRIES)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((reset_id, user_id, expected, tries)) = open else {
                    tx.rollback().await?;
                    return Ok(ResetCheck::NoCode);
                };
                if !crate::credentials::same_secret(&expected, &code_hash) {
                    sqlx::query("UPDATE password_resets SET tries = tries + 1 WHERE id = $1")
                        .bind(reset_id)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    return Ok(ResetCheck::Wrong {
                        tries_left: RESET_TRIES - tries - 1,
                    });
                }
                sqlx::query("UPDATE password_resets SET used_at = $2 WHERE id = $1")
                    .bind(reset_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(user_id)
                    .bind(&password_hash)
                    .execute(&mut *tx)
                    .await?;
                Store::end_sessions_of_user(&mut tx, user_id, now).await?;
                tx.commit().await?;
                Ok(ResetCheck::Done)
            })
            .await;
        // Once committed (on SQLite, with the writer's group): a session read before then
        // is not kept.
        if matches!(checked, Ok(ResetCheck::Done)) {
            self.sessions_changed();
        }
        checked
    }
}
