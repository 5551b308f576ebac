//! Faults: failing and panicking writers, transports and plugins never reach
//! the caller; the other transports still get every entry; failures are
//! counted and reported once on stderr.

use std::io::{self, Write};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use loglayer::plugin::{LogData, Plugin};
use loglayer::transport::{CaptureTransport, JsonTransport, Transport};
use loglayer::{Entry, Level, LogLayer};
use serde_json::json;

/// A writer like a full disk.
struct FullDisk;
impl Write for FullDisk {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::StorageFull,
            "no space left on device",
        ))
    }
    fn flush(&mut self) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::StorageFull,
            "no space left on device",
        ))
    }
}

/// A writer that panics on its first `n` writes, then works.
struct PanicsFirst {
    left: usize,
    out: Arc<AtomicUsize>,
}
impl Write for PanicsFirst {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if self.left > 0 {
            self.left -= 1;
            panic!("writer exploded");
        }
        self.out.fetch_add(1, Ordering::SeqCst);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `f` on another thread and fails the test if it does not finish in time
/// (a watchdog for "never blocks forever").
fn within_bound<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("a log call hung (watchdog expired)")
}

#[test]
fn full_disk_never_reaches_the_caller_and_others_still_receive() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(JsonTransport::new(FullDisk).with_id("disk"))
        .transport(capture.clone())
        .build();
    let before = loglayer::failures().transport_errors;
    for i in 0..10 {
        log.with_metadata(json!({ "i": i })).info("entry");
    }
    log.flush();
    assert_eq!(capture.len(), 10, "the other transport got every entry");
    assert!(
        loglayer::failures().transport_errors >= before + 11,
        "10 writes + 1 flush counted"
    );
}

#[test]
fn panicking_writer_is_contained_and_the_transport_recovers() {
    let written = Arc::new(AtomicUsize::new(0));
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(JsonTransport::new(PanicsFirst {
            left: 2,
            out: written.clone(),
        }))
        .transport(capture.clone())
        .build();
    let before = loglayer::failures().transport_errors;
    for _ in 0..5 {
        log.info("x");
    }
    assert_eq!(capture.len(), 5);
    assert_eq!(
        written.load(Ordering::SeqCst),
        3,
        "works again after the panics (no poisoning)"
    );
    assert!(loglayer::failures().transport_errors >= before + 2);
}

struct PanickingTransport;
impl Transport for PanickingTransport {
    fn write(&self, _: &Entry<'_>) -> io::Result<()> {
        panic!("transport exploded")
    }
    fn id(&self) -> &str {
        "panicky"
    }
}

#[test]
fn panicking_transport_is_contained() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(PanickingTransport)
        .transport(capture.clone())
        .build();
    log.error("a");
    log.error("b");
    assert_eq!(capture.messages(), ["a", "b"]);
}

/// Panics in the hook named by `.0`.
struct Bomb(&'static str);
impl Plugin for Bomb {
    fn id(&self) -> &str {
        self.0
    }
    fn on_context_called(&self, c: loglayer::value::Fields) -> Option<loglayer::value::Fields> {
        assert_ne!(self.0, "context", "bomb");
        Some(c)
    }
    fn on_metadata_called(&self, m: loglayer::value::Fields) -> Option<loglayer::value::Fields> {
        assert_ne!(self.0, "metadata", "bomb");
        Some(m)
    }
    fn on_before_data_out(&self, _: Level, _: &mut LogData<'_>) {
        assert_ne!(self.0, "data", "bomb");
    }
    fn on_before_message_out(&self, _: Level, _: &mut String) {
        assert_ne!(self.0, "message", "bomb");
    }
    fn transform_log_level(&self, _: Level, _: &LogData<'_>, _: &str) -> Option<Level> {
        assert_ne!(self.0, "level", "bomb");
        None
    }
    fn should_send_to_logger(&self, _: &str, _: &Entry<'_>) -> bool {
        assert_ne!(self.0, "send", "bomb");
        true
    }
}

#[test]
fn panicking_plugins_fail_closed_and_never_reach_the_caller() {
    let run = |hook: &'static str| {
        let capture = CaptureTransport::new();
        let log = LogLayer::builder()
            .transport(capture.clone())
            .plugin(Bomb(hook))
            .build();
        log.with_context(json!({"c": 1}));
        log.with_metadata(json!({"m": 1})).info("x");
        (capture.entries(), log.get_context())
    };
    let before = loglayer::failures();

    let (entries, context) = run("context");
    assert_eq!(entries.len(), 1);
    assert!(
        context.is_empty(),
        "a panicking on_context_called ignores the call"
    );
    for dropping in ["metadata", "data", "message", "send"] {
        let (entries, _) = run(dropping);
        assert!(
            entries.is_empty(),
            "{dropping}: the entry must not go out unprocessed"
        );
    }
    let (entries, _) = run("level");
    assert_eq!(
        entries[0]["level"], "info",
        "a panicking transform keeps the level"
    );

    let after = loglayer::failures();
    assert!(after.plugin_panics >= before.plugin_panics + 6);
    assert!(after.dropped_entries >= before.dropped_entries + 3);
}

/// A transport that logs into its own logger while writing.
struct Echo {
    log: std::sync::OnceLock<LogLayer>,
    calls: AtomicUsize,
}
impl Transport for Echo {
    fn write(&self, e: &Entry<'_>) -> io::Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(log) = self.log.get() {
            log.info(format_args!("echo of {}", e.message()));
        }
        Ok(())
    }
}

#[test]
fn a_transport_that_logs_while_logging_terminates() {
    let echo = Arc::new(Echo {
        log: std::sync::OnceLock::new(),
        calls: AtomicUsize::new(0),
    });
    let log = LogLayer::new(echo.clone());
    let _ = echo.log.set(log.clone());
    let calls = within_bound(move || {
        log.info("start");
        echo.calls.load(Ordering::SeqCst)
    });
    assert!(
        (2..=8).contains(&calls),
        "recursion is bounded, got {calls}"
    );
}

/// A writer that logs into the same JSON transport from inside `write`.
struct SelfLogging {
    log: Arc<std::sync::OnceLock<LogLayer>>,
    lines: Arc<AtomicUsize>,
}
impl Write for SelfLogging {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if let Some(log) = self.log.get() {
            log.warn("from inside write");
        }
        self.lines.fetch_add(1, Ordering::SeqCst);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_writer_that_logs_into_its_own_transport_does_not_deadlock() {
    let slot = Arc::new(std::sync::OnceLock::new());
    let lines = Arc::new(AtomicUsize::new(0));
    let log = LogLayer::new(JsonTransport::new(SelfLogging {
        log: slot.clone(),
        lines: lines.clone(),
    }));
    let _ = slot.set(log.clone());
    within_bound(move || log.info("outer"));
    assert_eq!(
        lines.load(Ordering::SeqCst),
        1,
        "outer line written, nested one refused"
    );
}

#[test]
fn failures_are_reported_once_on_stderr() {
    if std::env::var_os("LOGLAYER_FAULTS_CHILD").is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args([
            "--exact",
            "child_logs_to_a_full_disk",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LOGLAYER_FAULTS_CHILD", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reports = stderr.matches("loglayer: transport").count();
    assert_eq!(reports, 1, "one report for 100 failures, got:\n{stderr}");
    assert!(stderr.contains("no space left on device"), "{stderr}");
}

#[test]
fn child_logs_to_a_full_disk() {
    if std::env::var_os("LOGLAYER_FAULTS_CHILD").is_none() {
        return;
    }
    let log = LogLayer::new(JsonTransport::new(FullDisk));
    for _ in 0..100 {
        log.error("lost");
    }
    assert_eq!(loglayer::failures().transport_errors, 100);
}

#[test]
fn concurrent_writes_to_a_panicking_writer_neither_deadlock_nor_poison() {
    // Many threads hitting a panicking writer at once: no deadlock, no poison.
    let written = Arc::new(AtomicUsize::new(0));
    let log = LogLayer::new(JsonTransport::new(PanicsFirst {
        left: 10,
        out: written.clone(),
    }));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let log = log.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    log.info("x");
                }
            })
        })
        .collect();
    within_bound(move || {
        for h in handles {
            h.join().unwrap();
        }
    });
    assert_eq!(written.load(Ordering::SeqCst), 200 - 10);
}
