//! The demo's shop as a venue's is a few days before its shows: a regular, Sam Carter, has
//! bought tickets to three of them, the way anyone does (signed in, bought, checked out, paid
//! on the sandbox's hosted page). So the door has tickets to check in (it offers one to try),
//! and the box office has sales, an order to find and tickets to refund.

use std::time::Duration;

use storefront_contract::{BuyTicketsRequest, OrderStatus};

use crate::api::{ApiClient, ApiError};

/// The demo catalog's regular.
const BUYER: (&str, &str) = ("sam@example.com", "sam-demo");

/// What the regular bought, an order each: an event's slug and how many tickets (of its
/// cheapest type, when it has types). Events with room: the catalog has sold others out.
const PURCHASES: [(&str, i64); 3] = [
    ("wren-duo", 2),
    ("late-night-jazz", 3),
    ("big-band-christmas", 2),
];

/// How long a payment may take to be settled before the seeding gives up.
const PAID_WITHIN: Duration = Duration::from_secs(20);

/// Why the demo's sales could not be made (the demo goes on without them).
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("the demo catalog has no event {0:?}")]
    NoEvent(&'static str),
    #[error("the sandbox's payment page answered {0}")]
    Page(String),
    #[error("order {0} was not paid within {PAID_WITHIN:?}")]
    NotPaid(i64),
}

/// Makes the regular's paid orders on the demo server `api` talks to; answers their tickets'
/// codes.
pub async fn seed_sales(api: &ApiClient) -> Result<Vec<String>, SeedError> {
    let session = api.login(BUYER.0, BUYER.1).await?;
    let token = session.token.as_str();
    let events = api.events(None, None, 100, None).await?.events;
    // The browser the buyer pays in: the hosted page takes a form, as from a browser.
    let browser = reqwest::Client::new();
    let mut codes = Vec::new();
    for (slug, quantity) in PURCHASES {
        let event = events
            .iter()
            .find(|event| event.slug == slug)
            .ok_or(SeedError::NoEvent(slug))?;
        // The event's first type (the cheapest), when it has types.
        let detail = api.event(event.id, Some(token)).await?;
        let request = BuyTicketsRequest {
            quantity,
            ticket_type_id: detail.ticket_types.first().map(|kind| kind.id),
        };
        api.buy_tickets(token, event.id, &request, &new_key())
            .await?;
        let checkout = api.checkout(token, None, &new_key()).await?;
        let order_id = checkout.order.id;
        let page = checkout
            .checkout_url
            .ok_or_else(|| SeedError::Page("no hosted page".to_owned()))?;
        let answer = browser
            .post(&page)
            .form(&[("outcome", "pay")])
            .send()
            .await
            .map_err(|err| SeedError::Page(err.to_string()))?;
        if !answer.status().is_success() {
            return Err(SeedError::Page(answer.status().to_string()));
        }
        let order = paid(api, token, order_id).await?;
        codes.extend(order.tickets.into_iter().map(|ticket| ticket.code));
    }
    api.logout(token).await?;
    Ok(codes)
}

/// The order once it is paid (the payment is settled as SumUp's notice arrives).
async fn paid(
    api: &ApiClient,
    token: &str,
    order_id: i64,
) -> Result<storefront_contract::Order, SeedError> {
    let deadline = tokio::time::Instant::now() + PAID_WITHIN;
    while tokio::time::Instant::now() < deadline {
        let order = api.order(token, order_id, 5).await?;
        if order.status == OrderStatus::Paid {
            return Ok(order);
        }
    }
    Err(SeedError::NotPaid(order_id))
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}
