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
