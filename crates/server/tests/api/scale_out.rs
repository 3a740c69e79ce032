//! Two servers on one PostgreSQL database, as a deployment behind a load balancer runs them:
//! whatever a buyer does on one, the other sees, and the rules hold across both.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use storefront_contract::ErrorCode;
use storefront_server::ServerConfig;

use crate::common::*;
use crate::postgres::{fresh_database, over_socket};

/// Servers A and B on one new database (A loads the catalog; B finds it there).
async fn two_servers() -> (TestApp, TestApp) {
    two_servers_on(&fresh_database().await).await
}

async fn two_servers_on(database_url: &str) -> (TestApp, TestApp) {
    let config = || ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.to_owned(),
        catalog: Some(TEST_CATALOG.to_owned()),
        // Only a change noticed by the database can wake a long-poll early.
        order_poll_interval: Duration::from_secs(60),
        ..ServerConfig::default()
    };
    let a = TestApp::with_config(config()).await;
    let b = TestApp::with_config(config()).await;
    (a, b)
}

/// One server on `database_url`, with the test catalog.
async fn one_server_on(database_url: &str) -> TestApp {
    TestApp::with_config(ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.to_owned(),
        catalog: Some(TEST_CATALOG.to_owned()),
        ..ServerConfig::default()
    })
    .await
}

/// Orders with each ticket page named by its secret alone (the servers' origin left out).
fn ticket_pages(mut orders: Value) -> Value {
    for order in orders["orders"].as_array_mut().unwrap() {
        if let Some(url) = order["tickets_url"].as_str() {
            let secret = url.rsplit("/t/").next().unwrap().to_owned();
            order["tickets_url"] = Value::String(secret);
        }
    }
    orders
}

fn ticket_states(order: &Value) -> Vec<String> {
    order["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn fifty_buys_spread_over_two_servers_all_land() {
    let (a, b) = two_servers().await;
    let ann = a.ann().await;
    let path = format!("/events/{VILLAGE_FETE}/tickets");
    let buys = (0..50).map(|i| {
        let server = if i % 2 == 0 { &a } else { &b };
        server.post(&path, Some(&ann), json!({"quantity": 1}))
    });
    for answer in futures::future::join_all(buys).await {
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    }
    for server in [&a, &b] {
        let cart = server.cart(&ann).await;
        assert_eq!(cart["summary"]["ticket_count"], 50);
        assert_eq!(cart["summary"]["ticket_total"], "150.00");
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn the_sales_journal_is_folded_and_its_folded_entries_vacuumed_away() {
    let (a, _b) = two_servers().await;
    let ann = a.ann().await;
    let path = format!("/events/{VILLAGE_FETE}/tickets");
    for _ in 0..5 {
        let answer = a.post(&path, Some(&ann), json!({"quantity": 1})).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    }
    // Within a few folds (five a second), the journal is empty and its table vacuumed by a
    // server (PostgreSQL's own vacuum would look only after a minute).
    let store = a.server.state().store();
    let started = Instant::now();
    loop {
        let mut conn = store.connection().await.unwrap();
        let (entries, vacuumed): (i64, bool) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM ticket_count_deltas), \
                    (SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables \
                     WHERE relname = 'ticket_count_deltas')",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        if entries == 0 && vacuumed {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{entries} entries left, vacuumed: {vacuumed}"
        );
        drop(conn);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(store.recount_differences().await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_transaction_cut_off_midway_lets_go_of_its_locks_at_once() {
    let database_url = fresh_database().await;
    let app = one_server_on(&database_url).await;
    let store = app.server.state().store();
    sqlx::query("INSERT INTO settings (key, value) VALUES ('probe', 'before')")
        .execute(&mut *store.connection().await.unwrap())
        .await
        .unwrap();
    {
        let mut conn = store.connection().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("UPDATE settings SET value = 'cut off' WHERE key = 'probe'")
            .execute(&mut *tx)
            .await
            .unwrap();
        // Dropped here, neither committed nor rolled back, as when a request is cut off.
    }
    // Another session takes the row at once: the rollback was sent, not left queued until
    // the connection's next use (nor until PostgreSQL ends an idle transaction, after 5 s).
    let mut other = sqlx::AnyConnection::connect(&database_url).await.unwrap();
    sqlx::query("SET lock_timeout = '2s'")
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::query("UPDATE settings SET value = 'after' WHERE key = 'probe'")
        .execute(&mut other)
        .await
        .expect("the row's lock was let go");
    let value: String = sqlx::query_scalar("SELECT value FROM settings WHERE key = 'probe'")
        .fetch_one(&mut other)
        .await
        .unwrap();
    assert_eq!(value, "after");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_buyers_turn_holds_their_row_until_it_ends() {
    let database_url = fresh_database().await;
    let app = one_server_on(&database_url).await;
    let store = app.server.state().store();
    let user_id: i64 = sqlx::query_scalar("SELECT MIN(id) FROM users")
        .fetch_one(&mut *store.connection().await.unwrap())
        .await
        .unwrap();
    let mut other = sqlx::AnyConnection::connect(&database_url).await.unwrap();
    sqlx::query("SET lock_timeout = '300ms'")
        .execute(&mut other)
        .await
        .unwrap();
    let mut conn = store.connection().await.unwrap();
    let tx = conn.begin_buyers_turn(user_id).await.unwrap();
    let held = hold_user(&mut other, user_id).await;
    assert!(
        held.is_err_and(
            |err| err.as_database_error().and_then(|e| e.code()).as_deref() == Some("55P03")
        ),
        "another session waits for the row (and times out)"
    );
    tx.commit().await.unwrap();
    hold_user(&mut other, user_id)
        .await
        .expect("the row is let go at commit");
    // The connection is usable again, outside any transaction.
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_buy_that_waited_for_another_of_the_buyers_counts_what_that_one_added() {
    let database_url = fresh_database().await;
    let app = one_server_on(&database_url).await;
    let ann = app.ann().await;
    let store = app.server.state().store();
    let ann_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'ann@example.com'")
        .fetch_one(&mut *store.connection().await.unwrap())
        .await
        .unwrap();
    // Another buy of Ann's, midway: her turn taken and three of the duo's four a buyer may
    // hold put in her cart, not yet committed.
    let mut conn = store.connection().await.unwrap();
    let mut other_buy = conn.begin_buyers_turn(ann_id).await.unwrap();
    sqlx::query(
        "INSERT INTO tickets (code, event_id, user_id, ticket_type_id, cost, state, created_at) \
         SELECT 'HELD-' || n, $1, $2, $3, 2500, 'pending', 0 FROM generate_series(1, 3) n",
    )
    .bind(WREN_DUO)
    .bind(ann_id)
    .bind(STANDARD)
    .execute(&mut *other_buy)
    .await
    .unwrap();
    // Her buy of two more starts meanwhile: its statement counts her cart as it was (empty),
    // then waits for her row. Once it waits, the other buy commits.
    let path = format!("/events/{WREN_DUO}/tickets");
    let buy = app.post(
        &path,
        Some(&ann),
        json!({"quantity": 2, "ticket_type_id": STANDARD}),
    );
    let commit = async {
        until_a_statement_waits(&database_url, "%UPDATE users SET buys%", "the buy").await;
        other_buy.commit().await.unwrap();
    };
    let (answer, ()) = tokio::join!(buy, commit);
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.text
    );
    assert_eq!(app.cart(&ann).await["summary"]["ticket_count"], 3);
    assert!(store.recount_differences().await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_payment_that_waited_for_a_settlement_counting_alone_counts_what_it_confirmed() {
    let database_url = fresh_database().await;
    let app = one_server_on(&database_url).await;
    let (ann, bob) = (app.ann().await, app.bob().await);
    // Quiet Night holds two. Ann's order reserves both.
    app.buy(&ann, QUIET_NIGHT, 2, None).await;
    let (ann_order, ann_url) = app.checkout_ok(&ann, None).await;
    // A settlement counting the event alone, midway: it holds the event, marked so.
    let store = app.server.state().store();
    let mut conn = store.connection().await.unwrap();
    let mut alone = conn.begin().await.unwrap();
    sqlx::query("UPDATE events SET alone_turns = alone_turns + 1 WHERE id = $1")
        .bind(QUIET_NIGHT)
        .execute(&mut *alone)
        .await
        .unwrap();
    // Ann pays: her payment's statement counts the event as it stands (two sold, which fit),
    // then waits for the event.
    app.press(&ann_url, "pay").await;
    until_a_statement_waits(&database_url, "%alone_turns%", "the payment").await;
    // Meanwhile Bob's order reserves one more, and the settlement confirms it (it counted the
    // event alone: Ann's ticket not yet confirmed, Bob's fits).
    app.buy(&bob, QUIET_NIGHT, 1, None).await;
    let (bob_order, _) = app.checkout_ok(&bob, None).await;
    for change in [
        "UPDATE tickets SET state = 'confirmed' WHERE order_id = $1",
        "UPDATE orders SET status = 'paid' WHERE id = $1",
    ] {
        sqlx::query(change)
            .bind(bob_order)
            .execute(&mut *alone)
            .await
            .unwrap();
    }
    alone.commit().await.unwrap();
    // Ann's payment counts Bob's ticket after all: one of hers is one too many, and refunded.
    assert_eq!(app.order(&ann, ann_order, 10).await["status"], "paid");
    app.until_refunded(ann_order).await;
    let order = app.order(&ann, ann_order, 0).await;
    let mut states: Vec<&str> = order["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    states.sort_unstable();
    assert_eq!(states, ["cancelled", "confirmed"]);
    assert_eq!(order["refund"]["reason"], "sold_out");
    assert_eq!(app.event(QUIET_NIGHT, None).await["sold"], 2);
    assert!(store.recount_differences().await.unwrap().is_empty());
}

/// Waits until a statement whose text is `LIKE` the pattern waits for a lock (seen from a
/// session of its own); fails, naming `what`, if none does within 10 s.
async fn until_a_statement_waits(database_url: &str, like: &str, what: &str) {
    let mut watching = sqlx::AnyConnection::connect(database_url).await.unwrap();
    let started = Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE wait_event_type = 'Lock' AND query LIKE $1",
        )
        .bind(like)
        .fetch_one(&mut watching)
        .await
        .unwrap();
        if waiting > 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} never waited"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Takes the user's row for update, in a transaction of its own.
async fn hold_user(conn: &mut sqlx::AnyConnection, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Eight events of two places each: settling an order for all of them takes long enough
/// that two settlements running at once overlap, and only the event lock keeps them apart.
fn race_catalog() -> String {
    let mut catalog = String::from(
        "[[users]]\nemail = \"ann@example.com\"\npassword = \"ann-pass\"\nname = \"Ann\"\n\
         [[users]]\nemail = \"bob@example.com\"\npassword = \"bob-pass\"\nname = \"Bob\"\n\
         [[pages]]\nslug = \"hall\"\ntitle = \"Hall\"\n\
         [[calendars]]\nslug = \"main\"\nname = \"Main\"\npage = \"hall\"\n",
    );
    for i in 1..=RACED_EVENTS {
        catalog.push_str(&format!(
            "[[events]]\nslug = \"e{i}\"\ncalendar = \"main\"\nname = \"Night {i}\"\n\
             starts_at = \"+{i}d 19:00\"\nticket_price = \"5.00\"\nticket_count = 2\n"
        ));
    }
    catalog
}

const RACED_EVENTS: i64 = 8;

/// Two servers, Ann and Bob each with a paid order for `each` tickets of every raced event
/// (Ann's made on A, Bob's on B), both payments settled at the same moment.
struct Raced {
    a: TestApp,
    b: TestApp,
    ann: String,
    bob: String,
    ann_order: i64,
    bob_order: i64,
}

async fn race(each: i64) -> Raced {
    let database_url = fresh_database().await;
    let config = || ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.clone(),
        catalog: Some(race_catalog()),
        ..ServerConfig::default()
    };
    let a = TestApp::with_config(config()).await;
    let b = TestApp::with_config(config()).await;
    let (ann, bob) = (a.ann().await, b.bob().await);
    for event in 1..=RACED_EVENTS {
        a.buy(&ann, event, each, None).await;
        b.buy(&bob, event, each, None).await;
    }
    let (ann_order, ann_url) = a.checkout_ok(&ann, None).await;
    let (bob_order, bob_url) = b.checkout_ok(&bob, None).await;
    // Hold every ticket, so that both settlements queue behind this and then run at the
    // same moment, each on its own server.
    let mut held = a.server.state().store().connection().await.unwrap();
    let mut gate = held.begin().await.unwrap();
    sqlx::query("SELECT id FROM tickets FOR UPDATE")
        .fetch_all(&mut *gate)
        .await
        .unwrap();
    tokio::join!(a.press(&ann_url, "pay"), b.press(&bob_url, "pay"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    gate.commit().await.unwrap();
    drop(held);
    let (ann_paid, bob_paid) =
        tokio::join!(b.order(&ann, ann_order, 10), a.order(&bob, bob_order, 10));
    assert_eq!(ann_paid["status"], "paid");
    assert_eq!(bob_paid["status"], "paid");
    Raced {
        a,
        b,
        ann,
        bob,
        ann_order,
        bob_order,
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn two_buyers_racing_for_the_last_tickets_on_two_servers_oversell_nothing() {
    // Every event holds two: Ann takes two of each on A, Bob two of each on B.
    let Raced {
        a,
        b,
        ann,
        bob,
        ann_order,
        bob_order,
    } = race(2).await;
    for event in 1..=RACED_EVENTS {
        let shown = a.event(event, None).await;
        assert_eq!(shown["sold"], 2, "event {event} holds exactly its capacity");
    }
    // The refund request may still be on its way to SumUp.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (ann_now, bob_now) = loop {
        let ann_now = a.order(&ann, ann_order, 0).await;
        let bob_now = b.order(&bob, bob_order, 0).await;
        let refunded = [&ann_now, &bob_now]
            .iter()
            .any(|order| order["refund"]["status"] == "refunded");
        if refunded || Instant::now() > deadline {
            break (ann_now, bob_now);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let confirmed = [&ann_now, &bob_now]
        .iter()
        .flat_map(|order| ticket_states(order))
        .filter(|state| state == "confirmed")
        .count();
    assert_eq!(confirmed, 16, "never more than the capacity");
    let refunds: Vec<&Value> = [&ann_now, &bob_now]
        .iter()
        .map(|order| &order["refund"])
        .filter(|refund| !refund.is_null())
        .collect();
    // The event rows are taken in one order, so the later payer meets every event full.
    assert_eq!(
        refunds.len(),
        1,
        "exactly one order is refunded: {refunds:?}"
    );
    assert_eq!(refunds[0]["amount"], "80.00");
    assert_eq!(refunds[0]["status"], "refunded");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn two_payments_that_fit_settle_side_by_side_on_two_servers_and_refund_nothing() {
    // Every event holds two: Ann takes one of each on A, Bob one of each on B.
    let Raced {
        a,
        b,
        ann,
        bob,
        ann_order,
        bob_order,
    } = race(1).await;
    let ann_paid = b.order(&ann, ann_order, 0).await;
    let bob_paid = a.order(&bob, bob_order, 0).await;
    for order in [&ann_paid, &bob_paid] {
        assert_eq!(order["status"], "paid");
        assert_eq!(ticket_states(order), ["confirmed"; RACED_EVENTS as usize]);
        assert!(order["refund"].is_null(), "{order}");
    }
    for event in 1..=RACED_EVENTS {
        assert_eq!(a.event(event, None).await["sold"], 2);
    }
}

/// Servers A and B, and Ann's order of one Wren Duo ticket checked out on A: her token, the
/// order's id and where to pay for it.
async fn ann_checks_out_wren_duo_on_a() -> (TestApp, TestApp, String, i64, String) {
    let (a, b) = two_servers().await;
    let ann = a.ann().await;
    a.buy(&ann, WREN_DUO, 1, Some(STANDARD)).await;
    let (order_id, url) = a.checkout_ok(&ann, None).await;
    (a, b, ann, order_id, url)
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_payment_that_fits_does_not_wait_for_another_settling_the_same_event() {
    let (a, b, ann, order_id, url) = ann_checks_out_wren_duo_on_a().await;
    // Another settlement of the event, on another server, is midway: it holds the event.
    let mut other = b.server.state().store().connection().await.unwrap();
    let mut settling = other.begin().await.unwrap();
    sqlx::query("SELECT id FROM events FOR SHARE")
        .fetch_all(&mut *settling)
        .await
        .unwrap();
    let settled = tokio::time::timeout(Duration::from_secs(10), async {
        a.press(&url, "pay").await;
        a.order(&ann, order_id, 5).await
    })
    .await;
    settling.commit().await.unwrap();
    let order = settled.expect("the payment settled while the other held the event");
    assert_eq!(order["status"], "paid", "{order}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_bulk_sale_is_folded_into_the_counts_a_part_at_a_time_and_they_stay_exact() {
    let database_url = fresh_database().await;
    // The catalog loaded by a server, which then stops: nothing folds but this test.
    one_server_on(&database_url).await.server.stop().await;
    let store = storefront_server::connect_database(&database_url)
        .await
        .unwrap();
    let mut conn = store.connection().await.unwrap();
    // 1,000 tickets sold in one statement (each a journal entry), on top of the catalog's.
    sqlx::query(
        "INSERT INTO tickets (code, event_id, user_id, cost, state, created_at) \
         SELECT 'BULK-' || n, $1, (SELECT MIN(id) FROM users), 1250, 'confirmed', 0 \
         FROM generate_series(1, 1000) AS n",
    )
    .bind(WREN_DUO)
    .execute(&mut *conn)
    .await
    .unwrap();
    let journal = || sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM ticket_count_deltas");
    let mut left = journal().fetch_one(&mut *conn).await.unwrap();
    assert!(left >= 1000, "{left}");
    let expected_folds = (left + 299) / 300;
    let mut folds = 0;
    while left > 0 {
        store.fold_counts(300).await.unwrap();
        let now = journal().fetch_one(&mut *conn).await.unwrap();
        assert_eq!(now, (left - 300).max(0), "each fold takes the 300 oldest");
        left = now;
        folds += 1;
    }
    assert_eq!(folds, expected_folds);
    drop(conn);
    assert_eq!(
        store.recount_differences().await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_payment_waits_while_another_settlement_counts_its_event_alone() {
    let (a, b, ann, order_id, url) = ann_checks_out_wren_duo_on_a().await;
    // Another settlement of the event, on another server, counts it alone (it found the
    // event oversold): no payment of the event may count before it ends.
    let mut other = b.server.state().store().connection().await.unwrap();
    let mut settling = other.begin().await.unwrap();
    sqlx::query("SELECT id FROM events FOR UPDATE")
        .fetch_all(&mut *settling)
        .await
        .unwrap();
    a.press(&url, "pay").await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut look = a.server.state().store().connection().await.unwrap();
    let status = || {
        sqlx::query_scalar::<_, String>("SELECT status FROM orders WHERE id = $1").bind(order_id)
    };
    let meanwhile = status().fetch_one(&mut *look).await.unwrap();
    settling.commit().await.unwrap();
    assert_eq!(
        meanwhile, "pending",
        "the payment counted while the event was held"
    );
    let order = a.order(&ann, order_id, 10).await;
    assert_eq!(order["status"], "paid", "{order}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_payment_settled_on_one_server_wakes_a_long_poll_on_the_other() {
    let (a, b) = two_servers().await;
    let ann = a.ann().await;
    // The checkout is made on A: SumUp's webhook goes to A.
    let (order_id, url) = a.checkout_ok(&ann, None).await;
    let started = Instant::now();
    let waiting = b.order(&ann, order_id, 20);
    let (order, paid_at) = tokio::join!(waiting, async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        a.press(&url, "pay").await;
        Instant::now()
    });
    let answered = Instant::now();
    assert_eq!(order["status"], "paid");
    // Polled only once a minute, B can only have been woken by A through the database.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    eprintln!(
        "B answered {:?} after the payment page was submitted on A",
        answered.saturating_duration_since(paid_at)
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn one_idempotency_key_sent_to_both_servers_at_once_acts_once() {
    let (a, b) = two_servers().await;
    let ann = a.ann().await;
    let send = |server: &TestApp| {
        let request = server
            .client
            .post(server.url(&format!("/events/{VILLAGE_FETE}/tickets")))
            .bearer_auth(&ann)
            .header("Idempotency-Key", "door-rush-1")
            .json(&json!({"quantity": 3}))
            .send();
        async move {
            let answer = request.await.unwrap();
            (answer.status(), answer.text().await.unwrap())
        }
    };
    let ((status_a, body_a), (status_b, body_b)) = tokio::join!(send(&a), send(&b));
    let created = [status_a, status_b]
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert!(created >= 1, "{status_a} {body_a} / {status_b} {body_b}");
    for (status, body) in [(status_a, &body_a), (status_b, &body_b)] {
        // The other is the same answer replayed, or told that the first is still running.
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "{status} {body}"
        );
    }
    if created == 2 {
        assert_eq!(body_a, body_b, "a replay is the first answer");
    }
    assert_eq!(b.cart(&ann).await["summary"]["ticket_count"], 3);
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn failed_sign_ins_on_one_server_count_on_the_other() {
    let (a, b) = two_servers().await;
    for _ in 0..10 {
        let wrong = a
            .post(
                "/auth/login",
                None,
                json!({"email": "ann@example.com", "password": "guess"}),
            )
            .await;
        assert_eq!(wrong.code(), ErrorCode::InvalidCredentials);
    }
    let limited = b
        .post(
            "/auth/login",
            None,
            json!({"email": "ann@example.com", "password": "ann-pass"}),
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), ErrorCode::RateLimited);
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_restart_on_the_same_database_keeps_carts_orders_and_tickets() {
    let database_url = fresh_database().await;
    let (a, b) = two_servers_on(&database_url).await;
    let ann = a.ann().await;
    a.buy(&ann, WREN_DUO, 2, Some(STANDARD)).await;
    let (order_id, url) = a.checkout_ok(&ann, Some("granary")).await;
    a.press(&url, "pay").await;
    assert_eq!(a.order(&ann, order_id, 10).await["status"], "paid");
    b.buy(&ann, VILLAGE_FETE, 1, None).await;
    let cart = a.cart(&ann).await;
    let orders = ticket_pages(a.get("/orders", Some(&ann)).await.json);
    let tickets = a.get("/tickets", Some(&ann)).await.json;
    a.server.stop().await;
    b.server.stop().await;

    // Both come back on the same database; the catalog is offered again and changes nothing.
    let (a, b) = two_servers_on(&database_url).await;
    assert_eq!(b.cart(&ann).await, cart, "the token and the cart survive");
    // The ticket pages are the same; the servers' addresses (their ports) are new.
    assert_eq!(
        ticket_pages(a.get("/orders", Some(&ann)).await.json),
        orders
    );
    assert_eq!(b.get("/tickets", Some(&ann)).await.json, tickets);
    assert_eq!(
        ticket_states(&b.order(&ann, order_id, 0).await),
        ["confirmed", "confirmed"]
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn changes_told_as_a_server_stops_still_reach_the_others() {
    let database_url = fresh_database().await;
    let (a, b) = two_servers_on(&database_url).await;
    let mut other = sqlx::postgres::PgListener::connect(&database_url)
        .await
        .unwrap();
    other.listen("storefront_orders").await.unwrap();
    // Told together (nothing else runs between them on the test's one thread), the changes go
    // out in one statement, each order once, and none is lost to the stop that follows.
    for order_id in [7, 8, 7, 9] {
        a.server.state().store().notify_order_changed(order_id);
    }
    a.server.stop().await;
    let mut told = Vec::new();
    while told.len() < 3 {
        let notice = tokio::time::timeout(Duration::from_secs(5), other.recv())
            .await
            .expect("every change is told before the server stops")
            .unwrap();
        told.push(notice.payload().to_owned());
    }
    told.sort();
    assert_eq!(told, ["7", "8", "9"]);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), other.recv())
            .await
            .is_err(),
        "order 7 was told once"
    );
    b.server.stop().await;
}

/// Ends every connection the servers have to the database, as a PostgreSQL restart does.
async fn cut_connections(database_url: &str) {
    let mut admin = sqlx::PgConnection::connect(database_url).await.unwrap();
    let cut: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()) cut",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(cut > 0, "the servers' connections were cut");
}

/// PostgreSQL restarted, or a firewall dropped the connections: a server checks a connection
/// that sat idle before using it, and once a statement finds its connection lost, every
/// connection given back before; so at most one request fails, and only while busy.
#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn connections_the_database_cut_are_replaced_before_the_next_request() {
    let database_url = fresh_database().await;
    let (a, b) = two_servers_on(&database_url).await;
    let ann = a.ann().await;
    let cart = a.cart(&ann).await;

    // Cut while the servers are busy (their connections were used a moment ago).
    cut_connections(&database_url).await;
    for server in [&a, &b] {
        let mut failed = 0;
        for _ in 0..20 {
            let answer = server.get("/cart", Some(&ann)).await;
            if answer.status == StatusCode::OK {
                assert_eq!(answer.json, cart);
            } else {
                assert_eq!(answer.code(), ErrorCode::Internal, "{}", answer.text);
                failed += 1;
            }
        }
        assert!(failed <= 1, "{failed} requests failed after the cut");
    }

    // Cut while they are idle: nothing fails.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    cut_connections(&database_url).await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    for server in [&a, &b] {
        for _ in 0..20 {
            assert_eq!(server.cart(&ann).await, cart);
        }
    }
    b.buy(&ann, VILLAGE_FETE, 1, None).await;
    assert_eq!(a.cart(&ann).await["summary"]["ticket_count"], 1);

    // The servers hear each other again: a payment on A wakes a long-poll on B (which,
    // polling once a minute, can only have been woken through the database).
    let (order_id, url) = a.checkout_ok(&ann, None).await;
    let started = Instant::now();
    let (order, ()) = tokio::join!(b.order(&ann, order_id, 20), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        a.press(&url, "pay").await;
    });
    assert_eq!(order["status"], "paid");
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The end of an order's checkout (closed by paying on a reader instead) applied while the new
/// checkout is being recorded, on another connection: it waits for the record, sees that its
/// checkout is no longer the newest, and leaves the order waiting for the new one.
#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn an_old_checkout_ending_while_a_new_one_is_recorded_fails_nothing() {
    let database_url = fresh_database().await;
    let (a, _b) = two_servers_on(&database_url).await;
    let ann = a.ann().await;
    a.buy(&ann, VILLAGE_FETE, 1, None).await;
    let (order_id, _) = a.checkout_ok(&ann, None).await;
    let mut recording = sqlx::PgConnection::connect(&database_url).await.unwrap();
    let old: String = sqlx::query_scalar("SELECT sumup_id FROM checkouts WHERE order_id = $1")
        .bind(order_id)
        .fetch_one(&mut recording)
        .await
        .unwrap();
    // What recording a checkout does, held open midway.
    let mut tx = recording.begin().await.unwrap();
    sqlx::query("SELECT id FROM orders WHERE id = $1 FOR UPDATE")
        .bind(order_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO checkouts (order_id, sumup_id, reference, url, status, created_at) \
         VALUES ($1, 'the-new-one', 'the-new-one', '', 'PENDING', 0)",
    )
    .bind(order_id)
    .execute(&mut *tx)
    .await
    .unwrap();

    let store = a.server.state().store().clone();
    let failing = tokio::spawn(async move { store.fail_order(order_id, &old).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !failing.is_finished(),
        "waits for the order held by the record"
    );
    tx.commit().await.unwrap();
    assert!(
        !failing.await.unwrap(),
        "the ended checkout is no longer the newest"
    );
    assert_eq!(a.order(&ann, order_id, 0).await["status"], "pending");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn two_servers_started_at_once_with_one_catalog_both_start_with_one_result() {
    let database_url = fresh_database().await;
    let config = || ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.clone(),
        catalog: Some(TEST_CATALOG.to_owned()),
        ..ServerConfig::default()
    };
    let (a, b) = tokio::join!(
        storefront_server::start(config()),
        storefront_server::start(config())
    );
    let (a, b) = (a.expect("A starts"), b.expect("B starts"));
    let mut conn = sqlx::PgConnection::connect(&database_url).await.unwrap();
    for (table, count) in [
        ("events", 8),
        ("users", 5),
        ("ticket_types", 2),
        ("tickets", 1),
    ] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert_eq!(n, count, "{table}: applied once");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_catalog_applied_through_one_server_is_served_by_the_other_within_a_second() {
    let (a, b) = two_servers().await;
    let ann = b.ann().await;
    b.buy(&ann, WREN_DUO, 1, Some(STANDARD)).await;
    let manager = a.manager().await;
    let raised = TEST_CATALOG.replace("cost = \"12.00\"", "cost = \"13.50\"");
    let applied = a.post_catalog(Some(&manager), &raised, false).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    let started = Instant::now();
    loop {
        let event = b.event(WREN_DUO, None).await;
        let standard = event["ticket_types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "Standard")
            .unwrap()
            .clone();
        if standard["cost"] == "13.50" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "B still serves {event}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cart = b.cart(&ann).await;
    assert_eq!(cart["summary"]["ticket_total"], "13.50");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn health_says_503_while_the_database_does_not_answer() {
    let database_url = fresh_database().await;
    let app = one_server_on(&database_url).await;
    assert_eq!(app.get("/health", None).await.status, StatusCode::OK);
    // The database takes no connections, and those the server had are cut: as when
    // PostgreSQL is down.
    let name = database_url.rsplit('/').next().unwrap().to_owned();
    let admin_url = database_url.replace(&format!("/{name}"), "/postgres");
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let set = |allow: bool| {
        sqlx::AssertSqlSafe(format!(
            "ALTER DATABASE \"{name}\" WITH ALLOW_CONNECTIONS {allow}"
        ))
    };
    sqlx::query(set(false)).execute(&mut admin).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .fetch_all(&mut admin)
        .await
        .unwrap();
    let started = Instant::now();
    let down = app.get("/health", None).await;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.text
    );
    assert_eq!(down.json["status"], "unavailable");
    assert!(started.elapsed() < Duration::from_secs(5));
    sqlx::query(set(true)).execute(&mut admin).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get("/health", None).await.status != StatusCode::OK {
        assert!(Instant::now() < deadline, "back once the database is");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn the_box_office_on_one_server_hears_a_sale_on_the_other_within_a_second() {
    let (a, b) = two_servers().await;
    let max = a.manager().await;
    let ann = b.ann().await;
    let first = a.get("/admin/events", Some(&max)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let version = first.json["version"].as_i64().unwrap();
    let path = format!("/admin/events?wait=20&version={version}");
    let wait = a.get(&path, Some(&max));
    let buy = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        b.buy(&ann, VILLAGE_FETE, 2, None).await;
        Instant::now()
    };
    let (answer, bought) = tokio::join!(wait, buy);
    let heard = Instant::now() - bought;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(answer.json["version"].as_i64().unwrap() > version);
    assert!(
        heard < Duration::from_secs(1),
        "heard {heard:?} after the sale"
    );
    let fete = |json: &Value| {
        json["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event"]["id"] == VILLAGE_FETE)
            .unwrap()["pending"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(fete(&answer.json) - fete(&first.json), 2);
    // Both servers count the same, before and after the journal is folded.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let on_a = a.get("/admin/events", Some(&max)).await.json;
    let max_b = b.manager().await;
    let on_b = b.get("/admin/events", Some(&max_b)).await.json;
    assert_eq!(on_a["events"], on_b["events"]);
    assert_eq!(on_a["version"], on_b["version"]);
    let differences = a
        .server
        .state()
        .store()
        .recount_differences()
        .await
        .unwrap();
    assert!(differences.is_empty(), "{differences:#?}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES) and aiosmtpd (apt-get install -y python3-aiosmtpd); run with --include-ignored (.ci/run does)"]
async fn two_servers_send_each_email_once() {
    assert!(
        crate::smtp::have_aiosmtpd(),
        "needs apt-get install -y python3-aiosmtpd"
    );
    let smtp = crate::smtp::SmtpServer::start();
    let database_url = fresh_database().await;
    let config = || {
        let mut mail = storefront_server::mail::MailConfig::new(
            storefront_server::mail::MailTransport::Smtp { url: smtp.url() },
            "Box office <box@granary.example>",
        );
        // Both look all the time, so that they race for every e-mail.
        mail.sweep_interval = Duration::from_millis(20);
        ServerConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            database_url: database_url.clone(),
            catalog: Some(TEST_CATALOG.to_owned()),
            mail: Some(mail),
            ..ServerConfig::default()
        }
    };
    let a = TestApp::with_config(config()).await;
    let b = TestApp::with_config(config()).await;
    let (max_a, max_b) = (a.manager().await, b.manager().await);
    let guests = 24;
    let comps = (0..guests).map(|i| {
        let (server, token) = if i % 2 == 0 {
            (&a, &max_a)
        } else {
            (&b, &max_b)
        };
        server.post(
            "/admin/comps",
            Some(token),
            json!({"event_id": VILLAGE_FETE, "quantity": 1, "name": format!("Guest {i}"),
                   "email": format!("guest{i}@example.com")}),
        )
    });
    for answer in futures::future::join_all(comps).await {
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    }
    smtp.wait_for(guests).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let messages = smtp.messages();
    assert_eq!(messages.len(), guests, "one e-mail each, none twice");
    let mut to: Vec<String> = messages
        .iter()
        .map(|m| crate::smtp::header(m, "To").unwrap())
        .collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), guests, "{to:#?}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_session_ended_on_one_server_is_refused_by_the_other_at_once() {
    let (a, b) = two_servers().await;
    for end in ["sign-out", "catalog"] {
        let ann = a.ann().await;
        // B has just read who the session is, and would keep that for a second.
        assert_eq!(b.get("/cart", Some(&ann)).await.status, StatusCode::OK);
        match end {
            "sign-out" => {
                let out = a.post("/auth/logout", Some(&ann), json!({})).await;
                assert!(out.status.is_success(), "{}", out.text);
            }
            _ => {
                // The catalog disables Ann.
                let manager = a.manager().await;
                let without_ann = TEST_CATALOG.replace("ann@example.com", "ann2@example.com");
                assert_ne!(without_ann, TEST_CATALOG);
                let applied = a.post_catalog(Some(&manager), &without_ann, false).await;
                assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
            }
        }
        // B hears of it at once (it would otherwise go on for up to a second).
        let started = Instant::now();
        loop {
            let answer = b.get("/cart", Some(&ann)).await;
            if answer.status != StatusCode::OK {
                assert!(
                    matches!(
                        answer.status,
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    ),
                    "{end}: {}",
                    answer.text
                );
                break;
            }
            assert!(
                started.elapsed() < Duration::from_millis(900),
                "{end}: B still takes the session after {:?}",
                started.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn a_ticket_type_the_catalog_takes_off_sale_on_one_server_is_refused_by_the_other_at_once() {
    let (a, b) = two_servers().await;
    let ann = a.ann().await;
    // B has just read the event on sale for a purchase, and would keep that for a second.
    b.buy(&ann, WREN_DUO, 1, Some(CONCESSION)).await;
    let manager = a.manager().await;
    let without_concession = TEST_CATALOG.replace(
        "[[events.ticket_types]]\nname = \"Concession\"\ncost = \"8.00\"\n",
        "",
    );
    assert_ne!(without_concession, TEST_CATALOG);
    let applied = a
        .post_catalog(Some(&manager), &without_concession, false)
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    // B hears of it at once (it would otherwise go on selling it for up to a second).
    let started = Instant::now();
    loop {
        let bought = b
            .post(
                &format!("/events/{WREN_DUO}/tickets"),
                Some(&ann),
                json!({"quantity": 1, "ticket_type_id": CONCESSION}),
            )
            .await;
        if bought.status != StatusCode::CREATED {
            // Refused for the type (not for the per-order limit a cart filling up reaches).
            assert_eq!(
                bought.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                bought.text
            );
            assert_eq!(
                bought.json["error"]["field"], "ticket_type_id",
                "{}",
                bought.text
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "B still sells the type off sale after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL (apt-get install -y postgresql, or STOREFRONT_TEST_POSTGRES); run with --include-ignored (.ci/run does)"]
async fn servers_reach_postgresql_over_its_unix_socket() {
    let url = over_socket(&fresh_database().await);
    assert!(
        url.starts_with("postgres:///") && url.contains("?host=/"),
        "{url}"
    );
    let (a, b) = two_servers_on(&url).await;
    let ann = a.ann().await;
    a.buy(&ann, WREN_DUO, 1, Some(STANDARD)).await;
    let (order_id, page) = a.checkout_ok(&ann, None).await;
    // A payment on A wakes a long-poll on B: NOTIFY and LISTEN over the socket too.
    let (order, _) = tokio::join!(b.order(&ann, order_id, 20), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        a.press(&page, "pay").await
    });
    assert_eq!(order["status"], "paid", "{order}");
}
