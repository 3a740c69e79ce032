//! The shop: what the venues sell besides tickets (a tote bag, a membership), grouped by
//! venue, filtered as typed, and put in the cart with a quantity.

use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use storefront_contract::{CartSummary, Product, ProductList};

use super::keys::Action;
use super::list::follow_rows;
use super::{App, Effect, Screen, StatusKind, layout};
use crate::api::ApiResult;

/// The most of one product added at once (the API's limit).
pub const MAX_QUANTITY: u32 = 99;

#[derive(Clone, Debug)]
pub struct ShopState {
    /// Sorted by venue, then title; products of no venue last.
    pub products: Vec<Product>,
    /// Index into [`ShopState::visible`].
    pub selected: usize,
    /// The first row shown (headings count).
    pub offset: usize,
    pub filter: crate::text::LineInput,
    pub editing: bool,
    pub quantity: u32,
    pub loading: bool,
    pub loaded: bool,
}

impl Default for ShopState {
    fn default() -> ShopState {
        ShopState {
            products: Vec::new(),
            selected: 0,
            offset: 0,
            filter: Default::default(),
            editing: false,
            quantity: 1,
            loading: false,
            loaded: false,
        }
    }
}

/// One row of the shop's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShopRow<'a> {
    /// A venue's heading; `None` for products of no venue.
    Venue(Option<&'a str>),
    /// A product, by its index in [`ShopState::visible`].
    Product(usize),
}

impl ShopState {
    /// The products the filter lets through (title or venue, any case), in list order.
    pub fn visible(&self) -> Vec<&Product> {
        let needle = self.filter.trim().to_lowercase();
        self.products
            .iter()
            .filter(|p| {
                needle.is_empty()
                    || p.title.to_lowercase().contains(&needle)
                    || p.page
                        .as_ref()
                        .is_some_and(|page| page.title.to_lowercase().contains(&needle))
            })
            .collect()
    }

    pub fn selected(&self) -> Option<&Product> {
        self.visible().get(self.selected).copied()
    }

    /// The rows as drawn: each venue's heading, then its products.
    pub fn rows(&self) -> Vec<ShopRow<'_>> {
        let mut rows = Vec::new();
        let mut venue: Option<Option<&str>> = None;
        for (i, product) in self.visible().into_iter().enumerate() {
            let this = product.page.as_ref().map(|p| p.title.as_str());
            if venue != Some(this) {
                rows.push(ShopRow::Venue(this));
                venue = Some(this);
            }
            rows.push(ShopRow::Product(i));
        }
        rows
    }

    /// Scrolls so that the selected product (and its venue's heading, when there is room)
    /// shows in `visible` rows.
    fn follow(&mut self, visible: usize) {
        let rows = self.rows();
        let Some(at) = rows
            .iter()
            .position(|row| *row == ShopRow::Product(self.selected))
        else {
            self.offset = 0;
            return;
        };
        let top = if at > 0 && matches!(rows[at - 1], ShopRow::Venue(_)) {
            at - 1
        } else {
            at
        };
        let count = rows.len();
        follow_rows(&mut self.offset, top, at, count, visible);
    }

    /// Chooses product `target` (clamped to the list), one of it to start with if it is
    /// another, and scrolls it into `visible` rows.
    fn choose(&mut self, target: usize, visible: usize) {
        let target = target.min(self.visible().len().saturating_sub(1));
        if target != self.selected {
            self.quantity = 1;
        }
        self.selected = target;
        self.follow(visible);
    }

    fn products_loaded(&mut self, mut products: Vec<Product>) {
        // Venues in order of title, products of no venue last, then products by title.
        products.sort_by(|a, b| {
            let venue = |p: &Product| p.page.as_ref().map(|page| page.title.to_lowercase());
            (venue(a).is_none(), venue(a), a.title.to_lowercase()).cmp(&(
                venue(b).is_none(),
                venue(b),
                b.title.to_lowercase(),
            ))
        });
        self.products = products;
        self.loaded = true;
        self.selected = self.selected.min(self.visible().len().saturating_sub(1));
    }
}

impl App {
    /// The deployment's one currency, as the server has said it (products carry none).
    pub fn currency(&self) -> &str {
        self.summary
            .as_ref()
            .map(|s| s.currency.as_str())
            .or_else(|| self.events.events.first().map(|e| e.currency.as_str()))
            .unwrap_or("GBP")
    }

    /// Opens the shop (signed in: the server shows its products to its buyers); they are
    /// fetched the first time.
    pub fn show_shop(&mut self) -> Vec<Effect> {
        self.remember_previous();
        if self.require_session(Screen::Shop).is_none() {
            return Vec::new();
        }
        self.screen = Screen::Shop;
        if self.shop.loaded || self.shop.loading {
            return Vec::new();
        }
        self.load_products()
    }

    pub(super) fn load_products(&mut self) -> Vec<Effect> {
        let Some(token) = self.token().map(str::to_owned) else {
            return Vec::new();
        };
        self.shop.loading = true;
        vec![Effect::LoadProducts {
            token,
            page: self.kiosk_page(),
        }]
    }

    pub(super) fn products_loaded(&mut self, result: ApiResult<ProductList>) -> Vec<Effect> {
        self.shop.loading = false;
        match result {
            Ok(list) => {
                self.connected();
                self.shop.products_loaded(list.products);
                Vec::new()
            }
            Err(err) if self.screen == Screen::Shop => {
                let page = self.kiosk_page();
                let retry = self.token().map(|token| Effect::LoadProducts {
                    page,
                    token: token.to_owned(),
                });
                self.on_error(err, retry)
            }
            // Fetched in the background (a kiosk's start): asked again when opened.
            Err(err) => {
                tracing::info!(error = %err, "products could not be loaded");
                Vec::new()
            }
        }
    }

    fn shop_visible_rows(&self) -> usize {
        layout::shop_rows(self.size.0, self.size.1)
    }

    pub(super) fn shop_action(&mut self, action: Action) -> Vec<Effect> {
        let len = self.shop.visible().len();
        let visible = self.shop_visible_rows();
        let page = visible.max(1) as isize;
        let target = match action {
            Action::Up => Some(self.shop.selected.saturating_sub(1)),
            Action::Down => Some(self.shop.selected + 1),
            Action::PageUp => Some(self.shop.selected.saturating_add_signed(-page)),
            Action::PageDown => Some(self.shop.selected.saturating_add_signed(page)),
            Action::Home => Some(0),
            Action::End => Some(len.saturating_sub(1)),
            _ => None,
        };
        if let Some(target) = target {
            self.shop.choose(target, visible);
            return Vec::new();
        }
        match action {
            Action::Back => {
                self.screen = if self.previous == Screen::Shop {
                    Screen::Events
                } else {
                    self.previous
                };
            }
            Action::More => self.shop.quantity = (self.shop.quantity + 1).min(MAX_QUANTITY),
            Action::Fewer => self.shop.quantity = self.shop.quantity.saturating_sub(1).max(1),
            Action::AddProducts => return self.add_products(),
            Action::Filter => self.shop.editing = true,
            Action::KeepFilter => self.shop.editing = false,
            Action::ClearFilter => {
                self.shop.editing = false;
                self.shop.filter.clear();
                self.filter_changed();
            }
            Action::Refresh => return self.load_products(),
            _ => {}
        }
        Vec::new()
    }

    /// The wheel moves the selection; a click chooses the product under it.
    pub(super) fn shop_mouse(&mut self, mouse: MouseEvent) -> Vec<Effect> {
        let visible = self.shop_visible_rows();
        let target = match mouse.kind {
            MouseEventKind::ScrollDown => Some(self.shop.selected + 3),
            MouseEventKind::ScrollUp => Some(self.shop.selected.saturating_sub(3)),
            MouseEventKind::Down(MouseButton::Left) => {
                let top = layout::list_top(self.size, layout::SHOP_LIST_TOP);
                mouse
                    .row
                    .checked_sub(top)
                    .map(|row| self.shop.offset + usize::from(row))
                    .filter(|row| *row < self.shop.offset + visible)
                    .and_then(|row| match self.shop.rows().get(row) {
                        Some(ShopRow::Product(i)) => Some(*i),
                        _ => None,
                    })
            }
            _ => None,
        };
        if let Some(target) = target {
            self.shop.choose(target, visible);
        }
        Vec::new()
    }

    /// A key typed into the shop's filter: the list follows at once (it is all here).
    pub(super) fn shop_filter_text(&mut self, key: KeyEvent) -> Vec<Effect> {
        if self.shop.filter.edit(key, 100) {
            self.filter_changed();
        }
        Vec::new()
    }

    fn filter_changed(&mut self) {
        self.shop.selected = 0;
        self.shop.offset = 0;
        self.shop.quantity = 1;
    }

    fn add_products(&mut self) -> Vec<Effect> {
        let Some(product_id) = self.shop.selected().map(|p| p.id) else {
            return Vec::new();
        };
        let Some(token) = self.require_session(Screen::Shop) else {
            return Vec::new();
        };
        vec![Effect::AddProduct {
            token,
            product_id,
            quantity: i64::from(self.shop.quantity),
        }]
    }

    pub(super) fn product_added(
        &mut self,
        product_id: i64,
        quantity: i64,
        result: ApiResult<CartSummary>,
    ) -> Vec<Effect> {
        match result {
            Ok(summary) => {
                self.connected();
                self.summary = Some(summary);
                // The cart screen asks again when it is opened.
                self.cart.cart = None;
                let title = self
                    .shop
                    .products
                    .iter()
                    .find(|p| p.id == product_id)
                    .map_or_else(|| "the item".to_owned(), |p| p.title.clone());
                self.shop.quantity = 1;
                self.set_status(
                    StatusKind::Success,
                    format!("{quantity} × {title} added to your cart."),
                );
                // At a kiosk the next step is paying: the cart comes up, as after tickets.
                if self.is_kiosk() {
                    return self.show_cart();
                }
                Vec::new()
            }
            Err(err) => self.on_error(err, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use storefront_contract::{Money, Page};

    use super::*;

    fn product(id: i64, title: &str, venue: Option<&str>) -> Product {
        Product {
            id,
            slug: format!("p{id}"),
            title: title.into(),
            price: Money::from_minor(100 * id),
            page: venue.map(|title| Page {
                id: title.len() as i64,
                slug: title.to_lowercase().replace(' ', "-"),
                title: title.into(),
            }),
        }
    }

    fn shop() -> ShopState {
        let mut shop = ShopState::default();
        shop.products_loaded(vec![
            product(1, "Workshop", None),
            product(2, "Tote bag", Some("The Old Granary")),
            product(3, "Membership", Some("Riverside Jazz Club")),
            product(4, "Apron", Some("The Old Granary")),
        ]);
        shop
    }

    #[test]
    fn products_are_grouped_by_venue_with_the_venueless_last() {
        let shop = shop();
        let titles: Vec<&str> = shop.visible().iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["Membership", "Apron", "Tote bag", "Workshop"]);
        assert_eq!(
            shop.rows(),
            [
                ShopRow::Venue(Some("Riverside Jazz Club")),
                ShopRow::Product(0),
                ShopRow::Venue(Some("The Old Granary")),
                ShopRow::Product(1),
                ShopRow::Product(2),
                ShopRow::Venue(None),
                ShopRow::Product(3),
            ]
        );
    }

    #[test]
    fn the_filter_matches_titles_and_venues_in_any_case() {
        let mut shop = shop();
        shop.filter = "RIVER".into();
        let titles: Vec<&str> = shop.visible().iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["Membership"]);
        shop.filter = "bag".into();
        assert_eq!(shop.selected().map(|p| p.id), Some(2));
    }

    #[test]
    fn the_selection_keeps_its_heading_in_view() {
        let mut shop = shop();
        shop.selected = 3;
        shop.follow(2);
        // Rows: heading, Membership, heading, Apron, Tote bag, heading, Workshop.
        assert_eq!(shop.offset, 5);
        shop.selected = 0;
        shop.follow(2);
        assert_eq!(shop.offset, 0);
    }
}
