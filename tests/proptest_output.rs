//! Property tests of the output contract (RELIABILITY.md, "Bad input" and
//! "Security"): arbitrary strings, lossy bytes, keys, nesting and floats go
//! through `LogLayer` into `JsonTransport`, `CaptureTransport` and
//! `ConsoleTransport`, and redaction is checked against arbitrary data.
//!
//! - every JSON line parses back to the same message, keys and values, with no
//!   duplicate key, and there is exactly one line per entry;
//! - non-finite floats become `null`, finite ones round-trip;
//! - console output never holds a raw control character, ESC, C1 control,
//!   bidi override/isolate or line/paragraph separator from data, and is
//!   exactly one line per entry (colour on or off);
//! - `Redact` never lets a marked value (by value or by key) through.
//!
//! Case counts are modest (64–128) so the suite stays fast; raise them with
//! `PROPTEST_CASES=10000 cargo test --test proptest_output`.

use loglayer_suite::{OrderedKeys, SharedBuf as Buf};
use std::collections::BTreeMap;
use std::fmt;
use std::io;

use loglayer::plugin::Redact;
use loglayer::transport::{CaptureTransport, ConsoleTransport, JsonTransport};
use loglayer::LogLayer;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

// ----------------------------------------------------------------------------
// Helpers.

/// Splits JSON-lines output into lines, checking each ends with `\n` and is
/// one valid JSON object without duplicate keys.
fn json_lines(text: &str) -> Vec<(Vec<String>, Value)> {
    assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
    text.split_terminator('\n')
        .map(|line| {
            assert!(!line.contains('\r'), "raw CR in {line:?}");
            let keys: OrderedKeys = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("invalid line ({e}): {line:?}"));
            (keys.0, serde_json::from_str(line).unwrap())
        })
        .collect()
}

/// What serde_json itself makes of `v` after a write/parse round-trip (so
/// floats compare exactly with what any serde_json reader sees).
fn normalized(v: &Value) -> Value {
    serde_json::from_str(&serde_json::to_string(v).unwrap()).unwrap()
}

/// What a reader sees for `x` written by serde_json: the number, or `null`
/// when it is not finite.
fn want_f64(x: f64) -> Value {
    if x.is_finite() {
        serde_json::from_str(&serde_json::to_string(&x).unwrap()).unwrap()
    } else {
        Value::Null
    }
}

fn want_f32(x: f32) -> Value {
    if x.is_finite() {
        serde_json::from_str(&serde_json::to_string(&x).unwrap()).unwrap()
    } else {
        Value::Null
    }
}

const RESERVED: [&str; 4] = ["time", "level", "msg", "err"];

/// Checks the user keys of a flattened line: each non-reserved key holds its
/// value; a reserved one is found under `_`-prefixed renaming.
fn check_fields(keys: &[String], line: &Value, expected: &Map<String, Value>) {
    let user_keys: Vec<&String> = expected.keys().collect();
    for (k, v) in expected {
        let want = normalized(v);
        if RESERVED.contains(&k.as_str()) {
            let found = (1..=expected.len() + 1).any(|n| {
                let renamed = format!("{}{k}", "_".repeat(n));
                !user_keys.contains(&&renamed) && line.get(&renamed) == Some(&want)
            });
            assert!(found, "reserved key {k:?} lost: {line}");
        } else {
            assert_eq!(line.get(k), Some(&want), "key {k:?} in {line}");
        }
    }
    // time/level/msg first, then exactly one root key per user key.
    assert_eq!(&keys[..3], ["time", "level", "msg"]);
    assert_eq!(keys.len(), 3 + expected.len(), "{keys:?} vs {user_keys:?}");
}

/// Characters that must never reach a terminal raw from data.
fn forbidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{2028}' | '\u{2029}')
}

/// The console transport's own SGR sequences.
const OUR_SEQUENCES: [&str; 6] = [
    "\x1b[0m",
    "\x1b[2m",
    "\x1b[32m",
    "\x1b[33m",
    "\x1b[31m",
    "\x1b[1;31m",
];

fn check_console(text: &str, entries: usize) {
    assert_eq!(text.matches('\n').count(), entries, "one line per entry");
    assert!(text.ends_with('\n') || entries == 0);
    let mut rest = text.to_owned();
    for seq in OUR_SEQUENCES {
        rest = rest.replace(seq, "");
    }
    for line in rest.split_terminator('\n') {
        if let Some(c) = line.chars().find(|c| forbidden(*c)) {
            panic!("raw {c:?} in console line {line:?}");
        }
    }
}

// ----------------------------------------------------------------------------
// Strategies.

/// Characters weighted towards the hostile ones.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => proptest::char::range(' ', '~'),
        3 => prop::sample::select(vec![
            '\n', '\r', '\t', '\0', '\u{7}', '\u{8}', '\u{b}', '\u{c}', '\u{1b}', '\u{7f}',
            '\u{80}', '\u{85}', '\u{9b}', '\u{9f}', '\u{202a}', '\u{202e}', '\u{2066}',
            '\u{2069}', '\u{2028}', '\u{2029}', '"', '\\', '=', ' ', 'é', '✓', '\u{fffd}',
            '\u{1f600}',
        ]),
    ]
}

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(hostile_char(), 0..24).prop_map(String::from_iter),
        1 => prop::collection::vec(any::<u8>(), 0..24)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => "\\PC{0,8}\\x1b\\[[0-9;]{0,6}[A-Za-z]\\PC{0,8}",
    ]
}

/// Keys: hostile strings, and sometimes the reserved names or a renamed form.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => hostile_string(),
        1 => prop::sample::select(vec![
            "time", "level", "msg", "err", "_msg", "__msg", "_time", "value", "",
        ])
        .prop_map(str::to_owned),
    ]
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        prop::sample::select(vec![0.0, -0.0, 1e308, -1e-308, 5e-324, 0.1, 1.0 / 3.0]),
    ]
}

/// Arbitrary JSON values, nested a few levels.
fn value() -> impl Strategy<Value = Value> {
    value_of(true)
}

/// Arbitrary JSON values without floats (see
/// `finite_floats_given_to_with_context_and_with_metadata_round_trip_exactly`).
fn value_without_floats() -> impl Strategy<Value = Value> {
    value_of(false)
}

fn value_of(floats: bool) -> impl Strategy<Value = Value> {
    let float = if floats {
        finite_f64().prop_map(|f| json!(f)).boxed()
    } else {
        any::<i32>().prop_map(|n| json!(n)).boxed()
    };
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        float,
        hostile_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(hostile_string(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(key(), value(), 0..6).prop_map(|m| m.into_iter().collect())
}

fn object_without_floats() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(key(), value_without_floats(), 0..6)
        .prop_map(|m| m.into_iter().collect())
}

/// 128 cases, or `PROPTEST_CASES`.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ----------------------------------------------------------------------------
// JSON.

proptest! {
    #![proptest_config(config())]

    /// Message, context and metadata round-trip through `JsonTransport` and
    /// `CaptureTransport`; one line per entry; no duplicate keys; colliding
    /// keys are renamed, never dropped.
    #[test]
    fn json_lines_parse_back_to_the_same_values(
        msg in hostile_string(),
        context in object_without_floats(),
        metadata in object_without_floats(),
        second in hostile_string(),
    ) {
        let buf = Buf::default();
        let capture = CaptureTransport::new();
        let log = LogLayer::builder()
            .transport(JsonTransport::new(buf.clone()))
            .transport(capture.clone())
            .build();
        log.with_context(Value::Object(context.clone()));
        log.with_metadata(Value::Object(metadata.clone())).info(&msg);
        log.warn(&second);

        let mut merged: Map<String, Value> = context
            .iter()
            .filter(|(k, _)| !metadata.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        merged.extend(metadata.clone());

        let lines = json_lines(&buf.text());
        prop_assert_eq!(lines.len(), 2, "exactly one line per entry");
        let (keys, first) = &lines[0];
        prop_assert_eq!(first["msg"].as_str(), Some(msg.as_str()));
        prop_assert_eq!(first["level"].as_str(), Some("info"));
        check_fields(keys, first, &merged);
        let (keys, second_line) = &lines[1];
        prop_assert_eq!(second_line["msg"].as_str(), Some(second.as_str()));
        check_fields(keys, second_line, &context);

        // The capture transport holds the very same entries, one line each.
        let captured = capture.lines();
        prop_assert_eq!(captured.len(), 2);
        for (line, (_, parsed)) in captured.iter().zip(&lines) {
            prop_assert!(!line.contains('\n') && !line.contains('\r'));
            let v: Value = serde_json::from_str(line).unwrap();
            prop_assert_eq!(&v, parsed);
        }
    }

    /// Macro fields (serde, `%` Display, `?` Debug, string-literal keys) and
    /// the message format arguments round-trip.
    #[test]
    fn macro_fields_round_trip(
        s in hostile_string(),
        v in value(),
        n in any::<i64>(),
        text in hostile_string(),
    ) {
        let capture = CaptureTransport::new();
        let log = LogLayer::new(capture.clone());
        loglayer::sync_scope(log, || {
            loglayer::info!(a = s, b = %text, c = ?text, "d.e" = v, n = n, "m {} {:?}", text, s);
        });
        let lines = capture.lines();
        prop_assert_eq!(lines.len(), 1);
        let (_, e) = &json_lines(&format!("{}\n", lines[0]))[0];
        prop_assert_eq!(e["a"].as_str(), Some(s.as_str()));
        prop_assert_eq!(e["b"].as_str(), Some(text.as_str()));
        let debug = format!("{text:?}");
        prop_assert_eq!(e["c"].as_str(), Some(debug.as_str()));
        prop_assert_eq!(&e["d.e"], &normalized(&v));
        prop_assert_eq!(e["n"].as_i64(), Some(n));
        let expected_msg = format!("m {text} {s:?}");
        prop_assert_eq!(e["msg"].as_str(), Some(expected_msg.as_str()));
    }

    /// Floats given to the macros: finite values round-trip exactly as
    /// serde_json writes them; NaN and ±inf become `null`, wherever they are.
    #[test]
    fn floats_in_macro_fields_finite_round_trip_non_finite_become_null(
        f in any::<f64>(),
        g in any::<f32>(),
        list in prop::collection::vec(any::<f64>(), 0..8),
    ) {
        let buf = Buf::default();
        let log = LogLayer::new(JsonTransport::new(buf.clone()));
        let nested = BTreeMap::from([("in", vec![f])]);
        loglayer::sync_scope(log.clone(), || {
            loglayer::info!(f = f, g = g, list = list, nested = nested, "macro")
        });
        let lines = json_lines(&buf.text());
        prop_assert_eq!(lines.len(), 1);
        let (_, b) = &lines[0];
        prop_assert_eq!(&b["f"], &want_f64(f));
        prop_assert_eq!(&b["g"], &want_f32(g));
        prop_assert_eq!(&b["list"], &Value::Array(list.iter().map(|x| want_f64(*x)).collect()));
        prop_assert_eq!(&b["nested"]["in"][0], &want_f64(f));
    }

    /// Non-finite floats given to `with_context`/`with_metadata` become
    /// `null`; the line stays valid and the other fields intact.
    #[test]
    fn non_finite_floats_in_context_and_metadata_become_null(
        f in prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -f64::NAN]),
        n in any::<i64>(),
    ) {
        let buf = Buf::default();
        let log = LogLayer::new(JsonTransport::new(buf.clone()));
        log.with_context(BTreeMap::from([("ctx", f)]));
        log.with_metadata(BTreeMap::from([("list", vec![f, 1.5, f])]))
            .with_metadata(BTreeMap::from([("n", n)]))
            .info("floats");
        let lines = json_lines(&buf.text());
        prop_assert_eq!(lines.len(), 1);
        let (_, a) = &lines[0];
        prop_assert_eq!(&a["ctx"], &Value::Null);
        prop_assert_eq!(&a["list"], &json!([null, 1.5, null]));
        prop_assert_eq!(a["n"].as_i64(), Some(n));
    }

    /// Arbitrary bytes, decoded lossily, as message, key, value and error.
    #[test]
    fn lossy_bytes_everywhere_stay_one_valid_line(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        prefix in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let s = String::from_utf8_lossy(&bytes).into_owned();
        let p = String::from_utf8_lossy(&prefix).into_owned();
        let buf = Buf::default();
        let log = LogLayer::new(JsonTransport::new(buf.clone())).with_prefix(&p);
        log.with_context(json!({ s.clone(): s.clone() }));
        log.with_metadata(json!({"nested": {s.clone(): [s.clone()]}}))
            .with_error(&io::Error::other(s.clone()))
            .error(&s);
        let lines = json_lines(&buf.text());
        prop_assert_eq!(lines.len(), 1);
        let (_, e) = &lines[0];
        let expected_msg = format!("{p} {s}");
        prop_assert_eq!(e["msg"].as_str(), Some(expected_msg.as_str()));
        prop_assert_eq!(&e["nested"][&s][0], &Value::String(s.clone()));
        prop_assert_eq!(e["err"]["message"].as_str(), Some(s.as_str()));
    }
}

// ----------------------------------------------------------------------------
// Console.

proptest! {
    #![proptest_config(config())]

    /// Console output never holds a raw control character, ESC, C1 control,
    /// bidi control or line separator from data, and is one line per entry;
    /// with colour on, the only escape sequences are the transport's own.
    #[test]
    fn console_output_is_escaped_and_one_line_per_entry(
        msg in hostile_string(),
        prefix in hostile_string(),
        context in object(),
        metadata in object(),
        err_msg in hostile_string(),
        color in any::<bool>(),
        time in any::<bool>(),
    ) {
        let buf = Buf::default();
        let log = LogLayer::new(
            ConsoleTransport::new(buf.clone()).with_color(color).with_time(time),
        );
        log.with_context(Value::Object(context));
        let child = log.with_prefix(prefix);
        child.with_metadata(Value::Object(metadata.clone())).warn(&msg);
        child.with_error(&io::Error::other(err_msg)).error(&msg);
        loglayer::sync_scope(log.clone(), || {
            loglayer::info!(a = %msg, b = ?msg, c = Value::Object(metadata), "{}", msg);
        });
        log.fatal("");
        check_console(&buf.text(), 4);
        if color {
            prop_assert!(buf.text().contains("\x1b[33mWARN "), "colours still work");
        } else {
            prop_assert!(!buf.text().contains('\x1b'));
        }
    }
}

// ----------------------------------------------------------------------------
// Redaction.

/// A secret value: a marker no censor text contains, then lowercase letters,
/// so a replacement can never create a new occurrence.
fn secret() -> impl Strategy<Value = String> {
    "§[a-z]{2,8}"
}

/// A key-marked value: only ever placed under a secret key.
fn key_marked() -> impl Strategy<Value = String> {
    "¤[a-z]{4,8}"
}

/// Text that embeds some of `secrets` between hostile fragments.
fn text_with(secrets: Vec<String>) -> impl Strategy<Value = String> {
    prop::collection::vec((hostile_string(), prop::sample::select(secrets)), 0..4).prop_map(
        |parts| {
            parts
                .into_iter()
                .map(|(filler, secret)| format!("{filler}{secret}"))
                .collect::<String>()
        },
    )
}

#[derive(Debug)]
struct ChainError(String, Option<Box<ChainError>>);

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ChainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.1.as_deref().map(|e| e as _)
    }
}

/// Every string (keys included) anywhere in `v`.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|i| strings(i, out)),
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                strings(v, out);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
struct RedactCase {
    secrets: Vec<String>,
    marked: String,
    texts: Vec<String>,
    keys: Vec<String>,
    nested: Value,
}

fn redact_case() -> impl Strategy<Value = RedactCase> {
    (prop::collection::vec(secret(), 1..4), key_marked()).prop_flat_map(|(secrets, marked)| {
        let m = marked.clone();
        (
            Just(secrets.clone()),
            Just(marked),
            prop::collection::vec(text_with(secrets.clone()), 6),
            prop::collection::vec(text_with(secrets), 3),
            value().prop_map(move |v| json!({"deep": [v, {"Password": m.clone()}]})),
        )
            .prop_map(|(secrets, marked, texts, keys, nested)| RedactCase {
                secrets,
                marked,
                texts,
                keys,
                nested,
            })
    })
}

proptest! {
    #![proptest_config(config())]

    /// `Redact` by value and by key never lets a marked value through — in the
    /// message, the prefix, context, metadata, keys, nested values, the error
    /// and its sources, child loggers and macro fields — in any transport.
    #[test]
    fn redaction_never_lets_a_marked_value_through(case in redact_case()) {
        let RedactCase { secrets, marked, texts, keys, nested } = case;
        let capture = CaptureTransport::new();
        let buf = Buf::default();
        let log = LogLayer::builder()
            .transport(capture.clone())
            .transport(ConsoleTransport::new(buf.clone()))
            .plugin(Redact::new().keys(["password", "token"]).values(secrets.clone()))
            .build();
        log.with_context(json!({
            keys[0].clone(): texts[0].clone(),
            "password": marked.clone(),
            "list": [texts[1].clone(), {"TOKEN": {"x": marked.clone()}}],
        }));
        let child = log.with_prefix(texts[2].clone());
        child.with_context(json!({ keys[1].clone(): nested.clone() }));
        let err = ChainError(
            texts[3].clone(),
            Some(Box::new(ChainError(texts[4].clone(), None))),
        );
        child
            .with_metadata(json!({ keys[2].clone(): texts[5].clone(), "token": [marked.clone()] }))
            .with_error(&err)
            .warn(&texts[0]);
        log.info(format_args!("{} {}", texts[1], texts[2]));
        loglayer::sync_scope(child.clone(), || {
            loglayer::error!(x = texts[3], y = %texts[4], password = marked, err = &err, "{}", texts[5]);
        });
        log.error_only(&err);

        let lines = capture.lines();
        prop_assert_eq!(lines.len(), 4, "no entry dropped: {:?}", lines);
        let console = buf.text();
        prop_assert_eq!(console.matches('\n').count(), 4);
        for line in lines.iter().map(String::as_str).chain([console.as_str()]) {
            for s in secrets.iter().chain([&marked]) {
                prop_assert!(!line.contains(s.as_str()), "{:?} leaked in {}", s, line);
            }
        }
        for line in &lines {
            let v: Value = serde_json::from_str(line).unwrap();
            let mut all = Vec::new();
            strings(&v, &mut all);
            for text in all {
                for s in secrets.iter().chain([&marked]) {
                    prop_assert!(!text.contains(s.as_str()), "{:?} leaked in {:?}", s, text);
                }
            }
        }
    }
}

// ----------------------------------------------------------------------------
// Known bug (kept failing-but-ignored until fixed; see docs/reliability.md).

/// The bits of the number a line holds under `key`, read with a correctly
/// rounding parser (`str::parse::<f64>`) from the raw line text.
fn raw_number(line: &str, key: &str) -> f64 {
    let needle = format!("\"{key}\":");
    let at = line.find(&needle).expect("key present") + needle.len();
    let rest = &line[at..];
    let end = rest.find([',', '}', ']']).unwrap_or(rest.len());
    rest[..end]
        .trim_start_matches('[')
        .parse()
        .expect("a number")
}

proptest! {
    #![proptest_config(config())]

    /// A finite float given to `with_context`/`with_metadata`/`raw` is
    /// written as the same `f64` (the text parses back, with a correctly
    /// rounding parser, to the very same bits).
    #[test]
    fn finite_floats_given_to_with_context_and_with_metadata_round_trip_exactly(
        f in finite_f64(),
    ) {
        let buf = Buf::default();
        let log = LogLayer::new(JsonTransport::new(buf.clone()));
        log.with_context(BTreeMap::from([("ctx", f)]));
        log.with_metadata(BTreeMap::from([("meta", f)])).info("floats");
        log.raw(loglayer::RawEntry::new(loglayer::Level::Info, "raw").metadata(BTreeMap::from([("raw", f)])));
        let text = buf.text();
        let lines: Vec<&str> = text.lines().collect();
        prop_assert_eq!(raw_number(lines[0], "ctx").to_bits(), f.to_bits(), "{}", lines[0]);
        prop_assert_eq!(raw_number(lines[0], "meta").to_bits(), f.to_bits(), "{}", lines[0]);
        prop_assert_eq!(raw_number(lines[1], "raw").to_bits(), f.to_bits(), "{}", lines[1]);
    }
}
