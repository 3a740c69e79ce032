//! Loading a validated catalog into an empty database, all or nothing.

use sqlx::Connection;
use storefront_contract::TicketState;

use super::Store;
use super::tickets::{NewTickets, insert_ticket};
use crate::catalog::{CatalogError, CatalogPlan};
use crate::time::Timestamp;

impl Store {
    /// Loads the catalog in one transaction; `Ok(false)` (and nothing written) when the
    /// database already has data. `password_hashes` match `plan.users` one to one.
    pub async fn load_catalog(
        &self,
        plan: &CatalogPlan,
        password_hashes: &[String],
        now: Timestamp,
    ) -> Result<bool, CatalogError> {
        let mut conn = self.writing().await?;
        let mut tx = conn.begin().await?;
        let existing: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM pages) \
                  + (SELECT COUNT(*) FROM calendars) + (SELECT COUNT(*) FROM products)",
        )
        .fetch_one(&mut *tx)
        .await?;
        if existing > 0 {
            return Ok(false);
        }

        sqlx::query("INSERT INTO settings (key, value) VALUES ('currency', $1)")
            .bind(&plan.currency)
            .execute(&mut *tx)
            .await?;

        let mut user_ids = Vec::with_capacity(plan.users.len());
        for (user, hash) in plan.users.iter().zip(password_hashes) {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (email, name, password_hash, created_at, role) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(&user.email)
            .bind(&user.name)
            .bind(hash)
            .bind(now)
            .bind(user.role.as_str())
            .fetch_one(&mut *tx)
            .await?;
            user_ids.push(id);
        }

        let mut page_ids = Vec::with_capacity(plan.pages.len());
        for page in &plan.pages {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO pages (slug, title, sumup_merchant_code, timezone) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(&page.slug)
            .bind(&page.title)
            .bind(&page.sumup_merchant_code)
            .bind(&page.timezone)
            .fetch_one(&mut *tx)
            .await?;
            page_ids.push(id);
        }

        let mut calendar_ids = Vec::with_capacity(plan.calendars.len());
        for calendar in &plan.calendars {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO calendars (slug, name, page_id) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(&calendar.slug)
            .bind(&calendar.name)
            .bind(calendar.page.map(|p| page_ids[p]))
            .fetch_one(&mut *tx)
            .await?;
            calendar_ids.push(id);
        }

        let mut event_ids = Vec::with_capacity(plan.events.len());
        let mut ticket_type_ids: Vec<Vec<i64>> = Vec::with_capacity(plan.events.len());
        for event in &plan.events {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO events (slug, calendar_id, name, starts_at, ends_at, state, \
                     ticket_price, ticket_count, description, location, max_per_order) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(&event.slug)
            .bind(calendar_ids[event.calendar])
            .bind(&event.name)
            .bind(event.starts_at)
            .bind(event.ends_at)
            .bind(event.state.as_str())
            .bind(event.ticket_price)
            .bind(event.ticket_count)
            .bind(&event.description)
            .bind(&event.location)
            .bind(event.max_per_order)
            .fetch_one(&mut *tx)
            .await?;
            let mut type_ids = Vec::with_capacity(event.ticket_types.len());
            for (name, cost) in &event.ticket_types {
                let type_id: i64 = sqlx::query_scalar(
                    "INSERT INTO ticket_types (event_id, name, cost) VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(id)
                .bind(name)
                .bind(cost)
                .fetch_one(&mut *tx)
                .await?;
                type_ids.push(type_id);
            }
            event_ids.push(id);
            ticket_type_ids.push(type_ids);
        }

        for reader in &plan.readers {
            sqlx::query("INSERT INTO readers (name, sumup_id, page_id) VALUES ($1, $2, $3)")
                .bind(&reader.name)
                .bind(&reader.sumup_id)
                .bind(reader.page.map(|i| page_ids[i]))
                .execute(&mut *tx)
                .await?;
        }

        let mut product_ids = Vec::with_capacity(plan.products.len());
        for product in &plan.products {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO products (slug, title, price, page_id) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(&product.slug)
            .bind(&product.title)
            .bind(product.price)
            .bind(product.page.map(|p| page_ids[p]))
            .fetch_one(&mut *tx)
            .await?;
            product_ids.push(id);
        }

        for line in &plan.cart {
            sqlx::query(
                "INSERT INTO cart_lines (user_id, product_id, quantity) VALUES ($1, $2, $3)",
            )
            .bind(user_ids[line.user])
            .bind(product_ids[line.product])
            .bind(line.quantity)
            .execute(&mut *tx)
            .await?;
        }

        for booking in &plan.bookings {
            sqlx::query(
                "INSERT INTO bookings (user_id, calendar_id, name, starts_at, ends_at, cost, state) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
            )
            .bind(user_ids[booking.user])
            .bind(calendar_ids[booking.calendar])
            .bind(&booking.name)
            .bind(booking.starts_at)
            .bind(booking.ends_at)
            .bind(booking.cost)
            .execute(&mut *tx)
            .await?;
        }

        for batch in &plan.tickets {
            let new = NewTickets {
                event_id: event_ids[batch.event],
                user_id: user_ids[batch.user],
                ticket_type_id: batch.ticket_type.map(|t| ticket_type_ids[batch.event][t]),
                cost: batch.cost,
                quantity: batch.quantity,
                state: batch.state,
            };
            debug_assert!(
                new.state != TicketState::Reserved,
                "reserved tickets need an order"
            );
            for _ in 0..batch.quantity {
                insert_ticket(&mut tx, &new, now).await?;
            }
        }

        tx.commit().await?;
        Ok(true)
    }
}
