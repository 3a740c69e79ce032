//! The events list: when, what, where, price and availability.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use storefront_contract::{EventSummary, format_amount};

use super::Ctx;
use crate::app::layout::EVENTS_TABLE_TOP;
use crate::text::{pad, pad_left};

/// Few enough places left to call it out.
const FEW_LEFT: u32 = 5;

/// Column widths for a table `total` cells wide: when, event, venue, price, availability.
/// A narrow window leaves the venue out, to keep the event's name readable.
pub fn columns(total: usize, when: usize) -> [usize; 5] {
    let (price, availability) = (9, 12);
    // The selection marker and the spaces between columns.
    let fixed = 1 + when + price + availability + 3;
    let rest = total.saturating_sub(fixed);
    let venue = if total < 80 {
        0
    } else {
        (rest.saturating_sub(1) * 2 / 5).min(28)
    };
    let name = rest.saturating_sub(if venue > 0 { venue + 1 } else { 0 });
    [when, name, venue, price, availability]
}

/// One row of the table, `marker` first (the selection's `▸`).
fn row(widths: &[usize; 5], marker: &str, cells: [String; 5]) -> String {
    let mut text = format!(
        "{marker}{} {}",
        pad(&cells[0], widths[0]),
        pad(&cells[1], widths[1])
    );
    if widths[2] > 0 {
        text.push(' ');
        text.push_str(&pad(&cells[2], widths[2]));
    }
    text.push(' ');
    text.push_str(&pad_left(&cells[3], widths[3]));
    text.push(' ');
    text.push_str(&pad_left(&cells[4], widths[4]));
    text
}

pub fn availability(event: &EventSummary) -> String {
    match event.available {
        _ if event.sold_out => "Sold out".to_owned(),
        None => "Available".to_owned(),
        Some(n) => format!("{n} left"),
    }
}

pub fn draw(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let app = ctx.app;
    let state = &app.events;
    let theme = &ctx.theme;
    // The count stays in sight while filtering.
    let count = format!(
        "   {} shown{}",
        state.events.len(),
        if state.next_cursor.is_some() {
            ", more below"
        } else {
            ""
        }
    );
    let filter = super::title_or_filter(ctx, "Events", &state.filter, state.editing, count);
    frame.render_widget(Paragraph::new(filter), Rect { height: 1, ..area });

    // Wide enough for the longest time shown (a venue's zone may follow it).
    let whens: Vec<String> = state
        .events
        .iter()
        .map(|e| ctx.when_at(e.starts_at, Some(&e.timezone)))
        .collect();
    let when_width = whens
        .iter()
        .map(|w| crate::text::width(w))
        .max()
        .unwrap_or(0)
        .clamp(16, 22);
    let widths = columns(area.width as usize, when_width);
    let heading = row(
        &widths,
        " ",
        [
            "When".into(),
            "Event".into(),
            "Venue".into(),
            "From".into(),
            "Availability".into(),
        ],
    );
    frame.render_widget(
        Paragraph::new(Line::styled(heading, theme.muted)),
        Rect {
            y: area.y + 1,
            height: 1,
            ..area
        },
    );

    let body = Rect {
        y: area.y + EVENTS_TABLE_TOP,
        height: area.height.saturating_sub(EVENTS_TABLE_TOP),
        ..area
    };
    if state.events.is_empty() {
        let text = if !state.loaded_once {
            "Loading events…"
        } else if state.filter.is_empty() {
            "Nothing is on sale right now."
        } else {
            "No events match the filter. Esc clears it."
        };
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {text}"), theme.muted)),
            body,
        );
        return;
    }
    let lines: Vec<Line> = state
        .events
        .iter()
        .enumerate()
        .skip(state.list.offset)
        .take(body.height as usize)
        .map(|(i, event)| {
            let venue = event
                .page
                .as_ref()
                .map_or_else(|| event.calendar.name.clone(), |p| p.title.clone());
            let selected = i == state.list.selected;
            let text = row(
                &widths,
                if selected { "▸" } else { " " },
                [
                    whens[i].clone(),
                    event.name.clone(),
                    venue,
                    format_amount(event.price_from, &event.currency),
                    availability(event),
                ],
            );
            // "Sold out" is called out as "2 left" is.
            let few = event.sold_out || event.available.is_some_and(|n| n <= FEW_LEFT);
            if selected {
                Line::styled(text, theme.selected)
            } else if few {
                // Only the availability is called out.
                let split = text.len() - pad_left(&availability(event), widths[4]).len();
                Line::from(vec![
                    Span::raw(text[..split].to_owned()),
                    Span::styled(text[split..].to_owned(), theme.warn),
                ])
            } else {
                Line::styled(text, Style::new())
            }
        })
        .collect();
    let mut lines = lines;
    // At a kiosk, what the venue sells besides tickets follows its events, where there is room.
    let room = (body.height as usize).saturating_sub(lines.len());
    if app.is_kiosk() && room >= 3 && state.next_cursor.is_none() && !app.shop.products.is_empty() {
        let currency = app.currency();
        let items: Vec<String> = app
            .shop
            .products
            .iter()
            .map(|p| format!("{} {}", p.title, format_amount(p.price, currency)))
            .collect();
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled(" Also for sale: ", theme.accent),
            Span::raw(crate::text::fit(
                &items.join(" · "),
                (body.width as usize).saturating_sub(17),
            )),
        ]));
        lines.push(Line::from(vec![
            Span::raw(" Press "),
            Span::styled("s", theme.key),
            Span::raw(" (or * on the keypad) to buy them."),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), body);
}
