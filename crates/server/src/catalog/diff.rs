//! What applying a catalog would change, decided without I/O: the plan against what the
//! database holds now, compared by key (pages, calendars, events and products by slug, ticket
//! types by name within their event, users by email, readers by name). Every change is said
//! in words; every reason to refuse is collected, each naming its entry.

use std::collections::{HashMap, HashSet};
use std::fmt::Display;

use storefront_contract::{Money, Role};

use super::file::{CatalogPlan, PlanEvent};
use crate::time::{Timestamp, to_utc};

/// What the database holds of the catalog now.
#[derive(Clone, Debug, Default)]
pub struct Current {
    pub currency: Option<String>,
    pub has_orders: bool,
    pub pages: Vec<CurrentPage>,
    pub calendars: Vec<CurrentCalendar>,
    pub events: Vec<CurrentEvent>,
    pub products: Vec<CurrentProduct>,
    pub users: Vec<CurrentUser>,
    pub readers: Vec<CurrentReader>,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CurrentPage {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub sumup_merchant_code: Option<String>,
    pub timezone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentCalendar {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub page: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentEvent {
    pub id: i64,
    pub slug: String,
    pub calendar: String,
    pub name: String,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub state: String,
    pub ticket_price: Option<i64>,
    pub ticket_count: Option<i64>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub max_per_order: i64,
    pub archived: bool,
    /// Reserved, confirmed and checked in.
    pub sold: i64,
    pub types: Vec<CurrentTicketType>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentTicketType {
    pub id: i64,
    pub name: String,
    pub cost: i64,
    pub sold: i64,
    pub retired: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentProduct {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub price: i64,
    pub page: Option<String>,
    pub withdrawn: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Brought in by a catalog (not signed up, not a terminal's own cart).
    pub from_catalog: bool,
    pub disabled: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentReader {
    pub name: String,
    pub sumup_id: String,
    pub page: Option<String>,
}

pub use storefront_contract::{CatalogChangeKind as ChangeKind, CatalogEntity as EntityKind};

/// One change, in words, and how to make it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub kind: EntityKind,
    pub key: String,
    pub change: ChangeKind,
    pub detail: String,
    pub(crate) op: Op,
}

/// How the store makes a change; indices are into the plan's sections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Currency,
    AddPage(usize),
    UpdatePage {
        id: i64,
        page: usize,
    },
    AddCalendar(usize),
    UpdateCalendar {
        id: i64,
        calendar: usize,
    },
    AddEvent(usize),
    /// `reprice`: the ticket price changed, so pending tickets without a type follow it.
    UpdateEvent {
        id: i64,
        event: usize,
        reprice: bool,
    },
    ArchiveEvent {
        id: i64,
    },
    AddTicketType {
        event_id: i64,
        event: usize,
        ticket_type: usize,
    },
    UpdateTicketType {
        id: i64,
        cost: i64,
        reprice: bool,
    },
    RetireTicketType {
        id: i64,
    },
    AddProduct(usize),
    UpdateProduct {
        id: i64,
        product: usize,
    },
    WithdrawProduct {
        id: i64,
    },
    AddUser(usize),
    UpdateUser {
        id: i64,
        user: usize,
        password: bool,
    },
    DisableUser {
        id: i64,
    },
    AddReader(usize),
    UpdateReader(usize),
    RemoveReader(String),
}

impl Op {
    /// Whether making the change reads or writes tickets: a price that pending tickets
    /// follow, a capacity checked against what is sold, what is taken off sale.
    pub(crate) fn touches_tickets(&self) -> bool {
        matches!(
            self,
            Op::UpdateEvent { .. }
                | Op::ArchiveEvent { .. }
                | Op::UpdateTicketType { .. }
                | Op::RetireTicketType { .. }
        )
    }
}

/// The changes a plan makes, or why it may not be applied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    pub changes: Vec<Change>,
    pub refusals: Vec<String>,
}

impl Diff {
    fn push(&mut self, kind: EntityKind, key: &str, change: ChangeKind, detail: String, op: Op) {
        self.changes.push(Change {
            kind,
            key: key.to_owned(),
            change,
            detail,
            op,
        });
    }
}

/// `1 ticket`, `52 tickets`.
fn tickets(n: i64) -> String {
    match n {
        1 => "1 ticket".to_owned(),
        n => format!("{n} tickets"),
    }
}

fn money(minor: i64) -> String {
    Money::from_minor(minor).to_string()
}

fn time(at: Timestamp) -> String {
    to_utc(at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn shown<T: Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "none".to_owned(), |v| v.to_string())
}

/// Field by field, `name old → new` for what differs.
#[derive(Default)]
struct Fields(Vec<String>);

impl Fields {
    fn compare<T: PartialEq>(&mut self, name: &str, old: &T, new: &T, show: impl Fn(&T) -> String) {
        if old != new {
            self.0.push(format!("{name} {} → {}", show(old), show(new)));
        }
    }

    fn text(&mut self, name: &str, old: &str, new: &str) {
        self.compare(name, &old, &new, |v| format!("{v:?}"));
    }

    fn said(self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.0.join("; "))
    }
}

/// Compares the plan with what the database holds. `password_changed` names the users
/// whose password in the file differs from the one the catalog last set.
pub fn diff(plan: &CatalogPlan, current: &Current, password_changed: &HashSet<String>) -> Diff {
    let mut diff = Diff::default();
    currency(plan, current, &mut diff);
    pages(plan, current, &mut diff);
    calendars(plan, current, &mut diff);
    events(plan, current, &mut diff);
    products(plan, current, &mut diff);
    users(plan, current, password_changed, &mut diff);
    readers(plan, current, &mut diff);
    diff
}

fn currency(plan: &CatalogPlan, current: &Current, diff: &mut Diff) {
    match &current.currency {
        Some(now) if *now == plan.currency => {}
        Some(now) if current.has_orders => diff.refusals.push(format!(
            "currency: {:?} cannot replace {now:?} while orders exist",
            plan.currency
        )),
        now => diff.push(
            EntityKind::Currency,
            &plan.currency,
            if now.is_some() {
                ChangeKind::Changed
            } else {
                ChangeKind::Added
            },
            match now {
                Some(now) => format!("{now} → {}", plan.currency),
                None => plan.currency.clone(),
            },
            Op::Currency,
        ),
    }
}

fn pages(plan: &CatalogPlan, current: &Current, diff: &mut Diff) {
    let by_slug: HashMap<&str, &CurrentPage> =
        current.pages.iter().map(|p| (p.slug.as_str(), p)).collect();
    for (i, page) in plan.pages.iter().enumerate() {
        match by_slug.get(page.slug.as_str()) {
            None => diff.push(
                EntityKind::Page,
                &page.slug,
                ChangeKind::Added,
                format!("{:?}", page.title),
                Op::AddPage(i),
            ),
            Some(now) => {
                let mut fields = Fields::default();
                fields.text("title", &now.title, &page.title);
                fields.compare(
                    "sumup_merchant_code",
                    &now.sumup_merchant_code,
                    &page.sumup_merchant_code,
                    shown,
                );
                fields.compare("timezone", &now.timezone, &page.timezone, shown);
                if let Some(detail) = fields.said() {
                    diff.push(
                        EntityKind::Page,
                        &page.slug,
                        ChangeKind::Changed,
                        detail,
                        Op::UpdatePage {
                            id: now.id,
                            page: i,
                        },
                    );
                }
            }
        }
    }
}

fn page_slug(plan: &CatalogPlan, page: Option<usize>) -> Option<String> {
    page.map(|p| plan.pages[p].slug.clone())
}

fn calendars(plan: &CatalogPlan, current: &Current, diff: &mut Diff) {
    let by_slug: HashMap<&str, &CurrentCalendar> = current
        .calendars
        .iter()
        .map(|c| (c.slug.as_str(), c))
        .collect();
    for (i, calendar) in plan.calendars.iter().enumerate() {
        let page = page_slug(plan, calendar.page);
        match by_slug.get(calendar.slug.as_str()) {
            None => diff.push(
                EntityKind::Calendar,
                &calendar.slug,
                ChangeKind::Added,
                format!("{:?}", calendar.name),
                Op::AddCalendar(i),
            ),
            Some(now) => {
                let mut fields = Fields::default();
                fields.text("name", &now.name, &calendar.name);
                fields.compare("page", &now.page, &page, shown);
                if let Some(detail) = fields.said() {
                    diff.push(
                        EntityKind::Calendar,
                        &calendar.slug,
                        ChangeKind::Changed,
                        detail,
                        Op::UpdateCalendar {
                            id: now.id,
                            calendar: i,
                        },
                    );
                }
            }
        }
    }
}

/// `events[3] "Wren Duo"`, as the file's entry is named.
fn event_entry(i: usize, event: &PlanEvent) -> String {
    format!("events[{i}] {:?}", event.name)
}

fn events(plan: &CatalogPlan, current: &Current, diff: &mut Diff) {
    let by_slug: HashMap<&str, &CurrentEvent> = current
        .events
        .iter()
        .map(|e| (e.slug.as_str(), e))
        .collect();
    for (i, event) in plan.events.iter().enumerate() {
        let Some(now) = by_slug.get(event.slug.as_str()) else {
            diff.push(
                EntityKind::Event,
                &event.slug,
                ChangeKind::Added,
                format!("{:?} at {}", event.name, time(event.starts_at)),
                Op::AddEvent(i),
            );
            continue;
        };
        if let Some(count) = event.ticket_count
            && count < now.sold
        {
            diff.refusals.push(format!(
                "{}: ticket_count {count} is below the {} sold",
                event_entry(i, event),
                tickets(now.sold)
            ));
        }
        let calendar = &plan.calendars[event.calendar].slug;
        let mut fields = Fields::default();
        fields.text("name", &now.name, &event.name);
        fields.text("calendar", &now.calendar, calendar);
        fields.compare("starts_at", &now.starts_at, &event.starts_at, |t| time(*t));
        fields.compare("ends_at", &now.ends_at, &event.ends_at, |t| {
            t.map_or_else(|| "none".to_owned(), time)
        });
        fields.text("state", &now.state, event.state.as_str());
        fields.compare(
            "ticket_price",
            &now.ticket_price,
            &event.ticket_price,
            |p| p.map_or_else(|| "none".to_owned(), money),
        );
        fields.compare(
            "ticket_count",
            &now.ticket_count,
            &event.ticket_count,
            shown,
        );
        fields.compare("description", &now.description, &event.description, |d| {
            d.as_ref()
                .map_or_else(|| "none".to_owned(), |d| format!("{d:?}"))
        });
        fields.compare("location", &now.location, &event.location, |d| {
            d.as_ref()
                .map_or_else(|| "none".to_owned(), |d| format!("{d:?}"))
        });
        fields.compare(
            "max_per_order",
            &now.max_per_order,
            &event.max_per_order,
            i64::to_string,
        );
        if now.archived {
            fields.0.push("archived → on the catalog again".to_owned());
        }
        if let Some(detail) = fields.said() {
            diff.push(
                EntityKind::Event,
                &event.slug,
                ChangeKind::Changed,
                detail,
                Op::UpdateEvent {
                    id: now.id,
                    event: i,
                    reprice: now.ticket_price != event.ticket_price,
                },
            );
        }
        ticket_types(i, event, now, diff);
    }
    let in_file: HashSet<&str> = plan.events.iter().map(|e| e.slug.as_str()).collect();
    for now in &current.events {
        if !now.archived && !in_file.contains(now.slug.as_str()) {
            let sold = match now.sold {
                0 => String::new(),
                1 => "; its 1 ticket sold stays valid".to_owned(),
                n => format!("; its {} sold stay valid", tickets(n)),
            };
            diff.push(
                EntityKind::Event,
                &now.slug,
                ChangeKind::Retired,
                format!("{:?} archived{sold}", now.name),
                Op::ArchiveEvent { id: now.id },
            );
        }
    }
}

fn ticket_types(i: usize, event: &PlanEvent, now: &CurrentEvent, diff: &mut Diff) {
    let key = |name: &str| format!("{}/{name}", event.slug);
    for (t, (name, cost)) in event.ticket_types.iter().enumerate() {
        match now.types.iter().find(|ty| ty.name == *name) {
            None => diff.push(
                EntityKind::TicketType,
                &key(name),
                ChangeKind::Added,
                money(*cost),
                Op::AddTicketType {
                    event_id: now.id,
                    event: i,
                    ticket_type: t,
                },
            ),
            Some(ty) if ty.cost != *cost || ty.retired => {
                let mut fields = Fields::default();
                fields.compare("cost", &ty.cost, cost, |c| money(*c));
                if ty.retired {
                    fields.0.push("retired → on sale again".to_owned());
                }
                diff.push(
                    EntityKind::TicketType,
                    &key(name),
                    ChangeKind::Changed,
                    fields.said().unwrap_or_default(),
                    Op::UpdateTicketType {
                        id: ty.id,
                        cost: *cost,
                        reprice: ty.cost != *cost,
                    },
                );
            }
            Some(_) => {}
        }
    }
    for ty in &now.types {
        if ty.retired || event.ticket_types.iter().any(|(name, _)| *name == ty.name) {
            continue;
        }
        if ty.sold > 0 {
            diff.refusals.push(format!(
                "{}: ticket type {:?} has {} sold and cannot be removed or renamed",
                event_entry(i, event),
                ty.name,
                tickets(ty.sold)
            ));
        } else {
            diff.push(
                EntityKind::TicketType,
                &key(&ty.name),
                ChangeKind::Retired,
                "no longer on sale".to_owned(),
                Op::RetireTicketType { id: ty.id },
            );
        }
    }
}

fn products(plan: &CatalogPlan, current: &Current, diff: &mut Diff) {
    let by_slug: HashMap<&str, &CurrentProduct> = current
        .products
        .iter()
        .map(|p| (p.slug.as_str(), p))
        .collect();
    for (i, product) in plan.products.iter().enumerate() {
        let page = page_slug(plan, product.page);
        match by_slug.get(product.slug.as_str()) {
            None => diff.push(
                EntityKind::Product,
                &product.slug,
                ChangeKind::Added,
                format!("{:?} at {}", product.title, money(product.price)),
                Op::AddProduct(i),
            ),
            Some(now) => {
                let mut fields = Fields::default();
                fields.text("title", &now.title, &product.title);
                fields.compare("price", &now.price, &product.price, |p| money(*p));
                fields.compare("page", &now.page, &page, shown);
                if now.withdrawn {
                    fields.0.push("withdrawn → on sale again".to_owned());
                }
                if let Some(detail) = fields.said() {
                    diff.push(
                        EntityKind::Product,
                        &product.slug,
                        ChangeKind::Changed,
                        detail,
                        Op::UpdateProduct {
                            id: now.id,
                            product: i,
                        },
                    );
                }
            }
        }
    }
    let in_file: HashSet<&str> = plan.products.iter().map(|p| p.slug.as_str()).collect();
    for now in &current.products {
        if !now.withdrawn && !in_file.contains(now.slug.as_str()) {
            diff.push(
                EntityKind::Product,
                &now.slug,
                ChangeKind::Retired,
                format!("{:?} withdrawn", now.title),
                Op::WithdrawProduct { id: now.id },
            );
        }
    }
}

fn users(
    plan: &CatalogPlan,
    current: &Current,
    password_changed: &HashSet<String>,
    diff: &mut Diff,
) {
    let by_email: HashMap<&str, &CurrentUser> = current
        .users
        .iter()
        .map(|u| (u.email.as_str(), u))
        .collect();
    for (i, user) in plan.users.iter().enumerate() {
        match by_email.get(user.email.as_str()) {
            None => diff.push(
                EntityKind::User,
                &user.email,
                ChangeKind::Added,
                format!("{:?}, {}", user.name, user.role),
                Op::AddUser(i),
            ),
            Some(now) => {
                let password = password_changed.contains(&user.email);
                let mut fields = Fields::default();
                fields.text("name", &now.name, &user.name);
                fields.compare("role", &now.role, &user.role, Role::to_string);
                if password {
                    fields.0.push("password set from the catalog".to_owned());
                }
                if now.disabled {
                    fields.0.push("disabled → enabled".to_owned());
                }
                if !now.from_catalog {
                    fields.0.push("now kept by the catalog".to_owned());
                }
                if let Some(detail) = fields.said() {
                    diff.push(
                        EntityKind::User,
                        &user.email,
                        ChangeKind::Changed,
                        detail,
                        Op::UpdateUser {
                            id: now.id,
                            user: i,
                            password,
                        },
                    );
                }
            }
        }
    }
    let in_file: HashSet<&str> = plan.users.iter().map(|u| u.email.as_str()).collect();
    for now in &current.users {
        // Only what a catalog brought in is retired by one.
        if now.from_catalog && !now.disabled && !in_file.contains(now.email.as_str()) {
            diff.push(
                EntityKind::User,
                &now.email,
                ChangeKind::Retired,
                "disabled: can no longer sign in; their orders stay".to_owned(),
                Op::DisableUser { id: now.id },
            );
        }
    }
}

fn readers(plan: &CatalogPlan, current: &Current, diff: &mut Diff) {
    let by_name: HashMap<&str, &CurrentReader> = current
        .readers
        .iter()
        .map(|r| (r.name.as_str(), r))
        .collect();
    for (i, reader) in plan.readers.iter().enumerate() {
        let page = page_slug(plan, reader.page);
        match by_name.get(reader.name.as_str()) {
            None => diff.push(
                EntityKind::Reader,
                &reader.name,
                ChangeKind::Added,
                reader.sumup_id.clone(),
                Op::AddReader(i),
            ),
            Some(now) => {
                let mut fields = Fields::default();
                fields.text("id", &now.sumup_id, &reader.sumup_id);
                fields.compare("page", &now.page, &page, shown);
                if let Some(detail) = fields.said() {
                    diff.push(
                        EntityKind::Reader,
                        &reader.name,
                        ChangeKind::Changed,
                        detail,
                        Op::UpdateReader(i),
                    );
                }
            }
        }
    }
    let in_file: HashSet<&str> = plan.readers.iter().map(|r| r.name.as_str()).collect();
    for now in &current.readers {
        if !in_file.contains(now.name.as_str()) {
            diff.push(
                EntityKind::Reader,
                &now.name,
                ChangeKind::Retired,
                "removed".to_owned(),
                Op::RemoveReader(now.name.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    const NOW: Timestamp = 1_796_000_000;

    const FILE: &str = r#"
[[users]]
email = "ann@example.com"
password = "ann-pass"
name = "Ann"

[[pages]]
slug = "granary"
title = "The Old Granary"

[[calendars]]
slug = "barn"
name = "Barn"
page = "granary"

[[events]]
slug = "wren-duo"
calendar = "barn"
name = "Wren Duo"
starts_at = "2026-12-20T19:30:00Z"
ticket_count = 40
[[events.ticket_types]]
name = "Standard"
cost = "12.00"
"#;

    fn plan(text: &str) -> CatalogPlan {
        Catalog::parse(text).unwrap().validate(NOW).unwrap()
    }

    /// What the database holds after `FILE` was applied, with `sold` tickets of the type.
    fn current(sold: i64) -> Current {
        Current {
            currency: Some("GBP".into()),
            has_orders: sold > 0,
            pages: vec![CurrentPage {
                id: 1,
                slug: "granary".into(),
                title: "The Old Granary".into(),
                sumup_merchant_code: None,
                timezone: None,
            }],
            calendars: vec![CurrentCalendar {
                id: 1,
                slug: "barn".into(),
                name: "Barn".into(),
                page: Some("granary".into()),
            }],
            events: vec![CurrentEvent {
                id: 1,
                slug: "wren-duo".into(),
                calendar: "barn".into(),
                name: "Wren Duo".into(),
                starts_at: 1_797_795_000,
                ends_at: None,
                state: "confirmed".into(),
                ticket_price: None,
                ticket_count: Some(40),
                description: None,
                location: None,
                max_per_order: 10,
                archived: false,
                sold,
                types: vec![CurrentTicketType {
                    id: 1,
                    name: "Standard".into(),
                    cost: 1200,
                    sold,
                    retired: false,
                }],
            }],
            products: vec![],
            users: vec![CurrentUser {
                id: 1,
                email: "ann@example.com".into(),
                name: "Ann".into(),
                role: Role::Customer,
                from_catalog: true,
                disabled: false,
            }],
            readers: vec![],
        }
    }

    fn said(diff: &Diff) -> Vec<String> {
        diff.changes
            .iter()
            .map(|c| format!("{} {} {}: {}", c.change, c.kind, c.key, c.detail))
            .collect()
    }

    #[test]
    fn the_file_as_the_database_holds_it_changes_nothing() {
        let diff = diff(&plan(FILE), &current(5), &HashSet::new());
        assert_eq!(diff, Diff::default());
    }

    #[test]
    fn an_empty_database_gets_everything_added() {
        let diff = diff(&plan(FILE), &Current::default(), &HashSet::new());
        assert!(diff.refusals.is_empty());
        assert_eq!(
            said(&diff),
            [
                "added currency GBP: GBP",
                "added page granary: \"The Old Granary\"",
                "added calendar barn: \"Barn\"",
                "added event wren-duo: \"Wren Duo\" at 2026-12-20T19:30:00Z",
                "added user ann@example.com: \"Ann\", customer",
            ]
        );
    }

    #[test]
    fn each_changed_field_is_said_old_to_new() {
        let file = FILE
            .replace(
                "ticket_count = 40",
                "ticket_count = 60\nlocation = \"Loft\"",
            )
            .replace("cost = \"12.00\"", "cost = \"14.00\"")
            .replace("19:30:00Z", "20:00:00Z");
        let diff = diff(&plan(&file), &current(5), &HashSet::new());
        assert_eq!(
            said(&diff),
            [
                "changed event wren-duo: starts_at 2026-12-20T19:30:00Z → 2026-12-20T20:00:00Z; \
                 ticket_count 40 → 60; location none → \"Loft\"",
                "changed ticket_type wren-duo/Standard: cost 12.00 → 14.00",
            ]
        );
        assert_eq!(
            diff.changes[1].op,
            Op::UpdateTicketType {
                id: 1,
                cost: 1400,
                reprice: true
            }
        );
    }

    #[test]
    fn what_leaves_the_file_is_retired_and_only_what_a_catalog_brought_in() {
        let mut now = current(3);
        now.users.push(CurrentUser {
            id: 2,
            email: "self@example.com".into(),
            name: "Signed Up".into(),
            role: Role::Customer,
            from_catalog: false,
            disabled: false,
        });
        let file = "[[pages]]\nslug = \"granary\"\ntitle = \"The Old Granary\"\n";
        let diff = diff(&plan(file), &now, &HashSet::new());
        assert!(diff.refusals.is_empty(), "{:?}", diff.refusals);
        assert_eq!(
            said(&diff),
            [
                "retired event wren-duo: \"Wren Duo\" archived; its 3 tickets sold stay valid",
                "retired user ann@example.com: disabled: can no longer sign in; their orders stay",
            ]
        );
    }

    #[test]
    fn every_refusal_is_named_at_once() {
        let file = format!(
            "currency = \"EUR\"\n{}",
            FILE.replace("ticket_count = 40", "ticket_count = 2")
                .replace("name = \"Standard\"", "name = \"Regular\"")
        );
        let diff = diff(&plan(&file), &current(5), &HashSet::new());
        assert_eq!(
            diff.refusals,
            [
                "currency: \"EUR\" cannot replace \"GBP\" while orders exist",
                "events[0] \"Wren Duo\": ticket_count 2 is below the 5 tickets sold",
                "events[0] \"Wren Duo\": ticket type \"Standard\" has 5 tickets sold and cannot \
                 be removed or renamed",
            ]
        );
        // Without sales, the same file is only changes.
        let unsold = super::diff(&plan(&file), &current(0), &HashSet::new());
        assert!(unsold.refusals.is_empty(), "{:?}", unsold.refusals);
    }

    #[test]
    fn a_password_is_a_change_only_when_the_file_changed_it() {
        let changed = HashSet::from(["ann@example.com".to_owned()]);
        let diff = diff(&plan(FILE), &current(0), &changed);
        assert_eq!(
            said(&diff),
            ["changed user ann@example.com: password set from the catalog"]
        );
        assert_eq!(
            diff.changes[0].op,
            Op::UpdateUser {
                id: 1,
                user: 0,
                password: true
            }
        );
    }

    #[test]
    fn an_archived_event_back_in_the_file_is_on_sale_again() {
        let mut now = current(0);
        now.events[0].archived = true;
        let diff = diff(&plan(FILE), &now, &HashSet::new());
        assert_eq!(
            said(&diff),
            ["changed event wren-duo: archived → on the catalog again"]
        );
    }
}
