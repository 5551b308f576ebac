//! What the caller's thread queues for one entry ([`Queued`]: an owned copy
//! of its typed values, nothing rendered), and how the export thread maps it onto an OpenTelemetry
//! log record ([`Queued::fill`]): the whole mapping, in one function.

use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord as _, Severity};
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry_sdk::logs::SdkLogRecord;

use super::value::any_value;
use crate::value::Value;
use crate::{Entry, ErrorInfo, Level};

/// Context keys that become the record's trace context.
const TRACE_ID: &str = "trace_id";
const SPAN_ID: &str = "span_id";
const TRACE_FLAGS: &str = "trace_flags";

/// The two buffers of a [`Queued`] entry, handed back by the export thread
/// and reused by callers (see [`super::worker::Queue::push`]), so that queuing
/// an entry allocates nothing in steady state.
#[derive(Default)]
pub(crate) struct Buffers {
    bytes: Vec<u8>,
    fields: Vec<[u32; 3]>,
}

impl Buffers {
    /// Bytes held.
    pub(crate) fn size(&self) -> usize {
        self.bytes.capacity() + 12 * self.fields.capacity()
    }

    /// Whether these buffers are small enough to keep as a spare.
    pub(crate) fn worth_keeping(&self) -> bool {
        self.bytes.capacity() <= 4 * 1024 && self.fields.capacity() <= 128
    }
}

/// One entry, copied off the caller's borrowed [`Entry`].
pub(crate) struct Queued {
    level: Level,
    time: SystemTime,
    /// The message, then each field's key and encoded value (see
    /// [`crate::value`]), back to back: one allocation for the whole entry.
    bytes: Vec<u8>,
    /// Where the message ends in `bytes`.
    message_end: u32,
    /// Context fields first, then metadata (and root) fields: the ranges in `bytes` of
    /// `(key start, key end = value start, value end)`.
    fields: Vec<[u32; 3]>,
    /// How many of `fields` are context.
    context_len: usize,
    error: Option<ErrorInfo>,
}

/// An offset into a queued entry's bytes (entries over 4 GiB are not queued whole).
fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Queued {
    /// Copies `entry` into `spare` (cleared first): no allocation when the
    /// spare has room, else two (the bytes and the field ranges); plus the
    /// error's when there is one.
    pub(crate) fn new(entry: &Entry<'_>, spare: Buffers) -> Self {
        let message = entry.message();
        let (context, metadata) = (entry.context_fields(), entry.metadata_fields());
        let count = context.len() + metadata.len();
        let size = message.len() + context.byte_len() + metadata.byte_len();
        let Buffers {
            mut bytes,
            mut fields,
        } = spare;
        bytes.clear();
        fields.clear();
        bytes.reserve(size);
        fields.reserve(count);
        bytes.extend_from_slice(message.as_bytes());
        let message_end = offset(bytes.len());
        // Root fields (`RawEntry::root`) are attributes too, winning over
        // metadata of the same key as they do in a line.
        let root = entry.root_fields();
        let in_root = |k: &str| root.is_some_and(|r| r.contains_key(k));
        let rest = metadata
            .iter_encoded()
            .filter(|(k, _)| !in_root(k))
            .chain(root.into_iter().flat_map(|r| r.iter_encoded()));
        for (k, v) in context.iter_encoded().chain(rest) {
            let key_start = offset(bytes.len());
            bytes.extend_from_slice(k.as_bytes());
            let value_start = offset(bytes.len());
            bytes.extend_from_slice(v);
            fields.push([key_start, value_start, offset(bytes.len())]);
        }
        Queued {
            level: entry.level(),
            time: entry.time(),
            bytes,
            message_end,
            fields,
            context_len: context.len(),
            error: entry.error().cloned(),
        }
    }

    fn text(&self, from: u32, to: u32) -> &str {
        let bytes = self.bytes.get(from as usize..to as usize).unwrap_or(&[]);
        // Copied from `&str`s.
        std::str::from_utf8(bytes).unwrap_or("")
    }

    /// A field's key and value, context then metadata.
    fn field(&self, f: &[u32; 3]) -> (&str, Value<'_>) {
        let value = self.bytes.get(f[1] as usize..f[2] as usize).unwrap_or(&[]);
        (self.text(f[0], f[1]), Value::decode(value).0)
    }

    /// Its buffers, to reuse for another entry.
    pub(crate) fn into_buffers(self) -> Buffers {
        Buffers {
            bytes: self.bytes,
            fields: self.fields,
        }
    }

    /// The mapping (documented on [`OtlpTransport`](super::OtlpTransport)).
    pub(crate) fn fill(&self, record: &mut SdkLogRecord) {
        let (number, text) = severity(self.level);
        record.set_severity_number(number);
        record.set_severity_text(text);
        record.set_timestamp(self.time);
        record.set_observed_timestamp(SystemTime::now());
        record.set_body(AnyValue::String(
            self.text(0, self.message_end).to_owned().into(),
        ));

        let (context, metadata) = self.fields.split_at(self.context_len);
        // Metadata wins over context on a shared key.
        let fields = context
            .iter()
            .map(|f| self.field(f))
            .filter(|(k, _)| !metadata.iter().any(|m| self.field(m).0 == *k))
            .chain(metadata.iter().map(|f| self.field(f)));

        let trace = trace_context(fields.clone());
        if let Some((trace_id, span_id, flags)) = trace {
            record.set_trace_context(trace_id, span_id, flags);
        }
        for (key, value) in fields {
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
