//! The drop-and-report notice: the one entry of its own the worker writes
//! after entries were dropped, saying how many, in the format of the stream
//! (a JSON line unless the user gave
//! [`dropped_notice`](super::NonBlockingBuilder::dropped_notice)).
//!
//! A notice must never cost an entry or stop the worker: a panicking custom
//! notice falls back to the default line, and a failed write of it is
//! ignored (the count stays in `dropped()`).

use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::time::SystemTime;

/// Formats the entry the worker writes after `n` entries were dropped.
pub(super) type Notice = dyn Fn(u64) -> Vec<u8> + Send;

/// A user's [`Notice`], as the builder keeps it.
pub(super) type NoticeFn = Box<Notice>;

/// Writes the notice for `dropped` entries: the user's, or the default line.
pub(super) fn write_notice(writer: &mut dyn Write, notice: Option<&Notice>, dropped: u64) {
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
