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
use super::request_id::{generate_request_id, incoming_request_id};
use super::trace::trace_keys;
use super::{ResponseBody, ResponseFuture};
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
            Some(id) => (id.clone(), false),
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
            let mut pairs: [(&str, &str); 9] = [("", ""); 9];
            let mut n = 0;
            let fixed = [
                ("request_id", request_id.to_str().unwrap_or_default()),
                ("method", req.method().as_str()),
                ("path", req.uri().path()),
            ];
            let level = forced.map(|l| (LOG_LEVEL_KEY, l.as_str()));
            for pair in fixed.into_iter().chain(trace.pairs()).chain(level) {
                pairs[n] = pair;
                n += 1;
            }
            let pairs = &mut pairs[..n];
            pairs.sort_unstable_by_key(|&(k, _)| k);
            let room = (n, pairs.iter().map(|(k, v)| k.len() + v.len() + 9).sum());
            let write = |fields: &mut Fields| {
                for (k, v) in pairs.iter() {
                    fields.push_with(k, |buf| encode::str(buf, v));
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
                (None, None) => self.logger.child_with_fields(room, &write),
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
