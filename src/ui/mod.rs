//! The view: draws the model and does nothing else. One file per screen, plus shared parts.

pub mod cart;
mod door;
mod event;
mod events;
mod office;
mod orders;
mod payment;
pub mod qr;
mod shop;
mod signin;
mod start;
#[cfg(feature = "screenshots")]
pub mod svg;
pub mod theme;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use storefront_contract::format_amount;

use crate::app::layout::{MIN_HEIGHT, MIN_WIDTH, areas};
use crate::app::{App, Prompt, Screen, StatusKind, Zone};
use crate::text::{fit, width};
use theme::Theme;

const SPINNER: [char; 8] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧'];

/// Shared by every screen's drawing code.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub theme: Theme,
}

/// `Thu 26 Nov 19:30`.
const WHEN: &str = "%a %e %b %H:%M";

impl Ctx<'_> {
    /// `Thu 26 Nov 19:30` in the user's zone.
    pub fn when(&self, time: DateTime<Utc>) -> String {
        self.viewer_time(time)
            .format(WHEN)
            .to_string()
            .replace("  ", " ")
    }

    fn viewer_time(&self, time: DateTime<Utc>) -> DateTime<FixedOffset> {
        match self.app.zone {
            Zone::Local => time.with_timezone(&chrono::Local).fixed_offset(),
            Zone::Fixed(offset) => time.with_timezone(&offset),
        }
    }

    /// The time as the venue in `zone` (an IANA name) keeps it, and the zone's abbreviation
    /// when that is not the viewer's time; the viewer's time when the zone is unknown.
    pub fn venue_time(
        &self,
        time: DateTime<Utc>,
        zone: Option<&str>,
    ) -> (DateTime<FixedOffset>, Option<String>) {
        let viewer = self.viewer_time(time);
        match zone.and_then(|name| name.parse::<chrono_tz::Tz>().ok()) {
            Some(zone) => {
                let venue = time.with_timezone(&zone);
                let label = (venue.offset().fix() != *viewer.offset())
                    .then(|| venue.format("%Z").to_string());
                (venue.fixed_offset(), label)
            }
            None => (viewer, None),
        }
    }

    /// `Thu 26 Nov 19:30` at the venue, `Thu 26 Nov 19:30 GMT` when the viewer keeps other time.
    pub fn when_at(&self, time: DateTime<Utc>, zone: Option<&str>) -> String {
        let (at, label) = self.venue_time(time, zone);
        let text = at.format(WHEN).to_string().replace("  ", " ");
        match label {
            Some(label) => format!("{text} {label}"),
            None => text,
        }
    }

    /// The zone of an event the client has listed or opened.
    pub fn event_zone(&self, event_id: i64) -> Option<&str> {
        let app = self.app;
        app.events
            .events
            .iter()
            .chain(app.event.detail.as_ref().map(|d| &d.summary))
            .find(|e| e.id == event_id)
            .map(|e| e.timezone.as_str())
    }
}

/// Draws `url` on the first row of `area` in `style`, cut with `…` if it does not fit; where
/// the terminal takes OSC 8 links (`[ui] hyperlinks`), as a link to the whole address, so a
/// click opens it however it was cut. Server strings are stripped of control characters when
/// decoded, so the address cannot end the link early.
pub fn draw_link(
    ctx: &Ctx,
    frame: &mut Frame,
    area: Rect,
    url: &str,
    style: ratatui::style::Style,
) {
    let text = fit(url, usize::from(area.width));
    let cells = width(&text);
    frame.render_widget(
        Paragraph::new(Line::styled(text.clone(), style)),
        Rect { height: 1, ..area },
    );
    if !ctx.app.settings.hyperlinks || cells == 0 || area.height == 0 {
        return;
    }
    let Some(forced) = u16::try_from(cells)
        .ok()
        .and_then(std::num::NonZeroU16::new)
    else {
        return;
    };
    // The first cell writes the whole link; the diff then skips the cells it covers.
    if let Some(cell) = frame.buffer_mut().cell_mut((area.x, area.y)) {
        cell.set_symbol(&format!("\u{1b}]8;;{url}\u{1b}\\{text}\u{1b}]8;;\u{1b}\\"))
            .set_diff_option(ratatui::buffer::CellDiffOption::ForcedWidth(forced));
    }
}

/// A list's top line: its title and count, or the filter being typed (with its cursor) or
/// kept, the count still in sight.
pub fn title_or_filter<'a>(
    ctx: &Ctx,
    title: &'a str,
    filter: &crate::text::LineInput,
    editing: bool,
    count: String,
) -> Line<'a> {
    let theme = &ctx.theme;
    if editing {
        Line::from(vec![
            Span::styled(" Filter: ", theme.key),
            Span::raw(filter.with_cursor(None)),
            Span::styled(count, theme.muted),
        ])
    } else if !filter.is_empty() {
        Line::from(vec![
            Span::styled(" Filter: ", theme.muted),
            Span::raw(filter.to_string()),
            Span::styled(count, theme.muted),
            Span::styled("   (/ to change, Esc to clear)", theme.muted),
        ])
    } else {
        Line::from(vec![
            Span::styled(format!(" {title}"), theme.title),
            Span::styled(count, theme.muted),
        ])
    }
}

pub fn view(app: &App, frame: &mut Frame) {
    let theme = Theme::new(app.settings.theme, app.is_kiosk());
    let area = frame.area();
    if app.too_small() || area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area, &theme);
        return;
    }
    let ctx = Ctx { app, theme };
    let areas = areas(area);
    header(&ctx, frame, areas.header);
    match app.screen {
        Screen::Start => start::draw(&ctx, frame, areas.body),
        Screen::SignIn => signin::draw(&ctx, frame, areas.body),
        Screen::Events => events::draw(&ctx, frame, areas.body),
        Screen::Event => event::draw(&ctx, frame, areas.body),
        Screen::Cart => cart::draw(&ctx, frame, areas.body),
        Screen::Payment => payment::draw(&ctx, frame, areas.body),
        Screen::Orders => orders::draw(&ctx, frame, areas.body),
        Screen::Scanner => door::draw(&ctx, frame, areas.body),
        Screen::Shop => shop::draw(&ctx, frame, areas.body),
        Screen::Office | Screen::OfficeEvent | Screen::OfficeOrders | Screen::OfficeOrder => {
            office::draw(&ctx, frame, areas.body)
        }
    }
    status(&ctx, frame, areas.status);
    footer(&ctx, frame, areas.footer);
    if let Some(prompt) = &app.prompt {
        draw_prompt(&ctx, frame, area, prompt);
    }
    if app.help {
        help(&ctx, frame, area);
    }
    if let Some(kiosk) = &app.kiosk {
        start::overlays(&ctx, frame, area, kiosk);
    }
}

fn too_small(frame: &mut Frame, area: Rect, theme: &Theme) {
    let text = vec![
        Line::styled("Window too small", theme.title),
        Line::raw(format!(
            "storefront needs at least {MIN_WIDTH}×{MIN_HEIGHT}."
        )),
        Line::raw(format!("This one is {}×{}.", area.width, area.height)),
    ];
    let height = (text.len() as u16).min(area.height);
    let y = area.y + area.height.saturating_sub(height) / 2;
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        Rect::new(area.x, y, area.width, height),
    );
}

fn header(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let app = ctx.app;
    let spinner = match (app.busy(), app.watching) {
        // The spinner says what it waits for when that is off screen.
        (true, Some(order)) if app.screen != Screen::Payment => format!(
            " {} waiting for order {order}'s payment",
            SPINNER[app.frame % SPINNER.len()]
        ),
        (true, _) => format!(" {}", SPINNER[app.frame % SPINNER.len()]),
        (false, _) => String::new(),
    };
    // A kiosk's customer sees the venue, never accounts or addresses.
    let left = if app.is_kiosk() {
        format!(" {}{spinner}", start::venue(ctx))
    } else {
        format!(" storefront{spinner}")
    };
    let right = match (app.session.as_ref(), app.user()) {
        _ if app.is_kiosk() => match &app.summary {
            Some(summary) if summary.items > 0 => format!(
                "Cart: {} · {} ",
                summary.items,
                format_amount(summary.grand_total, &summary.currency)
            ),
            _ => String::new(),
        },
        (None, _) => "Not signed in ".to_owned(),
        (Some(_), None) => "Signing in… ".to_owned(),
        (Some(_), Some(user)) if app.is_door() => format!("Door staff: {} ", user.name),
        (Some(_), Some(user)) if app.is_office() => format!("Box office: {} ", user.name),
        (Some(_), Some(user)) => {
            let badge = match &app.summary {
                Some(summary) => format!(
                    "Cart: {} {} · {}",
                    summary.items,
                    if summary.items == 1 { "item" } else { "items" },
                    format_amount(summary.grand_total, &summary.currency)
                ),
                None => "Cart: …".to_owned(),
            };
            let room = (area.width as usize).saturating_sub(width(&left) + width(&badge) + 6);
            format!("{} │ {badge} ", fit(&user.name, room.max(4)))
        }
    };
    let gap = (area.width as usize).saturating_sub(width(&left) + width(&right));
    let line = Line::from(vec![
        Span::raw(left),
        Span::raw(" ".repeat(gap)),
        Span::raw(fit(&right, area.width as usize)),
    ]);
    frame.render_widget(Paragraph::new(line).style(ctx.theme.header), area);
}

fn status(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let Some(status) = &ctx.app.status else {
        return;
    };
    let style = match status.kind {
        StatusKind::Info => ctx.theme.accent,
        StatusKind::Success => ctx.theme.success,
        StatusKind::Error | StatusKind::Connection => ctx.theme.error,
    };
    let text = fit(&status.text, area.width.saturating_sub(2) as usize);
    frame.render_widget(
        Paragraph::new(Line::styled(format!(" {text}"), style)),
        area,
    );
}

fn footer(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let keys = ctx.app.footer_keys();
    let chosen = footer_choice(&keys, area.width as usize);
    let mut spans = vec![Span::raw(" ")];
    for (((key, what), _), shown) in keys.iter().zip(chosen) {
        if shown {
            spans.push(Span::styled(*key, ctx.theme.key));
            spans.push(Span::styled(format!(" {what}   "), ctx.theme.muted));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Which keys a footer `room` wide shows: all that fit, in order; when not all do, the main
/// actions and `?` (which lists every key) first, then the others in order while they fit.
fn footer_choice(keys: &[((&str, &str), bool)], room: usize) -> Vec<bool> {
    let cost = |(key, what): (&str, &str)| width(key) + width(what) + 4;
    let mut used = 1;
    let mut chosen = vec![false; keys.len()];
    for pass_primary in [true, false] {
        for (i, (name, primary)) in keys.iter().enumerate() {
            if *primary != pass_primary || chosen[i] {
                continue;
            }
            if used + cost(*name) <= room {
                used += cost(*name);
                chosen[i] = true;
            }
        }
    }
    chosen
}

/// A box in the middle of `area`, cleared, with a border and a title.
pub fn popup(
    frame: &mut Frame,
    area: Rect,
    width: u16,
    height: u16,
    title: &str,
    theme: &Theme,
) -> Rect {
    let width = width.min(area.width.saturating_sub(2));
    let height = height.min(area.height.saturating_sub(2));
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(Span::styled(format!(" {title} "), theme.title))
        .border_style(theme.accent);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

fn help(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let (own, everywhere) = ctx.app.help_keys();
    let app = ctx.app;
    let mut extra: Vec<(&str, &str)> = Vec::new();
    if app.settings.mouse && !app.is_kiosk() {
        extra.push(("mouse", "click to choose, scroll to move"));
    }
    if app.session.is_none() && !app.is_kiosk() && app.screen != crate::app::Screen::SignIn {
        extra.push(("sign in", "c, o and a lead to it"));
    }
    // A key the screen names itself is not said again among those that work everywhere.
    let everywhere: Vec<(&str, &str)> = everywhere
        .into_iter()
        .filter(|(key, _)| !own.iter().any(|(own_key, _)| own_key == key))
        .chain(extra)
        .collect();
    // One column for the keys, as wide as the widest, so that every description lines up.
    let key_width = own
        .iter()
        .chain(&everywhere)
        .map(|(key, _)| unicode_width::UnicodeWidthStr::width(*key))
        .max()
        .unwrap_or(0);
    let text_width = own
        .iter()
        .chain(&everywhere)
        .map(|(_, what)| unicode_width::UnicodeWidthStr::width(*what))
        .max()
        .unwrap_or(0);
    let row = |(key, what): &(&str, &str)| {
        Line::from(vec![
            Span::styled(crate::text::pad_left(key, key_width), ctx.theme.key),
            Span::raw(format!("  {what}")),
        ])
    };
    let mut lines: Vec<Line> = own.iter().map(row).collect();
    if !everywhere.is_empty() {
        lines.push(Line::raw(""));
        lines.extend(everywhere.iter().map(row));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("  Any key closes this help.", ctx.theme.muted));
    // Both columns, the gap between them, the borders and a margin.
    let width = u16::try_from(key_width + text_width + 6)
        .unwrap_or(u16::MAX)
        .max(48);
    let inner = popup(
        frame,
        area,
        width,
        lines.len() as u16 + 2,
        "Keys",
        &ctx.theme,
    );
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_prompt(ctx: &Ctx, frame: &mut Frame, area: Rect, prompt: &Prompt) {
    let lines = match prompt {
        Prompt::ResumeOrder { order_id, total } => vec![
            Line::raw(format!("Order {order_id} ({total}) is waiting to be paid.")),
            Line::raw(""),
            Line::from(vec![
                Span::styled("Enter", ctx.theme.key),
                Span::raw(" pay it now   "),
                Span::styled("Esc", ctx.theme.key),
                Span::raw(" not now"),
            ]),
        ],
    };
    let inner = popup(frame, area, 52, 5, "Unpaid order", &ctx.theme);
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center), inner);
}

/// A line of `parts` `room` cells wide: as many whole parts as fit, in order (a figure is
/// left out, not cut).
pub fn whole_parts(parts: Vec<Vec<Span<'_>>>, room: u16) -> Line<'_> {
    let mut used = 0;
    let mut spans = Vec::new();
    for part in parts {
        let cells: usize = part.iter().map(Span::width).sum();
        if used + cells > usize::from(room) {
            break;
        }
        used += cells;
        spans.extend(part);
    }
    Line::from(spans)
}

/// Splits `area` into a centred column at most `max` wide.
pub fn centred(area: Rect, max: u16) -> Rect {
    let [_, middle, _] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(max.min(area.width)),
        Constraint::Fill(1),
    ])
    .areas(area);
    middle
}

/// A line of label and value, for detail panes.
pub fn field<'a>(label: &'a str, value: String, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{label:<12}"), theme.muted),
        Span::raw(value),
    ])
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod footer_tests {
    use super::footer_choice;

    #[test]
    fn a_short_footer_keeps_the_main_action_and_help() {
        let keys = [
            (("↑↓", "move"), false),
            (("Enter", "open"), true),
            (("/", "filter"), false),
            (("r", "refresh"), false),
            (("?", "help"), true),
        ];
        assert_eq!(footer_choice(&keys, 200), [true; 5]);
        let short = footer_choice(&keys, 30);
        assert!(short[1] && short[4], "{short:?}");
        assert!(!short[3]);
    }
}
