//! Card payments on a SumUp Solo reader: the sandbox's virtual Solo through SumUp's own SDK,
//! and the shop paying, declining, cancelling and refunding on it, settled exactly once.

use reqwest::StatusCode;
use serde_json::{Value, json};
use storefront_server::sandbox::SANDBOX_PATH;
use sumup::readers::{
    CreateCheckoutRequest, CreateCheckoutRequestTotalAmount, GetReaderCheckoutResponseDataStatus,
};

use crate::common::*;

const DOOR_READER: &str = "rdr_door1";

impl TestApp {
    async fn pay_on(&self, token: &str, order: i64, reader: &str) -> Answer {
        self.post(
            &format!("/orders/{order}/pay"),
            Some(token),
            json!({"method": "reader", "reader": reader}),
        )
        .await
    }

    /// Pays on the reader and insists that it worked; the reader's checkout id.
    async fn pay_on_ok(&self, token: &str, order: i64, reader: &str) -> String {
        let answer = self.pay_on(token, order, reader).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        assert_eq!(answer.json["checkout_url"], Value::Null);
        assert_eq!(answer.json["reader"], reader);
        assert_eq!(answer.json["order"]["payment_method"], "reader");
        answer.json["order"]["sumup_checkout_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn reader_page(&self, reader_id: &str) -> String {
        format!("{}{SANDBOX_PATH}/readers/{reader_id}", self.server.origin())
    }

    /// Presents a card (`pay`) or declines on the virtual Solo.
    async fn present(
        &self,
        reader_id: &str,
        checkout: &str,
        outcome: &str,
    ) -> (StatusCode, String) {
        let response = self
            .client
            .post(self.reader_page(reader_id))
            .form(&[("checkout", checkout), ("outcome", outcome)])
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn sandbox_status(&self, checkout: &str) -> String {
        sqlx::query_scalar("SELECT status FROM sandbox_checkouts WHERE id = $1")
            .bind(checkout)
            .fetch_one(&mut *self.server.state().store().connection().await.unwrap())
            .await
            .unwrap()
    }
}

fn sdk(app: &TestApp) -> sumup::Client {
    sumup::Client::new()
        .with_base_url(format!("{}{SANDBOX_PATH}", app.server.origin()))
        .with_authorization(sumup::Authorization::APIKey("sup_sk_test".to_owned()))
}

#[tokio::test]
async fn the_virtual_solo_answers_sumups_readers_api_in_sumups_types() {
    let app = TestApp::start().await;
    let sdk = sdk(&app);
    let request = CreateCheckoutRequest::builder()
        .total_amount(
            CreateCheckoutRequestTotalAmount::builder()
                .currency("GBP")
                .minor_unit(2)
                .value(2350)
                .build(),
        )
        .description("Two tickets")
        .build();
    let created = sdk
        .readers()
        .create_checkout("MTEST", "rdr_sdk", request.clone())
        .await
        .unwrap()
        .data;
    let id = created.checkout_id.unwrap();
    let read = sdk
        .readers()
        .get_checkout("MTEST", "rdr_sdk", &id)
        .await
        .unwrap()
        .data;
    assert_eq!(read.status, GetReaderCheckoutResponseDataStatus::Pending);
    assert_eq!(read.total_amount.value, 2350);
    assert_eq!(read.client_transaction_id, created.client_transaction_id);

    // One payment at a time: the busy reader refuses another, with a problem body.
    let busy = sdk
        .readers()
        .create_checkout("MTEST", "rdr_sdk", request.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            busy,
            sumup::SdkError::Api(ref e) if e.status == StatusCode::UNPROCESSABLE_ENTITY
        ),
        "{busy:?}"
    );

    // The reader's screen shows the amount; a card pays it.
    let page = app
        .client
        .get(app.reader_page("rdr_sdk"))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("£23.50"));
    let (status, said) = app.present("rdr_sdk", &id, "pay").await;
    assert_eq!(status, StatusCode::OK);
    assert!(said.contains("Approved"), "{said}");
    let paid = sdk
        .readers()
        .get_checkout("MTEST", "rdr_sdk", &id)
        .await
        .unwrap()
        .data;
    assert_eq!(paid.status, GetReaderCheckoutResponseDataStatus::Successful);
    let transaction = sdk
        .transactions()
        .get(
            "MTEST",
            sumup::transactions::GetParams::builder()
                .client_transaction_id(created.client_transaction_id.clone())
                .build(),
        )
        .await
        .unwrap();
    assert_eq!(transaction.amount, Some(23.5));
    // A card present at the reader, tapped.
    assert_eq!(
        transaction.payment_type,
        Some(sumup::common::PaymentType::Pos)
    );
    assert_eq!(
        transaction.entry_mode,
        Some(sumup::common::EntryMode::Contactless)
    );

    // Terminating a reader that waits for nothing is refused; one that waits is stopped.
    assert!(
        sdk.readers()
            .terminate_checkout("MTEST", "rdr_sdk")
            .await
            .is_err()
    );
    let next = sdk
        .readers()
        .create_checkout("MTEST", "rdr_sdk", request)
        .await
        .unwrap()
        .data;
    sdk.readers()
        .terminate_checkout("MTEST", "rdr_sdk")
        .await
        .unwrap();
    let stopped = sdk
        .readers()
        .get_checkout("MTEST", "rdr_sdk", next.checkout_id.unwrap())
        .await
        .unwrap()
        .data;
    assert_eq!(
        stopped.status,
        GetReaderCheckoutResponseDataStatus::Cancelled
    );
}

#[tokio::test]
async fn a_card_on_the_reader_pays_the_order_and_closes_its_payment_page() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, VILLAGE_FETE, 2, None).await;
    let (order, hosted) = app.checkout_ok(&ann, None).await;
    let checkout = app.pay_on_ok(&ann, order, "door-1").await;
    // Only one place can take the money: the hosted page is closed.
    let (status, _) = app.press(&hosted, "pay").await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Paying on the reader again reuses the payment waiting there.
    assert_eq!(app.pay_on_ok(&ann, order, "door-1").await, checkout);

    let (status, _) = app.present(DOOR_READER, &checkout, "pay").await;
    assert_eq!(status, StatusCode::OK);
    let paid = app.order(&ann, order, 10).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payment_method"], "reader");
    assert_eq!(paid["checkout_url"], Value::Null);
    assert!(
        paid["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] == "confirmed")
    );
    assert!(paid["tickets_url"].is_string());
}

#[tokio::test]
async fn a_declined_card_can_try_again_with_a_new_payment_on_the_reader() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let (order, _) = app.checkout_ok(&ann, None).await;
    let first = app.pay_on_ok(&ann, order, "door-1").await;
    app.present(DOOR_READER, &first, "decline").await;
    assert_eq!(app.order(&ann, order, 10).await["status"], "failed");
    // A declined reader payment is over: the same checkout cannot be paid.
    let (status, _) = app.present(DOOR_READER, &first, "pay").await;
    assert_eq!(status, StatusCode::CONFLICT);

    let second = app.pay_on_ok(&ann, order, "door-1").await;
    assert_ne!(first, second);
    app.present(DOOR_READER, &second, "pay").await;
    assert_eq!(app.order(&ann, order, 10).await["status"], "paid");
}

#[tokio::test]
async fn cancelling_stops_the_reader_and_no_card_can_pay_after() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let (order, _) = app.checkout_ok(&ann, None).await;
    let checkout = app.pay_on_ok(&ann, order, "door-1").await;
    let cancelled = app
        .post(&format!("/orders/{order}/cancel"), Some(&ann), json!({}))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(cancelled.json["status"], "cancelled");
    assert_eq!(app.sandbox_status(&checkout).await, "EXPIRED");
    let (status, _) = app.present(DOOR_READER, &checkout, "pay").await;
    assert_ne!(status, StatusCode::OK);
    let screen = app
        .client
        .get(app.reader_page(DOOR_READER))
        .send()
        .await
        .unwrap();
    assert!(
        screen
            .text()
            .await
            .unwrap()
            .contains("Waiting for a payment")
    );
}

#[tokio::test]
async fn switching_to_the_qr_code_stops_the_reader_first() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let (order, _) = app.checkout_ok(&ann, None).await;
    let checkout = app.pay_on_ok(&ann, order, "door-1").await;
    let hosted = app
        .post(&format!("/orders/{order}/pay"), Some(&ann), json!({}))
        .await;
    assert_eq!(hosted.status, StatusCode::CREATED, "{}", hosted.text);
    assert_eq!(hosted.json["order"]["payment_method"], "hosted");
    assert_eq!(app.sandbox_status(&checkout).await, "EXPIRED");
    // An empty body is the hosted page too.
    let empty = app
        .client
        .post(app.url(&format!("/orders/{order}/pay")))
        .bearer_auth(&ann)
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::CREATED);
    let url = hosted.json["checkout_url"].as_str().unwrap();
    app.press(url, "pay").await;
    assert_eq!(app.order(&ann, order, 10).await["status"], "paid");
}

#[tokio::test]
async fn webhooks_polls_and_a_cancel_at_once_settle_a_card_payment_once() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, VILLAGE_FETE, 3, None).await;
    let (order, _) = app.checkout_ok(&ann, None).await;
    let checkout = app.pay_on_ok(&ann, order, "door-1").await;
    let client_id: String =
        sqlx::query_scalar("SELECT reference FROM sandbox_checkouts WHERE id = $1")
            .bind(&checkout)
            .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
            .await
            .unwrap();
    app.present(DOOR_READER, &checkout, "pay").await;
    let path = format!("/orders/{order}?wait=5");
    let polls = (0..4).map(|_| app.get(&path, Some(&ann)));
    let hooks = (0..4).map(|_| {
        app.post(
            "/webhooks/sumup",
            None,
            json!({
                "id": "e1",
                "event_type": "solo.transaction.updated",
                "payload": {"client_transaction_id": client_id, "merchant_code": "M", "status": "failed"},
                "timestamp": "2026-11-30T10:00:00Z"
            }),
        )
    });
    let cancel_path = format!("/orders/{order}/cancel");
    let cancel = app.post(&cancel_path, Some(&ann), json!({}));
    let (polls, hooks, cancel) = tokio::join!(
        futures::future::join_all(polls),
        futures::future::join_all(hooks),
        cancel
    );
    assert!(
        polls.iter().all(|a| a.json["status"] == "paid"),
        "{polls:?}"
    );
    assert!(hooks.iter().all(|a| a.status == StatusCode::NO_CONTENT));
    // The card paid before the cancel could stop the reader: the order is paid.
    assert!(
        cancel.status == StatusCode::CONFLICT || cancel.json["status"] == "paid",
        "{}",
        cancel.text
    );
    let confirmed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tickets WHERE order_id = $1 AND state = 'confirmed'",
    )
    .bind(order)
    .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
    .await
    .unwrap();
    assert_eq!(confirmed, 3);
    assert_eq!(app.order(&ann, order, 0).await["status"], "paid");
}

#[tokio::test]
async fn a_card_payment_for_a_sold_out_event_refunds_the_excess() {
    let app = TestApp::start().await;
    let (ann, bob) = (app.ann().await, app.bob().await);
    app.buy(&ann, QUIET_NIGHT, 1, None).await;
    app.buy(&bob, QUIET_NIGHT, 2, None).await;
    let (ann_order, ann_url) = app.checkout_ok(&ann, None).await;
    let (bob_order, _) = app.checkout_ok(&bob, None).await;
    app.press(&ann_url, "pay").await;
    assert_eq!(app.order(&ann, ann_order, 10).await["status"], "paid");

    let checkout = app.pay_on_ok(&bob, bob_order, "door-1").await;
    app.present(DOOR_READER, &checkout, "pay").await;
    assert_eq!(app.order(&bob, bob_order, 10).await["status"], "paid");
    app.until_refunded(bob_order).await;
    let order = app.order(&bob, bob_order, 0).await;
    assert_eq!(order["refund"]["amount"], "9.50");
    assert_eq!(order["refund"]["status"], "refunded");
    let refunded: i64 = sqlx::query_scalar(
        "SELECT t.refunded FROM sandbox_transactions t \
         JOIN sandbox_checkouts c ON c.id = t.checkout_id WHERE c.id = $1",
    )
    .bind(&checkout)
    .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
    .await
    .unwrap();
    assert_eq!(refunded, 950);
}

#[tokio::test]
async fn readers_are_named_checked_and_their_refusals_keep_the_order() {
    let app = TestApp::start().await;
    let ann = app.ann().await;
    app.buy(&ann, WREN_DUO, 1, Some(STANDARD)).await;
    let (order, _) = app.checkout_ok(&ann, Some("granary")).await;
    let pay_path = format!("/orders/{order}/pay");
    let pay = |body: Value| app.post(&pay_path, Some(&ann), body);

    for body in [
        json!({"method": "reader", "reader": "nowhere"}),
        json!({"method": "reader"}),
        json!({"method": "hosted", "reader": "door-1"}),
        // This reader takes payments for the Abbey Rooms only.
        json!({"method": "reader", "reader": "abbey-desk"}),
    ] {
        let answer = pay(body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            answer.text
        );
        assert_eq!(answer.field(), "reader");
    }
    let answer = pay(json!({"method": "card"})).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    // A body that does not say it is JSON is refused, not taken for the hosted page.
    let untyped = app
        .client
        .post(app.url(&pay_path))
        .bearer_auth(&ann)
        .body(r#"{"method": "reader", "reader": "door-1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(untyped.status(), StatusCode::BAD_REQUEST);

    // SumUp says the reader is offline: nothing is put on it, the order is kept, and the QR
    // code still pays.
    let reader_payments = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sandbox_checkouts WHERE reader_id = $1")
            .bind(DOOR_READER)
            .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
            .await
            .unwrap()
    };
    let before = reader_payments().await;
    let faults = app
        .client
        .post(format!("{}{SANDBOX_PATH}/faults", app.server.origin()))
        .bearer_auth("k")
        .json(&json!({"readers_offline": [DOOR_READER]}))
        .send()
        .await
        .unwrap();
    assert_eq!(faults.status(), StatusCode::NO_CONTENT);
    let offline = app.pay_on(&ann, order, "door-1").await;
    assert_eq!(offline.status, StatusCode::BAD_GATEWAY, "{}", offline.text);
    assert_eq!(offline.json["error"]["order_id"], order);
    assert!(
        offline
            .text
            .contains("The card reader door-1 is offline: switch it on"),
        "{}",
        offline.text
    );
    assert_eq!(
        reader_payments().await,
        before,
        "the status said; no payment was tried"
    );
    let hosted = pay(json!({"method": "hosted"})).await;
    assert_eq!(hosted.status, StatusCode::CREATED, "{}", hosted.text);

    // A reader busy with another terminal's payment refuses too.
    app.client
        .post(format!("{}{SANDBOX_PATH}/faults", app.server.origin()))
        .bearer_auth("k")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let bob = app.bob().await;
    app.buy(&bob, VILLAGE_FETE, 1, None).await;
    let (bobs, _) = app.checkout_ok(&bob, None).await;
    app.pay_on_ok(&bob, bobs, "door-1").await;
    let busy = app.pay_on(&ann, order, "door-1").await;
    assert_eq!(busy.status, StatusCode::BAD_GATEWAY, "{}", busy.text);
    assert!(busy.text.contains("busy"), "{}", busy.text);
    // Kept, and payable again (its QR code was closed before the reader was asked).
    let kept = app.order(&ann, order, 0).await;
    assert!(
        ["pending", "failed"].contains(&kept["status"].as_str().unwrap()),
        "{kept}"
    );
    let again = pay(json!({})).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
}

#[tokio::test]
async fn a_reader_answering_nulls_as_sumups_spec_allows_still_settles() {
    let app = TestApp::start().await;
    let faults = app
        .client
        .post(format!("{}{SANDBOX_PATH}/faults", app.server.origin()))
        .bearer_auth("k")
        .json(&json!({"reader_nulls": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(faults.status(), StatusCode::NO_CONTENT);
    // SumUp's own SDK cannot read such an answer.
    let ann = app.ann().await;
    app.buy(&ann, VILLAGE_FETE, 1, None).await;
    let (order, _) = app.checkout_ok(&ann, None).await;
    let checkout = app.pay_on_ok(&ann, order, "door-1").await;
    assert!(
        sdk(&app)
            .readers()
            .get_checkout("MSANDBOX", DOOR_READER, &checkout)
            .await
            .is_err()
    );
    // Still waiting: its transaction does not exist yet.
    assert_eq!(app.order(&ann, order, 0).await["status"], "pending");
    app.present(DOOR_READER, &checkout, "pay").await;
    assert_eq!(app.order(&ann, order, 10).await["status"], "paid");
    let transaction: Option<String> =
        sqlx::query_scalar("SELECT transaction_id FROM checkouts WHERE sumup_id = $1")
            .bind(&checkout)
            .fetch_one(&mut *app.server.state().store().connection().await.unwrap())
            .await
            .unwrap();
    assert!(
        transaction.is_some(),
        "the paying transaction is kept for refunds"
    );
}

#[tokio::test]
async fn readers_are_paired_by_their_code_listed_and_say_how_they_are() {
    let app = TestApp::start().await;
    let sumup = sumup::Client::new()
        .with_base_url(format!("{}{SANDBOX_PATH}", app.server.origin()))
        .with_authorization(sumup::Authorization::APIKey("sup_sk_test".to_owned()));
    let readers = sumup.readers();
    let pair = |code: &str, name: &str| sumup::readers::CreateRequest {
        pairing_code: code.to_owned(),
        name: name.to_owned(),
        metadata: None,
    };
    let paired = readers
        .create("MTEST", pair("ab12cd34", "door-1"))
        .await
        .unwrap();
    assert!(paired.id.starts_with("rdr_"), "{paired:?}");
    assert_eq!(paired.name, "door-1");
    assert_eq!(paired.device.identifier, "AB12CD34");
    assert_eq!(
        serde_json::to_value(&paired.status).unwrap(),
        json!("paired")
    );
    // A code a reader cannot show, or one already paired, is refused.
    for (code, status) in [
        ("12", StatusCode::UNPROCESSABLE_ENTITY),
        ("AB12CD34", StatusCode::CONFLICT),
    ] {
        let refused = readers
            .create("MTEST", pair(code, "door-2"))
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, sumup::SdkError::Api(r) if r.status == status)
                || matches!(&refused, sumup::SdkError::Unexpected(r) if r.status == status),
            "{code}: {refused:?}"
        );
    }
    let listed = readers.list("MTEST").await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].id, paired.id);
    assert!(readers.list("MOTHER").await.unwrap().items.is_empty());
    let got = readers.get("MTEST", &paired.id).await.unwrap();
    assert_eq!(got.name, "door-1");

    // Online and idle; waiting for a card while a payment is on it; offline when it is.
    use sumup::readers::{StatusResponseDataState as State, StatusResponseDataStatus as Online};
    let status = readers.get_status("MTEST", &paired.id).await.unwrap().data;
    assert_eq!(status.status, Online::Online);
    assert_eq!(status.state, Some(State::Idle));
    assert!(status.battery_level.is_some());
    let request = CreateCheckoutRequest::builder()
        .total_amount(
            CreateCheckoutRequestTotalAmount::builder()
                .value(500)
                .currency("GBP")
                .minor_unit(2)
                .build(),
        )
        .build();
    readers
        .create_checkout("MTEST", &paired.id, request)
        .await
        .unwrap();
    let status = readers.get_status("MTEST", &paired.id).await.unwrap().data;
    assert_eq!(status.state, Some(State::WaitingForCard));
    let faults = app
        .client
        .post(format!("{}{SANDBOX_PATH}/faults", app.server.origin()))
        .bearer_auth("k")
        .json(&json!({"readers_offline": [paired.id]}))
        .send()
        .await
        .unwrap();
    assert_eq!(faults.status(), StatusCode::NO_CONTENT);
    let status = readers.get_status("MTEST", &paired.id).await.unwrap().data;
    assert_eq!(status.status, Online::Offline);
}

/// `GET /readers/{name}`: a reader's venue, for the venue's terminals and staff only, never
/// its SumUp id.
#[tokio::test]
async fn the_venues_terminals_learn_a_readers_venue() {
    let app = TestApp::start().await;
    let kiosk = app.login("box@example.com", "box-pass").await;
    let answer = app.get("/readers/abbey-desk", Some(&kiosk)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json["name"], "abbey-desk");
    assert_eq!(answer.json["page"]["slug"], "abbey");
    assert_eq!(answer.json["page"]["title"], "Abbey Rooms");
    assert!(!answer.text.contains("rdr_abbey"), "{}", answer.text);

    // A reader for any venue; a name with a space, percent-encoded.
    let door = app.door().await;
    let answer = app.get("/readers/door-1", Some(&door)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json["page"], Value::Null);
    let answer = app.get("/readers/front%20desk", Some(&door)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text);
    assert_eq!(answer.code(), storefront_contract::ErrorCode::NotFound);

    let ann = app.ann().await;
    let answer = app.get("/readers/abbey-desk", Some(&ann)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    let answer = app.get("/readers/abbey-desk", None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
}
