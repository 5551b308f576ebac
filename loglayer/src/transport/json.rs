//! [`JsonTransport`]: one JSON object per line.

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;

use super::{
    transport_options, with_buffer, with_writer, CachePadded, JsonFormat, Options, Transport,
};
use crate::Entry;

/// Writes each entry as one line of JSON, with **one `write_all` call per
/// line**, so lines from different threads never interleave and a reader sees
/// a line as soon as it is written.
///
/// The line's shape (key order, nesting, the collision rule, placeholders) is
/// described in [`Entry`](crate::Entry#the-shape-of-a-line). The names and
/// formats of the time, level, message and error fields are set with
/// [`with_format`](JsonTransport::with_format) (presets for Google Cloud
/// Logging, Elastic Common Schema and Datadog).
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
    /// On a cache line of its own: each write takes this lock, and every
    /// entry reads `options`; sharing a line, two threads logging at once
    /// would bounce it between their cores on every read (false sharing).
    writer: CachePadded<Mutex<Box<dyn Write + Send>>>,
    options: Options,
    /// `None` for the default line, written by [`Entry::write_json`]'s fast
    /// path.
    format: Option<JsonFormat>,
}

impl JsonTransport {
    /// A transport writing to `writer` (a file, a socket, a `Vec<u8>`…).
    pub fn new<W: Write + Send + 'static>(writer: W) -> Self {
        JsonTransport {
            writer: CachePadded(Mutex::new(Box::new(writer))),
            options: Options::new("json"),
            format: None,
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
    ///
    /// ```
    /// let log = loglayer::LogLayer::new(loglayer::transport::JsonTransport::stderr());
    /// log.warn("to stderr");
    /// ```
    pub fn stderr() -> Self {
        Self::new(io::stderr())
    }

    /// Writes lines in `format`: its names for the time, level and message
    /// fields, its time and level formats, its error fields (LogLayer's
    /// `messageField`, `levelField`, `dateField`, `levelFn`, `dateFn`).
    ///
    /// ```
    /// use loglayer::transport::{JsonFormat, JsonTransport};
    ///
    /// // Cloud Run, GKE, Cloud Functions: severity, message and time are read
    /// // from each line on stdout.
    /// let log = loglayer::LogLayer::new(JsonTransport::stdout().with_format(JsonFormat::google_cloud()));
    /// log.info("ready");
    /// ```
    pub fn with_format(mut self, format: JsonFormat) -> Self {
        self.format = (!format.is_default()).then_some(format);
        self
    }

    /// The format lines are written in ([`JsonFormat::new`] unless
    /// [`with_format`](JsonTransport::with_format) set one).
    ///
    /// ```
    /// use loglayer::transport::{JsonFormat, JsonTransport};
    ///
    /// assert_eq!(JsonTransport::stdout().format(), JsonFormat::new());
    /// let t = JsonTransport::stdout().with_format(JsonFormat::datadog());
    /// assert_eq!(t.format(), JsonFormat::datadog());
    /// ```
    pub fn format(&self) -> JsonFormat {
        self.format.clone().unwrap_or_default()
    }

    transport_options! {
        example: JsonTransport::stdout(),
        default_id: "json",
        field: options,
        methods: [with_id, with_level, set_enabled],
    }
}

impl fmt::Debug for JsonTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonTransport")
            .field("options", &self.options)
            .field("format", &self.format())
            .finish_non_exhaustive()
    }
}

impl Transport for JsonTransport {
    fn write(&self, entry: &Entry<'_>) -> io::Result<()> {
        with_buffer(|buf| {
            match &self.format {
                None => entry.write_json(buf),
                Some(format) => entry.write_json_with(format, buf),
            }
            buf.push(b'\n');
            with_writer(&self.writer.0, |w| w.write_all(buf))
        })
    }

    transport_options! { accessors: options }

    fn flush(&self) -> io::Result<()> {
        with_writer(&self.writer.0, |w| w.flush())
    }
}
