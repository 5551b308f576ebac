//! A thread's cached answer to "would the current logger take a call at this
//! level, whatever its target?" — so that a disabled macro call costs two
//! loads, even once some logger in the process enables that level (the
//! process-wide hint in `logger/levels.rs` then lets calls through).
//!
//! The cache is one `Cell` per thread: the generation it was computed at,
//! and two level masks (levels that pass for every target, levels that fail
//! for every target; a level in neither is asked of the logger each time).
//! It is valid while
//!
//! - the process-wide [`GENERATION`] is unchanged: every change of any
//!   logger's levels bumps it ([`levels_changed`]: `set_level` and friends,
//!   a `LevelControl`'s new set, `set_default`);
//! - the thread's current logger is unchanged: entering or leaving a scope,
//!   and `replace_current`, [`forget`] it.
//!
//! A reader loads the generation *before* reading the logger's levels, so a
//! change made meanwhile leaves a stale generation behind and the next call
//! asks again.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::Level;

/// Bumped on every change of any logger's levels. Never 0 (0 marks an empty
/// cache).
static GENERATION: AtomicU32 = AtomicU32::new(1);

#[derive(Clone, Copy)]
struct Verdict {
    generation: u32,
    pass: u8,
    fail: u8,
}

const EMPTY: Verdict = Verdict {
    generation: 0,
    pass: 0,
    fail: 0,
};

thread_local! {
    static CACHED: Cell<Verdict> = const { Cell::new(EMPTY) };
}

/// Some logger's levels changed: every thread's cache is stale.
pub(crate) fn levels_changed() {
    if GENERATION.fetch_add(1, Ordering::Release) == u32::MAX {
        GENERATION.fetch_add(1, Ordering::Release); // skip 0
    }
}

/// This thread's current logger changed.
#[inline]
pub(crate) fn forget() {
    // A const thread-local without a destructor is always there: no
    // `try_with` needed, even during thread teardown.
    CACHED.set(EMPTY);
}

/// The cached answer for `level`, if the cache is valid and knows it.
#[inline]
pub(crate) fn cached(level: Level) -> Option<bool> {
    let v = CACHED.get();
    if v.generation != GENERATION.load(Ordering::Acquire) {
        return None;
    }
    let bit = level.bit();
    if v.fail & bit != 0 {
        Some(false)
    } else if v.pass & bit != 0 {
        Some(true)
    } else {
        None
    }
}

/// The generation to record with an answer about to be computed (load it
/// before reading any levels).
#[inline]
pub(crate) fn generation() -> u32 {
    GENERATION.load(Ordering::Acquire)
}

/// Whether the cache already holds the answers of `generation` (so a level
/// it does not know need not be computed again).
#[inline]
pub(crate) fn is_current(generation: u32) -> bool {
    CACHED.get().generation == generation
}

/// Records `(pass, fail)` computed at `generation`.
pub(crate) fn remember(generation: u32, (pass, fail): (u8, u8)) {
    CACHED.set(Verdict {
        generation,
        pass,
        fail,
    });
}
