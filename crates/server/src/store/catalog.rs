//! The catalog's SQL: what the database holds of it, and applying a plan's changes in one
//! transaction that reads, decides (`catalog::diff`) and writes, so that servers applying the
//! same file at once apply it once in effect.

use std::collections::{HashMap, HashSet};

use super::DbConn;
use storefront_contract::{Role, TicketState};

use super::tickets::{NewTickets, insert_ticket};
use super::{Backend, Store};
use crate::catalog::diff::{
    Current, CurrentCalendar, CurrentEvent, CurrentPage, CurrentProduct, CurrentReader,
    CurrentTicketType, CurrentUser, Diff, Op, diff,
};
use crate::catalog::{CatalogError, CatalogPlan};
use crate::time::Timestamp;

/// Every catalog apply takes this PostgreSQL advisory lock for its transaction.
const CATALOG_LOCK: i64 = 0x0053_544f_5243_4154; // "STORCAT"

/// Whether a plan is only compared or also written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatalogMode {
    Check,
    Apply,
}

/// Who asked for the change, for the audit log.
#[derive(Clone, Debug)]
pub struct AuditEntry {
    pub user_id: Option<i64>,
    pub address: Option<String>,
    pub action: &'static str,
}

/// The passwords a plan sets: argon2 hashes of the file's passwords for the users that are
/// new or whose password in the file changed since the catalog last set it.
#[derive(Clone, Debug, Default)]
pub struct CatalogPasswords {
    pub hashes: HashMap<String, String>,
    pub changed: HashSet<String>,
}

const SOLD: &str = "('reserved', 'confirmed', 'checked_in')";

impl Store {
    /// The password hash the catalog last set for each user it keeps, by email.
    pub async fn catalog_password_hashes(
        &self,
    ) -> Result<HashMap<String, Option<String>>, sqlx::Error> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT email, catalog_password_hash FROM users WHERE terminal_of IS NULL",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Compares the plan with the database and, in `Apply` mode, makes the changes, in one
    /// transaction; refused as a whole when any change would alter what was sold. The
    /// catalog's seed sections (cart lines, bookings, tickets) go only into an empty
    /// database.
    pub async fn apply_catalog(
        &self,
        plan: &CatalogPlan,
        passwords: &CatalogPasswords,
        mode: CatalogMode,
        audit: Option<&AuditEntry>,
        now: Timestamp,
    ) -> Result<Diff, CatalogError> {
        let mut conn = self.writing().await?;
        let mut tx = conn.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(CATALOG_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        let current = read_current(&mut tx).await?;
        let empty = current.pages.is_empty()
            && current.users.is_empty()
            && current.events.is_empty()
            && current.products.is_empty();
        let diff = diff(plan, &current, &passwords.changed);
        if !diff.refusals.is_empty() {
            return Err(CatalogError::Refused(diff.refusals));
        }
        if mode == CatalogMode::Check || diff.changes.is_empty() {
            return Ok(diff);
        }
        // What touches tickets (prices, capacities, what is taken off sale) goes last, with the
        // tickets held against writes on PostgreSQL (SQLite writes one at a time anyway): a
        // purchase or checkout in flight finishes first, the next waits, so none is left at
        // an old price or past a new capacity. Everything else first, so that the hold is
        // short and no purchase waiting for it holds a row this transaction needs.
        let (on_tickets, rest): (Vec<&Op>, Vec<&Op>) = diff
            .changes
            .iter()
            .map(|change| &change.op)
            .partition(|op| op.touches_tickets());
        for op in rest {
            write(&mut tx, plan, op, passwords, now).await?;
        }
        if !on_tickets.is_empty() && self.backend == Backend::Postgres {
            sqlx::query("LOCK TABLE tickets IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        for op in on_tickets {
            write(&mut tx, plan, op, passwords, now).await?;
        }
        if empty {
            seed(&mut tx, plan, now).await?;
        }
        if let Some(audit) = audit {
            let detail = diff
                .changes
                .iter()
                .map(|c| format!("{} {} {}: {}", c.change, c.kind, c.key, c.detail))
                .collect::<Vec<_>>()
                .join("\n");
            super::box_office::write_audit(&mut tx, audit, &detail, now).await?;
        }
        tx.commit().await?;
        // Given back, the writer's group is committed (on SQLite): then events on sale,
        // users' roles, passwords and sessions may have changed.
        drop(conn);
        self.changed(super::notices::Forget::Catalog);
        Ok(diff)
    }
}

async fn read_current(conn: &mut DbConn) -> Result<Current, sqlx::Error> {
    let currency: Option<String> =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'currency'")
            .fetch_optional(&mut *conn)
            .await?;
    let has_orders: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM orders LIMIT 1) o")
            .fetch_one(&mut *conn)
            .await?;
    let pages: Vec<CurrentPage> = sqlx::query_as(
        "SELECT id, slug, title, sumup_merchant_code, timezone FROM pages ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let calendars: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
        "SELECT c.id, c.slug, c.name, p.slug FROM calendars c \
         LEFT JOIN pages p ON p.id = c.page_id ORDER BY c.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let events: Vec<EventRecord> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT e.id, e.slug, c.slug AS calendar, e.name, e.starts_at, e.ends_at, e.state, \
                e.ticket_price, e.ticket_count, e.description, e.location, e.max_per_order, \
                e.archived_at, \
                (SELECT COUNT(*) FROM tickets t WHERE t.event_id = e.id AND t.state IN {SOLD}) \
                  AS sold \
         FROM events e JOIN calendars c ON c.id = e.calendar_id ORDER BY e.id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let types: Vec<(i64, i64, String, i64, Option<i64>, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT ty.id, ty.event_id, ty.name, ty.cost, ty.retired_at, \
                (SELECT COUNT(*) FROM tickets t WHERE t.ticket_type_id = ty.id \
                   AND t.state IN {SOLD}) \
             FROM ticket_types ty ORDER BY ty.id"
        )))
        .fetch_all(&mut *conn)
        .await?;
    let products: Vec<ProductRecord> = sqlx::query_as(
        "SELECT p.id, p.slug, p.title, p.price, pg.slug AS page, p.withdrawn_at FROM products p \
         LEFT JOIN pages pg ON pg.id = p.page_id ORDER BY p.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let users: Vec<(i64, String, String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, email, name, role, from_catalog, disabled_at FROM users \
         WHERE terminal_of IS NULL ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let readers: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT r.name, r.sumup_id, p.slug FROM readers r LEFT JOIN pages p ON p.id = r.page_id \
         ORDER BY r.name",
    )
    .fetch_all(&mut *conn)
    .await?;

    let mut types_of: HashMap<i64, Vec<CurrentTicketType>> = HashMap::new();
    for (id, event_id, name, cost, retired_at, sold) in types {
        types_of
            .entry(event_id)
            .or_default()
            .push(CurrentTicketType {
                id,
                name,
                cost,
                sold,
                retired: retired_at.is_some(),
            });
    }
    Ok(Current {
        currency,
        has_orders: has_orders > 0,
        pages,
        calendars: calendars
            .into_iter()
            .map(|(id, slug, name, page)| CurrentCalendar {
                id,
                slug,
                name,
                page,
            })
            .collect(),
        events: events
            .into_iter()
            .map(|e| CurrentEvent {
                types: types_of.remove(&e.id).unwrap_or_default(),
                id: e.id,
                slug: e.slug,
                calendar: e.calendar,
                name: e.name,
                starts_at: e.starts_at,
                ends_at: e.ends_at,
                state: e.state,
                ticket_price: e.ticket_price,
                ticket_count: e.ticket_count,
                description: e.description,
                location: e.location,
                max_per_order: e.max_per_order,
                archived: e.archived_at.is_some(),
                sold: e.sold,
            })
            .collect(),
        products: products
            .into_iter()
            .map(|p| CurrentProduct {
                id: p.id,
                slug: p.slug,
                title: p.title,
                price: p.price,
                page: p.page,
                withdrawn: p.withdrawn_at.is_some(),
            })
            .collect(),
        users: users
            .into_iter()
            .map(
                |(id, email, name, role, from_catalog, disabled_at)| CurrentUser {
                    id,
                    email,
                    name,
                    role: role.parse().unwrap_or(Role::Customer),
                    from_catalog: from_catalog != 0,
                    disabled: disabled_at.is_some(),
                },
            )
            .collect(),
        readers: readers
            .into_iter()
            .map(|(name, sumup_id, page)| CurrentReader {
                name,
                sumup_id,
                page,
            })
            .collect(),
    })
}

#[derive(sqlx::FromRow)]
struct ProductRecord {
    id: i64,
    slug: String,
    title: String,
    price: i64,
    page: Option<String>,
    withdrawn_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct EventRecord {
    id: i64,
    slug: String,
    calendar: String,
    name: String,
    starts_at: i64,
    ends_at: Option<i64>,
    state: String,
    ticket_price: Option<i64>,
    ticket_count: Option<i64>,
    description: Option<String>,
    location: Option<String>,
    max_per_order: i64,
    archived_at: Option<i64>,
    sold: i64,
}

/// The id of a row by its key, in the transaction (it may have been added by it).
async fn id_of(
    conn: &mut DbConn,
    table: &'static str,
    column: &'static str,
    key: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM {table} WHERE {column} = $1"
    )))
    .bind(key)
    .fetch_one(&mut *conn)
    .await
}

async fn page_id(
    conn: &mut DbConn,
    plan: &CatalogPlan,
    page: Option<usize>,
) -> Result<Option<i64>, sqlx::Error> {
    match page {
        Some(p) => Ok(Some(
            id_of(conn, "pages", "slug", &plan.pages[p].slug).await?,
        )),
        None => Ok(None),
    }
}

/// Makes one change.
async fn write(
    conn: &mut DbConn,
    plan: &CatalogPlan,
    op: &Op,
    passwords: &CatalogPasswords,
    now: Timestamp,
) -> Result<(), CatalogError> {
    match op {
        Op::Currency => {
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ('currency', $1) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(&plan.currency)
            .execute(&mut *conn)
            .await?;
        }
        Op::AddPage(p) | Op::UpdatePage { page: p, .. } => {
            let page = &plan.pages[*p];
            let sql = match op {
                Op::AddPage(_) => {
                    "INSERT INTO pages (slug, title, sumup_merchant_code, timezone) \
                     VALUES ($1, $2, $3, $4)"
                }
                _ => {
                    "UPDATE pages SET title = $2, sumup_merchant_code = $3, timezone = $4 \
                     WHERE slug = $1"
                }
            };
            sqlx::query(sql)
                .bind(&page.slug)
                .bind(&page.title)
                .bind(&page.sumup_merchant_code)
                .bind(&page.timezone)
                .execute(&mut *conn)
                .await?;
        }
        Op::AddCalendar(c) | Op::UpdateCalendar { calendar: c, .. } => {
            let calendar = &plan.calendars[*c];
            let page_id = page_id(conn, plan, calendar.page).await?;
            let sql = match op {
                Op::AddCalendar(_) => {
                    "INSERT INTO calendars (slug, name, page_id) VALUES ($1, $2, $3)"
                }
                _ => "UPDATE calendars SET name = $2, page_id = $3 WHERE slug = $1",
            };
            sqlx::query(sql)
                .bind(&calendar.slug)
                .bind(&calendar.name)
                .bind(page_id)
                .execute(&mut *conn)
                .await?;
        }
        Op::AddEvent(e) => {
            let event = &plan.events[*e];
            let calendar_id = id_of(
                conn,
                "calendars",
                "slug",
                &plan.calendars[event.calendar].slug,
            )
            .await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO events (slug, calendar_id, name, starts_at, ends_at, state, \
                     ticket_price, ticket_count, description, location, max_per_order) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(&event.slug)
            .bind(calendar_id)
            .bind(&event.name)
            .bind(event.starts_at)
            .bind(event.ends_at)
            .bind(event.state.as_str())
            .bind(event.ticket_price)
            .bind(event.ticket_count)
            .bind(&event.description)
            .bind(&event.location)
            .bind(event.max_per_order)
            .fetch_one(&mut *conn)
            .await?;
            for (name, cost) in &event.ticket_types {
                insert_ticket_type(conn, id, name, *cost).await?;
            }
        }
        Op::UpdateEvent { id, event, reprice } => {
            let plan_event = &plan.events[*event];
            let calendar_id = id_of(
                conn,
                "calendars",
                "slug",
                &plan.calendars[plan_event.calendar].slug,
            )
            .await?;
            // Checked again as it is written: a payment confirmed since the comparison
            // counts too.
            let updated = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE events SET calendar_id = $2, name = $3, starts_at = $4, ends_at = $5, \
                     state = $6, ticket_price = $7, ticket_count = $8, description = $9, \
                     location = $10, max_per_order = $11, archived_at = NULL \
                 WHERE id = $1 AND ($8 IS NULL OR $8 >= \
                     (SELECT COUNT(*) FROM tickets t WHERE t.event_id = $1 AND t.state IN {SOLD}))"
            )))
            .bind(id)
            .bind(calendar_id)
            .bind(&plan_event.name)
            .bind(plan_event.starts_at)
            .bind(plan_event.ends_at)
            .bind(plan_event.state.as_str())
            .bind(plan_event.ticket_price)
            .bind(plan_event.ticket_count)
            .bind(&plan_event.description)
            .bind(&plan_event.location)
            .bind(plan_event.max_per_order)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if updated == 0 {
                return Err(CatalogError::Refused(vec![format!(
                    "events[{event}] {:?}: ticket_count {} is below the tickets sold",
                    plan_event.name,
                    plan_event.ticket_count.unwrap_or_default()
                )]));
            }
            if *reprice && let Some(price) = plan_event.ticket_price {
                sqlx::query(
                    "UPDATE tickets SET previous_cost = COALESCE(previous_cost, cost), cost = $2 \
                     WHERE event_id = $1 AND ticket_type_id IS NULL AND state = 'pending' \
                       AND cost <> $2",
                )
                .bind(id)
                .bind(price)
                .execute(&mut *conn)
                .await?;
            }
        }
        Op::ArchiveEvent { id } => {
            sqlx::query("UPDATE events SET archived_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            // Not for sale any more: what waits in carts goes.
            sqlx::query(
                "UPDATE tickets SET state = 'cancelled' WHERE event_id = $1 AND state = 'pending'",
            )
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
        Op::AddTicketType {
            event_id,
            event,
            ticket_type,
        } => {
            let (name, cost) = &plan.events[*event].ticket_types[*ticket_type];
            insert_ticket_type(conn, *event_id, name, *cost).await?;
        }
        Op::UpdateTicketType { id, cost, reprice } => {
            sqlx::query("UPDATE ticket_types SET cost = $2, retired_at = NULL WHERE id = $1")
                .bind(id)
                .bind(cost)
                .execute(&mut *conn)
                .await?;
            if *reprice {
                sqlx::query(
                    "UPDATE tickets SET previous_cost = COALESCE(previous_cost, cost), cost = $2 \
                     WHERE ticket_type_id = $1 AND state = 'pending' AND cost <> $2",
                )
                .bind(id)
                .bind(cost)
                .execute(&mut *conn)
                .await?;
            }
        }
        Op::RetireTicketType { id } => {
            sqlx::query("UPDATE ticket_types SET retired_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "UPDATE tickets SET state = 'cancelled' \
                 WHERE ticket_type_id = $1 AND state = 'pending'",
            )
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
        Op::AddProduct(p) | Op::UpdateProduct { product: p, .. } => {
            let product = &plan.products[*p];
            let page_id = page_id(conn, plan, product.page).await?;
            let sql = match op {
                Op::AddProduct(_) => {
                    "INSERT INTO products (slug, title, price, page_id) VALUES ($1, $2, $3, $4)"
                }
                _ => {
                    "UPDATE products SET title = $2, price = $3, page_id = $4, \
                         withdrawn_at = NULL WHERE slug = $1"
                }
            };
            sqlx::query(sql)
                .bind(&product.slug)
                .bind(&product.title)
                .bind(product.price)
                .bind(page_id)
                .execute(&mut *conn)
                .await?;
        }
        Op::WithdrawProduct { id } => {
            sqlx::query("UPDATE products SET withdrawn_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            sqlx::query("DELETE FROM cart_lines WHERE product_id = $1 AND order_id IS NULL")
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        Op::AddUser(u) => {
            let user = &plan.users[*u];
            let hash = password_hash(passwords, &user.email, &user.password)?;
            sqlx::query(
                "INSERT INTO users (email, name, password_hash, created_at, role, from_catalog, \
                     catalog_password_hash) VALUES ($1, $2, $3, $4, $5, 1, $3)",
            )
            .bind(&user.email)
            .bind(&user.name)
            .bind(&hash)
            .bind(now)
            .bind(user.role.as_str())
            .execute(&mut *conn)
            .await?;
        }
        Op::UpdateUser { id, user, password } => {
            let user = &plan.users[*user];
            sqlx::query(
                "UPDATE users SET name = $2, role = $3, from_catalog = 1, disabled_at = NULL \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(&user.name)
            .bind(user.role.as_str())
            .execute(&mut *conn)
            .await?;
            if *password {
                let hash = password_hash(passwords, &user.email, &user.password)?;
                sqlx::query(
                    "UPDATE users SET password_hash = $2, catalog_password_hash = $2 WHERE id = $1",
                )
                .bind(id)
                .bind(&hash)
                .execute(&mut *conn)
                .await?;
                // A new password ends the sessions signed in with the old one.
                Store::end_sessions_of_user(conn, *id, now).await?;
            }
        }
        Op::DisableUser { id } => {
            sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        }
        Op::AddReader(r) | Op::UpdateReader(r) => {
            let reader = &plan.readers[*r];
            let page_id = page_id(conn, plan, reader.page).await?;
            sqlx::query(
                "INSERT INTO readers (name, sumup_id, page_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET sumup_id = excluded.sumup_id, \
                     page_id = excluded.page_id",
            )
            .bind(&reader.name)
            .bind(&reader.sumup_id)
            .bind(page_id)
            .execute(&mut *conn)
            .await?;
        }
        Op::RemoveReader(name) => {
            sqlx::query("DELETE FROM readers WHERE name = $1")
                .bind(name)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

fn password_hash(
    passwords: &CatalogPasswords,
    email: &str,
    password: &str,
) -> Result<String, CatalogError> {
    match passwords.hashes.get(email) {
        Some(hash) => Ok(hash.clone()),
        // Added by another apply between the hashing and this transaction.
        None => crate::credentials::hash_password(password)
            .map_err(|err| CatalogError::Load(err.to_string())),
    }
}

async fn insert_ticket_type(
    conn: &mut DbConn,
    event_id: i64,
    name: &str,
    cost: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO ticket_types (event_id, name, cost) VALUES ($1, $2, $3)")
        .bind(event_id)
        .bind(name)
        .bind(cost)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The seed sections, into a database the catalog has just filled: cart lines, bookings
/// and tickets.
async fn seed(conn: &mut DbConn, plan: &CatalogPlan, now: Timestamp) -> Result<(), sqlx::Error> {
    for line in &plan.cart {
        let user_id = id_of(conn, "users", "email", &plan.users[line.user].email).await?;
        let product = &plan.products[line.product];
        let product_id = id_of(conn, "products", "slug", &product.slug).await?;
        sqlx::query(
            "INSERT INTO cart_lines (user_id, product_id, quantity, added_price) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id)
        .bind(product_id)
        .bind(line.quantity)
        .bind(product.price)
        .execute(&mut *conn)
        .await?;
    }
    for booking in &plan.bookings {
        let user_id = id_of(conn, "users", "email", &plan.users[booking.user].email).await?;
        let calendar_id = id_of(
            conn,
            "calendars",
            "slug",
            &plan.calendars[booking.calendar].slug,
        )
        .await?;
        sqlx::query(
            "INSERT INTO bookings (user_id, calendar_id, name, starts_at, ends_at, cost, state) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
        )
        .bind(user_id)
        .bind(calendar_id)
        .bind(&booking.name)
        .bind(booking.starts_at)
        .bind(booking.ends_at)
        .bind(booking.cost)
        .execute(&mut *conn)
        .await?;
    }
    for batch in &plan.tickets {
        let event = &plan.events[batch.event];
        let event_id = id_of(conn, "events", "slug", &event.slug).await?;
        let ticket_type_id = match batch.ticket_type {
            Some(t) => Some(
                sqlx::query_scalar("SELECT id FROM ticket_types WHERE event_id = $1 AND name = $2")
                    .bind(event_id)
                    .bind(&event.ticket_types[t].0)
                    .fetch_one(&mut *conn)
                    .await?,
            ),
            None => None,
        };
        let new = NewTickets {
            event_id,
            user_id: id_of(conn, "users", "email", &plan.users[batch.user].email).await?,
            ticket_type_id,
            cost: batch.cost,
            quantity: batch.quantity,
            state: batch.state,
        };
        debug_assert!(
            new.state != TicketState::Reserved,
            "reserved tickets need an order"
        );
        for _ in 0..batch.quantity {
            insert_ticket(conn, &new, now).await?;
        }
    }
    Ok(())
}
