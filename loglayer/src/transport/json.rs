//! [`JsonTransport`]: one JSON object per line.

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;

use super::{with_buffer, with_writer, Common, Transport};
use crate::{Entry, Level};

/// Writes each entry as one line of JSON, with **one `write_all` call per
/// line**, so lines from different threads never interleave and a reader sees
/// a line as soon as it is written.
///
/// The line's shape (key order, nesting, the collision rule, placeholders) is
/// described in [`Entry`](crate::Entry#the-shape-of-a-line).
///
/// ```
/// use loglayer::{transport::JsonTransport, LogLayer};
/// use std::sync::{Arc, Mutex};
///
/// #[derive(Clone, Default)]
/// struct Shared(Arc<Mutex<Vec<u8>>>);
/// impl std::io::Write for Shared {
///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
///
/// let out = Shared::default();
/// let log = LogLayer::new(JsonTransport::new(out.clone()));
/// log.with_context(serde_json::json!({"request_id": "7f3a"}));
/// log.with_metadata(serde_json::json!({"order_id": 42})).info("shipping");
///
/// let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
/// let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
/// assert_eq!(line["msg"], "shipping");
/// assert_eq!(line["request_id"], "7f3a");
/// assert_eq!(line["order_id"], 42);
/// ```
pub struct JsonTransport {
    writer: Mutex<Box<dyn Write + Send>>,
    common: Common,
}

impl JsonTransport {
    /// A transport writing to `writer` (a file, a socket, a `Vec<u8>`…).
    pub fn new<W: Write + Send + 'static>(writer: W) -> Self {
        JsonTransport {
            writer: Mutex::new(Box::new(writer)),
            common: Common::new("json"),
        }
    }

    /// A transport writing to standard output.
    ///
    /// ```
    /// let log = loglayer::LogLayer::new(loglayer::transport::JsonTransport::stdout());
    /// log.info("to stdout");
    /// ```
    pub fn stdout() -> Self {
        Self::new(io::stdout())
    }

    /// A transport writing to standard error.
    pub fn stderr() -> Self {
        Self::new(io::stderr())
    }

    /// Sets the id (default `"json"`).
    ///
    /// ```
    /// let t = loglayer::transport::JsonTransport::stdout().with_id("audit");
    /// # use loglayer::transport::Transport;
    /// assert_eq!(t.id(), "audit");
    /// ```
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.common.id = id.into();
        self
    }

    /// Accepts only entries at `level` or more severe.
    ///
    /// ```
    /// # use loglayer::{transport::{JsonTransport, Transport}, Level};
    /// let t = JsonTransport::stdout().with_level(Level::Warn);
    /// assert_eq!(t.level(), Some(Level::Warn));
    /// ```
    pub fn with_level(mut self, level: Level) -> Self {
        self.common.level = Some(level);
        self
    }

    /// Turns this transport on or off at run time.
    ///
    /// ```
    /// # use loglayer::transport::{JsonTransport, Transport};
    /// let t = JsonTransport::stdout();
    /// t.set_enabled(false);
    /// assert!(!t.enabled());
    /// ```
    pub fn set_enabled(&self, enabled: bool) {
        self.common.set_enabled(enabled);
    }
}

impl fmt::Debug for JsonTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonTransport")
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

impl Transport for JsonTransport {
    fn write(&self, entry: &Entry<'_>) -> io::Result<()> {
        with_buffer(|buf| {
            entry.write_json(buf);
            buf.push(b'\n');
            with_writer(&self.writer, |w| w.write_all(buf))
        })
    }

    fn id(&self) -> &str {
        &self.common.id
    }

    fn level(&self) -> Option<Level> {
        self.common.level
    }

    fn enabled(&self) -> bool {
        self.common.enabled()
    }

    fn flush(&self) -> io::Result<()> {
        with_writer(&self.writer, |w| w.flush())
    }
}
