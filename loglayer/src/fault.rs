//! Counting and reporting failures inside the pipeline, so that nothing is
//! lost silently and nothing reaches the caller.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Failures counted since the process started, across every logger.
///
/// Each kind is also reported once on stderr, the first time it happens.
///
/// ```
/// let failures = loglayer::failures();
/// println!("{} transport errors so far", failures.transport_errors);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failures {
    /// A transport's `write` returned an error or panicked (one per entry and transport).
    pub transport_errors: u64,
    /// A plugin hook panicked.
    pub plugin_panics: u64,
    /// Entries dropped before reaching any transport: a plugin failed closed,
    /// or logging re-entered itself too deeply.
    pub dropped_entries: u64,
}

static TRANSPORT_ERRORS: AtomicU64 = AtomicU64::new(0);
static PLUGIN_PANICS: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);

static TRANSPORT_REPORTED: AtomicBool = AtomicBool::new(false);
static PLUGIN_REPORTED: AtomicBool = AtomicBool::new(false);
static DROP_REPORTED: AtomicBool = AtomicBool::new(false);

/// The failure counts so far.
///
/// ```
/// use loglayer::{transport::JsonTransport, LogLayer};
///
/// struct Full;
/// impl std::io::Write for Full {
///     fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
///         Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"))
///     }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
///
/// let before = loglayer::failures().transport_errors;
/// LogLayer::new(JsonTransport::new(Full)).info("lost?");   // returns normally
/// assert_eq!(loglayer::failures().transport_errors, before + 1);
/// ```
pub fn failures() -> Failures {
    Failures {
        transport_errors: TRANSPORT_ERRORS.load(Ordering::Relaxed),
        plugin_panics: PLUGIN_PANICS.load(Ordering::Relaxed),
        dropped_entries: DROPPED.load(Ordering::Relaxed),
    }
}

fn report_once(flag: &AtomicBool, what: std::fmt::Arguments<'_>) {
    if !flag.swap(true, Ordering::Relaxed) {
        // Never panic here: stderr itself may be closed.
        let _ = writeln!(
            std::io::stderr(),
            "loglayer: {what} (reported once; further failures are counted in loglayer::failures())"
        );
    }
}

pub(crate) fn transport_failed(id: &str, err: &dyn std::fmt::Display) {
    TRANSPORT_ERRORS.fetch_add(1, Ordering::Relaxed);
    report_once(
        &TRANSPORT_REPORTED,
        format_args!("transport {id:?} failed to write an entry: {err}"),
    );
}

pub(crate) fn plugin_panicked(id: &str, hook: &str) {
    PLUGIN_PANICS.fetch_add(1, Ordering::Relaxed);
    report_once(
        &PLUGIN_REPORTED,
        format_args!("plugin {id:?} panicked in {hook}"),
    );
}

pub(crate) fn entry_dropped(why: &str) {
    DROPPED.fetch_add(1, Ordering::Relaxed);
    report_once(&DROP_REPORTED, format_args!("an entry was dropped: {why}"));
}

/// A configuration value (an environment variable) was malformed: said once
/// per problem on stderr; the caller falls back to defaults.
pub(crate) fn config_problem(what: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "loglayer: {what}");
}
