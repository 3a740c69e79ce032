//! The sandbox's hosted payment page in a real browser: headless Chromium, driven through
//! the DevTools protocol, clicks Pay (or Decline) on a real checkout, and the order follows.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use storefront_server::{DEMO_CATALOG, RunningServer, ServerConfig};
use tokio_tungstenite::tungstenite::Message;

/// Headless Chromium with a fresh profile and no background traffic; killed when dropped.
struct Browser {
    child: Child,
    port: u16,
}

impl Browser {
    async fn start(profile: &Path) -> Browser {
        let child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--remote-debugging-port=0",
                "--window-size=800,900",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        // Chromium writes the port it chose into the profile.
        let file = profile.join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&file)
                .ok()
                .and_then(|text| text.lines().next()?.trim().parse().ok())
            {
                break port;
            }
            assert!(
                Instant::now() < deadline,
                "Chromium did not open its DevTools port"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Browser { child, port }
    }

    /// A new tab, and a DevTools session on it.
    async fn tab(&self) -> Tab {
        let target: Value = reqwest::Client::new()
            .put(format!(
                "http://127.0.0.1:{}/json/new?about:blank",
                self.port
            ))
            .send()
            .await
            .expect("DevTools answers")
            .json()
            .await
            .expect("a target");
        let url = target["webSocketDebuggerUrl"]
            .as_str()
            .expect("a debugger URL");
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the tab's socket");
        Tab { socket, next_id: 0 }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Tab {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
}

impl Tab {
    /// One DevTools command and its result (events in between are skipped).
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket
            .send(Message::text(message))
            .await
            .expect("sent");
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(30), self.socket.next())
                .await
                .expect("an answer in time")
                .expect("the socket is open")
                .expect("a frame");
            let Message::Text(text) = frame else { continue };
            let value: Value = serde_json::from_str(text.as_str()).expect("JSON");
            if value["id"] == id {
                assert!(value.get("error").is_none(), "{method} failed: {value}");
                return value["result"].clone();
            }
        }
    }

    async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Waits (polling the page, never a fixed sleep) until `expression` is true.
    async fn wait_for(&mut self, expression: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.eval(expression).await != json!(true) {
            assert!(Instant::now() < deadline, "never true: {expression}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn screenshot(&mut self) -> Vec<u8> {
        let result = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(result["data"].as_str().expect("image data"))
            .expect("base64")
    }
}

/// A PNG that decodes, has a size, and shows more than one colour.
fn assert_real_picture(png_bytes: &[u8]) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    assert!(info.width > 0 && info.height > 0);
    let bytes = info.color_type.samples();
    let first = &pixels[..bytes];
    assert!(
        pixels[..info.buffer_size()]
            .chunks(bytes)
            .any(|pixel| pixel != first),
        "the screenshot is blank"
    );
}

async fn demo_server() -> RunningServer {
    storefront_server::start(ServerConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        database_url: "sqlite::memory:".to_owned(),
        catalog: Some(DEMO_CATALOG.to_owned()),
        ..ServerConfig::default()
    })
    .await
    .expect("the server starts")
}

/// Signs in as the demo user, puts a ticket in the cart and checks out.
async fn checkout(server: &RunningServer, event: i64) -> (String, i64, String) {
    let api = storefront::api::ApiClient::new(&server.origin()).unwrap();
    let token = api.login("demo@example.com", "demo").await.unwrap().token;
    let request = storefront_contract::BuyTicketsRequest {
        quantity: 1,
        ticket_type_id: None,
    };
    api.buy_tickets(&token, event, &request, &uuid::Uuid::new_v4().to_string())
        .await
        .unwrap();
    let started = api
        .checkout(&token, None, &uuid::Uuid::new_v4().to_string())
        .await
        .unwrap();
    (
        token,
        started.order.id,
        started.checkout_url.expect("a hosted checkout"),
    )
}

async fn pay_in_browser(
    outcome: &str,
    expected_state: &str,
    expected_status: storefront_contract::OrderStatus,
) {
    support::require("chromium", "--version", "apt-get install -y chromium");
    let server = demo_server().await;
    let (token, order_id, url) = checkout(&server, 3).await;
    let profile = tempfile::tempdir().unwrap();
    let browser = Browser::start(profile.path()).await;
    let mut tab = browser.tab().await;
    tab.call("Page.enable", json!({})).await;
    tab.call("Page.navigate", json!({"url": url})).await;
    tab.wait_for("document.readyState === 'complete' && !!document.getElementById('pay')")
        .await;
    let amount = tab
        .eval("document.getElementById('amount').textContent")
        .await;
    assert!(
        amount.as_str().is_some_and(|a| a.starts_with('£')),
        "{amount}"
    );
    assert_real_picture(&tab.screenshot().await);

    tab.eval(&format!(
        "document.getElementById('{outcome}').click(); true"
    ))
    .await;
    tab.wait_for(&format!(
        "!!document.getElementById('state') && document.getElementById('state').textContent.includes('{expected_state}')"
    ))
    .await;
    let after = tab.screenshot().await;
    assert_real_picture(&after);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(shots.join(format!("sandbox-{outcome}.png")), &after).unwrap();

    let api = storefront::api::ApiClient::new(&server.origin()).unwrap();
    let order = api.order(&token, order_id, 10).await.unwrap();
    assert_eq!(order.status, expected_status);
}

#[tokio::test]
#[ignore = "needs Chromium; run with --include-ignored (.ci/run does)"]
async fn pay_on_the_hosted_page_in_chromium() {
    pay_in_browser("pay", "Paid", storefront_contract::OrderStatus::Paid).await;
}

#[tokio::test]
#[ignore = "needs Chromium; run with --include-ignored (.ci/run does)"]
async fn decline_on_the_hosted_page_in_chromium() {
    pay_in_browser(
        "decline",
        "did not go through",
        storefront_contract::OrderStatus::Failed,
    )
    .await;
}
