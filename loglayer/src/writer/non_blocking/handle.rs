//! The public [`NonBlocking`] handle: what a write and a flush mean to the
//! caller, the counters, and the panic hook. Its long doc comment is the
//! specification of the whole writer (policies, guard, counting).
//!
//! A write is one lock, one copy into the queue and, only when the worker
//! would otherwise sleep on, one wake-up: the caller pays for formatting,
//! not for the disk.

use std::fmt;
use std::io::{self, Write};
use std::panic;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::thread;

use super::queue::{lock, Shared};
use super::{NonBlockingBuilder, Policy, WorkerGuard};

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
    pub(super) shared: Arc<Shared>,
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
        NonBlockingBuilder::new(Box::new(writer))
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
