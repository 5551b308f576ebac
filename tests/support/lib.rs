//! Helpers shared by the integration tests in `tests/` (the root package
//! `loglayer-suite`); not published.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};

use serde::de::{self, Deserializer, MapAccess, Visitor};

pub use loglayer;

/// A `Vec`-backed writer shared with the test: give a clone to a transport,
/// read what was written with [`SharedBuf::text`].
#[derive(Clone, Default)]
pub struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    /// Everything written so far, as UTF-8 (panics otherwise: output must be UTF-8).
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        String::from_utf8(bytes).expect("output is UTF-8")
    }
}

/// A writer that records every `write` call separately, so a test can check
/// both the bytes and that each entry arrived in one call.
#[derive(Clone, Default)]
pub struct WriteCalls(Arc<Mutex<Vec<Vec<u8>>>>);

impl io::Write for WriteCalls {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl WriteCalls {
    /// The bytes of each `write` call, in order.
    pub fn calls(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Each `write` call as UTF-8 text (panics otherwise).
    pub fn chunks(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .map(|c| String::from_utf8(c).expect("output is UTF-8"))
            .collect()
    }

    /// Everything written, as UTF-8 text.
    pub fn text(&self) -> String {
        self.chunks().concat()
    }

    /// The text split into lines, checking it ends with a newline.
    pub fn lines(&self) -> Vec<String> {
        let text = self.text();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "unterminated output: {text:?}"
        );
        text.lines().map(str::to_owned).collect()
    }
}

/// The root keys of a JSON object in order; deserializing fails on a
/// duplicate key (which `serde_json::Value` would silently merge).
pub struct OrderedKeys(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for OrderedKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedKeys, A::Error> {
                let mut keys = Vec::new();
                let mut seen = std::collections::HashSet::new();
                while let Some((k, _)) = map.next_entry::<String, de::IgnoredAny>()? {
                    if !seen.insert(k.clone()) {
                        return Err(de::Error::custom(format!("duplicate key {k:?}")));
                    }
                    keys.push(k);
                }
                Ok(OrderedKeys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// The one entry in `capture` whose message is `msg` (panics, listing them,
/// unless there is exactly one).
pub fn entry_with_msg(
    capture: &loglayer::transport::CaptureTransport,
    msg: &str,
) -> serde_json::Value {
    let found: Vec<serde_json::Value> = capture
        .entries()
        .into_iter()
        .filter(|entry| entry["msg"] == msg)
        .collect();
    assert_eq!(found.len(), 1, "entries with msg {msg:?}: {found:#?}");
    found.into_iter().next().unwrap()
}

/// Runs the test `name` of this test binary alone, in a fresh process, with
/// `env` set; panics (with its output) unless it passed. Returns its stdout.
/// For what must be checked where no other test ran first (process-wide
/// state such as the level hint).
pub fn run_alone_in_fresh_process(name: &str, env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = std::process::Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .envs(env.iter().copied())
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Counting heap allocations, for the allocation tests (`alloc_count.rs`,
/// `middleware_allocs.rs`). A test binary installs the allocator with
///
/// ```ignore
/// #[global_allocator]
/// static ALLOCATOR: loglayer_suite::alloc::Counting = loglayer_suite::alloc::Counting;
/// ```
///
/// and counts with [`alloc::count`]. Only allocations made **on the calling
/// thread, inside `count`** are counted (a thread-local flag), so tests
/// running in parallel do not disturb each other; `alloc`, `alloc_zeroed`
/// and `realloc` count one each. `LOGLAYER_ALLOC_TRACE=1` prints the
/// loglayer (and `http`) frames of every counted allocation.
pub mod alloc {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::future::Future;
    use std::io::{self, Write};
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// The counting global allocator: the system's, plus a count.
    pub struct Counting;

    thread_local! {
        static ACTIVE: Cell<bool> = const { Cell::new(false) };
        static COUNT: Cell<u64> = const { Cell::new(0) };
        static TRACE: Cell<bool> = const { Cell::new(false) };
    }

    fn note(layout: Layout) {
        if !ACTIVE.try_with(Cell::get).unwrap_or(false) {
            return;
        }
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        if TRACE.try_with(Cell::get).unwrap_or(false) {
            // Not counted: the backtrace and the printing allocate themselves.
            let _ = ACTIVE.try_with(|a| a.set(false));
            let bt = std::backtrace::Backtrace::force_capture().to_string();
            let frames: Vec<&str> = bt
                .lines()
                .filter(|l| {
                    (l.contains("loglayer") || l.contains("http::"))
                        && !l.contains("loglayer_suite::alloc")
                })
                .take(12)
                .collect();
            eprintln!(
                "--- allocation of {} bytes:\n{}",
                layout.size(),
                frames.join("\n")
            );
            let _ = ACTIVE.try_with(|a| a.set(true));
        }
    }

    // SAFETY: every call is forwarded unchanged to the system allocator; the
    // bookkeeping only touches const-initialised thread-locals without
    // destructors, which never allocate.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            note(layout);
            unsafe { System.alloc(layout) }
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            note(layout);
            unsafe { System.alloc_zeroed(layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            note(layout);
            unsafe { System.realloc(ptr, layout, new_size) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    /// Allocations made by `f` on this thread (0 unless the test binary
    /// installed [`Counting`] as its global allocator).
    pub fn count(f: impl FnOnce()) -> u64 {
        let trace = std::env::var_os("LOGLAYER_ALLOC_TRACE").is_some_and(|v| v != "0");
        TRACE.with(|t| t.set(trace));
        COUNT.with(|c| c.set(0));
        ACTIVE.with(|a| a.set(true));
        f();
        ACTIVE.with(|a| a.set(false));
        COUNT.with(Cell::get)
    }

    /// Discards the bytes (a `Vec` writer would allocate as it grows).
    pub struct Discard;

    impl Write for Discard {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(std::hint::black_box(buf.len()))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Polls `fut` to completion with a no-op waker (no runtime, which would
    /// allocate).
    pub fn block_on<F: Future>(fut: F) -> F::Output {
        let mut fut = pin!(fut);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
        }
    }
}

/// An error with one source, for tests of error chains: it displays
/// `message`, and its `source()` displays `cause`.
///
/// ```ignore
/// let err = loglayer_suite::Chained::new("save failed", "disk full");
/// ```
#[derive(Debug)]
pub struct Chained {
    message: &'static str,
    source: Option<Box<Chained>>,
}

impl Chained {
    /// `message`, with no source.
    pub fn single(message: &'static str) -> Self {
        Chained {
            message,
            source: None,
        }
    }

    /// `message`, caused by `cause` (which has no source of its own).
    pub fn new(message: &'static str, cause: &'static str) -> Self {
        Chained {
            message,
            source: Some(Box::new(Chained::single(cause))),
        }
    }
}

impl fmt::Display for Chained {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

impl std::error::Error for Chained {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}
