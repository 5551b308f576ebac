//! `JsonFormat`: the field names and formats of a JSON line (LogLayer's
//! `messageField`, `levelField`, `dateField`, `levelFn`, `dateFn`) and the
//! presets for Google Cloud Logging, Elastic Common Schema and Datadog, each
//! checked against the names that backend documents. Lines are read back as
//! bytes from `JsonTransport`, not through `CaptureTransport`.

use std::time::{SystemTime, UNIX_EPOCH};

use loglayer::transport::{
    ErrorFormat, JsonFormat, JsonTransport, LevelFormat, TimeFormat, Transport,
};
use loglayer::{Entry, Level, LogLayer, LogLayerBuilder};
use loglayer_suite::{Chained, OrderedKeys, WriteCalls};
use serde_json::{json, Value};

/// A logger at `trace` writing `format`'s lines to the returned writer.
fn logger(
    format: JsonFormat,
    configure: impl FnOnce(LogLayerBuilder) -> LogLayerBuilder,
) -> (WriteCalls, LogLayer) {
    let calls = WriteCalls::default();
    let transport = JsonTransport::new(calls.clone()).with_format(format);
    let log = configure(LogLayer::builder().transport(transport).level(Level::Trace)).build();
    (calls, log)
}

/// Each line written, checked to be one `write` call holding one line of
/// valid JSON without duplicate keys: its root keys in order, and its value.
fn lines(calls: &WriteCalls) -> Vec<(Vec<String>, Value)> {
    calls
        .chunks()
        .iter()
        .map(|chunk| {
            let body = chunk
                .strip_suffix('\n')
                .expect("a line ends with a newline");
            assert!(!body.contains('\n'), "one line per write: {chunk:?}");
            let keys: OrderedKeys =
                serde_json::from_str(body).expect("valid JSON, no duplicate keys");
            (keys.0, serde_json::from_str(body).unwrap())
        })
        .collect()
}

fn only_line(calls: &WriteCalls) -> (Vec<String>, Value) {
    let mut all = lines(calls);
    assert_eq!(all.len(), 1, "one line: {:?}", calls.chunks());
    all.pop().unwrap()
}

fn log_each_level(log: &LogLayer) {
    for level in LEVELS {
        log.log(level, format_args!("at {level}"));
    }
}

const LEVELS: [Level; 6] = [
    Level::Trace,
    Level::Debug,
    Level::Info,
    Level::Warn,
    Level::Error,
    Level::Fatal,
];

/// An error with a source.
fn failure() -> Chained {
    Chained::new("save failed", "disk full")
}

/// Whether `s` is RFC 3339 UTC with milliseconds, `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn is_rfc3339_millis(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

// ---------------------------------------------------------------------------
// The default stays the default

/// Writes each entry twice, with `write_json` and `write_json_with(new())`,
/// and checks the bytes are equal.
struct SameBytes;
impl Transport for SameBytes {
    fn write(&self, entry: &Entry<'_>) -> std::io::Result<()> {
        let (mut plain, mut formatted) = (Vec::new(), Vec::new());
        entry.write_json(&mut plain);
        entry.write_json_with(&JsonFormat::new(), &mut formatted);
        assert_eq!(
            String::from_utf8(plain).unwrap(),
            String::from_utf8(formatted).unwrap()
        );
        Ok(())
    }
}

#[test]
fn the_default_format_writes_the_same_bytes_as_write_json() {
    // Fast path, collisions (general path), nesting, errors.
    let flat = LogLayer::new(SameBytes);
    flat.with_context(json!({"request_id": "7f3a", "level": "ctx"}));
    flat.info("plain");
    flat.with_metadata(json!({"msg": "user", "_msg": 1, "err": 2}))
        .with_error(&failure())
        .error("collides");
    flat.clear_context();
    flat.with_metadata(json!({"n": 1})).info("fast");

    let nested = LogLayer::builder()
        .transport(SameBytes)
        .context_field_name("context")
        .metadata_field_name("meta")
        .error_field_name("error")
        .build();
    nested.with_context(json!({"a": 1}));
    nested
        .with_metadata(json!({"context": 2, "time": 3}))
        .with_error(&failure())
        .warn("nested");
}

#[test]
fn a_transport_given_the_default_format_writes_todays_line() {
    let (plain, formatted) = (WriteCalls::default(), WriteCalls::default());
    let log = LogLayer::builder()
        .transport(JsonTransport::new(plain.clone()).with_id("plain"))
        .transport(
            JsonTransport::new(formatted.clone())
                .with_id("formatted")
                .with_format(JsonFormat::new()),
        )
        .build();
    log.with_context(json!({"request_id": "7f3a"}));
    log.with_metadata(json!({"order_id": 42, "msg": "mine"}))
        .info("shipping");
    assert_eq!(plain.chunks().len(), 1);
    assert_eq!(plain.chunks(), formatted.chunks());
    assert_eq!(
        JsonTransport::new(std::io::sink())
            .with_format(JsonFormat::new())
            .format(),
        JsonFormat::new()
    );
}

// ---------------------------------------------------------------------------
// Each option

#[test]
fn field_names_are_renamed_and_keep_their_place() {
    let format = JsonFormat::new()
        .time_field("ts")
        .level_field("lvl")
        .message_field("message");
    let (calls, log) = logger(format, |b| b);
    log.with_context(json!({"request_id": "7f3a"}));
    log.with_metadata(json!({"order_id": 42})).info("shipping");
    let (keys, line) = only_line(&calls);
    assert_eq!(keys, ["ts", "lvl", "message", "request_id", "order_id"]);
    assert_eq!(line["lvl"], "info");
    assert_eq!(line["message"], "shipping");
    assert!(is_rfc3339_millis(line["ts"].as_str().unwrap()), "{line}");
}

#[test]
fn time_as_epoch_milliseconds_is_a_number() {
    let format = JsonFormat::new().time_format(TimeFormat::EpochMillis);
    let (calls, log) = logger(format, |b| b);
    let millis = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    let before = millis(SystemTime::now());
    log.info("stamped");
    let after = millis(SystemTime::now());
    let (keys, line) = only_line(&calls);
    assert_eq!(keys, ["time", "level", "msg"]);
    let time = line["time"].as_u64().expect("a JSON integer");
    assert!(
        (before..=after).contains(&time),
        "{before} <= {time} <= {after}"
    );
}

#[test]
fn time_as_rfc3339_is_the_default_time_format() {
    assert_eq!(TimeFormat::default(), TimeFormat::Rfc3339);
    let (calls, log) = logger(JsonFormat::new().time_format(TimeFormat::Rfc3339), |b| b);
    log.info("stamped");
    let (_, line) = only_line(&calls);
    assert!(is_rfc3339_millis(line["time"].as_str().unwrap()), "{line}");
}

#[test]
fn level_as_number_is_loglayers_number() {
    let (calls, log) = logger(JsonFormat::new().level_format(LevelFormat::Number), |b| b);
    log_each_level(&log);
    let numbers: Vec<Value> = lines(&calls)
        .into_iter()
        .map(|(_, l)| l["level"].clone())
        .collect();
    assert_eq!(
        numbers,
        [
            json!(10),
            json!(20),
            json!(30),
            json!(40),
            json!(50),
            json!(60)
        ]
    );
    for (number, level) in numbers.iter().zip(LEVELS) {
        let n = u8::try_from(number.as_u64().unwrap()).unwrap();
        assert_eq!(Level::try_from(n), Ok(level));
    }
}

#[test]
fn level_names_are_written_as_given() {
    let upper = LevelFormat::Names(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]);
    let (calls, log) = logger(JsonFormat::new().level_format(upper), |b| b);
    log_each_level(&log);
    let names: Vec<Value> = lines(&calls)
        .into_iter()
        .map(|(_, l)| l["level"].clone())
        .collect();
    assert_eq!(names, ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]);
}

// ---------------------------------------------------------------------------
// The collision rule follows the configured names

#[test]
fn user_keys_equal_to_configured_names_are_renamed() {
    let (calls, log) = logger(JsonFormat::google_cloud(), |b| b);
    log.with_context(json!({"message": "from context"}));
    log.with_metadata(json!({"severity": "high", "_severity": "taken", "msg": "plain key"}))
        .warn("disk at 90%");
    let (keys, line) = only_line(&calls);
    assert_eq!(line["severity"], "WARNING");
    assert_eq!(line["message"], "disk at 90%");
    assert_eq!(line["_message"], "from context");
    assert_eq!(line["_severity"], "taken");
    assert_eq!(line["__severity"], "high");
    // `msg` is not the message field here: an ordinary key.
    assert_eq!(line["msg"], "plain key");
    assert_eq!(&keys[..3], ["time", "severity", "message"]);
}

#[test]
fn a_context_key_equal_to_a_configured_name_is_renamed_without_metadata() {
    // The fast path's check of the context (no metadata to look at).
    let (calls, log) = logger(JsonFormat::datadog(), |b| b);
    log.with_context(json!({"status": 200, "level": "kept"}));
    log.info("served");
    let (_, line) = only_line(&calls);
    assert_eq!(line["status"], "info");
    assert_eq!(line["_status"], 200);
    assert_eq!(line["level"], "kept");
}

#[test]
fn renamed_fields_collide_inside_nested_shapes_too() {
    let (calls, log) = logger(JsonFormat::elastic(), |b| b.metadata_field_name("labels"));
    log.with_context(json!({"@timestamp": "user time"}));
    log.with_metadata(json!({"log.level": "inner"}))
        .info("nested");
    let (keys, line) = only_line(&calls);
    assert_eq!(
        keys,
        [
            "@timestamp",
            "log.level",
            "message",
            "_@timestamp",
            "labels"
        ]
    );
    assert_eq!(line["_@timestamp"], "user time");
    // Nested keys cannot collide with root keys: kept as they are.
    assert_eq!(line["labels"]["log.level"], "inner");
}

#[test]
fn two_fields_given_one_name_are_both_kept() {
    let format = JsonFormat::new()
        .time_field("t")
        .level_field("t")
        .message_field("t");
    assert_eq!(format.field_names(), ["t", "_t", "__t"]);
    let (calls, log) = logger(format, |b| b);
    log.with_metadata(json!({"t": "user", "_t": "user2"}))
        .info("hi");
    let (keys, line) = only_line(&calls);
    assert_eq!(&keys[..3], ["t", "_t", "__t"]);
    assert_eq!(line["_t"], "info");
    assert_eq!(line["__t"], "hi");
    // Both user keys are kept, each under a name none of the three holds.
    let mut values: Vec<&str> = keys[3..]
        .iter()
        .map(|k| line[k].as_str().unwrap())
        .collect();
    values.sort();
    assert_eq!(values, ["user", "user2"], "{keys:?}");
}

// ---------------------------------------------------------------------------
// Google Cloud Logging: `severity` (LogSeverity names), `message`, `time`
// https://cloud.google.com/logging/docs/structured-logging (special JSON fields)
// https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#LogSeverity

const GCP_SEVERITIES: [&str; 9] = [
    "DEFAULT",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "ALERT",
    "EMERGENCY",
];

#[test]
fn google_cloud_writes_severity_message_and_time() {
    let (calls, log) = logger(JsonFormat::google_cloud(), |b| b);
    log_each_level(&log);
    let all = lines(&calls);
    let severities: Vec<&str> = all
        .iter()
        .map(|(_, l)| l["severity"].as_str().unwrap())
        .collect();
    // LogLayer's Google Cloud transport's mapping.
    assert_eq!(
        severities,
        ["DEBUG", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
    );
    for s in &severities {
        assert!(GCP_SEVERITIES.contains(s), "{s} is a LogSeverity name");
    }
    for ((keys, line), level) in all.iter().zip(LEVELS) {
        assert_eq!(keys, &["time", "severity", "message"]);
        assert_eq!(line["message"], format!("at {level}"));
        assert!(is_rfc3339_millis(line["time"].as_str().unwrap()));
    }
}

#[test]
fn google_cloud_keeps_the_error_under_the_error_field() {
    let (calls, log) = logger(JsonFormat::google_cloud(), |b| b);
    log.with_error(&failure()).error("failed");
    let (_, line) = only_line(&calls);
    assert_eq!(
        line["err"],
        json!({"message": "save failed", "sources": ["disk full"]})
    );
}

// ---------------------------------------------------------------------------
// Elastic Common Schema: `@timestamp`, `log.level`, `message`,
// `error.message`, `error.type` (and `error.stack_trace`)
// https://www.elastic.co/guide/en/ecs/current/ecs-base.html,
// .../ecs-log.html, .../ecs-error.html; dotted keys as ecs-logging writes them.

#[test]
fn elastic_writes_timestamp_log_level_and_message_as_dotted_keys() {
    let (calls, log) = logger(JsonFormat::elastic(), |b| b);
    log.with_metadata(json!({"service.name": "api"}))
        .warn("slow");
    let text = calls.text();
    assert!(
        text.contains(r#""log.level":"warn""#),
        "a literal dotted key: {text}"
    );
    let (keys, line) = only_line(&calls);
    assert_eq!(keys, ["@timestamp", "log.level", "message", "service.name"]);
    assert!(is_rfc3339_millis(line["@timestamp"].as_str().unwrap()));
    assert_eq!(line["message"], "slow");
    assert!(line.get("log").is_none(), "not a nested object: {line}");
}

#[test]
fn elastic_writes_the_error_as_error_type_message_and_stack_trace() {
    let (calls, log) = logger(JsonFormat::elastic(), |b| b);
    log.with_error(&failure()).error("request failed");
    log.with_error(&Chained::single("disk full"))
        .error("no sources");
    let all = lines(&calls);
    let (keys, line) = &all[0];
    assert_eq!(
        keys,
        &[
            "@timestamp",
            "log.level",
            "message",
            "error.type",
            "error.message",
            "error.stack_trace"
        ]
    );
    assert_eq!(line["error.message"], "save failed");
    // A Rust error has no type name at run time: as OTLP's `exception.type`.
    assert_eq!(line["error.type"], "error");
    assert_eq!(line["error.stack_trace"], "disk full");
    assert!(line.get("err").is_none(), "{line}");
    let (keys, _) = &all[1];
    assert_eq!(
        keys,
        &[
            "@timestamp",
            "log.level",
            "message",
            "error.type",
            "error.message"
        ]
    );
}

#[test]
fn elastic_error_type_comes_from_the_error_serializer() {
    let (calls, log) = logger(JsonFormat::elastic(), |b| {
        b.error_serializer(|e| json!({"type": "StorageError", "detail": e.to_string()}))
    });
    log.with_error(&failure()).error("failed");
    let (_, line) = only_line(&calls);
    assert_eq!(line["error.type"], "StorageError");
    assert_eq!(line["error.message"], "save failed");
}

#[test]
fn elastic_renames_user_keys_equal_to_its_error_keys_and_frees_err() {
    let (calls, log) = logger(JsonFormat::elastic(), |b| b);
    log.with_metadata(json!({"error.message": "mine", "err": "free"}))
        .with_error(&Chained::single("disk full"))
        .error("failed");
    let (_, line) = only_line(&calls);
    assert_eq!(line["error.message"], "disk full");
    assert_eq!(line["_error.message"], "mine");
    assert_eq!(line["err"], "free");
}

#[test]
fn error_format_ecs_can_be_used_on_its_own() {
    let format = JsonFormat::new().error_format(ErrorFormat::Ecs);
    let (calls, log) = logger(format, |b| b);
    log.with_error(&Chained::single("disk full"))
        .error("failed");
    let (keys, _) = only_line(&calls);
    assert_eq!(
        keys,
        ["time", "level", "msg", "error.type", "error.message"]
    );
}

// ---------------------------------------------------------------------------
// Datadog: `status`, `message`, `timestamp`
// https://docs.datadoghq.com/logs/log_configuration/attributes_naming_convention/
// https://docs.datadoghq.com/logs/log_configuration/processors/log_status_remapper/

/// Datadog's status remapper, as documented, for strings.
fn datadog_status(s: &str) -> &'static str {
    let s = s.to_ascii_lowercase();
    let starts = |p: &str| s.starts_with(p);
    if starts("emerg") || starts("f") {
        "emerg"
    } else if starts("a") {
        "alert"
    } else if starts("c") {
        "critical"
    } else if starts("err") {
        "error"
    } else if starts("w") {
        "warning"
    } else if starts("n") {
        "notice"
    } else if starts("i") {
        "info"
    } else if starts("d") || starts("t") || starts("v") {
        "debug"
    } else if starts("o") || starts("s") {
        "ok"
    } else {
        "info"
    }
}

#[test]
fn datadog_writes_status_message_and_timestamp() {
    let (calls, log) = logger(JsonFormat::datadog(), |b| b);
    log_each_level(&log);
    let all = lines(&calls);
    let statuses: Vec<&str> = all
        .iter()
        .map(|(_, l)| datadog_status(l["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        ["debug", "debug", "info", "warning", "error", "emerg"]
    );
    for ((keys, line), level) in all.iter().zip(LEVELS) {
        assert_eq!(keys, &["timestamp", "status", "message"]);
        assert_eq!(line["status"], level.as_str());
        assert!(is_rfc3339_millis(line["timestamp"].as_str().unwrap()));
    }
}

#[test]
fn presets_differ_from_the_default_and_from_each_other() {
    let presets = [
        JsonFormat::new(),
        JsonFormat::google_cloud(),
        JsonFormat::elastic(),
        JsonFormat::datadog(),
    ];
    for (i, a) in presets.iter().enumerate() {
        for b in &presets[i + 1..] {
            assert_ne!(a, b);
        }
    }
    let t = JsonTransport::new(std::io::sink()).with_format(JsonFormat::elastic());
    assert_eq!(t.format(), JsonFormat::elastic());
    assert!(format!("{t:?}").contains("log.level"));
}
