//! A shop in fixed states, for the snapshot tests, the benchmark and the README's pictures:
//! fixed dates and codes, so that every rendering is the same on every machine and day.

use chrono::{DateTime, FixedOffset, Utc};
use storefront_contract::*;
use tokio::time::Instant;

use crate::app::{App, Msg, Reply, Screen, Session, Zone};
use crate::config::Settings;

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

pub fn page(id: i64, slug: &str, title: &str) -> Page {
    Page {
        id,
        slug: slug.into(),
        title: title.into(),
    }
}

pub fn event(
    id: i64,
    name: &str,
    venue: Option<Page>,
    starts: &str,
    price: i64,
    capacity: Option<u32>,
    sold: u32,
) -> EventSummary {
    let available = capacity.map(|c| c.saturating_sub(sold));
    EventSummary {
        id,
        slug: format!("e{id}"),
        name: name.into(),
        starts_at: at(starts),
        ends_at: None,
        calendar: CalendarRef {
            id: 1,
            slug: "main".into(),
            name: "Main Stage".into(),
        },
        page: venue,
        price_from: Money::from_minor(price),
        currency: "GBP".into(),
        capacity,
        sold,
        available,
        sold_out: capacity.is_some_and(|c| sold >= c),
        timezone: "Europe/London".into(),
    }
}

pub fn events() -> Vec<EventSummary> {
    let granary = page(1, "old-granary", "The Old Granary");
    let riverside = page(2, "riverside", "Riverside Jazz Club");
    vec![
        event(
            1,
            "Candlelit Folk Evening",
            Some(granary.clone()),
            "2031-03-06T19:00:00Z",
            1600,
            Some(30),
            30,
        ),
        event(
            2,
            "Wren Duo: Winter Songs",
            Some(granary),
            "2031-03-07T19:30:00Z",
            1000,
            Some(80),
            12,
        ),
        event(
            3,
            "Late Night Jazz Session",
            Some(riverside.clone()),
            "2031-03-09T21:00:00Z",
            1250,
            Some(60),
            0,
        ),
        event(
            4,
            "Harbour Lights Quartet",
            Some(riverside),
            "2031-03-12T20:00:00Z",
            1800,
            Some(40),
            38,
        ),
        event(
            5,
            "Community Ceilidh",
            None,
            "2031-03-14T19:00:00Z",
            600,
            None,
            0,
        ),
    ]
}

pub fn detail() -> EventDetail {
    EventDetail {
        summary: events()[1].clone(),
        description: Some(
            "Harp and voice from the Wren Duo, with songs for the longest nights of the year."
                .into(),
        ),
        location: Some("The Old Granary, Mill Lane".into()),
        ticket_price: None,
        ticket_types: vec![
            TicketType {
                id: 2,
                name: "Concession".into(),
                cost: Money::from_minor(1000),
            },
            TicketType {
                id: 1,
                name: "Standard".into(),
                cost: Money::from_minor(1400),
            },
        ],
        max_per_order: 6,
        in_my_cart: 0,
    }
}

pub fn ticket(
    id: i64,
    event: &EventSummary,
    type_name: Option<&str>,
    cost: i64,
    state: TicketState,
) -> Ticket {
    Ticket {
        id,
        code: format!("K7Q{id}-M9XD"),
        state,
        entry_id: event.id,
        entry_name: event.name.clone(),
        entry_starts_at: event.starts_at,
        ticket_type_id: type_name.map(|_| 2),
        ticket_type_name: type_name.map(str::to_owned),
        cost: Money::from_minor(cost),
        calendar_container_id: event.page.as_ref().map(|p| p.id),
        calendar_container_type: event.page.as_ref().map(|_| "page".into()),
        order_id: None,
        created_at: at("2031-03-01T10:00:00Z"),
        previous_cost: None,
        checked_in_at: None,
        sold_out: false,
    }
}

pub fn summary(items: u32, total: i64) -> CartSummary {
    CartSummary {
        count: 1,
        total: Money::from_minor(850),
        calendar_count: 1,
        calendar_total: Money::from_minor(2500),
        ticket_count: items.saturating_sub(2),
        ticket_total: Money::from_minor(total - 3350),
        items,
        grand_total: Money::from_minor(total),
        currency: "GBP".into(),
    }
}

/// What the demo venues sell besides tickets.
pub fn products() -> ProductList {
    let granary = page(1, "old-granary", "The Old Granary");
    let riverside = page(2, "riverside-jazz", "Riverside Jazz Club");
    let product = |id: i64, title: &str, price: i64, page: Option<&Page>| Product {
        id,
        slug: format!("p{id}"),
        title: title.into(),
        price: Money::from_minor(price),
        page: page.cloned(),
    };
    ProductList {
        products: vec![
            product(1, "Old Granary tote bag", 850, Some(&granary)),
            product(2, "Riverside membership", 2500, Some(&riverside)),
            product(3, "Pottery workshop", 3200, Some(&granary)),
            product(4, "Gift voucher", 2000, None),
        ],
    }
}

/// The shop, signed in, the second product chosen two times.
pub fn shop_screen(width: u16, height: u16) -> App {
    let mut app = signed_in(width, height);
    app.update(key('s'));
    app.update(Msg::from(Reply::ProductsLoaded(Ok(products()))));
    app.update(key('j'));
    app.update(key('+'));
    app
}

pub fn cart() -> Cart {
    let all = events();
    let granary = page(1, "old-granary", "The Old Granary");
    let tickets = vec![
        ticket(11, &all[1], Some("Concession"), 1000, TicketState::Pending),
        ticket(12, &all[1], Some("Concession"), 1000, TicketState::Pending),
    ];
    let ceilidh = vec![ticket(13, &all[4], None, 600, TicketState::Pending)];
    Cart {
        groups: vec![
            CartGroup {
                page: Some(granary),
                products: vec![CartProduct {
                    id: 1,
                    product_id: 1,
                    title: "Old Granary tote bag".into(),
                    unit_price: Money::from_minor(850),
                    quantity: 1,
                    line_total: Money::from_minor(850),
                    previous_unit_price: None,
                }],
                calendar_entries: vec![workshop()],
                tickets,
                product_count: 1,
                product_total: Money::from_minor(850),
                calendar_count: 1,
                calendar_total: Money::from_minor(2500),
                ticket_count: 2,
                ticket_total: Money::from_minor(2000),
                total: Money::from_minor(5350),
            },
            CartGroup {
                page: None,
                products: vec![],
                calendar_entries: vec![],
                tickets: ceilidh,
                product_count: 0,
                product_total: Money::ZERO,
                calendar_count: 0,
                calendar_total: Money::ZERO,
                ticket_count: 1,
                ticket_total: Money::from_minor(600),
                total: Money::from_minor(600),
            },
        ],
        summary: summary(5, 5950),
        notice: Some(SOLD_OUT_NOTICE.into()),
    }
}

pub fn order(status: OrderStatus) -> Order {
    let all = events();
    let mut tickets = vec![
        ticket(11, &all[1], Some("Concession"), 1000, TicketState::Reserved),
        ticket(12, &all[1], Some("Concession"), 1000, TicketState::Reserved),
    ];
    if status == OrderStatus::Paid {
        for t in &mut tickets {
            t.state = TicketState::Confirmed;
            t.order_id = Some(7);
        }
    }
    Order {
        id: 7,
        status,
        total: Money::from_minor(2850),
        currency: "GBP".into(),
        created_at: at("2031-03-01T10:05:00Z"),
        paid_at: (status == OrderStatus::Paid).then(|| at("2031-03-01T10:07:00Z")),
        page: Some(page(1, "old-granary", "The Old Granary")),
        checkout_url: Some("http://127.0.0.1:8080/sumup-sandbox/pay/k3v9q2x7m1b4d".into()),
        sumup_checkout_id: Some("k3v9q2x7m1b4d".into()),
        sumup_status: Some(if status == OrderStatus::Paid {
            CheckoutStatus::Paid
        } else {
            CheckoutStatus::Pending
        }),
        products: vec![CartProduct {
            id: 1,
            product_id: 1,
            title: "Old Granary tote bag".into(),
            unit_price: Money::from_minor(850),
            quantity: 1,
            line_total: Money::from_minor(850),
            previous_unit_price: None,
        }],
        calendar_entries: vec![],
        tickets,
        refund: None,
        refunds: vec![],
        notice: (status != OrderStatus::Paid).then(|| SOLD_OUT_NOTICE.into()),
        tickets_url: (status == OrderStatus::Paid)
            .then(|| "http://127.0.0.1:8080/t/q3Zr8Lw0cV2mYp5TbN7eXg".into()),
        terminal: None,
        payment_method: PaymentMethod::Hosted,
    }
}

/// A client at a fixed size and zone, not signed in, with nothing loaded.
pub fn app(width: u16, height: u16) -> App {
    let (mut app, _) = App::new(Settings::default(), None, Instant::now());
    app.zone = Zone::Fixed(FixedOffset::east_opt(0).unwrap());
    app.size = (width, height);
    app
}

/// At the door: door staff signed in, the events listed, the scanner open on the first one
/// with its list of codes fetched (two tickets in, 7KQ2-M9XD and Q4RT-88ZC still to come).
pub fn door(width: u16, height: u16) -> App {
    let mut app = app(width, height);
    app.settings.checkin = true;
    app.session = Some(Session {
        token: "token".into(),
        user: Some(User {
            id: 3,
            email: "door@example.com".into(),
            name: "Dee Door".into(),
            role: storefront_contract::Role::Staff,
        }),
    });
    app.update(Msg::from(Reply::EventsLoaded {
        generation: app.events_generation(),
        append: false,
        result: Ok(EventList {
            events: events(),
            next_cursor: None,
        }),
    }));
    app.screen = Screen::Events;
    app.act(crate::app::Action::Open);
    let event_id = app.door.event_id.unwrap();
    let code = |code: &str, state| storefront_contract::CodeState {
        code: code.into(),
        state,
    };
    app.update(Msg::from(Reply::DoorListLoaded {
        event_id,
        result: Ok(storefront_contract::EventCheckins {
            checked_in: 2,
            sold: 4,
            codes: vec![
                code("7KQ2-M9XD", TicketState::Confirmed),
                code("Q4RT-88ZC", TicketState::Confirmed),
                code("AAAA-1111", TicketState::CheckedIn),
                code("BBBB-2222", TicketState::CheckedIn),
            ],
        }),
    }));
    app
}

/// The scanner after three scans, the last answered with `outcome`.
/// Types `code` and presses Enter at the door, as a barcode scanner does.
pub fn scan(app: &mut App, code: &str) -> Vec<crate::app::Effect> {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |code| Msg::Key(KeyEvent::new(code, KeyModifiers::NONE));
    for c in code.chars() {
        app.update(key(KeyCode::Char(c)));
    }
    app.update(key(KeyCode::Enter))
}

pub fn door_after_scans(w: u16, h: u16, outcome: storefront_contract::CheckinOutcome) -> App {
    let mut app = door(w, h);
    for code in ["AAAA-1111", "ZZZZ-0000", "7KQ2-M9XD"] {
        let effects = scan(&mut app, code);
        let Some(crate::app::Effect::CheckIn {
            scan,
            event_id,
            code,
            scanned_at,
            ..
        }) = effects.into_iter().next()
        else {
            panic!("no scan sent");
        };
        let outcome = match code.as_str() {
            "AAAA-1111" => storefront_contract::CheckinOutcome::CheckedIn,
            "ZZZZ-0000" => storefront_contract::CheckinOutcome::Unknown,
            _ => outcome,
        };
        app.update(Msg::from(Reply::CheckedIn {
            scan,
            event_id,
            code: code.clone(),
            scanned_at,
            result: Ok(storefront_contract::CheckinResult {
                outcome,
                ticket: (outcome != storefront_contract::CheckinOutcome::Unknown).then(|| {
                    storefront_contract::CheckedTicket {
                        code,
                        state: TicketState::CheckedIn,
                        event_id: 3,
                        event_name: "Riverside Late Jazz".into(),
                        ticket_type_name: Some("Standard".into()),
                        holder_name: "Ada Lovelace".into(),
                    }
                }),
                checked_in_at: Some("2031-03-06T19:42:00Z".parse().unwrap()),
            }),
        }));
    }
    app
}

/// The same, signed in as Dana with the fixtures loaded.
pub fn signed_in(width: u16, height: u16) -> App {
    let mut app = app(width, height);
    app.session = Some(Session {
        token: "token".into(),
        user: Some(User {
            id: 1,
            email: "demo@example.com".into(),
            name: "Dana Demo".into(),
            role: storefront_contract::Role::Customer,
        }),
    });
    app.summary = Some(summary(5, 5950));
    app.update(Msg::from(Reply::EventsLoaded {
        generation: app.events_generation(),
        append: false,
        result: Ok(EventList {
            events: events(),
            next_cursor: None,
        }),
    }));
    app.screen = Screen::Events;
    app
}

fn key(c: char) -> Msg {
    Msg::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char(c),
        crossterm::event::KeyModifiers::NONE,
    ))
}

/// The Wren Duo's page, two tickets chosen.
pub fn event_page(width: u16, height: u16) -> App {
    let mut app = signed_in(width, height);
    app.open_event(2);
    app.update(Msg::from(Reply::EventLoaded(Ok(detail()))));
    app.update(key('+'));
    app
}

/// The cart with its two venues, a line selected.
pub fn full_cart(width: u16, height: u16) -> App {
    let mut app = signed_in(width, height);
    app.update(key('c'));
    app.update(Msg::from(Reply::CartLoaded(Ok(cart()))));
    app.update(key('j'));
    app
}

/// Checked out: waiting for the payment, the page as an address and a QR code.
pub fn paying(width: u16, height: u16) -> App {
    let mut app = full_cart(width, height);
    app.update(key('P'));
    let pending = order(OrderStatus::Pending);
    app.update(Msg::from(Reply::CheckedOut(Ok(CheckoutResponse {
        checkout_url: pending.checkout_url.clone(),
        reader: None,
        order: pending,
    }))));
    app
}

/// The long-poll answers: the order being paid is now `status`.
pub fn payment_ends(app: &mut App, status: OrderStatus) {
    let generation = app.payment.generation;
    app.update(Msg::from(Reply::OrderUpdate {
        generation,
        result: Ok(order(status)),
    }));
}

/// Paid: the confirmation with the ticket codes.
pub fn paid(width: u16, height: u16) -> App {
    let mut app = paying(width, height);
    payment_ends(&mut app, OrderStatus::Paid);
    app
}

/// The README's pictures: name and state, at 100×30.
pub fn pictures() -> Vec<(&'static str, App)> {
    vec![
        ("events", signed_in(100, 30)),
        ("event", event_page(100, 30)),
        ("cart", full_cart(100, 30)),
        ("payment", paying(100, 32)),
        ("confirmation", paid(100, 30)),
        (
            "door",
            door_after_scans(
                100,
                24,
                storefront_contract::CheckinOutcome::AlreadyCheckedIn,
            ),
        ),
    ]
}

/// The box office's figures for one event.
fn sales(
    summary: EventSummary,
    sold: u32,
    checked_in: u32,
    revenue: i64,
    by_type: Vec<(&str, u32, i64)>,
) -> EventSales {
    EventSales {
        capacity: summary.capacity,
        sold,
        pending: 3,
        reserved: 1,
        checked_in,
        revenue: Money::from_minor(revenue),
        refunded: Money::from_minor(if sold > 20 { 1400 } else { 0 }),
        refunded_tickets: u32::from(sold > 20),
        by_type: by_type
            .into_iter()
            .enumerate()
            .map(|(i, (name, sold, revenue))| TypeSales {
                ticket_type_id: Some(i as i64 + 1),
                name: name.into(),
                sold,
                revenue: Money::from_minor(revenue),
            })
            .collect(),
        event: summary,
    }
}

/// The box office's sales: tonight, the coming events, one past.
pub fn box_office_events() -> BoxOfficeEvents {
    let granary = page(1, "old-granary", "The Old Granary");
    let mut past = event(
        9,
        "Harvest Ceilidh",
        Some(granary.clone()),
        "2031-02-20T19:30:00Z",
        1000,
        Some(80),
        80,
    );
    past.ends_at = Some(at("2031-02-20T23:00:00Z"));
    let events = vec![
        sales(past, 80, 74, 80_000, vec![("Standard", 80, 80_000)]),
        sales(
            event(
                1,
                "Wren Duo: Songs for Winter",
                Some(granary.clone()),
                "2031-03-06T19:30:00Z",
                1400,
                Some(120),
                92,
            ),
            92,
            41,
            119_600,
            vec![("Standard", 70, 98_000), ("Concession", 22, 21_600)],
        ),
        sales(
            event(
                2,
                "Late Night Jazz Session",
                Some(page(2, "riverside", "Riverside Jazz Club")),
                "2031-03-07T21:00:00Z",
                1200,
                Some(60),
                12,
            ),
            12,
            0,
            14_400,
            vec![("Standard", 12, 14_400)],
        ),
        sales(
            event(
                3,
                "Village Fete",
                None,
                "2031-03-14T12:00:00Z",
                300,
                None,
                140,
            ),
            140,
            0,
            42_000,
            vec![],
        ),
    ];
    let minor = |m: Money| m.to_minor().unwrap_or(0);
    BoxOfficeEvents {
        totals: SalesTotals {
            sold: events.iter().map(|e| e.sold).sum(),
            checked_in: events.iter().map(|e| e.checked_in).sum(),
            revenue: Money::from_minor(events.iter().map(|e| minor(e.revenue)).sum()),
            refunded: Money::from_minor(events.iter().map(|e| minor(e.refunded)).sum()),
        },
        events,
        version: 41,
        next_cursor: None,
    }
}

/// The box office: the venue's manager signed in, the sales loaded.
pub fn box_office(width: u16, height: u16) -> App {
    let settings = Settings {
        box_office: true,
        ..Settings::default()
    };
    let (mut app, _) = App::new(settings, None, Instant::now());
    app.zone = Zone::Fixed(FixedOffset::east_opt(0).unwrap());
    app.size = (width, height);
    app.session = Some(Session {
        token: "token".into(),
        user: Some(User {
            id: 5,
            email: "manager@example.com".into(),
            name: "Morgan Manager".into(),
            role: storefront_contract::Role::Manager,
        }),
    });
    app.screen = Screen::Office;
    let generation = app.office.generation;
    app.update(Msg::from(Reply::SalesLoaded {
        generation,
        result: Ok(box_office_events()),
    }));
    app
}

/// The Wren Duo's sales by day.
pub fn box_office_event_detail() -> EventSalesDetail {
    let sales = box_office_events().events.remove(1);
    let by_day = [9, 14, 3, 0, 21, 6, 11, 18, 10]
        .iter()
        .enumerate()
        .filter(|(_, sold)| **sold > 0)
        .map(|(i, sold)| DaySales {
            date: chrono::NaiveDate::from_ymd_opt(2031, 2, 20 + i as u32).unwrap(),
            sold: *sold,
            revenue: Money::from_minor(i64::from(*sold) * 1300),
        })
        .collect();
    EventSalesDetail { sales, by_day }
}

/// The box office on the Wren Duo's page.
pub fn box_office_event(width: u16, height: u16) -> App {
    let mut app = box_office(width, height);
    app.update(key('j'));
    app.update(Msg::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )));
    app.update(Msg::from(Reply::EventSalesLoaded(Ok(
        box_office_event_detail(),
    ))));
    app
}

/// A paid order as the box office opens it: two tickets, one let in.
/// The demo's pottery workshop, booked: £25.00.
fn workshop() -> CartBooking {
    CartBooking {
        id: 1,
        name: "Pottery taster workshop".into(),
        calendar_name: "Granary Workshops".into(),
        starts_at: at("2031-03-08T10:00:00Z"),
        ends_at: Some(at("2031-03-08T12:00:00Z")),
        cost: Money::from_minor(2500),
    }
}

pub fn order_detail() -> OrderDetail {
    let mut order = order(OrderStatus::Paid);
    order.tickets[1].state = TicketState::CheckedIn;
    order.tickets[1].checked_in_at = Some(at("2031-03-06T19:12:00Z"));
    // A workshop booked with them.
    order.calendar_entries.push(workshop());
    order.total = Money::from_minor(5350);
    OrderDetail {
        buyer: Buyer {
            email: Some("ann@example.com".into()),
            name: "Ann Archer".into(),
        },
        history: vec![
            HistoryEntry {
                at: at("2031-03-01T10:05:00Z"),
                what: "Ordered: £53.50".into(),
                by: Some("Ann Archer".into()),
            },
            HistoryEntry {
                at: at("2031-03-01T10:07:00Z"),
                what: "Paid £53.50 on SumUp's payment page".into(),
                by: Some("Ann Archer".into()),
            },
            HistoryEntry {
                at: at("2031-03-06T19:12:00Z"),
                what: "Ticket Q4RT-88ZC checked in".into(),
                by: Some("door".into()),
            },
        ],
        order,
    }
}

/// The box office's search, "ann" typed.
pub fn box_office_search(width: u16, height: u16) -> App {
    let mut app = box_office(width, height);
    app.update(key('/'));
    for c in "ann".chars() {
        app.update(key(c));
    }
    let detail = order_detail();
    let mut comp = order_detail();
    comp.order.id = 12;
    comp.order.total = Money::from_minor(0);
    comp.order.payment_method = PaymentMethod::Comp;
    comp.buyer = Buyer {
        email: None,
        name: "Annie (the band's guest)".into(),
    };
    let generation = app.office.search_generation;
    app.update(Msg::from(Reply::OrdersFound {
        generation,
        result: Ok(FoundOrders {
            orders: vec![
                FoundOrder {
                    order: comp.order,
                    buyer: comp.buyer,
                },
                FoundOrder {
                    order: detail.order,
                    buyer: detail.buyer,
                },
            ],
            next_cursor: None,
        }),
    }));
    app
}

/// The box office on an order's page, its first ticket marked for a refund.
pub fn box_office_order(width: u16, height: u16) -> App {
    let mut app = box_office_search(width, height);
    app.update(Msg::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Down,
        crossterm::event::KeyModifiers::NONE,
    )));
    app.update(Msg::Key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    )));
    app.update(Msg::from(Reply::OrderDetailLoaded(Ok(order_detail()))));
    app.update(key(' '));
    app
}

/// The refund asked for, waiting for Enter.
pub fn box_office_refund(width: u16, height: u16) -> App {
    let mut app = box_office_order(width, height);
    app.update(key('R'));
    for c in "Could not come".chars() {
        app.update(key(c));
    }
    app
}

/// The guest-list form for the Wren Duo, filled in.
pub fn box_office_comp(width: u16, height: u16) -> App {
    let mut app = box_office(width, height);
    app.update(key('j'));
    app.update(key('g'));
    for c in "Mo Wren".chars() {
        app.update(key(c));
    }
    app
}
