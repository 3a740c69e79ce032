//! Buyers of their own and tickets by e-mail, over HTTP and a real SMTP server (aiosmtpd):
//! sign-up and its refusals; a password reset by a code sent by e-mail (right, wrong, expired
//! and reused codes; sessions ended); one e-mail per paid order with every code and a
//! working link; the SMTP server down, then back; a 550 recorded, never retried; a kiosk
//! buyer's address; the refund's e-mail; the demo's mail sandbox.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use storefront_contract::ErrorCode;
use storefront_server::ServerConfig;
use storefront_server::mail::{MailConfig, MailTransport};

use crate::common::*;
use crate::smtp::{SmtpServer, decoded, free_port, have_aiosmtpd, header};

const NO_SMTP: &str = "needs aiosmtpd (apt-get install -y python3-aiosmtpd); .ci/run installs it";

/// A server sending mail to `url`, retrying after a second.
async fn app_mailing(url: String) -> TestApp {
    let mut mail = MailConfig::new(
        MailTransport::Smtp { url },
        "The Old Granary <box@granary.example>",
    );
    mail.first_retry = Duration::from_secs(1);
    mail.sweep_interval = Duration::from_millis(200);
    TestApp::with_config(ServerConfig {
        mail: Some(mail),
        ..TestApp::config().await
    })
    .await
}

/// `token` empties the cart, buys `quantity` Standard tickets to the Wren Duo, and pays.
async fn paid_order(app: &TestApp, token: &str, quantity: i64) -> Value {
    let cleared = app.post("/cart/clear", Some(token), json!({})).await;
    assert!(cleared.status.is_success(), "{}", cleared.text);
    app.buy(token, WREN_DUO, quantity, Some(STANDARD)).await;
    let (order, url) = app.checkout_ok(token, None).await;
    let (status, _) = app.press(&url, "pay").await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let order = app.order(token, order, 10).await;
    assert_eq!(order["status"], "paid", "{order}");
    order
}

/// The order's history as the box office shows it.
async fn history(app: &TestApp, order: i64) -> Vec<String> {
    let max = app.manager().await;
    let answer = app.get(&format!("/admin/orders/{order}"), Some(&max)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["what"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until the order's history has a line holding `text`.
async fn until_history(app: &TestApp, order: i64, text: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let lines = history(app, order).await;
        if lines.iter().any(|l| l.contains(text)) {
            return lines;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {text:?} in the history: {lines:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_buyer_signs_up_and_is_signed_in() {
    let app = TestApp::start().await;
    let answer = app
        .post(
            "/auth/signup",
            None,
            json!({"email": " Zoe@Example.com ", "password": "a long enough secret", "name": " Zoe "}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.json["user"]["email"], "zoe@example.com");
    assert_eq!(answer.json["user"]["name"], "Zoe");
    assert_eq!(answer.json["user"]["role"], "customer");
    let token = answer.json["token"].as_str().unwrap();
    let me = app.get("/auth/me", Some(token)).await;
    assert_eq!(me.json["email"], "zoe@example.com");
    // And signs in again with the same password.
    app.login("zoe@example.com", "a long enough secret").await;

    let again = app
        .post(
            "/auth/signup",
            None,
            json!({"email": "zoe@example.com", "password": "another long secret", "name": "Zoe 2"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    // The catalog's users are taken too.
    let ann = app
        .post(
            "/auth/signup",
            None,
            json!({"email": "ann@example.com", "password": "another long secret", "name": "Ann"}),
        )
        .await;
    assert_eq!(ann.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn weak_passwords_and_bad_addresses_are_refused_in_words() {
    let app = TestApp::start().await;
    for (email, password, name, field, words) in [
        (
            "x@example.com",
            "short",
            "X",
            "password",
            "at least 10 characters",
        ),
        (
            "x@example.com",
            "password123",
            "X",
            "password",
            "most common",
        ),
        (
            "x@example.com",
            "X@example.com",
            "X",
            "password",
            "your e-mail address",
        ),
        (
            "not-an-address",
            "a long enough secret",
            "X",
            "email",
            "not an e-mail address",
        ),
        (
            "x@example.com",
            "a long enough secret",
            "  ",
            "name",
            "name",
        ),
    ] {
        let answer = app
            .post(
                "/auth/signup",
                None,
                json!({"email": email, "password": password, "name": name}),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.text
        );
        assert_eq!(answer.code(), ErrorCode::Validation);
        assert_eq!(answer.field(), field, "{}", answer.text);
        assert!(answer.text.contains(words), "{words:?} in {}", answer.text);
    }
}

#[tokio::test]
async fn a_private_shop_takes_no_sign_ups() {
    let app = TestApp::with_config(ServerConfig {
        signup: false,
        ..TestApp::config().await
    })
    .await;
    let answer = app
        .post(
            "/auth/signup",
            None,
            json!({"email": "zoe@example.com", "password": "a long enough secret", "name": "Zoe"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    assert_eq!(answer.code(), ErrorCode::Forbidden);
}

/// The reset code in a reset e-mail.
fn reset_code(message: &str) -> String {
    let text = decoded(message);
    text.lines()
        .map(str::trim)
        .find(|l| {
            l.len() == 8
                && l.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned()
}

#[tokio::test]
#[cfg_attr(
    not(have_aiosmtpd),
    ignore = "needs aiosmtpd (apt-get install -y python3-aiosmtpd); .ci/run installs it"
)]
async fn a_password_is_reset_by_a_code_sent_by_email() {
    assert!(have_aiosmtpd(), "{NO_SMTP}");
    let smtp = SmtpServer::start();
    let app = app_mailing(smtp.url()).await;
    let old_session = app.ann().await;

    // Unknown addresses are answered alike, and get nothing.
    let unknown = app
        .post("/auth/reset", None, json!({"email": "nobody@example.com"}))
        .await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED, "{}", unknown.text);
    let asked = app
        .post("/auth/reset", None, json!({"email": "ANN@example.com"}))
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.text);
    let mails = smtp.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 1, "one e-mail, to Ann only");
    assert!(header(&mails[0], "To").unwrap().contains("ann@example.com"));
    let code = reset_code(&mails[0]);

    let confirm = |code: String, password: &str| json!({"email": "ann@example.com", "code": code, "password": password});
    let wrong = app
        .post(
            "/auth/reset/confirm",
            None,
            confirm("ZZZZZZZZ".into(), "a brand new secret"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text.contains("4 tries left"), "{}", wrong.text);
    let weak = app
        .post("/auth/reset/confirm", None, confirm(code.clone(), "short"))
        .await;
    assert_eq!(weak.field(), "password");
    // Typed as a person types it: lower case, with a dash.
    let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let done = app
        .post(
            "/auth/reset/confirm",
            None,
            confirm(typed, "a brand new secret"),
        )
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.text);
    let ended = app.get("/auth/me", Some(&old_session)).await;
    assert_eq!(
        ended.status,
        StatusCode::UNAUTHORIZED,
        "every session ended"
    );
    app.login("ann@example.com", "a brand new secret").await;
    let reused = app
        .post(
            "/auth/reset/confirm",
            None,
            confirm(code, "yet another secret"),
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reused.text.contains("expired or was used"),
        "{}",
        reused.text
    );

    // A code past its half hour is refused.
    app.post("/auth/reset", None, json!({"email": "ann@example.com"}))
        .await;
    let mails = smtp.wait_for(2).await;
    let late = reset_code(&mails[1]);
    let mut db = app.server.state().store().connection().await.unwrap();
    sqlx::query("UPDATE password_resets SET expires_at = 0")
        .execute(&mut *db)
        .await
        .unwrap();
    drop(db);
    let expired = app
        .post(
            "/auth/reset/confirm",
            None,
            confirm(late, "yet another secret"),
        )
        .await;
    assert_eq!(expired.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(expired.text.contains("expired"), "{}", expired.text);
    // The codes are not kept once sent.
    let mut db = app.server.state().store().connection().await.unwrap();
    let kept: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE kind = 'reset_code' AND text_body IS NOT NULL",
    )
    .fetch_one(&mut *db)
    .await
    .unwrap();
    assert_eq!(kept, 0);
}

#[tokio::test]
#[cfg_attr(
    not(have_aiosmtpd),
    ignore = "needs aiosmtpd (apt-get install -y python3-aiosmtpd); .ci/run installs it"
)]
async fn a_paid_order_is_emailed_once_with_every_code_and_its_page() {
    assert!(have_aiosmtpd(), "{NO_SMTP}");
    let smtp = SmtpServer::start();
    let app = app_mailing(smtp.url()).await;
    let ann = app.ann().await;
    let order = paid_order(&app, &ann, 2).await;
    let mails = smtp.wait_for(1).await;
    let mail = &mails[0];
    assert!(
        header(mail, "To").unwrap().contains("ann@example.com"),
        "{mail}"
    );
    assert!(
        header(mail, "From")
            .unwrap()
            .contains("box@granary.example")
    );
    let subject = header(mail, "Subject").unwrap();
    assert!(subject.contains("2 tickets"), "{subject}");
    let message_id = header(mail, "Message-ID").unwrap();
    assert!(message_id.ends_with("@granary.example>"), "{message_id}");
    let body = decoded(mail);
    for ticket in order["tickets"].as_array().unwrap() {
        let code = ticket["code"].as_str().unwrap();
        assert!(body.contains(code), "{code} in {body}");
    }
    assert!(
        body.contains("text/html") || mail.contains("text/html"),
        "an HTML part"
    );
    assert!(!body.contains("<img"), "no images");
    let link = order["tickets_url"].as_str().unwrap();
    assert!(body.contains(link), "{link} in {body}");
    let page = reqwest::get(link).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // One e-mail for one payment, however long one waits.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(smtp.messages().len(), 1);
    let id = order["id"].as_i64().unwrap();
    until_history(&app, id, "E-mailed the tickets to ann@example.com").await;
}

#[tokio::test]
#[cfg_attr(
    not(have_aiosmtpd),
    ignore = "needs aiosmtpd (apt-get install -y python3-aiosmtpd); .ci/run installs it"
)]
async fn an_email_waits_while_the_smtp_server_is_down_and_goes_when_it_is_back() {
    assert!(have_aiosmtpd(), "{NO_SMTP}");
    let port = free_port();
    let app = app_mailing(format!("smtp://127.0.0.1:{port}")).await;
    let ann = app.ann().await;
    let order = paid_order(&app, &ann, 1).await;
    let id = order["id"].as_i64().unwrap();
    // Nothing listens: tried, and tried again.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut db = app.server.state().store().connection().await.unwrap();
        let attempts: i64 = sqlx::query_scalar("SELECT MAX(attempts) FROM outbox")
            .fetch_one(&mut *db)
            .await
            .unwrap();
        drop(db);
        if attempts >= 2 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no retry");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let waiting = history(&app, id).await;
    assert!(
        waiting.iter().any(|l| l.contains("waiting to be sent")),
        "{waiting:#?}"
    );
    let smtp = SmtpServer::start_on(port);
    let mails = smtp.wait_for(1).await;
    assert!(decoded(&mails[0]).contains(order["tickets"][0]["code"].as_str().unwrap()));
    until_history(&app, id, "E-mailed the tickets").await;
}

#[tokio::test]
#[cfg_attr(
    not(have_aiosmtpd),
    ignore = "needs aiosmtpd (apt-get install -y python3-aiosmtpd); .ci/run installs it"
)]
async fn a_refusal_is_recorded_on_the_order_and_not_retried() {
    assert!(have_aiosmtpd(), "{NO_SMTP}");
    let smtp = SmtpServer::start();
    let app = app_mailing(smtp.url()).await;
    let max = app.manager().await;
    let comp = app
        .post(
            "/admin/comps",
            Some(&max),
            json!({"event_id": WREN_DUO, "quantity": 1, "name": "Bounce", "email": "bounce@example.com"}),
        )
        .await;
    assert_eq!(comp.status, StatusCode::CREATED, "{}", comp.text);
    let id = comp.json["id"].as_i64().unwrap();
    let lines = until_history(&app, id, "failed").await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("bounce@example.com") && l.contains("550")),
        "{lines:#?}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut db = app.server.state().store().connection().await.unwrap();
    let (attempts, status): (i64, String) =
        sqlx::query_as("SELECT attempts, status FROM outbox WHERE order_id = $1")
            .bind(id)
            .fetch_one(&mut *db)
            .await
            .unwrap();
    drop(db);
    assert_eq!((attempts, status.as_str()), (1, "failed"), "tried once");
    assert!(smtp.messages().is_empty());

    // A guest with an address that takes mail gets their ticket.
    let guest = app
        .post(
            "/admin/comps",
            Some(&max),
            json!({"event_id": WREN_DUO, "quantity": 1, "name": "Mum", "email": "mum@example.com"}),
        )
        .await;
    let mails = smtp.wait_for(1).await;
    assert!(header(&mails[0], "To").unwrap().contains("mum@example.com"));
    let code = guest.json["tickets"][0]["code"].as_str().unwrap();
    assert!(decoded(&mails[0]).contains(code));
}

#[tokio::test]
#[cfg_attr(
    not(have_aiosmtpd),
    ignore = "needs aiosmtpd (apt-get install -y python3-aiosmtpd); .ci/run installs it"
)]
async fn tickets_go_to_the_address_a_buyer_gives_and_refunds_are_told() {
    assert!(have_aiosmtpd(), "{NO_SMTP}");
    let smtp = SmtpServer::start();
    let app = app_mailing(smtp.url()).await;
    let ann = app.ann().await;
    let order = paid_order(&app, &ann, 2).await;
    let id = order["id"].as_i64().unwrap();
    smtp.wait_for(1).await;

    let bad = app
        .post(
            &format!("/orders/{id}/email"),
            Some(&ann),
            json!({"email": "nope"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let bob = app.bob().await;
    let not_bobs = app
        .post(
            &format!("/orders/{id}/email"),
            Some(&bob),
            json!({"email": "bob@example.com"}),
        )
        .await;
    assert_eq!(not_bobs.status, StatusCode::NOT_FOUND);
    let given = app
        .post(
            &format!("/orders/{id}/email"),
            Some(&ann),
            json!({"email": "ann.other@example.net"}),
        )
        .await;
    assert_eq!(given.status, StatusCode::ACCEPTED, "{}", given.text);
    let mails = smtp.wait_for(2).await;
    assert!(
        header(&mails[1], "To")
            .unwrap()
            .contains("ann.other@example.net")
    );
    assert_ne!(
        header(&mails[0], "Message-ID"),
        header(&mails[1], "Message-ID")
    );

    // The box office refunds one ticket: the buyer is told, at the address of the order.
    let max = app.manager().await;
    let ticket = order["tickets"][0]["id"].as_i64().unwrap();
    let refund = app
        .post(
            &format!("/admin/orders/{id}/refund"),
            Some(&max),
            json!({"tickets": [ticket], "reason": "Cannot come"}),
        )
        .await;
    assert_eq!(refund.status, StatusCode::OK, "{}", refund.text);
    let mails = smtp.wait_for(3).await;
    let refund_mail = &mails[2];
    assert!(
        header(refund_mail, "To")
            .unwrap()
            .contains("ann.other@example.net")
    );
    let subject = header(refund_mail, "Subject").unwrap();
    assert!(subject.starts_with("Refund of £"), "{subject}");
    assert!(decoded(refund_mail).contains("Cannot come"));
}

#[tokio::test]
async fn the_demo_catches_its_mail_in_the_sandbox() {
    let app = TestApp::with_config(ServerConfig {
        mail: Some(MailConfig::new(
            MailTransport::Sandbox,
            "Demo <tickets@demo.example>",
        )),
        ..TestApp::config().await
    })
    .await;
    let ann = app.ann().await;
    let order = paid_order(&app, &ann, 1).await;
    let code = order["tickets"][0]["code"].as_str().unwrap();
    let origin = app.server.origin();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let list = loop {
        let list = reqwest::get(format!("{origin}/mail-sandbox/"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if list.contains("ann@example.com") {
            break list;
        }
        assert!(std::time::Instant::now() < deadline, "{list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(list.contains("Your ticket"), "{list}");
    let html = reqwest::get(format!("{origin}/mail-sandbox/1"))
        .await
        .unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    assert!(html.text().await.unwrap().contains(code));
    let text = reqwest::get(format!("{origin}/mail-sandbox/1/text"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(code) && text.contains("To: ann@example.com"),
        "{text}"
    );
    let missing = reqwest::get(format!("{origin}/mail-sandbox/99"))
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // Without mail, the sandbox is not there.
    let plain = TestApp::start().await;
    let none = reqwest::get(format!("{}/mail-sandbox/", plain.server.origin()))
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
}
