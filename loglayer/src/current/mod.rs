//! The current logger: which logger a log call with no logger in hand goes
//! to, and how it follows async code.
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
//!
//! # Files
//!
//! | file | one idea |
//! |---|---|
//! | `slot.rs` | the thread's slot, the guards that swap a logger in and out, the readers, [`replace_current`] |
//! | `scope_logger.rs` | what a scope holds: a logger, or a child not built yet (frozen parent + rendered fields) |
//! | `scoped.rs` | the [`Scoped`] future/stream/sink; [`scope`], [`sync_scope`], [`unscoped`], [`WithLogger`] |
//! | `snapshot.rs` | [`snapshot`] and [`bind`]: the current logger carried into later code |
//! | `spawn.rs` | [`spawn`], [`spawn_local`], [`spawn_blocking`], [`thread`]: new work with a child |
//! | `default.rs` | the default logger: [`set_default`], [`from_env`] |

mod default;
mod scope_logger;
mod scoped;
mod slot;
mod snapshot;
mod spawn;
mod verdict;

pub use self::default::{from_env, set_default};
pub use self::scope_logger::ScopeLogger;
#[cfg(feature = "futures")]
pub use self::scoped::WithLoggerStream;
pub use self::scoped::{scope, sync_scope, sync_unscoped, unscoped, Scoped, WithLogger};
pub use self::slot::{replace_current, NoScopeError, SyncGuard};
pub use self::snapshot::{bind, snapshot, Snapshot};
pub use self::spawn::thread;
#[cfg(feature = "tokio")]
pub use self::spawn::{spawn, spawn_blocking, spawn_local};

use self::default::{default_handle, default_logger};
use self::slot::{with_current, with_slot};
#[doc(hidden)]
pub use self::verdict::Callsite;
use crate::logger::{generation_of, Config, Frozen, Inner, Verdict, UNSETTLED};
use crate::{Level, LogLayer};

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

/// `#[with_logger]` and `Scoped`: a scope's logger made current.
pub(crate) fn scoped<F>(logger: ScopeLogger, fut: F) -> Scoped<F> {
    Scoped::new(Some(logger), fut)
}

/// The current logger (the innermost scope's, built first if pending, else
/// the default logger) as it is now, for a child.
pub(crate) fn freeze_current() -> Frozen {
    if let Some(frozen) = slot::freeze_ready() {
        return frozen;
    }
    with_current(|l| match l {
        Some(l) => l.inner.freeze(),
        None => default_handle().load().freeze(),
    })
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
            let default = default_handle().load();
            default
                .is_enabled_for(level, target)
                .then(|| std::sync::Arc::clone(&default))
        }
    })
}

/// Whether a macro call at `level` from `target` would be sent, without
/// cloning or building anything. Past the process-wide hint (one load), the
/// answer comes from this thread's cached verdict and, for per-target
/// levels, the call site's cache (see `verdict.rs`).
#[inline]
pub(crate) fn enabled(level: Level, target: &str, callsite: &Callsite) -> bool {
    let hint = crate::logger::hint();
    let bit = u64::from(level.bit());
    if hint & (bit | UNSETTLED) == 0 {
        return false;
    }
    if hint & bit == 0 {
        return default_not_built(level, target, callsite);
    }
    match verdict::cached(hint, level, callsite) {
        Some(answer) => answer,
        None => enabled_asking(level, target, callsite),
    }
}

/// The hint stops `level`, but the default logger is not built yet, so its
/// levels (`LOGLAYER_LEVEL`) are not in the hint: builds it, then asks the
/// hint again. Runs once: building the default logger settles the hint.
#[cold]
#[inline(never)]
fn default_not_built(level: Level, target: &str, callsite: &Callsite) -> bool {
    default_handle();
    if crate::logger::hint() & u64::from(level.bit()) == 0 {
        return false;
    }
    enabled_asking(level, target, callsite)
}

/// [`enabled`] without a cached answer: asks the current logger, caches its
/// verdict for this thread and its levels for `target` at `callsite`.
#[inline(never)]
fn enabled_asking(level: Level, target: &str, callsite: &Callsite) -> bool {
    let generation = generation_of(crate::logger::hint());
    let known = verdict::is_current(generation);
    let ask = |levels: Option<(&Config, u8)>| match levels {
        Some((config, mask)) => {
            if !known {
                verdict::remember(generation, config.verdict(mask));
            }
            if let Some(levels) = config.levels_for(target) {
                callsite.remember(levels);
            }
            config.allows(mask, level, Some(target))
        }
        // A deferred logger (never current: resolved on entry) would ask
        // its parent once built; answer yes, and cache nothing.
        None => {
            verdict::remember(generation, Verdict::UNKNOWN);
            true
        }
    };
    with_slot(|s| match s {
        Some(s) => ask(s.levels()),
        None => ask(Some(default_handle().load().levels())),
    })
}

/// Runs `f` on the current logger (scope or default), holding it borrowed
/// rather than cloned for the duration.
pub(crate) fn with_current_inner<R>(f: impl FnOnce(&Inner) -> R) -> R {
    with_current(|l| match l {
        Some(l) => f(&l.inner),
        None => f(&default_handle().load()),
    })
}
