//! The cart: a section per venue, its lines and subtotal, the total and the notice.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use storefront_contract::format_amount;

use super::Ctx;
use crate::app::CartRow;
use crate::app::layout::{CART_LIST_BOTTOM, CART_LIST_TOP};
use crate::text::{pad, pad_left};

/// ` (was £12.00)` after a price the venue changed since it was put in the cart.
fn was(before: Option<storefront_contract::Money>, currency: &str) -> String {
    before
        .map(|before| format!(" (was {})", format_amount(before, currency)))
        .unwrap_or_default()
}

pub fn draw(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let app = ctx.app;
    let theme = &ctx.theme;
    let state = &app.cart;
    frame.render_widget(
        Paragraph::new(Line::styled(" Your cart", theme.title)),
        Rect { height: 1, ..area },
    );
    let Some(cart) = &state.cart else {
        let text = if state.loading {
            " Loading your cart…"
        } else {
            " Your cart could not be loaded."
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.muted)),
            Rect {
                y: area.y + CART_LIST_TOP,
                height: 1,
                ..area
            },
        );
        return;
    };
    let currency = &cart.summary.currency;
    if cart.groups.is_empty() {
        let lines = vec![
            Line::raw(""),
            Line::raw(" Your cart is empty."),
            Line::from(vec![
                Span::raw(" Press "),
                Span::styled("e", theme.key),
                Span::raw(" to browse the events."),
            ]),
        ];
        frame.render_widget(
            Paragraph::new(lines),
            Rect {
                y: area.y + CART_LIST_TOP,
                height: area.height.saturating_sub(CART_LIST_TOP),
                ..area
            },
        );
        return;
    }

    let (rows, selectable) = state.rows();
    let selected_row = selectable.get(state.list.selected).copied();
    let width = area.width.saturating_sub(1) as usize;
    let amount_width = 10;
    let label_width = width.saturating_sub(amount_width + 3);
    let line = |label: String, amount: String| {
        format!(
            "   {}{}",
            pad(&label, label_width),
            pad_left(&amount, amount_width)
        )
    };
    let mark = |text: String| format!(" ▸{}", &text[" ".len() * 2..]);
    let list_height = area.height.saturating_sub(CART_LIST_TOP + CART_LIST_BOTTOM) as usize;
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(state.row_offset)
        .take(list_height)
        .map(|(i, row)| {
            let text = match row {
                CartRow::Page(page) => {
                    let title = page.as_ref().map_or("Other items", |p| p.title.as_str());
                    return Line::styled(format!(" {}", pad(title, width - 1)), theme.accent);
                }
                CartRow::Product(product) => line(
                    format!(
                        "{} × {} @ {}{}",
                        product.quantity,
                        product.title,
                        format_amount(product.unit_price, currency),
                        was(product.previous_unit_price, currency)
                    ),
                    format_amount(product.line_total, currency),
                ),
                CartRow::Booking(booking) => line(
                    format!(
                        "{} · {} · {}",
                        booking.name,
                        booking.calendar_name,
                        ctx.when(booking.starts_at)
                    ),
                    format_amount(booking.cost, currency),
                ),
                CartRow::Tickets {
                    event_id,
                    event_name,
                    starts_at,
                    ticket_type_name,
                    unit,
                    was: before,
                    sold_out,
                    ids,
                    ..
                } => {
                    let kind = ticket_type_name
                        .as_deref()
                        .map(|t| format!(" · {t}"))
                        .unwrap_or_default();
                    let amount = format_amount(*unit * ids.len() as u32, currency);
                    if *sold_out {
                        // Paid tickets fill the event: these cannot be bought, only removed.
                        let text = line(
                            format!(
                                "{} × {event_name}{kind} · Sold out: remove it to check out the rest",
                                ids.len()
                            ),
                            amount,
                        );
                        return match Some(i) == selected_row {
                            true => Line::styled(mark(text), theme.selected),
                            false => Line::styled(text, theme.warn),
                        };
                    }
                    // Fewer left than this line holds: the rest may be refunded.
                    let few = app
                        .events
                        .events
                        .iter()
                        .find(|e| e.id == *event_id)
                        .and_then(|e| e.available)
                        .filter(|left| (*left as usize) < ids.len())
                        .map(|left| format!(" · only {left} left"))
                        .unwrap_or_default();
                    line(
                        format!(
                            "{} × {event_name}{kind} · {} @ {}{}{few}",
                            ids.len(),
                            ctx.when_at(*starts_at, ctx.event_zone(*event_id)),
                            format_amount(*unit, currency),
                            was(*before, currency)
                        ),
                        amount,
                    )
                }
                CartRow::Subtotal(total) => {
                    return Line::styled(
                        line("Subtotal".to_owned(), format_amount(*total, currency)),
                        theme.muted,
                    );
                }
                CartRow::Blank => String::new(),
            };
            if Some(i) == selected_row {
                Line::styled(mark(text), theme.selected)
            } else {
                Line::raw(text)
            }
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines),
        Rect {
            y: area.y + CART_LIST_TOP,
            height: list_height as u16,
            ..area
        },
    );

    let bottom = area.y + area.height.saturating_sub(CART_LIST_BOTTOM);
    let summary = &cart.summary;
    let total = Line::from(vec![Span::styled(
        format!(
            " {}{}",
            pad(
                &format!(
                    "Total · {} {}",
                    summary.items,
                    if summary.items == 1 { "item" } else { "items" }
                ),
                label_width + 2
            ),
            pad_left(&format_amount(summary.grand_total, currency), amount_width)
        ),
        theme.title,
    )]);
    let mut footer = vec![Line::raw(""), total];
    if let Some(notice) = &cart.notice {
        // One line: cut with an ellipsis, never mid-sentence without one.
        let room = usize::from(area.width).saturating_sub(2);
        footer.push(Line::styled(
            format!(" {}", crate::text::fit(notice, room)),
            theme.warn,
        ));
    }
    frame.render_widget(
        Paragraph::new(footer),
        Rect {
            y: bottom,
            height: CART_LIST_BOTTOM,
            ..area
        },
    );
}
