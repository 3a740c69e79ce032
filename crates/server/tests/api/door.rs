//! At the door: the ticket page a buyer keeps, and check-in by door staff.

use reqwest::StatusCode;
use serde_json::{Value, json};
use storefront_contract::ErrorCode;

use crate::common::*;

/// The buyer buys `quantity` tickets for the event (Wren Duo's standard ones) and pays.
async fn paid_order(app: &TestApp, token: &str, event: i64, quantity: i64) -> Value {
    let ticket_type = (event == WREN_DUO).then_some(STANDARD);
    app.buy(token, event, quantity, ticket_type).await;
    let (id, url) = app.checkout_ok(token, None).await;
    app.press(&url, "pay").await;
    let order = app.order(token, id, 10).await;
    assert_eq!(order["status"], "paid");
    order
}

fn codes(order: &Value) -> Vec<String> {
    order["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_order_of_products_only_has_a_page_that_says_so() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    // The Granary's group: two tote bags, no tickets.
    let (id, url) = app.checkout_ok(&ann, Some("granary")).await;
    app.press(&url, "pay").await;
    let order = app.order(&ann, id, 10).await;
    assert_eq!(order["status"], "paid");
    let (status, html) = page(&app, order["tickets_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Your order</h1>"), "{html}");
    assert!(html.contains("2 × Tote bag"), "{html}");
    assert!(
        !html.contains("0 tickets") && !html.contains("at the door"),
        "{html}"
    );
}

async fn page(app: &TestApp, url: &str) -> (StatusCode, String) {
    let response = app.client.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_paid_order_has_a_ticket_page_with_every_ticket_and_its_qr_code() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let order = paid_order(&app, &ann, VILLAGE_FETE, 2).await;
    let url = order["tickets_url"].as_str().unwrap();
    let secret = url.rsplit('/').next().unwrap();
    assert!(url.starts_with(&format!("{}/t/", app.server.origin())));
    assert!(secret.len() >= 22, "128 random bits: {secret}");
    let (status, html) = page(&app, url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Your 2 tickets"), "{html}");
    assert!(html.contains("Village Fete"));
    // What else the order holds is on the page too.
    assert!(html.contains("2 × Tote bag"), "{html}");
    assert!(html.contains("Bell tower tour"), "{html}");
    assert!(!html.contains("<?xml"), "bare inline SVG");
    // The Village Green names no zone: the server's.
    assert!(html.contains(" UTC<") || html.contains(" UTC "), "{html}");
    for code in codes(&order) {
        assert!(html.contains(&code), "{code} is on the page");
    }
    assert_eq!(html.matches("<svg").count(), 2, "one QR code per ticket");
    assert!(!html.contains("<script"), "no script needed");

    // The QR code is the ticket's code: the same SVG the page draws for it.
    let first = &codes(&order)[0];
    let expected = qrcode::QrCode::new(first.as_bytes())
        .unwrap()
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(180, 180)
        .quiet_zone(true)
        .build();
    // Inline in HTML, without the XML prolog a file would start with.
    let svg = &expected[expected.find("<svg").unwrap()..];
    assert!(html.contains(svg), "the QR code encodes {first}");
}

#[tokio::test]
async fn unpaid_orders_have_no_ticket_page_and_unknown_secrets_are_404() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let (id, _) = app.checkout_ok(&ann, None).await;
    assert_eq!(app.order(&ann, id, 0).await["tickets_url"], Value::Null);
    let bob = app.bob().await;
    let bobs = paid_order(&app, &bob, WREN_DUO, 1).await;
    let bobs_url = bobs["tickets_url"].as_str().unwrap();
    for wrong in [
        format!("{}/t/AAAAAAAAAAAAAAAAAAAAAA", app.server.origin()),
        format!("{}/t/{}", app.server.origin(), id),
        format!("{bobs_url}x"),
    ] {
        let (status, html) = page(&app, &wrong).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{wrong}");
        assert!(!html.contains("Wren") && !html.contains(&codes(&bobs)[0]));
    }
    // Each page shows its own order only.
    let anns = paid_order(&app, &ann, WREN_DUO, 1).await;
    let (_, html) = page(&app, anns["tickets_url"].as_str().unwrap()).await;
    assert!(!html.contains(&codes(&bobs)[0]), "no other order's ticket");
}

#[tokio::test]
async fn a_refunded_ticket_reads_refunded_on_the_page() {
    let app = TestApp::start().await;
    let (ann, bob) = (app.ann().await, app.bob().await);
    app.buy(&ann, QUIET_NIGHT, 1, None).await;
    app.buy(&bob, QUIET_NIGHT, 2, None).await;
    let (ann_order, ann_url) = app.checkout_ok(&ann, None).await;
    let (bob_order, bob_url) = app.checkout_ok(&bob, None).await;
    app.press(&ann_url, "pay").await;
    app.until_stored_status(ann_order, "paid").await;
    app.press(&bob_url, "pay").await;
    let order = app.order(&bob, bob_order, 10).await;
    let (_, html) = page(&app, order["tickets_url"].as_str().unwrap()).await;
    assert!(html.contains("Your ticket<"), "one of two is left: {html}");
    assert!(html.contains("Refunded"));
    assert_eq!(html.matches("<svg").count(), 1);
    // The Abbey Rooms keep Paris time, and say so.
    assert!(html.contains(" CET") || html.contains(" CEST"), "{html}");
}

async fn check_in(app: &TestApp, token: &str, code: &str, event: i64) -> Value {
    let answer = app
        .post(
            "/checkin",
            Some(token),
            json!({"code": code, "event_id": event}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json
}

#[tokio::test]
async fn every_outcome_of_a_scan() {
    let app = TestApp::start().await;
    let (ann, door) = (app.ann().await, app.door().await);
    let order = paid_order(&app, &ann, VILLAGE_FETE, 2).await;
    let [first, second] = <[String; 2]>::try_from(codes(&order)).unwrap();

    let welcome = check_in(&app, &door, &first, VILLAGE_FETE).await;
    assert_eq!(welcome["outcome"], "checked_in");
    assert_eq!(welcome["ticket"]["holder_name"], "Ann");
    assert_eq!(welcome["ticket"]["event_name"], "Village Fete");
    assert_eq!(welcome["ticket"]["state"], "checked_in");
    assert!(welcome["checked_in_at"].is_string());

    let again = check_in(&app, &door, &first, VILLAGE_FETE).await;
    assert_eq!(again["outcome"], "already_checked_in");
    assert_eq!(again["checked_in_at"], welcome["checked_in_at"]);

    // Typed by a person: lower case, spaces, no dash.
    let typed = second.replace('-', " ").to_lowercase();
    assert_eq!(
        check_in(&app, &door, &typed, VILLAGE_FETE).await["outcome"],
        "checked_in"
    );

    let elsewhere = paid_order(&app, &ann, WREN_DUO, 1).await;
    let wrong = check_in(&app, &door, &codes(&elsewhere)[0], VILLAGE_FETE).await;
    assert_eq!(wrong["outcome"], "wrong_event");
    assert_eq!(wrong["ticket"]["event_name"], "Wren Duo");

    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let cart = app.cart(&ann).await;
    let pending = cart["groups"][0]["tickets"][0]["code"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("a pending code in {cart}"));
    assert_eq!(
        check_in(&app, &door, &pending, VILLAGE_FETE).await["outcome"],
        "not_paid"
    );
    let ticket_id = cart["groups"][0]["tickets"][0]["id"].as_i64().unwrap();
    app.delete(&format!("/cart/tickets/{ticket_id}"), Some(&ann))
        .await;
    assert_eq!(
        check_in(&app, &door, &pending, VILLAGE_FETE).await["outcome"],
        "cancelled"
    );

    for unknown in ["ZZZZ-ZZZZ", "hello", ""] {
        let answer = check_in(&app, &door, unknown, VILLAGE_FETE).await;
        assert_eq!(answer["outcome"], "unknown", "{unknown}");
        assert_eq!(answer["ticket"], Value::Null);
    }

    let counts = app
        .get(&format!("/events/{VILLAGE_FETE}/checkins"), Some(&door))
        .await;
    assert_eq!(counts.status, StatusCode::OK, "{}", counts.text);
    assert_eq!(counts.json["checked_in"], 2);
    assert_eq!(counts.json["sold"], 2);
    assert_eq!(counts.json["codes"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn twenty_doors_scanning_one_code_check_it_in_once() {
    let app = TestApp::start().await;
    let (ann, door) = (app.ann().await, app.door().await);
    let order = paid_order(&app, &ann, VILLAGE_FETE, 1).await;
    let code = codes(&order)[0].clone();
    let scans = (0..20).map(|_| check_in(&app, &door, &code, VILLAGE_FETE));
    let outcomes: Vec<Value> = futures::future::join_all(scans).await;
    let welcomed = outcomes
        .iter()
        .filter(|o| o["outcome"] == "checked_in")
        .count();
    assert_eq!(welcomed, 1);
    assert!(
        outcomes
            .iter()
            .all(|o| o["outcome"] == "checked_in" || o["outcome"] == "already_checked_in")
    );
}

#[tokio::test]
async fn only_staff_check_in() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let me = app.get("/auth/me", Some(&ann)).await;
    assert_eq!(me.json["role"], "customer");
    assert_eq!(
        app.get("/auth/me", Some(&app.door().await)).await.json["role"],
        "staff"
    );
    let order = paid_order(&app, &ann, VILLAGE_FETE, 1).await;
    let code = &codes(&order)[0];
    let refused = app
        .post(
            "/checkin",
            Some(&ann),
            json!({"code": code, "event_id": VILLAGE_FETE}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    let list = app
        .get(&format!("/events/{VILLAGE_FETE}/checkins"), Some(&ann))
        .await;
    assert_eq!(list.code(), ErrorCode::Forbidden);
    let anonymous = app
        .post(
            "/checkin",
            None,
            json!({"code": code, "event_id": VILLAGE_FETE}),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // Nothing was checked in.
    let door = app.door().await;
    assert_eq!(
        check_in(&app, &door, code, VILLAGE_FETE).await["outcome"],
        "checked_in"
    );
    let unknown_event = app
        .post(
            "/checkin",
            Some(&door),
            json!({"code": code, "event_id": 999}),
        )
        .await;
    assert_eq!(unknown_event.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn offline_scans_upload_in_order_at_the_time_they_were_made() {
    let app = TestApp::start().await;
    let (ann, door) = (app.ann().await, app.door().await);
    let order = paid_order(&app, &ann, VILLAGE_FETE, 2).await;
    let [first, second] = <[String; 2]>::try_from(codes(&order)).unwrap();
    let earlier = "2026-01-01T19:42:00Z";
    let answer = app
        .post(
            "/checkin/batch",
            Some(&door),
            json!({"scans": [
                {"code": first, "event_id": VILLAGE_FETE, "scanned_at": earlier},
                {"code": first, "event_id": VILLAGE_FETE, "scanned_at": earlier},
                {"code": second, "event_id": VILLAGE_FETE, "scanned_at": "2999-01-01T00:00:00Z"},
                {"code": "NOPE-NOPE", "event_id": VILLAGE_FETE, "scanned_at": earlier},
            ]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let outcomes: Vec<&str> = answer.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["checked_in", "already_checked_in", "checked_in", "unknown"]
    );
    assert_eq!(
        answer.json["results"][0]["checked_in_at"],
        "2026-01-01T19:42:00Z"
    );
    let future = answer.json["results"][2]["checked_in_at"].as_str().unwrap();
    assert!(future < "2999", "never later than now: {future}");
    let again = check_in(&app, &door, &first, VILLAGE_FETE).await;
    assert_eq!(again["outcome"], "already_checked_in");
    assert_eq!(again["checked_in_at"], "2026-01-01T19:42:00Z");
}
