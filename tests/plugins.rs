//! The plugin hooks: order, effect of each result, and per-transport routing.

use std::sync::{Arc, Mutex};

use loglayer::plugin::{LogData, Plugin};
use loglayer::transport::CaptureTransport;
use loglayer::{Entry, Level, LogLayer};
use serde_json::{json, Map, Value};

/// Records which hooks ran, in order.
struct Recorder {
    name: &'static str,
    log: Arc<Mutex<Vec<String>>>,
}
impl Recorder {
    fn note(&self, hook: &str) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:{hook}", self.name));
    }
}
impl Plugin for Recorder {
    fn id(&self) -> &str {
        self.name
    }
    fn on_context_called(&self, c: loglayer::value::Fields) -> Option<loglayer::value::Fields> {
        self.note("context");
        Some(c)
    }
    fn on_metadata_called(&self, m: loglayer::value::Fields) -> Option<loglayer::value::Fields> {
        self.note("metadata");
        Some(m)
    }
    fn on_before_data_out(&self, _: Level, _: &mut LogData<'_>) {
        self.note("data");
    }
    fn on_before_message_out(&self, _: Level, _: &mut String) {
        self.note("message");
    }
    fn transform_log_level(&self, _: Level, _: &LogData<'_>, _: &str) -> Option<Level> {
        self.note("level");
        None
    }
    fn should_send_to_logger(&self, t: &str, _: &Entry<'_>) -> bool {
        self.note(&format!("send {t}"));
        true
    }
}

#[test]
fn hooks_run_in_registration_order_and_lifecycle_order() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let capture = CaptureTransport::with_id("cap");
    let log = LogLayer::builder()
        .transport(capture.clone())
        .plugin(Recorder {
            name: "a",
            log: calls.clone(),
        })
        .plugin(Recorder {
            name: "b",
            log: calls.clone(),
        })
        .build();
    log.with_context(json!({"c": 1}));
    log.with_metadata(json!({"m": 1})).info("x");
    let calls = calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        [
            "a:context",
            "b:context",
            "a:metadata",
            "b:metadata",
            "a:data",
            "b:data",
            "a:message",
            "b:message",
            "a:level",
            "b:level",
            "a:send cap",
            "b:send cap"
        ]
    );
    assert_eq!(capture.len(), 1);
}

struct Hooks;
impl Plugin for Hooks {
    fn on_context_called(&self, c: loglayer::value::Fields) -> Option<loglayer::value::Fields> {
        if c.contains_key("ignored") {
            None
        } else {
            Some(c)
        }
    }
    fn on_metadata_called(&self, m: loglayer::value::Fields) -> Option<loglayer::value::Fields> {
        if m.contains_key("drop_me") {
            None
        } else {
            Some(m)
        }
    }
    fn on_before_data_out(&self, _: Level, data: &mut LogData<'_>) {
        if data.metadata().contains_key("password") {
            data.metadata_mut().insert("password", "[REDACTED]");
        }
        if let Some(err) = data.error_mut() {
            err.insert("message", "[REDACTED]");
        }
    }
    fn on_before_message_out(&self, _: Level, message: &mut String) {
        message.push_str(" (checked)");
    }
    fn transform_log_level(&self, level: Level, data: &LogData<'_>, _: &str) -> Option<Level> {
        (data.metadata().get("escalate").and_then(|v| v.as_bool()) == Some(true)
            && level < Level::Error)
            .then_some(Level::Error)
    }
    fn should_send_to_logger(&self, transport_id: &str, entry: &Entry<'_>) -> bool {
        transport_id != "alerts" || entry.level() >= Level::Error
    }
}

#[test]
fn each_hook_result_has_its_documented_effect() {
    let all = CaptureTransport::with_id("all");
    let alerts = CaptureTransport::with_id("alerts");
    let log = LogLayer::builder()
        .transport(all.clone())
        .transport(alerts.clone())
        .plugin(Hooks)
        .build();
    log.with_context(json!({"ignored": 1}));
    log.with_context(json!({"kept": 1}));
    assert_eq!(Value::Object(log.get_context()), json!({"kept": 1}));

    let mut secret = Map::new();
    secret.insert("password".into(), json!("hunter2"));
    log.with_metadata(&secret).info("login");
    assert_eq!(
        secret["password"], "hunter2",
        "the caller's data is never mutated"
    );

    log.with_metadata(json!({"drop_me": true, "x": 1}))
        .info("dropped metadata");
    log.with_metadata(json!({"escalate": true}))
        .warn("escalated");
    log.with_error(&std::io::Error::other("token=abc"))
        .error("failed");

    let e = all.entries();
    assert_eq!(e[0]["password"], "[REDACTED]");
    assert_eq!(e[0]["msg"], "login (checked)");
    assert!(e[1].get("x").is_none() && e[1]["msg"] == "dropped metadata (checked)");
    assert_eq!(e[2]["level"], "error");
    assert_eq!(e[3]["err"]["message"], "[REDACTED]");
    assert!(!all
        .lines()
        .iter()
        .any(|l| l.contains("hunter2") || l.contains("token=abc")));
    assert_eq!(
        alerts.messages(),
        ["escalated (checked)", "failed (checked)"]
    );
}

#[test]
fn child_loggers_inherit_plugins_and_can_change_their_own() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .plugin(Hooks)
        .build();
    let child = log.child();
    child.info("child");
    assert!(child.remove_plugin(std::any::type_name::<Hooks>()));
    child.info("child without");
    log.info("parent");
    assert_eq!(
        capture.messages(),
        ["child (checked)", "child without", "parent (checked)"]
    );
}
