//! The thread's slot: which logger is current on this thread right now, the
//! guards that put one in place and take it back, and the readers.
//!
//! # Two thread-locals, neither with a destructor
//!
//! `CURRENT` holds the innermost scope's logger. A log call reads it through
//! a shared borrow held for the whole call, so the macros never clone the
//! logger's `Arc` (an atomic increment and decrement per call, on a cache
//! line every thread logging through that logger fights over — measured in
//! BENCHMARKS.md, "Why the overlay stays"). While that borrow is held, user
//! code runs (a `Display` impl, a transport); if it enters a scope of its
//! own, the slot cannot be swapped, so that scope goes on `OVERLAY`, a small
//! stack readers look at first. The overlay is empty except during such
//! re-entrant calls.
//!
//! Both are wrapped in `ManuallyDrop`, so the thread-locals need no
//! destructor: they stay usable while other thread-locals are torn down at
//! thread exit. A scoped future kept in another thread-local (a runtime, a
//! pool) and dropped then is still dropped inside its scope. Nothing leaks:
//! every guard restores what it replaced, so the slot is empty whenever no
//! guard is alive, and the overlay frees its buffer when it empties.

use std::cell::RefCell;
use std::mem::ManuallyDrop;

use super::scope_logger::ScopeLogger;
use crate::LogLayer;

thread_local! {
    static CURRENT: RefCell<ManuallyDrop<Option<ScopeLogger>>> =
        const { RefCell::new(ManuallyDrop::new(None)) };
    static OVERLAY: RefCell<ManuallyDrop<Vec<Option<LogLayer>>>> =
        const { RefCell::new(ManuallyDrop::new(Vec::new())) };
}

/// How a guard put its logger in place, so it can take it back the same way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entered {
    /// Swapped with `CURRENT`.
    Slot,
    /// Pushed on `OVERLAY` (re-entered from inside a log call).
    Overlay,
    /// Could not be entered (the overlay itself was busy): nothing to undo.
    No,
}

/// Makes `slot`'s logger current (`None`: no scope); `slot` then holds what
/// it replaced. A deferred logger takes the logger current now as its parent.
///
/// Every poll of a scoped future runs this and [`leave`]: the usual path (a
/// swap with `CURRENT`) is inlined, the overlay is out of line.
#[inline]
fn enter(slot: &mut Option<ScopeLogger>) -> Entered {
    super::verdict::forget();
    if let Some(s) = slot {
        s.resolve();
    }
    let swapped = CURRENT
        .try_with(|c| match c.try_borrow_mut() {
            Ok(mut cur) => {
                std::mem::swap(&mut **cur, slot);
                true
            }
            Err(_) => false,
        })
        .unwrap_or(false);
    if swapped {
        Entered::Slot
    } else {
        enter_overlay(slot)
    }
}

/// [`enter`] while a log call on this thread holds the slot.
#[cold]
#[inline(never)]
fn enter_overlay(slot: &mut Option<ScopeLogger>) -> Entered {
    // A log call on this thread holds the slot: stack this scope on the
    // overlay. Readers borrow the overlay's top only briefly, so it holds
    // built loggers; a plugin that runs while the child is completed
    // already finds it there.
    let (logger, rest) = match slot.take() {
        Some(s) => {
            let (l, rest) = s.start_build();
            (Some(l), rest)
        }
        None => (None, None),
    };
    let pushed = OVERLAY
        .try_with(|o| match o.try_borrow_mut() {
            Ok(mut o) => {
                o.push(logger.clone());
                true
            }
            Err(_) => false,
        })
        .unwrap_or(false);
    if !pushed {
        *slot = logger.map(ScopeLogger::ready);
        return Entered::No;
    }
    if let (Some(rest), Some(logger)) = (rest, &logger) {
        rest.add_to(logger);
    }
    Entered::Overlay
}

/// Undoes [`enter`]: puts the previous logger back and `slot` gets its own
/// (as it is now: built, or replaced by [`replace_current`](crate::replace_current)).
#[inline]
fn leave(slot: &mut Option<ScopeLogger>, how: Entered) {
    super::verdict::forget();
    match how {
        Entered::Slot => {
            let _ = CURRENT.try_with(|c| {
                if let Ok(mut cur) = c.try_borrow_mut() {
                    std::mem::swap(&mut **cur, slot);
                }
            });
        }
        Entered::Overlay => leave_overlay(slot),
        Entered::No => {}
    }
}

/// [`leave`] of a scope entered on the overlay.
#[cold]
#[inline(never)]
fn leave_overlay(slot: &mut Option<ScopeLogger>) {
    let _ = OVERLAY.try_with(|o| {
        if let Ok(mut o) = o.try_borrow_mut() {
            if let Some(top) = o.pop() {
                *slot = top.map(ScopeLogger::ready);
            }
            if o.is_empty() {
                // Give the buffer back: a thread-local without a
                // destructor would otherwise keep it past thread exit.
                **o = Vec::new();
            }
        }
    });
}

/// Puts a logger in the thread's slot until dropped, then restores the
/// previous one (also during a panic). Borrows the logger's home (a
/// [`Scoped`](super::Scoped) future's field), which gets it back on drop.
pub(super) struct SlotGuard<'a> {
    slot: &'a mut Option<ScopeLogger>,
    how: Entered,
}

impl<'a> SlotGuard<'a> {
    #[inline]
    pub(super) fn enter(slot: &'a mut Option<ScopeLogger>) -> Self {
        let how = enter(slot);
        SlotGuard { slot, how }
    }
}

impl Drop for SlotGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        leave(self.slot, self.how);
    }
}

/// A guard that owns the logger it keeps current until dropped: behind
/// [`sync_scope`](crate::sync_scope) and `#[with_logger]` on plain fns.
#[doc(hidden)]
#[must_use = "the logger stays current only while the guard lives"]
pub struct SyncGuard {
    slot: Option<ScopeLogger>,
    how: Entered,
}

impl SyncGuard {
    pub(crate) fn enter(logger: Option<ScopeLogger>) -> Self {
        let mut slot = logger;
        let how = enter(&mut slot);
        SyncGuard { slot, how }
    }
}

/// Runs `f` with `logger` current (`None`: no scope); the previous logger is
/// current again when `f` returns or panics.
pub(crate) fn run_in<R>(logger: Option<ScopeLogger>, f: impl FnOnce() -> R) -> R {
    let _guard = SyncGuard::enter(logger);
    f()
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

/// Calls `f` with the innermost scope's logger (`None` outside every scope),
/// without cloning it. A pending logger is built first.
// `#[inline]`: every log call goes through here; without it, whether it is
// inlined into `__private::log` depends on how rustc splits the crate into
// codegen units (12 instructions per entry in callgrind's json_event).
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&LogLayer>) -> R) -> R {
    if let Some(top) = overlay_top() {
        return f(top.as_ref());
    }
    in_current(true, |s| f(s.and_then(ScopeLogger::as_ready)))
}

/// Calls `f` with the innermost scope's slot as it is (pending or not).
pub(crate) fn with_slot<R>(f: impl FnOnce(Option<&ScopeLogger>) -> R) -> R {
    if let Some(top) = overlay_top() {
        return f(top.map(ScopeLogger::ready).as_ref());
    }
    in_current(false, f)
}

/// The innermost scope's logger frozen (see `freeze_current`), if it is a
/// ready logger in `CURRENT` and no log call on this thread holds the slot:
/// then it freezes through the slot's cache. `None`: ask [`with_current`].
#[inline]
pub(crate) fn freeze_ready() -> Option<crate::logger::Frozen> {
    let overlay_empty = OVERLAY
        .try_with(|o| o.try_borrow().is_ok_and(|o| o.is_empty()))
        .unwrap_or(false);
    if !overlay_empty {
        return None;
    }
    CURRENT
        .try_with(|c| {
            c.try_borrow_mut()
                .ok()
                .and_then(|mut cur| cur.as_mut().and_then(ScopeLogger::freeze_ready))
        })
        .ok()
        .flatten()
}

/// The top of the overlay (a clone: that path is rare), if a scope was
/// entered from inside a log call on this thread.
fn overlay_top() -> Option<Option<LogLayer>> {
    OVERLAY
        .try_with(|o| o.try_borrow().ok().and_then(|o| o.last().cloned()))
        .ok()
        .flatten()
}

/// Calls `f` with `CURRENT` borrowed, in one thread-local access; with
/// `build`, a pending logger is built first. `#[inline]` for the same reason
/// as [`with_current`] (without it, `__private::log` called it out of line:
/// 10 instructions per entry in callgrind's json_event).
#[inline]
fn in_current<R>(build: bool, f: impl FnOnce(Option<&ScopeLogger>) -> R) -> R {
    let mut f = Some(f);
    let result = CURRENT.try_with(|c| {
        if build
            && c.try_borrow()
                .is_ok_and(|cur| cur.as_ref().is_some_and(|s| !s.is_ready()))
        {
            build_in_place(c);
        }
        // Only `enter`/`leave` borrow mutably, and they call no user code
        // while they do: the borrow cannot fail in practice.
        let cur = c.try_borrow().ok()?;
        f.take().map(|f| f(cur.as_ref()))
    });
    match (result, f) {
        (Ok(Some(r)), _) => r,
        (_, Some(f)) => f(None),
        // `f` ran, so `map` produced a value: `result` was `Ok(Some(_))`.
        (_, None) => unreachable!("in_current: closure consumed without a result"),
    }
}

/// Builds the pending logger in `CURRENT`. The built logger is put in the
/// slot before any user code runs (a plugin's `on_context_called` while the
/// child's context is added), so that code finds this scope, not the default
/// logger.
#[cold]
fn build_in_place(c: &RefCell<ManuallyDrop<Option<ScopeLogger>>>) {
    let Ok(mut cur) = c.try_borrow_mut() else {
        return;
    };
    let Some(pending) = cur.take() else {
        return;
    };
    let (logger, rest) = pending.start_build();
    **cur = Some(ScopeLogger::ready(logger.clone()));
    drop(cur);
    if let Some(rest) = rest {
        rest.add_to(&logger);
    }
}

/// The error of [`replace_current`](crate::replace_current): there is no
/// scope on this thread to replace the logger of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoScopeError(());

impl std::fmt::Display for NoScopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "replace_current: no scope to replace the logger of on this thread \
             (call it inside `scope`, `sync_scope` or a `#[with_logger]` fn, not while a log call is being written)",
        )
    }
}

impl std::error::Error for NoScopeError {}

/// Replaces the current logger for the rest of the enclosing scope, without
/// wrapping the rest in a closure — the counterpart of
/// `asyncLocalStorage.enterWith(store)`.
///
/// The innermost scope ([`scope`](crate::scope), [`sync_scope`](crate::sync_scope),
/// a `#[with_logger]` fn, a spawned task) uses `logger` from here on, across
/// its later `.await`s too; when that scope ends, the logger outside it is
/// current again, untouched. Outside every scope there is nothing to replace
/// (a bare thread-local would leak into whatever runs next on the thread), so
/// this returns [`NoScopeError`] and changes nothing.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
/// use serde_json::json;
///
/// let capture = CaptureTransport::new();
/// let request_log = LogLayer::new(capture.clone());
/// futures::executor::block_on(loglayer::scope(request_log, async {
///     loglayer::info!("before auth");
///     // After authentication, the rest of the request logs with the user.
///     let authed = loglayer::current().child();
///     authed.with_context(json!({"user_id": 7}));
///     loglayer::replace_current(authed).unwrap();
///     async {}.await;
///     loglayer::info!("after auth");
/// }));
/// let e = capture.entries();
/// assert!(e[0].get("user_id").is_none());
/// assert_eq!(e[1]["user_id"], 7);
/// assert!(loglayer::replace_current(LogLayer::new(capture.clone())).is_err()); // no scope here
/// ```
pub fn replace_current(logger: LogLayer) -> Result<(), NoScopeError> {
    super::verdict::forget();
    let in_overlay = OVERLAY
        .try_with(|o| match o.try_borrow_mut() {
            Ok(mut o) => match o.last_mut() {
                Some(Some(top)) => Some(Ok(std::mem::replace(top, logger.clone()))),
                Some(None) => Some(Err(NoScopeError(()))),
                None => None,
            },
            Err(_) => Some(Err(NoScopeError(()))),
        })
        .unwrap_or(Some(Err(NoScopeError(()))));
    match in_overlay {
        // The old logger is dropped here, after the borrow is released: its
        // transports' `Drop` may log.
        Some(result) => result.map(drop),
        None => {
            let old = CURRENT
                .try_with(|c| match c.try_borrow_mut() {
                    Ok(mut cur) if cur.is_some() => Ok(cur.replace(ScopeLogger::ready(logger))),
                    _ => Err(NoScopeError(())),
                })
                .unwrap_or(Err(NoScopeError(())))?;
            drop(old);
            Ok(())
        }
    }
}
