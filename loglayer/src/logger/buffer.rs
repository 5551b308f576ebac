//! Fingers-crossed buffering (Monolog's `FingersCrossedHandler`): a scope
//! keeps its entries below the normal level, down to a chosen level, in a
//! bounded buffer; an entry at the trigger level (`error` by default) writes
//! them first, marked `"buffered": true`, in their original order and with
//! their original times. A scope that ends without a trigger drops its
//! buffer with its last handle, unwritten.
//!
//! The buffer belongs to the logger's [`Config`](super::state::Config), which
//! its children, `#[with_logger]` scopes and `loglayer::spawn`ed tasks share:
//! the whole story of a request lands in one buffer. What goes where is
//! decided in `crate::pipeline` (`Inner::fingers_crossed`); this file holds
//! the options, the buffer and the owned copy of an entry.
//!
//! Locking: one `Mutex` per buffer, held only to push or take entries —
//! never while a transport, plugin or user `Drop` runs (an evicted entry is
//! dropped after the lock is released). A poisoned lock is used as is: its
//! data is a queue that is valid between any two operations.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use super::levels::note_levels;
use super::LogLayer;
use crate::context::Context;
use crate::error::ErrorInfo;
use crate::value::Fields;
use crate::Level;

/// The default number of entries a buffer holds.
const DEFAULT_CAPACITY: usize = 256;

/// Entries evicted from full buffers since the process started.
static DROPPED_TOTAL: AtomicU64 = AtomicU64::new(0);

/// The options of fingers-crossed buffering (Monolog's "fingers crossed"
/// handler): entries below a logger's normal levels, down to
/// [`new`](FingersCrossed::new)'s level, are kept in a bounded buffer
/// instead of being dropped, and written only if something goes wrong.
///
/// Give it to [`LogLayer::fingers_crossed`](crate::LogLayer::fingers_crossed)
/// (a child with its own buffer, e.g. per unit of work),
/// [`LogLayerBuilder::fingers_crossed`](crate::LogLayerBuilder::fingers_crossed)
/// (a logger built with one) or
/// `RequestLoggerLayer::fingers_crossed` (feature `tower`: a buffer per HTTP
/// request).
///
/// - **Buffered**: an entry at or above the buffer's level that the logger's
///   levels (level mask, directives, [`LevelControl`](crate::LevelControl))
///   would drop. Nothing is rendered: an owned copy (message, time, level,
///   target, context, metadata, error) waits in the buffer. When the buffer
///   holds [`capacity`](FingersCrossed::capacity) entries the oldest is
///   dropped and counted ([`LogLayer::buffer_stats`](crate::LogLayer::buffer_stats),
///   [`FingersCrossed::dropped_total`]).
/// - **Trigger**: an entry at the [`trigger`](FingersCrossed::trigger) level
///   (`error` by default) or above, or
///   [`LogLayer::release_buffered`](crate::LogLayer::release_buffered). The
///   buffered entries go through the plugins and transports first, oldest
///   first, with their original times and `"buffered": true` in their
///   metadata (the first also carries `buffer_dropped` when some were
///   evicted); then the triggering entry.
/// - **After the trigger**, like Monolog, the buffer stays open: every later
///   entry at or above the buffer's level is written directly, unmarked — a
///   failing unit of work keeps telling its story (retries, clean-up) to the
///   end.
/// - **No trigger**: the buffer goes away with the last handle of the
///   logger (and of its children and scopes), unwritten.
///
/// Order is kept among the buffered entries and between them and the
/// triggering entry. Entries that other threads log *while* a trigger is
/// being written may land among the released ones.
///
/// ```
/// use loglayer::{transport::CaptureTransport, FingersCrossed, Level, LogLayer};
///
/// let capture = CaptureTransport::new();
/// let base = LogLayer::builder().transport(capture.clone()).level(Level::Info).build();
///
/// // A unit of work that succeeds: its debug lines are never written.
/// let job = base.fingers_crossed(FingersCrossed::new(Level::Debug));
/// job.debug("step 1");
/// job.info("done");
/// drop(job);
/// assert_eq!(capture.messages(), ["done"]);
///
/// // One that fails: its debug lines come first, marked.
/// capture.clear();
/// let job = base.fingers_crossed(FingersCrossed::new(Level::Debug));
/// job.debug("step 1");
/// job.debug("step 2");
/// job.error("step 3 failed");
/// assert_eq!(capture.messages(), ["step 1", "step 2", "step 3 failed"]);
/// let e = capture.entries();
/// assert_eq!(e[0]["buffered"], true);
/// assert!(e[2].get("buffered").is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FingersCrossed {
    pub(crate) level: Level,
    pub(crate) capacity: usize,
    pub(crate) trigger: Level,
}

impl FingersCrossed {
    /// Buffers the entries at `level` and above that the logger's levels
    /// drop; holds up to 256 entries; triggered at `error`.
    pub fn new(level: Level) -> Self {
        FingersCrossed {
            level,
            capacity: DEFAULT_CAPACITY,
            trigger: Level::Error,
        }
    }

    /// Holds at most `capacity` entries (at least 1); when full, the oldest
    /// is dropped and counted. Memory is bounded by this count times the
    /// size of an entry.
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, FingersCrossed, Level, LogLayer};
    ///
    /// let capture = CaptureTransport::new();
    /// let base = LogLayer::builder().transport(capture.clone()).level(Level::Info).build();
    /// let job = base.fingers_crossed(FingersCrossed::new(Level::Debug).capacity(2));
    /// for i in 0..5 {
    ///     job.debug(format_args!("step {i}"));
    /// }
    /// assert_eq!(job.buffer_stats().unwrap().dropped, 3);
    /// job.error("failed");
    /// assert_eq!(capture.messages(), ["step 3", "step 4", "failed"]);
    /// assert_eq!(capture.entries()[0]["buffer_dropped"], 3);
    /// ```
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// The level that writes the buffer (default `error`): an entry at this
    /// level or above.
    pub fn trigger(mut self, level: Level) -> Self {
        self.trigger = level;
        self
    }

    /// Entries dropped from full buffers since the process started, across
    /// every logger (each buffer's own count is in
    /// [`LogLayer::buffer_stats`](crate::LogLayer::buffer_stats)).
    pub fn dropped_total() -> u64 {
        DROPPED_TOTAL.load(Ordering::Relaxed)
    }
}

/// What a logger's fingers-crossed buffer holds now; see
/// [`LogLayer::buffer_stats`](crate::LogLayer::buffer_stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BufferStats {
    /// Entries waiting for a trigger.
    pub held: usize,
    /// Entries dropped because the buffer was full (the oldest first).
    pub dropped: u64,
    /// Whether the buffer was triggered (it then holds nothing and lets
    /// entries through).
    pub triggered: bool,
}

/// One entry, copied off the caller's borrowed data.
pub(crate) struct Buffered {
    pub(crate) level: Level,
    pub(crate) time: SystemTime,
    /// The message, prefix applied.
    pub(crate) message: String,
    pub(crate) target: Option<Box<str>>,
    pub(crate) context: Arc<Context>,
    pub(crate) metadata: Fields,
    pub(crate) error: Option<ErrorInfo>,
    /// The configuration of the logger that buffered it: its groups route
    /// the entry when it is written (not the triggering logger's).
    pub(crate) config: Arc<super::state::Config>,
}

/// A scope's buffer, shared by its logger, children and scopes.
pub(crate) struct Buffer {
    pub(crate) options: FingersCrossed,
    /// Set once, under the lock; read without it as a fast path.
    triggered: AtomicBool,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    entries: VecDeque<Buffered>,
    dropped: u64,
}

/// What [`Buffer::store`] did with an entry.
pub(crate) enum Stored {
    Held,
    /// The buffer was triggered meanwhile: write the entry directly.
    Open,
}

/// What a trigger takes out of the buffer.
pub(crate) struct Released {
    pub(crate) entries: VecDeque<Buffered>,
    pub(crate) dropped: u64,
}

impl Buffer {
    pub(crate) fn new(options: FingersCrossed) -> Self {
        Buffer {
            options,
            triggered: AtomicBool::new(false),
            held: Mutex::new(Held::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Held> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the buffer was triggered (entries then pass through).
    #[inline]
    pub(crate) fn is_open(&self) -> bool {
        self.triggered.load(Ordering::Acquire)
    }

    /// Keeps `entry`, evicting the oldest when full.
    pub(crate) fn store(&self, entry: Buffered) -> Stored {
        let mut held = self.lock();
        if self.triggered.load(Ordering::Relaxed) {
            return Stored::Open;
        }
        let evicted = if held.entries.len() >= self.options.capacity {
            held.dropped += 1;
            DROPPED_TOTAL.fetch_add(1, Ordering::Relaxed);
            held.entries.pop_front()
        } else {
            None
        };
        held.entries.push_back(entry);
        drop(held);
        drop(evicted); // outside the lock
        Stored::Held
    }

    /// Triggers the buffer and takes what it holds; `None` if it was
    /// triggered before.
    pub(crate) fn release(&self) -> Option<Released> {
        let mut held = self.lock();
        if self.triggered.load(Ordering::Relaxed) {
            return None;
        }
        self.triggered.store(true, Ordering::Release);
        Some(Released {
            entries: std::mem::take(&mut held.entries),
            dropped: held.dropped,
        })
    }

    pub(crate) fn stats(&self) -> BufferStats {
        let held = self.lock();
        BufferStats {
            held: held.entries.len(),
            dropped: held.dropped,
            triggered: self.triggered.load(Ordering::Relaxed),
        }
    }
}

impl LogLayer {
    /// A [`child`](LogLayer::child) with a fingers-crossed buffer of its own:
    /// its entries below the levels, down to `options`' level, wait in the
    /// buffer and are written (marked `"buffered": true`, in order, with
    /// their times) only when an entry at the trigger level is logged through
    /// it, its children or its scopes; see [`FingersCrossed`]. Children,
    /// `#[with_logger]` scopes and [`loglayer::spawn`](crate::spawn)ed tasks
    /// under it share the buffer. A child of it made with `fingers_crossed`
    /// again gets a buffer of its own.
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, FingersCrossed, Level, LogLayer};
    ///
    /// let capture = CaptureTransport::new();
    /// let base = LogLayer::builder().transport(capture.clone()).level(Level::Info).build();
    /// let job = base.fingers_crossed(FingersCrossed::new(Level::Debug));
    /// loglayer::sync_scope(job, || {
    ///     loglayer::debug!(rows = 3, "query ran");
    ///     loglayer::error!("commit failed");
    /// });
    /// let e = capture.entries();
    /// assert_eq!((e[0]["msg"].as_str(), e[0]["buffered"].as_bool()), (Some("query ran"), Some(true)));
    /// assert_eq!(e[1]["msg"], "commit failed");
    /// ```
    pub fn fingers_crossed(&self, options: FingersCrossed) -> LogLayer {
        note_levels(options.level.mask_from());
        let buffer = Some(Arc::new(Buffer::new(options)));
        self.child_with_config(|config| config.buffer = buffer)
    }

    /// Triggers this logger's fingers-crossed buffer as an entry at the
    /// trigger level would, without logging one: writes what it holds
    /// (marked) and lets later entries through. Returns how many entries
    /// were written; 0 without a buffer or when it was triggered before.
    /// The request middleware calls it for a 5xx response.
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, FingersCrossed, Level, LogLayer};
    ///
    /// let capture = CaptureTransport::new();
    /// let base = LogLayer::builder().transport(capture.clone()).level(Level::Info).build();
    /// let job = base.fingers_crossed(FingersCrossed::new(Level::Debug));
    /// job.debug("retrying");
    /// assert_eq!(job.release_buffered(), 1);
    /// job.debug("gave up"); // written directly now
    /// assert_eq!(capture.messages(), ["retrying", "gave up"]);
    /// ```
    pub fn release_buffered(&self) -> usize {
        self.inner.release_buffered()
    }

    /// What this logger's fingers-crossed buffer holds and has dropped;
    /// `None` without a buffer.
    pub fn buffer_stats(&self) -> Option<BufferStats> {
        self.inner.config.buffer.as_ref().map(|b| b.stats())
    }
}
