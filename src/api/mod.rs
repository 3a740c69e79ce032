//! A typed client for the storefront HTTP contract: one method per endpoint.
//!
//! Every answer's strings are sanitised once, when decoded. GETs are retried with backoff when
//! the network or a gateway fails; POSTs are never retried here, but carry the
//! `Idempotency-Key` of the user action so that the action can be retried safely.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
pub use storefront_contract::ErrorCode;
use storefront_contract::{
    AddProductRequest, BoxOfficeEvents, BuyTicketsRequest, BuyTicketsResponse, Cart, CartSummary,
    CheckoutRequest, CheckoutResponse, CompRequest, ErrorBody, EventDetail, EventList,
    EventSalesDetail, FoundOrders, LoginRequest, LoginResponse, Order, OrderDetail,
    OrderEmailRequest, OrderList, PayRequest, ProductList, RefundRequest, ResetConfirm,
    ResetRequest, SignupRequest, TicketList, UpdateProductRequest, User,
};

use crate::text::sanitize_json;
use storefront_contract::Backoff;

/// Why a request did not give the answer hoped for, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// The server could not be reached (or did not answer in time).
    Network { server: String },
    /// The token is missing, invalid, expired or revoked; with the server's reason when it
    /// is the account itself (disabled by the venue).
    SessionEnded(Option<String>),
    /// The server refused, with the contract's error body.
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
        field: Option<String>,
        order_id: Option<i64>,
    },
    /// The server answered something that is not the contract.
    Unexpected(String),
}

impl ApiError {
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Refused { code, .. } => Some(*code),
            ApiError::SessionEnded(_) => Some(ErrorCode::Unauthorized),
            _ => None,
        }
    }

    pub fn is_network(&self) -> bool {
        matches!(self, ApiError::Network { .. })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Network { server } => write!(f, "Cannot reach the server at {server}."),
            ApiError::SessionEnded(Some(reason)) => f.write_str(reason),
            ApiError::SessionEnded(None) => f.write_str("Your session ended. Sign in again."),
            ApiError::Refused { message, .. } => f.write_str(message),
            ApiError::Unexpected(detail) => write!(
                f,
                "The server gave an answer we do not understand ({detail})."
            ),
        }
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;

/// A GET is tried this many times more when the network or a gateway fails.
const GET_RETRIES: usize = 2;
/// Enough for `GET /orders/{id}?wait=25` plus the network.
const LONG_POLL_TIMEOUT: Duration = Duration::from_secs(40);
/// A scan at the door waits this long for the server before it is decided offline.
const CHECK_IN_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone, Debug)]
pub struct ApiClient {
    http: reqwest::Client,
    /// The server's origin, as the user gave it (shown in messages).
    server: String,
    /// `<server>/api/v1`.
    base: String,
    /// A kiosk's terminal name, sent as `X-Terminal`.
    terminal: Option<String>,
}

impl ApiClient {
    /// Fails only when no HTTP client can be built (no TLS roots, say): a client without its
    /// timeouts would hang on a server that stops answering, so there is no fallback.
    pub fn new(server: &str) -> Result<ApiClient, reqwest::Error> {
        let server = server.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("storefront/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(ApiClient {
            base: format!("{server}/api/v1"),
            server,
            http,
            terminal: None,
        })
    }

    /// Names the kiosk terminal every request comes from.
    pub fn with_terminal(self, terminal: Option<String>) -> ApiClient {
        ApiClient { terminal, ..self }
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
        idempotency_key: Option<&str>,
        timeout: Option<Duration>,
    ) -> ApiResult<Option<T>> {
        let retries = if method == Method::GET {
            GET_RETRIES
        } else {
            0
        };
        let mut backoff = Backoff::within_request();
        let mut attempt = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(terminal) = &self.terminal {
                request = request.header("X-Terminal", terminal);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            if let Some(key) = idempotency_key {
                request = request.header("Idempotency-Key", key);
            }
            if let Some(timeout) = timeout {
                request = request.timeout(timeout);
            }
            let result = match request.send().await {
                Ok(response) => self.read(response).await,
                Err(err) => {
                    tracing::warn!(error = %err.without_url(), path, "request failed");
                    Err(ApiError::Network {
                        server: self.server.clone(),
                    })
                }
            };
            let retryable = matches!(&result, Err(ApiError::Network { .. }))
                || matches!(&result, Err(ApiError::Refused { status: 502..=504, code, .. }) if *code != ErrorCode::PaymentProviderError);
            if !retryable || attempt == retries {
                return result;
            }
            tokio::time::sleep(backoff.next_delay()).await;
            attempt += 1;
        }
    }

    async fn read<T: DeserializeOwned>(&self, response: reqwest::Response) -> ApiResult<Option<T>> {
        let status = response.status();
        let bytes = response.bytes().await.map_err(|_| ApiError::Network {
            server: self.server.clone(),
        })?;
        if status == StatusCode::NO_CONTENT || (status.is_success() && bytes.is_empty()) {
            // `204`, and a `202` that only says it is taken.
            return Ok(None);
        }
        let mut value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|_| ApiError::Unexpected(format!("HTTP {}", status.as_u16())))?;
        sanitize_json(&mut value);
        if status.is_success() {
            return serde_json::from_value(value)
                .map(Some)
                .map_err(|err| ApiError::Unexpected(err.to_string()));
        }
        let body: ErrorBody = serde_json::from_value(value)
            .map_err(|_| ApiError::Unexpected(format!("HTTP {}", status.as_u16())))?;
        if status == StatusCode::UNAUTHORIZED && body.error.code == ErrorCode::Unauthorized {
            let reason =
                (body.error.field.as_deref() == Some("account")).then_some(body.error.message);
            return Err(ApiError::SessionEnded(reason));
        }
        Err(ApiError::Refused {
            status: status.as_u16(),
            code: body.error.code,
            message: body.error.message,
            field: body.error.field,
            order_id: body.error.order_id,
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, token: Option<&str>) -> ApiResult<T> {
        self.send(Method::GET, path, token, None, None, None)
            .await?
            .ok_or_else(|| ApiError::Unexpected("an empty answer".to_owned()))
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Serialize,
        key: Option<&str>,
    ) -> ApiResult<T> {
        self.post_within(path, token, body, key, None).await
    }

    /// A POST answered within `timeout` (the client's default when `None`).
    async fn post_within<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Serialize,
        key: Option<&str>,
        timeout: Option<Duration>,
    ) -> ApiResult<T> {
        let body =
            serde_json::to_value(body).map_err(|err| ApiError::Unexpected(err.to_string()))?;
        self.send(Method::POST, path, token, Some(body), key, timeout)
            .await?
            .ok_or_else(|| ApiError::Unexpected("an empty answer".to_owned()))
    }

    /// A POST whose answer is its status alone (`202`, `204`).
    async fn post_for_status(
        &self,
        path: &str,
        token: Option<&str>,
        body: impl Serialize,
    ) -> ApiResult<()> {
        let body =
            serde_json::to_value(body).map_err(|err| ApiError::Unexpected(err.to_string()))?;
        self.send::<serde_json::Value>(Method::POST, path, token, Some(body), None, None)
            .await
            .map(|_| ())
    }

    async fn delete(&self, path: &str, token: &str) -> ApiResult<()> {
        self.send::<serde_json::Value>(Method::DELETE, path, Some(token), None, None, None)
            .await
            .map(|_| ())
    }

    pub async fn login(&self, email: &str, password: &str) -> ApiResult<LoginResponse> {
        let body = LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        self.post("/auth/login", None, body, None).await
    }

    pub async fn sign_up(&self, request: &SignupRequest) -> ApiResult<LoginResponse> {
        self.post("/auth/signup", None, request, None).await
    }

    pub async fn ask_reset(&self, email: &str) -> ApiResult<()> {
        let body = ResetRequest {
            email: email.to_owned(),
        };
        self.post_for_status("/auth/reset", None, body).await
    }

    pub async fn confirm_reset(&self, request: &ResetConfirm) -> ApiResult<()> {
        self.post_for_status("/auth/reset/confirm", None, request)
            .await
    }

    /// Asks for the order's tickets by e-mail (the kiosk's "E-mail me my tickets").
    pub async fn email_tickets(&self, token: &str, order_id: i64, email: &str) -> ApiResult<()> {
        let body = OrderEmailRequest {
            email: email.to_owned(),
        };
        self.post_for_status(&format!("/orders/{order_id}/email"), Some(token), body)
            .await
    }

    pub async fn me(&self, token: &str) -> ApiResult<User> {
        self.get("/auth/me", Some(token)).await
    }

    pub async fn logout(&self, token: &str) -> ApiResult<()> {
        self.send::<serde_json::Value>(Method::POST, "/auth/logout", Some(token), None, None, None)
            .await
            .map(|_| ())
    }

    pub async fn events(
        &self,
        query: Option<&str>,
        page: Option<&str>,
        limit: u32,
        cursor: Option<&str>,
    ) -> ApiResult<EventList> {
        let mut path = format!("/events?limit={limit}");
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            path.push_str(&format!("&q={}", encode(q)));
        }
        if let Some(page) = page {
            path.push_str(&format!("&page={}", encode(page)));
        }
        if let Some(cursor) = cursor {
            path.push_str(&format!("&cursor={}", encode(cursor)));
        }
        self.get(&path, None).await
    }

    /// Everything for sale besides tickets.
    pub async fn products(&self, token: &str, page: Option<&str>) -> ApiResult<ProductList> {
        match page {
            Some(page) => {
                self.get(&format!("/products?page={}", encode(page)), Some(token))
                    .await
            }
            None => self.get("/products", Some(token)).await,
        }
    }

    pub async fn event(&self, id: i64, token: Option<&str>) -> ApiResult<EventDetail> {
        self.get(&format!("/events/{id}"), token).await
    }

    pub async fn buy_tickets(
        &self,
        token: &str,
        event_id: i64,
        request: &BuyTicketsRequest,
        key: &str,
    ) -> ApiResult<BuyTicketsResponse> {
        self.post(
            &format!("/events/{event_id}/tickets"),
            Some(token),
            request,
            Some(key),
        )
        .await
    }

    pub async fn cart_summary(&self, token: &str) -> ApiResult<CartSummary> {
        self.get("/cart/summary", Some(token)).await
    }

    pub async fn cart(&self, token: &str) -> ApiResult<Cart> {
        self.get("/cart", Some(token)).await
    }

    pub async fn remove_ticket(&self, token: &str, id: i64) -> ApiResult<()> {
        self.delete(&format!("/cart/tickets/{id}"), token).await
    }

    pub async fn add_product(
        &self,
        token: &str,
        product_id: i64,
        quantity: i64,
    ) -> ApiResult<CartSummary> {
        let body = AddProductRequest {
            product_id,
            quantity,
        };
        self.post("/cart/products", Some(token), body, None).await
    }

    pub async fn set_line_quantity(
        &self,
        token: &str,
        line: i64,
        quantity: i64,
    ) -> ApiResult<CartSummary> {
        let body = serde_json::json!(UpdateProductRequest { quantity });
        self.send(
            Method::PATCH,
            &format!("/cart/products/{line}"),
            Some(token),
            Some(body),
            None,
            None,
        )
        .await?
        .ok_or_else(|| ApiError::Unexpected("an empty answer".to_owned()))
    }

    pub async fn remove_line(&self, token: &str, line: i64) -> ApiResult<()> {
        self.delete(&format!("/cart/products/{line}"), token).await
    }

    pub async fn remove_booking(&self, token: &str, id: i64) -> ApiResult<()> {
        self.delete(&format!("/cart/bookings/{id}"), token).await
    }

    pub async fn checkout(
        &self,
        token: &str,
        page: Option<&str>,
        key: &str,
    ) -> ApiResult<CheckoutResponse> {
        let body = CheckoutRequest {
            page: page.map(str::to_owned),
        };
        self.post("/checkout", Some(token), body, Some(key)).await
    }

    /// Pays the order on the hosted page, or on a card reader.
    pub async fn pay(
        &self,
        token: &str,
        order_id: i64,
        with: &PayRequest,
        key: &str,
    ) -> ApiResult<CheckoutResponse> {
        self.post(
            &format!("/orders/{order_id}/pay"),
            Some(token),
            serde_json::to_value(with).map_err(|err| ApiError::Unexpected(err.to_string()))?,
            Some(key),
        )
        .await
    }

    /// The order; with `wait`, the server answers when its status leaves pending.
    pub async fn order(&self, token: &str, order_id: i64, wait_secs: u64) -> ApiResult<Order> {
        let path = format!("/orders/{order_id}?wait={wait_secs}");
        let timeout = (wait_secs > 0).then_some(LONG_POLL_TIMEOUT);
        self.send(Method::GET, &path, Some(token), None, None, timeout)
            .await?
            .ok_or_else(|| ApiError::Unexpected("an empty answer".to_owned()))
    }

    pub async fn cancel_order(&self, token: &str, order_id: i64) -> ApiResult<Order> {
        self.post(
            &format!("/orders/{order_id}/cancel"),
            Some(token),
            serde_json::json!({}),
            None,
        )
        .await
    }

    pub async fn orders(&self, token: &str) -> ApiResult<OrderList> {
        self.get("/orders", Some(token)).await
    }

    pub async fn tickets(&self, token: &str) -> ApiResult<TicketList> {
        self.get("/tickets", Some(token)).await
    }

    /// Empties the caller's cart (a kiosk, before every customer).
    pub async fn clear_cart(&self, token: &str) -> ApiResult<()> {
        self.send::<serde_json::Value>(
            Method::POST,
            "/cart/clear",
            Some(token),
            Some(serde_json::json!({})),
            None,
            None,
        )
        .await
        .map(|_| ())
    }

    /// Door staff: checks one scanned or typed code in.
    pub async fn check_in(
        &self,
        token: &str,
        request: &storefront_contract::CheckinRequest,
    ) -> ApiResult<storefront_contract::CheckinResult> {
        // The door does not wait: past this the scan is decided offline.
        self.post_within(
            "/checkin",
            Some(token),
            request,
            None,
            Some(CHECK_IN_TIMEOUT),
        )
        .await
    }

    /// Door staff: uploads the scans made while offline.
    pub async fn check_in_batch(
        &self,
        token: &str,
        batch: &storefront_contract::CheckinBatch,
    ) -> ApiResult<storefront_contract::CheckinBatchResult> {
        self.post("/checkin/batch", Some(token), batch, None).await
    }

    /// Door staff: the event's codes and counts, for scanning without the network.
    pub async fn event_checkins(
        &self,
        token: &str,
        event_id: i64,
    ) -> ApiResult<storefront_contract::EventCheckins> {
        self.get(&format!("/events/{event_id}/checkins"), Some(token))
            .await
    }
}

impl ApiClient {
    /// A card reader the catalog names, and its venue (the venue's accounts).
    pub async fn reader(&self, token: &str, name: &str) -> ApiResult<storefront_contract::Reader> {
        self.get(&format!("/readers/{}", encode(name)), Some(token))
            .await
    }

    /// Managers: every event's sales; with `wait`, answered when they change after `version`.
    pub async fn box_office_events(
        &self,
        token: &str,
        wait: Option<(u64, i64)>,
    ) -> ApiResult<BoxOfficeEvents> {
        let (path, timeout) = match wait {
            Some((secs, version)) => (
                format!("/admin/events?wait={secs}&version={version}"),
                Some(LONG_POLL_TIMEOUT),
            ),
            None => ("/admin/events".to_owned(), None),
        };
        self.send(Method::GET, &path, Some(token), None, None, timeout)
            .await?
            .ok_or_else(|| ApiError::Unexpected("an empty answer".to_owned()))
    }

    /// Managers: one event's sales, and by day.
    pub async fn box_office_event(
        &self,
        token: &str,
        event_id: i64,
    ) -> ApiResult<EventSalesDetail> {
        self.get(&format!("/admin/events/{event_id}"), Some(token))
            .await
    }

    /// Managers: orders found by number, ticket code, or part of the buyer's e-mail or name.
    pub async fn find_orders(&self, token: &str, query: &str) -> ApiResult<FoundOrders> {
        self.get(&format!("/admin/orders?q={}", encode(query)), Some(token))
            .await
    }

    /// Managers: any order, with its buyer and history.
    pub async fn order_detail(&self, token: &str, order_id: i64) -> ApiResult<OrderDetail> {
        self.get(&format!("/admin/orders/{order_id}"), Some(token))
            .await
    }

    /// Managers: refunds tickets of a paid order through SumUp.
    pub async fn refund_tickets(
        &self,
        token: &str,
        order_id: i64,
        request: &RefundRequest,
        key: &str,
    ) -> ApiResult<OrderDetail> {
        self.post(
            &format!("/admin/orders/{order_id}/refund"),
            Some(token),
            request,
            Some(key),
        )
        .await
    }

    /// Managers: guest-list tickets at no cost.
    pub async fn comp(
        &self,
        token: &str,
        request: &CompRequest,
        key: &str,
    ) -> ApiResult<OrderDetail> {
        self.post("/admin/comps", Some(token), request, Some(key))
            .await
    }

    /// Managers: the accountant's CSV of every ticket of paid orders (of one event).
    pub async fn export_csv(&self, token: &str, event_id: Option<i64>) -> ApiResult<String> {
        let path = match event_id {
            Some(id) => format!("/admin/orders.csv?event_id={id}"),
            None => "/admin/orders.csv".to_owned(),
        };
        let network = || ApiError::Network {
            server: self.server.clone(),
        };
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|_| network())?;
        if response.status().is_success() {
            return response.text().await.map_err(|_| network());
        }
        // Refusals come as the contract's JSON error.
        match self.read::<serde_json::Value>(response).await {
            Err(err) => Err(err),
            Ok(_) => Err(ApiError::Unexpected("an error without a reason".to_owned())),
        }
    }
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("wren duo&x=1"), "wren%20duo%26x%3D1");
        assert_eq!(encode("café"), "caf%C3%A9");
    }

    #[test]
    fn errors_read_as_sentences() {
        let err = ApiError::Network {
            server: "http://127.0.0.1:9".to_owned(),
        };
        assert_eq!(
            err.to_string(),
            "Cannot reach the server at http://127.0.0.1:9."
        );
        assert!(err.is_network());
        assert_eq!(
            ApiError::SessionEnded(None).to_string(),
            "Your session ended. Sign in again."
        );
    }
}
