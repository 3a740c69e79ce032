//! The sandbox driven through SumUp's own Rust SDK: every call the server makes, refunds and
//! reading a transaction, each answer read into SumUp's types; then the shop's side of
//! SumUp's behaviour: retrying on the same page, refunds that end, signed webhooks.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};
use storefront_server::sandbox::{SANDBOX_PATH, SIGNATURE_HEADER, SandboxOptions, sign};
use sumup::SdkError;
use sumup::checkouts::{
    CheckoutCreated, CheckoutExpired, CheckoutFailed, CheckoutPaid, CheckoutUpdated, CreateRequest,
    HostedCheckout, ListParams,
};
use sumup::events::EventSpec;
use sumup::transactions::{GetParams, RefundErrorBody, RefundRequest};

use crate::common::*;

fn sdk(app: &TestApp) -> sumup::Client {
    sumup::Client::new()
        .with_base_url(format!("{}{SANDBOX_PATH}", app.server.origin()))
        .with_authorization(sumup::Authorization::APIKey("sup_sk_test".to_owned()))
}

fn new_checkout(reference: &str, amount: f32) -> CreateRequest {
    CreateRequest::builder()
        .checkout_reference(reference)
        .amount(amount)
        .currency(serde_json::from_value(json!("GBP")).unwrap())
        .merchant_code("MTEST")
        .hosted_checkout(HostedCheckout::builder().enabled(true).build())
        .build()
}

/// Whether any value in the JSON, however deep, is `null`.
fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(fields) => fields.values().any(has_null),
        _ => false,
    }
}

async fn raw_checkout(app: &TestApp, id: &str) -> Value {
    app.client
        .get(format!(
            "{}{SANDBOX_PATH}/v0.1/checkouts/{id}",
            app.server.origin()
        ))
        .bearer_auth("k")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn problem_of<E: sumup::error::ProblemDetails + std::fmt::Debug>(
    err: &SdkError<E>,
) -> &sumup::Problem {
    match err {
        SdkError::Api(response) => response.body.problem().expect("a problem body"),
        other => panic!("not a typed API error: {other:?}"),
    }
}

#[tokio::test]
async fn every_call_reads_into_sumups_types() {
    let app = TestApp::start().await;
    let sumup = sdk(&app);
    let checkouts = sumup.checkouts();

    // Create (without description or URLs), read, list with and without the filter.
    let made = checkouts.create(new_checkout("sdk-1", 12.5)).await.unwrap();
    let id = made.id.clone().unwrap();
    assert_eq!(made.amount, Some(12.5));
    let raw = raw_checkout(&app, &id).await;
    assert!(
        !has_null(&raw),
        "fields without a value are left out: {raw}"
    );
    assert!(raw.get("description").is_none() && raw.get("return_url").is_none());
    let read = checkouts.get(&id).await.unwrap();
    assert_eq!(read.checkout_reference.as_deref(), Some("sdk-1"));
    checkouts.create(new_checkout("sdk-2", 3.0)).await.unwrap();
    let filtered = checkouts
        .list(ListParams::builder().checkout_reference("sdk-1").build())
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
    let all = checkouts.list(ListParams::builder().build()).await.unwrap();
    assert_eq!(all.len(), 2, "the filter is optional");

    // A duplicate reference is SumUp's typed conflict.
    let duplicate = checkouts
        .create(new_checkout("sdk-1", 12.5))
        .await
        .unwrap_err();
    assert!(
        matches!(&duplicate, SdkError::Api(r) if r.status == StatusCode::CONFLICT),
        "{duplicate:?}"
    );

    // Paid on the hosted page: the transaction is at the top level and in the list.
    let url = raw["hosted_checkout_url"].as_str().unwrap().to_owned();
    let before_paying = time_now();
    app.press(&url, "pay").await;
    let paid = raw_checkout(&app, &id).await;
    assert!(!has_null(&paid), "{paid}");
    assert_eq!(paid["status"], "PAID");
    let transaction = paid["transaction_id"].as_str().unwrap().to_owned();
    assert_eq!(paid["transactions"][0]["id"], transaction.as_str());
    assert_eq!(
        paid["transaction_code"],
        paid["transactions"][0]["transaction_code"]
    );
    let read = checkouts.get(&id).await.unwrap();
    assert_eq!(read.transaction_id.as_deref(), Some(transaction.as_str()));
    let paid_at = chrono::DateTime::parse_from_rfc3339(
        paid["transactions"][0]["timestamp"].as_str().unwrap(),
    )
    .unwrap()
    .timestamp();
    assert!(
        paid_at >= before_paying,
        "the timestamp is when it was paid"
    );

    // The transaction as the SDKs read it.
    let transactions = sumup.transactions();
    let full = transactions
        .get(
            "MTEST",
            GetParams::builder().id(transaction.clone()).build(),
        )
        .await
        .unwrap();
    assert_eq!(full.id.as_deref(), Some(transaction.as_str()));
    assert_eq!(full.amount, Some(12.5));
    let unknown = transactions
        .get("MTEST", GetParams::builder().id("nope").build())
        .await
        .unwrap_err();
    assert!(matches!(&unknown, SdkError::Api(r) if r.status == StatusCode::NOT_FOUND));

    // Refunds: part, too much (422 INVALID_AMOUNT), the rest without a body, then nothing
    // is left to refund (409).
    let part = transactions
        .refund(
            "MTEST",
            &transaction,
            Some(RefundRequest::builder().amount(2.5).build()),
        )
        .await
        .unwrap();
    assert_eq!(part, json!({}));
    let too_much = transactions
        .refund(
            "MTEST",
            &transaction,
            Some(RefundRequest::builder().amount(11.0).build()),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        &too_much,
        SdkError::Api(r) if matches!(r.body, RefundErrorBody::UnprocessableEntity(_))
    ));
    let problem = problem_of(&too_much);
    assert_eq!(problem.status, Some(422));
    assert_eq!(
        problem.additional_properties["error_code"],
        "INVALID_AMOUNT"
    );
    transactions
        .refund("MTEST", &transaction, None)
        .await
        .unwrap();
    let nothing_left = transactions
        .refund("MTEST", &transaction, None)
        .await
        .unwrap_err();
    assert!(matches!(
        &nothing_left,
        SdkError::Api(r) if matches!(r.body, RefundErrorBody::Conflict(_))
    ));
    let refunded = transactions
        .get(
            "MTEST",
            GetParams::builder().id(transaction.clone()).build(),
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(refunded.status).unwrap(),
        json!("REFUNDED")
    );
    let gone = transactions
        .refund("MTEST", "no-such-transaction", None)
        .await
        .unwrap_err();
    assert!(matches!(
        &gone,
        SdkError::Api(r) if matches!(r.body, RefundErrorBody::NotFound(_))
    ));
    assert!(paid_checkout_reads_refunded(&app, &id).await);

    // Deactivating: a pending checkout expires; a paid one is SumUp's typed conflict.
    let open = checkouts
        .list(ListParams::builder().checkout_reference("sdk-2").build())
        .await
        .unwrap();
    let open_id = open[0].id.clone().unwrap();
    let closed = checkouts.deactivate(&open_id).await.unwrap();
    assert_eq!(
        serde_json::to_value(closed.status).unwrap(),
        json!("EXPIRED")
    );
    let processed = checkouts.deactivate(&id).await.unwrap_err();
    assert!(matches!(&processed, SdkError::Api(r) if r.status == StatusCode::CONFLICT));

    // Without a key: a problem body, read as SumUp's type.
    let anonymous =
        sumup::Client::new().with_base_url(format!("{}{SANDBOX_PATH}", app.server.origin()));
    let refused = anonymous.checkouts().get(&id).await.unwrap_err();
    assert_eq!(problem_of(&refused).status, Some(401));
}

async fn paid_checkout_reads_refunded(app: &TestApp, id: &str) -> bool {
    raw_checkout(app, id).await["transactions"][0]["status"] == "REFUNDED"
}

fn time_now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_declined_card_tries_again_on_the_same_page_and_the_order_is_paid() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let (id, url) = app.checkout_ok(&ann, None).await;
    let (_, page) = app.press(&url, "decline").await;
    assert!(page.contains("try again"), "{page}");
    app.until_stored_status(id, "failed").await;
    let (status, page) = app.press(&url, "pay").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Paid"), "{page}");
    // SumUp's notice of the second attempt settles the order.
    app.until_stored_status(id, "paid").await;
    let order = app.order(&ann, id, 0).await;
    assert_eq!(order["status"], "paid");
    let checkout = order["sumup_checkout_id"].as_str().unwrap();
    let raw = raw_checkout(&app, checkout).await;
    let states: Vec<&str> = raw["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["FAILED", "SUCCESSFUL"]);
    assert_eq!(raw["transaction_id"], raw["transactions"][1]["id"]);
}

#[tokio::test]
async fn paying_again_after_a_decline_closes_the_declined_page() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let (id, url) = app.checkout_ok(&ann, None).await;
    app.press(&url, "decline").await;
    app.until_stored_status(id, "failed").await;
    let again = app
        .post(&format!("/orders/{id}/pay"), Some(&ann), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    // The old page can take no money now: only the new one can.
    let (status, page) = app.press(&url, "pay").await;
    assert_eq!(status, StatusCode::CONFLICT, "{page}");
    assert!(page.contains("expired"), "{page}");
    let new_url = again.json["checkout_url"].as_str().unwrap();
    app.press(new_url, "pay").await;
    assert_eq!(app.order(&ann, id, 10).await["status"], "paid");
}

/// A shop whose refunds are retried quickly.
async fn shop(refund_retry: Duration) -> TestApp {
    TestApp::with_config(storefront_server::ServerConfig {
        refund_retry,
        refund_sweep_interval: Duration::from_millis(100),
        ..TestApp::config().await
    })
    .await
}

async fn sandbox_faults(app: &TestApp, faults: Value) {
    let answer = app
        .client
        .post(format!("{}{SANDBOX_PATH}/faults", app.server.origin()))
        .bearer_auth("k")
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
}

async fn refunded_in_sandbox(app: &TestApp) -> Vec<i64> {
    sqlx::query_scalar("SELECT refunded FROM sandbox_transactions WHERE refunded > 0")
        .fetch_all(&mut *app.server.state().store().connection().await.unwrap())
        .await
        .unwrap()
}

async fn refund_attempts(app: &TestApp, order: i64) -> i64 {
    sqlx::query_scalar("SELECT COALESCE(MAX(attempts), 0) FROM refunds WHERE order_id = $1")
        .bind(order)
        .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
        .await
        .unwrap()
}

/// Ann and Bob race for Quiet Night's last places; Bob pays second and is owed £9.50.
async fn bob_oversold(app: &TestApp) -> (String, i64) {
    let (ann, bob) = (app.ann().await, app.bob().await);
    app.buy(&ann, QUIET_NIGHT, 1, None).await;
    app.buy(&bob, QUIET_NIGHT, 2, None).await;
    let (ann_order, ann_url) = app.checkout_ok(&ann, Some("abbey")).await;
    let (bob_order, bob_url) = app.checkout_ok(&bob, None).await;
    app.press(&ann_url, "pay").await;
    app.until_stored_status(ann_order, "paid").await;
    app.press(&bob_url, "pay").await;
    app.until_stored_status(bob_order, "paid").await;
    (bob, bob_order)
}

#[tokio::test]
async fn a_refund_sumup_cannot_take_for_now_is_retried_until_refunded() {
    let app = shop(Duration::ZERO).await;
    sandbox_faults(&app, json!({"refunds_unavailable": 2})).await;
    let (bob, order) = bob_oversold(&app).await;
    app.until_refunded(order).await;
    assert_eq!(
        refund_attempts(&app, order).await,
        2,
        "two 503s, then taken"
    );
    assert_eq!(refunded_in_sandbox(&app).await, [950]);
    let view = app.order(&bob, order, 0).await;
    assert_eq!(view["refund"]["status"], "refunded");
    assert!(view["refund"].get("message").is_none());
}

#[tokio::test]
async fn a_refund_sumup_refuses_for_good_fails_and_is_not_retried() {
    // The first request meets an outage; before the retry the venue refunds the whole
    // payment by hand, so SumUp refuses ours: nothing is left to refund.
    let app = shop(Duration::from_secs(3)).await;
    sandbox_faults(&app, json!({"refunds_unavailable": 1})).await;
    let (bob, order) = bob_oversold(&app).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while refund_attempts(&app, order).await == 0 {
        assert!(Instant::now() < deadline, "the first refund never went out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let transaction: String = sqlx::query_scalar(
        "SELECT transaction_id FROM checkouts WHERE order_id = $1 AND status = 'PAID'",
    )
    .bind(order)
    .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
    .await
    .unwrap();
    sdk(&app)
        .transactions()
        .refund("MSANDBOX", &transaction, None)
        .await
        .unwrap();
    app.until_stored(order, NEWEST_REFUND_STATUS, "failed")
        .await;
    let reason = app
        .server
        .state()
        .store()
        .refund_failure(order)
        .await
        .unwrap();
    assert!(
        reason.as_deref().is_some_and(|r| r.contains("409")),
        "SumUp's reason is kept: {reason:?}"
    );
    let view = app.order(&bob, order, 0).await;
    assert_eq!(view["refund"]["status"], "failed");
    assert!(
        view["refund"]["message"]
            .as_str()
            .unwrap()
            .contains("by hand")
    );
    assert!(
        view["notice"].as_str().unwrap().contains("by hand"),
        "{}",
        view["notice"]
    );
    // Several sweeps later nothing more was asked of SumUp.
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.order(&bob, order, 0).await;
    assert_eq!(refund_attempts(&app, order).await, 1);
    let stored: String = sqlx::query_scalar("SELECT status FROM refunds WHERE order_id = $1")
        .bind(order)
        .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
        .await
        .unwrap();
    assert_eq!(stored, "failed");
}

const SECRET: &str = "whsec_storefront_test";

/// A shop with a signing secret whose sandbox sends the given notifications.
async fn signed_shop(return_url_callbacks: bool, event_notifications: bool) -> TestApp {
    TestApp::with_config(storefront_server::ServerConfig {
        webhook_secret: Some(SECRET.to_owned()),
        sandbox: SandboxOptions {
            return_url_callbacks,
            event_notifications,
            webhook_retry: vec![Duration::from_millis(50); 4],
        },
        ..TestApp::config().await
    })
    .await
}

async fn post_webhook(app: &TestApp, body: &Value, signature: Option<String>) -> StatusCode {
    let mut request = app
        .client
        .post(app.url("/webhooks/sumup"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(signature) = signature {
        request = request.header(SIGNATURE_HEADER, signature);
    }
    request.send().await.unwrap().status()
}

async fn stored_status(app: &TestApp, order: i64) -> String {
    sqlx::query_scalar("SELECT status FROM orders WHERE id = $1")
        .bind(order)
        .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn only_signed_fresh_notifications_are_taken() {
    let app = signed_shop(false, false).await;
    let ann = app.ann().await;
    let (order, url) = app.checkout_ok(&ann, None).await;
    app.press(&url, "pay").await;
    let checkout = app.sumup_checkout_id(&ann, order).await;
    // Reading the order asked SumUp; put it back to pending to see what the webhook does.
    sqlx::query("UPDATE orders SET status = 'pending' WHERE id = $1")
        .bind(order)
        .execute(&mut *app.server.state().store().connection().await.unwrap())
        .await
        .ok();
    let event = sdk_event(CheckoutPaid::EVENT_TYPE, "evt_1", &checkout);
    let body = event.to_string();
    let now = time_now();
    for (signature, why) in [
        (None, "unsigned"),
        (
            Some(sign("another secret", now, body.as_bytes())),
            "wrongly signed",
        ),
        (Some(sign(SECRET, now - 301, body.as_bytes())), "stale"),
        (Some(sign(SECRET, now, b"another body")), "for another body"),
        (Some("t=abc,v1=00".to_owned()), "malformed"),
    ] {
        assert_eq!(
            post_webhook(&app, &event, signature).await,
            StatusCode::UNAUTHORIZED,
            "{why}"
        );
    }
    // Had any of them been taken, its handling would have read SumUp's PAID by now.
    app.server.notices_handled().await;
    assert_eq!(
        stored_status(&app, order).await,
        "pending",
        "nothing changed"
    );
    assert_eq!(
        post_webhook(&app, &event, Some(sign(SECRET, now, body.as_bytes()))).await,
        StatusCode::NO_CONTENT
    );
    app.until_stored_status(order, "paid").await;
    // The same notification again (SumUp retries; anyone may replay it within the 5
    // minutes): taken, and the order is paid once.
    let paid_at = || async {
        sqlx::query_scalar::<_, Option<i64>>("SELECT paid_at FROM orders WHERE id = $1")
            .bind(order)
            .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
            .await
            .unwrap()
    };
    let first = paid_at().await;
    assert_eq!(
        post_webhook(&app, &event, Some(sign(SECRET, now, body.as_bytes()))).await,
        StatusCode::NO_CONTENT
    );
    app.server.notices_handled().await;
    assert_eq!(stored_status(&app, order).await, "paid");
    assert_eq!(paid_at().await, first, "settled once");
}

/// An event notification as SumUp sends it and SumUp's SDKs read it.
fn sdk_event(event_type: &str, id: &str, checkout: &str) -> Value {
    json!({"id": id, "type": event_type, "created_at": chrono::Utc::now().to_rfc3339(),
           "object": {"id": checkout, "type": "checkout",
                      "url": format!("https://api.sumup.com/v0.1/checkouts/{checkout}")}})
}

#[tokio::test]
async fn every_kind_of_notification_is_read_again_from_sumup() {
    let app = signed_shop(false, false).await;
    let ann = app.ann().await;
    let mut orders = Vec::new();
    for _ in 0..6 {
        app.buy(&ann, VILLAGE_FETE, 1, None).await;
        let (order, url) = app.checkout_ok(&ann, None).await;
        app.press(&url, "pay").await;
        let checkout = app.sumup_checkout_id(&ann, order).await;
        sqlx::query("UPDATE orders SET status = 'pending' WHERE id = $1")
            .bind(order)
            .execute(&mut *app.server.state().store().connection().await.unwrap())
            .await
            .unwrap();
        orders.push((order, checkout));
    }
    let mut bodies = vec![
        // The return_url callback.
        json!({"event_type": "CHECKOUT_STATUS_CHANGED", "id": orders[0].1}),
    ];
    // Each checkout event SumUp's SDKs name, whatever it says: the body is never trusted,
    // SumUp (read again) says PAID.
    for (i, event_type) in [
        CheckoutCreated::EVENT_TYPE,
        CheckoutPaid::EVENT_TYPE,
        CheckoutFailed::EVENT_TYPE,
        CheckoutExpired::EVENT_TYPE,
        CheckoutUpdated::EVENT_TYPE,
    ]
    .into_iter()
    .enumerate()
    {
        bodies.push(sdk_event(event_type, &format!("evt_{i}"), &orders[i + 1].1));
    }
    for body in &bodies {
        let signature = sign(SECRET, time_now(), body.to_string().as_bytes());
        assert_eq!(
            post_webhook(&app, body, Some(signature)).await,
            StatusCode::NO_CONTENT,
            "{body}"
        );
    }
    for (order, _) in &orders {
        app.until_stored_status(*order, "paid").await;
    }
    // About something else, or of a kind SumUp may add: taken (2xx, or SumUp would retry it)
    // and left.
    for other in [
        json!({"id": "evt_m", "type": "members.created", "created_at": "2026-11-30T10:00:00Z",
               "object": {"id": "m1", "type": "member", "url": "https://api.sumup.com/x"}}),
        json!({"id": "evt_u", "type": "checkouts.disputed", "created_at": "2026-11-30T10:00:00Z",
               "object": {"id": "c1", "type": "checkout", "url": "https://api.sumup.com/x"}}),
        json!({"id": "evt_r", "type": "readers.created", "created_at": "2026-11-30T10:00:00Z",
               "object": {"id": "rdr_1", "type": "reader", "url": "https://api.sumup.com/x"}}),
        json!({"event_type": "SOMETHING_ELSE", "id": "x"}),
    ] {
        let signature = sign(SECRET, time_now(), other.to_string().as_bytes());
        assert_eq!(
            post_webhook(&app, &other, Some(signature)).await,
            StatusCode::NO_CONTENT,
            "{other}"
        );
    }
    for junk in [
        json!({"hello": "world"}),
        // An event whose time is not a time is not SumUp's.
        json!({"id": "e", "type": "checkouts.paid", "created_at": "yesterday",
               "object": {"id": "c", "type": "checkout", "url": "u"}}),
    ] {
        let signature = sign(SECRET, time_now(), junk.to_string().as_bytes());
        assert_eq!(
            post_webhook(&app, &junk, Some(signature)).await,
            StatusCode::BAD_REQUEST,
            "{junk}"
        );
    }
}

#[tokio::test]
async fn the_sandbox_signs_what_it_sends_and_the_shop_takes_it() {
    for (callbacks, events) in [(true, false), (false, true)] {
        let app = signed_shop(callbacks, events).await;
        let ann = app.ann().await;
        let (order, url) = app.checkout_ok(&ann, None).await;
        app.press(&url, "pay").await;
        // Nobody reads the order: only the signed notification can settle it.
        app.until_stored_status(order, "paid").await;
    }
}

/// One notification as the receiver saw it: when, its signature, its body.
type Delivery = (Instant, Option<String>, String);

#[tokio::test]
async fn the_sandbox_retries_a_refused_notification_on_its_schedule() {
    let attempts: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let seen = attempts.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let signature = headers
                    .get(SIGNATURE_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let mut seen = seen.lock().unwrap();
                seen.push((Instant::now(), signature, body));
                if seen.len() < 3 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let app = TestApp::with_config(storefront_server::ServerConfig {
        webhook_secret: Some(SECRET.to_owned()),
        sandbox: SandboxOptions {
            return_url_callbacks: true,
            event_notifications: false,
            webhook_retry: vec![
                Duration::from_millis(100),
                Duration::from_millis(200),
                Duration::from_millis(300),
                Duration::from_millis(400),
            ],
        },
        ..TestApp::config().await
    })
    .await;
    let request = CreateRequest::builder()
        .checkout_reference("hooked")
        .amount(5.0)
        .currency(serde_json::from_value(json!("GBP")).unwrap())
        .merchant_code("MTEST")
        .return_url(hook)
        .hosted_checkout(HostedCheckout::builder().enabled(true).build())
        .build();
    let made = sdk(&app).checkouts().create(request).await.unwrap();
    let url = raw_checkout(&app, made.id.as_deref().unwrap()).await["hosted_checkout_url"]
        .as_str()
        .unwrap()
        .to_owned();
    app.press(&url, "pay").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while attempts.lock().unwrap().len() < 3 {
        assert!(
            Instant::now() < deadline,
            "the notification was not retried"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let attempts = attempts.lock().unwrap();
    assert_eq!(
        attempts.len(),
        3,
        "taken on the third attempt, then no more"
    );
    assert!(attempts[1].0 - attempts[0].0 >= Duration::from_millis(100));
    assert!(attempts[2].0 - attempts[1].0 >= Duration::from_millis(200));
    for (_, signature, body) in attempts.iter() {
        let signature = signature.as_deref().expect("signed");
        sumup::events::verify_signature(SECRET, body.as_bytes(), signature).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(body).unwrap(),
            json!({"event_type": "CHECKOUT_STATUS_CHANGED", "id": made.id})
        );
    }
}

/// A checkout made through the SDK with `reference`, paid on the sandbox's page; its id.
async fn paid_through_sdk(app: &TestApp, reference: &str, amount: f32) -> String {
    let made = sdk(app)
        .checkouts()
        .create(new_checkout(reference, amount))
        .await
        .unwrap();
    let id = made.id.unwrap();
    let url = raw_checkout(app, &id).await["hosted_checkout_url"]
        .as_str()
        .unwrap()
        .to_owned();
    app.press(&url, "pay").await;
    id
}

#[tokio::test]
async fn transactions_are_found_by_code_and_by_the_shops_reference_and_listed() {
    let app = TestApp::start().await;
    let sumup = sdk(&app);
    let first = paid_through_sdk(&app, "history-1", 5.0).await;
    // The sandbox keeps times in seconds, as the history orders them.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = paid_through_sdk(&app, "history-2", 7.5).await;
    let transaction_of = |checkout: &str| {
        let checkout = checkout.to_owned();
        let app = &app;
        async move {
            let raw = raw_checkout(app, &checkout).await;
            (
                raw["transaction_id"].as_str().unwrap().to_owned(),
                raw["transaction_code"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (first_id, first_code) = transaction_of(&first).await;
    let (second_id, _) = transaction_of(&second).await;
    let transactions = sumup.transactions();
    let by_code = transactions
        .get(
            "MTEST",
            GetParams::builder().transaction_code(first_code).build(),
        )
        .await
        .unwrap();
    assert_eq!(by_code.id.as_deref(), Some(first_id.as_str()));
    let by_reference = transactions
        .get(
            "MTEST",
            GetParams::builder()
                .foreign_transaction_id("history-2")
                .build(),
        )
        .await
        .unwrap();
    assert_eq!(by_reference.id.as_deref(), Some(second_id.as_str()));
    let missing = transactions
        .get(
            "MTEST",
            GetParams::builder().transaction_code("NOSUCHCODE").build(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, SdkError::Api(r) if r.status == StatusCode::NOT_FOUND),
        "{missing:?}"
    );

    // The history, in SumUp's types: oldest first unless asked, as many as `limit`.
    use sumup::transactions::{ListParams as HistoryParams, ListParamsOrder};
    let ids = |page: sumup::transactions::ListResponse| -> Vec<String> {
        page.items
            .unwrap()
            .into_iter()
            .map(|t| t.id.unwrap())
            .collect()
    };
    let all = transactions
        .list("MTEST", HistoryParams::builder().build())
        .await
        .unwrap();
    assert_eq!(ids(all), [first_id.clone(), second_id.clone()]);
    let newest = transactions
        .list(
            "MTEST",
            HistoryParams::builder()
                .order(ListParamsOrder::Descending)
                .limit(1)
                .build(),
        )
        .await
        .unwrap();
    assert_eq!(ids(newest), [second_id]);
    let other = transactions
        .list("MOTHER", HistoryParams::builder().build())
        .await
        .unwrap();
    assert_eq!(
        ids(other),
        Vec::<String>::new(),
        "another merchant's are not listed"
    );
    for bad in ["limit=0", "limit=ten", "order=sideways"] {
        let answer = app
            .client
            .get(format!(
                "{}{SANDBOX_PATH}/v2.1/merchants/MTEST/transactions/history?{bad}",
                app.server.origin()
            ))
            .bearer_auth("k")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = answer.json().await.unwrap();
        assert!(body["detail"].is_string(), "{bad}: {body}");
    }
}

#[tokio::test]
async fn the_merchant_reads_into_sumups_types_and_the_key_names_its_owner() {
    let app = TestApp::start().await;
    let merchant = sdk(&app).merchants().get("MTEST").await.unwrap();
    assert_eq!(merchant.merchant_code, "MTEST");
    assert_eq!(merchant.default_currency, "GBP");
    let me = app
        .client
        .get(format!("{}{SANDBOX_PATH}/v0.1/me", app.server.origin()))
        .bearer_auth("k")
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // The crate has no type for `/v0.1/me`; SumUp's spec: `merchant_profile.merchant_code`.
    let me: Value = me.json().await.unwrap();
    assert_eq!(
        me["merchant_profile"]["merchant_code"],
        storefront_server::sandbox::SANDBOX_MERCHANT
    );
    let anonymous = app
        .client
        .get(format!("{}{SANDBOX_PATH}/v0.1/me", app.server.origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bodies_are_read_as_sumup_reads_them_and_refused_in_json() {
    let app = TestApp::start().await;
    let checkout = paid_through_sdk(&app, "empty-body", 9.0).await;
    let transaction = raw_checkout(&app, &checkout).await["transaction_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = |path: &str| format!("{}{SANDBOX_PATH}{path}", app.server.origin());
    let refund = url(&format!(
        "/v1.0/merchants/MTEST/payments/{transaction}/refunds"
    ));
    let post = |url: String, content_type: Option<&'static str>, body: &'static str| {
        let mut request = app.client.post(url).bearer_auth("k").body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send()
    };
    // Refused bodies answer JSON, never axum's plain text, and refund nothing.
    for (content_type, body, status) in [
        (
            Some("application/json"),
            "{not json",
            StatusCode::BAD_REQUEST,
        ),
        (
            Some("text/plain"),
            "amount=1",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ] {
        let answer = post(refund.clone(), content_type, body).await.unwrap();
        assert_eq!(answer.status(), status, "{body}");
        let kind = answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.contains("json"), "{kind}");
    }
    assert!(!paid_checkout_reads_refunded(&app, &checkout).await);
    // An empty body with JSON's content type, as SumUp's TypeScript SDK sends a full refund.
    let answer = post(refund, Some("application/json"), "").await.unwrap();
    assert_eq!(answer.status(), StatusCode::CREATED);
    assert!(paid_checkout_reads_refunded(&app, &checkout).await);
    // A query that does not parse is refused as a problem in JSON too.
    let twice = app
        .client
        .get(url("/v2.1/merchants/MTEST/transactions?id=a&id=b"))
        .bearer_auth("k")
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
    let kind = twice.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.contains("json"), "{kind}");
    let body: Value = twice.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("id"), "{body}");
    // The checkouts API answers in its own (older) shape.
    let answer = post(url("/v0.1/checkouts"), Some("application/json"), "[1,")
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error_code"], "INVALID", "{body}");
}

#[tokio::test]
async fn a_hosted_page_only_when_asked_for_and_each_payment_says_how_the_card_came() {
    let app = TestApp::start().await;
    let without = CreateRequest::builder()
        .checkout_reference("no-page")
        .amount(4.0)
        .currency(serde_json::from_value(json!("GBP")).unwrap())
        .merchant_code("MTEST")
        .build();
    let made = sdk(&app).checkouts().create(without).await.unwrap();
    let id = made.id.unwrap();
    let raw = raw_checkout(&app, &id).await;
    assert_eq!(raw["hosted_checkout_url"], Value::Null, "{raw}");
    assert_eq!(raw["hosted_checkout"]["enabled"], false, "{raw}");
    let page = app
        .client
        .get(format!("{}{SANDBOX_PATH}/pay/{id}", app.server.origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        StatusCode::NOT_FOUND,
        "no page was asked for"
    );

    // Paid on a hosted page: the buyer typed the card in, online.
    let paid = paid_through_sdk(&app, "with-page", 6.0).await;
    let transaction = raw_checkout(&app, &paid).await["transaction_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let full = sdk(&app)
        .transactions()
        .get("MTEST", GetParams::builder().id(transaction).build())
        .await
        .unwrap();
    assert_eq!(full.payment_type, Some(sumup::common::PaymentType::Ecom));
    assert_eq!(
        full.entry_mode,
        Some(sumup::common::EntryMode::CustomerEntry)
    );
}

#[tokio::test]
async fn checkouts_are_checked_as_sumups_spec_states() {
    let app = TestApp::start().await;
    let create = |body: Value| {
        app.client
            .post(format!(
                "{}{SANDBOX_PATH}/v0.1/checkouts",
                app.server.origin()
            ))
            .bearer_auth("k")
            .json(&body)
            .send()
    };
    let long = "r".repeat(91);
    for (body, param) in [
        (
            json!({"checkout_reference": long, "amount": 10.0, "currency": "GBP", "merchant_code": "M"}),
            "checkout_reference",
        ),
        (
            json!({"checkout_reference": "c1", "amount": 10.0, "currency": "XYZ", "merchant_code": "M"}),
            "currency",
        ),
        (
            json!({"checkout_reference": "c2", "amount": 10.005, "currency": "GBP", "merchant_code": "M"}),
            "amount",
        ),
    ] {
        let answer = create(body).await.unwrap();
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{param}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(
            (body["error_code"].as_str(), body["param"].as_str()),
            (Some("INVALID"), Some(param)),
            "{body}"
        );
    }
    let fits = create(
        json!({"checkout_reference": "r".repeat(90), "amount": 10.05,
                             "currency": "EUR", "merchant_code": "M"}),
    )
    .await
    .unwrap();
    assert_eq!(fits.status(), StatusCode::CREATED);
}
