//! The SumUp sandbox's checkouts and their transactions, kept in the database so that they
//! survive a restart.

use sqlx::{FromRow, Row};
use storefront_contract::CheckoutStatus;

use super::{Backend, Store};
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
    pub created_at: i64,
    /// The card reader it waits on; `None` for a hosted checkout. A reader checkout's
    /// `reference` is its `client_transaction_id`.
    pub reader_id: Option<String>,
    /// Whether it has a hosted payment page (`hosted_checkout.enabled` was asked for).
    #[sqlx(try_from = "i64")]
    pub hosted: Flag,
}

/// A yes or no of the sandbox's rows, as the database keeps it (0 or 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag(pub bool);

impl From<i64> for Flag {
    fn from(kept: i64) -> Flag {
        Flag(kept != 0)
    }
}

storefront_contract::named_enum! {
    /// A sandbox transaction's state, as SumUp names it.
    pub enum SandboxTransactionStatus {
        Successful = "SUCCESSFUL",
        Failed = "FAILED",
        /// Paid, then refunded in full or in part.
        Refunded = "REFUNDED",
    }
}

/// One attempt to pay a sandbox checkout. The columns its checkout also has are named for
/// the transaction (`transaction_id`…), so that a checkout and its transactions can be read
/// in one statement.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SandboxTransactionRow {
    #[sqlx(rename = "transaction_id")]
    pub id: String,
    pub checkout_id: String,
    #[sqlx(rename = "transaction_merchant_code")]
    pub merchant_code: String,
    pub transaction_code: String,
    #[sqlx(rename = "transaction_amount")]
    pub amount: i64,
    #[sqlx(rename = "transaction_currency")]
    pub currency: String,
    #[sqlx(rename = "transaction_status", try_from = "String")]
    pub status: SandboxTransactionStatus,
    pub refunded: i64,
    #[sqlx(rename = "transaction_created_at")]
    pub created_at: i64,
    /// Paid on a card reader (card present), not on a hosted page.
    #[sqlx(try_from = "i64")]
    pub at_reader: Flag,
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
    pub reader_id: Option<&'a str>,
    pub hosted: Flag,
}

/// How a refund request for a sandbox transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SandboxRefund {
    Refunded,
    /// Nothing of it can be refunded: it failed, or was refunded in full already.
    NotRefundable,
    /// More than is left of it was asked for.
    ExceedsWhatIsLeft,
    Unknown,
}

macro_rules! checkout_select {
    () => {
        "SELECT id, reference, merchant_code, amount, currency, description, return_url, \
         redirect_url, status, created_at, reader_id, hosted FROM sandbox_checkouts"
    };
}

const SELECT: &str = checkout_select!();

/// A transaction's columns as [`SandboxTransactionRow`] reads them, from transactions `x`.
macro_rules! transaction_columns {
    () => {
        "x.id AS transaction_id, x.checkout_id, x.merchant_code AS transaction_merchant_code, \
         x.transaction_code, x.amount AS transaction_amount, \
         x.currency AS transaction_currency, x.status AS transaction_status, x.refunded, \
         x.created_at AS transaction_created_at, \
         (SELECT CAST(CASE WHEN paid.reader_id IS NULL THEN 0 ELSE 1 END AS BIGINT) \
            FROM sandbox_checkouts paid WHERE paid.id = x.checkout_id) AS at_reader"
    };
}

const SELECT_TRANSACTION: &str = concat!(
    "SELECT ",
    transaction_columns!(),
    " FROM sandbox_transactions x"
);

/// A checkout with its transactions, oldest first: a row for each (one when it has none).
/// Joined, not as a subquery, which SQLite would read whole.
const CHECKOUT_WITH_TRANSACTIONS: &str = concat!(
    "SELECT k.*, ",
    transaction_columns!(),
    " FROM (",
    checkout_select!(),
    " WHERE id = $1) k \
     LEFT JOIN sandbox_transactions x ON x.checkout_id = k.id ORDER BY x.attempt"
);

/// One more payment attempt on checkout `$1`, which becomes `$2`: taken while it is
/// pending, or failed on a hosted page (a declined card may try again there; a reader's
/// payment ends with its attempt). The attempt's number is the checkout's count of them.
macro_rules! sandbox_attempt {
    () => {
        "status = $2, attempts = attempts + 1 \
         WHERE id = $1 AND (status = 'PENDING' OR (status = 'FAILED' AND reader_id IS NULL))"
    };
}

/// The columns a payment attempt's transaction is written with.
macro_rules! sandbox_transaction_insert {
    () => {
        "INSERT INTO sandbox_transactions (id, checkout_id, attempt, merchant_code, \
             transaction_code, amount, currency, status, created_at)"
    };
}

impl Store {
    /// `false` when the merchant already has a checkout with this reference.
    pub async fn sandbox_create(
        &self,
        new: &NewSandboxCheckout<'_>,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO sandbox_checkouts (id, reference, merchant_code, amount, currency, \
                 description, return_url, redirect_url, status, created_at, reader_id, hosted) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'PENDING', $9, $10, $11) \
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
        .bind(new.reader_id)
        .bind(i64::from(new.hosted.0))
        .execute(&self.write)
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

    /// The checkout with its payment attempts (oldest first), in one statement.
    pub async fn sandbox_checkout_with_transactions(
        &self,
        id: &str,
    ) -> Result<Option<(SandboxCheckoutRow, Vec<SandboxTransactionRow>)>, sqlx::Error> {
        let rows = sqlx::query(CHECKOUT_WITH_TRANSACTIONS)
            .bind(id)
            .fetch_all(&self.read)
            .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let checkout = SandboxCheckoutRow::from_row(first)?;
        let mut transactions = Vec::with_capacity(rows.len());
        for row in &rows {
            // No attempt yet: one row, of the checkout alone.
            if row
                .try_get::<Option<String>, _>("transaction_id")?
                .is_some()
            {
                transactions.push(SandboxTransactionRow::from_row(row)?);
            }
        }
        Ok(Some((checkout, transactions)))
    }

    /// The checkouts with this reference, or every checkout (newest last) without one.
    pub async fn sandbox_checkouts(
        &self,
        reference: Option<&str>,
    ) -> Result<Vec<SandboxCheckoutRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE reader_id IS NULL AND ($1 IS NULL OR reference = $1) ORDER BY created_at, id"
        )))
        .bind(reference)
        .fetch_all(&self.read)
        .await
    }

    /// The newest payment waiting on a card reader since `since`.
    pub async fn sandbox_reader_waiting(
        &self,
        reader_id: &str,
        since: Timestamp,
    ) -> Result<Option<SandboxCheckoutRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE reader_id = $1 AND status = 'PENDING' AND created_at >= $2 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        )))
        .bind(reader_id)
        .bind(since)
        .fetch_optional(&self.read)
        .await
    }

    /// A reader payment's transaction, by the payment's `client_transaction_id`: the one
    /// that took the money, else the latest attempt.
    pub async fn sandbox_transaction_of_reader_payment(
        &self,
        merchant_code: &str,
        client_transaction_id: &str,
    ) -> Result<Option<SandboxTransactionRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_TRANSACTION} WHERE merchant_code = $1 AND checkout_id IN \
               (SELECT id FROM sandbox_checkouts WHERE reference = $2 AND reader_id IS NOT NULL) \
             ORDER BY CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END, attempt DESC LIMIT 1"
        )))
        .bind(merchant_code)
        .bind(client_transaction_id)
        .fetch_optional(&self.read)
        .await
    }

    /// The transaction with this code (`transaction_code`, as receipts print it).
    pub async fn sandbox_transaction_by_code(
        &self,
        merchant_code: &str,
        code: &str,
    ) -> Result<Option<SandboxTransactionRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_TRANSACTION} WHERE merchant_code = $1 AND transaction_code = $2"
        )))
        .bind(merchant_code)
        .bind(code)
        .fetch_optional(&self.read)
        .await
    }

    /// The transaction of the checkout whose reference is the client's own id
    /// (`foreign_transaction_id`): the attempt that took the money, else the latest.
    pub async fn sandbox_transaction_by_reference(
        &self,
        merchant_code: &str,
        reference: &str,
    ) -> Result<Option<SandboxTransactionRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_TRANSACTION} WHERE merchant_code = $1 AND checkout_id IN \
               (SELECT id FROM sandbox_checkouts WHERE merchant_code = $1 AND reference = $2) \
             ORDER BY CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END, attempt DESC LIMIT 1"
        )))
        .bind(merchant_code)
        .bind(reference)
        .fetch_optional(&self.read)
        .await
    }

    /// The merchant's transactions by time, oldest or newest first, at most `limit`.
    pub async fn sandbox_transaction_history(
        &self,
        merchant_code: &str,
        newest_first: bool,
        limit: i64,
    ) -> Result<Vec<SandboxTransactionRow>, sqlx::Error> {
        let order = if newest_first { "DESC" } else { "ASC" };
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_TRANSACTION} WHERE merchant_code = $1 \
             ORDER BY created_at {order}, checkout_id {order}, attempt {order} LIMIT $2"
        )))
        .bind(merchant_code)
        .bind(limit)
        .fetch_all(&self.read)
        .await
    }

    /// The checkout's payment attempts, oldest first.
    pub async fn sandbox_transactions(
        &self,
        checkout_id: &str,
    ) -> Result<Vec<SandboxTransactionRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_TRANSACTION} WHERE checkout_id = $1 ORDER BY attempt"
        )))
        .bind(checkout_id)
        .fetch_all(&self.read)
        .await
    }

    pub async fn sandbox_transaction(
        &self,
        merchant_code: &str,
        id: &str,
    ) -> Result<Option<SandboxTransactionRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT_TRANSACTION} WHERE merchant_code = $1 AND id = $2"
        )))
        .bind(merchant_code)
        .bind(id)
        .fetch_optional(&self.read)
        .await
    }

    /// Ends a checkout that has not been paid as `Expired` (deactivated, or its reader
    /// told to stop); `false` if it was paid or had ended already.
    pub async fn sandbox_expire(&self, id: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE sandbox_checkouts SET status = 'EXPIRED' \
             WHERE id = $1 AND (status = 'PENDING' OR (status = 'FAILED' AND reader_id IS NULL))",
        )
        .bind(id)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records one attempt to pay a checkout that is pending, or failed on a hosted page (a
    /// declined card may try again there; a reader's payment ends with its attempt): the
    /// checkout becomes `PAID` or `FAILED`. `false` when it was paid or ended meanwhile.
    pub async fn sandbox_attempt(
        &self,
        checkout: &SandboxCheckoutRow,
        paid: bool,
        transaction: (&str, &str),
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let checkout = checkout.clone();
        let transaction = (transaction.0.to_owned(), transaction.1.to_owned());
        self.in_turn(move |store| async move {
            let (status, transaction_status) = if paid {
                (CheckoutStatus::Paid, SandboxTransactionStatus::Successful)
            } else {
                (CheckoutStatus::Failed, SandboxTransactionStatus::Failed)
            };
            let mut conn = store.writing().await?;
            // `$1` the checkout, `$2` its new status, then the transaction's values from `$3`.
            let attempt = |sql| {
                sqlx::query(sql)
                    .bind(checkout.id.clone())
                    .bind(status.as_str())
                    .bind(transaction.0.clone())
                    .bind(checkout.merchant_code.clone())
                    .bind(transaction.1.clone())
                    .bind(checkout.amount)
                    .bind(checkout.currency.clone())
                    .bind(transaction_status.as_str())
                    .bind(now)
            };
            if store.backend == Backend::Postgres {
                // One statement, atomic without a transaction around it: one round trip.
                let done = attempt(concat!(
                    "WITH attempted AS (UPDATE sandbox_checkouts SET ",
                    sandbox_attempt!(),
                    " RETURNING id, attempts) ",
                    sandbox_transaction_insert!(),
                    " SELECT $3, attempted.id, attempted.attempts, $4, $5, $6, $7, $8, $9 \
                     FROM attempted"
                ))
                .execute(&mut *conn)
                .await?;
                return Ok(done.rows_affected() == 1);
            }
            let mut tx = conn.begin().await?;
            let number: Option<i64> = sqlx::query_scalar(concat!(
                "UPDATE sandbox_checkouts SET ",
                sandbox_attempt!(),
                " RETURNING attempts"
            ))
            .bind(&checkout.id)
            .bind(status.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let Some(number) = number else {
                tx.rollback().await?;
                return Ok(false);
            };
            attempt(concat!(
                sandbox_transaction_insert!(),
                " VALUES ($3, $1, $10, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(number)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// Refunds `amount` (everything left when `None`) of a paid transaction, in one guarded
    /// statement; the transaction reads `REFUNDED` after any refund, as at SumUp.
    pub async fn sandbox_refund(
        &self,
        merchant_code: &str,
        transaction_id: &str,
        amount: Option<i64>,
    ) -> Result<SandboxRefund, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE sandbox_transactions SET \
                 refunded = refunded + COALESCE($3, amount - refunded), status = 'REFUNDED' \
             WHERE merchant_code = $1 AND id = $2 AND status IN ('SUCCESSFUL', 'REFUNDED') \
               AND refunded < amount AND refunded + COALESCE($3, amount - refunded) <= amount",
        )
        .bind(merchant_code)
        .bind(transaction_id)
        .bind(amount)
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(SandboxRefund::Refunded);
        }
        Ok(
            match self
                .sandbox_transaction(merchant_code, transaction_id)
                .await?
            {
                None => SandboxRefund::Unknown,
                Some(t)
                    if t.status != SandboxTransactionStatus::Failed && t.refunded < t.amount =>
                {
                    SandboxRefund::ExceedsWhatIsLeft
                }
                Some(_) => SandboxRefund::NotRefundable,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::{connect_database, searched_by_index};
    use super::CHECKOUT_WITH_TRANSACTIONS;

    #[tokio::test]
    async fn a_checkout_with_its_transactions_is_read_through_indexes_alone() {
        let store = connect_database("sqlite::memory:").await.unwrap();
        let steps = searched_by_index(&store, CHECKOUT_WITH_TRANSACTIONS, 1).await;
        assert!(
            steps
                .iter()
                .any(|step| step.contains("sandbox_transactions_checkout")),
            "{steps:#?}"
        );
    }
}
