//! What the caller's thread queues for one entry ([`Pending`]: an owned copy,
//! nothing parsed), and how the export thread maps it onto an OpenTelemetry
//! log record ([`Pending::fill`]): the whole mapping, in one function.

use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord as _, Severity};
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry_sdk::logs::SdkLogRecord;

use super::value::any_value;
use crate::{Entry, ErrorInfo, Level};

/// Context keys that become the record's trace context.
const TRACE_ID: &str = "trace_id";
const SPAN_ID: &str = "span_id";
const TRACE_FLAGS: &str = "trace_flags";

/// One entry, copied off the caller's borrowed [`Entry`].
pub(crate) struct Pending {
    level: Level,
    time: SystemTime,
    /// The message, then each field's key and JSON text, back to back: one
    /// allocation for the whole entry's text.
    text: String,
    /// Where the message ends in `text`.
    message_end: u32,
    /// Context fields first, then metadata fields: the ranges in `text` of
    /// `(key start, key end = value start, value end)`.
    fields: Vec<[u32; 3]>,
    /// How many of `fields` are context.
    context_len: usize,
    error: Option<ErrorInfo>,
}

/// An offset into a `Pending`'s text (entries over 4 GiB are not queued whole).
fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Pending {
    /// Copies `entry` with two allocations (the text and the field ranges),
    /// plus the error's when there is one.
    pub(crate) fn new(entry: &Entry<'_>) -> Self {
        let message = entry.message();
        let (mut count, mut bytes) = (0, message.len());
        for (k, v) in entry.context().chain(entry.metadata()) {
            count += 1;
            bytes += k.len() + v.len();
        }
        let mut text = String::with_capacity(bytes);
        text.push_str(message);
        let message_end = offset(text.len());
        let mut fields = Vec::with_capacity(count);
        let mut push = |k: &str, v: &str| {
            let key_start = offset(text.len());
            text.push_str(k);
            let value_start = offset(text.len());
            text.push_str(v);
            fields.push([key_start, value_start, offset(text.len())]);
        };
        let mut context_len = 0;
        for (k, v) in entry.context() {
            push(k, v);
            context_len += 1;
        }
        for (k, v) in entry.metadata() {
            push(k, v);
        }
        Pending {
            level: entry.level(),
            time: entry.time(),
            text,
            message_end,
            fields,
            context_len,
            error: entry.error().cloned(),
        }
    }

    fn slice(&self, from: u32, to: u32) -> &str {
        self.text.get(from as usize..to as usize).unwrap_or("")
    }

    /// The fields as `(key, JSON text)`, context then metadata.
    fn field(&self, f: &[u32; 3]) -> (&str, &str) {
        (self.slice(f[0], f[1]), self.slice(f[1], f[2]))
    }

    /// The mapping (documented on [`OtlpTransport`](super::OtlpTransport)).
    pub(crate) fn fill(self, record: &mut SdkLogRecord) {
        let (number, text) = severity(self.level);
        record.set_severity_number(number);
        record.set_severity_text(text);
        record.set_timestamp(self.time);
        record.set_observed_timestamp(SystemTime::now());
        record.set_body(AnyValue::String(
            self.slice(0, self.message_end).to_owned().into(),
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
        for (key, text) in fields {
            let is_trace_key = matches!(key, TRACE_ID | SPAN_ID | TRACE_FLAGS);
            if trace.is_some() && is_trace_key {
                continue;
            }
            if let Some(value) = any_value(text) {
                record.add_attribute(key.to_owned(), value);
            }
        }

        if let Some(err) = &self.error {
            record.add_attribute("exception.type", exception_type(err));
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

/// `exception.type`: the `type` (or `name`) string of a custom error
/// serializer's value, else `"error"` (a Rust error value has no portable
/// type name at run time).
fn exception_type(err: &ErrorInfo) -> String {
    let value = err.to_value();
    ["type", "name"]
        .iter()
        .find_map(|k| value.get(k).and_then(|v| v.as_str()))
        .unwrap_or("error")
        .to_owned()
}

/// A valid, non-zero `trace_id` and `span_id` (hex strings) among the
/// fields, with `trace_flags` when it is a valid hex byte.
fn trace_context<'a>(
    fields: impl Iterator<Item = (&'a str, &'a str)>,
) -> Option<(TraceId, SpanId, Option<TraceFlags>)> {
    let (mut trace, mut span, mut flags) = (None, None, None);
    for (key, text) in fields {
        let hex = || serde_json::from_str::<String>(text).ok();
        match key {
            TRACE_ID => trace = hex().and_then(|h| TraceId::from_hex(&h).ok()),
            SPAN_ID => span = hex().and_then(|h| SpanId::from_hex(&h).ok()),
            TRACE_FLAGS => {
                flags = hex()
                    .and_then(|h| u8::from_str_radix(&h, 16).ok())
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
