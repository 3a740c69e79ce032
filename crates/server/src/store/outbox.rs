//! The outbox: every e-mail is a row written in the same transaction as the change it tells
//! of, then claimed by one sender at a time (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite
//! has one writer), sent, and marked. A sender that died after sending and before marking
//! leaves its claim to lapse, and the e-mail is sent again, the same e-mail: an order's
//! e-mail is rendered once, at its first claim, and kept with its `Message-ID`.

use super::DbConn;

use super::{Backend, Store};
use crate::mail::MailKind;
use crate::time::Timestamp;

storefront_contract::named_enum! {
    /// Where an e-mail of the outbox stands.
    pub enum MailState {
        /// Waiting for its time (`next_at`).
        Queued = "queued",
        /// Claimed by a sender, which is sending it.
        Sending = "sending",
        Sent = "sent",
        /// Refused for good, or not taken for a day: the reason is kept.
        Failed = "failed",
    }
}

/// An e-mail a sender has claimed.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClaimedMail {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: MailKind,
    pub recipient: String,
    pub order_id: Option<i64>,
    pub refund_id: Option<i64>,
    /// The left part of its `Message-ID`, the same at every try.
    pub message_key: String,
    pub subject: Option<String>,
    pub text_body: Option<String>,
    pub html_body: Option<String>,
    /// Tries that failed for the moment before this one.
    pub attempts: i64,
    pub created_at: Timestamp,
}

/// How a claimed e-mail's try ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailOutcome {
    Sent,
    /// Not taken for now; tried again from `at`.
    RetryAt {
        at: Timestamp,
        error: String,
    },
    /// Refused for good, or given up.
    Failed {
        error: String,
    },
}

/// One e-mail of an order, for its history.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderMail {
    #[sqlx(try_from = "String")]
    pub kind: MailKind,
    pub recipient: String,
    #[sqlx(try_from = "String", rename = "status")]
    pub state: MailState,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub error: Option<String>,
}

const CLAIMED_COLUMNS: &str = "id, kind, recipient, order_id, refund_id, message_key, subject, \
     text_body, html_body, attempts, created_at";

/// The address an order's e-mails go to: the one given for it (a guest list, a kiosk sale),
/// else its account's, never a kiosk terminal's.
const ORDER_RECIPIENT: &str =
    "COALESCE(o.buyer_email, CASE WHEN u.terminal_of IS NULL THEN u.email END)";

/// Where a statement that queues an order's e-mail has its values (`$n`, or SQL).
pub(super) struct OrderMailValues {
    pub kind: &'static str,
    pub order_id: &'static str,
    pub refund_id: &'static str,
    pub message_key: &'static str,
    pub now: &'static str,
}

/// The statement that queues an e-mail about an order to its buyer, or nothing when the order
/// has nobody to write to: on its own ([`Store::queue_order_mail`]), or as part of a statement
/// that changes the order (which may add conditions with `AND`).
pub(super) fn order_mail_queued(values: OrderMailValues) -> String {
    let OrderMailValues {
        kind,
        order_id,
        refund_id,
        message_key,
        now,
    } = values;
    format!(
        "INSERT INTO outbox (kind, recipient, order_id, refund_id, message_key, status, \
                             next_at, created_at) \
         SELECT {kind}, {ORDER_RECIPIENT}, o.id, {refund_id}, {message_key}, 'queued', {now}, {now} \
         FROM orders o JOIN users u ON u.id = o.user_id \
         WHERE o.id = {order_id} AND {ORDER_RECIPIENT} IS NOT NULL"
    )
}

impl Store {
    /// Whether changes write e-mails to the outbox (the server sends mail).
    pub fn mail_on(&self) -> bool {
        self.mail
    }

    /// Queues an e-mail of `kind` about the order to its buyer, in the caller's transaction;
    /// nothing when mail is off or the order has nobody to write to. Rendered when first
    /// claimed.
    pub(super) async fn queue_order_mail(
        &self,
        conn: &mut DbConn,
        kind: MailKind,
        order_id: i64,
        refund_id: Option<i64>,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        if !self.mail {
            return Ok(());
        }
        sqlx::query(sqlx::AssertSqlSafe(order_mail_queued(OrderMailValues {
            kind: "$1",
            order_id: "$2",
            refund_id: "$3",
            message_key: "$4",
            now: "$5",
        })))
        .bind(kind.as_str())
        .bind(order_id)
        .bind(refund_id)
        .bind(message_key())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Sets where the order's e-mails go (a kiosk buyer's address), in one transaction with
    /// the e-mail of its tickets when it is paid already; otherwise that e-mail goes there
    /// once it is. `false` when the order is gone.
    pub async fn email_order_to(
        &self,
        order_id: i64,
        email: &str,
        now: Timestamp,
    ) -> Result<bool, sqlx::Error> {
        let email = email.to_owned();
        self.in_turn(move |store| async move {
            let mut conn = store.writing().await?;
            let mut tx = conn.begin().await?;
            let status: Option<String> = sqlx::query_scalar(
                "UPDATE orders SET buyer_email = $2 WHERE id = $1 RETURNING status",
            )
            .bind(order_id)
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(status) = status else {
                tx.rollback().await?;
                return Ok(false);
            };
            if status == storefront_contract::OrderStatus::Paid.as_str() {
                store
                    .queue_order_mail(&mut tx, MailKind::OrderPaid, order_id, None, now)
                    .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// Queues an e-mail written already (a reset code), in the caller's transaction.
    pub(super) async fn queue_written_mail(
        &self,
        conn: &mut DbConn,
        kind: MailKind,
        recipient: &str,
        mail: &crate::mail::render::Rendered,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO outbox (kind, recipient, message_key, subject, text_body, html_body, \
                                 status, next_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $7)",
        )
        .bind(kind.as_str())
        .bind(recipient)
        .bind(message_key())
        .bind(&mail.subject)
        .bind(&mail.text)
        .bind(&mail.html)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Claims up to `limit` e-mails that are due (or whose sender's claim lapsed), oldest
    /// first; no other sender, on any server, gets them meanwhile.
    pub async fn claim_mail(
        &self,
        now: Timestamp,
        lapse: std::time::Duration,
        limit: i64,
    ) -> Result<Vec<ClaimedMail>, sqlx::Error> {
        let lapse = i64::try_from(lapse.as_secs()).unwrap_or(i64::MAX);
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET status = 'sending', claimed_at = $1 \
             WHERE id IN (SELECT id FROM outbox \
                          WHERE (status = 'queued' AND next_at <= $1) \
                             OR (status = 'sending' AND claimed_at <= $2) \
                          ORDER BY id LIMIT $3 {lock}) \
             RETURNING {CLAIMED_COLUMNS}"
        )))
        .bind(now)
        .bind(now.saturating_sub(lapse))
        .bind(limit)
        .fetch_all(&self.write)
        .await
    }

    /// Keeps what a claimed e-mail says, the first time it is rendered; returns what it
    /// says (another sender's rendering, had one been kept first).
    pub async fn keep_rendered(
        &self,
        id: i64,
        mail: &crate::mail::render::Rendered,
    ) -> Result<crate::mail::render::Rendered, sqlx::Error> {
        sqlx::query(
            "UPDATE outbox SET subject = $2, text_body = $3, html_body = $4 \
             WHERE id = $1 AND subject IS NULL",
        )
        .bind(id)
        .bind(&mail.subject)
        .bind(&mail.text)
        .bind(&mail.html)
        .execute(&self.write)
        .await?;
        let (subject, text, html): (String, String, String) =
            sqlx::query_as("SELECT subject, text_body, html_body FROM outbox WHERE id = $1")
                .bind(id)
                .fetch_one(&self.write)
                .await?;
        Ok(crate::mail::render::Rendered {
            subject,
            text,
            html,
        })
    }

    /// Records how a claimed e-mail's try ended. A reset code is not kept once it is sent
    /// or given up.
    pub async fn finish_mail(
        &self,
        id: i64,
        outcome: &MailOutcome,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        let (state, next_at, error, failed_try) = match outcome {
            MailOutcome::Sent => (MailState::Sent, None, None, 0_i64),
            MailOutcome::RetryAt { at, error } => (MailState::Queued, Some(*at), Some(error), 1),
            MailOutcome::Failed { error } => (MailState::Failed, None, Some(error), 1),
        };
        sqlx::query(
            "UPDATE outbox SET status = $2, next_at = COALESCE($3, next_at), error = $4, \
                 attempts = attempts + $5, claimed_at = NULL, \
                 sent_at = CASE WHEN $2 = 'sent' THEN $6 ELSE sent_at END, \
                 text_body = CASE WHEN kind = 'reset_code' AND $2 <> 'queued' \
                                  THEN NULL ELSE text_body END, \
                 html_body = CASE WHEN kind = 'reset_code' AND $2 <> 'queued' \
                                  THEN NULL ELSE html_body END \
             WHERE id = $1 AND status = 'sending'",
        )
        .bind(id)
        .bind(state.as_str())
        .bind(next_at)
        .bind(error.map(String::as_str))
        .bind(failed_try)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// The order's e-mails, oldest first.
    pub async fn order_mails(&self, order_id: i64) -> Result<Vec<OrderMail>, sqlx::Error> {
        sqlx::query_as(
            "SELECT kind, recipient, status, created_at, sent_at, error FROM outbox \
             WHERE order_id = $1 ORDER BY id",
        )
        .bind(order_id)
        .fetch_all(&self.read)
        .await
    }

    /// How many e-mails wait to be sent (queued or being sent).
    pub async fn mail_waiting(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')")
            .fetch_one(&self.read)
            .await
    }
}

/// A new `Message-ID`'s left part: random, so that no two e-mails share one.
pub(super) fn message_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
