//! Refunds of what an order oversold: claimed so that one request at a time goes to SumUp,
//! then finished as refunded, failed (refused for good), or due again after a wait.

use storefront_contract::RefundReason;

use super::Store;
use crate::mail::MailKind;
use crate::time::Timestamp;

storefront_contract::named_enum! {
    /// Where a refund stands in the database: `due`, `refunding` (one process asked SumUp and
    /// waits for its answer), `refunded`, or `failed` (SumUp refused it for good).
    pub enum RefundState {
        Due = "due",
        Refunding = "refunding",
        Refunded = "refunded",
        Failed = "failed",
    }
}

impl RefundState {
    /// Whether anything is still to be done about it.
    pub fn is_open(self) -> bool {
        matches!(self, RefundState::Due | RefundState::Refunding)
    }
}

/// One refund of an order, as the database holds it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RefundRow {
    pub id: i64,
    pub order_id: i64,
    #[sqlx(try_from = "String")]
    pub reason: RefundReason,
    pub amount: i64,
    #[sqlx(try_from = "String", rename = "status")]
    pub state: RefundState,
    /// SumUp's reason, for a refund that failed.
    pub message: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// The manager who refunded, with their reason.
    pub by_name: Option<String>,
    pub note: Option<String>,
}

/// The columns of [`RefundRow`], from `refunds r` (and its manager as `m`).
pub(super) const REFUND_SELECT: &str = "SELECT r.id, r.order_id, r.reason, r.amount, r.status, \
     r.message, r.created_at, r.finished_at, m.name AS by_name, r.note \
     FROM refunds r LEFT JOIN users m ON m.id = r.by_user";

/// A refund this process has claimed the right to ask SumUp for.
#[derive(Clone, Debug)]
pub struct RefundClaim {
    pub order_id: i64,
    pub amount: i64,
    pub merchant_code: String,
    pub transaction_id: String,
    /// How many requests for it failed for the moment before this one.
    pub attempts: i64,
}

/// A claimed refund as the database holds it.
#[derive(sqlx::FromRow)]
struct ClaimRecord {
    order_id: i64,
    amount: i64,
    attempts: i64,
    merchant_code: Option<String>,
    transaction_id: Option<String>,
}

/// How a claimed refund ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    Refunded,
    /// Refused for good, with SumUp's reason.
    Failed {
        reason: String,
    },
    /// Not sent or not answered; due again from `at`.
    RetryAt {
        at: Timestamp,
    },
}

/// A refund request left unanswered this long (its process died) may be made again.
const REFUND_CLAIM_SECS: i64 = 5 * 60;

impl Store {
    /// Takes the right to ask SumUp for a refund, so that only one request is out; `None` if
    /// it is not due now (or another process is asking).
    pub async fn claim_refund(
        &self,
        refund_id: i64,
        now: Timestamp,
    ) -> Result<Option<RefundClaim>, sqlx::Error> {
        let claimed = sqlx::query(
            "UPDATE refunds SET status = 'refunding', claimed_at = $2 \
             WHERE id = $1 AND ((status = 'due' AND (next_at IS NULL OR next_at <= $2)) \
               OR (status = 'refunding' AND claimed_at <= $3))",
        )
        .bind(refund_id)
        .bind(now)
        .bind(now - REFUND_CLAIM_SECS)
        .execute(&self.write)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let row: Option<ClaimRecord> = sqlx::query_as(
            "SELECT r.order_id, r.amount, r.attempts, o.merchant_code, \
                    (SELECT ch.transaction_id FROM checkouts ch WHERE ch.order_id = o.id \
                       AND ch.status = 'PAID' ORDER BY ch.id DESC LIMIT 1) AS transaction_id \
             FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.id = $1",
        )
        .bind(refund_id)
        .fetch_optional(&self.write)
        .await?;
        match row {
            Some(ClaimRecord {
                order_id,
                amount,
                attempts,
                merchant_code: Some(merchant_code),
                transaction_id: Some(transaction_id),
            }) => Ok(Some(RefundClaim {
                order_id,
                amount,
                merchant_code,
                transaction_id,
                attempts,
            })),
            _ => {
                let reason = "SumUp named no transaction for the payment".to_owned();
                self.finish_refund(refund_id, &RefundOutcome::Failed { reason }, now)
                    .await?;
                Ok(None)
            }
        }
    }

    /// Records how a claimed refund ended; a refund that went through writes its e-mail to
    /// the buyer in the same transaction.
    pub async fn finish_refund(
        &self,
        refund_id: i64,
        outcome: &RefundOutcome,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        let (state, message, next_at) = match outcome {
            RefundOutcome::Refunded => (RefundState::Refunded, None, None),
            RefundOutcome::Failed { reason } => (RefundState::Failed, Some(reason.clone()), None),
            RefundOutcome::RetryAt { at } => (RefundState::Due, None, Some(*at)),
        };
        self.in_turn(move |store| async move {
            let mut conn = store.writing().await?;
            let mut tx = conn.begin().await?;
            let finished: Option<(i64, i64)> = sqlx::query_as(
                "UPDATE refunds SET status = $2, message = $3, next_at = $4, \
                     attempts = attempts + (CASE WHEN $4 IS NULL THEN 0 ELSE 1 END), \
                     finished_at = CASE WHEN $4 IS NULL THEN $5 END \
                 WHERE id = $1 AND status = 'refunding' RETURNING order_id, amount",
            )
            .bind(refund_id)
            .bind(state.as_str())
            .bind(message)
            .bind(next_at)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((order_id, amount)) = finished
                && state == RefundState::Refunded
                && amount > 0
            {
                store
                    .queue_order_mail(&mut tx, MailKind::Refunded, order_id, Some(refund_id), now)
                    .await?;
            }
            tx.commit().await
        })
        .await
    }

    /// Refunds that may be asked for now: due and past their wait, or claimed by a process
    /// that never answered.
    pub async fn refunds_to_send(&self, now: Timestamp) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT id FROM refunds \
             WHERE (status = 'due' AND (next_at IS NULL OR next_at <= $1)) \
                OR (status = 'refunding' AND claimed_at <= $2) \
             ORDER BY id LIMIT 100",
        )
        .bind(now)
        .bind(now - REFUND_CLAIM_SECS)
        .fetch_all(&self.read)
        .await
    }

    /// The order's refunds still to be sent (due, or being sent), oldest first.
    pub async fn open_refunds(&self, order_id: i64) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT id FROM refunds WHERE order_id = $1 AND status IN ('due', 'refunding') \
             ORDER BY id",
        )
        .bind(order_id)
        .fetch_all(&self.write)
        .await
    }

    /// Why SumUp refused the order's newest failed refund, as it said, for the venue's staff.
    pub async fn refund_failure(&self, order_id: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT message FROM refunds WHERE order_id = $1 AND status = 'failed' \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(order_id)
        .fetch_optional(&self.read)
        .await
        .map(Option::flatten)
    }
}
