//! [`CaptureTransport`]: keeps entries in memory, for tests.

use std::io;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::{lock, transport_options, Options, Transport};
use crate::{Entry, Level};

/// Keeps every entry in memory, as the JSON line [`JsonTransport`] would write
/// and as its parsed value. Clones share the same store, so a test keeps one
/// handle and gives the logger another.
///
/// Clones also share the id and the on/off switch
/// ([`set_enabled`](CaptureTransport::set_enabled)); the level
/// ([`with_level`](CaptureTransport::with_level)) belongs to the handle it is
/// set on, so one store can be read through a handle that filters nothing.
///
/// [`JsonTransport`]: super::JsonTransport
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::new(capture.clone());
/// log.with_metadata(serde_json::json!({"n": 1})).warn("careful");
///
/// let entries = capture.entries();
/// assert_eq!(entries.len(), 1);
/// assert_eq!(entries[0]["level"], "warn");
/// assert_eq!(entries[0]["msg"], "careful");
/// assert_eq!(entries[0]["n"], 1);
/// ```
#[derive(Clone, Debug)]
pub struct CaptureTransport {
    inner: Arc<Inner>,
    /// Per handle, not in the shared `Options`: those sit behind the `Arc`
    /// every clone holds, where a by-value builder cannot reach them.
    level: Option<Level>,
}

#[derive(Debug)]
struct Inner {
    lines: Mutex<Vec<String>>,
    options: Options,
}

impl Default for CaptureTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl CaptureTransport {
    /// An empty capture with id `"capture"`.
    pub fn new() -> Self {
        Self::with_id("capture")
    }

    /// An empty capture with the given id.
    ///
    /// ```
    /// # use loglayer::transport::{CaptureTransport, Transport};
    /// assert_eq!(CaptureTransport::with_id("a").id(), "a");
    /// ```
    pub fn with_id(id: &str) -> Self {
        CaptureTransport {
            inner: Arc::new(Inner {
                lines: Mutex::new(Vec::new()),
                options: Options::new(id),
            }),
            level: None,
        }
    }

    /// Accepts only entries at `level` or more severe (by default every level
    /// the logger lets through): LogLayer's per-transport `level`, so a test
    /// can check what a warn-only destination would receive.
    ///
    /// ```
    /// use loglayer::{transport::{CaptureTransport, Transport}, Level, LogLayer};
    ///
    /// let all = CaptureTransport::with_id("all");
    /// let alerts = CaptureTransport::with_id("alerts").with_level(Level::Warn);
    /// assert_eq!(alerts.level(), Some(Level::Warn));
    /// let log = LogLayer::builder().transport(all.clone()).transport(alerts.clone()).build();
    /// log.info("fine");
    /// log.error("on fire");
    /// assert_eq!(all.messages(), ["fine", "on fire"]);
    /// assert_eq!(alerts.messages(), ["on fire"]);
    /// ```
    pub fn with_level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    /// Every entry so far, parsed from its JSON line.
    pub fn entries(&self) -> Vec<Value> {
        lock(&self.inner.lines)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
            .collect()
    }

    /// Every entry so far, as the exact JSON line (without newline).
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// LogLayer::new(capture.clone()).info("one");
    /// assert!(capture.lines()[0].contains(r#""msg":"one""#));
    /// ```
    pub fn lines(&self) -> Vec<String> {
        lock(&self.inner.lines).clone()
    }

    /// The messages of every entry so far.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::new(capture.clone());
    /// log.info("a");
    /// log.error("b");
    /// assert_eq!(capture.messages(), ["a", "b"]);
    /// ```
    pub fn messages(&self) -> Vec<String> {
        self.entries()
            .iter()
            .map(|e| e["msg"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// How many entries were captured.
    pub fn len(&self) -> usize {
        lock(&self.inner.lines).len()
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every entry.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// LogLayer::new(capture.clone()).info("a");
    /// capture.clear();
    /// assert!(capture.is_empty());
    /// ```
    pub fn clear(&self) {
        lock(&self.inner.lines).clear();
    }

    // `with_id` above is a constructor and `with_level` is per handle (see
    // the struct): the only shared option a capture changes is its switch.
    transport_options! {
        example: CaptureTransport::new(),
        default_id: "capture",
        field: inner.options,
        methods: [set_enabled],
    }
}

impl Transport for CaptureTransport {
    fn write(&self, entry: &Entry<'_>) -> io::Result<()> {
        let mut buf = Vec::with_capacity(256);
        entry.write_json(&mut buf);
        let line =
            String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        lock(&self.inner.lines).push(line);
        Ok(())
    }

    // By hand rather than `transport_options! { accessors: .. }`: the level
    // is this handle's, not the shared options'.
    fn id(&self) -> &str {
        self.inner.options.id()
    }

    fn level(&self) -> Option<Level> {
        self.level
    }

    fn enabled(&self) -> bool {
        self.inner.options.enabled()
    }
}
