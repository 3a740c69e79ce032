use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_contract::{ErrorCode, SOLD_OUT_NOTICE};
use storefront_server::ServerConfig;

use crate::common::*;

fn states(order: &Value) -> Vec<String> {
    order["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_whole_flow_through_the_sandbox() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, WREN_DUO, 2, Some(STANDARD)).await;
    let answer = app.checkout(&ann, None).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let order = &answer.json["order"];
    let id = order["id"].as_i64().unwrap();
    let url = answer.json["checkout_url"].as_str().unwrap().to_owned();
    // Tote bags 14.50 + bell tower tour 15.00 + two tickets 24.00.
    assert_eq!(order["total"], "53.50");
    assert_eq!(order["status"], "pending");
    assert_eq!(order["sumup_status"], "PENDING");
    assert_eq!(order["checkout_url"], url.as_str());
    assert_eq!(order["notice"], SOLD_OUT_NOTICE);
    assert_eq!(order["page"], Value::Null, "two pages: no single page");
    assert_eq!(states(order), ["reserved", "reserved"]);
    assert_eq!(order["products"][0]["unit_price"], "7.25");
    assert_eq!(order["products"][0]["line_total"], "14.50");
    assert_eq!(order["calendar_entries"][0]["name"], "Bell tower tour");
    // Reserved tickets count as sold; the cart is empty.
    assert_eq!(app.event(WREN_DUO, None).await["sold"], 2);
    assert_eq!(app.cart(&ann).await["summary"]["items"], 0);

    let page = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("£53.50"), "{page}");
    assert!(page.contains("id=\"pay\"") && page.contains("id=\"decline\""));
    let (status, paid_page) = app.press(&url, "pay").await;
    assert_eq!(status, StatusCode::OK);
    assert!(paid_page.contains("Payment successful"));

    let order = app.order(&ann, id, 10).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["sumup_status"], "PAID");
    assert!(order["paid_at"].is_string());
    assert_eq!(order["notice"], Value::Null);
    assert_eq!(order["refund"], Value::Null);
    assert_eq!(states(&order), ["confirmed", "confirmed"]);

    let tickets = app.get("/tickets", Some(&ann)).await.json;
    assert_eq!(tickets["tickets"].as_array().unwrap().len(), 2);
    assert_eq!(tickets["tickets"][0]["state"], "confirmed");
    assert_eq!(tickets["tickets"][0]["order_id"], id);
    let orders = app.get("/orders", Some(&ann)).await.json;
    assert_eq!(orders["orders"][0]["id"], id);
    assert_eq!(app.event(WREN_DUO, None).await["sold"], 2);
    // Paid orders are not payable or cancellable.
    let again = app
        .post(&format!("/orders/{id}/pay"), Some(&ann), json!({}))
        .await;
    assert_eq!(again.code(), ErrorCode::OrderNotPayable);
    let cancel = app
        .post(&format!("/orders/{id}/cancel"), Some(&ann), json!({}))
        .await;
    assert_eq!(cancel.code(), ErrorCode::OrderNotPayable);
}

#[tokio::test]
async fn paid_is_noticed_by_the_webhook_alone() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let (id, url) = app.checkout_ok(&ann, None).await;
    app.press(&url, "pay").await;
    // Nobody asks for the order: the sandbox's webhook settles it.
    app.until_stored_status(id, "paid").await;
    let order = app.order(&ann, id, 0).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["calendar_entries"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_forged_webhook_changes_nothing() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let (id, _url) = app.checkout_ok(&ann, None).await;
    let order = app.order(&ann, id, 0).await;
    let checkout = order["sumup_checkout_id"].as_str().unwrap();
    for body in [
        json!({"event_type": "CHECKOUT_STATUS_CHANGED", "id": checkout}),
        json!({"event_type": "CHECKOUT_STATUS_CHANGED", "id": "made-up"}),
        // A body that says the checkout was paid: only SumUp's own answer counts.
        json!({"id": "evt_forged", "event_type": "checkout.status.updated",
               "payload": {"checkout_id": checkout, "status": "PAID"},
               "timestamp": "2026-12-03T10:00:00Z"}),
    ] {
        let answer = app.post("/webhooks/sumup", None, body).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT);
    }
    // Answered at once, handled after: wait for the handling, then look at the database
    // (reading the order through the API would ask SumUp itself).
    app.server.notices_handled().await;
    let stored: String = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
        .await
        .unwrap();
    assert_eq!(stored, "pending");
    assert_eq!(app.order(&ann, id, 0).await["status"], "pending");
    let junk = app.post("/webhooks/sumup", None, json!({"nope": 1})).await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn decline_then_pay_again() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let (id, url) = app.checkout_ok(&ann, None).await;
    let (_, page) = app.press(&url, "decline").await;
    assert!(page.contains("Payment failed"));
    let order = app.order(&ann, id, 10).await;
    assert_eq!(order["status"], "failed");
    assert_eq!(order["sumup_status"], "FAILED");
    // Failed orders keep their tickets and bookings claimed.
    assert_eq!(order["calendar_entries"].as_array().unwrap().len(), 1);

    let retry = app
        .post(&format!("/orders/{id}/pay"), Some(&ann), json!({}))
        .await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
    let new_url = retry.json["checkout_url"].as_str().unwrap().to_owned();
    assert_ne!(new_url, url);
    assert_eq!(retry.json["order"]["status"], "pending");
    let reference: String =
        sqlx::query_scalar("SELECT reference FROM checkouts ORDER BY id DESC LIMIT 1")
            .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
            .await
            .unwrap();
    assert_eq!(reference, format!("order-{id}-2"));
    // The declined page stays declined.
    let (status, _) = app.press(&url, "pay").await;
    assert_eq!(status, StatusCode::CONFLICT);

    app.press(&new_url, "pay").await;
    assert_eq!(app.order(&ann, id, 10).await["status"], "paid");
    // Paid: its booking is confirmed with its tickets.
    let booking: String = sqlx::query_scalar("SELECT state FROM bookings WHERE order_id = $1")
        .bind(id)
        .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
        .await
        .unwrap();
    assert_eq!(booking, "confirmed");
}

#[tokio::test]
async fn a_payment_on_an_older_checkout_noticed_later_is_honoured() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let (id, url) = app.checkout_ok(&ann, None).await;
    let first = app.sumup_checkout_id(&ann, id).await;
    app.press(&url, "decline").await;
    assert_eq!(app.order(&ann, id, 10).await["status"], "failed");
    let retry = app
        .post(&format!("/orders/{id}/pay"), Some(&ann), json!({}))
        .await;
    assert_eq!(retry.status, StatusCode::CREATED, "{}", retry.text);
    assert_ne!(retry.json["order"]["sumup_checkout_id"], first.as_str());
    // SumUp took a payment on the first page after all (it was being paid as it was
    // closed), and says so: the notice names the first checkout, not the order's newest.
    let store = app.server.state().store();
    sqlx::query("UPDATE sandbox_checkouts SET status = 'FAILED' WHERE id = $1")
        .bind(&first)
        .execute(&mut *store.connection().await.unwrap())
        .await
        .unwrap();
    let row = store.sandbox_checkout(&first).await.unwrap().unwrap();
    assert!(
        store
            .sandbox_attempt(&row, true, ("tx-late", "TXLATE"), 0)
            .await
            .unwrap()
    );
    let notice = json!({"event_type": "CHECKOUT_STATUS_CHANGED", "id": first});
    let answer = app.post("/webhooks/sumup", None, notice).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    app.server.notices_handled().await;
    let stored: String = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *store.connection().await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        stored, "paid",
        "the first checkout's payment confirms the order"
    );
}

#[tokio::test]
async fn paying_again_reuses_an_open_checkout() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let (id, url) = app.checkout_ok(&ann, None).await;
    let again = app
        .post(&format!("/orders/{id}/pay"), Some(&ann), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.json["checkout_url"], url.as_str());
}

#[tokio::test]
async fn a_failing_test_amount_fails_the_payment() {
    let app = TestApp::start().await;
    let bob = app.bob().await;
    // 8.00 + 3.00 = 11.00, one of SumUp's failing test amounts.
    app.buy(&bob, WREN_DUO, 1, Some(CONCESSION)).await;
    app.buy(&bob, VILLAGE_FETE, 1, None).await;
    let (id, url) = app.checkout_ok(&bob, None).await;
    let (_, page) = app.press(&url, "pay").await;
    assert!(page.contains("Payment failed"), "{page}");
    assert_eq!(app.order(&bob, id, 10).await["status"], "failed");
}

#[tokio::test]
async fn cancelling_releases_capacity_and_closes_the_page() {
    let app = TestApp::start().await;
    let bob = app.bob().await;
    app.buy(&bob, QUIET_NIGHT, 2, None).await;
    let (id, url) = app.checkout_ok(&bob, None).await;
    assert_eq!(app.event(QUIET_NIGHT, None).await["sold_out"], true);
    let cancelled = app
        .post(&format!("/orders/{id}/cancel"), Some(&bob), json!({}))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(cancelled.json["status"], "cancelled");
    assert_eq!(states(&cancelled.json), ["cancelled", "cancelled"]);
    assert_eq!(cancelled.json["sumup_status"], "EXPIRED");
    let quiet = app.event(QUIET_NIGHT, None).await;
    assert_eq!(quiet["sold"], 0);
    assert_eq!(quiet["sold_out"], false);
    let (status, page) = app.press(&url, "pay").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("expired"), "{page}");
    let again = app
        .post(&format!("/orders/{id}/cancel"), Some(&bob), json!({}))
        .await;
    assert_eq!(again.code(), ErrorCode::OrderNotPayable);
}

#[tokio::test]
async fn cancelling_a_checkout_paid_meanwhile_settles_it_as_paid() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let (id, _) = app.checkout_ok(&ann, None).await;
    let checkout = app.sumup_checkout_id(&ann, id).await;
    // Paid at SumUp, but no webhook has arrived yet.
    let store = app.server.state().store();
    let row = store.sandbox_checkout(&checkout).await.unwrap().unwrap();
    store
        .sandbox_attempt(&row, true, ("tx-1", "TX1"), 0)
        .await
        .unwrap();
    let answer = app
        .post(&format!("/orders/{id}/cancel"), Some(&ann), json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json["status"], "paid");
}

#[tokio::test]
async fn attempts_on_one_sandbox_page_at_once_each_take_a_number_of_their_own() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let (id, _) = app.checkout_ok(&ann, None).await;
    let checkout = app.sumup_checkout_id(&ann, id).await;
    let store = app.server.state().store();
    let row = store.sandbox_checkout(&checkout).await.unwrap().unwrap();
    // Eight declined cards at once: a declined page takes another attempt, so every one is
    // recorded, each with its own number.
    let declines = (0..8).map(|n| {
        let (store, row) = (store.clone(), row.clone());
        tokio::spawn(async move {
            let id = format!("tx-decline-{n}");
            store.sandbox_attempt(&row, false, (&id, &id), 0).await
        })
    });
    for decline in futures::future::join_all(declines).await {
        assert!(decline.unwrap().unwrap(), "each attempt is recorded");
    }
    assert!(
        store
            .sandbox_attempt(&row, true, ("tx-paid", "TXP"), 0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .sandbox_attempt(&row, true, ("tx-again", "TXA"), 0)
            .await
            .unwrap(),
        "a paid page takes no more"
    );
    let attempts: Vec<i64> = sqlx::query_scalar(
        "SELECT attempt FROM sandbox_transactions WHERE checkout_id = $1 ORDER BY attempt",
    )
    .bind(&checkout)
    .fetch_all(&mut *store.connection().await.unwrap())
    .await
    .unwrap();
    assert_eq!(attempts, (1..=9).collect::<Vec<i64>>());
}

async fn oversold_race(app: &TestApp) -> (String, String, i64, i64, String) {
    // Quiet Night holds two. Ann takes one, Bob two: three reserved, nobody stopped.
    let (ann, bob) = (app.ann().await, app.bob().await);
    app.buy(&ann, QUIET_NIGHT, 1, None).await;
    app.buy(&bob, QUIET_NIGHT, 2, None).await;
    let (ann_order, _) = app.checkout_ok(&ann, Some("abbey")).await;
    let (bob_order, bob_url) = app.checkout_ok(&bob, None).await;
    let ann_url = app.order(&ann, ann_order, 0).await["checkout_url"]
        .as_str()
        .unwrap()
        .to_owned();
    app.press(&ann_url, "pay").await;
    assert_eq!(app.order(&ann, ann_order, 10).await["status"], "paid");
    (ann, bob, ann_order, bob_order, bob_url)
}

#[tokio::test]
async fn the_later_payer_gets_exactly_the_excess_refunded() {
    let app = TestApp::start().await;
    let (ann, bob, ann_order, bob_order, bob_url) = oversold_race(&app).await;
    app.press(&bob_url, "pay").await;
    assert_eq!(app.order(&bob, bob_order, 10).await["status"], "paid");
    app.until_refunded(bob_order).await;
    let order = app.order(&bob, bob_order, 0).await;
    let mut ticket_states = states(&order);
    ticket_states.sort();
    assert_eq!(ticket_states, ["cancelled", "confirmed"]);
    assert_eq!(order["refund"]["amount"], "9.50");
    assert_eq!(order["refund"]["reason"], "sold_out");
    assert_eq!(order["refund"]["status"], "refunded");
    assert_eq!(
        order["notice"],
        "Quiet Night sold out before your payment completed: 1 ticket was cancelled and £9.50 has been refunded."
    );
    // Ann paid first and keeps hers; the event holds exactly its capacity.
    assert_eq!(app.order(&ann, ann_order, 0).await["refund"], Value::Null);
    let quiet = app.event(QUIET_NIGHT, None).await;
    assert_eq!(quiet["sold"], 2);
    assert_eq!(quiet["sold_out"], true);
    let refunded: i64 =
        sqlx::query_scalar("SELECT refunded FROM sandbox_transactions WHERE refunded > 0")
            .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
            .await
            .unwrap();
    assert_eq!(refunded, 950);
    if on_postgres() {
        // Three reserved for two places: each payment found more sold than fits, counted
        // the event alone, and marked it so.
        let turns: i64 = sqlx::query_scalar("SELECT alone_turns FROM events WHERE id = $1")
            .bind(QUIET_NIGHT)
            .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
            .await
            .unwrap();
        assert_eq!(turns, 2);
    }
}

#[tokio::test]
async fn poll_and_webhooks_at_once_confirm_once_and_refund_once() {
    let app = TestApp::start().await;
    let (_ann, bob, _, bob_order, bob_url) = oversold_race(&app).await;
    app.press(&bob_url, "pay").await;
    let checkout = app.sumup_checkout_id(&bob, bob_order).await;
    let path = format!("/orders/{bob_order}?wait=5");
    let polls = (0..6).map(|_| app.get(&path, Some(&bob)));
    let hooks = (0..6).map(|_| {
        app.post(
            "/webhooks/sumup",
            None,
            json!({"event_type": "CHECKOUT_STATUS_CHANGED", "id": checkout}),
        )
    });
    let (polls, hooks) = tokio::join!(
        futures::future::join_all(polls),
        futures::future::join_all(hooks)
    );
    assert!(polls.iter().all(|a| a.json["status"] == "paid"));
    assert!(hooks.iter().all(|a| a.status == StatusCode::NO_CONTENT));
    let order = app.order(&bob, bob_order, 0).await;
    assert_eq!(order["refund"]["amount"], "9.50");
    let store = app.server.state().store();
    let cancelled: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE state = 'cancelled'")
            .fetch_one(&mut *store.connection().await.unwrap())
            .await
            .unwrap();
    assert_eq!(cancelled, 1);
    // Let the refund request finish, then count the money sent back.
    app.until_refunded(bob_order).await;
    let refunded: Vec<i64> =
        sqlx::query_scalar("SELECT refunded FROM sandbox_transactions WHERE refunded > 0")
            .fetch_all(&mut *store.connection().await.unwrap())
            .await
            .unwrap();
    assert_eq!(refunded, [950]);
}

#[tokio::test]
async fn page_checkout_leaves_other_pages_in_the_cart() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let answer = app.checkout(&ann, Some("abbey")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let order = &answer.json["order"];
    assert_eq!(order["page"]["slug"], "abbey");
    assert_eq!(order["total"], "15.00");
    assert_eq!(order["calendar_entries"].as_array().unwrap().len(), 1);
    assert_eq!(order["products"], json!([]));
    let cart = app.cart(&ann).await;
    let titles: Vec<_> = cart["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["page"]["title"].clone())
        .collect();
    assert_eq!(titles, [json!("The Old Granary"), Value::Null]);
    // Abbey Rooms has nothing left in the cart; unknown pages are named.
    assert_eq!(
        app.checkout(&ann, Some("abbey")).await.code(),
        ErrorCode::EmptyCart
    );
    let unknown = app.checkout(&ann, Some("nowhere")).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.field(), "page");
}

#[tokio::test]
async fn a_checkouts_answer_is_the_order_as_it_reads_back() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    // Tickets of two types, products and a booking (ann's cart), across two pages.
    app.buy(&ann, WREN_DUO, 2, Some(STANDARD)).await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let whole = app.checkout(&ann, None).await;
    assert_eq!(whole.status, StatusCode::CREATED, "{}", whole.text);
    let id = whole.json["order"]["id"].as_i64().unwrap();
    assert_eq!(whole.json["order"], app.order(&ann, id, 0).await);
    assert_eq!(whole.json["order"]["tickets"].as_array().unwrap().len(), 3);

    // One page's group of the cart.
    app.buy(&ann, VILLAGE_FETE, 2, None).await;
    app.buy(&ann, WREN_DUO, 1, Some(CONCESSION)).await;
    let page = app.checkout(&ann, Some("granary")).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.text);
    let id = page.json["order"]["id"].as_i64().unwrap();
    assert_eq!(page.json["order"]["page"]["slug"], "granary");
    assert_eq!(page.json["order"]["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(page.json["order"], app.order(&ann, id, 0).await);
}

#[tokio::test]
async fn an_empty_cart_cannot_check_out() {
    let app = TestApp::start().await;
    let bob = app.bob().await;
    let answer = app.checkout(&bob, None).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.code(), ErrorCode::EmptyCart);
    assert_eq!(
        app.get("/orders", Some(&bob)).await.json["orders"],
        json!([])
    );
}

#[tokio::test]
async fn checkout_is_idempotent() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let send = || {
        app.request(
            Method::POST,
            "/checkout",
            Some(&ann),
            Some(json!({"page": null})),
            &[("Idempotency-Key", "co-1")],
        )
    };
    let first = send().await;
    let second = send().await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.text, first.text);
    assert_eq!(
        app.get("/orders", Some(&ann)).await.json["orders"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn another_users_order_is_not_found() {
    let app = TestApp::start().await;
    let (ann, bob) = (app.ann().await, app.bob().await);
    let (id, _) = app.checkout_ok(&ann, None).await;
    for answer in [
        app.get(&format!("/orders/{id}"), Some(&bob)).await,
        app.post(&format!("/orders/{id}/pay"), Some(&bob), json!({}))
            .await,
        app.post(&format!("/orders/{id}/cancel"), Some(&bob), json!({}))
            .await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text);
    }
    assert_eq!(
        app.get("/orders", Some(&bob)).await.json["orders"],
        json!([])
    );
    assert_eq!(
        app.get("/tickets", Some(&bob)).await.json["tickets"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "only Bob's own Full House ticket"
    );
    assert_eq!(
        app.get("/orders/1", None).await.code(),
        ErrorCode::Unauthorized
    );
    let wait = app.get(&format!("/orders/{id}?wait=31"), Some(&ann)).await;
    assert_eq!(wait.field(), "wait");
}

#[tokio::test]
async fn a_long_poll_wakes_when_the_webhook_settles_the_order() {
    // SumUp is polled only once a minute here: only the webhook's wake-up can answer early.
    let app = TestApp::with_config(ServerConfig {
        order_poll_interval: Duration::from_secs(60),
        ..TestApp::config().await
    })
    .await;
    let ann = app.ann().await;
    let (id, url) = app.checkout_ok(&ann, None).await;
    let started = std::time::Instant::now();
    let (order, _) = tokio::join!(app.order(&ann, id, 10), async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.press(&url, "pay").await
    });
    assert_eq!(order["status"], "paid");
    // It answered on the change, long before its 10 seconds were up.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_checkout_pending_for_half_an_hour_expires() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let (id, url) = app.checkout_ok(&ann, None).await;
    sqlx::query("UPDATE checkouts SET created_at = created_at - 1801")
        .execute(&mut *app.server.state().store().connection().await.unwrap())
        .await
        .unwrap();
    // SumUp was asked when the checkout was made: it is asked again a second later.
    let order = app.order(&ann, id, 5).await;
    assert_eq!(order["status"], "failed");
    assert_eq!(order["sumup_status"], "EXPIRED");
    let page = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("expired"), "{page}");
    let retry = app
        .post(&format!("/orders/{id}/pay"), Some(&ann), json!({}))
        .await;
    assert_eq!(retry.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_duplicate_reference_is_recovered_by_listing() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    // SumUp made order 1's checkout, but its answer never reached us.
    let lost = app
        .client
        .post(format!(
            "{}/sumup-sandbox/v0.1/checkouts",
            app.server.origin()
        ))
        .bearer_auth("sandbox")
        .json(
            &json!({"checkout_reference": "order-1", "amount": 29.5, "currency": "GBP",
                      "merchant_code": "MSANDBOX", "hosted_checkout": {"enabled": true}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(lost.status(), StatusCode::CREATED);
    let lost: Value = lost.json().await.unwrap();
    let answer = app.checkout(&ann, None).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.json["order"]["id"], 1);
    assert_eq!(answer.json["order"]["sumup_checkout_id"], lost["id"]);
}

#[tokio::test]
async fn sumup_down_keeps_the_order_and_pay_retries_once_it_is_back() {
    // A port with nothing behind it, for now.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let app = TestApp::with_config(ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: test_database().await,
        catalog: Some(TEST_CATALOG.to_owned()),
        sumup: Some(storefront_server::SumUpConfig {
            base_url: format!("http://127.0.0.1:{port}/sumup-sandbox"),
            api_key: "key".to_owned(),
            merchant_code: "MSANDBOX".to_owned(),
            timeout: std::time::Duration::from_secs(5),
        }),
        ..ServerConfig::default()
    })
    .await;
    let ann = app.ann().await;
    app.buy(&ann, WREN_DUO, 1, Some(STANDARD)).await;
    let down = app.checkout(&ann, None).await;
    assert_eq!(down.status, StatusCode::BAD_GATEWAY);
    assert_eq!(down.code(), ErrorCode::PaymentProviderError);
    let id = down.json["error"]["order_id"].as_i64().unwrap();
    // Nothing is lost: the order holds the cart, and waits to be paid.
    let order = app.order(&ann, id, 0).await;
    assert_eq!(order["status"], "pending");
    assert_eq!(order["checkout_url"], Value::Null);
    assert_eq!(order["total"], "41.50");
    assert_eq!(states(&order), ["reserved"]);
    let still_down = app
        .post(&format!("/orders/{id}/pay"), Some(&ann), json!({}))
        .await;
    assert_eq!(still_down.json["error"]["order_id"], id);

    // SumUp comes back.
    let sandbox_db = storefront_server::connect_database("sqlite::memory:")
        .await
        .unwrap();
    let origin = format!("http://127.0.0.1:{port}");
    let sandbox = axum::Router::new().nest_service(
        storefront_server::sandbox::SANDBOX_PATH,
        storefront_server::sandbox::router(
            storefront_server::sandbox::SandboxState::new(
                sandbox_db,
                &origin,
                &storefront_server::webhook_url(&origin),
                None,
                storefront_server::sandbox::SandboxOptions::default(),
            )
            .unwrap(),
        ),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, sandbox).await });

    let back = app
        .post(&format!("/orders/{id}/pay"), Some(&ann), json!({}))
        .await;
    assert_eq!(back.status, StatusCode::CREATED, "{}", back.text);
    let url = back.json["checkout_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&origin));
    app.press(&url, "pay").await;
    let order = app.order(&ann, id, 10).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(states(&order), ["confirmed"]);
}

#[tokio::test]
async fn the_sandbox_answers_like_sumup() {
    let app = TestApp::start().await;
    let base = format!("{}/sumup-sandbox", app.server.origin());
    let http = &app.client;
    let create = |body: Value| {
        http.post(format!("{base}/v0.1/checkouts"))
            .bearer_auth("k")
            .json(&body)
            .send()
    };
    let json_of =
        |r: reqwest::Response| async move { (r.status(), r.json::<Value>().await.unwrap()) };

    let (status, body) = json_of(
        http.get(format!("{base}/v0.1/checkouts/x"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["status"], 401, "a problem body: {body}");
    assert!(body["type"].as_str().unwrap().starts_with("https://"));
    assert!(body["title"].is_string() && body["detail"].is_string());
    let (status, body) = json_of(
        create(json!({"checkout_reference": "r", "currency": "GBP", "merchant_code": "M"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error_code": "MISSING", "message": "Validation error", "param": "amount"})
    );
    let good = json!({"checkout_reference": "r", "amount": 10.0, "currency": "GBP", "merchant_code": "M",
                      "description": "<script>x</script>", "hosted_checkout": {"enabled": true}});
    let (status, made) = json_of(create(good.clone()).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(made["status"], "PENDING");
    assert_eq!(made["amount"], 10.0);
    let (status, body) = json_of(create(good).await.unwrap()).await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::CONFLICT, Some("DUPLICATED_CHECKOUT"))
    );
    let (status, listed) = json_of(
        http.get(format!("{base}/v0.1/checkouts?checkout_reference=r"))
            .bearer_auth("k")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed[0]["id"], made["id"]);
    let (status, body) = json_of(
        http.get(format!("{base}/v0.1/checkouts/nope"))
            .bearer_auth("k")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NOT_FOUND"))
    );

    let url = made["hosted_checkout_url"].as_str().unwrap();
    let page = http.get(url).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("&lt;script&gt;x&lt;/script&gt;") && !page.contains("<script>x"),
        "descriptions are escaped"
    );
    assert!(page.contains(">M<"), "the merchant is shown");
    app.press(url, "pay").await;
    let id = made["id"].as_str().unwrap();
    let (status, paid) = json_of(
        http.get(format!("{base}/v0.1/checkouts/{id}"))
            .bearer_auth("k")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["transactions"][0]["status"], "SUCCESSFUL");
    let (status, body) = json_of(
        http.delete(format!("{base}/v0.1/checkouts/{id}"))
            .bearer_auth("k")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (StatusCode::CONFLICT, Some("CHECKOUT_PROCESSED"))
    );

    let transaction = paid["transactions"][0]["id"].as_str().unwrap();
    let refund = |amount: f64| {
        http.post(format!(
            "{base}/v1.0/merchants/M/payments/{transaction}/refunds"
        ))
        .bearer_auth("k")
        .json(&json!({"amount": amount}))
        .send()
    };
    let (status, body) = json_of(refund(4.0).await.unwrap()).await;
    assert_eq!((status, body), (StatusCode::CREATED, json!({})));
    let too_much = refund(7.0).await.unwrap();
    assert_eq!(too_much.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        too_much.headers()[reqwest::header::CONTENT_TYPE],
        "application/problem+json"
    );
    let body: Value = too_much.json().await.unwrap();
    assert_eq!(body["error_code"], "INVALID_AMOUNT", "{body}");
    assert_eq!(body["status"], 422);
    assert!(body["detail"].as_str().unwrap().contains("exceeds"));
    // No amount: everything that is left.
    let rest = http
        .post(format!(
            "{base}/v1.0/merchants/M/payments/{transaction}/refunds"
        ))
        .bearer_auth("k")
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), StatusCode::CREATED);
    let (status, body) = json_of(refund(1.0).await.unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT, "nothing is left: {body}");
    assert_eq!(body["status"], 409);
    let (status, read) = json_of(
        http.get(format!(
            "{base}/v2.1/merchants/M/transactions?id={transaction}"
        ))
        .bearer_auth("k")
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["status"], "REFUNDED");
    assert_eq!(read["refunded_amount"], 10.0);
    let missing_page = http
        .get(format!("{base}/pay/unknown"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_page.status(), StatusCode::NOT_FOUND);
}

/// An order is priced by the server and paid to its venue's merchant when everything in it
/// is that venue's; otherwise to the shop's.
#[tokio::test]
async fn an_order_is_paid_to_its_venues_merchant() {
    let catalog = TEST_CATALOG.replacen(
        "title = \"Abbey Rooms\"",
        "title = \"Abbey Rooms\"\nsumup_merchant_code = \"MABBEY\"",
        1,
    );
    assert_ne!(catalog, TEST_CATALOG);
    let app = TestApp::with_config(ServerConfig {
        catalog: Some(catalog),
        ..TestApp::config().await
    })
    .await;
    let ann = app.ann().await;
    // Her cart: the bell tower tour (Abbey Rooms) and tote bags (The Old Granary); and a
    // ticket for each of the Abbey's quiet night and the village fete (no venue).
    app.buy(&ann, QUIET_NIGHT, 1, None).await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let merchants = |id: i64| {
        let store = app.server.state().store().clone();
        async move {
            let mut conn = store.connection().await.unwrap();
            let order: (String, i64) =
                sqlx::query_as("SELECT merchant_code, total FROM orders WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
            let sandbox: String = sqlx::query_scalar(
                "SELECT s.merchant_code FROM sandbox_checkouts s \
                 JOIN checkouts c ON c.sumup_id = s.id WHERE c.order_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
            (order.0, order.1, sandbox)
        }
    };

    let abbey = app.checkout(&ann, Some("abbey")).await;
    assert_eq!(abbey.status, StatusCode::CREATED, "{}", abbey.text);
    assert_eq!(abbey.json["order"]["total"], "24.50");
    assert_eq!(abbey.json["order"]["page"]["slug"], "abbey");
    let (merchant, total, at_sumup) = merchants(abbey.json["order"]["id"].as_i64().unwrap()).await;
    assert_eq!(
        (merchant.as_str(), total, at_sumup.as_str()),
        ("MABBEY", 2450, "MABBEY")
    );

    // A venue without a merchant of its own: the shop's.
    let granary = app.checkout(&ann, Some("granary")).await;
    assert_eq!(granary.status, StatusCode::CREATED, "{}", granary.text);
    assert_eq!(granary.json["order"]["total"], "14.50");
    assert_eq!(granary.json["order"]["page"]["slug"], "granary");
    let (shops, total, at_sumup) = merchants(granary.json["order"]["id"].as_i64().unwrap()).await;
    assert_ne!(shops, "MABBEY");
    assert_eq!((total, at_sumup.as_str()), (1450, shops.as_str()));

    // What is left belongs to no venue: no page, the shop's merchant.
    let rest = app.checkout(&ann, None).await;
    assert_eq!(rest.status, StatusCode::CREATED, "{}", rest.text);
    assert_eq!(rest.json["order"]["page"], Value::Null);
    let (merchant, _, _) = merchants(rest.json["order"]["id"].as_i64().unwrap()).await;
    assert_eq!(merchant, shops);
}
