//! [`snapshot`] and [`bind`]: carry the current logger into code that runs
//! later, anywhere — `asyncLocalStorage.snapshot()` and `AsyncResource.bind`.

use std::future::Future;

use super::scope_logger::ScopeLogger;
use super::scoped::Scoped;
use super::slot::run_in;
use crate::LogLayer;

/// The logger that was current when [`snapshot`] was called (or none), to
/// run code with later on any thread: a rayon job, an event-bus callback, a
/// closure kept in a registry. Cheap to clone; `Send + Sync`.
///
/// It holds the logger itself, not a child, like `asyncLocalStorage.snapshot()`
/// holds the store: context added through it is seen by its other users.
#[derive(Clone, Debug)]
pub struct Snapshot {
    logger: Option<LogLayer>,
}

/// Captures the current logger (`None` outside every scope: then code run
/// with the snapshot follows the default logger, as plain code does).
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
///
/// let capture = CaptureTransport::new();
/// let snap = loglayer::sync_scope(LogLayer::new(capture.clone()), loglayer::snapshot);
///
/// // Later, on another thread, outside the scope:
/// std::thread::spawn(move || snap.run(|| loglayer::info!("in the snapshot's scope")))
///     .join()
///     .unwrap();
/// assert_eq!(capture.len(), 1);
/// ```
pub fn snapshot() -> Snapshot {
    Snapshot {
        logger: crate::try_current(),
    }
}

impl Snapshot {
    /// Runs `f` with the captured logger current (restored after, also on panic).
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        run_in(self.logger.clone().map(ScopeLogger::ready), f)
    }

    /// Runs `fut` with the captured logger current while it is polled and dropped.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer};
    /// # let capture = CaptureTransport::new();
    /// let snap = loglayer::sync_scope(LogLayer::new(capture.clone()), loglayer::snapshot);
    /// futures::executor::block_on(snap.scope(async { loglayer::info!("later") }));
    /// assert_eq!(capture.len(), 1);
    /// ```
    pub fn scope<F: Future>(&self, fut: F) -> Scoped<F> {
        Scoped::new(self.logger.clone().map(ScopeLogger::ready), fut)
    }

    /// The captured logger, if a scope was current.
    pub fn logger(&self) -> Option<&LogLayer> {
        self.logger.as_ref()
    }
}

/// `f`, bound to the current logger: wherever and whenever the returned
/// closure runs, it runs with the logger that is current now.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
///
/// let capture = CaptureTransport::new();
/// let mut callbacks: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
/// loglayer::sync_scope(LogLayer::new(capture.clone()), || {
///     callbacks.push(Box::new(loglayer::bind(|| loglayer::info!("callback ran"))));
/// });
/// for cb in callbacks {
///     cb(); // outside the scope
/// }
/// assert_eq!(capture.len(), 1);
/// ```
///
/// For a closure that takes arguments or runs many times (a rayon
/// `for_each`), capture a [`snapshot`] and call [`Snapshot::run`] inside it.
pub fn bind<R>(f: impl FnOnce() -> R) -> impl FnOnce() -> R {
    let snap = snapshot();
    move || snap.run(f)
}
