//! A tour of loglayer in one program: run it with
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! It logs JSON lines to stdout: first through a logger used directly (the
//! fluent API), then from nested async functions that find the request's
//! logger on their own.

use loglayer::transport::{ConsoleTransport, JsonTransport};
use loglayer::{with_logger, Level, LogLayer};
use serde::Serialize;
use serde_json::json;

#[derive(Serialize)]
struct Order {
    id: u64,
    sku: String,
    quantity: u32,
}

#[derive(Debug)]
struct OutOfStock {
    sku: String,
}

impl std::fmt::Display for OutOfStock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is out of stock", self.sku)
    }
}

impl std::error::Error for OutOfStock {}

/// Runs in a scope whose logger is a child of the caller's, plus `order_id`.
/// An `Err` it returns is logged once, with the error attached.
#[with_logger(context(order_id = order.id), err(level = warn))]
async fn ship(order: &Order) -> Result<(), OutOfStock> {
    log!(info, "shipping"); // `log!` needs no import inside #[with_logger] fns
    reserve_stock(order).await?;
    log!(info, "shipped");
    Ok(())
}

/// No logger parameter: the macros find the current logger.
async fn reserve_stock(order: &Order) -> Result<(), OutOfStock> {
    loglayer::info!(sku = %order.sku, quantity = order.quantity, "reserving");
    tokio::task::yield_now().await; // the logger survives every .await
    if order.quantity > 10 {
        return Err(OutOfStock {
            sku: order.sku.clone(),
        });
    }
    loglayer::debug!("reserved"); // below the logger's level: not even formatted
    Ok(())
}

#[tokio::main]
async fn main() {
    // 1. The fluent API on a logger you hold.
    let log = LogLayer::builder()
        .transport(JsonTransport::stdout())
        .level(Level::Info)
        .build();
    log.with_context(json!({ "service": "shop" }));
    log.info("starting");
    log.with_metadata(json!({ "port": 8080, "workers": 4 }))
        .info("listening");

    // 2. A logger per request, found by nested code without a parameter.
    for (request_id, quantity) in [("7f3a", 2), ("9c21", 40)] {
        let request_log = log.child();
        request_log.with_context(json!({ "request_id": request_id }));
        let order = Order {
            id: 42,
            sku: "B-12".into(),
            quantity,
        };
        let _ = loglayer::scope(request_log, ship(&order)).await;
    }

    // 3. The console format, for people.
    let console = LogLayer::new(ConsoleTransport::stdout());
    console
        .with_metadata(json!({ "took_ms": 12 }))
        .info("done; the console format looks like this");
    log.flush();
}
