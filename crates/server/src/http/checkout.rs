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
        refused_claim(&events, tries)?;
    };
    // No one waits on it yet: no one knows its id before this answer.
    let checkout = start_checkout(state.payments(), &order).await?;
    pay_here(&state, order, &items, checkout)
}

/// Times a cart is claimed before checkout gives up: once, and again should the cart have
/// changed between a refused claim and the reading of what was wrong.
const CLAIM_TRIES: u32 = 3;

/// After a refused claim, with the cart as read since: why checkout refuses it, or `Ok` to
/// claim it again (the cart changed in between), unless it has tried [`CLAIM_TRIES`] times.
fn refused_claim(events: &[CartEvent], tries: u32) -> ApiResult<()> {
    refuse(events)?;
    if events.is_empty() {
        return Err(ApiError::EmptyCart);
    }
    if tries >= CLAIM_TRIES {
        return Err(ApiError::Conflict(
            "Your cart changed while it was being checked out. Look at it and check out again."
                .to_owned(),
        ));
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use storefront_contract::ErrorCode;

    fn code(result: ApiResult<()>) -> Option<ErrorCode> {
        result.err().map(|err| err.code())
    }

    #[test]
    fn a_cart_found_empty_after_a_refused_claim_is_said_to_be_empty() {
        assert_eq!(code(refused_claim(&[], 1)), Some(ErrorCode::EmptyCart));
        assert_eq!(
            code(refused_claim(&[], CLAIM_TRIES)),
            Some(ErrorCode::EmptyCart)
        );
    }

    #[test]
    fn a_cart_that_changed_is_claimed_again_then_said_to_have_changed() {
        let cart = [CartEvent::in_cart("Big Night", 2, 4, false)];
        assert_eq!(code(refused_claim(&cart, 1)), None);
        assert_eq!(code(refused_claim(&cart, CLAIM_TRIES - 1)), None);
        let err = refused_claim(&cart, CLAIM_TRIES).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Conflict);
        assert!(err.to_string().contains("changed"), "{err}");
    }

    #[test]
    fn what_is_wrong_with_the_cart_is_said_before_anything_else() {
        let sold_out = [
            CartEvent::in_cart("Big Night", 2, 4, false),
            CartEvent::in_cart("Quiet Night", 1, 4, true),
        ];
        let err = refused_claim(&sold_out, 1).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Conflict);
        assert!(err.to_string().starts_with("Quiet Night sold out"), "{err}");
        let over = [CartEvent::in_cart("Big Night", 6, 4, false)];
        let err = refused_claim(&over, CLAIM_TRIES).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation);
        assert!(err.to_string().contains("Remove 2"), "{err}");
    }
}
