//! The sign-in screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Ctx, centred};
use crate::app::Field;
use crate::text::{fit, pad};

pub fn draw(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let form = &ctx.app.signin;
    let theme = &ctx.theme;
    let column = centred(area, 56);
    let field_width = column.width.saturating_sub(16) as usize;
    let input = |label: &str, value: &crate::text::LineInput, mask: Option<char>, focused: bool| {
        let shown = match (focused, mask) {
            (true, _) => value.with_cursor(mask),
            (false, Some(mask)) => std::iter::repeat_n(mask, value.chars().count()).collect(),
            (false, None) => value.to_string(),
        };
        // Long input shows the part around the cursor, where the typing happens.
        let cells = crate::text::width(&shown);
        let shown = if cells > field_width {
            let cursor = shown.chars().position(|c| c == '▏').unwrap_or(0);
            let skip = (cursor + 1).saturating_sub(field_width);
            shown.chars().skip(skip).take(field_width).collect()
        } else {
            shown
        };
        Line::from(vec![
            Span::styled(format!("{label:>10}  "), theme.muted),
            Span::styled(
                pad(&shown, field_width),
                if focused {
                    theme.field_focused
                } else {
                    theme.field
                },
            ),
        ])
    };
    let mut lines = vec![
        Line::raw(""),
        Line::styled("Sign in", theme.title).centered(),
        Line::styled(
            fit(&ctx.app.settings.server, column.width as usize - 2),
            theme.muted,
        )
        .centered(),
        Line::raw(""),
        input("Email", &form.email, None, form.focus == Field::Email),
        Line::raw(""),
        input(
            "Password",
            &form.password,
            Some('•'),
            form.focus == Field::Password,
        ),
        Line::raw(""),
    ];
    if form.busy {
        lines.push(Line::styled("Signing in…", theme.accent).centered());
    } else if let Some(error) = &form.error {
        // Wrapped evenly: no word left alone on a line.
        for line in crate::text::balanced_lines(error, usize::from(column.width)) {
            lines.push(Line::styled(line, theme.error).centered());
        }
    } else {
        lines.push(Line::raw(""));
    }
    if let Some((email, password)) = &ctx.app.demo_hint {
        lines.push(Line::raw(""));
        lines.push(
            Line::from(vec![
                Span::styled("Demo: ", theme.muted),
                Span::styled(email.clone(), theme.accent),
                Span::styled(" / password ", theme.muted),
                Span::styled(password.clone(), theme.accent),
            ])
            .centered(),
        );
        if let Some(note) = &ctx.app.demo_note {
            lines.push(Line::styled(note.clone(), theme.muted).centered());
        }
    }
    lines.push(Line::raw(""));
    if !ctx.app.is_door() {
        lines.push(
            Line::styled("Esc browses the events without signing in.", theme.muted).centered(),
        );
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), column);
}
