//! Refunds of what an order oversold: claimed so that one request at a time goes to SumUp,
//! then finished as refunded or due again.

use super::Store;
use crate::time::Timestamp;

storefront_contract::named_enum! {
    /// Where a refund stands in the database: `due`, `refunding` (one process asked SumUp and
    /// waits for its answer), `refunded`.
    pub enum RefundState {
        Due = "due",
        Refunding = "refunding",
        Refunded = "refunded",
    }
}

/// A refund this process has claimed the right to ask SumUp for.
#[derive(Clone, Debug)]
pub struct RefundClaim {
    pub amount: i64,
    pub merchant_code: String,
    pub transaction_id: String,
}

/// A refund request left unanswered this long (its process died) may be made again.
const REFUND_CLAIM_SECS: i64 = 5 * 60;

impl Store {
    /// Takes the right to ask SumUp for the order's refund, so that only one request is out.
    pub async fn claim_refund(
        &self,
        order_id: i64,
        now: Timestamp,
    ) -> Result<Option<RefundClaim>, sqlx::Error> {
        let claimed = sqlx::query(
            "UPDATE orders SET refund_status = 'refunding', refund_claimed_at = $2 \
             WHERE id = $1 AND (refund_status = 'due' \
               OR (refund_status = 'refunding' AND refund_claimed_at <= $3))",
        )
        .bind(order_id)
        .bind(now)
        .bind(now - REFUND_CLAIM_SECS)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let row: Option<(i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT o.refund_amount, o.merchant_code, \
                    (SELECT ch.transaction_id FROM checkouts ch WHERE ch.order_id = o.id \
                       AND ch.status = 'PAID' ORDER BY ch.id DESC LIMIT 1) \
             FROM orders o WHERE o.id = $1",
        )
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some((amount, Some(merchant_code), Some(transaction_id))) => Ok(Some(RefundClaim {
                amount,
                merchant_code,
                transaction_id,
            })),
            _ => {
                self.finish_refund(order_id, RefundState::Due).await?;
                Ok(None)
            }
        }
    }

    /// Records SumUp's answer to a claimed refund: `Refunded`, or `Due` again for a retry.
    pub async fn finish_refund(
        &self,
        order_id: i64,
        outcome: RefundState,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE orders SET refund_status = $2 WHERE id = $1 AND refund_status = 'refunding'",
        )
        .bind(order_id)
        .bind(outcome.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
