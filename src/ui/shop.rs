//! The shop: products grouped by venue, the selected one with its quantity and total.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use storefront_contract::format_amount;

use super::Ctx;
use crate::app::ShopRow;
use crate::app::layout::{SHOP_LIST_BOTTOM, SHOP_LIST_TOP};
use crate::text::{pad, pad_left};

pub fn draw(ctx: &Ctx, frame: &mut Frame, area: Rect) {
    let app = ctx.app;
    let shop = &app.shop;
    let theme = &ctx.theme;
    let visible = shop.visible();
    let count = format!("   {} shown", visible.len());
    let title = super::title_or_filter(ctx, "Shop", &shop.filter, shop.editing, count);
    frame.render_widget(Paragraph::new(title), Rect { height: 1, ..area });

    let list = Rect {
        y: area.y + SHOP_LIST_TOP,
        height: area.height.saturating_sub(SHOP_LIST_TOP + SHOP_LIST_BOTTOM),
        ..area
    };
    let width = usize::from(area.width);
    let currency = app.currency();
    let lines: Vec<Line> = if shop.loading && shop.products.is_empty() {
        vec![Line::styled(" Loading…", theme.muted)]
    } else if visible.is_empty() {
        vec![Line::styled(
            if shop.filter.is_empty() {
                " Nothing is for sale besides tickets."
            } else {
                " Nothing matches the filter."
            },
            theme.muted,
        )]
    } else {
        shop.rows()
            .into_iter()
            .skip(shop.offset)
            .take(usize::from(list.height))
            .map(|row| match row {
                ShopRow::Venue(venue) => {
                    Line::styled(format!(" {}", venue.unwrap_or("Other")), theme.accent)
                }
                ShopRow::Product(i) => {
                    let product = visible[i];
                    let selected = i == shop.selected;
                    let price = format_amount(product.price, currency);
                    let name_width = width.saturating_sub(price.chars().count() + 5);
                    let text = format!(
                        "{} {} {}",
                        if selected { "▸" } else { " " },
                        pad(&product.title, name_width),
                        pad_left(&price, price.chars().count() + 1)
                    );
                    if selected {
                        Line::styled(text, theme.selected)
                    } else {
                        Line::raw(text)
                    }
                }
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines), list);

    if let Some(product) = shop.selected() {
        let total = format_amount(product.price * shop.quantity, currency);
        // The footer says which keys change it and add it.
        let line = Line::from(vec![
            Span::raw(format!(" {} × {} = ", shop.quantity, product.title)),
            Span::styled(total, theme.title),
        ]);
        frame.render_widget(
            Paragraph::new(line),
            Rect {
                y: area.y + area.height.saturating_sub(1),
                height: 1,
                ..area
            },
        );
    }
}
