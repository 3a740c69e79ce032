use reqwest::StatusCode;
use storefront_contract::ErrorCode;
use storefront_server::ServerConfig;

use crate::common::*;

fn file_config(database_url: &str, catalog: Option<&str>) -> ServerConfig {
    ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url.to_owned(),
        catalog: catalog.map(str::to_owned),
        ..ServerConfig::default()
    }
}

#[tokio::test]
async fn a_file_database_keeps_carts_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = lasting_database(&dir).await;
    let app = TestApp::with_config(file_config(&db, Some(TEST_CATALOG))).await;
    let ann = app.ann().await;
    app.buy(&ann, WREN_DUO, 2, Some(STANDARD)).await;
    let before = app.cart(&ann).await;
    app.server.stop().await;

    // The catalog is offered again, but the database has data: nothing changes.
    let app = TestApp::with_config(file_config(&db, Some(TEST_CATALOG))).await;
    assert_eq!(
        app.cart(&ann).await,
        before,
        "the token and the cart survive"
    );
    assert_eq!(
        app.get("/events", None).await.json["events"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(app.cart(&ann).await["summary"]["ticket_count"], 2);
}

#[tokio::test]
async fn a_bad_catalog_names_the_entry_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = lasting_database(&dir).await;
    let broken = TEST_CATALOG.replace("calendar = \"village\"", "calendar = \"meadow\"");
    let err = match storefront_server::start(file_config(&db, Some(&broken))).await {
        Ok(_) => panic!("a broken catalog must not start"),
        Err(err) => err.to_string(),
    };
    assert_eq!(
        err,
        "the catalog was not applied: events[2] \"Village Fete\": unknown calendar \"meadow\""
    );
    // Started without a catalog, the same database is empty.
    let app = TestApp::with_config(file_config(&db, None)).await;
    assert_eq!(
        app.get("/events", None).await.json["events"],
        serde_json::json!([])
    );
    let login = app
        .post(
            "/auth/login",
            None,
            serde_json::json!({"email": "ann@example.com", "password": "ann-pass"}),
        )
        .await;
    assert_eq!(login.code(), ErrorCode::InvalidCredentials);
}

#[tokio::test]
async fn the_demo_catalog_loads() {
    let app = TestApp::with_config(ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: test_database().await,
        catalog: Some(storefront_server::DEMO_CATALOG.to_owned()),
        ..ServerConfig::default()
    })
    .await;
    let demo = app.login("demo@example.com", "demo").await;
    let cart = app.cart(&demo).await;
    assert_eq!(cart["summary"]["count"], 1);
    assert_eq!(cart["summary"]["calendar_count"], 1);
    let events = app.get("/events", None).await.json;
    let events = events["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["sold_out"] == true));
    assert!(events.iter().any(|e| e["available"] == 2));
    let pages: std::collections::BTreeSet<_> = events
        .iter()
        .filter_map(|e| e["page"]["slug"].as_str())
        .collect();
    assert!(pages.len() >= 2);
}

#[tokio::test]
async fn hostile_strings_round_trip_as_data() {
    let long_name = "Ω".repeat(5_000); // 10 kB
    let hostile = [
        r#"Bob's "Big" Night"#.to_owned(),
        "'); DROP TABLE events; --".to_owned(),
        "\u{1b}[31mred\u{1b}[0m \u{7}bell \u{202e}desrever\u{202c}".to_owned(),
        long_name,
    ];
    let mut catalog = String::from(
        "[[users]]\nemail = \"ann@example.com\"\npassword = \"ann-pass\"\nname = \"Ann\"\n\
         [[calendars]]\nslug = \"c\"\nname = \"C\"\n",
    );
    for (i, name) in hostile.iter().enumerate() {
        let quoted = toml_quote(name);
        catalog.push_str(&format!(
            "[[events]]\nslug = \"e{i}\"\ncalendar = \"c\"\nname = {quoted}\n\
             starts_at = \"+{}d 10:00\"\nticket_price = \"1.00\"\ndescription = {quoted}\n",
            i + 1
        ));
    }
    let app = TestApp::with_config(ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: test_database().await,
        catalog: Some(catalog),
        ..ServerConfig::default()
    })
    .await;
    let list = app.get("/events", None).await;
    assert_eq!(list.status, StatusCode::OK);
    let names: Vec<&str> = list.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        hostile.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let ann = app.ann().await;
    for id in 1..=4 {
        let detail = app.event(id, None).await;
        assert_eq!(detail["description"], detail["name"]);
        app.buy(&ann, id, 1, None).await;
    }
    let cart = app.cart(&ann).await;
    let bought: Vec<&str> = cart["groups"][0]["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["entry_name"].as_str().unwrap())
        .collect();
    assert_eq!(bought, names);
    // And as a search text they are only text.
    for text in &hostile[..3] {
        let found = app
            .client
            .get(app.url("/events"))
            .query(&[("q", text.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(found.status(), StatusCode::OK);
    }
}

fn toml_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[tokio::test]
async fn events_keep_their_venues_time_zone_or_the_servers() {
    let mut config = TestApp::config().await;
    config.timezone = "America/New_York".to_owned();
    let app = TestApp::with_config(config).await;
    let events = app.get("/events", None).await.json["events"].clone();
    let zone_of = |slug: &str| {
        events
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["slug"] == slug)
            .map(|e| e["timezone"].clone())
            .unwrap()
    };
    // The Abbey Rooms keep Paris time; the Granary has no zone, so the server's.
    assert_eq!(zone_of("quiet-night"), "Europe/Paris");
    assert_eq!(zone_of("wren-duo"), "America/New_York");
    assert_eq!(
        app.event(WREN_DUO, None).await["timezone"],
        "America/New_York"
    );

    // Unknown zones are refused, in the catalog and on the command line.
    let dir = tempfile::tempdir().unwrap();
    let bad = TEST_CATALOG.replace("Europe/Paris", "Europe/Atlantis");
    let err = match storefront_server::start(file_config(&lasting_database(&dir).await, Some(&bad)))
        .await
    {
        Ok(_) => panic!("an unknown zone must not load"),
        Err(err) => err.to_string(),
    };
    assert!(
        err.contains("pages[1] \"Abbey Rooms\": timezone: \"Europe/Atlantis\" is not a time zone"),
        "{err}"
    );
    let mut config = TestApp::config().await;
    config.timezone = "Moon/Base".to_owned();
    let err = match storefront_server::start(config).await {
        Ok(_) => panic!("an unknown --timezone must not start"),
        Err(err) => err.to_string(),
    };
    assert!(err.starts_with("--timezone: \"Moon/Base\""), "{err}");
}

#[tokio::test]
async fn a_start_that_cannot_bind_applies_no_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let db = lasting_database(&dir).await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = match storefront_server::start(ServerConfig {
        bind: taken.local_addr().unwrap(),
        ..file_config(&db, Some(TEST_CATALOG))
    })
    .await
    {
        Ok(_) => panic!("the port is taken"),
        Err(err) => err.to_string(),
    };
    assert!(err.starts_with("cannot listen on"), "{err}");
    // Nothing of the catalog was applied by the start that failed.
    let store = storefront_server::connect_database(&db).await.unwrap();
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&mut *store.connection().await.unwrap())
        .await
        .unwrap();
    assert_eq!(events, 0);
    store.close().await;
    // The corrected start (another port) is the one that applies the catalog, this one.
    let corrected = TEST_CATALOG.replace("name = \"Wren Duo\"", "name = \"Wren Duo (corrected)\"");
    let app = TestApp::with_config(file_config(&db, Some(&corrected))).await;
    let event = app.event(WREN_DUO, None).await;
    assert_eq!(event["name"], "Wren Duo (corrected)");
}
