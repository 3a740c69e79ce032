//! What every event has sold, kept as counts by ticket type rather than counted from every
//! ticket on each read: the box office's figures, the long-poll's version, and the fold of
//! PostgreSQL's journal of changes into the counts.
//!
//! Triggers on `tickets` keep the counts in the transaction of every change (see migration
//! `0011_box_office`): on SQLite they change `ticket_counts` in place; on PostgreSQL they
//! append to `ticket_count_deltas` (no row shared by two buyers), which [`Store::fold_counts`]
//! moves into `ticket_counts`. Every read adds both in one statement, so it sees one moment.

use std::collections::HashMap;
use std::fmt::Write as _;

use sqlx::AssertSqlSafe;

use super::{Backend, Store};

/// The columns counted, in the order of [`Counts`].
const COLUMNS: [&str; 8] = [
    "pending",
    "reserved",
    "confirmed",
    "checked_in",
    "refunded",
    "paid_amount",
    "refunded_amount",
    "changes",
];

/// How often PostgreSQL's journal of changes is folded into the counts. Every read of an
/// event's counts adds what is not folded yet: under load (a few hundred purchases a second)
/// folding every 200 ms left those reads twice as slow as every 50 ms.
const FOLD_EVERY: std::time::Duration = std::time::Duration::from_millis(50);
/// Every how many folds the journal's folded entries are vacuumed away (once a second).
const VACUUM_EVERY_FOLDS: u32 = 20;
/// The most journal entries one fold takes.
const FOLD_AT_ONCE: i64 = 50_000;

/// One event's (or one of its ticket types') tickets by state, and their money in minor units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Counts {
    /// In carts.
    pub pending: i64,
    /// Claimed by an order being paid.
    pub reserved: i64,
    /// Paid, not yet in.
    pub confirmed: i64,
    pub checked_in: i64,
    pub refunded: i64,
    /// What the confirmed and checked-in tickets cost: the money kept.
    pub paid_amount: i64,
    /// What the refunded tickets cost.
    pub refunded_amount: i64,
}

impl Counts {
    /// Paid for: confirmed or checked in.
    pub fn paid(&self) -> i64 {
        self.confirmed + self.checked_in
    }

    /// What counts against the capacity: reserved, confirmed and checked in.
    pub fn held(&self) -> i64 {
        self.reserved + self.paid()
    }

    fn add(&mut self, other: &Counts) {
        self.pending += other.pending;
        self.reserved += other.reserved;
        self.confirmed += other.confirmed;
        self.checked_in += other.checked_in;
        self.refunded += other.refunded;
        self.paid_amount += other.paid_amount;
        self.refunded_amount += other.refunded_amount;
    }
}

/// The counts of one ticket type of an event (`type_id` `None`: tickets without a type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeCounts {
    pub type_id: Option<i64>,
    pub counts: Counts,
}

/// An event's counts in total and by ticket type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventCounts {
    pub total: Counts,
    pub by_type: Vec<TypeCounts>,
}

#[derive(sqlx::FromRow)]
struct CountRecord {
    event_id: i64,
    type_key: i64,
    #[sqlx(flatten)]
    counts: Counts,
}

/// The kept counts and the journal, added up by event and type, for the events `which`
/// selects (a condition on `event_id`).
fn counts_sql(which: &str) -> String {
    let sums = COLUMNS[..7]
        .iter()
        .map(|c| format!("CAST(COALESCE(SUM(k.{c}), 0) AS BIGINT) AS {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let plain = COLUMNS[..7].join(", ");
    format!(
        "SELECT k.event_id, k.type_key, {sums} FROM ( \
           SELECT event_id, type_key, {plain} FROM ticket_counts WHERE {which} \
           UNION ALL \
           SELECT event_id, type_key, {plain} FROM ticket_count_deltas WHERE {which}) k \
         GROUP BY k.event_id, k.type_key ORDER BY k.event_id, k.type_key"
    )
}

/// A SQL expression for what event `e` holds against its capacity (reserved, confirmed and
/// checked in), from the kept counts.
pub(super) const HELD_OF_EVENT: &str = held_of_event!();

impl Store {
    /// The counts of these events, by ticket type; an event with no tickets has none.
    pub async fn event_counts(
        &self,
        event_ids: &[i64],
    ) -> Result<HashMap<i64, EventCounts>, sqlx::Error> {
        if event_ids.is_empty() {
            return Ok(HashMap::new());
        }
        // Ids are integers read from the database: written out, never user text.
        let mut list = String::new();
        for (i, id) in event_ids.iter().enumerate() {
            let _ = write!(list, "{}{id}", if i == 0 { "" } else { ", " });
        }
        let which = format!("event_id IN ({list})");
        let rows: Vec<CountRecord> = sqlx::query_as(AssertSqlSafe(counts_sql(&which)))
            .fetch_all(&self.read)
            .await?;
        let mut events: HashMap<i64, EventCounts> = HashMap::new();
        for row in rows {
            let event = events.entry(row.event_id).or_default();
            event.total.add(&row.counts);
            event.by_type.push(TypeCounts {
                type_id: (row.type_key != 0).then_some(row.type_key),
                counts: row.counts,
            });
        }
        Ok(events)
    }

    /// A number that grows with every change of any ticket: sales, refunds and scans. Equal
    /// on every server of one database at one moment.
    pub async fn sales_version(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT CAST(COALESCE((SELECT SUM(changes) FROM ticket_counts), 0) \
                 + (SELECT COUNT(*) FROM ticket_count_deltas) AS BIGINT)",
        )
        .fetch_one(&self.read)
        .await
    }

    /// On PostgreSQL, moves the journal of changes into the counts (at most `most` entries in
    /// one go); one server at a time folds, the others skip. Returns how many were folded.
    /// The entries are taken as a range of ids, not as `id IN (the first most)`: planned
    /// while the journal was nearly empty, that was a nested loop, and 100,000 entries
    /// written at once (a bulk sale) took it minutes while every count read added them all.
    pub async fn fold_counts(&self, most: i64) -> Result<u64, sqlx::Error> {
        if self.backend != Backend::Postgres {
            return Ok(0);
        }
        let mut conn = self.writing().await?;
        let mut tx = conn.begin().await?;
        let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(7306010011)")
            .fetch_one(&mut *tx)
            .await?;
        if !ours {
            tx.rollback().await?;
            return Ok(0);
        }
        let sums = COLUMNS[..7]
            .iter()
            .map(|c| format!("SUM({c})"))
            .collect::<Vec<_>>()
            .join(", ");
        let updates = COLUMNS
            .iter()
            .map(|c| format!("{c} = ticket_counts.{c} + EXCLUDED.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let columns = COLUMNS.join(", ");
        let folded = sqlx::query(AssertSqlSafe(format!(
            "WITH gone AS (DELETE FROM ticket_count_deltas WHERE id <= COALESCE( \
                 (SELECT id FROM ticket_count_deltas ORDER BY id OFFSET $1 - 1 LIMIT 1), \
                 (SELECT MAX(id) FROM ticket_count_deltas)) RETURNING *) \
             INSERT INTO ticket_counts (event_id, type_key, {columns}) \
             SELECT event_id, type_key, {sums}, COUNT(*) FROM gone \
             GROUP BY event_id, type_key ORDER BY event_id, type_key \
             ON CONFLICT (event_id, type_key) DO UPDATE SET {updates}"
        )))
        .bind(most)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(folded)
    }

    /// Clears the journal's folded entries from its table and index at once. PostgreSQL's
    /// own vacuum looks at a table once a minute, and meanwhile every read of an event's
    /// counts would step over each entry folded since (tens of thousands under load).
    async fn vacuum_journal(&self) -> Result<(), sqlx::Error> {
        sqlx::query("VACUUM (SKIP_LOCKED) ticket_count_deltas")
            .execute(&self.write)
            .await
            .map(|_| ())
    }

    /// Folds the journal of changes into the counts every [`FOLD_EVERY`] until `stop` turns
    /// true; a failure is logged and tried again at the next turn (reads add the journal, so
    /// nothing is wrong meanwhile, only slower).
    pub async fn fold_counts_until(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut every = tokio::time::interval(FOLD_EVERY);
        let mut folds: u32 = 0;
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {
                    if let Err(err) = self.fold_counts(FOLD_AT_ONCE).await {
                        tracing::warn!(error = %err, "could not fold the sales journal");
                    }
                    folds = folds.wrapping_add(1);
                    if folds.is_multiple_of(VACUUM_EVERY_FOLDS)
                        && let Err(err) = self.vacuum_journal().await
                    {
                        tracing::warn!(error = %err, "could not vacuum the sales journal");
                    }
                }
                _ = async { stop.wait_for(|stopping| *stopping).await.map(|_| ()) } => return,
            }
        }
    }

    /// Where the kept counts differ from the tickets counted one by one: one line per
    /// difference, none when they agree. For tests and for `storefront` checks by hand.
    pub async fn recount_differences(&self) -> Result<Vec<String>, sqlx::Error> {
        let kept: Vec<CountRecord> =
            sqlx::query_as(AssertSqlSafe(counts_sql("event_id IS NOT NULL")))
                .fetch_all(&self.read)
                .await?;
        let counted: Vec<CountRecord> = sqlx::query_as(
            "SELECT event_id, COALESCE(ticket_type_id, 0) AS type_key, \
               CAST(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS pending, \
               CAST(SUM(CASE WHEN state = 'reserved' THEN 1 ELSE 0 END) AS BIGINT) AS reserved, \
               CAST(SUM(CASE WHEN state = 'confirmed' THEN 1 ELSE 0 END) AS BIGINT) AS confirmed, \
               CAST(SUM(CASE WHEN state = 'checked_in' THEN 1 ELSE 0 END) AS BIGINT) AS checked_in, \
               CAST(SUM(CASE WHEN state = 'refunded' THEN 1 ELSE 0 END) AS BIGINT) AS refunded, \
               CAST(SUM(CASE WHEN state IN ('confirmed', 'checked_in') THEN cost ELSE 0 END) \
                 AS BIGINT) AS paid_amount, \
               CAST(SUM(CASE WHEN state = 'refunded' THEN cost ELSE 0 END) AS BIGINT) \
                 AS refunded_amount \
             FROM tickets GROUP BY event_id, COALESCE(ticket_type_id, 0)",
        )
        .fetch_all(&self.read)
        .await?;
        let key = |r: &CountRecord| (r.event_id, r.type_key);
        let counted: HashMap<_, _> = counted.iter().map(|r| (key(r), r.counts)).collect();
        let mut differences = Vec::new();
        for row in &kept {
            let by_hand = counted.get(&key(row)).copied().unwrap_or_default();
            if row.counts != by_hand {
                differences.push(format!(
                    "event {} type {}: kept {:?}, counted {:?}",
                    row.event_id, row.type_key, row.counts, by_hand
                ));
            }
        }
        for (k, counts) in &counted {
            if !kept.iter().any(|r| key(r) == *k) && *counts != Counts::default() {
                differences.push(format!("event {} type {}: not kept", k.0, k.1));
            }
        }
        Ok(differences)
    }
}
