//! The cart: product lines, pending bookings, and (through `tickets`) pending tickets.

use std::sync::LazyLock;

use storefront_contract::{Money, Page, Product};

use super::Store;
use super::events::page_from;
use super::tickets::TicketRow;

/// At most this many of one product on one cart line.
pub const MAX_LINE_QUANTITY: i64 = 99;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CartLineRow {
    pub id: i64,
    pub product_id: i64,
    pub title: String,
    pub price: i64,
    pub quantity: i64,
    pub page_id: Option<i64>,
    pub page_slug: Option<String>,
    pub page_title: Option<String>,
    /// The price when the line was put in the cart.
    pub added_price: Option<i64>,
}

impl CartLineRow {
    pub fn page(&self) -> Option<Page> {
        page_from(self.page_id, &self.page_slug, &self.page_title)
    }
}

/// Counts and totals (minor units) of what a cart holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CartTotals {
    pub product_count: i64,
    pub product_total: i64,
    pub booking_count: i64,
    pub booking_total: i64,
    pub ticket_count: i64,
    pub ticket_total: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BookingRow {
    pub id: i64,
    pub name: String,
    pub calendar_name: String,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub cost: i64,
    pub page_id: Option<i64>,
    pub page_slug: Option<String>,
    pub page_title: Option<String>,
}

impl BookingRow {
    pub fn page(&self) -> Option<Page> {
        page_from(self.page_id, &self.page_slug, &self.page_title)
    }
}

/// Everything in one user's cart.
#[derive(Clone, Debug, Default)]
pub struct CartContents {
    pub lines: Vec<CartLineRow>,
    pub bookings: Vec<BookingRow>,
    pub tickets: Vec<TicketRow>,
}

#[derive(sqlx::FromRow)]
struct ProductRow {
    id: i64,
    slug: String,
    title: String,
    price: i64,
    page_id: Option<i64>,
    page_slug: Option<String>,
    page_title: Option<String>,
}

impl From<ProductRow> for Product {
    fn from(row: ProductRow) -> Product {
        Product {
            page: page_from(row.page_id, &row.page_slug, &row.page_title),
            id: row.id,
            slug: row.slug,
            title: row.title,
            price: Money::from_minor(row.price),
        }
    }
}

/// What happened to an attempt to add to a cart line.
#[derive(Debug, PartialEq, Eq)]
pub enum AddOutcome {
    Added,
    UnknownProduct,
    /// The line would hold more than the maximum; it holds `current` now.
    OverLimit {
        current: i64,
    },
}

const PRODUCT_SELECT: &str = "\
SELECT pr.id, pr.slug, pr.title, pr.price, p.id AS page_id, p.slug AS page_slug, p.title AS page_title \
FROM products pr LEFT JOIN pages p ON p.id = pr.page_id";

impl CartContents {
    /// Its counts and totals, as [`Store::cart_totals`] adds them up.
    pub fn totals(&self) -> CartTotals {
        CartTotals {
            product_count: self.lines.iter().map(|l| l.quantity).sum(),
            product_total: self.lines.iter().map(|l| l.price * l.quantity).sum(),
            booking_count: self.bookings.len() as i64,
            booking_total: self.bookings.iter().map(|b| b.cost).sum(),
            ticket_count: self.tickets.len() as i64,
            ticket_total: self.tickets.iter().map(|t| t.cost).sum(),
        }
    }
}

/// A statement reading a cart's [`CartTotals`], the buyer's id being `user` (`$1`…).
pub(super) fn cart_totals_sql(user: &str) -> String {
    format!(
        "SELECT \
           CAST(COALESCE((SELECT SUM(l.quantity) FROM cart_lines l \
             WHERE l.user_id = {user} AND l.order_id IS NULL), 0) AS BIGINT) AS product_count, \
           CAST(COALESCE((SELECT SUM(l.quantity * pr.price) FROM cart_lines l \
             JOIN products pr ON pr.id = l.product_id \
             WHERE l.user_id = {user} AND l.order_id IS NULL), 0) AS BIGINT) AS product_total, \
           (SELECT COUNT(*) FROM bookings b WHERE b.user_id = {user} AND b.state = 'pending') \
             AS booking_count, \
           CAST(COALESCE((SELECT SUM(b.cost) FROM bookings b \
             WHERE b.user_id = {user} AND b.state = 'pending'), 0) AS BIGINT) AS booking_total, \
           (SELECT COUNT(*) FROM tickets t WHERE t.user_id = {user} AND t.state = 'pending') \
             AS ticket_count, \
           CAST(COALESCE((SELECT SUM(t.cost) FROM tickets t \
             WHERE t.user_id = {user} AND t.state = 'pending'), 0) AS BIGINT) AS ticket_total"
    )
}

static CART_TOTALS: LazyLock<String> = LazyLock::new(|| cart_totals_sql("$1"));

impl Store {
    pub async fn cart_contents(&self, user_id: i64) -> Result<CartContents, sqlx::Error> {
        let lines = sqlx::query_as::<_, CartLineRow>(
            "SELECT l.id, l.product_id, pr.title, pr.price, l.quantity, \
                    p.id AS page_id, p.slug AS page_slug, p.title AS page_title, l.added_price \
             FROM cart_lines l JOIN products pr ON pr.id = l.product_id \
             LEFT JOIN pages p ON p.id = pr.page_id \
             WHERE l.user_id = $1 AND l.order_id IS NULL ORDER BY l.id",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await?;
        let bookings = sqlx::query_as::<_, BookingRow>(
            "SELECT b.id, b.name, c.name AS calendar_name, b.starts_at, b.ends_at, b.cost, \
                    p.id AS page_id, p.slug AS page_slug, p.title AS page_title \
             FROM bookings b JOIN calendars c ON c.id = b.calendar_id \
             LEFT JOIN pages p ON p.id = c.page_id \
             WHERE b.user_id = $1 AND b.state = 'pending' ORDER BY b.starts_at, b.id",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await?;
        let tickets = self.pending_tickets(user_id).await?;
        Ok(CartContents {
            lines,
            bookings,
            tickets,
        })
    }

    /// What the user's cart adds up to, in one statement: counts and totals of its product
    /// lines, pending bookings and pending tickets.
    pub async fn cart_totals(&self, user_id: i64) -> Result<CartTotals, sqlx::Error> {
        sqlx::query_as::<_, CartTotals>(CART_TOTALS.as_str())
            .bind(user_id)
            .fetch_one(&self.read)
            .await
    }

    pub async fn products(&self, page_slug: Option<&str>) -> Result<Vec<Product>, sqlx::Error> {
        let rows = match page_slug {
            Some(slug) => {
                sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(format!(
                    "{PRODUCT_SELECT} WHERE p.slug = $1 AND pr.withdrawn_at IS NULL \
                     ORDER BY pr.title, pr.id"
                )))
                .bind(slug)
                .fetch_all(&self.read)
                .await?
            }
            None => {
                sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(format!(
                    "{PRODUCT_SELECT} WHERE pr.withdrawn_at IS NULL ORDER BY pr.title, pr.id"
                )))
                .fetch_all(&self.read)
                .await?
            }
        };
        Ok(rows.into_iter().map(Product::from).collect())
    }

    /// Adds to the user's open line for the product, creating it if there is none.
    pub async fn add_product_to_cart(
        &self,
        user_id: i64,
        product_id: i64,
        quantity: i64,
    ) -> Result<AddOutcome, sqlx::Error> {
        self.in_turn(move |store| async move {
            let mut conn = store.writing().await?;
            let mut tx = conn.begin().await?;
            let price: Option<i64> = sqlx::query_scalar(
                "SELECT price FROM products WHERE id = $1 AND withdrawn_at IS NULL",
            )
            .bind(product_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(price) = price else {
                return Ok(AddOutcome::UnknownProduct);
            };
            let current: Option<i64> = sqlx::query_scalar(
                "SELECT quantity FROM cart_lines \
             WHERE user_id = $1 AND product_id = $2 AND order_id IS NULL",
            )
            .bind(user_id)
            .bind(product_id)
            .fetch_optional(&mut *tx)
            .await?;
            let current = current.unwrap_or(0);
            if current + quantity > MAX_LINE_QUANTITY {
                return Ok(AddOutcome::OverLimit { current });
            }
            sqlx::query(
                "INSERT INTO cart_lines (user_id, product_id, quantity, added_price) \
                 VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, product_id) WHERE order_id IS NULL \
             DO UPDATE SET quantity = cart_lines.quantity + excluded.quantity",
            )
            .bind(user_id)
            .bind(product_id)
            .bind(quantity)
            .bind(price)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(AddOutcome::Added)
        })
        .await
    }

    /// Sets an open line's quantity (0 removes it); `false` if the user has no such line.
    pub async fn set_cart_line_quantity(
        &self,
        user_id: i64,
        line_id: i64,
        quantity: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = if quantity == 0 {
            sqlx::query(
                "DELETE FROM cart_lines WHERE id = $1 AND user_id = $2 AND order_id IS NULL",
            )
            .bind(line_id)
            .bind(user_id)
            .execute(&self.write)
            .await?
        } else {
            sqlx::query(
                "UPDATE cart_lines SET quantity = $3 \
                 WHERE id = $1 AND user_id = $2 AND order_id IS NULL",
            )
            .bind(line_id)
            .bind(user_id)
            .bind(quantity)
            .execute(&self.write)
            .await?
        };
        Ok(done.rows_affected() == 1)
    }

    /// Empties the user's cart in one transaction: pending tickets become cancelled, product
    /// lines leave, pending bookings become cancelled. Orders are untouched.
    pub async fn clear_cart(&self, user_id: i64) -> Result<(), sqlx::Error> {
        self.in_turn(move |store| async move {
            let mut conn = store.writing().await?;
            let mut tx = conn.begin().await?;
            sqlx::query(
                "UPDATE tickets SET state = 'cancelled' \
             WHERE user_id = $1 AND state = 'pending' AND order_id IS NULL",
            )
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM cart_lines WHERE user_id = $1 AND order_id IS NULL")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE bookings SET state = 'cancelled' WHERE user_id = $1 AND state = 'pending'",
            )
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })
        .await
    }

    /// Takes a pending booking out of the user's cart; `false` if there is no such booking.
    pub async fn cancel_pending_booking(&self, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE bookings SET state = 'cancelled' \
             WHERE id = $1 AND user_id = $2 AND state = 'pending'",
        )
        .bind(id)
        .bind(user_id)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
