//! Checkout, orders and their payment, the buyer's tickets, and SumUp's webhook.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use serde::Deserialize;
use storefront_contract::{
    CheckoutRequest, CheckoutResponse, Order, OrderList, OrderStatus, TicketList, WebhookNotice,
};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, AuthUser, IdPath};
use crate::payments::{
    CHECKOUT_LIFETIME_SECS, close_open_checkout, order_view, refresh_checkout, refresh_order,
    start_checkout,
};
use crate::state::AppState;
use crate::store::OrderRow;
use crate::time;

const MAX_WAIT_SECS: u64 = 30;
/// While a long-poll waits, SumUp is asked about this often.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

async fn users_order(state: &AppState, user_id: i64, order_id: i64) -> ApiResult<OrderRow> {
    state
        .store()
        .users_order(user_id, order_id)
        .await?
        .ok_or(ApiError::NotFound("There is no such order."))
}

async fn reload(state: &AppState, order_id: i64) -> ApiResult<OrderRow> {
    state
        .store()
        .order(order_id)
        .await?
        .ok_or(ApiError::NotFound("There is no such order."))
}

/// Turns the cart (or one page's group of it) into an order and opens a SumUp checkout.
pub async fn checkout(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    ApiJson(request): ApiJson<CheckoutRequest>,
) -> ApiResult<(StatusCode, Json<CheckoutResponse>)> {
    let page_id =
        match request.page.as_deref() {
            None => None,
            Some(slug) => {
                Some(state.store().page_id(slug).await?.ok_or_else(|| {
                    ApiError::validation("page", "There is no page with that slug.")
                })?)
            }
        };
    let order_id = state
        .store()
        .create_order_from_cart(
            user.id,
            page_id,
            state.currency(),
            state.sumup().merchant_code(),
            time::now(),
        )
        .await?
        .ok_or(ApiError::EmptyCart)?;
    state.orders_changed();
    let order = reload(&state, order_id).await?;
    let checkout = start_checkout(&state, &order).await?;
    let order = order_view(&state, &reload(&state, order_id).await?).await?;
    Ok((
        StatusCode::CREATED,
        Json(CheckoutResponse {
            order,
            checkout_url: checkout.url,
        }),
    ))
}

/// Pays a pending or failed order: the open checkout if SumUp still takes it, else a new one.
pub async fn pay_order(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdPath(order_id): IdPath,
) -> ApiResult<(StatusCode, Json<CheckoutResponse>)> {
    let order = users_order(&state, user.id, order_id).await?;
    refresh_order(&state, &order, true).await?;
    let order = reload(&state, order_id).await?;
    if !order.status().is_payable() {
        return Err(not_payable(order.status()));
    }
    if order.status() == OrderStatus::Pending
        && let Some(checkout) = order.checkout()
        && checkout.status == "PENDING"
        && time::now() - checkout.created_at < CHECKOUT_LIFETIME_SECS
    {
        let view = order_view(&state, &order).await?;
        return Ok((
            StatusCode::CREATED,
            Json(CheckoutResponse {
                order: view,
                checkout_url: checkout.url,
            }),
        ));
    }
    if close_open_checkout(&state, &order).await? {
        return Err(not_payable(OrderStatus::Paid));
    }
    state.store().reopen_order(order_id).await?;
    let order = reload(&state, order_id).await?;
    let checkout = start_checkout(&state, &order).await?;
    let view = order_view(&state, &reload(&state, order_id).await?).await?;
    Ok((
        StatusCode::CREATED,
        Json(CheckoutResponse {
            order: view,
            checkout_url: checkout.url,
        }),
    ))
}

fn not_payable(status: OrderStatus) -> ApiError {
    ApiError::OrderNotPayable(match status {
        OrderStatus::Paid => "This order is already paid.",
        _ => "This order was cancelled; it can no longer be paid.",
    })
}

#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    wait: Option<u64>,
}

/// The order, its SumUp status refreshed first; with `wait`, answers as soon as it leaves
/// `pending`, else after `wait` seconds.
pub async fn get_order(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdPath(order_id): IdPath,
    ApiQuery(query): ApiQuery<WaitQuery>,
) -> ApiResult<Json<Order>> {
    let wait = query.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECS {
        return Err(ApiError::validation(
            "wait",
            format!("wait must be between 0 and {MAX_WAIT_SECS} seconds."),
        ));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    let mut changes = state.subscribe_orders();
    let mut stopping = state.subscribe_stopping();
    let mut order = users_order(&state, user.id, order_id).await?;
    refresh_order(&state, &order, false).await?;
    loop {
        order = reload(&state, order_id).await?;
        let now = tokio::time::Instant::now();
        if order.status() != OrderStatus::Pending || now >= deadline || *stopping.borrow() {
            break;
        }
        let nap = POLL_INTERVAL.min(deadline - now);
        tokio::select! {
            _ = changes.changed() => {}
            _ = stopping.changed() => {}
            _ = tokio::time::sleep(nap) => {
                refresh_order(&state, &order, false).await?;
            }
        }
    }
    Ok(Json(order_view(&state, &order).await?))
}

/// Cancels a pending or failed order, closing its SumUp checkout first; if SumUp says it was
/// paid after all, the order is settled as paid instead.
pub async fn cancel_order(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdPath(order_id): IdPath,
) -> ApiResult<Json<Order>> {
    let order = users_order(&state, user.id, order_id).await?;
    if !order.status().is_payable() {
        return Err(not_payable(order.status()));
    }
    if !close_open_checkout(&state, &order).await? && state.store().cancel_order(order_id).await? {
        state.orders_changed();
    }
    let order = reload(&state, order_id).await?;
    Ok(Json(order_view(&state, &order).await?))
}

pub async fn list_orders(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Json<OrderList>> {
    let rows = state.store().users_orders(user.id).await?;
    let mut orders = Vec::with_capacity(rows.len());
    for row in &rows {
        orders.push(order_view(&state, row).await?);
    }
    Ok(Json(OrderList { orders }))
}

pub async fn list_tickets(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Json<TicketList>> {
    let rows = state.store().users_tickets(user.id).await?;
    Ok(Json(TicketList {
        tickets: rows.iter().map(|t| t.to_ticket()).collect(),
    }))
}

/// SumUp's notice that a checkout changed. Answered at once; the checkout is then re-read
/// from SumUp, since anyone can post here.
pub async fn sumup_webhook(
    State(state): State<AppState>,
    ApiJson(notice): ApiJson<WebhookNotice>,
) -> StatusCode {
    tokio::spawn(async move {
        if let Err(err) = refresh_checkout(&state, &notice.id).await {
            tracing::warn!(error = %err, "webhook handling failed");
        }
    });
    StatusCode::NO_CONTENT
}

/// Where SumUp's hosted page sends the buyer after paying.
pub async fn return_page() -> Html<&'static str> {
    Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Thank you</title><style>body{font:18px/1.5 system-ui,sans-serif;display:grid;\
         place-items:center;min-height:90vh;margin:0;text-align:center}</style></head>\
         <body><main><h1>Thank you</h1><p>You can close this page and return to the terminal.\
         <br>It shows your tickets as soon as the payment is confirmed.</p></main></body></html>",
    )
}
