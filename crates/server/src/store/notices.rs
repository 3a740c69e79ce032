//! Telling every server that an order changed, so that long-polls waiting on another server
//! answer at once, and that sessions, users or the catalog changed, so that none goes on
//! with what it kept of them (see `kept`): PostgreSQL's `NOTIFY`/`LISTEN`. SQLite serves one
//! process, which needs nothing beyond its own in-process signal.

use std::time::Duration;

use sqlx::Connection;
use sqlx::postgres::{PgConnection, PgListener};
use storefront_contract::Backoff;
use tokio::sync::{mpsc, oneshot, watch};

use super::{Backend, Store};

const CHANNEL: &str = "storefront_orders";

/// What a change makes every server forget of what it keeps for a moment (see `kept`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Forget {
    /// Sessions or users changed: who tokens belong to.
    Sessions,
    /// The catalog changed: events on sale, and (users' roles and passwords) sessions.
    Catalog,
}

impl Forget {
    /// The notice's text (an order's is its id).
    fn payload(self) -> &'static str {
        match self {
            Forget::Sessions => "sessions",
            Forget::Catalog => "catalog",
        }
    }

    fn from_payload(payload: &str) -> Option<Forget> {
        [Forget::Sessions, Forget::Catalog]
            .into_iter()
            .find(|forget| forget.payload() == payload)
    }
}

/// Most changes sent in one statement.
const MOST_AT_ONCE: usize = 256;

/// How long closing waits for the queued changes to go out (a database that does not answer
/// must not hold up a server that is stopping).
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// The changes this server has to tell the others, sent by a task of their own on a
/// connection of its own: a request that changed an order neither waits for a turn on the
/// pool nor for the notice to go out, and changes that come together go out in one statement.
#[derive(Clone, Debug)]
pub(super) struct Notices {
    queue: mpsc::UnboundedSender<Notice>,
}

#[derive(Debug)]
enum Notice {
    Changed(i64),
    Forget(Forget),
    /// Send what came before, close the connection, then say so.
    Close(oneshot::Sender<()>),
}

impl Notices {
    /// Starts the task that sends them to the database at `url`.
    pub(super) fn start(url: &str) -> Notices {
        let (queue, notices) = mpsc::unbounded_channel();
        tokio::spawn(send_notices(url.to_owned(), notices));
        Notices { queue }
    }

    /// Sends what is queued and stops (waiting at most [`CLOSE_WAIT`]).
    pub(super) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.queue.send(Notice::Close(done)).is_ok()
            && tokio::time::timeout(CLOSE_WAIT, closed).await.is_err()
        {
            tracing::warn!("stopped before the last order changes were told to other servers");
        }
    }
}

async fn send_notices(url: String, mut queue: mpsc::UnboundedReceiver<Notice>) {
    let mut connection: Option<PgConnection> = None;
    let mut notices = Vec::new();
    let mut changed = Vec::new();
    while queue.recv_many(&mut notices, MOST_AT_ONCE).await > 0 {
        let mut closed = None;
        for notice in notices.drain(..) {
            match notice {
                Notice::Changed(order_id) => changed.push(order_id.to_string()),
                Notice::Forget(forget) => changed.push(forget.payload().to_owned()),
                Notice::Close(done) => closed = Some(done),
            }
        }
        changed.sort_unstable();
        changed.dedup();
        if !changed.is_empty() {
            send(&url, &mut connection, &changed).await;
            changed.clear();
        }
        if let Some(done) = closed {
            if let Some(connection) = connection.take() {
                connection.close().await.ok();
            }
            let _ = done.send(());
            return;
        }
    }
}

/// Sends the changes, opening the connection when there is none; a connection that fails is
/// opened again once. Changes that cannot be sent are only logged: a long-poll also asks
/// SumUp itself now and then.
async fn send(url: &str, connection: &mut Option<PgConnection>, changed: &[String]) {
    for _ in 0..2 {
        let open = match connection {
            Some(open) => open,
            None => match PgConnection::connect(url).await {
                Ok(open) => connection.insert(open),
                Err(err) => {
                    tracing::warn!(error = %err, "cannot tell other servers that orders changed");
                    return;
                }
            },
        };
        match sqlx::query("SELECT pg_notify($1, notice) FROM unnest($2::text[]) AS notice")
            .bind(CHANNEL)
            .bind(changed)
            .execute(open)
            .await
        {
            Ok(_) => return,
            Err(err) => {
                tracing::warn!(error = %err, "lost the connection that tells other servers of changes");
                *connection = None;
            }
        }
    }
}

impl Store {
    /// Tells the other servers on this database that an order changed (soon, without
    /// waiting: see [`Notices`]).
    pub fn notify_order_changed(&self, order_id: i64) {
        if let Some(notices) = &self.notices
            && notices.queue.send(Notice::Changed(order_id)).is_err()
        {
            tracing::debug!(order_id, "the store is closed; other servers are not told");
        }
    }

    /// Forgets what this server keeps of what changed, and tells the other servers on this
    /// database to: call once the change is committed.
    pub(super) fn changed(&self, what: Forget) {
        self.forget(what);
        if let Some(notices) = &self.notices
            && notices.queue.send(Notice::Forget(what)).is_err()
        {
            tracing::debug!(?what, "the store is closed; other servers are not told");
        }
    }

    /// Forgets what is kept of what changed.
    fn forget(&self, what: Forget) {
        self.sessions.forget_all();
        if what == Forget::Catalog {
            self.on_sale.forget_all();
        }
    }

    /// Calls `changed` with the order's id whenever any server says an order changed, and
    /// forgets what it kept when one says sessions or the catalog changed, until `stop`
    /// turns true; reconnects when the connection drops (a long-poll asks SumUp itself now
    /// and then, so a change missed meanwhile is still noticed; what is kept is forgotten
    /// after a second anyway). Returns at once on SQLite.
    pub async fn listen_for_order_changes(
        &self,
        changed: impl Fn(i64),
        mut stop: watch::Receiver<bool>,
    ) {
        if self.backend != Backend::Postgres {
            return;
        }
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        while !*stop.borrow() {
            let mut listener = match PgListener::connect(&self.url).await {
                Ok(listener) => listener,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for order changes; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff.next_delay()) => {}
                        _ = stop.changed() => {}
                    }
                    continue;
                }
            };
            if let Err(err) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %err, "cannot listen for order changes; retrying");
                continue;
            }
            backoff.reset();
            // What changed while nobody listened is not known.
            self.forget(Forget::Catalog);
            loop {
                tokio::select! {
                    notice = listener.recv() => match notice {
                        Ok(notice) if let Some(what) = Forget::from_payload(notice.payload()) => {
                            self.forget(what);
                        }
                        Ok(notice) => match notice.payload().parse() {
                            Ok(order_id) => changed(order_id),
                            Err(_) => tracing::warn!(payload = notice.payload(), "an order change without an order id"),
                        },
                        Err(err) => {
                            tracing::warn!(error = %err, "lost the order-change listener");
                            break;
                        }
                    },
                    _ = stop.changed() => return,
                }
            }
        }
    }
}
