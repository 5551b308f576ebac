//! The output contract of SPEC's "Output" section, checked on the exact bytes
//! `JsonTransport` writes.

use loglayer_suite::{OrderedKeys, WriteCalls as Calls};
use std::collections::BTreeMap;
use std::fmt;
use std::io;

use loglayer::transport::JsonTransport;
use loglayer::{LogLayer, LogLayerBuilder};
use serde::ser::{Error as _, Serialize, Serializer};
use serde_json::{json, Value};

/// Checks one written chunk is exactly one valid line and returns it parsed.
fn parse_line(chunk: &str) -> (Vec<String>, Value) {
    assert!(
        chunk.ends_with('\n'),
        "a line ends with a newline: {chunk:?}"
    );
    let body = &chunk[..chunk.len() - 1];
    assert!(
        !body.contains('\n') && !body.contains('\r'),
        "one line: {chunk:?}"
    );
    let keys: OrderedKeys = serde_json::from_str(body).expect("valid JSON, no duplicate keys");
    (keys.0, serde_json::from_str(body).unwrap())
}

fn logger(configure: impl FnOnce(LogLayerBuilder) -> LogLayerBuilder) -> (Calls, LogLayer) {
    let calls = Calls::default();
    let log = configure(LogLayer::builder().transport(JsonTransport::new(calls.clone()))).build();
    (calls, log)
}

#[test]
fn one_entry_is_one_line_written_in_one_call() {
    let (calls, log) = logger(|b| b);
    log.with_context(json!({"request_id": "7f3a"}));
    log.with_metadata(json!({"order_id": 42})).info("shipping");
    log.warn("second");
    let lines = calls.chunks();
    assert_eq!(lines.len(), 2, "one write call per entry");
    let (keys, v) = parse_line(&lines[0]);
    assert_eq!(keys, ["time", "level", "msg", "request_id", "order_id"]);
    assert_eq!(
        (
            v["level"].as_str(),
            v["msg"].as_str(),
            v["order_id"].as_i64()
        ),
        (Some("info"), Some("shipping"), Some(42))
    );
}

#[test]
fn time_is_rfc3339_utc_with_milliseconds() {
    let (calls, log) = logger(|b| b);
    log.info("t");
    let (_, v) = parse_line(&calls.chunks()[0]);
    let t = v["time"].as_str().unwrap();
    assert_eq!(t.len(), 24, "{t}");
    let b = t.as_bytes();
    for (i, c) in b.iter().enumerate() {
        match i {
            4 | 7 => assert_eq!(*c, b'-'),
            10 => assert_eq!(*c, b'T'),
            13 | 16 => assert_eq!(*c, b':'),
            19 => assert_eq!(*c, b'.'),
            23 => assert_eq!(*c, b'Z'),
            _ => assert!(c.is_ascii_digit(), "{t}"),
        }
    }
    let year: u32 = t[..4].parse().unwrap();
    assert!(year >= 2024, "a plausible current year: {t}");
}

#[test]
fn metadata_wins_over_context_and_keys_stay_unique() {
    let (calls, log) = logger(|b| b);
    log.with_context(json!({"user": "ctx", "region": "eu"}));
    log.with_metadata(json!({"user": "meta"})).info("m");
    let (keys, v) = parse_line(&calls.chunks()[0]);
    assert_eq!(v["user"], "meta");
    assert_eq!(v["region"], "eu");
    assert_eq!(keys.iter().filter(|k| *k == "user").count(), 1);
}

#[test]
fn colliding_user_keys_are_renamed_with_underscores() {
    let (calls, log) = logger(|b| b);
    log.with_context(json!({"time": "ctx-time", "_msg": "taken"}));
    log.with_metadata(json!({"msg": "meta-msg", "level": 1, "err": "not an error"}))
        .info("real");
    let (keys, v) = parse_line(&calls.chunks()[0]);
    assert_eq!(&keys[..3], ["time", "level", "msg"]);
    assert_eq!(v["msg"], "real");
    assert_eq!(v["level"], "info");
    assert_ne!(v["time"], "ctx-time");
    assert_eq!(v["_time"], "ctx-time");
    assert_eq!(v["_msg"], "taken", "an existing _msg is kept");
    assert_eq!(v["__msg"], "meta-msg", "renamed again until unique");
    assert_eq!(v["_level"], 1);
    assert_eq!(v["_err"], "not an error");
}

#[test]
fn error_collision_with_a_real_error() {
    let (calls, log) = logger(|b| b);
    log.with_metadata(json!({"err": "user value"}))
        .with_error(&io::Error::other("real"))
        .error("x");
    let (_, v) = parse_line(&calls.chunks()[0]);
    assert_eq!(v["err"]["message"], "real");
    assert_eq!(v["_err"], "user value");
}

#[test]
fn nested_context_and_metadata_field_names() {
    let (calls, log) = logger(|b| {
        b.context_field_name("context")
            .metadata_field_name("metadata")
    });
    log.with_context(json!({"a": 1, "metadata": "ctx key"}));
    log.with_metadata(json!({"a": 2})).info("n");
    log.info("no metadata");
    let lines = calls.chunks();
    let (keys, v) = parse_line(&lines[0]);
    assert_eq!(keys, ["time", "level", "msg", "context", "metadata"]);
    assert_eq!(v["context"], json!({"a": 1, "metadata": "ctx key"}));
    assert_eq!(v["metadata"], json!({"a": 2}));
    let (keys, _) = parse_line(&lines[1]);
    assert_eq!(
        keys,
        ["time", "level", "msg", "context"],
        "empty metadata is omitted"
    );
}

#[test]
fn same_name_for_context_and_metadata_merges_with_metadata_winning() {
    let (calls, log) = logger(|b| b.context_field_name("data").metadata_field_name("data"));
    log.with_context(json!({"a": 1, "b": 1}));
    log.with_metadata(json!({"b": 2})).info("n");
    let (keys, v) = parse_line(&calls.chunks()[0]);
    assert_eq!(keys, ["time", "level", "msg", "data"]);
    assert_eq!(v["data"], json!({"a": 1, "b": 2}));
}

#[test]
fn only_metadata_nested_keeps_context_flat_and_reserves_the_name() {
    let (calls, log) = logger(|b| b.metadata_field_name("meta"));
    log.with_context(json!({"meta": "ctx", "c": 1}));
    log.with_metadata(json!({"x": 1})).info("n");
    let (_, v) = parse_line(&calls.chunks()[0]);
    assert_eq!(v["meta"], json!({"x": 1}));
    assert_eq!(v["_meta"], "ctx");
    assert_eq!(v["c"], 1);
}

#[test]
fn error_field_holds_message_and_sources_outermost_first() {
    #[derive(Debug)]
    struct Chain(&'static str, Option<Box<Chain>>);
    impl fmt::Display for Chain {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Chain {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|c| c as _)
        }
    }
    let err = Chain(
        "top",
        Some(Box::new(Chain(
            "middle",
            Some(Box::new(Chain("root", None))),
        ))),
    );
    let (calls, log) = logger(|b| b.error_field_name("error"));
    log.with_error(&err).error("failed");
    let (keys, v) = parse_line(&calls.chunks()[0]);
    assert_eq!(keys.last().unwrap(), "error");
    assert_eq!(
        v["error"],
        json!({"message": "top", "sources": ["middle", "root"]})
    );
}

#[test]
fn control_characters_and_separators_are_escaped() {
    let (calls, log) = logger(|b| b);
    let nasty = "a\nb\r\u{1b}[31m\u{7}\u{0}\t\u{2028}\u{2029}\"\\";
    log.with_metadata(json!({ nasty: nasty })).info(nasty);
    let line = &calls.chunks()[0];
    let body = &line[..line.len() - 1];
    assert!(
        !body
            .chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}'),
        "raw control character in {body:?}"
    );
    let (_, v) = parse_line(line);
    assert_eq!(v["msg"], nasty);
    assert_eq!(v[nasty], nasty, "keys round-trip too");
}

/// A value whose `Serialize` fails half-way.
struct FailsHalfway;
impl Serialize for FailsHalfway {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("ok", &1)?;
        Err(S::Error::custom("boom"))
    }
}

/// A value whose `Serialize` panics.
struct Panics;
impl Serialize for Panics {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("serialize panicked")
    }
}

#[test]
fn failing_serialize_non_string_keys_and_non_finite_floats_yield_placeholders() {
    let (calls, log) = logger(|b| b);
    loglayer::sync_scope(log.clone(), || {
        let mut by_tuple = BTreeMap::new();
        by_tuple.insert((1, 2), "x");
        loglayer::info!(
            before = 1,
            bad = FailsHalfway,
            tuple_keys = by_tuple,
            panics = Panics,
            nan = f64::NAN,
            inf = f32::INFINITY,
            after = "intact",
            "placeholders"
        );
    });
    let (keys, v) = parse_line(&calls.chunks()[0]);
    assert_eq!(
        keys,
        [
            "time",
            "level",
            "msg",
            "before",
            "bad",
            "tuple_keys",
            "panics",
            "nan",
            "inf",
            "after"
        ]
    );
    assert!(
        v["bad"]
            .as_str()
            .unwrap()
            .starts_with("[unserializable: boom"),
        "{v}"
    );
    assert!(
        v["tuple_keys"]
            .as_str()
            .unwrap()
            .starts_with("[unserializable:"),
        "{v}"
    );
    assert_eq!(v["panics"], "[unserializable: panicked]");
    assert_eq!(v["nan"], Value::Null);
    assert_eq!(v["inf"], Value::Null);
    assert_eq!(
        (v["before"].as_i64(), v["after"].as_str()),
        (Some(1), Some("intact"))
    );
}

#[test]
fn with_metadata_of_a_failing_value_still_logs() {
    let (calls, log) = logger(|b| b);
    log.with_metadata(FailsHalfway).info("still here");
    log.with_context(Panics);
    log.info("and here");
    let lines = calls.chunks();
    let (_, v0) = parse_line(&lines[0]);
    assert!(
        v0["value"].as_str().unwrap().starts_with("[unserializable"),
        "{v0}"
    );
    let (_, v1) = parse_line(&lines[1]);
    assert_eq!(v1["msg"], "and here");
}

#[test]
fn error_serializer_replaces_the_error_value() {
    let (calls, log) =
        logger(|b| b.error_serializer(|e| json!({ "kind": "custom", "text": e.to_string() })));
    log.with_error(&io::Error::other("disk")).error("x");
    let (_, v) = parse_line(&calls.chunks()[0]);
    assert_eq!(v["err"], json!({"kind": "custom", "text": "disk"}));
}

#[test]
fn nested_values_are_kept_as_json() {
    let (calls, log) = logger(|b| b);
    log.with_context(json!({"tags": ["a", "b"], "geo": {"lat": 1.5, "lon": -2}}));
    log.with_metadata(json!({"n": null, "ok": true, "big": u64::MAX}))
        .info("v");
    let (_, v) = parse_line(&calls.chunks()[0]);
    assert_eq!(v["tags"], json!(["a", "b"]));
    assert_eq!(v["geo"]["lat"], 1.5);
    assert_eq!(v["n"], Value::Null);
    assert_eq!(v["big"], json!(u64::MAX));
}

#[test]
fn many_context_keys_render_in_insertion_order() {
    let (calls, log) = logger(|b| b);
    for i in 0..50 {
        log.with_context(json!({ format!("k{i:02}"): i }));
    }
    log.with_metadata(json!({"k07": "meta"})).info("x");
    let (keys, v) = parse_line(&calls.chunks()[0]);
    let expected: Vec<String> = ["time", "level", "msg"]
        .iter()
        .map(|s| s.to_string())
        .chain((0..50).filter(|i| *i != 7).map(|i| format!("k{i:02}")))
        .chain(["k07".to_string()])
        .collect();
    assert_eq!(keys, expected);
    assert_eq!(v["k07"], "meta");
}

#[test]
fn metadata_nested_beyond_the_parser_limit_becomes_a_placeholder() {
    let mut deep = json!("bottom");
    for _ in 0..300 {
        deep = json!({ "d": deep });
    }
    let (calls, log) = logger(|b| b);
    log.with_metadata(&deep).info("deep");
    let (_, v) = parse_line(&calls.chunks()[0]);
    // The object's own key is kept; only the too-deep value is replaced.
    assert_eq!(v["d"], "[unserializable: nested too deeply]");
    assert_eq!(v["msg"], "deep");
}
