//! The box office: every event's sales as bars (tonight and coming first, past below), one
//! event's page with its types and a chart of sales per day, orders found as one types, and
//! an order's page with its tickets, history and ticket-page QR; the refund, guest-list and
//! export forms over them.

use chrono::Utc;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph, Wrap};
use storefront_contract::{
    EventSales, FoundOrder, OrderStatus, PaymentMethod, TicketState, format_amount,
};

use super::{Ctx, popup};
use crate::app::office::is_refundable;
use crate::app::{CompField, OfficeDialog};
use crate::text::{fit, pad, pad_left, width};

/// A bar of `cells` cells, filled as `part` of `whole`: `███████░░░`.
pub fn bar(part: u32, whole: u32, cells: usize) -> String {
    if cells == 0 {
        return String::new();
    }
    let filled = if whole == 0 {
        0
    } else {
        ((u64::from(part.min(whole)) * cells as u64 + u64::from(whole) / 2) / u64::from(whole))
            as usize
    };
    // Something sold shows as at least a sliver.
    let filled = if part > 0 { filled.max(1) } else { filled };
    format!("{}{}", "█".repeat(filled), "░".repeat(cells - filled))
}

fn currency(ctx: &Ctx) -> String {
    ctx.app
        .office
        .sales
        .as_ref()
        .and_then(|s| s.events.first())
        .map(|e| e.event.currency.clone())
        .unwrap_or_else(|| "GBP".to_owned())
}

/// `45/120` or `45 sold` without a capacity.
fn sold_of(sales: &EventSales) -> String {
    match sales.capacity {
        Some(capacity) => format!("{}/{capacity}", sales.sold),
        None => format!("{} sold", sales.sold),
    }
}

pub fn draw(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    match ctx.app.screen {
        crate::app::Screen::OfficeEvent => draw_event(ctx, frame, area),
        crate::app::Screen::OfficeOrders => draw_search(ctx, frame, area),
        crate::app::Screen::OfficeOrder => draw_order(ctx, frame, area),
        _ => draw_sales(ctx, frame, area),
    }
    if let Some(dialog) = &ctx.app.office.dialog {
        draw_dialog(ctx, frame, area, dialog);
    }
}

fn draw_sales(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let theme = &ctx.theme;
    let [top, totals, _, head, list] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::styled(" Box office · sales, live", theme.title)),
        top,
    );
    let Some(sales) = &ctx.app.office.sales else {
        frame.render_widget(
            Paragraph::new(Line::styled(" Loading the sales…", theme.muted)),
            list,
        );
        return;
    };
    let currency = currency(ctx);
    let t = &sales.totals;
    let parts = vec![
        vec![
            Span::styled(" All events: ", theme.muted),
            Span::styled(format!("{} sold", t.sold), theme.base),
        ],
        vec![
            Span::styled(" · ", theme.muted),
            Span::styled(format!("{} in", t.checked_in), theme.base),
        ],
        vec![
            Span::styled(" · revenue ", theme.muted),
            Span::styled(format_amount(t.revenue, &currency), theme.accent),
        ],
        vec![
            Span::styled(" · refunded ", theme.muted),
            Span::raw(format_amount(t.refunded, &currency)),
        ],
    ];
    frame.render_widget(
        Paragraph::new(super::whole_parts(parts, totals.width)),
        totals,
    );
    let w = usize::from(area.width);
    // Columns: name, when, bar, sold, in, revenue; a narrow screen drops when, then in.
    let sold_w = 9;
    let revenue_w = 11;
    let bar_w = (w / 5).clamp(6, 24);
    let mut when_w = 16;
    let mut in_w = 6;
    if w < 16 + 7 + bar_w + sold_w + revenue_w + when_w + in_w {
        when_w = 0;
    }
    if w < 16 + 7 + bar_w + sold_w + revenue_w + in_w {
        in_w = 0;
    }
    let name_w = w.saturating_sub(when_w + bar_w + sold_w + in_w + revenue_w + 7);
    let column = |text: &str, cells: usize, left: bool| -> String {
        match (cells, left) {
            (0, _) => String::new(),
            (_, true) => format!("{} ", pad(&fit(text, cells), cells)),
            (_, false) => format!("{} ", pad_left(&fit(text, cells), cells)),
        }
    };
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!(
                " {}{}{}{}{}{}",
                column("Event", name_w, true),
                column("When", when_w, true),
                column("Sold", bar_w, true),
                column("", sold_w, false),
                column("In", in_w, false),
                column("Revenue", revenue_w, false)
            ),
            theme.muted.add_modifier(Modifier::UNDERLINED),
        )),
        head,
    );
    let now = Utc::now();
    let rows = usize::from(list.height);
    let selected = ctx.app.office.list.selected;
    let offset = ctx.app.office.list.offset;
    let mut lines = Vec::new();
    for (i, e) in sales.events.iter().enumerate().skip(offset).take(rows) {
        let ended = e
            .event
            .ends_at
            .unwrap_or(e.event.starts_at + chrono::Duration::hours(12))
            < now;
        let style = if i == selected {
            theme.selected
        } else if ended {
            theme.muted
        } else {
            theme.base
        };
        let capacity = e.capacity.unwrap_or(e.sold.max(1));
        let text = format!(
            " {}{}{} {}{}{}",
            column(&e.event.name, name_w, true),
            column(
                &ctx.when_at(e.event.starts_at, Some(&e.event.timezone)),
                when_w,
                true
            ),
            bar(e.sold, capacity, bar_w),
            column(&sold_of(e), sold_w, false),
            column(&e.checked_in.to_string(), in_w, false),
            column(
                &format_amount(e.revenue, &e.event.currency),
                revenue_w,
                false
            ),
        );
        lines.push(Line::styled(text, style));
    }
    if sales.events.is_empty() {
        lines.push(Line::styled(" No events yet.", theme.muted));
    }
    frame.render_widget(Paragraph::new(lines), list);
}

fn draw_event(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let theme = &ctx.theme;
    let office = &ctx.app.office;
    let Some(detail) = &office.event else {
        frame.render_widget(
            Paragraph::new(Line::styled(" Loading the event…", theme.muted)),
            area,
        );
        return;
    };
    let sales = &detail.sales;
    let event = &sales.event;
    let types = sales.by_type.len().max(1) as u16;
    let [title, figures, _, head, by_type, _, chart] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(types),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(format!(" {}", event.name), theme.title),
            Span::styled(
                format!(" · {}", ctx.when_at(event.starts_at, Some(&event.timezone))),
                theme.muted,
            ),
        ])),
        title,
    );
    let cur = &event.currency;
    let bar_w = usize::from(area.width / 3).clamp(6, 30);
    let capacity = sales.capacity.unwrap_or(sales.sold.max(1));
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(" Sold     ", theme.muted),
                Span::styled(bar(sales.sold, capacity, bar_w), theme.accent),
                Span::raw(format!(" {}", sold_of(sales))),
                Span::styled(
                    format!(
                        " · {} in carts · {} being paid",
                        sales.pending, sales.reserved
                    ),
                    theme.muted,
                ),
            ]),
            Line::from(vec![
                Span::styled(" In       ", theme.muted),
                Span::styled(
                    bar(sales.checked_in, sales.sold.max(1), bar_w),
                    theme.success,
                ),
                Span::raw(format!(" {} of {}", sales.checked_in, sales.sold)),
            ]),
            Line::from(vec![
                Span::styled(" Revenue  ", theme.muted),
                Span::styled(format_amount(sales.revenue, cur), theme.accent),
                Span::styled(
                    format!(
                        " · refunded {} ({} ticket{})",
                        format_amount(sales.refunded, cur),
                        sales.refunded_tickets,
                        if sales.refunded_tickets == 1 { "" } else { "s" }
                    ),
                    theme.muted,
                ),
            ]),
        ]),
        figures,
    );
    let name_w = 20;
    frame.render_widget(
        Paragraph::new(Line::styled(
            format!(
                " {} {} {} {}",
                pad("Ticket type", name_w),
                pad("", bar_w),
                pad_left("Sold", 6),
                pad_left("Revenue", 11)
            ),
            theme.muted.add_modifier(Modifier::UNDERLINED),
        )),
        head,
    );
    let lines: Vec<Line> = if sales.by_type.is_empty() {
        vec![Line::styled(" Nothing sold yet.", theme.muted)]
    } else {
        sales
            .by_type
            .iter()
            .map(|t| {
                Line::raw(format!(
                    " {} {} {} {}",
                    pad(&fit(&t.name, name_w), name_w),
                    bar(t.sold, sales.sold.max(1), bar_w),
                    pad_left(&t.sold.to_string(), 6),
                    pad_left(&format_amount(t.revenue, cur), 11)
                ))
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines), by_type);
    draw_days(ctx, frame, chart, detail);
}

/// Sales per day as bars, the newest days that fit.
fn draw_days(
    ctx: &Ctx,
    frame: &mut Frame,
    area: Rect,
    detail: &storefront_contract::EventSalesDetail,
) {
    let theme = &ctx.theme;
    let block = Block::new().title(Span::styled(" Tickets sold per day", theme.muted));
    if detail.by_day.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(" No paid tickets yet.", theme.muted)).block(block),
            area,
        );
        return;
    }
    let bar_width = 6u16;
    let fits = usize::from(area.width.saturating_sub(2) / (bar_width + 1)).max(1);
    let days = &detail.by_day[detail.by_day.len().saturating_sub(fits)..];
    let bars: Vec<Bar> = days
        .iter()
        .map(|d| {
            Bar::default()
                .value(u64::from(d.sold))
                .label(Line::raw(d.date.format("%d %b").to_string()))
                .style(theme.accent)
                .value_style(theme.selected)
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .block(block)
            .data(BarGroup::new(bars))
            .bar_width(bar_width)
            .bar_gap(1),
        area,
    );
}

fn status_text(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "waiting for payment",
        OrderStatus::Paid => "paid",
        OrderStatus::Failed => "payment failed",
        OrderStatus::Cancelled => "cancelled",
    }
}

fn found_line(found: &FoundOrder, w: usize) -> String {
    let order = &found.order;
    let tickets = order.tickets.len();
    let who = match &found.buyer.email {
        Some(email) => format!("{} <{email}>", found.buyer.name),
        None => found.buyer.name.clone(),
    };
    let comp = if order.payment_method == PaymentMethod::Comp {
        " · guest list"
    } else {
        ""
    };
    let right = format!(
        "{} ticket{} · {} · {}{comp}",
        tickets,
        if tickets == 1 { "" } else { "s" },
        format_amount(order.total, &order.currency),
        status_text(order.status)
    );
    let number = format!("#{:<6}", order.id);
    let room = w.saturating_sub(width(&number) + width(&right) + 4);
    format!(" {number} {} {right}", pad(&fit(&who, room), room))
}

fn draw_search(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let theme = &ctx.theme;
    let office = &ctx.app.office;
    let [title, input, _, list] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::styled(" Find an order", theme.title)),
        title,
    );
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" Order no., ticket code, e-mail or name: ", theme.muted),
            Span::styled(office.query.with_cursor(None), theme.field_focused),
        ])),
        input,
    );
    let w = usize::from(area.width);
    let rows = usize::from(list.height);
    let mut lines: Vec<Line> = office
        .found
        .iter()
        .enumerate()
        .skip(office.found_list.offset)
        .take(rows)
        .map(|(i, found)| {
            let style = if i == office.found_list.selected {
                theme.selected
            } else {
                theme.base
            };
            Line::styled(found_line(found, w), style)
        })
        .collect();
    if office.found.is_empty() && !office.searching {
        lines.push(Line::styled(
            if office.query.trim().is_empty() {
                " No orders yet."
            } else {
                " Nothing found."
            },
            theme.muted,
        ));
    }
    frame.render_widget(Paragraph::new(lines), list);
}

fn ticket_state(state: TicketState) -> &'static str {
    match state {
        TicketState::Pending => "in a cart",
        TicketState::Reserved => "being paid",
        TicketState::Confirmed => "valid",
        TicketState::CheckedIn => "checked in",
        TicketState::Cancelled => "cancelled",
        TicketState::Refunded => "refunded",
    }
}

fn draw_order(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let theme = &ctx.theme;
    let office = &ctx.app.office;
    let Some(detail) = &office.order else {
        frame.render_widget(
            Paragraph::new(Line::styled(" Loading the order…", theme.muted)),
            area,
        );
        return;
    };
    let order = &detail.order;
    let qr = order
        .tickets_url
        .as_deref()
        .and_then(|url| super::qr::qr_lines_with_quiet(url, 1));
    let qr_width = qr
        .as_ref()
        .and_then(|lines| lines.first())
        .map_or(0, |line| line.chars().count() as u16);
    let show_qr = qr.is_some() && area.width >= qr_width + 50;
    let [left, right] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(if show_qr { qr_width + 2 } else { 0 }),
    ])
    .areas(area);

    let cur = &order.currency;
    let who = match &detail.buyer.email {
        Some(email) => format!("{} <{email}>", detail.buyer.name),
        None => detail.buyer.name.clone(),
    };
    let how = match order.payment_method {
        PaymentMethod::Comp => "guest list",
        PaymentMethod::Reader => "card reader",
        PaymentMethod::Hosted => "SumUp payment page",
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!(" Order #{}", order.id), theme.title),
            Span::styled(format!(" · {who}"), theme.base),
        ]),
        Line::styled(
            format!(
                " {} · {} · {}{}",
                format_amount(order.total, cur),
                status_text(order.status),
                how,
                order
                    .terminal
                    .as_deref()
                    .map(|t| format!(" · kiosk {t}"))
                    .unwrap_or_default()
            ),
            theme.muted,
        ),
    ];
    if let Some(notice) = &order.notice {
        lines.push(Line::styled(format!(" {notice}"), theme.warn));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " Tickets",
        theme.muted.add_modifier(Modifier::UNDERLINED),
    ));
    let w = usize::from(left.width);
    for (i, t) in order.tickets.iter().enumerate() {
        let mark = if office.marked.contains(&t.id) {
            "[x]"
        } else if is_refundable(t.state) {
            "[ ]"
        } else {
            "   "
        };
        let kind = t.ticket_type_name.as_deref().unwrap_or("Ticket");
        let text = format!(
            " {mark} {}  {} {}  {} · {}",
            t.code,
            pad(ticket_state(t.state), 11),
            pad_left(&format_amount(t.cost, cur), 8),
            t.entry_name,
            kind,
        );
        let style = if i == office.tickets.selected {
            theme.selected
        } else if is_refundable(t.state) {
            theme.base
        } else {
            theme.muted
        };
        lines.push(Line::styled(fit(&text, w), style));
    }
    if order.tickets.is_empty() {
        lines.push(Line::styled(" No tickets.", theme.muted));
    }
    // The rest of what was bought (refunds here are of tickets).
    for product in &order.products {
        lines.push(Line::styled(
            fit(
                &format!(
                    "     {} × {} · {}",
                    product.quantity,
                    product.title,
                    format_amount(product.line_total, cur)
                ),
                w,
            ),
            theme.muted,
        ));
    }
    for booking in &order.calendar_entries {
        lines.push(Line::styled(
            fit(
                &format!(
                    "     {} · {} · {}",
                    booking.name,
                    ctx.when(booking.starts_at),
                    format_amount(booking.cost, cur)
                ),
                w,
            ),
            theme.muted,
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " History",
        theme.muted.add_modifier(Modifier::UNDERLINED),
    ));
    for entry in &detail.history {
        let by = entry
            .by
            .as_deref()
            .map(|b| format!(" · {b}"))
            .unwrap_or_default();
        // Wrapped under its own text, the times left in a column of their own.
        let when = format!(" {}  ", ctx.when(entry.at));
        let indent = crate::text::width(&when);
        let room = usize::from(left.width).saturating_sub(indent).max(10);
        let text = format!("{}{by}", entry.what);
        for (i, part) in crate::text::balanced_lines(&text, room)
            .into_iter()
            .enumerate()
        {
            let head = if i == 0 {
                Span::styled(when.clone(), theme.muted)
            } else {
                Span::raw(" ".repeat(indent))
            };
            lines.push(Line::from(vec![head, Span::raw(part)]));
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), left);
    if show_qr && let Some(qr) = qr {
        let mut lines = vec![Line::styled("Ticket page", theme.muted)];
        lines.extend(qr.into_iter().map(Line::raw));
        frame.render_widget(Paragraph::new(lines), right);
    }
}

fn draw_dialog(ctx: &Ctx, frame: &mut Frame, area: Rect, dialog: &OfficeDialog) {
    let theme = &ctx.theme;
    match dialog {
        OfficeDialog::Refund {
            codes,
            amount,
            reason,
            busy,
            ..
        } => {
            let inner = popup(frame, area, 64, 9, "Refund", theme);
            let one = codes.len() == 1;
            let tickets = if one {
                format!("ticket {}", codes[0])
            } else {
                format!("{} tickets ({})", codes.len(), codes.join(", "))
            };
            let lines = vec![
                Line::from(vec![
                    Span::raw(" Refund "),
                    Span::styled(amount.clone(), theme.title),
                    Span::raw(format!(" for {tickets}")),
                ]),
                Line::styled(
                    if one {
                        " through SumUp: the ticket stops working at the door"
                    } else {
                        " through SumUp: the tickets stop working at the door"
                    },
                    theme.muted,
                ),
                Line::styled(
                    if one {
                        " and its place goes back on sale."
                    } else {
                        " and their places go back on sale."
                    },
                    theme.muted,
                ),
                Line::raw(""),
                Line::from(vec![
                    Span::styled(" Reason: ", theme.muted),
                    Span::styled(reason.with_cursor(None), theme.field_focused),
                ]),
                Line::raw(""),
                Line::styled(
                    if *busy {
                        " Refunding…"
                    } else {
                        if one {
                            " Enter refunds · Esc keeps the ticket"
                        } else {
                            " Enter refunds · Esc keeps the tickets"
                        }
                    },
                    theme.key,
                ),
            ];
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        }
        OfficeDialog::Comp(form) => {
            let inner = popup(frame, area, 64, 11, "Guest list", theme);
            let field = |label: &str, value: &crate::text::LineInput, focus: CompField| {
                let (text, style) = if form.focus == focus {
                    (value.with_cursor(None), theme.field_focused)
                } else {
                    (value.to_string(), theme.field)
                };
                Line::from(vec![
                    Span::styled(format!(" {label:<10}"), theme.muted),
                    Span::styled(pad(&text, 30), style),
                ])
            };
            let kind = form
                .types
                .get(form.type_index)
                .map(|t| t.1.clone())
                .unwrap_or_default();
            let choice = if form.types.len() > 1 {
                format!("◀ {kind} ▶")
            } else {
                kind
            };
            let choice_style = if form.focus == CompField::Type {
                theme.field_focused
            } else {
                theme.base
            };
            let mut lines = vec![
                Line::from(vec![
                    Span::raw(" Free tickets to "),
                    Span::styled(form.event_name.clone(), theme.title),
                ]),
                Line::raw(""),
                field("Name", &form.name, CompField::Name),
                field("E-mail", &form.email, CompField::Email),
                field("How many", &form.quantity, CompField::Quantity),
                Line::from(vec![
                    Span::styled(format!(" {:<10}", "Type"), theme.muted),
                    Span::styled(choice, choice_style),
                ]),
                Line::raw(""),
            ];
            match (&form.error, form.busy) {
                (_, true) => lines.push(Line::styled(" Making the tickets…", theme.muted)),
                (Some(error), false) => lines.push(Line::styled(format!(" {error}"), theme.error)),
                (None, false) => lines.push(Line::styled(
                    " Enter makes them (a ticket page each order) · Esc cancels",
                    theme.key,
                )),
            }
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        }
        OfficeDialog::Export { path, busy, .. } => {
            let inner = popup(frame, area, 64, 6, "Export CSV", theme);
            let lines = vec![
                Line::styled(
                    " Every ticket of the paid orders, for the accountant.",
                    theme.muted,
                ),
                Line::from(vec![
                    Span::styled(" File: ", theme.muted),
                    Span::styled(path.with_cursor(None), theme.field_focused),
                ]),
                Line::raw(""),
                Line::styled(
                    if *busy {
                        " Writing…"
                    } else {
                        " Enter writes it (never over another file) · Esc cancels"
                    },
                    theme.key,
                ),
            ];
            frame.render_widget(Paragraph::new(lines), inner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn bars_fill_as_the_share_sold() {
        assert_eq!(bar(0, 10, 10), "░░░░░░░░░░");
        assert_eq!(bar(5, 10, 10), "█████░░░░░");
        assert_eq!(bar(10, 10, 4), "████");
        assert_eq!(bar(12, 10, 4), "████", "oversold stays full");
        assert_eq!(bar(1, 1000, 10), "█░░░░░░░░░", "a sale always shows");
        assert_eq!(bar(3, 0, 3), "█░░");
    }
}
