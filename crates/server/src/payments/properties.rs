//! Property tests of the payment rules over any sequence of what happens to orders: cards
//! paid and declined at SumUp, notices in any order and repeated, long-polls, new attempts,
//! cancellations, time passing, and SumUp taking, delaying or refusing refunds.
//!
//! The model keeps orders, tickets, our checkout records and SumUp's own view of each
//! checkout, and applies each step as the store does (its guards included). The decisions
//! are the real ones: [`decide`], [`oversold`] and the refund [`outcome`].

use proptest::prelude::*;
use storefront_contract::{CheckoutStatus, OrderStatus, TicketState};

use super::decide::{Attempt, Step, decide};
use super::refund::{RefundAnswer, outcome};
use super::remote::is_usable;
use crate::capacity::oversold;
use crate::store::{CheckoutRow, PayPlace, RefundOutcome};
use crate::time::Timestamp;

const START: Timestamp = 1_000_000;
const FIRST_REFUND_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Clone, Debug)]
enum Action {
    /// The buyer pays on one of the order's checkouts, if SumUp still takes it.
    Pay {
        order: usize,
        attempt: usize,
    },
    /// The card is declined there.
    Decline {
        order: usize,
        attempt: usize,
    },
    /// SumUp's notice about one checkout reaches us (any number of times, in any order).
    Notice {
        order: usize,
        attempt: usize,
    },
    /// A long-poll or `GET /orders/{id}` looks at the order's newest checkout.
    Poll {
        order: usize,
    },
    /// `POST /orders/{id}/pay`: the open checkout again, or a new one on the hosted page or
    /// a reader.
    PayAgain {
        order: usize,
        reader: bool,
    },
    /// `POST /orders/{id}/cancel`.
    Cancel {
        order: usize,
    },
    Wait {
        secs: i64,
    },
    /// The refund worker asks SumUp for a due refund: 0 accepted, 1 not now, 2 refused.
    Refund {
        order: usize,
        answer: u8,
    },
}

#[derive(Clone, Debug)]
struct Checkout {
    local: CheckoutRow,
    /// What SumUp says of it.
    remote: CheckoutStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum RefundState {
    Due { failures: u32, next_at: Timestamp },
    Refunded,
    Failed,
}

#[derive(Clone, Debug)]
struct Refund {
    amount: i64,
    state: RefundState,
}

#[derive(Clone, Debug)]
struct Order {
    status: OrderStatus,
    /// Each ticket's state and cost, oldest first.
    tickets: Vec<(TicketState, i64)>,
    checkouts: Vec<Checkout>,
    confirmations: u32,
    refund: Option<Refund>,
}

#[derive(Clone, Debug)]
struct Model {
    now: Timestamp,
    capacity: i64,
    orders: Vec<Order>,
}

fn checkout(n: usize, reader: bool, now: Timestamp) -> Checkout {
    let place = if reader {
        PayPlace::Reader {
            name: "door-1".into(),
            reader_id: "rdr_1".into(),
            client_transaction_id: format!("t{n}"),
        }
    } else {
        PayPlace::Hosted {
            url: format!("https://pay.example/{n}"),
        }
    };
    Checkout {
        local: CheckoutRow {
            sumup_id: format!("c{n}"),
            place,
            status: CheckoutStatus::Pending,
            created_at: now,
        },
        remote: CheckoutStatus::Pending,
    }
}

fn is_hosted(checkout: &Checkout) -> bool {
    matches!(checkout.local.place, PayPlace::Hosted { .. })
}

impl Model {
    fn new(capacity: i64, orders: &[(Vec<i64>, bool)]) -> Model {
        let orders = orders
            .iter()
            .enumerate()
            .map(|(n, (costs, reader))| Order {
                status: OrderStatus::Pending,
                tickets: costs.iter().map(|c| (TicketState::Reserved, *c)).collect(),
                checkouts: vec![checkout(n * 100, *reader, START)],
                confirmations: 0,
                refund: None,
            })
            .collect();
        Model {
            now: START,
            capacity,
            orders,
        }
    }

    fn confirmed(&self) -> i64 {
        let confirmed = |t: &&(TicketState, i64)| t.0.is_held();
        self.orders
            .iter()
            .map(|o| o.tickets.iter().filter(confirmed).count() as i64)
            .sum()
    }

    fn act(&mut self, action: &Action) {
        match *action {
            Action::Pay { order, attempt } => {
                let Some(c) = self.checkout_mut(order, attempt) else {
                    return;
                };
                // SumUp takes money on an open checkout, and a hosted page lets a declined
                // buyer try again; a deactivated or ended one takes nothing.
                let open = c.remote == CheckoutStatus::Pending
                    || (c.remote == CheckoutStatus::Failed && is_hosted(c));
                if open {
                    c.remote = CheckoutStatus::Paid;
                }
            }
            Action::Decline { order, attempt } => {
                if let Some(c) = self.checkout_mut(order, attempt)
                    && c.remote == CheckoutStatus::Pending
                {
                    c.remote = CheckoutStatus::Failed;
                }
            }
            Action::Notice { order, attempt } => {
                if let Some(k) = self.attempt_index(order, attempt) {
                    // A notice about a settled order's paid checkout is dropped at once.
                    let o = &self.orders[order % self.orders.len()];
                    let settled = o.status == OrderStatus::Paid
                        && o.checkouts[k].local.status == CheckoutStatus::Paid;
                    if !settled {
                        self.settle(order % self.orders.len(), k);
                    }
                }
            }
            Action::Poll { order } => {
                let order = order % self.orders.len();
                self.refresh(order);
            }
            Action::PayAgain { order, reader } => self.pay_again(order % self.orders.len(), reader),
            Action::Cancel { order } => self.cancel(order % self.orders.len()),
            Action::Wait { secs } => self.now += secs,
            Action::Refund { order, answer } => {
                let order = order % self.orders.len();
                let answer = match answer {
                    0 => RefundAnswer::Accepted,
                    1 => RefundAnswer::Unavailable("503".into()),
                    _ => RefundAnswer::Refused("422".into()),
                };
                self.refund(order, answer);
            }
        }
    }

    fn attempt_index(&self, order: usize, attempt: usize) -> Option<usize> {
        let o = &self.orders[order % self.orders.len()];
        (!o.checkouts.is_empty()).then(|| attempt % o.checkouts.len())
    }

    fn checkout_mut(&mut self, order: usize, attempt: usize) -> Option<&mut Checkout> {
        let k = self.attempt_index(order, attempt)?;
        let n = self.orders.len();
        self.orders[order % n].checkouts.get_mut(k)
    }

    /// `refresh_order`: the newest checkout of an unpaid order (a failed hosted one too).
    fn refresh(&mut self, order: usize) {
        let o = &self.orders[order];
        let Some(newest) = o.checkouts.last() else {
            return;
        };
        let needs_status = match o.status {
            OrderStatus::Pending => true,
            OrderStatus::Failed => {
                newest.local.status == CheckoutStatus::Failed && is_hosted(newest)
            }
            _ => false,
        };
        if needs_status {
            self.settle(order, o.checkouts.len() - 1);
        }
    }

    /// `settle`: SumUp's view of one checkout applied through the real decision.
    fn settle(&mut self, order: usize, k: usize) {
        let attempt = if k + 1 == self.orders[order].checkouts.len() {
            Attempt::Newest
        } else {
            Attempt::Older
        };
        let mut remote = self.orders[order].checkouts[k].remote;
        loop {
            let o = &self.orders[order];
            let step = decide(o.status, &o.checkouts[k].local, remote, attempt, self.now);
            match step {
                Step::CloseAtSumUp => {
                    remote = self.close_at_sumup(order, k);
                    continue;
                }
                Step::Confirm => self.confirm(order, k),
                Step::Fail(status) => {
                    let o = &mut self.orders[order];
                    o.checkouts[k].local.status = status;
                    // The store's guard: a pending order, and this its newest checkout.
                    if o.status == OrderStatus::Pending && k + 1 == o.checkouts.len() {
                        o.status = OrderStatus::Failed;
                    }
                }
                Step::Record(status) => self.orders[order].checkouts[k].local.status = status,
                Step::Wait => self.orders[order].checkouts[k].local.status = remote,
            }
            return;
        }
    }

    /// SumUp closes a checkout: one it took money on stays paid.
    fn close_at_sumup(&mut self, order: usize, k: usize) -> CheckoutStatus {
        let c = &mut self.orders[order].checkouts[k];
        if c.remote != CheckoutStatus::Paid {
            c.remote = CheckoutStatus::Expired;
        }
        c.remote
    }

    /// The store's `confirm_tickets_and_cancel_oversold`, guard and all.
    fn confirm(&mut self, order: usize, k: usize) {
        if !self.orders[order].status.is_payable() {
            self.orders[order].checkouts[k].local.status = CheckoutStatus::Paid;
            return;
        }
        {
            let o = &mut self.orders[order];
            o.status = OrderStatus::Paid;
            o.confirmations += 1;
            o.checkouts[k].local.status = CheckoutStatus::Paid;
            for ticket in &mut o.tickets {
                if ticket.0 == TicketState::Reserved {
                    ticket.0 = TicketState::Confirmed;
                }
            }
        }
        let mut excess = oversold(self.capacity, self.confirmed());
        let o = &mut self.orders[order];
        let mut refund = 0;
        for ticket in o.tickets.iter_mut().rev() {
            if excess == 0 {
                break;
            }
            if ticket.0 == TicketState::Confirmed {
                ticket.0 = TicketState::Cancelled;
                refund += ticket.1;
                excess -= 1;
            }
        }
        if refund > 0 {
            o.refund = Some(Refund {
                amount: refund,
                state: RefundState::Due {
                    failures: 0,
                    next_at: self.now,
                },
            });
        }
    }

    /// `close_open_checkout`: `true` when SumUp says it was paid (and the order is settled).
    fn close_open(&mut self, order: usize) -> bool {
        let Some(k) = self.orders[order].checkouts.len().checked_sub(1) else {
            return false;
        };
        let c = &self.orders[order].checkouts[k];
        let closable = match c.remote {
            CheckoutStatus::Paid => {
                self.settle(order, k);
                return true;
            }
            CheckoutStatus::Expired => false,
            CheckoutStatus::Pending => true,
            CheckoutStatus::Failed => is_hosted(c),
        };
        if closable {
            match self.close_at_sumup(order, k) {
                CheckoutStatus::Paid => {
                    self.settle(order, k);
                    return true;
                }
                _ => self.orders[order].checkouts[k].local.status = CheckoutStatus::Expired,
            }
        }
        false
    }

    /// `POST /orders/{id}/pay`.
    fn pay_again(&mut self, order: usize, reader: bool) {
        self.refresh(order);
        let o = &self.orders[order];
        if !o.status.is_payable() {
            return;
        }
        if o.status == OrderStatus::Pending
            && let Some(c) = o.checkouts.last()
            && is_hosted(c) != reader
            && is_usable(&c.local, self.now)
        {
            return;
        }
        if self.close_open(order) {
            return;
        }
        let n = order * 100 + self.orders[order].checkouts.len();
        let o = &mut self.orders[order];
        o.checkouts.push(checkout(n, reader, self.now));
        if o.status == OrderStatus::Failed {
            o.status = OrderStatus::Pending;
        }
    }

    /// `POST /orders/{id}/cancel`.
    fn cancel(&mut self, order: usize) {
        if !self.orders[order].status.is_payable() || self.close_open(order) {
            return;
        }
        let o = &mut self.orders[order];
        o.status = OrderStatus::Cancelled;
        for ticket in &mut o.tickets {
            if ticket.0 == TicketState::Reserved {
                ticket.0 = TicketState::Cancelled;
            }
        }
    }

    /// `try_refund`: claimed when due, ended by the real refund rule.
    fn refund(&mut self, order: usize, answer: RefundAnswer) {
        let now = self.now;
        let Some(refund) = &mut self.orders[order].refund else {
            return;
        };
        let RefundState::Due { failures, next_at } = refund.state else {
            return;
        };
        if next_at > now {
            return;
        }
        refund.state = match outcome(answer, failures, FIRST_REFUND_WAIT, now) {
            RefundOutcome::Refunded => RefundState::Refunded,
            RefundOutcome::Failed { .. } => RefundState::Failed,
            RefundOutcome::RetryAt { at } => RefundState::Due {
                failures: failures + 1,
                next_at: at,
            },
        };
    }

    /// What must hold after every step.
    fn check(&self) -> Result<(), TestCaseError> {
        prop_assert!(
            self.confirmed() <= self.capacity,
            "oversold: {} confirmed for {} places",
            self.confirmed(),
            self.capacity
        );
        for (n, o) in self.orders.iter().enumerate() {
            prop_assert!(o.confirmations <= 1, "order {n} confirmed twice");
            if o.status == OrderStatus::Paid {
                prop_assert!(
                    o.checkouts.iter().any(|c| c.remote == CheckoutStatus::Paid),
                    "order {n} paid without SumUp taking money"
                );
                let cancelled: i64 = o
                    .tickets
                    .iter()
                    .filter(|t| t.0 == TicketState::Cancelled)
                    .map(|t| t.1)
                    .sum();
                prop_assert_eq!(
                    o.refund.as_ref().map_or(0, |r| r.amount),
                    cancelled,
                    "order {}'s refund is not what it cancelled",
                    n
                );
            } else {
                prop_assert!(o.refund.is_none(), "unpaid order {n} has a refund");
            }
        }
        Ok(())
    }

    /// After everything: every notice delivered, every refund asked for until it ends.
    fn finish(&mut self) -> Result<(), TestCaseError> {
        for order in 0..self.orders.len() {
            for k in 0..self.orders[order].checkouts.len() {
                self.settle(order, k);
            }
        }
        self.check()?;
        for (n, o) in self.orders.iter().enumerate() {
            if o.checkouts.iter().any(|c| c.remote == CheckoutStatus::Paid) {
                prop_assert_eq!(o.status, OrderStatus::Paid, "order {} paid at SumUp", n);
            }
        }
        for order in 0..self.orders.len() {
            for _ in 0..200 {
                match &self.orders[order].refund {
                    Some(Refund {
                        state: RefundState::Due { next_at, .. },
                        ..
                    }) => {
                        self.now = self.now.max(*next_at);
                        self.refund(order, RefundAnswer::Unavailable("503".into()));
                    }
                    _ => break,
                }
            }
            let ended = self.orders[order]
                .refund
                .as_ref()
                .is_none_or(|refund| !matches!(refund.state, RefundState::Due { .. }));
            prop_assert!(ended, "order {order}'s refund never ends");
        }
        Ok(())
    }
}

fn action() -> impl Strategy<Value = Action> {
    let order = 0..5usize;
    let attempt = 0..4usize;
    prop_oneof![
        3 => (order.clone(), attempt.clone()).prop_map(|(order, attempt)| Action::Pay { order, attempt }),
        2 => (order.clone(), attempt.clone()).prop_map(|(order, attempt)| Action::Decline { order, attempt }),
        4 => (order.clone(), attempt).prop_map(|(order, attempt)| Action::Notice { order, attempt }),
        2 => order.clone().prop_map(|order| Action::Poll { order }),
        2 => (order.clone(), any::<bool>()).prop_map(|(order, reader)| Action::PayAgain { order, reader }),
        1 => order.clone().prop_map(|order| Action::Cancel { order }),
        2 => prop_oneof![Just(1i64), Just(299), Just(1_800), Just(7_200)].prop_map(|secs| Action::Wait { secs }),
        2 => (order, 0..3u8).prop_map(|(order, answer)| Action::Refund { order, answer }),
    ]
}

fn orders() -> impl Strategy<Value = Vec<(Vec<i64>, bool)>> {
    prop::collection::vec(
        (prop::collection::vec(100..2_000i64, 1..4), any::<bool>()),
        1..5,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_confirmed_twice_never_oversold_and_every_refund_ends(
        capacity in 1..8i64,
        orders in orders(),
        actions in prop::collection::vec(action(), 0..60),
    ) {
        let mut model = Model::new(capacity, &orders);
        for action in &actions {
            model.act(action);
            model.check()?;
        }
        model.finish()?;
    }
}
