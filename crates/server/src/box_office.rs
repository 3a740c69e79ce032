//! The box office's rules, pure: an event's sales from its kept counts, the totals, an
//! order's history from what the database holds, and the accountant's CSV.

use chrono::{DateTime, Utc};
use storefront_contract::{
    EventSales, EventSummary, HistoryEntry, Money, PaymentMethod, RefundReason, SalesTotals,
    TicketState, TypeSales, format_amount,
};

use crate::mail::MailKind;
use crate::store::{
    EventCounts, ExportRow, MailState, OrderItems, OrderMail, OrderRow, PayPlace, RefundState,
    TicketTypeRow,
};
use crate::time::to_utc;

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// One event's sales from its kept counts; `types` names its ticket types (retired ones
/// too). A type that sold nothing is listed with nothing.
pub fn event_sales(
    event: EventSummary,
    counts: Option<&EventCounts>,
    types: &[TicketTypeRow],
) -> EventSales {
    let empty = EventCounts::default();
    let counts = counts.unwrap_or(&empty);
    let total = counts.total;
    let mut by_type: Vec<TypeSales> = types
        .iter()
        .map(|t| {
            let sold = counts.by_type.iter().find(|c| c.type_id == Some(t.id));
            TypeSales {
                ticket_type_id: Some(t.id),
                name: t.name.clone(),
                sold: count(sold.map_or(0, |c| c.counts.paid())),
                revenue: Money::from_minor(sold.map_or(0, |c| c.counts.paid_amount)),
            }
        })
        .collect();
    // Tickets without a type (an event priced as a whole), or of a type no longer known.
    for c in &counts.by_type {
        let known = c.type_id.is_some_and(|id| types.iter().any(|t| t.id == id));
        if !known && (c.counts.paid() > 0 || c.counts.paid_amount > 0) {
            by_type.push(TypeSales {
                ticket_type_id: c.type_id,
                name: "Tickets".to_owned(),
                sold: count(c.counts.paid()),
                revenue: Money::from_minor(c.counts.paid_amount),
            });
        }
    }
    EventSales {
        capacity: event.capacity,
        sold: count(total.paid()),
        pending: count(total.pending),
        reserved: count(total.reserved),
        checked_in: count(total.checked_in),
        revenue: Money::from_minor(total.paid_amount),
        refunded: Money::from_minor(total.refunded_amount),
        refunded_tickets: count(total.refunded),
        by_type,
        event,
    }
}

/// The listed events' figures added up.
pub fn totals(events: &[EventSales]) -> SalesTotals {
    let minor = |m: Money| m.to_minor().unwrap_or(0);
    SalesTotals {
        sold: events.iter().map(|e| e.sold).sum(),
        checked_in: events.iter().map(|e| e.checked_in).sum(),
        revenue: Money::from_minor(events.iter().map(|e| minor(e.revenue)).sum()),
        refunded: Money::from_minor(events.iter().map(|e| minor(e.refunded)).sum()),
    }
}

/// What happened to an order, oldest first: made, paid, each ticket let in, each refund
/// asked for and how it ended, each e-mail sent or failed, cancelled.
pub fn history(order: &OrderRow, items: &OrderItems, mails: &[OrderMail]) -> Vec<HistoryEntry> {
    let money = |minor: i64| format_amount(Money::from_minor(minor), &order.currency);
    let entry = |at: i64, what: String, by: Option<&str>| HistoryEntry {
        at: to_utc(at),
        what,
        by: by.map(str::to_owned),
    };
    let buyer = Some(order.buyer_name.as_str());
    let tickets = items
        .tickets
        .iter()
        .filter(|t| t.state != TicketState::Pending)
        .count();
    let mut history = Vec::new();
    if order.comp {
        history.push(entry(
            order.created_at,
            format!("Guest list: {tickets} ticket(s), nothing to pay"),
            Some("box office"),
        ));
    } else {
        history.push(entry(
            order.created_at,
            format!("Ordered: {}", money(order.total)),
            buyer,
        ));
        if let Some(paid_at) = order.paid_at {
            let how = match order.checkout.as_ref().map(|c| &c.place) {
                Some(PayPlace::Reader { name, .. }) => format!(" on card reader {name}"),
                Some(PayPlace::Hosted { .. }) => " on SumUp's payment page".to_owned(),
                None => String::new(),
            };
            history.push(entry(
                paid_at,
                format!("Paid {}{how}", money(order.total)),
                buyer,
            ));
        }
    }
    for ticket in &items.tickets {
        if let Some(at) = ticket.checked_in_at {
            history.push(entry(
                at,
                format!("Ticket {} checked in", ticket.code),
                Some("door"),
            ));
        }
    }
    for refund in &items.refunds {
        let asked = match refund.reason {
            RefundReason::SoldOut => format!(
                "{} sold out before the payment: {} due back",
                sold_out_events(items),
                money(refund.amount)
            ),
            RefundReason::BoxOffice => {
                let codes: Vec<&str> = items
                    .tickets
                    .iter()
                    .filter(|t| t.state == TicketState::Refunded)
                    .map(|t| t.code.as_str())
                    .collect();
                let mut what = format!("Refund of {} asked", money(refund.amount));
                if !codes.is_empty() {
                    what.push_str(&format!(" ({})", codes.join(", ")));
                }
                if let Some(note) = &refund.note {
                    what.push_str(&format!(": {note}"));
                }
                what
            }
        };
        let by = match refund.reason {
            RefundReason::SoldOut => None,
            RefundReason::BoxOffice => refund.by_name.as_deref().or(Some("box office")),
        };
        history.push(entry(refund.created_at, asked, by));
        if let Some(at) = refund.finished_at {
            let what = match refund.state {
                RefundState::Refunded if refund.amount == 0 => {
                    "Refunded: nothing was paid".to_owned()
                }
                RefundState::Refunded => format!("{} refunded through SumUp", money(refund.amount)),
                RefundState::Failed => format!(
                    "Refund of {} failed: {}; refund the buyer by hand",
                    money(refund.amount),
                    refund.message.as_deref().unwrap_or("SumUp refused it")
                ),
                RefundState::Due | RefundState::Refunding => continue,
            };
            history.push(entry(at, what, None));
        }
    }
    for mail in mails {
        let about = match mail.kind {
            MailKind::OrderPaid => "the tickets",
            MailKind::Refunded => "the refund",
            MailKind::ResetCode => continue,
        };
        match mail.state {
            MailState::Sent => history.push(entry(
                mail.sent_at.unwrap_or(mail.created_at),
                format!("E-mailed {about} to {}", mail.recipient),
                None,
            )),
            MailState::Failed => history.push(entry(
                mail.created_at,
                format!(
                    "E-mail of {about} to {} failed: {}",
                    mail.recipient,
                    mail.error.as_deref().unwrap_or("refused")
                ),
                None,
            )),
            MailState::Queued | MailState::Sending => history.push(entry(
                mail.created_at,
                format!("E-mail of {about} to {} waiting to be sent", mail.recipient),
                None,
            )),
        }
    }
    if let Some(at) = order.cancelled_at {
        history.push(entry(at, "Cancelled".to_owned(), buyer));
    }
    history.sort_by_key(|h| h.at);
    history
}

/// The events whose tickets the sold-out rule cancelled in the order.
fn sold_out_events(items: &OrderItems) -> String {
    let mut names: Vec<&str> = items
        .tickets
        .iter()
        .filter(|t| t.state == TicketState::Cancelled)
        .map(|t| t.event_name.as_str())
        .collect();
    names.dedup();
    if names.is_empty() {
        "The event".to_owned()
    } else {
        names.join(", ")
    }
}

/// How an order is paid, for the box office: a guest-list order is `comp`.
pub fn payment_method(order: &OrderRow) -> PaymentMethod {
    if order.comp {
        PaymentMethod::Comp
    } else {
        order
            .checkout
            .as_ref()
            .map(|c| c.place.method())
            .unwrap_or_default()
    }
}

/// The header of the accountant's export.
const CSV_HEADER: [&str; 11] = [
    "order",
    "code",
    "event",
    "type",
    "price",
    "state",
    "buyer email",
    "buyer name",
    "paid at",
    "checked in at",
    "refunded",
];

/// One field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break
/// (quotes doubled). A field that a spreadsheet would run as a formula is prefixed with `'`.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The accountant's export: one row per ticket of a paid order, CRLF line ends, amounts as
/// decimals, times in UTC (RFC 3339).
pub fn csv(rows: &[ExportRow]) -> String {
    let time = |at: Option<i64>| {
        at.map(|at| {
            let at: DateTime<Utc> = to_utc(at);
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_default()
    };
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for row in rows {
        let fields = [
            row.order_id.to_string(),
            row.code.clone(),
            row.event_name.clone(),
            row.ticket_type.clone().unwrap_or_default(),
            Money::from_minor(row.cost).to_string(),
            row.state.as_str().to_owned(),
            row.buyer_email.clone().unwrap_or_default(),
            row.buyer_name.clone(),
            time(row.paid_at),
            time(row.checked_in_at),
            Money::from_minor(row.refunded).to_string(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-12.50"), "-12.50");
    }

    #[test]
    fn the_export_has_a_header_and_one_row_per_ticket() {
        let row = ExportRow {
            order_id: 7,
            code: "7KQ2-M9XD".into(),
            event_name: "Jazz, late".into(),
            ticket_type: Some("Standing".into()),
            cost: 1400,
            state: TicketState::Refunded,
            buyer_email: Some("ada@example.com".into()),
            buyer_name: "Ada".into(),
            paid_at: Some(1_800_000_000),
            checked_in_at: None,
            refunded: 1400,
        };
        let text = csv(&[row]);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER.join(","));
        assert_eq!(
            lines[1],
            "7,7KQ2-M9XD,\"Jazz, late\",Standing,14.00,refunded,ada@example.com,Ada,\
             2027-01-15T08:00:00Z,,14.00"
        );
        assert_eq!(lines[2], "");
    }
}
