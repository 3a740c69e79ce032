//! A real server on 127.0.0.1:0 with a fresh in-memory database per test, and a client.

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;
use storefront_contract::ErrorCode;
use storefront_server::{RunningServer, ServerConfig};

/// Two venues, a page-less calendar, and one event of every kind the rules care about.
pub const TEST_CATALOG: &str = r#"
[[users]]
email = "ann@example.com"
password = "ann-pass"
name = "Ann"

[[users]]
email = "bob@example.com"
password = "bob-pass"
name = "Bob"

[[users]]
email = "box@example.com"
password = "box-pass"
name = "Box Office"
role = "kiosk"

[[users]]
email = "door@example.com"
password = "door-pass"
name = "Dee"
role = "staff"

[[users]]
email = "max@example.com"
password = "max-pass"
name = "Max"
role = "manager"

[[pages]]
slug = "granary"
title = "The Old Granary"

[[pages]]
slug = "abbey"
title = "Abbey Rooms"
timezone = "Europe/Paris"

[[readers]]
name = "door-1"
id = "rdr_door1"

[[readers]]
name = "abbey-desk"
id = "rdr_abbey"
page = "abbey"

[[calendars]]
slug = "barn"
name = "Barn Stage"
page = "granary"

[[calendars]]
slug = "cloister"
name = "Cloister"
page = "abbey"

[[calendars]]
slug = "village"
name = "Village Green"

[[events]]  # id 1
slug = "wren-duo"
calendar = "barn"
name = "Wren Duo"
starts_at = "+2d 19:00"
ticket_count = 10
max_per_order = 4
[[events.ticket_types]]
name = "Standard"
cost = "12.00"
[[events.ticket_types]]
name = "Concession"
cost = "8.00"

[[events]]  # id 2
slug = "quiet-night"
calendar = "cloister"
name = "Quiet Night"
starts_at = "+3d 19:00"
ticket_price = "9.50"
ticket_count = 2

[[events]]  # id 3
slug = "village-fete"
calendar = "village"
name = "Village Fete"
starts_at = "+4d 12:00"
ticket_price = "3.00"
max_per_order = 100

[[events]]  # id 4
slug = "full-house"
calendar = "barn"
name = "Full House"
starts_at = "+1d 20:00"
ticket_price = "5.00"
ticket_count = 1

[[events]]  # id 5
slug = "maybe-gig"
calendar = "barn"
name = "Maybe Gig"
starts_at = "+5d 20:00"
ticket_price = "5.00"
state = "provisional"

[[events]]  # id 6
slug = "called-off"
calendar = "barn"
name = "Called Off"
starts_at = "+5d 20:00"
ticket_price = "5.00"
state = "cancelled"

[[events]]  # id 7
slug = "long-ago"
calendar = "barn"
name = "Long Ago"
starts_at = "2020-01-01T19:00:00Z"
ends_at = "2020-01-01T22:00:00Z"
ticket_price = "5.00"

[[events]]  # id 8
slug = "free-talk"
calendar = "cloister"
name = "Free Talk"
starts_at = "+6d 18:00"
state = "provisional"

[[products]]  # id 1
slug = "tote"
title = "Tote bag"
price = "7.25"
page = "granary"

[[products]]  # id 2
slug = "mug"
title = "Abbey mug"
price = "5.00"
page = "abbey"

[[products]]  # id 3
slug = "voucher"
title = "Gift voucher"
price = "20.00"

[[cart]]
user = "ann@example.com"
product = "tote"
quantity = 2

[[bookings]]
user = "ann@example.com"
calendar = "cloister"
name = "Bell tower tour"
starts_at = "+3d 10:00"
ends_at = "+3d 11:00"
cost = "15.00"

[[tickets]]
event = "full-house"
user = "bob@example.com"
quantity = 1
"#;

pub const WREN_DUO: i64 = 1;
pub const QUIET_NIGHT: i64 = 2;
pub const VILLAGE_FETE: i64 = 3;
pub const FULL_HOUSE: i64 = 4;
pub const MAYBE_GIG: i64 = 5;
pub const FREE_TALK: i64 = 8;
pub const STANDARD: i64 = 1;
pub const CONCESSION: i64 = 2;

pub struct TestApp {
    pub server: RunningServer,
    pub client: reqwest::Client,
}

/// One answer: status, headers and the body (JSON when there is one).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    /// Sends the request and reads its answer whole.
    pub async fn of(request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            text,
            json,
        }
    }

    /// The `error.code` of an error answer, read as the contract's type.
    pub fn code(&self) -> ErrorCode {
        serde_json::from_value(self.json["error"]["code"].clone())
            .unwrap_or_else(|err| panic!("no error code in {}: {err}", self.text))
    }

    pub fn field(&self) -> &str {
        self.json["error"]["field"].as_str().unwrap_or("")
    }
}

/// Which database the suite runs on: `STOREFRONT_TEST_DATABASE=postgres` runs it on a
/// throw-away PostgreSQL cluster (`.ci/run` does, after the SQLite run).
pub fn on_postgres() -> bool {
    std::env::var("STOREFRONT_TEST_DATABASE").is_ok_and(|db| db == "postgres")
}

/// A new, empty database: in memory, on the PostgreSQL cluster, or with
/// `STOREFRONT_TEST_DATABASE=sqlite-file` in a file (as `storefront serve` keeps one: WAL,
/// readers beside the writer, writes on the writer thread), under Cargo's `target/tmp`.
pub async fn test_database() -> String {
    if on_postgres() {
        crate::postgres::fresh_database().await
    } else if std::env::var("STOREFRONT_TEST_DATABASE").is_ok_and(|db| db == "sqlite-file") {
        sqlite_file()
    } else {
        "sqlite::memory:".to_owned()
    }
}

/// A new database file for this run; the files of earlier runs are removed first.
fn sqlite_file() -> String {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = DIR.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("api-sqlite");
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).unwrap();
        dir
    });
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("sqlite://{}", dir.join(format!("{n}.db")).display())
}

/// A new, empty database that outlives a server's restart: a file in `dir`, or on the
/// PostgreSQL cluster.
pub async fn lasting_database(dir: &tempfile::TempDir) -> String {
    if on_postgres() {
        crate::postgres::fresh_database().await
    } else {
        format!("sqlite://{}", dir.path().join("shop.db").display())
    }
}

impl TestApp {
    pub async fn start() -> TestApp {
        TestApp::with_config(TestApp::config().await).await
    }

    /// A fresh database with the test catalog, on a free loopback port.
    pub async fn config() -> ServerConfig {
        ServerConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            database_url: test_database().await,
            catalog: Some(TEST_CATALOG.to_owned()),
            ..ServerConfig::default()
        }
    }

    pub async fn with_config(config: ServerConfig) -> TestApp {
        let server = storefront_server::start(config)
            .await
            .expect("server starts");
        TestApp {
            server,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.server.origin())
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Answer::of(request).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.request(Method::GET, path, token, None, &[]).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.request(Method::POST, path, token, Some(body), &[])
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.request(Method::DELETE, path, token, None, &[]).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.request(Method::PATCH, path, token, Some(body), &[])
            .await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let answer = self
            .post(
                "/auth/login",
                None,
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.json["token"].as_str().unwrap().to_owned()
    }

    pub async fn ann(&self) -> String {
        self.login("ann@example.com", "ann-pass").await
    }

    pub async fn bob(&self) -> String {
        self.login("bob@example.com", "bob-pass").await
    }

    /// Door staff.
    pub async fn door(&self) -> String {
        self.login("door@example.com", "door-pass").await
    }

    /// The venue's manager.
    pub async fn manager(&self) -> String {
        self.login("max@example.com", "max-pass").await
    }

    /// `POST /admin/catalog` with a catalog's TOML.
    pub async fn post_catalog(&self, token: Option<&str>, catalog: &str, dry_run: bool) -> Answer {
        let mut request = self
            .client
            .post(self.url(&format!("/admin/catalog?dry_run={dry_run}")))
            .header("content-type", "application/toml")
            .body(catalog.to_owned());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Answer::of(request).await
    }

    /// Buys tickets and insists that it worked.
    pub async fn buy(
        &self,
        token: &str,
        event: i64,
        quantity: i64,
        ticket_type: Option<i64>,
    ) -> Value {
        let answer = self
            .post(
                &format!("/events/{event}/tickets"),
                Some(token),
                serde_json::json!({"quantity": quantity, "ticket_type_id": ticket_type}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        answer.json
    }

    pub async fn cart(&self, token: &str) -> Value {
        let answer = self.get("/cart", Some(token)).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.json
    }

    pub async fn event(&self, id: i64, token: Option<&str>) -> Value {
        let answer = self.get(&format!("/events/{id}"), token).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.json
    }
}

impl TestApp {
    pub async fn checkout(&self, token: &str, page: Option<&str>) -> Answer {
        self.post(
            "/checkout",
            Some(token),
            serde_json::json!({ "page": page }),
        )
        .await
    }

    /// Checks out and insists that it worked; returns the order id and the payment page.
    pub async fn checkout_ok(&self, token: &str, page: Option<&str>) -> (i64, String) {
        let answer = self.checkout(token, page).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
        (
            answer.json["order"]["id"].as_i64().unwrap(),
            answer.json["checkout_url"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn order(&self, token: &str, id: i64, wait: u64) -> Value {
        let answer = self
            .get(&format!("/orders/{id}?wait={wait}"), Some(token))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.json
    }

    /// SumUp's id of the order's newest checkout.
    pub async fn sumup_checkout_id(&self, token: &str, id: i64) -> String {
        self.order(token, id, 0).await["sumup_checkout_id"]
            .as_str()
            .expect("the order has a checkout")
            .to_owned()
    }

    /// Presses Pay or Decline on the hosted page, as a browser would.
    pub async fn press(&self, checkout_url: &str, outcome: &str) -> (StatusCode, String) {
        let response = self
            .client
            .post(checkout_url)
            .form(&[("outcome", outcome)])
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Waits (without a fixed sleep) until the stored order has `status`.
    pub async fn until_stored_status(&self, id: i64, status: &str) {
        self.until_stored(id, "status", status).await;
    }

    /// Waits until the order's refund is settled with SumUp (a webhook may be asking).
    pub async fn until_refunded(&self, id: i64) {
        self.until_stored(id, NEWEST_REFUND_STATUS, "refunded")
            .await;
    }

    /// Waits until `column` (a column of `orders`, or an expression over it) of order `id`
    /// reads `value`.
    pub async fn until_stored(&self, id: i64, column: &str, value: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let stored: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT {column} FROM orders WHERE id = $1"
            )))
            .bind(id)
            .fetch_one(&mut *self.server.state().store().connection().await.unwrap())
            .await
            .unwrap();
            if stored.as_deref() == Some(value) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "order {id}: {column} never became {value}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// The status of an order's newest refund, as an expression over `orders`.
pub const NEWEST_REFUND_STATUS: &str = "(SELECT r.status FROM refunds r \
     WHERE r.order_id = orders.id ORDER BY r.id DESC LIMIT 1)";
