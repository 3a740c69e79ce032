//! Refunds of what an order oversold: claimed so that one request at a time goes to SumUp,
//! then finished as refunded, failed (refused for good), or due again after a wait.

use super::Store;
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

/// A refund this process has claimed the right to ask SumUp for.
#[derive(Clone, Debug)]
pub struct RefundClaim {
    pub amount: i64,
    pub merchant_code: String,
    pub transaction_id: String,
    /// How many requests for it failed for the moment before this one.
    pub attempts: i64,
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
    /// Takes the right to ask SumUp for the order's refund, so that only one request is out;
    /// `None` if none is due now (or another process is asking).
    pub async fn claim_refund(
        &self,
        order_id: i64,
        now: Timestamp,
    ) -> Result<Option<RefundClaim>, sqlx::Error> {
        let claimed = sqlx::query(
            "UPDATE orders SET refund_status = 'refunding', refund_claimed_at = $2 \
             WHERE id = $1 AND ((refund_status = 'due' \
                   AND (refund_next_at IS NULL OR refund_next_at <= $2)) \
               OR (refund_status = 'refunding' AND refund_claimed_at <= $3))",
        )
        .bind(order_id)
        .bind(now)
        .bind(now - REFUND_CLAIM_SECS)
        .execute(&self.write)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let row: Option<(i64, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT o.refund_amount, o.refund_attempts, o.merchant_code, \
                    (SELECT ch.transaction_id FROM checkouts ch WHERE ch.order_id = o.id \
                       AND ch.status = 'PAID' ORDER BY ch.id DESC LIMIT 1) \
             FROM orders o WHERE o.id = $1",
        )
        .bind(order_id)
        .fetch_optional(&self.write)
        .await?;
        match row {
            Some((amount, attempts, Some(merchant_code), Some(transaction_id))) => {
                Ok(Some(RefundClaim {
                    amount,
                    merchant_code,
                    transaction_id,
                    attempts,
                }))
            }
            _ => {
                let reason = "SumUp named no transaction for the payment".to_owned();
                self.finish_refund(order_id, &RefundOutcome::Failed { reason })
                    .await?;
                Ok(None)
            }
        }
    }

    /// Records how a claimed refund ended.
    pub async fn finish_refund(
        &self,
        order_id: i64,
        outcome: &RefundOutcome,
    ) -> Result<(), sqlx::Error> {
        let (state, message, next_at) = match outcome {
            RefundOutcome::Refunded => (RefundState::Refunded, None, None),
            RefundOutcome::Failed { reason } => (RefundState::Failed, Some(reason.as_str()), None),
            RefundOutcome::RetryAt { at } => (RefundState::Due, None, Some(*at)),
        };
        sqlx::query(
            "UPDATE orders SET refund_status = $2, refund_message = $3, refund_next_at = $4, \
                 refund_attempts = refund_attempts + (CASE WHEN $4 IS NULL THEN 0 ELSE 1 END) \
             WHERE id = $1 AND refund_status = 'refunding'",
        )
        .bind(order_id)
        .bind(state.as_str())
        .bind(message)
        .bind(next_at)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Orders whose refund may be asked for now: due and past its wait, or claimed by a
    /// process that never answered.
    pub async fn refunds_to_send(&self, now: Timestamp) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT id FROM orders \
             WHERE (refund_status = 'due' AND (refund_next_at IS NULL OR refund_next_at <= $1)) \
                OR (refund_status = 'refunding' AND refund_claimed_at <= $2) \
             ORDER BY id LIMIT 100",
        )
        .bind(now)
        .bind(now - REFUND_CLAIM_SECS)
        .fetch_all(&self.read)
        .await
    }

    /// Why SumUp refused the order's refund, as it said, for the venue's staff.
    pub async fn refund_failure(&self, order_id: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT refund_message FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_optional(&self.read)
            .await
            .map(Option::flatten)
    }
}
