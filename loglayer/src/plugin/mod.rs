//! Plugins: LogLayer's lifecycle hooks, Rust-shaped.
//!
//! A plugin sees and may change what a logger is given and what it sends out.
//! Hooks run in registration order, each seeing the previous plugin's result.
//!
//! | hook | when | effect of its result |
//! |---|---|---|
//! | [`on_context_called`](Plugin::on_context_called) | `with_context` | `None` ignores that call |
//! | [`on_metadata_called`](Plugin::on_metadata_called) | an entry with metadata | `None` drops the metadata (the entry is still sent) |
//! | [`on_before_data_out`](Plugin::on_before_data_out) | each entry | edits context, metadata and error in place |
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

use serde_json::{Map, Value};

use crate::{Entry, Level};

/// The structured data of one entry, as [`Plugin::on_before_data_out`] sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogData {
    /// The logger's context (empty while muted).
    pub context: Map<String, Value>,
    /// The entry's metadata (empty while muted).
    pub metadata: Map<String, Value>,
    /// The error as it will be written, e.g. `{"message": "...", "sources": [...]}`.
    pub error: Option<Value>,
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
///     fn on_before_data_out(&self, _level: loglayer::Level, data: &mut LogData) {
///         data.metadata.insert("host".into(), "web-1".into());
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
    fn on_context_called(&self, context: Map<String, Value>) -> Option<Map<String, Value>> {
        Some(context)
    }

    /// Called with an entry's metadata; return `None` to drop it.
    fn on_metadata_called(&self, metadata: Map<String, Value>) -> Option<Map<String, Value>> {
        Some(metadata)
    }

    /// Called with the entry's data before it goes out; edit it in place.
    fn on_before_data_out(&self, level: Level, data: &mut LogData) {
        let _ = (level, data);
    }

    /// Called with the entry's message (prefix applied); edit it in place.
    fn on_before_message_out(&self, level: Level, message: &mut String) {
        let _ = (level, message);
    }

    /// Return `Some(level)` to change the entry's level.
    fn transform_log_level(&self, level: Level, data: &LogData, message: &str) -> Option<Level> {
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
    fn on_context_called(&self, c: Map<String, Value>) -> Option<Map<String, Value>> {
        (**self).on_context_called(c)
    }
    fn on_metadata_called(&self, m: Map<String, Value>) -> Option<Map<String, Value>> {
        (**self).on_metadata_called(m)
    }
    fn on_before_data_out(&self, level: Level, data: &mut LogData) {
        (**self).on_before_data_out(level, data)
    }
    fn on_before_message_out(&self, level: Level, message: &mut String) {
        (**self).on_before_message_out(level, message)
    }
    fn transform_log_level(&self, level: Level, data: &LogData, message: &str) -> Option<Level> {
        (**self).transform_log_level(level, data, message)
    }
    fn should_log(&self, entry: &Entry<'_>) -> bool {
        (**self).should_log(entry)
    }
    fn should_send_to_logger(&self, transport_id: &str, entry: &Entry<'_>) -> bool {
        (**self).should_send_to_logger(transport_id, entry)
    }
}
