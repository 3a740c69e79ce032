//! Listed events with their sold figures, and their ticket types.

use sqlx::AssertSqlSafe;
use storefront_contract::{CalendarRef, Money, Page, TicketType};

use std::time::Instant;

use super::Store;
use crate::time::Timestamp;

/// A ticket type of an event, its cost in minor units.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TicketTypeRow {
    pub id: i64,
    pub name: String,
    pub cost: i64,
}

impl TicketTypeRow {
    pub fn to_ticket_type(&self) -> TicketType {
        TicketType {
            id: self.id,
            name: self.name.clone(),
            cost: Money::from_minor(self.cost),
        }
    }
}

/// One listed event as read from the database, with its sold count.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub ticket_price: Option<i64>,
    pub ticket_count: Option<i64>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub max_per_order: i64,
    pub calendar_id: i64,
    pub calendar_slug: String,
    pub calendar_name: String,
    pub page_id: Option<i64>,
    pub page_slug: Option<String>,
    pub page_title: Option<String>,
    /// The venue's time zone, when it has its own.
    pub page_timezone: Option<String>,
    pub min_type_cost: Option<i64>,
    /// Tickets reserved, confirmed or checked in: pending tickets never count.
    pub sold: i64,
}

impl EventRow {
    pub fn calendar(&self) -> CalendarRef {
        CalendarRef {
            id: self.calendar_id,
            slug: self.calendar_slug.clone(),
            name: self.calendar_name.clone(),
        }
    }

    pub fn page(&self) -> Option<Page> {
        page_from(self.page_id, &self.page_slug, &self.page_title)
    }

    /// The cheapest ticket: the cheapest type when the event has types, else its ticket price.
    pub fn price_from(&self) -> Money {
        Money::from_minor(self.min_type_cost.or(self.ticket_price).unwrap_or(0))
    }

    /// Whether the event is still listed at `now`: not ended (as `EVENT_SELECT` says in
    /// SQL; the rest of being listed changes only with the catalog).
    pub fn listed_at(&self, now: Timestamp) -> bool {
        self.ends_at.unwrap_or(self.starts_at) > now
    }
}

/// An event on sale as buying tickets needs it: the event and its ticket types on sale.
/// Kept for a moment (see [`super::kept`]) and forgotten when the catalog changes; its
/// sold count is as it was read, which buying does not use.
#[derive(Clone, Debug)]
pub struct OnSale {
    pub event: EventRow,
    pub types: Vec<TicketTypeRow>,
}

/// Events on sale by id.
pub(super) type EventsOnSale = super::kept::Kept<i64, OnSale>;

pub(super) fn page_from(
    id: Option<i64>,
    slug: &Option<String>,
    title: &Option<String>,
) -> Option<Page> {
    match (id, slug, title) {
        (Some(id), Some(slug), Some(title)) => Some(Page {
            id,
            slug: slug.clone(),
            title: title.clone(),
        }),
        _ => None,
    }
}

/// The position after the last event of a page of results: `(starts_at, id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListCursor {
    pub starts_at: i64,
    pub id: i64,
}

#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Lower-cased text to find in the event, calendar or page name.
    pub text: Option<String>,
    pub page_slug: Option<String>,
    pub after: Option<ListCursor>,
    pub limit: u32,
}

/// The columns of [`EventRow`] and the tables they come from, for any choice of events.
macro_rules! event_columns {
    () => {
        concat!(
            "SELECT e.id, e.slug, e.name, e.starts_at, e.ends_at, e.ticket_price, \
               e.ticket_count, e.description, e.location, e.max_per_order, \
               c.id AS calendar_id, c.slug AS calendar_slug, c.name AS calendar_name, \
               p.id AS page_id, p.slug AS page_slug, p.title AS page_title, \
               p.timezone AS page_timezone, \
               (SELECT MIN(tt.cost) FROM ticket_types tt WHERE tt.event_id = e.id \
                  AND tt.retired_at IS NULL) AS min_type_cost, ",
            held_of_event!(),
            " AS sold \
             FROM events e \
             JOIN calendars c ON c.id = e.calendar_id \
             LEFT JOIN pages p ON p.id = c.page_id "
        )
    };
}

pub(super) const EVENT_COLUMNS: &str = event_columns!();

/// The listed events: confirmed, not archived, not ended (`$1` is now), ticketed.
const EVENT_SELECT: &str = concat!(
    event_columns!(),
    "WHERE e.state = 'confirmed' AND e.archived_at IS NULL \
       AND COALESCE(e.ends_at, e.starts_at) > $1 \
       AND (e.ticket_price IS NOT NULL \
            OR EXISTS (SELECT 1 FROM ticket_types tt WHERE tt.event_id = e.id \
                         AND tt.retired_at IS NULL))"
);

/// Escapes `%`, `_` and `\` so that user text matches itself in a `LIKE ... ESCAPE '\'`.
pub(super) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// Listed events not yet ended, by `starts_at` then `id`, at most `limit + 1` of them
    /// (the extra one tells whether there is a next page).
    pub async fn list_events(
        &self,
        filter: &EventFilter,
        now: Timestamp,
    ) -> Result<Vec<EventRow>, sqlx::Error> {
        // Only fixed fragments are added to the SQL; every value is a bound parameter.
        let mut sql = String::from(EVENT_SELECT);
        let mut next = 2;
        let mut placeholder = || {
            let p = format!("${next}");
            next += 1;
            p
        };
        if filter.text.is_some() {
            let p = placeholder();
            sql.push_str(&format!(
                " AND (LOWER(e.name) LIKE {p} ESCAPE '\\' OR LOWER(c.name) LIKE {p} ESCAPE '\\' \
                 OR LOWER(COALESCE(p.title, '')) LIKE {p} ESCAPE '\\')"
            ));
        }
        if filter.page_slug.is_some() {
            sql.push_str(&format!(" AND p.slug = {}", placeholder()));
        }
        if filter.after.is_some() {
            let (a, b) = (placeholder(), placeholder());
            sql.push_str(&format!(
                " AND (e.starts_at > {a} OR (e.starts_at = {a} AND e.id > {b}))"
            ));
        }
        sql.push_str(&format!(
            " ORDER BY e.starts_at, e.id LIMIT {}",
            placeholder()
        ));

        let mut query = sqlx::query_as::<_, EventRow>(AssertSqlSafe(sql)).bind(now);
        if let Some(text) = &filter.text {
            query = query.bind(like_pattern(text));
        }
        if let Some(slug) = &filter.page_slug {
            query = query.bind(slug.clone());
        }
        if let Some(cursor) = filter.after {
            query = query.bind(cursor.starts_at).bind(cursor.id);
        }
        query
            .bind(i64::from(filter.limit) + 1)
            .fetch_all(&self.read)
            .await
    }

    /// The event if it is listed, with its ticket types on sale, for buying tickets: kept
    /// for a moment, as a buyer's purchases come one after another.
    pub async fn on_sale(&self, id: i64, now: Timestamp) -> Result<Option<OnSale>, sqlx::Error> {
        if let Some(kept) = self
            .on_sale
            .get(&id, Instant::now())
            .filter(|kept| kept.event.listed_at(now))
        {
            return Ok(Some(kept));
        }
        let reading = self.on_sale.reading();
        let Some(event) = self.listed_event(id, now).await? else {
            return Ok(None);
        };
        let types = self.ticket_types_of(&event).await?;
        let found = OnSale { event, types };
        self.on_sale
            .keep(reading, id, found.clone(), Instant::now());
        Ok(Some(found))
    }

    /// The event if it is listed (confirmed, not archived, not ended, ticketed).
    pub async fn listed_event(
        &self,
        id: i64,
        now: Timestamp,
    ) -> Result<Option<EventRow>, sqlx::Error> {
        sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!("{EVENT_SELECT} AND e.id = $2")))
            .bind(now)
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    pub async fn ticket_types(&self, event_id: i64) -> Result<Vec<TicketTypeRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, name, cost FROM ticket_types WHERE event_id = $1 AND retired_at IS NULL \
             ORDER BY cost, id",
        )
        .bind(event_id)
        .fetch_all(&self.read)
        .await
    }

    /// The ticket types on sale of an event as just read: none when it had none then (its
    /// cheapest type is read with it), without asking again.
    pub async fn ticket_types_of(
        &self,
        event: &EventRow,
    ) -> Result<Vec<TicketTypeRow>, sqlx::Error> {
        match event.min_type_cost {
            None => Ok(Vec::new()),
            Some(_) => self.ticket_types(event.id).await,
        }
    }

    /// How many pending tickets for this event the user has in their cart.
    pub async fn pending_ticket_count(
        &self,
        event_id: i64,
        user_id: i64,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE event_id = $1 AND user_id = $2 AND state = 'pending'",
        )
        .bind(event_id)
        .bind(user_id)
        .fetch_one(&self.read)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("jazz"), "%jazz%");
        assert_eq!(like_pattern("100%_\\"), "%100\\%\\_\\\\%");
    }
}
