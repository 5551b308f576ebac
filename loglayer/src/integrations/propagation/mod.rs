//! Trace context and request id on outgoing calls (feature `tower`): the
//! client half of [`RequestLoggerLayer`](crate::tower::RequestLoggerLayer).
//!
//! The middleware puts the request's trace in the request logger's context
//! (`trace_id`, this service's `span_id`, `trace_flags`, `tracestate`, see
//! [trace context](crate::tower#trace-context)) along with `request_id`.
//! [`outgoing_headers`] turns the **current** logger's context back into
//! headers for a call to the next service, so that service's middleware joins
//! the same trace, with this service's span as the parent:
//!
//! | header | value |
//! |---|---|
//! | `traceparent` | `00-{trace_id}-{span_id}-{trace_flags}` |
//! | `tracestate` | the `tracestate` that came in, unchanged (only with a `traceparent`) |
//! | `x-request-id` | `request_id` |
//!
//! Outside a request — no [scope](crate::scope), or a logger without these
//! keys — there is nothing to send and the map is empty. Each header is
//! checked on the way out with the same grammar the middleware accepts
//! (`trace_flags` defaults to `01` when a scope set only the ids by hand); a
//! key that does not fit is left out rather than sent malformed.
//!
//! One line on the client makes every call carry them:
//!
//! - [`PropagateLayer`]: a tower layer for tower, hyper and tonic clients
//!   (any `Service<http::Request<B>>`);
//! - [`PropagateMiddleware`] (feature `reqwest`): a `reqwest-middleware`
//!   middleware.
//!
//! Both add the headers when the request is sent — in the scope of the code
//! that sends it — and never replace a header the caller set: a request that
//! already has a `traceparent` or a `tracestate` keeps its trace headers as
//! they are, one that already has an `x-request-id` keeps that.
//!
//! ```
//! use loglayer::{propagation::outgoing_headers, transport::CaptureTransport, LogLayer};
//!
//! assert!(outgoing_headers().is_empty()); // outside every scope
//!
//! // What RequestLoggerLayer puts in a request's logger:
//! let logger = LogLayer::new(CaptureTransport::new());
//! logger.with_context(serde_json::json!({
//!     "request_id": "req-7",
//!     "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
//!     "span_id": "00f067aa0ba902b7",
//!     "trace_flags": "01",
//! }));
//! let headers = loglayer::sync_scope(logger, outgoing_headers);
//! assert_eq!(
//!     headers["traceparent"],
//!     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
//! );
//! assert_eq!(headers["x-request-id"], "req-7");
//! assert!(headers.get("tracestate").is_none()); // none came in
//! ```

mod layer;
mod outgoing;
#[cfg(feature = "reqwest")]
mod reqwest;
pub(crate) mod w3c;

pub use layer::{Propagate, PropagateLayer};
pub use outgoing::outgoing_headers;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use reqwest::PropagateMiddleware;
