//! A logger per HTTP request, as a tower middleware (feature `tower`): works
//! with axum, hyper, tonic and anything else built on
//! [`tower_service::Service`] and the [`http`] types.
//!
//! [`RequestLoggerLayer::new(logger)`](RequestLoggerLayer::new) wraps a
//! service. For every request it makes a [`child`](crate::LogLayer::child) of
//! `logger` with `request_id`, `method` and `path` in its context (plus the
//! [trace context](#trace-context): `trace_id`, `span_id`, `trace_flags`,
//! and `parent_span_id` when a valid W3C `traceparent` header came in),
//! and makes that child the [current logger](crate::current) while the inner
//! service's `call` runs, while its response future is polled (and dropped),
//! and while the response body is polled. Every function the handler calls can
//! then log with `loglayer::info!` and friends, with the request's context and
//! no logger parameter — the Rust counterpart of LogLayer's Express +
//! `AsyncLocalStorage` guide.
//!
//! With axum (`axum` is not a dependency of loglayer, so this snippet is not
//! compiled here; `examples/server` in the repository is the same code, run):
//!
//! ```ignore
//! use axum::{routing::get, Router};
//! use loglayer::tower::RequestLoggerLayer;
//!
//! async fn hello() -> &'static str {
//!     loglayer::info!("saying hello");   // carries request_id, method, path
//!     "hello"
//! }
//!
//! let app: Router = Router::new()
//!     .route("/", get(hello))
//!     .layer(RequestLoggerLayer::new(loglayer::from_env()));
//! ```
//!
//! Driven by hand, with any `Service<http::Request<B>>`:
//!
//! ```
//! use std::convert::Infallible;
//! use loglayer::{tower::RequestLoggerLayer, transport::CaptureTransport, LogLayer};
//! use tower_layer::Layer;
//! use tower_service::Service;
//!
//! // A tiny handler service (with axum this is your router).
//! #[derive(Clone)]
//! struct Hello;
//! impl Service<http::Request<String>> for Hello {
//!     type Response = http::Response<String>;
//!     type Error = Infallible;
//!     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
//!     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
//!         std::task::Poll::Ready(Ok(()))
//!     }
//!     fn call(&mut self, _req: http::Request<String>) -> Self::Future {
//!         loglayer::info!("saying hello");          // no logger parameter
//!         std::future::ready(Ok(http::Response::new("hello".to_string())))
//!     }
//! }
//!
//! let capture = CaptureTransport::new();
//! let mut svc = RequestLoggerLayer::new(LogLayer::new(capture.clone())).layer(Hello);
//!
//! let req = http::Request::get("/hello")
//!     .header("x-request-id", "req-42")
//!     .body(String::new())
//!     .unwrap();
//! let res = futures::executor::block_on(svc.call(req)).unwrap();
//! assert_eq!(res.headers()["x-request-id"], "req-42");
//!
//! let entries = capture.entries();
//! assert_eq!(entries[0]["msg"], "saying hello");
//! assert_eq!(entries[0]["request_id"], "req-42");
//! assert_eq!(entries[0]["method"], "GET");
//! assert_eq!(entries[0]["path"], "/hello");
//! assert_eq!(entries[1]["msg"], "request completed");
//! assert_eq!(entries[1]["status"], 200);
//! assert!(entries[1]["latency_ms"].as_f64().unwrap() >= 0.0);
//! ```
//!
//! # The request id
//!
//! The incoming `x-request-id` header (see
//! [`request_id_header`](RequestLoggerLayer::request_id_header)) is used when
//! it matches `[A-Za-z0-9._-]{1,128}`; otherwise — missing, empty, too long,
//! other characters (spaces, tabs, non-ASCII, `/`…), or the header repeated —
//! a new id is generated: 32 lowercase hex digits, unique within the process
//! and unpredictable across processes. The id in use replaces the header on the
//! request the inner service sees and is set on the response.
//!
//! # Trace context
//!
//! Every request gets these context keys, in the W3C Trace Context model:
//!
//! | key | value |
//! |---|---|
//! | `trace_id` | the caller's trace id (32 lowercase hex digits) when a valid `traceparent` came in, else a new random one |
//! | `span_id` | a **new** random id for this service's handling of the request (16 lowercase hex digits, never all zero) |
//! | `parent_span_id` | the caller's span id (the `traceparent`'s parent-id), only when a valid `traceparent` came in |
//! | `trace_flags` | the caller's flags (2 hex digits), or `01` (sampled) for a new trace |
//! | `tracestate` | the caller's `tracestate`, unchanged, only with a valid `traceparent` and only when it is acceptable (below) |
//!
//! [`start_trace(false)`](RequestLoggerLayer::start_trace) turns off starting
//! new traces: a request without a valid `traceparent` then has no trace keys.
//! [`loglayer::propagation`](crate::propagation) sends these keys on to the
//! next service (`traceparent` with this `span_id` as the parent).
//!
//! A single `traceparent` header in the W3C format
//! (`00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`, lowercase) is
//! validated strictly: version `ff`, upper-case or non-hex digits, all-zero
//! ids, wrong lengths or separators, or several `traceparent` headers are
//! ignored (and a new trace starts). A version above `00` is accepted as the
//! specification asks (its first four fields, followed by nothing or by `-`).
//! `tracestate` headers are joined with `,` and kept when the result is at most
//! 512 bytes of printable ASCII (no control characters); otherwise dropped
//! whole, never cut.
//!
//! # The completion entry
//!
//! One entry per request, logged by the request's logger (so it also carries
//! any context the handler added) **when the response head is ready** — that is
//! when the inner service's future resolves, before the body is sent:
//!
//! | outcome | level | message | metadata |
//! |---|---|---|---|
//! | response 5xx | error | `request completed` (or [`completion_message`](RequestLoggerLayer::completion_message)) | `status`, `latency_ms` |
//! | response 4xx | warn | same | same |
//! | other responses | info | same | same |
//! | the service returned `Err` | error | `request failed` | `latency_ms` |
//! | the service panicked (in `call` or in its future) | error | `request panicked` | `latency_ms`, `panic` (the message) |
//! | the future was dropped first (e.g. the client went away) | warn | `request cancelled` | `latency_ms` |
//!
//! `latency_ms` is the time from `call` to the response head, in milliseconds
//! with microsecond precision. Entries logged while the body streams come after
//! the completion entry. [`completion(false)`](RequestLoggerLayer::completion)
//! turns all of these entries off.
//!
//! # Panics and isolation
//!
//! The scope is entered around each `call`, poll and drop, and left through a
//! guard, so a handler that panics leaves nothing on its thread: the next
//! request handled there starts clean. The panic itself is logged and then
//! resumed unchanged.
//!
//! Work the handler hands to plain `tokio::spawn` runs outside the scope (the
//! runtime polls it, not this middleware) and logs with the default logger;
//! use [`loglayer::spawn`](crate::spawn) to give a task the request's logger.
//!
//! The request's logger is also put in the request's extensions, for handlers
//! that want it as a value (with axum: `Extension<LogLayer>`).
//!
//! # Debugging one request
//!
//! [`level_header`](RequestLoggerLayer::level_header) lets an authorised
//! request choose its own level with a header (`x-log-level: debug`): that
//! request, and everything under its logger, logs at that level with
//! `log_level` in its context, while every other request keeps the normal
//! levels. To change the levels of the whole service while it runs, build the
//! base logger with a [`LevelControl`](crate::LevelControl).
//!
//! # Debug lines only for the requests that fail
//!
//! [`fingers_crossed`](RequestLoggerLayer::fingers_crossed) gives every
//! request a bounded buffer ([`FingersCrossed`](crate::FingersCrossed)): its
//! entries below the normal levels, down to a chosen level, wait there
//! instead of being dropped. If the request fails — an `error` entry under
//! its logger, a 5xx response, an `Err` from the service or a panic — they
//! are written first, in order, with their times and `"buffered": true`; if
//! it succeeds they are discarded unwritten.

mod body;
mod completion;
mod future;
mod layer;
mod level_header;
mod random;
mod request_id;
mod service;
mod trace;

pub use body::ResponseBody;
pub use future::ResponseFuture;
pub use layer::RequestLoggerLayer;
pub use service::RequestLogger;
