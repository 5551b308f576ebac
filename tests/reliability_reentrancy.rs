//! Re-entrancy never deadlocks or panics (RELIABILITY.md, "Context
//! isolation"): logging from inside every plugin hook, a transport, a
//! `Debug`/`Display`/`Serialize` impl, a lazy value, an error serializer, a
//! `sync_scope` nested inside a `Display` during logging, and a transport of
//! the process-wide default logger that logs while logging.
//!
//! Every test runs its body under a watchdog: a thread that fails the test
//! with "hung" if the body does not finish within 20 s. The bound is never
//! reached by a passing test; finishing at all is the check.
//!
//! `set_default` is process-global, so exactly one test in this binary
//! (`a_default_logger_transport_that_logs_while_logging_terminates`) calls
//! it; no other test here depends on the default logger.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use loglayer::plugin::{LogData, Plugin};
use loglayer::transport::{CaptureTransport, JsonTransport, Transport};
use loglayer::{lazy, Entry, Level, LogLayer};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

/// Runs `body` on its own thread; panics with "hung" if it does not finish
/// within 20 s, and re-raises its panic if it panicked.
fn watchdog<R: Send + 'static>(body: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let r = body();
        let _ = tx.send(());
        r
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => handle.join().expect("body"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("hung: the body did not finish in 20 s"),
    }
}

/// A slot for a logger that a hook or impl logs to, set after construction.
type Slot = Arc<OnceLock<LogLayer>>;

fn slot() -> Slot {
    Arc::new(OnceLock::new())
}

// ----------------------------------------------------------------------------
// Plugins.

/// A plugin that logs from every hook: to the logger it is installed in and
/// through the macros (to whatever is current).
struct LoggingPlugin {
    log: Slot,
    calls: Arc<AtomicUsize>,
}

impl LoggingPlugin {
    fn relog(&self, hook: &str) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        // One entry per hook call: each nested entry runs every hook again,
        // so the fan-out grows with the nesting bound; keep it small.
        if hook == "on_before_data_out" {
            loglayer::debug!(hook = hook, "from a hook, via the macro");
        } else if let Some(log) = self.log.get() {
            log.with_metadata(json!({ "hook": hook }))
                .debug("from a hook");
        }
    }
}

impl Plugin for LoggingPlugin {
    fn id(&self) -> &str {
        "logging-plugin"
    }
    fn on_context_called(&self, c: loglayer::value::Fields) -> Option<loglayer::value::Fields> {
        // Logging here is fine, but `with_context` here would recurse into
        // this very hook without end (by design of the hook), so only log.
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(log) = self.log.get() {
            log.debug("from on_context_called");
        }
        Some(c)
    }
    fn on_metadata_called(&self, m: loglayer::value::Fields) -> Option<loglayer::value::Fields> {
        self.relog("on_metadata_called");
        Some(m)
    }
    fn on_before_data_out(&self, _: Level, _: &mut LogData<'_>) {
        self.relog("on_before_data_out");
    }
    fn on_before_message_out(&self, _: Level, _: &mut String) {
        self.relog("on_before_message_out");
    }
    fn transform_log_level(&self, _: Level, _: &LogData<'_>, _: &str) -> Option<Level> {
        self.relog("transform_log_level");
        None
    }
    fn should_log(&self, _: &Entry<'_>) -> bool {
        self.relog("should_log");
        true
    }
    fn should_send_to_logger(&self, _: &str, _: &Entry<'_>) -> bool {
        self.relog("should_send_to_logger");
        true
    }
}

#[test]
fn logging_from_every_plugin_hook_terminates_and_the_next_call_works() {
    let capture = CaptureTransport::new();
    let log_slot = slot();
    let calls = Arc::new(AtomicUsize::new(0));
    let log = LogLayer::builder()
        .transport(capture.clone())
        .plugin(LoggingPlugin {
            log: log_slot.clone(),
            calls: calls.clone(),
        })
        .build();
    let _ = log_slot.set(log.clone());
    let log2 = log.clone();
    watchdog(move || {
        log2.with_context(json!({ "a": 1 }));
        loglayer::sync_scope(log2.clone(), || {
            log2.with_metadata(json!({ "m": 1 })).info("outer");
            loglayer::info!(k = 1, "outer via macro");
            assert!(loglayer::current().ptr_eq(&log2), "scope survived");
        });
        assert!(loglayer::try_current().is_none(), "nothing left behind");
    });
    assert!(calls.load(Ordering::SeqCst) > 0, "hooks ran");
    let messages = capture.messages();
    for m in ["outer", "outer via macro"] {
        assert_eq!(
            messages.iter().filter(|x| *x == m).count(),
            1,
            "{messages:?}"
        );
    }
    // The recursion is bounded, and the logger still works afterwards.
    let before = capture.len();
    log.remove_plugin("logging-plugin");
    log.info("after");
    assert_eq!(capture.len(), before + 1);
    assert_eq!(capture.messages().last().unwrap(), "after");
}

// ----------------------------------------------------------------------------
// Transports.

/// A transport that logs through the macros (the current logger, i.e. its
/// own logger inside a scope) and through another logger while writing.
struct MacroLogger {
    other: Slot,
    writes: Arc<AtomicUsize>,
}

impl Transport for MacroLogger {
    fn write(&self, entry: &Entry<'_>) -> io::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        loglayer::warn!(seen = entry.message(), "echo via the current logger");
        if let Some(other) = self.other.get() {
            other.info(format_args!("ping {}", entry.message()));
        }
        Ok(())
    }
    fn id(&self) -> &str {
        "macro-logger"
    }
}

#[test]
fn transports_that_log_into_each_other_and_into_the_current_logger_terminate() {
    // a's transport logs to b and to the current logger; b's logs to a.
    let (a_slot, b_slot) = (slot(), slot());
    let (a_writes, b_writes) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let a_capture = CaptureTransport::new();
    let a = LogLayer::builder()
        .transport(MacroLogger {
            other: b_slot.clone(),
            writes: a_writes.clone(),
        })
        .transport(a_capture.clone())
        .build();
    let b = LogLayer::new(MacroLogger {
        other: a_slot.clone(),
        writes: b_writes.clone(),
    });
    let _ = a_slot.set(a.clone());
    let _ = b_slot.set(b.clone());
    let a2 = a.clone();
    watchdog(move || {
        loglayer::sync_scope(a2.clone(), || {
            a2.info("start");
            loglayer::info!("start via macro");
            assert!(loglayer::current().ptr_eq(&a2));
        });
        a2.info("outside any scope");
    });
    assert!(a_writes.load(Ordering::SeqCst) >= 3);
    assert!(b_writes.load(Ordering::SeqCst) >= 1);
    let messages = a_capture.messages();
    for m in ["start", "start via macro", "outside any scope"] {
        assert!(messages.iter().any(|x| x == m), "{m} missing: {messages:?}");
    }
}

/// A transport that changes its own logger while writing: context, plugins,
/// transports, children, flush.
struct Mutator {
    log: Slot,
}

impl Transport for Mutator {
    fn write(&self, entry: &Entry<'_>) -> io::Result<()> {
        if let Some(log) = self.log.get() {
            log.with_context(json!({ "last": entry.message() }));
            let _ = log.get_context();
            let _ = log.add_plugin(loglayer::plugin::Redact::new().with_id("added"));
            log.remove_plugin("added");
            log.add_transport(CaptureTransport::with_id("extra"));
            log.remove_transport("extra");
            log.child().info("from a child, inside write");
            log.flush();
        }
        Ok(())
    }
    fn id(&self) -> &str {
        "mutator"
    }
}

#[test]
fn a_transport_that_reconfigures_its_logger_while_writing_terminates() {
    let capture = CaptureTransport::new();
    let log_slot = slot();
    let log = LogLayer::builder()
        .transport(Mutator {
            log: log_slot.clone(),
        })
        .transport(capture.clone())
        .build();
    let _ = log_slot.set(log.clone());
    let log2 = log.clone();
    watchdog(move || {
        for i in 0..20 {
            log2.info(format_args!("entry {i}"));
        }
    });
    let messages = capture.messages();
    for i in 0..20 {
        assert!(messages.contains(&format!("entry {i}")), "{messages:?}");
    }
    assert_eq!(log.get_context()["last"], "from a child, inside write");
}

// ----------------------------------------------------------------------------
// Values that log while being formatted or serialized.

/// Logs through `log` (and the macros) from `Serialize`, `Debug`, `Display`
/// and as an error.
#[derive(Clone)]
struct Chatty {
    log: LogLayer,
}

impl Serialize for Chatty {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.log
            .with_metadata(json!({ "from": "serialize" }))
            .info("inside Serialize");
        loglayer::info!(from = "serialize-macro", "inside Serialize via macro");
        s.serialize_str("serialized")
    }
}

impl fmt::Debug for Chatty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.log.info("inside Debug");
        loglayer::info!(from = ?"debug-macro", "inside Debug via macro");
        f.write_str("debugged")
    }
}

impl fmt::Display for Chatty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.log.info("inside Display");
        f.write_str("displayed")
    }
}

impl std::error::Error for Chatty {}

#[test]
fn logging_from_serialize_debug_display_and_error_impls_terminates() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    let chatty = Chatty { log: log.clone() };
    let log2 = log.clone();
    watchdog(move || {
        log2.with_context(json!({ "ctx": chatty.clone() }));
        log2.with_metadata(json!({ "meta": chatty.clone() }))
            .info("with_metadata");
        log2.with_metadata(&chatty)
            .info("with_metadata of a string value");
        log2.with_error(&chatty).error("with_error");
        log2.info(&chatty);
        loglayer::sync_scope(log2.clone(), || {
            loglayer::info!(s = chatty, d = ?chatty, p = %chatty, err = &chatty, "macro {} {:?}", chatty, chatty);
            assert!(loglayer::current().ptr_eq(&log2));
        });
        assert!(loglayer::try_current().is_none());
    });
    let entries = capture.entries();
    let find = |msg: &str| -> Value {
        entries
            .iter()
            .find(|e| e["msg"] == msg)
            .cloned()
            .unwrap_or_else(|| panic!("{msg} missing: {entries:#?}"))
    };
    assert_eq!(find("with_metadata")["meta"], "serialized");
    assert_eq!(find("with_metadata")["ctx"], "serialized");
    assert_eq!(
        find("with_metadata of a string value")["value"],
        "serialized"
    );
    assert_eq!(find("with_error")["err"]["message"], "displayed");
    assert_eq!(find("displayed")["level"], "info");
    let m = find("macro displayed debugged");
    assert_eq!(
        (m["s"].as_str(), m["d"].as_str(), m["p"].as_str()),
        (Some("serialized"), Some("debugged"), Some("displayed"))
    );
    assert_eq!(m["err"]["message"], "displayed");
    assert!(entries.iter().any(|e| e["msg"] == "inside Serialize"));
}

#[test]
fn lazy_values_and_error_serializers_that_log_terminate() {
    let capture = CaptureTransport::new();
    let log_slot = slot();
    let s2 = log_slot.clone();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .error_serializer(move |e| {
            if let Some(log) = s2.get() {
                log.info("inside the error serializer");
            }
            json!({ "custom": e.to_string() })
        })
        .build();
    let _ = log_slot.set(log.clone());
    let s3 = log_slot.clone();
    log.with_context(json!({ "lazy": lazy(move || {
        if let Some(log) = s3.get() {
            log.info("inside a lazy value");
        }
        7
    }) }));
    let log2 = log.clone();
    watchdog(move || {
        log2.with_error(&io::Error::other("boom")).error("outer");
    });
    let entries = capture.entries();
    let outer: Vec<&Value> = entries.iter().filter(|e| e["msg"] == "outer").collect();
    assert_eq!(outer.len(), 1, "{entries:#?}");
    assert_eq!(outer[0]["lazy"], 7);
    assert_eq!(outer[0]["err"]["custom"], "boom");
}

// ----------------------------------------------------------------------------
// Nested sync_scope inside a Display during logging.

/// A `Display` that opens scopes (nested two deep) and logs in them.
struct Scopes {
    outer: LogLayer,
    inner: LogLayer,
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        loglayer::sync_scope(self.outer.clone(), || {
            loglayer::info!(expect = "outer", "in outer");
            loglayer::sync_scope(self.inner.clone(), || {
                loglayer::info!(expect = "inner", "in inner");
                assert!(loglayer::current().ptr_eq(&self.inner));
            });
            assert!(loglayer::current().ptr_eq(&self.outer));
            loglayer::info!(expect = "outer", "back in outer");
        });
        f.write_str("scoped")
    }
}

#[test]
fn sync_scopes_nested_inside_a_display_during_logging_restore_and_terminate() {
    let capture = CaptureTransport::new();
    let mk = |name: &str| {
        let l = LogLayer::new(capture.clone());
        l.with_context(json!({ "logger": name }));
        l
    };
    let (main, outer, inner) = (mk("main"), mk("outer"), mk("inner"));
    let scopes = Scopes { outer, inner };
    let main2 = main.clone();
    watchdog(move || {
        loglayer::sync_scope(main2.clone(), || {
            loglayer::info!(expect = "main", f = %scopes, "msg {}", scopes);
            assert!(loglayer::current().ptr_eq(&main2), "restored after Display");
            loglayer::info!(expect = "main", "after");
        });
        assert!(loglayer::try_current().is_none());
    });
    let entries = capture.entries();
    assert_eq!(entries.len(), 2 + 2 * 3, "{entries:#?}");
    for e in &entries {
        assert_eq!(e["logger"], e["expect"], "{e}");
    }
    let main_entry = entries.iter().find(|e| e["msg"] == "msg scoped").unwrap();
    assert_eq!(main_entry["f"], "scoped");
}

// ----------------------------------------------------------------------------
// The process-wide default logger (the only `set_default` in this binary).

/// A transport of the default logger that logs through the macros (which
/// resolve to the default logger again) and through `loglayer::current()`.
struct DefaultEcho {
    writes: Arc<AtomicUsize>,
}

impl Transport for DefaultEcho {
    fn write(&self, entry: &Entry<'_>) -> io::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        loglayer::warn!(seen = entry.message(), "echo");
        loglayer::current().error("echo via current()");
        Ok(())
    }
    fn id(&self) -> &str {
        "default-echo"
    }
}

#[test]
fn a_default_logger_transport_that_logs_while_logging_terminates() {
    let buf = Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);
    impl io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let writes = Arc::new(AtomicUsize::new(0));
    let default = LogLayer::builder()
        .transport(DefaultEcho {
            writes: writes.clone(),
        })
        .transport(JsonTransport::new(Shared(buf.clone())))
        .build();
    loglayer::set_default(default);
    watchdog(|| {
        assert!(loglayer::try_current().is_none());
        loglayer::info!(marker = "reentrancy-default", "through the default");
        loglayer::current().info("through current()");
        // Also from another thread and from a plain tokio task.
        std::thread::spawn(|| loglayer::info!(marker = "thread", "from a thread"))
            .join()
            .unwrap();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async {
                tokio::spawn(async { loglayer::info!("from a task") })
                    .await
                    .unwrap()
            });
    });
    assert!(writes.load(Ordering::SeqCst) >= 4);
    let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
    for msg in [
        "through the default",
        "through current()",
        "from a thread",
        "from a task",
    ] {
        let n = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("valid line"))
            .filter(|v| v["msg"] == msg)
            .count();
        assert_eq!(n, 1, "{msg}: {text}");
    }
}
