//! Kiosk accounts: one box-office account, a cart per terminal, emptied for every customer.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

async fn box_office(app: &TestApp) -> String {
    app.login("box@example.com", "box-pass").await
}

fn at(terminal: &str) -> [(&str, &str); 1] {
    [("X-Terminal", terminal)]
}

async fn cart_at(app: &TestApp, token: &str, terminal: &str) -> serde_json::Value {
    let answer = app
        .request(
            reqwest::Method::GET,
            "/cart",
            Some(token),
            None,
            &at(terminal),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json
}

async fn buy_at(app: &TestApp, token: &str, terminal: &str, quantity: i64) {
    let answer = app
        .request(
            reqwest::Method::POST,
            &format!("/events/{VILLAGE_FETE}/tickets"),
            Some(token),
            Some(json!({"quantity": quantity})),
            &at(terminal),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
}

#[tokio::test]
async fn two_terminals_on_one_account_keep_their_own_carts() {
    let app = TestApp::start().await;
    let token = box_office(&app).await;
    buy_at(&app, &token, "door-1", 2).await;
    buy_at(&app, &token, "door-2", 1).await;
    assert_eq!(
        cart_at(&app, &token, "door-1").await["summary"]["ticket_count"],
        2
    );
    assert_eq!(
        cart_at(&app, &token, "door-2").await["summary"]["ticket_count"],
        1
    );
    // The account without a terminal is a cart of its own too.
    assert_eq!(app.cart(&token).await["summary"]["ticket_count"], 0);

    // A sale at door-1 is door-1's, and door-2 does not see it.
    let answer = app
        .request(
            reqwest::Method::POST,
            "/checkout",
            Some(&token),
            Some(json!({"page": null})),
            &at("door-1"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.json["order"]["terminal"], "door-1");
    let id = answer.json["order"]["id"].as_i64().unwrap();
    let elsewhere = app
        .request(
            reqwest::Method::GET,
            &format!("/orders/{id}"),
            Some(&token),
            None,
            &at("door-2"),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let listed = app
        .request(
            reqwest::Method::GET,
            "/orders",
            Some(&token),
            None,
            &at("door-2"),
        )
        .await;
    assert_eq!(listed.json["orders"].as_array().unwrap().len(), 0);

    for bad in ["", "door 1", &"x".repeat(65), "döör"] {
        let answer = app
            .request(reqwest::Method::GET, "/cart", Some(&token), None, &at(bad))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad:?}");
    }
    // No one can sign in as a terminal.
    let answer = app
        .post(
            "/auth/login",
            None,
            json!({"email": "box@example.com#door-1", "password": "!"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn clearing_the_cart_cancels_what_a_customer_left() {
    let app = TestApp::start().await;
    let token = box_office(&app).await;
    buy_at(&app, &token, "door-1", 3).await;
    let product = app
        .request(
            reqwest::Method::POST,
            "/cart/products",
            Some(&token),
            Some(json!({"product_id": 1, "quantity": 2})),
            &at("door-1"),
        )
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.text);
    let cleared = app
        .request(
            reqwest::Method::POST,
            "/cart/clear",
            Some(&token),
            None,
            &at("door-1"),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT, "{}", cleared.text);
    let cart = cart_at(&app, &token, "door-1").await;
    assert_eq!(cart["summary"]["items"], 0, "{cart}");
    assert_eq!(cart["groups"].as_array().unwrap().len(), 0);
    let cancelled: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE state = 'cancelled'")
            .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
            .await
            .unwrap();
    assert_eq!(cancelled, 3);

    // An ordinary buyer can empty their own cart the same way; an order is untouched.
    let ann = app.ann().await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let (order, _) = app.checkout_ok(&ann, None).await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    assert_eq!(
        app.post("/cart/clear", Some(&ann), json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.cart(&ann).await["summary"]["items"], 0);
    assert_eq!(
        app.order(&ann, order, 0).await["tickets"][0]["state"],
        "reserved"
    );
}
