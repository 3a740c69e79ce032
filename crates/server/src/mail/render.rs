//! How each e-mail reads: plain text that a terminal mail client shows as it is, and HTML
//! that reads well on a phone; no remote images, no tracking, nothing but the order's own
//! facts. Pure: the sender renders an e-mail once and keeps it, so that a resend is the same
//! e-mail.

use storefront_contract::{Money, TicketState, format_amount};

use crate::html::escape;
use crate::store::{OrderItems, OrderRow, RefundRow};

/// An e-mail's subject and its two bodies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What every order e-mail is about: the order, what it holds, its ticket page, and the zone
/// of venues without their own.
pub struct OrderFacts<'a> {
    pub order: &'a OrderRow,
    pub items: &'a OrderItems,
    pub tickets_url: Option<&'a str>,
    pub default_zone: chrono_tz::Tz,
}

impl OrderFacts<'_> {
    fn amount(&self, minor: i64) -> String {
        format_amount(Money::from_minor(minor), &self.order.currency)
    }

    /// Each ticket, as lines of text and as an HTML block.
    fn tickets(&self) -> (String, String) {
        let mut text = String::new();
        let mut html = String::new();
        for ticket in &self.items.tickets {
            let when = ticket.when_at_venue(self.default_zone);
            let kind = ticket.ticket_type_name.as_deref().unwrap_or("Ticket");
            let venue = ticket.page_title.as_deref();
            let state = match ticket.state {
                TicketState::Confirmed => None,
                TicketState::CheckedIn => Some("checked in".to_owned()),
                TicketState::Refunded => Some(format!("refunded {}", self.amount(ticket.cost))),
                TicketState::Cancelled => Some(format!(
                    "refunded {}: the event sold out before the payment completed",
                    self.amount(ticket.cost)
                )),
                TicketState::Pending | TicketState::Reserved => Some("not paid".to_owned()),
            };
            text.push_str(&format!("\n{}\n  {when}\n", ticket.event_name));
            if let Some(venue) = venue {
                text.push_str(&format!("  {venue}\n"));
            }
            text.push_str(&format!("  {kind} · {}", ticket.code));
            if let Some(state) = &state {
                text.push_str(&format!(" ({state})"));
            }
            text.push('\n');
            html.push_str(&format!(
                "<div style=\"border:2px solid #111;border-radius:10px;padding:12px;margin:12px 0\">\
                 <div style=\"font-size:18px;font-weight:700\">{name}</div>\
                 <div>{when}</div>{venue}<div>{kind}</div>\
                 <div style=\"font:700 22px ui-monospace,monospace;letter-spacing:2px;margin-top:6px\">{code}</div>\
                 {state}</div>",
                name = escape(&ticket.event_name),
                when = escape(&when),
                venue = venue
                    .map(|v| format!("<div>{}</div>", escape(v)))
                    .unwrap_or_default(),
                kind = escape(kind),
                code = escape(&ticket.code),
                state = state
                    .map(|s| format!("<div style=\"font-weight:600\">{}</div>", escape(&s)))
                    .unwrap_or_default(),
            ));
        }
        (text, html)
    }

    /// The bookings and products beside the tickets.
    fn others(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for booking in &self.items.bookings {
            lines.push(format!(
                "{} · {} · {}",
                booking.name,
                booking.calendar_name,
                booking
                    .starts_at
                    .with_timezone(&self.default_zone)
                    .format("%a %-d %b %Y %H:%M")
            ));
        }
        for product in &self.items.products {
            lines.push(format!("{} × {}", product.quantity, product.title));
        }
        lines
    }

    fn greeting(&self) -> String {
        match self.order.buyer_name.trim() {
            "" => "Hello,".to_owned(),
            name => format!("Hello {name},"),
        }
    }

    /// The subject's end: the events the order is for.
    fn events(&self) -> String {
        let mut names: Vec<&str> = Vec::new();
        for ticket in &self.items.tickets {
            if !names.contains(&ticket.event_name.as_str()) {
                names.push(&ticket.event_name);
            }
        }
        match names.as_slice() {
            [] => format!("order {}", self.order.id),
            [one] => (*one).to_owned(),
            [first, rest @ ..] => format!("{first} and {} more", rest.len()),
        }
    }
}

/// The text and HTML around `lead` (a paragraph), the tickets and the other lines.
fn letter(facts: &OrderFacts<'_>, subject: String, lead: &str, after: &str) -> Rendered {
    let (tickets_text, tickets_html) = facts.tickets();
    let others = facts.others();
    let link = facts.tickets_url;
    let mut text = format!("{}\n\n{lead}\n", facts.greeting());
    text.push_str(&tickets_text);
    if !others.is_empty() {
        text.push_str("\nAlso in this order:\n");
        for line in &others {
            text.push_str(&format!("  {line}\n"));
        }
    }
    // The page has codes to show at the door only while a ticket is valid; else it is the
    // order's (what was bought, what was refunded).
    let scannable = facts.items.tickets.iter().any(|t| t.state.is_held());
    let (page, page_says) = match scannable {
        true => (
            "Your ticket page",
            "Your ticket page, with a code to scan for each ticket:",
        ),
        false => ("Your order's page", "Your order's page:"),
    };
    if let Some(link) = link {
        text.push_str(&format!("\n{page_says}\n{link}\n"));
    }
    if !after.is_empty() {
        text.push_str(&format!("\n{after}\n"));
    }
    text.push_str(&format!(
        "\nOrder {} · {}\n",
        facts.order.id,
        facts.amount(facts.order.total)
    ));

    let others_html = match others.is_empty() {
        true => String::new(),
        false => format!(
            "<p style=\"margin-bottom:4px\">Also in this order:</p><ul style=\"margin-top:0\">{}</ul>",
            others
                .iter()
                .map(|l| format!("<li>{}</li>", escape(l)))
                .collect::<String>()
        ),
    };
    let link_html = link
        .map(|l| {
            format!(
                "<p><a href=\"{url}\" style=\"display:inline-block;padding:12px 18px;background:#111;\
                 color:#fff;border-radius:8px;text-decoration:none;font-weight:600\">{page}</a></p>\
                 <p style=\"font-size:14px;color:#555\">{says}{url}</p>",
                url = escape(l),
                says = if scannable { "Show its codes at the door: " } else { "" },
            )
        })
        .unwrap_or_default();
    let after_html = match after.is_empty() {
        true => String::new(),
        false => format!("<p>{}</p>", escape(after)),
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\
         <body style=\"margin:0;padding:16px;background:#fff;color:#111;\
         font:16px/1.45 system-ui,-apple-system,Segoe UI,sans-serif\">\
         <div style=\"max-width:32rem;margin:0 auto\"><p>{greeting}</p><p>{lead}</p>\
         {tickets_html}{others_html}{link_html}{after_html}\
         <p style=\"font-size:14px;color:#555\">Order {id} · {total}</p></div></body></html>",
        title = escape(&subject),
        greeting = escape(&facts.greeting()),
        lead = escape(lead),
        id = facts.order.id,
        total = escape(&facts.amount(facts.order.total)),
    );
    Rendered {
        subject,
        text,
        html,
    }
}

/// The e-mail of a paid order (a guest list's included): every ticket with its code, and the
/// ticket page.
pub fn order_paid(facts: &OrderFacts<'_>) -> Rendered {
    let valid = facts
        .items
        .tickets
        .iter()
        .filter(|t| t.state.is_held())
        .count();
    let (subject, lead) = match valid {
        0 if facts.items.tickets.is_empty() => (
            format!("Your order {}", facts.order.id),
            "Thank you: your order is paid.".to_owned(),
        ),
        0 => (
            format!("Your order {}: refunded", facts.order.id),
            "Your payment went through, but the event sold out before it did: your tickets \
             are refunded."
                .to_owned(),
        ),
        1 => (
            format!("Your ticket: {}", facts.events()),
            "Here is your ticket. Show its code at the door; it is scanned once.".to_owned(),
        ),
        n => (
            format!("Your {n} tickets: {}", facts.events()),
            "Here are your tickets. Show each code at the door; each is scanned once.".to_owned(),
        ),
    };
    letter(facts, subject, &lead, "")
}

/// The e-mail of a refund that went through: how much, for which tickets, and what stays
/// valid.
pub fn refunded(facts: &OrderFacts<'_>, refund: &RefundRow) -> Rendered {
    let amount = facts.amount(refund.amount);
    let subject = format!("Refund of {amount}: order {}", facts.order.id);
    let lead = match refund.reason {
        storefront_contract::RefundReason::SoldOut => format!(
            "The event sold out before your payment completed, so {amount} is on its way back \
             to your card."
        ),
        _ => format!("The venue has refunded {amount} to your card."),
    };
    let after = match &refund.note {
        Some(note) if !note.trim().is_empty() => format!("The venue's note: {}", note.trim()),
        _ => "A refund takes a few days to show on your statement.".to_owned(),
    };
    letter(facts, subject, &lead, &after)
}

/// The e-mail with a password reset code.
pub fn reset_code(code: &str, valid_minutes: i64) -> Rendered {
    let subject = "Your password reset code".to_owned();
    let lead = format!(
        "Someone (we hope you) asked to choose a new password for this address. The code is \
         valid for {valid_minutes} minutes:"
    );
    let after = "If it was not you, ignore this e-mail: your password stays as it is.";
    let text = format!("Hello,\n\n{lead}\n\n    {code}\n\n{after}\n");
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{subject}</title></head>\
         <body style=\"margin:0;padding:16px;background:#fff;color:#111;\
         font:16px/1.45 system-ui,-apple-system,Segoe UI,sans-serif\">\
         <div style=\"max-width:32rem;margin:0 auto\"><p>Hello,</p><p>{lead}</p>\
         <p style=\"font:700 28px ui-monospace,monospace;letter-spacing:4px\">{code}</p>\
         <p>{after}</p></div></body></html>",
        subject = escape(&subject),
        lead = escape(&lead),
        code = escape(code),
        after = escape(after),
    );
    Rendered {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use storefront_contract::{OrderStatus, RefundReason};

    use super::*;
    use crate::store::RefundState;
    use crate::store::tickets::TicketRow;

    fn ticket(code: &str, state: TicketState) -> TicketRow {
        TicketRow {
            id: 1,
            code: code.into(),
            state,
            event_id: 1,
            event_name: "Wren Duo <live>".into(),
            // Sat 7 Mar 2026, 19:30 UTC.
            event_starts_at: 1_772_911_800,
            ticket_type_id: Some(1),
            ticket_type_name: Some("Standard".into()),
            cost: 1400,
            page_id: Some(1),
            page_slug: Some("granary".into()),
            page_title: Some("The Old Granary".into()),
            page_timezone: Some("Europe/London".into()),
            order_id: Some(42),
            created_at: 0,
            previous_cost: None,
            checked_in_at: None,
        }
    }

    fn order() -> OrderRow {
        OrderRow {
            id: 42,
            user_id: 1,
            status: OrderStatus::Paid,
            total: 2800,
            currency: "GBP".into(),
            created_at: 0,
            paid_at: Some(0),
            cancelled_at: None,
            merchant_code: None,
            open_refunds: 0,
            page: None,
            checkout: None,
            tickets_secret: Some("s3cret".into()),
            terminal: None,
            comp: false,
            buyer_name: "Ada".into(),
            buyer_email: None,
            holds: Default::default(),
        }
    }

    fn items(tickets: Vec<TicketRow>) -> OrderItems {
        OrderItems {
            products: vec![],
            bookings: vec![],
            tickets,
            refunds: vec![],
        }
    }

    #[test]
    fn a_paid_order_says_each_ticket_its_venue_time_and_the_ticket_page() {
        let (order, items) = (
            order(),
            items(vec![
                ticket("7KQ2-M9XD", TicketState::Confirmed),
                ticket("8ABC-DEFG", TicketState::Confirmed),
            ]),
        );
        let mail = order_paid(&OrderFacts {
            order: &order,
            items: &items,
            tickets_url: Some("https://shop.example/t/s3cret"),
            default_zone: chrono_tz::UTC,
        });
        assert_eq!(mail.subject, "Your 2 tickets: Wren Duo <live>");
        for body in [&mail.text, &mail.html] {
            assert!(
                body.contains("7KQ2-M9XD") && body.contains("8ABC-DEFG"),
                "{body}"
            );
            assert!(body.contains("https://shop.example/t/s3cret"));
            assert!(body.contains("The Old Granary"));
            // The venue's time (London is on GMT in March), not the server's.
            assert!(body.contains("Sat 7 Mar 2026, 19:30 GMT"), "{body}");
        }
        assert!(mail.text.starts_with("Hello Ada,"));
        assert!(mail.text.contains("Order 42 · £28.00"));
        assert!(mail.html.contains("Wren Duo &lt;live&gt;"), "escaped");
        assert!(!mail.html.contains("<img") && !mail.html.contains("<script"));
        assert!(
            !mail.html.contains("http://") && !mail.html.contains("src="),
            "nothing remote"
        );
    }

    #[test]
    fn what_the_order_holds_is_what_the_subject_says() {
        let order = order();
        let facts = |items: &OrderItems| -> String {
            order_paid(&OrderFacts {
                order: &order,
                items,
                tickets_url: None,
                default_zone: chrono_tz::UTC,
            })
            .subject
        };
        assert_eq!(
            facts(&items(vec![ticket("A", TicketState::Confirmed)])),
            "Your ticket: Wren Duo <live>"
        );
        assert_eq!(facts(&items(vec![])), "Your order 42");
        assert_eq!(
            facts(&items(vec![ticket("A", TicketState::Cancelled)])),
            "Your order 42: refunded"
        );
    }

    #[test]
    fn a_refund_says_how_much_and_the_venues_note() {
        let order = order();
        let items = items(vec![
            ticket("7KQ2-M9XD", TicketState::Refunded),
            ticket("8ABC-DEFG", TicketState::Confirmed),
        ]);
        let refund = RefundRow {
            id: 1,
            order_id: 42,
            reason: RefundReason::BoxOffice,
            amount: 1400,
            state: RefundState::Refunded,
            message: None,
            created_at: 0,
            finished_at: Some(0),
            by_name: Some("Max".into()),
            note: Some("Cannot come".into()),
        };
        let mail = refunded(
            &OrderFacts {
                order: &order,
                items: &items,
                tickets_url: None,
                default_zone: chrono_tz::UTC,
            },
            &refund,
        );
        assert_eq!(mail.subject, "Refund of £14.00: order 42");
        assert!(
            mail.text.contains("7KQ2-M9XD (refunded £14.00)"),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("The venue's note: Cannot come"));
    }

    #[test]
    fn the_page_is_offered_for_codes_only_while_a_ticket_is_valid() {
        let order = order();
        let mail = |tickets: Vec<TicketRow>| {
            let items = items(tickets);
            order_paid(&OrderFacts {
                order: &order,
                items: &items,
                tickets_url: Some("https://shop.example/t/s3cret"),
                default_zone: chrono_tz::UTC,
            })
        };
        let valid = mail(vec![ticket("7KQ2-M9XD", TicketState::Confirmed)]);
        assert!(
            valid
                .text
                .contains("Your ticket page, with a code to scan for each ticket:")
        );
        assert!(valid.html.contains("Show its codes at the door"));
        // A shop order, and one whose tickets were all refunded: no codes to show.
        for none in [
            mail(vec![]),
            mail(vec![ticket("7KQ2-M9XD", TicketState::Refunded)]),
        ] {
            assert!(
                none.text
                    .contains("Your order's page:\nhttps://shop.example/t/s3cret"),
                "{}",
                none.text
            );
            for body in [&none.text, &none.html] {
                assert!(!body.contains("code to scan") && !body.contains("codes at the door"));
            }
        }
    }

    #[test]
    fn a_reset_code_is_said_once_and_plainly() {
        let mail = reset_code("7KQ2M9XD", 30);
        assert!(mail.text.contains("\n    7KQ2M9XD\n"));
        assert!(mail.text.contains("30 minutes"));
        assert!(mail.html.contains(">7KQ2M9XD<"));
    }
}
