//! The level check's two caches, so that a disabled macro call costs about
//! what a level compared in a static costs, even once some logger in the
//! process enables that level (the process-wide hint in `logger/levels.rs`
//! then lets calls through).
//!
//! **Per thread** ([`cached`]): the current logger's answer per level, as
//! [`Verdict`] says it — levels that pass for every target, levels that fail
//! for every target — with the generation it was computed at and, for the
//! levels in neither, the id of the target set (per-target directives) that
//! decides them. It is valid while
//!
//! - the process-wide generation (in the hint's word) is unchanged: every
//!   change of any logger's levels bumps it (`levels_changed`: `set_level`
//!   and friends, a `LevelControl`'s new set, `set_default`);
//! - the thread's current logger is unchanged: entering or leaving a scope,
//!   and `replace_current`, [`forget`] it.
//!
//! A reader loads the generation *before* reading the logger's levels, so a
//! change made meanwhile leaves a stale generation behind and the next call
//! asks again.
//!
//! **Per call site** ([`Callsite`], a `static` in each macro expansion): the
//! levels its target enables under one target set, and that set's id. A set
//! never changes once it has an id (a `LevelControl` makes a new one on each
//! change), so this answer is never stale: it applies whenever the thread's
//! verdict names the same id. Per-target directives then cost a call one
//! more load instead of a lookup of its target. A call site used under two
//! sets in turn keeps the last one.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::logger::{generation_of, Verdict, NO_TARGET_SET};
use crate::Level;

#[derive(Clone, Copy)]
struct Cached {
    generation: u32,
    pass: u8,
    fail: u8,
    /// [`Verdict::targets`].
    targets: u64,
}

/// Answers nothing, at any generation: both masks empty, no target set.
const EMPTY: Cached = Cached {
    generation: 0,
    pass: 0,
    fail: 0,
    targets: NO_TARGET_SET,
};

thread_local! {
    static CACHED: Cell<Cached> = const { Cell::new(EMPTY) };
}

/// This thread's current logger changed.
#[inline]
pub(crate) fn forget() {
    // A const thread-local without a destructor is always there: no
    // `try_with` needed, even during thread teardown.
    CACHED.set(EMPTY);
}

/// The cached answer for `level` from `callsite`, if the caches are valid
/// for `hint` (a word of `logger::hint`) and know it.
#[inline]
pub(crate) fn cached(hint: u64, level: Level, callsite: &Callsite) -> Option<bool> {
    let v = CACHED.get();
    if v.generation != generation_of(hint) {
        return None;
    }
    let bit = level.bit();
    if v.fail & bit != 0 {
        Some(false)
    } else if v.pass & bit != 0 {
        Some(true)
    } else {
        callsite.answer(v.targets, bit)
    }
}

/// Whether the cache already holds the answers of `generation` (so they need
/// not be computed again).
#[inline]
pub(crate) fn is_current(generation: u32) -> bool {
    CACHED.get().generation == generation
}

/// Records the verdict computed at `generation`.
pub(crate) fn remember(generation: u32, v: Verdict) {
    CACHED.set(Cached {
        generation,
        pass: v.pass,
        fail: v.fail,
        targets: v.targets,
    });
}

/// A macro call site's cache: the levels its target enables under one
/// target set (`Config::levels_for`'s answer), as `id << 8 | level bits`;
/// 0 until the first call that needs it (ids start at 1). Not public API.
#[doc(hidden)]
#[derive(Debug)]
pub struct Callsite(AtomicU64);

impl Callsite {
    /// An empty cache, for a `static` in a macro expansion.
    #[allow(clippy::new_without_default)] // only ever a `static`
    pub const fn new() -> Self {
        Callsite(AtomicU64::new(0))
    }

    /// Whether `bit`'s level is enabled here under the set `targets`, if
    /// that is the set remembered. The word is read alone (`Relaxed`): it is
    /// whole in itself, and the set it names never changes.
    #[inline]
    fn answer(&self, targets: u64, bit: u8) -> Option<bool> {
        let word = self.0.load(Ordering::Relaxed);
        (word >> 8 == targets).then_some(word as u8 & bit != 0)
    }

    /// Remembers `levels`, what the set `id` enables for this call site's
    /// target.
    pub(crate) fn remember(&self, (id, levels): (u64, u8)) {
        self.0.store(id << 8 | u64::from(levels), Ordering::Relaxed);
    }
}
