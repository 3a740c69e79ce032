//! The state every request handler shares.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::payments::settle::{NoticesInFlight, RefreshThrottle};
use crate::sandbox::SandboxState;
use crate::store::Store;
use crate::sumup::SumUpClient;

/// Order changes a slow long-poll may fall behind by before it is told it lagged.
const ORDER_CHANGES_KEPT: usize = 4096;

#[derive(Clone)]
pub struct AppState {
    store: Store,
    currency: Arc<str>,
    /// Where venues without a zone of their own keep time.
    timezone: chrono_tz::Tz,
    public_url: Arc<str>,
    sumup: SumUpClient,
    sandbox: Option<SandboxState>,
    /// The id of every order that changes, to wake the long-polls waiting on it.
    order_changes: broadcast::Sender<i64>,
    refresh_throttle: Arc<RefreshThrottle>,
    notices_in_flight: Arc<NoticesInFlight>,
    timing: Timing,
    /// SumUp's webhook signing secret, when notifications must be signed.
    webhook_secret: Option<Arc<str>>,
    /// Set when the server stops, so long-polls answer at once.
    stopping: Arc<watch::Sender<bool>>,
}

/// How often the server looks again at what it waits for.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// While a long-poll waits, SumUp is asked about its order this often.
    pub poll_interval: Duration,
    /// The first wait before a refund SumUp could not take is tried again.
    pub refund_retry: Duration,
    /// Due refunds are looked for this often.
    pub refund_sweep_interval: Duration,
}

/// Where SumUp tells the shop at `public_url` that a checkout changed.
pub fn webhook_url(public_url: &str) -> String {
    format!("{}/api/v1/webhooks/sumup", public_url.trim_end_matches('/'))
}

impl AppState {
    pub async fn new(
        store: Store,
        public_url: &str,
        sumup: SumUpClient,
        sandbox: Option<SandboxState>,
        timing: Timing,
        webhook_secret: Option<String>,
        timezone: chrono_tz::Tz,
    ) -> Result<AppState, sqlx::Error> {
        let currency = store.currency().await?;
        Ok(AppState {
            store,
            currency: currency.into(),
            timezone,
            public_url: public_url.trim_end_matches('/').into(),
            sumup,
            sandbox,
            order_changes: broadcast::channel(ORDER_CHANGES_KEPT).0,
            refresh_throttle: Arc::default(),
            notices_in_flight: Arc::default(),
            timing,
            webhook_secret: webhook_secret.map(Arc::from),
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

    /// The server's zone (`--timezone`), for venues without their own.
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.timezone
    }

    pub fn sumup(&self) -> &SumUpClient {
        &self.sumup
    }

    pub fn sandbox(&self) -> Option<&SandboxState> {
        self.sandbox.as_ref()
    }

    /// Where SumUp tells us a checkout changed.
    /// The origin buyers' browsers reach this server at.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn webhook_url(&self) -> String {
        webhook_url(&self.public_url)
    }

    pub fn webhook_secret(&self) -> Option<&str> {
        self.webhook_secret.as_deref()
    }

    /// Where SumUp's hosted page sends the buyer afterwards.
    pub fn return_page_url(&self) -> String {
        format!("{}/checkout/return", self.public_url)
    }

    /// Wakes the long-polls waiting on this order, on this server and, through the
    /// database, on every other.
    pub fn order_changed(&self, order_id: i64) {
        self.wake_order_waiters(order_id);
        self.store.notify_order_changed(order_id);
    }

    fn wake_order_waiters(&self, order_id: i64) {
        // Nobody waiting is no error.
        let _ = self.order_changes.send(order_id);
    }

    /// Wakes this server's long-polls whenever another server says an order changed.
    pub fn listen_to_other_servers(&self) {
        let state = self.clone();
        let stop = self.stopping.subscribe();
        tokio::spawn(async move {
            let store = state.store.clone();
            store
                .listen_for_order_changes(|order_id| state.wake_order_waiters(order_id), stop)
                .await;
        });
    }

    /// The ids of orders as they change. A receiver that falls behind is told it lagged
    /// (and then looks again at its order).
    pub fn subscribe_orders(&self) -> broadcast::Receiver<i64> {
        self.order_changes.subscribe()
    }

    pub fn refresh_throttle(&self) -> &RefreshThrottle {
        &self.refresh_throttle
    }

    pub fn notices_in_flight(&self) -> &NoticesInFlight {
        &self.notices_in_flight
    }

    pub fn poll_interval(&self) -> Duration {
        self.timing.poll_interval
    }

    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Sends due refunds in the background, on this server as on every other (each refund is
    /// claimed before it is sent, so one request goes to SumUp), until the server stops.
    pub fn sweep_refunds(&self) {
        let state = self.clone();
        let mut stop = self.stopping.subscribe();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(state.timing.refund_sweep_interval);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => crate::payments::refund::send_due_refunds(&state).await,
                    _ = async { stop.wait_for(|stopping| *stopping).await.map(|_| ()) } => return,
                }
            }
        });
    }

    pub fn subscribe_stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }
}
