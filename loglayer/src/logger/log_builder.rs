//! Building **one entry**: [`LogBuilder`] (from
//! [`LogLayer::with_metadata`] / [`LogLayer::with_error`]), [`RawEntry`]
//! (for [`LogLayer::raw`]) and [`OnlyOptions`] (for `error_only_with` /
//! `metadata_only_with`). Each ends in one call to the pipeline.
//!
//! Not to be confused with [`LogLayerBuilder`](crate::LogLayerBuilder)
//! (`builder.rs`), which builds a **logger**: a `LogBuilder` borrows an
//! existing logger and lives for one call.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;

use serde_core::Serialize;

use super::LogLayer;
use crate::context::merge;
use crate::error::{AsError, ErrorInfo};
use crate::json;
use crate::lazy::Lazy;
use crate::pipeline::{Meta, Msg, Record};
use crate::scratch;
use crate::value::Fields;
use crate::Level;

/// Options for [`LogLayer::error_only_with`] and [`LogLayer::metadata_only_with`].
///
/// Start from [`OnlyOptions::new`] (or `Default`) and set what differs; an
/// option left unset keeps the method's default. The fields are private so
/// that options can be added without breaking callers.
///
/// ```
/// use loglayer::{Level, OnlyOptions};
/// let opts = OnlyOptions::new().level(Level::Warn).copy_msg(true);
/// assert_ne!(opts, OnlyOptions::default());
/// ```
///
/// ```compile_fail
/// // Not constructible field by field: use the builder methods.
/// let opts = loglayer::OnlyOptions { level: None, copy_msg: None };
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OnlyOptions {
    /// The entry's level; `None` for the method's default (error / info).
    pub(super) level: Option<Level>,
    /// For `error_only_with`: use the error's message as the entry's message;
    /// `None` for the logger's `copy_msg_on_only_error` setting.
    pub(super) copy_msg: Option<bool>,
}

impl OnlyOptions {
    /// Every option at the method's default (the same as `Default`).
    pub const fn new() -> Self {
        OnlyOptions {
            level: None,
            copy_msg: None,
        }
    }

    /// The entry's level (default: error for `error_only_with`, info for
    /// `metadata_only_with`).
    pub const fn level(self, level: Level) -> Self {
        OnlyOptions {
            level: Some(level),
            ..self
        }
    }

    /// For `error_only_with`: whether the error's message becomes the entry's
    /// message (default: the logger's
    /// [`copy_msg_on_only_error`](crate::LogLayerBuilder::copy_msg_on_only_error)).
    pub const fn copy_msg(self, copy: bool) -> Self {
        OnlyOptions {
            copy_msg: Some(copy),
            ..self
        }
    }
}

/// A fully specified entry for [`LogLayer::raw`].
///
/// ```
/// use loglayer::{transport::CaptureTransport, Level, LogLayer, RawEntry};
/// use serde_json::json;
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::new(capture.clone());
/// log.raw(RawEntry::new(Level::Warn, "custom")
///     .metadata(json!({"a": 1}))
///     .context(json!({"tenant": "x"})));
/// let e = &capture.entries()[0];
/// assert_eq!((e["level"].as_str(), e["a"].as_i64(), e["tenant"].as_str()), (Some("warn"), Some(1), Some("x")));
/// ```
#[derive(Debug)]
pub struct RawEntry<'a> {
    pub(super) level: Level,
    pub(super) message: String,
    pub(super) metadata: Option<Fields>,
    pub(super) context: Option<Fields>,
    pub(super) root: Option<Fields>,
    pub(super) error: Option<&'a (dyn Error + 'a)>,
}

impl<'a> RawEntry<'a> {
    /// An entry with a level and message.
    pub fn new(level: Level, message: impl fmt::Display) -> Self {
        let mut text = scratch::string();
        json::append_message(&mut text, format_args!("{message}"));
        RawEntry {
            level,
            message: text,
            metadata: None,
            context: None,
            root: None,
            error: None,
        }
    }

    /// Sets the metadata (an object; anything else is kept under `value`).
    pub fn metadata(mut self, value: impl Serialize) -> Self {
        let mut fields = self.metadata.take().unwrap_or_else(scratch::fields);
        fields.clear();
        fields.extend_from_serialize(&value);
        self.metadata = Some(fields);
        self
    }

    /// Replaces the logger's context for this entry only.
    pub fn context(mut self, value: impl Serialize) -> Self {
        self.context = Some(Fields::from_serialize(&value));
        self
    }

    /// Fields written at the **root** of the line (LogLayer's `rootData`),
    /// even when the logger nests context and metadata under
    /// [`context_field_name`](crate::LogLayerBuilder::context_field_name) /
    /// [`metadata_field_name`](crate::LogLayerBuilder::metadata_field_name).
    /// A root key wins over a context or metadata key of the same name at the
    /// root. Plugins see and may change them
    /// ([`LogData::root`](crate::plugin::LogData::root)), so redaction covers
    /// them. Unlike LogLayer, a root key cannot overwrite `time`, `level`,
    /// `msg` or the error field: the collision rule renames it (`_msg`), as
    /// any other key.
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, Level, LogLayer, RawEntry};
    /// use serde_json::json;
    ///
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .metadata_field_name("meta")
    ///     .build();
    /// log.raw(RawEntry::new(Level::Info, "login")
    ///     .metadata(json!({"attempt": 2}))
    ///     .root(json!({"user_id": "123"})));
    /// let e = &capture.entries()[0];
    /// assert_eq!(e["user_id"], "123"); // at the root
    /// assert_eq!(e["meta"]["attempt"], 2); // nested as configured
    /// ```
    pub fn root(mut self, value: impl Serialize) -> Self {
        self.root = Some(Fields::from_serialize(&value));
        self
    }

    /// Attaches an error.
    pub fn error<E: AsError + ?Sized>(mut self, err: &'a E) -> Self {
        self.error = Some(err.as_error());
        self
    }
}

impl Drop for RawEntry<'_> {
    fn drop(&mut self) {
        scratch::give_string(std::mem::take(&mut self.message));
        if let Some(m) = self.metadata.take() {
            scratch::give_fields(m);
        }
    }
}

/// One entry being built: metadata and an error, then a level method sends it.
///
/// Its buffers are spares of the thread (given back when it is sent or
/// dropped), so building and sending an entry allocates nothing in steady
/// state.
///
/// ```
/// # let capture = loglayer::transport::CaptureTransport::new();
/// # let log = loglayer::LogLayer::new(capture.clone());
/// log.with_metadata(serde_json::json!({"a": 1}))
///     .with_error(&std::io::Error::other("x"))
///     .with_metadata(serde_json::json!({"b": 2}))
///     .warn("two keys and an error");
/// let e = &capture.entries()[0];
/// assert_eq!((e["a"].as_i64(), e["b"].as_i64()), (Some(1), Some(2)));
/// assert_eq!(e["err"]["message"], "x");
/// ```
#[must_use = "an entry is sent only by a level method such as .info(...)"]
pub struct LogBuilder<'a> {
    logger: &'a LogLayer,
    metadata: Fields,
    lazies: Vec<(String, Lazy)>,
    error: Option<ErrorInfo>,
    /// With [`with_group`](LogBuilder::with_group): a child of `logger`
    /// that tags with the entry's groups, which sends the entry.
    tagged: Option<LogLayer>,
}

impl Drop for LogBuilder<'_> {
    fn drop(&mut self) {
        scratch::give_fields(std::mem::take(&mut self.metadata));
        if let Some(e) = self.error.take() {
            scratch::give_error(e);
        }
    }
}

impl fmt::Debug for LogBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogBuilder")
            .field("metadata", &self.metadata)
            .field("lazies", &self.lazies.len())
            .field("error", &self.error)
            .field("tagged", &self.tagged)
            .finish_non_exhaustive()
    }
}

macro_rules! builder_level_methods {
    ($($name:ident => $level:ident,)*) => {$(
        #[doc = concat!("Sends the entry at ", stringify!($name), " level.")]
        pub fn $name(self, message: impl fmt::Display) {
            self.log(Level::$level, message);
        }
    )*};
}

impl<'a> LogBuilder<'a> {
    pub(super) fn new(logger: &'a LogLayer) -> Self {
        LogBuilder {
            logger,
            metadata: scratch::fields(),
            lazies: Vec::new(),
            error: None,
            tagged: None,
        }
    }

    /// Adds metadata; keys already set are replaced.
    pub fn with_metadata(mut self, value: impl Serialize) -> Self {
        merge(&mut self.metadata, &mut self.lazies, |m| {
            crate::lazy::extend_deferring(m, &value)
        });
        self
    }

    /// Attaches an error (replacing an earlier one).
    pub fn with_error<E: AsError + ?Sized>(mut self, err: &E) -> Self {
        if let Some(old) = self.error.take() {
            scratch::give_error(old);
        }
        self.error = Some(self.logger.capture_error(err.as_error()));
        self
    }

    /// Tags this entry with `group`, on top of the groups its logger tags
    /// with (LogLayer's `withGroup` on a builder): it goes to the union of
    /// its groups' transports, each group's level and on/off switch applied;
    /// see [`Group`](crate::Group).
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, Group, LogLayer};
    ///
    /// let console = CaptureTransport::with_id("console");
    /// let datadog = CaptureTransport::with_id("datadog");
    /// let log = LogLayer::builder()
    ///     .transport(console.clone())
    ///     .transport(datadog.clone())
    ///     .group("database", Group::new(["datadog"]))
    ///     .build();
    /// log.with_metadata(serde_json::json!({"query": "SELECT 1"}))
    ///     .with_group("database")
    ///     .error("query failed");
    /// assert_eq!(datadog.entries()[0]["query"], "SELECT 1");
    /// assert!(console.is_empty());
    /// ```
    ///
    /// The entry is sent through a child of the logger that carries its
    /// groups (a few small allocations for this entry; entries without
    /// `with_group` allocate nothing).
    pub fn with_group(self, group: impl Into<Cow<'static, str>>) -> Self {
        self.with_groups([group])
    }

    /// [`with_group`](LogBuilder::with_group) with several groups.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, Group, LogLayer};
    /// # let a = CaptureTransport::with_id("a");
    /// # let b = CaptureTransport::with_id("b");
    /// # let log = LogLayer::builder().transport(a.clone()).transport(b.clone())
    /// #     .group("database", Group::new(["a"])).group("auth", Group::new(["b"])).build();
    /// log.with_error(&std::io::Error::other("timeout"))
    ///     .with_groups(["database", "auth"])
    ///     .error("auth db connection failed");
    /// assert_eq!((a.len(), b.len()), (1, 1));
    /// ```
    pub fn with_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Cow<'static, str>>,
    {
        let base = self.tagged.as_ref().unwrap_or(self.logger);
        self.tagged = Some(base.with_groups(groups));
        self
    }

    builder_level_methods! {
        trace => Trace,
        debug => Debug,
        info => Info,
        warn => Warn,
        error => Error,
        fatal => Fatal,
    }

    /// Sends the entry at `level`.
    pub fn log(self, level: Level, message: impl fmt::Display) {
        self.send(level, Msg::Display(&message));
    }

    /// Sends the entry at `level` with `msg`.
    pub(super) fn send(mut self, level: Level, msg: Msg<'_>) {
        let logger = self.tagged.as_ref().unwrap_or(self.logger);
        if logger.inner.is_enabled(level) {
            // Lazy values run only now that the entry is known to be sent.
            for (k, l) in &self.lazies {
                self.metadata.push_with(k, |buf| l.encode(buf));
            }
            logger.inner.emit(Record {
                level,
                msg,
                meta: Meta::List(&self.metadata),
                error: self.error.as_ref(),
                target: None,
                context: None,
                root: None,
            });
        }
    }
}
