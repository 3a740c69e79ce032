//! One event: what, when, where, ticket types, quantity, and adding to the cart.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use storefront_contract::format_amount;

use super::{Ctx, field};
use crate::text::fit;

pub fn draw(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let app = ctx.app;
    let theme = &ctx.theme;
    let state = &app.event;
    let Some(detail) = &state.detail else {
        let text = if state.loading {
            " Loading the event…"
        } else {
            " This event could not be loaded."
        };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.muted)), area);
        return;
    };
    let event = &detail.summary;
    let width = area.width.saturating_sub(2) as usize;
    let currency = &event.currency;
    let mut lines = vec![
        Line::styled(fit(&event.name, width), theme.title),
        Line::raw(""),
        field(
            "When",
            {
                let zone = Some(event.timezone.as_str());
                let (start, label) = ctx.venue_time(event.starts_at, zone);
                let mut when = start
                    .format("%a %e %b %H:%M")
                    .to_string()
                    .replace("  ", " ");
                if let Some(end) = event.ends_at {
                    let (end, _) = ctx.venue_time(end, zone);
                    when.push_str(&format!(" – {}", end.format("%H:%M")));
                }
                if let Some(label) = label {
                    when.push_str(&format!(" {label} (venue time)"));
                }
                when
            },
            theme,
        ),
        field(
            "Venue",
            fit(
                &event
                    .page
                    .as_ref()
                    .map_or_else(|| event.calendar.name.clone(), |p| p.title.clone()),
                width - 12,
            ),
            theme,
        ),
    ];
    if let Some(location) = &detail.location {
        lines.push(field("Where", fit(location, width - 12), theme));
    }
    lines.push(field("Tickets", super::events::availability(event), theme));
    lines.push(Line::raw(""));
    if let Some(description) = &detail.description {
        lines.push(Line::raw(description.clone()));
        lines.push(Line::raw(""));
    }

    if detail.ticket_types.is_empty() {
        let price = detail.ticket_price.unwrap_or(event.price_from);
        lines.push(field("Price", format_amount(price, currency), theme));
    } else {
        let mut spans = vec![Span::styled(format!("{:<12}", "Type"), theme.muted)];
        for (i, ticket_type) in detail.ticket_types.iter().enumerate() {
            let label = format!(
                " {} {} ",
                ticket_type.name,
                format_amount(ticket_type.cost, currency)
            );
            // Arrows only where there is a choice.
            spans.push(if i == state.type_index && detail.ticket_types.len() > 1 {
                Span::styled(format!("◀{label}▶"), theme.selected)
            } else {
                Span::raw(format!(" {label} "))
            });
        }
        lines.push(Line::from(spans));
    }
    let unit = state
        .selected_type()
        .map(|t| t.cost)
        .or(detail.ticket_price)
        .unwrap_or(event.price_from);
    if !event.sold_out {
        quantity_lines(ctx, detail, unit, &mut lines);
    }
    if detail.in_my_cart > 0 {
        lines.push(field("In cart", detail.in_my_cart.to_string(), theme));
    }
    lines.push(Line::raw(""));

    // At a kiosk Enter adds (a keypad has no letters).
    let add_key = if app.is_kiosk() { "Enter" } else { "a" };
    if event.sold_out {
        lines.push(Line::styled("Sold out.", theme.error));
    } else if app.session.is_none() {
        lines.push(Line::styled("Sign in to buy tickets", theme.warn));
        lines.push(Line::styled(
            format!("Press {add_key} to sign in."),
            theme.muted,
        ));
    } else if state.adding {
        lines.push(Line::styled("Adding to your cart…", theme.accent));
    } else {
        lines.push(Line::from(vec![
            Span::styled(add_key, theme.key),
            Span::raw(" adds the tickets to your cart."),
        ]));
    }
    if let Some(added) = &state.added {
        lines.push(Line::raw(""));
        lines.push(Line::styled(added.clone(), theme.success));
    } else if !event.sold_out {
        lines.push(Line::styled(
            storefront_contract::SOLD_OUT_NOTICE,
            theme.muted,
        ));
    }
    let inner = Rect {
        x: area.x + 1,
        width: area.width.saturating_sub(2),
        ..area
    };
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The quantity and the total: only for an event that can still be bought.
fn quantity_lines(
    ctx: &Ctx,
    detail: &storefront_contract::EventDetail,
    unit: storefront_contract::Money,
    lines: &mut Vec<Line<'_>>,
) {
    let theme = &ctx.theme;
    let state = &ctx.app.event;
    let currency = &detail.summary.currency;
    lines.push(Line::from(vec![
        Span::styled(format!("{:<12}", "Quantity"), theme.muted),
        Span::styled("− ", theme.key),
        Span::styled(format!("{}", state.quantity), theme.title),
        Span::styled(" +", theme.key),
        Span::styled(
            match (detail.in_my_cart, detail.still_allowed()) {
                (0, _) => format!("   up to {} per order", detail.max_per_order),
                (held, 0) => format!(
                    "   up to {} per order · {held} in your cart: the limit",
                    detail.max_per_order
                ),
                (held, more) => format!(
                    "   up to {} per order · {held} in your cart, {more} more allowed",
                    detail.max_per_order
                ),
            },
            theme.muted,
        ),
    ]));
    lines.push(field(
        "Total",
        format_amount(unit * state.quantity, currency),
        theme,
    ));
}
