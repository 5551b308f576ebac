//! Bridges between loglayer and the `log` and `tracing` facades.
//!
//! A service rarely logs only through its own code: its dependencies log
//! through [`log`](https://docs.rs/log) or [`tracing`](https://docs.rs/tracing).
//! These bridges route those records to [`current()`](crate::current), so a
//! dependency's `log::warn!` or `tracing::info!` inside a request's
//! [`scope`](crate::scope) carries that request's context.
//!
//! | bridge | feature | direction |
//! |---|---|---|
//! | [`LogBridge`] | `log` | `log` records → the current loglayer logger |
//! | [`TracingLayer`] | `tracing` | `tracing` events (with span fields) → the current loglayer logger |
//! | [`TracingTransport`] | `tracing` | loglayer entries → `tracing` events, for services that keep their subscriber (a transport: it lives in [`transport`](crate::transport), re-exported here) |
//!
//! # From `log`
//!
//! Install once, at startup. `install` returns an error (never panics) when
//! a `log` logger is already set.
//!
//! ```
//! # #[cfg(feature = "log")] {
//! use loglayer::{bridge::LogBridge, transport::CaptureTransport, LogLayer};
//!
//! LogBridge::install().expect("no other `log` logger installed");
//!
//! let capture = CaptureTransport::new();
//! let request_logger = LogLayer::new(capture.clone());
//! request_logger.with_context(serde_json::json!({"request_id": "7f3a"}));
//! loglayer::sync_scope(request_logger, || {
//!     log::warn!(target: "some_dependency", "pool exhausted"); // a dependency logging
//! });
//!
//! let e = &capture.entries()[0];
//! assert_eq!(e["msg"], "pool exhausted");
//! assert_eq!(e["level"], "warn");
//! assert_eq!(e["request_id"], "7f3a");
//! assert_eq!(e["target"], "some_dependency");
//! # }
//! ```
//!
//! # From `tracing`
//!
//! Add [`TracingLayer`] to a `tracing_subscriber` registry; events go to the
//! current loglayer logger with their fields as metadata and the fields of
//! their spans as context.
//!
//! ```
//! # #[cfg(feature = "tracing")] {
//! use loglayer::{bridge::TracingLayer, transport::CaptureTransport, LogLayer};
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let subscriber = tracing_subscriber::registry().with(TracingLayer::new());
//! // At startup: tracing::subscriber::set_global_default(subscriber).unwrap();
//! # let _ = &subscriber;
//! # tracing::subscriber::with_default(subscriber, || {
//! let capture = CaptureTransport::new();
//! loglayer::sync_scope(LogLayer::new(capture.clone()), || {
//!     let span = tracing::info_span!("order", order_id = 42);
//!     let _enter = span.enter();
//!     tracing::info!(sku = "B-12", "reserving");
//! });
//! let e = &capture.entries()[0];
//! assert_eq!(e["msg"], "reserving");
//! assert_eq!(e["order_id"], 42);   // span field: context
//! assert_eq!(e["sku"], "B-12");    // event field: metadata
//! # });
//! # }
//! ```
//!
//! # Into `tracing`
//!
//! [`TracingTransport`] is a [`Transport`](crate::transport::Transport) that
//! re-emits every entry as a `tracing` event, for a service whose output
//! already goes through a `tracing` subscriber. It is
//! `loglayer::transport::TracingTransport`; `loglayer::bridge::TracingTransport`
//! names the same type.
//!
//! ```
//! # #[cfg(feature = "tracing")] {
//! use loglayer::{transport::TracingTransport, LogLayer};
//!
//! let log = LogLayer::new(TracingTransport::new());
//! log.with_metadata(serde_json::json!({"user": 7})).info("signed in");
//! // → a tracing event at INFO, target "loglayer", message "signed in",
//! //   field `fields` = {"user":7}
//! # }
//! ```
//!
//! # Logging while logging
//!
//! A bridge that feeds loglayer and a transport that feeds a facade can form a
//! loop: `tracing` → [`TracingLayer`] → loglayer → [`TracingTransport`] →
//! `tracing` → …, or `log` → [`LogBridge`] → loglayer → a transport whose
//! writer calls `log::warn!` → … The bridges keep a per-thread record of what
//! they are doing and break every such loop at its first turn:
//!
//! - [`TracingLayer`] ignores the events that [`TracingTransport`] emits
//!   (other layers of the subscriber still see them), and events emitted while
//!   it is already passing one event to loglayer;
//! - [`TracingTransport`] skips entries that came from `tracing` through
//!   [`TracingLayer`] (the subscriber already has them), and entries made
//!   while it is already emitting one;
//! - [`LogBridge`] ignores records logged while it is already passing a
//!   record to loglayer, or while [`TracingTransport`] is emitting.
//!
//! Not passing back what came from the other side (an event emitted by
//! [`TracingTransport`], an entry that came from [`TracingLayer`]) is the
//! intended behaviour and is not counted; every other record, event or entry
//! dropped this way is counted in
//! [`failures()`](crate::failures)`.dropped_entries` and reported once on
//! stderr. This comes on top of loglayer's own limit on nested log calls. The flags are
//! set only for the duration of one synchronous call, so they never leak
//! across an `.await` or to another task.

#[cfg(feature = "log")]
mod log;
#[cfg(feature = "tracing")]
mod tracing;

#[cfg(feature = "log")]
#[cfg_attr(docsrs, doc(cfg(feature = "log")))]
pub use self::log::{InstallError, LogBridge};
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub use self::tracing::TracingLayer;
/// Re-exported from [`loglayer::transport`](crate::transport), where it lives
/// with the other transports; this path keeps working.
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
#[doc(no_inline)]
pub use crate::transport::TracingTransport;

pub(crate) use crate::reentry::{active, Activity, ActivityGuard as ActiveGuard};
