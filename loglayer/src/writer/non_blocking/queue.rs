//! The bounded queue that every [`NonBlocking`](super::NonBlocking) clone,
//! the worker thread and the [`WorkerGuard`](super::WorkerGuard) share: its
//! state under one lock, the three condition variables they wait on, and the
//! two things a caller does with it — [`push`](Shared::push) an entry, wait
//! for a [flush](Shared::flush_within).
//!
//! Entries sit back to back in one byte buffer with their end offsets beside
//! it, so the worker can take the whole queue in one swap; the queue
//! allocates lazily and, in steady state, no entry allocates. Every wait is
//! bounded: a stuck writer may cost a caller `max_wait` once, never forever.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use super::Policy;

/// Waits longer than this are treated as this (keeps `Instant + d` finite).
pub(super) const LONGEST_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// What every handle, the worker and the guard hold (behind one `Arc`).
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// The worker waits here for entries, a flush request or shutdown.
    pub(super) work: Condvar,
    /// Lossless callers wait here for room.
    pub(super) room: Condvar,
    /// `flush` callers and the guard wait here for the worker's progress.
    pub(super) progress: Condvar,
    pub(super) capacity: usize,
    pub(super) max_bytes: usize,
    pub(super) policy: Policy,
    pub(super) timeout: Duration,
    pub(super) worker_thread: OnceLock<ThreadId>,
    pub(super) dropped: AtomicU64,
    pub(super) written: AtomicU64,
    pub(super) failed: AtomicU64,
    pub(super) failure_reported: AtomicBool,
}

/// Everything that changes, under [`Shared::state`].
pub(super) struct State {
    /// The queued entries, back to back.
    pub(super) buf: Vec<u8>,
    /// The end offset in `buf` of each queued entry.
    pub(super) ends: Vec<usize>,
    /// Entries accepted since the start (a sequence number).
    pub(super) accepted: u64,
    /// Entries the worker is done with (written or failed).
    pub(super) done: u64,
    /// Entries done and followed by a flush of the writer.
    pub(super) flushed: u64,
    /// The highest sequence number a `flush` caller waits for.
    pub(super) flush_target: u64,
    /// Entries dropped since the last notice was taken.
    pub(super) pending_dropped: u64,
    /// `done` when a lossless caller last waited `max_wait` in vain: until
    /// the worker makes progress, later callers drop without waiting.
    pub(super) stalled_at: Option<u64>,
    /// The guard dropped: refuse new entries.
    pub(super) closed: bool,
    /// False once the worker has exited (or if it never started).
    pub(super) worker_running: bool,
    /// The worker is waiting on `work` for as long as it takes.
    pub(super) worker_parked: bool,
    /// The worker is taking a short nap on `work` after a batch, to let
    /// entries accumulate; it is woken early only when there is a reason.
    pub(super) worker_napping: bool,
    pub(super) room_waiters: usize,
    pub(super) progress_waiters: usize,
}

impl State {
    /// An empty queue with the worker about to start.
    pub(super) fn new() -> State {
        State {
            buf: Vec::new(),
            ends: Vec::new(),
            accepted: 0,
            done: 0,
            flushed: 0,
            flush_target: 0,
            pending_dropped: 0,
            stalled_at: None,
            closed: false,
            worker_running: true,
            worker_parked: false,
            worker_napping: false,
            room_waiters: 0,
            progress_waiters: 0,
        }
    }
}

/// Locks, recovering from poisoning (nothing panics while holding these locks,
/// but a shutdown path must never panic because something else did).
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waits on `cv` for at most `timeout`, recovering from poisoning as [`lock`] does.
pub(super) fn wait_timeout<'a, T>(
    cv: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: Duration,
) -> MutexGuard<'a, T> {
    match cv.wait_timeout(guard, timeout) {
        Ok((g, _)) => g,
        Err(poisoned) => poisoned.into_inner().0,
    }
}

impl Shared {
    /// Wakes the worker if it is parked or napping.
    pub(super) fn wake_worker(&self, st: &mut State) {
        if st.worker_parked || st.worker_napping {
            st.worker_parked = false;
            st.worker_napping = false;
            self.work.notify_one();
        }
    }

    /// Whether the caller is the worker itself (a writer that logs into
    /// itself), which must never wait for the worker.
    pub(super) fn on_worker_thread(&self) -> bool {
        self.worker_thread.get() == Some(&thread::current().id())
    }

    /// Queues one entry, or drops it (counted). `Err` only once shut down.
    pub(super) fn push(&self, entry: &[u8]) -> io::Result<()> {
        let mut st = lock(&self.state);
        let mut deadline: Option<Instant> = None;
        loop {
            if st.closed || !st.worker_running {
                drop(st);
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return Err(io::Error::other(
                    "loglayer non-blocking writer is shut down (its WorkerGuard was dropped)",
                ));
            }
            let queued = st.ends.len();
            if queued == 0
                || (queued < self.capacity && st.buf.len() + entry.len() <= self.max_bytes)
            {
                st.buf.extend_from_slice(entry);
                let end = st.buf.len();
                st.ends.push(end);
                st.accepted += 1;
                // Waking a thread costs a system call: only when the worker
                // would otherwise sleep on, or the queue is filling up.
                if st.worker_parked
                    || (st.worker_napping
                        && (st.ends.len() >= self.capacity.div_ceil(2)
                            || st.buf.len() >= self.max_bytes / 2))
                {
                    self.wake_worker(&mut st);
                }
                return Ok(());
            }
            // Full.
            self.wake_worker(&mut st);
            let max_wait = match self.policy {
                Policy::DropAndReport => break,
                Policy::Lossless { max_wait } => max_wait.min(LONGEST_WAIT),
            };
            // The worker (a writer that logs into itself) must not wait for
            // itself; and once a caller waited in vain, the writer is stuck:
            // nobody waits again until it makes progress.
            if st.stalled_at == Some(st.done) || self.on_worker_thread() {
                break;
            }
            let now = Instant::now();
            let deadline = *deadline.get_or_insert(now + max_wait);
            if now >= deadline {
                st.stalled_at = Some(st.done);
                break;
            }
            st.room_waiters += 1;
            st = wait_timeout(&self.room, st, deadline - now);
            st.room_waiters -= 1;
        }
        st.pending_dropped += 1;
        drop(st);
        self.dropped.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Waits, at most `timeout`, until everything accepted so far is written
    /// and the writer flushed.
    pub(super) fn flush_within(&self, timeout: Duration) -> io::Result<()> {
        let mut st = lock(&self.state);
        let target = st.accepted;
        if st.flushed >= target || !st.worker_running {
            return Ok(());
        }
        if self.on_worker_thread() {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "flush called from the non-blocking writer's own thread",
            ));
        }
        st.flush_target = st.flush_target.max(target);
        self.wake_worker(&mut st);
        let deadline = Instant::now() + timeout.min(LONGEST_WAIT);
        let st = self.wait_for_progress(st, deadline, |st| st.flushed >= target);
        if st.flushed < target && st.worker_running {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "loglayer non-blocking writer: {} entries not written after {timeout:?}",
                    target - st.done.min(target)
                ),
            ));
        }
        Ok(())
    }

    /// Waits on `progress` until `reached` holds, the worker has exited or
    /// `deadline` passes, whichever comes first; the caller tells which from
    /// the state it gets back. Used by `flush` and by the guard's shutdown.
    pub(super) fn wait_for_progress<'a>(
        &self,
        mut st: MutexGuard<'a, State>,
        deadline: Instant,
        reached: impl Fn(&State) -> bool,
    ) -> MutexGuard<'a, State> {
        while !reached(&st) && st.worker_running {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st.progress_waiters += 1;
            st = wait_timeout(&self.progress, st, deadline - now);
            st.progress_waiters -= 1;
        }
        st
    }
}
