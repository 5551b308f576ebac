//! The completion entry: the one entry per request that says how it ended —
//! completed (at a level chosen by the status), failed, panicked or
//! cancelled — and how long it took (the table in the [module docs](super)).
//!
//! Callers check `Config::completion` first: these functions always log.

use std::time::Instant;

use serde_json::json;

use crate::{Level, LogLayer};

/// Milliseconds since `start`, with microsecond precision.
pub(super) fn latency_ms(start: Instant) -> f64 {
    start.elapsed().as_micros() as f64 / 1000.0
}

/// The response head is ready: error for 5xx, warn for 4xx, else info.
pub(super) fn completed(logger: &LogLayer, message: &str, status: u16, latency_ms: f64) {
    let level = match status {
        500.. => Level::Error,
        400..=499 => Level::Warn,
        _ => Level::Info,
    };
    logger
        .with_metadata(json!({ "status": status, "latency_ms": latency_ms }))
        .log(level, message);
}

/// The inner service returned `Err`.
pub(super) fn failed(logger: &LogLayer, latency_ms: f64) {
    logger
        .with_metadata(json!({ "latency_ms": latency_ms }))
        .error("request failed");
}

/// The inner service panicked, in `call` or in its future; the panic's
/// message goes in `panic`.
pub(super) fn panicked(logger: &LogLayer, start: Instant, panic: &(dyn std::any::Any + Send)) {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic payload)");
    logger
        .with_metadata(json!({ "latency_ms": latency_ms(start), "panic": message }))
        .error("request panicked");
}

/// The response future was dropped before it finished (e.g. the client went
/// away).
pub(super) fn cancelled(logger: &LogLayer, start: Instant) {
    logger
        .with_metadata(json!({ "latency_ms": latency_ms(start) }))
        .warn("request cancelled");
}
