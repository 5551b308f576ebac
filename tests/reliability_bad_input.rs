//! Bad input (RELIABILITY.md, "Bad input"): a failing `Serialize`, non-string
//! map keys, NaN/±inf, a 64 MiB message, 100k keys, deep nesting, a
//! `Display`/`Debug` that panics or fails, and colliding keys. Each yields a
//! valid line (with the documented placeholder), the other fields intact, no
//! stack overflow; finishing at all is the time bound (no timing asserts).
//!
//! Placeholders (documented in `loglayer/src/json.rs` and docs/reliability.md):
//! `"[unserializable: <serde error>]"`, `"[unserializable: panicked]"`,
//! `"[unserializable: nested too deeply]"`, `"[unprintable: fmt error]"`,
//! `"[unprintable: panicked]"`, `null` for non-finite floats.

use loglayer_suite::{OrderedKeys, SharedBuf as Buf};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;

use loglayer::transport::{ConsoleTransport, JsonTransport};
use loglayer::{Level, LogLayer, RawEntry};
use serde::ser::{Error as _, Serialize, Serializer};
use serde_json::{json, Value};

// ----------------------------------------------------------------------------
// Helpers.

/// A JSON logger into a buffer.
fn json_logger() -> (Buf, LogLayer) {
    let buf = Buf::default();
    (buf.clone(), LogLayer::new(JsonTransport::new(buf)))
}

/// The lines written, each checked to be one valid JSON object (parsed with
/// serde_json's defaults, as a typical reader would) without duplicate keys.
fn lines(buf: &Buf) -> Vec<(Vec<String>, Value)> {
    let text = buf.text();
    assert!(text.ends_with('\n'), "ends with a newline");
    text.split_terminator('\n')
        .map(|line| {
            let keys: OrderedKeys = serde_json::from_str(line).unwrap_or_else(|e| {
                panic!("not a valid line ({e}): {}", &line[..line.len().min(300)])
            });
            (keys.0, serde_json::from_str(line).unwrap())
        })
        .collect()
}

/// A value whose `Serialize` fails half-way.
struct FailsHalfway;
impl Serialize for FailsHalfway {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("partial", &1)?;
        Err(S::Error::custom("boom"))
    }
}

/// A `Display`/`Debug`/`Error` that panics.
#[derive(Clone, Copy)]
struct Panics;
impl fmt::Display for Panics {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("intentional: Display panicked")
    }
}
impl fmt::Debug for Panics {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("intentional: Debug panicked")
    }
}
impl std::error::Error for Panics {}

/// A `Display`/`Debug`/`Error` that writes a little, then returns `fmt::Error`.
#[derive(Clone, Copy)]
struct Fails;
impl fmt::Display for Fails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("half")?;
        Err(fmt::Error)
    }
}
impl fmt::Debug for Fails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
impl std::error::Error for Fails {}

/// An error whose source panics when displayed.
#[derive(Debug)]
struct WithBadSource(Panics);
impl fmt::Display for WithBadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("outer")
    }
}
impl std::error::Error for WithBadSource {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

const PANICKED: &str = "[unprintable: panicked]";
const FMT_ERROR: &str = "[unprintable: fmt error]";
const TOO_DEEP: &str = "[unserializable: nested too deeply]";

fn deep_value(depth: usize) -> Value {
    let mut v = json!("bottom");
    for i in 0..depth {
        v = if i % 2 == 0 {
            json!({ "d": v })
        } else {
            json!([v])
        };
    }
    v
}

// ----------------------------------------------------------------------------
// Serialize failures, non-string keys, non-finite floats.

#[test]
fn a_failing_serialize_leaves_a_placeholder_and_every_other_field_intact() {
    let (buf, log) = json_logger();
    log.with_context(json!({ "ctx": "kept" }));
    log.with_context(FailsHalfway); // a failing context value: placeholder, old keys kept
    log.with_metadata(json!({ "before": 1 }))
        .with_metadata(FailsHalfway)
        .with_metadata(json!({ "after": 2 }))
        .info("metadata fails");
    log.raw(
        RawEntry::new(Level::Warn, "raw fails")
            .metadata(FailsHalfway)
            .context(json!({ "rc": 1 })),
    );
    log.info("next call");
    let l = lines(&buf);
    assert_eq!(l.len(), 3);
    let v = &l[0].1;
    assert_eq!(
        (v["before"].as_i64(), v["after"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(v["ctx"], "kept");
    assert!(
        v["value"]
            .as_str()
            .unwrap()
            .starts_with("[unserializable: boom"),
        "{v}"
    );
    assert!(
        v.get("partial").is_none(),
        "partial output is never kept: {v}"
    );
    assert_eq!(l[1].1["rc"], 1);
    assert!(l[1].1["value"]
        .as_str()
        .unwrap()
        .starts_with("[unserializable:"));
    assert_eq!(l[2].1["msg"], "next call");
    assert_eq!(l[2].1["ctx"], "kept");
}

#[test]
fn non_string_map_keys_yield_a_placeholder_or_string_keys() {
    let (buf, log) = json_logger();
    let tuple_keys: HashMap<(i32, i32), &str> = HashMap::from([((1, 2), "x")]);
    let int_keys: BTreeMap<i64, &str> = BTreeMap::from([(-1, "neg"), (7, "seven")]);
    let unit_keys: BTreeMap<(), i32> = BTreeMap::from([((), 1)]);
    log.with_context(json!({ "ok": 1 }));
    log.with_metadata(BTreeMap::from([("tuple", &tuple_keys)]))
        .with_metadata(json!({ "after": true }))
        .info("tuple keys");
    log.with_metadata(BTreeMap::from([("ints", &int_keys)]))
        .info("int keys");
    loglayer::sync_scope(log.clone(), || {
        loglayer::info!(
            t = tuple_keys,
            i = int_keys,
            u = unit_keys,
            k = 1,
            "macro keys"
        );
    });
    let l = lines(&buf);
    assert_eq!(l.len(), 3);
    let v = &l[0].1;
    assert!(
        v["value"].as_str().unwrap().starts_with("[unserializable:"),
        "{v}"
    );
    assert_eq!(
        (v["after"].as_bool(), v["ok"].as_i64()),
        (Some(true), Some(1))
    );
    assert_eq!(l[1].1["ints"], json!({"-1": "neg", "7": "seven"}));
    let m = &l[2].1;
    assert!(
        m["t"].as_str().unwrap().starts_with("[unserializable:"),
        "{m}"
    );
    assert_eq!(m["i"], json!({"-1": "neg", "7": "seven"}));
    assert!(
        m["u"].as_str().unwrap().starts_with("[unserializable:"),
        "{m}"
    );
    assert_eq!(m["k"], 1);
}

#[derive(serde::Serialize)]
struct Measurements {
    nan: f64,
    inf: f32,
    list: Vec<f64>,
    ok: f64,
}

#[test]
fn nan_and_infinities_become_null_in_every_position_and_transport() {
    let (buf, log) = json_logger();
    let console = Buf::default();
    log.add_transport(ConsoleTransport::new(console.clone()).with_time(false));
    let m = Measurements {
        nan: f64::NAN,
        inf: f32::NEG_INFINITY,
        list: vec![f64::INFINITY, -0.0, f64::NAN],
        ok: 2.5,
    };
    log.with_context(json!({ "c": 1 }));
    log.with_context(BTreeMap::from([("cnan", f64::NAN)]));
    log.with_metadata(&m).info("struct");
    log.raw(RawEntry::new(Level::Info, "raw").metadata(&m).context(&m));
    loglayer::sync_scope(log.clone(), || {
        loglayer::info!(m = m, x = f32::NAN, "macro")
    });
    let l = lines(&buf);
    assert_eq!(l.len(), 3);
    for (_, v) in &l {
        let m = if v["msg"] == "macro" { &v["m"] } else { v };
        assert_eq!(m["nan"], Value::Null, "{v}");
        assert_eq!(m["inf"], Value::Null, "{v}");
        assert_eq!(m["list"], json!([null, -0.0, null]), "{v}");
        assert_eq!(m["ok"], 2.5, "{v}");
    }
    assert_eq!(l[0].1["cnan"], Value::Null);
    assert_eq!(l[2].1["x"], Value::Null);
    let text = console.text();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("nan=null"), "{text}");
}

// ----------------------------------------------------------------------------
// Size.

#[test]
fn a_64_mib_message_is_one_valid_line_with_the_other_fields_intact() {
    const SIZE: usize = 64 * 1024 * 1024;
    let mut msg = "a".repeat(SIZE - 8);
    msg.push_str("\n\r\u{1b}[31m\"");
    let (buf, log) = json_logger();
    log.with_context(json!({ "ctx": 1 }));
    log.with_metadata(json!({ "meta": "m" })).info(&msg);
    log.info("next");
    let text = buf.text();
    assert_eq!(text.matches('\n').count(), 2, "two lines");
    let l = lines(&buf);
    assert_eq!(l[0].0, ["time", "level", "msg", "ctx", "meta"]);
    assert_eq!(l[0].1["msg"].as_str().map(str::len), Some(msg.len()));
    assert_eq!(l[0].1["msg"].as_str(), Some(msg.as_str()), "not truncated");
    assert_eq!(
        (l[0].1["ctx"].as_i64(), l[0].1["meta"].as_str()),
        (Some(1), Some("m"))
    );
    assert_eq!(l[1].1["msg"], "next");
    drop(text);

    // The console writer, and the macros, with the same message.
    let console = Buf::default();
    let clog = LogLayer::new(ConsoleTransport::new(console.clone()));
    loglayer::sync_scope(clog, || loglayer::info!(big = %msg, k = 1, "{}", msg));
    let text = console.text();
    assert_eq!(text.matches('\n').count(), 1, "one console line");
    assert!(
        text.ends_with(" k=1\n"),
        "the field after the big one is intact"
    );
}

/// `n` context keys and `n` metadata keys, each given in one call: one valid
/// line with all of them.
fn many_keys_in_one_call(n: usize) {
    let (buf, log) = json_logger();
    let context: serde_json::Map<String, Value> =
        (0..n).map(|i| (format!("c{i}"), json!(i))).collect();
    let metadata: serde_json::Map<String, Value> =
        (0..n).map(|i| (format!("m{i}"), json!(i))).collect();
    log.with_context(Value::Object(context));
    log.with_metadata(Value::Object(metadata)).info("many keys");
    let l = lines(&buf);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].0.len(), 3 + 2 * n);
    assert_eq!(l[0].1[format!("c{}", n - 1)], n - 1);
    assert_eq!(l[0].1["m0"], 0);
}

/// `n` context keys added in chunks of `n / 10`: one valid line, nothing lost.
fn many_keys_in_chunks(n: usize) {
    let (buf, log) = json_logger();
    let chunk = (n / 10).max(1);
    for start in (0..n).step_by(chunk) {
        let part: serde_json::Map<String, Value> = (start..(start + chunk).min(n))
            .map(|i| (format!("k{i}"), json!(i)))
            .collect();
        log.with_context(Value::Object(part));
    }
    log.info("context built in chunks");
    let l = lines(&buf);
    assert_eq!(l[0].0.len(), 3 + n);
}

#[test]
fn two_thousand_keys_in_context_and_metadata_make_one_valid_line() {
    many_keys_in_one_call(2_000);
    many_keys_in_chunks(2_000);
}

#[test]
fn a_hundred_thousand_keys_in_context_and_metadata_make_one_valid_line() {
    many_keys_in_one_call(100_000);
}

#[test]
fn a_hundred_thousand_context_keys_added_in_chunks_make_one_valid_line() {
    many_keys_in_chunks(100_000);
}

// ----------------------------------------------------------------------------
// Deep nesting.

#[test]
fn deep_nesting_through_with_metadata_and_with_context_yields_a_placeholder() {
    let deep = deep_value(1000);
    let (buf, log) = json_logger();
    log.with_context(&deep);
    log.with_metadata(&deep).info("deep alone");
    log.raw(RawEntry::new(Level::Info, "raw").metadata(&deep));
    let l = lines(&buf);
    assert_eq!(l.len(), 2);
    for (_, v) in &l {
        assert_eq!(v["value"], TOO_DEEP, "{v}");
    }
}

#[test]
fn deep_nesting_inside_an_object_keeps_its_sibling_fields() {
    let deep = deep_value(1000);
    let (buf, log) = json_logger();
    log.with_context(json!({ "ctx_sibling": 1, "ctx_deep": deep.clone() }));
    log.with_metadata(json!({ "sibling": "kept", "deep": deep.clone() }))
        .info("deep inside an object");
    let l = lines(&buf);
    let v = &l[0].1;
    assert_eq!(v["sibling"], "kept", "{v}");
    assert_eq!(v["ctx_sibling"], 1, "{v}");
    assert_eq!(v["deep"], TOO_DEEP, "{v}");
    assert_eq!(v["ctx_deep"], TOO_DEEP, "{v}");
}

#[test]
fn deep_nesting_through_the_macros_yields_a_line_a_reader_accepts() {
    let deep = deep_value(1000);
    let (buf, log) = json_logger();
    loglayer::sync_scope(log.clone(), || {
        loglayer::info!(before = 1, deep = deep, after = 2, "deep via macro");
    });
    let l = lines(&buf);
    let v = &l[0].1;
    assert_eq!(
        (v["before"].as_i64(), v["after"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(v["deep"], TOO_DEEP, "{v}");
}

#[test]
fn deep_nesting_through_the_macros_does_not_overflow_and_other_fields_stay() {
    // What holds today: no stack overflow, one line, other fields intact
    // (checked on the raw text, since the line is too deep for serde_json).
    let deep = deep_value(1000);
    let (buf, log) = json_logger();
    let console = Buf::default();
    log.add_transport(ConsoleTransport::new(console.clone()));
    loglayer::sync_scope(log.clone(), || {
        loglayer::info!(before = 1, deep = deep, after = 2, "deep via macro");
    });
    let text = buf.text();
    assert_eq!(text.matches('\n').count(), 1);
    assert!(text.contains("\"before\":1,"), "{}", &text[..200]);
    assert!(text.ends_with(",\"after\":2}\n"));
    assert_eq!(console.text().matches('\n').count(), 1);
}

// ----------------------------------------------------------------------------
// Display / Debug that panic or fail, in messages, fields and errors.

#[test]
fn panicking_or_failing_display_and_debug_through_the_methods_yield_placeholders() {
    let (buf, log) = json_logger();
    log.with_context(json!({ "ctx": 1 }));
    log.info(Panics);
    log.info(Fails);
    log.with_metadata(json!({ "m": 1 })).warn(Panics);
    log.with_error(&Panics).error("error display panics");
    log.with_error(&Fails).error("error display fails");
    log.with_error(&WithBadSource(Panics))
        .error("source panics");
    log.error_only(&Panics);
    log.raw(RawEntry::new(Level::Info, Panics).error(&Fails));
    log.with_prefix("p").info(Fails);
    log.info(format_args!("args {} {:?}", Panics, Fails));
    log.info("next call works");
    let l = lines(&buf);
    assert_eq!(l.len(), 11, "every call returned and logged");
    for (_, v) in &l {
        assert_eq!(v["ctx"], 1, "other fields intact: {v}");
    }
    let v = |i: usize| &l[i].1;
    assert_eq!(v(0)["msg"], PANICKED);
    assert_eq!(v(1)["msg"], format!("half{FMT_ERROR}"));
    assert_eq!(
        (v(2)["msg"].as_str(), v(2)["m"].as_i64()),
        (Some(PANICKED), Some(1))
    );
    assert_eq!(v(3)["err"]["message"], PANICKED);
    assert_eq!(v(4)["err"]["message"], format!("half{FMT_ERROR}"));
    assert_eq!(
        v(5)["err"],
        json!({"message": "outer", "sources": [PANICKED]})
    );
    assert_eq!(v(6)["err"]["message"], PANICKED);
    assert_eq!(v(7)["msg"], PANICKED);
    assert_eq!(v(7)["err"]["message"], format!("half{FMT_ERROR}"));
    assert_eq!(v(8)["msg"], format!("p half{FMT_ERROR}"));
    let args = v(9)["msg"].as_str().unwrap();
    assert!(
        args.starts_with("args ") && args.contains(PANICKED),
        "{args}"
    );
    assert_eq!(v(10)["msg"], "next call works");
}

#[test]
fn panicking_display_in_context_fields_and_the_console_yields_placeholders() {
    let (buf, log) = json_logger();
    let console = Buf::default();
    log.add_transport(ConsoleTransport::new(console.clone()).with_time(false));
    loglayer::sync_scope(log.clone(), || {
        loglayer::warn!(a = %Panics, b = ?Fails, err = &Panics, "m {}", Fails);
        loglayer::info!("next");
    });
    let l = lines(&buf);
    let v = &l[0].1;
    assert_eq!(
        (v["a"].as_str(), v["b"].as_str()),
        (Some(PANICKED), Some(FMT_ERROR))
    );
    assert_eq!(v["err"]["message"], PANICKED);
    assert_eq!(v["msg"], format!("m half{FMT_ERROR}"));
    assert_eq!(l[1].1["msg"], "next");
    let text = console.text();
    assert_eq!(text.lines().count(), 2);
    assert!(text.contains(PANICKED), "{text}");
}

// ----------------------------------------------------------------------------
// Collisions.

/// A way to configure a builder.
type Shape = fn(loglayer::LogLayerBuilder) -> loglayer::LogLayerBuilder;

#[test]
fn colliding_keys_follow_one_rule_with_no_duplicates_in_every_shape() {
    let context = json!({
        "time": "ctx-time", "level": "ctx-level", "msg": "ctx-msg", "err": "ctx-err",
        "_msg": "ctx-_msg", "shared": "ctx", "only_ctx": 1,
    });
    let metadata = json!({
        "msg": "meta-msg", "_msg": "meta-_msg", "__msg": "meta-__msg",
        "shared": "meta", "time": "meta-time", "context": "meta-context",
    });
    let shapes: Vec<(&str, Shape)> = vec![
        ("flat", |b| b),
        ("nested context", |b| b.context_field_name("context")),
        ("nested both", |b| {
            b.context_field_name("context")
                .metadata_field_name("metadata_obj")
        }),
        ("same name", |b| {
            b.context_field_name("data").metadata_field_name("data")
        }),
        ("renamed error", |b| b.error_field_name("msg_err")),
    ];
    for (name, shape) in shapes {
        let buf = Buf::default();
        let log = shape(LogLayer::builder().transport(JsonTransport::new(buf.clone()))).build();
        log.with_context(&context);
        log.with_metadata(&metadata)
            .with_error(&io::Error::other("real error"))
            .info("real message");
        log.with_metadata(&metadata).warn("no error");
        for (keys, v) in lines(&buf) {
            assert_eq!(&keys[..3], ["time", "level", "msg"], "{name}");
            assert!(
                v["time"].as_str().unwrap().ends_with('Z'),
                "{name}: real time {v}"
            );
            assert!(
                v["msg"] == "real message" || v["msg"] == "no error",
                "{name}: {v}"
            );
            assert!(v["level"] == "info" || v["level"] == "warn", "{name}: {v}");
            // Every user value is still somewhere in the line, exactly once.
            let text = v.to_string();
            for value in [
                "meta-msg",
                "meta-_msg",
                "meta-__msg",
                "meta",
                "meta-time",
                "ctx-level",
                "ctx-err",
            ] {
                assert_eq!(
                    text.matches(&format!("\"{value}\"")).count(),
                    1,
                    "{name}: {value} in {text}"
                );
            }
        }
    }
}
