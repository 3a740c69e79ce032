//! `POST /checkout`: the cart (or one page's group of it) becomes an order, paid through a
//! new SumUp checkout.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use storefront_contract::{CheckoutRequest, CheckoutResponse};

use super::extract::{ApiJson, AuthUser};
use super::orders::pay_here;
use crate::error::{ApiError, ApiResult};
use crate::payments::attempts::start_checkout;
use crate::state::AppState;
use crate::store::CartEvent;
use crate::time;

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
    // The claim refuses a cart checkout must not take (and then claims nothing); what is
    // wrong is read after. A cart changed in between is claimed again.
    let mut tries = 0;
    let (order, items) = loop {
        tries += 1;
        let claimed = state
            .store()
            .create_order_from_cart(
                user.id,
                page_id,
                &state.currency(),
                state.payments().sumup().merchant_code(),
                time::now(),
            )
            .await?;
        if let Some(made) = claimed {
            break made;
        }
        let events = state.store().cart_events(user.id, page_id).await?;
        refuse(&events)?;
        if events.is_empty() || tries == CLAIM_TRIES {
            return Err(ApiError::EmptyCart);
        }
    };
    // No one waits on it yet: no one knows its id before this answer.
    let checkout = start_checkout(state.payments(), &order).await?;
    pay_here(&state, order, &items, checkout)
}

/// Times a cart is claimed before checkout gives up: once, and again should the cart have
/// changed between a refused claim and the reading of what was wrong.
const CLAIM_TRIES: u32 = 3;

/// Why checkout refuses the cart, if it does: an event its paid tickets fill, or one the
/// cart holds more of than the per-order limit.
fn refuse(events: &[CartEvent]) -> ApiResult<()> {
    // Paid tickets already fill the event: paying for more could only end in a refund.
    let sold_out: Vec<&str> = events
        .iter()
        .filter(|e| e.sold_out())
        .map(|e| e.name.as_str())
        .collect();
    if !sold_out.is_empty() {
        return Err(ApiError::Conflict(format!(
            "{} sold out: remove {} tickets from your cart to check out the rest.",
            sold_out.join(", "),
            if sold_out.len() == 1 { "its" } else { "their" }
        )));
    }
    // A cart filled before a limit was lowered: no order holds more than the limit.
    if let Some(over) = events.iter().find(|e| e.over_limit()) {
        return Err(ApiError::validation(
            "quantity",
            format!(
                "{} allows up to {} per order; your cart holds {}. Remove {} to check out.",
                over.name,
                over.max_per_order,
                over.pending,
                over.pending - over.max_per_order
            ),
        ));
    }
    Ok(())
}
