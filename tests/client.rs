//! The client's update loop driven against the real server (in-process, port 0): every effect
//! runs for real, and its reply goes back into `update`, as in the terminal.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use storefront::api::ApiClient;
use storefront::app::effect::{KeyMaker, Outside, perform};
use storefront::app::{
    App, CartRow, Effect, MailPhase, Msg, PaymentPhase, Prompt, Reply, Screen, SignInMode,
};
use storefront::config::Settings;
use storefront::session::SessionStore;
use storefront_contract::{OrderStatus, TicketState};
use storefront_server::{DEMO_CATALOG, RunningServer, ServerConfig};
use tokio::sync::mpsc;

const HARBOUR_LIGHTS: i64 = 4;

async fn demo_server(database_url: &str, bind: &str) -> RunningServer {
    storefront_server::start(ServerConfig {
        bind: bind.parse().unwrap(),
        database_url: database_url.to_owned(),
        catalog: Some(DEMO_CATALOG.to_owned()),
        ..ServerConfig::default()
    })
    .await
    .expect("the server starts")
}

/// The demo server catching its e-mail in the sandbox, as `storefront demo` runs.
async fn demo_server_with_mail() -> RunningServer {
    use storefront_server::mail::{MailConfig, MailTransport};
    storefront_server::start(ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: "sqlite::memory:".to_owned(),
        catalog: Some(DEMO_CATALOG.to_owned()),
        mail: Some(MailConfig::new(
            MailTransport::Sandbox,
            "Demo <tickets@demo.example>",
        )),
        ..ServerConfig::default()
    })
    .await
    .expect("the server starts")
}

/// The text of the newest e-mail to `to` in the server's mail sandbox, once there is one
/// holding `holding`.
async fn mail_to(server: &RunningServer, to: &str, holding: &str) -> String {
    let origin = server.origin();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = reqwest::get(format!("{origin}/mail-sandbox/"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The list is newest first; each e-mail is linked by its number.
        let numbers: Vec<usize> = list
            .split("href=\"/mail-sandbox/")
            .skip(1)
            .filter_map(|rest| rest.split(['"', '/']).next()?.parse().ok())
            .collect();
        for number in numbers {
            let text = reqwest::get(format!("{origin}/mail-sandbox/{number}/text"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if text.contains(&format!("To: {to}")) && text.contains(holding) {
                return text;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no e-mail to {to} holding {holding:?}: {list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The client as the terminal runs it, minus the terminal.
struct Driver {
    app: App,
    outside: Arc<Outside>,
    tx: mpsc::UnboundedSender<(bool, Reply)>,
    rx: mpsc::UnboundedReceiver<(bool, Reply)>,
    /// Effects whose replies `settle` waits for.
    foreground: usize,
    /// Requests made to the API so far.
    requests: usize,
}

impl Driver {
    async fn new(settings: Settings, session: SessionStore) -> Driver {
        let token = session.load(&settings.server);
        let api = ApiClient::new(&settings.server)
            .unwrap()
            .with_terminal(settings.kiosk_terminal.clone());
        let (mut app, effects) = App::new(settings, token, tokio::time::Instant::now());
        app.size = (100, 30);
        let (tx, rx) = mpsc::unbounded_channel();
        let mut driver = Driver {
            app,
            outside: Arc::new(Outside {
                api,
                session,
                keys: KeyMaker::new(),
            }),
            tx,
            rx,
            foreground: 0,
            requests: 0,
        };
        driver.run(effects);
        driver.settle().await;
        driver
    }

    fn run(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            // Everything but these is one request to the API.
            if !matches!(
                effect,
                Effect::Later { .. }
                    | Effect::SaveToken(_)
                    | Effect::OpenBrowser { .. }
                    | Effect::Bell
                    | Effect::Copy(_)
            ) {
                self.requests += 1;
            }
            // Long-polls and retries later are background: nobody waits for them to settle.
            let background = matches!(effect, Effect::WaitForOrder { .. } | Effect::Later { .. });
            if !background {
                self.foreground += 1;
            }
            let (outside, tx) = (self.outside.clone(), self.tx.clone());
            tokio::spawn(async move {
                if let Some(reply) = perform(&outside, effect).await {
                    let _ = tx.send((background, reply));
                }
            });
        }
    }

    async fn next(&mut self) {
        let (background, reply) = tokio::time::timeout(Duration::from_secs(40), self.rx.recv())
            .await
            .expect("a reply within 40 s")
            .expect("the channel is open");
        if !background {
            self.foreground -= 1;
        }
        let effects = self.app.update(Msg::from(reply));
        self.run(effects);
    }

    /// Applies replies until no foreground request is out.
    async fn settle(&mut self) {
        while self.foreground > 0 {
            self.next().await;
        }
    }

    /// Applies replies until `done` holds.
    async fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !done(&self.app) {
            assert!(tokio::time::Instant::now() < deadline, "never: {what}");
            self.next().await;
        }
    }

    async fn send(&mut self, msg: Msg) {
        let effects = self.app.update(msg);
        self.run(effects);
        self.settle().await;
    }

    async fn press(&mut self, code: KeyCode) {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
            .await;
    }

    async fn chord(&mut self, c: char) {
        self.send(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )))
        .await;
    }

    async fn keys(&mut self, text: &str) {
        for c in text.chars() {
            self.press(KeyCode::Char(c)).await;
        }
    }

    async fn sign_in(&mut self, email: &str, password: &str) {
        if self.app.screen != Screen::SignIn {
            self.press(KeyCode::Char('c')).await;
        }
        assert_eq!(self.app.screen, Screen::SignIn);
        self.app.signin.email.clear();
        self.keys(email).await;
        self.press(KeyCode::Tab).await;
        self.keys(password).await;
        self.press(KeyCode::Enter).await;
        assert!(
            self.app.user().is_some(),
            "signed in: {:?}",
            self.app.signin.error
        );
    }

    async fn open_event(&mut self, id: i64) {
        let effects = self.app.open_event(id);
        self.run(effects);
        self.settle().await;
        assert!(self.app.event.detail.is_some(), "event {id} opened");
    }

    /// Selects the cart line matching `find`.
    async fn select_cart_line(&mut self, find: impl Fn(&CartRow) -> bool) {
        self.press(KeyCode::Home).await;
        for _ in 0..20 {
            if self.app.cart.selected_row().is_some_and(|row| find(&row)) {
                return;
            }
            self.press(KeyCode::Down).await;
        }
        panic!(
            "no such cart line in {:?} ({:?})",
            self.app.cart.cart, self.app.status
        );
    }
}

fn settings(server: &RunningServer) -> Settings {
    Settings {
        server: server.origin(),
        open_browser: false,
        ..Settings::default()
    }
}

/// A "browser" that writes the address it is given to a file, and the file.
fn recording_browser(dir: &tempfile::TempDir) -> (String, std::path::PathBuf) {
    let script = dir.path().join("browser.sh");
    let record = dir.path().join("opened-url");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", record.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (script.display().to_string(), record)
}

async fn read_when_written(path: &std::path::Path) -> String {
    for _ in 0..500 {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{} was never written", path.display());
}

/// Presses Pay or Decline on the hosted page, as a browser would.
async fn press_on_page(url: &str, outcome: &str) {
    let response = reqwest::Client::new()
        .post(url)
        .form(&[("outcome", outcome)])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn sign_in_filter_open_add_and_see_the_cart() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let mut client = Driver::new(settings(&server), SessionStore::none()).await;
    assert_eq!(client.app.screen, Screen::SignIn);
    assert_eq!(
        client.app.events.events.len(),
        6,
        "events load while signing in"
    );

    client.sign_in("demo@example.com", "demo").await;
    assert_eq!(client.app.screen, Screen::Events);
    let badge = client.app.summary.clone().unwrap();
    assert_eq!(
        (badge.items, badge.grand_total.to_string().as_str()),
        (2, "33.50")
    );

    client.press(KeyCode::Char('/')).await;
    client.keys("harbour").await;
    client.press(KeyCode::Enter).await;
    let names: Vec<_> = client
        .app
        .events
        .events
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["Harbour Lights Quartet"]);

    client.press(KeyCode::Enter).await;
    assert_eq!(client.app.screen, Screen::Event);
    let detail = client.app.event.detail.clone().unwrap();
    assert_eq!(detail.summary.available, Some(2));
    client.press(KeyCode::Char('+')).await;
    client.press(KeyCode::Char('a')).await;
    let added = client.app.event.added.clone().unwrap();
    assert_eq!(
        added,
        "2 tickets added to your cart. If the event sells out before payment, you will be refunded."
    );
    assert_eq!(client.app.summary.as_ref().unwrap().items, 4);
    assert_eq!(client.app.event.detail.as_ref().unwrap().in_my_cart, 2);
    // Pending tickets take no place.
    assert_eq!(
        client.app.event.detail.as_ref().unwrap().summary.available,
        Some(2)
    );

    client.press(KeyCode::Char('c')).await;
    let cart = client.app.cart.cart.clone().unwrap();
    let titles: Vec<_> = cart
        .groups
        .iter()
        .map(|g| g.page.as_ref().map(|p| p.title.clone()))
        .collect();
    assert_eq!(
        titles,
        [
            Some("Riverside Jazz Club".to_owned()),
            Some("The Old Granary".to_owned())
        ]
    );
    assert_eq!(cart.groups[0].total.to_string(), "36.00");
    assert_eq!(cart.summary.grand_total.to_string(), "69.50");
    assert!(cart.notice.is_some());
}

#[tokio::test]
async fn cart_arithmetic_and_removal_follow_the_server() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let mut client = Driver::new(settings(&server), SessionStore::none()).await;
    client.sign_in("demo@example.com", "demo").await;
    client.press(KeyCode::Char('c')).await;

    client
        .select_cart_line(|row| matches!(row, CartRow::Product(_)))
        .await;
    client.press(KeyCode::Char('+')).await;
    client.press(KeyCode::Char('+')).await;
    let summary = client.app.cart.cart.as_ref().unwrap().summary.clone();
    assert_eq!(
        (summary.count, summary.total.to_string().as_str()),
        (3, "25.50")
    );
    client.press(KeyCode::Char('-')).await;
    assert_eq!(client.app.summary.as_ref().unwrap().count, 2);
    client.press(KeyCode::Delete).await;
    assert_eq!(client.app.summary.as_ref().unwrap().count, 0);

    client
        .select_cart_line(|row| matches!(row, CartRow::Booking(_)))
        .await;
    client.press(KeyCode::Delete).await;
    let cart = client.app.cart.cart.clone().unwrap();
    assert!(cart.groups.is_empty());
    assert_eq!(cart.summary.grand_total.to_string(), "0.00");
    assert_eq!(client.app.summary.as_ref().unwrap().items, 0);

    // Tickets: one more, one fewer, from the cart itself.
    client.press(KeyCode::Char('e')).await;
    client.press(KeyCode::Down).await;
    client.press(KeyCode::Enter).await;
    client.press(KeyCode::Char('a')).await;
    client.press(KeyCode::Char('c')).await;
    client
        .select_cart_line(|row| matches!(row, CartRow::Tickets { .. }))
        .await;
    client.press(KeyCode::Char('+')).await;
    assert_eq!(client.app.summary.as_ref().unwrap().ticket_count, 2);
    client.press(KeyCode::Char('-')).await;
    client.press(KeyCode::Char('-')).await;
    assert_eq!(client.app.summary.as_ref().unwrap().ticket_count, 0);
    assert!(client.app.cart.cart.as_ref().unwrap().notice.is_none());
}

#[tokio::test]
async fn sign_out_and_an_expired_session() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::at(dir.path().join("session.json"));
    let mut client = Driver::new(settings(&server), store.clone()).await;
    client.sign_in("demo@example.com", "demo").await;
    let token = store
        .load(&server.origin())
        .expect("the token is remembered");

    // A restart signs in with the remembered token.
    let mut again = Driver::new(settings(&server), store.clone()).await;
    assert_eq!(again.app.user().unwrap().email, "demo@example.com");

    // The session dies on the server (signed out elsewhere): back to sign-in, then back here.
    ApiClient::new(&server.origin())
        .unwrap()
        .logout(&token)
        .await
        .unwrap();
    again.press(KeyCode::Char('c')).await;
    assert_eq!(again.app.screen, Screen::SignIn);
    assert_eq!(
        again.app.signin.error.as_deref(),
        Some("Your session ended. Sign in again.")
    );
    assert_eq!(
        store.load(&server.origin()),
        None,
        "the dead token is forgotten"
    );
    again.app.signin.email.clear();
    again.keys("demo@example.com").await;
    again.press(KeyCode::Tab).await;
    again.keys("demo").await;
    again.press(KeyCode::Enter).await;
    assert_eq!(again.app.screen, Screen::Cart);

    again.press(KeyCode::Char('L')).await;
    assert!(again.app.session.is_none());
    assert_eq!(again.app.screen, Screen::SignIn);
    assert_eq!(store.load(&server.origin()), None);
    let fresh = Driver::new(settings(&server), store).await;
    assert!(fresh.app.session.is_none());
}

#[tokio::test]
async fn a_wrong_password_and_an_unreachable_server_are_said_on_sign_in() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let mut client = Driver::new(settings(&server), SessionStore::none()).await;
    client.app.signin.email.clear();
    client.keys("demo@example.com").await;
    client.press(KeyCode::Tab).await;
    client.keys("wrong").await;
    client.press(KeyCode::Enter).await;
    assert_eq!(
        client.app.signin.error.as_deref(),
        Some("That email and password do not match. Check them and try again.")
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = Settings {
        server: format!("http://127.0.0.1:{port}"),
        ..Settings::default()
    };
    let mut lost = Driver::new(nowhere, SessionStore::none()).await;
    lost.app.signin.email = "demo@example.com".into();
    lost.press(KeyCode::Tab).await;
    lost.keys("demo").await;
    lost.press(KeyCode::Enter).await;
    let said = lost.app.signin.error.clone().unwrap();
    assert!(
        said.starts_with(&format!(
            "Cannot reach the server at http://127.0.0.1:{port}. Is it running?"
        )),
        "{said}"
    );
}

#[tokio::test]
async fn check_out_in_the_browser_pay_and_see_the_ticket_codes() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let dir = tempfile::tempdir().unwrap();
    let (browser, opened) = recording_browser(&dir);
    let mut client = Driver::new(
        Settings {
            open_browser: true,
            browser,
            ..settings(&server)
        },
        SessionStore::none(),
    )
    .await;
    client.sign_in("demo@example.com", "demo").await;
    client.open_event(HARBOUR_LIGHTS).await;
    client.press(KeyCode::Char('a')).await;
    client.press(KeyCode::Char('c')).await;
    client.press(KeyCode::Char('P')).await;
    assert_eq!(client.app.screen, Screen::Payment);
    assert_eq!(client.app.payment.phase, PaymentPhase::Waiting);
    let url = client.app.payment.checkout_url.clone().unwrap();
    assert_eq!(
        read_when_written(&opened).await,
        url,
        "the browser got the exact address"
    );
    // The cart moved into the order; the badge follows.
    assert_eq!(client.app.summary.as_ref().unwrap().items, 0);

    press_on_page(&url, "pay").await;
    client
        .until("paid", |app| app.payment.phase == PaymentPhase::Paid)
        .await;
    let order = client.app.payment.order.clone().unwrap();
    assert_eq!(order.status, OrderStatus::Paid);
    assert_eq!(order.total.to_string(), "51.50");
    let codes: Vec<_> = order
        .tickets
        .iter()
        .map(|t| (t.state, t.code.len()))
        .collect();
    assert_eq!(codes, [(TicketState::Confirmed, 9)]);

    client.press(KeyCode::Char('o')).await;
    assert_eq!(client.app.orders.orders[0].status, OrderStatus::Paid);
    let mine: Vec<_> = client
        .app
        .orders
        .tickets
        .iter()
        .map(|t| t.code.clone())
        .collect();
    assert_eq!(mine, [order.tickets[0].code.clone()]);
}

#[tokio::test]
async fn decline_then_pay_again_then_paid_and_cancel() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let mut client = Driver::new(settings(&server), SessionStore::none()).await;
    client.sign_in("demo@example.com", "demo").await;
    client.press(KeyCode::Char('c')).await;
    // The Old Granary's group only: p on its line.
    client
        .select_cart_line(|row| matches!(row, CartRow::Product(_)))
        .await;
    client.press(KeyCode::Char('p')).await;
    let first = client.app.payment.checkout_url.clone().unwrap();
    press_on_page(&first, "decline").await;
    client
        .until("failed", |app| app.payment.phase == PaymentPhase::Failed)
        .await;
    client.press(KeyCode::Char('r')).await;
    client
        .until("waiting again", |app| {
            app.payment.phase == PaymentPhase::Waiting
        })
        .await;
    let second = client.app.payment.checkout_url.clone().unwrap();
    assert_ne!(first, second);
    press_on_page(&second, "pay").await;
    client
        .until("paid", |app| app.payment.phase == PaymentPhase::Paid)
        .await;

    // A second order, cancelled.
    client.open_event(1).await;
    client.press(KeyCode::Char('a')).await;
    client.press(KeyCode::Char('c')).await;
    client.press(KeyCode::Char('P')).await;
    client.press(KeyCode::Char('x')).await;
    assert!(client.app.payment.confirm_cancel);
    client.press(KeyCode::Char('y')).await;
    client
        .until("cancelled", |app| {
            app.payment.phase == PaymentPhase::Cancelled
        })
        .await;
    let tickets = &client.app.payment.order.as_ref().unwrap().tickets;
    assert!(tickets.iter().all(|t| t.state == TicketState::Cancelled));
}

#[tokio::test]
async fn a_payment_made_while_the_client_was_closed_shows_as_paid() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::at(dir.path().join("session.json"));
    let mut client = Driver::new(settings(&server), store.clone()).await;
    client.sign_in("demo@example.com", "demo").await;
    client.press(KeyCode::Char('c')).await;
    client.press(KeyCode::Char('P')).await;
    let url = client.app.payment.checkout_url.clone().unwrap();
    let order_id = client.app.payment.order_id.unwrap();
    drop(client);

    // Restarted later, with an unpaid order: it offers to resume.
    let later = Driver::new(settings(&server), store.clone()).await;
    assert_eq!(
        later.app.prompt,
        Some(Prompt::ResumeOrder {
            order_id,
            total: "£33.50".into()
        })
    );
    drop(later);

    press_on_page(&url, "pay").await;
    // SumUp's notification reaches the server while the client is closed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server
        .state()
        .store()
        .order(order_id)
        .await
        .unwrap()
        .unwrap()
        .status
        != OrderStatus::Paid
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the payment was never noticed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut restarted = Driver::new(settings(&server), store).await;
    restarted
        .until("orders loaded", |app| app.orders.loaded)
        .await;
    assert_eq!(restarted.app.prompt, None, "nothing left to resume");
    restarted.press(KeyCode::Char('o')).await;
    assert_eq!(restarted.app.orders.orders[0].status, OrderStatus::Paid);
    restarted.press(KeyCode::Enter).await;
    restarted
        .until("confirmation", |app| {
            app.payment.phase == PaymentPhase::Paid
        })
        .await;
}

#[tokio::test]
async fn waiting_survives_the_server_going_away_and_coming_back() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("shop.db").display());
    let server = demo_server(&database, "127.0.0.1:0").await;
    let addr = server.addr().to_string();
    let mut client = Driver::new(settings(&server), SessionStore::none()).await;
    client.sign_in("demo@example.com", "demo").await;
    client.press(KeyCode::Char('c')).await;
    client.press(KeyCode::Char('P')).await;
    let url = client.app.payment.checkout_url.clone().unwrap();
    server.stop().await;

    client
        .until("reconnecting", |app| {
            app.payment.phase == PaymentPhase::Reconnecting
        })
        .await;
    assert!(
        client.app.payment.order.is_some(),
        "the order stays on screen"
    );

    let server = demo_server(&database, &addr).await;
    press_on_page(&url, "pay").await;
    client
        .until("paid after the restart", |app| {
            app.payment.phase == PaymentPhase::Paid
        })
        .await;
    assert!(client.app.status.is_none(), "the connection line is gone");
    server.stop().await;
}

#[tokio::test]
async fn the_later_payer_of_an_oversold_event_sees_the_refund() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let mut dana = Driver::new(settings(&server), SessionStore::none()).await;
    let mut sam = Driver::new(settings(&server), SessionStore::none()).await;
    dana.sign_in("demo@example.com", "demo").await;
    sam.sign_in("sam@example.com", "sam-demo").await;
    // Both put the last two places in their carts before either checks out.
    for client in [&mut dana, &mut sam] {
        client.open_event(HARBOUR_LIGHTS).await;
        client.press(KeyCode::Char('+')).await;
        client.press(KeyCode::Char('a')).await;
    }
    for client in [&mut dana, &mut sam] {
        client.press(KeyCode::Char('c')).await;
        client
            .select_cart_line(|row| matches!(row, CartRow::Tickets { .. }))
            .await;
        client.press(KeyCode::Char('p')).await;
    }
    let sam_url = sam.app.payment.checkout_url.clone().unwrap();
    press_on_page(&sam_url, "pay").await;
    sam.until("sam paid", |app| app.payment.phase == PaymentPhase::Paid)
        .await;
    let dana_url = dana.app.payment.checkout_url.clone().unwrap();
    press_on_page(&dana_url, "pay").await;
    dana.until("dana refunded", |app| {
        app.payment.phase == PaymentPhase::Paid
            && app.payment.order.as_ref().is_some_and(|o| {
                o.refund
                    .as_ref()
                    .is_some_and(|r| r.status == storefront_contract::RefundStatus::Refunded)
            })
    })
    .await;
    let order = dana.app.payment.order.clone().unwrap();
    assert_eq!(order.refund.unwrap().amount.to_string(), "36.00");
    assert_eq!(
        order.notice.as_deref(),
        Some(
            "Harbour Lights Quartet sold out before your payment completed: 2 tickets were cancelled and £36.00 has been refunded."
        )
    );
}

#[tokio::test]
async fn a_kiosk_purchase_with_arrows_enter_and_esc_alone() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("session.json");
    let kiosk = Settings {
        kiosk: true,
        remember_session: false,
        open_browser: false,
        ..settings(&server)
    };
    let mut client = Driver::new(kiosk, SessionStore::at(&token_file)).await;
    assert_eq!(client.app.screen, Screen::Start);

    client.press(KeyCode::Enter).await;
    assert_eq!(client.app.screen, Screen::Events);
    // The first event is sold out; the second (Wren Duo) is not.
    client.press(KeyCode::Down).await;
    client.press(KeyCode::Enter).await;
    assert_eq!(client.app.screen, Screen::Event);
    client.press(KeyCode::Right).await;
    client.press(KeyCode::Enter).await;
    // Signed out, adding asks the customer to sign in first (typing is data, not a command).
    assert_eq!(client.app.screen, Screen::SignIn);
    assert!(
        client.app.signin.email.is_empty(),
        "no previous email is shown"
    );
    client.keys("demo@example.com").await;
    client.press(KeyCode::Down).await;
    client.keys("demo").await;
    client.press(KeyCode::Enter).await;
    assert_eq!(client.app.screen, Screen::Event);
    client.press(KeyCode::Enter).await;
    // Added: the cart comes up, ready to pay.
    assert_eq!(client.app.screen, Screen::Cart);
    assert_eq!(client.app.event.detail.as_ref().unwrap().in_my_cart, 1);
    client.press(KeyCode::Esc).await;
    assert_eq!(client.app.screen, Screen::Event);
    client.press(KeyCode::Esc).await;
    client.press(KeyCode::Esc).await;
    assert_eq!(
        client.app.screen,
        Screen::Start,
        "Esc at the top starts over"
    );
    assert!(client.app.session.is_none());

    // The next customer (the same person, back again) finds the cart kept on the server.
    client.press(KeyCode::Enter).await;
    client.press(KeyCode::Down).await;
    client.press(KeyCode::Enter).await;
    client.press(KeyCode::Enter).await;
    client.keys("demo@example.com").await;
    client.press(KeyCode::Down).await;
    client.keys("demo").await;
    client.press(KeyCode::Enter).await;
    client.press(KeyCode::Enter).await;
    assert_eq!(client.app.summary.as_ref().unwrap().ticket_count, 2);
    assert!(!token_file.exists(), "a kiosk writes no token");

    assert_eq!(client.app.screen, Screen::Cart);
    client.press(KeyCode::Enter).await;
    assert_eq!(client.app.screen, Screen::Payment);
    let url = client.app.payment.checkout_url.clone().unwrap();
    press_on_page(&url, "pay").await;
    client
        .until("paid", |app| app.payment.phase == PaymentPhase::Paid)
        .await;
    client.press(KeyCode::Enter).await;
    assert_eq!(client.app.screen, Screen::Start);
    assert!(client.app.session.is_none());
    assert!(!token_file.exists());
}

/// A kiosk signed in as the demo's box office, at `terminal`.
fn box_office_kiosk(server: &RunningServer, terminal: &str) -> Settings {
    Settings {
        kiosk: true,
        remember_session: false,
        open_browser: false,
        kiosk_account: Some((
            "box-office@example.com".to_owned(),
            storefront::config::Password::new("box-office"),
        )),
        kiosk_terminal: Some(terminal.to_owned()),
        ..settings(server)
    }
}

#[tokio::test]
async fn a_walk_up_buyer_needs_no_account_and_the_next_starts_clean() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let mut kiosk = Driver::new(box_office_kiosk(&server, "door-1"), SessionStore::none()).await;
    assert_eq!(kiosk.app.screen, Screen::Start);
    assert_eq!(
        kiosk.app.user().map(|u| u.role),
        Some(storefront_contract::Role::Kiosk),
        "signed in as the box office by itself"
    );

    // A customer adds a ticket without any sign-in, then walks away (Esc to the top).
    kiosk.press(KeyCode::Enter).await;
    kiosk.press(KeyCode::Down).await;
    kiosk.press(KeyCode::Enter).await;
    kiosk.press(KeyCode::Right).await;
    kiosk.press(KeyCode::Enter).await;
    assert_eq!(kiosk.app.screen, Screen::Cart, "added without signing in");
    assert_eq!(kiosk.app.summary.as_ref().unwrap().ticket_count, 1);
    for _ in 0..3 {
        kiosk.press(KeyCode::Esc).await;
    }
    assert_eq!(kiosk.app.screen, Screen::Start);
    assert!(
        kiosk.app.session.is_some(),
        "the box office stays signed in"
    );

    // What they left is cancelled on the server: the next customer starts clean.
    let api = ApiClient::new(&server.origin())
        .unwrap()
        .with_terminal(Some("door-1".to_owned()));
    let token = kiosk.app.token().unwrap().to_owned();
    assert_eq!(api.cart(&token).await.unwrap().summary.items, 0);
    kiosk.press(KeyCode::Enter).await;
    kiosk.press(KeyCode::Down).await;
    kiosk.press(KeyCode::Enter).await;
    kiosk.press(KeyCode::Right).await;
    kiosk.press(KeyCode::Enter).await;
    assert_eq!(kiosk.app.summary.as_ref().unwrap().ticket_count, 1);
    kiosk.press(KeyCode::Enter).await;
    assert_eq!(kiosk.app.screen, Screen::Payment);
    let url = kiosk.app.payment.checkout_url.clone().unwrap();
    press_on_page(&url, "pay").await;
    kiosk
        .until("paid", |app| app.payment.phase == PaymentPhase::Paid)
        .await;
    let order = kiosk.app.payment.order.clone().unwrap();
    assert_eq!(order.terminal.as_deref(), Some("door-1"));
    assert!(order.tickets_url.is_some(), "a ticket page to take away");
    // `o` shows no earlier customer's orders at a box-office kiosk.
    kiosk.press(KeyCode::Enter).await;
    assert_eq!(kiosk.app.screen, Screen::Start);
    kiosk.press(KeyCode::Enter).await;
    kiosk.press(KeyCode::Char('o')).await;
    assert_ne!(kiosk.app.screen, Screen::Orders);

    // Another kiosk on the same account has a cart and orders of its own.
    let other = Driver::new(box_office_kiosk(&server, "door-2"), SessionStore::none()).await;
    let other_api = ApiClient::new(&server.origin())
        .unwrap()
        .with_terminal(Some("door-2".to_owned()));
    let other_token = other.app.token().unwrap().to_owned();
    assert_eq!(
        other_api.orders(&other_token).await.unwrap().orders.len(),
        0
    );
    assert_eq!(api.orders(&token).await.unwrap().orders.len(), 1);
}

#[tokio::test]
async fn a_kiosk_that_cannot_sign_in_tells_the_operator_and_keeps_trying() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let mut settings = box_office_kiosk(&server, "door-1");
    settings.kiosk_account = Some((
        "box-office@example.com".to_owned(),
        storefront::config::Password::new("wrong"),
    ));
    let mut kiosk = Driver::new(settings, SessionStore::none()).await;
    assert_eq!(kiosk.app.screen, Screen::Start);
    let message = kiosk
        .app
        .kiosk
        .as_ref()
        .unwrap()
        .setup_error
        .clone()
        .unwrap();
    assert!(
        message.starts_with("This terminal is not set up"),
        "{message}"
    );
    // A customer's key starts nothing.
    kiosk.press(KeyCode::Enter).await;
    assert_eq!(kiosk.app.screen, Screen::Start);
}

#[tokio::test]
async fn one_purchase_takes_eight_requests_at_most() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let mut client = Driver::new(
        Settings {
            open_browser: false,
            ..settings(&server)
        },
        SessionStore::none(),
    )
    .await;
    let before = client.requests;
    client.sign_in("demo@example.com", "demo").await;
    client.press(KeyCode::Down).await;
    client.press(KeyCode::Enter).await;
    client.press(KeyCode::Char('a')).await;
    client.press(KeyCode::Char('c')).await;
    client.press(KeyCode::Char('P')).await;
    let url = client.app.payment.checkout_url.clone().unwrap();
    press_on_page(&url, "pay").await;
    client
        .until("paid", |app| app.payment.phase == PaymentPhase::Paid)
        .await;
    client.settle().await;
    let made = client.requests - before;
    println!("requests for sign-in → event → add → cart → P → paid: {made}");
    assert!(made <= 8, "{made} requests");
    // What is shown is still right: the cart is empty, the badge says so.
    assert_eq!(client.app.summary.as_ref().unwrap().items, 0);
}

#[tokio::test]
async fn the_shop_puts_products_in_the_cart() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let mut client = Driver::new(settings(&server), SessionStore::none()).await;
    client.sign_in("demo@example.com", "demo").await;
    let before = client.app.summary.clone().unwrap();

    client.press(KeyCode::Char('s')).await;
    assert_eq!(client.app.screen, Screen::Shop);
    assert!(
        !client.app.shop.products.is_empty(),
        "the demo sells products"
    );
    client.press(KeyCode::Char('/')).await;
    client.keys("tote").await;
    client.press(KeyCode::Enter).await;
    let tote = client.app.shop.selected().cloned().expect("the tote bag");
    client.press(KeyCode::Char('+')).await;
    client.press(KeyCode::Char('a')).await;
    let after = client.app.summary.clone().unwrap();
    assert_eq!(after.count, before.count + 2, "{:?}", client.app.status);
    assert_eq!(after.total, before.total + tote.price * 2);

    // The cart shows the line with both, added to the one already there.
    client.press(KeyCode::Char('c')).await;
    let cart = client.app.cart.cart.clone().unwrap();
    let line = cart
        .groups
        .iter()
        .flat_map(|g| &g.products)
        .find(|p| p.product_id == tote.id)
        .expect("the tote bag's line");
    assert!(line.quantity >= 2, "{line:?}");
}

/// Presents a card (`pay`) or declines on the sandbox's virtual Solo for `checkout`.
async fn at_the_reader(server: &RunningServer, checkout: &str, outcome: &str) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/sumup-sandbox/readers/rdr_demo_door1",
            server.origin()
        ))
        .form(&[("checkout", checkout), ("outcome", outcome)])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn a_walk_up_buyer_pays_by_card_after_a_decline() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let settings = Settings {
        kiosk_reader: Some("door-1".to_owned()),
        ..box_office_kiosk(&server, "door-1")
    };
    let mut kiosk = Driver::new(settings, SessionStore::none()).await;
    kiosk.press(KeyCode::Enter).await;
    kiosk.press(KeyCode::Down).await;
    kiosk.press(KeyCode::Enter).await;
    kiosk.press(KeyCode::Enter).await;
    assert_eq!(kiosk.app.screen, Screen::Cart, "added without signing in");
    kiosk.press(KeyCode::Enter).await;
    kiosk
        .until("the amount is on the reader", |app| {
            app.payment.reader.is_some() && app.payment.phase == PaymentPhase::Waiting
        })
        .await;
    assert_eq!(kiosk.app.payment.checkout_url, None, "no QR code meanwhile");
    let checkout = |kiosk: &Driver| {
        kiosk
            .app
            .payment
            .order
            .as_ref()
            .and_then(|o| o.sumup_checkout_id.clone())
            .unwrap()
    };
    let first = checkout(&kiosk);
    at_the_reader(&server, &first, "decline").await;
    kiosk
        .until("declined", |app| app.payment.phase == PaymentPhase::Failed)
        .await;
    kiosk.press(KeyCode::Enter).await;
    kiosk
        .until("on the reader again", |app| {
            app.payment.phase == PaymentPhase::Waiting
        })
        .await;
    let second = checkout(&kiosk);
    assert_ne!(first, second, "a new payment on the reader");
    at_the_reader(&server, &second, "pay").await;
    kiosk
        .until("paid", |app| app.payment.phase == PaymentPhase::Paid)
        .await;
    let order = kiosk.app.payment.order.clone().unwrap();
    assert_eq!(
        order.payment_method,
        storefront_contract::PaymentMethod::Reader
    );
    assert_eq!(order.terminal.as_deref(), Some("door-1"));
}

/// The demo catalog without the `[[section]]` block that starts with `first_line`.
fn without_block(catalog: &str, section: &str, first_line: &str) -> String {
    let start = catalog
        .find(&format!("[[{section}]]\n{first_line}\n"))
        .unwrap_or_else(|| panic!("no [[{section}]] {first_line}"));
    let end = catalog[start + 2..]
        .find("\n[[")
        .map_or(catalog.len(), |at| start + 2 + at + 1);
    format!("{}{}", &catalog[..start], &catalog[end..])
}

/// A manager applies `catalog` over HTTP, as the box office or a script would.
async fn apply_as_manager(server: &RunningServer, catalog: &str) {
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{}/api/v1/auth/login", server.origin()))
        .json(&serde_json::json!({"email": "manager@example.com", "password": "manager"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let answer = http
        .post(format!("{}/api/v1/admin/catalog", server.origin()))
        .bearer_auth(login["token"].as_str().unwrap())
        .header("content-type", "application/toml")
        .body(catalog.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
}

#[tokio::test]
async fn the_venue_changing_its_catalog_reaches_buyers_on_screen() {
    const LATE_NIGHT_JAZZ: i64 = 3;
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let mut dana = Driver::new(settings(&server), SessionStore::none()).await;
    dana.sign_in("demo@example.com", "demo").await;
    dana.open_event(HARBOUR_LIGHTS).await;
    dana.press(KeyCode::Char('a')).await;
    let mut sam = Driver::new(settings(&server), SessionStore::none()).await;
    sam.sign_in("sam@example.com", "sam-demo").await;
    // Dana looks at the jazz session as the venue takes it off the catalog.
    dana.open_event(LATE_NIGHT_JAZZ).await;

    let changed = DEMO_CATALOG.replace("ticket_price = \"18.00\"", "ticket_price = \"20.00\"");
    let changed = without_block(&changed, "events", "slug = \"late-night-jazz\"");
    apply_as_manager(&server, &changed).await;

    dana.press(KeyCode::Char('a')).await;
    assert_eq!(
        dana.app.screen,
        Screen::Events,
        "{:?} {:?}",
        dana.app.status,
        dana.app.event.added
    );
    assert_eq!(
        dana.app.status.as_ref().map(|s| s.text.as_str()),
        Some("That event is no longer on sale.")
    );
    assert!(
        !dana
            .app
            .events
            .events
            .iter()
            .any(|e| e.id == LATE_NIGHT_JAZZ),
        "the listing follows"
    );
    // Her cart shows the new price and says it changed.
    dana.press(KeyCode::Char('c')).await;
    dana.select_cart_line(
        |row| matches!(row, CartRow::Tickets { event_id, .. } if *event_id == HARBOUR_LIGHTS),
    )
    .await;
    match dana.app.cart.selected_row() {
        Some(CartRow::Tickets { unit, was, .. }) => {
            assert_eq!(
                (unit.to_string(), was.map(|w| w.to_string())),
                ("20.00".into(), Some("18.00".into()))
            );
        }
        other => panic!("{other:?}"),
    }

    // Sam's account leaves the catalog: signed out, and told why.
    let mut without_sam = without_block(&changed, "users", "email = \"sam@example.com\"");
    for event in ["harbour-lights", "candlelit-folk", "wren-duo"] {
        without_sam = without_block(&without_sam, "tickets", &format!("event = \"{event}\""));
    }
    apply_as_manager(&server, &without_sam).await;
    sam.press(KeyCode::Char('c')).await;
    assert_eq!(sam.app.screen, Screen::SignIn);
    assert!(
        sam.app
            .signin
            .error
            .as_deref()
            .is_some_and(|e| e.contains("disabled by the venue")),
        "{:?}",
        sam.app.signin.error
    );
}

#[tokio::test]
async fn a_declined_card_then_paid_on_the_same_page_shows_as_paid() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let mut client = Driver::new(settings(&server), SessionStore::none()).await;
    client.sign_in("demo@example.com", "demo").await;
    client.press(KeyCode::Char('c')).await;
    client.press(KeyCode::Char('P')).await;
    let page = client.app.payment.checkout_url.clone().unwrap();
    press_on_page(&page, "decline").await;
    client
        .until("failed", |app| app.payment.phase == PaymentPhase::Failed)
        .await;
    // The page says "You can try again": the buyer does, with another card, and touches
    // nothing in the terminal.
    press_on_page(&page, "pay").await;
    client
        .until("paid", |app| app.payment.phase == PaymentPhase::Paid)
        .await;
    assert_eq!(
        client.app.payment.order.as_ref().map(|o| o.status),
        Some(OrderStatus::Paid)
    );
}

#[tokio::test]
async fn a_buyer_makes_an_account_and_chooses_a_new_password_by_the_mailed_code() {
    let server = demo_server_with_mail().await;
    let mut client = Driver::new(settings(&server), SessionStore::none()).await;
    client.chord('n').await;
    assert_eq!(client.app.signin.mode, SignInMode::SignUp);
    client.keys("sam.reader@example.net").await;
    client.press(KeyCode::Tab).await;
    client.keys("Sam Reader").await;
    client.press(KeyCode::Tab).await;
    // A common password is refused in words, and both fields are typed again.
    client.keys("password123").await;
    client.press(KeyCode::Tab).await;
    client.keys("password123").await;
    client.press(KeyCode::Enter).await;
    assert!(client.app.user().is_none());
    let refusal = client.app.signin.error.clone().unwrap();
    assert!(refusal.contains("common"), "{refusal}");
    assert_eq!(client.app.signin.focus, storefront::app::Field::Password);
    client.keys("lantern harbour 7").await;
    client.press(KeyCode::Tab).await;
    client.keys("lantern harbour 7").await;
    client.press(KeyCode::Enter).await;
    let user = client.app.user().cloned().expect("signed in by signing up");
    assert_eq!(
        (user.name.as_str(), user.role),
        ("Sam Reader", storefront_contract::Role::Customer)
    );
    assert_eq!(client.app.screen, Screen::Events);

    // Signed out, the password forgotten: a code by e-mail, then a new password.
    client.press(KeyCode::Char('L')).await;
    assert_eq!(client.app.screen, Screen::SignIn);
    client.chord('f').await;
    client.keys("sam.reader@example.net").await;
    client.press(KeyCode::Enter).await;
    assert_eq!(client.app.signin.mode, SignInMode::ResetConfirm);
    let mail = mail_to(&server, "sam.reader@example.net", "reset").await;
    let code = mail
        .lines()
        .map(str::trim)
        .find(|line| line.len() == 8 && line.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| panic!("no code in {mail}"))
        .to_owned();
    client.keys("WRONG000").await;
    client.press(KeyCode::Tab).await;
    client.keys("quiet river 42").await;
    client.press(KeyCode::Tab).await;
    client.keys("quiet river 42").await;
    client.press(KeyCode::Enter).await;
    let wrong = client.app.signin.error.clone().unwrap();
    assert!(wrong.contains("not the code"), "{wrong}");
    assert_eq!(client.app.signin.focus, storefront::app::Field::Code);
    client.app.signin.code.clear();
    client.keys(&code).await;
    client.press(KeyCode::Enter).await;
    assert_eq!(client.app.signin.mode, SignInMode::SignIn);
    assert!(
        client.app.signin.notice.is_some(),
        "{:?}",
        client.app.signin.error
    );
    client.keys("quiet river 42").await;
    client.press(KeyCode::Enter).await;
    assert_eq!(client.app.user().map(|u| u.id), Some(user.id));
}

#[tokio::test]
async fn a_walk_up_buyer_has_the_tickets_emailed_from_the_kiosk() {
    let server = demo_server_with_mail().await;
    let mut kiosk = Driver::new(box_office_kiosk(&server, "door-1"), SessionStore::none()).await;
    kiosk.press(KeyCode::Enter).await;
    kiosk.press(KeyCode::Down).await;
    kiosk.press(KeyCode::Enter).await;
    kiosk.press(KeyCode::Right).await;
    kiosk.press(KeyCode::Enter).await;
    kiosk.press(KeyCode::Enter).await;
    assert_eq!(kiosk.app.screen, Screen::Payment);
    let url = kiosk.app.payment.checkout_url.clone().unwrap();
    press_on_page(&url, "pay").await;
    kiosk
        .until("paid", |app| app.payment.phase == PaymentPhase::Paid)
        .await;
    let code = kiosk.app.payment.order.as_ref().unwrap().tickets[0]
        .code
        .clone();
    kiosk.keys("walk.up@example.org").await;
    kiosk.press(KeyCode::Enter).await;
    assert_eq!(
        kiosk.app.ticket_mail().map(|m| m.phase.clone()),
        Some(MailPhase::Sent)
    );
    let mail = mail_to(&server, "walk.up@example.org", &code).await;
    assert!(mail.contains("/t/"), "the ticket page: {mail}");
    kiosk.press(KeyCode::Enter).await;
    assert_eq!(kiosk.app.screen, Screen::Start);
    assert!(
        kiosk
            .app
            .kiosk
            .as_ref()
            .unwrap()
            .ticket_mail
            .address
            .is_empty()
    );
}

/// The screen as the terminal draws it.
fn drawn(app: &App) -> String {
    let (width, height) = app.size;
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| storefront::ui::view(app, frame))
        .unwrap();
    terminal.backend().to_string()
}

/// `storefront demo` makes its regular's paid orders through the shop: the door offers one
/// of their codes to try and lets it in once, and the box office finds its order.
#[tokio::test]
async fn the_demos_paid_orders_give_the_door_a_code_to_try() {
    let server = demo_server("sqlite::memory:", "127.0.0.1:0").await;
    let api = ApiClient::new(&server.origin()).unwrap();
    let codes = storefront::demo::seed_sales(&api).await.unwrap();
    assert_eq!(codes.len(), 2 + 3 + 2, "{codes:?}");

    let door_settings = Settings {
        checkin: true,
        ..settings(&server)
    };
    let mut door = Driver::new(door_settings, SessionStore::none()).await;
    door.app.demo_hint = Some(("door@example.com".into(), "door".into()));
    door.app.demo_codes = codes.clone();
    door.sign_in("door@example.com", "door").await;
    door.until("the events", |app| !app.events.events.is_empty())
        .await;
    while door
        .app
        .events
        .selected()
        .is_some_and(|event| event.slug != "wren-duo")
    {
        door.press(KeyCode::Down).await;
    }
    door.press(KeyCode::Enter).await;
    door.until("the door's list", |app| app.door.list_loaded)
        .await;
    let screen = drawn(&door.app);
    let offered = screen
        .lines()
        .find_map(|line| line.split("Try: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("a code to try:\n{screen}"));
    assert!(codes.contains(&offered), "{offered} of {codes:?}");

    door.keys(&offered).await;
    door.press(KeyCode::Enter).await;
    door.until("the scan's answer", |app| {
        app.door
            .scans
            .front()
            .is_some_and(|scan| scan.verdict != storefront::app::Verdict::Checking)
    })
    .await;
    assert_eq!(
        door.app.door.scans.front().unwrap().verdict,
        storefront::app::Verdict::Welcome
    );

    // The box office finds the order by the code, paid.
    let manager = api.login("manager@example.com", "manager").await.unwrap();
    let found = api.find_orders(&manager.token, &offered).await.unwrap();
    assert_eq!(found.orders.len(), 1, "{found:?}");
    assert_eq!(found.orders[0].order.status, OrderStatus::Paid);
}

/// A kiosk taking cards on a reader the catalog gives a venue, with no venue of its own,
/// sells that venue's events and products only.
#[tokio::test]
async fn a_kiosk_sells_for_its_card_readers_venue() {
    let catalog = DEMO_CATALOG.replacen(
        "id = \"rdr_demo_door1\"",
        "id = \"rdr_demo_door1\"\npage = \"riverside-jazz\"",
        1,
    );
    assert_ne!(catalog, DEMO_CATALOG);
    let server = storefront_server::start(ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: "sqlite::memory:".to_owned(),
        catalog: Some(catalog),
        ..ServerConfig::default()
    })
    .await
    .unwrap();
    let settings = Settings {
        kiosk_reader: Some("door-1".to_owned()),
        ..box_office_kiosk(&server, "door-1")
    };
    let mut kiosk = Driver::new(settings, SessionStore::none()).await;
    kiosk
        .until("the venue's events", |app| {
            app.kiosk_page().is_some() && !app.events.loading && !app.events.events.is_empty()
        })
        .await;
    let venues: std::collections::BTreeSet<String> = kiosk
        .app
        .events
        .events
        .iter()
        .map(|event| {
            event
                .page
                .as_ref()
                .map_or("-", |p| p.slug.as_str())
                .to_owned()
        })
        .collect();
    assert_eq!(venues.into_iter().collect::<Vec<_>>(), ["riverside-jazz"]);
    kiosk
        .until("the venue's products", |app| app.shop.loaded)
        .await;
    assert!(!kiosk.app.shop.products.is_empty());
    assert!(
        kiosk.app.shop.products.iter().all(|product| product
            .page
            .as_ref()
            .is_some_and(|p| p.slug == "riverside-jazz")),
        "{:?}",
        kiosk.app.shop.products
    );
    let screen = drawn(&kiosk.app);
    assert!(screen.contains("Riverside Jazz Club"), "{screen}");
}
