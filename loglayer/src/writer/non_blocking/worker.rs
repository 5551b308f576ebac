//! The worker thread: takes everything queued in one go, writes it to the
//! real writer, flushes when the queue runs empty, and exits once the guard
//! has dropped and nothing is left.
//!
//! The real writer is never trusted: an error or a panic loses the entry it
//! happened on (counted in `failed`, reported once on stderr) and the worker
//! carries on, so the queue keeps draining and neither callers nor shutdown
//! ever wait on a broken writer.

use std::io::{self, Write};
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::notice::{write_notice, Notice, NoticeFn};
use super::queue::{lock, wait_timeout, Shared, State};

/// A worker buffer above this size that was mostly unused is shrunk.
const SHRINK_ABOVE: usize = 1024 * 1024;
/// How long the worker naps after a batch before parking (see `run`).
const NAP: Duration = Duration::from_millis(1);
/// Consecutive `Interrupted` errors tolerated before giving up on an entry.
const MAX_INTERRUPTED: u32 = 16;

/// The worker thread: writes batches until the guard drops and the queue is
/// empty; whatever happens, marks itself exited so nobody waits for it.
pub(super) fn worker_main(
    shared: Arc<Shared>,
    writer: Box<dyn Write + Send>,
    notice: Option<NoticeFn>,
) {
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

fn run(shared: &Shared, writer: &mut dyn Write, notice: Option<&Notice>) {
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
        report_failure(shared, &err);
    }
    failed
}

/// Counts a lost entry; the first one is also said on stderr.
fn report_failure(shared: &Shared, err: &io::Error) {
    shared.failed.fetch_add(1, Ordering::Relaxed);
    if !shared.failure_reported.swap(true, Ordering::Relaxed) {
        let _ = writeln!(
            io::stderr(),
            "loglayer: the non-blocking writer failed to write an entry: {err} \
             (reported once; further failures are counted in NonBlocking::failed())"
        );
    }
}
