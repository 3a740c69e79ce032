//! Orders (newest first) and tickets.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use storefront_contract::{OrderStatus, TicketState, format_amount};

use super::Ctx;
use crate::app::layout::ORDERS_LIST_TOP;
use crate::app::{OrdersRow, orders_rows};
use crate::text::{pad, pad_left};

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
                    let venue = order
                        .page
                        .as_ref()
                        .map_or("Several venues", |p| p.title.as_str());
                    let label = format!(
                        "Order {} · {} · {}",
                        order.id,
                        ctx.when(order.created_at),
                        venue
                    );
                    let rest = width.saturating_sub(34);
                    format!(
                        "   {}{}{}",
                        pad(&label, rest),
                        pad_left(status_label(order.status), 20),
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
                        ctx.when(ticket.entry_starts_at)
                    );
                    let rest = width.saturating_sub(27);
                    format!(
                        "   {}{}{}",
                        pad(&label, rest),
                        pad_left(ticket_state_label(ticket.state), 12),
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
