//! Which entries a logger lets through: the level mask and its on/off bit,
//! the mutes, and the process-wide hint the macros check first.
//!
//! These checks run before anything else on every call, so they are a load
//! and a mask each (`#[inline]`); per-target levels ([`TargetLevels`]: fixed
//! [`Directives`](crate::Directives), or a [`LevelControl`] that changes) are consulted only
//! when a logger has them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::level_control::LevelControl;
use super::state::{Config, Inner};
use super::LogLayer;
use crate::directives::TargetSet;
use crate::Level;

/// Bit of `Inner::levels` set by `disable_logging`.
pub(super) const DISABLED: u8 = 0b1000_0000;
/// Every level bit (`Level::bit`).
pub(super) const ALL_LEVELS: u8 = 0b0011_1111;
/// Bits of `Inner::muted`.
pub(crate) const MUTE_CONTEXT: u8 = 1;
pub(crate) const MUTE_METADATA: u8 = 2;

/// The one word a macro call reads first, shared by the whole process:
///
/// - bits 0–5, the **hint**: every level any logger of this process has ever
///   enabled. It only grows: a call whose level no logger enables stops at
///   this one load.
/// - bit 7, [`UNSETTLED`]: the default logger is not built yet, so its levels
///   (from `LOGLAYER_LEVEL`) are not in the hint: the first call the hint
///   would stop builds it (as the first call outside every scope does) and
///   asks the hint again.
/// - bits 32–63, the **generation** of everyone's levels: bumped by every
///   change of any logger's levels (see [`levels_changed`]); the per-thread
///   cache of `current/verdict.rs` is valid while it is unchanged.
///
/// One word, so that a call past the hint needs no second process-wide load.
static HINT: AtomicU64 = AtomicU64::new(UNSETTLED | GENERATION_ONE);

/// See [`HINT`].
pub(crate) const UNSETTLED: u64 = 0b1000_0000;
const GENERATION_ONE: u64 = 1 << 32;

pub(super) fn note_levels(mask: u8) {
    let bits = u64::from(mask & ALL_LEVELS);
    if HINT.load(Ordering::Relaxed) & bits != bits {
        HINT.fetch_or(bits, Ordering::Relaxed);
    }
}

/// The default logger is built and its levels noted (see [`UNSETTLED`]).
pub(crate) fn default_settled() {
    HINT.fetch_and(!UNSETTLED, Ordering::Release);
}

/// Some logger's levels changed: every thread's cached verdict is stale.
pub(crate) fn levels_changed() {
    HINT.fetch_add(GENERATION_ONE, Ordering::Release);
}

/// The word of [`HINT`]: the hint, [`UNSETTLED`] and the generation. Load it
/// before reading any logger's levels.
#[inline]
pub(crate) fn hint() -> u64 {
    HINT.load(Ordering::Acquire)
}

/// The generation in a word of [`hint`].
#[inline]
pub(crate) fn generation_of(hint: u64) -> u32 {
    (hint >> 32) as u32
}

/// What decides a logger's levels per target, on top of its level mask.
#[derive(Clone)]
pub(crate) enum TargetLevels {
    /// Fixed when the logger was built.
    Fixed(Arc<TargetSet>),
    /// Whatever the control says at the time of the call.
    Control(LevelControl),
}

impl TargetLevels {
    /// The levels these may ever enable right now (for the level hint and
    /// the builder's mask).
    pub(super) fn mask(&self) -> u8 {
        match self {
            TargetLevels::Fixed(d) => d.most_verbose().map_or(0, Level::mask_from),
            TargetLevels::Control(c) => c.mask(),
        }
    }
}

impl Config {
    /// Whether the per-target levels (if any) let `level` from `target`
    /// through.
    #[inline]
    pub(crate) fn target_allows(&self, target: Option<&str>, level: Level) -> bool {
        match &self.target_levels {
            None => true,
            Some(TargetLevels::Fixed(d)) => d.enabled(target, level),
            Some(TargetLevels::Control(c)) => c.enabled(target, level),
        }
    }

    /// Whether the per-target levels let `level` through, or else a
    /// fingers-crossed buffer takes it. Out of line, so that the checks
    /// before it stay a tail call for loggers without per-target levels.
    #[inline(never)]
    fn target_or_buffer(&self, mask: u8, level: Level, target: Option<&str>) -> bool {
        self.target_allows(target, level) || self.buffers(mask, level)
    }

    /// Whether a fingers-crossed buffer takes (or, once triggered, lets
    /// through) `level` that the levels drop: only when logging is on.
    #[cold]
    #[inline(never)]
    pub(crate) fn buffers(&self, mask: u8, level: Level) -> bool {
        match &self.buffer {
            None => false,
            Some(b) => mask & DISABLED == 0 && level >= b.options.level,
        }
    }

    /// Whether an entry at `level` from `target` passes, given the level
    /// mask: written, or kept by a fingers-crossed buffer. The one shape of
    /// the check, for [`Inner`] and [`Frozen`](super::Frozen) alike; without
    /// per-target levels or a buffer it is a mask test and one branch.
    #[inline]
    pub(crate) fn allows(&self, mask: u8, level: Level, target: Option<&str>) -> bool {
        if !levels_allow(mask, level) {
            return self.buffers(mask, level);
        }
        match &self.target_levels {
            None => true,
            // A control's common "no" (no targets, no override) is one load,
            // inline: a disabled call costs about what it costs without one.
            Some(TargetLevels::Control(c)) if c.rejects_for_every_target(level) => {
                self.buffers(mask, level)
            }
            Some(_) => self.target_or_buffer(mask, level, target),
        }
    }
}

/// What [`Config::verdict`] knows about a logger's levels without a target:
/// the levels that pass for every target, those that fail for every target,
/// and, for the levels in neither, the target set that decides them (its
/// [`TargetSet::id`], or [`NO_TARGET_SET`] when each call must ask: a
/// running override, whose deadline a call checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) pass: u8,
    pub(crate) fail: u8,
    pub(crate) targets: u64,
}

/// [`Verdict::targets`] when no target set decides: an id no set ever gets.
pub(crate) const NO_TARGET_SET: u64 = u64::MAX >> 8;

impl Verdict {
    /// Knows nothing: every call asks.
    pub(crate) const UNKNOWN: Verdict = Verdict {
        pass: 0,
        fail: 0,
        targets: NO_TARGET_SET,
    };
}

impl Config {
    /// The levels that pass for every target and those that fail for every
    /// target, given the level mask, and the target set that decides the
    /// others (for the per-thread cache and the call sites' caches in
    /// `current/verdict.rs`). Must agree with [`Config::allows`]: a level in
    /// neither mask passes exactly when the target set lets it through for
    /// the call's target.
    pub(crate) fn verdict(&self, mask: u8) -> Verdict {
        let (mut pass, mut fail) = (0, 0);
        let mut targets = NO_TARGET_SET;
        for level in Level::ALL {
            let by_mask = levels_allow(mask, level);
            let buffered = self.buffers(mask, level);
            let answer = match &self.target_levels {
                None => Some(by_mask || buffered),
                _ if buffered => Some(true),
                _ if !by_mask => Some(false),
                Some(TargetLevels::Fixed(d)) => {
                    targets = d.id();
                    // No directive enables a level more verbose than its
                    // most verbose one.
                    d.most_verbose().is_none_or(|v| level < v).then_some(false)
                }
                Some(TargetLevels::Control(c)) => c.plain_answer(level),
            };
            match answer {
                Some(true) => pass |= level.bit(),
                Some(false) => fail |= level.bit(),
                None => {}
            }
        }
        if let Some(TargetLevels::Control(c)) = &self.target_levels {
            targets = c.target_set_id();
        }
        Verdict {
            pass,
            fail,
            targets,
        }
    }

    /// The target set that decides the levels [`Config::verdict`] leaves
    /// open, and the levels it enables for `target`; `None` when there is
    /// none to remember (no per-target levels, or a running override).
    pub(crate) fn levels_for(&self, target: &str) -> Option<(u64, u8)> {
        match &self.target_levels {
            None => None,
            Some(TargetLevels::Fixed(d)) => Some((d.id(), d.levels_for(target))),
            Some(TargetLevels::Control(c)) => c.levels_for(target),
        }
    }
}

/// Whether a level mask lets `level` through.
#[inline]
pub(super) fn levels_allow(mask: u8, level: Level) -> bool {
    mask & level.bit() != 0 && mask & DISABLED == 0
}

impl Inner {
    /// Whether `level` passes for an entry without a target (the methods):
    /// written, or kept by a fingers-crossed buffer.
    #[inline]
    pub(crate) fn is_enabled(&self, level: Level) -> bool {
        let mask = self.levels.load(Ordering::Relaxed);
        self.config.allows(mask, level, None)
    }

    /// What decides this logger's levels: its config and level mask now.
    #[inline]
    pub(crate) fn levels(&self) -> (&Config, u8) {
        (&self.config, self.levels.load(Ordering::Relaxed))
    }

    /// Whether `level` passes for an entry from `target` (the macros):
    /// written, or kept by a fingers-crossed buffer.
    #[inline]
    #[cfg(any(feature = "log", feature = "tracing"))]
    pub(crate) fn is_enabled_for(&self, level: Level, target: &str) -> bool {
        let mask = self.levels.load(Ordering::Relaxed);
        self.config.allows(mask, level, Some(target))
    }

    /// Whether the levels alone (not a buffer) let `level` from `target`
    /// through: the entry is written rather than buffered.
    #[inline]
    pub(crate) fn levels_pass(&self, level: Level, target: Option<&str>) -> bool {
        self.mask_allows(level) && self.config.target_allows(target, level)
    }

    #[inline]
    fn mask_allows(&self, level: Level) -> bool {
        levels_allow(self.levels.load(Ordering::Relaxed), level)
    }
}

impl LogLayer {
    fn update_levels(&self, f: impl Fn(u8) -> u8) {
        if let Ok(old) = self
            .inner
            .levels
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| Some(f(v)))
        {
            note_levels(f(old));
            levels_changed();
        }
    }

    /// A child that logs at `level` and above, whatever this logger's levels,
    /// directives or level control say (its on/off switch still applies):
    /// the request logger of a forced `level_header`. Its own children
    /// inherit the forced level.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn child_at_level(&self, level: Level) -> LogLayer {
        let child = self.child_with_config(|config| config.target_levels = None);
        child.update_levels(|v| (v & DISABLED) | level.mask_from());
        child
    }

    /// Enables `level` and everything more severe; disables the rest.
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    /// use loglayer::Level;
    /// log.set_level(Level::Warn);
    /// assert!(!log.is_level_enabled(Level::Info));
    /// assert!(log.is_level_enabled(Level::Error));
    /// ```
    pub fn set_level(&self, level: Level) -> &Self {
        self.update_levels(|v| (v & DISABLED) | level.mask_from());
        self
    }

    /// Enables one level.
    pub fn enable_level(&self, level: Level) -> &Self {
        self.update_levels(|v| v | level.bit());
        self
    }

    /// Disables one level.
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    /// use loglayer::Level;
    /// log.disable_level(Level::Debug);
    /// assert!(!log.is_level_enabled(Level::Debug));
    /// assert!(log.is_level_enabled(Level::Trace));
    /// log.enable_level(Level::Debug);
    /// assert!(log.is_level_enabled(Level::Debug));
    /// ```
    pub fn disable_level(&self, level: Level) -> &Self {
        self.update_levels(|v| v & !level.bit());
        self
    }

    /// Whether an entry at `level` would be sent (logging on and the level
    /// enabled), or kept by a [fingers-crossed](crate::FingersCrossed)
    /// buffer.
    pub fn is_level_enabled(&self, level: Level) -> bool {
        self.inner.is_enabled(level)
    }

    /// Turns logging back on after [`disable_logging`](LogLayer::disable_logging).
    ///
    /// **Unlike LogLayer**, this does not undo an earlier
    /// [`set_level`](LogLayer::set_level) or
    /// [`disable_level`](LogLayer::disable_level): levels disabled then stay
    /// disabled. LogLayer's `enableLogging` turns every level on, so a logger
    /// set to `warn`, switched off and on again logs `debug` afterwards. Here
    /// the on/off switch is kept apart from the levels, so that switching
    /// logging off for a while and back on returns the logger to the levels
    /// it had. To turn every level on, call `set_level(Level::Trace)`.
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    /// use loglayer::Level;
    /// log.set_level(Level::Error);
    /// log.disable_logging();
    /// assert!(!log.is_level_enabled(Level::Fatal));
    /// log.enable_logging();
    /// assert!(log.is_level_enabled(Level::Fatal));
    /// assert!(!log.is_level_enabled(Level::Info)); // still off from set_level
    /// ```
    pub fn enable_logging(&self) -> &Self {
        self.update_levels(|v| v & !DISABLED);
        self
    }

    /// Turns all logging off, whatever the levels.
    pub fn disable_logging(&self) -> &Self {
        self.update_levels(|v| v | DISABLED);
        self
    }

    fn set_muted(&self, bit: u8, on: bool) -> &Self {
        if on {
            self.inner.muted.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.inner.muted.fetch_and(!bit, Ordering::Relaxed);
        }
        self
    }

    /// Leaves the context out of entries until [`unmute_context`](LogLayer::unmute_context).
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.with_context(serde_json::json!({"a": 1}));
    /// log.mute_context().info("x");
    /// log.unmute_context().info("y");
    /// let e = capture.entries();
    /// assert!(e[0].get("a").is_none());
    /// assert_eq!(e[1]["a"], 1);
    /// ```
    pub fn mute_context(&self) -> &Self {
        self.set_muted(MUTE_CONTEXT, true)
    }

    /// Puts the context back into entries.
    pub fn unmute_context(&self) -> &Self {
        self.set_muted(MUTE_CONTEXT, false)
    }

    /// Leaves metadata out of entries until [`unmute_metadata`](LogLayer::unmute_metadata).
    pub fn mute_metadata(&self) -> &Self {
        self.set_muted(MUTE_METADATA, true)
    }

    /// Puts metadata back into entries.
    pub fn unmute_metadata(&self) -> &Self {
        self.set_muted(MUTE_METADATA, false)
    }
}
