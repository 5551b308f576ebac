//! The current logger: [`scope`], [`sync_scope`], [`current`], the
//! [`WithLogger`] extension and the spawn helpers.
//!
//! # How the scope works
//!
//! Each thread has one slot holding the logger of the innermost scope. A
//! [`Scoped`] future owns its logger; every time it is polled — and when it is
//! dropped — it swaps its logger into the slot, runs the inner future, and swaps
//! it back out through a guard whose `Drop` also runs on panic. Between polls
//! the slot holds whatever it held before, so a task that moves to another
//! worker thread (work stealing) finds its logger there, and the thread it left
//! keeps nothing. No guard ever lives across an `.await`.
//!
//! A bare thread-local set at the start of a request would break exactly there:
//! after an `.await` the task may resume on another worker, whose slot belongs to
//! some other request, while the first worker's slot still holds this one.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use arc_swap::ArcSwap;

use crate::logger::{FieldValue, Inner};
use crate::transport::{ConsoleTransport, JsonTransport};
use crate::{Level, LogLayer};

thread_local! {
    /// The innermost scope's logger. A log call reads it through a shared
    /// borrow held for the whole call, so the macros never clone the `Arc`.
    static CURRENT: RefCell<Option<ScopeLogger>> = const { RefCell::new(None) };
    /// Scopes entered *while* a log call on this thread holds that borrow
    /// (a `Display` impl or a transport that enters a scope): they stack here,
    /// innermost last, and readers look here first.
    static OVERLAY: RefCell<Vec<Option<ScopeLogger>>> = const { RefCell::new(Vec::new()) };
}

/// What a scope makes current: a logger, or the recipe for a child logger
/// that is built only when something needs it (a log call, `current()`).
///
/// `#[with_logger]` scopes start `Pending`: entering one costs a clone of the
/// parent handle and a copy of the rendered context fields, with no
/// allocation for a few short fields; a function that never logs never builds
/// its child. Not public API.
#[doc(hidden)]
pub enum ScopeLogger {
    /// A logger, current as it is.
    Ready(LogLayer),
    /// A child of `parent` with extra context fields, not built yet.
    Pending(Pending),
}

/// See [`ScopeLogger::Pending`].
#[doc(hidden)]
pub struct Pending {
    parent: LogLayer,
    fields: PackedFields,
}

impl ScopeLogger {
    /// A pending child of `parent` with `fields` (rendered now).
    pub(crate) fn pending(parent: LogLayer, fields: &[(&str, &dyn FieldValue)]) -> Self {
        ScopeLogger::Pending(Pending {
            parent,
            fields: PackedFields::pack(fields),
        })
    }

    /// The logger, built now if pending.
    pub(crate) fn into_logger(self) -> LogLayer {
        match self {
            ScopeLogger::Ready(l) => l,
            ScopeLogger::Pending(p) if p.fields.is_empty() => p.parent.child(),
            ScopeLogger::Pending(p) => {
                let room = (p.fields.count(), p.fields.bytes().len());
                p.parent
                    .child_with_fields(room, |list| p.fields.for_each(|k, v| list.push_raw(k, v)))
            }
        }
    }

    /// The logger whose levels and transports apply (a pending child has its
    /// parent's).
    fn levels_of(&self) -> &LogLayer {
        match self {
            ScopeLogger::Ready(l) => l,
            ScopeLogger::Pending(p) => &p.parent,
        }
    }

    fn is_pending(&self) -> bool {
        matches!(self, ScopeLogger::Pending(_))
    }
}

impl std::fmt::Debug for ScopeLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScopeLogger::Ready(l) => f.debug_tuple("Ready").field(l).finish(),
            ScopeLogger::Pending(p) => f.debug_tuple("Pending").field(&p.parent).finish(),
        }
    }
}

/// Context fields rendered as `[key len][key][value len][value JSON]…`,
/// inline when short.
enum PackedFields {
    Inline { len: u8, buf: [u8; PACKED_INLINE] },
    Heap(Vec<u8>),
}

const PACKED_INLINE: usize = 48;

impl PackedFields {
    fn pack(fields: &[(&str, &dyn FieldValue)]) -> Self {
        if fields.is_empty() {
            return PackedFields::Inline {
                len: 0,
                buf: [0; PACKED_INLINE],
            };
        }
        crate::transport::with_buffer(|scratch| {
            for (k, v) in fields {
                scratch.extend_from_slice(&(k.len() as u32).to_le_bytes());
                scratch.extend_from_slice(k.as_bytes());
                let at = scratch.len();
                scratch.extend_from_slice(&[0; 4]);
                v.write_json(scratch);
                let n = (scratch.len() - at - 4) as u32;
                scratch[at..at + 4].copy_from_slice(&n.to_le_bytes());
            }
            if scratch.len() <= PACKED_INLINE {
                let mut buf = [0; PACKED_INLINE];
                buf[..scratch.len()].copy_from_slice(scratch);
                PackedFields::Inline {
                    len: scratch.len() as u8,
                    buf,
                }
            } else {
                PackedFields::Heap(scratch.clone())
            }
        })
    }

    fn bytes(&self) -> &[u8] {
        match self {
            PackedFields::Inline { len, buf } => &buf[..*len as usize],
            PackedFields::Heap(v) => v,
        }
    }

    fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }

    fn count(&self) -> usize {
        let mut n = 0;
        self.for_each(|_, _| n += 1);
        n
    }

    fn for_each(&self, mut f: impl FnMut(&str, &str)) {
        fn take<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
            let n = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
            let s = std::str::from_utf8(rest.get(4..4 + n)?).ok()?;
            *rest = &rest[4 + n..];
            Some(s)
        }
        let mut rest = self.bytes();
        while !rest.is_empty() {
            match (take(&mut rest), take(&mut rest)) {
                (Some(k), Some(v)) => f(k, v),
                _ => break,
            }
        }
    }
}

/// How a guard put its logger in place, so it can take it back the same way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entered {
    /// Swapped with `CURRENT`.
    Slot,
    /// Pushed on `OVERLAY` (re-entered from inside a log call).
    Overlay,
    /// The thread-locals are gone (thread teardown): nothing to undo.
    No,
}

/// Makes `slot`'s logger current; `slot` then holds what it replaced.
fn enter(slot: &mut Option<ScopeLogger>) -> Entered {
    let swapped = CURRENT.try_with(|c| match c.try_borrow_mut() {
        Ok(mut cur) => {
            std::mem::swap(&mut *cur, slot);
            true
        }
        Err(_) => false,
    });
    match swapped {
        Ok(true) => Entered::Slot,
        Ok(false) => {
            // Readers of the overlay clone its top, so it holds ready
            // loggers only.
            if slot.as_ref().is_some_and(ScopeLogger::is_pending) {
                *slot = slot.take().map(|s| ScopeLogger::Ready(s.into_logger()));
            }
            let pushed = OVERLAY.try_with(|o| match o.try_borrow_mut() {
                Ok(mut o) => {
                    o.push(slot.take());
                    true
                }
                Err(_) => false,
            });
            if pushed == Ok(true) {
                Entered::Overlay
            } else {
                Entered::No
            }
        }
        Err(_) => Entered::No,
    }
}

/// Undoes [`enter`]: puts the previous logger back and `slot` gets its own.
fn leave(slot: &mut Option<ScopeLogger>, how: Entered) {
    match how {
        Entered::Slot => {
            let _ = CURRENT.try_with(|c| {
                if let Ok(mut cur) = c.try_borrow_mut() {
                    std::mem::swap(&mut *cur, slot);
                }
            });
        }
        Entered::Overlay => {
            let _ = OVERLAY.try_with(|o| {
                if let Ok(mut o) = o.try_borrow_mut() {
                    if let Some(top) = o.pop() {
                        *slot = top;
                    }
                }
            });
        }
        Entered::No => {}
    }
}

/// Calls `f` with the innermost scope's logger (`None` outside every scope),
/// without cloning it. A pending logger is built first.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&LogLayer>) -> R) -> R {
    if let Some(top) = overlay_top() {
        return f(top.as_ref());
    }
    in_current(true, |s| f(s.map(ScopeLogger::levels_of)))
}

/// The current logger, for a new child: the fast path when the innermost
/// scope's logger is already built (the usual case), else [`current`].
pub(crate) fn parent_for_child() -> LogLayer {
    let overlay_empty = OVERLAY
        .try_with(|o| o.try_borrow().is_ok_and(|o| o.is_empty()))
        .unwrap_or(false);
    if overlay_empty {
        let ready = CURRENT.try_with(|c| match c.try_borrow().as_deref() {
            Ok(Some(ScopeLogger::Ready(l))) => Some(l.clone()),
            _ => None,
        });
        if let Ok(Some(l)) = ready {
            return l;
        }
    }
    current()
}

/// Calls `f` with the innermost scope's slot as it is (pending or not).
fn with_slot<R>(f: impl FnOnce(Option<&ScopeLogger>) -> R) -> R {
    if let Some(top) = overlay_top() {
        return f(top.map(ScopeLogger::Ready).as_ref());
    }
    in_current(false, f)
}

/// The top of the overlay (a clone: that path is rare), if a scope was
/// entered from inside a log call on this thread.
fn overlay_top() -> Option<Option<LogLayer>> {
    OVERLAY
        .try_with(|o| {
            o.try_borrow().ok().and_then(|o| {
                o.last().map(|top| match top {
                    Some(ScopeLogger::Ready(l)) => Some(l.clone()),
                    _ => None,
                })
            })
        })
        .ok()
        .flatten()
}

/// Calls `f` with `CURRENT` borrowed, in one thread-local access; with
/// `build`, a pending logger is built first.
fn in_current<R>(build: bool, f: impl FnOnce(Option<&ScopeLogger>) -> R) -> R {
    let mut f = Some(f);
    let result = CURRENT.try_with(|c| {
        if build
            && c.try_borrow()
                .is_ok_and(|cur| cur.as_ref().is_some_and(ScopeLogger::is_pending))
        {
            if let Ok(mut cur) = c.try_borrow_mut() {
                *cur = cur.take().map(|s| ScopeLogger::Ready(s.into_logger()));
            }
        }
        match c.try_borrow() {
            Ok(cur) => f.take().map(|f| f(cur.as_ref())),
            Err(_) => None,
        }
    });
    match (result, f) {
        (Ok(Some(r)), _) => r,
        (_, Some(f)) => f(None),
        // `f` ran but produced no value: impossible, `map` always yields one.
        (_, None) => unreachable!("in_current: closure consumed"),
    }
}

/// Puts a logger in the thread's slot until dropped, then restores the
/// previous one (also during a panic).
struct SlotGuard<'a> {
    slot: &'a mut Option<ScopeLogger>,
    how: Entered,
}

impl<'a> SlotGuard<'a> {
    fn enter(slot: &'a mut Option<ScopeLogger>) -> Self {
        let how = enter(slot);
        SlotGuard { slot, how }
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        leave(self.slot, self.how);
    }
}

/// A guard that keeps a logger current until dropped. Returned by
/// `loglayer::__private::enter` for `#[with_logger]` on plain fns.
#[doc(hidden)]
#[must_use = "the logger stays current only while the guard lives"]
pub struct SyncGuard {
    slot: Option<ScopeLogger>,
    how: Entered,
}

impl SyncGuard {
    pub(crate) fn enter(logger: ScopeLogger) -> Self {
        let mut slot = Some(logger);
        let how = enter(&mut slot);
        SyncGuard { slot, how }
    }
}

impl Drop for SyncGuard {
    fn drop(&mut self) {
        leave(&mut self.slot, self.how);
    }
}

impl std::fmt::Debug for SyncGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncGuard").finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// A future that runs with a logger as the current logger, while it is
    /// polled and while it is dropped. Made by [`scope`] and [`WithLogger`].
    ///
    /// `Scoped<F>` is `Send`/`Sync`/`Unpin` exactly when `F` is.
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F> {
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
    scope_slot(ScopeLogger::Ready(logger), fut)
}

/// [`scope`] with a possibly pending logger (`#[with_logger]`).
pub(crate) fn scope_slot<F: Future>(logger: ScopeLogger, fut: F) -> Scoped<F> {
    Scoped {
        logger: Some(logger),
        future: Some(fut),
    }
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
    let _guard = SyncGuard::enter(ScopeLogger::Ready(logger));
    f()
}

/// The logger of the innermost scope on this thread, or the default logger
/// (see [`set_default`]). Never panics.
///
/// ```
/// let log = loglayer::current();
/// log.info("goes to the default logger outside any scope");
/// ```
pub fn current() -> LogLayer {
    try_current().unwrap_or_else(default_logger)
}

/// The logger of the innermost scope on this thread, if any.
///
/// ```
/// assert!(loglayer::try_current().is_none());
/// ```
pub fn try_current() -> Option<LogLayer> {
    with_current(|l| l.cloned())
}

/// The logger a macro call should use, if `level` is enabled on it: the
/// innermost scope's logger, else the default logger. Reading it is a
/// thread-local access; an `Arc` is cloned only when the level is enabled.
#[cfg(any(feature = "log", feature = "tracing"))]
pub(crate) fn current_if_enabled(level: Level, target: &str) -> Option<std::sync::Arc<Inner>> {
    with_current(|l| match l {
        Some(l) => l
            .inner
            .is_enabled_for(level, target)
            .then(|| l.inner.clone()),
        None => {
            let default = default_slot().load();
            default
                .is_enabled_for(level, target)
                .then(|| std::sync::Arc::clone(&default))
        }
    })
}

/// Whether a macro call at `level` from `target` would be sent, without
/// cloning anything: a thread-local read and an atomic load.
#[inline]
pub(crate) fn enabled(level: Level, target: &str) -> bool {
    // A pending child has its parent's levels: no need to build it to answer.
    with_slot(|s| match s {
        Some(s) => s.levels_of().inner.is_enabled_for(level, target),
        None => default_slot().load().is_enabled_for(level, target),
    })
}

/// Runs `f` on the current logger (scope or default), holding it borrowed
/// rather than cloned for the duration.
pub(crate) fn with_current_inner<R>(f: impl FnOnce(&Inner) -> R) -> R {
    with_current(|l| match l {
        Some(l) => f(&l.inner),
        None => f(&default_slot().load()),
    })
}

/// For the macros' level hint: builds the default logger if it does not exist
/// yet (its levels count too), then asks the hint again.
#[inline]
pub(crate) fn default_ready_enables(level: Level) -> bool {
    if DEFAULT.get().is_some() {
        return false;
    }
    default_slot();
    crate::logger::any_logger_enables(level)
}

static DEFAULT: OnceLock<ArcSwap<Inner>> = OnceLock::new();

fn default_slot() -> &'static ArcSwap<Inner> {
    DEFAULT.get_or_init(|| ArcSwap::new(initial_default().inner))
}

/// The logger used before any `set_default`: see [`from_env`].
fn initial_default() -> LogLayer {
    from_env()
}

/// A logger configured the way the default logger is, from the environment:
///
/// | variable | values | default |
/// |---|---|---|
/// | `LOGLAYER_LEVEL` | [`Directives`](crate::Directives): `info,my_crate::db=debug,hyper=warn` | `info` |
/// | `LOGLAYER_FORMAT` | `console` (human, [`ConsoleTransport`]) or `json` (JSON lines, [`JsonTransport`]) | `console` |
///
/// Output goes to stdout. A malformed value prints one message on stderr and
/// its default is used; this never panics.
///
/// ```
/// // e.g. LOGLAYER_LEVEL=info,my_app::db=debug LOGLAYER_FORMAT=json ./my_app
/// loglayer::set_default(loglayer::from_env());
/// loglayer::info!("configured from the environment");
/// ```
pub fn from_env() -> LogLayer {
    let builder = LogLayer::builder().directives(crate::Directives::from_env());
    let json = match std::env::var("LOGLAYER_FORMAT") {
        Err(std::env::VarError::NotPresent) => false,
        Ok(f) if f.trim().eq_ignore_ascii_case("json") => true,
        Ok(f) if f.trim().is_empty() || f.trim().eq_ignore_ascii_case("console") => false,
        Ok(other) => {
            crate::fault::config_problem(format_args!(
                "LOGLAYER_FORMAT: unknown format {other:?}: expected json or console; using console"
            ));
            false
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            crate::fault::config_problem(format_args!(
                "LOGLAYER_FORMAT is not valid UTF-8; using console"
            ));
            false
        }
    };
    if json {
        builder.transport(JsonTransport::stdout()).build()
    } else {
        builder.transport(ConsoleTransport::stdout()).build()
    }
}

fn default_logger() -> LogLayer {
    LogLayer {
        inner: default_slot().load_full(),
    }
}

/// Sets the logger used outside every scope (by [`current`] and the macros).
///
/// ```
/// use loglayer::{transport::JsonTransport, LogLayer};
/// loglayer::set_default(LogLayer::new(JsonTransport::stdout()));
/// loglayer::info!("now JSON on stdout");
/// ```
pub fn set_default(logger: LogLayer) {
    default_slot().store(logger.inner);
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
        scope(current(), self)
    }
}

impl<F: Future> WithLogger for F {}

/// Spawns a task on the current tokio runtime that runs with a
/// [`child`](LogLayer::child) of the current logger, like `tokio::spawn`.
///
/// Plain `tokio::spawn` does **not** carry the logger: the task's future is
/// polled by a worker whose slot has nothing of yours, so inside it
/// [`current`] is the default logger. Use this, or wrap the future with
/// [`WithLogger::with_current_logger`].
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
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(scope(current().child(), fut))
}

/// Runs a blocking closure on tokio's blocking pool with a
/// [`child`](LogLayer::child) of the current logger, like
/// `tokio::task::spawn_blocking`. The pool thread keeps nothing afterwards.
///
/// # Panics
///
/// Like `tokio::task::spawn_blocking`, when called outside a tokio runtime.
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let logger = current().child();
    tokio::task::spawn_blocking(move || sync_scope(logger, f))
}

/// Threads that carry the current logger.
pub mod thread {
    use super::{current, sync_scope};

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
        let logger = current().child();
        std::thread::spawn(move || sync_scope(logger, f))
    }
}
