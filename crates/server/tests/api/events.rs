use reqwest::StatusCode;
use serde_json::Value;
use storefront_contract::ErrorCode;

use crate::common::*;

fn names(list: &Value) -> Vec<String> {
    list["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn only_listed_events_by_start_time() {
    let app = TestApp::start().await;
    let list = app.get("/events", None).await;
    assert_eq!(list.status, StatusCode::OK);
    // Provisional, cancelled, ended and unticketed events are not listed.
    assert_eq!(
        names(&list.json),
        ["Full House", "Wren Duo", "Quiet Night", "Village Fete"]
    );
    assert_eq!(list.json["next_cursor"], Value::Null);
}

#[tokio::test]
async fn summaries_carry_price_and_availability() {
    let app = TestApp::start().await;
    let list = app.get("/events", None).await.json;
    let by_name = |name: &str| {
        list["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()
            .clone()
    };
    let wren = by_name("Wren Duo");
    assert_eq!(wren["price_from"], "8.00");
    assert_eq!(wren["currency"], "GBP");
    assert_eq!(wren["capacity"], 10);
    assert_eq!(wren["sold"], 0);
    assert_eq!(wren["available"], 10);
    assert_eq!(wren["sold_out"], false);
    assert_eq!(wren["page"]["slug"], "granary");
    assert_eq!(wren["calendar"]["name"], "Barn Stage");

    let full = by_name("Full House");
    assert_eq!(full["sold"], 1);
    assert_eq!(full["available"], 0);
    assert_eq!(full["sold_out"], true);

    let fete = by_name("Village Fete");
    assert_eq!(fete["capacity"], Value::Null);
    assert_eq!(fete["available"], Value::Null);
    assert_eq!(fete["sold_out"], false);
    assert_eq!(fete["page"], Value::Null);
    assert_eq!(fete["price_from"], "3.00");
}

#[tokio::test]
async fn text_filter_matches_event_calendar_or_page_in_any_case() {
    let app = TestApp::start().await;
    let find = |q: &str| {
        let app = &app;
        let q = q.to_owned();
        async move {
            let answer = app
                .client
                .get(app.url("/events"))
                .query(&[("q", q.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::OK);
            names(&answer.json().await.unwrap())
        }
    };
    assert_eq!(find("wren").await, ["Wren Duo"]);
    assert_eq!(find("CLOISTER").await, ["Quiet Night"]);
    assert_eq!(find("old granary").await, ["Full House", "Wren Duo"]);
    assert!(find("100%").await.is_empty());
    assert!(find("_").await.is_empty());
    assert!(find("'; DROP TABLE events; --").await.is_empty());
    assert_eq!(find("").await.len(), 4);
    assert_eq!(
        names(&app.get("/events?page=abbey", None).await.json),
        ["Quiet Night"]
    );
    assert!(names(&app.get("/events?page=nowhere", None).await.json).is_empty());
}

#[tokio::test]
async fn pages_of_results_follow_the_cursor() {
    let app = TestApp::start().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/events?limit=1&cursor={c}"),
            None => "/events?limit=1".to_owned(),
        };
        let page = app.get(&path, None).await.json;
        assert_eq!(page["events"].as_array().unwrap().len(), 1);
        seen.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["Full House", "Wren Duo", "Quiet Night", "Village Fete"]
    );
}

#[tokio::test]
async fn a_cursor_is_stable_when_events_are_added_before_it() {
    let app = TestApp::start().await;
    let first = app.get("/events?limit=2", None).await.json;
    assert_eq!(names(&first), ["Full House", "Wren Duo"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    // A new event that sorts first, and one that sorts last, appear meanwhile.
    let store = app.server.state().store();
    for (slug, days) in [("early-bird", 0), ("late-comer", 30)] {
        let starts = chrono::Utc::now().timestamp() + 3600 + days * 86_400;
        sqlx::query(
            "INSERT INTO events (slug, calendar_id, name, starts_at, state, ticket_price, max_per_order) \
             VALUES ($1, 1, $1, $2, 'confirmed', 100, 10)",
        )
        .bind(slug)
        .bind(starts)
        .execute(&mut *store.connection().await.unwrap())
        .await
        .unwrap();
    }
    let rest = app
        .get(&format!("/events?limit=50&cursor={cursor}"), None)
        .await
        .json;
    assert_eq!(names(&rest), ["Quiet Night", "Village Fete", "late-comer"]);
}

#[tokio::test]
async fn bad_listing_parameters() {
    let app = TestApp::start().await;
    for limit in ["0", "201", "-3"] {
        let answer = app.get(&format!("/events?limit={limit}"), None).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{limit}");
        assert_eq!(answer.code(), ErrorCode::Validation);
        assert_eq!(answer.field(), "limit");
    }
    assert_eq!(
        app.get("/events?limit=200", None).await.status,
        StatusCode::OK
    );
    let typed = app.get("/events?limit=many", None).await;
    assert_eq!(typed.status, StatusCode::BAD_REQUEST);
    assert_eq!(typed.code(), ErrorCode::BadRequest);
    // An integer as the document's schema counts them: with no fraction, it is one.
    let integral = app.get("/events?limit=2.0", None).await;
    assert_eq!(integral.status, StatusCode::OK);
    assert_eq!(names(&integral.json), ["Full House", "Wren Duo"]);
    assert_eq!(
        app.get("/events?limit=2.5", None).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.get("/events/1.0", None).await.status, StatusCode::OK);
    let cursor = app.get("/events?cursor=bogus", None).await;
    assert_eq!(cursor.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(cursor.field(), "cursor");
}

#[tokio::test]
async fn event_detail() {
    let app = TestApp::start().await;
    let wren = app.event(WREN_DUO, None).await;
    assert_eq!(wren["name"], "Wren Duo");
    assert_eq!(wren["max_per_order"], 4);
    assert_eq!(wren["in_my_cart"], 0);
    assert_eq!(wren["ticket_price"], Value::Null);
    let types: Vec<(i64, String, String)> = wren["ticket_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().unwrap(),
                t["name"].as_str().unwrap().to_owned(),
                t["cost"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        types,
        [
            (CONCESSION, "Concession".to_owned(), "8.00".to_owned()),
            (STANDARD, "Standard".to_owned(), "12.00".to_owned())
        ]
    );
    let quiet = app.event(QUIET_NIGHT, None).await;
    assert_eq!(quiet["ticket_price"], "9.50");
    assert_eq!(quiet["ticket_types"], serde_json::json!([]));
    assert_eq!(quiet["max_per_order"], 10);
}

#[tokio::test]
async fn in_my_cart_counts_only_the_callers_pending_tickets() {
    let app = TestApp::start().await;
    let (ann, bob) = (app.ann().await, app.bob().await);
    app.buy(&ann, WREN_DUO, 3, Some(STANDARD)).await;
    app.buy(&bob, WREN_DUO, 1, Some(CONCESSION)).await;
    assert_eq!(app.event(WREN_DUO, Some(&ann)).await["in_my_cart"], 3);
    assert_eq!(app.event(WREN_DUO, Some(&bob)).await["in_my_cart"], 1);
    assert_eq!(app.event(WREN_DUO, None).await["in_my_cart"], 0);
    // A dead token on a public page is just anonymous.
    assert_eq!(app.event(WREN_DUO, Some("stale")).await["in_my_cart"], 0);
}

#[tokio::test]
async fn unlisted_and_unknown_events_are_not_found() {
    let app = TestApp::start().await;
    for id in [MAYBE_GIG, 6, 7, FREE_TALK, 999] {
        let answer = app.get(&format!("/events/{id}"), None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(answer.code(), ErrorCode::NotFound);
    }
    let typed = app.get("/events/abc", None).await;
    assert_eq!(typed.status, StatusCode::BAD_REQUEST);
    assert_eq!(typed.code(), ErrorCode::BadRequest);
}
