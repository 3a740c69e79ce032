use reqwest::StatusCode;
use serde_json::{Value, json};
use storefront_contract::ErrorCode;
use storefront_contract::SOLD_OUT_NOTICE;

use crate::common::*;

#[tokio::test]
async fn buying_puts_pending_tickets_in_the_cart_without_taking_capacity() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let bought = app.buy(&ann, WREN_DUO, 2, Some(CONCESSION)).await;
    assert_eq!(bought["notice"], SOLD_OUT_NOTICE);
    let tickets = bought["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 2);
    for ticket in tickets {
        assert_eq!(ticket["state"], "pending");
        assert_eq!(ticket["entry_id"], WREN_DUO);
        assert_eq!(ticket["entry_name"], "Wren Duo");
        assert_eq!(ticket["ticket_type_id"], CONCESSION);
        assert_eq!(ticket["ticket_type_name"], "Concession");
        assert_eq!(ticket["cost"], "8.00");
        assert_eq!(ticket["calendar_container_type"], "page");
        assert_eq!(ticket["order_id"], Value::Null);
        let code = ticket["code"].as_str().unwrap();
        assert_eq!(code.len(), 9, "{code}");
    }
    assert_ne!(tickets[0]["code"], tickets[1]["code"]);
    // The cart summary already counts them: tote x2 (14.50) + booking (15.00) + 16.00.
    assert_eq!(bought["cart"]["ticket_count"], 2);
    assert_eq!(bought["cart"]["ticket_total"], "16.00");
    assert_eq!(bought["cart"]["items"], 5);
    assert_eq!(bought["cart"]["grand_total"], "45.50");
    // One more: counted with those already in the cart.
    let more = app.buy(&ann, WREN_DUO, 1, Some(CONCESSION)).await;
    assert_eq!(more["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(more["cart"]["ticket_count"], 3);
    assert_eq!(more["cart"]["ticket_total"], "24.00");
    assert_eq!(more["cart"]["items"], 6);
    assert_eq!(more["cart"]["grand_total"], "53.50");
    // Pending tickets hold no place.
    let wren = app.event(WREN_DUO, None).await;
    assert_eq!(wren["sold"], 0);
    assert_eq!(wren["available"], 10);
}

#[tokio::test]
async fn a_sold_out_event_can_still_be_bought_into_the_cart() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let bought = app.buy(&ann, FULL_HOUSE, 1, None).await;
    assert_eq!(bought["tickets"][0]["cost"], "5.00");
    assert_eq!(bought["notice"], SOLD_OUT_NOTICE);
    let full = app.event(FULL_HOUSE, Some(&ann)).await;
    assert_eq!(full["sold_out"], true);
    assert_eq!(full["sold"], 1);
    assert_eq!(full["in_my_cart"], 1);
}

#[tokio::test]
async fn buying_needs_a_signed_in_user() {
    let app = TestApp::start().await;
    let anonymous = app
        .post(
            &format!("/events/{QUIET_NIGHT}/tickets"),
            None,
            json!({"quantity": 1}),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.code(), ErrorCode::LoginRequired);
    assert_eq!(anonymous.json["error"]["message"], "Sign in to buy tickets");
    let stale = app
        .post(
            &format!("/events/{QUIET_NIGHT}/tickets"),
            Some("stale"),
            json!({"quantity": 1}),
        )
        .await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    assert_eq!(stale.code(), ErrorCode::Unauthorized);
}

#[tokio::test]
async fn every_validation_error_names_its_field() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let cases = [
        (
            WREN_DUO,
            json!({"quantity": 0, "ticket_type_id": STANDARD}),
            "quantity",
        ),
        (
            WREN_DUO,
            json!({"quantity": 5, "ticket_type_id": STANDARD}),
            "quantity",
        ),
        (
            WREN_DUO,
            json!({"quantity": -1, "ticket_type_id": STANDARD}),
            "quantity",
        ),
        (WREN_DUO, json!({"quantity": 1}), "ticket_type_id"),
        (
            WREN_DUO,
            json!({"quantity": 1, "ticket_type_id": null}),
            "ticket_type_id",
        ),
        (
            WREN_DUO,
            json!({"quantity": 1, "ticket_type_id": 999}),
            "ticket_type_id",
        ),
        (QUIET_NIGHT, json!({"quantity": 11}), "quantity"),
        (
            QUIET_NIGHT,
            json!({"quantity": 1, "ticket_type_id": STANDARD}),
            "ticket_type_id",
        ),
    ];
    for (event, body, field) in cases {
        let answer = app
            .post(
                &format!("/events/{event}/tickets"),
                Some(&ann),
                body.clone(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(answer.code(), ErrorCode::Validation, "{body}");
        assert_eq!(answer.field(), field, "{body}");
    }
    for body in [
        json!({"quantity": "two"}),
        json!({}),
        json!({"quantity": 1.5}),
        json!([1]),
    ] {
        let answer = app
            .post(
                &format!("/events/{QUIET_NIGHT}/tickets"),
                Some(&ann),
                body.clone(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.code(), ErrorCode::BadRequest, "{body}");
    }
    for event in ["999", "5", "abc"] {
        let answer = app
            .post(
                &format!("/events/{event}/tickets"),
                Some(&ann),
                json!({"quantity": 1}),
            )
            .await;
        assert!(
            answer.status == StatusCode::NOT_FOUND || answer.status == StatusCode::BAD_REQUEST,
            "{event}: {}",
            answer.text
        );
    }
    // Nothing was bought by any of that.
    assert_eq!(app.cart(&ann).await["summary"]["ticket_count"], 0);
}

#[tokio::test]
async fn fifty_concurrent_buys_all_land_and_are_all_counted() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let path = format!("/events/{VILLAGE_FETE}/tickets");
    let buys = (0..50).map(|_| app.post(&path, Some(&ann), json!({"quantity": 1})));
    let answers = futures::future::join_all(buys).await;
    assert!(answers.iter().all(|a| a.status == StatusCode::CREATED));
    let mut codes: Vec<_> = answers
        .iter()
        .map(|a| a.json["tickets"][0]["code"].as_str().unwrap().to_owned())
        .collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 50);
    let summary = app.get("/cart/summary", Some(&ann)).await.json;
    assert_eq!(summary["ticket_count"], 50);
    assert_eq!(summary["ticket_total"], "150.00");
    assert_eq!(app.event(VILLAGE_FETE, Some(&ann)).await["in_my_cart"], 50);
}

#[tokio::test]
async fn removing_a_ticket_from_the_cart() {
    let app = TestApp::start().await;
    let (ann, bob) = (app.ann().await, app.bob().await);
    let bought = app.buy(&ann, QUIET_NIGHT, 2, None).await;
    let id = bought["tickets"][0]["id"].as_i64().unwrap();
    // Another user cannot see or touch it.
    let theirs = app.delete(&format!("/cart/tickets/{id}"), Some(&bob)).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(theirs.code(), ErrorCode::NotFound);
    let removed = app.delete(&format!("/cart/tickets/{id}"), Some(&ann)).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(app.cart(&ann).await["summary"]["ticket_count"], 1);
    let again = app.delete(&format!("/cart/tickets/{id}"), Some(&ann)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.delete("/cart/tickets/1", None).await.code(),
        ErrorCode::Unauthorized
    );
}

#[tokio::test]
async fn the_per_order_limit_counts_what_is_already_in_the_cart() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    // Wren Duo: up to 4 per order.
    app.buy(&ann, WREN_DUO, 3, Some(STANDARD)).await;
    let over = app
        .post(
            &format!("/events/{WREN_DUO}/tickets"),
            Some(&ann),
            json!({"quantity": 2, "ticket_type_id": CONCESSION}),
        )
        .await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(over.code(), ErrorCode::Validation);
    assert_eq!(over.field(), "quantity");
    assert!(
        over.text.contains("so 1 more can be added"),
        "{}",
        over.text
    );
    app.buy(&ann, WREN_DUO, 1, Some(CONCESSION)).await;
    let full = app
        .post(
            &format!("/events/{WREN_DUO}/tickets"),
            Some(&ann),
            json!({"quantity": 1, "ticket_type_id": STANDARD}),
        )
        .await;
    assert!(full.text.contains("already holds 4"), "{}", full.text);
    assert_eq!(app.cart(&ann).await["summary"]["ticket_count"], 4);
    // Another buyer has a limit of their own.
    let bob = app.bob().await;
    app.buy(&bob, WREN_DUO, 4, Some(STANDARD)).await;

    // The limit is lowered after the cart was filled: checkout refuses, naming the event.
    sqlx::query("UPDATE events SET max_per_order = 2 WHERE id = $1")
        .bind(WREN_DUO)
        .execute(&mut *app.server.state().store().connection().await.unwrap())
        .await
        .unwrap();
    let refused = app.checkout(&ann, None).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.field(), "quantity");
    assert!(
        refused.text.contains("Wren Duo allows up to 2 per order"),
        "{}",
        refused.text
    );
    assert_eq!(
        app.cart(&ann).await["summary"]["ticket_count"],
        4,
        "nothing was lost"
    );
    // Another venue's group is not held up by it.
    app.buy(&ann, QUIET_NIGHT, 1, None).await;
    let abbey = app.checkout(&ann, Some("abbey")).await;
    assert_eq!(abbey.status, StatusCode::CREATED, "{}", abbey.text);
}

#[tokio::test]
async fn two_purchases_at_once_cannot_pass_the_limit_together() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let path = format!("/events/{WREN_DUO}/tickets");
    let buys = (0..6).map(|_| {
        app.post(
            &path,
            Some(&ann),
            json!({"quantity": 1, "ticket_type_id": STANDARD}),
        )
    });
    let answers = futures::future::join_all(buys).await;
    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 4);
    assert_eq!(app.cart(&ann).await["summary"]["ticket_count"], 4);
}

#[tokio::test]
async fn a_ticket_taken_out_of_the_cart_is_not_among_the_tickets() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let cart = app.cart(&ann).await;
    let removed = cart["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tickets"].as_array().unwrap())
        .map(|t| t["id"].as_i64().unwrap())
        .next()
        .unwrap();
    app.delete(&format!("/cart/tickets/{removed}"), Some(&ann))
        .await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let (order, _) = app.checkout_ok(&ann, None).await;
    let tickets = app.get("/tickets", Some(&ann)).await.json;
    let listed: Vec<i64> = tickets["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["order_id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, [order], "only the bought ticket: {tickets}");
}
