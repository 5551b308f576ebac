//! [`JsonFormat`]: how a JSON line names and writes the fields it owns — the
//! time, the level, the message and the error — and the presets for the
//! backends people ship to. [`Entry::write_json_with`](crate::Entry::write_json_with)
//! reads it; the default line (`time`, `level`, `msg`) never does, so its
//! fast path stays untouched.
//!
//! LogLayer's structured transports spell these options `dateField`,
//! `levelField`, `messageField`, `dateFn` and `levelFn`; the functions become
//! data here ([`TimeFormat`], [`LevelFormat`]), so a format is plain,
//! comparable and `Debug`.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::ErrorInfo;
use crate::json;
use crate::Level;

/// How a line writes the time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeFormat {
    /// RFC 3339 in UTC with milliseconds, as a string:
    /// `"2026-11-26T01:02:03.456Z"` (the default).
    #[default]
    Rfc3339,
    /// Milliseconds since the Unix epoch, as a number: `1795654923456`
    /// (LogLayer's `dateFn: () => Date.now()`). A time before 1970 is
    /// written as `0`.
    EpochMillis,
}

/// How a line writes the level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LevelFormat {
    /// The lowercase name, as a string: `"info"` (the default).
    #[default]
    Name,
    /// LogLayer's number, as a number: `10` (trace) … `60` (fatal); see
    /// [`Level`].
    Number,
    /// One string per level, trace first: `[trace, debug, info, warn, error,
    /// fatal]` (LogLayer's `levelFn` returning a string).
    ///
    /// ```
    /// use loglayer::transport::{JsonFormat, LevelFormat};
    ///
    /// // LogLayer's `levelFn: (level) => level.toUpperCase()`
    /// let upper = LevelFormat::Names(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]);
    /// let format = JsonFormat::new().level_format(upper);
    /// # assert_eq!(format, JsonFormat::new().level_format(upper));
    /// ```
    Names([&'static str; 6]),
}

impl LevelFormat {
    /// Google Cloud Logging's `LogSeverity` names, with LogLayer's own
    /// mapping (its Google Cloud transport documents it): trace → `DEBUG`
    /// (Cloud Logging has no lower named severity; `DEFAULT` means "none
    /// given", not "least severe"), warn → `WARNING`, fatal → `CRITICAL`
    /// (`ALERT` and `EMERGENCY` mean "act now" / "unusable", which an
    /// application's fatal error does not imply).
    const GOOGLE_CLOUD: LevelFormat =
        LevelFormat::Names(["DEBUG", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]);
}

/// How a line writes the error attached with `with_error` / `err = ..`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorFormat {
    /// One object under the logger's
    /// [`error_field_name`](crate::LogLayerBuilder::error_field_name)
    /// (default `err`): `{"message": .., "sources": [..]}`, or what the
    /// [`error_serializer`](crate::LogLayerBuilder::error_serializer)
    /// returned (the default).
    #[default]
    Object,
    /// Elastic Common Schema's error fields, as root keys:
    /// `error.type`, `error.message` and, when the error has sources,
    /// `error.stack_trace` (each source's text, outermost first, one per
    /// line — the closest a Rust error comes to a stack trace).
    ///
    /// A Rust error carries no type name at run time, so `error.type` is the
    /// `type` (or `name`) string of the error serializer's object when there
    /// is one, else `"error"` — as the OTLP transport writes
    /// `exception.type`. A custom serializer's other fields are not written.
    Ecs,
}

/// The ECS error keys [`ErrorFormat::Ecs`] writes.
const ECS_ERROR_TYPE: &str = "error.type";
const ECS_ERROR_MESSAGE: &str = "error.message";
const ECS_ERROR_STACK: &str = "error.stack_trace";

/// The names and formats of the fields a JSON line owns: the time, the level,
/// the message and the error. Give one to
/// [`JsonTransport::with_format`](crate::transport::JsonTransport::with_format).
///
/// [`JsonFormat::new`] is today's line (`time`, `level`, `msg`, the error
/// under `err`); each builder method changes one thing, and the presets
/// ([`google_cloud`](JsonFormat::google_cloud),
/// [`elastic`](JsonFormat::elastic), [`datadog`](JsonFormat::datadog)) give
/// the names those backends read without configuration.
///
/// The line keeps its shape: the time, level and message first, in that
/// order, then the context, metadata and error as described in
/// [`Entry`](crate::Entry#the-shape-of-a-line). The collision rule follows the
/// names: a user key equal to one the format owns (`severity` with
/// [`google_cloud`](JsonFormat::google_cloud)) is written with a leading
/// underscore, and `msg` is then an ordinary key.
///
/// ```
/// use loglayer::transport::{JsonFormat, JsonTransport, LevelFormat, TimeFormat};
/// # use std::sync::{Arc, Mutex};
/// # #[derive(Clone, Default)]
/// # struct Shared(Arc<Mutex<Vec<u8>>>);
/// # impl std::io::Write for Shared {
/// #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().write(b) }
/// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// # }
///
/// // LogLayer: new StructuredTransport({ messageField: 'message',
/// //   levelField: 'severity', dateField: 'ts', dateFn: () => Date.now() })
/// let format = JsonFormat::new()
///     .message_field("message")
///     .level_field("severity")
///     .time_field("ts")
///     .time_format(TimeFormat::EpochMillis)
///     .level_format(LevelFormat::Number);
///
/// let out = Shared::default();
/// let log = loglayer::LogLayer::new(JsonTransport::new(out.clone()).with_format(format));
/// log.warn("disk at 90%");
///
/// let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
/// let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
/// assert_eq!(line["message"], "disk at 90%");
/// assert_eq!(line["severity"], 40);
/// assert!(line["ts"].is_u64());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonFormat {
    /// The time, level and message field names as given.
    names: [String; 3],
    /// The same as written: [`resolve`](JsonFormat::resolve)d after every change.
    keys: [String; 3],
    time: TimeFormat,
    level: LevelFormat,
    error: ErrorFormat,
}

impl Default for JsonFormat {
    fn default() -> Self {
        let names = ["time", "level", "msg"].map(str::to_owned);
        JsonFormat {
            keys: names.clone(),
            names,
            time: TimeFormat::Rfc3339,
            level: LevelFormat::Name,
            error: ErrorFormat::Object,
        }
    }
}

impl JsonFormat {
    /// Today's line: `time` (RFC 3339), `level` (lowercase name), `msg`, the
    /// error as one object.
    ///
    /// ```
    /// use loglayer::transport::JsonFormat;
    /// assert_eq!(JsonFormat::new(), JsonFormat::default());
    /// assert_eq!(JsonFormat::new().field_names(), ["time", "level", "msg"]);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// [Google Cloud Logging]'s structured-logging fields: `time`
    /// (RFC 3339), `severity` in its upper-case `LogSeverity` names, and
    /// `message`. The logging agent takes these three out of the
    /// `jsonPayload`; the rest of the line stays in it.
    ///
    /// | level | `severity` |
    /// |---|---|
    /// | trace, debug | `DEBUG` |
    /// | info | `INFO` |
    /// | warn | `WARNING` |
    /// | error | `ERROR` |
    /// | fatal | `CRITICAL` |
    ///
    /// This is LogLayer's Google Cloud transport's mapping. Cloud Logging has
    /// nothing below `DEBUG` (`DEFAULT` means "no severity", not "least
    /// severe"), and `ALERT`/`EMERGENCY` mean "act now" / "the system is
    /// unusable", more than an application's fatal error says.
    ///
    /// [Google Cloud Logging]: https://cloud.google.com/logging/docs/structured-logging
    ///
    /// ```
    /// use loglayer::transport::JsonFormat;
    /// assert_eq!(JsonFormat::google_cloud().field_names(), ["time", "severity", "message"]);
    /// ```
    pub fn google_cloud() -> Self {
        JsonFormat::new()
            .level_field("severity")
            .message_field("message")
            .level_format(LevelFormat::GOOGLE_CLOUD)
    }

    /// [Elastic Common Schema] fields: `@timestamp` (RFC 3339), `log.level`
    /// (lowercase name), `message`, and the error as `error.type`,
    /// `error.message`, `error.stack_trace` ([`ErrorFormat::Ecs`]).
    ///
    /// The dotted names are written as **literal dotted keys**
    /// (`"log.level":"info"`), not nested objects (`"log":{"level":"info"}`).
    /// Elasticsearch reads both as the same field; the dotted form is what
    /// Elastic's own ECS logging libraries write (their spec makes `log.level`
    /// a top-level dotted key), it keeps `@timestamp`, `log.level` and
    /// `message` first on the line where those libraries put them, and it
    /// never has to merge with a user's own `log` or `error` object. The
    /// collision rule compares keys as written: a user key `log.level` is
    /// renamed, a user object `log` is left as it is.
    ///
    /// ECS also asks for `ecs.version` on every event; add it to the
    /// logger's context (`log.with_context(json!({"ecs.version": "8.11.0"}))`).
    ///
    /// [Elastic Common Schema]: https://www.elastic.co/guide/en/ecs/current/ecs-base.html
    ///
    /// ```
    /// use loglayer::transport::JsonFormat;
    /// assert_eq!(JsonFormat::elastic().field_names(), ["@timestamp", "log.level", "message"]);
    /// ```
    pub fn elastic() -> Self {
        JsonFormat::new()
            .time_field("@timestamp")
            .level_field("log.level")
            .message_field("message")
            .error_format(ErrorFormat::Ecs)
    }

    /// [Datadog]'s reserved attributes: `timestamp` (RFC 3339, which Datadog
    /// parses as ISO 8601), `status` (lowercase name) and `message`.
    ///
    /// Datadog's status remapper reads LogLayer's names as they are: `trace`
    /// and `debug` → debug, `info` → info, `warn` → warning, `error` →
    /// error, `fatal` → emergency (its rule for names starting with `f`).
    /// For Datadog Error Tracking, name the error field `error` on the
    /// logger ([`error_field_name`](crate::LogLayerBuilder::error_field_name)),
    /// as LogLayer's Datadog docs advise, so `error.message` is found.
    ///
    /// [Datadog]: https://docs.datadoghq.com/logs/log_configuration/attributes_naming_convention/
    ///
    /// ```
    /// use loglayer::transport::JsonFormat;
    /// assert_eq!(JsonFormat::datadog().field_names(), ["timestamp", "status", "message"]);
    /// ```
    pub fn datadog() -> Self {
        JsonFormat::new()
            .time_field("timestamp")
            .level_field("status")
            .message_field("message")
    }

    /// Names the time field (default `time`; LogLayer's `dateField`).
    ///
    /// Each name should differ from the other two; if it does not, the later
    /// field of time, level, message gets the collision rule's leading
    /// underscore, so the line never holds a key twice.
    ///
    /// ```
    /// use loglayer::transport::JsonFormat;
    /// let format = JsonFormat::new().time_field("ts").level_field("ts");
    /// assert_eq!(format.field_names(), ["ts", "_ts", "msg"]);
    /// ```
    pub fn time_field(mut self, name: impl Into<String>) -> Self {
        self.names[0] = name.into();
        self.resolve()
    }

    /// Names the level field (default `level`; LogLayer's `levelField`).
    ///
    /// ```
    /// use loglayer::transport::JsonFormat;
    /// assert_eq!(JsonFormat::new().level_field("lvl").field_names(), ["time", "lvl", "msg"]);
    /// ```
    pub fn level_field(mut self, name: impl Into<String>) -> Self {
        self.names[1] = name.into();
        self.resolve()
    }

    /// Names the message field (default `msg`; LogLayer's `messageField`).
    ///
    /// ```
    /// use loglayer::transport::JsonFormat;
    /// let format = JsonFormat::new().message_field("message");
    /// assert_eq!(format.field_names(), ["time", "level", "message"]);
    /// ```
    pub fn message_field(mut self, name: impl Into<String>) -> Self {
        self.names[2] = name.into();
        self.resolve()
    }

    /// How the time is written (default [`TimeFormat::Rfc3339`]; LogLayer's
    /// `dateFn`).
    ///
    /// ```
    /// use loglayer::transport::{JsonFormat, TimeFormat};
    /// let format = JsonFormat::new().time_format(TimeFormat::EpochMillis);
    /// # assert_ne!(format, JsonFormat::new());
    /// ```
    pub fn time_format(mut self, format: TimeFormat) -> Self {
        self.time = format;
        self
    }

    /// How the level is written (default [`LevelFormat::Name`]; LogLayer's
    /// `levelFn`).
    ///
    /// ```
    /// use loglayer::transport::{JsonFormat, LevelFormat};
    /// let format = JsonFormat::new().level_format(LevelFormat::Number);
    /// # assert_ne!(format, JsonFormat::new());
    /// ```
    pub fn level_format(mut self, format: LevelFormat) -> Self {
        self.level = format;
        self
    }

    /// How the error is written (default [`ErrorFormat::Object`]).
    ///
    /// ```
    /// use loglayer::transport::{ErrorFormat, JsonFormat};
    /// let format = JsonFormat::new().error_format(ErrorFormat::Ecs);
    /// # assert_ne!(format, JsonFormat::new());
    /// ```
    pub fn error_format(mut self, format: ErrorFormat) -> Self {
        self.error = format;
        self.resolve()
    }

    /// The keys of the time, level and message fields, in line order, as
    /// they are written (after the underscore rule, if two were given the
    /// same name).
    ///
    /// ```
    /// use loglayer::transport::JsonFormat;
    /// assert_eq!(JsonFormat::new().message_field("time").field_names(), ["time", "level", "_time"]);
    /// ```
    pub fn field_names(&self) -> [&str; 3] {
        self.keys.each_ref().map(String::as_str)
    }

    /// Whether this is the default line, which
    /// [`JsonTransport`](crate::transport::JsonTransport) then writes on its
    /// fast path.
    pub(crate) fn is_default(&self) -> bool {
        *self == JsonFormat::default()
    }

    /// Recomputes the written keys: each name gets leading underscores while
    /// it equals an earlier one or an ECS error key.
    fn resolve(mut self) -> Self {
        for i in 0..3 {
            let mut key = self.names[i].clone();
            while self.keys[..i].contains(&key) || self.is_error_key(&key) {
                key.insert(0, '_');
            }
            self.keys[i] = key;
        }
        self
    }

    fn is_error_key(&self, key: &str) -> bool {
        self.error == ErrorFormat::Ecs
            && matches!(key, ECS_ERROR_TYPE | ECS_ERROR_MESSAGE | ECS_ERROR_STACK)
    }

    /// Whether a user key must be renamed: it equals a key this format
    /// writes itself (the head keys and the error's keys; `error_field` is
    /// the logger's error field name).
    pub(crate) fn reserves(&self, key: &str, error_field: &str) -> bool {
        self.owned_keys(error_field).any(|k| k == key)
    }

    /// Every root key this format writes itself, whatever the entry holds.
    pub(crate) fn owned_keys<'s>(
        &'s self,
        error_field: &'s str,
    ) -> impl Iterator<Item = &'s str> + 's {
        let error: &[&str] = match self.error {
            ErrorFormat::Object => &[],
            ErrorFormat::Ecs => &[ECS_ERROR_TYPE, ECS_ERROR_MESSAGE, ECS_ERROR_STACK],
        };
        let object = (self.error == ErrorFormat::Object).then_some(error_field);
        self.keys
            .iter()
            .map(String::as_str)
            .chain(error.iter().copied())
            .chain(object)
    }

    /// Writes `{` and the time, level and message fields.
    pub(crate) fn write_head(&self, out: &mut Vec<u8>, time: SystemTime, level: Level, msg: &str) {
        let [time_key, level_key, msg_key] = &self.keys;
        out.push(b'{');
        json::write_str(out, time_key);
        out.push(b':');
        match self.time {
            TimeFormat::Rfc3339 => {
                out.push(b'"');
                json::write_time(out, time);
                out.push(b'"');
            }
            TimeFormat::EpochMillis => {
                let millis = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
                out.extend_from_slice(itoa::Buffer::new().format(millis).as_bytes());
            }
        }
        out.push(b',');
        json::write_str(out, level_key);
        out.push(b':');
        match self.level {
            LevelFormat::Name => json::write_str(out, level.as_str()),
            LevelFormat::Number => {
                out.extend_from_slice(itoa::Buffer::new().format(u8::from(level)).as_bytes())
            }
            LevelFormat::Names(names) => json::write_str(out, names[level_index(level)]),
        }
        out.push(b',');
        json::write_str(out, msg_key);
        out.push(b':');
        json::write_str(out, msg);
    }

    /// Writes `,` and the error's field(s); `error_field` is the logger's
    /// error field name, used by [`ErrorFormat::Object`].
    pub(crate) fn write_error(&self, out: &mut Vec<u8>, error_field: &str, err: &ErrorInfo) {
        match self.error {
            ErrorFormat::Object => {
                out.push(b',');
                json::write_str(out, error_field);
                out.push(b':');
                err.write_json(out);
            }
            ErrorFormat::Ecs => {
                out.push(b',');
                json::write_str(out, ECS_ERROR_TYPE);
                out.push(b':');
                json::write_str(out, err.type_name());
                out.push(b',');
                json::write_str(out, ECS_ERROR_MESSAGE);
                out.push(b':');
                json::write_str(out, err.message());
                if !err.sources().is_empty() {
                    out.push(b',');
                    json::write_str(out, ECS_ERROR_STACK);
                    out.push(b':');
                    json::write_str(out, &err.sources().join("\n"));
                }
            }
        }
    }
}

/// `trace` → 0 … `fatal` → 5: the index into [`LevelFormat::Names`].
fn level_index(level: Level) -> usize {
    usize::from(u8::from(level) / 10 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_index_covers_every_level_in_order() {
        let levels = [
            Level::Trace,
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Error,
            Level::Fatal,
        ];
        for (i, level) in levels.into_iter().enumerate() {
            assert_eq!(level_index(level), i);
        }
    }
}
