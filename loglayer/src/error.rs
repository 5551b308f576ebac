//! Errors attached to entries: [`AsError`] accepts the shapes users hold, and
//! [`ErrorInfo`] is what is kept of them.

use std::error::Error;
use std::fmt;

use serde_json::Value;

use crate::json;
use crate::value::{encode, Fields, Value as Typed};

/// Anything that can be attached to an entry as an error.
///
/// Implemented for every `std::error::Error` type and for `dyn Error` (with or
/// without `Send + Sync`). For a `Box<dyn Error>` pass `&*boxed` to
/// [`LogLayer::with_error`](crate::LogLayer::with_error); for an
/// `anyhow::Error` (or `eyre::Report`) pass `err.as_ref()`.
///
/// The macros need neither: `err = &e` in [`error!`](crate::error!) and
/// friends, and `#[with_logger(err)]`, take a `Box<dyn Error>` (with or
/// without `Send + Sync`) and any type that derefs to an `AsError` (such as
/// `anyhow::Error`) as they are, and keep the source chain.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::new(capture.clone());
/// let boxed: Box<dyn std::error::Error> = "disk full".into();
/// log.with_error(&*boxed).error("save failed");
/// assert_eq!(capture.entries()[0]["err"]["message"], "disk full");
/// ```
pub trait AsError {
    /// This value as a `dyn Error`.
    fn as_error(&self) -> &(dyn Error + '_);
}

impl<E: Error> AsError for E {
    fn as_error(&self) -> &(dyn Error + '_) {
        self
    }
}

impl AsError for dyn Error + '_ {
    fn as_error(&self) -> &(dyn Error + '_) {
        self
    }
}

impl AsError for dyn Error + Send + '_ {
    fn as_error(&self) -> &(dyn Error + '_) {
        self
    }
}

impl AsError for dyn Error + Send + Sync + '_ {
    fn as_error(&self) -> &(dyn Error + '_) {
        self
    }
}

/// Turns an error into the value written under the error field: what
/// [`LogLayerBuilder::error_serializer`](crate::LogLayerBuilder::error_serializer)
/// stores.
pub(crate) type ErrorSerializer = dyn Fn(&(dyn Error + '_)) -> Value + Send + Sync;

/// Longest source chain kept, so a cyclic `source()` cannot loop forever.
const MAX_SOURCES: usize = 64;

/// What an entry keeps of an error: its message and source chain, or the
/// value a configured serializer produced.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorInfo {
    pub(crate) message: String,
    pub(crate) sources: Vec<String>,
    /// Set when a custom serializer is configured (or a plugin edited the
    /// error): the encoded value written instead of the default
    /// `{"message", "sources"}` object.
    pub(crate) custom: Option<Vec<u8>>,
}

impl ErrorInfo {
    /// Captures `err` into a spare record of this thread (see
    /// [`crate::scratch`]): no allocation in steady state.
    pub(crate) fn capture(err: &(dyn Error + '_), serializer: Option<&ErrorSerializer>) -> Self {
        let mut info = crate::scratch::error();
        info.recapture(err, serializer);
        info
    }

    /// A record holding nothing yet (a spare to capture into).
    pub(crate) fn empty() -> Self {
        ErrorInfo {
            message: String::new(),
            sources: Vec::new(),
            custom: None,
        }
    }

    /// Bytes held on the heap, to decide whether a spare is worth keeping.
    pub(crate) fn heap_size(&self) -> usize {
        self.message.capacity()
            + self.sources.iter().map(String::capacity).sum::<usize>()
            + self.custom.as_ref().map_or(0, Vec::capacity)
    }

    /// Captures `err` into this record, reusing its buffers.
    fn recapture(&mut self, err: &(dyn Error + '_), serializer: Option<&ErrorSerializer>) {
        self.message.clear();
        json::append_message(&mut self.message, format_args!("{err}"));
        let mut count = 0;
        let mut next = err.source();
        while let Some(src) = next {
            if count == MAX_SOURCES {
                break;
            }
            match self.sources.get_mut(count) {
                Some(text) => text.clear(),
                None => self.sources.push(String::new()),
            }
            json::append_message(&mut self.sources[count], format_args!("{src}"));
            count += 1;
            next = src.source();
        }
        self.sources.truncate(count);
        let custom = serializer
            .and_then(|s| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s(err))).ok());
        self.custom = custom.map(|v| {
            let mut buf = self.custom.take().unwrap_or_default();
            buf.clear();
            encode::value(&mut buf, &v);
            buf
        });
    }

    /// The error as fields, for plugins: `message` and `sources`, or the
    /// fields of a custom serializer's object (a custom value that is not an
    /// object is the one field `value`; the flag says so).
    pub(crate) fn to_fields(&self) -> (Fields, bool) {
        let mut fields = Fields::new();
        match &self.custom {
            Some(bytes) => match Typed::decode(bytes).0 {
                Typed::Map(map) => {
                    for (k, v) in map.encoded() {
                        fields.push_encoded(k, v);
                    }
                }
                _ => {
                    fields.push_encoded("value", bytes);
                    return (fields, true);
                }
            },
            None => {
                fields.push_value("message", &self.message);
                fields.push_value("sources", &self.sources);
            }
        }
        (fields, false)
    }

    /// Rebuilds the info from fields a plugin may have edited (see
    /// [`to_fields`](Self::to_fields)): they are written as they are;
    /// `message`/`sources` are read back from them.
    pub(crate) fn from_fields(fields: &Fields, scalar: bool) -> Self {
        let message = fields
            .get("message")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let sources = fields
            .get("sources")
            .and_then(|v| v.as_list())
            .map(|l| {
                l.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let mut custom = Vec::new();
        match fields.get("value") {
            Some(v) if scalar && fields.len() == 1 => encode::value(&mut custom, &v),
            _ => encode::value(&mut custom, fields),
        }
        ErrorInfo {
            message,
            sources,
            custom: Some(custom),
        }
    }

    /// The error's type name, for the conventions that want one (OTLP's
    /// `exception.type`, ECS's `error.type`): the `type` (or `name`) string
    /// of a custom error serializer's value, else `"error"` (a Rust error
    /// value has no portable type name at run time).
    pub(crate) fn type_name(&self) -> &str {
        let found = self.custom.as_deref().and_then(|custom| {
            let map = Typed::decode(custom).0.as_map()?;
            ["type", "name"]
                .iter()
                .find_map(|k| map.get(k).and_then(|v| v.as_str()))
        });
        found.unwrap_or("error")
    }

    /// The error's `Display` text.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer};
    /// # let capture = CaptureTransport::new();
    /// # let log = LogLayer::new(capture.clone());
    /// let err = std::io::Error::other("boom");
    /// log.with_error(&err).error("failed");
    /// # assert_eq!(capture.entries()[0]["err"]["message"], "boom");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `Display` text of each source, outermost first.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Appends the JSON value of this error.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        if let Some(custom) = &self.custom {
            crate::value::write_json(out, custom);
            return;
        }
        out.extend_from_slice(b"{\"message\":");
        json::write_str(out, &self.message);
        out.extend_from_slice(b",\"sources\":[");
        for (i, s) in self.sources.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json::write_str(out, s);
        }
        out.extend_from_slice(b"]}");
    }

    /// The JSON value of this error, as the JSON transport writes it.
    pub fn to_value(&self) -> Value {
        if let Some(custom) = &self.custom {
            return Typed::decode(custom).0.to_json();
        }
        serde_json::json!({ "message": self.message, "sources": self.sources })
    }
}

impl fmt::Display for ErrorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for s in &self.sources {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}
