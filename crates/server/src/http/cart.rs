//! The cart: its summary (the badge), the cart grouped by page, and changing its lines.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use storefront_contract::{
    AddProductRequest, Cart, CartBooking, CartGroup, CartProduct, CartSummary, Money, Page,
    ProductList, SOLD_OUT_NOTICE, UpdateProductRequest,
};

use super::extract::{ApiJson, ApiQuery, AuthUser, IdPath};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{AddOutcome, CartContents, CartTotals, MAX_LINE_QUANTITY};
use crate::time::to_utc;

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn quantity(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// The badge and totals of a cart.
pub fn summarize(contents: &CartContents, currency: &str) -> CartSummary {
    summary_from(&contents.totals(), currency)
}

/// The contract's summary of a cart's counts and totals.
pub fn summary_from(totals: &CartTotals, currency: &str) -> CartSummary {
    let amount = |minor: i64| Money::from_minor(minor.max(0));
    let product_count = count(usize::try_from(totals.product_count).unwrap_or(0));
    let product_total = amount(totals.product_total);
    let calendar_count = count(usize::try_from(totals.booking_count).unwrap_or(0));
    let calendar_total = amount(totals.booking_total);
    let ticket_count = count(usize::try_from(totals.ticket_count).unwrap_or(0));
    let ticket_total = amount(totals.ticket_total);
    CartSummary {
        count: product_count,
        total: product_total,
        calendar_count,
        calendar_total,
        ticket_count,
        ticket_total,
        items: product_count + calendar_count + ticket_count,
        grand_total: product_total + calendar_total + ticket_total,
        currency: currency.to_owned(),
    }
}

/// Orders groups by page title (then id, for equal titles), the page-less group last.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum GroupKey {
    Page { title: String, id: i64 },
    NoPage,
}

fn group_key(page: &Option<Page>) -> GroupKey {
    match page {
        Some(page) => GroupKey::Page {
            title: page.title.clone(),
            id: page.id,
        },
        None => GroupKey::NoPage,
    }
}

fn empty_group(page: Option<Page>) -> CartGroup {
    CartGroup {
        page,
        products: Vec::new(),
        calendar_entries: Vec::new(),
        tickets: Vec::new(),
        product_count: 0,
        product_total: Money::ZERO,
        calendar_count: 0,
        calendar_total: Money::ZERO,
        ticket_count: 0,
        ticket_total: Money::ZERO,
        total: Money::ZERO,
    }
}

/// The cart split by the page each item belongs to; only non-empty groups exist.
pub fn group_by_page(contents: &CartContents) -> Vec<CartGroup> {
    let mut groups: BTreeMap<GroupKey, CartGroup> = BTreeMap::new();
    for line in &contents.lines {
        let page = line.page();
        let group = groups
            .entry(group_key(&page))
            .or_insert_with(|| empty_group(page));
        let unit_price = Money::from_minor(line.price);
        let qty = quantity(line.quantity);
        group.products.push(CartProduct {
            id: line.id,
            product_id: line.product_id,
            title: line.title.clone(),
            unit_price,
            quantity: qty,
            line_total: unit_price * qty,
            previous_unit_price: line
                .added_price
                .filter(|added| *added != line.price)
                .map(Money::from_minor),
        });
        group.product_count += qty;
        group.product_total += unit_price * qty;
    }
    for booking in &contents.bookings {
        let page = booking.page();
        let group = groups
            .entry(group_key(&page))
            .or_insert_with(|| empty_group(page));
        let cost = Money::from_minor(booking.cost);
        group.calendar_entries.push(CartBooking {
            id: booking.id,
            name: booking.name.clone(),
            calendar_name: booking.calendar_name.clone(),
            starts_at: to_utc(booking.starts_at),
            ends_at: booking.ends_at.map(to_utc),
            cost,
        });
        group.calendar_count += 1;
        group.calendar_total += cost;
    }
    for ticket in &contents.tickets {
        let page = ticket.page();
        let group = groups
            .entry(group_key(&page))
            .or_insert_with(|| empty_group(page));
        group.tickets.push(ticket.to_ticket());
        group.ticket_count += 1;
        group.ticket_total += Money::from_minor(ticket.cost);
    }
    groups
        .into_values()
        .map(|mut group| {
            group.total = group.product_total + group.calendar_total + group.ticket_total;
            group
        })
        .collect()
}

/// The summary of the user's cart, added up by the database in one statement.
pub async fn summary_of(state: &AppState, user_id: i64) -> ApiResult<CartSummary> {
    let totals = state.store().cart_totals(user_id).await?;
    Ok(summary_from(&totals, &state.currency()))
}

pub async fn get_summary(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Json<CartSummary>> {
    Ok(Json(summary_of(&state, user.id).await?))
}

pub async fn get_cart(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Json<Cart>> {
    let contents = state.store().cart_contents(user.id).await?;
    let mut groups = group_by_page(&contents);
    if !contents.tickets.is_empty() {
        let events = state.store().cart_events(user.id, None).await?;
        for ticket in groups.iter_mut().flat_map(|g| g.tickets.iter_mut()) {
            ticket.sold_out = events
                .iter()
                .any(|e| e.id == ticket.entry_id && e.sold_out());
        }
    }
    Ok(Json(Cart {
        groups,
        summary: summarize(&contents, &state.currency()),
        notice: (!contents.tickets.is_empty()).then(|| SOLD_OUT_NOTICE.to_owned()),
    }))
}

pub async fn remove_ticket(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    if state.store().cancel_pending_ticket(user.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("There is no such ticket in your cart."))
    }
}

/// `POST /cart/clear`: everything pending leaves the caller's cart (a kiosk does it before
/// every new customer).
pub async fn clear_cart(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<StatusCode> {
    state.store().clear_cart(user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove_booking(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    if state.store().cancel_pending_booking(user.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("There is no such booking in your cart."))
    }
}

#[derive(Debug, Deserialize)]
pub struct ProductQuery {
    page: Option<String>,
}

pub async fn list_products(
    State(state): State<AppState>,
    AuthUser(_): AuthUser,
    ApiQuery(query): ApiQuery<ProductQuery>,
) -> ApiResult<Json<ProductList>> {
    let page = query.page.as_deref().filter(|p| !p.is_empty());
    Ok(Json(ProductList {
        products: state.store().products(page).await?,
    }))
}

pub async fn add_product(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(request): ApiJson<AddProductRequest>,
) -> ApiResult<(StatusCode, Json<CartSummary>)> {
    if !(1..=MAX_LINE_QUANTITY).contains(&request.quantity) {
        return Err(ApiError::validation(
            "quantity",
            format!("Add between 1 and {MAX_LINE_QUANTITY} at a time."),
        ));
    }
    match state
        .store()
        .add_product_to_cart(user.id, request.product_id, request.quantity)
        .await?
    {
        AddOutcome::Added => Ok((
            StatusCode::CREATED,
            Json(summary_of(&state, user.id).await?),
        )),
        AddOutcome::UnknownProduct => Err(ApiError::NotFound("There is no such product.")),
        AddOutcome::OverLimit { current } => Err(ApiError::validation(
            "quantity",
            format!(
                "A cart line holds at most {MAX_LINE_QUANTITY}; this one already has {current}."
            ),
        )),
    }
}

pub async fn update_product_line(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdPath(line): IdPath,
    ApiJson(request): ApiJson<UpdateProductRequest>,
) -> ApiResult<Json<CartSummary>> {
    if !(0..=MAX_LINE_QUANTITY).contains(&request.quantity) {
        return Err(ApiError::validation(
            "quantity",
            format!("Choose a quantity between 0 and {MAX_LINE_QUANTITY} (0 removes the line)."),
        ));
    }
    if !state
        .store()
        .set_cart_line_quantity(user.id, line, request.quantity)
        .await?
    {
        return Err(ApiError::NotFound("There is no such line in your cart."));
    }
    Ok(Json(summary_of(&state, user.id).await?))
}

pub async fn remove_product_line(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdPath(line): IdPath,
) -> ApiResult<StatusCode> {
    if state
        .store()
        .set_cart_line_quantity(user.id, line, 0)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("There is no such line in your cart."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::cart::{BookingRow, CartLineRow};
    use crate::store::tickets::TicketRow;
    use storefront_contract::TicketState;

    fn page(id: i64, title: &str) -> (Option<i64>, Option<String>, Option<String>) {
        (Some(id), Some(format!("p{id}")), Some(title.to_owned()))
    }

    fn line(
        id: i64,
        price: i64,
        qty: i64,
        p: (Option<i64>, Option<String>, Option<String>),
    ) -> CartLineRow {
        CartLineRow {
            id,
            product_id: id,
            title: format!("product {id}"),
            price,
            quantity: qty,
            page_id: p.0,
            page_slug: p.1,
            page_title: p.2,
            added_price: Some(price),
        }
    }

    fn ticket(id: i64, cost: i64, p: (Option<i64>, Option<String>, Option<String>)) -> TicketRow {
        TicketRow {
            id,
            code: format!("CODE-{id:04}"),
            state: TicketState::Pending,
            event_id: 1,
            event_name: "Gig".into(),
            event_starts_at: 0,
            ticket_type_id: None,
            ticket_type_name: None,
            cost,
            page_id: p.0,
            page_slug: p.1,
            page_title: p.2,
            page_timezone: None,
            order_id: None,
            created_at: 0,
            previous_cost: None,
            checked_in_at: None,
        }
    }

    fn booking(id: i64, cost: i64) -> BookingRow {
        BookingRow {
            id,
            name: "Pottery taster".into(),
            calendar_name: "Workshops".into(),
            starts_at: 0,
            ends_at: None,
            cost,
            page_id: None,
            page_slug: None,
            page_title: None,
        }
    }

    fn sample() -> CartContents {
        CartContents {
            lines: vec![
                line(1, 850, 2, page(2, "Riverside")),
                line(2, 1000, 1, (None, None, None)),
            ],
            bookings: vec![booking(1, 2500)],
            tickets: vec![
                ticket(1, 1200, page(1, "Old Granary")),
                ticket(2, 1200, page(1, "Old Granary")),
                ticket(3, 900, page(2, "Riverside")),
            ],
        }
    }

    #[test]
    fn summary_counts_every_kind_and_totals_exactly() {
        let summary = summarize(&sample(), "GBP");
        assert_eq!(summary.count, 3);
        assert_eq!(summary.total.to_string(), "27.00");
        assert_eq!(summary.calendar_count, 1);
        assert_eq!(summary.calendar_total.to_string(), "25.00");
        assert_eq!(summary.ticket_count, 3);
        assert_eq!(summary.ticket_total.to_string(), "33.00");
        assert_eq!(summary.items, 7);
        assert_eq!(summary.grand_total.to_string(), "85.00");
    }

    #[test]
    fn groups_are_by_page_title_with_the_pageless_group_last() {
        let groups = group_by_page(&sample());
        let titles: Vec<_> = groups
            .iter()
            .map(|g| g.page.as_ref().map(|p| p.title.as_str()))
            .collect();
        assert_eq!(titles, [Some("Old Granary"), Some("Riverside"), None]);
        assert_eq!(groups[0].ticket_count, 2);
        assert_eq!(groups[0].total.to_string(), "24.00");
        assert_eq!(groups[1].product_count, 2);
        assert_eq!(groups[1].total.to_string(), "26.00");
        assert_eq!(groups[2].calendar_count, 1);
        assert_eq!(groups[2].total.to_string(), "35.00");
        let sum: Money = groups.iter().map(|g| g.total).sum();
        assert_eq!(sum, summarize(&sample(), "GBP").grand_total);
    }

    #[test]
    fn an_empty_cart_has_no_groups() {
        assert!(group_by_page(&CartContents::default()).is_empty());
        assert_eq!(summarize(&CartContents::default(), "GBP").items, 0);
    }
}
