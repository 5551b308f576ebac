//! [`LevelControl`]: a shared set of levels ([`Directives`]) that loggers
//! follow while the program runs, with a temporary override that ends on its
//! own.
//!
//! Why this shape: every log call of a logger with a control asks it, so the
//! read path takes no lock and, in the common case, reads one byte.
//! `Shared::fast` holds the level mask of the set in force plus two flags:
//!
//! - `TARGETS`: the set has per-target levels, so the mask is only a first
//!   filter and the [`Directives`] in force (`Shared::active`, an `ArcSwap`)
//!   decide;
//! - `OVERRIDE`: a temporary set is in force, so the call first compares the
//!   clock with its deadline (one `Instant::now()`, paid only while an
//!   override lasts). The first call to see it expired restores the base set.
//!
//! Without either flag, the byte answers alone. Writers (`set`,
//! `override_for`, `clear_override`, and that first call after a deadline)
//! serialise on a mutex; a log call only ever `try_lock`s it, so it never
//! waits. Each write stores the directives first and the byte last, and
//! raises the process-wide level hint (`levels.rs`), so the macros' first
//! check lets the newly enabled levels through from the next call on, on
//! every thread.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::levels::{levels_changed, note_levels, ALL_LEVELS, NO_TARGET_SET};
use crate::directives::TargetSet;
use crate::{Directives, Level, ParseDirectivesError};

/// Flag of `Shared::fast`: per-target levels, look them up.
const TARGETS: u8 = 0b0100_0000;
/// Flag of `Shared::fast`: an override is in force, check its deadline.
const OVERRIDE: u8 = 0b1000_0000;

/// A shared, changeable set of levels: attach it to a logger with
/// [`LogLayerBuilder::level_control`](crate::LogLayerBuilder::level_control),
/// keep a clone, and change the levels while the program runs — from an
/// admin endpoint, a signal handler, a config reload.
///
/// Clones are the same control. The logger, every [`child`](crate::LogLayer::child)
/// of it and every scope under it follow it: a change is seen by the next log
/// call on every thread. Specs use the syntax of `LOGLAYER_LEVEL` and
/// `env_logger` (see [`Directives`]): `info,my_app::db=debug,hyper=off`.
///
/// ```
/// use loglayer::{transport::CaptureTransport, Level, LevelControl, LogLayer};
///
/// let control = LevelControl::new(Level::Info);
/// let capture = CaptureTransport::new();
/// let log = LogLayer::builder()
///     .transport(capture.clone())
///     .level_control(control.clone())
///     .build();
///
/// log.debug("hidden");
/// control.set("debug").unwrap();
/// log.debug("shown");
///
/// // A bad spec is refused, says where it is wrong, and changes nothing.
/// let err = control.set("debug,db=loud").unwrap_err();
/// assert_eq!(err.column(), 7);
/// assert_eq!(control.spec(), "debug");
/// assert_eq!(capture.messages(), ["shown"]);
/// ```
///
/// # Temporary changes
///
/// [`override_for`](LevelControl::override_for) puts a set in force for a
/// while; the base set (from [`new`](LevelControl::new),
/// [`from_env`](LevelControl::from_env) or [`set`](LevelControl::set)) comes
/// back by itself when the time is up, or at
/// [`clear_override`](LevelControl::clear_override).
///
/// ```
/// use std::time::Duration;
/// use loglayer::{Level, LevelControl};
///
/// let control = LevelControl::new(Level::Info);
/// control.override_for("debug,hyper=warn", Duration::from_secs(600)).unwrap();
/// assert_eq!(control.spec(), "debug,hyper=warn");
/// assert_eq!(control.base_spec(), "info");
/// assert!(control.override_remaining().is_some());
///
/// control.clear_override();
/// assert_eq!(control.spec(), "info");
/// assert_eq!(control.override_remaining(), None);
/// ```
///
/// # With a logger's own levels
///
/// A logger built with a control and without
/// [`level`](crate::LogLayerBuilder::level) lets the control decide alone.
/// [`set_level`](crate::LogLayer::set_level) and its friends, and
/// [`disable_logging`](crate::LogLayer::disable_logging), still gate that
/// logger's entries on top of the control. A control replaces
/// [`directives`](crate::LogLayerBuilder::directives) given to the same
/// builder (the later call wins).
///
/// # Cost
///
/// A log call reads one atomic byte of the control (plus a lookup of the
/// per-target levels when the set has targets, and a clock read while an
/// override is in force); it never locks. `benches/benches/compare.rs`
/// measures a disabled call with a control attached against one without.
#[derive(Clone)]
pub struct LevelControl {
    shared: Arc<Shared>,
}

struct Shared {
    /// The mask of the set in force, plus `TARGETS` and `OVERRIDE`.
    fast: AtomicU8,
    /// The set in force: the override's while it lasts, else the base.
    active: ArcSwap<TargetSet>,
    /// When the override ends, in nanoseconds since `epoch`; read only while
    /// `OVERRIDE` is set.
    deadline: AtomicU64,
    epoch: Instant,
    /// What writers change, one at a time.
    sets: Mutex<Sets>,
}

struct Sets {
    base: Arc<TargetSet>,
    /// The override and its deadline (nanoseconds since `epoch`).
    temporary: Option<(Arc<TargetSet>, u64)>,
}

impl Default for LevelControl {
    /// A control at `info` for everything.
    fn default() -> Self {
        LevelControl::new(Level::Info)
    }
}

impl LevelControl {
    /// A control whose base set is `directives` (a [`Directives`], or a
    /// [`Level`] for everything).
    ///
    /// ```
    /// use loglayer::{Directives, Level, LevelControl};
    /// let by_level = LevelControl::new(Level::Warn);
    /// let by_spec = LevelControl::new("info,my_app::db=debug".parse::<Directives>().unwrap());
    /// assert_eq!(by_level.spec(), "warn");
    /// assert_eq!(by_spec.spec(), "info,my_app::db=debug");
    /// ```
    pub fn new(directives: impl Into<Directives>) -> Self {
        let base = Arc::new(TargetSet::new(directives.into()));
        let fast = fast_byte(&base, false);
        note_levels(fast);
        LevelControl {
            shared: Arc::new(Shared {
                fast: AtomicU8::new(fast),
                active: ArcSwap::new(base.clone()),
                deadline: AtomicU64::new(0),
                epoch: Instant::now(),
                sets: Mutex::new(Sets {
                    base,
                    temporary: None,
                }),
            }),
        }
    }

    /// A control whose base set is read from `LOGLAYER_LEVEL`, as the default
    /// logger's is ([`Directives::from_env`]): unset or empty gives `info`; a
    /// malformed value prints one message on stderr and gives `info`.
    ///
    /// ```
    /// let control = loglayer::LevelControl::from_env();
    /// # let _ = control;
    /// ```
    pub fn from_env() -> Self {
        LevelControl::new(Directives::from_env())
    }

    /// Replaces the base set with `spec` and ends any override: from the next
    /// log call on, `spec` is in force. On a parse error nothing changes and
    /// the error says which item is wrong and where it starts.
    ///
    /// ```
    /// # use loglayer::{Level, LevelControl};
    /// let control = LevelControl::new(Level::Info);
    /// control.set("warn,my_app::db=trace").unwrap();
    /// assert!(control.enabled(Some("my_app::db::pool"), Level::Trace));
    /// assert!(!control.enabled(Some("my_app::http"), Level::Info));
    ///
    /// let err = control.set("warn,my_app::db=verbose").unwrap_err();
    /// assert!(err.to_string().contains(r#"unknown level "verbose""#));
    /// assert_eq!(control.spec(), "warn,my_app::db=trace");
    /// ```
    pub fn set(&self, spec: &str) -> Result<(), ParseDirectivesError> {
        self.set_directives(spec.parse::<Directives>()?);
        Ok(())
    }

    /// [`set`](LevelControl::set) with directives already parsed (or a
    /// [`Level`]).
    ///
    /// ```
    /// # use loglayer::{Level, LevelControl};
    /// let control = LevelControl::new(Level::Info);
    /// control.set_directives(Level::Error);
    /// assert_eq!(control.spec(), "error");
    /// ```
    pub fn set_directives(&self, directives: impl Into<Directives>) {
        let mut sets = self.shared.lock();
        sets.base = Arc::new(TargetSet::new(directives.into()));
        sets.temporary = None;
        self.shared.publish(&sets);
    }

    /// Puts `spec` in force for `duration`, keeping the base set to come back
    /// to: when the time is up (checked by each log call, so no thread is
    /// involved), at [`clear_override`](LevelControl::clear_override), or at
    /// the next [`set`](LevelControl::set). A new override replaces the
    /// current one. On a parse error nothing changes.
    ///
    /// ```
    /// use std::time::Duration;
    /// use loglayer::{Level, LevelControl};
    ///
    /// let control = LevelControl::new(Level::Info);
    /// control.override_for("trace", Duration::from_secs(300)).unwrap();
    /// assert!(control.enabled(None, Level::Trace));
    ///
    /// // A zero duration is over at once.
    /// control.override_for("trace", Duration::ZERO).unwrap();
    /// assert!(!control.enabled(None, Level::Trace));
    /// assert_eq!(control.spec(), "info");
    /// ```
    pub fn override_for(&self, spec: &str, duration: Duration) -> Result<(), ParseDirectivesError> {
        let directives: Directives = spec.parse()?;
        let deadline = self.shared.now().saturating_add(nanos(duration));
        let mut sets = self.shared.lock();
        sets.temporary = Some((Arc::new(TargetSet::new(directives)), deadline));
        self.shared.publish(&sets);
        Ok(())
    }

    /// Ends the override now, if there is one: the base set is in force again.
    pub fn clear_override(&self) {
        let mut sets = self.shared.lock();
        if sets.temporary.take().is_some() {
            self.shared.publish(&sets);
        }
    }

    /// The spec in force (the override's while it lasts), in canonical form
    /// (see [`Directives`]'s `Display`): `"info,my_app::db=debug"`.
    pub fn spec(&self) -> String {
        self.directives().to_string()
    }

    /// The set in force, parsed.
    pub fn directives(&self) -> Directives {
        let sets = self.shared.current_sets();
        match &sets.temporary {
            Some((temporary, _)) => Directives::clone(temporary),
            None => Directives::clone(&sets.base),
        }
    }

    /// The base spec: what is in force when no override is.
    pub fn base_spec(&self) -> String {
        self.shared.current_sets().base.to_string()
    }

    /// How long the override has left, or `None` when there is none.
    pub fn override_remaining(&self) -> Option<Duration> {
        let now = self.shared.now();
        let sets = self.shared.current_sets();
        sets.temporary
            .as_ref()
            .map(|&(_, deadline)| Duration::from_nanos(deadline.saturating_sub(now)))
    }

    /// Whether an entry at `level` from `target` passes the set in force
    /// (what a logger following this control asks on each call).
    ///
    /// ```
    /// # use loglayer::{Level, LevelControl};
    /// let control = LevelControl::new(Level::Info);
    /// assert!(control.enabled(None, Level::Warn));
    /// assert!(!control.enabled(Some("my_app"), Level::Debug));
    /// ```
    #[inline]
    pub fn enabled(&self, target: Option<&str>, level: Level) -> bool {
        let fast = self.shared.fast.load(Ordering::Relaxed);
        if fast & (TARGETS | OVERRIDE) == 0 {
            return fast & level.bit() != 0;
        }
        self.shared.enabled_slow(fast, target, level)
    }

    /// Whether `level` is off for every target, known from the fast byte
    /// alone (no per-target directives, no override running).
    #[inline]
    pub(crate) fn rejects_for_every_target(&self, level: Level) -> bool {
        let fast = self.shared.fast.load(Ordering::Relaxed);
        fast & (TARGETS | OVERRIDE | level.bit()) == 0
    }

    /// Whether `level` is on, for every target alike: `None` when the set in
    /// force has per-target directives or is a running override (whose
    /// expiry a call must check).
    #[inline]
    pub(crate) fn plain_answer(&self, level: Level) -> Option<bool> {
        let fast = self.shared.fast.load(Ordering::Relaxed);
        (fast & (TARGETS | OVERRIDE) == 0).then_some(fast & level.bit() != 0)
    }

    /// The id of the set in force, which decides the levels
    /// [`plain_answer`](LevelControl::plain_answer) leaves open; none while
    /// an override runs (each call checks its deadline).
    pub(crate) fn target_set_id(&self) -> u64 {
        if self.shared.fast.load(Ordering::Relaxed) & OVERRIDE != 0 {
            return NO_TARGET_SET;
        }
        self.shared.active.load().id()
    }

    /// The set in force and the levels it enables for `target` (see
    /// `Config::levels_for`); none while an override runs.
    pub(crate) fn levels_for(&self, target: &str) -> Option<(u64, u8)> {
        if self.shared.fast.load(Ordering::Relaxed) & OVERRIDE != 0 {
            return None;
        }
        let set = self.shared.active.load();
        Some((set.id(), set.levels_for(target)))
    }

    /// The levels the set in force may enable (for the builder's hint).
    pub(crate) fn mask(&self) -> u8 {
        self.shared.fast.load(Ordering::Relaxed) & ALL_LEVELS
    }
}

impl Shared {
    /// Targets or an override: check the deadline, then the mask, then the
    /// directives in force.
    #[inline(never)]
    fn enabled_slow(&self, mut fast: u8, target: Option<&str>, level: Level) -> bool {
        if fast & OVERRIDE != 0 && self.now() >= self.deadline.load(Ordering::Acquire) {
            // Expired: the first call to see it restores the base set. A
            // call that finds a writer busy goes on with what it sees.
            if let Ok(sets) = self.sets.try_lock() {
                drop(self.expire(sets));
            }
            fast = self.fast.load(Ordering::Relaxed);
        }
        if fast & level.bit() == 0 {
            return false;
        }
        fast & TARGETS == 0 || self.active.load().enabled(target, level)
    }

    fn now(&self) -> u64 {
        nanos(self.epoch.elapsed())
    }

    fn lock(&self) -> MutexGuard<'_, Sets> {
        // Writers never panic while holding it; recover anyway.
        self.sets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The sets, with an expired override ended first.
    fn current_sets(&self) -> MutexGuard<'_, Sets> {
        let sets = self.lock();
        self.expire(sets)
    }

    /// Ends the override if its time is up.
    fn expire<'a>(&self, mut sets: MutexGuard<'a, Sets>) -> MutexGuard<'a, Sets> {
        if sets
            .temporary
            .as_ref()
            .is_some_and(|&(_, deadline)| self.now() >= deadline)
        {
            sets.temporary = None;
            self.publish(&sets);
        }
        sets
    }

    /// Makes `sets` what log calls see: the directives first, then the
    /// deadline, then the byte that sends calls to them.
    fn publish(&self, sets: &Sets) {
        let (active, deadline) = match &sets.temporary {
            Some((temporary, deadline)) => (temporary, Some(*deadline)),
            None => (&sets.base, None),
        };
        self.active.store(active.clone());
        if let Some(deadline) = deadline {
            self.deadline.store(deadline, Ordering::Release);
        }
        let fast = fast_byte(active, deadline.is_some());
        note_levels(fast);
        self.fast.store(fast, Ordering::Release);
        levels_changed();
    }
}

/// The byte for `directives`: the levels its most verbose directive enables,
/// `TARGETS` when it has per-target levels, `OVERRIDE` when it is temporary.
fn fast_byte(directives: &Directives, temporary: bool) -> u8 {
    let mask = directives.most_verbose().map_or(0, Level::mask_from);
    let targets = if directives.has_targets() { TARGETS } else { 0 };
    let temporary = if temporary { OVERRIDE } else { 0 };
    mask | targets | temporary
}

/// A duration in nanoseconds, saturating (an override of `Duration::MAX`
/// lasts for ever).
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl fmt::Debug for LevelControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LevelControl")
            .field("spec", &self.spec())
            .field("base", &self.base_spec())
            .field("override_remaining", &self.override_remaining())
            .finish()
    }
}
