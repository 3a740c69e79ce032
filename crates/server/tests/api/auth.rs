use reqwest::StatusCode;
use serde_json::json;
use storefront_contract::ErrorCode;

use crate::common::TestApp;

#[tokio::test]
async fn health_answers_without_a_token() {
    let app = TestApp::start().await;
    let answer = app.get("/health", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json["status"], "ok");
    assert!(answer.json["version"].is_string());
}

#[tokio::test]
async fn sign_in_me_and_sign_out() {
    let app = TestApp::start().await;
    let answer = app
        .post(
            "/auth/login",
            None,
            json!({"email": " Ann@Example.COM ", "password": "ann-pass"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json["user"]["email"], "ann@example.com");
    assert_eq!(answer.json["user"]["name"], "Ann");
    let expires: chrono::DateTime<chrono::Utc> =
        answer.json["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_days();
    assert!((29..=30).contains(&days), "{days}");
    let token = answer.json["token"].as_str().unwrap().to_owned();

    let me = app.get("/auth/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["email"], "ann@example.com");

    let out = app.post("/auth/logout", Some(&token), json!({})).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = app.get("/auth/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.code(), ErrorCode::Unauthorized);
    // A dead token is dead everywhere that needs one.
    assert_eq!(
        app.get("/cart", Some(&token)).await.code(),
        ErrorCode::Unauthorized
    );
    assert_eq!(
        app.post("/auth/logout", Some(&token), json!({}))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let app = TestApp::start().await;
    let wrong = app
        .post(
            "/auth/login",
            None,
            json!({"email": "ann@example.com", "password": "nope"}),
        )
        .await;
    let unknown = app
        .post(
            "/auth/login",
            None,
            json!({"email": "zed@example.com", "password": "nope"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), ErrorCode::InvalidCredentials);
    assert_eq!(wrong.text, unknown.text);
    assert_eq!(wrong.status, unknown.status);
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    let app = TestApp::start().await;
    for path in ["/auth/me", "/cart", "/cart/summary", "/products"] {
        let none = app.get(path, None).await;
        assert_eq!(none.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(none.code(), ErrorCode::Unauthorized, "{path}");
        assert_eq!(none.headers["www-authenticate"], "Bearer");
        let junk = app.get(path, Some("not-a-token")).await;
        assert_eq!(junk.code(), ErrorCode::Unauthorized, "{path}");
    }
    let basic = app
        .request(
            reqwest::Method::GET,
            "/auth/me",
            None,
            None,
            &[("authorization", "Basic YW5uOng=")],
        )
        .await;
    assert_eq!(basic.code(), ErrorCode::Unauthorized);
}

#[tokio::test]
async fn ten_failures_a_minute_then_rate_limited() {
    let app = TestApp::start().await;
    for _ in 0..10 {
        let answer = app
            .post(
                "/auth/login",
                None,
                json!({"email": "ann@example.com", "password": "guess"}),
            )
            .await;
        assert_eq!(answer.code(), ErrorCode::InvalidCredentials);
    }
    // Even the right password waits now: the limit is on the email.
    let limited = app
        .post(
            "/auth/login",
            None,
            json!({"email": "ANN@example.com", "password": "ann-pass"}),
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), ErrorCode::RateLimited);
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    // Other accounts are not affected.
    app.bob().await;
    // Nor is the same account signing in from elsewhere: the box office's terminal is not
    // locked out by a stranger's guesses.
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let answer = elsewhere
        .post(app.url("/auth/login"))
        .json(&json!({"email": "ann@example.com", "password": "ann-pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    // Behind a proxy on this machine, the address it forwards counts.
    let proxied = app
        .request(
            reqwest::Method::POST,
            "/auth/login",
            None,
            Some(json!({"email": "ann@example.com", "password": "ann-pass"})),
            &[("x-forwarded-for", "203.0.113.9")],
        )
        .await;
    assert_eq!(proxied.status, StatusCode::OK, "{}", proxied.text);
}

#[tokio::test]
async fn malformed_sign_in_bodies_are_bad_requests() {
    let app = TestApp::start().await;
    let client = &app.client;
    let url = app.url("/auth/login");
    let not_json = client
        .post(&url)
        .header("content-type", "application/json")
        .body("{email:")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = not_json.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");

    let wrong_type = app
        .post("/auth/login", None, json!({"email": 5, "password": "x"}))
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong_type.code(), ErrorCode::BadRequest);

    let missing = app
        .post("/auth/login", None, json!({"email": "ann@example.com"}))
        .await;
    assert_eq!(missing.code(), ErrorCode::BadRequest);

    let no_content_type = client.post(&url).body("{}").send().await.unwrap();
    assert_eq!(no_content_type.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_error_shape() {
    let app = TestApp::start().await;
    let missing = app.get("/nowhere", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), ErrorCode::NotFound);
    let wrong = app
        .request(reqwest::Method::PUT, "/events", None, None, &[])
        .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong.json["error"]["message"],
        "PUT is not allowed on /api/v1/events."
    );
}

#[tokio::test]
async fn the_servers_own_address_says_what_it_is_and_where_the_api_is() {
    let app = TestApp::start().await;
    let home = app.client.get(app.server.origin()).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    assert!(
        home.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = home.text().await.unwrap();
    assert!(
        page.contains("storefront server") && page.contains("/api/v1"),
        "{page}"
    );
    assert!(page.contains("/openapi.yaml"), "{page}");
    let document = app
        .client
        .get(format!("{}/openapi.yaml", app.server.origin()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(document.starts_with("openapi: 3.1"), "{document}");
}

#[tokio::test]
async fn oversized_bodies_are_refused_in_the_error_shape() {
    let app = TestApp::start().await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let answer = app
        .post("/auth/login", None, json!({"email": huge, "password": "x"}))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), ErrorCode::BadRequest);
}

#[tokio::test]
async fn internal_errors_show_no_internals() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    // The database goes away under the server.
    app.server.state().store().close().await;
    let answer = app.get("/cart/summary", Some(&ann)).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.code(), ErrorCode::Internal);
    assert_eq!(
        answer.json["error"]["message"],
        "Something went wrong on our side. Please try again."
    );
    assert!(
        !answer.text.to_lowercase().contains("pool"),
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn a_burst_of_sign_ins_past_the_hashers_is_told_to_come_back() {
    // One hashing thread and a queue of 32.
    let app = TestApp::with_config(storefront_server::ServerConfig {
        password_hashers: Some(1),
        ..TestApp::config().await
    })
    .await;
    // Half right, half for addresses with no account (each its own, so that no throttle
    // counts them together).
    let attempts = (0..80).map(|i| {
        let client = app.client.clone();
        let url = app.url("/auth/login");
        async move {
            let body = if i % 2 == 0 {
                json!({"email": "ann@example.com", "password": "ann-pass"})
            } else {
                json!({"email": format!("nobody{i}@example.com"), "password": "guess"})
            };
            let response = client.post(url).json(&body).send().await.unwrap();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let status = response.status();
            let body: serde_json::Value = response.json().await.unwrap();
            (i, status, retry_after, body)
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let mut busy = 0;
    for (i, status, retry_after, body) in &answers {
        match *status {
            StatusCode::OK => assert_eq!(i % 2, 0, "{body}"),
            StatusCode::UNAUTHORIZED => assert_eq!(i % 2, 1, "{body}"),
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert_eq!(retry_after.as_deref(), Some("1"));
                assert_eq!(body["error"]["code"], "rate_limited", "{body}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(busy > 0, "80 at once past one hasher and 32 places");
    assert!(busy < 80, "the first ones are hashed");
    // The burst over, sign-in works again.
    let answer = app
        .post(
            "/auth/login",
            None,
            json!({"email": "ann@example.com", "password": "ann-pass"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}
