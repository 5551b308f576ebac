//! The queue between log calls and the export thread.
//!
//! Callers push a [`Queued`] under a short lock and never wait: when the
//! queue is full the entry is refused (the logger counts it). One thread per
//! transport takes batches off the queue, maps them and exports them; every
//! record it takes is *settled* — exported, or counted as a failure — and
//! `settled` only grows in queue order, so "everything pushed before my
//! flush is settled" is `settled >= pushed-when-flush-began`.
//!
//! The export thread is marked ([`in_export_thread`]): anything its HTTP
//! client logs through a bridge into loglayer is ignored by every
//! `OtlpTransport` instead of being queued again.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::logs::{Logger as _, LoggerProvider as _};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord, SdkLoggerProvider};

use super::record::{Buffers, Queued};
use crate::fault;
use crate::reentry::{Activity, ActivityGuard};
use crate::transport::lock;

/// Whether this thread is an `OtlpTransport` export thread (marked with the
/// crate's one re-entry mechanism, `reentry.rs`).
pub(crate) fn in_export_thread() -> bool {
    crate::reentry::exporting()
}

/// How the export thread batches.
pub(crate) struct Limits {
    pub(crate) queue_size: usize,
    pub(crate) batch_size: usize,
    pub(crate) delay: Duration,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    /// Buffers of exported entries, for callers to reuse (at most
    /// `queue_size` of them and [`SPARE_BYTES`] in all, each small: see
    /// `Buffers::worth_keeping`).
    // Boxed: a spare moves to a caller and back into a queued entry as one
    // pointer.
    #[allow(clippy::vec_box)]
    spares: Vec<Box<Buffers>>,
    /// Bytes held by `spares`.
    spare_bytes: usize,
    /// Entries ever pushed.
    pushed: u64,
    /// Entries ever taken off the queue and exported or counted as failed.
    settled: u64,
    /// A flush is waiting: export now, without waiting for a full batch.
    hurry: bool,
    /// The transport was dropped: drain, then stop.
    shutdown: bool,
    /// The export thread has stopped.
    stopped: bool,
}

/// Most bytes kept in spare buffers per transport.
const SPARE_BYTES: usize = 2 * 1024 * 1024;

/// The transport's end of the queue.
pub(crate) struct Queue {
    state: Mutex<State>,
    /// Wakes the export thread.
    work: Condvar,
    /// Wakes flushers when `settled` grows or the thread stops.
    progress: Condvar,
    limits: Limits,
}

/// Why an entry was not queued.
#[derive(Debug)]
pub(crate) enum Refused {
    Full(usize),
    Stopped,
}

impl Queue {
    /// Starts the export thread and makes the exporter on it (`make`), so
    /// that an exporter needing a runtime (gRPC) is built, used and dropped
    /// in that runtime, off any runtime of the caller's. Waits for `make`
    /// only: its error is returned here.
    pub(crate) fn start<E, M>(
        id: String,
        make: M,
        scope: InstrumentationScope,
        limits: Limits,
    ) -> Result<Arc<Queue>, String>
    where
        E: LogExporter + 'static,
        M: FnOnce() -> Result<(E, Driver), String> + Send + 'static,
    {
        let queue = Arc::new(Queue {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            progress: Condvar::new(),
            limits,
        });
        let q = Arc::clone(&queue);
        let (ready_tx, ready) = std::sync::mpsc::sync_channel::<Result<(), String>>(1);
        std::thread::Builder::new()
            .name("loglayer-otlp".into())
            .spawn(move || {
                let _exporting = ActivityGuard::enter(Activity::Exporting);
                let made = catch_unwind(AssertUnwindSafe(make))
                    .unwrap_or_else(|_| Err("the OTLP exporter panicked while starting".into()));
                match made {
                    Ok((exporter, driver)) => {
                        let _ = ready_tx.send(Ok(()));
                        let _ = catch_unwind(AssertUnwindSafe(|| {
                            run(&q, &id, exporter, &driver, scope)
                        }));
                        driver.stop();
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
                let mut st = lock(&q.state);
                // Whatever is left (only after a panic) is lost: count it.
                for _ in st.queue.drain(..) {
                    fault::transport_failed(&id, &"the OTLP export thread stopped");
                }
                st.settled = st.pushed;
                st.stopped = true;
                q.progress.notify_all();
            })
            .map_err(|e| format!("cannot start the OTLP export thread: {e}"))?;
        match ready.recv() {
            Ok(Ok(())) => Ok(queue),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("the OTLP export thread stopped while starting".into()),
        }
    }

    /// Queues one entry; never waits for the export thread. Hands back the
    /// buffers of an exported entry, if any, for the caller's next one.
    pub(crate) fn push(&self, pending: Queued) -> Result<Option<Box<Buffers>>, Refused> {
        let mut st = lock(&self.state);
        if st.shutdown || st.stopped {
            return Err(Refused::Stopped);
        }
        if st.queue.len() >= self.limits.queue_size {
            return Err(Refused::Full(self.limits.queue_size));
        }
        st.queue.push_back(pending);
        st.pushed += 1;
        let spare = st.spares.pop();
        if let Some(spare) = &spare {
            st.spare_bytes = st.spare_bytes.saturating_sub(spare.size());
        }
        let full_batch = st.queue.len() == self.limits.batch_size;
        drop(st);
        if full_batch {
            self.work.notify_one();
        }
        Ok(spare)
    }

    /// Waits until everything pushed before this call is settled, for at
    /// most `bound`; returns how many are still unsettled.
    pub(crate) fn flush(&self, bound: Duration) -> u64 {
        self.wait_settled(bound, false)
    }

    /// Stops taking entries, lets the thread drain for at most `bound`.
    pub(crate) fn shutdown(&self, bound: Duration) -> u64 {
        self.wait_settled(bound, true)
    }

    fn wait_settled(&self, bound: Duration, shutdown: bool) -> u64 {
        let deadline = Instant::now() + bound;
        let mut st = lock(&self.state);
        let target = st.pushed;
        st.hurry = true;
        st.shutdown |= shutdown;
        self.work.notify_one();
        while st.settled < target && !st.stopped {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st = self
                .progress
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        target.saturating_sub(st.settled)
    }
}

/// The export thread: batch, map, export, settle; until shut down and drained.
fn run<E: LogExporter>(
    q: &Queue,
    id: &str,
    exporter: E,
    driver: &Driver,
    scope: InstrumentationScope,
) {
    // Inside the gRPC runtime's context, so that tonic's channel is used and
    // dropped where it was made.
    #[cfg(feature = "otlp-grpc")]
    let _context = match driver {
        Driver::Tokio(rt, _) => Some(rt.enter()),
        Driver::Blocking => None,
    };
    // A provider without processors: only a factory for `SdkLogRecord`s,
    // which the SDK lets nobody else construct.
    let provider = SdkLoggerProvider::builder().build();
    let logger = provider.logger_with_scope(scope.clone());
    let mut records: Vec<SdkLogRecord> = Vec::with_capacity(q.limits.batch_size);
    loop {
        let batch: Vec<Queued> = {
            let mut st = lock(&q.state);
            let deadline = Instant::now() + q.limits.delay;
            loop {
                if st.shutdown || st.hurry || st.queue.len() >= q.limits.batch_size {
                    break;
                }
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                st = q
                    .work
                    .wait_timeout(st, deadline - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            if st.queue.is_empty() {
                st.hurry = false;
                if st.shutdown {
                    break;
                }
                continue;
            }
            let n = st.queue.len().min(q.limits.batch_size);
            st.queue.drain(..n).collect()
        };

        let n = batch.len() as u64;
        records.clear();
        for pending in &batch {
            let mut record = logger.create_log_record();
            pending.fill(&mut record);
            records.push(record);
        }
        let pairs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
            records.iter().map(|r| (r, &scope)).collect();
        let result = catch_unwind(AssertUnwindSafe(|| {
            driver.export(exporter.export(LogBatch::new(&pairs)))
        }));
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                for _ in 0..n {
                    fault::transport_failed(id, &format_args!("OTLP export failed: {e}"));
                }
            }
            Err(_) => {
                for _ in 0..n {
                    fault::transport_failed(id, &"OTLP export panicked");
                }
            }
        }
        drop(pairs);
        let mut st = lock(&q.state);
        st.settled += n;
        for spare in batch.into_iter().map(Queued::into_buffers) {
            if st.spares.len() >= q.limits.queue_size || st.spare_bytes >= SPARE_BYTES {
                break;
            }
            if spare.worth_keeping() {
                st.spare_bytes += spare.size();
                st.spares.push(spare);
            }
        }
        q.progress.notify_all();
    }
    let _ = exporter.shutdown();
    drop(exporter);
}

/// How the export thread runs the exporter's futures.
pub(crate) enum Driver {
    /// The HTTP exporter's blocking client: its futures complete in place.
    Blocking,
    /// The gRPC exporter (tonic): a current-thread tokio runtime owned by the
    /// export thread, and a backstop bound on one export (the exporter's own
    /// request timeout normally ends it first).
    #[cfg(feature = "otlp-grpc")]
    Tokio(tokio::runtime::Runtime, Duration),
}

impl Driver {
    /// A current-thread runtime for tonic (I/O and timers, no worker threads).
    #[cfg(feature = "otlp-grpc")]
    pub(crate) fn grpc_runtime() -> Result<tokio::runtime::Runtime, String> {
        tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start the OTLP gRPC runtime: {e}"))
    }

    fn export(&self, export: impl std::future::Future<Output = OTelSdkResult>) -> OTelSdkResult {
        match self {
            Driver::Blocking => futures_executor::block_on(export),
            #[cfg(feature = "otlp-grpc")]
            Driver::Tokio(rt, bound) => rt.block_on(async {
                tokio::time::timeout(*bound, export)
                    .await
                    .unwrap_or(Err(opentelemetry_sdk::error::OTelSdkError::Timeout(*bound)))
            }),
        }
    }

    /// Ends the runtime without waiting for its tasks (connections).
    fn stop(self) {
        match self {
            Driver::Blocking => {}
            #[cfg(feature = "otlp-grpc")]
            Driver::Tokio(rt, _) => rt.shutdown_background(),
        }
    }
}
