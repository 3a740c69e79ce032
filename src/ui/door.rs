//! The door's scanner: the event and its count, the latest scan as a full-width coloured
//! result, the code being typed, and the scans before it. Offline, it says so and how many
//! check-ins wait to be uploaded.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::Ctx;
use crate::app::{ScanLine, Verdict};
use crate::config::ThemeName;
use crate::text::{fit, pad, width};

/// The banner's colours: green, red, amber, whatever the theme (mono: reversed).
fn banner_style(ctx: &Ctx, verdict: Verdict) -> Style {
    if ctx.app.settings.theme == ThemeName::Mono {
        return Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD);
    }
    let bold = Style::new().add_modifier(Modifier::BOLD);
    match verdict {
        Verdict::Welcome => bold.fg(Color::Black).bg(Color::Green),
        Verdict::Refused => bold.fg(Color::White).bg(Color::Red),
        Verdict::Elsewhere => bold.fg(Color::Black).bg(Color::Yellow),
        Verdict::Checking => ctx.theme.accent,
    }
}

fn headline(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Welcome => "✓ IN",
        Verdict::Refused => "✗ NOT IN",
        Verdict::Elsewhere => "! WRONG EVENT",
        Verdict::Checking => "…",
    }
}

fn line_style(ctx: &Ctx, verdict: Verdict) -> Style {
    match verdict {
        Verdict::Welcome => ctx.theme.success,
        Verdict::Refused => ctx.theme.error,
        Verdict::Elsewhere => ctx.theme.warn,
        Verdict::Checking => ctx.theme.muted,
    }
}

pub fn draw(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let door = &ctx.app.door;
    let theme = &ctx.theme;
    let [top, state, _, banner, _, input, _, history] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(4),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);

    let count = if door.list_loaded || door.checked_in > 0 {
        format!("{} of {} in ", door.checked_in, door.sold)
    } else {
        "loading the list… ".to_owned()
    };
    let title = fit(
        &format!(" Check-in · {}", door.event_name),
        (area.width as usize).saturating_sub(width(&count) + 1),
    );
    let gap = (area.width as usize).saturating_sub(width(&title) + width(&count));
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(title, theme.title),
            Span::raw(" ".repeat(gap)),
            Span::styled(count, theme.accent),
        ])),
        top,
    );

    let waiting = door.waiting.len();
    let connection = if door.offline {
        Line::styled(
            format!(
                " OFFLINE: scanning against this event's list · {waiting} check-in{} waiting to upload",
                if waiting == 1 { "" } else { "s" }
            ),
            theme.warn.add_modifier(Modifier::BOLD),
        )
    } else if waiting > 0 {
        Line::styled(
            format!(" Back online · uploading {waiting} offline check-ins…"),
            theme.accent,
        )
    } else {
        Line::styled(" Online", theme.muted)
    };
    frame.render_widget(Paragraph::new(connection), state);

    match door.scans.front() {
        Some(latest) => {
            let style = banner_style(ctx, latest.verdict);
            let offline = if latest.offline { " (offline)" } else { "" };
            let lines = vec![
                Line::raw(""),
                Line::from(Span::raw(format!(
                    "{}  {}",
                    headline(latest.verdict),
                    latest.text
                ))),
                Line::raw(format!("{}{offline}", latest.code)),
            ];
            frame.render_widget(
                Paragraph::new(lines)
                    .alignment(Alignment::Center)
                    .block(Block::new().style(style)),
                banner,
            );
        }
        None => {
            let mut lines = vec![
                Line::raw(""),
                Line::styled(
                    "Ready: scan a ticket, or type its code and press Enter.",
                    theme.muted,
                ),
            ];
            // In the demo, with nobody's phone to scan: a code of the event's to try.
            if ctx.app.demo_hint.is_some()
                && let Some(code) = demo_code(door, &ctx.app.demo_codes)
            {
                lines.push(Line::styled(format!("Try: {code}"), theme.accent));
            }
            frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center), banner);
        }
    }

    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" Code: ", theme.muted),
            Span::styled(format!("{}▏", door.input), theme.field_focused),
        ])),
        input,
    );

    let rows = history.height.saturating_sub(1) as usize;
    let mut lines = vec![Line::styled(" Before", theme.muted)];
    lines.extend(
        door.scans
            .iter()
            .skip(1)
            .take(rows)
            .map(|scan| history_line(ctx, scan, area.width)),
    );
    frame.render_widget(Paragraph::new(lines), history);
}

/// A code of the event's not yet in, the same one each time (the smallest): one of a paid
/// order of the demo's (`paid`), when the event has one, so that the box office finds it too.
fn demo_code<'a>(door: &'a crate::app::DoorState, paid: &[String]) -> Option<&'a str> {
    let waiting = || {
        door.codes
            .iter()
            .filter(|(_, state)| **state == storefront_contract::TicketState::Confirmed)
            .map(|(code, _)| code.as_str())
    };
    waiting()
        .filter(|code| paid.iter().any(|p| p == code))
        .min()
        .or_else(|| waiting().min())
}

fn history_line<'a>(ctx: &Ctx, scan: &ScanLine, area_width: u16) -> Line<'a> {
    let offline = if scan.offline { " · offline" } else { "" };
    let text = format!("{}{offline}", scan.text);
    let room = (area_width as usize).saturating_sub(16);
    Line::from(vec![
        Span::raw("   "),
        Span::styled(pad(&scan.code, 12), ctx.theme.base),
        Span::styled(fit(&text, room), line_style(ctx, scan.verdict)),
    ])
}
