//! How long drawing takes with big data: the events screen with 10,000 events and the cart
//! with 500 lines, at 100×30 and at 200×60.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use storefront::app::{App, Msg, Reply, Screen, Zone};
use storefront::config::Settings;
use storefront_contract::*;

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().unwrap()
}

fn many_events(n: i64) -> Vec<EventSummary> {
    (0..n)
        .map(|i| EventSummary {
            id: i,
            slug: format!("event-{i}"),
            name: format!("Event number {i} with a reasonably long name 🎷"),
            starts_at: at("2031-03-06T19:00:00Z") + chrono::Duration::hours(i),
            ends_at: None,
            calendar: CalendarRef {
                id: 1,
                slug: "main".into(),
                name: "Main Stage".into(),
            },
            page: Some(Page {
                id: i % 7,
                slug: format!("venue-{}", i % 7),
                title: format!("Venue {}", i % 7),
            }),
            price_from: Money::from_minor(500 + i % 3000),
            currency: "GBP".into(),
            capacity: Some(100),
            sold: (i % 101) as u32,
            available: Some(100 - (i % 101).min(100) as u32),
            sold_out: i % 101 >= 100,
            timezone: "Europe/London".into(),
        })
        .collect()
}

fn big_cart(lines: i64) -> Cart {
    let groups = (0..10)
        .map(|g| {
            let products = (0..lines / 10)
                .map(|i| CartProduct {
                    id: g * 1000 + i,
                    product_id: i,
                    title: format!("Product {i} of venue {g}"),
                    unit_price: Money::from_minor(250 + i),
                    quantity: 2,
                    line_total: Money::from_minor(2 * (250 + i)),
                    previous_unit_price: None,
                })
                .collect();
            CartGroup {
                page: Some(Page {
                    id: g,
                    slug: format!("v{g}"),
                    title: format!("Venue {g}"),
                }),
                products,
                calendar_entries: vec![],
                tickets: vec![],
                product_count: 0,
                product_total: Money::ZERO,
                calendar_count: 0,
                calendar_total: Money::ZERO,
                ticket_count: 0,
                ticket_total: Money::ZERO,
                total: Money::from_minor(123_456),
            }
        })
        .collect();
    Cart {
        groups,
        summary: CartSummary {
            count: 1000,
            total: Money::from_minor(1_234_567),
            calendar_count: 0,
            calendar_total: Money::ZERO,
            ticket_count: 0,
            ticket_total: Money::ZERO,
            items: 1000,
            grand_total: Money::from_minor(1_234_567),
            currency: "GBP".into(),
        },
        notice: None,
    }
}

fn app(width: u16, height: u16) -> App {
    let (mut app, _) = App::new(Settings::default(), None, tokio::time::Instant::now());
    app.zone = Zone::Fixed(chrono::FixedOffset::east_opt(0).unwrap());
    app.size = (width, height);
    app
}

fn render(c: &mut Criterion) {
    for (width, height) in [(100u16, 30u16), (200, 60)] {
        let mut events = app(width, height);
        events.update(Msg::from(Reply::EventsLoaded {
            generation: events.events_generation(),
            append: false,
            result: Ok(EventList {
                events: many_events(10_000),
                next_cursor: None,
            }),
        }));
        events.screen = Screen::Events;
        // Somewhere in the middle of the list.
        events.events.list.select(5_000, 10_000, 20);
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        c.bench_function(
            &format!("events screen, 10,000 events, {width}x{height}"),
            |b| {
                b.iter(|| {
                    terminal
                        .draw(|frame| storefront::ui::view(&events, frame))
                        .unwrap();
                })
            },
        );

        let mut cart = app(width, height);
        cart.screen = Screen::Cart;
        cart.cart.cart = Some(big_cart(500));
        cart.cart.list.select(250, 500, 20);
        cart.cart.follow(20);
        c.bench_function(&format!("cart screen, 500 lines, {width}x{height}"), |b| {
            b.iter(|| {
                terminal
                    .draw(|frame| storefront::ui::view(&cart, frame))
                    .unwrap();
            })
        });
    }
}

criterion_group!(benches, render);
criterion_main!(benches);
