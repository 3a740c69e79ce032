//! The catalog applied live, over HTTP as a manager applies it: each kind of change, each
//! refusal, passwords, and buyers buying while it changes.

use reqwest::StatusCode;
use serde_json::{Value, json};
use storefront_contract::ErrorCode;

use crate::common::*;

/// The test catalog with `edits` made to its text, each `(from, to)` found exactly once.
fn edited(edits: &[(&str, &str)]) -> String {
    let mut text = TEST_CATALOG.to_owned();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "{from:?} is in the catalog once"
        );
        text = text.replace(from, to);
    }
    text
}

/// `(kind, key, change)` of each change an answer lists.
fn changes(answer: &Answer) -> Vec<(String, String, String)> {
    answer.json["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changes in {}", answer.text))
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["key"].as_str().unwrap().to_owned(),
                c["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn has(changes: &[(String, String, String)], kind: &str, key: &str, change: &str) -> bool {
    changes
        .iter()
        .any(|(k, ke, c)| k == kind && ke == key && c == change)
}

fn listed_names(events: &Value) -> Vec<String> {
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

const NEW_SHOW: &str = r#"
[[events]]
slug = "new-show"
calendar = "barn"
name = "New Show"
starts_at = "+7d 20:00"
ticket_price = "6.00"
"#;

#[tokio::test]
async fn only_managers_change_the_catalog() {
    let app = TestApp::start().await;
    let anonymous = app.post_catalog(None, TEST_CATALOG, false).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    for token in [
        app.ann().await,
        app.door().await,
        app.login("box@example.com", "box-pass").await,
    ] {
        let refused = app.post_catalog(Some(&token), TEST_CATALOG, false).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        assert_eq!(refused.code(), ErrorCode::Forbidden);
    }
    let manager = app.manager().await;
    let binary = Answer::of(
        app.client
            .post(app.url("/admin/catalog"))
            .bearer_auth(&manager)
            .body(vec![0xff_u8, 0xfe, 0x00]),
    )
    .await;
    assert_eq!(binary.status, StatusCode::BAD_REQUEST);
    assert_eq!(binary.code(), ErrorCode::BadRequest, "in the error shape");
    let same = app.post_catalog(Some(&manager), TEST_CATALOG, false).await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);
    assert_eq!(same.json["applied"], false);
    assert_eq!(same.json["changes"], json!([]));
    // Allowed, but said: an event that is over.
    assert_eq!(
        same.json["warnings"],
        json!(["events[6] \"Long Ago\": it is over: it is not listed"])
    );
    // Refused: a confirmed event that could never be listed.
    let unpriced = TEST_CATALOG.replace(
        "starts_at = \"+6d 18:00\"\nstate = \"provisional\"",
        "starts_at = \"+6d 18:00\"",
    );
    assert_ne!(unpriced, TEST_CATALOG);
    let refused = app.post_catalog(Some(&manager), &unpriced, false).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(
        refused
            .text
            .contains("events[7] \\\"Free Talk\\\": neither a ticket_price nor ticket types"),
        "{}",
        refused.text
    );
}

#[tokio::test]
async fn a_catalog_adds_changes_and_retires_while_sold_tickets_stay_valid() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    let bob = app.bob().await;
    // Ann pays for the fete; then puts a Standard and a Concession for the duo, and a
    // voucher, in her cart.
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let (paid, url) = app.checkout_ok(&ann, None).await;
    app.press(&url, "pay").await;
    let paid_order = app.order(&ann, paid, 10).await;
    assert_eq!(paid_order["status"], "paid");
    let fete_code = paid_order["tickets"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    app.buy(&ann, WREN_DUO, 1, Some(STANDARD)).await;
    app.buy(&ann, WREN_DUO, 1, Some(CONCESSION)).await;
    let voucher = app
        .post(
            "/cart/products",
            Some(&ann),
            json!({"product_id": 3, "quantity": 1}),
        )
        .await;
    assert_eq!(voucher.status, StatusCode::CREATED, "{}", voucher.text);

    let catalog = edited(&[
        // A new show.
        (
            "[[products]]  # id 1",
            &format!("{NEW_SHOW}\n[[products]]  # id 1"),
        ),
        // A higher price, and a ticket type taken off sale.
        (
            "name = \"Standard\"\ncost = \"12.00\"\n[[events.ticket_types]]\nname = \"Concession\"\ncost = \"8.00\"\n",
            "name = \"Standard\"\ncost = \"14.00\"\n",
        ),
        // Last week's show, gone from the file.
        (
            "[[events]]  # id 3\nslug = \"village-fete\"\ncalendar = \"village\"\nname = \"Village Fete\"\nstarts_at = \"+4d 12:00\"\nticket_price = \"3.00\"\nmax_per_order = 100\n",
            "",
        ),
        // A product, a user and a reader gone; a venue renamed.
        (
            "[[products]]  # id 3\nslug = \"voucher\"\ntitle = \"Gift voucher\"\nprice = \"20.00\"\n",
            "",
        ),
        (
            "[[users]]\nemail = \"bob@example.com\"\npassword = \"bob-pass\"\nname = \"Bob\"\n",
            "",
        ),
        (
            "[[readers]]\nname = \"abbey-desk\"\nid = \"rdr_abbey\"\npage = \"abbey\"\n",
            "",
        ),
        (
            "title = \"The Old Granary\"",
            "title = \"The Old Granary Arts Centre\"",
        ),
        // Bob's seeded ticket refers to him: the seed section goes too.
        (
            "[[tickets]]\nevent = \"full-house\"\nuser = \"bob@example.com\"\nquantity = 1\n",
            "",
        ),
    ]);
    let manager = app.manager().await;

    // A dry run says everything and changes nothing.
    let dry = app.post_catalog(Some(&manager), &catalog, true).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    assert_eq!(dry.json["applied"], false);
    assert!(has(&changes(&dry), "event", "new-show", "added"));
    assert!(!listed_names(&app.get("/events", None).await.json).contains(&"New Show".to_owned()));

    let applied = app.post_catalog(Some(&manager), &catalog, false).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    assert_eq!(applied.json["applied"], true);
    let changes = changes(&applied);
    for (kind, key, change) in [
        ("event", "new-show", "added"),
        ("ticket_type", "wren-duo/Standard", "changed"),
        ("ticket_type", "wren-duo/Concession", "retired"),
        ("event", "village-fete", "retired"),
        ("product", "voucher", "retired"),
        ("user", "bob@example.com", "retired"),
        ("reader", "abbey-desk", "retired"),
        ("page", "granary", "changed"),
    ] {
        assert!(
            has(&changes, kind, key, change),
            "{kind} {key} {change}: {changes:?}"
        );
    }
    assert_eq!(changes.len(), 8, "{changes:?}");
    let standard = applied.json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "wren-duo/Standard")
        .unwrap();
    assert_eq!(standard["detail"], "cost 12.00 → 14.00");

    // The listing and the event follow at once.
    let names = listed_names(&app.get("/events", None).await.json);
    assert!(names.contains(&"New Show".to_owned()), "{names:?}");
    assert!(!names.contains(&"Village Fete".to_owned()), "{names:?}");
    assert_eq!(
        app.get(&format!("/events/{VILLAGE_FETE}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let no_sale = app
        .post(
            &format!("/events/{VILLAGE_FETE}/tickets"),
            Some(&ann),
            json!({"quantity": 1}),
        )
        .await;
    assert_eq!(no_sale.status, StatusCode::NOT_FOUND);
    let duo = app.event(WREN_DUO, None).await;
    assert_eq!(
        duo["ticket_types"],
        json!([{"id": STANDARD, "name": "Standard", "cost": "14.00"}])
    );
    assert_eq!(duo["price_from"], "14.00");
    assert_eq!(duo["page"]["title"], "The Old Granary Arts Centre");
    // So does buying, a moment after Ann bought a Concession: that type is off sale.
    let retired = app
        .post(
            &format!("/events/{WREN_DUO}/tickets"),
            Some(&ann),
            json!({"quantity": 1, "ticket_type_id": CONCESSION}),
        )
        .await;
    assert_eq!(
        retired.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        retired.text
    );
    assert_eq!(retired.json["error"]["field"], "ticket_type_id");

    // The cart: the new price with the old beside it; what is off sale is gone.
    let cart = app.cart(&ann).await;
    let tickets: Vec<&Value> = cart["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tickets"].as_array().unwrap())
        .collect();
    assert_eq!(tickets.len(), 1, "{cart}");
    assert_eq!(tickets[0]["cost"], "14.00");
    assert_eq!(tickets[0]["previous_cost"], "12.00");
    assert_eq!(cart["summary"]["count"], 0, "the voucher line is gone");
    let products = app.get("/products", Some(&ann)).await.json;
    assert!(
        !products["products"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["slug"] == "voucher")
    );
    let withdrawn = app
        .post(
            "/cart/products",
            Some(&ann),
            json!({"product_id": 3, "quantity": 1}),
        )
        .await;
    assert_eq!(
        withdrawn.status,
        StatusCode::NOT_FOUND,
        "{}",
        withdrawn.text
    );

    // What was sold stays: Ann's paid order, its ticket, and the door lets it in.
    let order = app.order(&ann, paid, 0).await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["tickets"][0]["state"], "confirmed");
    let scan = app
        .post(
            "/checkin",
            Some(&app.door().await),
            json!({"code": fete_code, "event_id": VILLAGE_FETE}),
        )
        .await;
    assert_eq!(scan.json["outcome"], "checked_in", "{}", scan.text);

    // Bob is signed out with the reason, and cannot sign in again.
    let signed_out = app.get("/cart", Some(&bob)).await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);
    assert!(
        signed_out.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disabled"),
        "{}",
        signed_out.text
    );
    let login = app
        .post(
            "/auth/login",
            None,
            json!({"email": "bob@example.com", "password": "bob-pass"}),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    assert!(login.text.contains("disabled"), "{}", login.text);

    // Written down: who, from where, what.
    let (user_id, address, action, detail): (i64, String, String, String) = sqlx::query_as(
        "SELECT user_id, address, action, detail FROM audit_log ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
    .await
    .unwrap();
    assert_eq!(address, "127.0.0.1");
    assert_eq!(action, "catalog.apply");
    assert!(detail.contains("event new-show"), "{detail}");
    let me = app.get("/auth/me", Some(&manager)).await;
    assert_eq!(user_id, me.json["id"].as_i64().unwrap());

    // The same file again changes nothing.
    let again = app.post_catalog(Some(&manager), &catalog, false).await;
    assert_eq!(again.json["applied"], false);
    assert_eq!(again.json["changes"], json!([]));
}

#[tokio::test]
async fn a_catalog_that_would_change_what_was_sold_is_refused_whole_with_every_reason() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, WREN_DUO, 2, Some(STANDARD)).await;
    let (order, url) = app.checkout_ok(&ann, None).await;
    app.press(&url, "pay").await;
    assert_eq!(app.order(&ann, order, 10).await["status"], "paid");
    let catalog = edited(&[
        // Two Standard tickets are sold: the type cannot go, nor be renamed.
        ("name = \"Standard\"", "name = \"Regular\""),
        // Bob holds Full House's one place.
        (
            "name = \"Full House\"\nstarts_at = \"+1d 20:00\"\nticket_price = \"5.00\"\nticket_count = 1",
            "name = \"Full House\"\nstarts_at = \"+1d 20:00\"\nticket_price = \"5.00\"\nticket_count = 0",
        ),
        // And the new show, which alone would be fine.
        (
            "[[products]]  # id 1",
            &format!("{NEW_SHOW}\n[[products]]  # id 1"),
        ),
    ]);
    let catalog = format!("currency = \"EUR\"\n{catalog}");
    let manager = app.manager().await;
    let before = app.get("/events", None).await.json;
    for dry_run in [true, false] {
        let refused = app.post_catalog(Some(&manager), &catalog, dry_run).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.text
        );
        assert_eq!(refused.code(), ErrorCode::Validation);
        assert_eq!(refused.field(), "catalog");
        let message = refused.json["error"]["message"].as_str().unwrap();
        let reasons: Vec<&str> = message.lines().collect();
        assert_eq!(
            reasons,
            [
                "currency: \"EUR\" cannot replace \"GBP\" while orders exist",
                "events[0] \"Wren Duo\": ticket type \"Standard\" has 2 tickets sold and cannot be removed or renamed",
                "events[3] \"Full House\": ticket_count 0 is below the 1 ticket sold",
            ],
            "{message}"
        );
    }
    assert_eq!(
        app.get("/events", None).await.json,
        before,
        "nothing changed"
    );

    // A file with a reference error is refused as at start, naming the entry.
    let broken = TEST_CATALOG.replace("calendar = \"village\"", "calendar = \"meadow\"");
    let refused = app.post_catalog(Some(&manager), &broken, false).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.json["error"]["message"],
        "events[2] \"Village Fete\": unknown calendar \"meadow\""
    );
}

#[tokio::test]
async fn a_catalog_sets_a_password_only_when_the_file_changes_it() {
    let app = TestApp::start().await;
    let manager = app.manager().await;
    let old_session = app.ann().await;
    let changed = edited(&[("password = \"ann-pass\"", "password = \"ann-new-pass\"")]);
    let applied = app.post_catalog(Some(&manager), &changed, false).await;
    assert_eq!(
        changes(&applied),
        [(
            "user".to_owned(),
            "ann@example.com".to_owned(),
            "changed".to_owned()
        )]
    );
    assert_eq!(
        app.get("/cart", Some(&old_session)).await.status,
        StatusCode::UNAUTHORIZED,
        "a new password ends the old sessions"
    );
    app.login("ann@example.com", "ann-new-pass").await;

    // Ann sets a password of her own (as a reset does); the unchanged file leaves it.
    sqlx::query(
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE email = 'bob@example.com') \
         WHERE email = 'ann@example.com'",
    )
    .execute(&mut *app.server.state().store().connection().await.unwrap())
    .await
    .unwrap();
    let again = app.post_catalog(Some(&manager), &changed, false).await;
    assert_eq!(again.json["changes"], json!([]));
    app.login("ann@example.com", "bob-pass").await;
}

#[tokio::test]
async fn buyers_buy_while_the_price_changes_and_nothing_fails() {
    let app = TestApp::start().await;
    let manager = app.manager().await;
    let buyers = [app.ann().await, app.bob().await];
    let raised = edited(&[("cost = \"12.00\"", "cost = \"15.00\"")]);
    let path = format!("/events/{WREN_DUO}/tickets");
    let buys = (0..32).map(|i| {
        app.post(
            &path,
            Some(&buyers[i % 2]),
            json!({"quantity": 1, "ticket_type_id": STANDARD}),
        )
    });
    let apply = app.post_catalog(Some(&manager), &raised, false);
    let (answers, applied) = tokio::join!(futures::future::join_all(buys), apply);
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    let mut refused = 0;
    for answer in answers {
        match answer.status {
            StatusCode::CREATED => {}
            // The per-order limit (4), not the catalog.
            StatusCode::UNPROCESSABLE_ENTITY => refused += 1,
            other => panic!("{other}: {}", answer.text),
        }
    }
    assert_eq!(
        refused,
        32 - 8,
        "each buyer's four fit, the rest are over the limit"
    );
    // Every pending ticket costs the new price, whenever it was bought.
    for buyer in &buyers {
        let cart = app.cart(buyer).await;
        assert_eq!(cart["summary"]["ticket_count"], 4);
        assert_eq!(cart["summary"]["ticket_total"], "60.00", "{cart}");
    }
}
