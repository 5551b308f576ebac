//! How a [`NonBlocking`] writer is configured: the [`Policy`] for a full
//! queue, the [`NonBlockingBuilder`] and its defaults, and
//! [`finish`](NonBlockingBuilder::finish), which starts the worker thread.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use super::notice::NoticeFn;
use super::queue::{lock, Shared, State, LONGEST_WAIT};
use super::worker::worker_main;
use super::{NonBlocking, WorkerGuard};

const DEFAULT_CAPACITY: usize = 8192;
const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(1);
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// The default byte bound is `capacity × BYTES_PER_ENTRY`, within these limits.
const BYTES_PER_ENTRY: usize = 1024;
const MIN_DEFAULT_MAX_BYTES: usize = 64 * 1024;
const MAX_DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;

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
    /// The defaults, as [`NonBlocking::builder`] documents them.
    pub(super) fn new(writer: Box<dyn Write + Send>) -> NonBlockingBuilder {
        NonBlockingBuilder {
            writer,
            capacity: DEFAULT_CAPACITY,
            max_bytes: None,
            policy: Policy::default(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            thread_name: "loglayer-writer".to_owned(),
            notice: None,
        }
    }

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
            state: Mutex::new(State::new()),
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
