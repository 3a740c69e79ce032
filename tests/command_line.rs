//! The command line as a person (or systemd) meets it: the binary run as a process.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn storefront() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_storefront"));
    // Nothing of the person running the tests is read.
    command
        .env_remove("STOREFRONT_SERVER")
        .env_remove("STOREFRONT_CONFIG")
        .env_remove("RUST_LOG")
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
    assert!(text.contains("catalog loaded"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes for journald: {text:?}"
    );
    let json = first_log_line(&["--log-format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["fields"]["message"], "catalog loaded", "{json}");
    assert_eq!(value["level"], "INFO");
}
