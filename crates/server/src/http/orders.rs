//! Orders: paying, waiting for, cancelling and listing them, and the buyer's tickets.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use storefront_contract::{
    CheckoutResponse, Order, OrderEmailRequest, OrderList, OrderStatus, PayRequest, PaymentMethod,
    TicketList,
};
use tokio::sync::broadcast;

use super::extract::{ApiJson, ApiQuery, AuthUser, IdPath, OptionalApiJson, whole};
use crate::error::{ApiError, ApiResult};
use crate::payments::PaymentError;
use crate::payments::attempts::{PayWith, checkout_to_pay, close_open_checkout};
use crate::payments::settle::refresh_order;
use crate::payments::view::{order_with_items, users_orders_view};
use crate::state::AppState;
use crate::store::{CheckoutRow, OrderItems, OrderRow};
use crate::time;

const MAX_WAIT_SECS: u64 = 30;

async fn users_order(state: &AppState, user_id: i64, order_id: i64) -> ApiResult<OrderRow> {
    state
        .store()
        .users_order(user_id, order_id)
        .await?
        .ok_or(ApiError::NotFound("There is no such order."))
}

/// The order as it is now in the database, with what it holds.
pub async fn reload(state: &AppState, order_id: i64) -> ApiResult<(OrderRow, OrderItems)> {
    state
        .store()
        .order_with_items(order_id)
        .await?
        .ok_or(ApiError::NotFound("There is no such order."))
}

/// Pays a pending or failed order, on the hosted page or on a card reader: the open
/// checkout if SumUp still takes it there, else a new one.
pub async fn pay_order(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdPath(order_id): IdPath,
    OptionalApiJson(request): OptionalApiJson<PayRequest>,
) -> ApiResult<(StatusCode, Json<CheckoutResponse>)> {
    let order = users_order(&state, user.id, order_id).await?;
    let with = pay_with(&state, &order, &request).await?;
    let payments = state.payments();
    refresh_order(payments, &order, true).await?;
    let (order, items) = reload(&state, order_id).await?;
    let checkout = checkout_to_pay(payments, &order, &with).await?;
    pay_here(&state, order, &items, checkout)
}

/// Where the request asks to pay: a reader must be named in the catalog, and be one the
/// order's page may use.
async fn pay_with(state: &AppState, order: &OrderRow, request: &PayRequest) -> ApiResult<PayWith> {
    let name = match (request.method, request.reader.as_deref()) {
        (PaymentMethod::Hosted, None) => return Ok(PayWith::Hosted),
        (PaymentMethod::Hosted, Some(_)) => {
            return Err(ApiError::validation(
                "reader",
                "A reader is named only with \"method\": \"reader\".",
            ));
        }
        (PaymentMethod::Reader, None) => {
            return Err(ApiError::validation(
                "reader",
                "Name the card reader to pay on.",
            ));
        }
        (PaymentMethod::Reader, Some(name)) => name,
        (PaymentMethod::Comp, _) => {
            return Err(ApiError::validation(
                "method",
                "Pay on the hosted page or on a card reader; guest-list orders are made by the box office.",
            ));
        }
    };
    let reader =
        state.store().reader(name).await?.ok_or_else(|| {
            ApiError::validation("reader", "There is no card reader by that name.")
        })?;
    if let Some(page_id) = reader.page_id
        && order.page.as_ref().is_none_or(|page| page.id != page_id)
    {
        return Err(ApiError::validation(
            "reader",
            "That card reader takes payments for another venue.",
        ));
    }
    Ok(PayWith::Reader(reader))
}

/// `201 {order, checkout_url, reader}`: the order (as read before paying, with the checkout
/// it is paid on now) and where to pay for it.
pub fn pay_here(
    state: &AppState,
    order: OrderRow,
    items: &OrderItems,
    checkout: CheckoutRow,
) -> ApiResult<(StatusCode, Json<CheckoutResponse>)> {
    // Making a checkout reopens a failed order; nothing else of it changed.
    let status = match order.status {
        OrderStatus::Failed => OrderStatus::Pending,
        other => other,
    };
    let order = OrderRow {
        status,
        checkout: Some(checkout.clone()),
        ..order
    };
    let order = order_with_items(&order, items, state.payments());
    Ok((
        StatusCode::CREATED,
        Json(CheckoutResponse {
            order,
            checkout_url: checkout.place.url().map(str::to_owned),
            reader: checkout.place.reader().map(str::to_owned),
        }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    #[serde(default, deserialize_with = "whole")]
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
    let payments = state.payments();
    let mut changes = payments.subscribe_orders();
    let mut stopping = state.subscribe_stopping();
    let (mut order, mut items) = state
        .store()
        .users_order_with_items(user.id, order_id)
        .await?
        .ok_or(ApiError::NotFound("There is no such order."))?;
    // The order as read stands unless SumUp was asked about it.
    let mut stale = refresh_order(payments, &order, false).await?;
    loop {
        if stale {
            (order, items) = reload(&state, order_id).await?;
        }
        stale = true;
        let now = tokio::time::Instant::now();
        if order.status != OrderStatus::Pending || now >= deadline || *stopping.borrow() {
            break;
        }
        let nap = payments.timing().poll_interval.min(deadline - now);
        tokio::select! {
            _ = this_order_changed(&mut changes, order_id) => {}
            _ = stopping.changed() => {}
            _ = tokio::time::sleep(nap) => {
                refresh_order(payments, &order, false).await?;
            }
        }
    }
    Ok(Json(order_with_items(&order, &items, payments)))
}

/// Returns when the order changes, or when changes were missed and it may have.
async fn this_order_changed(changes: &mut broadcast::Receiver<i64>, order_id: i64) {
    loop {
        match changes.recv().await {
            Ok(changed) if changed == order_id => return,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => return,
            // The sender lives as long as the server: nothing more will come.
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// Cancels a pending or failed order, closing its SumUp checkout first; if SumUp says it was
/// paid after all, the order is settled as paid instead.
pub async fn cancel_order(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdPath(order_id): IdPath,
) -> ApiResult<Json<Order>> {
    let order = users_order(&state, user.id, order_id).await?;
    if !order.status.is_payable() {
        return Err(PaymentError::NotPayable(order.status).into());
    }
    let payments = state.payments();
    if !close_open_checkout(payments, &order).await?
        && state.store().cancel_order(order_id, time::now()).await?
    {
        payments.order_changed(order_id);
    }
    let (order, items) = reload(&state, order_id).await?;
    Ok(Json(order_with_items(&order, &items, payments)))
}

/// `POST /orders/{id}/email`: the order's tickets go to this address (now if it is paid,
/// else once it is): a kiosk buyer's, or another than the account's.
pub async fn email_order(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    IdPath(order_id): IdPath,
    ApiJson(request): ApiJson<OrderEmailRequest>,
) -> ApiResult<StatusCode> {
    let email = crate::mail::parse_address(&request.email)
        .filter(|email| email.len() <= 254)
        .ok_or_else(|| ApiError::validation("email", "That is not an e-mail address."))?;
    users_order(&state, user.id, order_id).await?;
    let store = state.store();
    if !store.mail_on() {
        return Err(ApiError::Conflict(
            "This shop sends no e-mail: keep the ticket page's address instead.".to_owned(),
        ));
    }
    if !store.email_order_to(order_id, &email, time::now()).await? {
        return Err(ApiError::NotFound("There is no such order."));
    }
    Ok(StatusCode::ACCEPTED)
}

pub async fn list_orders(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> ApiResult<Json<OrderList>> {
    Ok(Json(OrderList {
        orders: users_orders_view(state.payments(), user.id).await?,
    }))
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
