//! Tickets to take away: every paid order has an unguessable link, `/t/<secret>`, to a small
//! page a phone can keep (no script, no outside resources) with each ticket's code and a QR
//! code of it for the scanner at the door.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use storefront_contract::TicketState;

use crate::error::ApiError;
use crate::html::escape;
use crate::state::AppState;
use crate::store::tickets::TicketRow;
use crate::store::{OrderItems, OrderRow};

/// `GET /t/{secret}`: the order's tickets; any other secret is 404, with nothing of any order.
pub async fn tickets_page(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> Result<Response, ApiError> {
    let store = state.store();
    let order = match store.order_by_tickets_secret(&secret).await? {
        Some(order) => order,
        None => return Ok(not_found()),
    };
    let items = store.items_of_order(&order).await?;
    let page = render(&order, &items, state.timezone());
    Ok((
        [
            ("cache-control", "private, max-age=300"),
            ("referrer-policy", "no-referrer"),
            ("x-robots-tag", "noindex"),
        ],
        Html(page),
    )
        .into_response())
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><meta charset=\"utf-8\"><title>Not found</title>\
             <p>There are no tickets at this address.</p>",
        ),
    )
        .into_response()
}

/// A QR code of `text` as bare inline SVG (an XML prolog has no place inside HTML), or
/// nothing if it cannot be made.
fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(180, 180)
                .quiet_zone(true)
                .build();
            match svg.find("<svg") {
                Some(start) => svg[start..].to_owned(),
                None => svg,
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, "no QR code for a ticket");
            String::new()
        }
    }
}

/// One ticket; its time in its venue's zone (`default_zone` when the venue has none), named.
fn ticket_html(ticket: &TicketRow, currency: &str, default_zone: chrono_tz::Tz) -> String {
    let when = ticket.when_at_venue(default_zone);
    let kind = ticket
        .ticket_type_name
        .as_deref()
        .map(|t| format!(" · {}", escape(t)))
        .unwrap_or_default();
    let venue = ticket
        .page()
        .map(|p| format!("<p class=\"venue\">{}</p>", escape(&p.title)))
        .unwrap_or_default();
    let (class, body) = match ticket.state {
        TicketState::Confirmed => (
            "ticket",
            format!(
                "<div class=\"qr\">{}</div><p class=\"code\">{}</p>",
                qr_svg(&ticket.code),
                escape(&ticket.code)
            ),
        ),
        TicketState::CheckedIn => (
            "ticket used",
            format!(
                "<p class=\"state\">Checked in</p><p class=\"code\">{}</p>",
                escape(&ticket.code)
            ),
        ),
        TicketState::Cancelled => (
            "ticket cancelled",
            "<p class=\"state\">Refunded: this event sold out before the payment completed.</p>"
                .to_owned(),
        ),
        TicketState::Refunded => (
            "ticket cancelled",
            format!(
                "<p class=\"state\">Refunded {}</p>",
                escape(&storefront_contract::format_amount(
                    storefront_contract::Money::from_minor(ticket.cost),
                    currency
                ))
            ),
        ),
        TicketState::Pending | TicketState::Reserved => (
            "ticket cancelled",
            "<p class=\"state\">Not paid</p>".to_owned(),
        ),
    };
    format!(
        "<section class=\"{class}\"><h2>{name}</h2><p class=\"when\">{when}{kind}</p>{venue}{body}</section>",
        name = escape(&ticket.event_name),
    )
}

/// The page's heading, from what the order holds: its valid tickets, or else the order.
fn heading(items: &OrderItems) -> String {
    match (held(items), items.tickets.len()) {
        (0, 0) => "Your order".to_owned(),
        (0, 1) => "Your order: its ticket was refunded".to_owned(),
        (0, _) => "Your order: its tickets were refunded".to_owned(),
        (1, _) => "Your ticket".to_owned(),
        (n, _) => format!("Your {n} tickets"),
    }
}

/// What the page asks of the buyer at the door, for the tickets that still stand.
fn intro(order_id: i64, items: &OrderItems) -> String {
    match held(items) {
        0 => format!("Order {order_id}."),
        1 => format!("Order {order_id}. Show the code at the door; it is scanned once."),
        _ => format!("Order {order_id}. Show each code at the door; each is scanned once."),
    }
}

/// The order's tickets that are paid for and stand.
fn held(items: &OrderItems) -> usize {
    items.tickets.iter().filter(|t| t.state.is_held()).count()
}

/// The order's bookings and products, below its tickets.
fn other_lines(items: &OrderItems, default_zone: chrono_tz::Tz) -> String {
    let mut lines = String::new();
    for booking in &items.bookings {
        lines.push_str(&format!(
            "<li>{} · {} · {}</li>",
            escape(&booking.name),
            escape(&booking.calendar_name),
            escape(
                &booking
                    .starts_at
                    .with_timezone(&default_zone)
                    .format("%a %-d %b %Y %H:%M")
                    .to_string()
            )
        ));
    }
    for product in &items.products {
        lines.push_str(&format!(
            "<li>{} × {}</li>",
            product.quantity,
            escape(&product.title)
        ));
    }
    match lines.is_empty() {
        true => String::new(),
        false => format!("<h2 class=\"also\">Also in this order</h2><ul>{lines}</ul>"),
    }
}

fn render(order: &OrderRow, items: &OrderItems, default_zone: chrono_tz::Tz) -> String {
    let sections: String = items
        .tickets
        .iter()
        .map(|ticket| ticket_html(ticket, &order.currency, default_zone))
        .collect();
    let heading = heading(items);
    let intro = intro(order.id, items);
    let others = other_lines(items, default_zone);
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>{heading} · order {id}</title>\
         <style>body{{font:17px/1.45 system-ui,sans-serif;margin:0 auto;max-width:30rem;padding:1rem;\
         color:#111;background:#fff}}h1{{font-size:1.4rem}}section{{border:2px solid #111;\
         border-radius:12px;padding:1rem;margin:1rem 0;text-align:center}}h2{{margin:.2rem 0;\
         font-size:1.2rem}}.qr svg{{width:70%;max-width:240px;height:auto}}.code{{font:700 1.6rem/1.2 \
         ui-monospace,monospace;letter-spacing:.1em}}.cancelled,.used{{border-style:dashed;color:#555}}\
         .state{{font-weight:600}}footer{{color:#555;font-size:.9rem}}</style></head>\
         <body><main><h1>{heading}</h1><p>{intro}</p>{sections}{others}</main><footer>Keep this \
         page: it works without a connection once loaded.</footer></body></html>",
        id = order.id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heading_says_what_the_order_holds() {
        use storefront_contract::{CartProduct, Money};
        let ticket = |state| TicketRow {
            id: 1,
            code: "7KQ2-M9XD".into(),
            state,
            event_id: 1,
            event_name: "Gig".into(),
            event_starts_at: 0,
            ticket_type_id: None,
            ticket_type_name: None,
            cost: 500,
            page_id: None,
            page_slug: None,
            page_title: None,
            page_timezone: None,
            order_id: Some(1),
            created_at: 0,
            previous_cost: None,
            checked_in_at: None,
        };
        let tote = CartProduct {
            id: 1,
            product_id: 1,
            title: "Tote bag".into(),
            unit_price: Money::from_minor(850),
            quantity: 2,
            line_total: Money::from_minor(1700),
            previous_unit_price: None,
        };
        let products_only = OrderItems {
            products: vec![tote.clone()],
            bookings: vec![],
            tickets: vec![],
            refunds: vec![],
        };
        assert_eq!(heading(&products_only), "Your order");
        assert!(other_lines(&products_only, chrono_tz::UTC).contains("2 × Tote bag"));
        let refunded = OrderItems {
            products: vec![],
            bookings: vec![],
            tickets: vec![
                ticket(TicketState::Cancelled),
                ticket(TicketState::Refunded),
            ],
            refunds: vec![],
        };
        assert_eq!(heading(&refunded), "Your order: its tickets were refunded");
        // Nothing left to show at the door.
        assert_eq!(intro(7, &refunded), "Order 7.");
        let one_refunded = OrderItems {
            tickets: vec![ticket(TicketState::Refunded)],
            ..refunded
        };
        assert_eq!(
            heading(&one_refunded),
            "Your order: its ticket was refunded"
        );
        assert_eq!(intro(7, &one_refunded), "Order 7.");
        let mixed = OrderItems {
            products: vec![tote],
            bookings: vec![],
            tickets: vec![
                ticket(TicketState::Confirmed),
                ticket(TicketState::Cancelled),
            ],
            refunds: vec![],
        };
        assert_eq!(heading(&mixed), "Your ticket");
        assert_eq!(
            intro(7, &mixed),
            "Order 7. Show the code at the door; it is scanned once."
        );
        let two = OrderItems {
            tickets: vec![
                ticket(TicketState::Confirmed),
                ticket(TicketState::CheckedIn),
            ],
            ..mixed
        };
        assert_eq!(heading(&two), "Your 2 tickets");
        assert_eq!(
            intro(7, &two),
            "Order 7. Show each code at the door; each is scanned once."
        );
    }

    #[test]
    fn qr_codes_are_bare_inline_svg() {
        let svg = qr_svg("7KQ2-M9XD");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("<?xml"), "no prolog inside the page: {svg}");
        assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    }
}
