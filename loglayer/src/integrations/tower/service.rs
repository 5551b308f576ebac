//! [`RequestLogger`], the service: for each request it settles the request
//! id, makes the request's logger (a child with `request_id`, `method`,
//! `path` and the trace context) and calls the inner service in that
//! logger's scope.

use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use serde_json::{json, Map, Value};

use super::completion;
use super::future::CompletionState;
use super::layer::Config;
use super::level_header::{Requested, LOG_LEVEL_KEY};
use super::request_id::{generate_request_id, incoming_request_id};
use super::trace::insert_trace_keys;
use super::{ResponseBody, ResponseFuture};
use crate::LogLayer;

/// The service made by [`RequestLoggerLayer`](super::RequestLoggerLayer): runs `S` with a logger per
/// request; see the [module docs](super).
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

impl<S> RequestLogger<S> {
    /// `inner`, with a child of `logger` per request.
    pub(super) fn new(inner: S, logger: LogLayer, config: Arc<Config>) -> Self {
        RequestLogger {
            inner,
            logger,
            config,
        }
    }
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
        insert_trace_keys(headers, self.config.start_trace, &mut context);
        let requested = match &self.config.level_header {
            Some(h) => h.read(headers),
            None => Requested::Absent,
        };
        let logger = match (&requested, self.config.fingers_crossed) {
            (&Requested::Forced(level), buffer) => {
                context.insert(LOG_LEVEL_KEY.into(), level.as_str().into());
                let forced = self.logger.child_at_level(level);
                match buffer {
                    Some(options) => forced.fingers_crossed(options),
                    None => forced,
                }
            }
            (Requested::Absent | Requested::Refused(_), Some(options)) => {
                self.logger.fingers_crossed(options)
            }
            (Requested::Absent | Requested::Refused(_), None) => self.logger.child(),
        };
        logger.with_context(Value::Object(context));
        if let (Requested::Refused(reason), Some(h)) = (requested, &self.config.level_header) {
            logger
                .with_metadata(json!({ "header": h.name.as_str(), "reason": reason }))
                .debug("log level header ignored");
        }

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
                logger.release_buffered();
                if self.config.completion.is_some() {
                    completion::panicked(&logger, start, &*panic);
                }
                resume_unwind(panic)
            }
        };
        ResponseFuture::new(
            crate::scope(logger.clone(), future),
            CompletionState {
                logger,
                start,
                request_id,
                config: self.config.clone(),
            },
        )
    }
}
