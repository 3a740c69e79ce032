//! Orders: made from the cart at checkout, their SumUp checkouts, and settling them.

use std::collections::HashMap;
use std::sync::LazyLock;

use sqlx::{FromRow, Row};

use storefront_contract::{
    CartBooking, CartProduct, CheckoutStatus, Money, OrderStatus, Page, PaymentMethod,
};

use super::events::page_from;
use super::refunds::{REFUND_SELECT, RefundRow};
use super::tickets::{TICKET_COLUMNS, TICKET_LEFT_JOINS, TICKET_SELECT, TicketRow};
use super::{Backend, DbConn, Store, id_list, parse_column};
use crate::time::{Timestamp, to_utc};

/// An order with its newest checkout, its states parsed.
#[derive(Clone, Debug)]
pub struct OrderRow {
    pub id: i64,
    pub user_id: i64,
    pub status: OrderStatus,
    pub total: i64,
    pub currency: String,
    pub created_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
    pub merchant_code: Option<String>,
    /// How many of its refunds are still to be sent.
    pub open_refunds: i64,
    pub page: Option<Page>,
    /// The newest SumUp checkout made for it.
    pub checkout: Option<CheckoutRow>,
    /// The secret of its ticket page, once paid.
    pub tickets_secret: Option<String>,
    /// The kiosk terminal it was sold at.
    pub terminal: Option<String>,
    /// A guest-list order, made by the box office with nothing to pay.
    pub comp: bool,
    /// Who it is for: the account's holder, or whom the box office or the kiosk named.
    pub buyer_name: String,
    pub buyer_email: Option<String>,
    /// What kinds of item it holds, so that showing it reads only those.
    pub holds: Holds,
}

/// What kinds of item an order holds (as read with the order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holds {
    pub products: bool,
    pub bookings: bool,
    pub tickets: bool,
    pub refunds: bool,
}

impl Holds {
    /// Every kind: read them all.
    pub const ALL: Holds = Holds {
        products: true,
        bookings: true,
        tickets: true,
        refunds: true,
    };

    /// Nothing at all.
    pub const NONE: Holds = Holds {
        products: false,
        bookings: false,
        tickets: false,
        refunds: false,
    };

    /// From the order's `holds` column: one bit per kind (see [`ORDER_SELECT`]).
    fn from_bits(bits: i64) -> Holds {
        Holds {
            products: bits & 1 != 0,
            bookings: bits & 2 != 0,
            tickets: bits & 4 != 0,
            refunds: bits & 8 != 0,
        }
    }
}

/// Unknown, so every kind: the safe assumption (nothing is left unread).
impl Default for Holds {
    fn default() -> Holds {
        Holds::ALL
    }
}

/// One SumUp checkout made for an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutRow {
    pub sumup_id: String,
    pub place: PayPlace,
    pub status: CheckoutStatus,
    pub created_at: Timestamp,
}

/// Where a checkout is paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayPlace {
    /// SumUp's hosted payment page.
    Hosted { url: String },
    /// A SumUp Solo card reader.
    Reader {
        /// The reader's name in the catalog.
        name: String,
        /// SumUp's id of the reader.
        reader_id: String,
        /// The payment's id at SumUp, as its notifications name it.
        client_transaction_id: String,
    },
}

impl PayPlace {
    pub fn method(&self) -> PaymentMethod {
        match self {
            PayPlace::Hosted { .. } => PaymentMethod::Hosted,
            PayPlace::Reader { .. } => PaymentMethod::Reader,
        }
    }

    /// The hosted page's address; `None` for a reader.
    pub fn url(&self) -> Option<&str> {
        match self {
            PayPlace::Hosted { url } => Some(url),
            PayPlace::Reader { .. } => None,
        }
    }

    /// The reader's name; `None` for the hosted page.
    pub fn reader(&self) -> Option<&str> {
        match self {
            PayPlace::Hosted { .. } => None,
            PayPlace::Reader { name, .. } => Some(name),
        }
    }
}

/// How a checkout is looked up.
#[derive(Clone, Copy, Debug)]
pub enum CheckoutKey<'a> {
    /// SumUp's checkout id.
    Id(&'a str),
    /// A reader payment's `client_transaction_id`.
    ReaderPayment(&'a str),
}

impl<'a> CheckoutKey<'a> {
    /// Whether this is the key of `checkout`.
    pub fn names(&self, checkout: &CheckoutRow) -> bool {
        match (self, &checkout.place) {
            (CheckoutKey::Id(id), _) => checkout.sumup_id == *id,
            (
                CheckoutKey::ReaderPayment(id),
                PayPlace::Reader {
                    client_transaction_id,
                    ..
                },
            ) => client_transaction_id == id,
            (CheckoutKey::ReaderPayment(_), PayPlace::Hosted { .. }) => false,
        }
    }

    /// The condition on the checkouts table (as `ch`) that finds it, and the value of its
    /// one parameter.
    fn condition(self) -> (&'static str, &'a str) {
        match self {
            CheckoutKey::Id(id) => ("ch.sumup_id = $1", id),
            CheckoutKey::ReaderPayment(id) => ("ch.reference = $1 AND ch.method = 'reader'", id),
        }
    }
}

/// A checkout's row as the database holds it.
#[derive(sqlx::FromRow)]
struct CheckoutRecord {
    checkout_id: Option<String>,
    checkout_url: Option<String>,
    checkout_status: Option<String>,
    checkout_created_at: Option<i64>,
    checkout_method: Option<String>,
    checkout_reference: Option<String>,
    checkout_reader: Option<String>,
    checkout_reader_id: Option<String>,
}

impl CheckoutRecord {
    /// `None` for the missing checkout of an outer join.
    fn parse(self) -> Result<Option<CheckoutRow>, sqlx::Error> {
        let (Some(sumup_id), Some(status), Some(created_at), Some(method)) = (
            self.checkout_id,
            self.checkout_status,
            self.checkout_created_at,
            self.checkout_method,
        ) else {
            return Ok(None);
        };
        let place = match parse_column::<PaymentMethod>("method", method)? {
            PaymentMethod::Hosted => PayPlace::Hosted {
                url: self.checkout_url.ok_or_else(|| missing("url"))?,
            },
            PaymentMethod::Comp => return Err(missing("a checkout for a guest-list order")),
            PaymentMethod::Reader => PayPlace::Reader {
                name: self.checkout_reader.ok_or_else(|| missing("reader"))?,
                reader_id: self
                    .checkout_reader_id
                    .ok_or_else(|| missing("reader_id"))?,
                client_transaction_id: self
                    .checkout_reference
                    .ok_or_else(|| missing("reference"))?,
            },
        };
        Ok(Some(CheckoutRow {
            sumup_id,
            place,
            status: parse_column("checkout_status", status)?,
            created_at,
        }))
    }
}

/// The columns of [`CheckoutRecord`], from the checkouts table as `ch`.
macro_rules! checkout_columns {
    () => {
        "ch.sumup_id AS checkout_id, ch.url AS checkout_url, ch.status AS checkout_status, \
         ch.created_at AS checkout_created_at, ch.method AS checkout_method, \
         ch.reference AS checkout_reference, ch.reader AS checkout_reader, \
         ch.reader_id AS checkout_reader_id"
    };
}

/// An order as the database holds it; states are checked when it becomes an [`OrderRow`].
#[derive(sqlx::FromRow)]
struct OrderRecord {
    id: i64,
    user_id: i64,
    status: String,
    total: i64,
    currency: String,
    created_at: i64,
    paid_at: Option<i64>,
    cancelled_at: Option<i64>,
    merchant_code: Option<String>,
    open_refunds: i64,
    holds: i64,
    method: Option<String>,
    buyer_name: String,
    buyer_email: Option<String>,
    page_id: Option<i64>,
    page_slug: Option<String>,
    page_title: Option<String>,
    #[sqlx(flatten)]
    checkout: CheckoutRecord,
    tickets_secret: Option<String>,
    terminal: Option<String>,
}

impl TryFrom<OrderRecord> for OrderRow {
    type Error = sqlx::Error;

    fn try_from(record: OrderRecord) -> Result<OrderRow, sqlx::Error> {
        let checkout = record.checkout.parse()?;
        Ok(OrderRow {
            id: record.id,
            user_id: record.user_id,
            status: parse_column("status", record.status)?,
            total: record.total,
            currency: record.currency,
            created_at: record.created_at,
            paid_at: record.paid_at,
            cancelled_at: record.cancelled_at,
            merchant_code: record.merchant_code,
            open_refunds: record.open_refunds,
            page: page_from(record.page_id, &record.page_slug, &record.page_title),
            checkout,
            tickets_secret: record.tickets_secret,
            terminal: record.terminal,
            comp: record.method.as_deref() == Some(COMP),
            buyer_name: record.buyer_name,
            buyer_email: record.buyer_email,
            holds: Holds::from_bits(record.holds),
        })
    }
}

/// Everything an order holds, for showing it.
#[derive(Clone, Debug, Default)]
pub struct OrderItems {
    pub products: Vec<CartProduct>,
    pub bookings: Vec<CartBooking>,
    pub tickets: Vec<TicketRow>,
    /// Its refunds, oldest first.
    pub refunds: Vec<RefundRow>,
}

/// The `method` of a guest-list order.
pub(super) const COMP: &str = "comp";

#[derive(sqlx::FromRow)]
struct OrderLineRecord {
    order_id: i64,
    id: i64,
    product_id: i64,
    title: String,
    unit_price: Option<i64>,
    quantity: i64,
}

#[derive(sqlx::FromRow)]
struct OrderBookingRecord {
    order_id: i64,
    id: i64,
    name: String,
    calendar_name: String,
    starts_at: i64,
    ends_at: Option<i64>,
    cost: i64,
}

/// Whose order items to read.
#[derive(Clone, Copy)]
enum ItemScope<'a> {
    Order(i64),
    User(i64),
    /// These orders (ids read from the database).
    Orders(&'a [i64]),
}

fn missing(column: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: "is empty where a value is required".into(),
    }
}

// What checkout claims from the cart, for the order whose id is `$order`: `$2` is the
// buyer; in scope `cart` the whole cart, in scope `page` only what is of the page `$3`. One
// text for both databases. The scopes are two texts, not `$3 IS NULL OR …`: PostgreSQL
// cannot fold that in a plan it keeps, so it planned checkout again for every buyer.
macro_rules! claim_tickets {
    ($order:literal, cart) => {
        concat!(
            "state = 'reserved', order_id = ",
            $order,
            " WHERE user_id = $2 AND state = 'pending'"
        )
    };
    ($order:literal, page) => {
        concat!(
            claim_tickets!($order, cart),
            " AND event_id IN (SELECT e.id FROM events e JOIN calendars c \
               ON c.id = e.calendar_id WHERE c.page_id = $3)"
        )
    };
}

macro_rules! claim_bookings {
    ($order:literal, cart) => {
        concat!(
            "state = 'ordered', order_id = ",
            $order,
            " WHERE user_id = $2 AND state = 'pending'"
        )
    };
    ($order:literal, page) => {
        concat!(
            claim_bookings!($order, cart),
            " AND calendar_id IN (SELECT c.id FROM calendars c WHERE c.page_id = $3)"
        )
    };
}

macro_rules! claim_lines {
    ($order:literal, cart) => {
        concat!(
            "order_id = ",
            $order,
            ", unit_price = (SELECT pr.price FROM products pr WHERE pr.id = cart_lines.product_id) \
             WHERE user_id = $2 AND order_id IS NULL"
        )
    };
    ($order:literal, page) => {
        concat!(
            claim_lines!($order, cart),
            " AND product_id IN (SELECT pr.id FROM products pr WHERE pr.page_id = $3)"
        )
    };
}

/// The calendars `c` in scope of checkout's claim, as [`cart_events!`] takes them: every
/// one, or page `$3`'s. (Two texts, each with a plan of its own.)
macro_rules! claim_scope {
    (cart) => {
        "TRUE"
    };
    (page) => {
        "c.page_id = $3"
    };
}

/// Checkout on PostgreSQL, in one statement: the order's id is taken first, the cart's
/// items in scope are claimed for it, and the order is written with what was claimed (its
/// total priced by the server; its page when everything in it is of one, else the page in
/// scope; that page's merchant, else the shop's), or not at all when nothing was: also when
/// checkout refuses the cart (`refused`, see `limits`), in which case nothing is claimed. The
/// items' references to the order are checked at the statement's end, once it is written.
/// `$1` now, `$2` the buyer, `$3` the page in scope, `$4` the currency, `$5` the shop's
/// merchant code.
macro_rules! claim_into_order {
    ($scope:ident) => {
        concat!(
            "WITH new_order AS (SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id), \
             refused AS (",
            refused_cart_events!("$2", claim_scope!($scope)),
            "), \
             t AS (UPDATE tickets SET ",
            claim_tickets!("(SELECT id FROM new_order)", $scope),
            " AND NOT EXISTS (SELECT 1 FROM refused) RETURNING *), \
             b AS (UPDATE bookings SET ",
            claim_bookings!("(SELECT id FROM new_order)", $scope),
            " AND NOT EXISTS (SELECT 1 FROM refused) RETURNING cost, calendar_id), \
             l AS (UPDATE cart_lines SET ",
            claim_lines!("(SELECT id FROM new_order)", $scope),
            " AND NOT EXISTS (SELECT 1 FROM refused) RETURNING unit_price * quantity AS cost, product_id), \
             items AS ( \
               SELECT t.cost, c.page_id FROM t JOIN events e ON e.id = t.event_id \
                 JOIN calendars c ON c.id = e.calendar_id \
               UNION ALL SELECT b.cost, c.page_id FROM b JOIN calendars c ON c.id = b.calendar_id \
               UNION ALL SELECT l.cost, pr.page_id FROM l JOIN products pr ON pr.id = l.product_id), \
             scope AS ( \
               SELECT COUNT(*) AS claimed, CAST(COALESCE(SUM(cost), 0) AS BIGINT) AS total, \
                      CASE WHEN COUNT(DISTINCT page_id) = 1 AND COUNT(page_id) = COUNT(*) \
                       THEN MIN(page_id) END AS page_id \
               FROM items), \
             made AS (INSERT INTO orders \
                 (id, user_id, status, total, currency, created_at, page_id, merchant_code) \
               SELECT new_order.id, $2, 'pending', scope.total, $4, $1, \
                      COALESCE(scope.page_id, $3), COALESCE(p.sumup_merchant_code, $5) \
               FROM new_order CROSS JOIN scope LEFT JOIN pages p ON p.id = scope.page_id \
               WHERE scope.claimed > 0 \
               RETURNING *) "
        )
    };
}

/// An order's columns as [`OrderRecord`] reads them, for orders `o` from `$from`, the kinds of
/// item it holds (`holds`, one bit per kind: products 1, bookings 2, tickets 4, refunds 8)
/// given by `$holds`.
macro_rules! order_select {
    ($holds:expr, $from:literal) => {
        concat!(
            "SELECT o.id, o.user_id, o.status, o.total, o.currency, o.created_at, o.paid_at, \
               o.cancelled_at, o.merchant_code, o.tickets_secret, buyer.terminal, o.method, \
               CASE WHEN o.method = 'comp' OR buyer.terminal IS NOT NULL THEN o.buyer_email \
                    ELSE COALESCE(o.buyer_email, buyer.email) END AS buyer_email, \
               COALESCE(o.buyer_name, buyer.name) AS buyer_name, \
               (SELECT COUNT(*) FROM refunds r WHERE r.order_id = o.id \
                  AND r.status IN ('due', 'refunding')) AS open_refunds, ",
            $holds,
            " AS holds, p.id AS page_id, p.slug AS page_slug, p.title AS page_title, ",
            checkout_columns!(),
            " FROM ",
            $from,
            " JOIN users buyer ON buyer.id = o.user_id \
             LEFT JOIN pages p ON p.id = o.page_id \
             LEFT JOIN checkouts ch ON ch.id = \
               (SELECT MAX(c2.id) FROM checkouts c2 WHERE c2.order_id = o.id)"
        )
    };
}

/// The kinds of item order `o` holds, as [`order_select!`] takes them, from what it holds.
macro_rules! order_holds {
    ($products:literal, $bookings:literal, $tickets:literal, $refunds:literal) => {
        concat!(
            "CAST((CASE WHEN EXISTS (SELECT 1 FROM ",
            $products,
            ") THEN 1 ELSE 0 END) + (CASE WHEN EXISTS (SELECT 1 FROM ",
            $bookings,
            ") THEN 2 ELSE 0 END) + (CASE WHEN EXISTS (SELECT 1 FROM ",
            $tickets,
            ") THEN 4 ELSE 0 END) + (CASE WHEN EXISTS (SELECT 1 FROM ",
            $refunds,
            ") THEN 8 ELSE 0 END) AS BIGINT)"
        )
    };
}

const ORDER_SELECT: &str = order_select!(
    order_holds!(
        "cart_lines l WHERE l.order_id = o.id",
        "bookings b WHERE b.order_id = o.id",
        "tickets t WHERE t.order_id = o.id",
        "refunds r WHERE r.order_id = o.id"
    ),
    "orders o"
);

/// An order with its tickets, a row for each (one row when it has none), the order chosen
/// by `which`.
fn order_with_tickets(which: &str) -> String {
    format!(
        "SELECT o.*, {TICKET_COLUMNS} FROM ({ORDER_SELECT} WHERE {which}) o \
         LEFT JOIN tickets t ON t.order_id = o.id {TICKET_LEFT_JOINS} ORDER BY t.id"
    )
}

/// Checkout's claim on PostgreSQL with what it made read back by the same statement, as
/// [`order_with_tickets`] reads an order: the order (from what was written, which the
/// statement's own reads do not see) and the tickets claimed.
fn claim_answered(claim: &str) -> String {
    const MADE: &str = order_select!(
        order_holds!("l", "b", "t", "refunds r WHERE r.order_id = o.id"),
        "made o"
    );
    format!(
        "{claim} SELECT o.*, {TICKET_COLUMNS} FROM ({MADE}) o \
         LEFT JOIN t ON t.order_id = o.id {TICKET_LEFT_JOINS} ORDER BY t.id"
    )
}

static CLAIM_CART: LazyLock<String> = LazyLock::new(|| claim_answered(claim_into_order!(cart)));
static CLAIM_PAGE: LazyLock<String> = LazyLock::new(|| claim_answered(claim_into_order!(page)));

/// What checkout's claim left to read: the rows its statement answered with (PostgreSQL; none
/// when nothing was claimed), or the order it made (SQLite).
enum Claimed {
    Read(Vec<sqlx::any::AnyRow>),
    Made(i64),
}

/// Checkout on SQLite, in one transaction on its one writer (see
/// [`Store::create_order_from_cart`]): the order's id, or `None` when nothing was claimed.
async fn claim_on_sqlite(
    conn: &mut DbConn,
    user_id: i64,
    page_id: Option<i64>,
    currency: &str,
    default_merchant_code: &str,
    now: Timestamp,
) -> Result<Option<i64>, sqlx::Error> {
    let mut tx = conn.begin().await?;
    let refused: Option<i64> = sqlx::query_scalar(concat!(
        refused_cart_events!("$1", "($2 IS NULL OR c.page_id = $2)"),
        " LIMIT 1"
    ))
    .bind(user_id)
    .bind(page_id)
    .fetch_optional(&mut *tx)
    .await?;
    if refused.is_some() {
        tx.rollback().await?;
        return Ok(None);
    }
    let order_id: i64 = sqlx::query_scalar(
        "INSERT INTO orders (user_id, status, total, currency, created_at) \
         VALUES ($1, 'pending', 0, $2, $3) RETURNING id",
    )
    .bind(user_id)
    .bind(currency)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let mut claimed = 0;
    let claims = match page_id {
        None => [
            concat!("UPDATE tickets SET ", claim_tickets!("$1", cart)),
            concat!("UPDATE bookings SET ", claim_bookings!("$1", cart)),
            concat!("UPDATE cart_lines SET ", claim_lines!("$1", cart)),
        ],
        Some(_) => [
            concat!("UPDATE tickets SET ", claim_tickets!("$1", page)),
            concat!("UPDATE bookings SET ", claim_bookings!("$1", page)),
            concat!("UPDATE cart_lines SET ", claim_lines!("$1", page)),
        ],
    };
    for claim in claims {
        let claim = sqlx::query(claim).bind(order_id).bind(user_id);
        let claim = match page_id {
            Some(page_id) => claim.bind(page_id),
            None => claim,
        };
        claimed += claim.execute(&mut *tx).await?.rows_affected();
    }
    if claimed == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    sqlx::query(
        "UPDATE orders SET total = scope.total, page_id = COALESCE(scope.page_id, $2), \
             merchant_code = COALESCE(p.sumup_merchant_code, $3) \
         FROM (SELECT CAST(COALESCE((SELECT SUM(cost) FROM tickets WHERE order_id = $1), 0) \
                  + COALESCE((SELECT SUM(cost) FROM bookings WHERE order_id = $1), 0) \
                  + COALESCE((SELECT SUM(unit_price * quantity) FROM cart_lines \
                              WHERE order_id = $1), 0) AS BIGINT) AS total, \
                      CASE WHEN COUNT(DISTINCT items.page_id) = 1 \
                            AND COUNT(items.page_id) = COUNT(*) \
                       THEN MIN(items.page_id) END AS page_id \
               FROM ( \
                 SELECT c.page_id AS page_id FROM tickets t JOIN events e ON e.id = t.event_id \
                   JOIN calendars c ON c.id = e.calendar_id WHERE t.order_id = $1 \
                 UNION ALL SELECT c.page_id FROM bookings b \
                   JOIN calendars c ON c.id = b.calendar_id WHERE b.order_id = $1 \
                 UNION ALL SELECT pr.page_id FROM cart_lines l \
                   JOIN products pr ON pr.id = l.product_id WHERE l.order_id = $1) items \
              ) scope \
         LEFT JOIN pages p ON p.id = scope.page_id \
         WHERE orders.id = $1",
    )
    .bind(order_id)
    .bind(page_id)
    .bind(default_merchant_code)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(order_id))
}

static ORDER_WITH_TICKETS_BY_ID: LazyLock<String> =
    LazyLock::new(|| order_with_tickets("o.id = $1"));
static ORDER_WITH_TICKETS_OF_USER: LazyLock<String> =
    LazyLock::new(|| order_with_tickets("o.id = $1 AND o.user_id = $2"));

impl Store {
    /// Moves everything in scope from the user's cart into a new order, in one transaction:
    /// pending tickets become reserved, pending bookings ordered, product lines take their
    /// price. `None` (and nothing changed) when nothing is in scope, or when the cart holds
    /// an event checkout refuses ([`Store::cart_events`] says which).
    pub async fn create_order_from_cart(
        &self,
        user_id: i64,
        page_id: Option<i64>,
        currency: &str,
        default_merchant_code: &str,
        now: Timestamp,
    ) -> Result<Option<(OrderRow, OrderItems)>, sqlx::Error> {
        let (currency, default_merchant_code) =
            (currency.to_owned(), default_merchant_code.to_owned());
        let claimed = self
            .in_turn(move |store| async move {
                let mut conn = store.writing().await?;
                if store.backend == Backend::Postgres {
                    // One statement, atomic without a transaction around it, which answers
                    // with the order: one round trip.
                    let claim = match page_id {
                        None => CLAIM_CART.as_str(),
                        Some(_) => CLAIM_PAGE.as_str(),
                    };
                    let rows = sqlx::query(claim)
                        .bind(now)
                        .bind(user_id)
                        .bind(page_id)
                        .bind(currency)
                        .bind(default_merchant_code)
                        .fetch_all(&mut *conn)
                        .await?;
                    return Ok(Claimed::Read(rows));
                }
                claim_on_sqlite(
                    &mut conn,
                    user_id,
                    page_id,
                    &currency,
                    &default_merchant_code,
                    now,
                )
                .await
                .map(|order_id| order_id.map_or(Claimed::Read(Vec::new()), Claimed::Made))
            })
            .await?;
        match claimed {
            Claimed::Read(rows) => self.order_of_rows(&rows).await,
            Claimed::Made(order_id) => self.order_with_items(order_id).await,
        }
    }

    /// The order a checkout was made for, as [`Store::order`] reads it (its newest checkout
    /// with it, which is usually the one the key names).
    pub async fn order_of_checkout(
        &self,
        key: CheckoutKey<'_>,
    ) -> Result<Option<OrderRow>, sqlx::Error> {
        let (condition, value) = key.condition();
        sqlx::query_as::<_, OrderRecord>(sqlx::AssertSqlSafe(format!(
            "{ORDER_SELECT} WHERE o.id = (SELECT ch.order_id FROM checkouts ch WHERE {condition})"
        )))
        .bind(value)
        .fetch_optional(&self.read)
        .await?
        .map(OrderRow::try_from)
        .transpose()
    }

    pub async fn order(&self, order_id: i64) -> Result<Option<OrderRow>, sqlx::Error> {
        sqlx::query_as::<_, OrderRecord>(sqlx::AssertSqlSafe(format!(
            "{ORDER_SELECT} WHERE o.id = $1"
        )))
        .bind(order_id)
        .fetch_optional(&self.read)
        .await?
        .map(OrderRow::try_from)
        .transpose()
    }

    /// The order as [`Store::order`] reads it, with everything it holds: its tickets read
    /// with it in one statement, other kinds of item (rarer) after.
    pub async fn order_with_items(
        &self,
        order_id: i64,
    ) -> Result<Option<(OrderRow, OrderItems)>, sqlx::Error> {
        self.read_order_with_items(sqlx::query(ORDER_WITH_TICKETS_BY_ID.as_str()).bind(order_id))
            .await
    }

    /// The user's order with everything it holds, as [`Store::order_with_items`] reads it;
    /// another user's is as absent as an unknown one.
    pub async fn users_order_with_items(
        &self,
        user_id: i64,
        order_id: i64,
    ) -> Result<Option<(OrderRow, OrderItems)>, sqlx::Error> {
        self.read_order_with_items(
            sqlx::query(ORDER_WITH_TICKETS_OF_USER.as_str())
                .bind(order_id)
                .bind(user_id),
        )
        .await
    }

    async fn read_order_with_items(
        &self,
        query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<Option<(OrderRow, OrderItems)>, sqlx::Error> {
        let rows = query.fetch_all(&self.read).await?;
        self.order_of_rows(&rows).await
    }

    /// The order an order's rows with its tickets hold (see [`order_with_tickets`]), with
    /// what else it holds read from the database; `None` when there are none.
    async fn order_of_rows(
        &self,
        rows: &[sqlx::any::AnyRow],
    ) -> Result<Option<(OrderRow, OrderItems)>, sqlx::Error> {
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let order = OrderRow::try_from(OrderRecord::from_row(first)?)?;
        let mut items = OrderItems::default();
        for row in rows {
            // No ticket: one row, of the order alone.
            if row.try_get::<Option<i64>, _>("ticket_id")?.is_some() {
                items.tickets.push(TicketRow::from_row(row)?);
            }
        }
        let rest = Holds {
            tickets: false,
            ..order.holds
        };
        if rest != Holds::NONE {
            let more = self
                .items_of_orders(ItemScope::Order(order.id), rest)
                .await?
                .remove(&order.id)
                .unwrap_or_default();
            items.products = more.products;
            items.bookings = more.bookings;
            items.refunds = more.refunds;
        }
        Ok(Some((order, items)))
    }

    /// The paid order whose ticket page has this secret.
    pub async fn order_by_tickets_secret(
        &self,
        secret: &str,
    ) -> Result<Option<OrderRow>, sqlx::Error> {
        sqlx::query_as::<_, OrderRecord>(sqlx::AssertSqlSafe(format!(
            "{ORDER_SELECT} WHERE o.tickets_secret = $1 AND o.status = 'paid'"
        )))
        .bind(secret)
        .fetch_optional(&self.read)
        .await?
        .map(OrderRow::try_from)
        .transpose()
    }

    /// Gives a ticket page to every paid order that has none (paid before ticket pages
    /// existed); `secret` makes each one's.
    pub async fn give_ticket_pages(&self, secret: impl Fn() -> String) -> Result<u64, sqlx::Error> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM orders WHERE status = 'paid' AND tickets_secret IS NULL",
        )
        .fetch_all(&self.write)
        .await?;
        let mut given = 0;
        for id in ids {
            given += sqlx::query(
                "UPDATE orders SET tickets_secret = $2 WHERE id = $1 AND tickets_secret IS NULL",
            )
            .bind(id)
            .bind(secret())
            .execute(&self.write)
            .await?
            .rows_affected();
        }
        Ok(given)
    }

    /// The user's order; another user's is as absent as an unknown one.
    pub async fn users_order(
        &self,
        user_id: i64,
        order_id: i64,
    ) -> Result<Option<OrderRow>, sqlx::Error> {
        sqlx::query_as::<_, OrderRecord>(sqlx::AssertSqlSafe(format!(
            "{ORDER_SELECT} WHERE o.id = $1 AND o.user_id = $2"
        )))
        .bind(order_id)
        .bind(user_id)
        .fetch_optional(&self.read)
        .await?
        .map(OrderRow::try_from)
        .transpose()
    }

    /// These orders, newest first.
    pub async fn orders_by_ids(&self, ids: &[i64]) -> Result<Vec<OrderRow>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_as::<_, OrderRecord>(sqlx::AssertSqlSafe(format!(
            "{ORDER_SELECT} WHERE o.id IN ({}) ORDER BY o.id DESC",
            id_list(ids)
        )))
        .fetch_all(&self.read)
        .await?
        .into_iter()
        .map(OrderRow::try_from)
        .collect()
    }

    pub async fn users_orders(&self, user_id: i64) -> Result<Vec<OrderRow>, sqlx::Error> {
        sqlx::query_as::<_, OrderRecord>(sqlx::AssertSqlSafe(format!(
            "{ORDER_SELECT} WHERE o.user_id = $1 ORDER BY o.created_at DESC, o.id DESC"
        )))
        .bind(user_id)
        .fetch_all(&self.read)
        .await?
        .into_iter()
        .map(OrderRow::try_from)
        .collect()
    }

    pub async fn order_items(&self, order_id: i64) -> Result<OrderItems, sqlx::Error> {
        let mut items = self
            .items_of_orders(ItemScope::Order(order_id), Holds::ALL)
            .await?;
        Ok(items.remove(&order_id).unwrap_or_default())
    }

    /// What `order` holds, reading only the kinds of item it was read with: an order of
    /// tickets alone is one read, not four.
    pub async fn items_of_order(&self, order: &OrderRow) -> Result<OrderItems, sqlx::Error> {
        if order.holds == Holds::NONE {
            return Ok(OrderItems::default());
        }
        let mut items = self
            .items_of_orders(ItemScope::Order(order.id), order.holds)
            .await?;
        Ok(items.remove(&order.id).unwrap_or_default())
    }

    /// Everything in every order of the user, by order id: three queries however many orders.
    pub async fn users_order_items(
        &self,
        user_id: i64,
    ) -> Result<HashMap<i64, OrderItems>, sqlx::Error> {
        self.items_of_orders(ItemScope::User(user_id), Holds::ALL)
            .await
    }

    /// Everything in these orders, by order id.
    pub async fn items_of(&self, orders: &[i64]) -> Result<HashMap<i64, OrderItems>, sqlx::Error> {
        if orders.is_empty() {
            return Ok(HashMap::new());
        }
        self.items_of_orders(ItemScope::Orders(orders), Holds::ALL)
            .await
    }

    async fn items_of_orders(
        &self,
        scope: ItemScope<'_>,
        holds: Holds,
    ) -> Result<HashMap<i64, OrderItems>, sqlx::Error> {
        let (filter, id) = match scope {
            ItemScope::Order(id) => ("= $1".to_owned(), id),
            ItemScope::User(id) => (
                "IN (SELECT id FROM orders WHERE user_id = $1)".to_owned(),
                id,
            ),
            // `$1` is bound and unused.
            ItemScope::Orders(ids) => (format!("IN ({}) AND $1 = $1", id_list(ids)), 0),
        };
        // One connection for the three reads: one turn to wait for (and on PostgreSQL one
        // check of the connection when the pool takes it back) instead of three.
        let mut conn = self.reading().await?;
        let mut items: HashMap<i64, OrderItems> = HashMap::new();
        let lines: Vec<OrderLineRecord> = if !holds.products {
            Vec::new()
        } else {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT l.order_id, l.id, l.product_id, pr.title, l.unit_price, l.quantity \
                 FROM cart_lines l JOIN products pr ON pr.id = l.product_id \
                 WHERE l.order_id {filter} ORDER BY l.id"
            )))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
        };
        for line in lines {
            // A line is priced when it joins an order; the columns are filled together.
            let unit_price =
                Money::from_minor(line.unit_price.ok_or_else(|| missing("unit_price"))?);
            let quantity =
                u32::try_from(line.quantity).map_err(|err| sqlx::Error::ColumnDecode {
                    index: "quantity".to_owned(),
                    source: Box::new(err),
                })?;
            let product = CartProduct {
                id: line.id,
                product_id: line.product_id,
                title: line.title,
                unit_price,
                quantity,
                line_total: unit_price * quantity,
                previous_unit_price: None,
            };
            items
                .entry(line.order_id)
                .or_default()
                .products
                .push(product);
        }
        let bookings: Vec<OrderBookingRecord> = if !holds.bookings {
            Vec::new()
        } else {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT b.order_id, b.id, b.name, c.name AS calendar_name, b.starts_at, b.ends_at, b.cost \
                 FROM bookings b JOIN calendars c ON c.id = b.calendar_id \
                 WHERE b.order_id {filter} ORDER BY b.starts_at, b.id"
            )))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
        };
        for booking in bookings {
            let entry = CartBooking {
                id: booking.id,
                name: booking.name,
                calendar_name: booking.calendar_name,
                starts_at: to_utc(booking.starts_at),
                ends_at: booking.ends_at.map(to_utc),
                cost: Money::from_minor(booking.cost),
            };
            items
                .entry(booking.order_id)
                .or_default()
                .bookings
                .push(entry);
        }
        let tickets = if !holds.tickets {
            Vec::new()
        } else {
            sqlx::query_as::<_, TicketRow>(sqlx::AssertSqlSafe(format!(
                "{TICKET_SELECT} WHERE t.order_id {filter} ORDER BY t.id"
            )))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
        };
        for ticket in tickets {
            if let Some(order_id) = ticket.order_id {
                items.entry(order_id).or_default().tickets.push(ticket);
            }
        }
        let refunds: Vec<RefundRow> = if !holds.refunds {
            Vec::new()
        } else {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{REFUND_SELECT} WHERE r.order_id {filter} ORDER BY r.id"
            )))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
        };
        for refund in refunds {
            items
                .entry(refund.order_id)
                .or_default()
                .refunds
                .push(refund);
        }
        Ok(items)
    }

    /// The user's tickets that left the cart for an order (reserved, confirmed, checked in,
    /// or cancelled with it); one taken out of the cart was never bought and is not listed.
    pub async fn users_tickets(&self, user_id: i64) -> Result<Vec<TicketRow>, sqlx::Error> {
        sqlx::query_as::<_, TicketRow>(sqlx::AssertSqlSafe(format!(
            "{TICKET_SELECT} WHERE t.user_id = $1 AND t.state <> 'pending' \
             AND NOT (t.state = 'cancelled' AND t.order_id IS NULL) \
             ORDER BY e.starts_at, t.id"
        )))
        .bind(user_id)
        .fetch_all(&self.read)
        .await
    }

    pub async fn checkout_attempts(&self, order_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM checkouts WHERE order_id = $1")
            .bind(order_id)
            .fetch_one(&self.read)
            .await
    }

    /// Remembers a SumUp checkout for `order` (once, however often it is reported);
    /// `reference` is the hosted checkout's reference, or the reader payment's
    /// `client_transaction_id`. A pending order's first checkout is one statement: no
    /// checkout before it can end meanwhile, and the order already waits for it.
    pub async fn record_checkout(
        &self,
        order: &OrderRow,
        checkout: &CheckoutRow,
        reference: &str,
    ) -> Result<(), sqlx::Error> {
        let (checkout, reference) = (checkout.clone(), reference.to_owned());
        let order_id = order.id;
        let first = order.checkout.is_none() && order.status == OrderStatus::Pending;
        self.in_turn(move |store| async move {
            let (reader, reader_id) = match &checkout.place {
                PayPlace::Hosted { .. } => (None, None),
                PayPlace::Reader {
                    name, reader_id, ..
                } => (Some(name.as_str()), Some(reader_id.as_str())),
            };
            let insert = sqlx::query(
                "INSERT INTO checkouts (order_id, sumup_id, reference, url, status, created_at, \
                 method, reader, reader_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (sumup_id) DO NOTHING",
            )
            .bind(order_id)
            .bind(&checkout.sumup_id)
            .bind(reference)
            .bind(checkout.place.url().unwrap_or_default())
            .bind(checkout.status.as_str())
            .bind(checkout.created_at)
            .bind(checkout.place.method().as_str())
            .bind(reader)
            .bind(reader_id);
            let mut conn = store.writing().await?;
            if first {
                insert.execute(&mut *conn).await?;
                return Ok(());
            }
            let mut tx = conn.begin().await?;
            // Against the end of the checkout before this one being applied meanwhile.
            store.hold_order(&mut tx, order_id).await?;
            insert.execute(&mut *tx).await?;
            // A new attempt: a failed order waits for this payment now.
            sqlx::query("UPDATE orders SET status = 'pending' WHERE id = $1 AND status = 'failed'")
                .bind(order_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// A checkout we made, and the order it was made for: by SumUp's checkout id, or (for a
    /// reader payment) by its `client_transaction_id`.
    pub async fn checkout_of(
        &self,
        key: CheckoutKey<'_>,
    ) -> Result<Option<(i64, CheckoutRow)>, sqlx::Error> {
        #[derive(sqlx::FromRow)]
        struct Found {
            order_id: i64,
            #[sqlx(flatten)]
            checkout: CheckoutRecord,
        }
        let (condition, value) = key.condition();
        let found: Option<Found> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            concat!(
                "SELECT ch.order_id, ",
                checkout_columns!(),
                " FROM checkouts ch WHERE {}"
            ),
            condition
        )))
        .bind(value)
        .fetch_optional(&self.read)
        .await?;
        match found {
            Some(found) => Ok(found
                .checkout
                .parse()?
                .map(|checkout| (found.order_id, checkout))),
            None => Ok(None),
        }
    }

    pub async fn set_checkout_status(
        &self,
        sumup_id: &str,
        status: CheckoutStatus,
    ) -> Result<bool, sqlx::Error> {
        let done =
            sqlx::query("UPDATE checkouts SET status = $2 WHERE sumup_id = $1 AND status <> $2")
                .bind(sumup_id)
                .bind(status.as_str())
                .execute(&self.write)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}

impl Store {
    pub async fn page_id(&self, slug: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM pages WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.read)
            .await
    }
}

#[cfg(test)]
mod tests {
    use storefront_contract::CheckoutStatus;

    use super::super::{connect_database, searched_by_index};
    use super::{
        CheckoutKey, CheckoutRow, Holds, ORDER_WITH_TICKETS_BY_ID, ORDER_WITH_TICKETS_OF_USER,
        PayPlace,
    };

    #[test]
    fn a_key_names_its_own_checkout_only() {
        let hosted = CheckoutRow {
            sumup_id: "c1".to_owned(),
            place: PayPlace::Hosted {
                url: "https://pay.example/c1".to_owned(),
            },
            status: CheckoutStatus::Pending,
            created_at: 0,
        };
        let reader = CheckoutRow {
            sumup_id: "c2".to_owned(),
            place: PayPlace::Reader {
                name: "door".to_owned(),
                reader_id: "rdr_1".to_owned(),
                client_transaction_id: "t2".to_owned(),
            },
            ..hosted.clone()
        };
        assert!(CheckoutKey::Id("c1").names(&hosted));
        assert!(!CheckoutKey::Id("c2").names(&hosted));
        assert!(CheckoutKey::Id("c2").names(&reader));
        assert!(CheckoutKey::ReaderPayment("t2").names(&reader));
        assert!(!CheckoutKey::ReaderPayment("t1").names(&reader));
        assert!(!CheckoutKey::ReaderPayment("c1").names(&hosted));
    }

    #[test]
    fn each_kind_of_item_has_its_own_bit() {
        assert_eq!(Holds::from_bits(0), Holds::NONE);
        assert_eq!(Holds::from_bits(15), Holds::ALL);
        let tickets_and_refunds = Holds::from_bits(4 | 8);
        assert!(tickets_and_refunds.tickets && tickets_and_refunds.refunds);
        assert!(!tickets_and_refunds.products && !tickets_and_refunds.bookings);
        let products_and_bookings = Holds::from_bits(1 | 2);
        assert!(products_and_bookings.products && products_and_bookings.bookings);
        assert!(!products_and_bookings.tickets && !products_and_bookings.refunds);
    }

    #[tokio::test]
    async fn an_order_with_its_tickets_is_read_through_indexes_alone() {
        // A step that scans or materializes a table reads every ticket ever sold: the order's
        // reads would grow slower with sales.
        let store = connect_database("sqlite::memory:").await.unwrap();
        for (sql, params) in [
            (ORDER_WITH_TICKETS_BY_ID.as_str(), 1),
            (ORDER_WITH_TICKETS_OF_USER.as_str(), 2),
        ] {
            let steps = searched_by_index(&store, sql, params).await;
            assert!(
                steps.iter().any(|step| step.contains("tickets_order")),
                "{steps:#?}"
            );
        }
    }
}
