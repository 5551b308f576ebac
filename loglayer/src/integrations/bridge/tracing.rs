//! [`TracingLayer`]: `tracing` events into the current loglayer logger, and
//! the conversions between `tracing`'s levels and loglayer's. The other
//! direction, [`TracingTransport`](crate::transport::TracingTransport), lives
//! with the other transports.

use std::error::Error;
use std::fmt;

use ::tracing_core::field::{Field, Visit};
use ::tracing_core::span::{Attributes, Id, Record as SpanRecord};
use ::tracing_core::{Event, Subscriber};
use ::tracing_subscriber::layer::{Context as LayerContext, Layer};
use ::tracing_subscriber::registry::LookupSpan;

use super::{active, ActiveGuard, Activity};
use crate::error::ErrorInfo;
use crate::json;
use crate::logger::Inner;
use crate::pipeline::{Meta, Msg, Record};
use crate::value::{encode, Fields};
use crate::Level;

/// A [`tracing_subscriber::Layer`](::tracing_subscriber::Layer) that sends
/// every `tracing` event to [`loglayer::current()`](crate::current): the
/// innermost [`scope`](crate::scope)'s logger, else the default logger.
///
/// # What an entry holds
///
/// | from the event | becomes |
/// |---|---|
/// | the `message` field | the message |
/// | the level | the level: `TRACE`→trace, `DEBUG`→debug, `INFO`→info, `WARN`→warn, `ERROR`→error |
/// | the target | the metadata field `target`, and the entry's [`target`](crate::Entry::target), so per-target [`Directives`](crate::Directives) apply |
/// | the module path | the metadata field `module` (when known) |
/// | other fields | metadata: integers, floats, booleans and strings as JSON values, `?x` / `%x` / other values as their text |
/// | the first field recorded as `&dyn Error` (`error = &e as &dyn std::error::Error`) | the entry's error, with its source chain (further ones: their `Display` text) |
/// | fields of the event's span and its parents | **context** for this entry: the logger's context plus these fields (a child span's field wins over its parent's, a span field over the logger's context key); metadata still wins over context |
///
/// Event fields are added after `target` and `module`, so a field with one of
/// those names wins. Keys equal to a reserved key (`time`, `level`, `msg`, the
/// error field) are written with a leading underscore (see
/// [`Entry`](crate::Entry)). Span fields are kept in the span's extensions
/// when the span is created and updated by `Span::record`; like the rest of
/// the context they are left out while the logger's context is
/// [muted](crate::LogLayer::mute_context).
///
/// The layer never filters for the other layers of the subscriber: an event
/// disabled on the current loglayer logger is only skipped here, before its
/// fields are visited.
///
/// ```
/// use loglayer::{bridge::TracingLayer, transport::CaptureTransport, LogLayer};
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let subscriber = tracing_subscriber::registry().with(TracingLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let capture = CaptureTransport::new();
///     let log = LogLayer::new(capture.clone());
///     log.with_context(serde_json::json!({"request_id": "r-1"}));
///     loglayer::sync_scope(log, || {
///         let span = tracing::info_span!("checkout", user = "ada");
///         let _in_span = span.enter();
///         tracing::warn!(attempt = 2, "card declined");
///     });
///
///     let e = &capture.entries()[0];
///     assert_eq!(e["level"], "warn");
///     assert_eq!(e["msg"], "card declined");
///     assert_eq!(e["request_id"], "r-1"); // the logger's context
///     assert_eq!(e["user"], "ada");       // the span's fields
///     assert_eq!(e["attempt"], 2);        // the event's fields
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingLayer {
    _private: (),
}

impl TracingLayer {
    /// A layer; add it to a `tracing_subscriber` registry.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    /// let subscriber = tracing_subscriber::registry().with(loglayer::bridge::TracingLayer::new());
    /// # let _ = subscriber;
    /// ```
    pub const fn new() -> Self {
        TracingLayer { _private: () }
    }
}

/// A span's fields, in its extensions.
struct SpanFields(Fields);

impl<S> Layer<S> for TracingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::new();
        attrs.record(&mut SpanVisitor(&mut fields));
        if !fields.is_empty() {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &SpanRecord<'_>, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            values.record(&mut SpanVisitor(fields));
        } else {
            let mut fields = Fields::new();
            values.record(&mut SpanVisitor(&mut fields));
            if !fields.is_empty() {
                extensions.insert(SpanFields(fields));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        if active(&[Activity::ToTracing]) {
            return; // emitted by TracingTransport: it came from loglayer
        }
        if active(&[Activity::FromTracing]) {
            crate::fault::entry_dropped(
                "a `tracing` event was emitted while the tracing layer was already forwarding one",
            );
            return;
        }
        let metadata = event.metadata();
        let level = Level::from(*metadata.level());
        let target = metadata.target();
        let Some(logger) = crate::current::current_if_enabled(level, target) else {
            return;
        };
        let _active = ActiveGuard::enter(Activity::FromTracing);

        // Span fields, root first so a child's value wins. The extension
        // guards are released before anything is emitted.
        let mut span_fields = Fields::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>() {
                    span_fields.extend(fields);
                }
            }
        }

        let mut visitor = EventVisitor {
            logger: &logger,
            fields: Fields::new(),
            message: String::new(),
            error: None,
        };
        visitor.fields.push_value("target", target);
        if let Some(module) = metadata.module_path() {
            visitor.fields.push_value("module", module);
        }
        event.record(&mut visitor);

        // The spans' fields are context added for this event: the one merge
        // rule (later keys win) on top of the logger's context.
        let context = (!span_fields.is_empty()).then(|| {
            let room = (span_fields.len(), span_fields.byte_len());
            logger
                .state
                .load()
                .context
                .merged(room, |all| all.extend(&span_fields), Vec::new())
        });
        logger.emit(Record {
            level,
            msg: Msg::Display(&visitor.message),
            meta: Meta::List(&visitor.fields),
            error: visitor.error.as_ref(),
            target: Some(target),
            context: context.as_ref(),
            root: None,
        });
    }
}

/// Records span fields (errors as their `Display` text).
struct SpanVisitor<'a>(&'a mut Fields);

impl Visit for SpanVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.push_value(field.name(), &value);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push_value(field.name(), &value);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.push_value(field.name(), &value);
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.0.push_value(field.name(), &value);
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.0.push_value(field.name(), &value);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.push_value(field.name(), &value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push_value(field.name(), value);
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.0.push_with(field.name(), |buf| {
            encode::display(buf, &|w| write!(w, "{value}"))
        });
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.push_with(field.name(), |buf| {
            encode::display(buf, &|w| write!(w, "{value:?}"))
        });
    }
}

/// Records an event's fields: the message, metadata and the error.
struct EventVisitor<'a> {
    logger: &'a Inner,
    fields: Fields,
    message: String,
    error: Option<ErrorInfo>,
}

impl Visit for EventVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        SpanVisitor(&mut self.fields).record_f64(field, value);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        SpanVisitor(&mut self.fields).record_i64(field, value);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        SpanVisitor(&mut self.fields).record_u64(field, value);
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        SpanVisitor(&mut self.fields).record_i128(field, value);
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        SpanVisitor(&mut self.fields).record_u128(field, value);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        SpanVisitor(&mut self.fields).record_bool(field, value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            SpanVisitor(&mut self.fields).record_str(field, value);
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if self.error.is_none() {
            self.error = Some(self.logger.capture_error(value));
        } else {
            SpanVisitor(&mut self.fields).record_error(field, value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            // `tracing` passes the message's `format_args!` as `Debug`.
            json::append_message(&mut self.message, format_args!("{value:?}"));
        } else {
            SpanVisitor(&mut self.fields).record_debug(field, value);
        }
    }
}

/// `tracing`'s levels are loglayer's first five, one to one.
///
/// ```
/// assert_eq!(loglayer::Level::from(tracing::Level::WARN), loglayer::Level::Warn);
/// ```
impl From<::tracing::Level> for Level {
    fn from(level: ::tracing::Level) -> Level {
        match level {
            ::tracing::Level::TRACE => Level::Trace,
            ::tracing::Level::DEBUG => Level::Debug,
            ::tracing::Level::INFO => Level::Info,
            ::tracing::Level::WARN => Level::Warn,
            _ => Level::Error, // ERROR (the constants are tracing's only levels)
        }
    }
}

/// loglayer's levels as `tracing` levels; `Fatal`, which `tracing` lacks,
/// becomes `ERROR`.
///
/// ```
/// use loglayer::Level;
/// assert_eq!(tracing::Level::from(Level::Info), tracing::Level::INFO);
/// assert_eq!(tracing::Level::from(Level::Fatal), tracing::Level::ERROR);
/// ```
impl From<Level> for ::tracing::Level {
    fn from(level: Level) -> ::tracing::Level {
        match level {
            Level::Trace => ::tracing::Level::TRACE,
            Level::Debug => ::tracing::Level::DEBUG,
            Level::Info => ::tracing::Level::INFO,
            Level::Warn => ::tracing::Level::WARN,
            Level::Error | Level::Fatal => ::tracing::Level::ERROR,
        }
    }
}
