//! The model driven by messages alone, and fixtures shared with the view's snapshot tests.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use storefront_contract::*;

pub use super::gallery::*;
use super::*;

pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

/// A Ctrl chord, as the terminal reports it.
pub fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn types(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(ch(c));
    }
}

#[test]
fn sign_in_submits_the_form_and_masks_nothing_it_sends() {
    let mut app = app(100, 30);
    assert_eq!(app.screen, Screen::SignIn);
    app.update(key(KeyCode::Enter));
    assert_eq!(
        app.signin.error.as_deref(),
        Some("Enter your email address.")
    );
    types(&mut app, "demo@example.com");
    app.update(key(KeyCode::Tab));
    types(&mut app, "qdemo");
    app.update(key(KeyCode::Backspace));
    let effects = app.update(key(KeyCode::Enter));
    // Letters typed into a field are text, not commands ("q" did not quit).
    assert!(!app.quit);
    assert_eq!(
        effects,
        [Effect::Login {
            email: "demo@example.com".into(),
            password: "qdem".into()
        }]
    );
    assert!(app.busy());
}

fn refused(
    status: u16,
    code: crate::api::ErrorCode,
    message: &str,
    field: Option<&str>,
) -> crate::api::ApiError {
    crate::api::ApiError::Refused {
        status,
        code,
        message: message.into(),
        field: field.map(Into::into),
        order_id: None,
    }
}

/// The server's answer to a purchase of `quantity` tickets at 10.00 each, the cart holding
/// just them.
fn bought(quantity: i64) -> Msg {
    Msg::from(Reply::Bought {
        quantity,
        result: Ok(storefront_contract::BuyTicketsResponse {
            tickets: Vec::new(),
            cart: summary(u32::try_from(quantity).unwrap(), quantity * 1000),
            notice: storefront_contract::SOLD_OUT_NOTICE.into(),
        }),
    })
}

fn new_user(email: &str) -> LoginResponse {
    LoginResponse {
        token: "new".into(),
        user: User {
            id: 9,
            email: email.into(),
            name: "Sam Reader".into(),
            role: storefront_contract::Role::Customer,
        },
        expires_at: at("2031-04-01T00:00:00Z"),
    }
}

#[test]
fn a_new_account_is_asked_for_field_by_field_and_signs_in() {
    let mut app = app(100, 30);
    // Plain letters are the e-mail's; the chord opens the form.
    app.update(ch('n'));
    assert_eq!(app.signin.email, "n");
    app.update(ctrl('n'));
    assert_eq!(app.signin.mode, SignInMode::SignUp);
    app.signin.email.clear();
    assert_eq!(app.signin.focus, Field::Email);
    app.update(key(KeyCode::Enter));
    assert_eq!(
        app.signin.error.as_deref(),
        Some("Enter your e-mail address.")
    );
    types(&mut app, " sam@example.com ");
    app.update(key(KeyCode::Tab));
    assert_eq!(app.signin.focus, Field::Name);
    types(&mut app, "Sam Reader");
    app.update(key(KeyCode::Down));
    types(&mut app, "correct horse");
    app.update(key(KeyCode::Tab));
    types(&mut app, "correct hors");
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(
        app.signin.error.as_deref(),
        Some("The two passwords differ: type the new one again.")
    );
    assert_eq!(app.signin.focus, Field::Repeat);
    assert!(app.signin.repeat.is_empty());
    // Up goes back a field.
    app.update(key(KeyCode::Up));
    assert_eq!(app.signin.focus, Field::Password);
    app.update(key(KeyCode::Down));
    types(&mut app, "correct horse");
    let effects = app.update(key(KeyCode::Enter));
    assert_eq!(
        effects,
        [Effect::SignUp(storefront_contract::SignupRequest {
            email: "sam@example.com".into(),
            name: "Sam Reader".into(),
            password: "correct horse".into(),
        })]
    );
    assert!(app.busy());
    let effects = app.update(Msg::from(Reply::SignedUp(Ok(new_user("sam@example.com")))));
    assert_eq!(app.screen, Screen::Events);
    assert!(effects.contains(&Effect::SaveToken(Some("new".into()))));
    assert_eq!(app.signin.mode, SignInMode::SignIn);
    assert!(app.signin.password.is_empty() && app.signin.repeat.is_empty());
}

#[test]
fn a_refused_account_says_why_beside_the_field() {
    let mut app = app(100, 30);
    app.update(ctrl('n'));
    app.signin.email = "demo@example.com".into();
    app.signin.name = "Dana".into();
    app.signin.password = "password1234".into();
    app.signin.repeat = "password1234".into();
    app.update(key(KeyCode::Enter));
    let weak = "That password is one of the most common: choose another.";
    app.update(Msg::from(Reply::SignedUp(Err(refused(
        422,
        crate::api::ErrorCode::Validation,
        weak,
        Some("password"),
    )))));
    assert_eq!(app.signin.error.as_deref(), Some(weak));
    assert_eq!(app.signin.focus, Field::Password);
    assert!(app.signin.password.is_empty() && app.signin.repeat.is_empty());
    assert_eq!(app.signin.email, "demo@example.com", "nothing else is lost");
    app.signin.password = "a long phrase".into();
    app.signin.repeat = "a long phrase".into();
    app.update(key(KeyCode::Enter));
    app.update(Msg::from(Reply::SignedUp(Err(refused(
        409,
        crate::api::ErrorCode::Conflict,
        "An account with this e-mail exists: sign in, or reset its password.",
        None,
    )))));
    assert_eq!(app.signin.focus, Field::Email);
    app.update(Msg::from(Reply::SignedUp(Err(refused(
        429,
        crate::api::ErrorCode::RateLimited,
        "Too many requests.",
        None,
    )))));
    assert_eq!(
        app.signin.error.as_deref(),
        Some("Too many attempts. Wait a minute, then try again.")
    );
    // Esc goes back to signing in with the address kept and no secret.
    app.update(key(KeyCode::Esc));
    assert_eq!(app.signin.mode, SignInMode::SignIn);
    assert_eq!(app.screen, Screen::SignIn);
    assert_eq!(app.signin.email, "demo@example.com");
    assert!(app.signin.password.is_empty());
    assert_eq!(app.signin.focus, Field::Password);
}

#[test]
fn a_forgotten_password_is_changed_by_the_code_from_the_mail() {
    let mut app = app(100, 30);
    app.update(ctrl('f'));
    assert_eq!(app.signin.mode, SignInMode::ResetAsk);
    types(&mut app, "sam@example.com");
    let effects = app.update(key(KeyCode::Enter));
    assert_eq!(
        effects,
        [Effect::AskReset {
            email: "sam@example.com".into()
        }]
    );
    app.update(Msg::from(Reply::ResetAsked(Ok(()))));
    assert_eq!(app.signin.mode, SignInMode::ResetConfirm);
    assert_eq!(app.signin.focus, Field::Code);
    assert!(
        app.signin
            .notice
            .as_deref()
            .is_some_and(|n| n.starts_with("If sam@example.com has an account")),
        "whether it has one is not said"
    );
    types(&mut app, "WRONG123");
    app.update(key(KeyCode::Tab));
    types(&mut app, "new password!");
    app.update(key(KeyCode::Tab));
    types(&mut app, "new password!");
    let effects = app.update(key(KeyCode::Enter));
    assert_eq!(
        effects,
        [Effect::ConfirmReset(storefront_contract::ResetConfirm {
            email: "sam@example.com".into(),
            code: "WRONG123".into(),
            password: "new password!".into(),
        })]
    );
    app.update(Msg::from(Reply::ResetDone(Err(refused(
        422,
        crate::api::ErrorCode::Validation,
        "That is not the code (4 tries left).",
        Some("code"),
    )))));
    assert_eq!(app.signin.focus, Field::Code);
    assert_eq!(
        app.signin.error.as_deref(),
        Some("That is not the code (4 tries left).")
    );
    assert_eq!(
        app.signin.password, "new password!",
        "kept for the right code"
    );
    app.signin.code = "K7Q2M9XD".into();
    app.update(key(KeyCode::Enter));
    app.update(Msg::from(Reply::ResetDone(Ok(()))));
    assert_eq!(app.signin.mode, SignInMode::SignIn);
    assert_eq!(app.signin.email, "sam@example.com");
    assert!(app.signin.password.is_empty() && app.signin.code.is_empty());
    assert_eq!(app.signin.focus, Field::Password);
    assert_eq!(
        app.signin.notice.as_deref(),
        Some("Your password is changed: sign in with the new one.")
    );
}

#[test]
fn the_kiosk_the_door_and_the_box_office_offer_no_accounts() {
    let mut door = door(100, 30);
    door.update(ctrl('n'));
    door.update(ctrl('f'));
    assert_eq!(door.signin.mode, SignInMode::SignIn);
    let mut office = app(100, 30);
    office.settings.box_office = true;
    office.update(ctrl('n'));
    assert_eq!(office.signin.mode, SignInMode::SignIn);
    let settings = crate::config::Settings {
        kiosk: true,
        remember_session: false,
        ..crate::config::Settings::default()
    };
    let (mut kiosk, _) = App::new(settings, None, tokio::time::Instant::now());
    kiosk.size = (100, 30);
    kiosk.update(ch('x'));
    kiosk.screen = Screen::SignIn;
    kiosk.update(ctrl('n'));
    kiosk.update(ctrl('f'));
    assert_eq!(kiosk.signin.mode, SignInMode::SignIn);
}

#[test]
fn a_new_account_in_the_demo_does_not_start_from_the_demos_address() {
    let mut demo = app(100, 30);
    demo.demo_hint = Some(("demo@example.com".into(), "demo".into()));
    demo.signin.email = "demo@example.com".into();
    demo.update(ctrl('n'));
    assert_eq!(demo.signin.mode, SignInMode::SignUp);
    assert_eq!(demo.signin.email.to_string(), "");
    // An address the user typed stays.
    let mut typed = app(100, 30);
    typed.demo_hint = Some(("demo@example.com".into(), "demo".into()));
    typed.signin.email = "zoe@example.com".into();
    typed.update(ctrl('n'));
    assert_eq!(typed.signin.email.to_string(), "zoe@example.com");
}

#[test]
fn a_manager_signed_in_at_the_shop_is_told_where_the_box_office_is() {
    let said = |role| {
        let mut app = app(100, 30);
        let mut login = new_user("someone@example.com");
        login.user.role = role;
        app.update(Msg::from(Reply::SignedIn(Ok(login))));
        app.status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        said(storefront_contract::Role::Manager),
        "Signed in as Sam Reader. The box office: storefront --box-office"
    );
    assert_eq!(
        said(storefront_contract::Role::Customer),
        "Signed in as Sam Reader."
    );
}

#[test]
fn a_wrong_password_is_said_inline_and_cleared() {
    let mut app = app(100, 30);
    app.signin.password = "nope".into();
    app.update(Msg::from(Reply::SignedIn(Err(
        crate::api::ApiError::Refused {
            status: 401,
            code: crate::api::ErrorCode::InvalidCredentials,
            message: "That email and password do not match an account.".into(),
            field: None,
            order_id: None,
        },
    ))));
    assert_eq!(
        app.signin.error.as_deref(),
        Some("That email and password do not match. Check them and try again.")
    );
    assert!(app.signin.password.is_empty());
    assert_eq!(app.signin.focus, Field::Password);
}

#[test]
fn a_busy_server_says_so_on_sign_in() {
    let mut app = app(100, 30);
    app.signin.password = "demo".into();
    app.update(Msg::from(Reply::SignedIn(Err(refused(
        503,
        crate::api::ErrorCode::RateLimited,
        "Many people are signing in at once. Try again in a moment.",
        None,
    )))));
    assert_eq!(
        app.signin.error.as_deref(),
        Some("Many people are signing in at once. Try again in a moment.")
    );
}

#[test]
fn the_server_out_of_reach_is_named_on_sign_in() {
    let said = |server: &str| {
        let mut app = app(100, 30);
        app.update(Msg::from(Reply::SignedIn(Err(
            crate::api::ApiError::Network {
                server: server.into(),
            },
        ))));
        app.signin.error.unwrap()
    };
    // Elsewhere: the network or the address is for the user to check.
    assert_eq!(
        said("https://shop.example"),
        "Cannot reach the server at https://shop.example."
    );
    // On this machine: most likely not started, and how to.
    for here in [
        "http://127.0.0.1:9",
        "http://localhost:8080",
        "http://[::1]:8080",
    ] {
        assert_eq!(
            said(here),
            format!(
                "Cannot reach the server at {here}. Is it running? `storefront serve` starts \
                 one; `storefront demo` runs the whole shop here."
            )
        );
    }
}

#[test]
fn the_filter_waits_for_a_pause_in_typing() {
    let mut app = signed_in(100, 30);
    let start = app.now;
    app.update(ch('/'));
    types(&mut app, "jazz");
    assert_eq!(app.events.filter, "jazz");
    assert!(
        app.update(Msg::Tick(start + std::time::Duration::from_millis(100)))
            .is_empty()
    );
    let effects = app.update(Msg::Tick(start + std::time::Duration::from_millis(400)));
    assert!(
        matches!(&effects[..], [Effect::LoadEvents { query: Some(q), append: false, .. }] if q == "jazz")
    );
    // Esc clears it and loads everything again.
    let effects = app.update(key(KeyCode::Esc));
    assert!(matches!(
        &effects[..],
        [Effect::LoadEvents { query: None, .. }]
    ));
    assert!(!app.events.editing);
}

#[test]
fn stale_listings_are_ignored() {
    let mut app = signed_in(100, 30);
    let old = app.events_generation();
    app.update(ch('r'));
    app.update(Msg::from(Reply::EventsLoaded {
        generation: old,
        append: false,
        result: Ok(EventList {
            events: vec![],
            next_cursor: None,
        }),
    }));
    assert_eq!(app.events.events.len(), 5);
}

#[test]
fn the_list_refreshes_every_thirty_seconds_while_shown() {
    let mut app = signed_in(100, 30);
    let start = app.now;
    assert!(
        app.update(Msg::Tick(start + std::time::Duration::from_secs(29)))
            .is_empty()
    );
    let effects = app.update(Msg::Tick(start + std::time::Duration::from_secs(31)));
    assert!(matches!(
        &effects[..],
        [Effect::LoadEvents { append: false, .. }]
    ));
    app.update(Msg::from(Reply::EventsLoaded {
        generation: app.events_generation(),
        append: false,
        result: Ok(EventList {
            events: events(),
            next_cursor: None,
        }),
    }));
    app.screen = Screen::Cart;
    assert!(
        app.update(Msg::Tick(start + std::time::Duration::from_secs(90)))
            .is_empty()
    );
}

#[test]
fn the_next_page_loads_near_the_end() {
    let mut app = signed_in(100, 30);
    app.events.next_cursor = Some("more".into());
    let effects = app.update(key(KeyCode::Down));
    assert!(
        matches!(&effects[..], [Effect::LoadEvents { cursor: Some(c), append: true, .. }] if c == "more")
    );
}

#[test]
fn the_quantity_stops_at_what_the_per_order_limit_still_allows() {
    let mut app = signed_in(100, 30);
    app.open_event(2);
    let mut held = detail();
    held.in_my_cart = 4;
    app.update(Msg::from(Reply::EventLoaded(Ok(held.clone()))));
    for _ in 0..5 {
        app.update(ch('+'));
    }
    assert_eq!(app.event.quantity, 2, "6 per order, 4 already in the cart");
    let why = app.status.as_ref().unwrap().text.clone();
    assert_eq!(why, "Up to 6 per order: 2 more can be added.");
    held.in_my_cart = 6;
    app.update(Msg::from(Reply::EventLoaded(Ok(held))));
    assert_eq!(app.event.quantity, 1);
    let effects = app.update(ch('a'));
    assert!(effects.is_empty(), "nothing is sent past the limit");
    assert!(
        app.status
            .as_ref()
            .unwrap()
            .text
            .contains("already holds 6")
    );
}

#[test]
fn after_a_purchase_the_quantity_is_what_the_limit_still_allows() {
    let mut app = signed_in(100, 30);
    app.open_event(2);
    app.update(Msg::from(Reply::EventLoaded(Ok(detail()))));
    for _ in 0..4 {
        app.update(ch('+'));
    }
    assert_eq!(app.event.quantity, 5);
    app.update(ch('a'));
    app.update(bought(5));
    assert_eq!(
        app.event.quantity, 1,
        "6 per order and 5 in the cart: 1 more, not 5 again"
    );
    let effects = app.update(ch('a'));
    assert!(
        matches!(&effects[..], [Effect::Buy { request, .. }] if request.quantity == 1),
        "{effects:?}"
    );
}

#[test]
fn quantity_is_bounded_and_types_cycle() {
    let mut app = signed_in(100, 30);
    app.update(key(KeyCode::Down));
    let effects = app.update(key(KeyCode::Enter));
    assert!(matches!(
        &effects[..],
        [Effect::LoadEvent {
            id: 2,
            token: Some(_)
        }]
    ));
    app.update(Msg::from(Reply::EventLoaded(Ok(detail()))));
    for _ in 0..10 {
        app.update(ch('+'));
    }
    assert_eq!(app.event.quantity, 6);
    for _ in 0..10 {
        app.update(ch('-'));
    }
    assert_eq!(app.event.quantity, 1);
    app.update(key(KeyCode::Right));
    assert_eq!(app.event.selected_type().unwrap().name, "Standard");
    app.update(key(KeyCode::Right));
    assert_eq!(app.event.selected_type().unwrap().name, "Concession");
    app.update(key(KeyCode::Left));
    assert_eq!(app.event.selected_type().unwrap().name, "Standard");
}

#[test]
fn a_lost_answer_to_a_purchase_retries_with_the_same_key() {
    let mut app = signed_in(100, 30);
    app.open_event(2);
    app.update(Msg::from(Reply::EventLoaded(Ok(detail()))));
    let first = app.update(ch('a'));
    let Effect::Buy { key: first_key, .. } = &first[0] else {
        panic!("{first:?}")
    };
    app.update(Msg::from(Reply::Bought {
        quantity: 1,
        result: Err(crate::api::ApiError::Network {
            server: "http://x".into(),
        }),
    }));
    let again = app.update(ch('a'));
    let Effect::Buy {
        key: second_key, ..
    } = &again[0]
    else {
        panic!("{again:?}")
    };
    assert_eq!(first_key, second_key);
    // Another purchase gets another key.
    app.update(Msg::from(Reply::Bought {
        quantity: 1,
        result: Err(crate::api::ApiError::Network {
            server: "http://x".into(),
        }),
    }));
    app.update(ch('+'));
    let other = app.update(ch('a'));
    let Effect::Buy { key: third_key, .. } = &other[0] else {
        panic!("{other:?}")
    };
    assert_ne!(first_key, third_key);
}

#[test]
fn signed_out_the_event_sends_you_to_sign_in_and_back() {
    let mut app = app(100, 30);
    app.update(key(KeyCode::Esc));
    app.open_event(2);
    app.update(Msg::from(Reply::EventLoaded(Ok(detail()))));
    assert!(app.update(ch('a')).is_empty());
    assert_eq!(app.screen, Screen::SignIn);
    assert_eq!(app.signin.error.as_deref(), Some("Sign in to buy tickets"));
    let effects = app.update(Msg::from(Reply::SignedIn(Ok(LoginResponse {
        token: "t".into(),
        user: User {
            id: 1,
            email: "a@b.c".into(),
            name: "Ann".into(),
            role: storefront_contract::Role::Customer,
        },
        expires_at: at("2031-04-01T00:00:00Z"),
    }))));
    assert_eq!(app.screen, Screen::Event);
    assert!(effects.contains(&Effect::LoadEvent {
        id: 2,
        token: Some("t".into())
    }));
    assert!(effects.contains(&Effect::SaveToken(Some("t".into()))));
}

#[test]
fn an_account_the_venue_disabled_is_signed_out_with_the_reason() {
    let mut app = signed_in(100, 30);
    app.update(ch('c'));
    let reason = "This account has been disabled by the venue. Ask the box office if you need it.";
    let effects = app.update(Msg::from(Reply::CartLoaded(Err(
        crate::api::ApiError::SessionEnded(Some(reason.into())),
    ))));
    assert_eq!(effects, [Effect::SaveToken(None)]);
    assert_eq!(app.screen, Screen::SignIn);
    assert!(app.session.is_none());
    assert_eq!(app.signin.error.as_deref(), Some(reason));
}

#[test]
fn a_dead_session_returns_to_sign_in_and_then_to_the_same_screen() {
    let mut app = signed_in(100, 30);
    app.update(ch('c'));
    assert_eq!(app.screen, Screen::Cart);
    let effects = app.update(Msg::from(Reply::CartLoaded(Err(
        crate::api::ApiError::SessionEnded(None),
    ))));
    assert_eq!(effects, [Effect::SaveToken(None)]);
    assert_eq!(app.screen, Screen::SignIn);
    assert_eq!(
        app.signin.error.as_deref(),
        Some("Your session ended. Sign in again.")
    );
    app.update(Msg::from(Reply::SignedIn(Ok(LoginResponse {
        token: "t2".into(),
        user: User {
            id: 1,
            email: "demo@example.com".into(),
            name: "Dana Demo".into(),
            role: storefront_contract::Role::Customer,
        },
        expires_at: at("2031-04-01T00:00:00Z"),
    }))));
    assert_eq!(app.screen, Screen::Cart);
}

#[test]
fn a_lost_connection_keeps_the_screen_and_retries_with_backoff() {
    let mut app = signed_in(100, 30);
    app.update(ch('r'));
    let effects = app.update(Msg::from(Reply::EventsLoaded {
        generation: app.events_generation(),
        append: false,
        result: Err(crate::api::ApiError::Network {
            server: "http://shop".into(),
        }),
    }));
    let [Effect::Later { after, .. }] = &effects[..] else {
        panic!("{effects:?}")
    };
    assert_eq!(*after, std::time::Duration::from_secs(1));
    assert_eq!(app.events.events.len(), 5, "what is on screen stays");
    assert_eq!(app.status.as_ref().unwrap().kind, StatusKind::Connection);
    let effects = app.update(Msg::from(Reply::EventsLoaded {
        generation: app.events_generation(),
        append: false,
        result: Err(crate::api::ApiError::Network {
            server: "http://shop".into(),
        }),
    }));
    let [Effect::Later { after, .. }] = &effects[..] else {
        panic!("{effects:?}")
    };
    assert_eq!(*after, std::time::Duration::from_secs(2));
    app.update(Msg::from(Reply::EventsLoaded {
        generation: app.events_generation(),
        append: false,
        result: Ok(EventList {
            events: events(),
            next_cursor: None,
        }),
    }));
    assert!(app.status.is_none());
}

#[test]
fn cart_rows_group_tickets_by_event_and_type() {
    let rows = cart_rows(&cart());
    let tickets: Vec<_> = rows
        .iter()
        .filter_map(|r| match r {
            CartRow::Tickets {
                event_name, ids, ..
            } => Some((event_name.as_str(), ids.len())),
            _ => None,
        })
        .collect();
    assert_eq!(
        tickets,
        [("Wren Duo: Winter Songs", 2), ("Community Ceilidh", 1)]
    );
}

#[test]
fn cart_keys_act_on_the_selected_line() {
    let mut app = signed_in(100, 30);
    app.screen = Screen::Cart;
    app.update(Msg::from(Reply::CartLoaded(Ok(cart()))));
    // The tote bag line: + sets 2.
    let effects = app.update(ch('+'));
    assert!(matches!(
        &effects[..],
        [Effect::ChangeCart {
            change: CartChange::SetQuantity {
                line: 1,
                quantity: 2
            },
            ..
        }]
    ));
    app.update(Msg::from(Reply::CartChanged(Ok(()))));
    app.update(Msg::from(Reply::CartLoaded(Ok(cart()))));
    // The Wren Duo tickets: - removes the newest one, Delete removes both.
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    let effects = app.update(ch('-'));
    assert!(
        matches!(&effects[..], [Effect::ChangeCart { change: CartChange::RemoveTickets { ids }, .. }] if ids == &[12])
    );
    app.update(Msg::from(Reply::CartChanged(Ok(()))));
    let effects = app.update(key(KeyCode::Delete));
    assert!(
        matches!(&effects[..], [Effect::ChangeCart { change: CartChange::RemoveTickets { ids }, .. }] if ids == &[11, 12])
    );
    app.update(Msg::from(Reply::CartChanged(Ok(()))));
    // p checks out this line's venue; P the whole cart.
    let effects = app.update(ch('p'));
    assert!(matches!(&effects[..], [Effect::Checkout { page: Some(p), .. }] if p == "old-granary"));
    assert_eq!(app.screen, Screen::Payment);
}

#[test]
fn quit_keys_quit_and_text_fields_do_not() {
    let mut app = signed_in(100, 30);
    app.update(ch('/'));
    app.update(ch('q'));
    assert!(!app.quit);
    app.update(key(KeyCode::Enter));
    app.update(ch('q'));
    assert!(app.quit);
    let mut app = signed_in(100, 30);
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(app.quit);
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut app = signed_in(100, 30);
    app.update(ch('?'));
    assert!(app.help);
    app.update(ch('q'));
    assert!(!app.help && !app.quit);
}

#[test]
fn sign_out_forgets_everything_of_the_user() {
    let mut app = signed_in(100, 30);
    app.cart.cart = Some(cart());
    let effects = app.update(ch('L'));
    assert!(effects.contains(&Effect::Logout {
        token: "token".into()
    }));
    assert!(effects.contains(&Effect::SaveToken(None)));
    assert!(app.session.is_none() && app.summary.is_none() && app.cart.cart.is_none());
    assert_eq!(app.screen, Screen::SignIn);
}

#[test]
fn waiting_for_payment_polls_until_paid_and_reconnects() {
    let mut app = signed_in(100, 30);
    app.cart.cart = Some(cart());
    app.screen = Screen::Cart;
    app.update(ch('P'));
    let effects = app.update(Msg::from(Reply::CheckedOut(Ok(CheckoutResponse {
        order: order(OrderStatus::Pending),
        checkout_url: Some("http://pay/7".into()),
        reader: None,
    }))));
    assert!(effects.contains(&Effect::OpenBrowser {
        command: String::new(),
        url: "http://pay/7".into()
    }));
    let generation = app.payment.generation;
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::WaitForOrder {
            order_id: 7,
            wait_secs: 25,
            ..
        }
    )));
    // The network drops: reconnect after a pause, the order kept.
    let effects = app.update(Msg::from(Reply::OrderUpdate {
        generation,
        result: Err(crate::api::ApiError::Network {
            server: "http://x".into(),
        }),
    }));
    assert_eq!(app.payment.phase, PaymentPhase::Reconnecting);
    assert!(matches!(&effects[..], [Effect::Later { .. }]));
    app.update(Msg::from(Reply::OrderUpdate {
        generation,
        result: Ok(order(OrderStatus::Paid)),
    }));
    assert_eq!(app.payment.phase, PaymentPhase::Paid);
    // Replies for a wait that was left behind change nothing.
    app.update(Msg::from(Reply::OrderUpdate {
        generation: generation - 1,
        result: Ok(order(OrderStatus::Pending)),
    }));
    assert_eq!(app.payment.phase, PaymentPhase::Paid);
}

#[test]
fn waiting_stops_after_the_poll_timeout_and_can_go_on() {
    let mut app = signed_in(100, 30);
    app.settings.poll_timeout = std::time::Duration::from_secs(60);
    app.cart.cart = Some(cart());
    app.update(ch('c'));
    app.update(ch('P'));
    app.update(Msg::from(Reply::CheckedOut(Ok(CheckoutResponse {
        order: order(OrderStatus::Pending),
        checkout_url: Some("http://pay/7".into()),
        reader: None,
    }))));
    let later = app.now + std::time::Duration::from_secs(61);
    app.update(Msg::Tick(later));
    let effects = app.update(Msg::from(Reply::OrderUpdate {
        generation: app.payment.generation,
        result: Ok(order(OrderStatus::Pending)),
    }));
    assert!(effects.is_empty());
    assert_eq!(app.payment.phase, PaymentPhase::TimedOut);
    let effects = app.update(key(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::WaitForOrder { .. }]));
    assert_eq!(app.payment.phase, PaymentPhase::Waiting);
}

#[test]
fn a_provider_error_keeps_the_order_and_r_pays_again() {
    let mut app = signed_in(100, 30);
    app.cart.cart = Some(cart());
    app.update(ch('c'));
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
    assert!(matches!(app.payment.phase, PaymentPhase::ProviderError(_)));
    let effects = app.update(ch('r'));
    assert!(matches!(&effects[..], [Effect::Pay { order_id: 7, .. }]));
}

#[test]
fn cancelling_asks_first() {
    let mut app = signed_in(100, 30);
    app.cart.cart = Some(cart());
    app.update(ch('c'));
    app.update(ch('P'));
    app.update(Msg::from(Reply::CheckedOut(Ok(CheckoutResponse {
        order: order(OrderStatus::Pending),
        checkout_url: Some("http://pay/7".into()),
        reader: None,
    }))));
    assert!(app.update(ch('x')).is_empty());
    assert!(app.payment.confirm_cancel);
    assert!(app.update(ch('n')).is_empty());
    app.update(ch('x'));
    let effects = app.update(ch('y'));
    assert!(matches!(
        &effects[..],
        [Effect::CancelOrder { order_id: 7, .. }]
    ));
}

#[test]
fn effects_compare_exactly_each_action_with_a_key_of_its_own() {
    let mut app = signed_in(100, 30);
    app.screen = Screen::Cart;
    app.update(Msg::from(Reply::CartLoaded(Ok(cart()))));
    assert_eq!(
        app.update(ch('P')),
        vec![Effect::Checkout {
            token: "token".into(),
            page: None,
            key: ActionKey(1),
        }]
    );
    app.update(Msg::from(Reply::CheckedOut(Err(ApiError::Refused {
        status: 502,
        code: crate::api::ErrorCode::PaymentProviderError,
        message: "SumUp is down.".into(),
        field: None,
        order_id: Some(7),
    }))));
    // Paying again is a new action: a new key, so it is not taken for a replay.
    assert_eq!(
        app.update(ch('r')),
        vec![Effect::Pay {
            token: "token".into(),
            order_id: 7,
            with: storefront_contract::PayRequest::default(),
            key: ActionKey(2),
        }]
    );
}

#[test]
fn the_shop_adds_a_product_with_its_quantity() {
    let mut app = signed_in(100, 30);
    assert_eq!(
        app.update(ch('s')),
        vec![Effect::LoadProducts {
            token: "token".into(),
            page: None,
        }]
    );
    assert_eq!(app.screen, Screen::Shop);
    app.update(Msg::from(Reply::ProductsLoaded(Ok(products()))));
    // Opened again, it is not fetched again.
    app.update(key(KeyCode::Esc));
    assert!(app.update(ch('s')).is_empty());
    // Riverside Jazz Club comes first: Riverside membership; then the Granary's.
    app.update(ch('j'));
    assert_eq!(app.shop.selected().unwrap().title, "Old Granary tote bag");
    app.update(ch('+'));
    app.update(ch('+'));
    assert_eq!(
        app.update(ch('a')),
        vec![Effect::AddProduct {
            token: "token".into(),
            product_id: 1,
            quantity: 3,
        }]
    );
    app.update(Msg::from(Reply::ProductAdded {
        product_id: 1,
        quantity: 3,
        result: Ok(summary(8, 8500)),
    }));
    assert_eq!(app.summary, Some(summary(8, 8500)));
    assert_eq!(app.shop.quantity, 1);
    let said = &app.status.as_ref().unwrap().text;
    assert_eq!(said, "3 × Old Granary tote bag added to your cart.");
    // Moving to another product starts again at one.
    app.update(ch('+'));
    app.update(ch('j'));
    assert_eq!(app.shop.quantity, 1);
}

#[test]
fn a_click_in_the_shop_chooses_the_product_under_it() {
    let mut app = shop_screen(100, 30);
    let click = |row: u16| {
        Msg::Mouse(crossterm::event::MouseEvent {
            kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
            column: 10,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // Rows from the body's second line: Riverside heading, membership, Granary heading, …
    let top = crate::app::layout::list_top(app.size, crate::app::layout::SHOP_LIST_TOP);
    app.update(click(top + 1));
    assert_eq!(app.shop.selected().unwrap().title, "Riverside membership");
    assert_eq!(app.shop.quantity, 1, "another product starts at one");
    // A heading chooses nothing.
    app.update(click(top + 2));
    assert_eq!(app.shop.selected().unwrap().title, "Riverside membership");
    app.update(click(top + 4));
    assert_eq!(app.shop.selected().unwrap().title, "Pottery workshop");
}

#[test]
fn the_shop_is_for_those_signed_in_and_filters_as_typed() {
    let (mut app, _) = App::new(crate::config::Settings::default(), None, Instant::now());
    // Browsing signed out: the shop is for those signed in.
    app.update(key(KeyCode::Esc));
    assert!(app.update(ch('s')).is_empty());
    assert_eq!(app.screen, Screen::SignIn);
    assert_eq!(app.signin.return_to, Some(Screen::Shop));
    let mut app = signed_in(100, 30);
    app.update(ch('s'));
    app.update(Msg::from(Reply::ProductsLoaded(Ok(products()))));
    app.update(ch('/'));
    for c in "voucher".chars() {
        app.update(ch(c));
    }
    assert_eq!(app.shop.visible().len(), 1);
    assert!(app.keys().contains(&("Enter", "keep filter")));
    app.update(key(KeyCode::Enter));
    assert!(matches!(
        &app.update(ch('a'))[..],
        [Effect::AddProduct { product_id: 4, .. }]
    ));
}

#[test]
fn a_typo_in_the_email_is_mended_where_it_is() {
    let (mut app, _) = App::new(crate::config::Settings::default(), None, Instant::now());
    for c in "dem@example.com".chars() {
        app.update(ch(c));
    }
    app.update(key(KeyCode::Home));
    for _ in 0..3 {
        app.update(key(KeyCode::Right));
    }
    app.update(ch('o'));
    assert_eq!(app.signin.email, "demo@example.com");
    app.update(key(KeyCode::End));
    app.update(key(KeyCode::Backspace));
    assert_eq!(app.signin.email, "demo@example.co");
}

#[test]
fn information_fades_and_errors_stay() {
    let mut app = signed_in(100, 30);
    let start = app.now;
    app.set_status(StatusKind::Info, "2 tickets added to your cart.");
    app.update(Msg::Tick(start + std::time::Duration::from_secs(4)));
    assert!(app.status.is_some());
    app.update(Msg::Tick(start + crate::app::STATUS_LIFETIME));
    assert!(app.status.is_none(), "information fades");
    app.set_status(StatusKind::Error, "That event is no longer on sale.");
    app.update(Msg::Tick(start + std::time::Duration::from_secs(60)));
    assert!(app.status.is_some(), "an error stays until the next key");
    app.update(key(KeyCode::Down));
    assert!(app.status.is_none());
}

#[test]
fn a_removed_cart_line_can_be_put_back_while_on_the_cart() {
    let mut app = full_cart(100, 30);
    assert!(!app.keys().iter().any(|(key, _)| *key == "u"));
    // A booking taken out is cancelled for good; a product line or tickets come back.
    while matches!(
        app.cart.selected_row(),
        Some(crate::app::CartRow::Booking(_))
    ) {
        app.update(key(KeyCode::Down));
    }
    let selected = app.cart.selected_row();
    let effects = app.update(key(KeyCode::Delete));
    assert!(
        matches!(effects.as_slice(), [Effect::ChangeCart { .. }]),
        "{effects:?}"
    );
    let what = app.cart.removed.clone().expect("remembered").what;
    assert!(app.status.as_ref().unwrap().text.contains("u puts it back"));
    assert!(app.keys().contains(&("u", "undo removal")));
    app.update(Msg::from(Reply::CartChanged(Ok(()))));
    let effects = app.update(ch('u'));
    let change = match effects.as_slice() {
        [Effect::ChangeCart { change, .. }] => change.clone(),
        other => panic!("no undo sent: {other:?}"),
    };
    match (selected, change) {
        (
            Some(crate::app::CartRow::Product(line)),
            CartChange::AddProduct {
                product_id,
                quantity,
            },
        ) => {
            assert_eq!(
                (product_id, quantity),
                (line.product_id, i64::from(line.quantity))
            );
        }
        (
            Some(crate::app::CartRow::Tickets {
                ids, event_id: e, ..
            }),
            CartChange::AddTickets {
                event_id, request, ..
            },
        ) => {
            assert_eq!((event_id, request.quantity), (e, ids.len() as i64));
        }
        other => panic!("the undo does not match the removal: {other:?}"),
    }
    assert!(app.status.as_ref().unwrap().text.contains(&what));
    assert!(app.cart.removed.is_none(), "once");

    // Leaving the cart forgets it.
    app.update(Msg::from(Reply::CartChanged(Ok(()))));
    app.update(key(KeyCode::Delete));
    app.update(Msg::from(Reply::CartChanged(Ok(()))));
    app.update(key(KeyCode::Esc));
    assert!(app.cart.removed.is_none());
}

#[test]
fn adding_more_than_are_left_says_so_at_once() {
    let mut app = signed_in(100, 30);
    app.open_event(2);
    let mut few = detail();
    few.summary.available = Some(2);
    app.update(Msg::from(Reply::EventLoaded(Ok(few))));
    for _ in 0..2 {
        app.update(ch('+'));
    }
    let effects = app.update(ch('a'));
    let (event_id, request) = match effects.as_slice() {
        [
            Effect::Buy {
                event_id, request, ..
            },
        ] => (*event_id, request.clone()),
        other => panic!("no purchase sent: {other:?}"),
    };
    assert_eq!((event_id, request.quantity), (2, 3));
    app.update(bought(3));
    assert_eq!(
        app.event.added.as_deref(),
        Some(
            "3 tickets added to your cart. Only 2 left: if they sell before you pay, the rest will be refunded."
        )
    );
    // Said once, on the event: not again in the status line.
    assert_eq!(app.status, None);
}

#[test]
fn a_cancelled_order_is_said_once() {
    let mut app = paying(100, 30);
    app.update(ch('x'));
    app.update(ch('y'));
    let effects = app.update(Msg::from(Reply::OrderCancelled(Ok(order(
        OrderStatus::Cancelled,
    )))));
    assert_eq!(app.payment.phase, PaymentPhase::Cancelled);
    assert_eq!(app.status, None, "the screen says it");
    // Its items are back in the cart: the header's count is read again.
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadSummary { .. })),
        "{effects:?}"
    );
}

#[test]
fn y_copies_the_payment_address() {
    let mut app = paying(100, 30);
    let url = app.payment.checkout_url.clone().unwrap();
    assert!(app.keys().contains(&("y", "copy the address")));
    assert_eq!(app.update(ch('y')), [Effect::Copy(url)]);
    assert!(app.status.as_ref().unwrap().text.starts_with("Copied"));
}

#[test]
fn a_payment_that_completes_after_the_buyer_left_says_so_anywhere() {
    let mut app = paying(100, 30);
    let order_id = app.payment.order_id.unwrap();
    let effects = app.update(key(KeyCode::Esc));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::WatchOrder { order_id: id, .. } if *id == order_id)),
        "{effects:?}"
    );
    assert_ne!(app.screen, Screen::Payment);
    assert_eq!(app.watching, Some(order_id));
    app.update(ch('e'));
    let effects = app.update(Msg::from(Reply::OrderWatched {
        order_id,
        result: Ok(order(storefront_contract::OrderStatus::Paid)),
    }));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::LoadSummary { .. }))
    );
    assert_eq!(
        app.status.as_ref().unwrap().text,
        format!("Order {order_id} paid: o for your tickets.")
    );
    assert_eq!(app.watching, None);
}

#[test]
fn keys_do_nothing_unseen_while_the_window_is_too_small() {
    let mut app = app(50, 15);
    assert_eq!(app.screen, Screen::SignIn);
    for c in "demo@example.com".chars() {
        app.update(ch(c));
    }
    let effects = app.update(key(KeyCode::Enter));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(app.signin.email, "", "nothing typed blind");
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(app.quit, "Ctrl-C still quits");
}

#[test]
fn an_open_event_is_read_again_every_thirty_seconds() {
    let mut app = signed_in(100, 30);
    let start = app.now;
    let d = detail();
    app.open_event(d.summary.id);
    app.update(Msg::from(Reply::EventLoaded(Ok(d.clone()))));
    assert!(
        app.update(Msg::Tick(start + std::time::Duration::from_secs(29)))
            .is_empty()
    );
    let effects = app.update(Msg::Tick(start + std::time::Duration::from_secs(31)));
    assert!(
        matches!(&effects[..], [Effect::LoadEvent { id, .. }] if *id == d.summary.id),
        "{effects:?}"
    );
    // The venue raised a price meanwhile: shown as soon as it is read.
    let mut raised = d.clone();
    raised.ticket_types[0].cost = Money::from_minor(1600);
    app.update(Msg::from(Reply::EventLoaded(Ok(raised.clone()))));
    assert_eq!(app.event.detail, Some(raised));
}
