//! The [`WorkerGuard`] and shutdown: dropping it refuses new entries, lets
//! the worker write everything already accepted, waits for that within the
//! shutdown timeout, and says on stderr, in one line, what was not delivered.
//!
//! Shutdown must never hang or panic the process: the wait is bounded (a
//! writer that never returns cannot hold up exit), a guard dropped on the
//! worker's own thread does not wait for itself, and the worker thread is
//! joined only once it has said it exited.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::queue::{lock, Shared};

/// Stops the [`NonBlocking`](super::NonBlocking) writer when dropped, after writing everything it
/// accepted (waiting at most the shutdown timeout). See
/// [`NonBlocking`](super::NonBlocking#the-guard).
///
/// ```
/// use loglayer::writer::NonBlocking;
/// use std::io::Write;
///
/// let (mut nb, guard) = NonBlocking::new(std::io::sink());
/// nb.write_all(b"one line\n").unwrap();
/// drop(guard);                                   // writes it, then stops
/// assert_eq!(nb.written(), 1);
/// assert!(nb.write_all(b"too late\n").is_err()); // refused from now on
/// assert_eq!(nb.dropped(), 1);
/// ```
#[must_use = "the writer stops when the guard drops: keep it alive while logging"]
pub struct WorkerGuard {
    pub(super) shared: Arc<Shared>,
    pub(super) handle: Option<JoinHandle<()>>,
}

impl fmt::Debug for WorkerGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerGuard")
            .field("shutdown_timeout", &self.shared.timeout)
            .finish_non_exhaustive()
    }
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        let shared = &*self.shared;
        let mut st = lock(&shared.state);
        st.closed = true;
        shared.wake_worker(&mut st);
        if st.room_waiters > 0 {
            shared.room.notify_all();
        }
        // A guard dropped by the writer itself cannot wait for the worker.
        if !shared.on_worker_thread() {
            // The worker exits once everything accepted is done.
            let deadline = Instant::now() + shared.timeout;
            st = shared.wait_for_progress(st, deadline, |_| false);
        }
        let exited = !st.worker_running;
        let undone = st.accepted - st.done.min(st.accepted);
        let unreported_drops = st.pending_dropped;
        drop(st);
        let failed = shared.failed.load(Ordering::Relaxed);
        Undelivered {
            undone,
            failed,
            unreported_drops,
        }
        .report(shared.timeout);
        if exited {
            if let Some(handle) = self.handle.take() {
                let _ = handle.join();
            }
        }
    }
}

/// What a shutdown could not deliver, by cause.
struct Undelivered {
    /// Accepted but not written within the shutdown timeout.
    undone: u64,
    /// Lost to writer errors (or panics).
    failed: u64,
    /// Dropped (queue full) without a notice in the output saying so.
    unreported_drops: u64,
}

impl Undelivered {
    /// Says on stderr, in one line, how many entries were not delivered and
    /// why; nothing when everything was.
    fn report(&self, timeout: Duration) {
        let &Undelivered {
            undone,
            failed,
            unreported_drops,
        } = self;
        if undone == 0 && failed == 0 && unreported_drops == 0 {
            return;
        }
        let mut parts = Vec::new();
        if undone > 0 {
            parts.push(format!("{undone} not written after waiting {timeout:?}"));
        }
        if failed > 0 {
            parts.push(format!("{failed} lost to writer errors"));
        }
        if unreported_drops > 0 {
            parts.push(format!(
                "{unreported_drops} dropped (queue full) not reported in the output"
            ));
        }
        let _ = writeln!(
            io::stderr(),
            "loglayer: the non-blocking writer shut down with {} entries not delivered ({})",
            undone + failed + unreported_drops,
            parts.join(", ")
        );
    }
}
