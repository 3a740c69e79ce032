//! The kiosk's start screen for passers-by, and its popups (still there?, operator PIN).

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use storefront_contract::format_amount;
use tui_big_text::{BigText, PixelSize};

use super::{Ctx, popup};
use crate::app::KioskState;
use crate::text::{fit, pad};

/// The venue's name: the configured title, else the first venue's (the lowest page id).
pub(super) fn venue(ctx: &Ctx) -> String {
    if let Some(title) = &ctx.app.settings.kiosk_title {
        return title.clone();
    }
    ctx.app
        .events
        .events
        .iter()
        .filter_map(|e| e.page.as_ref())
        .min_by_key(|p| p.id)
        .map_or_else(|| "Tickets".to_owned(), |p| p.title.clone())
}

/// A heading in big text, or plain bold text when the window is too narrow for it.
pub fn big_heading(ctx: &Ctx, frame: &mut Frame, area: Rect, text: &str) {
    let cells = text.chars().count() as u16 * 4;
    if cells <= area.width && area.height >= 4 {
        let big = BigText::builder()
            .pixel_size(PixelSize::Quadrant)
            .style(ctx.theme.title)
            .lines(vec![Line::raw(text.to_owned())])
            .centered()
            .build();
        frame.render_widget(big, area);
    } else {
        frame.render_widget(
            Paragraph::new(Line::styled(text.to_owned(), ctx.theme.title))
                .alignment(Alignment::Center),
            area,
        );
    }
}

/// For the operator: why the kiosk cannot sell yet.
fn not_set_up(ctx: &Ctx, frame: &mut Frame, area: Rect, message: &str) {
    let lines = vec![
        Line::styled("Out of order", ctx.theme.title),
        Line::raw(""),
        Line::styled(message.to_owned(), ctx.theme.error),
        Line::raw(""),
        Line::styled(
            "Operator: check [kiosk] account and password_file in the config, and the server.",
            ctx.theme.muted,
        ),
    ];
    let height = lines.len() as u16 + 2;
    let y = area.y + area.height.saturating_sub(height) / 2;
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(ratatui::widgets::Wrap { trim: true }),
        Rect::new(
            area.x + 1,
            y,
            area.width.saturating_sub(2),
            height.min(area.height),
        ),
    );
}

pub fn draw(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    if let Some(message) = ctx
        .app
        .kiosk
        .as_ref()
        .and_then(|k| k.setup_error.as_deref())
    {
        not_set_up(ctx, frame, area, message);
        return;
    }
    let theme = &ctx.theme;
    let [_, title, _, heading, _, next, prompt] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(4),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(2),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(Line::styled(
            fit(&venue(ctx), area.width as usize - 2),
            theme.accent,
        ))
        .alignment(Alignment::Center),
        title,
    );
    big_heading(ctx, frame, heading, "Buy tickets");

    let events = &ctx.app.events.events;
    let width = (area.width as usize).min(72).saturating_sub(4);
    let mut lines = vec![Line::styled("Coming up", theme.accent).centered()];
    for event in events
        .iter()
        .filter(|e| !e.sold_out)
        .take(next.height.saturating_sub(1) as usize)
    {
        let when = pad(&ctx.when_at(event.starts_at, Some(&event.timezone)), 16);
        let price = format_amount(event.price_from, &event.currency);
        let name_width = width.saturating_sub(when.chars().count() + price.chars().count() + 4);
        lines.push(
            Line::raw(format!("{when}  {}  {price}", pad(&event.name, name_width))).centered(),
        );
    }
    if events.is_empty() {
        lines.push(Line::raw("Loading what is on…").centered());
    }
    frame.render_widget(Paragraph::new(lines), next);
    // A box-office kiosk takes customers once it is signed in.
    let ready = !(ctx.app.is_box_office() && ctx.app.session.is_none());
    let invitation = if ready {
        Line::styled("Press any key to start", theme.key)
    } else {
        Line::styled("One moment…", theme.muted)
    };
    frame.render_widget(
        Paragraph::new(invitation).alignment(Alignment::Center),
        prompt,
    );
}

pub fn overlays(ctx: &Ctx, frame: &mut Frame, area: Rect, kiosk: &KioskState) {
    let now = ctx.app.now;
    if let Some(left) = KioskState::seconds_left(kiosk.idle_deadline, now) {
        let inner = popup(frame, area, 44, 6, "Still there?", &ctx.theme);
        frame.render_widget(
            Paragraph::new(vec![
                Line::raw(""),
                Line::styled(format!("Starting over in {left} s."), ctx.theme.warn),
                Line::raw(""),
                Line::raw("Press any key to continue."),
            ])
            .alignment(Alignment::Center),
            inner,
        );
    }
    if let Some(pin) = &kiosk.pin {
        let inner = popup(frame, area, 40, 6, "Operator exit", &ctx.theme);
        let wait = KioskState::seconds_left(kiosk.pin_locked_until, ctx.app.now).filter(|s| *s > 0);
        let message = match wait {
            Some(left) => format!("Wrong PIN. Wait {left} s before trying again."),
            None if kiosk.pin_refused => "Wrong PIN. Try again, or Esc.".to_owned(),
            None => "Enter the PIN, then Enter.".to_owned(),
        };
        frame.render_widget(
            Paragraph::new(vec![
                Line::raw(message),
                Line::raw(""),
                Line::from(vec![Span::styled(
                    format!(" {} ", "•".repeat(pin.len()).to_string() + "▏"),
                    ctx.theme.field_focused,
                )]),
            ])
            .alignment(Alignment::Center),
            inner,
        );
    }
}
