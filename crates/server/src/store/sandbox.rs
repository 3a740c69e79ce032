//! The SumUp sandbox's checkouts, kept in the database so that they survive a restart.

use storefront_contract::CheckoutStatus;

use super::Store;
use crate::time::Timestamp;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SandboxCheckoutRow {
    pub id: String,
    pub reference: String,
    pub merchant_code: String,
    pub amount: i64,
    pub currency: String,
    pub description: Option<String>,
    pub return_url: Option<String>,
    pub redirect_url: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: CheckoutStatus,
    pub transaction_id: Option<String>,
    pub transaction_code: Option<String>,
    pub refunded: i64,
    pub created_at: i64,
}

pub struct NewSandboxCheckout<'a> {
    pub id: &'a str,
    pub reference: &'a str,
    pub merchant_code: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub description: Option<&'a str>,
    pub return_url: Option<&'a str>,
    pub redirect_url: Option<&'a str>,
}

const SELECT: &str = "SELECT id, reference, merchant_code, amount, currency, description, \
    return_url, redirect_url, status, transaction_id, transaction_code, refunded, created_at \
    FROM sandbox_checkouts";

impl Store {
    /// `false` when the merchant already has a checkout with this reference.
    pub async fn sandbox_create(
        &self,
        new: &NewSandboxCheckout<'_>,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO sandbox_checkouts (id, reference, merchant_code, amount, currency, \
                 description, return_url, redirect_url, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'PENDING', $9) \
             ON CONFLICT (merchant_code, reference) DO NOTHING",
        )
        .bind(new.id)
        .bind(new.reference)
        .bind(new.merchant_code)
        .bind(new.amount)
        .bind(new.currency)
        .bind(new.description)
        .bind(new.return_url)
        .bind(new.redirect_url)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn sandbox_checkout(
        &self,
        id: &str,
    ) -> Result<Option<SandboxCheckoutRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    pub async fn sandbox_by_reference(
        &self,
        reference: &str,
    ) -> Result<Vec<SandboxCheckoutRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE reference = $1 ORDER BY created_at, id"
        )))
        .bind(reference)
        .fetch_all(&self.read)
        .await
    }

    /// Moves a pending checkout to `status` (with its transaction); `false` if it was not pending.
    pub async fn sandbox_finish(
        &self,
        id: &str,
        status: CheckoutStatus,
        transaction: Option<(&str, &str)>,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE sandbox_checkouts SET status = $2, transaction_id = $3, transaction_code = $4 \
             WHERE id = $1 AND status = 'PENDING'",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(transaction.map(|t| t.0))
        .bind(transaction.map(|t| t.1))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a refund if what is left of the payment covers it; `false` otherwise.
    pub async fn sandbox_refund(
        &self,
        merchant_code: &str,
        transaction_id: &str,
        amount: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE sandbox_checkouts SET refunded = refunded + $3 \
             WHERE merchant_code = $1 AND transaction_id = $2 AND status = 'PAID' \
             AND refunded + $3 <= amount",
        )
        .bind(merchant_code)
        .bind(transaction_id)
        .bind(amount)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    pub async fn sandbox_by_transaction(
        &self,
        merchant_code: &str,
        transaction_id: &str,
    ) -> Result<Option<SandboxCheckoutRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE merchant_code = $1 AND transaction_id = $2 AND status = 'PAID'"
        )))
        .bind(merchant_code)
        .bind(transaction_id)
        .fetch_optional(&self.read)
        .await
    }
}
