//! Paying: the order, the hosted page as an address and a QR code, the wait, the outcome,
//! and the confirmation with each ticket's code.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use storefront_contract::{Order, RefundStatus, TicketState, format_amount};

use super::qr::{QUIET, qr_lines, qr_lines_with_quiet};
use super::{Ctx, SPINNER, popup};
use crate::app::{BrowserState, MailPhase, PaymentPhase, cancelling_does};
use crate::text::{fit, pad, pad_left};

/// Dark modules on light ground, whatever the theme, so that cameras read it.
const QR_STYLE: Style = Style::new().fg(Color::Black).bg(Color::White);

/// What the buyer keeps of a paid order: its tickets, or (an order of products or bookings
/// only, or whose tickets were all refunded) the order.
fn keeps(order: &Order) -> &'static str {
    if order.tickets.iter().any(|t| t.state.is_held()) {
        "tickets"
    } else {
        "order"
    }
}

/// At a kiosk the code is the way to pay: large, centred, under the amount. The largest
/// layout that fits is drawn, down to 80×24 (a narrower quiet zone, then the amount alone
/// above the code); a customer is never asked to resize the window.
fn draw_kiosk_waiting(ctx: &Ctx, frame: &mut Frame, area: Rect, url: &str) -> bool {
    for (quiet, full) in [(4, true), (2, true), (2, false)] {
        let Some(qr) = qr_lines_with_quiet(url, quiet) else {
            return false;
        };
        let (width, height) = (qr[0].chars().count() as u16, qr.len() as u16);
        let around = if full { 4 } else { 1 };
        if height + around <= area.height && width <= area.width {
            draw_kiosk_code(ctx, frame, area, url, qr, full);
            return true;
        }
    }
    false
}

fn draw_kiosk_code(
    ctx: &Ctx,
    frame: &mut Frame,
    area: Rect,
    url: &str,
    qr: Vec<String>,
    full: bool,
) {
    let state = &ctx.app.payment;
    let qr_height = qr.len() as u16;
    let amount = state
        .order
        .as_ref()
        .map(|o| format_amount(o.total, &o.currency))
        .unwrap_or_default();
    let [top, code, bottom] = Layout::vertical([
        Constraint::Length(if full { 2 } else { 1 }),
        Constraint::Length(qr_height),
        Constraint::Min(0),
    ])
    .areas(area);
    let mut heading = vec![Line::styled(
        format!("Scan to pay {amount}"),
        ctx.theme.title,
    )];
    if full {
        heading.push(Line::styled("with your phone's camera", ctx.theme.muted));
    }
    frame.render_widget(Paragraph::new(heading).alignment(Alignment::Center), top);
    let lines: Vec<Line> = qr
        .into_iter()
        .map(|line| Line::styled(line, QR_STYLE))
        .collect();
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center), code);
    if !full {
        return;
    }
    let spinner = SPINNER[ctx.app.frame % SPINNER.len()];
    let status = match state.phase {
        PaymentPhase::Reconnecting => format!("{spinner} Reconnecting… your order is kept."),
        PaymentPhase::TimedOut => "Stopped waiting. Press Enter to keep waiting.".to_owned(),
        _ => format!("{spinner} Waiting for your payment…"),
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(status, ctx.theme.accent),
            Line::styled(url.to_owned(), ctx.theme.muted),
        ])
        .alignment(Alignment::Center)
        .wrap(Wrap { trim: true }),
        bottom,
    );
}

/// At a kiosk paying by card: the amount and what to do with the card, centred; the QR code
/// one key away.
fn draw_kiosk_card(ctx: &Ctx, frame: &mut Frame, area: Rect, reader: &str) {
    let app = ctx.app;
    let state = &app.payment;
    let amount = state
        .order
        .as_ref()
        .map(|o| format_amount(o.total, &o.currency))
        .unwrap_or_default();
    let spinner = SPINNER[app.frame % SPINNER.len()];
    let status = match state.phase {
        PaymentPhase::Reconnecting => format!("{spinner} Reconnecting… your order is kept."),
        PaymentPhase::TimedOut => "Stopped waiting. Press Enter to keep waiting.".to_owned(),
        _ => format!("{spinner} Waiting for your card on the reader {reader}…"),
    };
    let mut lines = vec![
        Line::styled(format!("Pay {amount} by card"), ctx.theme.title),
        Line::raw(""),
        Line::styled(
            format!("Tap, insert or swipe your card on the reader · {amount}"),
            ctx.theme.title,
        ),
        Line::raw(""),
        Line::styled(status, ctx.theme.accent),
        Line::raw(""),
        Line::from(vec![
            Span::styled("Tab", ctx.theme.key),
            Span::raw(" pay with your phone instead (QR code)"),
        ]),
    ];
    if let Some(page) = &app.demo_reader_page {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "Demo: the reader is a web page; press Present card there:",
            ctx.theme.muted,
        ));
        lines.push(Line::styled(page.clone(), ctx.theme.muted));
    }
    // Rows once wrapped, so that the block stays whole and centred.
    let width = usize::from(area.width.max(1));
    let height = lines
        .iter()
        .map(|line| line.width().max(1).div_ceil(width) as u16)
        .sum();
    let [_, middle, _] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(height),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        middle,
    );
}

/// At a kiosk, once paid: one large code of the ticket page to take away, the codes under it.
fn draw_kiosk_paid(ctx: &Ctx, frame: &mut Frame, area: Rect, order: &Order, url: &str) -> bool {
    let Some(qr) = qr_lines(url) else {
        return false;
    };
    let (qr_width, qr_height) = (qr[0].chars().count() as u16, qr.len() as u16);
    let tickets: Vec<String> = order
        .tickets
        .iter()
        .filter(|t| t.state.is_held())
        .map(|t| format!("{} · {}", t.code, t.entry_name))
        .collect();
    // Under the code: the field on a line of its own, and a word when there is one to say.
    let mail = ticket_mail_lines(ctx, area.width, true);
    // The address, the tickets, the mail lines, a blank line and the countdown.
    let below = 1 + tickets.len() as u16 + mail.len() as u16 + 2;
    if qr_height + 2 + below > area.height || qr_width > area.width {
        return false;
    }
    let [top, code, bottom] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(qr_height),
        Constraint::Min(0),
    ])
    .areas(area);
    let total = format_amount(order.total, &order.currency);
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(format!("Paid {total}. Thank you!"), ctx.theme.success),
            Line::styled(
                format!("Scan to keep your {} on your phone", keeps(order)),
                ctx.theme.title,
            ),
        ])
        .alignment(Alignment::Center),
        top,
    );
    let lines: Vec<Line> = qr
        .into_iter()
        .map(|line| Line::styled(line, QR_STYLE))
        .collect();
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center), code);
    let mut lines: Vec<Line> = vec![Line::styled(url.to_owned(), ctx.theme.muted)];
    lines.extend(tickets.into_iter().map(Line::raw));
    lines.extend(mail);
    if let Some(kiosk) = &ctx.app.kiosk
        && let Some(left) = crate::app::KioskState::seconds_left(kiosk.reset_at, ctx.app.now)
    {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("Back to the start in {left} s. Esc: done now."),
            ctx.theme.accent,
        ));
    }
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Center), bottom);
    true
}

/// "E-mail me my tickets" on a kiosk's paid screen: the address field and what became of
/// the e-mail (`compact`: no hint while typing, which the footer gives). Empty anywhere else.
fn ticket_mail_lines(ctx: &Ctx, width: u16, compact: bool) -> Vec<Line<'static>> {
    let Some(mail) = ctx.app.ticket_mail() else {
        return Vec::new();
    };
    let theme = &ctx.theme;
    let label = "E-mail me my tickets: ";
    let cells = usize::from(width).saturating_sub(label.len()).clamp(8, 36);
    let said = |text: &str, style| Line::styled(crate::text::fit(text, usize::from(width)), style);
    let mut lines = Vec::new();
    match &mail.phase {
        MailPhase::Typing | MailPhase::Refused(_) => {
            lines.push(Line::from(vec![
                Span::styled(label, theme.title),
                Span::styled(
                    crate::text::pad(&mail.address.window(None, cells), cells),
                    theme.field_focused,
                ),
            ]));
            match &mail.phase {
                MailPhase::Refused(why) => lines.push(said(why, theme.error)),
                _ if compact => {}
                _ => lines.push(said("Type your address, then Enter.", theme.muted)),
            }
        }
        MailPhase::Sending => lines.push(said("Sending your tickets…", theme.accent)),
        MailPhase::Sent => lines.push(said(
            "✓ Your tickets are on their way by e-mail.",
            theme.success,
        )),
        MailPhase::NoMail(why) => lines.push(said(why, theme.muted)),
    }
    lines
}

pub fn draw(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let app = ctx.app;
    let state = &app.payment;
    let theme = &ctx.theme;
    let paid = state.phase == PaymentPhase::Paid;
    let waiting_phase = matches!(
        state.phase,
        PaymentPhase::Waiting | PaymentPhase::Reconnecting | PaymentPhase::TimedOut
    );
    if app.is_kiosk()
        && waiting_phase
        && !state.confirm_cancel
        && let Some(reader) = &state.reader
    {
        draw_kiosk_card(ctx, frame, area, reader);
        return;
    }
    if app.is_kiosk()
        && waiting_phase
        && !state.confirm_cancel
        && let Some(url) = &state.checkout_url
        && draw_kiosk_waiting(ctx, frame, area, url)
    {
        return;
    }
    if app.is_kiosk()
        && paid
        && let Some(order) = &state.order
        && let Some(url) = &order.tickets_url
        && draw_kiosk_paid(ctx, frame, area, order, url)
    {
        return;
    }
    // The payment page's address (or, paid, the ticket page's) goes on one line of its own
    // at full width, under the rest, where it can be copied or clicked whole.
    let tickets_url = state.order.as_ref().and_then(|o| o.tickets_url.clone());
    let link = if paid {
        tickets_url.as_ref()
    } else {
        (waiting_phase && !state.confirm_cancel)
            .then_some(state.checkout_url.as_ref())
            .flatten()
    };
    // What the QR code says: the payment page; on the confirmation the ticket page to keep
    // (or, from a server without one, the selected ticket).
    let selected_ticket = state
        .order
        .as_ref()
        .and_then(|o| o.tickets.get(state.selected_ticket))
        .filter(|t| t.state.is_held());
    let qr_data = if paid {
        tickets_url
            .clone()
            .or_else(|| selected_ticket.map(|t| t.code.clone()))
    } else if waiting_phase {
        state.checkout_url.clone()
    } else {
        None
    };
    // The code with its full quiet zone where there is room, else with two modules of it
    // (phones read that); before the narrower code, the address under it loses its blank
    // line above, then the code its caption (the address's line says to scan it), so that
    // 80×24 shows it too.
    let min_text = 40;
    let size = |lines: &[String]| (lines[0].chars().count() as u16, lines.len() as u16);
    // (The address's lines, the caption's line), most room first.
    let rooms: &[(u16, u16)] = if link.is_some() {
        &[(3, 1), (2, 1), (2, 0)]
    } else {
        &[(0, 1), (0, 0)]
    };
    let split = |link_height| {
        Layout::vertical([Constraint::Min(0), Constraint::Length(link_height)]).areas::<2>(area)
    };
    // Made one at a time: the narrower only when the full one does not fit.
    let (mut qr, mut smallest, mut chosen) = (None, None, (split(rooms[0].0), 0));
    if let Some(data) = qr_data.as_deref() {
        'fitting: for code in [QUIET, 2]
            .into_iter()
            .filter_map(|quiet| qr_lines_with_quiet(data, quiet))
        {
            let (width, height) = size(&code);
            for &(link_height, caption) in rooms {
                let areas = split(link_height);
                if width + min_text <= areas[0].width && height + caption <= areas[0].height {
                    (qr, chosen) = (Some(code), (areas, caption));
                    break 'fitting;
                }
            }
            smallest = Some((width, height));
        }
    }
    let ([area, link_area], caption_lines) = chosen;
    if let Some(url) = link {
        // Its blank line above, when there is room for it.
        let inner = Rect {
            x: link_area.x + 1,
            y: link_area.bottom().saturating_sub(2),
            width: link_area.width.saturating_sub(2),
            height: 2,
        };
        let keeps = state.order.as_ref().map_or("tickets", keeps);
        let prompt = match (paid, state.browser, qr.is_some()) {
            (true, _, true) => {
                format!("Your {keeps} to keep on your phone: scan the code, or open:")
            }
            (true, _, false) => format!("Your {keeps} to keep on your phone, at this address:"),
            (false, BrowserState::Opened, true) => {
                "The payment page is open in your browser. Or scan the code, or open:".to_owned()
            }
            (false, BrowserState::Opened, false) => {
                "The payment page is open in your browser. Or open:".to_owned()
            }
            (false, BrowserState::Failed, true) => {
                "No browser could be opened: scan the code, or open this address:".to_owned()
            }
            (false, BrowserState::Failed, false) => {
                "No browser could be opened: open this address by hand:".to_owned()
            }
            (false, _, true) => "Open this address, or scan the code:".to_owned(),
            (false, _, false) => "Open this address:".to_owned(),
        };
        frame.render_widget(
            Paragraph::new(Line::raw(crate::text::fit(
                &prompt,
                usize::from(inner.width),
            ))),
            Rect { height: 1, ..inner },
        );
        super::draw_link(
            ctx,
            frame,
            Rect {
                y: inner.y + 1,
                height: 1,
                ..inner
            },
            url,
            theme.accent,
        );
    }
    let qr_width = qr.as_deref().map_or(0, |code| size(code).0);
    let fits = qr.is_some();
    let (text_area, qr_area) = if fits {
        let [left, right] =
            Layout::horizontal([Constraint::Min(min_text), Constraint::Length(qr_width + 1)])
                .areas(area);
        (left, Some(right))
    } else {
        (area, None)
    };

    let mut lines = Vec::new();
    match &state.order {
        Some(order) => order_lines(
            ctx,
            order,
            text_area.width,
            paid,
            state.selected_ticket,
            &mut lines,
        ),
        None => lines.push(Line::styled(
            state
                .order_id
                .map_or_else(|| "Checking out…".to_owned(), |id| format!("Order {id}")),
            theme.title,
        )),
    }
    lines.push(Line::raw(""));
    let spinner = SPINNER[app.frame % SPINNER.len()];
    let elapsed = state.elapsed(app.now);
    let sumup = state
        .order
        .as_ref()
        .and_then(|o| o.sumup_status)
        .map(|s| format!(" (last status: {s})"))
        .unwrap_or_default();
    match &state.phase {
        PaymentPhase::Idle => {}
        PaymentPhase::Starting => lines.push(Line::styled(
            format!("{spinner} Contacting the payment service…"),
            theme.accent,
        )),
        PaymentPhase::Waiting => lines.push(Line::styled(
            format!(
                "{spinner} Waiting for your payment… {}:{:02}{sumup}",
                elapsed / 60,
                elapsed % 60
            ),
            theme.accent,
        )),
        PaymentPhase::Reconnecting => lines.push(Line::styled(
            format!("{spinner} Reconnecting… your order is kept.{sumup}"),
            theme.warn,
        )),
        PaymentPhase::TimedOut => lines.push(Line::styled(
            if app.is_kiosk() {
                "Stopped waiting. Press Enter to keep waiting."
            } else {
                "Stopped waiting. Press Enter to keep waiting; the order stays open under o."
            },
            theme.warn,
        )),
        PaymentPhase::Paid => {
            // (The ticket page's address is under the rest, with the code beside.)
            let mail = ticket_mail_lines(ctx, text_area.width.saturating_sub(2), false);
            if !mail.is_empty() {
                lines.extend(mail);
                lines.push(Line::raw(""));
            }
            if let Some(kiosk) = &app.kiosk
                && let Some(left) = crate::app::KioskState::seconds_left(kiosk.reset_at, app.now)
            {
                lines.push(Line::styled(
                    format!("Back to the start in {left} s. Esc: done now."),
                    theme.accent,
                ));
            }
        }
        PaymentPhase::Failed if app.is_kiosk() => {
            let expired = state.order.as_ref().is_some_and(|o| {
                o.sumup_status == Some(storefront_contract::CheckoutStatus::Expired)
            });
            lines.push(Line::styled(
                match (state.reader.is_some(), expired) {
                    (true, true) => "The reader stopped waiting for a card. Nothing was taken.",
                    (true, false) => "Your card was declined. Nothing was taken.",
                    (false, _) => "The payment did not go through. Nothing was taken.",
                },
                theme.error,
            ));
            let mut again = vec![
                Span::raw("Press "),
                Span::styled("Enter", theme.key),
                Span::raw(" to try again"),
            ];
            if app.card_reader().is_some() {
                again.push(Span::raw(", "));
                again.push(Span::styled("Tab", theme.key));
                again.push(Span::raw(if state.reader.is_some() {
                    " to pay by QR code"
                } else {
                    " to pay by card"
                }));
            }
            again.push(Span::raw(", or "));
            again.push(Span::styled("Esc", theme.key));
            again.push(Span::raw(" to start over."));
            lines.push(Line::from(again));
        }
        PaymentPhase::Failed => {
            lines.push(Line::styled(
                "The payment did not go through. Nothing was taken.",
                theme.error,
            ));
            lines.push(Line::from(vec![
                Span::raw("Press "),
                Span::styled("r", theme.key),
                Span::raw(" to pay again, or "),
                Span::styled("x", theme.key),
                Span::raw(" to cancel the order."),
            ]));
        }
        PaymentPhase::Cancelled => {
            lines.push(Line::styled(
                match &state.cancelled_note {
                    Some(done) if !done.is_empty() => format!("This order was cancelled; {done}."),
                    _ => "This order was cancelled.".to_owned(),
                },
                theme.muted,
            ));
        }
        PaymentPhase::ProviderError(_) => {
            lines.push(Line::styled(
                "The payment service is unavailable right now.",
                theme.error,
            ));
            lines.push(Line::from(vec![
                Span::raw("Your order is kept. Press "),
                Span::styled("r", theme.key),
                Span::raw(" to try again."),
            ]));
        }
    }
    let waiting = matches!(
        state.phase,
        PaymentPhase::Waiting | PaymentPhase::Reconnecting | PaymentPhase::TimedOut
    );
    if waiting && let Some(reader) = &state.reader {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("Tap, insert or swipe your card on the reader {reader}."),
            theme.title,
        ));
    }

    if let (None, Some((qr_width, qr_height))) = (&qr, smallest) {
        // The window around the code's area (its header, footer and the address's lines).
        let (window, tightest) = (frame.area(), split(rooms[rooms.len() - 1].0)[0]);
        let (w, h) = (
            qr_width + min_text + (window.width - tightest.width),
            qr_height + (window.height - tightest.height),
        );
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("Make the window at least {w}×{h} to show the QR code."),
            theme.muted,
        ));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        Rect {
            x: text_area.x + 1,
            width: text_area.width.saturating_sub(2),
            ..text_area
        },
    );

    if let (Some(qr), Some(qr_area)) = (qr, qr_area) {
        let mut qr_text: Vec<Line> = qr
            .into_iter()
            .map(|line| Line::styled(line, QR_STYLE))
            .collect();
        let caption = if paid && tickets_url.is_some() {
            format!(
                "Scan to keep your {}",
                state.order.as_ref().map_or("tickets", keeps)
            )
        } else if paid {
            selected_ticket
                .map(|t| format!("Ticket {}", t.code))
                .unwrap_or_default()
        } else {
            "Scan to pay".to_owned()
        };
        if caption_lines > 0 {
            qr_text.push(Line::styled(caption, theme.muted));
        }
        frame.render_widget(
            Paragraph::new(qr_text).alignment(Alignment::Center),
            qr_area,
        );
    }

    if state.confirm_cancel {
        let id = state.order_id.unwrap_or_default();
        let does = state
            .order
            .as_ref()
            .map(|order| cancelling_does(order, false))
            .unwrap_or_default();
        let inner = popup(frame, area, 60, 6, "Cancel order", theme);
        frame.render_widget(
            Paragraph::new(vec![
                Line::raw(format!("Cancel order {id}?")),
                Line::raw(match does.is_empty() {
                    true => String::new(),
                    false => {
                        let mut does = does;
                        does.replace_range(..1, &does[..1].to_uppercase());
                        format!("{does}.")
                    }
                }),
                Line::raw(""),
                // A kiosk's keypad has Enter and Esc; a keyboard has y and n too.
                Line::from(vec![
                    Span::styled(
                        if ctx.app.is_kiosk() {
                            "Enter"
                        } else {
                            "y or Enter"
                        },
                        theme.key,
                    ),
                    Span::raw(" cancel it   "),
                    Span::styled(
                        if ctx.app.is_kiosk() {
                            "Esc"
                        } else {
                            "n or Esc"
                        },
                        theme.key,
                    ),
                    Span::raw(" keep it"),
                ]),
            ])
            .alignment(Alignment::Center),
            inner,
        );
    }
}

fn order_lines<'a>(
    ctx: &Ctx,
    order: &'a Order,
    width: u16,
    paid: bool,
    selected: usize,
    lines: &mut Vec<Line<'a>>,
) {
    let theme = &ctx.theme;
    let currency = &order.currency;
    let total = format_amount(order.total, currency);
    lines.push(Line::styled(
        if paid {
            format!("Payment received · order {} · {total}", order.id)
        } else {
            format!("Order {} · {total}", order.id)
        },
        if paid { theme.success } else { theme.title },
    ));
    lines.push(Line::raw(""));
    let width = width.saturating_sub(2) as usize;
    let amount = 10;
    let label = width.saturating_sub(amount);
    let row =
        |text: String, money: String| format!("{}{}", pad(&text, label), pad_left(&money, amount));
    if paid && !order.tickets.is_empty() {
        lines.push(Line::styled("Your tickets", theme.accent));
        for (i, ticket) in order.tickets.iter().enumerate() {
            let kind = ticket
                .ticket_type_name
                .as_deref()
                .map(|t| format!(" · {t}"))
                .unwrap_or_default();
            let text = format!(
                "{}{kind} · {}",
                ticket.entry_name,
                ctx.when_at(ticket.entry_starts_at, ctx.event_zone(ticket.entry_id))
            );
            // A ticket cancelled by a sell-out says where its refund is; one the box office
            // refunded, that it was: neither is a code to show at the door.
            let code = match ticket.state {
                TicketState::Cancelled => match order.refund.as_ref().map(|r| r.status) {
                    Some(RefundStatus::Refunded) => "refunded".to_owned(),
                    Some(RefundStatus::Failed) => "refund by hand".to_owned(),
                    Some(RefundStatus::Due) | None => "refund due".to_owned(),
                },
                TicketState::Refunded => "refunded".to_owned(),
                _ => ticket.code.clone(),
            };
            let line = format!(
                "{}{}",
                pad(&text, label.saturating_sub(2)),
                pad_left(&code, amount + 2)
            );
            lines.push(if i == selected {
                Line::styled(line, theme.selected)
            } else if !ticket.state.is_held() {
                Line::styled(line, theme.muted)
            } else {
                Line::raw(line)
            });
        }
    }
    for product in &order.products {
        lines.push(Line::raw(row(
            format!("{} × {}", product.quantity, product.title),
            format_amount(product.line_total, currency),
        )));
    }
    for booking in &order.calendar_entries {
        lines.push(Line::raw(row(
            format!("{} · {}", booking.name, ctx.when(booking.starts_at)),
            format_amount(booking.cost, currency),
        )));
    }
    if !paid {
        // Tickets waiting for payment: one line per event and type.
        let mut groups: Vec<(String, u32, storefront_contract::Money)> = Vec::new();
        for ticket in order
            .tickets
            .iter()
            .filter(|t| t.state != TicketState::Cancelled)
        {
            let kind = ticket
                .ticket_type_name
                .as_deref()
                .map(|t| format!(" · {t}"))
                .unwrap_or_default();
            let name = format!("{}{kind}", ticket.entry_name);
            match groups.iter_mut().find(|(n, _, _)| *n == name) {
                Some((_, count, sum)) => {
                    *count += 1;
                    *sum += ticket.cost;
                }
                None => groups.push((name, 1, ticket.cost)),
            }
        }
        for (name, count, sum) in groups {
            lines.push(Line::raw(row(
                format!("{count} × {name}"),
                format_amount(sum, currency),
            )));
        }
    }
    if let Some(notice) = &order.notice {
        lines.push(Line::raw(""));
        let style = if order.refund.is_some() {
            theme.warn
        } else {
            theme.muted
        };
        lines.push(Line::styled(fit(notice, usize::MAX), style));
    }
}
