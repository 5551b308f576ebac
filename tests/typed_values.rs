//! One typed value representation from the call to the transports and
//! plugins (issue 11): a transport reads each field with its type, a plugin
//! reads and changes typed fields, and nothing downstream parses text.

use std::sync::{Arc, Mutex};

use loglayer::plugin::{LogData, Plugin};
use loglayer::transport::{CaptureTransport, Transport};
use loglayer::value::{Fields, Value};
use loglayer::{lazy, Entry, Level, LogLayer};
use serde::Serialize;
use serde_json::json;

/// What a transport saw, as `(key, JSON text of the value, type name)`.
type Seen = Arc<Mutex<Vec<(String, String, &'static str)>>>;

struct Types(Seen);

fn type_name(v: &Value<'_>) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::I64(_) => "i64",
        Value::U64(_) => "u64",
        Value::I128(_) => "i128",
        Value::U128(_) => "u128",
        Value::F64(_) => "f64",
        Value::Str(_) => "str",
        Value::List(_) => "list",
        Value::Map(_) => "map",
        _ => "other",
    }
}

impl Transport for Types {
    fn write(&self, entry: &Entry<'_>) -> std::io::Result<()> {
        let mut seen = self.0.lock().unwrap();
        for (k, v) in entry.context().chain(entry.metadata()) {
            seen.push((k.to_owned(), v.to_string(), type_name(&v)));
        }
        Ok(())
    }
}

fn seen_by(log: impl FnOnce(&LogLayer)) -> Vec<(String, String, &'static str)> {
    let seen = Seen::default();
    let logger = LogLayer::new(Types(seen.clone()));
    log(&logger);
    let out = seen.lock().unwrap().clone();
    out
}

#[test]
fn a_transport_reads_every_field_with_its_type() {
    let seen = seen_by(|log| {
        log.with_context(json!({"tenant": "acme", "shard": 3}));
        log.with_metadata(json!({
            "neg": -7,
            "big": u64::MAX,
            "ratio": 0.5,
            "ok": true,
            "none": null,
            "tags": ["a", 1],
            "user": {"id": 9, "name": "x"},
        }))
        .info("typed");
    });
    // (`json!` objects hold their keys sorted.)
    let expected = [
        ("shard", "3", "u64"),
        ("tenant", "\"acme\"", "str"),
        ("big", "18446744073709551615", "u64"),
        ("neg", "-7", "i64"),
        ("none", "null", "null"),
        ("ok", "true", "bool"),
        ("ratio", "0.5", "f64"),
        ("tags", "[\"a\",1]", "list"),
        ("user", "{\"id\":9,\"name\":\"x\"}", "map"),
    ];
    let got: Vec<(&str, &str, &str)> = seen
        .iter()
        .map(|(k, v, t)| (k.as_str(), v.as_str(), *t))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn macro_fields_keep_their_types_and_sigils_give_strings() {
    #[derive(Debug)]
    struct Opaque;
    let seen = seen_by(|log| {
        loglayer::sync_scope(log.clone(), || {
            loglayer::info!(
                count = 3_u8,
                delta = -2_i32,
                wide = 1_u128 << 100,
                f = 1.1_f32,
                dbg = ?Opaque,
                disp = %"shown",
                "macro"
            );
        });
    });
    let got: Vec<(&str, &str, &str)> = seen
        .iter()
        .map(|(k, v, t)| (k.as_str(), v.as_str(), *t))
        .collect();
    let wide = (1_u128 << 100).to_string();
    assert_eq!(
        got,
        [
            ("count", "3", "u64"),
            ("delta", "-2", "i64"),
            ("wide", wide.as_str(), "u128"),
            ("f", "1.1", "f64"),
            ("dbg", "\"Opaque\"", "str"),
            ("disp", "\"shown\"", "str"),
        ]
    );
}

#[test]
fn lazy_values_and_placeholders_are_typed_too() {
    struct Failing;
    impl Serialize for Failing {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no"))
        }
    }
    let seen = seen_by(|log| {
        log.with_context(std::collections::BTreeMap::from([(
            "depth",
            lazy(|| 5_i64),
        )]));
        log.with_metadata(json!({"good": 1}))
            .with_metadata(std::collections::BTreeMap::from([("bad", Failing)]))
            .info("x");
    });
    let got: Vec<(&str, &str, &str)> = seen
        .iter()
        .map(|(k, v, t)| (k.as_str(), v.as_str(), *t))
        .collect();
    assert_eq!(
        got,
        [
            ("depth", "5", "u64"),
            ("good", "1", "u64"),
            ("value", "\"[unserializable: no]\"", "str")
        ]
    );
}

/// Reads typed values and edits each part of the entry.
struct Editor;
impl Plugin for Editor {
    fn id(&self) -> &str {
        "editor"
    }
    fn on_metadata_called(&self, mut metadata: Fields) -> Option<Fields> {
        // Typed read: no text to parse.
        if let Some(n) = metadata.get("attempt").and_then(|v| v.as_u64()) {
            metadata.insert("attempt", n + 1);
        }
        Some(metadata)
    }
    fn on_before_data_out(&self, _: Level, data: &mut LogData<'_>) {
        let region = data
            .context()
            .get("region")
            .and_then(|v| v.as_str())
            .map(str::to_uppercase);
        if let Some(region) = region {
            data.context_mut().insert("region", region);
        }
        data.metadata_mut().remove("secret");
        if let Some(err) = data.error_mut() {
            err.insert("message", "hidden");
        }
    }
    fn transform_log_level(&self, level: Level, data: &LogData<'_>, _: &str) -> Option<Level> {
        (data.metadata().get("attempt") == Some(Value::U64(3))).then_some(level.max(Level::Warn))
    }
}

#[test]
fn a_plugin_reads_and_changes_typed_fields_for_one_entry_only() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .plugin(Editor)
        .build();
    log.with_context(json!({"region": "eu", "zone": "b"}));
    log.with_metadata(json!({"attempt": 2, "secret": "s", "keep": 1}))
        .with_error(&std::io::Error::other("boom"))
        .info("retry");

    let line = &capture.lines()[0];
    let e = &capture.entries()[0];
    assert_eq!(e["region"], "EU");
    assert_eq!(e["attempt"], 3);
    assert_eq!(e["level"], "warn");
    assert!(e.get("secret").is_none());
    assert_eq!(e["err"]["message"], "hidden");
    // An edited key keeps its place: region first, as the context had it.
    let region_at = line.find("\"region\"").unwrap();
    let zone_at = line.find("\"zone\"").unwrap();
    assert!(region_at < zone_at, "{line}");
    // The logger's own context is untouched.
    assert_eq!(log.get_context()["region"], "eu");
}

#[test]
fn fields_and_values_behave_like_their_json() {
    let mut fields = Fields::from_serialize(&json!({"a": 1, "b": [true, null]}));
    assert_eq!(fields.get("a"), Some(Value::U64(1)));
    assert_eq!(fields.get("a").unwrap().as_i64(), Some(1));
    let b = fields.get("b").unwrap().as_list().unwrap();
    assert_eq!(
        b.iter().collect::<Vec<_>>(),
        [Value::Bool(true), Value::Null]
    );
    fields.insert("c", json!({"d": "e"}));
    assert_eq!(
        fields.get("c").unwrap().as_map().unwrap().get("d"),
        Some(Value::Str("e"))
    );
    assert_eq!(
        serde_json::Value::Object(fields.to_json_map()),
        json!({"a": 1, "b": [true, null], "c": {"d": "e"}})
    );
    assert_eq!(
        serde_json::to_string(&fields).unwrap(),
        r#"{"a":1,"b":[true,null],"c":{"d":"e"}}"#
    );
    // A value that is not an object lands under `value`.
    let scalar = Fields::from_serialize(&5);
    assert_eq!(scalar.get("value"), Some(Value::U64(5)));
    assert!(Fields::from_serialize(&()).is_empty());
}
