//! The [`Scoped`] future (and stream, and sink): a logger put in the
//! thread's slot around every poll and around the inner value's drop; the
//! functions and extension traits that make one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::scope_logger::ScopeLogger;
use super::slot::{run_in, SlotGuard};
use crate::LogLayer;

pin_project_lite::pin_project! {
    /// A future that runs with a logger as the current logger, while it is
    /// polled and while it is dropped. Made by [`scope`], [`unscoped`] and
    /// [`WithLogger`]; with the `futures` feature it is also a `Stream` and a
    /// `Sink` when what it wraps is one ([`WithLoggerStream`](crate::WithLoggerStream)).
    ///
    /// `Scoped<F>` is `Send`/`Sync`/`Unpin` exactly when `F` is.
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F> {
        // `None`: no scope (the default logger), see `unscoped`.
        logger: Option<ScopeLogger>,
        #[pin]
        future: Option<F>,
    }

    impl<F> PinnedDrop for Scoped<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if this.future.is_some() {
                // Drop the inner future inside the scope, so `Drop` impls of
                // values it holds log with this logger.
                let _guard = SlotGuard::enter(this.logger);
                this.future.set(None);
            }
        }
    }
}

impl<F> Scoped<F> {
    /// `fut` run with `logger` current (`None`: with no scope).
    pub(crate) fn new(logger: Option<ScopeLogger>, fut: F) -> Self {
        Scoped {
            logger,
            future: Some(fut),
        }
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let _guard = SlotGuard::enter(this.logger);
        match this.future.as_mut().as_pin_mut() {
            Some(fut) => {
                let out = fut.poll(cx);
                if out.is_ready() {
                    // Drop the finished future while still in scope.
                    this.future.set(None);
                }
                out
            }
            None => Poll::Pending, // polled after completion: stay pending, never panic
        }
    }
}

#[cfg(feature = "futures")]
impl<S: futures_core::Stream> futures_core::Stream for Scoped<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let mut this = self.project();
        let _guard = SlotGuard::enter(this.logger);
        // A finished stream is kept (it may also be the sink half of a
        // connection) and dropped in scope with the `Scoped`.
        match this.future.as_mut().as_pin_mut() {
            Some(stream) => stream.poll_next(cx),
            None => Poll::Ready(None),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.future.as_ref().map_or((0, Some(0)), |s| s.size_hint())
    }
}

#[cfg(feature = "futures")]
impl<S: futures_sink::Sink<Item>, Item> futures_sink::Sink<Item> for Scoped<S> {
    type Error = S::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.in_scope(|s| s.map_or(Poll::Pending, |s| s.poll_ready(cx)))
    }

    fn start_send(self: Pin<&mut Self>, item: Item) -> Result<(), S::Error> {
        // Only a `Future` that completed is ever taken out; a sink that is
        // also a finished future does not exist, so the item always arrives.
        self.in_scope(|s| s.map_or(Ok(()), |s| s.start_send(item)))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.in_scope(|s| s.map_or(Poll::Ready(Ok(())), |s| s.poll_flush(cx)))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.in_scope(|s| s.map_or(Poll::Ready(Ok(())), |s| s.poll_close(cx)))
    }
}

#[cfg(feature = "futures")]
impl<F> Scoped<F> {
    fn in_scope<R>(self: Pin<&mut Self>, f: impl FnOnce(Option<Pin<&mut F>>) -> R) -> R {
        let mut this = self.project();
        let _guard = SlotGuard::enter(this.logger);
        f(this.future.as_mut().as_pin_mut())
    }
}

impl<F> std::fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scoped")
            .field("logger", &self.logger)
            .finish_non_exhaustive()
    }
}

/// Runs `fut` with `logger` as the current logger — while it is polled and
/// while it is dropped. The counterpart of LogLayer's
/// `asyncLocalStorage.run(logger, fn)`.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
///
/// async fn deep() {
///     loglayer::info!("from deep inside");
/// }
///
/// let capture = CaptureTransport::new();
/// let request_logger = LogLayer::new(capture.clone());
/// request_logger.with_context(serde_json::json!({"request_id": "r-1"}));
///
/// futures::executor::block_on(loglayer::scope(request_logger, async {
///     deep().await;
/// }));
/// assert_eq!(capture.entries()[0]["request_id"], "r-1");
/// ```
pub fn scope<F: Future>(logger: LogLayer, fut: F) -> Scoped<F> {
    Scoped::new(Some(ScopeLogger::ready(logger)), fut)
}

/// Runs `f` with `logger` as the current logger; the previous logger is
/// restored when `f` returns **and when it panics**.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
///
/// let capture = CaptureTransport::new();
/// let job_logger = LogLayer::new(capture.clone());
/// let n = loglayer::sync_scope(job_logger, || {
///     loglayer::info!(step = 1, "working");
///     7
/// });
/// assert_eq!(n, 7);
/// assert_eq!(capture.entries()[0]["step"], 1);
/// assert!(loglayer::try_current().is_none());
/// ```
pub fn sync_scope<R>(logger: LogLayer, f: impl FnOnce() -> R) -> R {
    run_in(Some(ScopeLogger::ready(logger)), f)
}

/// Runs `fut` outside every scope: inside it, [`current`](crate::current)
/// is the default logger and [`try_current`](crate::try_current) is `None`,
/// whatever scope polls it — the counterpart of `asyncLocalStorage.exit(fn)`.
/// For work started from a request that must not carry the request's
/// context, such as refreshing a cache shared by every request.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
///
/// let capture = CaptureTransport::new();
/// futures::executor::block_on(loglayer::scope(LogLayer::new(capture.clone()), async {
///     loglayer::unscoped(async {
///         assert!(loglayer::try_current().is_none());
///     })
///     .await;
///     assert!(loglayer::try_current().is_some());
/// }));
/// ```
pub fn unscoped<F: Future>(fut: F) -> Scoped<F> {
    Scoped::new(None, fut)
}

/// Runs `f` outside every scope (see [`unscoped`]); the scope around the call
/// is current again when `f` returns or panics.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
///
/// loglayer::sync_scope(LogLayer::new(CaptureTransport::new()), || {
///     loglayer::sync_unscoped(|| assert!(loglayer::try_current().is_none()));
///     assert!(loglayer::try_current().is_some());
/// });
/// ```
pub fn sync_unscoped<R>(f: impl FnOnce() -> R) -> R {
    run_in(None, f)
}

/// Runs futures inside a logger's scope.
///
/// Implemented for every future.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer, WithLogger};
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::new(capture.clone());
/// let fut = async { loglayer::info!("inside") }.with_logger(log);
/// futures::executor::block_on(fut);
/// assert_eq!(capture.len(), 1);
/// ```
pub trait WithLogger: Future + Sized {
    /// Runs this future with `logger` as the current logger.
    fn with_logger(self, logger: LogLayer) -> Scoped<Self> {
        scope(logger, self)
    }

    /// Runs this future with the logger that is current now, wherever the
    /// future is later polled (e.g. after handing it to an executor).
    /// Outside every scope it runs with no scope, so it follows the default
    /// logger as plain code does, including a later
    /// [`set_default`](crate::set_default).
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer, WithLogger};
    /// let capture = CaptureTransport::new();
    /// let fut = loglayer::sync_scope(LogLayer::new(capture.clone()), || {
    ///     async { loglayer::info!("later") }.with_current_logger()
    /// });
    /// futures::executor::block_on(fut); // polled outside the scope
    /// assert_eq!(capture.len(), 1);
    /// ```
    fn with_current_logger(self) -> Scoped<Self> {
        Scoped::new(crate::try_current().map(ScopeLogger::ready), self)
    }

    /// Runs this future outside every scope (see [`unscoped`]).
    fn without_logger(self) -> Scoped<Self> {
        unscoped(self)
    }
}

impl<F: Future> WithLogger for F {}

/// Runs streams (and sinks) inside a logger's scope: every `poll_next` (and
/// `poll_ready`, `start_send`, …) and the drop, like [`WithLogger`] for
/// futures. For a stream handed out of a handler — a server-sent events or
/// gRPC streaming body — that is polled after the handler has returned.
///
/// ```
/// use futures::{stream, StreamExt};
/// use loglayer::{transport::CaptureTransport, LogLayer, WithLoggerStream};
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::new(capture.clone());
/// log.with_context(serde_json::json!({"request_id": "r-9"}));
/// let events = stream::iter(1..=2)
///     .map(|n| {
///         loglayer::info!(n, "sending event");
///         n
///     })
///     .with_logger(log);
/// let sent: Vec<i32> = futures::executor::block_on(events.collect());
/// assert_eq!(sent, [1, 2]);
/// assert!(capture.entries().iter().all(|e| e["request_id"] == "r-9"));
/// ```
#[cfg(feature = "futures")]
#[cfg_attr(docsrs, doc(cfg(feature = "futures")))]
pub trait WithLoggerStream: futures_core::Stream + Sized {
    /// Runs this stream with `logger` as the current logger.
    fn with_logger(self, logger: LogLayer) -> Scoped<Self> {
        Scoped::new(Some(ScopeLogger::ready(logger)), self)
    }

    /// Runs this stream with the logger that is current now (outside every
    /// scope: with no scope, following the default logger).
    fn with_current_logger(self) -> Scoped<Self> {
        Scoped::new(crate::try_current().map(ScopeLogger::ready), self)
    }
}

#[cfg(feature = "futures")]
impl<S: futures_core::Stream> WithLoggerStream for S {}
