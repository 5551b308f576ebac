//! [`NonBlocking`]: any writer behind a bounded queue and one writer thread.
//!
//! The policies, the guard and the counters are described on
//! [`NonBlocking`](crate::writer::NonBlocking).

use std::fmt;
use std::io::{self, Write};
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant, SystemTime};

const DEFAULT_CAPACITY: usize = 8192;
const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(1);
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// The default byte bound is `capacity × BYTES_PER_ENTRY`, within these limits.
const BYTES_PER_ENTRY: usize = 1024;
const MIN_DEFAULT_MAX_BYTES: usize = 64 * 1024;
const MAX_DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Waits longer than this are treated as this (keeps `Instant + d` finite).
const LONGEST_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);
/// A worker buffer above this size that was mostly unused is shrunk.
const SHRINK_ABOVE: usize = 1024 * 1024;
/// How long the worker naps after a batch before parking (see `run`).
const NAP: Duration = Duration::from_millis(1);
/// Consecutive `Interrupted` errors tolerated before giving up on an entry.
const MAX_INTERRUPTED: u32 = 16;

/// What a caller does when the queue is full. See [`NonBlocking`] for both.
///
/// ```
/// use loglayer::writer::Policy;
/// use std::time::Duration;
///
/// assert_eq!(Policy::default(), Policy::Lossless { max_wait: Duration::from_secs(1) });
/// let _never_wait = Policy::DropAndReport;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Policy {
    /// Wait for room, at most `max_wait`; then drop the entry and count it.
    /// The default, with `max_wait` of one second.
    Lossless {
        /// The longest a caller waits for room.
        max_wait: Duration,
    },
    /// Never wait: drop the entry, count it, and later write one entry saying
    /// how many were dropped.
    DropAndReport,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::Lossless {
            max_wait: DEFAULT_MAX_WAIT,
        }
    }
}

/// Formats the entry the worker writes after entries were dropped.
type NoticeFn = Box<dyn Fn(u64) -> Vec<u8> + Send + 'static>;

/// Configures a [`NonBlocking`] writer; from [`NonBlocking::builder`].
///
/// ```
/// use loglayer::writer::{NonBlocking, Policy};
/// use std::time::Duration;
///
/// let (non_blocking, guard) = NonBlocking::builder(std::io::stdout())
///     .capacity(1024)
///     .policy(Policy::DropAndReport)
///     .shutdown_timeout(Duration::from_secs(2))
///     .thread_name("log-writer")
///     .finish();
/// # drop((non_blocking, guard));
/// ```
#[must_use = "call `.finish()` to start the writer"]
pub struct NonBlockingBuilder {
    writer: Box<dyn Write + Send>,
    capacity: usize,
    max_bytes: Option<usize>,
    policy: Policy,
    shutdown_timeout: Duration,
    thread_name: String,
    notice: Option<NoticeFn>,
}

impl fmt::Debug for NonBlockingBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonBlockingBuilder")
            .field("capacity", &self.capacity)
            .field("max_bytes", &self.max_bytes)
            .field("policy", &self.policy)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("thread_name", &self.thread_name)
            .field("custom_notice", &self.notice.is_some())
            .finish_non_exhaustive()
    }
}

impl NonBlockingBuilder {
    /// The most entries the queue holds (default 8192; at least 1). Entries
    /// the worker has already taken and is writing are not counted.
    ///
    /// ```
    /// let (nb, _guard) = loglayer::writer::NonBlocking::builder(std::io::sink())
    ///     .capacity(100)
    ///     .finish();
    /// assert_eq!(nb.capacity(), 100);
    /// ```
    pub fn capacity(mut self, entries: usize) -> Self {
        self.capacity = entries.max(1);
        self
    }

    /// The most bytes the queue holds (default: capacity × 1 KiB, between
    /// 64 KiB and 64 MiB). An entry larger than this is still accepted when
    /// the queue is empty, alone, so that no entry is refused for its size;
    /// the queue and the batch the worker is writing together hold at most
    /// twice this, or one such entry each.
    ///
    /// ```
    /// let (nb, _guard) = loglayer::writer::NonBlocking::builder(std::io::sink())
    ///     .max_bytes(1 << 20)
    ///     .finish();
    /// # drop(nb);
    /// ```
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = Some(bytes.max(1));
        self
    }

    /// What a caller does when the queue is full (default
    /// [`Policy::Lossless`] with `max_wait` of one second).
    ///
    /// ```
    /// use loglayer::writer::{NonBlocking, Policy};
    /// let (nb, _guard) = NonBlocking::builder(std::io::sink())
    ///     .policy(Policy::DropAndReport)
    ///     .finish();
    /// assert_eq!(nb.policy(), Policy::DropAndReport);
    /// ```
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// How long dropping the [`WorkerGuard`] (and each `flush`) waits at most
    /// for the worker (default 5 s).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let (nb, _guard) = loglayer::writer::NonBlocking::builder(std::io::sink())
    ///     .shutdown_timeout(Duration::from_millis(500))
    ///     .finish();
    /// # drop(nb);
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The name of the worker thread (default `loglayer-writer`).
    ///
    /// ```
    /// let (nb, _guard) = loglayer::writer::NonBlocking::builder(std::io::sink())
    ///     .thread_name("audit-log-writer")
    ///     .finish();
    /// # drop(nb);
    /// ```
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }

    /// Formats the entry written after `n` entries were dropped (a whole
    /// line, newline included). The default is a JSON line
    /// `{"time":"<RFC 3339 UTC ms>","level":"warn","msg":"loglayer dropped N entries (queue full)","dropped":N}`;
    /// use this when the stream is not JSON lines. If `notice` panics, the
    /// default line is written instead.
    ///
    /// ```
    /// use loglayer::{transport::ConsoleTransport, writer::{NonBlocking, Policy}, LogLayer};
    ///
    /// let (nb, _guard) = NonBlocking::builder(std::io::stderr())
    ///     .policy(Policy::DropAndReport)
    ///     .dropped_notice(|n| format!("WARN  loglayer dropped {n} entries (queue full)\n").into_bytes())
    ///     .finish();
    /// let log = LogLayer::new(ConsoleTransport::new(nb));
    /// # drop(log);
    /// ```
    pub fn dropped_notice<F>(mut self, notice: F) -> Self
    where
        F: Fn(u64) -> Vec<u8> + Send + 'static,
    {
        self.notice = Some(Box::new(notice));
        self
    }

    /// Starts the worker thread and returns the writer and its guard.
    ///
    /// If the thread cannot be started, this says so once on stderr and the
    /// writer refuses every entry (counting it as dropped).
    ///
    /// ```
    /// let (nb, guard) = loglayer::writer::NonBlocking::builder(std::io::sink()).finish();
    /// # drop((nb, guard));
    /// ```
    #[must_use = "dropping the guard at once shuts the writer down"]
    pub fn finish(self) -> (NonBlocking, WorkerGuard) {
        let max_bytes = self.max_bytes.unwrap_or_else(|| {
            self.capacity
                .saturating_mul(BYTES_PER_ENTRY)
                .clamp(MIN_DEFAULT_MAX_BYTES, MAX_DEFAULT_MAX_BYTES)
        });
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
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
            }),
            work: Condvar::new(),
            room: Condvar::new(),
            progress: Condvar::new(),
            capacity: self.capacity,
            max_bytes,
            policy: self.policy,
            timeout: self.shutdown_timeout.min(LONGEST_WAIT),
            worker_thread: OnceLock::new(),
            dropped: AtomicU64::new(0),
            written: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            failure_reported: AtomicBool::new(false),
        });
        let worker_shared = Arc::clone(&shared);
        let writer = self.writer;
        let notice = self.notice;
        let spawned = thread::Builder::new()
            .name(self.thread_name)
            .spawn(move || worker_main(worker_shared, writer, notice));
        let handle = match spawned {
            Ok(handle) => Some(handle),
            Err(e) => {
                lock(&shared.state).worker_running = false;
                let _ = writeln!(
                    io::stderr(),
                    "loglayer: cannot start the non-blocking writer's thread ({e}); its entries are dropped"
                );
                None
            }
        };
        let guard = WorkerGuard {
            shared: Arc::clone(&shared),
            handle,
        };
        (NonBlocking { shared }, guard)
    }
}

/// A writer that queues each entry and returns; one worker thread writes
/// them to the real writer. Cheap to clone: clones share the queue and the
/// worker.
///
/// A log call should cost the caller the time it takes to format the entry,
/// not the time the disk, the terminal or the pipe takes to accept it.
/// [`NonBlocking`] is an [`io::Write`] that copies each entry into a bounded
/// in-memory queue and returns; one dedicated thread (the *worker*) takes
/// everything queued in one go and writes it to the real writer. Put it under
/// any transport that takes a writer:
///
/// ```
/// use loglayer::{transport::JsonTransport, writer::NonBlocking, LogLayer};
///
/// fn main() {
///     let (non_blocking, guard) = NonBlocking::new(std::io::stdout());
///     let log = LogLayer::new(JsonTransport::new(non_blocking));
///     log.info("service started");
///     // ... run the service ...
///     drop(guard); // (or let it drop at the end of `main`) writes everything accepted
/// }
/// ```
///
/// # What a write means
///
/// Each [`write`](io::Write::write) call is **one entry**, accepted whole or
/// not at all, and returns the full length. The built-in transports write each
/// entry with one call, so lines are never torn or interleaved, and the order
/// of the entries of each thread is kept. [`flush`](io::Write::flush) (and
/// [`LogLayer::flush`](crate::LogLayer::flush)) waits, at most the
/// [shutdown timeout](NonBlockingBuilder::shutdown_timeout), until everything
/// accepted so far has been written and the writer flushed.
///
/// An idle worker is woken by the first entry and writes it at once. Under a
/// steady stream it writes a batch, then naps for a millisecond (or until the
/// queue is half full) so that entries accumulate and callers need not wake
/// it one by one: a line reaches the writer within about a millisecond, and
/// the writer is flushed whenever the queue runs empty.
///
/// # When the queue is full: two policies
///
/// The queue holds at most [`capacity`](NonBlockingBuilder::capacity) entries
/// and about [`max_bytes`](NonBlockingBuilder::max_bytes) bytes. It allocates
/// lazily, as entries arrive, and the worker swaps the whole queue for its own
/// buffer, so in steady state no entry allocates.
///
/// - [`Policy::Lossless`] (the default, waiting at most one second): the caller
///   waits for room, up to `max_wait`. Nothing is lost while the writer keeps
///   up on average; if the writer is stuck for longer than `max_wait`, the
///   entry is dropped and counted, so a log call never blocks forever. After
///   one caller has waited in vain, later callers do not wait (they drop and
///   count) until the writer makes progress again, so a stuck writer costs
///   `max_wait` once rather than on every call.
/// - [`Policy::DropAndReport`]: the caller never waits. An entry that does not
///   fit is dropped and counted, and once there is room again the worker writes
///   **one entry of its own** saying how many were dropped, in the format of
///   the stream — by default a JSON line
///   `{"time":"…","level":"warn","msg":"loglayer dropped 12 entries (queue full)","dropped":12}`;
///   [`dropped_notice`](NonBlockingBuilder::dropped_notice) supplies another
///   format (e.g. for a [`ConsoleTransport`](crate::transport::ConsoleTransport)).
///   The same notice is written when a lossless caller gave up waiting.
///
/// [`NonBlocking::dropped`], [`written`](NonBlocking::written),
/// [`failed`](NonBlocking::failed) and [`queued`](NonBlocking::queued) count
/// what happened: once the guard has dropped and the worker has finished,
/// every entry offered is exactly one of dropped, written or failed.
///
/// # A failing writer
///
/// When the writer returns an error (a closed pipe under `| head -1`,
/// `/dev/full`) or panics, the worker gives up on that entry, counts it in
/// [`failed`](NonBlocking::failed), reports the first failure once on stderr
/// and carries on with the next entry: the queue keeps draining, so callers
/// never wait on a broken writer and shutting down never hangs on one. (If
/// the writer took part of an entry before failing, that part stays written.)
///
/// # The guard
///
/// [`NonBlocking::new`] also returns a [`WorkerGuard`]. Keep it alive for as
/// long as you log (typically a local in `main`). When it drops it stops
/// accepting entries, lets the worker write everything already accepted and
/// waits for that — at most the [shutdown timeout](NonBlockingBuilder::shutdown_timeout)
/// (5 s by default), so a writer that never returns cannot hang the process.
/// If something could not be delivered it says how many entries on stderr, in
/// one line. It never panics. Entries written after it dropped are refused:
/// counted as dropped and answered with an error.
///
/// The guard drops when `main` returns and while a panic unwinds out of
/// `main`, so in both cases everything logged is written. But
/// **[`std::process::exit`] runs no destructors**: call `drop(guard)` first.
/// For a panic that does not unwind (`panic = "abort"`), or a panic on
/// another thread while the guard lives on, [`NonBlocking::flush_on_panic`]
/// installs a panic hook that flushes before the panic proceeds.
///
/// ```
/// # use loglayer::{transport::JsonTransport, writer::NonBlocking, LogLayer};
/// let (non_blocking, guard) = NonBlocking::new(std::io::stdout());
/// let log = LogLayer::new(JsonTransport::new(non_blocking));
/// log.error("cannot continue");
/// drop(guard); // process::exit skips destructors: flush first
/// # if false {
/// std::process::exit(1);
/// # }
/// ```
///
/// # Counting
///
/// ```
/// use loglayer::{transport::JsonTransport, writer::NonBlocking, LogLayer};
///
/// let (non_blocking, guard) = NonBlocking::new(std::io::stdout());
/// let log = LogLayer::new(JsonTransport::new(non_blocking.clone()));
/// log.info("hello");
/// drop(guard);
/// assert_eq!(non_blocking.written(), 1);
/// assert_eq!(non_blocking.dropped() + non_blocking.failed(), 0);
/// ```
#[derive(Clone)]
pub struct NonBlocking {
    shared: Arc<Shared>,
}

/// Stops the [`NonBlocking`] writer when dropped, after writing everything it
/// accepted (waiting at most the shutdown timeout). See
/// [`NonBlocking`](NonBlocking#the-guard).
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
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// The worker waits here for entries, a flush request or shutdown.
    work: Condvar,
    /// Lossless callers wait here for room.
    room: Condvar,
    /// `flush` callers and the guard wait here for the worker's progress.
    progress: Condvar,
    capacity: usize,
    max_bytes: usize,
    policy: Policy,
    timeout: Duration,
    worker_thread: OnceLock<ThreadId>,
    dropped: AtomicU64,
    written: AtomicU64,
    failed: AtomicU64,
    failure_reported: AtomicBool,
}

struct State {
    /// The queued entries, back to back.
    buf: Vec<u8>,
    /// The end offset in `buf` of each queued entry.
    ends: Vec<usize>,
    /// Entries accepted since the start (a sequence number).
    accepted: u64,
    /// Entries the worker is done with (written or failed).
    done: u64,
    /// Entries done and followed by a flush of the writer.
    flushed: u64,
    /// The highest sequence number a `flush` caller waits for.
    flush_target: u64,
    /// Entries dropped since the last notice was taken.
    pending_dropped: u64,
    /// `done` when a lossless caller last waited `max_wait` in vain: until
    /// the worker makes progress, later callers drop without waiting.
    stalled_at: Option<u64>,
    /// The guard dropped: refuse new entries.
    closed: bool,
    /// False once the worker has exited (or if it never started).
    worker_running: bool,
    /// The worker is waiting on `work` for as long as it takes.
    worker_parked: bool,
    /// The worker is taking a short nap on `work` after a batch, to let
    /// entries accumulate; it is woken early only when there is a reason.
    worker_napping: bool,
    room_waiters: usize,
    progress_waiters: usize,
}

/// Locks, recovering from poisoning (nothing panics while holding these locks,
/// but a shutdown path must never panic because something else did).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn wait_timeout<'a, T>(
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
    fn wake_worker(&self, st: &mut State) {
        if st.worker_parked || st.worker_napping {
            st.worker_parked = false;
            st.worker_napping = false;
            self.work.notify_one();
        }
    }

    fn on_worker_thread(&self) -> bool {
        self.worker_thread.get() == Some(&thread::current().id())
    }

    /// Queues one entry, or drops it (counted). `Err` only once shut down.
    fn push(&self, entry: &[u8]) -> io::Result<()> {
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
    fn flush_within(&self, timeout: Duration) -> io::Result<()> {
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
        while st.flushed < target && st.worker_running {
            let now = Instant::now();
            if now >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "loglayer non-blocking writer: {} entries not written after {timeout:?}",
                        target - st.done.min(target)
                    ),
                ));
            }
            st.progress_waiters += 1;
            st = wait_timeout(&self.progress, st, deadline - now);
            st.progress_waiters -= 1;
        }
        Ok(())
    }

    fn report_failure(&self, err: &io::Error) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if !self.failure_reported.swap(true, Ordering::Relaxed) {
            let _ = writeln!(
                io::stderr(),
                "loglayer: the non-blocking writer failed to write an entry: {err} \
                 (reported once; further failures are counted in NonBlocking::failed())"
            );
        }
    }
}

impl NonBlocking {
    /// A non-blocking writer over `writer` with the defaults: capacity 8192
    /// entries, [`Policy::Lossless`] waiting at most 1 s, shutdown timeout 5 s.
    ///
    /// ```
    /// use loglayer::{transport::JsonTransport, writer::NonBlocking, LogLayer};
    ///
    /// # let path = std::env::temp_dir().join(format!("nb-doc-new-{}.log", std::process::id()));
    /// let file = std::fs::File::create(&path).unwrap();
    /// let (non_blocking, guard) = NonBlocking::new(file);
    /// let log = LogLayer::new(JsonTransport::new(non_blocking));
    /// log.info("to the file, off the caller's thread");
    /// drop(guard);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    #[must_use = "dropping the guard at once shuts the writer down"]
    pub fn new<W: Write + Send + 'static>(writer: W) -> (NonBlocking, WorkerGuard) {
        Self::builder(writer).finish()
    }

    /// A builder to choose the capacity, policy, timeout and more.
    ///
    /// ```
    /// use loglayer::writer::{NonBlocking, Policy};
    /// let (nb, _guard) = NonBlocking::builder(std::io::stdout())
    ///     .policy(Policy::DropAndReport)
    ///     .finish();
    /// # drop(nb);
    /// ```
    pub fn builder<W: Write + Send + 'static>(writer: W) -> NonBlockingBuilder {
        NonBlockingBuilder {
            writer: Box::new(writer),
            capacity: DEFAULT_CAPACITY,
            max_bytes: None,
            policy: Policy::default(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            thread_name: "loglayer-writer".to_owned(),
            notice: None,
        }
    }

    /// Entries dropped so far: the queue was full (and, under
    /// [`Policy::Lossless`], stayed full for `max_wait`), or the guard had
    /// already dropped.
    ///
    /// ```
    /// let (nb, _guard) = loglayer::writer::NonBlocking::new(std::io::sink());
    /// assert_eq!(nb.dropped(), 0);
    /// ```
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Entries written to the writer so far (the worker's own dropped-count
    /// notices are not counted).
    ///
    /// ```
    /// use std::io::Write;
    /// let (mut nb, _guard) = loglayer::writer::NonBlocking::new(std::io::sink());
    /// nb.write_all(b"a line\n").unwrap();
    /// nb.flush().unwrap();
    /// assert_eq!(nb.written(), 1);
    /// ```
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Relaxed)
    }

    /// Entries accepted but lost because the writer returned an error or
    /// panicked. The first such failure is also reported on stderr.
    ///
    /// ```
    /// use std::io::Write;
    /// struct Full;
    /// impl Write for Full {
    ///     fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
    ///         Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"))
    ///     }
    ///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
    /// }
    /// let (mut nb, guard) = loglayer::writer::NonBlocking::new(Full);
    /// nb.write_all(b"lost\n").unwrap();   // accepted: the caller is not affected
    /// drop(guard);
    /// assert_eq!(nb.failed(), 1);
    /// ```
    pub fn failed(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }

    /// Entries waiting in the queue right now (at most the capacity); the
    /// batch the worker is writing is not included.
    ///
    /// ```
    /// let (nb, _guard) = loglayer::writer::NonBlocking::new(std::io::sink());
    /// assert!(nb.queued() <= nb.capacity());
    /// ```
    pub fn queued(&self) -> usize {
        lock(&self.shared.state).ends.len()
    }

    /// The most entries the queue holds.
    ///
    /// ```
    /// let (nb, _guard) = loglayer::writer::NonBlocking::new(std::io::sink());
    /// assert_eq!(nb.capacity(), 8192);
    /// ```
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// The policy applied when the queue is full.
    ///
    /// ```
    /// use loglayer::writer::{NonBlocking, Policy};
    /// let (nb, _guard) = NonBlocking::new(std::io::sink());
    /// assert!(matches!(nb.policy(), Policy::Lossless { .. }));
    /// ```
    pub fn policy(&self) -> Policy {
        self.shared.policy
    }

    /// Installs a panic hook that, after the previously installed hook ran
    /// (it is kept and called first), flushes this writer, waiting at most the
    /// shutdown timeout. Useful with `panic = "abort"`, or when the guard is
    /// not dropped by the panic (a panic on another thread that ends the
    /// process, a guard kept in a `static`). Does nothing when called while
    /// panicking. Calling it again installs one more hook.
    ///
    /// ```
    /// use loglayer::{transport::JsonTransport, writer::NonBlocking, LogLayer};
    ///
    /// let (non_blocking, _guard) = NonBlocking::new(std::io::stdout());
    /// non_blocking.flush_on_panic();
    /// let log = LogLayer::new(JsonTransport::new(non_blocking));
    /// log.info("written even if a panic aborts the process");
    /// # let _ = std::panic::take_hook();
    /// ```
    pub fn flush_on_panic(&self) {
        if thread::panicking() {
            return;
        }
        let shared: Weak<Shared> = Arc::downgrade(&self.shared);
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            previous(info);
            if let Some(shared) = shared.upgrade() {
                let _ = shared.flush_within(shared.timeout);
            }
        }));
    }
}

impl Write for NonBlocking {
    /// Queues `buf` as one entry and returns its length (also when the entry
    /// is dropped because the queue is full: that is counted, not an error).
    /// Errors only after the [`WorkerGuard`] dropped.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.shared.push(buf)?;
        Ok(buf.len())
    }

    /// Waits, at most the shutdown timeout, until everything accepted so far
    /// is written and the writer flushed; `TimedOut` if it was not.
    fn flush(&mut self) -> io::Result<()> {
        self.shared.flush_within(self.shared.timeout)
    }
}

impl fmt::Debug for NonBlocking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonBlocking")
            .field("policy", &self.shared.policy)
            .field("capacity", &self.shared.capacity)
            .field("max_bytes", &self.shared.max_bytes)
            .field("written", &self.written())
            .field("dropped", &self.dropped())
            .field("failed", &self.failed())
            .finish_non_exhaustive()
    }
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
        let may_wait = !shared.on_worker_thread();
        let deadline = Instant::now() + shared.timeout;
        while may_wait && st.worker_running {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st.progress_waiters += 1;
            st = wait_timeout(&shared.progress, st, deadline - now);
            st.progress_waiters -= 1;
        }
        let exited = !st.worker_running;
        let undone = st.accepted - st.done.min(st.accepted);
        let unreported_drops = st.pending_dropped;
        drop(st);
        let failed = shared.failed.load(Ordering::Relaxed);
        if undone > 0 || failed > 0 || unreported_drops > 0 {
            let mut parts = Vec::new();
            if undone > 0 {
                parts.push(format!(
                    "{undone} not written after waiting {:?}",
                    shared.timeout
                ));
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
        if exited {
            if let Some(handle) = self.handle.take() {
                let _ = handle.join();
            }
        }
    }
}

/// The worker thread: writes batches until the guard drops and the queue is
/// empty; whatever happens, marks itself exited so nobody waits for it.
fn worker_main(shared: Arc<Shared>, writer: Box<dyn Write + Send>, notice: Option<NoticeFn>) {
    let _ = shared.worker_thread.set(thread::current().id());
    let _ = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut writer = writer;
        run(&shared, &mut *writer, notice.as_deref());
        drop(writer);
    }));
    let mut st = lock(&shared.state);
    st.worker_running = false;
    // Entries left behind (only if the worker itself failed) are lost.
    let lost = st.accepted - st.done.min(st.accepted);
    if lost > 0 {
        st.done = st.accepted;
        st.buf = Vec::new();
        st.ends = Vec::new();
        shared.failed.fetch_add(lost, Ordering::Relaxed);
    }
    shared.room.notify_all();
    shared.progress.notify_all();
}

fn run(shared: &Shared, writer: &mut dyn Write, notice: Option<&(dyn Fn(u64) -> Vec<u8> + Send)>) {
    let mut batch: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    let idle = |st: &State| {
        st.ends.is_empty() && st.pending_dropped == 0 && !st.closed && st.flush_target <= st.flushed
    };
    let mut wrote = false;
    loop {
        let mut st = lock(&shared.state);
        // After a batch, nap briefly so that under load entries accumulate
        // and producers need not wake the worker for each one; when nothing
        // came, park until a producer wakes it.
        if wrote && idle(&st) {
            st.worker_napping = true;
            st = wait_timeout(&shared.work, st, NAP);
            st.worker_napping = false;
        }
        while idle(&st) {
            st.worker_parked = true;
            st = shared.work.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        st.worker_parked = false;
        st.worker_napping = false;
        mem::swap(&mut st.buf, &mut batch);
        mem::swap(&mut st.ends, &mut ends);
        let upto = st.accepted;
        let dropped = mem::take(&mut st.pending_dropped);
        if st.room_waiters > 0 {
            shared.room.notify_all();
        }
        drop(st);

        wrote = !ends.is_empty();
        let failed = write_batch(shared, writer, &batch, &ends);
        shared
            .written
            .fetch_add(ends.len() as u64 - failed, Ordering::Relaxed);
        if dropped > 0 {
            write_notice(writer, notice, dropped);
        }
        let used = batch.len();
        batch.clear();
        ends.clear();
        if batch.capacity() > SHRINK_ABOVE && used < batch.capacity() / 4 {
            batch.shrink_to(used * 2);
            ends.shrink_to(ends.capacity() / 2);
        }

        let mut st = lock(&shared.state);
        st.done = upto;
        if st.ends.is_empty() || st.flush_target > st.flushed || st.closed {
            drop(st);
            // A flush error loses no entry: the next write reports the problem.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| writer.flush()));
            st = lock(&shared.state);
            st.flushed = upto;
        }
        if st.progress_waiters > 0 {
            shared.progress.notify_all();
        }
        if st.closed && st.ends.is_empty() && st.pending_dropped == 0 {
            return;
        }
    }
}

/// Writes a batch; an entry the writer fails on is skipped and counted.
/// Returns how many entries failed.
fn write_batch(shared: &Shared, writer: &mut dyn Write, batch: &[u8], ends: &[usize]) -> u64 {
    let mut pos = 0;
    let mut failed = 0;
    let mut interrupted = 0;
    while pos < batch.len() {
        let err = match panic::catch_unwind(AssertUnwindSafe(|| writer.write(&batch[pos..]))) {
            Ok(Ok(0)) => io::Error::new(io::ErrorKind::WriteZero, "the writer accepted no bytes"),
            Ok(Ok(n)) => {
                pos += n.min(batch.len() - pos);
                interrupted = 0;
                continue;
            }
            Ok(Err(e))
                if e.kind() == io::ErrorKind::Interrupted && interrupted < MAX_INTERRUPTED =>
            {
                interrupted += 1;
                continue;
            }
            Ok(Err(e)) => e,
            Err(_) => io::Error::other("the writer panicked"),
        };
        interrupted = 0;
        // Give up on the entry that holds `pos`; go on with the next one.
        let i = ends.partition_point(|&end| end <= pos);
        pos = ends.get(i).copied().unwrap_or(batch.len());
        failed += 1;
        shared.report_failure(&err);
    }
    failed
}

fn write_notice(
    writer: &mut dyn Write,
    notice: Option<&(dyn Fn(u64) -> Vec<u8> + Send)>,
    dropped: u64,
) {
    let line = notice
        .and_then(|f| panic::catch_unwind(AssertUnwindSafe(|| f(dropped))).ok())
        .unwrap_or_else(|| default_notice(dropped));
    // A failed notice loses no entry; the count stays in `dropped()`.
    let _ = panic::catch_unwind(AssertUnwindSafe(|| writer.write_all(&line)));
}

/// `{"time":"…","level":"warn","msg":"loglayer dropped N entries (queue full)","dropped":N}\n`
fn default_notice(dropped: u64) -> Vec<u8> {
    let mut line = Vec::with_capacity(128);
    line.extend_from_slice(b"{\"time\":\"");
    crate::json::write_time(&mut line, SystemTime::now());
    line.extend_from_slice(
        format!(
            "\",\"level\":\"warn\",\"msg\":\"loglayer dropped {dropped} entries (queue full)\",\"dropped\":{dropped}}}\n"
        )
        .as_bytes(),
    );
    line
}
