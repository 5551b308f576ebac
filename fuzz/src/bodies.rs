//! The bodies of the fuzz targets, shared by `fuzz/fuzz_targets/*.rs` (run
//! with `cargo +nightly fuzz run <target>`) and by the stable smoke test
//! `tests/reliability_fuzz_smoke.rs` (which `#[path]`-includes this file).
//!
//! Each body turns arbitrary bytes into a message, a prefix, context and
//! metadata with arbitrary keys, nested values, floats (NaN and ±inf
//! included) and an error, logs them, and panics if an output promise is
//! broken. Uses only `loglayer`, `serde` and `serde_json`.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};

use loglayer::transport::{ConsoleTransport, JsonTransport};
use loglayer::{Level, LogLayer, RawEntry};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

/// A `Vec`-backed writer.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        String::from_utf8(bytes).expect("output is valid UTF-8")
    }
}

/// What the fuzzer's bytes decode to.
#[derive(Debug)]
pub struct Input {
    /// The message.
    pub message: String,
    /// A logger prefix.
    pub prefix: String,
    /// Context given to `with_context`.
    pub context: Map<String, Value>,
    /// Metadata given to `with_metadata`.
    pub metadata: Map<String, Value>,
    /// Floats, NaN and infinities included.
    pub floats: Vec<f64>,
    /// The error's message.
    pub error: String,
    /// Colour on (console only).
    pub color: bool,
}

/// A cursor over the fuzzer's bytes.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }

    /// A string of up to 31 bytes, decoded lossily.
    fn string(&mut self) -> String {
        let n = usize::from(self.byte() & 0x1f);
        String::from_utf8_lossy(self.take(n)).into_owned()
    }

    fn f64(&mut self) -> f64 {
        let mut b = [0u8; 8];
        let got = self.take(8);
        b[..got.len()].copy_from_slice(got);
        f64::from_le_bytes(b)
    }

    fn value(&mut self, depth: u32) -> Value {
        match self.byte() % 8 {
            0 => Value::Null,
            1 => Value::Bool(self.byte() & 1 == 1),
            2 => Value::from(i64::from_le_bytes({
                let mut b = [0u8; 8];
                let got = self.take(8);
                b[..got.len()].copy_from_slice(got);
                b
            })),
            3 => serde_json::Number::from_f64(self.f64()).map_or(Value::Null, Value::Number),
            4 if depth < 6 => {
                let n = self.byte() % 5;
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            }
            5 if depth < 6 => Value::Object(self.map(depth + 1)),
            6 => {
                // Deep, but within what a JSON reader accepts (serde_json: 128).
                let n = self.byte() % 100;
                let mut v = Value::String(self.string());
                for _ in 0..n {
                    v = Value::Array(vec![v]);
                }
                v
            }
            _ => Value::String(self.string()),
        }
    }

    fn key(&mut self) -> String {
        match self.byte() % 8 {
            0 => ["time", "level", "msg", "err", "_msg"][usize::from(self.byte() % 5)].to_owned(),
            _ => self.string(),
        }
    }

    fn map(&mut self, depth: u32) -> Map<String, Value> {
        let n = self.byte() % 6;
        (0..n)
            .map(|_| (self.key(), self.value(depth)))
            .collect::<Map<_, _>>()
    }
}

/// Decodes the fuzzer's bytes.
pub fn decode(data: &[u8]) -> Input {
    let mut b = Bytes(data);
    let color = b.byte() & 1 == 1;
    let message = b.string();
    let prefix = b.string();
    let context = b.map(0);
    let metadata = b.map(0);
    let n = b.byte() % 6;
    let floats = (0..n).map(|_| b.f64()).collect();
    let error = b.string();
    // Whatever is left is one more, longer, message fragment.
    let tail = String::from_utf8_lossy(b.0);
    Input {
        message: message + &tail,
        prefix,
        context,
        metadata,
        floats,
        error,
        color,
    }
}

#[derive(Debug)]
struct FuzzError(String);

impl fmt::Display for FuzzError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FuzzError {}

/// Logs `input` three ways (builder, macro, raw) through `log`.
fn log_all(log: &LogLayer, input: &Input) {
    log.with_context(Value::Object(input.context.clone()));
    let child = log.with_prefix(input.prefix.clone());
    child
        .with_metadata(Value::Object(input.metadata.clone()))
        .with_error(&FuzzError(input.error.clone()))
        .warn(&input.message);
    let floats = &input.floats;
    let error = FuzzError(input.error.clone());
    loglayer::sync_scope(child.clone(), || {
        loglayer::info!(
            floats = floats,
            text = %input.message,
            debug = ?input.message,
            err = &error,
            "{}",
            input.message
        );
    });
    log.raw(
        RawEntry::new(Level::Error, &input.message)
            .metadata(Value::Object(input.metadata.clone()))
            .context(Value::Object(input.context.clone())),
    );
}

/// The root keys of a JSON object, failing on a duplicate.
struct UniqueKeys;

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueKeys, A::Error> {
                let mut keys: Vec<String> = Vec::new();
                while let Some((k, _)) = map.next_entry::<String, de::IgnoredAny>()? {
                    if keys.contains(&k) {
                        return Err(de::Error::custom(format!("duplicate key {k:?}")));
                    }
                    keys.push(k);
                }
                Ok(UniqueKeys)
            }
        }
        d.deserialize_map(V)
    }
}

/// Equal JSON values, floats allowed to differ by a couple of ULPs (the
/// exact round trip is pinned strictly by `tests/proptest_output.rs`; the
/// fuzz target looks for worse).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x.to_bits().abs_diff(y.to_bits()) <= 2 || x == y,
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// The writer's documented bound: deeper values become [`TOO_DEEP`].
const MAX_DEPTH: usize = 100;
const TOO_DEEP: &str = "[unserializable: nested too deeply]";

/// Nesting depth of a value (a scalar is 0, `[1]` is 1).
fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn reserved_or_renamed(k: &str) -> bool {
    let base = k.trim_start_matches('_');
    matches!(base, "time" | "level" | "msg" | "err")
}

/// The JSON writer target: three entries, three valid lines, no duplicate
/// keys, message, metadata values and floats as given.
pub fn json_writer(data: &[u8]) {
    let input = decode(data);
    let buf = Buf::default();
    let log = LogLayer::new(JsonTransport::new(buf.clone()));
    log_all(&log, &input);

    let text = buf.text();
    assert!(text.ends_with('\n'), "{text:?}");
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), 3, "one line per entry: {text:?}");
    let mut parsed = Vec::new();
    for line in &lines {
        assert!(!line.contains('\r'), "raw CR: {line:?}");
        serde_json::from_str::<UniqueKeys>(line)
            .unwrap_or_else(|e| panic!("invalid line or duplicate key ({e}): {line:?}"));
        parsed.push(serde_json::from_str::<Value>(line).expect("valid JSON"));
    }
    let with_prefix = format!("{} {}", input.prefix, input.message);
    assert_eq!(parsed[0]["msg"].as_str(), Some(with_prefix.as_str()));
    assert_eq!(parsed[1]["msg"].as_str(), Some(with_prefix.as_str()));
    assert_eq!(parsed[2]["msg"].as_str(), Some(input.message.as_str()));
    assert_eq!(parsed[0]["level"], "warn");
    assert_eq!(parsed[1]["level"], "info");
    assert_eq!(parsed[2]["level"], "error");
    for line in [&parsed[0], &parsed[2]] {
        for (k, v) in &input.metadata {
            if !reserved_or_renamed(k) {
                let got = line.get(k).unwrap_or_else(|| panic!("metadata {k:?} lost"));
                if depth(v) > MAX_DEPTH {
                    // Documented: deeper values are replaced, siblings kept.
                    assert_eq!(got, TOO_DEEP, "metadata {k:?} too deep");
                } else {
                    assert!(same(got, v), "metadata {k:?}: {got} != {v}");
                }
            }
        }
    }
    assert_eq!(
        parsed[0]["err"]["message"].as_str(),
        Some(input.error.as_str())
    );
    assert_eq!(parsed[1]["text"].as_str(), Some(input.message.as_str()));
    let floats = parsed[1]["floats"].as_array().expect("floats array");
    assert_eq!(floats.len(), input.floats.len());
    for (got, f) in floats.iter().zip(&input.floats) {
        if f.is_finite() {
            let want: f64 = serde_json::from_str(&serde_json::to_string(f).unwrap()).unwrap();
            assert_eq!(got.as_f64(), Some(want), "{f:e}");
        } else {
            assert!(got.is_null(), "{f} -> {got}");
        }
    }
}

/// Characters that must never reach a terminal raw from data.
pub fn forbidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{2028}' | '\u{2029}')
}

/// The console transport's own SGR sequences (with colour on).
pub const OUR_SEQUENCES: [&str; 6] = [
    "\x1b[0m",
    "\x1b[2m",
    "\x1b[32m",
    "\x1b[33m",
    "\x1b[31m",
    "\x1b[1;31m",
];

/// The console writer target: three entries, three lines, nothing
/// forbidden from data, only the transport's own colour sequences.
pub fn console_writer(data: &[u8]) {
    let input = decode(data);
    let buf = Buf::default();
    let log = LogLayer::new(ConsoleTransport::new(buf.clone()).with_color(input.color));
    log_all(&log, &input);

    let text = buf.text();
    assert!(text.ends_with('\n'), "{text:?}");
    assert_eq!(
        text.matches('\n').count(),
        3,
        "one line per entry: {text:?}"
    );
    let mut rest = text.clone();
    for seq in OUR_SEQUENCES {
        rest = rest.replace(seq, "");
    }
    for line in rest.split_terminator('\n') {
        if let Some(c) = line.chars().find(|c| forbidden(*c)) {
            panic!("raw {c:?} in console line {line:?}");
        }
    }
    if input.color {
        assert!(text.contains("\x1b[33mWARN "), "colours still work");
    } else {
        assert!(!text.contains('\x1b'), "no colour when off: {text:?}");
    }
}
