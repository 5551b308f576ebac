//! `LevelControl`: levels that change while the program runs. A logger built
//! with `.level_control(..)` — its children, its scopes, `#[with_logger]`
//! functions and spawned tasks under it — follows every change from the next
//! call, on every thread; a bad spec changes nothing and says where it is
//! wrong; an override ends on its own.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use loglayer::transport::CaptureTransport;
use loglayer::{Level, LevelControl, LogLayer};

/// A hang detector, not a timing assertion.
const WAIT: Duration = Duration::from_secs(20);

fn logger(control: &LevelControl) -> (LogLayer, CaptureTransport) {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .level_control(control.clone())
        .build();
    (log, capture)
}

fn macro_debug(log: &LogLayer, msg: &str) {
    loglayer::sync_scope(log.clone(), || loglayer::debug!("{}", msg));
}

#[test]
fn a_set_reaches_the_logger_its_children_and_its_scopes() {
    let control = LevelControl::new(Level::Info);
    let (log, capture) = logger(&control);
    let child = log.child();
    let grandchild = child.with_prefix("[db]");

    log.debug("no");
    child.debug("no");
    macro_debug(&grandchild, "no");
    assert!(!log.is_level_enabled(Level::Debug));

    control.set("debug").unwrap();
    log.debug("log");
    child.debug("child");
    macro_debug(&grandchild, "grandchild");
    // A child made after the change follows it too.
    log.child().debug("late child");
    assert!(log.is_level_enabled(Level::Debug));
    assert!(!log.is_level_enabled(Level::Trace));

    control.set("warn").unwrap();
    log.info("no");
    child.info("no");
    macro_debug(&grandchild, "no");
    log.warn("warn");

    assert_eq!(
        capture.messages(),
        ["log", "child", "[db] grandchild", "late child", "warn"]
    );
}

#[test]
fn clones_of_a_control_are_one_control_and_other_loggers_are_untouched() {
    let control = LevelControl::new(Level::Info);
    let (a, capture_a) = logger(&control);
    let (b, capture_b) = logger(&control.clone());
    let plain_capture = CaptureTransport::new();
    let plain = LogLayer::builder()
        .transport(plain_capture.clone())
        .level(Level::Info)
        .build();

    control.clone().set("debug").unwrap();
    a.debug("a");
    b.debug("b");
    plain.debug("plain");
    assert_eq!(capture_a.messages(), ["a"]);
    assert_eq!(capture_b.messages(), ["b"]);
    assert!(plain_capture.is_empty());
    assert_eq!(control.spec(), "debug");
}

#[loglayer::with_logger(context(step = "deep"))]
fn deep_debug() {
    log!(debug, "deep");
}

#[loglayer::with_logger]
async fn deep_async_debug() {
    loglayer::debug!("deep async");
}

#[test]
fn with_logger_functions_and_spawned_tasks_follow_the_control() {
    let control = LevelControl::new(Level::Info);
    let (log, capture) = logger(&control);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let run = |log: LogLayer| {
        rt.block_on(loglayer::scope(log, async {
            deep_debug();
            deep_async_debug().await;
            loglayer::spawn(async { loglayer::debug!("spawned") })
                .await
                .unwrap();
        }))
    };
    run(log.clone());
    assert!(capture.is_empty());

    control.set("debug").unwrap();
    run(log.clone());
    let entries = capture.entries();
    let messages: Vec<_> = entries.iter().map(|e| e["msg"].as_str().unwrap()).collect();
    assert_eq!(messages, ["deep", "deep async", "spawned"]);
    assert_eq!(entries[0]["step"], "deep");
}

#[test]
fn a_change_made_on_one_thread_is_seen_by_the_next_call_on_another() {
    let control = LevelControl::new(Level::Info);
    let (log, capture) = logger(&control);

    // A worker thread that stays in the logger's scope and logs at debug
    // (through the macro, the path with the process-wide hint) each time it
    // is asked, then says it is done.
    let (ask, asked) = mpsc::channel::<u32>();
    let (done, finished) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        loglayer::sync_scope(log, || {
            for n in asked {
                loglayer::debug!(n, "probe");
                loglayer::info!(n, "heartbeat");
                done.send(()).unwrap();
            }
        })
    });
    let probe = |n: u32| {
        ask.send(n).unwrap();
        finished.recv_timeout(WAIT).expect("worker answers");
    };
    let probes = || -> Vec<u64> {
        capture
            .entries()
            .iter()
            .filter(|e| e["msg"] == "probe")
            .map(|e| e["n"].as_u64().unwrap())
            .collect()
    };

    probe(1);
    control.set("debug").unwrap();
    probe(2);
    control.set("info").unwrap();
    probe(3);
    control
        .override_for("trace", Duration::from_secs(3600))
        .unwrap();
    probe(4);
    control.clear_override();
    probe(5);
    control.set("error").unwrap();
    probe(6);

    drop(ask);
    worker.join().unwrap();
    assert_eq!(probes(), [2, 4]);
    let heartbeats = capture
        .entries()
        .iter()
        .filter(|e| e["msg"] == "heartbeat")
        .count();
    assert_eq!(heartbeats, 5, "all but the one under `error`");
}

#[test]
fn a_bad_spec_is_refused_says_where_and_keeps_the_old_set() {
    let control = LevelControl::new(Level::Info);
    let (log, capture) = logger(&control);
    control.set("warn,app::db=debug").unwrap();

    let err = control.set("debug, app::db=loud").unwrap_err();
    assert_eq!(err.item(), "app::db=loud");
    assert_eq!(err.column(), 8);
    let text = err.to_string();
    assert!(text.contains(r#""app::db=loud" at column 8"#), "{text}");
    assert!(text.contains(r#"unknown level "loud""#), "{text}");

    for bad in ["=debug", "info,debug", "app db=info", "app="] {
        let err = control.set(bad).unwrap_err();
        assert!(err.column() >= 1, "{bad}: {err}");
    }
    assert!(control
        .override_for("debug,app=verbose", Duration::from_secs(60))
        .is_err());

    assert_eq!(control.spec(), "warn,app::db=debug");
    assert_eq!(control.override_remaining(), None);
    log.info("hidden");
    log.warn("shown");
    assert_eq!(capture.messages(), ["shown"]);
}

#[test]
fn an_override_reverts_on_its_own_when_its_time_is_up() {
    let control = LevelControl::new(Level::Info);
    let (log, capture) = logger(&control);

    control
        .override_for("debug", Duration::from_millis(50))
        .unwrap();
    assert_eq!(control.base_spec(), "info");
    // Poll until the override has ended: each call reads the clock.
    let start = Instant::now();
    loop {
        capture.clear();
        macro_debug(&log, "still on");
        if capture.is_empty() {
            break;
        }
        assert!(start.elapsed() < WAIT, "the override never ended");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(control.spec(), "info");
    assert_eq!(control.override_remaining(), None);
    log.info("info still on");
    assert_eq!(capture.messages(), ["info still on"]);
}

#[test]
fn an_override_that_raises_the_level_also_ends_on_its_own() {
    let control = LevelControl::new(Level::Info);
    let (log, capture) = logger(&control);

    control
        .override_for("error", Duration::from_millis(50))
        .unwrap();
    let start = Instant::now();
    while capture.is_empty() {
        assert!(start.elapsed() < WAIT, "info never came back");
        std::thread::sleep(Duration::from_millis(10));
        loglayer::sync_scope(log.clone(), || loglayer::info!("back"));
    }
    assert_eq!(control.spec(), "info");
}

#[test]
fn override_clear_and_set_interact_as_documented() {
    let control = LevelControl::new(Level::Info);
    let (log, capture) = logger(&control);

    control
        .override_for("trace", Duration::from_secs(3600))
        .unwrap();
    assert_eq!(control.spec(), "trace");
    let left = control.override_remaining().expect("an override");
    assert!(left <= Duration::from_secs(3600));
    log.trace("1");

    // A new override replaces the old one.
    control
        .override_for("debug", Duration::from_secs(3600))
        .unwrap();
    log.trace("hidden");
    log.debug("2");

    control.clear_override();
    assert_eq!(control.spec(), "info");
    log.debug("hidden");

    // `set` replaces the base and ends any override.
    control
        .override_for("trace", Duration::from_secs(3600))
        .unwrap();
    control.set("warn").unwrap();
    assert_eq!(control.override_remaining(), None);
    assert_eq!(control.spec(), "warn");
    log.info("hidden");
    log.warn("3");

    // Zero: over at once.
    control.override_for("trace", Duration::ZERO).unwrap();
    log.trace("hidden");
    // Duration::MAX: for ever, without overflow.
    control.override_for("debug", Duration::MAX).unwrap();
    log.debug("4");

    assert_eq!(capture.messages(), ["1", "2", "3", "4"]);
}

mod db {
    pub fn query() {
        loglayer::debug!("query");
    }
}

#[test]
fn per_target_specs_follow_the_module_path_of_the_call() {
    let control = LevelControl::new(Level::Info);
    let (log, capture) = logger(&control);
    let run = || {
        loglayer::sync_scope(log.clone(), || {
            db::query();
            loglayer::debug!("top");
        })
    };
    run();
    control.set("info,level_control::db=debug").unwrap();
    run();
    control.set("debug,level_control::db=off").unwrap();
    run();
    assert_eq!(capture.messages(), ["query", "top"]);
    assert_eq!(control.spec(), "debug,level_control::db=off");
}

#[test]
fn the_loggers_own_switches_still_gate_on_top_of_the_control() {
    let control = LevelControl::new(Level::Trace);
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .level_control(control.clone())
        .level(Level::Info)
        .build();
    log.debug("hidden: the builder's level");
    log.disable_logging();
    log.error("hidden: logging off");
    log.enable_logging();
    log.info("1");
    control.set("warn").unwrap();
    log.info("hidden: the control");
    assert_eq!(capture.messages(), ["1"]);
}

#[test]
fn level_control_replaces_directives_given_before_and_vice_versa() {
    let control = LevelControl::new(Level::Debug);
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .directives("error".parse().unwrap())
        .level_control(control.clone())
        .build();
    log.debug("1");
    let capture2 = CaptureTransport::new();
    let log2 = LogLayer::builder()
        .transport(capture2.clone())
        .level_control(control)
        .directives("error".parse().unwrap())
        .build();
    log2.warn("hidden");
    assert_eq!(capture.messages(), ["1"]);
    assert!(capture2.is_empty());
}

#[test]
fn from_env_and_debug_output() {
    // The suite does not set LOGLAYER_LEVEL, or sets it to a valid spec.
    let control = LevelControl::from_env();
    assert!(control.spec().parse::<loglayer::Directives>().is_ok());
    let shown = format!("{control:?}");
    assert!(shown.contains("LevelControl"), "{shown}");
}

/// The macros stop at a process-wide hint of the levels any logger enables.
/// In a process where no logger has ever enabled debug, a control set to
/// debug must raise that hint, or `debug!` would never reach the logger.
/// Checked in a fresh process (this test binary, running only the probe
/// below), since other tests here enable debug.
#[test]
fn a_control_raises_the_macros_level_hint_in_a_fresh_process() {
    let stdout = loglayer_suite::run_alone_in_fresh_process(
        "hint_probe",
        &[("LOGLAYER_HINT_PROBE", "1"), ("LOGLAYER_LEVEL", "info")],
    );
    assert!(stdout.contains("hint probe ran"), "{stdout}");
}

#[test]
fn hint_probe() {
    if std::env::var_os("LOGLAYER_HINT_PROBE").is_none() {
        return;
    }
    let control = LevelControl::new(Level::Info);
    let (log, capture) = logger(&control);
    macro_debug(&log, "before");
    control.set("debug").unwrap();
    macro_debug(&log, "after");
    control
        .override_for("trace", Duration::from_secs(3600))
        .unwrap();
    loglayer::sync_scope(log, || loglayer::trace!("trace"));
    assert_eq!(capture.messages(), ["after", "trace"]);
    println!("hint probe ran");
}
