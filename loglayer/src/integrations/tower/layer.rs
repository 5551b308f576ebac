//! [`RequestLoggerLayer`]: the middleware's options (the completion message,
//! the request id's header, whether to start traces, the level header) and
//! the tower `Layer` that wraps a service with them.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::header::{HeaderMap, HeaderName};

use super::level_header::LevelHeader;
use super::request_id::X_REQUEST_ID;
use super::RequestLogger;
use crate::{FingersCrossed, LogLayer};

/// Options shared by a layer and the services it makes.
#[derive(Clone, Debug)]
pub(super) struct Config {
    /// The completion message, or `None` for no completion entries.
    pub(super) completion: Option<Cow<'static, str>>,
    /// The request id's header.
    pub(super) header: HeaderName,
    /// Start a new trace when no valid `traceparent` came in.
    pub(super) start_trace: bool,
    /// The header a request may choose its level with (off when `None`).
    pub(super) level_header: Option<LevelHeader>,
    /// A fingers-crossed buffer per request (off when `None`).
    pub(super) fingers_crossed: Option<FingersCrossed>,
}

/// A tower [`Layer`](tower_layer::Layer) that gives every HTTP request its
/// own logger; see the [module docs](super).
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
            .field("start_trace", &self.config.start_trace)
            .field(
                "level_header",
                &self.config.level_header.as_ref().map(|h| &h.name),
            )
            .field("fingers_crossed", &self.config.fingers_crossed)
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
                start_trace: true,
                level_header: None,
                fingers_crossed: None,
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
    ///     .completion(false)
    ///     .layer(Ok200);
    /// let res = futures::executor::block_on(svc.call(http::Request::new(String::new()))).unwrap();
    /// assert!(res.headers().contains_key("x-request-id")); // the id is still set
    /// assert!(capture.is_empty());
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

    /// No completion entries: use [`completion(false)`](Self::completion),
    /// which says the same thing. Kept so that older code still compiles.
    ///
    /// ```
    /// # use loglayer::{tower::RequestLoggerLayer, LogLayer, transport::CaptureTransport};
    /// #[allow(deprecated)]
    /// let layer = RequestLoggerLayer::new(LogLayer::new(CaptureTransport::new())).no_completion_entry();
    /// # let _ = layer;
    /// ```
    #[deprecated(note = "use completion(false)")]
    #[doc(hidden)]
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

    /// Whether a request without a valid `traceparent` starts a new trace
    /// (the default) — a random `trace_id`, a `span_id` and `trace_flags`
    /// `01` — or carries no trace keys at all (`false`). A request with a
    /// valid `traceparent` joins the caller's trace either way; see
    /// [trace context](super#trace-context).
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
    ///     .start_trace(false)
    ///     .layer(Ok200);
    /// futures::executor::block_on(svc.call(http::Request::new(String::new()))).unwrap();
    /// assert!(capture.entries()[0].get("trace_id").is_none());
    ///
    /// // With the default, the same request starts a trace.
    /// let mut svc = RequestLoggerLayer::new(LogLayer::new(capture.clone())).layer(Ok200);
    /// capture.clear();
    /// futures::executor::block_on(svc.call(http::Request::new(String::new()))).unwrap();
    /// assert_eq!(capture.entries()[0]["trace_id"].as_str().unwrap().len(), 32);
    /// assert_eq!(capture.entries()[0]["trace_flags"], "01");
    /// ```
    pub fn start_trace(mut self, enabled: bool) -> Self {
        self.config_mut().start_trace = enabled;
        self
    }
    /// Lets one request log at a level of its own: a request that carries
    /// the header `name` with a level word (`x-log-level: debug`; `trace` …
    /// `fatal`, any case) and for which `authorize(&headers)` returns `true`
    /// gets a request logger at that level, whatever the base logger's
    /// levels, [`Directives`](crate::Directives) or
    /// [`LevelControl`](crate::LevelControl) say. Everything under that
    /// logger follows it: nested functions, [`loglayer::spawn`](crate::spawn)ed
    /// children, the completion entry. Every other request keeps the normal
    /// levels. Off unless called.
    ///
    /// The request's entries carry `log_level` (the forced level's name) in
    /// their context, so a reader knows why this request is chatty.
    ///
    /// The header is ignored — the request logs with the normal levels —
    /// when `authorize` says no (or panics), when the value is not a level
    /// word, or when the header is repeated; the request's logger then logs
    /// `log level header ignored` **at debug level** with the header's name
    /// and the reason, so a refusal is visible only where debug lines
    /// already are. `authorize` runs only for requests that carry the
    /// header: check a token, a client certificate's identity put in a
    /// header by your proxy, or an internal network marker. Anyone who can
    /// pass it can make this service write more; keep it as strict as an
    /// admin endpoint.
    ///
    /// A transport given a level of its own (`JsonTransport::with_level`)
    /// still drops what is below it.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use loglayer::{tower::RequestLoggerLayer, transport::CaptureTransport, Level, LogLayer};
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    ///
    /// # #[derive(Clone)] struct Handler;
    /// # impl Service<http::Request<String>> for Handler {
    /// #     type Response = http::Response<String>;
    /// #     type Error = Infallible;
    /// #     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
    /// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn call(&mut self, _: http::Request<String>) -> Self::Future {
    /// #         loglayer::debug!("cache miss");
    /// #         std::future::ready(Ok(http::Response::new(String::new())))
    /// #     }
    /// # }
    /// // The handler logs `loglayer::debug!("cache miss")`.
    /// let capture = CaptureTransport::new();
    /// let base = LogLayer::builder().transport(capture.clone()).level(Level::Info).build();
    /// let mut svc = RequestLoggerLayer::new(base)
    ///     .level_header(http::HeaderName::from_static("x-log-level"), |headers| {
    ///         headers.get("x-debug-token").is_some_and(|t| t == "s3cret")
    ///     })
    ///     .layer(Handler);
    ///
    /// let plain = http::Request::get("/").body(String::new()).unwrap();
    /// futures::executor::block_on(svc.call(plain)).unwrap();
    /// assert_eq!(capture.messages(), ["request completed"]);
    ///
    /// capture.clear();
    /// let forced = http::Request::get("/")
    ///     .header("x-log-level", "debug")
    ///     .header("x-debug-token", "s3cret")
    ///     .body(String::new())
    ///     .unwrap();
    /// futures::executor::block_on(svc.call(forced)).unwrap();
    /// assert_eq!(capture.messages(), ["cache miss", "request completed"]);
    /// assert_eq!(capture.entries()[0]["log_level"], "debug");
    ///
    /// capture.clear();
    /// let refused = http::Request::get("/")
    ///     .header("x-log-level", "debug")
    ///     .body(String::new())
    ///     .unwrap();
    /// futures::executor::block_on(svc.call(refused)).unwrap();
    /// assert_eq!(capture.messages(), ["request completed"]);
    /// ```
    pub fn level_header<F>(mut self, name: HeaderName, authorize: F) -> Self
    where
        F: Fn(&HeaderMap) -> bool + Send + Sync + 'static,
    {
        self.config_mut().level_header = Some(LevelHeader {
            name,
            authorize: Arc::new(authorize),
        });
        self
    }
}

impl RequestLoggerLayer {
    /// Gives every request a [fingers-crossed](crate::FingersCrossed) buffer:
    /// its entries below the normal levels, down to `options`' level, are
    /// kept (up to the buffer's capacity, the oldest dropped and counted)
    /// instead of being dropped, and written — first, in order, with their
    /// times and `"buffered": true` — only if the request fails: an entry at
    /// the trigger level (`error`) is logged under its logger, the response
    /// is a 5xx, the service returns `Err` or panics. A request that
    /// succeeds writes none of them, and its buffer goes away with its
    /// logger. Nested functions, `#[with_logger]` scopes and
    /// [`loglayer::spawn`](crate::spawn)ed tasks of the request share its
    /// buffer. Off unless called.
    ///
    /// After the trigger, the request's later entries down to the buffer's
    /// level are written directly (Monolog's behaviour), so the rest of a
    /// failing request is told too. A request forced to a level by
    /// [`level_header`](Self::level_header) writes that level directly and
    /// buffers only what is below it.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use loglayer::{tower::RequestLoggerLayer, transport::CaptureTransport, FingersCrossed, Level, LogLayer};
    /// use tower_layer::Layer;
    /// use tower_service::Service;
    ///
    /// // Answers the status asked for in the path, after a debug line.
    /// # #[derive(Clone)] struct Status;
    /// # impl Service<http::Request<String>> for Status {
    /// #     type Response = http::Response<String>;
    /// #     type Error = Infallible;
    /// #     type Future = std::future::Ready<Result<Self::Response, Infallible>>;
    /// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> { std::task::Poll::Ready(Ok(())) }
    /// #     fn call(&mut self, req: http::Request<String>) -> Self::Future {
    /// #         loglayer::debug!("looking it up");
    /// #         let mut res = http::Response::new(String::new());
    /// #         *res.status_mut() = req.uri().path()[1..].parse().unwrap();
    /// #         std::future::ready(Ok(res))
    /// #     }
    /// # }
    /// let capture = CaptureTransport::new();
    /// let base = LogLayer::builder().transport(capture.clone()).level(Level::Info).build();
    /// let mut svc = RequestLoggerLayer::new(base)
    ///     .fingers_crossed(FingersCrossed::new(Level::Debug))
    ///     .layer(Status);
    ///
    /// let ok = http::Request::get("/200").body(String::new()).unwrap();
    /// futures::executor::block_on(svc.call(ok)).unwrap();
    /// assert_eq!(capture.messages(), ["request completed"]);
    ///
    /// capture.clear();
    /// let failing = http::Request::get("/503").body(String::new()).unwrap();
    /// futures::executor::block_on(svc.call(failing)).unwrap();
    /// assert_eq!(capture.messages(), ["looking it up", "request completed"]);
    /// assert_eq!(capture.entries()[0]["buffered"], true);
    /// ```
    pub fn fingers_crossed(mut self, options: FingersCrossed) -> Self {
        self.config_mut().fingers_crossed = Some(options);
        self
    }
}

impl<S> tower_layer::Layer<S> for RequestLoggerLayer {
    type Service = RequestLogger<S>;

    fn layer(&self, inner: S) -> RequestLogger<S> {
        RequestLogger::new(inner, self.logger.clone(), self.config.clone())
    }
}
