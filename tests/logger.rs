//! Every row of SPEC's Logger table, through the public API.

use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use loglayer::plugin::{LogData, Plugin};
use loglayer::transport::{CaptureTransport, Transport};
use loglayer::{Entry, Level, LogLayer, OnlyOptions, RawEntry};
use loglayer_suite::Chained;
use serde_json::{json, Value};

fn setup() -> (CaptureTransport, LogLayer) {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    (capture, log)
}

/// An error with a source.
fn failure() -> Chained {
    Chained::new("request failed", "connection reset")
}

#[test]
fn handle_is_send_sync_static_and_clones_are_the_same_logger() {
    fn assert_traits<T: Send + Sync + 'static + Clone>() {}
    assert_traits::<LogLayer>();
    let (capture, log) = setup();
    let clone = log.clone();
    clone.with_context(json!({"k": 1}));
    log.info("x");
    assert_eq!(capture.entries()[0]["k"], 1);
    assert!(log.ptr_eq(&clone));
}

#[test]
fn builder_takes_several_transports_and_a_level() {
    let a = CaptureTransport::with_id("a");
    let b = CaptureTransport::with_id("b");
    let log = LogLayer::builder()
        .transport(a.clone())
        .transport(b.clone())
        .level(Level::Warn)
        .build();
    log.info("dropped");
    log.warn("kept");
    assert_eq!(a.messages(), ["kept"]);
    assert_eq!(b.messages(), ["kept"]);
}

#[test]
fn builder_enabled_flag_and_prefix() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .enabled(false)
        .prefix("[p]")
        .build();
    log.error("off");
    assert!(capture.is_empty());
    log.enable_logging();
    log.error("on");
    assert_eq!(capture.messages(), ["[p] on"]);
}

#[test]
fn each_level_method_writes_one_entry_with_its_level() {
    let (capture, log) = setup();
    log.trace("t");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    log.fatal("f");
    let levels: Vec<_> = capture
        .entries()
        .iter()
        .map(|e| e["level"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(levels, ["trace", "debug", "info", "warn", "error", "fatal"]);
    assert_eq!(capture.messages(), ["t", "d", "i", "w", "e", "f"]);
}

#[test]
fn messages_accept_any_display() {
    let (capture, log) = setup();
    log.info(42);
    log.info(String::from("owned"));
    log.info(format_args!("{}-{}", 1, 2));
    assert_eq!(capture.messages(), ["42", "owned", "1-2"]);
}

#[test]
fn with_metadata_is_for_one_entry_and_merges_when_repeated() {
    let (capture, log) = setup();
    log.with_metadata(json!({"a": 1, "b": 1}))
        .with_metadata(json!({"b": 2, "c": {"deep": [1, 2]}}))
        .info("m");
    log.info("plain");
    let e = capture.entries();
    assert_eq!(e[0]["a"], 1);
    assert_eq!(e[0]["b"], 2, "later metadata wins");
    assert_eq!(e[0]["c"]["deep"], json!([1, 2]));
    assert!(
        e[1].get("a").is_none(),
        "metadata must not stick to the logger"
    );
}

#[test]
fn with_metadata_accepts_serialize_structs_and_non_objects() {
    #[derive(serde::Serialize)]
    struct User {
        id: u64,
        name: &'static str,
    }
    let (capture, log) = setup();
    log.with_metadata(User { id: 7, name: "ada" }).info("s");
    log.with_metadata(5).info("n");
    let e = capture.entries();
    assert_eq!(
        (e[0]["id"].as_u64(), e[0]["name"].as_str()),
        (Some(7), Some("ada"))
    );
    assert_eq!(e[1]["value"], 5, "a non-object is kept under `value`");
}

#[test]
fn with_error_keeps_message_and_source_chain() {
    let (capture, log) = setup();
    log.with_error(&failure()).error("call failed");
    let e = &capture.entries()[0];
    assert_eq!(e["err"]["message"], "request failed");
    assert_eq!(e["err"]["sources"], json!(["connection reset"]));
    assert_eq!(e["msg"], "call failed");
}

#[test]
fn with_error_accepts_dyn_error_and_boxed_errors() {
    let (capture, log) = setup();
    let boxed: Box<dyn Error + Send + Sync> = Box::new(failure());
    log.with_error(&*boxed).error("boxed");
    let dyn_ref: &dyn Error = &Chained::single("connection reset");
    log.with_error(dyn_ref).warn("dyn");
    let e = capture.entries();
    assert_eq!(e[0]["err"]["sources"][0], "connection reset");
    assert_eq!(e[1]["err"]["message"], "connection reset");
}

#[test]
fn builder_chains_metadata_and_error_in_any_order() {
    let (capture, log) = setup();
    log.with_error(&Chained::single("connection reset"))
        .with_metadata(json!({"retry": 3}))
        .fatal("x");
    let e = &capture.entries()[0];
    assert_eq!(e["retry"], 3);
    assert_eq!(e["err"]["message"], "connection reset");
    assert_eq!(e["level"], "fatal");
}

#[test]
fn error_only_logs_the_error_at_error_level_with_empty_message() {
    let (capture, log) = setup();
    log.error_only(&failure());
    let e = &capture.entries()[0];
    assert_eq!(e["level"], "error");
    assert_eq!(e["msg"], "");
    assert_eq!(e["err"]["message"], "request failed");
}

#[test]
fn error_only_options_and_copy_msg_setting() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .copy_msg_on_only_error(true)
        .build();
    log.error_only(&Chained::single("connection reset"));
    log.error_only_with(
        &Chained::single("connection reset"),
        OnlyOptions::new().level(Level::Warn).copy_msg(false),
    );
    let e = capture.entries();
    assert_eq!(e[0]["msg"], "connection reset");
    assert_eq!(
        (e[1]["level"].as_str(), e[1]["msg"].as_str()),
        (Some("warn"), Some(""))
    );
}

#[test]
fn metadata_only_logs_at_info_with_empty_message() {
    let (capture, log) = setup();
    log.metadata_only(json!({"depth": 3}));
    log.metadata_only_with(json!({"depth": 9}), OnlyOptions::new().level(Level::Debug));
    let e = capture.entries();
    assert_eq!(
        (e[0]["level"].as_str(), e[0]["msg"].as_str()),
        (Some("info"), Some(""))
    );
    assert_eq!(e[0]["depth"], 3);
    assert_eq!(e[1]["level"], "debug");
}

#[test]
fn with_context_is_in_place_and_later_keys_win() {
    let (capture, log) = setup();
    let returned = log.with_context(json!({"a": 1, "b": 1}));
    assert!(
        returned.ptr_eq(&log),
        "with_context returns the same logger"
    );
    log.with_context(json!({"b": 2}));
    log.info("x");
    let e = &capture.entries()[0];
    assert_eq!((e["a"].as_i64(), e["b"].as_i64()), (Some(1), Some(2)));
}

#[test]
fn get_context_returns_a_snapshot() {
    let (_capture, log) = setup();
    log.with_context(json!({"a": 1}));
    let snapshot = log.get_context();
    log.with_context(json!({"b": 2}));
    assert_eq!(Value::Object(snapshot), json!({"a": 1}));
    assert_eq!(Value::Object(log.get_context()), json!({"a": 1, "b": 2}));
}

#[test]
fn clear_context_and_clear_context_keys() {
    let (capture, log) = setup();
    log.with_context(json!({"a": 1, "b": 2, "c": 3}));
    log.clear_context_keys(&["a", "c"]);
    log.info("one");
    log.clear_context();
    log.info("two");
    let e = capture.entries();
    assert!(e[0].get("a").is_none() && e[0].get("c").is_none());
    assert_eq!(e[0]["b"], 2);
    assert!(e[1].get("b").is_none());
    assert!(log.get_context().is_empty());
}

#[test]
fn child_is_an_independent_snapshot_with_same_transports_and_level() {
    let (capture, log) = setup();
    log.with_context(json!({"app": "shop"}));
    log.set_level(Level::Warn);
    let child = log.child();
    child.with_context(json!({"req": 1}));
    log.with_context(json!({"late": true}));
    child.info("filtered by inherited level");
    child.warn("child");
    log.warn("parent");
    let e = capture.entries();
    assert_eq!(e.len(), 2);
    assert_eq!(
        (e[0]["app"].as_str(), e[0]["req"].as_i64()),
        (Some("shop"), Some(1))
    );
    assert!(
        e[0].get("late").is_none(),
        "child does not see later parent context"
    );
    assert!(
        e[1].get("req").is_none(),
        "parent does not see child context"
    );
    child.set_level(Level::Trace);
    assert!(!log.is_level_enabled(Level::Info), "child level is its own");
}

#[test]
fn with_prefix_makes_a_prefixed_child() {
    let (capture, log) = setup();
    let db = log.with_prefix("[db]");
    db.info("connected");
    log.info("plain");
    assert_eq!(capture.messages(), ["[db] connected", "plain"]);
    assert!(!db.ptr_eq(&log));
}

#[test]
fn set_enable_disable_level() {
    let (capture, log) = setup();
    log.set_level(Level::Error);
    assert!(!log.is_level_enabled(Level::Warn));
    assert!(log.is_level_enabled(Level::Fatal));
    log.enable_level(Level::Debug);
    assert!(log.is_level_enabled(Level::Debug));
    assert!(!log.is_level_enabled(Level::Info));
    log.disable_level(Level::Fatal);
    log.fatal("no");
    log.debug("yes");
    assert_eq!(capture.messages(), ["yes"]);
}

#[test]
fn enable_logging_does_not_undo_set_level() {
    let (capture, log) = setup();
    log.set_level(Level::Warn);
    log.disable_logging();
    log.error("off");
    assert!(!log.is_level_enabled(Level::Error));
    log.enable_logging();
    log.info("still below level");
    log.error("on");
    assert_eq!(capture.messages(), ["on"]);
}

#[test]
fn mute_and_unmute_context_and_metadata() {
    let (capture, log) = setup();
    log.with_context(json!({"c": 1}));
    log.mute_context();
    log.with_metadata(json!({"m": 1})).info("a");
    log.unmute_context().mute_metadata();
    log.with_metadata(json!({"m": 1})).info("b");
    log.unmute_metadata();
    log.with_metadata(json!({"m": 1})).info("c");
    let e = capture.entries();
    assert!(e[0].get("c").is_none() && e[0]["m"] == 1);
    assert!(e[1]["c"] == 1 && e[1].get("m").is_none());
    assert!(e[2]["c"] == 1 && e[2]["m"] == 1);
}

/// A transport that records whether it was dropped (closed).
struct Closable {
    id: &'static str,
    writes: Arc<AtomicUsize>,
    closed: Arc<AtomicUsize>,
}
impl Transport for Closable {
    fn id(&self) -> &str {
        self.id
    }
    fn write(&self, _: &Entry<'_>) -> std::io::Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
impl Drop for Closable {
    fn drop(&mut self) {
        self.closed.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn add_and_remove_transport_by_id() {
    let (capture, log) = setup();
    let other = CaptureTransport::with_id("other");
    log.add_transport(other.clone());
    log.info("both");
    assert!(log.remove_transport("capture"));
    assert!(!log.remove_transport("capture"), "already removed");
    log.info("other only");
    assert_eq!(capture.messages(), ["both"]);
    assert_eq!(other.messages(), ["both", "other only"]);
}

#[test]
fn removing_from_a_child_never_closes_the_parents_transport() {
    let writes = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let log = LogLayer::new(Closable {
        id: "file",
        writes: writes.clone(),
        closed: closed.clone(),
    });
    let child = log.child();
    assert!(child.remove_transport("file"));
    drop(child);
    assert_eq!(closed.load(Ordering::SeqCst), 0, "parent still uses it");
    log.info("still writing");
    assert_eq!(writes.load(Ordering::SeqCst), 1);
    drop(log);
    assert_eq!(
        closed.load(Ordering::SeqCst),
        1,
        "closed with its last user"
    );
}

#[test]
fn with_fresh_transports_replaces_them() {
    let (capture, log) = setup();
    let a = CaptureTransport::with_id("a");
    let b = CaptureTransport::with_id("b");
    log.with_fresh_transports([a.clone(), b.clone()]).info("x");
    assert!(capture.is_empty());
    assert_eq!((a.len(), b.len()), (1, 1));
    let mixed: Vec<Arc<dyn Transport>> = vec![Arc::new(capture.clone())];
    log.with_fresh_transports(mixed).info("y");
    assert_eq!(capture.messages(), ["y"]);
}

struct Tag(&'static str);
impl Plugin for Tag {
    fn id(&self) -> &str {
        self.0
    }
    fn on_before_data_out(&self, _: Level, data: &mut LogData<'_>) {
        let seen = data.metadata().len();
        data.metadata_mut().insert(self.0, seen);
    }
}

#[test]
fn plugins_add_remove_enable_disable_and_fresh() {
    let (capture, log) = setup();
    log.add_plugin(Tag("first"))
        .unwrap()
        .add_plugin(Tag("second"))
        .unwrap();
    log.info("a");
    assert!(log.disable_plugin("first"));
    log.info("b");
    assert!(log.enable_plugin("first"));
    assert!(log.remove_plugin("second"));
    assert!(!log.remove_plugin("second"));
    log.info("c");
    log.with_fresh_plugins([Tag("only")]);
    log.info("d");
    assert!(!log.enable_plugin("missing"));
    let e = capture.entries();
    // registration order: `second` sees the key `first` added
    assert_eq!(
        (e[0]["first"].as_i64(), e[0]["second"].as_i64()),
        (Some(0), Some(1))
    );
    assert!(e[1].get("first").is_none() && e[1]["second"] == 0);
    assert!(e[2]["first"] == 0 && e[2].get("second").is_none());
    assert!(e[3].get("first").is_none() && e[3]["only"] == 0);
}

#[test]
fn raw_sends_a_fully_specified_entry_through_plugins() {
    let (capture, log) = setup();
    log.with_context(json!({"ctx": 1}));
    log.add_plugin(Tag("seen")).unwrap();
    log.raw(
        RawEntry::new(Level::Warn, "raw one")
            .metadata(json!({"m": 2}))
            .error(&Chained::single("connection reset")),
    );
    log.raw(RawEntry::new(Level::Info, "raw two").context(json!({"other": true})));
    let e = capture.entries();
    assert_eq!(
        (e[0]["level"].as_str(), e[0]["msg"].as_str()),
        (Some("warn"), Some("raw one"))
    );
    assert_eq!(
        (e[0]["ctx"].as_i64(), e[0]["m"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(e[0]["err"]["message"], "connection reset");
    assert_eq!(e[0]["seen"], 1, "plugins ran on the raw entry");
    assert!(e[1].get("ctx").is_none() && e[1]["other"] == true);
}

#[test]
fn flush_reaches_every_transport() {
    struct Flushes(Arc<AtomicUsize>);
    impl Transport for Flushes {
        fn write(&self, _: &Entry<'_>) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }
    let n = Arc::new(AtomicUsize::new(0));
    let log = LogLayer::builder()
        .transport(Flushes(n.clone()))
        .transport(Flushes(n.clone()))
        .build();
    log.flush();
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

#[test]
fn transport_level_filter_and_enabled_flag() {
    let quiet = CaptureTransport::with_id("quiet");
    let json = loglayer::transport::JsonTransport::new(std::io::sink()).with_level(Level::Error);
    assert_eq!(json.level(), Some(Level::Error));
    let log = LogLayer::builder().transport(quiet.clone()).build();
    quiet.set_enabled(false);
    log.error("nobody");
    quiet.set_enabled(true);
    log.error("somebody");
    assert_eq!(quiet.messages(), ["somebody"]);
}

#[test]
fn level_is_ordered_parsed_and_displayed() {
    assert_eq!(
        [10, 20, 30, 40, 50, 60],
        Level::ALL.map(|l| l as u8),
        "LogLayer's numeric values"
    );
    assert!(Level::ALL.windows(2).all(|w| w[0] < w[1]));
    for l in Level::ALL {
        assert_eq!(l.to_string().parse::<Level>(), Ok(l));
        assert_eq!(l.to_string().to_uppercase().parse::<Level>(), Ok(l));
    }
    assert_eq!(format!("{:>5}|", Level::Info), " info|");
    assert!("verbose".parse::<Level>().is_err());
}
