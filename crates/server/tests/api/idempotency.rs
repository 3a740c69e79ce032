use reqwest::{Method, StatusCode};
use serde_json::json;
use storefront_contract::ErrorCode;

use crate::common::*;

async fn buy_with_key(app: &TestApp, token: &str, key: &str, quantity: i64) -> Answer {
    app.request(
        Method::POST,
        &format!("/events/{QUIET_NIGHT}/tickets"),
        Some(token),
        Some(json!({"quantity": quantity})),
        &[("Idempotency-Key", key)],
    )
    .await
}

#[tokio::test]
async fn the_same_key_replays_the_first_answer_and_buys_once() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let first = buy_with_key(&app, &ann, "buy-1", 2).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let second = buy_with_key(&app, &ann, "buy-1", 2).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.text, first.text);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(second.headers["content-type"], "application/json");
    assert_eq!(app.cart(&ann).await["summary"]["ticket_count"], 2);
    // A new key is a new purchase.
    assert_eq!(
        buy_with_key(&app, &ann, "buy-2", 2).await.status,
        StatusCode::CREATED
    );
    assert_eq!(app.cart(&ann).await["summary"]["ticket_count"], 4);
}

#[tokio::test]
async fn errors_replay_too() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let first = buy_with_key(&app, &ann, "too-many", 50).await;
    assert_eq!(first.status, StatusCode::UNPROCESSABLE_ENTITY);
    let second = buy_with_key(&app, &ann, "too-many", 50).await;
    assert_eq!(second.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(second.text, first.text);
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    assert_eq!(
        buy_with_key(&app, &ann, "k", 1).await.status,
        StatusCode::CREATED
    );
    let other = buy_with_key(&app, &ann, "k", 3).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.code(), ErrorCode::IdempotencyKeyReused);
    // Same body, other event: also another request.
    let elsewhere = app
        .request(
            Method::POST,
            &format!("/events/{VILLAGE_FETE}/tickets"),
            Some(&ann),
            Some(json!({"quantity": 1})),
            &[("Idempotency-Key", "k")],
        )
        .await;
    assert_eq!(elsewhere.code(), ErrorCode::IdempotencyKeyReused);
    assert_eq!(app.cart(&ann).await["summary"]["ticket_count"], 1);
}

#[tokio::test]
async fn keys_belong_to_one_user() {
    let app = TestApp::start().await;
    let (ann, bob) = (app.ann().await, app.bob().await);
    let a = buy_with_key(&app, &ann, "shared", 1).await;
    let b = buy_with_key(&app, &bob, "shared", 1).await;
    assert_eq!(b.status, StatusCode::CREATED);
    assert_ne!(a.text, b.text);
    assert_eq!(app.cart(&bob).await["summary"]["ticket_count"], 1);
}

#[tokio::test]
async fn a_key_still_running_is_in_progress() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let first = buy_with_key(&app, &ann, "slow", 1).await;
    assert_eq!(first.status, StatusCode::CREATED);
    // Make the stored key look like a request that has not answered yet.
    sqlx::query("UPDATE idempotency_keys SET response_status = NULL, response_body = NULL")
        .execute(&mut *app.server.state().store().connection().await.unwrap())
        .await
        .unwrap();
    let during = buy_with_key(&app, &ann, "slow", 1).await;
    assert_eq!(during.status, StatusCode::CONFLICT);
    assert_eq!(during.code(), ErrorCode::IdempotencyInProgress);
    assert_eq!(app.cart(&ann).await["summary"]["ticket_count"], 1);
}

#[tokio::test]
async fn keys_expire_after_a_day() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    assert_eq!(
        buy_with_key(&app, &ann, "old", 1).await.status,
        StatusCode::CREATED
    );
    sqlx::query("UPDATE idempotency_keys SET created_at = created_at - 86401")
        .execute(&mut *app.server.state().store().connection().await.unwrap())
        .await
        .unwrap();
    let again = buy_with_key(&app, &ann, "old", 1).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(again.headers.get("idempotent-replayed").is_none());
    assert_eq!(app.cart(&ann).await["summary"]["ticket_count"], 2);
}

#[tokio::test]
async fn keys_must_be_1_to_255_characters() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let long = "x".repeat(256);
    for key in ["", long.as_str()] {
        let answer = buy_with_key(&app, &ann, key, 1).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer.field(), "Idempotency-Key");
    }
    assert_eq!(
        buy_with_key(&app, &ann, &"y".repeat(255), 1).await.status,
        StatusCode::CREATED
    );
    // Without a token the key changes nothing: sign in first.
    let anonymous = app
        .request(
            Method::POST,
            &format!("/events/{QUIET_NIGHT}/tickets"),
            None,
            Some(json!({"quantity": 1})),
            &[("Idempotency-Key", "anon")],
        )
        .await;
    assert_eq!(anonymous.code(), ErrorCode::LoginRequired);
}
