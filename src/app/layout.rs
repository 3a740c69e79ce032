//! The screen's fixed layout: the model needs it for paging and clicks, the view draws to it.

use ratatui::layout::{Constraint, Layout, Rect};

/// Below this the interface says what size it needs instead of drawing.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 20;

pub struct Areas {
    pub header: Rect,
    pub body: Rect,
    pub status: Rect,
    pub footer: Rect,
}

pub fn areas(size: Rect) -> Areas {
    let [header, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(size);
    Areas {
        header,
        body,
        status,
        footer,
    }
}

/// Rows above the events table's first event: the filter line, the column titles.
pub const EVENTS_TABLE_TOP: u16 = 2;
/// Rows above the cart's first line: the title line.
pub const CART_LIST_TOP: u16 = 1;
/// Rows below the cart's lines: a blank, the total, the notice.
pub const CART_LIST_BOTTOM: u16 = 3;
/// Rows above the shop's list: the title (or filter) line.
pub const SHOP_LIST_TOP: u16 = 1;
/// Rows below the shop's list: a blank, the selected product with its quantity.
pub const SHOP_LIST_BOTTOM: u16 = 2;

pub fn shop_rows(width: u16, height: u16) -> usize {
    body(width, height)
        .height
        .saturating_sub(SHOP_LIST_TOP + SHOP_LIST_BOTTOM) as usize
}

/// Rows above the orders list: the title line.
pub const ORDERS_LIST_TOP: u16 = 1;

fn body(width: u16, height: u16) -> Rect {
    areas(Rect::new(0, 0, width, height)).body
}

/// The screen row of a list's first line, `top` rows below the body's top (for clicks).
pub fn list_top(size: (u16, u16), top: u16) -> u16 {
    body(size.0, size.1).y + top
}

pub fn events_rows(width: u16, height: u16) -> usize {
    body(width, height).height.saturating_sub(EVENTS_TABLE_TOP) as usize
}

pub fn cart_rows(width: u16, height: u16) -> usize {
    body(width, height)
        .height
        .saturating_sub(CART_LIST_TOP + CART_LIST_BOTTOM) as usize
}

pub fn orders_rows(width: u16, height: u16) -> usize {
    body(width, height).height.saturating_sub(ORDERS_LIST_TOP) as usize
}
