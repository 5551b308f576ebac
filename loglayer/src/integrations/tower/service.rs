//! [`RequestLogger`], the service: for each request it settles the request
//! id, makes the request's logger (a child with `request_id`, `method`,
//! `path` and the trace context) and calls the inner service in that
//! logger's scope.

use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use serde_json::json;

use super::completion;
use super::future::CompletionState;
use super::layer::Config;
use super::level_header::{Requested, LOG_LEVEL_KEY};
use super::request_id::{generate_request_id, incoming_request_id, shared_value};
use super::trace::trace_keys;
use super::{ResponseBody, ResponseFuture};
use crate::propagation::w3c::{PARENT_SPAN_ID, SPAN_ID, TRACESTATE_KEY, TRACE_FLAGS, TRACE_ID};
use crate::value::{encode, Fields};
use crate::{Level, LogLayer};

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
        // An acceptable incoming id is already on the request; a new one
        // replaces whatever was there.
        let (request_id, generated) = match incoming_request_id(req.headers(), &self.config.header)
        {
            // A copy into this thread's block of ids: no allocation, however
            // the incoming value is stored (cloning one made by `from_str`
            // allocates).
            Some(id) => (shared_value(id.as_bytes()), false),
            None => (generate_request_id(), true),
        };
        let requested = match &self.config.level_header {
            Some(h) => h.read(req.headers()),
            None => Requested::Absent,
        };
        let logger = {
            let headers = req.headers();
            let trace = trace_keys(headers, self.config.start_trace);
            let forced = match requested {
                Requested::Forced(level) => Some(level),
                _ => None,
            };
            // The context's keys in alphabetical order (the order a JSON
            // object map gave them before, kept so lines do not change).
            // Values as bytes: each is ASCII (checked header values, hex
            // ids, a method and a path), written without a UTF-8 check.
            let keys: [(&str, Option<&[u8]>); 9] = [
                (LOG_LEVEL_KEY, forced.map(|l| l.as_str().as_bytes())),
                ("method", Some(req.method().as_str().as_bytes())),
                (PARENT_SPAN_ID, trace.parent_span_id()),
                ("path", Some(req.uri().path().as_bytes())),
                ("request_id", Some(request_id.as_bytes())),
                (SPAN_ID, trace.span_id()),
                (TRACE_FLAGS, trace.flags()),
                (TRACE_ID, trace.trace_id()),
                (TRACESTATE_KEY, trace.tracestate()),
            ];
            debug_assert!(keys.windows(2).all(|w| w[0].0 < w[1].0));
            let present = || keys.iter().filter_map(|&(k, v)| Some((k, v?)));
            let room = present().fold((0, 0), |(n, b), (k, v)| (n + 1, b + k.len() + v.len() + 9));
            let write = |fields: &mut Fields| {
                // Into an empty list (a base logger without context), the
                // distinct keys above need no check for an earlier value.
                let fresh = fields.is_empty();
                for (k, v) in present() {
                    let value = |buf: &mut Vec<u8>| encode::ascii(buf, v);
                    if fresh {
                        fields.push_new(k, value);
                    } else {
                        fields.push_with(k, value);
                    }
                }
            };
            let with_context = |logger: LogLayer| {
                let mut fields = Fields::new();
                write(&mut fields);
                logger.add_context_fields(fields, Vec::new());
                logger
            };
            match (forced, self.config.fingers_crossed) {
                (Some(level), buffer) => {
                    let forced = self.logger.child_at_level(level);
                    with_context(match buffer {
                        Some(options) => forced.fingers_crossed(options),
                        None => forced,
                    })
                }
                (None, Some(options)) => with_context(self.logger.fingers_crossed(options)),
                (None, None) => self.logger.child_with_fields(room, write),
            }
        };
        if let (Requested::Refused(reason), Some(h)) = (requested, &self.config.level_header) {
            if logger.inner.is_enabled(Level::Debug) {
                logger
                    .with_metadata(json!({ "header": h.name.as_str(), "reason": reason }))
                    .debug("log level header ignored");
            }
        }

        if generated {
            req.headers_mut()
                .insert(self.config.header.clone(), request_id.clone());
        }
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
