//! The box office over HTTP: managers only; sales kept as counts that agree with the tickets;
//! any order found and opened with its history; refunds of chosen tickets through SumUp,
//! exactly once however often asked; guest lists; the export and the audit log.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_contract::ErrorCode;

use crate::common::*;

/// Ann (or whoever `token` is) empties the cart, buys `quantity` Standard tickets to the Wren Duo and pays on the hosted page.
async fn paid_order(app: &TestApp, token: &str, quantity: i64) -> Value {
    let cleared = app.post("/cart/clear", Some(token), json!({})).await;
    assert!(cleared.status.is_success(), "{}", cleared.text);
    app.buy(token, WREN_DUO, quantity, Some(STANDARD)).await;
    let (order, url) = app.checkout_ok(token, None).await;
    let (status, _) = app.press(&url, "pay").await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let order = app.order(token, order, 10).await;
    assert_eq!(order["status"], "paid", "{order}");
    order
}

/// The manager puts `quantity` guests called `name` on the event's guest list.
async fn guest_list(app: &TestApp, manager: &str, event: i64, quantity: i64, name: &str) -> Answer {
    app.post(
        "/admin/comps",
        Some(manager),
        json!({"event_id": event, "quantity": quantity, "name": name}),
    )
    .await
}

async fn sales_of(app: &TestApp, manager: &str, event: i64) -> Value {
    let answer = app.get("/admin/events", Some(manager)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["id"] == event)
        .cloned()
        .unwrap_or_else(|| panic!("event {event} is not listed: {}", answer.text))
}

async fn counts_agree(app: &TestApp) {
    let differences = app
        .server
        .state()
        .store()
        .recount_differences()
        .await
        .unwrap();
    assert!(differences.is_empty(), "{differences:#?}");
}

#[tokio::test]
async fn only_managers_reach_the_box_office() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let door = app.door().await;
    let kiosk = app.login("box@example.com", "box-pass").await;
    let calls: [(Method, &str, Option<Value>); 8] = [
        (Method::GET, "/admin/events", None),
        (Method::GET, "/admin/events/1", None),
        (Method::GET, "/admin/orders?q=ann", None),
        (Method::GET, "/admin/orders/1", None),
        (Method::GET, "/admin/orders.csv", None),
        (Method::GET, "/admin/audit", None),
        (
            Method::POST,
            "/admin/orders/1/refund",
            Some(json!({"tickets": null})),
        ),
        (
            Method::POST,
            "/admin/comps",
            Some(json!({"event_id": WREN_DUO, "quantity": 1, "name": "Guest"})),
        ),
    ];
    for (method, path, body) in calls {
        let answer = app
            .request(method.clone(), path, None, body.clone(), &[])
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        for token in [&ann, &door, &kiosk] {
            let answer = app
                .request(method.clone(), path, Some(token), body.clone(), &[])
                .await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}");
            assert_eq!(answer.code(), ErrorCode::Forbidden);
        }
    }
}

#[tokio::test]
async fn an_order_is_found_by_number_code_and_buyer() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let max = app.manager().await;
    let order = paid_order(&app, &ann, 2).await;
    let id = order["id"].as_i64().unwrap();
    let code = order["tickets"][0]["code"].as_str().unwrap().to_owned();
    let typed = code.to_lowercase().replace('-', " ");
    for q in [
        id.to_string(),
        format!("#{id}"),
        typed,
        "ANN@EXAMPLE".to_owned(),
        "nn@ex".to_owned(),
        "ann".to_owned(),
    ] {
        let answer = app
            .get(&format!("/admin/orders?q={}", urlencode(&q)), Some(&max))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let found = answer.json["orders"].as_array().unwrap();
        assert!(
            found.iter().any(|o| o["id"] == id),
            "{q:?} did not find order {id}: {}",
            answer.text
        );
        let hit = found.iter().find(|o| o["id"] == id).unwrap();
        assert_eq!(
            hit["buyer"],
            json!({"email": "ann@example.com", "name": "Ann"})
        );
    }
    let none = app.get("/admin/orders?q=nobody-at-all", Some(&max)).await;
    assert_eq!(none.json["orders"], json!([]));
    let filtered = app
        .get(&format!("/admin/orders?event_id={QUIET_NIGHT}"), Some(&max))
        .await;
    assert!(
        !filtered.json["orders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == id)
    );
    for status in ["lost", ""] {
        let bad = app
            .get(&format!("/admin/orders?status={status}"), Some(&max))
            .await;
        assert_eq!(
            bad.status,
            StatusCode::BAD_REQUEST,
            "{status:?}: {}",
            bad.text
        );
    }
    let detail = app.get(&format!("/admin/orders/{id}"), Some(&max)).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    let history: Vec<&str> = detail.json["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        ["Ordered: £24.00", "Paid £24.00 on SumUp's payment page"]
    );
    let missing = app.get("/admin/orders/999999", Some(&max)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_refunded_ticket_is_refused_at_the_door_and_its_place_sold_again() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let max = app.manager().await;
    let door = app.door().await;
    let order = paid_order(&app, &ann, 2).await;
    let id = order["id"].as_i64().unwrap();
    let ticket = order["tickets"][0]["id"].as_i64().unwrap();
    let code = order["tickets"][0]["code"].as_str().unwrap().to_owned();
    let before = sales_of(&app, &max, WREN_DUO).await;
    assert_eq!(before["sold"], 2);
    assert_eq!(before["revenue"], "24.00");
    let available = app.event(WREN_DUO, None).await["available"]
        .as_i64()
        .unwrap();

    let answer = app
        .post(
            &format!("/admin/orders/{id}/refund"),
            Some(&max),
            json!({"tickets": [ticket], "reason": "Could not come"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json["tickets"][0]["state"], "refunded");
    assert_eq!(answer.json["tickets"][1]["state"], "confirmed");
    assert_eq!(answer.json["refunds"][0]["reason"], "box_office");
    assert_eq!(answer.json["refunds"][0]["amount"], "12.00");
    assert_eq!(answer.json["refunds"][0]["status"], "refunded");
    let history = answer.json["history"].to_string();
    assert!(history.contains("Refund of £12.00 asked"), "{history}");
    assert!(history.contains("Could not come"), "{history}");
    assert!(
        history.contains("£12.00 refunded through SumUp"),
        "{history}"
    );

    // The buyer sees it; the door refuses it; its place is on sale again.
    let seen = app.order(&ann, id, 0).await;
    assert!(
        seen["notice"].as_str().unwrap().contains("Refunded £12.00"),
        "{seen}"
    );
    let scan = app
        .post(
            "/checkin",
            Some(&door),
            json!({"code": code, "event_id": WREN_DUO}),
        )
        .await;
    assert_eq!(scan.json["outcome"], "refunded", "{}", scan.text);
    let list = app
        .get(&format!("/events/{WREN_DUO}/checkins"), Some(&door))
        .await;
    assert!(
        list.json["codes"]
            .as_array()
            .unwrap()
            .contains(&json!({"code": code, "state": "refunded"}))
    );
    assert_eq!(list.json["sold"], 1);
    assert_eq!(
        app.event(WREN_DUO, None).await["available"]
            .as_i64()
            .unwrap(),
        available + 1
    );
    let after = sales_of(&app, &max, WREN_DUO).await;
    assert_eq!(after["sold"], 1);
    assert_eq!(after["revenue"], "12.00");
    assert_eq!(after["refunded"], "12.00");
    let standard = after["by_type"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Standard")
        .unwrap();
    assert_eq!(standard["sold"], 1);
    assert_eq!(standard["revenue"], "12.00");
    let detail = app
        .get(&format!("/admin/events/{WREN_DUO}"), Some(&max))
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert_eq!(detail.json["sold"], 1);
    let days = detail.json["by_day"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{days:?}");
    assert_eq!(days[0]["sold"], 1);
    assert_eq!(days[0]["revenue"], "12.00");
    let unknown = app.get("/admin/events/999999", Some(&max)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Twice is refused; so is a ticket of another order, and an unpaid order.
    let again = app
        .post(
            &format!("/admin/orders/{id}/refund"),
            Some(&max),
            json!({"tickets": [ticket]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let stranger = app
        .post(
            &format!("/admin/orders/{id}/refund"),
            Some(&max),
            json!({"tickets": [999_999]}),
        )
        .await;
    assert_eq!(
        stranger.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        stranger.text
    );
    let bob = app.bob().await;
    app.buy(&bob, QUIET_NIGHT, 1, None).await;
    let (unpaid, _) = app.checkout_ok(&bob, None).await;
    let refused = app
        .post(
            &format!("/admin/orders/{unpaid}/refund"),
            Some(&max),
            json!({"tickets": null}),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );

    // The rest of the order: null refunds every ticket still valid.
    let rest = app
        .post(
            &format!("/admin/orders/{id}/refund"),
            Some(&max),
            json!({"tickets": null}),
        )
        .await;
    assert_eq!(rest.status, StatusCode::OK, "{}", rest.text);
    assert_eq!(rest.json["tickets"][1]["state"], "refunded");
    let none_left = app
        .post(
            &format!("/admin/orders/{id}/refund"),
            Some(&max),
            json!({"tickets": null}),
        )
        .await;
    assert_eq!(none_left.status, StatusCode::CONFLICT);

    let audit = app.get("/admin/audit", Some(&max)).await;
    let newest = &audit.json["entries"][0];
    assert_eq!(newest["action"], "order.refund");
    assert_eq!(newest["user"], "max@example.com");
    assert!(newest["address"].as_str().unwrap().starts_with("127.0.0.1"));
    counts_agree(&app).await;
}

#[tokio::test]
async fn ten_retries_of_one_refund_refund_once() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let max = app.manager().await;
    let order = paid_order(&app, &ann, 1).await;
    let id = order["id"].as_i64().unwrap();
    let path = format!("/admin/orders/{id}/refund");
    let retries = (0..10).map(|_| {
        app.request(
            Method::POST,
            &path,
            Some(&max),
            Some(json!({"tickets": null, "reason": "double booked"})),
            &[("idempotency-key", "refund-once")],
        )
    });
    let answers = futures::future::join_all(retries).await;
    let ok = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .count();
    for answer in &answers {
        assert!(
            answer.status == StatusCode::OK || answer.status == StatusCode::CONFLICT,
            "{}",
            answer.text
        );
    }
    assert!(ok >= 1);
    // Without a key, ten at once: one refunds, nine are told it is done.
    let order = paid_order(&app, &ann, 1).await;
    let second = order["id"].as_i64().unwrap();
    let path = format!("/admin/orders/{second}/refund");
    let at_once = (0..10).map(|_| app.post(&path, Some(&max), json!({"tickets": null})));
    let answers = futures::future::join_all(at_once).await;
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.status == StatusCode::OK)
            .count(),
        1
    );
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.status == StatusCode::CONFLICT)
            .count(),
        9
    );
    let store = app.server.state().store();
    for order in [id, second] {
        let (refunds, refunded): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM refunds \
             WHERE order_id = $1",
        )
        .bind(order)
        .fetch_one(&mut *store.connection().await.unwrap())
        .await
        .unwrap();
        assert_eq!((refunds, refunded), (1, 1200), "order {order}");
    }
    let at_sumup: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(refunded), 0) AS BIGINT) FROM sandbox_transactions",
    )
    .fetch_one(&mut *store.connection().await.unwrap())
    .await
    .unwrap();
    assert_eq!(at_sumup, 2400, "SumUp refunded each order once");
}

#[tokio::test]
async fn guest_lists_are_free_counted_and_refused_past_capacity() {
    let app = TestApp::start().await;
    let max = app.manager().await;
    let door = app.door().await;
    let answer = app
        .post(
            "/admin/comps",
            Some(&max),
            json!({"event_id": WREN_DUO, "quantity": 2, "name": "The band's mum",
                   "email": "mum@example.com"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    let comp = &answer.json;
    assert_eq!(comp["status"], "paid");
    assert_eq!(comp["total"], "0.00");
    assert_eq!(comp["payment_method"], "comp");
    assert_eq!(
        comp["buyer"],
        json!({"email": "mum@example.com", "name": "The band's mum"})
    );
    assert_eq!(comp["tickets"][0]["state"], "confirmed");
    assert_eq!(comp["tickets"][0]["cost"], "0.00");
    assert_eq!(
        comp["tickets"][0]["ticket_type_name"], "Concession",
        "the cheapest type"
    );
    let page = app
        .client
        .get(comp["tickets_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let code = comp["tickets"][1]["code"].as_str().unwrap();
    let scan = app
        .post(
            "/checkin",
            Some(&door),
            json!({"code": code, "event_id": WREN_DUO}),
        )
        .await;
    assert_eq!(scan.json["outcome"], "checked_in");
    let sales = sales_of(&app, &max, WREN_DUO).await;
    assert_eq!(sales["sold"], 2);
    assert_eq!(sales["checked_in"], 1);
    assert_eq!(sales["revenue"], "0.00");

    let past = guest_list(&app, &max, WREN_DUO, 9, "Crowd").await;
    assert_eq!(past.status, StatusCode::CONFLICT, "{}", past.text);
    assert!(past.text.contains("Only 8"), "{}", past.text);
    for (body, field) in [
        (
            json!({"event_id": WREN_DUO, "quantity": 0, "name": "X"}),
            "quantity",
        ),
        (
            json!({"event_id": WREN_DUO, "quantity": 1, "name": "  "}),
            "name",
        ),
        (
            json!({"event_id": WREN_DUO, "quantity": 1, "name": "X", "email": "not an address"}),
            "email",
        ),
        (
            json!({"event_id": WREN_DUO, "quantity": 1, "name": "X", "ticket_type_id": 999}),
            "ticket_type_id",
        ),
    ] {
        let refused = app.post("/admin/comps", Some(&max), body).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert_eq!(refused.field(), field);
    }
    let nowhere = guest_list(&app, &max, 999, 1, "X").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    // The guest is found by a part of their name (a quote in it) or e-mail.
    let id = comp["id"].as_i64().unwrap();
    for q in ["band's M", "MUM@example", "\"band"] {
        let found = app
            .get(&format!("/admin/orders?q={}", urlencode(q)), Some(&max))
            .await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.text);
        let ids: Vec<i64> = found.json["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.contains(&id), q != "\"band", "{q:?}: {}", found.text);
    }
    // A guest is refunded nothing, and the place comes back.
    let undone = app
        .post(
            &format!("/admin/orders/{id}/refund"),
            Some(&max),
            json!({"tickets": null}),
        )
        .await;
    assert_eq!(undone.status, StatusCode::OK, "{}", undone.text);
    assert_eq!(sales_of(&app, &max, WREN_DUO).await["sold"], 0);
    counts_agree(&app).await;
}

/// The sum of a CSV column of amounts, in minor units.
fn csv_sum(csv: &str, column: &str) -> i64 {
    let mut lines = csv.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == column).unwrap();
    lines
        .map(|line| {
            let field = line.split(',').nth(at).unwrap();
            let (units, cents) = field.split_once('.').unwrap();
            units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
        })
        .sum()
}

fn minor(amount: &Value) -> i64 {
    let (units, cents) = amount.as_str().unwrap().split_once('.').unwrap();
    units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

#[tokio::test]
async fn the_numbers_add_up_after_a_mixed_run() {
    // Without the catalog's seeded ticket: every ticket sold here is paid through SumUp.
    let seeded = TEST_CATALOG.find("[[tickets]]").unwrap();
    let app = TestApp::with_config(storefront_server::ServerConfig {
        catalog: Some(TEST_CATALOG[..seeded].to_owned()),
        ..TestApp::config().await
    })
    .await;
    let ann = app.ann().await;
    let bob = app.bob().await;
    let max = app.manager().await;
    app.post("/cart/clear", Some(&ann), json!({})).await;
    app.post("/cart/clear", Some(&bob), json!({})).await;
    // Paid: Ann, two Wren Duo tickets.
    let paid = paid_order(&app, &ann, 2).await;
    // Declined, then cancelled: Bob.
    app.buy(&bob, WREN_DUO, 1, Some(CONCESSION)).await;
    let (declined, url) = app.checkout_ok(&bob, None).await;
    app.press(&url, "decline").await;
    app.until_stored_status(declined, "failed").await;
    let cancel = app
        .post(&format!("/orders/{declined}/cancel"), Some(&bob), json!({}))
        .await;
    assert!(cancel.status.is_success(), "{}", cancel.text);
    // Oversold: both buy the last Quiet Night places; the later payer is refunded.
    app.post("/cart/clear", Some(&bob), json!({})).await;
    app.buy(&ann, QUIET_NIGHT, 2, None).await;
    app.buy(&bob, QUIET_NIGHT, 1, None).await;
    let (first, first_url) = app.checkout_ok(&ann, None).await;
    let (later, later_url) = app.checkout_ok(&bob, None).await;
    app.press(&first_url, "pay").await;
    app.until_stored_status(first, "paid").await;
    app.press(&later_url, "pay").await;
    app.until_stored_status(later, "paid").await;
    app.until_refunded(later).await;
    // The box office refunds one of Ann's Wren Duo tickets, and comps two.
    let id = paid["id"].as_i64().unwrap();
    let ticket = paid["tickets"][0]["id"].as_i64().unwrap();
    let refund = app
        .post(
            &format!("/admin/orders/{id}/refund"),
            Some(&max),
            json!({"tickets": [ticket]}),
        )
        .await;
    assert_eq!(refund.status, StatusCode::OK, "{}", refund.text);
    let comp = guest_list(&app, &max, QUIET_NIGHT, 1, "Guest").await;
    assert_eq!(
        comp.status,
        StatusCode::CONFLICT,
        "Quiet Night is full: {}",
        comp.text
    );
    let comp = guest_list(&app, &max, WREN_DUO, 2, "Guest").await;
    assert_eq!(comp.status, StatusCode::CREATED, "{}", comp.text);

    let sales = app.get("/admin/events", Some(&max)).await.json;
    let revenue: i64 = sales["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| minor(&e["revenue"]))
        .sum();
    assert_eq!(revenue, minor(&sales["totals"]["revenue"]));
    // Wren Duo: one £12 ticket kept; Quiet Night: Ann's two at £9.50.
    assert_eq!(revenue, 1200 + 1900);
    let csv = app
        .client
        .get(app.url("/admin/orders.csv"))
        .bearer_auth(&max)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert_eq!(csv_sum(&csv, "price") - csv_sum(&csv, "refunded"), revenue);
    // SumUp took the paid totals and gave back the refunds.
    let store = app.server.state().store();
    let (taken, given): (i64, i64) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT), \
                CAST(COALESCE(SUM(refunded), 0) AS BIGINT) \
         FROM sandbox_transactions WHERE status IN ('SUCCESSFUL', 'REFUNDED')",
    )
    .fetch_one(&mut *store.connection().await.unwrap())
    .await
    .unwrap();
    assert_eq!(
        taken - given,
        revenue,
        "SumUp: taken {taken}, given back {given}"
    );
    counts_agree(&app).await;
}

#[tokio::test]
async fn an_events_days_add_up_to_what_it_sold() {
    // The test catalog gives Bob a Full House ticket with no order; the Wren Duo sells one
    // ticket through SumUp and two on the guest list.
    let app = TestApp::start().await;
    let max = app.manager().await;
    let ann = app.ann().await;
    paid_order(&app, &ann, 1).await;
    let comp = guest_list(&app, &max, WREN_DUO, 2, "Guest").await;
    assert_eq!(comp.status, StatusCode::CREATED, "{}", comp.text);
    for (event, sold) in [(FULL_HOUSE, 1), (WREN_DUO, 3)] {
        let detail = app.get(&format!("/admin/events/{event}"), Some(&max)).await;
        assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
        assert_eq!(detail.json["sold"], sold, "{}", detail.text);
        let days = detail.json["by_day"].as_array().unwrap();
        let day_sold: i64 = days.iter().map(|d| d["sold"].as_i64().unwrap()).sum();
        let day_revenue: i64 = days.iter().map(|d| minor(&d["revenue"])).sum();
        assert_eq!(day_sold, sold, "{}", detail.text);
        assert_eq!(
            day_revenue,
            minor(&detail.json["revenue"]),
            "{}",
            detail.text
        );
    }
}

#[tokio::test]
async fn the_box_office_hears_a_sale_within_a_second() {
    let app = TestApp::start().await;
    let max = app.manager().await;
    let ann = app.ann().await;
    let first = app.get("/admin/events", Some(&max)).await.json;
    let version = first["version"].as_i64().unwrap();
    let pending_before = first["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["id"] == VILLAGE_FETE)
        .unwrap()["pending"]
        .as_i64()
        .unwrap();
    let started = Instant::now();
    let path = format!("/admin/events?wait=20&version={version}");
    let wait = app.get(&path, Some(&max));
    let buy = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.buy(&ann, VILLAGE_FETE, 3, None).await;
        Instant::now()
    };
    let (answer, bought) = tokio::join!(wait, buy);
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(answer.json["version"].as_i64().unwrap() > version);
    assert!(
        Instant::now() - bought < Duration::from_secs(1),
        "heard {:?} after the sale",
        Instant::now() - bought
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let fete = answer.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["id"] == VILLAGE_FETE)
        .unwrap()
        .clone();
    assert_eq!(fete["pending"].as_i64().unwrap(), pending_before + 3);
    // Nothing changes: the wait ends with the same version.
    let quiet = app
        .get(
            &format!("/admin/events?wait=1&version={}", answer.json["version"]),
            Some(&max),
        )
        .await;
    assert_eq!(quiet.json["version"], answer.json["version"]);
}
