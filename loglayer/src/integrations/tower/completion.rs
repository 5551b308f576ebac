//! The completion entry: the one entry per request that says how it ended —
//! completed (at a level chosen by the status), failed, panicked or
//! cancelled — and how long it took (the table in the [module docs](super)).
//!
//! Callers check `Config::completion` first. Each function checks its
//! entry's level before building anything, and the metadata is a small
//! struct, not a JSON map: a request whose completion entry is not written
//! allocates nothing here.

use std::time::Instant;

use serde_core::ser::{Serialize, SerializeMap, Serializer};

use crate::{Level, LogLayer};

/// A completion entry's metadata, keys in alphabetical order.
struct Metadata<'a> {
    latency_ms: f64,
    panic: Option<&'a str>,
    status: Option<u16>,
}

impl Serialize for Metadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = 1 + usize::from(self.panic.is_some()) + usize::from(self.status.is_some());
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry("latency_ms", &self.latency_ms)?;
        if let Some(panic) = self.panic {
            map.serialize_entry("panic", panic)?;
        }
        if let Some(status) = self.status {
            map.serialize_entry("status", &status)?;
        }
        map.end()
    }
}

/// Logs one completion entry, if `level` passes.
fn log<'a>(
    logger: &LogLayer,
    level: Level,
    message: &str,
    metadata: impl FnOnce() -> Metadata<'a>,
) {
    if logger.inner.is_enabled(level) {
        logger.with_metadata(metadata()).log(level, message);
    }
}

/// Milliseconds since `start`, with microsecond precision.
pub(super) fn latency_ms(start: Instant) -> f64 {
    start.elapsed().as_micros() as f64 / 1000.0
}

/// The response head is ready: error for 5xx, warn for 4xx, else info.
pub(super) fn completed(logger: &LogLayer, message: &str, status: u16, start: Instant) {
    let level = match status {
        500.. => Level::Error,
        400..=499 => Level::Warn,
        _ => Level::Info,
    };
    log(logger, level, message, || Metadata {
        latency_ms: latency_ms(start),
        panic: None,
        status: Some(status),
    });
}

/// The inner service returned `Err`.
pub(super) fn failed(logger: &LogLayer, start: Instant) {
    log(logger, Level::Error, "request failed", || Metadata {
        latency_ms: latency_ms(start),
        panic: None,
        status: None,
    });
}

/// The inner service panicked, in `call` or in its future; the panic's
/// message goes in `panic`.
pub(super) fn panicked(logger: &LogLayer, start: Instant, panic: &(dyn std::any::Any + Send)) {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic payload)");
    log(logger, Level::Error, "request panicked", || Metadata {
        latency_ms: latency_ms(start),
        panic: Some(message),
        status: None,
    });
}

/// The response future was dropped before it finished (e.g. the client went
/// away).
pub(super) fn cancelled(logger: &LogLayer, start: Instant) {
    log(logger, Level::Warn, "request cancelled", || Metadata {
        latency_ms: latency_ms(start),
        panic: None,
        status: None,
    });
}
