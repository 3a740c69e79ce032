//! Every screen rendered to a `TestBackend` and compared with its snapshot, at 100×30 and at
//! the smallest supported 60×20.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use storefront_contract::{EventList, OrderStatus, Refund, RefundStatus, TicketState};

use crate::app::tests::*;
use crate::app::{App, Msg, PaymentPhase, Reply, Screen};

fn render(app: &App) -> String {
    let (width, height) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| super::view(app, frame)).unwrap();
    terminal.backend().to_string()
}

/// Snapshots one state at both sizes.
macro_rules! screens {
    ($name:ident, $build:expr) => {
        #[test]
        fn $name() {
            for (width, height) in [(100, 30), (60, 20)] {
                let app: App = $build(width, height);
                insta::assert_snapshot!(
                    format!("{}_{width}x{height}", stringify!($name)),
                    render(&app)
                );
            }
        }
    };
}

screens!(sign_in, |w, h| {
    let mut app = app(w, h);
    app.signin.email = "demo@example.com".into();
    app.signin.password = "demo".into();
    app.demo_hint = Some(("demo@example.com".into(), "demo".into()));
    app.demo_note = Some("Its cart already holds 2 items (£33.50).".into());
    app
});

screens!(sign_up, |w, h| {
    let mut app = app(w, h);
    app.update(ctrl('n'));
    for text in ["sam@example.com", "Sam Reader", "correct horse"] {
        for c in text.chars() {
            app.update(ch(c));
        }
        app.update(key(crossterm::event::KeyCode::Tab));
    }
    app
});

screens!(sign_up_refused, |w, h| {
    let mut app = app(w, h);
    app.update(ctrl('n'));
    app.signin.email = "demo@example.com".into();
    app.signin.name = "Dana".into();
    app.signin.password = "battery staple".into();
    app.signin.repeat = "battery staple".into();
    app.update(key(crossterm::event::KeyCode::Enter));
    app.update(Msg::from(Reply::SignedUp(Err(
        crate::api::ApiError::Refused {
            status: 409,
            code: crate::api::ErrorCode::Conflict,
            message: "An account with this e-mail exists: sign in, or reset its password.".into(),
            field: None,
            order_id: None,
        },
    ))));
    app
});

screens!(reset_code, |w, h| {
    let mut app = app(w, h);
    app.update(ctrl('f'));
    for c in "sam@example.com".chars() {
        app.update(ch(c));
    }
    app.update(key(crossterm::event::KeyCode::Enter));
    app.update(Msg::from(Reply::ResetAsked(Ok(()))));
    for c in "K7Q2M9XD".chars() {
        app.update(ch(c));
    }
    app
});

screens!(reset_code_in_the_demo, |w, h| {
    let mut app = app(w, h);
    app.demo_mail_page = Some("http://127.0.0.1:8080/mail-sandbox/".into());
    app.update(ctrl('f'));
    for c in "sam@example.com".chars() {
        app.update(ch(c));
    }
    app.update(key(crossterm::event::KeyCode::Enter));
    app.update(Msg::from(Reply::ResetAsked(Ok(()))));
    app
});

screens!(door_sign_in, |w, h| {
    let mut app = app(w, h);
    app.settings.checkin = true;
    app.demo_hint = Some(("door@example.com".into(), "door".into()));
    app
});

#[test]
fn the_door_scanner_offers_no_browsing_before_sign_in() {
    let mut app = app(100, 30);
    app.settings.checkin = true;
    let screen = render(&app);
    assert!(!screen.contains("browses the events"), "{screen}");
    app.update(key(crossterm::event::KeyCode::Esc));
    assert_eq!(app.screen, Screen::SignIn, "Esc leads nowhere at the door");
}

#[test]
fn help_names_each_key_once() {
    for screen in [
        Screen::Events,
        Screen::Event,
        Screen::Cart,
        Screen::Orders,
        Screen::Shop,
    ] {
        let mut app = signed_in(100, 40);
        app.screen = screen;
        app.update(ch('?'));
        let rendered = render(&app);
        assert_eq!(
            rendered.matches(" Esc  ").count(),
            1,
            "{screen:?}: Esc once\n{rendered}"
        );
    }
}

screens!(sign_in_error, |w, h| {
    let mut app = app(w, h);
    app.signin.email = "demo@example.com".into();
    app.signin.error = Some("Your session ended. Sign in again.".into());
    app
});

screens!(sign_in_unreachable, |w, h| {
    let mut app = app(w, h);
    app.signin.email = "demo@example.com".into();
    app.signin.error = Some(
        "Cannot reach http://127.0.0.1:8080: the connection was refused. Check the address and your connection."
            .into(),
    );
    app
});

screens!(events_signed_in, signed_in);

screens!(events_signed_out, |w, h| {
    let mut app = app(w, h);
    app.update(Msg::from(Reply::EventsLoaded {
        generation: app.events_generation(),
        append: false,
        result: Ok(EventList {
            events: events(),
            next_cursor: Some("more".into()),
        }),
    }));
    app.screen = Screen::Events;
    app
});

screens!(events_filtering_empty, |w, h| {
    let mut app = signed_in(w, h);
    app.update(ch('/'));
    for c in "opera".chars() {
        app.update(ch(c));
    }
    app.update(Msg::from(Reply::EventsLoaded {
        generation: app.events_generation(),
        append: false,
        result: Ok(EventList {
            events: vec![],
            next_cursor: None,
        }),
    }));
    app
});

screens!(event_signed_in, event_page);

screens!(shop, shop_screen);

screens!(shop_filtering, |w, h| {
    let mut app = shop_screen(w, h);
    app.update(ch('/'));
    for c in "GRAN".chars() {
        app.update(ch(c));
    }
    app
});

screens!(kiosk_events_with_products, |w, h| {
    let mut app = kiosk(w, h);
    app.update(Msg::from(Reply::ProductsLoaded(Ok(products()))));
    app.update(ch('x'));
    app
});

// A viewer in UTC looking at a venue in New York: its times are the venue's, labelled.
screens!(events_in_another_zone, |w, h| {
    let mut app = signed_in(w, h);
    for event in &mut app.events.events {
        event.timezone = "America/New_York".into();
    }
    app
});

screens!(event_in_another_zone, |w, h| {
    let mut app = signed_in(w, h);
    app.open_event(2);
    let mut detail = detail();
    detail.summary.timezone = "America/New_York".into();
    app.update(Msg::from(Reply::EventLoaded(Ok(detail))));
    app
});

screens!(event_signed_out, |w, h| {
    let mut app = app(w, h);
    app.open_event(2);
    app.update(Msg::from(Reply::EventLoaded(Ok(detail()))));
    app
});

screens!(event_sold_out, |w, h| {
    let mut app = signed_in(w, h);
    app.open_event(1);
    let mut sold_out = detail();
    sold_out.summary = events()[0].clone();
    sold_out.ticket_types.clear();
    sold_out.ticket_price = Some(storefront_contract::Money::from_minor(1600));
    app.update(Msg::from(Reply::EventLoaded(Ok(sold_out))));
    app
});

screens!(cart_full, full_cart);

screens!(cart_with_changed_prices, |w, h| {
    let mut app = signed_in(w, h);
    app.update(ch('c'));
    let mut changed = cart();
    // The venue raised the Concession price and the tote bag's since they were added.
    let granary = &mut changed.groups[0];
    granary.products[0].previous_unit_price = Some(storefront_contract::Money::from_minor(750));
    for ticket in &mut granary.tickets {
        ticket.previous_cost = Some(storefront_contract::Money::from_minor(800));
    }
    app.update(Msg::from(Reply::CartLoaded(Ok(changed))));
    app
});

screens!(cart_with_a_sold_out_line, |w, h| {
    let mut app = signed_in(w, h);
    app.update(ch('c'));
    let mut sold_out = cart();
    for ticket in &mut sold_out.groups[0].tickets {
        ticket.sold_out = true;
    }
    app.update(Msg::from(Reply::CartLoaded(Ok(sold_out))));
    app
});

#[test]
fn a_changed_price_is_said_on_its_cart_line() {
    let mut app = signed_in(100, 30);
    app.update(ch('c'));
    let mut changed = cart();
    changed.groups[0].tickets[0].previous_cost = Some(storefront_contract::Money::from_minor(800));
    changed.groups[0].tickets[1].previous_cost = Some(storefront_contract::Money::from_minor(800));
    app.update(Msg::from(Reply::CartLoaded(Ok(changed))));
    let screen = render(&app);
    assert!(screen.contains("@ £10.00 (was £8.00)"), "{screen}");
}

screens!(cart_empty, |w, h| {
    let mut app = signed_in(w, h);
    app.update(ch('c'));
    let mut empty = cart();
    empty.groups.clear();
    empty.notice = None;
    empty.summary = summary(0, 3350);
    app.update(Msg::from(Reply::CartLoaded(Ok(empty))));
    app
});

screens!(payment_waiting, paying);

screens!(payment_failed, |w, h| {
    let mut app = paying(w, h);
    payment_ends(&mut app, OrderStatus::Failed);
    app
});

screens!(payment_provider_error, |w, h| {
    let mut app = signed_in(w, h);
    app.update(ch('c'));
    app.update(Msg::from(Reply::CartLoaded(Ok(cart()))));
    app.update(ch('P'));
    app.update(Msg::from(Reply::CheckedOut(Err(
        crate::api::ApiError::Refused {
            status: 502,
            code: crate::api::ErrorCode::PaymentProviderError,
            message: "The payment service is unavailable right now.".into(),
            field: None,
            order_id: Some(7),
        },
    ))));
    let mut kept = order(OrderStatus::Pending);
    kept.checkout_url = None;
    kept.sumup_status = None;
    app.update(Msg::from(Reply::OrderLoaded(Ok(kept))));
    app
});

screens!(payment_paid, paid);

#[test]
fn the_door_and_the_box_office_cannot_be_browsed_without_signing_in() {
    let signed_out = |settings| {
        let (mut app, _) = App::new(settings, None, tokio::time::Instant::now());
        app.size = (100, 30);
        app
    };
    let door = crate::config::Settings {
        checkin: true,
        ..crate::config::Settings::default()
    };
    let office = crate::config::Settings {
        box_office: true,
        ..crate::config::Settings::default()
    };
    for mut app in [signed_out(door), signed_out(office)] {
        assert_eq!(app.screen, Screen::SignIn);
        let effects = app.update(key(crossterm::event::KeyCode::Esc));
        assert!(effects.is_empty(), "{effects:?}");
        assert_eq!(app.screen, Screen::SignIn);
        let screen = render(&app);
        assert!(!screen.contains("browse"), "{screen}");
    }
    // A buyer's own terminal can.
    let mut shop = app(100, 30);
    assert!(render(&shop).contains("Esc browses the events"));
    shop.update(key(crossterm::event::KeyCode::Esc));
    assert_eq!(shop.screen, Screen::Events);
}

#[test]
fn the_ticket_pages_code_shows_at_80_by_24() {
    let kiosk = |w, h| {
        let url = order(OrderStatus::Pending).checkout_url.unwrap();
        let mut app = kiosk_checked_out(w, h, &url);
        payment_ends(&mut app, OrderStatus::Paid);
        app
    };
    let tickets_url = order(OrderStatus::Paid).tickets_url.unwrap();
    for app in [paid(80, 24), kiosk(80, 24)] {
        let screen = render(&app);
        // Said on the address's line (the code's caption is left out for room).
        assert!(
            screen.contains("Your tickets to keep on your phone: scan the code, or open:"),
            "{screen}"
        );
        assert!(!screen.contains("to show the QR code"), "{screen}");
        assert_eq!(decode_screen(&app), tickets_url);
    }
    // Whole, on a line of its own, where it can be copied or clicked.
    assert!(render(&paid(80, 24)).contains(&format!(" {tickets_url} ")));
}

#[test]
fn a_window_too_small_for_the_code_gives_the_address_and_says_so() {
    let app = paid(72, 24);
    let screen = render(&app);
    assert!(
        screen.contains("Your tickets to keep on your phone, at this address:"),
        "{screen}"
    );
    assert!(!screen.contains("Scan to keep"), "{screen}");
    assert!(screen.contains("to show the QR code"), "{screen}");
}

#[test]
fn a_paid_order_without_tickets_offers_the_order_to_keep() {
    let mut app = paying(100, 30);
    let generation = app.payment.generation;
    let mut products_only = order(OrderStatus::Paid);
    products_only.tickets.clear();
    app.update(Msg::from(Reply::OrderUpdate {
        generation,
        result: Ok(products_only),
    }));
    let screen = render(&app);
    assert!(screen.contains("Scan to keep your order"), "{screen}");
    assert!(
        !screen.to_lowercase().contains("your tickets"),
        "an order of no tickets is not headed as tickets: {screen}"
    );
}

#[test]
fn tickets_the_box_office_refunded_are_no_codes_to_keep() {
    let mut app = paying(100, 30);
    let generation = app.payment.generation;
    let mut refunded = order(OrderStatus::Paid);
    for ticket in &mut refunded.tickets {
        ticket.state = TicketState::Refunded;
    }
    let codes: Vec<String> = refunded.tickets.iter().map(|t| t.code.clone()).collect();
    app.update(Msg::from(Reply::OrderUpdate {
        generation,
        result: Ok(refunded),
    }));
    let screen = render(&app);
    for code in codes {
        assert!(
            !screen.contains(&code),
            "{code} is no longer valid: {screen}"
        );
    }
    assert_eq!(screen.matches("refunded").count(), 2, "{screen}");
    assert!(screen.contains("Scan to keep your order"), "{screen}");
    assert!(!screen.contains("keep your tickets"), "{screen}");
}

screens!(payment_paid_with_refund, |w, h| {
    let mut app = paying(w, h);
    let generation = app.payment.generation;
    let mut refunded = order(OrderStatus::Paid);
    refunded.tickets[1].state = TicketState::Cancelled;
    refunded.refund = Some(Refund {
        amount: storefront_contract::Money::from_minor(1000),
        status: RefundStatus::Refunded,
        reason: storefront_contract::RefundReason::SoldOut,
        message: None,
    });
    refunded.notice = Some(
        "Wren Duo: Winter Songs sold out before your payment completed: 1 ticket was cancelled and £10.00 has been refunded."
            .into(),
    );
    app.update(Msg::from(Reply::OrderUpdate {
        generation,
        result: Ok(refunded),
    }));
    assert_eq!(app.payment.phase, PaymentPhase::Paid);
    app
});

screens!(orders_and_tickets, |w, h| {
    let mut app = signed_in(w, h);
    app.update(ch('o'));
    let mut paid = order(OrderStatus::Paid);
    paid.id = 8;
    app.update(Msg::from(Reply::OrdersLoaded(Ok(
        storefront_contract::OrderList {
            orders: vec![paid.clone(), order(OrderStatus::Failed)],
        },
    ))));
    app.update(Msg::from(Reply::TicketsLoaded(Ok(
        storefront_contract::TicketList {
            tickets: paid.tickets.clone(),
        },
    ))));
    app
});

screens!(orders_with_a_refund, |w, h| {
    let mut app = signed_in(w, h);
    app.update(ch('o'));
    let mut paid = order(OrderStatus::Paid);
    paid.id = 8;
    for ticket in &mut paid.tickets {
        ticket.order_id = Some(8);
    }
    paid.tickets[1].state = TicketState::Cancelled;
    paid.refund = Some(Refund {
        amount: storefront_contract::Money::from_minor(1000),
        status: RefundStatus::Refunded,
        reason: storefront_contract::RefundReason::SoldOut,
        message: None,
    });
    app.update(Msg::from(Reply::OrdersLoaded(Ok(
        storefront_contract::OrderList {
            orders: vec![paid.clone()],
        },
    ))));
    app.update(Msg::from(Reply::TicketsLoaded(Ok(
        storefront_contract::TicketList {
            tickets: paid.tickets.clone(),
        },
    ))));
    app
});

screens!(help_overlay, |w, h| {
    let mut app = signed_in(w, h);
    app.update(ch('?'));
    app
});

#[test]
fn a_small_window_says_what_it_needs() {
    let mut app = signed_in(59, 19);
    app.size = (59, 19);
    insta::assert_snapshot!(render(&app));
}

#[test]
fn hostile_names_render_as_plain_text() {
    // As the API client decodes them: sanitised once, then drawn.
    let mut names = vec![
        "\u{1b}[31mRed Alert\u{1b}[0m \u{7}".to_owned(),
        "\u{202e}desreveR\u{202c} Night".to_owned(),
        "Jazz 🎷 日本の夜 Ω".to_owned(),
        "x".repeat(500),
    ];
    let mut value = serde_json::json!(names);
    crate::text::sanitize_json(&mut value);
    names = serde_json::from_value(value).unwrap();
    let mut list = events();
    for (event, name) in list.iter_mut().zip(&names) {
        event.name = name.clone();
    }
    let mut app = signed_in(100, 30);
    app.update(Msg::from(Reply::EventsLoaded {
        generation: app.events_generation(),
        append: false,
        result: Ok(EventList {
            events: list,
            next_cursor: None,
        }),
    }));
    let screen = render(&app);
    assert!(
        !screen.contains('\u{1b}') && !screen.contains('\u{202e}') && !screen.contains('\u{7}')
    );
    assert!(screen.contains("[31mRed Alert[0m"));
    assert!(screen.contains("desreveR Night"));
    assert!(
        screen.contains('…'),
        "the long name is cut with an ellipsis"
    );
    insta::assert_snapshot!(screen);
}

fn kiosk(width: u16, height: u16) -> App {
    let settings = crate::config::Settings {
        kiosk: true,
        remember_session: false,
        open_browser: false,
        ..crate::config::Settings::default()
    };
    let (mut kiosk, _) = App::new(settings, None, tokio::time::Instant::now());
    kiosk.zone = crate::app::Zone::Fixed(chrono::FixedOffset::east_opt(0).unwrap());
    kiosk.size = (width, height);
    kiosk.update(Msg::from(Reply::EventsLoaded {
        generation: kiosk.events_generation(),
        append: false,
        result: Ok(EventList {
            events: events(),
            next_cursor: None,
        }),
    }));
    kiosk
}

#[test]
fn the_payment_address_is_a_link_where_the_terminal_takes_links() {
    let mut app = paying(100, 30);
    let url = app.payment.checkout_url.clone().unwrap();
    let buffer = |app: &App| {
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal.draw(|frame| super::view(app, frame)).unwrap();
        terminal.backend().buffer().clone()
    };
    let line = |buffer: &ratatui::buffer::Buffer, y: u16| -> String {
        (1..100)
            .map(|x| buffer[(x, y)].symbol().to_owned())
            .collect()
    };
    // Off: plain text, one line, whole.
    let plain = buffer(&app);
    let y = (0..30u16)
        .find(|y| line(&plain, *y).starts_with("http://"))
        .expect("the address is on screen");
    let line = line(&plain, y);
    assert_eq!(line.trim_end(), url);
    // On: the first cell writes the whole address as an OSC 8 link over its width.
    app.settings.hyperlinks = true;
    let linked = buffer(&app);
    let cell = &linked[(1, y)];
    assert_eq!(
        cell.symbol(),
        format!("\u{1b}]8;;{url}\u{1b}\\{url}\u{1b}]8;;\u{1b}\\")
    );
    assert_eq!(
        cell.diff_option,
        ratatui::buffer::CellDiffOption::ForcedWidth(
            std::num::NonZeroU16::new(url.len() as u16).unwrap()
        )
    );
}

screens!(kiosk_start, kiosk);

screens!(kiosk_still_there, |w, h| {
    let mut app = kiosk(w, h);
    app.update(ch('x'));
    let later = app.now + app.settings.kiosk_idle_timeout;
    app.update(Msg::Tick(later));
    app.update(Msg::Tick(later + std::time::Duration::from_secs(3)));
    app
});

/// A kiosk customer who pressed Enter on the cart: paying at `url`.
fn kiosk_checked_out(w: u16, h: u16, url: &str) -> App {
    let mut app = kiosk(w, h);
    app.update(ch('x'));
    app.session = Some(crate::app::Session {
        token: "t".into(),
        user: None,
    });
    app.cart.cart = Some(cart());
    app.screen = Screen::Cart;
    app.update(key(crossterm::event::KeyCode::Enter));
    app.update(Msg::from(Reply::CheckedOut(Ok(
        storefront_contract::CheckoutResponse {
            order: order(OrderStatus::Pending),
            checkout_url: Some(url.into()),
            reader: None,
        },
    ))));
    app
}

screens!(kiosk_payment, |w, h| kiosk_checked_out(
    w,
    h,
    &order(OrderStatus::Pending).checkout_url.unwrap()
));

/// A kiosk customer paying by card on the reader `door-1` (the demo's virtual one).
fn kiosk_on_reader(w: u16, h: u16) -> App {
    let mut app = kiosk_checked_out(w, h, &order(OrderStatus::Pending).checkout_url.unwrap());
    app.settings.kiosk_reader = Some("door-1".into());
    app.demo_reader_page =
        Some("http://127.0.0.1:8080/sumup-sandbox/readers/rdr_demo_door1".into());
    app.payment.by_card = true;
    app.update(Msg::from(Reply::PaymentStarted(Ok(
        storefront_contract::CheckoutResponse {
            order: order(OrderStatus::Pending),
            checkout_url: None,
            reader: Some("door-1".into()),
        },
    ))));
    app
}

screens!(kiosk_card, kiosk_on_reader);

screens!(kiosk_card_declined, |w, h| {
    let mut app = kiosk_on_reader(w, h);
    payment_ends(&mut app, OrderStatus::Failed);
    app
});

screens!(kiosk_card_timed_out, |w, h| {
    let mut app = kiosk_on_reader(w, h);
    let generation = app.payment.generation;
    let mut ended = order(OrderStatus::Failed);
    ended.sumup_status = Some(storefront_contract::CheckoutStatus::Expired);
    app.update(Msg::from(Reply::OrderUpdate {
        generation,
        result: Ok(ended),
    }));
    app
});

screens!(kiosk_paid, |w, h| {
    let mut app = kiosk_checked_out(w, h, &order(OrderStatus::Pending).checkout_url.unwrap());
    payment_ends(&mut app, OrderStatus::Paid);
    app
});

/// A kiosk's paid screen with an address typed into "E-mail me my tickets".
fn kiosk_paid_typing(w: u16, h: u16) -> App {
    let mut app = kiosk_checked_out(w, h, &order(OrderStatus::Pending).checkout_url.unwrap());
    payment_ends(&mut app, OrderStatus::Paid);
    for c in "sam@example".chars() {
        app.update(ch(c));
    }
    app
}

screens!(kiosk_paid_mail_refused, |w, h| {
    let mut app = kiosk_paid_typing(w, h);
    app.update(key(crossterm::event::KeyCode::Enter));
    app.update(Msg::from(Reply::TicketsEmailed {
        order_id: 7,
        result: Err(crate::api::ApiError::Refused {
            status: 422,
            code: crate::api::ErrorCode::Validation,
            message: "That is not an e-mail address.".into(),
            field: Some("email".into()),
            order_id: None,
        }),
    }));
    app
});

screens!(kiosk_paid_mail_sent, |w, h| {
    let mut app = kiosk_paid_typing(w, h);
    for c in ".com".chars() {
        app.update(ch(c));
    }
    app.update(key(crossterm::event::KeyCode::Enter));
    app.update(Msg::from(Reply::TicketsEmailed {
        order_id: 7,
        result: Ok(()),
    }));
    app
});

#[test]
fn a_kiosk_buyer_of_one_ticket_gets_the_large_code_and_the_mail_field_at_100x30() {
    let mut app = kiosk_checked_out(100, 30, &order(OrderStatus::Pending).checkout_url.unwrap());
    payment_ends(&mut app, OrderStatus::Paid);
    let order = app.payment.order.as_mut().unwrap();
    order.tickets.truncate(1);
    order.products.clear();
    let screen = render(&app);
    assert!(screen.contains("Thank you!"), "{screen}");
    assert!(screen.contains("E-mail me my tickets"), "{screen}");
    app.update(ch('x'));
    app.update(key(crossterm::event::KeyCode::Enter));
    app.update(Msg::from(Reply::TicketsEmailed {
        order_id: 7,
        result: Err(crate::api::ApiError::Refused {
            status: 422,
            code: crate::api::ErrorCode::Validation,
            message: "That is not an e-mail address.".into(),
            field: Some("email".into()),
            order_id: None,
        }),
    }));
    let screen = render(&app);
    assert!(screen.contains("Thank you!"), "{screen}");
    assert!(
        screen.contains("That is not an e-mail address."),
        "{screen}"
    );
}

#[test]
fn the_next_customer_sees_nothing_of_the_last_address() {
    let mut app = kiosk_paid_typing(100, 30);
    assert!(render(&app).contains("sam@example"));
    app.update(key(crossterm::event::KeyCode::Esc));
    assert_eq!(app.screen, Screen::Start);
    app.update(ch('x'));
    let screen = render(&app);
    assert!(!screen.contains("sam@"), "{screen}");
    assert!(
        app.kiosk
            .as_ref()
            .is_some_and(|k| k.ticket_mail.address.is_empty())
    );
}

screens!(orders_empty, |w, h| {
    let mut app = signed_in(w, h);
    app.update(ch('o'));
    app.update(Msg::from(Reply::OrdersLoaded(Ok(
        storefront_contract::OrderList { orders: vec![] },
    ))));
    app.update(Msg::from(Reply::TicketsLoaded(Ok(
        storefront_contract::TicketList { tickets: vec![] },
    ))));
    app
});

/// The QR code as drawn on the payment screen, read back from the rendered cells.
#[test]
fn the_payment_screens_qr_code_decodes_to_the_payment_address() {
    let app = paying(100, 32);
    let url = app.payment.checkout_url.clone().unwrap();
    assert_eq!(decode_screen(&app), url);
}

#[test]
fn a_kiosk_at_80x24_shows_a_code_that_scans() {
    // A sandbox page's address.
    let url = "http://127.0.0.1:38121/sumup-sandbox/pay/7kq2m9xd4t0ab";
    let app = kiosk_checked_out(80, 24, url);
    let screen = render(&app);
    assert!(!screen.contains("Make the window"), "{screen}");
    assert_eq!(decode_screen(&app), url);
}

#[test]
fn the_payment_pages_code_shows_at_80_by_24_and_reads_as_its_address() {
    let app = paying(80, 24);
    let url = app.payment.checkout_url.clone().unwrap();
    let screen = render(&app);
    assert!(!screen.contains("Make the window"), "{screen}");
    assert!(
        screen.contains("Open this address, or scan the code:"),
        "{screen}"
    );
    assert!(screen.contains(&url), "{screen}");
    assert_eq!(decode_screen(&app), url);
    // A larger window has room for the code's caption too.
    assert!(render(&paying(100, 30)).contains("Scan to pay"));
}

#[test]
fn a_window_too_small_for_the_payment_code_says_how_large_it_must_be() {
    let app = paying(76, 24);
    let screen = render(&app);
    // The address's line offers no code that is not there.
    assert!(screen.contains("Open this address:"), "{screen}");
    assert!(!screen.contains("scan the code"), "{screen}");
    // The size it names shows the code.
    let asked = screen
        .split("Make the window at least ")
        .nth(1)
        .and_then(|rest| rest.split(" to show").next())
        .expect("the window's size is asked for");
    let (w, h) = asked.split_once('×').unwrap();
    let (w, h) = (w.parse().unwrap(), h.parse().unwrap());
    let fits = render(&paying(w, h));
    assert!(!fits.contains("Make the window"), "{fits}");
    assert!(fits.contains("scan the code"), "{fits}");
    let short = render(&paying(w, h - 1));
    assert!(short.contains("Make the window"), "{short}");
    let narrow = render(&paying(w - 1, h));
    assert!(narrow.contains("Make the window"), "{narrow}");
}

/// Finds the QR code on the rendered screen and reads it as a camera would.
fn decode_screen(app: &App) -> String {
    let (width, height) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| super::view(app, frame)).unwrap();
    let buffer = terminal.backend().buffer();
    // The code's cells: dark on white.
    let qr_cell = |x: u16, y: u16| buffer[(x, y)].bg == ratatui::style::Color::White;
    let cells: Vec<(u16, u16)> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| qr_cell(x, y) && ["█", "▀", "▄"].contains(&buffer[(x, y)].symbol()))
        .collect();
    // Around it, the quiet zone (as much as the screen has).
    let left = cells.iter().map(|c| c.0).min().unwrap().saturating_sub(4);
    let right = (cells.iter().map(|c| c.0).max().unwrap() + 4).min(width - 1);
    let top = cells.iter().map(|c| c.1).min().unwrap().saturating_sub(2);
    let bottom = (cells.iter().map(|c| c.1).max().unwrap() + 2).min(height - 1);
    let lines: Vec<String> = (top..=bottom)
        .map(|y| {
            (left..=right)
                .map(|x| buffer[(x, y)].symbol().chars().next().unwrap_or(' '))
                .collect()
        })
        .collect();
    super::qr::tests::decode(&lines)
}

screens!(door_welcome, |w, h| door_after_scans(
    w,
    h,
    storefront_contract::CheckinOutcome::CheckedIn
));

screens!(door_already_in, |w, h| door_after_scans(
    w,
    h,
    storefront_contract::CheckinOutcome::AlreadyCheckedIn
));

screens!(door_wrong_event, |w, h| door_after_scans(
    w,
    h,
    storefront_contract::CheckinOutcome::WrongEvent
));

screens!(door_offline, |w, h| {
    let mut app = door(w, h);
    let effects = scan(&mut app, "7KQ2-M9XD");
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
    app.update(Msg::from(Reply::CheckedIn {
        scan,
        event_id,
        code,
        scanned_at,
        result: Err(crate::api::ApiError::Network {
            server: "http://127.0.0.1:8080".into(),
        }),
    }));
    crate::app::gallery::scan(&mut app, "7kq2m9xd");
    for c in "Q4RT".chars() {
        app.update(ch(c));
    }
    app
});

#[test]
fn the_cancel_question_names_the_keys_each_terminal_has() {
    let url = order(OrderStatus::Pending).checkout_url.unwrap();
    let mut kiosk = kiosk_checked_out(100, 30, &url);
    kiosk.payment.confirm_cancel = true;
    let screen = render(&kiosk);
    assert!(screen.contains("Enter cancel it   Esc keep it"), "{screen}");
    let effects = kiosk.update(key(crossterm::event::KeyCode::Esc));
    assert!(effects.is_empty());
    assert!(!kiosk.payment.confirm_cancel, "Esc keeps the order");
    kiosk.payment.confirm_cancel = true;
    let effects = kiosk.update(key(crossterm::event::KeyCode::Enter));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, crate::app::Effect::CancelOrder { .. })),
        "Enter cancels: {effects:?}"
    );

    let mut desk = paying(100, 30);
    desk.payment.confirm_cancel = true;
    let screen = render(&desk);
    assert!(
        screen.contains("y or Enter cancel it   n or Esc keep it"),
        "{screen}"
    );
}

#[test]
fn the_demo_scanner_offers_a_code_to_try() {
    let mut app = door(100, 30);
    assert!(!render(&app).contains("Try:"), "not outside the demo");
    app.demo_hint = Some(("door@example.com".into(), "door".into()));
    let screen = render(&app);
    assert!(screen.contains("Try: 7KQ2-M9XD"), "{screen}");
    // A code of the demo's paid orders first (the box office finds those too); one already
    // checked in is never offered.
    app.demo_codes = vec!["AAAA-1111".into(), "Q4RT-88ZC".into()];
    let screen = render(&app);
    assert!(screen.contains("Try: Q4RT-88ZC"), "{screen}");
}

screens!(box_office_sales, box_office);
screens!(box_office_event_page, box_office_event);
screens!(box_office_search_page, box_office_search);
screens!(box_office_order_page, box_office_order);
screens!(box_office_refund_dialog, box_office_refund);
screens!(box_office_guest_list, box_office_comp);

#[test]
fn the_box_office_order_page_lists_everything_the_order_holds() {
    // Tickets, products and bookings: what the total is made of.
    let screen = render(&box_office_order(100, 30));
    for bought in [
        "K7Q11-M9XD",
        "K7Q12-M9XD",
        "1 × Old Granary tote bag · £8.50",
        "Pottery taster workshop · Sat 8 Mar 10:00 · £25.00",
    ] {
        assert!(screen.contains(bought), "{bought}\n{screen}");
    }
}

#[test]
fn the_box_office_names_one_table_of_keys_per_screen() {
    // (The search takes `?` as text.)
    for app in [
        box_office(100, 30),
        box_office_event(100, 30),
        box_office_order(100, 30),
    ] {
        let mut app = app;
        app.update(ch('?'));
        let rendered = render(&app);
        assert_eq!(
            rendered.matches(" Esc  ").count(),
            usize::from(app.screen != Screen::Office),
            "{:?}\n{rendered}",
            app.screen
        );
    }
}
