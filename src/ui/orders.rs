//! Orders (newest first) and tickets.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use storefront_contract::{Order, OrderStatus, RefundStatus, Ticket, TicketState, format_amount};

use super::Ctx;
use crate::app::layout::ORDERS_LIST_TOP;
use crate::app::{OrdersRow, orders_rows};
use crate::text::{pad, pad_left, width as width_of};

pub fn status_label(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "Waiting for payment",
        OrderStatus::Paid => "Paid",
        OrderStatus::Failed => "Payment failed",
        OrderStatus::Cancelled => "Cancelled",
    }
}

pub fn ticket_state_label(state: TicketState) -> &'static str {
    match state {
        TicketState::Pending => "In cart",
        TicketState::Reserved => "Reserved",
        TicketState::Confirmed => "Confirmed",
        TicketState::CheckedIn => "Checked in",
        TicketState::Cancelled => "Cancelled",
        TicketState::Refunded => "Refunded",
    }
}

/// Where an order's things are: its page, else "Several venues" when its tickets are at
/// more than one, else nothing (events without a venue).
fn venue_of(order: &Order) -> Option<String> {
    if let Some(page) = &order.page {
        return Some(page.title.clone());
    }
    let mut pages: Vec<i64> = order
        .tickets
        .iter()
        .filter_map(|t| t.calendar_container_id)
        .collect();
    pages.sort_unstable();
    pages.dedup();
    (pages.len() > 1).then(|| "Several venues".to_owned())
}

/// The order's status, with its refund: "Paid · £36.00 refunded".
fn order_status(order: &Order) -> String {
    let mut status = status_label(order.status).to_owned();
    let refunds = match (&order.refund, order.refunds.is_empty()) {
        (Some(refund), true) => std::slice::from_ref(refund),
        _ => order.refunds.as_slice(),
    };
    for refund in refunds {
        let amount = format_amount(refund.amount, &order.currency);
        let what = match refund.status {
            RefundStatus::Refunded => format!("Refunded {amount}"),
            RefundStatus::Due => format!("{amount} refund due"),
            RefundStatus::Failed => format!("{amount} refund by hand"),
        };
        status.push_str(" · ");
        status.push_str(&what);
    }
    status
}

/// A ticket's state as the buyer reads it: one cancelled by the sold-out rule was refunded.
fn ticket_label(state: &crate::app::OrdersState, ticket: &Ticket) -> &'static str {
    let refunded = ticket.state == TicketState::Cancelled
        && state
            .orders
            .iter()
            .find(|o| Some(o.id) == ticket.order_id)
            .is_some_and(|o| o.refund.is_some());
    if refunded {
        "Refunded"
    } else {
        ticket_state_label(ticket.state)
    }
}

pub fn draw(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let app = ctx.app;
    let theme = &ctx.theme;
    let state = &app.orders;
    frame.render_widget(
        Paragraph::new(Line::styled(" Orders and tickets", theme.title)),
        Rect { height: 1, ..area },
    );
    let body = Rect {
        y: area.y + ORDERS_LIST_TOP,
        height: area.height.saturating_sub(ORDERS_LIST_TOP),
        ..area
    };
    if !state.loaded {
        frame.render_widget(Paragraph::new(Line::styled(" Loading…", theme.muted)), body);
        return;
    }
    let rows = orders_rows(state);
    let selectable = state.selectable();
    let selected = selectable.get(state.list.selected).copied();
    let width = area.width.saturating_sub(1) as usize;
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(state.row_offset)
        .take(body.height as usize)
        .map(|(i, row)| {
            let text = match *row {
                OrdersRow::Heading(title) => {
                    return Line::styled(format!(" {title}"), theme.accent);
                }
                OrdersRow::Empty(text) => return Line::styled(format!("   {text}"), theme.muted),
                OrdersRow::Blank => String::new(),
                OrdersRow::Order(at) => {
                    let order = &state.orders[at];
                    let label = match venue_of(order) {
                        Some(venue) => format!(
                            "Order {} · {} · {venue}",
                            order.id,
                            ctx.when(order.created_at)
                        ),
                        None => format!("Order {} · {}", order.id, ctx.when(order.created_at)),
                    };
                    let status = order_status(order);
                    let status_width = (width_of(&status) + 1).max(20);
                    let rest = width.saturating_sub(14 + status_width);
                    format!(
                        "   {}{}{}",
                        pad(&label, rest),
                        pad_left(&status, status_width),
                        pad_left(&format_amount(order.total, &order.currency), 11)
                    )
                }
                OrdersRow::Ticket(at) => {
                    let ticket = &state.tickets[at];
                    let kind = ticket
                        .ticket_type_name
                        .as_deref()
                        .map(|t| format!(" · {t}"))
                        .unwrap_or_default();
                    let label = format!(
                        "{}{kind} · {}",
                        ticket.entry_name,
                        ctx.when_at(ticket.entry_starts_at, ctx.event_zone(ticket.entry_id))
                    );
                    let rest = width.saturating_sub(27);
                    format!(
                        "   {}{}{}",
                        pad(&label, rest),
                        pad_left(ticket_label(state, ticket), 12),
                        pad_left(&ticket.code, 12)
                    )
                }
            };
            if Some(i) == selected {
                Line::styled(format!(" ▸{}", &text[2..]), theme.selected)
            } else {
                Line::raw(text)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), body);
}
