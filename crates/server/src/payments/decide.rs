//! The settle decision, pure: from the order, our record of one of its checkouts, what SumUp
//! says of it now, which attempt it is and the time, the one step to take. Everything around
//! it (asking SumUp, writing the store, waking waiters) is in `settle`.

use storefront_contract::{CheckoutStatus, OrderStatus};

use super::remote::has_expired;
use crate::store::CheckoutRow;
use crate::time::Timestamp;

/// Which of an order's SumUp checkouts is meant: the one being paid now, or an earlier one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    Newest,
    Older,
}

/// What to do about one checkout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// SumUp took the money: confirm the order's tickets, exactly once (the store's guard);
    /// tickets of events that sold out meanwhile are cancelled and their cost refunded.
    Confirm,
    /// The attempt being paid failed or expired: the order becomes failed (payable again).
    Fail(CheckoutStatus),
    /// Nothing for the order to do; keep what SumUp says of the checkout (an older attempt
    /// that ended, a payment of an order already settled).
    Record(CheckoutStatus),
    /// Still open and within its lifetime: the buyer may still pay.
    Wait,
    /// Still open at SumUp but too old to be paid now: close it there first (so that it
    /// cannot be paid later), then decide again on what closing found.
    CloseAtSumUp,
}

/// The step for one checkout. A payment is honoured whichever attempt it came through;
/// failures and expiry only count for the newest attempt of an order still waiting for it.
pub fn decide(
    order: OrderStatus,
    local: &CheckoutRow,
    remote: CheckoutStatus,
    attempt: Attempt,
    now: Timestamp,
) -> Step {
    let newest = attempt == Attempt::Newest;
    match remote {
        CheckoutStatus::Paid if order.is_payable() => Step::Confirm,
        CheckoutStatus::Paid => Step::Record(remote),
        CheckoutStatus::Failed | CheckoutStatus::Expired
            if newest && order == OrderStatus::Pending =>
        {
            Step::Fail(remote)
        }
        CheckoutStatus::Failed | CheckoutStatus::Expired => Step::Record(remote),
        CheckoutStatus::Pending if newest && has_expired(local, now) => Step::CloseAtSumUp,
        CheckoutStatus::Pending => Step::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::remote::{CHECKOUT_LIFETIME_SECS, READER_CHECKOUT_LIFETIME_SECS};
    use crate::store::PayPlace;

    const MADE: Timestamp = 1_000;

    fn hosted() -> CheckoutRow {
        CheckoutRow {
            sumup_id: "c1".into(),
            place: PayPlace::Hosted { url: "u".into() },
            status: CheckoutStatus::Pending,
            created_at: MADE,
        }
    }

    fn reader() -> CheckoutRow {
        CheckoutRow {
            place: PayPlace::Reader {
                name: "door-1".into(),
                reader_id: "rdr_1".into(),
                client_transaction_id: "t1".into(),
            },
            ..hosted()
        }
    }

    const ORDERS: [OrderStatus; 4] = [
        OrderStatus::Pending,
        OrderStatus::Failed,
        OrderStatus::Paid,
        OrderStatus::Cancelled,
    ];
    const REMOTES: [CheckoutStatus; 4] = [
        CheckoutStatus::Pending,
        CheckoutStatus::Paid,
        CheckoutStatus::Failed,
        CheckoutStatus::Expired,
    ];
    const ATTEMPTS: [Attempt; 2] = [Attempt::Newest, Attempt::Older];

    /// Every combination of order, remote status, attempt, place and age, with the step the
    /// rule gives it, written out the long way.
    #[test]
    fn every_combination() {
        for order in ORDERS {
            for remote in REMOTES {
                for attempt in ATTEMPTS {
                    for (local, lifetime) in [
                        (hosted(), CHECKOUT_LIFETIME_SECS),
                        (reader(), READER_CHECKOUT_LIFETIME_SECS),
                    ] {
                        for age in [0, lifetime - 1, lifetime, 10 * lifetime] {
                            let step = decide(order, &local, remote, attempt, MADE + age);
                            let expired = age >= lifetime;
                            let payable =
                                matches!(order, OrderStatus::Pending | OrderStatus::Failed);
                            let newest = attempt == Attempt::Newest;
                            let expected = match remote {
                                CheckoutStatus::Paid if payable => Step::Confirm,
                                CheckoutStatus::Paid => Step::Record(remote),
                                CheckoutStatus::Pending if newest && expired => Step::CloseAtSumUp,
                                CheckoutStatus::Pending => Step::Wait,
                                _ if newest && order == OrderStatus::Pending => Step::Fail(remote),
                                _ => Step::Record(remote),
                            };
                            assert_eq!(
                                step, expected,
                                "{order:?} order, {remote:?} at SumUp, {attempt:?}, {age} s old"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn paid_is_confirmed_on_any_attempt_of_an_unpaid_order() {
        for order in [OrderStatus::Pending, OrderStatus::Failed] {
            for attempt in ATTEMPTS {
                assert_eq!(
                    decide(order, &hosted(), CheckoutStatus::Paid, attempt, MADE),
                    Step::Confirm
                );
            }
        }
    }

    #[test]
    fn paid_twice_confirms_nothing_more() {
        assert_eq!(
            decide(
                OrderStatus::Paid,
                &hosted(),
                CheckoutStatus::Paid,
                Attempt::Newest,
                MADE
            ),
            Step::Record(CheckoutStatus::Paid)
        );
    }

    #[test]
    fn an_older_attempt_failing_leaves_the_order_waiting() {
        assert_eq!(
            decide(
                OrderStatus::Pending,
                &hosted(),
                CheckoutStatus::Failed,
                Attempt::Older,
                MADE
            ),
            Step::Record(CheckoutStatus::Failed)
        );
    }

    #[test]
    fn an_abandoned_checkout_is_closed_at_sumup_before_it_counts_as_expired() {
        let old = MADE + CHECKOUT_LIFETIME_SECS;
        assert_eq!(
            decide(
                OrderStatus::Pending,
                &hosted(),
                CheckoutStatus::Pending,
                Attempt::Newest,
                old
            ),
            Step::CloseAtSumUp
        );
        // What closing finds decides: closed means expired, paid means paid.
        assert_eq!(
            decide(
                OrderStatus::Pending,
                &hosted(),
                CheckoutStatus::Expired,
                Attempt::Newest,
                old
            ),
            Step::Fail(CheckoutStatus::Expired)
        );
        // A reader's payment is called off sooner than a page.
        assert_eq!(
            decide(
                OrderStatus::Pending,
                &reader(),
                CheckoutStatus::Pending,
                Attempt::Newest,
                MADE + READER_CHECKOUT_LIFETIME_SECS
            ),
            Step::CloseAtSumUp
        );
    }
}
