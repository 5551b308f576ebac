//! A logger per HTTP request, as a tower middleware (feature `tower`): works
//! with axum, hyper, tonic and anything else built on
//! [`tower_service::Service`] and the [`http`] types.
//!
//! [`RequestLoggerLayer::new(logger)`](RequestLoggerLayer::new) wraps a
//! service. For every request it makes a [`child`](LogLayer::child) of
//! `logger` with `request_id`, `method` and `path` in its context (plus
//! `trace_id` and `span_id` when a valid W3C `traceparent` header came in),
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
//! A single `traceparent` header in the W3C Trace Context format
//! (`00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`, lowercase) puts
//! `trace_id` and `span_id` (the caller's parent-id) in the context. It is
//! validated strictly: version `ff`, upper-case or non-hex digits, all-zero
//! ids, wrong lengths or separators, or several `traceparent` headers are
//! ignored. A version above `00` is accepted as the specification asks (its
//! first four fields, followed by nothing or by `-`).
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

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use serde_json::{json, Map, Value};

use crate::{Level, LogLayer, Scoped};

/// The default header for the request id.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Options shared by a layer and the services it makes.
#[derive(Clone, Debug)]
struct Config {
    /// The completion message, or `None` for no completion entries.
    completion: Option<Cow<'static, str>>,
    header: HeaderName,
}

/// A tower [`Layer`](tower_layer::Layer) that gives every HTTP request its
/// own logger; see the [module docs](self).
///
/// ```
/// use loglayer::{tower::RequestLoggerLayer, LogLayer};
/// # let capture = loglayer::transport::CaptureTransport::new();
/// let layer = RequestLoggerLayer::new(LogLayer::new(capture))
///     .completion_message("served")
///     .request_id_header(http::HeaderName::from_static("x-correlation-id"));
/// // with axum: Router::new().route(..).layer(layer)
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct RequestLoggerLayer {
    logger: LogLayer,
    config: Arc<Config>,
}

impl fmt::Debug for RequestLoggerLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLoggerLayer")
            .field("logger", &self.logger)
            .field("completion", &self.config.completion)
            .field("request_id_header", &self.config.header)
            .finish()
    }
}

impl RequestLoggerLayer {
    /// A layer whose per-request loggers are children of `logger` (they share
    /// its transports, plugins and level, and start with a snapshot of its
    /// context).
    ///
    /// ```
    /// use loglayer::{tower::RequestLoggerLayer, transport::CaptureTransport, LogLayer};
    ///
    /// let base = LogLayer::new(CaptureTransport::new());
    /// base.with_context(serde_json::json!({"service": "shop"}));
    /// let layer = RequestLoggerLayer::new(base);
    /// # let _ = layer;
    /// ```
    pub fn new(logger: LogLayer) -> Self {
        RequestLoggerLayer {
            logger,
            config: Arc::new(Config {
                completion: Some(Cow::Borrowed("request completed")),
                header: X_REQUEST_ID,
            }),
        }
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Uses `message` instead of `"request completed"` for the completion
    /// entry (and turns completion entries back on if they were off).
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use loglayer::{tower::RequestLoggerLayer, transport::CaptureTransport, LogLayer};
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    ///
    /// # #[derive(Clone)] struct Ok200;
    /// # impl Service<http::Request<String>> for Ok200 {
    /// #     type Response = http::Response<String>;
    /// #     type Error = Infallible;
    /// #     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
    /// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn call(&mut self, _: http::Request<String>) -> Self::Future { std::future::ready(Ok(http::Response::new(String::new()))) }
    /// # }
    /// let capture = CaptureTransport::new();
    /// let mut svc = RequestLoggerLayer::new(LogLayer::new(capture.clone()))
    ///     .completion_message("served")
    ///     .layer(Ok200);
    /// futures::executor::block_on(svc.call(http::Request::new(String::new()))).unwrap();
    /// assert_eq!(capture.messages(), ["served"]);
    /// ```
    pub fn completion_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.config_mut().completion = Some(message.into());
        self
    }

    /// Turns the completion entries on (the default) or off — all of them:
    /// completed, failed, panicked and cancelled.
    ///
    /// ```
    /// # use loglayer::{tower::RequestLoggerLayer, LogLayer, transport::CaptureTransport};
    /// let layer = RequestLoggerLayer::new(LogLayer::new(CaptureTransport::new())).completion(false);
    /// # let _ = layer;
    /// ```
    pub fn completion(mut self, enabled: bool) -> Self {
        let config = self.config_mut();
        match (enabled, &config.completion) {
            (false, _) => config.completion = None,
            (true, None) => config.completion = Some(Cow::Borrowed("request completed")),
            (true, Some(_)) => {}
        }
        self
    }

    /// No completion entries: the same as [`completion(false)`](Self::completion).
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use loglayer::{tower::RequestLoggerLayer, transport::CaptureTransport, LogLayer};
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    ///
    /// # #[derive(Clone)] struct Ok200;
    /// # impl Service<http::Request<String>> for Ok200 {
    /// #     type Response = http::Response<String>;
    /// #     type Error = Infallible;
    /// #     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
    /// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn call(&mut self, _: http::Request<String>) -> Self::Future { std::future::ready(Ok(http::Response::new(String::new()))) }
    /// # }
    /// let capture = CaptureTransport::new();
    /// let mut svc = RequestLoggerLayer::new(LogLayer::new(capture.clone()))
    ///     .no_completion_entry()
    ///     .layer(Ok200);
    /// let res = futures::executor::block_on(svc.call(http::Request::new(String::new()))).unwrap();
    /// assert!(res.headers().contains_key("x-request-id")); // the id is still set
    /// assert!(capture.is_empty());
    /// ```
    pub fn no_completion_entry(self) -> Self {
        self.completion(false)
    }

    /// Reads and returns the request id in `header` instead of `x-request-id`.
    ///
    /// ```
    /// # use loglayer::{tower::RequestLoggerLayer, LogLayer, transport::CaptureTransport};
    /// let layer = RequestLoggerLayer::new(LogLayer::new(CaptureTransport::new()))
    ///     .request_id_header(http::HeaderName::from_static("x-correlation-id"));
    /// # let _ = layer;
    /// ```
    pub fn request_id_header(mut self, header: HeaderName) -> Self {
        self.config_mut().header = header;
        self
    }
}

impl<S> tower_layer::Layer<S> for RequestLoggerLayer {
    type Service = RequestLogger<S>;

    fn layer(&self, inner: S) -> RequestLogger<S> {
        RequestLogger {
            inner,
            logger: self.logger.clone(),
            config: self.config.clone(),
        }
    }
}

/// The service made by [`RequestLoggerLayer`]: runs `S` with a logger per
/// request; see the [module docs](self).
///
/// ```
/// use std::convert::Infallible;
/// use loglayer::{tower::{RequestLogger, RequestLoggerLayer}, transport::CaptureTransport, LogLayer};
/// use tower_layer::Layer;
///
/// # #[derive(Clone)] struct Ok200;
/// # impl tower_service::Service<http::Request<String>> for Ok200 {
/// #     type Response = http::Response<String>;
/// #     type Error = Infallible;
/// #     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
/// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
/// #     fn call(&mut self, _: http::Request<String>) -> Self::Future { std::future::ready(Ok(http::Response::new(String::new()))) }
/// # }
/// let svc: RequestLogger<Ok200> =
///     RequestLoggerLayer::new(LogLayer::new(CaptureTransport::new())).layer(Ok200);
/// # let _ = svc;
/// ```
#[derive(Clone)]
pub struct RequestLogger<S> {
    inner: S,
    logger: LogLayer,
    config: Arc<Config>,
}

impl<S: fmt::Debug> fmt::Debug for RequestLogger<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestLogger")
            .field("inner", &self.inner)
            .field("logger", &self.logger)
            .finish_non_exhaustive()
    }
}

impl<S, B, ResBody> tower_service::Service<http::Request<B>> for RequestLogger<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let start = Instant::now();
        let headers = req.headers();
        let request_id = incoming_request_id(headers, &self.config.header)
            .cloned()
            .unwrap_or_else(generate_request_id);

        let mut context = Map::new();
        context.insert(
            "request_id".into(),
            Value::String(request_id.to_str().unwrap_or_default().to_owned()),
        );
        context.insert("method".into(), req.method().as_str().into());
        context.insert("path".into(), req.uri().path().into());
        if let Some((trace_id, span_id)) = traceparent(headers) {
            context.insert("trace_id".into(), trace_id.into());
            context.insert("span_id".into(), span_id.into());
        }
        let logger = self.logger.child();
        logger.with_context(Value::Object(context));

        req.headers_mut()
            .insert(self.config.header.clone(), request_id.clone());
        req.extensions_mut().insert(logger.clone());

        let inner = &mut self.inner;
        let called = catch_unwind(AssertUnwindSafe(|| {
            crate::sync_scope(logger.clone(), || inner.call(req))
        }));
        let future = match called {
            Ok(future) => future,
            Err(panic) => {
                if self.config.completion.is_some() {
                    log_panic(&logger, start, &*panic);
                }
                resume_unwind(panic)
            }
        };
        ResponseFuture {
            future: crate::scope(logger.clone(), future),
            state: Some(Pending {
                logger,
                start,
                request_id,
                config: self.config.clone(),
            }),
        }
    }
}

/// What a [`ResponseFuture`] needs until it has logged its completion entry.
struct Pending {
    logger: LogLayer,
    start: Instant,
    request_id: HeaderValue,
    config: Arc<Config>,
}

pin_project_lite::pin_project! {
    /// The future of a [`RequestLogger`]: the inner service's future, polled
    /// (and dropped) in the request's scope. It logs the completion entry and
    /// sets the request id on the response.
    ///
    /// ```
    /// fn assert_future<F: std::future::Future>() {}
    /// assert_future::<loglayer::tower::ResponseFuture<std::future::Ready<Result<http::Response<String>, ()>>>>();
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        future: Scoped<F>,
        state: Option<Pending>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(p) = this.project().state.take() {
                if p.config.completion.is_some() {
                    p.logger
                        .with_metadata(json!({ "latency_ms": latency_ms(p.start) }))
                        .warn("request cancelled");
                }
            }
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<ResponseBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.state.is_none() {
            // Polled after completion (or after a panic): stay pending.
            return Poll::Pending;
        }
        let mut future = this.future;
        let polled = catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)));
        let result = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => result,
            Err(panic) => {
                let p = this.state.take().expect("checked above");
                if p.config.completion.is_some() {
                    log_panic(&p.logger, p.start, &*panic);
                }
                resume_unwind(panic)
            }
        };
        let p = this.state.take().expect("checked above");
        let latency = latency_ms(p.start);
        Poll::Ready(match result {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                parts
                    .headers
                    .insert(p.config.header.clone(), p.request_id.clone());
                if let Some(message) = &p.config.completion {
                    let status = parts.status.as_u16();
                    let level = match status {
                        500.. => Level::Error,
                        400..=499 => Level::Warn,
                        _ => Level::Info,
                    };
                    p.logger
                        .with_metadata(json!({ "status": status, "latency_ms": latency }))
                        .log(level, message);
                }
                Ok(http::Response::from_parts(
                    parts,
                    ResponseBody {
                        body,
                        logger: p.logger,
                    },
                ))
            }
            Err(e) => {
                if p.config.completion.is_some() {
                    p.logger
                        .with_metadata(json!({ "latency_ms": latency }))
                        .error("request failed");
                }
                Err(e)
            }
        })
    }
}

pin_project_lite::pin_project! {
    /// The response body of a [`RequestLogger`]: the inner body, polled in the
    /// request's scope, so code that runs while the body streams (a stream's
    /// `poll_next`, a template rendered lazily…) logs with the request's
    /// context.
    ///
    /// ```
    /// fn assert_body<B: http_body::Body>() {}
    /// assert_body::<loglayer::tower::ResponseBody<String>>();
    /// ```
    pub struct ResponseBody<B> {
        #[pin]
        body: B,
        logger: LogLayer,
    }
}

impl<B> ResponseBody<B> {
    /// The request's logger: the one this body is polled with.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use loglayer::{tower::RequestLoggerLayer, transport::CaptureTransport, LogLayer};
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    ///
    /// # #[derive(Clone)] struct Ok200;
    /// # impl Service<http::Request<String>> for Ok200 {
    /// #     type Response = http::Response<String>;
    /// #     type Error = Infallible;
    /// #     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
    /// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn call(&mut self, _: http::Request<String>) -> Self::Future { std::future::ready(Ok(http::Response::new(String::new()))) }
    /// # }
    /// let mut svc = RequestLoggerLayer::new(LogLayer::new(CaptureTransport::new())).layer(Ok200);
    /// let req = http::Request::builder().header("x-request-id", "r-7").body(String::new()).unwrap();
    /// let res = futures::executor::block_on(svc.call(req)).unwrap();
    /// assert_eq!(res.body().logger().get_context()["request_id"], "r-7");
    /// ```
    pub fn logger(&self) -> &LogLayer {
        &self.logger
    }

    /// The inner body.
    ///
    /// ```
    /// # use std::convert::Infallible;
    /// # use loglayer::{tower::RequestLoggerLayer, transport::CaptureTransport, LogLayer};
    /// # use tower_layer::Layer;
    /// # use tower_service::Service;
    /// # #[derive(Clone)] struct Hi;
    /// # impl Service<http::Request<String>> for Hi {
    /// #     type Response = http::Response<String>;
    /// #     type Error = Infallible;
    /// #     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
    /// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn call(&mut self, _: http::Request<String>) -> Self::Future { std::future::ready(Ok(http::Response::new("hi".into()))) }
    /// # }
    /// # let mut svc = RequestLoggerLayer::new(LogLayer::new(CaptureTransport::new())).layer(Hi);
    /// let res = futures::executor::block_on(svc.call(http::Request::new(String::new()))).unwrap();
    /// assert_eq!(res.into_body().into_inner(), "hi");
    /// ```
    pub fn into_inner(self) -> B {
        self.body
    }
}

impl<B: fmt::Debug> fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        // One `Arc` clone per poll: `sync_scope` owns the logger it installs.
        crate::sync_scope(this.logger.clone(), || this.body.poll_frame(cx))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Milliseconds since `start`, with microsecond precision.
fn latency_ms(start: Instant) -> f64 {
    start.elapsed().as_micros() as f64 / 1000.0
}

fn log_panic(logger: &LogLayer, start: Instant, panic: &(dyn std::any::Any + Send)) {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic payload)");
    logger
        .with_metadata(json!({ "latency_ms": latency_ms(start), "panic": message }))
        .error("request panicked");
}

/// The incoming request id, if there is exactly one and it is acceptable.
fn incoming_request_id<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h HeaderValue> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    valid_request_id(value.as_bytes()).then_some(value)
}

/// `[A-Za-z0-9._-]{1,128}`.
fn valid_request_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A new request id: 32 lowercase hex digits. Two bijective mixes of a
/// counter, keyed by per-process random keys: unique within the process (for
/// 2^64 ids) and unpredictable from outside it.
fn generate_request_id() -> HeaderValue {
    static KEYS: OnceLock<(u64, u64)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let &(k0, k1) = KEYS.get_or_init(|| {
        let state = RandomState::new();
        let salt = (
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        (state.hash_one((0u8, salt)), state.hash_one((1u8, salt)))
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let id = format!("{:016x}{:016x}", splitmix64(k0 ^ n), splitmix64(k1 ^ n));
    HeaderValue::from_str(&id).expect("hex digits are a valid header value")
}

/// The SplitMix64 finalizer: a bijection on `u64` that scrambles well.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `trace_id` and `span_id` from a single valid `traceparent` header.
fn traceparent(headers: &HeaderMap) -> Option<(&str, &str)> {
    let mut values = headers.get_all(TRACEPARENT).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parse_traceparent(value.to_str().ok()?)
}

/// W3C Trace Context `traceparent`: `version-traceid-parentid-flags`.
fn parse_traceparent(s: &str) -> Option<(&str, &str)> {
    fn lower_hex(s: &str) -> bool {
        s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }
    fn nonzero(s: &str) -> bool {
        s.bytes().any(|b| b != b'0')
    }
    let b = s.as_bytes();
    if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    let (version, trace_id, span_id, flags) = (&s[0..2], &s[3..35], &s[36..52], &s[53..55]);
    let well_formed = lower_hex(version)
        && version != "ff"
        && lower_hex(trace_id)
        && nonzero(trace_id)
        && lower_hex(span_id)
        && nonzero(span_id)
        && lower_hex(flags);
    // Version 00 has exactly four fields; a later version may append more.
    let rest_ok = b.len() == 55 || (version != "00" && b[55] == b'-');
    (well_formed && rest_ok).then_some((trace_id, span_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_rules() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(ok),
            Some(("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"))
        );
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra";
        assert!(parse_traceparent(later).is_some());
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn request_id_rules() {
        assert!(valid_request_id(b"a"));
        assert!(valid_request_id(&[b'x'; 128]));
        assert!(!valid_request_id(&[b'x'; 129]));
        assert!(!valid_request_id(b""));
        assert!(!valid_request_id(b"a b"));
        assert!(!valid_request_id(b"a\tb"));
        assert!(!valid_request_id("é".as_bytes()));
        let a = generate_request_id();
        let b = generate_request_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(valid_request_id(a.as_bytes()));
    }
}
