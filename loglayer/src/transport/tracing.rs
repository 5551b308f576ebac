//! [`TracingTransport`]: loglayer entries re-emitted as `tracing` events
//! (feature `tracing`). The other direction, `tracing` into loglayer, is
//! [`TracingLayer`](crate::bridge::TracingLayer); the two share the bridges'
//! guard against [logging while logging](crate::bridge#logging-while-logging).

use std::io;

use super::{transport_options, Options, Transport};
use crate::bridge::{active, ActiveGuard, Activity};
use crate::json;
use crate::{Entry, Level};

/// A [`Transport`] that re-emits every entry as a `tracing` event, for
/// services whose output goes through a `tracing` subscriber they keep.
///
/// Each entry becomes one event with
///
/// - target `"loglayer"` (a `tracing` target must be known at compile time;
///   filter on it in the subscriber),
/// - the level mapped `trace`→`TRACE` … `error`→`ERROR`, and `fatal`→`ERROR`
///   (`tracing` has no fatal level),
/// - the entry's message as the event's message,
/// - a field `fields` holding the entry's context, metadata and error as one
///   JSON object (exactly the keys a [`JsonTransport`](crate::transport::JsonTransport)
///   line has after `time`, `level` and `msg`), left out when there are none.
///
/// Entries that reached loglayer from `tracing` through
/// [`TracingLayer`](crate::bridge::TracingLayer) are
/// not sent back (the subscriber already has the original event), and entries
/// logged while this transport is emitting are dropped and counted: see
/// [logging while logging](crate::bridge#logging-while-logging).
///
/// ```
/// use loglayer::{transport::TracingTransport, LogLayer};
///
/// let log = LogLayer::new(TracingTransport::new());
/// log.with_context(serde_json::json!({"request_id": "7f3a"}));
/// log.warn("disk at 90%");
/// // → tracing WARN event, target "loglayer": disk at 90% fields={"request_id":"7f3a"}
/// ```
#[derive(Debug)]
pub struct TracingTransport {
    options: Options,
}

impl Default for TracingTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl TracingTransport {
    /// A transport with id `"tracing"` that accepts every level.
    ///
    /// ```
    /// use loglayer::transport::Transport;
    /// assert_eq!(loglayer::transport::TracingTransport::new().id(), "tracing");
    /// ```
    pub fn new() -> Self {
        TracingTransport {
            options: Options::new("tracing"),
        }
    }

    transport_options! {
        example: TracingTransport::new(),
        default_id: "tracing",
        field: options,
        methods: [with_id, with_level, set_enabled],
    }
}

/// One `tracing::event!` per level: the level of a callsite is static.
macro_rules! emit_at {
    ($level:expr, $message:expr, $fields:expr) => {
        match $fields {
            Some(fields) => {
                ::tracing::event!(target: "loglayer", $level, fields = %fields, "{}", $message)
            }
            None => ::tracing::event!(target: "loglayer", $level, "{}", $message),
        }
    };
}

impl Transport for TracingTransport {
    fn write(&self, entry: &Entry<'_>) -> io::Result<()> {
        if active(&[Activity::FromTracing]) {
            return Ok(()); // came from tracing: the subscriber has it already
        }
        if active(&[Activity::ToTracing]) {
            crate::fault::entry_dropped(
                "an entry was logged while TracingTransport was emitting one into `tracing`",
            );
            return Ok(());
        }
        let _active = ActiveGuard::enter(Activity::ToTracing);

        let mut object = Vec::with_capacity(128);
        object.push(b'{');
        entry.for_each_field(|key, value| {
            if object.len() > 1 {
                object.push(b',');
            }
            json::write_str(&mut object, key);
            object.push(b':');
            object.extend_from_slice(value.to_string().as_bytes());
        });
        object.push(b'}');
        let fields = (object.len() > 2).then(|| String::from_utf8_lossy(&object));
        let message = entry.message();
        match entry.level() {
            Level::Trace => emit_at!(::tracing::Level::TRACE, message, fields),
            Level::Debug => emit_at!(::tracing::Level::DEBUG, message, fields),
            Level::Info => emit_at!(::tracing::Level::INFO, message, fields),
            Level::Warn => emit_at!(::tracing::Level::WARN, message, fields),
            Level::Error | Level::Fatal => emit_at!(::tracing::Level::ERROR, message, fields),
        }
        Ok(())
    }

    transport_options! { accessors: options }
}
