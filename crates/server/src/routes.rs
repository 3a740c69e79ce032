//! The router: every endpoint of `/api/v1`, its middleware, and answers for unknown paths.

use std::any::Any;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, OriginalUri, State};
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use axum::{Json, Router};
use storefront_contract::{API_BASE, Health};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::http::{
    admin, auth, box_office, cart, checkin, checkout, events, idempotency, orders, readers,
    ticket_page, webhooks,
};
use crate::state::AppState;

/// Request bodies larger than this are refused.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One endpoint: its method, its path under `/api/v1`, and its handler.
struct Endpoint {
    method: Method,
    path: &'static str,
    route: MethodRouter<AppState>,
    /// Honours `Idempotency-Key`.
    idempotent: bool,
}

fn endpoint<H, T>(method: Method, path: &'static str, handler: H) -> Endpoint
where
    H: Handler<T, AppState>,
    T: 'static,
{
    // Every method named in `endpoints` is one of the standard ones a filter exists for.
    #[allow(clippy::expect_used)]
    let filter = MethodFilter::try_from(method.clone()).expect("a standard method");
    Endpoint {
        method,
        path,
        route: on(filter, handler),
        idempotent: false,
    }
}

impl Endpoint {
    fn idempotent(self) -> Endpoint {
        Endpoint {
            idempotent: true,
            ..self
        }
    }
}

fn endpoints() -> Vec<Endpoint> {
    use Method as M;
    vec![
        endpoint(M::GET, "/health", health),
        endpoint(M::POST, "/auth/login", auth::login),
        endpoint(M::GET, "/auth/me", auth::me),
        endpoint(M::POST, "/auth/logout", auth::logout),
        endpoint(M::POST, "/auth/signup", auth::signup),
        endpoint(M::POST, "/auth/reset", auth::reset),
        endpoint(M::POST, "/auth/reset/confirm", auth::reset_confirm),
        endpoint(M::GET, "/events", events::list_events),
        endpoint(M::GET, "/events/{id}", events::get_event),
        endpoint(M::POST, "/events/{id}/tickets", events::buy_tickets).idempotent(),
        endpoint(M::GET, "/cart/summary", cart::get_summary),
        endpoint(M::GET, "/cart", cart::get_cart),
        endpoint(M::DELETE, "/cart/tickets/{id}", cart::remove_ticket),
        endpoint(M::POST, "/cart/clear", cart::clear_cart),
        endpoint(M::GET, "/products", cart::list_products),
        endpoint(M::POST, "/cart/products", cart::add_product),
        endpoint(M::PATCH, "/cart/products/{line}", cart::update_product_line),
        endpoint(
            M::DELETE,
            "/cart/products/{line}",
            cart::remove_product_line,
        ),
        endpoint(M::DELETE, "/cart/bookings/{id}", cart::remove_booking),
        endpoint(M::POST, "/checkout", checkout::checkout).idempotent(),
        endpoint(M::GET, "/orders", orders::list_orders),
        endpoint(M::GET, "/orders/{id}", orders::get_order),
        endpoint(M::POST, "/orders/{id}/pay", orders::pay_order).idempotent(),
        endpoint(M::POST, "/orders/{id}/cancel", orders::cancel_order),
        endpoint(M::POST, "/orders/{id}/email", orders::email_order),
        endpoint(M::GET, "/tickets", orders::list_tickets),
        endpoint(M::GET, "/readers/{name}", readers::reader),
        endpoint(M::POST, "/webhooks/sumup", webhooks::sumup_webhook),
        endpoint(M::POST, "/checkin", checkin::check_in),
        endpoint(M::POST, "/checkin/batch", checkin::check_in_batch),
        endpoint(M::GET, "/events/{id}/checkins", checkin::event_checkins),
        endpoint(M::POST, "/admin/catalog", admin::apply_catalog),
        endpoint(M::GET, "/admin/events", box_office::events),
        endpoint(M::GET, "/admin/events/{id}", box_office::event),
        endpoint(M::GET, "/admin/orders", box_office::search_orders),
        endpoint(M::GET, "/admin/orders.csv", box_office::export),
        endpoint(M::GET, "/admin/orders/{id}", box_office::order),
        endpoint(M::POST, "/admin/orders/{id}/refund", box_office::refund).idempotent(),
        endpoint(M::POST, "/admin/comps", box_office::comp).idempotent(),
        endpoint(M::GET, "/admin/audit", box_office::audit),
    ]
}

/// Every endpoint the server answers, as `(method, path under /api/v1)`; the OpenAPI
/// document is checked against this list.
pub fn api_routes() -> Vec<(Method, &'static str)> {
    endpoints()
        .into_iter()
        .map(|e| (e.method, e.path))
        .collect()
}

/// The API and its pages, with `mounted` (paths, each with a router of its own there, such as
/// the SumUp sandbox and the mail sandbox) served beside them under the same middleware.
pub fn router(state: AppState, mounted: Vec<(&str, Router)>) -> Router {
    let api = endpoints()
        .into_iter()
        .fold(Router::new(), |router, e| {
            let route = if e.idempotent {
                e.route.layer(middleware::from_fn_with_state(
                    state.clone(),
                    idempotency::idempotent,
                ))
            } else {
                e.route
            };
            router.route(e.path, route)
        })
        .method_not_allowed_fallback(method_not_allowed);
    let mut app = Router::new()
        .nest(API_BASE, api)
        .route(
            "/checkout/return",
            axum::routing::get(webhooks::return_page),
        )
        .route("/t/{secret}", axum::routing::get(ticket_page::tickets_page))
        .route("/", axum::routing::get(home))
        .route("/openapi.yaml", axum::routing::get(openapi));
    for (path, service) in mounted {
        app = app.nest_service(path, service);
    }
    app.fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A database that has not answered within this is down, as far as a load balancer cares.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

/// `200 ok` while the database answers (within 2 s); `503` otherwise, so that a load balancer
/// takes this server out instead of sending it buyers it cannot serve.
async fn health(State(state): State<AppState>) -> Response {
    let version = env!("CARGO_PKG_VERSION").to_owned();
    match tokio::time::timeout(HEALTH_TIMEOUT, state.store().ping()).await {
        Ok(Ok(())) => Json(Health {
            status: "ok".to_owned(),
            version,
        })
        .into_response(),
        outcome => {
            let why = match outcome {
                Ok(Err(err)) => err.to_string(),
                _ => "no answer within 2 s".to_owned(),
            };
            tracing::warn!(why, "health check: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", "5")],
                Json(Health {
                    status: "unavailable".to_owned(),
                    version,
                }),
            )
                .into_response()
        }
    }
}

/// The OpenAPI document of the API this server answers.
const OPENAPI: &str = include_str!("../../../assets/openapi.yaml");

/// What this server is, for whoever opens its address in a browser.
async fn home() -> axum::response::Html<String> {
    axum::response::Html(format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>storefront</title>\
         <p>This is a storefront server (version {}). Its HTTP API is at \
         <code>{API_BASE}</code>, described by the OpenAPI document \
         <a href=\"/openapi.yaml\">/openapi.yaml</a>; the terminal client is \
         <code>storefront --server &lt;this address&gt;</code>.</p></html>",
        env!("CARGO_PKG_VERSION")
    ))
}

async fn openapi() -> impl IntoResponse {
    (
        [("content-type", "application/yaml; charset=utf-8")],
        OPENAPI,
    )
}

async fn not_found() -> ApiError {
    ApiError::NotFound("There is nothing at this address.")
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}.", uri.path()))
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::internal("a handler panicked").into_response()
}
