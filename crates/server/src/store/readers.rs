//! The card readers named in the catalog.

use super::Store;

/// A SumUp Solo reader, as the catalog names it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReaderRow {
    pub name: String,
    /// SumUp's id of the reader.
    pub sumup_id: String,
    /// The page (venue) it takes payments for; any when `None`.
    pub page_id: Option<i64>,
}

impl Store {
    pub async fn reader(&self, name: &str) -> Result<Option<ReaderRow>, sqlx::Error> {
        sqlx::query_as("SELECT name, sumup_id, page_id FROM readers WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.read)
            .await
    }
}
