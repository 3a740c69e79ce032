//! The outbox's sender: every server runs one. It claims the e-mails that are due (no other
//! sender gets them meanwhile), renders an order's e-mail at its first claim and keeps it,
//! sends each through SMTP (or the demo's catcher), and marks how the try ended by the
//! retry rule (`super::retry`).

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::watch;

use super::render::{self, OrderFacts, Rendered};
use super::sandbox::MailSandbox;
use super::{Delivery, MailConfig, MailConfigError, MailKind, MailTransport, retry};
use crate::state::AppState;
use crate::store::{ClaimedMail, MailOutcome};
use crate::time;

/// E-mails claimed at once by one sender.
const BATCH: i64 = 32;

/// SMTP conversations one sender holds at once (lettre's pool keeps their connections).
const AT_ONCE: usize = 8;

/// An SMTP conversation that takes longer than this is a try not taken.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Sandbox(MailSandbox),
}

/// What sends the outbox's e-mails.
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
    first_retry: Duration,
    sweep_interval: Duration,
    claim_lapse: Duration,
}

impl Mailer {
    /// A mailer for `config`; the demo's catcher when its transport is the sandbox.
    pub fn new(config: &MailConfig, sandbox: &MailSandbox) -> Result<Mailer, MailConfigError> {
        let from = super::parse_from(&config.from)?;
        let transport = match &config.transport {
            MailTransport::Smtp { url } => {
                super::check_smtp_url(url)?;
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|err| MailConfigError::Url(err.to_string()))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build();
                Transport::Smtp(transport)
            }
            MailTransport::Sandbox => Transport::Sandbox(sandbox.clone()),
        };
        Ok(Mailer {
            from,
            transport,
            first_retry: config.first_retry,
            sweep_interval: config.sweep_interval,
            claim_lapse: config.claim_lapse,
        })
    }

    /// The `Message-ID` of the outbox's e-mail with this key: the same at every try.
    pub fn message_id(&self, key: &str) -> String {
        format!("<{key}@{}>", self.from.email.domain())
    }

    async fn deliver(&self, mail: &ClaimedMail, rendered: &Rendered) -> Delivery {
        let message_id = self.message_id(&mail.message_key);
        match &self.transport {
            Transport::Sandbox(sandbox) => {
                sandbox.catch(&mail.recipient, &message_id, rendered, time::now());
                Delivery::Sent
            }
            Transport::Smtp(smtp) => {
                let message = match self.message(mail, rendered, message_id) {
                    Ok(message) => message,
                    Err(reason) => return Delivery::Refused(reason),
                };
                match smtp.send(message).await {
                    Ok(_) => Delivery::Sent,
                    Err(err) if err.is_permanent() => Delivery::Refused(smtp_error(&err)),
                    Err(err) => Delivery::Unavailable(smtp_error(&err)),
                }
            }
        }
    }

    fn message(
        &self,
        mail: &ClaimedMail,
        rendered: &Rendered,
        message_id: String,
    ) -> Result<Message, String> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|_| format!("{:?} is not an address", mail.recipient))?;
        let queued = UNIX_EPOCH + Duration::from_secs(u64::try_from(mail.created_at).unwrap_or(0));
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject.clone())
            .message_id(Some(message_id))
            .date(queued)
            .multipart(MultiPart::alternative_plain_html(
                rendered.text.clone(),
                rendered.html.clone(),
            ))
            .map_err(|err| err.to_string())
    }
}

/// An SMTP error as the venue's staff read it: the server's own answer when there is one.
fn smtp_error(err: &lettre::transport::smtp::Error) -> String {
    let text = err.to_string();
    match err.status() {
        Some(code) if !text.contains(&code.to_string()) => format!("{code} {text}"),
        _ => text,
    }
}

/// Sends the outbox's due e-mails until the server stops, looking every sweep interval.
pub async fn run_outbox(state: AppState, mailer: Arc<Mailer>, mut stopping: watch::Receiver<bool>) {
    loop {
        if let Err(err) = send_due(&state, &mailer).await {
            tracing::warn!(error = %err, "the outbox could not be read; trying again");
        }
        tokio::select! {
            _ = tokio::time::sleep(mailer.sweep_interval) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}

/// Claims and sends every e-mail due now, [`AT_ONCE`] SMTP conversations at a time; how
/// many were tried.
pub async fn send_due(state: &AppState, mailer: &Mailer) -> Result<usize, sqlx::Error> {
    use futures::StreamExt;
    let store = state.store();
    let mut tried = 0;
    loop {
        let claimed = store
            .claim_mail(time::now(), mailer.claim_lapse, BATCH)
            .await?;
        if claimed.is_empty() {
            return Ok(tried);
        }
        tried += claimed.len();
        let finished: Vec<Result<(), sqlx::Error>> = futures::stream::iter(claimed)
            .map(|mail| send_one(state, mailer, mail))
            .buffer_unordered(AT_ONCE)
            .collect()
            .await;
        finished.into_iter().collect::<Result<(), _>>()?;
    }
}

/// Renders (once), sends and marks one claimed e-mail.
async fn send_one(state: &AppState, mailer: &Mailer, mail: ClaimedMail) -> Result<(), sqlx::Error> {
    let outcome = match rendered(state, &mail).await? {
        Some(rendered) => {
            let delivery = mailer.deliver(&mail, &rendered).await;
            let failures = u32::try_from(mail.attempts.max(0)).unwrap_or(u32::MAX);
            retry(
                delivery,
                failures,
                mailer.first_retry,
                mail.created_at,
                time::now(),
            )
        }
        None => MailOutcome::Failed {
            error: "nothing to tell: the order is gone".to_owned(),
        },
    };
    log(&mail, &outcome);
    state
        .store()
        .finish_mail(mail.id, &outcome, time::now())
        .await
}

fn log(mail: &ClaimedMail, outcome: &MailOutcome) {
    let (id, kind, order_id) = (mail.id, mail.kind.as_str(), mail.order_id);
    match outcome {
        MailOutcome::Sent => tracing::info!(id, kind, order_id, "e-mail sent"),
        MailOutcome::RetryAt { at, error } => {
            tracing::warn!(
                id,
                kind,
                order_id,
                error,
                retry_at = at,
                "e-mail not taken for now"
            )
        }
        MailOutcome::Failed { error } => {
            tracing::error!(id, kind, order_id, error, "e-mail failed for good")
        }
    }
}

/// What the e-mail says: kept from its first rendering, else rendered now from its order
/// and kept. `None` when its order (or refund) is gone.
async fn rendered(state: &AppState, mail: &ClaimedMail) -> Result<Option<Rendered>, sqlx::Error> {
    if let (Some(subject), Some(text), Some(html)) =
        (&mail.subject, &mail.text_body, &mail.html_body)
    {
        return Ok(Some(Rendered {
            subject: subject.clone(),
            text: text.clone(),
            html: html.clone(),
        }));
    }
    let store = state.store();
    let Some(order_id) = mail.order_id else {
        return Ok(None);
    };
    let Some(order) = store.order(order_id).await? else {
        return Ok(None);
    };
    let items = store.order_items(order_id).await?;
    let tickets_url = order
        .tickets_secret
        .as_deref()
        .map(|secret| state.payments().tickets_url(secret));
    let facts = OrderFacts {
        order: &order,
        items: &items,
        tickets_url: tickets_url.as_deref(),
        default_zone: state.timezone(),
    };
    let fresh = match mail.kind {
        MailKind::OrderPaid => render::order_paid(&facts),
        MailKind::Refunded => {
            let refund = items.refunds.iter().find(|r| Some(r.id) == mail.refund_id);
            match refund {
                Some(refund) => render::refunded(&facts, refund),
                None => return Ok(None),
            }
        }
        // Written when queued; its text is not kept once sent.
        MailKind::ResetCode => return Ok(None),
    };
    store.keep_rendered(mail.id, &fresh).await.map(Some)
}
