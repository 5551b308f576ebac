//! Helpers shared by the integration tests in `tests/` (the root package
//! `loglayer-suite`); not published.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};

use serde::de::{self, Deserializer, MapAccess, Visitor};

pub use loglayer;

/// A `Vec`-backed writer shared with the test: give a clone to a transport,
/// read what was written with [`SharedBuf::text`].
#[derive(Clone, Default)]
pub struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl io::Write for SharedBuf {
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

impl SharedBuf {
    /// Everything written so far, as UTF-8 (panics otherwise: output must be UTF-8).
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        String::from_utf8(bytes).expect("output is UTF-8")
    }
}

/// A writer that records every `write` call separately, so a test can check
/// both the bytes and that each entry arrived in one call.
#[derive(Clone, Default)]
pub struct WriteCalls(Arc<Mutex<Vec<Vec<u8>>>>);

impl io::Write for WriteCalls {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl WriteCalls {
    /// The bytes of each `write` call, in order.
    pub fn calls(&self) -> Vec<Vec<u8>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Each `write` call as UTF-8 text (panics otherwise).
    pub fn chunks(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .map(|c| String::from_utf8(c).expect("output is UTF-8"))
            .collect()
    }

    /// Everything written, as UTF-8 text.
    pub fn text(&self) -> String {
        self.chunks().concat()
    }

    /// The text split into lines, checking it ends with a newline.
    pub fn lines(&self) -> Vec<String> {
        let text = self.text();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "unterminated output: {text:?}"
        );
        text.lines().map(str::to_owned).collect()
    }
}

/// The root keys of a JSON object in order; deserializing fails on a
/// duplicate key (which `serde_json::Value` would silently merge).
pub struct OrderedKeys(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for OrderedKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedKeys, A::Error> {
                let mut keys = Vec::new();
                let mut seen = std::collections::HashSet::new();
                while let Some((k, _)) = map.next_entry::<String, de::IgnoredAny>()? {
                    if !seen.insert(k.clone()) {
                        return Err(de::Error::custom(format!("duplicate key {k:?}")));
                    }
                    keys.push(k);
                }
                Ok(OrderedKeys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// The one entry in `capture` whose message is `msg` (panics, listing them,
/// unless there is exactly one).
pub fn entry_with_msg(
    capture: &loglayer::transport::CaptureTransport,
    msg: &str,
) -> serde_json::Value {
    let found: Vec<serde_json::Value> = capture
        .entries()
        .into_iter()
        .filter(|entry| entry["msg"] == msg)
        .collect();
    assert_eq!(found.len(), 1, "entries with msg {msg:?}: {found:#?}");
    found.into_iter().next().unwrap()
}

/// Runs the test `name` of this test binary alone, in a fresh process, with
/// `env` set; panics (with its output) unless it passed. Returns its stdout.
/// For what must be checked where no other test ran first (process-wide
/// state such as the level hint).
pub fn run_alone_in_fresh_process(name: &str, env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = std::process::Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .envs(env.iter().copied())
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
