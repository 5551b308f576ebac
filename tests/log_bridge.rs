//! The `log` facade bridge: `loglayer::bridge::LogBridge`.
//!
//! `log::set_logger` is process-global, so every test calls `install()` (one
//! installation per test binary) and logs inside a `loglayer::sync_scope` /
//! `loglayer::scope` with its own `CaptureTransport` logger: tests never see
//! each other's records.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::Duration;

use loglayer::bridge::LogBridge;
use loglayer::transport::{CaptureTransport, Transport};
use loglayer::{Directives, Entry, Level, LogLayer};
use serde_json::{json, Value};

/// Installs the bridge once for this test binary.
fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| LogBridge::install().expect("first install succeeds"));
}

/// A logger at `trace` with a capture, and the capture.
fn capture_logger() -> (LogLayer, CaptureTransport) {
    let capture = CaptureTransport::new();
    let logger = LogLayer::builder()
        .transport(capture.clone())
        .level(Level::Trace)
        .build();
    (logger, capture)
}

/// Counts how often it is formatted.
struct Counted<'a>(&'a AtomicUsize);

impl fmt::Display for Counted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fetch_add(1, Ordering::SeqCst);
        f.write_str("counted")
    }
}

/// Runs `f` on another thread; fails the test if it has not finished after
/// a generous delay (a hang), or if it panicked.
fn no_hang<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let r = f();
        let _ = tx.send(());
        r
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => handle.join().expect("the closure panicked"),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("hang: still running after 60s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        },
    }
}

#[test]
fn a_record_inside_a_scope_carries_the_scope_context() {
    install();
    let (logger, capture) = capture_logger();
    logger.with_context(json!({"request_id": "7f3a", "tenant": "acme"}));
    loglayer::sync_scope(logger, || {
        log::warn!("pool exhausted after {} tries", 3);
    });
    let entries = capture.entries();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e["msg"], "pool exhausted after 3 tries");
    assert_eq!(e["level"], "warn");
    assert_eq!(e["request_id"], "7f3a");
    assert_eq!(e["tenant"], "acme");
}

#[test]
fn async_scopes_on_a_multi_thread_runtime_stay_isolated() {
    install();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let mut captures = Vec::new();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..40u64 {
            let (logger, capture) = capture_logger();
            logger.with_context(json!({ "task": i }));
            captures.push(capture);
            tasks.push(tokio::spawn(loglayer::scope(logger, async move {
                for step in 0..5 {
                    log::info!(step = step; "task {} step {}", i, step);
                    tokio::task::yield_now().await;
                }
            })));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    for (i, capture) in captures.iter().enumerate() {
        let entries = capture.entries();
        assert_eq!(entries.len(), 5, "task {i}: {entries:?}");
        for (step, e) in entries.iter().enumerate() {
            assert_eq!(e["task"], i as u64, "task {i}: {e}");
            assert_eq!(e["msg"], format!("task {i} step {step}"));
            assert_eq!(e["step"], step as u64);
        }
    }
}

#[test]
fn target_module_and_key_values_become_fields() {
    install();
    let (logger, capture) = capture_logger();
    let addr = std::net::Ipv4Addr::LOCALHOST;
    let items = vec![1, 2];
    loglayer::sync_scope(logger, || {
        log::info!(
            target: "payments::gateway",
            user_id = 7,
            big = u64::MAX,
            name = "ada",
            ok = true,
            ratio = 0.5,
            initial = 'x',
            addr:% = addr,
            items:? = items;
            "charged"
        );
        log::info!("default target");
    });
    let entries = capture.entries();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e["msg"], "charged");
    assert_eq!(e["target"], "payments::gateway");
    assert_eq!(e["module"], module_path!());
    assert_eq!(e["user_id"], 7);
    assert_eq!(e["big"], u64::MAX);
    assert_eq!(e["name"], "ada");
    assert_eq!(e["ok"], true);
    assert_eq!(e["ratio"], 0.5);
    assert_eq!(e["initial"], "x");
    assert_eq!(e["addr"], "127.0.0.1");
    assert_eq!(e["items"], "[1, 2]");
    // Without `target:`, log's target is the module path.
    assert_eq!(entries[1]["target"], module_path!());
    assert_eq!(entries[1]["module"], module_path!());
}

#[test]
fn key_values_keep_their_order_after_target_and_module_and_win_over_them() {
    install();
    let (logger, capture) = capture_logger();
    loglayer::sync_scope(logger, || {
        log::info!(target: "t", a = 1, target = "from kv"; "x");
    });
    let line = &capture.lines()[0];
    assert!(
        line.ends_with(r#""msg":"x","module":"log_bridge","a":1,"target":"from kv"}"#),
        "{line}"
    );
}

#[test]
fn reserved_keys_from_key_values_are_renamed_not_dropped() {
    install();
    let (logger, capture) = capture_logger();
    loglayer::sync_scope(logger, || {
        log::info!(msg = "user msg", level = "user level", time = 1, err = "e"; "real");
    });
    let e = &capture.entries()[0];
    assert_eq!(e["msg"], "real");
    assert_eq!(e["level"], "info");
    assert_eq!(e["_msg"], "user msg");
    assert_eq!(e["_level"], "user level");
    assert_eq!(e["_time"], 1);
    assert_eq!(e["_err"], "e");
}

#[test]
fn a_record_without_module_or_key_values() {
    install();
    let (logger, capture) = capture_logger();
    loglayer::sync_scope(logger, || {
        log::logger().log(
            &log::Record::builder()
                .level(log::Level::Error)
                .target("hand-made")
                .args(format_args!("built by hand"))
                .key_values(&[("code", 42)])
                .build(),
        );
    });
    let e = &capture.entries()[0];
    assert_eq!(e["msg"], "built by hand");
    assert_eq!(e["level"], "error");
    assert_eq!(e["target"], "hand-made");
    assert_eq!(e["code"], 42);
    assert!(e.get("module").is_none(), "{e}");
}

#[test]
fn every_log_level_maps_to_the_loglayer_level_of_the_same_name() {
    install();
    let (logger, capture) = capture_logger();
    loglayer::sync_scope(logger, || {
        log::trace!("t");
        log::debug!("d");
        log::info!("i");
        log::warn!("w");
        log::error!("e");
    });
    let levels: Vec<Value> = capture
        .entries()
        .iter()
        .map(|e| e["level"].clone())
        .collect();
    assert_eq!(levels, ["trace", "debug", "info", "warn", "error"]);
}

#[test]
fn level_conversions_both_ways() {
    let pairs = [
        (log::Level::Trace, Level::Trace),
        (log::Level::Debug, Level::Debug),
        (log::Level::Info, Level::Info),
        (log::Level::Warn, Level::Warn),
        (log::Level::Error, Level::Error),
    ];
    for (from_log, ours) in pairs {
        assert_eq!(Level::from(from_log), ours);
        assert_eq!(log::Level::from(ours), from_log);
    }
    // `log` has no fatal level.
    assert_eq!(log::Level::from(Level::Fatal), log::Level::Error);
}

#[test]
fn the_logger_level_filters_records_and_enabled_reports_it() {
    install();
    let (logger, capture) = capture_logger();
    logger.set_level(Level::Warn);
    loglayer::sync_scope(logger, || {
        assert!(!log::log_enabled!(log::Level::Info));
        assert!(log::log_enabled!(log::Level::Warn));
        log::info!("dropped");
        log::warn!("kept");
    });
    assert_eq!(capture.messages(), ["kept"]);
}

#[test]
fn a_disabled_record_is_never_formatted() {
    install();
    let (logger, capture) = capture_logger();
    logger.set_level(Level::Warn);
    let formatted = AtomicUsize::new(0);
    loglayer::sync_scope(logger, || {
        log::info!(value:% = Counted(&formatted); "{}", Counted(&formatted));
        log::debug!("{}", Counted(&formatted));
    });
    assert_eq!(formatted.load(Ordering::SeqCst), 0);
    assert!(capture.is_empty());

    // Enabled: the message and the key-value are each formatted once.
    let (logger, capture) = capture_logger();
    loglayer::sync_scope(logger, || {
        log::warn!(value:% = Counted(&formatted); "{}", Counted(&formatted));
    });
    assert_eq!(formatted.load(Ordering::SeqCst), 2);
    assert_eq!(capture.entries()[0]["value"], "counted");
}

#[test]
fn per_target_directives_apply_to_the_record_target() {
    install();
    let capture = CaptureTransport::new();
    let directives: Directives = "warn,chatty=debug,noisy=off".parse().unwrap();
    let logger = LogLayer::builder()
        .transport(capture.clone())
        .directives(directives)
        .build();
    loglayer::sync_scope(logger, || {
        assert!(log::log_enabled!(target: "chatty::db", log::Level::Debug));
        assert!(!log::log_enabled!(target: "noisy", log::Level::Error));
        assert!(!log::log_enabled!(target: "other", log::Level::Info));
        log::debug!(target: "chatty::db", "chatty debug");
        log::trace!(target: "chatty::db", "chatty trace");
        log::error!(target: "noisy::inner", "noisy error");
        log::info!(target: "other", "other info");
        log::warn!(target: "other", "other warn");
    });
    assert_eq!(capture.messages(), ["chatty debug", "other warn"]);
}

#[test]
fn a_second_install_is_an_error_not_a_panic() {
    install();
    let err = LogBridge::install().expect_err("already installed");
    assert!(err.to_string().contains("already installed"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
    assert!(LogBridge::install_with_max_level(log::LevelFilter::Info).is_err());
    // The facade's ceiling is unchanged by the failed install.
    assert_eq!(log::max_level(), log::LevelFilter::Trace);
}

#[test]
fn outside_any_scope_records_go_to_the_default_logger() {
    install();
    assert!(loglayer::try_current().is_none());
    // Goes to the default logger (console on stdout); must simply not panic.
    log::info!(k = 1; "outside every scope");
    log::logger().flush();
}

#[test]
fn with_logger_functions_see_the_log_crate_and_the_loglayer_macro() {
    install();

    #[loglayer::with_logger(context(job = 5))]
    fn job() {
        log::info!("through the facade"); // `log` the crate, despite the injected `log!`
        log!(info, "through loglayer");
    }

    let (logger, capture) = capture_logger();
    loglayer::sync_scope(logger, job);
    let entries = capture.entries();
    assert_eq!(entries.len(), 2, "{entries:?}");
    for e in &entries {
        assert_eq!(e["job"], 5, "{e}");
    }
    assert_eq!(entries[0]["msg"], "through the facade");
}

#[test]
fn a_panicking_display_in_a_record_does_not_panic_the_caller() {
    install();
    struct Bad;
    impl fmt::Display for Bad {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("bad Display")
        }
    }
    let (logger, capture) = capture_logger();
    loglayer::sync_scope(logger, || {
        log::error!(v:% = Bad; "before {}", Bad);
    });
    let e = &capture.entries()[0];
    assert!(e["msg"].as_str().unwrap().starts_with("before "), "{e}");
    assert!(e["v"].is_string(), "{e}");
}

/// A transport whose writer logs through `log` while writing.
struct LogsWhileWriting;

impl Transport for LogsWhileWriting {
    fn write(&self, entry: &Entry<'_>) -> std::io::Result<()> {
        log::warn!("written: {}", entry.message());
        Ok(())
    }
}

#[test]
fn a_transport_that_logs_through_log_while_writing_does_not_recurse() {
    install();
    let before = loglayer::failures().dropped_entries;
    let capture = no_hang(|| {
        let capture = CaptureTransport::new();
        let logger = LogLayer::builder()
            .transport(capture.clone())
            .transport(LogsWhileWriting)
            .build();
        loglayer::sync_scope(logger, || log::info!("outer"));
        capture
    });
    // Only the outer record: the one logged by the transport was dropped
    // (and counted), not fed back into the same logger.
    assert_eq!(capture.messages(), ["outer"]);
    assert!(loglayer::failures().dropped_entries > before);
}
