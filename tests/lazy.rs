//! `lazy()`: context and metadata values computed only when an entry is
//! emitted, and again for every entry.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use loglayer::transport::CaptureTransport;
use loglayer::{lazy, Lazy, Level, LogLayer};
use serde_json::json;

fn counter() -> (Arc<AtomicUsize>, Lazy) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let value = lazy(move || c.fetch_add(1, Ordering::SeqCst) + 1);
    (calls, value)
}

#[test]
fn lazy_context_runs_once_per_emitted_entry_and_never_when_disabled() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    let (calls, value) = counter();
    log.with_context(BTreeMap::from([("n", value)]));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "not computed by with_context"
    );
    log.info("one");
    log.info("two");
    log.set_level(Level::Error);
    log.info("disabled");
    loglayer::sync_scope(log.clone(), || loglayer::info!("disabled macro"));
    let e = capture.entries();
    assert_eq!(e.len(), 2);
    assert_eq!((e[0]["n"].as_u64(), e[1]["n"].as_u64()), (Some(1), Some(2)));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn lazy_metadata_runs_only_when_the_entry_is_sent() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    log.set_level(Level::Warn);
    let (calls, value) = counter();
    log.with_metadata(BTreeMap::from([("n", value.clone())]))
        .info("disabled");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    log.with_metadata(BTreeMap::from([("n", value)]))
        .warn("sent");
    assert_eq!(capture.entries()[0]["n"], 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_panicking_lazy_yields_a_placeholder_and_the_entry_is_sent() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    log.with_context(BTreeMap::from([(
        "bad",
        lazy(|| -> u32 { panic!("lazy boom") }),
    )]));
    log.with_context(json!({"good": 1}));
    log.info("still sent");
    let e = &capture.entries()[0];
    assert_eq!(e["bad"], "[lazy value panicked]");
    assert_eq!(
        (e["good"].as_i64(), e["msg"].as_str()),
        (Some(1), Some("still sent"))
    );
}

#[test]
fn lazy_context_is_shared_with_children_and_overridable() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    let (_, value) = counter();
    log.with_context(BTreeMap::from([("n", value)]));
    let child = log.child();
    child.info("child sees the lazy");
    log.with_context(json!({"n": "static now"}));
    log.info("parent overrode it");
    child.clear_context_keys(&["n"]);
    child.info("child dropped it");
    let e = capture.entries();
    assert_eq!(e[0]["n"], 1);
    assert_eq!(e[1]["n"], "static now");
    assert!(e[2].get("n").is_none());
    assert_eq!(log.get_context()["n"], "static now");
}

#[test]
fn lazy_in_a_macro_field_or_nested_is_computed_when_serialized() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    let (calls, value) = counter();
    loglayer::sync_scope(log.clone(), || {
        loglayer::info!(n = value, "macro field");
    });
    log.with_context(json!({"outer": {"inner": 7}}));
    let (_, nested) = counter();
    log.with_context(BTreeMap::from([(
        "wrap",
        BTreeMap::from([("deep", nested)]),
    )]));
    log.info("nested");
    let e = capture.entries();
    assert_eq!(e[0]["n"], 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        e[1]["wrap"]["deep"], 1,
        "nested lazies are computed at with_context"
    );
}
