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

/// A reader with its page's columns (all `NULL` for a reader of any page).
#[derive(sqlx::FromRow)]
struct ReaderVenueRow {
    name: String,
    page_id: Option<i64>,
    page_slug: Option<String>,
    page_title: Option<String>,
}

impl Store {
    /// The reader `name` and the page it takes payments for (its id, slug and title).
    pub async fn reader_with_page(
        &self,
        name: &str,
    ) -> Result<Option<(String, Option<storefront_contract::Page>)>, sqlx::Error> {
        let row: Option<ReaderVenueRow> = sqlx::query_as(
            "SELECT r.name, p.id AS page_id, p.slug AS page_slug, p.title AS page_title \
             FROM readers r LEFT JOIN pages p ON p.id = r.page_id WHERE r.name = $1",
        )
        .bind(name)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.map(|row| {
            let page = match (row.page_id, row.page_slug, row.page_title) {
                (Some(id), Some(slug), Some(title)) => {
                    Some(storefront_contract::Page { id, slug, title })
                }
                _ => None,
            };
            (row.name, page)
        }))
    }

    pub async fn reader(&self, name: &str) -> Result<Option<ReaderRow>, sqlx::Error> {
        sqlx::query_as("SELECT name, sumup_id, page_id FROM readers WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.read)
            .await
    }
}
