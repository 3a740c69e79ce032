//! The catalog file (TOML): parsed, then validated as a whole into a plan with every
//! reference resolved and every value parsed.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Deserialize;
use storefront_contract::{Money, Role, TicketState, UnknownName};

use super::CatalogError;
use crate::time::Timestamp;

/// The currencies SumUp takes (`sumup::Currency`) whose amounts have two decimals.
const CENT_CURRENCIES: [&str; 14] = [
    "BRL", "CHF", "COP", "CZK", "DKK", "EUR", "GBP", "HRK", "HUF", "NOK", "PLN", "RON", "SEK",
    "USD",
];

/// The catalog as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    currency: Option<String>,
    #[serde(default)]
    users: Vec<UserEntry>,
    #[serde(default)]
    pages: Vec<PageEntry>,
    #[serde(default)]
    calendars: Vec<CalendarEntry>,
    #[serde(default)]
    events: Vec<EventEntry>,
    #[serde(default)]
    products: Vec<ProductEntry>,
    #[serde(default)]
    cart: Vec<CartEntry>,
    #[serde(default)]
    bookings: Vec<BookingEntry>,
    #[serde(default)]
    tickets: Vec<TicketsEntry>,
    #[serde(default)]
    readers: Vec<ReaderEntry>,
}

/// A SumUp Solo card reader, by the name terminals use and SumUp's id for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReaderEntry {
    name: String,
    id: String,
    /// The page (venue) it takes payments for; any page when absent.
    page: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    email: String,
    password: String,
    name: String,
    /// `customer` (the default), `kiosk` or `staff`.
    role: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageEntry {
    slug: String,
    title: String,
    sumup_merchant_code: Option<String>,
    /// The venue's IANA time zone; the server's `--timezone` when absent.
    timezone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarEntry {
    slug: String,
    name: String,
    page: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventEntry {
    slug: String,
    calendar: String,
    name: String,
    starts_at: TimeValue,
    ends_at: Option<TimeValue>,
    state: Option<String>,
    ticket_price: Option<MoneyValue>,
    ticket_count: Option<i64>,
    description: Option<String>,
    location: Option<String>,
    max_per_order: Option<i64>,
    #[serde(default)]
    ticket_types: Vec<TicketTypeEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketTypeEntry {
    name: String,
    cost: MoneyValue,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductEntry {
    slug: String,
    title: String,
    price: MoneyValue,
    page: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CartEntry {
    user: String,
    product: String,
    quantity: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BookingEntry {
    user: String,
    calendar: String,
    name: String,
    starts_at: TimeValue,
    ends_at: Option<TimeValue>,
    cost: MoneyValue,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketsEntry {
    event: String,
    user: String,
    state: Option<String>,
    quantity: i64,
    ticket_type: Option<String>,
}

/// A time as text (RFC 3339 or `+Nd HH:MM`) or as a TOML date-time.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TimeValue {
    Text(String),
    Toml(toml::value::Datetime),
}

/// Money as text (`"12.50"`, exact) or as a TOML number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum MoneyValue {
    Text(String),
    Integer(i64),
    Float(f64),
}

/// A validated catalog: every reference resolved, every value parsed.
#[derive(Debug)]
pub struct CatalogPlan {
    pub currency: String,
    pub users: Vec<PlanUser>,
    pub pages: Vec<PlanPage>,
    pub calendars: Vec<PlanCalendar>,
    pub events: Vec<PlanEvent>,
    pub products: Vec<PlanProduct>,
    pub cart: Vec<PlanCartLine>,
    pub bookings: Vec<PlanBooking>,
    pub tickets: Vec<PlanTickets>,
    pub readers: Vec<PlanReader>,
}

impl CatalogPlan {
    /// What is allowed but probably not meant, each naming its entry: an event that is already
    /// over (never listed) or sold out from the start.
    pub fn warnings(&self, now: Timestamp) -> Vec<String> {
        let mut warnings = Vec::new();
        for (i, event) in self.events.iter().enumerate() {
            let entry = Entry {
                section: "events",
                index: i,
                label: &event.name,
            };
            if event.ticket_count == Some(0) {
                warnings.push(format!(
                    "{entry}: ticket_count 0: it is sold out from the start"
                ));
            }
            if event.ends_at.unwrap_or(event.starts_at) <= now {
                warnings.push(format!("{entry}: it is over: it is not listed"));
            }
        }
        warnings
    }
}

#[derive(Debug)]
pub struct PlanReader {
    pub name: String,
    pub sumup_id: String,
    /// Index into `pages`.
    pub page: Option<usize>,
}

#[derive(Debug)]
pub struct PlanUser {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: Role,
}

#[derive(Debug)]
pub struct PlanPage {
    pub slug: String,
    pub title: String,
    pub sumup_merchant_code: Option<String>,
    /// An IANA zone name, checked.
    pub timezone: Option<String>,
}

#[derive(Debug)]
pub struct PlanCalendar {
    pub slug: String,
    pub name: String,
    /// Index into `pages`.
    pub page: Option<usize>,
}

#[derive(Debug)]
pub struct PlanEvent {
    pub slug: String,
    pub calendar: usize,
    pub name: String,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub state: EventState,
    pub ticket_price: Option<i64>,
    pub ticket_count: Option<i64>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub max_per_order: i64,
    /// `(name, cost)`.
    pub ticket_types: Vec<(String, i64)>,
}

#[derive(Debug)]
pub struct PlanProduct {
    pub slug: String,
    pub title: String,
    pub price: i64,
    pub page: Option<usize>,
}

#[derive(Debug)]
pub struct PlanCartLine {
    pub user: usize,
    pub product: usize,
    pub quantity: i64,
}

#[derive(Debug)]
pub struct PlanBooking {
    pub user: usize,
    pub calendar: usize,
    pub name: String,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub cost: i64,
}

#[derive(Debug)]
pub struct PlanTickets {
    pub event: usize,
    pub user: usize,
    pub state: TicketState,
    pub quantity: u32,
    /// Index into the event's `ticket_types`.
    pub ticket_type: Option<usize>,
    pub cost: i64,
}

/// Names an entry in error messages: `events[3] "Wren Duo"`.
struct Entry<'a> {
    section: &'static str,
    index: usize,
    label: &'a str,
}

impl fmt::Display for Entry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}] {:?}", self.section, self.index, self.label)
    }
}

impl Entry<'_> {
    fn error(&self, message: impl Into<String>) -> CatalogError {
        CatalogError::Entry {
            entry: self.to_string(),
            message: message.into(),
        }
    }
}

/// Slugs (or emails) of one section, to resolve references and find duplicates.
fn index_of<'a>(
    section: &'static str,
    keys: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<HashMap<&'a str, usize>, CatalogError> {
    let mut index = HashMap::new();
    for (i, (key, label)) in keys.enumerate() {
        let entry = Entry {
            section,
            index: i,
            label,
        };
        if key.trim().is_empty() {
            return Err(entry.error("the slug must not be empty"));
        }
        if index.insert(key, i).is_some() {
            return Err(entry.error(format!("duplicate {:?}", key)));
        }
    }
    Ok(index)
}

fn resolve<K: std::borrow::Borrow<str> + std::hash::Hash + Eq>(
    entry: &Entry<'_>,
    index: &HashMap<K, usize>,
    what: &str,
    key: &str,
) -> Result<usize, CatalogError> {
    index
        .get(key)
        .copied()
        .ok_or_else(|| entry.error(format!("unknown {what} {key:?}")))
}

fn required_text(entry: &Entry<'_>, field: &str, value: &str) -> Result<String, CatalogError> {
    if value.trim().is_empty() {
        Err(entry.error(format!("{field} must not be empty")))
    } else {
        Ok(value.to_owned())
    }
}

impl MoneyValue {
    fn to_minor(&self, entry: &Entry<'_>, field: &str) -> Result<i64, CatalogError> {
        let text = match self {
            MoneyValue::Text(text) => text.clone(),
            MoneyValue::Integer(n) => n.to_string(),
            MoneyValue::Float(x) => x.to_string(),
        };
        Money::parse(&text)
            .ok()
            .and_then(Money::to_minor)
            .ok_or_else(|| {
                let why = Money::parse(&text)
                    .err()
                    .map_or_else(|| "is out of range".to_owned(), |e| e.to_string());
                entry.error(format!("{field} {text:?} {why}"))
            })
    }
}

impl TimeValue {
    fn to_timestamp(
        &self,
        entry: &Entry<'_>,
        field: &str,
        now: Timestamp,
    ) -> Result<Timestamp, CatalogError> {
        let text = match self {
            TimeValue::Text(text) => text.clone(),
            TimeValue::Toml(datetime) => datetime.to_string(),
        };
        parse_catalog_time(&text, now).ok_or_else(|| {
            entry.error(format!(
                "{field} {text:?} is not a time: write RFC 3339 (\"2026-12-01T19:30:00Z\") \
                 or days ahead (\"+3d 19:30\")"
            ))
        })
    }
}

/// RFC 3339, or `+Nd HH:MM`: N days after the load day, at that time of day (UTC).
fn parse_catalog_time(text: &str, now: Timestamp) -> Option<Timestamp> {
    let text = text.trim();
    if let Some(relative) = text.strip_prefix('+') {
        let (days, clock) = relative.split_once(' ')?;
        let days: i64 = days.strip_suffix('d')?.parse().ok()?;
        if !(0..=3650).contains(&days) {
            return None;
        }
        let clock = NaiveTime::parse_from_str(clock.trim(), "%H:%M").ok()?;
        let today = DateTime::<Utc>::from_timestamp(now, 0)?.date_naive();
        let date = today.checked_add_signed(Duration::days(days))?;
        return Some(date.and_time(clock).and_utc().timestamp());
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.timestamp())
}

storefront_contract::named_enum! {
    /// An event's state; only confirmed events are listed.
    pub enum EventState {
        Confirmed = "confirmed",
        Provisional = "provisional",
        Cancelled = "cancelled",
    }
}

fn parse_event_state(entry: &Entry<'_>, state: Option<&str>) -> Result<EventState, CatalogError> {
    state
        .unwrap_or("confirmed")
        .parse()
        .map_err(|err: UnknownName| {
            entry.error(format!(
                "state {:?} is not one of confirmed, provisional, cancelled",
                err.name
            ))
        })
}

/// A catalog may give tickets any state but `reserved`, which only checkout makes.
fn parse_ticket_state(entry: &Entry<'_>, state: Option<&str>) -> Result<TicketState, CatalogError> {
    let text = state.unwrap_or("confirmed");
    match text.parse() {
        Ok(TicketState::Reserved) | Err(_) => Err(entry.error(format!(
            "state {text:?} is not one of pending, confirmed, checked_in, cancelled"
        ))),
        Ok(state) => Ok(state),
    }
}

/// The keys of every section (slugs, emails), to resolve references; duplicates are refused.
struct Keys<'a> {
    users: HashMap<String, usize>,
    pages: HashMap<&'a str, usize>,
    calendars: HashMap<&'a str, usize>,
    events: HashMap<&'a str, usize>,
    products: HashMap<&'a str, usize>,
}

impl<'a> Keys<'a> {
    fn of(catalog: &'a Catalog) -> Result<Keys<'a>, CatalogError> {
        let emails: Vec<String> = catalog
            .users
            .iter()
            .map(|u| normal_email(&u.email))
            .collect();
        let users = index_of(
            "users",
            emails
                .iter()
                .zip(&catalog.users)
                .map(|(e, u)| (e.as_str(), u.email.as_str())),
        )?
        .into_iter()
        .map(|(email, at)| (email.to_owned(), at))
        .collect();
        Ok(Keys {
            users,
            pages: index_of(
                "pages",
                catalog
                    .pages
                    .iter()
                    .map(|p| (p.slug.as_str(), p.title.as_str())),
            )?,
            calendars: index_of(
                "calendars",
                catalog
                    .calendars
                    .iter()
                    .map(|c| (c.slug.as_str(), c.name.as_str())),
            )?,
            events: index_of(
                "events",
                catalog
                    .events
                    .iter()
                    .map(|e| (e.slug.as_str(), e.name.as_str())),
            )?,
            products: index_of(
                "products",
                catalog
                    .products
                    .iter()
                    .map(|p| (p.slug.as_str(), p.title.as_str())),
            )?,
        })
    }
}

/// Emails are compared trimmed and lower-cased, as sign-in does.
fn normal_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Catalog {
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        toml::from_str(text).map_err(|err| CatalogError::Syntax(err.to_string()))
    }

    /// Checks every entry and resolves every reference; `now` anchors relative times.
    pub fn validate(&self, now: Timestamp) -> Result<CatalogPlan, CatalogError> {
        if self.events.is_empty() && self.pages.is_empty() && self.users.is_empty() {
            return Err(CatalogError::Empty);
        }
        let currency = self.validate_currency()?;
        let keys = Keys::of(self)?;
        let events = self.validate_events(&keys, now)?;
        Ok(CatalogPlan {
            currency,
            users: self.validate_users(&keys)?,
            pages: self.validate_pages()?,
            calendars: self.validate_calendars(&keys)?,
            products: self.validate_products(&keys)?,
            cart: self.validate_cart(&keys)?,
            bookings: self.validate_bookings(&keys, now)?,
            tickets: self.validate_tickets(&keys, &events)?,
            readers: self.validate_readers(&keys)?,
            events,
        })
    }

    /// One of the ISO 4217 currencies SumUp takes, as SumUp's own crate lists them; of those,
    /// the ones with cents, since amounts here have two decimals (CLP has none).
    fn validate_currency(&self) -> Result<String, CatalogError> {
        let currency = self.currency.clone().unwrap_or_else(|| "GBP".to_owned());
        let known: Option<sumup::Currency> =
            serde_json::from_value(serde_json::Value::String(currency.clone())).ok();
        match known {
            Some(sumup::Currency::Other(_)) | None => Err(CatalogError::Entry {
                entry: "currency".to_owned(),
                message: format!(
                    "{currency:?} is not an ISO 4217 currency SumUp takes; use one of {}",
                    CENT_CURRENCIES.join(", ")
                ),
            }),
            Some(_) if !CENT_CURRENCIES.contains(&currency.as_str()) => Err(CatalogError::Entry {
                entry: "currency".to_owned(),
                message: format!(
                    "{currency:?} has no cents, and amounts here have two decimals; use one \
                         of {}",
                    CENT_CURRENCIES.join(", ")
                ),
            }),
            Some(_) => Ok(currency),
        }
    }

    /// Users: an email address, a name, a password and perhaps a role each.
    fn validate_users(&self, _keys: &Keys<'_>) -> Result<Vec<PlanUser>, CatalogError> {
        let mut users = Vec::new();
        for (i, user) in self.users.iter().enumerate() {
            let entry = Entry {
                section: "users",
                index: i,
                label: &user.email,
            };
            let email = normal_email(&user.email);
            if !email.contains('@') {
                return Err(entry.error("email must be an email address"));
            }
            if user.password.is_empty() {
                return Err(entry.error("password must not be empty"));
            }
            let role = match &user.role {
                None => Role::Customer,
                Some(role) => role.parse().map_err(|_| {
                    entry.error(format!(
                        "role must be customer, kiosk, staff or manager, not {role:?}"
                    ))
                })?,
            };
            users.push(PlanUser {
                email,
                name: required_text(&entry, "name", &user.name)?,
                password: user.password.clone(),
                role,
            });
        }
        Ok(users)
    }

    /// Pages (venues): a title each, and a merchant code where they have their own.
    fn validate_pages(&self) -> Result<Vec<PlanPage>, CatalogError> {
        let mut pages = Vec::new();
        for (i, page) in self.pages.iter().enumerate() {
            let entry = Entry {
                section: "pages",
                index: i,
                label: &page.title,
            };
            let timezone = match &page.timezone {
                Some(name) => Some(
                    crate::time::zone(name.trim())
                        .map_err(|err| entry.error(format!("timezone: {err}")))?
                        .name()
                        .to_owned(),
                ),
                None => None,
            };
            pages.push(PlanPage {
                slug: page.slug.clone(),
                title: required_text(&entry, "title", &page.title)?,
                sumup_merchant_code: page
                    .sumup_merchant_code
                    .clone()
                    .filter(|c| !c.trim().is_empty()),
                timezone,
            });
        }
        Ok(pages)
    }

    /// Calendars, each on a known page or none.
    fn validate_calendars(&self, keys: &Keys<'_>) -> Result<Vec<PlanCalendar>, CatalogError> {
        let mut calendars = Vec::new();
        for (i, calendar) in self.calendars.iter().enumerate() {
            let entry = Entry {
                section: "calendars",
                index: i,
                label: &calendar.name,
            };
            let page = match &calendar.page {
                Some(slug) => Some(resolve(&entry, &keys.pages, "page", slug)?),
                None => None,
            };
            calendars.push(PlanCalendar {
                slug: calendar.slug.clone(),
                name: required_text(&entry, "name", &calendar.name)?,
                page,
            });
        }
        Ok(calendars)
    }

    /// Events: a known calendar, times in order, prices, capacity, and ticket types.
    fn validate_events(
        &self,
        keys: &Keys<'_>,
        now: Timestamp,
    ) -> Result<Vec<PlanEvent>, CatalogError> {
        let mut events = Vec::new();
        for (i, event) in self.events.iter().enumerate() {
            let entry = Entry {
                section: "events",
                index: i,
                label: &event.name,
            };
            let calendar = resolve(&entry, &keys.calendars, "calendar", &event.calendar)?;
            let starts_at = event.starts_at.to_timestamp(&entry, "starts_at", now)?;
            let ends_at = match &event.ends_at {
                Some(time) => Some(time.to_timestamp(&entry, "ends_at", now)?),
                None => None,
            };
            if ends_at.is_some_and(|end| end <= starts_at) {
                return Err(entry.error("ends_at must be after starts_at"));
            }
            let ticket_price = match &event.ticket_price {
                Some(price) => Some(price.to_minor(&entry, "ticket_price")?),
                None => None,
            };
            if let Some(count) = event.ticket_count
                && count < 0
            {
                return Err(entry.error(format!("ticket_count {count} must not be negative")));
            }
            let max_per_order = event.max_per_order.unwrap_or(10);
            if !(1..=100).contains(&max_per_order) {
                return Err(entry.error(format!(
                    "max_per_order {max_per_order} must be between 1 and 100"
                )));
            }
            let mut ticket_types: Vec<(String, i64)> = Vec::new();
            for ticket_type in &event.ticket_types {
                let name = required_text(&entry, "a ticket type's name", &ticket_type.name)?;
                if ticket_types.iter().any(|(n, _)| *n == name) {
                    return Err(entry.error(format!("duplicate ticket type {name:?}")));
                }
                let cost = ticket_type
                    .cost
                    .to_minor(&entry, &format!("cost of ticket type {name:?}"))?;
                ticket_types.push((name, cost));
            }
            let state = parse_event_state(&entry, event.state.as_deref())?;
            if state == EventState::Confirmed && ticket_price.is_none() && ticket_types.is_empty() {
                return Err(entry.error(
                    "neither a ticket_price nor ticket types: a confirmed event without them \
                     would never be listed (give it a price, or make it provisional)",
                ));
            }
            events.push(PlanEvent {
                slug: event.slug.clone(),
                calendar,
                name: required_text(&entry, "name", &event.name)?,
                starts_at,
                ends_at,
                state,
                ticket_price,
                ticket_count: event.ticket_count,
                description: event.description.clone(),
                location: event.location.clone(),
                max_per_order,
                ticket_types,
            });
        }
        Ok(events)
    }

    /// Products: a title and a price each, on a known page or none.
    fn validate_products(&self, keys: &Keys<'_>) -> Result<Vec<PlanProduct>, CatalogError> {
        let mut products = Vec::new();
        for (i, product) in self.products.iter().enumerate() {
            let entry = Entry {
                section: "products",
                index: i,
                label: &product.title,
            };
            let page = match &product.page {
                Some(slug) => Some(resolve(&entry, &keys.pages, "page", slug)?),
                None => None,
            };
            products.push(PlanProduct {
                slug: product.slug.clone(),
                title: required_text(&entry, "title", &product.title)?,
                price: product.price.to_minor(&entry, "price")?,
                page,
            });
        }
        Ok(products)
    }

    /// Card readers: a unique name, SumUp's id, perhaps a page.
    fn validate_readers(&self, keys: &Keys<'_>) -> Result<Vec<PlanReader>, CatalogError> {
        index_of(
            "readers",
            self.readers
                .iter()
                .map(|r| (r.name.as_str(), r.name.as_str())),
        )?;
        let mut readers = Vec::new();
        for (i, reader) in self.readers.iter().enumerate() {
            let entry = Entry {
                section: "readers",
                index: i,
                label: &reader.name,
            };
            let page = match &reader.page {
                Some(slug) => Some(resolve(&entry, &keys.pages, "page", slug)?),
                None => None,
            };
            readers.push(PlanReader {
                name: reader.name.trim().to_owned(),
                sumup_id: required_text(&entry, "id", reader.id.trim())?,
                page,
            });
        }
        Ok(readers)
    }

    /// Product lines already in users' carts: one line per user and product.
    fn validate_cart(&self, keys: &Keys<'_>) -> Result<Vec<PlanCartLine>, CatalogError> {
        let mut cart: Vec<PlanCartLine> = Vec::new();
        for (i, line) in self.cart.iter().enumerate() {
            let label = format!("{} {}", line.user, line.product);
            let entry = Entry {
                section: "cart",
                index: i,
                label: &label,
            };
            let user = resolve(&entry, &keys.users, "user", &normal_email(&line.user))?;
            let product = resolve(&entry, &keys.products, "product", &line.product)?;
            if !(1..=99).contains(&line.quantity) {
                return Err(entry.error(format!(
                    "quantity {} must be between 1 and 99",
                    line.quantity
                )));
            }
            if cart.iter().any(|l| l.user == user && l.product == product) {
                return Err(entry.error("this user already has a line for this product"));
            }
            cart.push(PlanCartLine {
                user,
                product,
                quantity: line.quantity,
            });
        }
        Ok(cart)
    }

    /// Calendar bookings waiting in users' carts.
    fn validate_bookings(
        &self,
        keys: &Keys<'_>,
        now: Timestamp,
    ) -> Result<Vec<PlanBooking>, CatalogError> {
        let mut bookings = Vec::new();
        for (i, booking) in self.bookings.iter().enumerate() {
            let entry = Entry {
                section: "bookings",
                index: i,
                label: &booking.name,
            };
            let starts_at = booking.starts_at.to_timestamp(&entry, "starts_at", now)?;
            let ends_at = match &booking.ends_at {
                Some(time) => Some(time.to_timestamp(&entry, "ends_at", now)?),
                None => None,
            };
            if ends_at.is_some_and(|end| end <= starts_at) {
                return Err(entry.error("ends_at must be after starts_at"));
            }
            bookings.push(PlanBooking {
                user: resolve(&entry, &keys.users, "user", &normal_email(&booking.user))?,
                calendar: resolve(&entry, &keys.calendars, "calendar", &booking.calendar)?,
                name: required_text(&entry, "name", &booking.name)?,
                starts_at,
                ends_at,
                cost: booking.cost.to_minor(&entry, "cost")?,
            });
        }
        Ok(bookings)
    }

    /// Tickets users already hold, at their event's price or ticket type's cost.
    fn validate_tickets(
        &self,
        keys: &Keys<'_>,
        events: &[PlanEvent],
    ) -> Result<Vec<PlanTickets>, CatalogError> {
        let mut tickets = Vec::new();
        for (i, batch) in self.tickets.iter().enumerate() {
            let label = format!("{} {}", batch.event, batch.user);
            let entry = Entry {
                section: "tickets",
                index: i,
                label: &label,
            };
            let event_at = resolve(&entry, &keys.events, "event", &batch.event)?;
            let user = resolve(&entry, &keys.users, "user", &normal_email(&batch.user))?;
            let event = &events[event_at];
            let state = parse_ticket_state(&entry, batch.state.as_deref())?;
            let quantity = u32::try_from(batch.quantity)
                .ok()
                .filter(|q| (1..=1000).contains(q))
                .ok_or_else(|| {
                    entry.error(format!(
                        "quantity {} must be between 1 and 1000",
                        batch.quantity
                    ))
                })?;
            let (ticket_type, cost) = match (&batch.ticket_type, event.ticket_types.is_empty()) {
                (Some(name), false) => {
                    let at = event
                        .ticket_types
                        .iter()
                        .position(|(n, _)| n == name)
                        .ok_or_else(|| entry.error(format!("unknown ticket type {name:?}")))?;
                    (Some(at), event.ticket_types[at].1)
                }
                (None, false) => {
                    return Err(entry.error("ticket_type is required: the event has ticket types"));
                }
                (Some(name), true) => {
                    return Err(
                        entry.error(format!("unknown ticket type {name:?}: the event has none"))
                    );
                }
                (None, true) => match event.ticket_price {
                    Some(price) => (None, price),
                    None => {
                        return Err(entry.error("the event has no ticket price or ticket types"));
                    }
                },
            };
            tickets.push(PlanTickets {
                event: event_at,
                user,
                state,
                quantity,
                ticket_type,
                cost,
            });
        }
        Ok(tickets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = 1_795_000_000; // 2026-11-18T...

    fn reject(text: &str) -> String {
        Catalog::parse(text)
            .and_then(|c| c.validate(NOW))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn the_currency_is_one_sumup_takes_with_cents() {
        let with = |code: &str| format!("currency = \"{code}\"\n{BASE}");
        assert!(Catalog::parse(&with("EUR")).unwrap().validate(NOW).is_ok());
        assert!(
            reject(&with("XYZ"))
                .starts_with("currency: \"XYZ\" is not an ISO 4217 currency SumUp takes"),
            "{}",
            reject(&with("XYZ"))
        );
        assert!(reject(&with("JPY")).contains("not an ISO 4217 currency SumUp takes"));
        assert!(reject(&with("gbp")).contains("not an ISO 4217 currency SumUp takes"));
        assert!(reject(&with("CLP")).contains("has no cents"));
    }

    const BASE: &str = r#"
        [[users]]
        email = "Ann@Example.com"
        password = "pw"
        name = "Ann"
        [[pages]]
        slug = "granary"
        title = "The Granary"
        [[calendars]]
        slug = "barn"
        name = "Barn"
        page = "granary"
    "#;

    #[test]
    fn the_demo_catalog_is_valid() {
        let plan = Catalog::parse(crate::DEMO_CATALOG)
            .unwrap()
            .validate(NOW)
            .unwrap();
        assert!(plan.pages.len() >= 2);
        assert!(plan.users.iter().any(|u| u.email == "demo@example.com"));
        assert!(plan.events.iter().any(|e| !e.ticket_types.is_empty()));
        assert!(
            plan.events
                .iter()
                .any(|e| e.ticket_types.is_empty() && e.ticket_price.is_some())
        );
    }

    #[test]
    fn relative_times_are_days_ahead_at_a_time_of_day() {
        // NOW is 2026-11-18 20:26:40 UTC.
        let t = parse_catalog_time("+2d 19:30", NOW).unwrap();
        assert_eq!(
            DateTime::<Utc>::from_timestamp(t, 0).unwrap().to_rfc3339(),
            "2026-11-20T19:30:00+00:00"
        );
        assert_eq!(
            parse_catalog_time("2026-12-01T19:30:00Z", NOW),
            Some(1_796_153_400)
        );
        assert_eq!(parse_catalog_time("+2d 25:00", NOW), None);
        assert_eq!(parse_catalog_time("+xd 10:00", NOW), None);
        assert_eq!(parse_catalog_time("tomorrow", NOW), None);
    }

    #[test]
    fn an_empty_catalog_is_refused() {
        let err = Catalog::parse("currency = \"GBP\"\n")
            .unwrap()
            .validate(0)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the catalog is empty: it has no events, pages or users"
        );
    }

    #[test]
    fn errors_name_the_entry() {
        let text = format!(
            "{BASE}
            [[events]]
            slug = \"a\"
            calendar = \"barn\"
            name = \"First\"
            starts_at = \"+1d 19:00\"
            ticket_price = \"5\"
            [[events]]
            slug = \"b\"
            calendar = \"shed\"
            name = \"Wren Duo\"
            starts_at = \"+1d 19:00\"
            ticket_price = \"5\"
        "
        );
        assert_eq!(
            reject(&text),
            "events[1] \"Wren Duo\": unknown calendar \"shed\""
        );
    }

    #[test]
    fn bad_values_are_rejected() {
        let event = |extra: &str| {
            format!(
                "{BASE}
                [[events]]
                slug = \"a\"
                calendar = \"barn\"
                name = \"Gig\"
                {extra}"
            )
        };
        let err = reject(&event("starts_at = \"soon\"\nticket_price = \"5\""));
        assert!(
            err.starts_with("events[0] \"Gig\": starts_at \"soon\" is not a time"),
            "{err}"
        );
        let err = reject(&event(
            "starts_at = \"+1d 10:00\"\nticket_price = \"5.555\"",
        ));
        assert_eq!(
            err,
            "events[0] \"Gig\": ticket_price \"5.555\" has more than two decimal places"
        );
        let err = reject(&event("starts_at = \"+1d 10:00\"\nticket_price = \"-1\""));
        assert!(err.contains("must not be negative"), "{err}");
        let err = reject(&event("starts_at = \"+1d 10:00\"\nstate = \"maybe\""));
        assert!(err.contains("state \"maybe\""), "{err}");
        let err = reject(&event(
            "starts_at = 2026-12-01T19:30:00Z\nticket_price = 12.5\nwho = 1",
        ));
        assert!(err.contains("unknown field `who`"), "{err}");
        let err = reject(&event("starts_at = \"+1d 10:00\""));
        assert!(
            err.starts_with("events[0] \"Gig\": neither a ticket_price nor ticket types"),
            "{err}"
        );
        Catalog::parse(&event("starts_at = \"+1d 10:00\"\nstate = \"provisional\""))
            .and_then(|c| c.validate(NOW))
            .expect("an event that is not on sale needs no price yet");
    }

    #[test]
    fn toml_datetimes_and_numbers_are_accepted() {
        let text = format!(
            "{BASE}
            [[events]]
            slug = \"a\"
            calendar = \"barn\"
            name = \"Gig\"
            starts_at = 2026-12-01T19:30:00Z
            ticket_price = 12.5
        "
        );
        let plan = Catalog::parse(&text).unwrap().validate(NOW).unwrap();
        assert_eq!(plan.events[0].ticket_price, Some(1250));
        assert_eq!(plan.events[0].starts_at, 1_796_153_400);
    }

    #[test]
    fn duplicates_are_rejected() {
        let text = format!("{BASE}\n[[pages]]\nslug = \"granary\"\ntitle = \"Again\"\n");
        assert_eq!(reject(&text), "pages[1] \"Again\": duplicate \"granary\"");
        let text = format!(
            "{BASE}\n[[users]]\nemail = \"ann@example.com\"\npassword = \"x\"\nname = \"A\"\n"
        );
        assert_eq!(
            reject(&text),
            "users[1] \"ann@example.com\": duplicate \"ann@example.com\""
        );
    }

    #[test]
    fn tickets_need_a_type_when_the_event_has_types() {
        let text = format!(
            "{BASE}
            [[events]]
            slug = \"a\"
            calendar = \"barn\"
            name = \"Gig\"
            starts_at = \"+1d 10:00\"
            [[events.ticket_types]]
            name = \"Standard\"
            cost = \"10\"
            [[tickets]]
            event = \"a\"
            user = \"ann@example.com\"
            quantity = 2
        "
        );
        assert_eq!(
            reject(&text),
            "tickets[0] \"a ann@example.com\": ticket_type is required: the event has ticket types"
        );
        let fixed = text.replace("quantity = 2", "quantity = 2\nticket_type = \"Standard\"");
        let plan = Catalog::parse(&fixed).unwrap().validate(NOW).unwrap();
        assert_eq!(plan.tickets[0].cost, 1000);
        assert_eq!(plan.tickets[0].state, TicketState::Confirmed);
    }

    #[test]
    fn syntax_errors_say_where() {
        let err = reject("[[users]\nemail = 1");
        assert!(err.starts_with("the catalog is not valid TOML"), "{err}");
    }
}
