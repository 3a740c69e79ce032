//! The state every request handler shares: the store, the payments context, the deployment's
//! currency and zone, the webhook secret, and the signal that the server is stopping.

use std::sync::Arc;

use tokio::sync::watch;

use crate::payments::Payments;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    store: Store,
    payments: Payments,
    currency: Arc<str>,
    /// Where venues without a zone of their own keep time.
    timezone: chrono_tz::Tz,
    /// SumUp's webhook signing secret, when notifications must be signed.
    webhook_secret: Option<Arc<str>>,
    /// Set when the server stops, so long-polls answer at once and workers end.
    stopping: Arc<watch::Sender<bool>>,
}

impl AppState {
    pub async fn new(
        payments: Payments,
        webhook_secret: Option<String>,
        timezone: chrono_tz::Tz,
    ) -> Result<AppState, sqlx::Error> {
        let store = payments.store().clone();
        let currency = store.currency().await?;
        Ok(AppState {
            store,
            payments,
            currency: currency.into(),
            timezone,
            webhook_secret: webhook_secret.map(Arc::from),
            stopping: Arc::new(watch::Sender::new(false)),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn payments(&self) -> &Payments {
        &self.payments
    }

    /// The deployment's one currency (ISO 4217).
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The server's zone (`--timezone`), for venues without their own.
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.timezone
    }

    pub fn webhook_secret(&self) -> Option<&str> {
        self.webhook_secret.as_deref()
    }

    pub fn subscribe_stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }
}
