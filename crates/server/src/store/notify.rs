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
    pub async fn notify_orders_changed(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANNEL)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Calls `changed` whenever any server says an order changed, until `stop` turns true;
    /// reconnects (and calls `changed` once, for what it may have missed) when the
    /// connection drops. Returns at once on SQLite.
    pub async fn listen_for_order_changes(
        &self,
        changed: impl Fn(),
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
            changed();
            loop {
                tokio::select! {
                    notice = listener.recv() => match notice {
                        Ok(_) => changed(),
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
