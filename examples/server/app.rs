//! The app of `examples/server`, also started by `tests/server.rs` (which
//! includes this file and `admin.rs` with `#[path]`).
//!
//! Routes:
//!
//! - `GET /orders/{id}`: the handler calls `load_order` → `check_stock`, nested
//!   async fns that log with `loglayer::info!` and take no logger, and hands
//!   `record_view` to another task with `loglayer::spawn` (which keeps the
//!   request's logger); `load_order` and `record_view` also log at debug,
//!   which the default level (`info`) hides. Ids above 1000 (or 0) are not
//!   found (404).
//! - `GET /me`: an "auth" step reads `authorization: Bearer user-<n>`, then
//!   adds `user_id` to the request's logger with
//!   `loglayer::current().with_context(..)`: every later line of this request
//!   carries it, earlier lines and other requests do not. No or bad token: 401.
//! - `POST /checkout/{id}`: fails with an error chain (checkout → payment →
//!   I/O), logged with `loglayer::error!(err = &e, ..)`; answers 500.
//! - With an [`Admin`] (an `ADMIN_TOKEN`): the admin routes of `admin.rs`
//!   (read and change the levels while the service runs), and the level
//!   header: a request with `x-log-level: <level>` and
//!   `x-debug-token: <ADMIN_TOKEN>` logs at that level, alone, its lines
//!   marked `log_level`.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use loglayer::tower::RequestLoggerLayer;
use loglayer::LogLayer;
use serde_json::{json, Value};

use crate::admin::{self, Admin};

/// The router, with a logger per request made from `base`; with `admin`, also
/// the admin routes and the level header.
pub fn app(base: LogLayer, admin: Option<Admin>) -> Router {
    let routes = Router::new()
        .route("/orders/{id}", get(get_order))
        .route("/me", get(me))
        .route("/checkout/{id}", post(checkout));
    let Some(admin) = admin else {
        return routes.layer(RequestLoggerLayer::new(base));
    };
    let admin = std::sync::Arc::new(admin);
    let rule = admin.clone();
    routes
        .merge(admin::routes(admin))
        .layer(RequestLoggerLayer::new(base).level_header(
            axum::http::HeaderName::from_static("x-log-level"),
            move |headers| rule.may_force_level(headers),
        ))
}

struct Order {
    id: u64,
    sku: String,
}

async fn get_order(Path(id): Path<u64>) -> Result<Json<Value>, StatusCode> {
    let Some(order) = load_order(id).await else {
        loglayer::warn!(order_id = id, "order not found");
        return Err(StatusCode::NOT_FOUND);
    };
    // Another task, with a child of the request's logger.
    let view = loglayer::spawn(record_view(id));
    let in_stock = check_stock(&order).await;
    let _ = view.await;
    loglayer::info!(order_id = id, in_stock, "order loaded");
    Ok(Json(
        json!({ "id": order.id, "sku": order.sku, "in_stock": in_stock }),
    ))
}

/// Pretends to query a database. No logger parameter: the macro finds the
/// request's logger.
async fn load_order(id: u64) -> Option<Order> {
    loglayer::info!(order_id = id, "loading order");
    loglayer::debug!(order_id = id, table = "orders", "cache miss, querying");
    tokio::time::sleep(Duration::from_millis(2)).await;
    (1..=1000).contains(&id).then(|| Order {
        id,
        sku: format!("SKU-{:04}", id % 7),
    })
}

/// Background work: logs only at debug.
async fn record_view(id: u64) {
    tokio::task::yield_now().await;
    loglayer::debug!(order_id = id, "view recorded");
}

async fn check_stock(order: &Order) -> u32 {
    tokio::task::yield_now().await;
    let quantity = (order.id % 5) as u32;
    loglayer::info!(order_id = order.id, sku = %order.sku, quantity, "checking stock");
    quantity
}

async fn me(headers: HeaderMap) -> Result<Json<Value>, StatusCode> {
    let Some(user_id) = authenticate(&headers).await else {
        loglayer::warn!("authentication failed");
        return Err(StatusCode::UNAUTHORIZED);
    };
    // From here on, every line of this request (the completion entry too)
    // carries user_id.
    loglayer::current().with_context(json!({ "user_id": user_id }));
    loglayer::info!("authenticated");
    let name = load_profile(user_id).await;
    Ok(Json(json!({ "user_id": user_id, "name": name })))
}

/// The "auth" step: `authorization: Bearer user-<n>`.
async fn authenticate(headers: &HeaderMap) -> Option<u64> {
    loglayer::info!("authenticating");
    tokio::task::yield_now().await;
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer user-")?
        .parse()
        .ok()
}

async fn load_profile(user_id: u64) -> String {
    tokio::time::sleep(Duration::from_millis(1)).await;
    loglayer::info!("loading profile");
    format!("user {user_id}")
}

async fn checkout(Path(id): Path<u64>) -> (StatusCode, Json<Value>) {
    loglayer::info!(order_id = id, "checking out");
    match charge(id).await {
        Ok(()) => (StatusCode::OK, Json(json!({ "paid": true }))),
        Err(e) => {
            loglayer::error!(err = &e, order_id = id, "checkout failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": e.to_string() })),
            )
        }
    }
}

/// Always fails, with an error whose source has a source.
async fn charge(id: u64) -> Result<(), CheckoutError> {
    tokio::task::yield_now().await;
    let io = std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset by card processor",
    );
    Err(CheckoutError {
        order_id: id,
        source: PaymentError { source: io },
    })
}

#[derive(Debug)]
struct CheckoutError {
    order_id: u64,
    source: PaymentError,
}

impl fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not charge order {}", self.order_id)
    }
}

impl Error for CheckoutError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

#[derive(Debug)]
struct PaymentError {
    source: std::io::Error,
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payment gateway unavailable")
    }
}

impl Error for PaymentError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}
