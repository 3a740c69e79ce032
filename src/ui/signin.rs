//! The sign-in screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Ctx, centred};
use crate::app::{Field, SignInMode};
use crate::text::{fit, pad};

pub fn draw(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let form = &ctx.app.signin;
    let theme = &ctx.theme;
    let column = centred(area, 56);
    let field_width = column.width.saturating_sub(18) as usize;
    let input = |label: &str, value: &crate::text::LineInput, mask: Option<char>, focused: bool| {
        let shown = match (focused, mask) {
            (true, _) => value.window(mask, field_width),
            (false, Some(mask)) => std::iter::repeat_n(mask, value.chars().count()).collect(),
            (false, None) => fit(value, field_width),
        };
        Line::from(vec![
            Span::styled(format!("{label:>12}  "), theme.muted),
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
    let field = |field: Field| {
        let (label, mask) = match (field, form.mode) {
            (Field::Email, _) => ("Email", None),
            (Field::Name, _) => ("Name", None),
            (Field::Password, SignInMode::SignIn) => ("Password", Some('•')),
            (Field::Password, _) => ("New password", Some('•')),
            (Field::Repeat, _) => ("Again", Some('•')),
            (Field::Code, _) => ("Code", None),
        };
        input(label, form.field(field), mask, form.focus == field)
    };
    let (title, busy) = match form.mode {
        SignInMode::SignIn => ("Sign in", "Signing in…"),
        SignInMode::SignUp => ("New account", "Creating the account…"),
        SignInMode::ResetAsk => ("Forgot your password?", "Asking for a code…"),
        SignInMode::ResetConfirm => ("Choose a new password", "Changing the password…"),
    };
    let wrapped = |text: &str, style| {
        crate::text::balanced_lines(text, usize::from(column.width))
            .into_iter()
            .map(move |line| Line::styled(line, style).centered())
    };
    let mut lines = vec![
        Line::raw(""),
        Line::styled(title, theme.title).centered(),
        Line::styled(
            fit(&ctx.app.settings.server, column.width as usize - 2),
            theme.muted,
        )
        .centered(),
        Line::raw(""),
    ];
    match form.mode {
        SignInMode::ResetAsk => lines.extend(wrapped(
            "Type the e-mail address of your account: a code to choose a new password goes to it.",
            theme.muted,
        )),
        SignInMode::ResetConfirm => {
            lines.extend(wrapped(
                &format!(
                    "Type the code from the e-mail sent to {}.",
                    form.email.trim()
                ),
                theme.muted,
            ));
            if let Some(page) = &ctx.app.demo_mail_page {
                // Nothing leaves a demo: its e-mails are on a page of its own.
                lines.extend(wrapped("Demo: the e-mail is at", theme.muted));
                lines.push(Line::styled(page.clone(), theme.accent).centered());
            }
        }
        SignInMode::SignIn | SignInMode::SignUp => {}
    }
    if form.mode != SignInMode::SignIn && form.mode != SignInMode::SignUp {
        lines.push(Line::raw(""));
    }
    for (i, f) in form.mode.fields().iter().enumerate() {
        if i > 0 {
            lines.push(Line::raw(""));
        }
        lines.push(field(*f));
    }
    lines.push(Line::raw(""));
    if matches!(form.mode, SignInMode::SignUp | SignInMode::ResetConfirm) {
        // The rules before the user types, not after a refusal.
        lines.extend(wrapped(storefront_contract::PASSWORD_RULES, theme.muted));
        lines.push(Line::raw(""));
    }
    if form.busy {
        lines.push(Line::styled(busy, theme.accent).centered());
    } else if let Some(error) = &form.error {
        // Wrapped evenly: no word left alone on a line.
        lines.extend(wrapped(error, theme.error));
    } else if let Some(notice) = &form.notice {
        lines.extend(wrapped(notice, theme.success));
    } else {
        lines.push(Line::raw(""));
    }
    if let Some((email, password)) = ctx
        .app
        .demo_hint
        .as_ref()
        .filter(|_| form.mode == SignInMode::SignIn)
    {
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
    if form.mode == SignInMode::SignIn && ctx.app.offers_browsing() {
        lines.push(
            Line::styled("Esc browses the events without signing in.", theme.muted).centered(),
        );
        if ctx.app.offers_accounts() {
            lines.extend(wrapped(
                "New here? Ctrl-N makes an account. Forgot the password? Ctrl-F.",
                theme.muted,
            ));
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), column);
}
