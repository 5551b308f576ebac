//! The level macros (`trace!` … `fatal!`, `log!`) through a scoped
//! `CaptureTransport` logger: levels, field forms, errors, messages, lazy
//! evaluation, failing `Display` impls and key collisions.

use std::cell::Cell;
use std::error::Error;
use std::fmt;
use std::net::Ipv4Addr;

use loglayer::transport::CaptureTransport;
use loglayer::{Level, LogLayer};
use serde::Serialize;
use serde_json::{json, Value};

/// Runs `f` with a fresh capture logger as the current logger and returns
/// the capture.
fn run(f: impl FnOnce(&LogLayer)) -> CaptureTransport {
    let capture = CaptureTransport::new();
    let logger = LogLayer::new(capture.clone());
    loglayer::sync_scope(logger.clone(), || f(&logger));
    assert!(loglayer::try_current().is_none());
    capture
}

/// What `f` logged, as parsed entries.
fn captured(f: impl FnOnce(&LogLayer)) -> Vec<Value> {
    run(f).entries()
}

/// The one entry `f` logs, and its raw line.
fn one(f: impl FnOnce(&LogLayer)) -> (Value, String) {
    let capture = run(f);
    let (entries, lines) = (capture.entries(), capture.lines());
    assert_eq!(entries.len(), 1, "{entries:#?}");
    (entries[0].clone(), lines[0].clone())
}

/// The keys of a raw JSON line, in order and with any duplicates (a parsed
/// `Value` sorts them and hides duplicates).
fn keys(line: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Keys;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(Visit)
        }
    }
    serde_json::from_str::<Keys>(line).expect("a JSON object").0
}

/// Asserts that a raw line holds no key twice.
fn assert_unique_keys(line: &str) {
    let mut all = keys(line);
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "duplicate keys in {line}");
}

// ----------------------------------------------------------------------------
// Levels.

#[test]
fn every_level_macro_logs_at_its_level() {
    let capture = run(|_| {
        loglayer::trace!("t");
        loglayer::debug!("d");
        loglayer::info!("i");
        loglayer::warn!("w");
        loglayer::error!("e");
        loglayer::fatal!("f");
    });
    let entries = capture.entries();
    let got: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["level"].as_str().unwrap(), e["msg"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("trace", "t"),
            ("debug", "d"),
            ("info", "i"),
            ("warn", "w"),
            ("error", "e"),
            ("fatal", "f"),
        ]
    );
    for (entry, line) in entries.iter().zip(capture.lines()) {
        assert_eq!(keys(&line), ["time", "level", "msg"], "{line}");
        let time = entry["time"].as_str().unwrap();
        assert!(time.ends_with('Z') && time.len() == 24, "time {time:?}");
    }
}

#[test]
fn log_takes_a_level_word_or_a_level_expression() {
    let entries = captured(|_| {
        loglayer::log!(trace, "word trace");
        loglayer::log!(debug, "word debug");
        loglayer::log!(info, "word info");
        loglayer::log!(warn, "word warn");
        loglayer::log!(error, "word error");
        loglayer::log!(fatal, "word fatal");
        loglayer::log!(Level::Warn, "path");
        let level = Level::Error;
        loglayer::log!(level, n = 1, "variable {}", 2);
        for level in Level::ALL {
            loglayer::log!(level, "loop");
        }
        loglayer::log!(
            if level > Level::Info {
                Level::Debug
            } else {
                Level::Fatal
            },
            "expr"
        );
        loglayer::log!(info, done = true);
    });
    let got: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["level"].as_str().unwrap(), e["msg"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("trace", "word trace"),
            ("debug", "word debug"),
            ("info", "word info"),
            ("warn", "word warn"),
            ("error", "word error"),
            ("fatal", "word fatal"),
            ("warn", "path"),
            ("error", "variable 2"),
            ("trace", "loop"),
            ("debug", "loop"),
            ("info", "loop"),
            ("warn", "loop"),
            ("error", "loop"),
            ("fatal", "loop"),
            ("debug", "expr"),
            ("info", ""),
        ]
    );
    assert_eq!(entries[7]["n"], 1);
    assert_eq!(entries[15]["done"], true);
}

// ----------------------------------------------------------------------------
// Fields.

#[derive(Serialize, Debug)]
struct Point {
    x: i32,
    y: i32,
}

#[derive(Serialize)]
struct Order {
    id: u64,
    sku: &'static str,
    tags: Vec<&'static str>,
    at: Point,
    note: Option<String>,
}

#[test]
fn serde_fields() {
    let name = String::from("ada");
    let items = vec![1, 2, 3];
    let order = Order {
        id: 42,
        sku: "B-12",
        tags: vec!["gift", "express"],
        at: Point { x: 1, y: -2 },
        note: None,
    };
    let (entry, line) = one(|_| {
        loglayer::info!(
            int = 7,
            neg = -3_i64,
            big = u64::MAX,
            float = 1.5,
            yes = true,
            text = "hi",
            owned = name,
            chr = 'c',
            some = Some(3),
            none = None::<u8>,
            list = items,
            slice = &items[..2],
            empty = Vec::<u8>::new(),
            order = order,
            tuple = (1, "a"),
            sum = 2 + 3,
            len = name.len(),
            "fields"
        );
    });
    // Values are borrowed, not moved: still usable here.
    assert_eq!((name.len(), items.len(), order.id), (3, 3, 42));

    assert_eq!(entry["msg"], "fields");
    assert_eq!(entry["int"], 7);
    assert_eq!(entry["neg"], -3);
    assert_eq!(entry["big"], u64::MAX);
    assert_eq!(entry["float"], 1.5);
    assert_eq!(entry["yes"], true);
    assert_eq!(entry["text"], "hi");
    assert_eq!(entry["owned"], "ada");
    assert_eq!(entry["chr"], "c");
    assert_eq!(entry["some"], 3);
    assert_eq!(entry["none"], Value::Null);
    assert_eq!(entry["list"], json!([1, 2, 3]));
    assert_eq!(entry["slice"], json!([1, 2]));
    assert_eq!(entry["empty"], json!([]));
    assert_eq!(
        entry["order"],
        json!({
            "id": 42,
            "sku": "B-12",
            "tags": ["gift", "express"],
            "at": {"x": 1, "y": -2},
            "note": null,
        })
    );
    assert_eq!(entry["tuple"], json!([1, "a"]));
    assert_eq!(entry["sum"], 5);
    assert_eq!(entry["len"], 3);
    // Fields keep the order they were written in, after time/level/msg.
    assert_eq!(
        keys(&line),
        [
            "time", "level", "msg", "int", "neg", "big", "float", "yes", "text", "owned", "chr",
            "some", "none", "list", "slice", "empty", "order", "tuple", "sum", "len",
        ]
    );
}

#[test]
fn debug_display_and_string_literal_keys() {
    let point = Point { x: 1, y: 2 };
    let addr = Ipv4Addr::LOCALHOST;
    let (entry, line) = one(|_| {
        loglayer::warn!(
            p = ?point,
            ip = %addr,
            opt = ?Some("x"),
            quoted = ?"q\"uote",
            "a.b" = 1,
            "http.status" = ?404,
            "net.peer" = %addr,
            "with space" = "ok",
            after = 2,
            "literal keys"
        );
    });
    assert_eq!(entry["level"], "warn");
    assert_eq!(entry["p"], "Point { x: 1, y: 2 }");
    assert_eq!(entry["ip"], "127.0.0.1");
    assert_eq!(entry["opt"], "Some(\"x\")");
    assert_eq!(entry["quoted"], r#""q\"uote""#);
    assert_eq!(entry["a.b"], 1);
    assert_eq!(entry["http.status"], "404");
    assert_eq!(entry["net.peer"], "127.0.0.1");
    assert_eq!(entry["with space"], "ok");
    assert_eq!(entry["after"], 2);
    assert_eq!(entry["msg"], "literal keys");
    assert_unique_keys(&line);
}

#[test]
fn fields_without_a_message_and_trailing_commas() {
    let entries = captured(|_| {
        loglayer::info!(done = true);
        loglayer::info!(done = true,);
        loglayer::info!(a = 1, b = ?2, c = %3);
        loglayer::info!("msg with trailing comma {}", 1,);
    });
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0]["msg"], "");
    assert_eq!(entries[0]["done"], true);
    assert_eq!(entries[1]["msg"], "");
    assert_eq!(entries[2]["msg"], "");
    assert_eq!(
        (&entries[2]["a"], &entries[2]["b"], &entries[2]["c"]),
        (&json!(1), &json!("2"), &json!("3"))
    );
    assert_eq!(entries[3]["msg"], "msg with trailing comma 1");
}

#[test]
fn format_arguments() {
    let x = 5;
    let name = "ada";
    let entries = captured(|_| {
        loglayer::info!("positional {} {:?} {}", 1, "two", 3.5);
        loglayer::info!("inline {x} and {name}");
        loglayer::info!("named {a} {b:>4}|", a = 1, b = 2);
        loglayer::info!("precision {:.2} hex {:#x} {{braces}}", 1.23456, 255);
        loglayer::info!(k = x, "fields then inline {x} and {}", name);
        loglayer::info!("plain literal with {{escaped}} braces");
        loglayer::info!("newline\nand \"quotes\"");
    });
    let messages: Vec<&str> = entries.iter().map(|e| e["msg"].as_str().unwrap()).collect();
    assert_eq!(
        messages,
        [
            "positional 1 \"two\" 3.5",
            "inline 5 and ada",
            "named 1    2|",
            "precision 1.23 hex 0xff {braces}",
            "fields then inline 5 and ada",
            "plain literal with {escaped} braces",
            "newline\nand \"quotes\"",
        ]
    );
    assert_eq!(entries[4]["k"], 5);
}

// ----------------------------------------------------------------------------
// Errors.

#[derive(Debug)]
struct Root;

impl fmt::Display for Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection refused")
    }
}

impl Error for Root {}

#[derive(Debug)]
struct Middle(Root);

impl fmt::Display for Middle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("database unavailable")
    }
}

impl Error for Middle {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[derive(Debug)]
struct Top(Middle);

impl fmt::Display for Top {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("loading user 7 failed")
    }
}

impl Error for Top {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn err_attaches_an_error_with_its_source_chain() {
    let e = Top(Middle(Root));
    let boxed: Box<dyn Error + Send + Sync> = Box::new(Middle(Root));
    let io = std::io::Error::other("disk full");
    let capture = run(|_| {
        loglayer::error!(err = &e, "request failed");
        loglayer::error!(user = 7, err = &e, retry = false, "with fields around");
        loglayer::warn!(code = 3, err = &*boxed);
        loglayer::error!(err = &io);
        loglayer::log!(Level::Fatal, err = e, "by value expression");
    });
    let entries = capture.entries();
    assert_eq!(entries.len(), 5);
    let chain = json!({
        "message": "loading user 7 failed",
        "sources": ["database unavailable", "connection refused"],
    });

    assert_eq!(entries[0]["msg"], "request failed");
    assert_eq!(entries[0]["err"]["message"], "loading user 7 failed");
    assert_eq!(
        entries[0]["err"]["sources"],
        json!(["database unavailable", "connection refused"])
    );
    assert_eq!(entries[0]["err"], chain);

    assert_eq!(entries[1]["err"], chain);
    assert_eq!(
        (&entries[1]["user"], &entries[1]["retry"]),
        (&json!(7), &json!(false))
    );
    assert_eq!(
        keys(&capture.lines()[1]),
        ["time", "level", "msg", "user", "retry", "err"]
    );

    assert_eq!(entries[2]["level"], "warn");
    assert_eq!(entries[2]["msg"], "");
    assert_eq!(entries[2]["code"], 3);
    assert_eq!(
        entries[2]["err"],
        json!({"message": "database unavailable", "sources": ["connection refused"]})
    );

    assert_eq!(
        entries[3]["err"],
        json!({"message": "disk full", "sources": []})
    );
    assert_eq!(entries[4]["level"], "fatal");
    assert_eq!(entries[4]["err"], chain);
}

// ----------------------------------------------------------------------------
// Lazy evaluation.

/// Panics if it is ever formatted.
struct MustNotFormat;

impl fmt::Display for MustNotFormat {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("formatted although the level is disabled");
    }
}

impl fmt::Debug for MustNotFormat {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("formatted although the level is disabled");
    }
}

impl Serialize for MustNotFormat {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("serialized although the level is disabled");
    }
}

#[test]
fn nothing_is_evaluated_when_the_level_is_disabled() {
    let evaluated = Cell::new(0);
    let bump = || {
        evaluated.set(evaluated.get() + 1);
        evaluated.get()
    };
    let io = std::io::Error::other("x");
    let error_of = |e: &std::io::Error| -> std::io::Error {
        evaluated.set(evaluated.get() + 1);
        std::io::Error::other(e.to_string())
    };

    let entries = captured(|logger| {
        logger.set_level(Level::Warn);
        loglayer::debug!(n = bump(), "{}", MustNotFormat);
        loglayer::info!(n = ?bump(), m = %bump(), "{} {:?}", MustNotFormat, MustNotFormat);
        loglayer::trace!(n = MustNotFormat, d = ?MustNotFormat, s = %MustNotFormat);
        loglayer::info!("{}", {
            bump();
            "block"
        });
        loglayer::info!(err = &error_of(&io), "{x}", x = MustNotFormat);
        loglayer::log!(Level::Debug, "a.b" = bump(), "{}", MustNotFormat);
        loglayer::log!(
            {
                bump();
                Level::Info
            },
            "the level expression runs once: {}",
            1
        );
        assert_eq!(evaluated.get(), 1, "only the level expression ran");

        logger.disable_level(Level::Error);
        loglayer::error!(n = bump(), "{}", MustNotFormat);
        logger.disable_logging();
        loglayer::fatal!(n = bump(), "{}", MustNotFormat);
        assert_eq!(evaluated.get(), 1);
        logger.enable_logging();

        // Enabled levels do evaluate (so the counter above can fail).
        loglayer::warn!(n = bump(), "enabled {}", bump());
        assert_eq!(evaluated.get(), 3);
        loglayer::fatal!(err = &error_of(&io), "enabled");
        assert_eq!(evaluated.get(), 4);
    });
    let got: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["level"].as_str().unwrap(), e["msg"].as_str().unwrap()))
        .collect();
    assert_eq!(got.len(), 2, "{entries:#?}");
    assert_eq!(got[1], ("fatal", "enabled"));
    assert_eq!(got[0].0, "warn");
    // Fields and the message each ran once (2 and 3, in either order).
    let n = entries[0]["n"].as_i64().unwrap();
    assert!(n == 2 || n == 3, "{n}");
    assert_eq!(got[0].1, format!("enabled {}", 5 - n));

    // Outside any scope the default logger decides (info unless LOGLAYER_LEVEL
    // says otherwise).
    if !loglayer::current().is_level_enabled(Level::Trace) {
        loglayer::trace!(n = bump(), "{}", MustNotFormat);
        assert_eq!(evaluated.get(), 4);
    }
}

// ----------------------------------------------------------------------------
// Failing Display / Debug / Serialize when enabled.

struct PanicsInDisplay;

impl fmt::Display for PanicsInDisplay {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Display panics");
    }
}

impl fmt::Debug for PanicsInDisplay {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("Debug panics");
    }
}

struct FailsInDisplay;

impl fmt::Display for FailsInDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("partial")?;
        Err(fmt::Error)
    }
}

impl fmt::Debug for FailsInDisplay {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Err(fmt::Error)
    }
}

struct FailsToSerialize;

impl Serialize for FailsToSerialize {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("no way"))
    }
}

const PANICKED: &str = "[unprintable: panicked]";
const FMT_ERROR: &str = "[unprintable: fmt error]";

#[test]
fn failing_display_yields_a_placeholder_and_the_next_call_works() {
    let capture = CaptureTransport::new();
    let logger = LogLayer::new(capture.clone());
    loglayer::sync_scope(logger.clone(), || {
        loglayer::info!(a = %PanicsInDisplay, b = 1, "field display panics");
        loglayer::info!(a = ?PanicsInDisplay, b = 1, "field debug panics");
        loglayer::info!(a = %FailsInDisplay, b = 1, "field display fails");
        loglayer::info!(a = ?FailsInDisplay, b = 1, "field debug fails");
        loglayer::info!(a = FailsToSerialize, b = 1, "field serialize fails");
        loglayer::info!(b = 1, "message display panics: {}", PanicsInDisplay);
        loglayer::info!(b = 1, "message display fails: {}", FailsInDisplay);
        loglayer::info!(b = 1, "message debug panics: {:?}", PanicsInDisplay);
        loglayer::info!(b = 1, "next call works");
        assert!(loglayer::current().ptr_eq(&logger), "the scope survived");
    });
    assert!(loglayer::try_current().is_none());

    let entries = capture.entries();
    assert_eq!(entries.len(), 9, "every call returned and logged");
    for entry in &entries {
        assert_eq!(entry["b"], 1, "other fields intact: {entry}");
        assert_eq!(entry["level"], "info");
    }
    assert_eq!(entries[0]["a"], PANICKED);
    assert_eq!(entries[0]["msg"], "field display panics");
    assert_eq!(entries[1]["a"], PANICKED);
    assert_eq!(entries[2]["a"], FMT_ERROR);
    assert_eq!(entries[3]["a"], FMT_ERROR);
    let unserializable = entries[4]["a"].as_str().unwrap();
    assert!(
        unserializable.starts_with("[unserializable:"),
        "{unserializable}"
    );
    for (entry, placeholder) in [
        (&entries[5], PANICKED),
        (&entries[6], FMT_ERROR),
        (&entries[7], PANICKED),
    ] {
        let msg = entry["msg"].as_str().unwrap();
        assert!(msg.starts_with("message "), "{msg}");
        assert!(msg.contains(placeholder), "{msg:?} lacks {placeholder:?}");
    }
    assert_eq!(entries[8]["msg"], "next call works");
}

// ----------------------------------------------------------------------------
// Key collisions.

#[test]
fn metadata_wins_over_context_for_the_same_key() {
    let capture = CaptureTransport::new();
    let logger = LogLayer::new(capture.clone());
    logger.with_context(json!({ "k": "context", "only_ctx": 1, "user": {"id": 1} }));
    loglayer::sync_scope(logger.clone(), || {
        loglayer::info!(k = "metadata", user = %"field", "override");
        loglayer::info!("no override");
    });
    let entries = capture.entries();
    assert_eq!(entries[0]["k"], "metadata");
    assert_eq!(entries[0]["user"], "field");
    assert_eq!(entries[0]["only_ctx"], 1);
    assert_eq!(entries[1]["k"], "context");
    assert_eq!(entries[1]["user"], json!({"id": 1}));
    // No duplicate keys in the raw line (a JSON parser would hide them).
    for line in capture.lines() {
        assert_unique_keys(&line);
    }
    // The context itself is untouched.
    assert_eq!(logger.get_context()["k"], "context");
}

#[test]
fn reserved_keys_in_fields_are_renamed_not_dropped() {
    let capture = CaptureTransport::new();
    let logger = LogLayer::new(capture.clone());
    logger.with_context(json!({ "level": "from context" }));
    let e = std::io::Error::other("real error");
    loglayer::sync_scope(logger.clone(), || {
        loglayer::warn!(msg = "user msg", time = 5, "real message");
        loglayer::info!(msg = 1, "_msg" = 2, "double");
        loglayer::error!("err" = "user err", err = &e, "with error");
    });
    let lines = capture.lines();
    let entries = capture.entries();

    let first = &entries[0];
    assert_eq!(first["msg"], "real message");
    assert_eq!(first["level"], "warn");
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(first["_msg"], "user msg");
    assert_eq!(first["_time"], 5);
    assert_eq!(first["_level"], "from context");

    let second = &entries[1];
    assert_eq!(second["msg"], "double");
    assert_eq!(second["_msg"], 2);
    assert_eq!(second["__msg"], 1);

    let third = &entries[2];
    assert_eq!(third["msg"], "with error");
    assert_eq!(third["err"]["message"], "real error");
    assert_eq!(third["_err"], "user err");

    for line in &lines {
        assert_unique_keys(line);
        assert_eq!(keys(line)[..3], ["time", "level", "msg"]);
    }
}

// ----------------------------------------------------------------------------
// Re-entrancy and the `err` key.

/// Logs while being formatted, through the current logger and through
/// another logger in a nested `sync_scope`.
struct LogsWhileFormatted(LogLayer);

impl fmt::Display for LogsWhileFormatted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        loglayer::info!(nested = "current", "from Display");
        loglayer::sync_scope(self.0.clone(), || {
            loglayer::info!(nested = "other", "from Display, other scope");
        });
        f.write_str("shown")
    }
}

#[test]
fn logging_from_a_display_impl_neither_deadlocks_nor_leaks() {
    let other_capture = CaptureTransport::new();
    let other = LogLayer::new(other_capture.clone());
    let capture = run(|logger| {
        loglayer::info!(a = %LogsWhileFormatted(other.clone()), "outer {}", LogsWhileFormatted(other.clone()));
        assert!(loglayer::current().ptr_eq(logger), "the scope survived");
        loglayer::info!("after");
    });
    let entries = capture.entries();
    let outer: Vec<&Value> = entries
        .iter()
        .filter(|e| e["msg"] == "outer shown")
        .collect();
    assert_eq!(outer.len(), 1, "{entries:#?}");
    assert_eq!(outer[0]["a"], "shown");
    assert!(entries
        .iter()
        .filter(|e| e["msg"] == "from Display")
        .all(|e| e["nested"] == "current"));
    assert!(entries.iter().any(|e| e["msg"] == "from Display"));
    assert_eq!(entries.last().unwrap()["msg"], "after");
    let others = other_capture.entries();
    assert!(!others.is_empty());
    assert!(others.iter().all(|e| e["nested"] == "other"));
}

#[test]
fn err_with_debug_or_display_is_a_field_not_an_error() {
    let e = std::io::Error::other("disk full");
    let capture = run(|_| {
        loglayer::error!(err = %e, "display");
        loglayer::error!(err = ?e, "debug");
    });
    let entries = capture.entries();
    // `err` is the error field's name, so a plain field of that name follows
    // the collision rule (a leading underscore) and no error is attached.
    assert_eq!(entries[0]["_err"], "disk full");
    assert!(entries[0].get("err").is_none());
    assert_eq!(entries[1]["_err"], format!("{e:?}"));
    for line in capture.lines() {
        assert_unique_keys(&line);
    }
}

#[test]
fn field_shorthand_uses_the_variable_name() {
    let capture = loglayer::transport::CaptureTransport::new();
    let step = 3;
    let items = vec!["a"];
    let who = "ada";
    loglayer::sync_scope(loglayer::LogLayer::new(capture.clone()), || {
        loglayer::info!(step, ?items, %who, "shorthand");
        loglayer::info!(step);
    });
    let e = capture.entries();
    assert_eq!(e[0]["step"], 3);
    assert_eq!(e[0]["items"], "[\"a\"]");
    assert_eq!(e[0]["who"], "ada");
    assert_eq!(e[0]["msg"], "shorthand");
    assert_eq!(
        (e[1]["step"].as_i64(), e[1]["msg"].as_str()),
        (Some(3), Some(""))
    );
}

#[test]
fn a_logger_can_cross_catch_unwind() {
    fn assert_unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>(_: &T) {}
    let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    assert_unwind_safe(&log);
    let r = std::panic::catch_unwind(|| log.info("inside catch_unwind"));
    assert!(r.is_ok());
}
