//! Re-entrancy: what this thread is doing inside loglayer right now, kept in
//! one thread-local, so that code loglayer calls — a `Display` or `Serialize`
//! impl, a plugin, a transport, a writer, a bridged facade — can log again
//! without recursing forever, deadlocking or looping between facades.
//!
//! | guard | taken by | what a nested call that hits it gets |
//! |---|---|---|
//! | [`EntryGuard`] (nesting depth) | the pipeline, per entry | past [`MAX_DEPTH`] nested entries, the entry is dropped and counted |
//! | [`WriterGuard`] (writers held) | a transport, while it holds its writer's lock | a write into the same writer is refused with an error (counted) instead of deadlocking on the lock |
//! | [`ActivityGuard`] (bridge activities) | the `log`/`tracing` bridges | an event that would go back where it came from is not bridged |
//!
//! Each guard undoes its mark when dropped, also during a panic, and none
//! lives across an `.await`: the marks belong to one synchronous call.
//!
//! The thread's current-logger *overlay* (`current/slot.rs`) is not a guard:
//! it is where a scope entered during a log call is kept, because that call
//! holds the thread's slot borrowed. It lives with the slot it stands in for.
//!
//! The thread-local holds only `Cell`s of plain values, so it has no
//! destructor and stays usable while other thread-locals are torn down at
//! thread exit.

use std::cell::Cell;

/// Deepest nesting of log calls on one thread (a transport or `Display`
/// impl that logs while logging); deeper entries are dropped and counted.
pub(crate) const MAX_DEPTH: u8 = 4;

/// Writers one thread can hold at once: one per nested entry, with room.
const MAX_HELD: usize = 8;

struct Busy {
    depth: Cell<u8>,
    #[cfg_attr(
        not(any(feature = "log", feature = "tracing", feature = "otlp")),
        allow(dead_code)
    )]
    activities: Cell<u8>,
    held: [Cell<usize>; MAX_HELD],
    held_len: Cell<u8>,
}

thread_local! {
    static BUSY: Busy = const {
        Busy {
            depth: Cell::new(0),
            activities: Cell::new(0),
            held: [const { Cell::new(0) }; MAX_HELD],
            held_len: Cell::new(0),
        }
    };
}

/// One entry going through the pipeline on this thread.
pub(crate) struct EntryGuard(());

impl EntryGuard {
    /// `None` when [`MAX_DEPTH`] entries are already nested on this thread.
    pub(crate) fn enter() -> Option<EntryGuard> {
        BUSY.try_with(|b| {
            let depth = b.depth.get();
            (depth < MAX_DEPTH).then(|| {
                b.depth.set(depth + 1);
                EntryGuard(())
            })
        })
        .ok()
        .flatten()
    }
}

impl Drop for EntryGuard {
    fn drop(&mut self) {
        let _ = BUSY.try_with(|b| b.depth.set(b.depth.get().saturating_sub(1)));
    }
}

/// A writer (identified by its address) held by a transport on this thread.
pub(crate) struct WriterGuard {
    writer: usize,
}

impl WriterGuard {
    /// `None` when this thread already holds `writer` further up the stack
    /// (or holds too many writers to track one more).
    pub(crate) fn hold(writer: usize) -> Option<WriterGuard> {
        BUSY.try_with(|b| {
            let len = usize::from(b.held_len.get());
            if len >= MAX_HELD || b.held[..len].iter().any(|w| w.get() == writer) {
                return None;
            }
            b.held[len].set(writer);
            b.held_len.set(len as u8 + 1);
            Some(WriterGuard { writer })
        })
        .ok()
        .flatten()
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        let _ = BUSY.try_with(|b| {
            let len = usize::from(b.held_len.get());
            // Guards drop in reverse order, so this is almost always the top.
            if let Some(i) = b.held[..len].iter().rposition(|w| w.get() == self.writer) {
                for j in i..len - 1 {
                    b.held[j].set(b.held[j + 1].get());
                }
                b.held_len.set(len as u8 - 1);
            }
        });
    }
}

/// What the bridges (and an OTLP export thread) are doing on this thread
/// (bit set).
#[cfg(any(feature = "log", feature = "tracing", feature = "otlp"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // each activity is used only with some of the features
pub(crate) enum Activity {
    /// `LogBridge` is passing a `log` record to loglayer.
    FromLog = 1,
    /// `TracingLayer` is passing a `tracing` event to loglayer.
    FromTracing = 2,
    /// `TracingTransport` is emitting a `tracing` event.
    ToTracing = 4,
    /// This thread is an `OtlpTransport`'s export thread (for its whole
    /// life): what its HTTP/gRPC stack logs is not exported again.
    Exporting = 8,
}

/// Whether this thread is an OTLP export thread (`false` during thread
/// teardown, unlike [`active`]: a thread being torn down is not exporting).
#[cfg(feature = "otlp")]
pub(crate) fn exporting() -> bool {
    BUSY.try_with(|b| b.activities.get() & Activity::Exporting as u8 != 0)
        .unwrap_or(false)
}

/// Whether any of `activities` is in progress on this thread. During thread
/// teardown (should the thread-local be gone) reports `true`, so nothing is
/// bridged then.
#[cfg(any(feature = "log", feature = "tracing"))]
pub(crate) fn active(activities: &[Activity]) -> bool {
    let mask = activities.iter().fold(0u8, |m, a| m | *a as u8);
    BUSY.try_with(|b| b.activities.get() & mask != 0)
        .unwrap_or(true)
}

/// Marks a bridge activity as in progress until dropped (also on panic).
#[cfg(any(feature = "log", feature = "tracing", feature = "otlp"))]
pub(crate) struct ActivityGuard {
    previous: u8,
}

#[cfg(any(feature = "log", feature = "tracing", feature = "otlp"))]
impl ActivityGuard {
    pub(crate) fn enter(activity: Activity) -> ActivityGuard {
        let previous = BUSY
            .try_with(|b| {
                let p = b.activities.get();
                b.activities.set(p | activity as u8);
                p
            })
            .unwrap_or(0);
        ActivityGuard { previous }
    }
}

#[cfg(any(feature = "log", feature = "tracing", feature = "otlp"))]
impl Drop for ActivityGuard {
    fn drop(&mut self) {
        let _ = BUSY.try_with(|b| b.activities.set(self.previous));
    }
}
