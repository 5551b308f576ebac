//! [`Entry`]: one log call as plugins and transports see it, and the one place
//! that decides the shape of an output line.
//!
//! # The shape of a line
//!
//! A line is a JSON object whose first keys are always `time`, `level` and
//! `msg`, holding the real values. Then, by default (flattened):
//!
//! 1. the context keys, in the order they were added, **except** those that
//!    the entry's metadata also sets (metadata wins over context);
//! 2. the metadata keys, in the order they were given;
//! 3. the error under `err` (see [`LogLayerBuilder::error_field_name`]).
//!
//! With [`LogLayerBuilder::context_field_name`] /
//! [`LogLayerBuilder::metadata_field_name`] set, context and/or metadata are
//! nested objects under those names instead (if both names are equal, one object
//! holds both, metadata winning).
//!
//! **Collision rule.** A user key that equals a reserved root key — `time`,
//! `level`, `msg`, the error field name, and the context / metadata field names
//! when set — is written with a leading underscore (`msg` → `_msg`), repeated
//! until the key is unique (`__msg` if `_msg` is taken). Nothing is dropped and no
//! line ever holds a key twice.
//!
//! **Formats.** [`Entry::write_json_with`] writes the same shape with a
//! [`JsonFormat`]'s names and formats for the first three fields (and, with
//! [`ErrorFormat::Ecs`](crate::transport::ErrorFormat::Ecs), the error as
//! `error.*` root keys). The reserved keys are then the format's: with
//! [`JsonFormat::google_cloud`] a user key `severity` becomes `_severity`,
//! and `msg` is an ordinary key. [`Entry::write_json`] is the default format's
//! fast path, byte for byte what `write_json_with(&JsonFormat::new(), ..)`
//! writes.
//!
//! [`LogLayerBuilder::error_field_name`]: crate::LogLayerBuilder::error_field_name
//! [`LogLayerBuilder::context_field_name`]: crate::LogLayerBuilder::context_field_name
//! [`LogLayerBuilder::metadata_field_name`]: crate::LogLayerBuilder::metadata_field_name

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use crate::context::Context;
use crate::error::ErrorInfo;
use crate::json;
use crate::transport::JsonFormat;
use crate::value::{encode, Fields, Value};
use crate::Level;

/// Whether `key` is `time`, `level` or `msg`: the keys every line starts
/// with ([`Entry::write_json`] writes them first), reserved whatever the
/// shape. The one list of them; [`Shape::is_reserved`] adds the configured
/// field names.
#[inline]
pub(crate) fn is_fixed_key(key: &str) -> bool {
    matches!(key, "time" | "level" | "msg")
}

/// Whose names the keys a line writes itself follow: the default line's
/// (`time`, `level`, `msg`, the error field name) or a [`JsonFormat`]'s.
#[derive(Clone, Copy)]
enum Root<'f> {
    Default,
    Format(&'f JsonFormat),
}

/// Where context, metadata and the error go in a line.
#[derive(Clone, Debug)]
pub(crate) struct Shape {
    pub(crate) context_field: Option<String>,
    pub(crate) metadata_field: Option<String>,
    pub(crate) error_field: String,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            context_field: None,
            metadata_field: None,
            error_field: "err".to_owned(),
        }
    }
}

impl Shape {
    /// Whether a user key must be renamed in a line whose own keys are
    /// `root`'s (see [`Root`]).
    fn is_reserved(&self, root: Root<'_>, key: &str) -> bool {
        let own = match root {
            Root::Default => is_fixed_key(key) || key == self.error_field,
            Root::Format(format) => format.reserves(key, &self.error_field),
        };
        own || self.context_field.as_deref() == Some(key)
            || self.metadata_field.as_deref() == Some(key)
    }

    fn flattened(&self) -> bool {
        self.context_field.is_none() && self.metadata_field.is_none()
    }
}

/// One log call, after the logger has assembled it: what every transport
/// receives.
///
/// Transports usually call [`Entry::write_json`] or walk
/// [`Entry::for_each_field`]; tests read [`Entry::to_value`].
///
/// ```
/// use loglayer::{transport::Transport, value::Value, Entry, LogLayer};
///
/// struct Lines;
/// impl Transport for Lines {
///     fn write(&self, entry: &Entry<'_>) -> std::io::Result<()> {
///         assert_eq!(entry.message(), "hello");
///         assert_eq!(entry.metadata().next(), Some(("user", Value::U64(7))));
///         Ok(())
///     }
/// }
/// LogLayer::new(Lines).with_metadata(serde_json::json!({"user": 7})).info("hello");
/// ```
pub struct Entry<'a> {
    pub(crate) level: Level,
    pub(crate) time: SystemTime,
    pub(crate) message: &'a str,
    pub(crate) target: Option<&'a str>,
    pub(crate) context: &'a Context,
    /// The logger's own context: `context` is this one unless the entry's
    /// was computed for it (lazy values, `raw`'s, plugins', muted); see
    /// [`Entry::shared_context`].
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) logger_context: &'a Arc<Context>,
    pub(crate) metadata: &'a Fields,
    /// Fields for the root of the line, whatever the shape
    /// ([`RawEntry::root`](crate::RawEntry::root)).
    pub(crate) root: Option<&'a Fields>,
    pub(crate) error: Option<&'a ErrorInfo>,
    pub(crate) shape: &'a Shape,
    /// The groups the entry is tagged with (`logger/groups.rs`).
    pub(crate) groups: &'a [crate::logger::GroupName],
}

/// What follows the time in a line up to the message: one copy instead of
/// three.
fn level_and_msg_key(level: Level) -> &'static [u8] {
    match level {
        Level::Trace => b"\",\"level\":\"trace\",\"msg\":",
        Level::Debug => b"\",\"level\":\"debug\",\"msg\":",
        Level::Info => b"\",\"level\":\"info\",\"msg\":",
        Level::Warn => b"\",\"level\":\"warn\",\"msg\":",
        Level::Error => b"\",\"level\":\"error\",\"msg\":",
        Level::Fatal => b"\",\"level\":\"fatal\",\"msg\":",
    }
}

/// A root-level field of a line.
enum Out<'a> {
    /// One encoded value.
    Value(&'a [u8]),
    /// A nested object of encoded values (context / metadata field names).
    Object(Vec<(&'a str, &'a [u8])>),
    Error(&'a ErrorInfo),
}

impl<'a> Entry<'a> {
    /// The entry's level (after plugins' `transform_log_level`).
    pub fn level(&self) -> Level {
        self.level
    }

    /// When the call was made.
    pub fn time(&self) -> SystemTime {
        self.time
    }

    /// The message, with the logger's prefix applied.
    pub fn message(&self) -> &'a str {
        self.message
    }

    /// The module path of the macro call that made this entry, if any.
    pub fn target(&self) -> Option<&'a str> {
        self.target
    }

    /// The logger's context as `(key, value)` pairs, in insertion order
    /// (empty while the context is muted).
    pub fn context(&self) -> impl Iterator<Item = (&'a str, Value<'a>)> + 'a {
        self.context.fields.iter()
    }

    /// This entry's metadata as `(key, value)` pairs (empty while metadata
    /// is muted).
    pub fn metadata(&self) -> impl Iterator<Item = (&'a str, Value<'a>)> + 'a {
        self.metadata.iter()
    }

    /// `context`'s `Arc` when it is the logger's own, for a transport that
    /// keeps the entry (OTLP) to share it instead of copying it. Asked only
    /// by such a transport, so other entries pay nothing for it.
    #[cfg(feature = "otlp")]
    pub(crate) fn shared_context(&self) -> Option<&'a Arc<Context>> {
        std::ptr::eq(self.context, &**self.logger_context).then_some(self.logger_context)
    }

    /// The logger's context as [`Fields`].
    pub fn context_fields(&self) -> &'a Fields {
        &self.context.fields
    }

    /// This entry's metadata as [`Fields`].
    pub fn metadata_fields(&self) -> &'a Fields {
        self.metadata
    }

    /// The fields written at the root of the line, if the entry has any
    /// ([`RawEntry::root`](crate::RawEntry::root)).
    pub fn root_fields(&self) -> Option<&'a Fields> {
        self.root
    }

    /// The groups this entry is tagged with (LogLayer's groups: by the
    /// logger, [`LogBuilder::with_group`](crate::LogBuilder::with_group) or
    /// `#[with_logger(group = "..")]`), in the order they were added; empty
    /// for an untagged entry.
    ///
    /// ```
    /// use loglayer::{transport::Transport, Entry, LogLayer};
    /// use std::sync::{Arc, Mutex};
    ///
    /// #[derive(Clone, Default)]
    /// struct Groups(Arc<Mutex<Vec<Vec<String>>>>);
    /// impl Transport for Groups {
    ///     fn write(&self, entry: &Entry<'_>) -> std::io::Result<()> {
    ///         self.0.lock().unwrap().push(entry.groups().map(str::to_owned).collect());
    ///         Ok(())
    ///     }
    /// }
    /// let seen = Groups::default();
    /// let log = LogLayer::new(seen.clone());
    /// log.with_group("db").info("query");
    /// log.info("plain");
    /// assert_eq!(*seen.0.lock().unwrap(), [vec!["db".to_owned()], vec![]]);
    /// ```
    pub fn groups(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.groups.iter().map(|g| g.as_ref())
    }

    /// The attached error, if any.
    pub fn error(&self) -> Option<&'a ErrorInfo> {
        self.error
    }

    /// Whether the fast path applies: flattened, no overrides, no collisions.
    #[inline(always)]
    fn simple(&self, root: Root<'_>) -> bool {
        if !self.shape.flattened() || self.root.is_some_and(|f| !f.is_empty()) {
            return false;
        }
        // Flattened, the reserved keys are the line's own: time/level/msg
        // (flag computed once per context) and the error field, or a
        // format's few keys — O(1) lookups each, no scan of the context.
        if !self.context.is_empty() {
            let taken = match root {
                Root::Default => {
                    self.context.has_fixed_reserved
                        || self.context.contains(&self.shape.error_field)
                }
                Root::Format(format) => format
                    .owned_keys(&self.shape.error_field)
                    .any(|k| self.context.contains(k)),
            };
            if taken {
                return false;
            }
        }
        self.metadata
            .keys()
            .all(|k| !self.shape.is_reserved(root, k) && !self.context.contains(k))
    }

    /// Root fields after `time`/`level`/`msg`, in output order, with the
    /// override and collision rules applied (the general path).
    fn plan(&self, root: Root<'_>) -> Vec<(Cow<'a, str>, Out<'a>)> {
        let shape = self.shape;
        let mut out: Vec<(Cow<'a, str>, Out<'a>)> = Vec::new();
        let ctx = self.context.fields.iter_encoded();
        let meta = self.metadata;
        // Metadata keys, hashed when there are many (no quadratic scan).
        let meta_set: Option<std::collections::HashSet<&str>> =
            (meta.len() > 8).then(|| meta.keys().collect());
        let in_meta = |k: &str| match &meta_set {
            Some(set) => set.contains(k),
            None => meta.contains_key(k),
        };
        let same_name =
            shape.context_field.is_some() && shape.context_field == shape.metadata_field;
        match (&shape.context_field, &shape.metadata_field) {
            (None, None) => {
                for (k, v) in ctx.filter(|(k, _)| !in_meta(k)) {
                    out.push((Cow::Borrowed(k), Out::Value(v)));
                }
                for (k, v) in meta.iter_encoded() {
                    out.push((Cow::Borrowed(k), Out::Value(v)));
                }
            }
            (Some(cname), _) if same_name => {
                let mut obj: Vec<(&str, &[u8])> = ctx.filter(|(k, _)| !in_meta(k)).collect();
                obj.extend(meta.iter_encoded());
                if !obj.is_empty() {
                    out.push((Cow::Borrowed(cname.as_str()), Out::Object(obj)));
                }
            }
            (cfield, mfield) => {
                match cfield {
                    Some(name) if !self.context.is_empty() => {
                        out.push((Cow::Borrowed(name.as_str()), Out::Object(ctx.collect())));
                    }
                    Some(_) => {}
                    None => out.extend(ctx.map(|(k, v)| (Cow::Borrowed(k), Out::Value(v)))),
                }
                match mfield {
                    Some(name) if !meta.is_empty() => {
                        out.push((
                            Cow::Borrowed(name.as_str()),
                            Out::Object(meta.iter_encoded().collect()),
                        ));
                    }
                    Some(_) => {}
                    None => out.extend(
                        meta.iter_encoded()
                            .map(|(k, v)| (Cow::Borrowed(k), Out::Value(v))),
                    ),
                }
            }
        }
        // Root fields: at the root whatever the shape, winning over a context
        // or metadata key of the same name there (never over the objects
        // under the field names: a root key equal to one is renamed below).
        if let Some(fields) = self.root.filter(|f| !f.is_empty()) {
            out.retain(|(k, o)| !(matches!(o, Out::Value(_)) && fields.contains_key(k)));
            out.extend(
                fields
                    .iter_encoded()
                    .map(|(k, v)| (Cow::Borrowed(k), Out::Value(v))),
            );
        }
        // Collision rule: user keys equal to a reserved root key get a leading
        // underscore until unique. Field-name keys we placed ourselves are exempt.
        let mut seen: Vec<String> = Vec::new();
        let ours = |k: &str, o: &Out<'_>| {
            matches!(o, Out::Object(_))
                && (shape.context_field.as_deref() == Some(k)
                    || shape.metadata_field.as_deref() == Some(k))
        };
        for i in 0..out.len() {
            let (key, val) = &out[i];
            if ours(key, val) {
                continue;
            }
            if shape.is_reserved(root, key) {
                let mut renamed = format!("_{key}");
                while shape.is_reserved(root, &renamed)
                    || out.iter().any(|(k, _)| *k == renamed)
                    || seen.contains(&renamed)
                {
                    renamed.insert(0, '_');
                }
                seen.push(renamed.clone());
                out[i].0 = Cow::Owned(renamed);
            }
        }
        if let Some(err) = self.error {
            out.push((Cow::Borrowed(shape.error_field.as_str()), Out::Error(err)));
        }
        out
    }

    /// Appends this entry as one JSON object (no trailing newline).
    ///
    /// ```
    /// # use loglayer::{transport::{Transport, CaptureTransport}, LogLayer};
    /// let capture = CaptureTransport::new();
    /// LogLayer::new(capture.clone()).info("hi");
    /// let line = &capture.lines()[0];
    /// assert!(line.starts_with(r#"{"time":""#));
    /// assert!(line.ends_with(r#""level":"info","msg":"hi"}"#));
    /// ```
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"time\":\"");
        json::write_time(out, self.time);
        out.extend_from_slice(level_and_msg_key(self.level));
        json::write_str(out, self.message);
        self.write_fields(Root::Default, out);
        out.push(b'}');
    }

    /// Appends this entry as one JSON object written in `format`: its names
    /// for the time, level and message (and the error, with
    /// [`ErrorFormat::Ecs`](crate::transport::ErrorFormat::Ecs)), its time
    /// and level formats. The rest of the line is what
    /// [`write_json`](Entry::write_json) writes, the collision rule applied
    /// to the format's names; with [`JsonFormat::new()`] the bytes are the
    /// same.
    ///
    /// ```
    /// # use loglayer::{transport::{JsonFormat, Transport}, Entry, LogLayer};
    /// struct Gcp;
    /// impl Transport for Gcp {
    ///     fn write(&self, entry: &Entry<'_>) -> std::io::Result<()> {
    ///         let mut line = Vec::new();
    ///         entry.write_json_with(&JsonFormat::google_cloud(), &mut line);
    ///         let line: serde_json::Value = serde_json::from_slice(&line).unwrap();
    ///         assert_eq!(line["severity"], "WARNING");
    ///         assert_eq!(line["message"], "disk at 90%");
    ///         assert_eq!(line["_severity"], "high"); // the user's key, renamed
    ///         Ok(())
    ///     }
    /// }
    /// let log = LogLayer::new(Gcp);
    /// log.with_metadata(serde_json::json!({"severity": "high"})).warn("disk at 90%");
    /// ```
    pub fn write_json_with(&self, format: &JsonFormat, out: &mut Vec<u8>) {
        format.write_head(out, self.time, self.level, self.message);
        self.write_fields(Root::Format(format), out);
        out.push(b'}');
    }

    /// Writes the fields after the time, level and message, each preceded
    /// by a comma: the context's rendered fragment and the metadata straight
    /// from their encodings when nothing collides, else [`plan`](Self::plan).
    #[inline(always)]
    fn write_fields(&self, root: Root<'_>, out: &mut Vec<u8>) {
        if self.simple(root) {
            if !self.context.is_empty() {
                out.push(b',');
                out.extend_from_slice(self.context.rendered());
            }
            for (k, v) in self.metadata.iter_encoded() {
                out.push(b',');
                json::write_str(out, k);
                out.push(b':');
                crate::value::write_json(out, v);
            }
            if let Some(err) = self.error {
                write_error(out, root, &self.shape.error_field, err);
            }
        } else {
            for (k, v) in self.plan(root) {
                match v {
                    Out::Error(err) => write_error(out, root, &k, err),
                    v => {
                        out.push(b',');
                        json::write_str(out, &k);
                        out.push(b':');
                        write_out(out, &v);
                    }
                }
            }
        }
    }

    /// Calls `f` with each root field after `time`, `level` and `msg`, as
    /// `(key, value)`, in output order — exactly the fields
    /// [`write_json`](Entry::write_json) writes, with the same keys (nested
    /// under the context / metadata field names when set, renamed on a
    /// collision). The error arrives as a map.
    ///
    /// ```
    /// # use loglayer::{transport::Transport, Entry, LogLayer};
    /// struct Keys;
    /// impl Transport for Keys {
    ///     fn write(&self, entry: &Entry<'_>) -> std::io::Result<()> {
    ///         let mut keys = Vec::new();
    ///         entry.for_each_field(|k, v| keys.push((k.to_owned(), v.as_u64())));
    ///         assert_eq!(keys, [("a".to_owned(), Some(1)), ("b".to_owned(), Some(2))]);
    ///         Ok(())
    ///     }
    /// }
    /// let log = LogLayer::new(Keys);
    /// log.with_context(serde_json::json!({"a": 1}));
    /// log.with_metadata(serde_json::json!({"b": 2})).info("x");
    /// ```
    pub fn for_each_field(&self, mut f: impl FnMut(&str, Value<'_>)) {
        let mut buf = Vec::new();
        for (k, v) in self.plan(Root::Default) {
            match v {
                Out::Value(bytes) => f(&k, Value::decode(bytes).0),
                Out::Object(pairs) => {
                    buf.clear();
                    let body = encode::open(&mut buf, encode::MAP);
                    for (k, v) in pairs {
                        encode::key(&mut buf, k);
                        buf.extend_from_slice(v);
                    }
                    encode::close(&mut buf, body);
                    f(&k, Value::decode(&buf).0);
                }
                Out::Error(err) => {
                    let (fields, scalar) = err.to_fields();
                    match fields.get("value").filter(|_| scalar) {
                        Some(v) => f(&k, v),
                        None => {
                            buf.clear();
                            encode::value(&mut buf, &fields);
                            f(&k, Value::decode(&buf).0);
                        }
                    }
                }
            }
        }
    }

    /// This entry as the JSON value [`write_json`](Entry::write_json) writes.
    pub fn to_value(&self) -> serde_json::Value {
        let mut buf = Vec::with_capacity(256);
        self.write_json(&mut buf);
        serde_json::from_slice(&buf).unwrap_or(serde_json::Value::Null)
    }
}

/// Writes `,` and the error under `key` (the error field name), or as the
/// format's error fields.
fn write_error(out: &mut Vec<u8>, root: Root<'_>, key: &str, err: &ErrorInfo) {
    match root {
        Root::Default => {
            out.push(b',');
            json::write_str(out, key);
            out.push(b':');
            err.write_json(out);
        }
        Root::Format(format) => format.write_error(out, key, err),
    }
}

fn write_out(out: &mut Vec<u8>, v: &Out<'_>) {
    match v {
        Out::Value(bytes) => crate::value::write_json(out, bytes),
        Out::Error(err) => err.write_json(out),
        Out::Object(pairs) => {
            out.push(b'{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json::write_str(out, k);
                out.push(b':');
                crate::value::write_json(out, v);
            }
            out.push(b'}');
        }
    }
}
