//! The per-thread cache of the current logger's answer for each level
//! (issue 15): a disabled macro call costs two loads even once some logger
//! enables its level — and every change is still seen by the next call.
//!
//! Each test first builds a logger at trace, so the process-wide level hint
//! lets every call through to the cache and the logger.

use std::sync::Barrier;

use loglayer::transport::CaptureTransport;
use loglayer::{Level, LevelControl, LogLayer};

fn logger(level: Level) -> (CaptureTransport, LogLayer) {
    // Opens the process-wide hint for every level.
    let _ = LogLayer::builder()
        .transport(CaptureTransport::new())
        .level(Level::Trace)
        .build();
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .level(level)
        .build();
    (capture, log)
}

#[test]
fn a_level_change_on_the_current_logger_is_seen_by_the_next_call() {
    let (capture, log) = logger(Level::Info);
    loglayer::sync_scope(log.clone(), || {
        loglayer::debug!("hidden");
        loglayer::current().set_level(Level::Debug);
        loglayer::debug!("shown");
        loglayer::current().set_level(Level::Warn);
        loglayer::info!("hidden too");
    });
    assert_eq!(capture.messages(), ["shown"]);
}

#[test]
fn a_change_made_on_another_thread_is_seen_by_the_next_call() {
    let (capture, log) = logger(Level::Info);
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            barrier.wait(); // the first call has been cached
            log.set_level(Level::Debug);
            barrier.wait();
        });
        loglayer::sync_scope(log.clone(), || {
            loglayer::debug!("hidden");
            barrier.wait();
            barrier.wait(); // the level is changed
            loglayer::debug!("shown");
        });
    });
    assert_eq!(capture.messages(), ["shown"]);
}

#[test]
fn entering_and_leaving_scopes_changes_the_answer() {
    let (outer_capture, outer) = logger(Level::Info);
    let (inner_capture, inner) = logger(Level::Debug);
    loglayer::sync_scope(outer, || {
        loglayer::debug!("outer hidden");
        loglayer::sync_scope(inner, || loglayer::debug!("inner shown"));
        loglayer::debug!("outer hidden again");
        loglayer::info!("outer shown");
    });
    assert_eq!(inner_capture.messages(), ["inner shown"]);
    assert_eq!(outer_capture.messages(), ["outer shown"]);
}

#[test]
fn replace_current_changes_the_answer() {
    let (info_capture, info_log) = logger(Level::Info);
    let (debug_capture, debug_log) = logger(Level::Debug);
    loglayer::sync_scope(info_log, || {
        loglayer::debug!("hidden");
        loglayer::replace_current(debug_log).expect("in a scope");
        loglayer::debug!("shown");
    });
    assert!(info_capture.messages().is_empty());
    assert_eq!(debug_capture.messages(), ["shown"]);
}

#[test]
fn a_level_control_change_is_seen_by_the_next_call() {
    let _ = logger(Level::Trace);
    let control = LevelControl::new(Level::Info);
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .level_control(control.clone())
        .build();
    loglayer::sync_scope(log, || {
        loglayer::debug!("hidden");
        control.set("debug").expect("a valid spec");
        loglayer::debug!("shown");
        control.set("warn").expect("a valid spec");
        loglayer::info!("hidden again");
        control
            .override_for("trace", std::time::Duration::from_secs(3600))
            .expect("a valid spec");
        loglayer::trace!("shown during the override");
        control.clear_override();
        loglayer::trace!("hidden after it");
    });
    assert_eq!(capture.messages(), ["shown", "shown during the override"]);
}

mod chatty {
    pub fn debug() {
        loglayer::debug!("shown: this module is at debug");
    }
    pub fn trace() {
        loglayer::trace!("hidden: no directive enables trace");
    }
}

#[test]
fn per_target_directives_still_decide_per_target() {
    let _ = logger(Level::Trace);
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .directives(
            format!("warn,{}::chatty=debug", module_path!())
                .parse::<loglayer::Directives>()
                .expect("valid directives"),
        )
        .build();
    loglayer::sync_scope(log, || {
        chatty::trace();
        chatty::debug();
        loglayer::debug!("hidden: the rest is at warn");
        chatty::debug();
    });
    assert_eq!(
        capture.messages(),
        [
            "shown: this module is at debug",
            "shown: this module is at debug"
        ]
    );
}

// ---------------------------------------------------------------------------
// The call sites' caches: per-target levels remembered at each macro call
// site under the id of the set they come from.

mod db {
    /// One call site, called under whatever logger is current.
    pub fn debug(msg: &str) {
        loglayer::debug!("{}", msg);
    }
}

/// Directives with this file's `db` module at `db_level` and the rest at `rest`.
fn db_directives(rest: &str, db_level: &str) -> String {
    format!("{rest},{}::db={db_level}", module_path!())
}

fn with_directives(spec: &str) -> (CaptureTransport, LogLayer) {
    let _ = logger(Level::Trace);
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .directives(spec.parse::<loglayer::Directives>().expect("valid"))
        .build();
    (capture, log)
}

fn with_control(control: &LevelControl) -> (CaptureTransport, LogLayer) {
    let _ = logger(Level::Trace);
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .level_control(control.clone())
        .build();
    (capture, log)
}

#[test]
fn a_call_site_under_two_directive_sets_in_turn_answers_for_each() {
    let (shown_capture, shown) = with_directives(&db_directives("info", "debug"));
    let (hidden_capture, hidden) = with_directives(&db_directives("debug", "warn"));
    for i in 0..3 {
        loglayer::sync_scope(shown.clone(), || db::debug(&format!("shown {i}")));
        loglayer::sync_scope(hidden.clone(), || {
            db::debug("hidden");
            loglayer::debug!("other module shown");
        });
    }
    assert_eq!(shown_capture.messages(), ["shown 0", "shown 1", "shown 2"]);
    assert_eq!(hidden_capture.messages(), ["other module shown"; 3]);
}

#[test]
fn a_level_control_change_reaches_a_call_site_that_remembered_its_target() {
    let control = LevelControl::new(
        db_directives("info", "debug")
            .parse::<loglayer::Directives>()
            .expect("valid"),
    );
    let (capture, log) = with_control(&control);
    loglayer::sync_scope(log, || {
        db::debug("shown 1");
        db::debug("shown 2");
        control.set(&db_directives("info", "warn")).expect("valid");
        db::debug("hidden after set");
        control.set(&db_directives("info", "debug")).expect("valid");
        db::debug("shown 3");
        control.set("info").expect("valid");
        db::debug("hidden without targets");
        control
            .override_for(
                &db_directives("warn", "debug"),
                std::time::Duration::from_secs(3600),
            )
            .expect("valid");
        db::debug("shown during the override");
        control.clear_override();
        db::debug("hidden after it");
        control.set(&db_directives("info", "debug")).expect("valid");
        control
            .override_for(&db_directives("info", "error"), std::time::Duration::ZERO)
            .expect("valid");
        db::debug("shown: the override is over at once");
    });
    assert_eq!(
        capture.messages(),
        [
            "shown 1",
            "shown 2",
            "shown 3",
            "shown during the override",
            "shown: the override is over at once"
        ]
    );
}

#[test]
fn a_level_change_reaches_a_call_site_under_directives() {
    let (capture, log) = with_directives(&db_directives("info", "debug"));
    loglayer::sync_scope(log.clone(), || {
        db::debug("shown");
        log.set_level(Level::Info);
        db::debug("hidden: the logger's own level is info");
        log.set_level(Level::Trace);
        db::debug("shown again");
        log.disable_logging();
        db::debug("hidden: logging off");
        log.enable_logging();
        db::debug("shown once more");
    });
    assert_eq!(
        capture.messages(),
        ["shown", "shown again", "shown once more"]
    );
}

#[test]
fn nested_scopes_with_and_without_directives_at_one_call_site() {
    let (dir_capture, dir_log) = with_directives(&db_directives("warn", "debug"));
    let (info_capture, info_log) = logger(Level::Info);
    let (debug_capture, debug_log) = logger(Level::Debug);
    loglayer::sync_scope(dir_log, || {
        db::debug("directives: shown");
        loglayer::sync_scope(info_log, || {
            db::debug("info: hidden");
            loglayer::sync_scope(debug_log, || db::debug("debug: shown"));
            db::debug("info: hidden again");
        });
        db::debug("directives: shown again");
        loglayer::sync_unscoped(|| db::debug("default logger: hidden"));
    });
    assert_eq!(
        dir_capture.messages(),
        ["directives: shown", "directives: shown again"]
    );
    assert!(info_capture.messages().is_empty());
    assert_eq!(debug_capture.messages(), ["debug: shown"]);
}

#[loglayer::with_logger(context(k = 1))]
fn in_a_with_logger_fn(msg: &str) {
    db::debug(msg);
}

#[test]
fn a_with_logger_child_answers_as_its_parent_was_at_entry() {
    let (capture, log) = with_directives(&db_directives("info", "debug"));
    loglayer::sync_scope(log.clone(), || {
        in_a_with_logger_fn("shown in the child");
        db::debug("shown in the parent");
        log.set_level(Level::Info);
        in_a_with_logger_fn("hidden: the parent was at info when the child was made");
        log.set_level(Level::Trace);
        in_a_with_logger_fn("shown in a new child");
    });
    assert_eq!(
        capture.messages(),
        [
            "shown in the child",
            "shown in the parent",
            "shown in a new child"
        ]
    );
    assert!(capture.entries()[0]["k"] == 1);
}

#[test]
fn threads_under_different_directive_sets_share_call_sites_correctly() {
    let (shown_capture, shown) = with_directives(&db_directives("info", "debug"));
    let (hidden_capture, hidden) = with_directives(&db_directives("info", "info"));
    std::thread::scope(|s| {
        for (log, n) in [(shown, 0), (hidden, 1)].into_iter().cycle().take(4) {
            s.spawn(move || {
                loglayer::sync_scope(log, || {
                    for i in 0..2000 {
                        db::debug(&format!("{n} {i}"));
                    }
                })
            });
        }
    });
    assert_eq!(shown_capture.len(), 4000);
    assert!(shown_capture.messages().iter().all(|m| m.starts_with('0')));
    assert_eq!(hidden_capture.len(), 0);
}

#[test]
fn set_default_reaches_a_call_site_outside_every_scope() {
    let _ = logger(Level::Trace);
    let directives = |spec: &str| spec.parse::<loglayer::Directives>().expect("valid");
    let first = CaptureTransport::new();
    loglayer::set_default(
        LogLayer::builder()
            .transport(first.clone())
            .directives(directives(&db_directives("info", "debug")))
            .build(),
    );
    db::debug("first: shown");
    let second = CaptureTransport::new();
    loglayer::set_default(
        LogLayer::builder()
            .transport(second.clone())
            .directives(directives(&db_directives("info", "info")))
            .build(),
    );
    db::debug("second: hidden");
    let third = CaptureTransport::new();
    loglayer::set_default(
        LogLayer::builder()
            .transport(third.clone())
            .level(Level::Debug)
            .build(),
    );
    db::debug("third: shown");
    assert_eq!(first.messages(), ["first: shown"]);
    assert!(second.messages().is_empty());
    assert_eq!(third.messages(), ["third: shown"]);
}

/// The default logger is built on first use; until then its levels (from
/// `LOGLAYER_LEVEL`) are not in the process-wide hint, so a call that the
/// hint would stop goes on and builds it — also when that first call is made
/// inside a scope. Checked in a fresh process, where no logger enabled debug.
#[test]
fn the_default_loggers_levels_reach_the_hint_in_a_fresh_process() {
    let stdout = loglayer_suite::run_alone_in_fresh_process(
        "default_level_probe",
        &[
            ("LOGLAYER_DEFAULT_LEVEL_PROBE", "1"),
            ("LOGLAYER_LEVEL", "debug"),
            ("LOGLAYER_FORMAT", "json"),
        ],
    );
    assert!(stdout.contains("default level probe ran"), "{stdout}");
    assert!(stdout.contains("outside: shown"), "{stdout}");
    assert!(!stdout.contains("inside: hidden"), "{stdout}");
}

#[test]
fn default_level_probe() {
    if std::env::var_os("LOGLAYER_DEFAULT_LEVEL_PROBE").is_none() {
        return;
    }
    let capture = CaptureTransport::new();
    let info = LogLayer::builder()
        .transport(capture.clone())
        .level(Level::Info)
        .build();
    loglayer::sync_scope(info, || loglayer::debug!("inside: hidden"));
    loglayer::debug!("outside: shown");
    assert!(capture.messages().is_empty());
    println!("default level probe ran");
}
