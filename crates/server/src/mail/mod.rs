//! Tickets by e-mail. What is sent and when: one e-mail when an order is paid (a guest list's
//! included, and again to an address a kiosk buyer gives), one when a refund goes through,
//! and the code of a password reset. Each is a row of the outbox written in the transaction
//! of the change it tells of (`store::outbox`); no request waits for SMTP. How each reads is
//! `render` (pure); `sender` claims, sends and marks them, retrying what a server could not
//! take for now (`retry`, pure); `sandbox` catches the demo's e-mails instead of sending them.

pub mod render;
pub mod sandbox;
pub mod sender;

use std::net::IpAddr;
use std::time::Duration;

use lettre::message::Mailbox;
use storefront_contract::Backoff;

use crate::store::MailOutcome;
use crate::time::Timestamp;

storefront_contract::named_enum! {
    /// What an e-mail tells of.
    pub enum MailKind {
        /// The order is paid: its tickets, codes and ticket page.
        OrderPaid = "order_paid",
        /// A refund of the order went through.
        Refunded = "refunded",
        /// A password reset's code.
        ResetCode = "reset_code",
    }
}

/// Where e-mails go.
#[derive(Clone, Debug)]
pub enum MailTransport {
    /// An SMTP server, as lettre's URL names it (`smtps://user:pass@host:465`,
    /// `smtp://user:pass@host:587?tls=required`, or plain `smtp://127.0.0.1:2525` on
    /// loopback only).
    Smtp { url: String },
    /// Caught, not sent: the demo shows them at `/mail-sandbox/`.
    Sandbox,
}

/// How the server sends e-mail (`serve --smtp-url --mail-from`).
#[derive(Clone, Debug)]
pub struct MailConfig {
    pub transport: MailTransport,
    /// `Venue <box@venue.example>`: the sender, and the domain of every `Message-ID`.
    pub from: String,
    /// The first wait after a try the server could not take; doubling up to half an hour.
    pub first_retry: Duration,
    /// The outbox is looked at this often.
    pub sweep_interval: Duration,
    /// A claim on an e-mail that was not marked within this time lapses, and another sender
    /// sends it (again, the same e-mail): longer than a batch can take to send, so that only
    /// a sender that died loses its claims.
    pub claim_lapse: Duration,
}

impl MailConfig {
    pub fn new(transport: MailTransport, from: impl Into<String>) -> MailConfig {
        MailConfig {
            transport,
            from: from.into(),
            first_retry: Duration::from_secs(30),
            sweep_interval: Duration::from_secs(1),
            claim_lapse: Duration::from_secs(5 * 60),
        }
    }
}

/// Why a mail setting cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("--mail-from {0:?} is not an address (write it as \"Venue <box@venue.example>\")")]
    From(String),
    #[error("--smtp-url: {0}")]
    Url(String),
}

/// The sender's mailbox, checked.
pub fn parse_from(from: &str) -> Result<Mailbox, MailConfigError> {
    from.trim()
        .parse::<Mailbox>()
        .map_err(|_| MailConfigError::From(from.to_owned()))
}

/// Whether an SMTP URL may be used: `smtps://` (TLS), `smtp://` with `tls=required`
/// (STARTTLS), or a plain `smtp://` to this machine only; passwords never cross a network
/// in the clear.
pub fn check_smtp_url(url: &str) -> Result<(), MailConfigError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|err| MailConfigError::Url(format!("{url:?} is not a URL: {err}")))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| MailConfigError::Url(format!("{url:?} names no host")))?;
    match parsed.scheme() {
        "smtps" => Ok(()),
        "smtp" => {
            let required = parsed
                .query_pairs()
                .any(|(key, value)| key == "tls" && value == "required");
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback =
                host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if required || loopback {
                Ok(())
            } else {
                Err(MailConfigError::Url(format!(
                    "{host} is reached without encryption: use smtps://{host}:465, or \
                     smtp://{host}:587?tls=required"
                )))
            }
        }
        other => Err(MailConfigError::Url(format!(
            "{other}:// is not SMTP: use smtps:// or smtp://"
        ))),
    }
}

/// Whether an address can take e-mail, as the buyer typed it (trimmed); `None` if not.
pub fn parse_address(text: &str) -> Option<String> {
    let text = text.trim();
    let address = text.parse::<lettre::Address>().ok()?;
    // A domain with no dot reaches no one from here (`a@localhost` aside, which is no buyer's).
    address.domain().contains('.').then(|| text.to_owned())
}

/// The longest wait between two tries of an e-mail.
const LONGEST_WAIT: Duration = Duration::from_secs(30 * 60);

/// An e-mail no server has taken for this long is given up, and said on its order.
const GIVE_UP_AFTER_SECS: i64 = 24 * 60 * 60;

/// What a try of an e-mail came to, as the retry rule sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// The server refused it for good (a 5xx answer): trying again would not change it.
    Refused(String),
    /// Not taken for now: no connection, a 4xx answer, a timeout.
    Unavailable(String),
}

/// How a try ends, after `failures` tries not taken, for an e-mail queued at `queued_at`:
/// sent, failed for good, or tried again after the backoff's wait; given up after a day.
pub fn retry(
    delivery: Delivery,
    failures: u32,
    first_wait: Duration,
    queued_at: Timestamp,
    now: Timestamp,
) -> MailOutcome {
    match delivery {
        Delivery::Sent => MailOutcome::Sent,
        Delivery::Refused(error) => MailOutcome::Failed { error },
        Delivery::Unavailable(error) => {
            if now - queued_at >= GIVE_UP_AFTER_SECS {
                return MailOutcome::Failed {
                    error: format!("not taken for a day; last: {error}"),
                };
            }
            let wait =
                Backoff::after_failures(first_wait, LONGEST_WAIT, failures.saturating_add(1));
            MailOutcome::RetryAt {
                at: now
                    .saturating_add(i64::try_from(wait.as_secs().max(1)).unwrap_or(i64::MAX / 2)),
                error,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_cross_no_network_in_the_clear() {
        for good in [
            "smtps://user:pass@mail.example.com:465",
            "smtp://user:pass@mail.example.com:587?tls=required",
            "smtp://127.0.0.1:2525",
            "smtp://localhost:25",
            "smtp://[::1]:2525",
        ] {
            assert!(check_smtp_url(good).is_ok(), "{good}");
        }
        for bad in [
            "smtp://mail.example.com:25",
            "smtp://user:pass@10.0.0.5:587?tls=opportunistic",
            "http://mail.example.com",
            "mail.example.com",
        ] {
            assert!(check_smtp_url(bad).is_err(), "{bad}");
        }
        assert!(
            check_smtp_url("smtp://mail.example.com")
                .unwrap_err()
                .to_string()
                .contains("smtps://mail.example.com:465")
        );
    }

    #[test]
    fn addresses_are_checked_as_mail_takes_them() {
        assert_eq!(
            parse_address("  ada@example.com "),
            Some("ada@example.com".to_owned())
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@@example.com",
            "ada@localhost",
            "a b@example.com",
        ] {
            assert_eq!(parse_address(bad), None, "{bad:?}");
        }
        assert!(parse_from("Venue <box@venue.example>").is_ok());
        assert!(parse_from("box office").is_err());
    }

    #[test]
    fn a_mail_is_retried_with_backoff_for_a_day_and_never_after_a_refusal() {
        let first = Duration::from_secs(30);
        assert_eq!(retry(Delivery::Sent, 3, first, 0, 100), MailOutcome::Sent);
        assert_eq!(
            retry(
                Delivery::Refused("550 no such user".into()),
                0,
                first,
                0,
                100
            ),
            MailOutcome::Failed {
                error: "550 no such user".into()
            }
        );
        let at = |failures| match retry(
            Delivery::Unavailable("down".into()),
            failures,
            first,
            0,
            1000,
        ) {
            MailOutcome::RetryAt { at, .. } => at - 1000,
            other => panic!("{other:?}"),
        };
        assert_eq!([at(0), at(1), at(2)], [30, 60, 120]);
        assert_eq!(at(20), 30 * 60, "at most half an hour apart");
        assert!(matches!(
            retry(Delivery::Unavailable("down".into()), 40, first, 0, GIVE_UP_AFTER_SECS),
            MailOutcome::Failed { error } if error.contains("not taken for a day; last: down")
        ));
    }
}
