//! The command line as a person (or systemd) meets it: the binary run as a process.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

mod support;

fn storefront() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_storefront"));
    // Nothing of the person running the tests is read.
    command
        .env_remove("STOREFRONT_SERVER")
        .env_remove("STOREFRONT_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("SUMUP_API_KEY")
        .env_remove("SUMUP_MERCHANT_CODE")
        .stdin(Stdio::null());
    command
}

fn run(args: &[&str]) -> (i32, String, String) {
    let output = storefront().args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_client_without_a_terminal_says_so_and_exits_2() {
    for args in [&["demo"][..], &[][..]] {
        let (code, _, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains("needs a terminal"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn each_command_takes_only_its_own_flags() {
    let (code, help, _) = run(&["serve", "--help"]);
    assert_eq!(code, 0);
    for client_flag in ["--server", "--config", "--kiosk", "--checkin"] {
        assert!(
            !help.contains(client_flag),
            "serve --help lists {client_flag}"
        );
    }
    assert!(help.contains("--log-format"));
    assert!(help.contains("--sumup-webhook-secret"));
    let (code, _, stderr) = run(&["demo", "--server", "http://elsewhere"]);
    assert_eq!(code, 2, "the demo runs its own server: {stderr}");
    assert!(stderr.contains("--server"), "{stderr}");
    let (code, help, _) = run(&["demo", "--help"]);
    assert_eq!(code, 0);
    assert!(
        help.contains("--kiosk") && help.contains("--checkin"),
        "{help}"
    );
}

#[test]
fn a_bad_catalog_or_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "currency = \"GBP\"\n").unwrap();
    let (code, _, stderr) = run(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--catalog",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains(empty.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains("no events, pages or users"), "{stderr}");

    let (code, _, stderr) = run(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database",
        "sqlite:///no/such/directory/shop.db",
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("cannot open the database sqlite:///no/such/directory/shop.db"),
        "{stderr}"
    );
}

/// Starts `serve --demo` with `extra` flags, reads its first log line, and stops it.
fn first_log_line(extra: &[&str]) -> String {
    let mut child = storefront()
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    line
}

#[test]
fn server_logs_are_plain_off_a_terminal_or_json_when_asked() {
    let text = first_log_line(&[]);
    assert!(text.contains("catalog applied"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes for journald: {text:?}"
    );
    let json = first_log_line(&["--log-format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["fields"]["message"], "catalog applied", "{json}");
    assert_eq!(value["level"], "INFO");
    // What was loaded, counted.
    let demo = include_str!("../assets/demo-catalog.toml");
    for (field, section) in [
        ("pages", "[[pages]]"),
        ("events", "[[events]]"),
        ("users", "[[users]]"),
        ("readers", "[[readers]]"),
    ] {
        let entries = demo.lines().filter(|l| l.trim() == section).count();
        assert_eq!(value["fields"][field], entries, "{field}: {json}");
    }
}

/// A venue's catalog with fixed times, so that what `catalog check` prints stays the same.
const VENUE: &str = r#"
[[users]]
email = "ann@example.com"
password = "ann-pass"
name = "Ann"

[[pages]]
slug = "granary"
title = "The Old Granary"

[[calendars]]
slug = "barn"
name = "Barn"
page = "granary"

[[events]]
slug = "wren-duo"
calendar = "barn"
name = "Wren Duo"
starts_at = "2030-12-20T19:30:00Z"
ticket_count = 40
[[events.ticket_types]]
name = "Standard"
cost = "12.00"

[[events]]
slug = "last-month"
calendar = "barn"
name = "Last Month's Show"
starts_at = "2030-11-01T19:30:00Z"
ticket_price = "9.00"

[[tickets]]
event = "wren-duo"
user = "ann@example.com"
quantity = 3
ticket_type = "Standard"
"#;

/// `(exit code, stdout)` of `storefront catalog ARGS… FILE`, with the catalog's text in FILE.
fn catalog_command(dir: &std::path::Path, args: &[&str], text: &str) -> (i32, String) {
    let file = dir.join("catalog.toml");
    std::fs::write(&file, text).unwrap();
    let mut all = vec!["catalog", args[0], file.to_str().unwrap()];
    all.extend_from_slice(&args[1..]);
    let (code, stdout, stderr) = run(&all);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (code, stdout)
}

#[test]
fn catalog_check_says_each_change_and_apply_makes_it() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("shop.db").display());
    let db = database.as_str();

    // Checked against no database, then applied to a new one.
    let (code, checked) = catalog_command(dir.path(), &["check"], VENUE);
    assert_eq!(code, 0);
    insta::assert_snapshot!("catalog_check_new", checked);
    // Allowed but probably not meant: said, and nothing refused for it.
    let empty_room = VENUE.replace("ticket_count = 40", "ticket_count = 0");
    let (code, warned) = catalog_command(dir.path(), &["check"], &empty_room);
    assert_eq!(code, 0);
    assert!(
        warned.contains("! events[0] \"Wren Duo\": ticket_count 0: it is sold out from the start"),
        "{warned}"
    );
    let (code, applied) = catalog_command(dir.path(), &["apply", "--database", db], VENUE);
    assert_eq!(code, 0);
    assert!(applied.ends_with("6 changes applied.\n"), "{applied}");

    // A week later: a new show, a higher price, last month's show archived.
    let next = VENUE
        .replace("cost = \"12.00\"", "cost = \"14.00\"")
        .replace(
            "[[events]]\nslug = \"last-month\"\ncalendar = \"barn\"\nname = \"Last Month's Show\"\nstarts_at = \"2030-11-01T19:30:00Z\"\nticket_price = \"9.00\"\n",
            "[[events]]\nslug = \"new-year\"\ncalendar = \"barn\"\nname = \"New Year Ceilidh\"\nstarts_at = \"2030-12-31T20:00:00Z\"\nticket_price = \"15.00\"\n",
        );
    let (code, checked) = catalog_command(dir.path(), &["check", "--database", db], &next);
    assert_eq!(code, 0);
    insta::assert_snapshot!("catalog_check_changes", checked);
    let (code, applied) = catalog_command(dir.path(), &["apply", "--database", db], &next);
    assert_eq!(
        (code, applied),
        (0, checked.replace("would be applied", "applied"))
    );
    let (code, again) = catalog_command(dir.path(), &["apply", "--database", db], &next);
    assert_eq!(code, 0);
    assert_eq!(
        again,
        "Nothing to change: the database holds this catalog.\n"
    );

    // Three are sold: a room of two is refused, and so is taking the type away.
    let smaller = next
        .replace("ticket_count = 40", "ticket_count = 2")
        .replace("name = \"Standard\"", "name = \"Regular\"")
        .replace("ticket_type = \"Standard\"", "ticket_type = \"Regular\"");
    let (code, refused) = catalog_command(dir.path(), &["check", "--database", db], &smaller);
    assert_eq!(code, 1);
    insta::assert_snapshot!("catalog_check_refused", refused);
    let (code, _) = catalog_command(dir.path(), &["apply", "--database", db], &smaller);
    assert_eq!(code, 1);
    let (_, unchanged) = catalog_command(dir.path(), &["check", "--database", db], &next);
    assert_eq!(
        unchanged,
        "Nothing to change: the database holds this catalog.\n"
    );
}

/// `storefront serve` on a free loopback port with `args`, and its origin once it listens.
fn serve(args: &[&str]) -> (std::process::Child, String) {
    let mut child = storefront()
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let origin = support::listening_origin(&mut child, "its stderr is not kept");
    (child, origin)
}

/// The events the server at `origin` lists.
async fn events(origin: &str) -> Vec<serde_json::Value> {
    let list: serde_json::Value = reqwest::get(format!("{origin}/api/v1/events"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn serve_applies_its_catalog_again_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.toml");
    std::fs::write(&catalog, VENUE).unwrap();
    let database = format!("sqlite://{}", dir.path().join("shop.db").display());
    let (mut child, origin) = serve(&[
        "--database",
        &database,
        "--catalog",
        catalog.to_str().unwrap(),
    ]);
    let names = || async {
        events(&origin)
            .await
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names().await, ["Last Month's Show", "Wren Duo"]);

    std::fs::write(&catalog, VENUE.replace("Wren Duo", "Wren Duo: Encore")).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while names().await != ["Last Month's Show", "Wren Duo: Encore"] {
        assert!(
            std::time::Instant::now() < deadline,
            "still {:?}",
            names().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn a_running_server_serves_what_catalog_apply_wrote_to_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("shop.db").display());
    let (code, _) = catalog_command(dir.path(), &["apply", "--database", &database], VENUE);
    assert_eq!(code, 0);
    let (mut child, origin) = serve(&["--database", &database]);
    let price = || async {
        events(&origin)
            .await
            .iter()
            .find(|e| e["slug"] == "wren-duo")
            .map(|e| e["price_from"].as_str().unwrap().to_owned())
    };
    assert_eq!(price().await.as_deref(), Some("12.00"));
    let raised = VENUE.replace("cost = \"12.00\"", "cost = \"13.00\"");
    let (code, _) = catalog_command(dir.path(), &["apply", "--database", &database], &raised);
    assert_eq!(code, 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while price().await.as_deref() != Some("13.00") {
        assert!(
            std::time::Instant::now() < deadline,
            "still {:?}",
            price().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn serve_takes_a_host_name_and_says_when_it_stopped() {
    let mut child = storefront()
        .args(["serve", "--demo", "--bind", "localhost:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("listening on http://127.0.0.1:")
            || line.starts_with("listening on http://[::1]:"),
        "{line}"
    );
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.trim_end().ends_with("storefront: stopped"),
        "{stderr}"
    );

    let (code, _, stderr) = run(&["serve", "--bind", "no-such-host.invalid:80"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("is not an address to listen on"),
        "{stderr}"
    );
}

#[tokio::test]
async fn readers_are_paired_and_listed_through_sumups_readers_api() {
    // A demo server's SumUp sandbox stands for SumUp.
    let (mut child, origin) = serve(&["--demo"]);
    let sandbox = format!("{origin}/sumup-sandbox");
    let sumup = [
        "--sumup-base-url",
        sandbox.as_str(),
        "--sumup-api-key",
        "sup_sk_test",
        "--sumup-merchant-code",
        "MSANDBOX",
    ];
    let (code, stdout, stderr) = run(&[&["readers", "list"][..], &sumup].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("no reader is paired"), "{stdout}");
    let (code, stdout, stderr) = run(&[
        &["readers", "pair", "--code", "QX7R2M9K", "--name", "door-9"][..],
        &sumup,
    ]
    .concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("paired QX7R2M9K as \"door-9\" (id rdr_"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&[&["readers", "list"][..], &sumup].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("door-9"), "{stdout}");
    assert!(stdout.contains("online, battery 87 %, idle"), "{stdout}");
    // The same code again is SumUp's refusal, said.
    let (code, _, stderr) = run(&[
        &["readers", "pair", "--code", "QX7R2M9K", "--name", "door-9"][..],
        &sumup,
    ]
    .concat());
    assert_eq!(code, 1);
    assert!(stderr.contains("the reader was not paired"), "{stderr}");
    // Without a key, it says what is missing.
    let (code, _, stderr) = run(&["readers", "list", "--sumup-base-url", &sandbox]);
    assert_eq!(code, 1);
    assert!(stderr.contains("SUMUP_API_KEY"), "{stderr}");
    child.kill().unwrap();
    child.wait().unwrap();
}
