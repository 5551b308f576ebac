//! [`LogLayer`]: the logger handle, and its fluent methods that log.
//!
//! A `LogLayer` is an `Arc` of [`Inner`] (`state.rs`). Its methods are
//! grouped by what they act on, one file each:
//!
//! | file | one idea |
//! |---|---|
//! | `mod.rs` | the handle: `new`, the level methods, entries with metadata or an error, `raw`, `child`, `with_prefix` |
//! | `state.rs` | what a logger holds ([`Inner`], its config and swapped state) and [`Frozen`], a logger at one moment |
//! | `levels.rs` | which entries get through: level mask, `set_level` and friends, mutes |
//! | `level_control.rs` | [`LevelControl`]: levels that change while the program runs |
//! | `attached.rs` | transports and plugins by id, `flush` |
//! | `groups.rs` | [`Group`]s: tagging (`with_group`) and the routing table, changed at run time |
//! | `buffer.rs` | [`FingersCrossed`]: entries below the level kept per scope, written if it fails |
//! | `builder.rs` | [`LogLayerBuilder`]: builds a **logger** |
//! | `log_builder.rs` | [`LogBuilder`], [`RawEntry`], [`OnlyOptions`]: build **one entry** |
//!
//! The context methods (`with_context`, `get_context`, `clear_context…`) are
//! in `crate::context`, beside the merge rule they use; what happens to an
//! entry once a method has built it is in `crate::pipeline`.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use serde_core::Serialize;

mod attached;
mod buffer;
mod builder;
mod groups;
mod level_control;
mod levels;
mod log_builder;
mod state;

pub use self::attached::DuplicatePluginError;
pub(crate) use self::buffer::{Buffer, Buffered, Released, Stored};
pub use self::buffer::{BufferStats, FingersCrossed};
pub use self::builder::LogLayerBuilder;
pub(crate) use self::groups::GroupName;
pub use self::groups::{Group, Ungrouped};
pub use self::level_control::LevelControl;
pub(crate) use self::levels::{
    default_settled, generation_of, hint, levels_changed, Verdict, MUTE_CONTEXT, MUTE_METADATA,
    NO_TARGET_SET, UNSETTLED,
};
pub use self::log_builder::{LogBuilder, OnlyOptions, RawEntry};
pub(crate) use self::state::{AttachedPlugin, Config, FreezeCache, Frozen, Inner, State};
use crate::context::Context;
use crate::error::{AsError, ErrorInfo};
use crate::pipeline::{Meta, Msg, Record};
use crate::transport::Transport;
use crate::value::Fields;
use crate::Level;

/// A logger: context, level, transports and plugins.
///
/// `LogLayer` is a cheap handle (`Arc` inside): clones are the **same** logger,
/// so [`with_context`](LogLayer::with_context), level and transport changes
/// through one clone are seen by all. [`child`](LogLayer::child) makes an
/// independent logger.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
/// use serde_json::json;
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::new(capture.clone());
/// log.with_context(json!({"request_id": "7f3a"}));
/// log.with_metadata(json!({"order_id": 42})).info("shipping");
/// log.info("done");
///
/// let entries = capture.entries();
/// assert_eq!(entries[0]["order_id"], 42);
/// assert_eq!(entries[1]["request_id"], "7f3a");
/// assert!(entries[1].get("order_id").is_none()); // metadata is per entry
/// ```
#[derive(Clone)]
pub struct LogLayer {
    pub(crate) inner: Arc<Inner>,
}

// A panic inside a log call never leaves a logger half-updated: every change
// is one atomic store or swap. So a logger can be used across `catch_unwind`.
impl std::panic::UnwindSafe for LogLayer {}
impl std::panic::RefUnwindSafe for LogLayer {}

impl fmt::Debug for LogLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.load();
        f.debug_struct("LogLayer")
            .field("context", &state.context.fields)
            .field(
                "transports",
                &state
                    .transports
                    .iter()
                    .map(|t| t.id().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field(
                "plugins",
                &state
                    .plugins
                    .iter()
                    .map(|p| p.plugin.id().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field("prefix", &self.inner.config.prefix)
            .finish_non_exhaustive()
    }
}

macro_rules! level_methods {
    ($($(#[$doc:meta])* $name:ident => $level:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self, message: impl fmt::Display) {
            self.log(Level::$level, message);
        }
    )*};
}

impl LogLayer {
    /// A logger with one transport, every level enabled.
    ///
    /// ```
    /// let log = loglayer::LogLayer::new(loglayer::transport::JsonTransport::stdout());
    /// log.info("hello");
    /// ```
    pub fn new(transport: impl Transport) -> Self {
        Self::builder().transport(transport).build()
    }

    /// A builder for transports, plugins, level and output options.
    pub fn builder() -> LogLayerBuilder {
        LogLayerBuilder::new()
    }

    level_methods! {
        /// Logs `message` at trace level.
        trace => Trace;
        /// Logs `message` at debug level.
        debug => Debug;
        /// Logs `message` at info level.
        ///
        /// ```
        /// # let capture = loglayer::transport::CaptureTransport::new();
        /// # let log = loglayer::LogLayer::new(capture.clone());
        /// log.info(format_args!("{} items", 3));
        /// # assert_eq!(capture.messages(), ["3 items"]);
        /// ```
        info => Info;
        /// Logs `message` at warn level.
        warn => Warn;
        /// Logs `message` at error level.
        error => Error;
        /// Logs `message` at fatal level (it does not exit the process).
        fatal => Fatal;
    }

    /// Logs `message` at `level`.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.log(loglayer::Level::Warn, "careful");
    /// # assert_eq!(capture.entries()[0]["level"], "warn");
    /// ```
    pub fn log(&self, level: Level, message: impl fmt::Display) {
        if self.inner.is_enabled(level) {
            self.inner.emit(Record {
                level,
                msg: Msg::Display(&message),
                meta: Meta::None,
                error: None,
                target: None,
                context: None,
                root: None,
            });
        }
    }

    /// Starts an entry with metadata (an object: its keys become fields of
    /// this entry only). Chain more `with_metadata`/`with_error`, then a level.
    ///
    /// A value that is not an object is kept under the key `value`.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// #[derive(serde::Serialize)]
    /// struct Order { id: u64 }
    /// log.with_metadata(Order { id: 42 }).with_metadata(serde_json::json!({"retry": true})).info("shipping");
    /// let e = &capture.entries()[0];
    /// assert_eq!((e["id"].as_u64(), e["retry"].as_bool()), (Some(42), Some(true)));
    /// ```
    pub fn with_metadata(&self, value: impl Serialize) -> LogBuilder<'_> {
        LogBuilder::new(self).with_metadata(value)
    }

    /// Starts an entry with an error attached (its message and source chain).
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// let err = std::io::Error::other("disk full");
    /// log.with_error(&err).error("save failed");
    /// assert_eq!(capture.entries()[0]["err"]["message"], "disk full");
    /// ```
    pub fn with_error<E: AsError + ?Sized>(&self, err: &E) -> LogBuilder<'_> {
        LogBuilder::new(self).with_error(err)
    }

    /// Logs only an error, at error level (LogLayer's `errorOnly`). The message
    /// is empty unless `copy_msg_on_only_error` is set.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.error_only(&std::io::Error::other("boom"));
    /// let e = &capture.entries()[0];
    /// assert_eq!((e["level"].as_str(), e["msg"].as_str()), (Some("error"), Some("")));
    /// ```
    pub fn error_only<E: AsError + ?Sized>(&self, err: &E) {
        self.error_only_with(err, OnlyOptions::default());
    }

    /// [`error_only`](LogLayer::error_only) with another level or message rule.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// use loglayer::{Level, OnlyOptions};
    /// log.error_only_with(&std::io::Error::other("boom"),
    ///     OnlyOptions::new().level(Level::Warn).copy_msg(true));
    /// let e = &capture.entries()[0];
    /// assert_eq!((e["level"].as_str(), e["msg"].as_str()), (Some("warn"), Some("boom")));
    /// ```
    pub fn error_only_with<E: AsError + ?Sized>(&self, err: &E, options: OnlyOptions) {
        let level = options.level.unwrap_or(Level::Error);
        if !self.inner.is_enabled(level) {
            return;
        }
        let info = self.capture_error(err.as_error());
        let copy = options
            .copy_msg
            .unwrap_or(self.inner.config.copy_msg_on_only_error);
        let message: &str = &info.message;
        self.inner.emit(Record {
            level,
            msg: if copy {
                Msg::Display(&message)
            } else {
                Msg::None
            },
            meta: Meta::None,
            error: Some(&info),
            target: None,
            context: None,
            root: None,
        });
    }

    /// Logs only metadata, at info level with an empty message (LogLayer's
    /// `metadataOnly`).
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.metadata_only(serde_json::json!({"queue_depth": 17}));
    /// assert_eq!(capture.entries()[0]["queue_depth"], 17);
    /// ```
    pub fn metadata_only(&self, value: impl Serialize) {
        self.metadata_only_with(value, OnlyOptions::default());
    }

    /// [`metadata_only`](LogLayer::metadata_only) at another level.
    pub fn metadata_only_with(&self, value: impl Serialize, options: OnlyOptions) {
        let level = options.level.unwrap_or(Level::Info);
        if self.inner.is_enabled(level) {
            self.with_metadata(value).send(level, Msg::None);
        }
    }

    /// Sends a fully specified entry through the whole pipeline (plugins,
    /// transports), bypassing nothing but the builder.
    pub fn raw(&self, mut entry: RawEntry<'_>) {
        if !self.inner.is_enabled(entry.level) {
            return;
        }
        let info = entry.error.map(|e| self.capture_error(e));
        let empty = Fields::new();
        let meta = entry.metadata.as_ref().unwrap_or(&empty);
        // Replaces the logger's context for this entry: nothing to merge.
        let context = entry.context.take().map(Context::new);
        self.inner.emit(Record {
            level: entry.level,
            msg: Msg::Display(&entry.message),
            meta: Meta::List(meta),
            error: info.as_ref(),
            target: None,
            context: context.as_ref(),
            root: entry.root.as_ref(),
        });
        if let Some(info) = info {
            crate::scratch::give_error(info);
        }
    }

    pub(crate) fn capture_error(&self, err: &(dyn Error + '_)) -> ErrorInfo {
        self.inner.capture_error(err)
    }

    /// A new logger with a snapshot of this one's context, level, mutes,
    /// transports and plugins; from then on the two evolve independently.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.with_context(serde_json::json!({"app": "shop"}));
    /// let child = log.child();
    /// child.with_context(serde_json::json!({"request_id": "r1"}));
    /// assert!(log.get_context().get("request_id").is_none());
    /// assert_eq!(child.get_context()["app"], "shop");
    /// ```
    pub fn child(&self) -> LogLayer {
        self.inner.freeze().into_child()
    }

    /// A child logger whose messages start with `prefix` and a space.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.with_prefix("[db]").info("connected");
    /// assert_eq!(capture.messages(), ["[db] connected"]);
    /// ```
    pub fn with_prefix(&self, prefix: impl Into<String>) -> LogLayer {
        let prefix = Some(Arc::from(prefix.into()));
        self.child_with_config(|config| config.prefix = prefix)
    }

    /// A [`child`](LogLayer::child) whose config is changed by `f`.
    pub(crate) fn child_with_config(&self, f: impl FnOnce(&mut Config)) -> LogLayer {
        let mut frozen = self.inner.freeze();
        let mut config = Config::clone(&frozen.state.config);
        f(&mut config);
        frozen.state = Arc::new(State {
            config: Arc::new(config),
            ..State::clone(&frozen.state)
        });
        frozen.into_child()
    }

    /// A [`child`](LogLayer::child) with the context fields that `add`
    /// writes (about `room`: fields, bytes), built in one step: one context,
    /// rendered once (the request middleware's per-request logger). With
    /// plugins, their `on_context_called` sees the fields, as through
    /// [`with_context`](LogLayer::with_context).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn child_with_fields(
        &self,
        room: (usize, usize),
        add: impl FnOnce(&mut Fields),
    ) -> LogLayer {
        let frozen = self.inner.freeze();
        if frozen.has_plugins() {
            let child = frozen.into_child();
            let mut fields = Fields::new();
            add(&mut fields);
            child.add_context_fields(fields, Vec::new());
            child
        } else {
            frozen.into_child_with_fields(room, add)
        }
    }

    /// Whether two handles are the same logger.
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    /// assert!(log.ptr_eq(&log.clone()));
    /// assert!(!log.ptr_eq(&log.child()));
    /// ```
    pub fn ptr_eq(&self, other: &LogLayer) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}
