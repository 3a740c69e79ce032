use reqwest::StatusCode;
use serde_json::{Value, json};
use storefront_contract::SOLD_OUT_NOTICE;

use crate::common::*;

fn group_titles(cart: &Value) -> Vec<Value> {
    cart["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["page"]["title"].clone())
        .collect()
}

#[tokio::test]
async fn the_catalog_cart_has_no_notice_until_tickets_arrive() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let cart = app.cart(&ann).await;
    // Tote bags (The Old Granary) and the bell tower tour (Abbey Rooms).
    assert_eq!(
        group_titles(&cart),
        [json!("Abbey Rooms"), json!("The Old Granary")]
    );
    assert_eq!(cart["notice"], Value::Null);
    assert_eq!(cart["summary"]["items"], 3);
    assert_eq!(cart["summary"]["grand_total"], "29.50");
    // Bob's cart is his own, and empty.
    let bob = app.bob().await;
    let empty = app.cart(&bob).await;
    assert_eq!(empty["groups"], json!([]));
    assert_eq!(empty["summary"]["items"], 0);
    assert_eq!(empty["summary"]["grand_total"], "0.00");
    assert_eq!(empty["notice"], Value::Null);
}

#[tokio::test]
async fn the_cart_is_grouped_by_page_with_totals_and_the_notice() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, WREN_DUO, 2, Some(STANDARD)).await;
    app.buy(&ann, QUIET_NIGHT, 1, None).await;
    app.buy(&ann, VILLAGE_FETE, 3, None).await;
    let added = app
        .post(
            "/cart/products",
            Some(&ann),
            json!({"product_id": 3, "quantity": 1}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let cart = app.cart(&ann).await;
    assert_eq!(
        group_titles(&cart),
        [json!("Abbey Rooms"), json!("The Old Granary"), Value::Null]
    );
    assert_eq!(cart["notice"], SOLD_OUT_NOTICE);

    let abbey = &cart["groups"][0];
    assert_eq!(abbey["calendar_count"], 1);
    assert_eq!(abbey["calendar_total"], "15.00");
    assert_eq!(abbey["calendar_entries"][0]["name"], "Bell tower tour");
    assert_eq!(abbey["calendar_entries"][0]["calendar_name"], "Cloister");
    assert_eq!(abbey["ticket_count"], 1);
    assert_eq!(abbey["ticket_total"], "9.50");
    assert_eq!(abbey["total"], "24.50");

    let granary = &cart["groups"][1];
    assert_eq!(granary["products"][0]["title"], "Tote bag");
    assert_eq!(granary["products"][0]["quantity"], 2);
    assert_eq!(granary["products"][0]["unit_price"], "7.25");
    assert_eq!(granary["products"][0]["line_total"], "14.50");
    assert_eq!(granary["product_count"], 2);
    assert_eq!(granary["ticket_count"], 2);
    assert_eq!(granary["ticket_total"], "24.00");
    assert_eq!(granary["total"], "38.50");

    let village = &cart["groups"][2];
    assert_eq!(village["ticket_count"], 3);
    assert_eq!(village["tickets"][0]["calendar_container_id"], Value::Null);
    assert_eq!(
        village["tickets"][0]["calendar_container_type"],
        Value::Null
    );
    assert_eq!(village["product_total"], "20.00");
    assert_eq!(village["total"], "29.00");

    let summary = &cart["summary"];
    assert_eq!(summary["count"], 3);
    assert_eq!(summary["total"], "34.50");
    assert_eq!(summary["calendar_count"], 1);
    assert_eq!(summary["ticket_count"], 6);
    assert_eq!(summary["ticket_total"], "42.50");
    assert_eq!(summary["items"], 10);
    assert_eq!(summary["grand_total"], "92.00");
    assert_eq!(summary["currency"], "GBP");
    assert_eq!(app.get("/cart/summary", Some(&ann)).await.json, *summary);
}

#[tokio::test]
async fn product_lines_merge_change_and_go() {
    let app = TestApp::start().await;
    let (ann, bob) = (app.ann().await, app.bob().await);
    // The tote line (quantity 2) takes 5 more: one line of 7.
    let merged = app
        .post(
            "/cart/products",
            Some(&ann),
            json!({"product_id": 1, "quantity": 5}),
        )
        .await;
    assert_eq!(merged.status, StatusCode::CREATED);
    assert_eq!(merged.json["count"], 7);
    assert_eq!(merged.json["total"], "50.75");
    let cart = app.cart(&ann).await;
    let lines = cart["groups"][1]["products"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    let line = lines[0]["id"].as_i64().unwrap();

    let over = app
        .post(
            "/cart/products",
            Some(&ann),
            json!({"product_id": 1, "quantity": 93}),
        )
        .await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(over.field(), "quantity");
    for quantity in [0, 100] {
        let bad = app
            .post(
                "/cart/products",
                Some(&ann),
                json!({"product_id": 1, "quantity": quantity}),
            )
            .await;
        assert_eq!(bad.field(), "quantity", "{quantity}");
    }
    let unknown = app
        .post(
            "/cart/products",
            Some(&ann),
            json!({"product_id": 99, "quantity": 1}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let patched = app
        .patch(
            &format!("/cart/products/{line}"),
            Some(&ann),
            json!({"quantity": 3}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.json["count"], 3);
    assert_eq!(patched.json["total"], "21.75");
    let bad = app
        .patch(
            &format!("/cart/products/{line}"),
            Some(&ann),
            json!({"quantity": 100}),
        )
        .await;
    assert_eq!(bad.field(), "quantity");

    // Bob sees none of it and changes none of it.
    assert_eq!(
        app.patch(
            &format!("/cart/products/{line}"),
            Some(&bob),
            json!({"quantity": 1})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/cart/products/{line}"), Some(&bob))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/cart/summary", Some(&ann)).await.json["count"], 3);

    let zero = app
        .patch(
            &format!("/cart/products/{line}"),
            Some(&ann),
            json!({"quantity": 0}),
        )
        .await;
    assert_eq!(zero.status, StatusCode::OK);
    assert_eq!(zero.json["count"], 0);
    assert_eq!(
        app.patch(
            &format!("/cart/products/{line}"),
            Some(&ann),
            json!({"quantity": 1})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    let again = app
        .post(
            "/cart/products",
            Some(&ann),
            json!({"product_id": 2, "quantity": 1}),
        )
        .await;
    assert_eq!(again.json["count"], 1);
    let mug_line = app.cart(&ann).await["groups"][0]["products"][0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.delete(&format!("/cart/products/{mug_line}"), Some(&ann))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("/cart/products/{mug_line}"), Some(&ann))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn removing_a_booking() {
    let app = TestApp::start().await;
    let (ann, bob) = (app.ann().await, app.bob().await);
    let cart = app.cart(&ann).await;
    let booking = cart["groups"][0]["calendar_entries"][0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.delete(&format!("/cart/bookings/{booking}"), Some(&bob))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/cart/bookings/{booking}"), Some(&ann))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("/cart/bookings/{booking}"), Some(&ann))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let cart = app.cart(&ann).await;
    assert_eq!(group_titles(&cart), [json!("The Old Granary")]);
    assert_eq!(cart["summary"]["calendar_count"], 0);
}

#[tokio::test]
async fn products_are_listed_with_their_page() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let all = app.get("/products", Some(&ann)).await.json;
    let titles: Vec<_> = all["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].clone())
        .collect();
    assert_eq!(
        titles,
        [json!("Abbey mug"), json!("Gift voucher"), json!("Tote bag")]
    );
    assert_eq!(all["products"][0]["price"], "5.00");
    assert_eq!(all["products"][0]["page"]["slug"], "abbey");
    assert_eq!(all["products"][1]["page"], Value::Null);
    let granary = app.get("/products?page=granary", Some(&ann)).await.json;
    assert_eq!(granary["products"].as_array().unwrap().len(), 1);
    assert_eq!(granary["products"][0]["slug"], "tote");
}

/// The tickets in the cart, `(event id, sold_out)`.
fn cart_tickets(cart: &Value) -> Vec<(i64, bool)> {
    cart["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tickets"].as_array().unwrap())
        .map(|t| {
            (
                t["entry_id"].as_i64().unwrap(),
                t["sold_out"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[tokio::test]
async fn tickets_of_an_event_its_paid_tickets_fill_cannot_be_checked_out() {
    let app = TestApp::start().await;
    let (ann, bob) = (app.ann().await, app.bob().await);
    // Ann reserves both places of Quiet Night without paying: Bob may still try.
    app.buy(&ann, QUIET_NIGHT, 2, None).await;
    let (ann_order, ann_url) = app.checkout_ok(&ann, None).await;
    app.buy(&bob, QUIET_NIGHT, 1, None).await;
    app.buy(&bob, VILLAGE_FETE, 1, None).await;
    assert_eq!(
        cart_tickets(&app.cart(&bob).await),
        [(QUIET_NIGHT, false), (VILLAGE_FETE, false)],
        "reserved is not paid: the refund notice covers it"
    );

    // Ann pays: both places are paid for, and Bob's ticket can only end in a refund.
    app.press(&ann_url, "pay").await;
    assert_eq!(app.order(&ann, ann_order, 10).await["status"], "paid");
    let cart = app.cart(&bob).await;
    assert_eq!(
        cart_tickets(&cart),
        [(QUIET_NIGHT, true), (VILLAGE_FETE, false)]
    );
    let refused = app.checkout(&bob, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.code(), storefront_contract::ErrorCode::Conflict);
    assert_eq!(
        refused.json["error"]["message"],
        "Quiet Night sold out: remove its tickets from your cart to check out the rest."
    );
    assert_eq!(
        app.get("/orders", Some(&bob)).await.json["orders"],
        json!([]),
        "no order, no SumUp checkout"
    );
    // Full House's one place is Bob's own (paid): Ann cannot check out a second.
    app.buy(&ann, FULL_HOUSE, 1, None).await;
    assert_eq!(app.checkout(&ann, None).await.status, StatusCode::CONFLICT);

    // Without the sold-out line the rest checks out.
    let quiet = cart["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tickets"].as_array().unwrap())
        .find(|t| t["entry_id"] == QUIET_NIGHT)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    app.delete(&format!("/cart/tickets/{quiet}"), Some(&bob))
        .await;
    let (_, _) = app.checkout_ok(&bob, None).await;
}

#[tokio::test]
async fn cancelling_an_order_puts_its_items_back_in_the_cart() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    // Her cart: two tote bags, the bell tower tour and a ticket; all in one order.
    let (order, _) = app.checkout_ok(&ann, None).await;
    assert_eq!(app.cart(&ann).await["summary"]["items"], 0);
    // Meanwhile one more tote bag.
    let added = app
        .post(
            "/cart/products",
            Some(&ann),
            json!({"product_id": 1, "quantity": 1}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let cancelled = app
        .post(&format!("/orders/{order}/cancel"), Some(&ann), json!({}))
        .await;
    assert_eq!(cancelled.json["status"], "cancelled", "{}", cancelled.text);
    assert!(
        cancelled.json["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] == "cancelled")
    );
    let cart = app.cart(&ann).await;
    let products: Vec<(Value, Value)> = cart["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["products"].as_array().unwrap())
        .map(|p| (p["title"].clone(), p["quantity"].clone()))
        .collect();
    assert_eq!(
        products,
        [(json!("Tote bag"), json!(3))],
        "the order's two join the one added since"
    );
    assert_eq!(
        cart["summary"]["ticket_count"], 0,
        "its ticket was released"
    );
}
