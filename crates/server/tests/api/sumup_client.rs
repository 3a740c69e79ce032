//! The SumUp client against a local fake answering each of SumUp's documented error bodies.

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use storefront_contract::Money;
use storefront_server::SumUpConfig;
use storefront_server::sumup::{NewCheckout, SumUpClient};

async fn fake_sumup() -> String {
    let app = Router::new()
        .route(
            "/v0.1/checkouts",
            post(|body: String| async move {
                if body.contains("dup") {
                    (StatusCode::CONFLICT, r#"{"error_code":"DUPLICATED_CHECKOUT","message":"exists"}"#).into_response()
                } else if body.contains("missing") {
                    (StatusCode::BAD_REQUEST, r#"{"error_code":"MISSING","message":"Validation error","param":"amount"}"#).into_response()
                } else if body.contains("array") {
                    (StatusCode::BAD_REQUEST, r#"[{"error_code":"INVALID","message":"Validation error","param":"currency"}]"#).into_response()
                } else if body.contains("html") {
                    (StatusCode::BAD_GATEWAY, "<html>upstream down</html>").into_response()
                } else {
                    (
                        StatusCode::CREATED,
                        r#"{"id":"c1","checkout_reference":"ok","amount":12.5,"currency":"GBP","status":"PENDING",
                            "hosted_checkout_url":"https://pay.example/c1","brand_new_field":{"x":1},"transactions":[]}"#,
                    )
                        .into_response()
                }
            })
            .get(|| async { (StatusCode::OK, r#"[{"id":"c1","status":"PAID","checkout_reference":"ok"}]"#) }),
        )
        .route(
            "/v0.1/checkouts/{id}",
            get(|| async { (StatusCode::NOT_FOUND, r#"{"error_code":"NOT_FOUND","message":"Resource not found"}"#) })
                .delete(|| async { (StatusCode::CONFLICT, r#"{"error_code":"CHECKOUT_PROCESSED","message":"processed"}"#) }),
        )
        .route(
            "/v1.0/merchants/{m}/payments/{t}/refunds",
            post(|| async { (StatusCode::UNAUTHORIZED, r#"{"error_code":"NOT_AUTHORIZED","message":"bad key"}"#) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn client(base_url: String) -> SumUpClient {
    SumUpClient::new(&SumUpConfig {
        base_url,
        api_key: "sup_sk_test".to_owned(),
        merchant_code: "MTEST".to_owned(),
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn new_checkout(reference: &str) -> NewCheckout<'_> {
    NewCheckout {
        reference,
        amount: Money::from_minor(1250),
        currency: "GBP",
        merchant_code: "MTEST",
        description: "Order",
        return_url: "http://localhost/webhook",
        redirect_url: "http://localhost/done",
    }
}

#[tokio::test]
async fn every_documented_answer_is_understood() {
    let sumup = client(fake_sumup().await);

    let created = sumup.create_checkout(&new_checkout("ok")).await.unwrap();
    assert_eq!(created.id, "c1");
    assert_eq!(
        created.hosted_checkout_url.as_deref(),
        Some("https://pay.example/c1")
    );

    let dup = sumup
        .create_checkout(&new_checkout("dup"))
        .await
        .unwrap_err();
    assert!(dup.is_duplicate(), "{dup}");
    let missing = sumup
        .create_checkout(&new_checkout("missing"))
        .await
        .unwrap_err();
    assert_eq!(missing.error_code(), Some("MISSING"));
    let array = sumup
        .create_checkout(&new_checkout("array"))
        .await
        .unwrap_err();
    assert_eq!(array.error_code(), Some("INVALID"));
    let html = sumup
        .create_checkout(&new_checkout("html"))
        .await
        .unwrap_err();
    assert_eq!(html.error_code(), None);
    assert!(html.to_string().contains("502"), "{html}");

    let listed = sumup.checkouts_by_reference("ok").await.unwrap();
    assert_eq!(listed[0].status, storefront_contract::CheckoutStatus::Paid);
    let not_found = sumup.get_checkout("nope").await.unwrap_err();
    assert_eq!(not_found.error_code(), Some("NOT_FOUND"));
    let processed = sumup.deactivate_checkout("c1").await.unwrap_err();
    assert!(processed.is_processed());
    let refused = sumup
        .refund("MTEST", "t1", Money::from_minor(100))
        .await
        .unwrap_err();
    assert_eq!(refused.error_code(), Some("NOT_AUTHORIZED"));
    assert!(!refused.to_string().contains("sup_sk_test"));
}

#[tokio::test]
async fn an_unreachable_sumup_is_an_error_not_a_hang() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sumup = client(format!("http://127.0.0.1:{port}"));
    let err = sumup.get_checkout("c1").await.unwrap_err();
    assert!(
        err.to_string().starts_with("SumUp could not be reached"),
        "{err}"
    );
}
