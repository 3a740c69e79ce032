//! The outbox across a crash, with real processes: two `storefront serve` on one PostgreSQL
//! database, sending through a real SMTP server (aiosmtpd); one is killed with SIGKILL while
//! it is sending. Every change still gets its e-mail, and an e-mail sent again after the crash
//! is the same e-mail (the same `Message-ID`, the same words), never a different one.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;

#[allow(dead_code)]
#[path = "../crates/server/tests/api/postgres.rs"]
mod postgres;
#[allow(dead_code)]
#[path = "../crates/server/tests/api/smtp.rs"]
mod smtp;

/// A claim lapses after this long: longer than the SMTP server's slow answer (5 s).
const CLAIM_SECS: &str = "8";

/// `storefront serve --demo` on `database`, sending through `smtp`; its origin.
fn serve(database: &str, smtp: &str, log: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_storefront"))
        .args(["serve", "--demo", "--bind", "127.0.0.1:0", "--database"])
        .arg(database)
        .args([
            "--smtp-url",
            smtp,
            "--mail-from",
            "Box office <box@granary.example>",
        ])
        .args(["--mail-claim-secs", CLAIM_SECS])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let origin = support::listening_origin(&mut child, &format!("its log: {}", log.display()));
    (child, origin)
}

/// One message as the test compares them: its `Message-ID`, and who it is to, what it says
/// and its words; not `Date` (the moment of each try) nor the MIME boundaries (chosen at
/// each build).
fn identity(message: &str) -> (String, String) {
    let id = smtp::header(message, "Message-ID").unwrap_or_else(|| panic!("{message}"));
    let to = smtp::header(message, "To").unwrap_or_default();
    let subject = smtp::header(message, "Subject").unwrap_or_default();
    let normal = message.replace("\r\n", "\n");
    let body = normal.split_once("\n\n").map_or("", |(_, body)| body);
    let boundary = normal
        .split("boundary=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("\u{0}");
    let words = smtp::decoded(body).replace(boundary, "");
    (id, format!("To: {to}\nSubject: {subject}\n{words}"))
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql) and aiosmtpd (apt-get install -y python3-aiosmtpd); run with --include-ignored (.ci/run does)"]
async fn a_server_killed_while_sending_loses_no_email_and_changes_none() {
    assert!(
        smtp::have_aiosmtpd(),
        "needs apt-get install -y python3-aiosmtpd"
    );
    let mailbox = smtp::SmtpServer::start();
    let database = postgres::fresh_database().await;
    let logs = tempfile::tempdir().unwrap();
    let (mut a, origin_a) = serve(&database, &mailbox.url(), &logs.path().join("a.log"));
    let (mut b, origin_b) = serve(&database, &mailbox.url(), &logs.path().join("b.log"));

    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{origin_a}/api/v1/auth/login"))
        .json(&json!({"email": "manager@example.com", "password": "manager"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let events: Value = http
        .get(format!("{origin_a}/api/v1/events"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|e| e["available"].as_i64().unwrap_or(0))
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    // Guest-list tickets, each told by e-mail; through A only, so that A sends them. Those
    // to `slow…` reach the SMTP server, which answers five seconds later.
    let recipients: Vec<String> = (0..16)
        .map(|i| {
            if i % 4 == 0 {
                format!("slow{i}@example.com")
            } else {
                format!("guest{i}@example.com")
            }
        })
        .collect();
    let mut orders = Vec::new();
    for (i, email) in recipients.iter().enumerate() {
        let answer = http
            .post(format!("{origin_a}/api/v1/admin/comps"))
            .bearer_auth(&token)
            .json(
                &json!({"event_id": event, "quantity": 1, "name": format!("Guest {i}"),
                          "email": email}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 201);
        let made: Value = answer.json().await.unwrap();
        orders.push(made["id"].as_i64().unwrap());
    }
    // A slow e-mail has reached the SMTP server and is not answered yet: A dies before it
    // can mark it sent.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !mailbox
        .messages()
        .iter()
        .any(|m| smtp::header(m, "To").is_some_and(|to| to.contains("slow")))
    {
        assert!(Instant::now() < deadline, "no slow e-mail was sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let killed = Command::new("kill")
        .args(["-KILL", &a.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    a.wait().unwrap();

    // B takes over what A had claimed once the claims lapse, and sends it again.
    let deadline = Instant::now() + Duration::from_secs(60);
    let by_id = loop {
        let mut by_id: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for message in mailbox.messages() {
            let (id, content) = identity(&message);
            by_id.entry(id).or_default().push(content);
        }
        let slow_twice = by_id
            .values()
            .filter(|copies| copies[0].contains("To: slow") && copies.len() >= 2)
            .count();
        if by_id.len() == recipients.len() && slow_twice > 0 {
            // Anything still to come would have come within the lapse and the slow answer.
            tokio::time::sleep(Duration::from_secs(15)).await;
            break mailbox.messages().iter().map(|m| identity(m)).fold(
                BTreeMap::<String, Vec<String>>::new(),
                |mut by_id, (id, c)| {
                    by_id.entry(id).or_default().push(c);
                    by_id
                },
            );
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} e-mails, {slow_twice} sent again; B's log: {}",
            by_id.len(),
            recipients.len(),
            std::fs::read_to_string(logs.path().join("b.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    // One e-mail per change: as many Message-IDs as guests, each guest's own.
    assert_eq!(by_id.len(), recipients.len(), "{:#?}", by_id.keys());
    for email in &recipients {
        let theirs = by_id
            .values()
            .filter(|copies| copies[0].contains(&format!("To: {email}\n")))
            .count();
        assert_eq!(theirs, 1, "{email} has {theirs} different e-mails");
    }
    // What was sent again is the same e-mail, word for word.
    for (id, copies) in &by_id {
        assert!(
            copies.iter().all(|c| c == &copies[0]),
            "{id} was sent with different content: {copies:#?}"
        );
    }

    // B marks everything: each order's history says its e-mail went.
    for order in &orders {
        let detail: Value = http
            .get(format!("{origin_b}/api/v1/admin/orders/{order}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let history = detail["history"].to_string();
        assert!(history.contains("E-mailed"), "order {order}: {history}");
        assert!(
            !history.contains("waiting to be sent"),
            "order {order}: {history}"
        );
    }
    b.kill().ok();
    b.wait().ok();
}
