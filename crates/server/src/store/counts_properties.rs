//! Property test of the kept counts (see `sales`): over any sequence of what happens to
//! tickets through the store's own operations (bought, taken out of the cart, checked out,
//! paid with the sold-out rule, cancelled, checked in, refunded by the box office, given on
//! the guest list), what each event and ticket type keeps equals a recount of its tickets.

use proptest::prelude::*;
use storefront_contract::TicketState;

use super::{AuditEntry, NewComp, NewTickets, Store};
use crate::time::Timestamp;

const NOW: Timestamp = 1_900_000_000;

/// Two buyers; an event of capacity 2 (so payments run past it), one without a capacity,
/// and one with two ticket types.
const CATALOG: &str = r#"
[[users]]
email = "ann@example.com"
password = "ann-pass-long"
name = "Ann"

[[users]]
email = "bob@example.com"
password = "bob-pass-long"
name = "Bob"

[[pages]]
slug = "hall"
title = "Hall"

[[calendars]]
slug = "stage"
name = "Stage"
page = "hall"

[[events]]
slug = "small"
calendar = "stage"
name = "Small Room"
starts_at = "+3d 19:00"
ticket_price = "10.00"
ticket_count = 2

[[events]]
slug = "open"
calendar = "stage"
name = "Open Air"
starts_at = "+4d 19:00"
ticket_price = "5.00"

[[events]]
slug = "typed"
calendar = "stage"
name = "Two Kinds"
starts_at = "+5d 19:00"
ticket_count = 6
[[events.ticket_types]]
name = "Standard"
cost = "14.00"
[[events.ticket_types]]
name = "Concession"
cost = "9.00"
"#;

#[derive(Clone, Debug)]
enum Action {
    Buy {
        user: usize,
        event: usize,
        kind: usize,
        quantity: u32,
    },
    TakeOut {
        user: usize,
        nth: usize,
    },
    Checkout {
        user: usize,
    },
    Pay {
        order: usize,
    },
    Cancel {
        order: usize,
    },
    CheckIn {
        nth: usize,
    },
    Refund {
        order: usize,
        all: bool,
    },
    Comp {
        event: usize,
        quantity: u32,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => (0..2usize, 0..3usize, 0..2usize, 1..4u32).prop_map(|(user, event, kind, quantity)| {
            Action::Buy { user, event, kind, quantity }
        }),
        1 => (0..2usize, 0..4usize).prop_map(|(user, nth)| Action::TakeOut { user, nth }),
        2 => (0..2usize).prop_map(|user| Action::Checkout { user }),
        2 => (0..6usize).prop_map(|order| Action::Pay { order }),
        1 => (0..6usize).prop_map(|order| Action::Cancel { order }),
        1 => (0..8usize).prop_map(|nth| Action::CheckIn { nth }),
        1 => (0..6usize, any::<bool>()).prop_map(|(order, all)| Action::Refund { order, all }),
        1 => (0..3usize, 1..3u32).prop_map(|(event, quantity)| Action::Comp { event, quantity }),
    ]
}

/// The catalog's ids, read back.
struct Ids {
    users: Vec<i64>,
    events: Vec<i64>,
    /// The typed event's ticket types.
    types: Vec<(i64, i64)>,
}

async fn ids(store: &Store) -> Ids {
    let mut conn = store.connection().await.unwrap();
    let users = sqlx::query_scalar("SELECT id FROM users ORDER BY email")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let events = sqlx::query_scalar("SELECT id FROM events ORDER BY starts_at")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let types = sqlx::query_as("SELECT id, cost FROM ticket_types ORDER BY cost DESC")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    Ids {
        users,
        events,
        types,
    }
}

fn audit() -> AuditEntry {
    AuditEntry {
        user_id: None,
        address: None,
        action: "test",
    }
}

/// Applies one action through the store, as the API would; refusals (a limit, an order in
/// the wrong state) change nothing and are fine.
async fn apply(store: &Store, ids: &Ids, orders: &mut Vec<i64>, action: &Action) {
    let order_at = |orders: &Vec<i64>, nth: usize| orders.get(nth % orders.len().max(1)).copied();
    match *action {
        Action::Buy {
            user,
            event,
            kind,
            quantity,
        } => {
            let (ticket_type_id, cost) = match event {
                0 => (None, 1000),
                1 => (None, 500),
                _ => {
                    let (id, cost) = ids.types[kind % ids.types.len()];
                    (Some(id), cost)
                }
            };
            let new = NewTickets {
                event_id: ids.events[event],
                user_id: ids.users[user],
                ticket_type_id,
                cost,
                quantity,
                state: TicketState::Pending,
            };
            store
                .create_tickets_within(&new, 10, NOW)
                .await
                .unwrap()
                .ok();
        }
        Action::TakeOut { user, nth } => {
            let pending = store.pending_tickets(ids.users[user]).await.unwrap();
            if let Some(ticket) = pending.get(nth % pending.len().max(1)) {
                store
                    .cancel_pending_ticket(ids.users[user], ticket.id)
                    .await
                    .unwrap();
            }
        }
        Action::Checkout { user } => {
            if let Some((order, _)) = store
                .create_order_from_cart(ids.users[user], None, "GBP", "MTEST", NOW)
                .await
                .unwrap()
            {
                orders.push(order.id);
            }
        }
        Action::Pay { order } => {
            if let Some(id) = order_at(orders, order) {
                let order = store.order(id).await.unwrap().unwrap();
                store
                    .confirm_tickets_and_cancel_oversold(
                        &order,
                        &format!("c-{id}"),
                        None,
                        &format!("secret-{id}"),
                        NOW,
                    )
                    .await
                    .unwrap();
            }
        }
        Action::Cancel { order } => {
            if let Some(order) = order_at(orders, order) {
                store.cancel_order(order, NOW).await.unwrap();
            }
        }
        Action::CheckIn { nth } => {
            let mut conn = store.connection().await.unwrap();
            let confirmed: Vec<(String, i64)> = sqlx::query_as(
                "SELECT code, event_id FROM tickets WHERE state = 'confirmed' ORDER BY id",
            )
            .fetch_all(&mut *conn)
            .await
            .unwrap();
            drop(conn);
            if let Some((code, event)) = confirmed.get(nth % confirmed.len().max(1)) {
                store.check_in(code, *event, NOW).await.unwrap();
            }
        }
        Action::Refund { order, all } => {
            if let Some(order) = order_at(orders, order) {
                let tickets = if all {
                    None
                } else {
                    let items = store.order_items(order).await.unwrap();
                    items.tickets.first().map(|ticket| vec![ticket.id])
                };
                // Refused for an unpaid or refunded order: nothing changes.
                let _ = store
                    .refund_tickets(order, tickets, None, audit(), NOW)
                    .await;
            }
        }
        Action::Comp { event, quantity } => {
            let comp = NewComp {
                event_id: ids.events[event],
                ticket_type_id: None,
                quantity,
                name: "Guest".into(),
                email: None,
                currency: "GBP".into(),
                tickets_secret: format!("comp-{}", orders.len()),
            };
            // Refused past the capacity: nothing changes.
            if let Ok(order) = store.create_comp(comp, audit(), NOW).await {
                orders.push(order);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_kept_counts_equal_a_recount_after_any_sequence(
        actions in prop::collection::vec(action(), 1..40)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = super::connect_database("sqlite::memory:").await.unwrap();
            crate::catalog::apply_catalog(&store, CATALOG, None).await.unwrap();
            let ids = ids(&store).await;
            let mut orders = Vec::new();
            for (step, action) in actions.iter().enumerate() {
                apply(&store, &ids, &mut orders, action).await;
                let differences = store.recount_differences().await.unwrap();
                prop_assert!(
                    differences.is_empty(),
                    "after step {step} ({action:?}): {differences:?}"
                );
            }
            store.close().await;
            Ok(())
        })?;
    }
}
