//! Idempotency keys: one row per user and key, holding the first request's answer.

use super::Store;
use crate::time::Timestamp;

/// A key is remembered this long.
pub const KEY_LIFETIME_SECS: i64 = 24 * 60 * 60;
/// A request still unanswered after this long died with its server; its key may be reused.
pub const ABANDONED_AFTER_SECS: i64 = 5 * 60;

/// What claiming a key found.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyClaim {
    /// The key is new: run the request, then record its answer.
    Fresh,
    /// The same request was answered before: send this again.
    Replay { status: u16, body: String },
    /// The same request is running right now.
    InProgress,
    /// The key was used for a different request.
    Reused,
}

impl Store {
    pub async fn claim_idempotency_key(
        &self,
        user_id: i64,
        key: &str,
        request_hash: &str,
        now: Timestamp,
    ) -> Result<KeyClaim, sqlx::Error> {
        // Forget what has expired or was abandoned, then try to take the key.
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2 \
             AND (created_at <= $3 OR (response_status IS NULL AND created_at <= $4))",
        )
        .bind(user_id)
        .bind(key)
        .bind(now - KEY_LIFETIME_SECS)
        .bind(now - ABANDONED_AFTER_SECS)
        .execute(&self.write)
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, idem_key) DO NOTHING",
        )
        .bind(user_id)
        .bind(key)
        .bind(request_hash)
        .bind(now)
        .execute(&self.write)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(KeyClaim::Fresh);
        }
        let row: Option<(String, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT request_hash, response_status, response_body FROM idempotency_keys \
             WHERE user_id = $1 AND idem_key = $2",
        )
        .bind(user_id)
        .bind(key)
        .fetch_optional(&self.write)
        .await?;
        Ok(match row {
            // Deleted between our statements by its own request failing: treat as running.
            None => KeyClaim::InProgress,
            Some((hash, _, _)) if hash != request_hash => KeyClaim::Reused,
            Some((_, Some(status), Some(body))) => KeyClaim::Replay {
                status: u16::try_from(status).unwrap_or(500),
                body,
            },
            Some(_) => KeyClaim::InProgress,
        })
    }

    pub async fn record_idempotent_response(
        &self,
        user_id: i64,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE idempotency_keys SET response_status = $3, response_body = $4 \
             WHERE user_id = $1 AND idem_key = $2",
        )
        .bind(user_id)
        .bind(key)
        .bind(i64::from(status))
        .bind(body)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Lets the key be used again (the request failed in a way worth retrying).
    pub async fn release_idempotency_key(
        &self,
        user_id: i64,
        key: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2")
            .bind(user_id)
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
