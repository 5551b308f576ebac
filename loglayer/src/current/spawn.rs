//! Starting work that carries a child of the current logger: tasks, local
//! tasks, blocking jobs, threads and scoped threads.
//!
//! Each helper takes a [`child`](crate::LogLayer::child) of the current
//! logger **when called** (a snapshot, built only if the work logs). Outside
//! every scope there is nothing to carry: the work runs with no scope and
//! follows the default logger when it logs, as plain code does — a later
//! [`set_default`](crate::set_default) reaches it.

use super::scope_logger::ScopeLogger;
use super::slot::run_in;

/// A pending child of the current scope's logger, as it is now; `None`
/// outside every scope.
fn child_of_current() -> Option<ScopeLogger> {
    super::with_current(|l| l.map(|l| ScopeLogger::child_of(l.inner.freeze())))
}

#[cfg(feature = "tokio")]
mod tasks {
    use std::future::Future;

    use super::child_of_current;
    use crate::current::scoped::Scoped;
    use crate::current::slot::run_in;

    /// Spawns a task on the current tokio runtime that runs with a
    /// [`child`](crate::LogLayer::child) of the current logger, like `tokio::spawn`.
    ///
    /// Plain `tokio::spawn` does **not** carry the logger: the task's future is
    /// polled by a worker whose slot has nothing of yours, so inside it
    /// [`current`](crate::current) is the default logger. Use this, or wrap the
    /// future with [`WithLogger::with_current_logger`](crate::WithLogger::with_current_logger).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use loglayer::{transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::new(capture.clone());
    /// log.with_context(serde_json::json!({"job": 7}));
    /// let handle = loglayer::scope(log, async {
    ///     loglayer::spawn(async { loglayer::info!("in the task") })
    /// }).await;
    /// handle.await.unwrap();
    /// assert_eq!(capture.entries()[0]["job"], 7);
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// Like `tokio::spawn`, when called outside a tokio runtime.
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(Scoped::new(child_of_current(), fut))
    }

    /// Spawns a `!Send` task on the current [`LocalSet`](tokio::task::LocalSet)
    /// with a [`child`](crate::LogLayer::child) of the current logger, like
    /// `tokio::task::spawn_local`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::rc::Rc;
    /// use loglayer::{transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let local = tokio::task::LocalSet::new();
    /// local.run_until(loglayer::scope(LogLayer::new(capture.clone()), async {
    ///     let not_send = Rc::new(5);
    ///     loglayer::spawn_local(async move { loglayer::info!(n = *not_send, "local") })
    ///         .await
    ///         .unwrap();
    /// })).await;
    /// assert_eq!(capture.entries()[0]["n"], 5);
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// Like `tokio::task::spawn_local`, when called outside a `LocalSet`.
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn spawn_local<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        tokio::task::spawn_local(Scoped::new(child_of_current(), fut))
    }

    /// Runs a blocking closure on tokio's blocking pool with a
    /// [`child`](crate::LogLayer::child) of the current logger, like
    /// `tokio::task::spawn_blocking`. The pool thread keeps nothing afterwards.
    ///
    /// # Panics
    ///
    /// Like `tokio::task::spawn_blocking`, when called outside a tokio runtime.
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let logger = child_of_current();
        tokio::task::spawn_blocking(move || run_in(logger, f))
    }
}

#[cfg(feature = "tokio")]
pub use tasks::{spawn, spawn_blocking, spawn_local};

/// Threads that carry the current logger.
pub mod thread {
    use super::{child_of_current, run_in};

    /// Spawns an OS thread that runs `f` with a [`child`](crate::LogLayer::child)
    /// of the current logger, like `std::thread::spawn` (which does not carry it).
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let handle = loglayer::sync_scope(LogLayer::new(capture.clone()), || {
    ///     loglayer::thread::spawn(|| loglayer::info!("from the thread"))
    /// });
    /// handle.join().unwrap();
    /// assert_eq!(capture.len(), 1);
    /// ```
    pub fn spawn<F, T>(f: F) -> std::thread::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let logger = child_of_current();
        std::thread::spawn(move || run_in(logger, f))
    }

    /// Spawns a scoped thread on `scope` (from `std::thread::scope`) that runs
    /// `f` with a [`child`](crate::LogLayer::child) of the current logger,
    /// like `Scope::spawn` (which does not carry it).
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let rows = vec![1, 2, 3];
    /// loglayer::sync_scope(LogLayer::new(capture.clone()), || {
    ///     std::thread::scope(|s| {
    ///         for row in &rows {
    ///             loglayer::thread::spawn_scoped(s, move || loglayer::info!(row, "row"));
    ///         }
    ///     });
    /// });
    /// assert_eq!(capture.len(), 3);
    /// ```
    pub fn spawn_scoped<'scope, 'env, F, T>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        f: F,
    ) -> std::thread::ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let logger = child_of_current();
        scope.spawn(move || run_in(logger, f))
    }

    /// `std::thread::scope` whose threads carry a child of the current logger:
    /// `s.spawn(..)` on the [`Scope`] it passes is [`spawn_scoped`].
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let mut total = 0;
    /// loglayer::sync_scope(LogLayer::new(capture.clone()), || {
    ///     loglayer::thread::scope(|s| {
    ///         s.spawn(|| loglayer::info!("left"));
    ///         s.spawn(|| loglayer::info!("right"));
    ///         total = 2; // borrows from the enclosing function, as with std
    ///     });
    /// });
    /// assert_eq!((capture.len(), total), (2, 2));
    /// ```
    pub fn scope<'env, F, T>(f: F) -> T
    where
        F: for<'scope> FnOnce(&Scope<'scope, 'env>) -> T,
    {
        std::thread::scope(|s| f(&Scope { inner: s }))
    }

    /// The scope passed by [`scope`]: its threads carry a child of the
    /// current logger.
    #[derive(Debug)]
    pub struct Scope<'scope, 'env> {
        inner: &'scope std::thread::Scope<'scope, 'env>,
    }

    impl<'scope, 'env> Scope<'scope, 'env> {
        /// Spawns a scoped thread with a child of the current logger.
        pub fn spawn<F, T>(&self, f: F) -> std::thread::ScopedJoinHandle<'scope, T>
        where
            F: FnOnce() -> T + Send + 'scope,
            T: Send + 'scope,
        {
            spawn_scoped(self.inner, f)
        }

        /// The standard library's scope, e.g. to spawn a thread that should
        /// not carry the logger.
        pub fn std(&self) -> &'scope std::thread::Scope<'scope, 'env> {
            self.inner
        }
    }
}
