//! The demo's mail catcher: e-mails are kept, not sent, and `/mail-sandbox/` lists them,
//! each readable as the buyer would see it (its HTML, and its text as a terminal mail client
//! shows it). Only what this process sent; the newest few hundred.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::render::Rendered;
use crate::html::escape;
use crate::time::{Timestamp, to_utc};

/// Where the catcher is mounted.
pub const MAIL_SANDBOX_PATH: &str = "/mail-sandbox";

/// How many e-mails are kept.
const KEPT: usize = 500;

/// One caught e-mail.
#[derive(Clone, Debug)]
pub struct CaughtMail {
    pub number: usize,
    pub at: Timestamp,
    pub to: String,
    pub message_id: String,
    pub mail: Rendered,
}

/// The e-mails caught so far, shared by the sender and the pages.
#[derive(Clone, Debug, Default)]
pub struct MailSandbox {
    caught: Arc<Mutex<Caught>>,
}

#[derive(Debug, Default)]
struct Caught {
    next: usize,
    mails: VecDeque<CaughtMail>,
}

impl MailSandbox {
    pub fn new() -> MailSandbox {
        MailSandbox::default()
    }

    /// Keeps an e-mail, as if sent.
    pub fn catch(&self, to: &str, message_id: &str, mail: &Rendered, at: Timestamp) {
        let mut caught = self.caught.lock().unwrap_or_else(|p| p.into_inner());
        caught.next += 1;
        let number = caught.next;
        caught.mails.push_back(CaughtMail {
            number,
            at,
            to: to.to_owned(),
            message_id: message_id.to_owned(),
            mail: mail.clone(),
        });
        while caught.mails.len() > KEPT {
            caught.mails.pop_front();
        }
    }

    /// Every e-mail kept, oldest first.
    pub fn mails(&self) -> Vec<CaughtMail> {
        let caught = self.caught.lock().unwrap_or_else(|p| p.into_inner());
        caught.mails.iter().cloned().collect()
    }

    fn mail(&self, number: usize) -> Option<CaughtMail> {
        self.mails().into_iter().find(|m| m.number == number)
    }
}

/// `/`: the list; `/{n}`: one e-mail's HTML as sent; `/{n}/text`: its text.
pub fn router(sandbox: MailSandbox) -> Router {
    Router::new()
        .route("/", get(list))
        .route("/{number}", get(html))
        .route("/{number}/text", get(text))
        .with_state(sandbox)
}

async fn list(State(sandbox): State<MailSandbox>) -> Html<String> {
    let mails = sandbox.mails();
    let rows: String = mails
        .iter()
        .rev()
        .map(|m| {
            format!(
                "<tr><td>{at}</td><td>{to}</td><td><a href=\"{base}/{n}\">{subject}</a></td>\
                 <td><a href=\"{base}/{n}/text\">text</a></td></tr>",
                at = to_utc(m.at).format("%Y-%m-%d %H:%M:%S UTC"),
                to = escape(&m.to),
                subject = escape(&m.mail.subject),
                base = MAIL_SANDBOX_PATH,
                n = m.number,
            )
        })
        .collect();
    let body = match mails.is_empty() {
        true => {
            "<p>No e-mail yet. Pay for an order in the demo, and its e-mail is here.</p>".to_owned()
        }
        false => format!(
            "<table><tr><th>Sent</th><th>To</th><th>Subject</th><th></th></tr>{rows}</table>"
        ),
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"5\"><title>Mail sandbox</title>\
         <style>body{{font:16px/1.4 system-ui,sans-serif;margin:1rem}}td,th{{padding:.3rem .6rem;\
         text-align:left;border-bottom:1px solid #ddd}}</style></head><body>\
         <h1>Mail sandbox</h1><p>The e-mails this demo would have sent, newest first. Nothing \
         left this machine.</p>{body}</body></html>"
    ))
}

fn number(text: &str) -> Option<usize> {
    text.parse().ok()
}

async fn html(State(sandbox): State<MailSandbox>, Path(n): Path<String>) -> Response {
    match number(&n).and_then(|n| sandbox.mail(n)) {
        Some(m) => Html(m.mail.html).into_response(),
        None => (StatusCode::NOT_FOUND, Html("<p>No such e-mail.</p>")).into_response(),
    }
}

async fn text(State(sandbox): State<MailSandbox>, Path(n): Path<String>) -> Response {
    match number(&n).and_then(|n| sandbox.mail(n)) {
        Some(m) => (
            [("content-type", "text/plain; charset=utf-8")],
            format!(
                "To: {}\nSubject: {}\nMessage-ID: {}\n\n{}",
                m.to, m.mail.subject, m.message_id, m.mail.text
            ),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "No such e-mail.\n").into_response(),
    }
}
