//! Plugins: LogLayer's lifecycle hooks, Rust-shaped.
//!
//! A plugin sees and may change what a logger is given and what it sends out.
//! Hooks run in registration order, each seeing the previous plugin's result.
//!
//! | hook | when | effect of its result |
//! |---|---|---|
//! | [`on_context_called`](Plugin::on_context_called) | `with_context` | `None` ignores that call |
//! | [`on_metadata_called`](Plugin::on_metadata_called) | an entry with metadata | `None` drops the metadata (the entry is still sent) |
//! | [`on_before_data_out`](Plugin::on_before_data_out) | each entry | edits context, metadata and error in place ([`LogData`]) |
//! | [`on_before_message_out`](Plugin::on_before_message_out) | each entry | edits the message |
//! | [`transform_log_level`](Plugin::transform_log_level) | each entry | `Some(level)` changes its level |
//! | [`should_log`](Plugin::should_log) | each entry, once, after the above | `false` drops the entry (filters, sampling) |
//! | [`should_send_to_logger`](Plugin::should_send_to_logger) | each entry × transport | `false` skips that transport |
//!
//! **Faults.** A hook that panics never reaches the caller: the panic is
//! caught, counted in [`crate::failures()`] and reported once on stderr. Plugins
//! may hide data, so a panic *fails closed*: in `on_context_called` the call is
//! ignored; in `on_metadata_called`, `on_before_data_out` and
//! `on_before_message_out` the entry is dropped (and counted); in
//! `should_log` the entry is dropped; in `should_send_to_logger` that transport is skipped; in `transform_log_level`
//! the level is kept.

mod filter;
mod redact;
mod sample;

pub use filter::Filter;
pub use redact::Redact;
pub use sample::Sample;

use std::borrow::Cow;

use crate::value::Fields;
use crate::{Entry, Level};

/// The structured data of one entry, as [`Plugin::on_before_data_out`] and
/// [`Plugin::transform_log_level`] see it: the context, the metadata and the
/// error, each as typed [`Fields`].
///
/// Reading is free; the first [`context_mut`](LogData::context_mut) of an
/// entry copies the logger's context (the logger's own is never changed).
///
/// ```
/// use loglayer::{plugin::LogData, value::{Fields, Value}};
///
/// let mut context = Fields::new();
/// context.insert("user", 7);
/// let mut data = LogData::new(context, Fields::new(), None);
/// data.metadata_mut().insert("seen", true);
/// assert_eq!(data.context().get("user"), Some(Value::U64(7)));
/// assert_eq!(data.metadata().get("seen"), Some(Value::Bool(true)));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogData<'a> {
    pub(crate) context: Cow<'a, Fields>,
    pub(crate) metadata: Fields,
    /// Fields for the root of the line ([`RawEntry::root`](crate::RawEntry::root)).
    pub(crate) root: Option<Fields>,
    pub(crate) error: Option<Fields>,
}

impl LogData<'static> {
    /// Data holding these fields: for testing a plugin on its own.
    pub fn new(context: Fields, metadata: Fields, error: Option<Fields>) -> Self {
        LogData {
            context: Cow::Owned(context),
            metadata,
            root: None,
            error,
        }
    }
}

impl LogData<'_> {
    /// The logger's context (empty while context output is muted).
    pub fn context(&self) -> &Fields {
        &self.context
    }

    /// The context, to change for this entry only.
    pub fn context_mut(&mut self) -> &mut Fields {
        self.context.to_mut()
    }

    /// The entry's metadata (empty while metadata output is muted).
    pub fn metadata(&self) -> &Fields {
        &self.metadata
    }

    /// The metadata, to change.
    pub fn metadata_mut(&mut self) -> &mut Fields {
        &mut self.metadata
    }

    /// The error as it will be written: `message` and `sources` (the
    /// `Display` text of the error and of each source), or the fields of a
    /// [custom serializer](crate::LogLayerBuilder::error_serializer)'s object
    /// (a custom value that is not an object is the one field `value`).
    pub fn error(&self) -> Option<&Fields> {
        self.error.as_ref()
    }

    /// The error, to change.
    pub fn error_mut(&mut self) -> Option<&mut Fields> {
        self.error.as_mut()
    }

    /// Removes the error from the entry.
    pub fn remove_error(&mut self) {
        self.error = None;
    }

    /// The fields written at the root of the line, if the entry has any
    /// ([`RawEntry::root`](crate::RawEntry::root)).
    pub fn root(&self) -> Option<&Fields> {
        self.root.as_ref()
    }

    /// The root fields, to change.
    pub fn root_mut(&mut self) -> Option<&mut Fields> {
        self.root.as_mut()
    }
}

/// A hook into the logging pipeline.
///
/// # For implementors
///
/// Every hook has a default that changes nothing, so implement only the ones
/// you need, and give the plugin an [`id`](Plugin::id) to remove or disable it
/// by. Hooks run on the caller's thread inside the log call: keep them quick,
/// and never block.
///
/// ```
/// use loglayer::{plugin::{LogData, Plugin}, transport::CaptureTransport, LogLayer};
///
/// /// Adds the host name to every entry.
/// struct Host;
/// impl Plugin for Host {
///     fn id(&self) -> &str { "host" }
///     fn on_before_data_out(&self, _level: loglayer::Level, data: &mut LogData<'_>) {
///         data.metadata_mut().insert("host", "web-1");
///     }
/// }
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::builder().transport(capture.clone()).plugin(Host).build();
/// log.info("up");
/// assert_eq!(capture.entries()[0]["host"], "web-1");
/// ```
pub trait Plugin: Send + Sync + 'static {
    /// The id used by `remove_plugin`, `enable_plugin` and `disable_plugin`.
    /// Defaults to the type's name.
    fn id(&self) -> &str {
        std::any::type_name::<Self>()
    }

    /// Called by `with_context` with the keys being added; return `None` to
    /// ignore the call.
    fn on_context_called(&self, context: Fields) -> Option<Fields> {
        Some(context)
    }

    /// Called with an entry's metadata; return `None` to drop it.
    fn on_metadata_called(&self, metadata: Fields) -> Option<Fields> {
        Some(metadata)
    }

    /// Called with the entry's data before it goes out; edit it in place.
    fn on_before_data_out(&self, level: Level, data: &mut LogData<'_>) {
        let _ = (level, data);
    }

    /// Called with the entry's message (prefix applied); edit it in place.
    fn on_before_message_out(&self, level: Level, message: &mut String) {
        let _ = (level, message);
    }

    /// Return `Some(level)` to change the entry's level.
    fn transform_log_level(
        &self,
        level: Level,
        data: &LogData<'_>,
        message: &str,
    ) -> Option<Level> {
        let _ = (level, data, message);
        None
    }

    /// Return `false` to drop the entry entirely. Called once per entry, after
    /// `transform_log_level` and before any transport — the place for filters
    /// and sampling, whose decision must be the same for every transport.
    fn should_log(&self, entry: &Entry<'_>) -> bool {
        let _ = entry;
        true
    }

    /// Return `false` to keep the entry from the transport `transport_id`.
    fn should_send_to_logger(&self, transport_id: &str, entry: &Entry<'_>) -> bool {
        let _ = (transport_id, entry);
        true
    }
}

impl<P: Plugin + ?Sized> Plugin for std::sync::Arc<P> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn on_context_called(&self, c: Fields) -> Option<Fields> {
        (**self).on_context_called(c)
    }
    fn on_metadata_called(&self, m: Fields) -> Option<Fields> {
        (**self).on_metadata_called(m)
    }
    fn on_before_data_out(&self, level: Level, data: &mut LogData<'_>) {
        (**self).on_before_data_out(level, data)
    }
    fn on_before_message_out(&self, level: Level, message: &mut String) {
        (**self).on_before_message_out(level, message)
    }
    fn transform_log_level(
        &self,
        level: Level,
        data: &LogData<'_>,
        message: &str,
    ) -> Option<Level> {
        (**self).transform_log_level(level, data, message)
    }
    fn should_log(&self, entry: &Entry<'_>) -> bool {
        (**self).should_log(entry)
    }
    fn should_send_to_logger(&self, transport_id: &str, entry: &Entry<'_>) -> bool {
        (**self).should_send_to_logger(transport_id, entry)
    }
}
