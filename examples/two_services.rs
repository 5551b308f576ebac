//! One trace across two services: `cargo run --example two_services`.
//!
//! Service A and service B run on loopback ports, each behind
//! `RequestLoggerLayer`, each logging JSON lines to stdout (with a `service`
//! key to tell them apart). One request goes to A; A's handler calls B
//! through a `reqwest-middleware` client with `PropagateMiddleware`, which
//! sends `traceparent` and `x-request-id` from A's request logger. B's lines
//! carry A's `trace_id` and `request_id`, and B's `parent_span_id` is A's
//! `span_id`. The program checks that, says so on stderr, and exits.

use std::net::SocketAddr;

use axum::{extract::State, routing::get, Router};
use loglayer::propagation::PropagateMiddleware;
use loglayer::tower::RequestLoggerLayer;
use loglayer::transport::{CaptureTransport, JsonTransport};
use loglayer::LogLayer;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::{json, Value};

/// A logger for one service: JSON lines on stdout, plus a capture so the
/// program can check what it printed.
fn service_logger(name: &str, capture: &CaptureTransport) -> LogLayer {
    let logger = LogLayer::builder()
        .transport(JsonTransport::stdout())
        .transport(capture.clone())
        .build();
    logger.with_context(json!({ "service": name }));
    logger
}

/// Serves `app` on an ephemeral loopback port.
async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
}

/// Service B: the inventory.
async fn stock() -> &'static str {
    loglayer::info!(sku = "B-12", "checking stock");
    "in stock"
}

/// Service A: the shop; its handler calls B.
#[derive(Clone)]
struct Shop {
    inventory: SocketAddr,
    client: ClientWithMiddleware,
}

async fn order(State(shop): State<Shop>) -> String {
    loglayer::info!(order_id = 42, "placing order");
    // The middleware adds traceparent and x-request-id from this request's logger.
    let url = format!("http://{}/stock/B-12", shop.inventory);
    let answer = match shop.client.get(url).send().await {
        Ok(res) => res.text().await.unwrap_or_default(),
        Err(err) => {
            loglayer::error!(err = &err, "inventory unreachable");
            String::new()
        }
    };
    loglayer::info!(answer = %answer, "order placed");
    answer
}

#[tokio::main]
async fn main() {
    let (capture_a, capture_b) = (CaptureTransport::new(), CaptureTransport::new());
    let (log_a, log_b) = (
        service_logger("a", &capture_a),
        service_logger("b", &capture_b),
    );

    let b = serve(
        Router::new()
            .route("/stock/{sku}", get(stock))
            .layer(RequestLoggerLayer::new(log_b.clone())),
    )
    .await;

    // One line on the client: every call carries the request's trace context.
    let client = ClientBuilder::new(reqwest::Client::builder().no_proxy().build().unwrap())
        .with(PropagateMiddleware::new())
        .build();
    let a = serve(
        Router::new()
            .route("/order", get(order))
            .with_state(Shop {
                inventory: b,
                client,
            })
            .layer(RequestLoggerLayer::new(log_a.clone())),
    )
    .await;
    eprintln!("service A on http://{a}, service B on http://{b}");

    // The outside caller: no traceparent, so A starts the trace.
    let caller = reqwest::Client::builder().no_proxy().build().unwrap();
    let res = caller
        .get(format!("http://{a}/order"))
        .send()
        .await
        .expect("A answers");
    eprintln!(
        "A answered {}: {:?}",
        res.status(),
        res.text().await.unwrap_or_default()
    );
    log_a.flush();
    log_b.flush();

    // What a reader should see in the lines above, checked.
    let (a_lines, b_lines) = (capture_a.entries(), capture_b.entries());
    let key = |lines: &[Value], k: &str| lines.first().map(|e| e[k].clone()).unwrap_or_default();
    let joined = !a_lines.is_empty()
        && !b_lines.is_empty()
        && b_lines.iter().all(|e| {
            e["trace_id"] == key(&a_lines, "trace_id")
                && e["request_id"] == key(&a_lines, "request_id")
                && e["parent_span_id"] == key(&a_lines, "span_id")
        });
    if joined {
        eprintln!(
            "B joined A's trace {}: B's parent_span_id {} is A's span_id",
            key(&a_lines, "trace_id"),
            key(&a_lines, "span_id"),
        );
    } else {
        eprintln!("B did not join A's trace");
        std::process::exit(1);
    }
}
