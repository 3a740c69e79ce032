//! The state every request handler shares.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::payments::settle::RefreshThrottle;
use crate::sandbox::SandboxState;
use crate::store::Store;
use crate::sumup::SumUpClient;

#[derive(Clone)]
pub struct AppState {
    store: Store,
    currency: Arc<str>,
    public_url: Arc<str>,
    sumup: SumUpClient,
    sandbox: Option<SandboxState>,
    /// Bumped whenever an order changes, to wake long-polls.
    order_changes: Arc<watch::Sender<u64>>,
    refresh_throttle: Arc<RefreshThrottle>,
    /// While a long-poll waits, SumUp is asked about its order this often.
    poll_interval: Duration,
    /// Set when the server stops, so long-polls answer at once.
    stopping: Arc<watch::Sender<bool>>,
}

impl AppState {
    pub async fn new(
        store: Store,
        public_url: &str,
        sumup: SumUpClient,
        sandbox: Option<SandboxState>,
        poll_interval: Duration,
    ) -> Result<AppState, sqlx::Error> {
        let currency = store.currency().await?;
        Ok(AppState {
            store,
            currency: currency.into(),
            public_url: public_url.trim_end_matches('/').into(),
            sumup,
            sandbox,
            order_changes: Arc::new(watch::Sender::new(0)),
            refresh_throttle: Arc::default(),
            poll_interval,
            stopping: Arc::new(watch::Sender::new(false)),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The deployment's one currency (ISO 4217).
    pub fn currency(&self) -> &str {
        &self.currency
    }

    pub fn sumup(&self) -> &SumUpClient {
        &self.sumup
    }

    pub fn sandbox(&self) -> Option<&SandboxState> {
        self.sandbox.as_ref()
    }

    /// Where SumUp tells us a checkout changed.
    pub fn webhook_url(&self) -> String {
        format!("{}/api/v1/webhooks/sumup", self.public_url)
    }

    /// Where SumUp's hosted page sends the buyer afterwards.
    pub fn return_page_url(&self) -> String {
        format!("{}/checkout/return", self.public_url)
    }

    /// Wakes the long-polls of this server and, through the database, of every other.
    pub async fn orders_changed(&self) {
        self.wake_order_waiters();
        if let Err(err) = self.store.notify_orders_changed().await {
            tracing::warn!(error = %err, "could not tell other servers that an order changed");
        }
    }

    fn wake_order_waiters(&self) {
        self.order_changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Wakes this server's long-polls whenever another server says an order changed.
    pub fn listen_to_other_servers(&self) {
        let state = self.clone();
        let stop = self.stopping.subscribe();
        tokio::spawn(async move {
            let store = state.store.clone();
            store
                .listen_for_order_changes(|| state.wake_order_waiters(), stop)
                .await;
        });
    }

    pub fn subscribe_orders(&self) -> watch::Receiver<u64> {
        self.order_changes.subscribe()
    }

    pub fn refresh_throttle(&self) -> &RefreshThrottle {
        &self.refresh_throttle
    }

    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    pub fn subscribe_stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }
}
