//! Telling every server that an order changed, so that long-polls waiting on another server
//! answer at once: PostgreSQL's `NOTIFY`/`LISTEN`. SQLite serves one process, which needs
//! nothing beyond its own in-process signal.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;

use super::{Backend, Store};

const CHANNEL: &str = "storefront_orders";

impl Store {
    /// Tells the other servers on this database that an order changed.
    pub async fn notify_order_changed(&self, order_id: i64) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(order_id.to_string())
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }

    /// Calls `changed` with the order's id whenever any server says an order changed, until
    /// `stop` turns true; reconnects when the connection drops (a long-poll asks SumUp
    /// itself now and then, so a change missed meanwhile is still noticed). Returns at once
    /// on SQLite.
    pub async fn listen_for_order_changes(
        &self,
        changed: impl Fn(i64),
        mut stop: watch::Receiver<bool>,
    ) {
        if self.backend != Backend::Postgres {
            return;
        }
        let mut pause = Duration::from_millis(200);
        while !*stop.borrow() {
            let mut listener = match PgListener::connect(&self.url).await {
                Ok(listener) => listener,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for order changes; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.changed() => {}
                    }
                    pause = (pause * 2).min(Duration::from_secs(10));
                    continue;
                }
            };
            if let Err(err) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %err, "cannot listen for order changes; retrying");
                continue;
            }
            pause = Duration::from_millis(200);
            loop {
                tokio::select! {
                    notice = listener.recv() => match notice {
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
