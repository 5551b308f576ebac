//! What the caller's thread queues for one entry ([`Queued`]: an owned copy
//! of its typed values, nothing rendered), and how the export thread maps it onto an OpenTelemetry
//! log record ([`Queued::fill`]): the whole mapping, in one function.

use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord as _, Severity};
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry_sdk::logs::SdkLogRecord;

use std::sync::Arc;

use super::value::any_value;
use crate::context::Context;
use crate::value::{Fields, Value};
use crate::{Entry, ErrorInfo, Level};

/// Context keys that become the record's trace context.
const TRACE_ID: &str = "trace_id";
const SPAN_ID: &str = "span_id";
const TRACE_FLAGS: &str = "trace_flags";

/// The buffers of a [`Queued`] entry, handed back by the export thread and
/// reused by callers (see [`super::worker::Queue::push`]), so that queuing
/// an entry allocates nothing in steady state. Boxed, so that an entry and a
/// spare move as one pointer.
#[derive(Default)]
pub(crate) struct Buffers {
    message: String,
    /// A copy of the context when it is not the logger's own (computed for
    /// this entry: lazy values, plugins' changes, `raw`'s).
    context: Fields,
    metadata: Fields,
    /// `RawEntry::root`'s fields (empty without).
    root: Fields,
}

impl Buffers {
    /// Bytes held.
    pub(crate) fn size(&self) -> usize {
        self.message.capacity()
            + self.context.capacity_bytes()
            + self.metadata.capacity_bytes()
            + self.root.capacity_bytes()
    }

    /// Whether these buffers are small enough to keep as a spare.
    pub(crate) fn worth_keeping(&self) -> bool {
        self.size() <= 4 * 1024
    }
}

/// One entry, copied off the caller's borrowed [`Entry`]: the message and
/// fields copied into spare buffers; the logger's own context shared when
/// it is large.
pub(crate) struct Queued {
    level: Level,
    time: SystemTime,
    /// The logger's context, when the entry's is that one and larger than
    /// `SHARE_ABOVE`: shared, not copied. Otherwise the copy is in
    /// `buffers.context`.
    shared_context: Option<Arc<Context>>,
    buffers: Box<Buffers>,
    error: Option<ErrorInfo>,
}

/// Context bytes (keys and encoded values) above which a queued entry
/// shares the logger's context instead of copying it.
const SHARE_ABOVE: usize = 512;

impl Queued {
    /// Copies `entry` into `spare` (reusing its buffers: no allocation when
    /// they have room), sharing the logger's context if it is large; plus
    /// the error's allocations when there is one.
    pub(crate) fn new(entry: &Entry<'_>, spare: Option<Box<Buffers>>) -> Self {
        let mut buffers = spare.unwrap_or_default();
        let b = &mut *buffers;
        b.message.clear();
        b.message.push_str(entry.message());
        // A small context is copied: sharing it would make every caller
        // thread and the export thread write its reference count, one cache
        // line bouncing between cores on every entry of a logger used by
        // several threads. A large one is shared: copying it costs more.
        let shared_context = match entry.shared_context() {
            Some(own) if own.fields.byte_len() > SHARE_ABOVE => {
                b.context.clear();
                Some(Arc::clone(own))
            }
            _ => {
                b.context.copy_from(entry.context_fields());
                None
            }
        };
        b.metadata.copy_from(entry.metadata_fields());
        match entry.root_fields() {
            Some(root) => b.root.copy_from(root),
            None => b.root.clear(),
        }
        Queued {
            level: entry.level(),
            time: entry.time(),
            shared_context,
            buffers,
            error: entry.error().cloned(),
        }
    }

    /// Its buffers, to reuse for another entry.
    pub(crate) fn into_buffers(self) -> Box<Buffers> {
        self.buffers
    }

    fn context(&self) -> &Fields {
        match &self.shared_context {
            Some(c) => &c.fields,
            None => &self.buffers.context,
        }
    }

    /// The mapping (documented on [`OtlpTransport`](super::OtlpTransport)).
    pub(crate) fn fill(&self, record: &mut SdkLogRecord) {
        let (number, text) = severity(self.level);
        record.set_severity_number(number);
        record.set_severity_text(text);
        record.set_timestamp(self.time);
        record.set_observed_timestamp(SystemTime::now());
        record.set_body(AnyValue::String(self.buffers.message.clone().into()));

        // Root fields win over metadata, metadata over context, on a shared
        // key (as in a line).
        let (context, metadata, root) =
            (self.context(), &self.buffers.metadata, &self.buffers.root);
        let fields = || {
            context
                .iter()
                .filter(|(k, _)| !metadata.contains_key(k) && !root.contains_key(k))
                .chain(metadata.iter().filter(|(k, _)| !root.contains_key(k)))
                .chain(root.iter())
        };

        let trace = trace_context(fields());
        if let Some((trace_id, span_id, flags)) = trace {
            record.set_trace_context(trace_id, span_id, flags);
        }
        for (key, value) in fields() {
            let is_trace_key = matches!(key, TRACE_ID | SPAN_ID | TRACE_FLAGS);
            if trace.is_some() && is_trace_key {
                continue;
            }
            if let Some(value) = any_value(value) {
                record.add_attribute(key.to_owned(), value);
            }
        }

        if let Some(err) = &self.error {
            record.add_attribute("exception.type", err.type_name().to_owned());
            record.add_attribute("exception.message", err.message().to_owned());
            if !err.sources().is_empty() {
                // The `source()` chain, outermost first, one cause per line:
                // what `exception.stacktrace` is for in other languages.
                let chain: Vec<&str> = err.sources().iter().map(String::as_str).collect();
                record.add_attribute("exception.stacktrace", chain.join("\n"));
            }
        }
    }
}

pub(crate) fn severity(level: Level) -> (Severity, &'static str) {
    match level {
        Level::Trace => (Severity::Trace, "TRACE"),
        Level::Debug => (Severity::Debug, "DEBUG"),
        Level::Info => (Severity::Info, "INFO"),
        Level::Warn => (Severity::Warn, "WARN"),
        Level::Error => (Severity::Error, "ERROR"),
        Level::Fatal => (Severity::Fatal, "FATAL"),
    }
}

/// A valid, non-zero `trace_id` and `span_id` (hex strings) among the
/// fields, with `trace_flags` when it is a valid hex byte.
fn trace_context<'a>(
    fields: impl Iterator<Item = (&'a str, Value<'a>)>,
) -> Option<(TraceId, SpanId, Option<TraceFlags>)> {
    let (mut trace, mut span, mut flags) = (None, None, None);
    for (key, value) in fields {
        let hex = value.as_str();
        match key {
            TRACE_ID => trace = hex.and_then(|h| TraceId::from_hex(h).ok()),
            SPAN_ID => span = hex.and_then(|h| SpanId::from_hex(h).ok()),
            TRACE_FLAGS => {
                flags = hex
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .map(TraceFlags::new)
            }
            _ => {}
        }
    }
    match (trace, span) {
        (Some(t), Some(s)) if t != TraceId::INVALID && s != SpanId::INVALID => Some((t, s, flags)),
        _ => None,
    }
}
