//! What payments need and nothing more: the store, SumUp, how often to ask it, where this
//! shop is reached, and who to tell when an order changes. Handlers and workers hold one;
//! nothing in payments sees the web server's state.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

use crate::store::{CheckoutKey, Store};
use crate::sumup::SumUpClient;

/// Order changes a slow long-poll may fall behind by before it is told it lagged.
const ORDER_CHANGES_KEPT: usize = 4096;

/// SumUp is asked about one order at most this often.
pub(super) const REFRESH_INTERVAL: Duration = Duration::from_secs(1);

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

/// The payments context: cheap to clone, shared by every request and worker of a server.
#[derive(Clone)]
pub struct Payments {
    store: Store,
    sumup: SumUpClient,
    /// The origin buyers' browsers and SumUp reach this server at, without a trailing `/`.
    public_url: Arc<str>,
    timing: Timing,
    refresh_throttle: Arc<RefreshThrottle>,
    notices_in_flight: Arc<NoticesInFlight>,
    /// The id of every order that changes, to wake the long-polls waiting on it.
    order_changes: broadcast::Sender<i64>,
    /// How many notices are being handled in the background.
    notices_handled: Arc<watch::Sender<usize>>,
}

impl Payments {
    pub fn new(store: Store, sumup: SumUpClient, public_url: &str, timing: Timing) -> Payments {
        Payments {
            store,
            sumup,
            public_url: public_url.trim_end_matches('/').into(),
            timing,
            refresh_throttle: Arc::default(),
            notices_in_flight: Arc::default(),
            order_changes: broadcast::channel(ORDER_CHANGES_KEPT).0,
            notices_handled: Arc::new(watch::Sender::new(0)),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn sumup(&self) -> &SumUpClient {
        &self.sumup
    }

    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// The origin buyers' browsers reach this server at.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Where SumUp tells us a checkout changed.
    pub fn webhook_url(&self) -> String {
        webhook_url(&self.public_url)
    }

    /// Where SumUp's hosted page sends the buyer afterwards.
    pub fn return_page_url(&self) -> String {
        format!("{}/checkout/return", self.public_url)
    }

    /// The ticket page of a paid order with this secret.
    pub fn tickets_url(&self, secret: &str) -> String {
        format!("{}/t/{secret}", self.public_url)
    }

    pub(super) fn refresh_throttle(&self) -> &RefreshThrottle {
        &self.refresh_throttle
    }

    pub(super) fn notices_in_flight(&self) -> &NoticesInFlight {
        &self.notices_in_flight
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

    /// The ids of orders as they change. A receiver that falls behind is told it lagged
    /// (and then looks again at its order).
    pub fn subscribe_orders(&self) -> broadcast::Receiver<i64> {
        self.order_changes.subscribe()
    }

    /// Wakes this server's long-polls whenever another server says an order changed, until
    /// `stop` turns true (a worker beside the server).
    pub async fn listen_to_other_servers(self, stop: watch::Receiver<bool>) {
        let store = self.store.clone();
        store
            .listen_for_order_changes(|order_id| self.wake_order_waiters(order_id), stop)
            .await;
    }

    /// Counts a notice as being handled until the guard is dropped.
    pub(super) fn handling_notice(&self) -> Handling {
        Handling::begin(&self.notices_handled)
    }

    /// Returns once every notice heard so far has been handled.
    pub async fn notices_handled(&self) {
        let mut handled = self.notices_handled.subscribe();
        // The sender lives in `self`: waiting cannot fail.
        let _ = handled.wait_for(|in_flight| *in_flight == 0).await;
    }
}

/// One notice being handled; counted until dropped, also when its task panics.
pub(super) struct Handling(Arc<watch::Sender<usize>>);

impl Handling {
    fn begin(count: &Arc<watch::Sender<usize>>) -> Handling {
        count.send_modify(|n| *n += 1);
        Handling(Arc::clone(count))
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A [`CheckoutKey`] that owns its id, for a notice handled after its request has ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnedCheckoutKey {
    Id(String),
    ReaderPayment(String),
}

impl OwnedCheckoutKey {
    pub fn as_key(&self) -> CheckoutKey<'_> {
        match self {
            OwnedCheckoutKey::Id(id) => CheckoutKey::Id(id),
            OwnedCheckoutKey::ReaderPayment(id) => CheckoutKey::ReaderPayment(id),
        }
    }
}

/// Remembers when SumUp was last asked about each order, so that many waiting buyers
/// (or one impatient one) cost SumUp one request a second per order.
#[derive(Default)]
pub(super) struct RefreshThrottle {
    asked_at: Mutex<HashMap<i64, Instant>>,
}

impl RefreshThrottle {
    /// Whether enough time passed since SumUp was last asked about this order; if so, the
    /// caller asks now.
    pub(super) fn take_turn(&self, order_id: i64, now: Instant) -> bool {
        let mut asked_at = self.asked_at.lock().unwrap_or_else(|e| e.into_inner());
        match asked_at.get(&order_id) {
            Some(at) if now.duration_since(*at) < REFRESH_INTERVAL => false,
            _ => {
                if asked_at.len() > 10_000 {
                    asked_at.retain(|_, at| now.duration_since(*at) < REFRESH_INTERVAL);
                }
                asked_at.insert(order_id, now);
                true
            }
        }
    }

    /// SumUp was just told about this order (a checkout made): it has nothing new to say for
    /// a moment, and webhooks say when it has.
    pub(super) fn just_asked(&self, order_id: i64) {
        self.take_turn(order_id, Instant::now());
    }
}

/// Notices being handled, by what they are about. SumUp sends more than one notice of a
/// change (the `return_url` callback and the event notification, at once): a notice that
/// arrives while the same checkout is being re-read is not read in parallel; the read in
/// flight goes round once more when it is done, unless it found the checkout paid and its
/// order settled: nothing can change a paid checkout, so then the notice, and any later one
/// about it that reaches this server, needs no reading at all.
#[derive(Default)]
pub(super) struct NoticesInFlight {
    inner: Mutex<Notices>,
}

#[derive(Default)]
struct Notices {
    /// Checkouts being re-read, and whether another notice came meanwhile.
    again: HashMap<String, bool>,
    /// The checkouts most recently found paid and settled, oldest first (at most
    /// [`SETTLED_KEPT`]); a set of the same beside it.
    settled: VecDeque<String>,
    settled_set: HashSet<String>,
}

/// Paid checkouts remembered: SumUp's repeated notices of a payment come within moments.
const SETTLED_KEPT: usize = 4096;

impl NoticesInFlight {
    /// `true` when the caller is to handle the notice; `false` when a read in flight takes it
    /// or the checkout is settled.
    pub(super) fn begin(&self, key: &str) -> bool {
        let mut notices = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if notices.settled_set.contains(key) {
            return false;
        }
        match notices.again.get_mut(key) {
            Some(flag) => {
                *flag = true;
                false
            }
            None => {
                notices.again.insert(key.to_owned(), false);
                true
            }
        }
    }

    /// `true` when another notice came during the read and the read did not find the
    /// checkout `settled` (paid, and its order settled): read once more.
    pub(super) fn end(&self, key: &str, settled: bool) -> bool {
        let mut notices = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if settled {
            notices.again.remove(key);
            if notices.settled_set.insert(key.to_owned()) {
                notices.settled.push_back(key.to_owned());
                if notices.settled.len() > SETTLED_KEPT
                    && let Some(oldest) = notices.settled.pop_front()
                {
                    notices.settled_set.remove(&oldest);
                }
            }
            return false;
        }
        match notices.again.get_mut(key) {
            Some(flag) if *flag => {
                *flag = false;
                true
            }
            _ => {
                notices.again.remove(key);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_during_a_read_makes_it_go_round_once_more() {
        let notices = NoticesInFlight::default();
        assert!(notices.begin("c1"));
        assert!(!notices.begin("c1"), "the read in flight takes it");
        assert!(!notices.begin("c1"));
        assert!(notices.begin("c2"), "another checkout is read at once");
        assert!(notices.end("c1", false), "once more");
        assert!(!notices.end("c1", false), "then done");
        assert!(notices.begin("c1"), "a later notice is read again");
        assert!(!notices.end("c1", false));
        assert!(!notices.end("c2", false));
    }

    #[test]
    fn a_checkout_found_paid_and_settled_is_read_no_more() {
        let notices = NoticesInFlight::default();
        assert!(notices.begin("c1"));
        assert!(!notices.begin("c1"), "the read in flight takes it");
        assert!(!notices.end("c1", true), "settled: not once more");
        assert!(!notices.begin("c1"), "nor for a later notice");
        assert!(notices.begin("c2"), "another checkout is read");
        assert!(!notices.end("c2", false));
    }

    #[test]
    fn settled_checkouts_are_remembered_up_to_a_bound() {
        let notices = NoticesInFlight::default();
        for n in 0..=SETTLED_KEPT {
            let key = format!("c{n}");
            assert!(notices.begin(&key));
            notices.end(&key, true);
        }
        assert!(
            notices.begin("c0"),
            "the oldest is forgotten (and read again)"
        );
        assert!(!notices.begin("c1"));
        assert!(!notices.begin(&format!("c{SETTLED_KEPT}")));
        let inner = notices.inner.lock().unwrap();
        assert_eq!(inner.settled.len(), SETTLED_KEPT);
        assert_eq!(inner.settled_set.len(), SETTLED_KEPT);
    }

    #[test]
    fn an_order_is_asked_about_once_a_second() {
        let throttle = RefreshThrottle::default();
        let start = Instant::now();
        assert!(throttle.take_turn(1, start));
        assert!(!throttle.take_turn(1, start + Duration::from_millis(999)));
        assert!(throttle.take_turn(2, start));
        assert!(throttle.take_turn(1, start + REFRESH_INTERVAL));
    }

    #[test]
    fn urls_are_made_from_the_public_origin() {
        assert_eq!(
            webhook_url("https://shop.example/"),
            "https://shop.example/api/v1/webhooks/sumup"
        );
    }
}
