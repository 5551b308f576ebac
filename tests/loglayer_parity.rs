//! Behaviours pinned by LogLayer's own tests (packages/core/loglayer/src/
//! __tests__ in the JavaScript repository), through our public API: transports
//! and plugins by id, plugins created disabled, levels as numbers, the
//! per-transport level of a capture, and `enable_logging`, where we differ on
//! purpose.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use loglayer::plugin::{Filter, Plugin};
use loglayer::transport::{CaptureTransport, Transport};
use loglayer::{DuplicatePluginError, Entry, Level, LogLayer};

/// A transport that counts its writes, flushes and drops, each flush after
/// the writes it follows.
#[derive(Clone, Default)]
struct Counts {
    writes: Arc<AtomicUsize>,
    flushes: Arc<AtomicUsize>,
    /// Writes seen by the latest flush.
    flushed_writes: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl Counts {
    fn get(n: &AtomicUsize) -> usize {
        n.load(Ordering::SeqCst)
    }
    fn writes(&self) -> usize {
        Self::get(&self.writes)
    }
    fn flushes(&self) -> usize {
        Self::get(&self.flushes)
    }
    fn flushed_writes(&self) -> usize {
        Self::get(&self.flushed_writes)
    }
    fn dropped(&self) -> usize {
        Self::get(&self.dropped)
    }
}

struct Counted {
    id: &'static str,
    counts: Counts,
}

fn counted(id: &'static str) -> (Counted, Counts) {
    let counts = Counts::default();
    let t = Counted {
        id,
        counts: counts.clone(),
    };
    (t, counts)
}

impl Transport for Counted {
    fn id(&self) -> &str {
        self.id
    }
    fn write(&self, _: &Entry<'_>) -> io::Result<()> {
        self.counts.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        let writes = self.counts.writes();
        self.counts.flushed_writes.store(writes, Ordering::SeqCst);
        self.counts.flushes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.counts.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

// ---- transports by id (LogLayer.transport-management.test.ts) ----

#[test]
fn add_transport_with_a_present_id_replaces_it() {
    let a = CaptureTransport::with_id("a");
    let b = CaptureTransport::with_id("b");
    let log = LogLayer::builder()
        .transport(a.clone())
        .transport(b.clone())
        .build();
    let a2 = CaptureTransport::with_id("a");
    log.add_transport(a2.clone());
    log.info("after");
    assert_eq!(a.messages(), Vec::<String>::new(), "the old `a` is out");
    assert_eq!(a2.messages(), ["after"]);
    assert_eq!(b.messages(), ["after"], "the other transport stays");
    assert!(log.remove_transport("a"));
    assert!(!log.remove_transport("a"), "one `a`, not two");
}

#[test]
fn a_replaced_transport_is_flushed_then_dropped() {
    let (old, counts) = counted("file");
    let log = LogLayer::new(old);
    log.info("one");
    log.info("two");
    let (new, new_counts) = counted("file");
    log.add_transport(new);
    assert_eq!(counts.flushes(), 1, "flushed on the way out");
    assert_eq!(counts.flushed_writes(), 2, "after what it accepted");
    assert_eq!(counts.dropped(), 1, "no logger holds it any more");
    log.info("three");
    assert_eq!((counts.writes(), new_counts.writes()), (2, 1));
    assert_eq!(new_counts.dropped(), 0);
}

#[test]
fn replacing_in_a_child_never_drops_the_parents_transport() {
    let (shared, counts) = counted("file");
    let parent = LogLayer::new(shared);
    let child = parent.child();
    child.add_transport(CaptureTransport::with_id("file"));
    drop(child);
    assert_eq!(counts.dropped(), 0, "the parent still uses it");
    parent.info("still written");
    assert_eq!(counts.writes(), 1);
}

#[test]
fn add_transports_replaces_present_ids_and_adds_new_ones() {
    let t1 = CaptureTransport::with_id("t1");
    let t2 = CaptureTransport::with_id("t2");
    let log = LogLayer::builder()
        .transport(t1.clone())
        .transport(t2.clone())
        .build();
    let t1b = CaptureTransport::with_id("t1");
    let t3 = CaptureTransport::with_id("t3");
    log.add_transports([t1b.clone(), t3.clone()]);
    log.info("x");
    assert_eq!(
        (t1.len(), t2.len(), t1b.len(), t3.len()),
        (0, 1, 1, 1),
        "t1 replaced, t2 kept, t3 added"
    );
    for id in ["t1", "t2", "t3"] {
        assert!(log.remove_transport(id), "{id}");
        assert!(!log.remove_transport(id), "{id} was there once");
    }
}

#[test]
fn add_transports_takes_transports_of_different_types() {
    let (counted, counts) = counted("counted");
    let capture = CaptureTransport::with_id("capture");
    let log = LogLayer::new(CaptureTransport::with_id("first"));
    let mixed: [Arc<dyn Transport>; 2] = [Arc::new(counted), Arc::new(capture.clone())];
    log.add_transports(mixed);
    log.info("x");
    assert_eq!((counts.writes(), capture.len()), (1, 1));
}

#[test]
fn add_transports_with_one_id_twice_keeps_the_last() {
    let first = CaptureTransport::with_id("t");
    let last = CaptureTransport::with_id("t");
    let log = LogLayer::new(CaptureTransport::with_id("other"));
    log.add_transports([first.clone(), last.clone()]);
    log.info("x");
    assert_eq!((first.len(), last.len()), (0, 1));
}

#[test]
fn adding_to_a_child_leaves_the_parent_alone() {
    let a = CaptureTransport::with_id("a");
    let parent = LogLayer::new(a.clone());
    let child = parent.child();
    let a2 = CaptureTransport::with_id("a");
    child.add_transport(a2.clone());
    parent.info("parent");
    child.info("child");
    assert_eq!(a.messages(), ["parent"]);
    assert_eq!(a2.messages(), ["child"]);
}

#[test]
fn a_removed_transport_is_flushed() {
    let (t, counts) = counted("gone");
    let log = LogLayer::new(t);
    log.info("one");
    assert!(log.remove_transport("gone"));
    assert_eq!((counts.flushes(), counts.flushed_writes()), (1, 1));
    assert_eq!(counts.dropped(), 1);
    assert!(!log.remove_transport("gone"));
    assert_eq!(counts.flushes(), 1, "nothing to flush the second time");
}

#[test]
fn with_fresh_transports_flushes_the_old_ones() {
    let (t, counts) = counted("old");
    let log = LogLayer::new(t);
    log.info("one");
    let new = CaptureTransport::new();
    log.with_fresh_transports([new.clone()]);
    assert_eq!((counts.flushes(), counts.flushed_writes()), (1, 1));
    assert_eq!(counts.dropped(), 1);
}

// ---- plugins by id (PluginManager.test.ts) ----

/// Appends its tag to the message, so a test sees how many times it ran.
struct Tag {
    id: &'static str,
    tag: &'static str,
}

impl Plugin for Tag {
    fn id(&self) -> &str {
        self.id
    }
    fn on_before_message_out(&self, _: Level, message: &mut String) {
        message.push_str(self.tag);
    }
}

fn tag(id: &'static str, tag: &'static str) -> Tag {
    Tag { id, tag }
}

#[test]
fn adding_a_plugin_with_a_present_id_is_an_error_and_adds_nothing() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    log.add_plugin(tag("p", "+1")).unwrap();
    let err: DuplicatePluginError = log.add_plugin(tag("p", "+2")).unwrap_err();
    assert_eq!(err.id(), "p");
    assert_eq!(
        err.to_string(),
        r#"a plugin with id "p" is already added to this logger"#
    );
    log.info("m");
    assert_eq!(capture.messages(), ["m+1"], "the first plugin only, once");
}

#[test]
fn a_plugin_added_at_build_time_also_takes_its_id() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .plugin(tag("p", "+1"))
        .build();
    assert!(log.add_plugin(tag("p", "+2")).is_err());
    let child = log.child();
    assert!(
        child.add_plugin(tag("p", "+3")).is_err(),
        "children inherit it"
    );
    child.info("m");
    assert_eq!(capture.messages(), ["m+1"]);
}

#[test]
fn a_removed_plugin_frees_its_id() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    log.add_plugin(tag("p", "+1")).unwrap();
    assert!(log.remove_plugin("p"));
    log.add_plugin(tag("p", "+2")).unwrap();
    log.info("m");
    assert_eq!(capture.messages(), ["m+2"]);
}

#[test]
fn a_disabled_plugin_still_holds_its_id() {
    let log = LogLayer::new(CaptureTransport::new());
    log.add_plugin(tag("p", "+1")).unwrap();
    assert!(log.disable_plugin("p"));
    assert!(log.add_plugin(tag("p", "+2")).is_err());
}

#[test]
fn add_plugins_adds_all_in_order_or_none() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    log.add_plugin(tag("a", "+a")).unwrap();

    let err = log
        .add_plugins([tag("b", "+b"), tag("a", "+a2")])
        .unwrap_err();
    assert_eq!(err.id(), "a");
    let err = log
        .add_plugins([tag("c", "+c"), tag("c", "+c2")])
        .unwrap_err();
    assert_eq!(err.id(), "c", "twice in one batch");
    log.info("m");

    log.add_plugins([tag("b", "+b"), tag("c", "+c")]).unwrap();
    log.info("n");
    assert_eq!(capture.messages(), ["m+a", "n+a+b+c"]);
}

#[test]
fn the_builder_keeps_plugins_sharing_an_id_and_the_by_id_methods_reach_all() {
    // Our default ids are per type, so two Filters both answer "filter".
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .plugin(Filter::min_level(Level::Info))
        .plugin(Filter::drop_message_containing("health"))
        .build();
    log.debug("dropped by the first");
    log.info("GET /health");
    log.info("kept");
    assert!(log.disable_plugin("filter"));
    log.debug("both off");
    assert_eq!(capture.messages(), ["kept", "both off"]);
}

// ---- a plugin created disabled (LogLayer's `disabled: true`) ----

#[test]
fn a_plugin_built_disabled_does_nothing_until_enabled_and_keeps_its_place() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .plugin(tag("first", "+1"))
        .disabled_plugin(tag("second", "+2"))
        .plugin(tag("third", "+3"))
        .build();
    log.info("a");
    assert!(log.enable_plugin("second"));
    log.info("b");
    assert_eq!(capture.messages(), ["a+1+3", "b+1+2+3"]);
}

#[test]
fn a_plugin_built_disabled_sees_no_hook() {
    struct Loud(Arc<AtomicUsize>);
    impl Plugin for Loud {
        fn id(&self) -> &str {
            "loud"
        }
        fn on_before_message_out(&self, _: Level, _: &mut String) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn should_log(&self, _: &Entry<'_>) -> bool {
            self.0.fetch_add(1, Ordering::SeqCst);
            false
        }
        fn should_send_to_logger(&self, _: &str, _: &Entry<'_>) -> bool {
            self.0.fetch_add(1, Ordering::SeqCst);
            false
        }
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .disabled_plugin(Loud(calls.clone()))
        .build();
    log.with_metadata(serde_json::json!({"m": 1})).info("x");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(capture.messages(), ["x"]);
    log.enable_plugin("loud");
    log.info("y");
    assert!(calls.load(Ordering::SeqCst) > 0, "enabled, it runs");
    assert_eq!(capture.messages(), ["x"], "and drops the entry");
}

// ---- levels as numbers ----

#[test]
fn a_level_converts_to_its_number_and_back() {
    for (level, n) in Level::ALL.into_iter().zip([10u8, 20, 30, 40, 50, 60]) {
        assert_eq!(u8::from(level), n);
        assert_eq!(level as u8, n);
        assert_eq!(Level::try_from(n), Ok(level));
    }
}

#[test]
fn a_number_between_levels_is_a_clear_error() {
    for n in [0u8, 9, 11, 35, 61, 255] {
        let err = Level::try_from(n).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("unknown log level number {n}:")),
            "{text}"
        );
        assert!(text.contains("30 (info)"), "{text}");
    }
    // The error of a name is unchanged.
    let err = "loud".parse::<Level>().unwrap_err();
    assert!(err.to_string().starts_with(r#"unknown log level "loud""#));
    assert_ne!(err, Level::try_from(35).unwrap_err());
}

// ---- the per-transport level of a capture ----

#[test]
fn a_capture_with_a_level_keeps_only_that_level_and_above() {
    let all = CaptureTransport::with_id("all");
    let warn = CaptureTransport::with_id("warn").with_level(Level::Warn);
    assert_eq!(warn.level(), Some(Level::Warn));
    assert_eq!(all.level(), None);
    let log = LogLayer::builder()
        .transport(all.clone())
        .transport(warn.clone())
        .build();
    for level in Level::ALL {
        log.log(level, level);
    }
    assert_eq!(all.len(), 6);
    assert_eq!(warn.messages(), ["warn", "error", "fatal"]);
}

#[test]
fn a_capture_level_is_the_handles_and_the_store_is_shared() {
    let reader = CaptureTransport::new();
    let log = LogLayer::new(reader.clone().with_level(Level::Error));
    log.warn("filtered");
    log.error("kept");
    assert_eq!(reader.level(), None);
    assert_eq!(reader.messages(), ["kept"]);
    reader.set_enabled(false);
    log.error("switched off through the reader");
    assert_eq!(reader.len(), 1, "the switch is shared");
}

// ---- enable_logging: unlike LogLayer, on purpose ----

#[test]
fn enable_logging_keeps_levels_set_before_unlike_loglayer() {
    // LogLayer's enableLogging turns every level on; ours only undoes
    // disable_logging, so a set_level made before still holds (SPEC).
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    log.set_level(Level::Warn);
    log.disable_logging();
    log.error("off");
    log.enable_logging();
    log.info("still below warn");
    log.error("on");
    assert_eq!(capture.messages(), ["on"]);
}

// ---------------------------------------------------------------------------
// Calls without a message (LogLayer's `metadataOnly` / `errorOnly`).

/// Drops every entry's metadata in `on_metadata_called`.
struct DropMetadata;
impl Plugin for DropMetadata {
    fn id(&self) -> &str {
        "drop-metadata"
    }
    fn on_metadata_called(&self, _: loglayer::value::Fields) -> Option<loglayer::value::Fields> {
        None
    }
}

#[test]
fn metadata_only_with_nothing_to_send_sends_nothing() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    log.metadata_only(serde_json::json!({}));
    log.metadata_only(());
    assert_eq!(capture.len(), 0, "empty metadata");

    log.mute_metadata();
    log.metadata_only(serde_json::json!({"a": 1}));
    assert_eq!(capture.len(), 0, "muted metadata");
    log.unmute_metadata();
    log.metadata_only(serde_json::json!({"a": 1}));
    assert_eq!(capture.len(), 1, "metadata to send");

    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .plugin(DropMetadata)
        .build();
    log.metadata_only(serde_json::json!({"a": 1}));
    assert_eq!(capture.len(), 0, "a plugin dropped the metadata");
    // An entry with a message still goes out without its metadata.
    log.with_metadata(serde_json::json!({"a": 1})).info("kept");
    assert_eq!(capture.messages(), ["kept"]);
}

#[test]
fn only_methods_on_a_prefixed_logger_write_no_prefix_into_the_empty_message() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone()).with_prefix("[p]");
    log.metadata_only(serde_json::json!({"a": 1}));
    log.error_only(&io::Error::other("boom"));
    log.info("hello");
    assert_eq!(capture.messages(), ["", "", "[p] hello"]);
}

/// Records the context each entry's plugin hook saw.
#[derive(Clone, Default)]
struct SeeContext(Arc<std::sync::Mutex<Vec<Option<u64>>>>);
impl Plugin for SeeContext {
    fn id(&self) -> &str {
        "see-context"
    }
    fn on_before_data_out(&self, _: Level, data: &mut loglayer::plugin::LogData<'_>) {
        let user = data.context().get("user").and_then(|v| v.as_u64());
        self.0.lock().unwrap().push(user);
    }
}

#[test]
fn plugins_see_the_context_while_its_output_is_muted() {
    let capture = CaptureTransport::new();
    let seen = SeeContext::default();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .plugin(seen.clone())
        .build();
    log.with_context(serde_json::json!({"user": 7}));
    log.mute_context();
    log.info("muted");
    log.unmute_context();
    log.info("unmuted");
    assert_eq!(*seen.0.lock().unwrap(), [Some(7), Some(7)]);
    let e = capture.entries();
    assert!(e[0].get("user").is_none(), "{}", e[0]);
    assert_eq!(e[1]["user"], 7);
}

// ---------------------------------------------------------------------------
// `raw` with root-level data (LogLayer's `rootData`).

#[test]
fn raw_root_fields_stay_at_the_root_whatever_the_field_names() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .context_field_name("ctx")
        .metadata_field_name("meta")
        .build();
    log.with_context(serde_json::json!({"app": "shop"}));
    log.raw(
        loglayer::RawEntry::new(Level::Info, "login")
            .metadata(serde_json::json!({"attempt": 2}))
            .root(serde_json::json!({"user_id": "123", "meta": "mine", "msg": "mine too"})),
    );
    let e = &capture.entries()[0];
    assert_eq!(e["user_id"], "123");
    assert_eq!(e["ctx"]["app"], "shop");
    assert_eq!(e["meta"]["attempt"], 2);
    // A root key never replaces the line's own keys: it is renamed.
    assert_eq!(e["_meta"], "mine");
    assert_eq!(
        (e["msg"].as_str(), e["_msg"].as_str()),
        (Some("login"), Some("mine too"))
    );
}

#[test]
fn raw_root_fields_win_over_metadata_of_the_same_name_at_the_root() {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    log.raw(
        loglayer::RawEntry::new(Level::Warn, "x")
            .metadata(serde_json::json!({"status": "from-metadata", "other": 1}))
            .root(serde_json::json!({"status": "from-root"})),
    );
    let line = &capture.lines()[0];
    assert_eq!(line.matches("\"status\"").count(), 1, "{line}");
    let e = &capture.entries()[0];
    assert_eq!(
        (e["status"].as_str(), e["other"].as_i64()),
        (Some("from-root"), Some(1))
    );
}

#[test]
fn plugins_see_and_redact_raw_root_fields() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .plugin(loglayer::plugin::Redact::new().keys(["password"]))
        .build();
    log.raw(
        loglayer::RawEntry::new(Level::Info, "login")
            .root(serde_json::json!({"password": "hunter2", "user": "ada"})),
    );
    let line = &capture.lines()[0];
    assert!(!line.contains("hunter2"), "{line}");
    assert_eq!(capture.entries()[0]["user"], "ada");
}
