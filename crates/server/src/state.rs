//! The state every request handler shares: the store, the payments context, the deployment's
//! currency and zone, the webhook secret, and the signal that the server is stopping.

use crate::hashing::HashPool;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::payments::Payments;
use crate::store::Store;

/// How often a server looks again at what it keeps of the catalog.
const CATALOG_FOLLOW_INTERVAL: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct AppState {
    store: Store,
    payments: Payments,
    /// Set by the catalog; followed from the database, since another server or `catalog
    /// apply` may change it (only while there are no orders).
    currency: Arc<RwLock<Arc<str>>>,
    /// Where venues without a zone of their own keep time.
    timezone: chrono_tz::Tz,
    /// SumUp's webhook signing secret, when notifications must be signed.
    webhook_secret: Option<Arc<str>>,
    /// Set when the server stops, so long-polls answer at once and workers end.
    stopping: Arc<watch::Sender<bool>>,
    /// Buyers may make accounts of their own (not `serve --no-signup`).
    signup_open: bool,
    /// Where passwords are hashed: a few threads and a short queue.
    hashes: HashPool,
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
            currency: Arc::new(RwLock::new(currency.into())),
            timezone,
            webhook_secret: webhook_secret.map(Arc::from),
            stopping: Arc::new(watch::Sender::new(false)),
            hashes: HashPool::for_this_machine(),
            signup_open: true,
        })
    }

    /// The state, with buyers' sign-up open or not.
    pub fn with_signup(mut self, open: bool) -> AppState {
        self.signup_open = open;
        self
    }

    /// Whether buyers may make accounts of their own.
    pub fn signup_open(&self) -> bool {
        self.signup_open
    }

    /// Hashes passwords on threads of their own, a few at a time (or says it is busy).
    pub fn hashes(&self) -> &HashPool {
        &self.hashes
    }

    /// The pool passwords are hashed on.
    pub fn with_hashes(mut self, hashes: HashPool) -> AppState {
        self.hashes = hashes;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn payments(&self) -> &Payments {
        &self.payments
    }

    /// The deployment's one currency (ISO 4217).
    pub fn currency(&self) -> Arc<str> {
        Arc::clone(&self.currency.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reads the currency again from the database.
    pub async fn refresh_currency(&self) {
        match self.store.currency().await {
            Ok(currency) => {
                let mut now = self.currency.write().unwrap_or_else(|e| e.into_inner());
                if **now != *currency {
                    tracing::info!(currency, "the catalog's currency changed");
                    *now = currency.into();
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not read the currency"),
        }
    }

    /// A worker beside the server: what this server keeps of the catalog (its currency)
    /// follows the database within a second, whoever applied it.
    pub async fn follow_catalog(self) {
        let mut stop = self.subscribe_stopping();
        let mut every = tokio::time::interval(CATALOG_FOLLOW_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => self.refresh_currency().await,
                _ = async { stop.wait_for(|stopping| *stopping).await.map(|_| ()) } => return,
            }
        }
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
