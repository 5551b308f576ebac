//! [`LogBridge`]: the `log` facade into the current loglayer logger.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;

use ::log::kv::{self, VisitSource, VisitValue};

use super::{active, ActiveGuard, Activity};
use crate::pipeline::{Meta, Msg, Record};
use crate::value::{encode, Fields};
use crate::Level;

/// A [`log::Log`](::log::Log) that sends every `log` record to
/// [`loglayer::current()`](crate::current): the innermost
/// [`scope`](crate::scope)'s logger, else the default logger. A dependency's
/// `log::warn!` inside a request's scope therefore carries the request's
/// context.
///
/// # What an entry holds
///
/// | from the record | becomes |
/// |---|---|
/// | `args()` | the message (formatted once, only when the level is enabled) |
/// | `level()` | the level: `Trace`→trace, `Debug`→debug, `Info`→info, `Warn`→warn, `Error`→error |
/// | `target()` | the metadata field `target`, and the entry's [`target`](crate::Entry::target), so per-target [`Directives`](crate::Directives) apply to it |
/// | `module_path()` | the metadata field `module` (left out when the record has none) |
/// | `key_values()` | one metadata field each: integers, floats, booleans and strings as JSON values, anything else as its `Display` text |
///
/// Key-values are added after `target` and `module`, so a key-value with one
/// of those names wins. Keys equal to a reserved key (`time`, `level`, `msg`,
/// the error field) are written with a leading underscore, as for every entry
/// (see [`Entry`](crate::Entry)).
///
/// [`enabled`](::log::Log::enabled) asks the current logger
/// (its level and its directives for the record's target), so `log` skips
/// formatting the arguments of a disabled record.
///
/// `loglayer`'s `fatal` level has no `log` counterpart: converting
/// [`Level::Fatal`] to a `log::Level` gives `Error`.
///
/// ```
/// use loglayer::{bridge::LogBridge, transport::CaptureTransport, Level, LogLayer};
///
/// LogBridge::install().unwrap();
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::new(capture.clone());
/// log.with_context(serde_json::json!({"request_id": "r-1"}));
/// log.set_level(Level::Info);
/// loglayer::sync_scope(log, || {
///     log::info!(target: "db", rows = 3; "query done");
///     log::debug!("not enabled: never formatted");
/// });
///
/// let entries = capture.entries();
/// assert_eq!(entries.len(), 1);
/// assert_eq!(entries[0]["request_id"], "r-1");
/// assert_eq!(entries[0]["target"], "db");
/// assert_eq!(entries[0]["rows"], 3);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct LogBridge {
    _private: (),
}

/// The bridge that [`LogBridge::install`] registers.
static BRIDGE: LogBridge = LogBridge { _private: () };

impl LogBridge {
    /// A bridge, for registering it yourself (e.g. inside another `log::Log`
    /// that dispatches to several loggers). Most programs call
    /// [`install`](LogBridge::install) instead.
    ///
    /// ```
    /// use log::Log;
    /// let bridge = loglayer::bridge::LogBridge::new();
    /// bridge.flush();
    /// ```
    pub const fn new() -> Self {
        LogBridge { _private: () }
    }

    /// Makes the bridge the `log` facade's logger, with the facade's maximum
    /// level at `Trace` so each record reaches
    /// [`enabled`](::log::Log::enabled), which asks the current logger.
    ///
    /// # Errors
    ///
    /// [`InstallError`] when a `log` logger is already installed — by an
    /// earlier call or by another crate (`env_logger`, …). Nothing changes
    /// then; this never panics.
    ///
    /// ```
    /// use loglayer::bridge::LogBridge;
    ///
    /// assert!(LogBridge::install().is_ok());
    /// let second = LogBridge::install().unwrap_err();
    /// assert!(second.to_string().contains("already installed"));
    /// ```
    pub fn install() -> Result<(), InstallError> {
        Self::install_with_max_level(::log::LevelFilter::Trace)
    }

    /// Like [`install`](LogBridge::install), with a ceiling: records less
    /// severe than `max` are discarded by the `log` macros before anything
    /// is evaluated, whatever the current logger's level.
    ///
    /// # Errors
    ///
    /// [`InstallError`] when a `log` logger is already installed.
    ///
    /// ```
    /// use loglayer::bridge::LogBridge;
    /// LogBridge::install_with_max_level(log::LevelFilter::Info).unwrap();
    /// assert_eq!(log::max_level(), log::LevelFilter::Info);
    /// ```
    pub fn install_with_max_level(max: ::log::LevelFilter) -> Result<(), InstallError> {
        ::log::set_logger(&BRIDGE).map_err(|source| InstallError { source })?;
        ::log::set_max_level(max);
        Ok(())
    }
}

impl ::log::Log for LogBridge {
    fn enabled(&self, metadata: &::log::Metadata<'_>) -> bool {
        !active(&[Activity::FromLog, Activity::ToTracing])
            && crate::current::current_if_enabled(metadata.level().into(), metadata.target())
                .is_some()
    }

    fn log(&self, record: &::log::Record<'_>) {
        if active(&[Activity::FromLog, Activity::ToTracing]) {
            crate::fault::entry_dropped(
                "a `log` record was logged while the log bridge was already forwarding one",
            );
            return;
        }
        let level = Level::from(record.level());
        let target = record.target();
        let Some(logger) = crate::current::current_if_enabled(level, target) else {
            return;
        };
        let _active = ActiveGuard::enter(Activity::FromLog);
        with_fields(|fields| {
            fields.push_value("target", target);
            if let Some(module) = record.module_path() {
                fields.push_value("module", module);
            }
            let _ = record.key_values().visit(&mut KeyValues(fields));
            logger.emit(Record {
                level,
                msg: Msg::Args(*record.args()),
                meta: Meta::List(fields),
                error: None,
                target: Some(target),
                context: None,
                root: None,
            });
        });
    }

    /// Flushes the current logger's transports (the default logger's
    /// outside every scope).
    fn flush(&self) {
        crate::current().flush();
    }
}

thread_local! {
    static FIELDS: RefCell<Fields> = RefCell::new(Fields::new());
}

/// Runs `f` with a cleared per-thread field list (a fresh one when the
/// thread's list is in use or gone), so a record allocates nothing in steady
/// state.
fn with_fields(f: impl FnOnce(&mut Fields)) {
    let mut f = Some(f);
    let _ = FIELDS.try_with(|cell| {
        if let Ok(mut list) = cell.try_borrow_mut() {
            list.clear();
            if let Some(f) = f.take() {
                f(&mut list);
            }
            list.clear();
            list.shrink_if_large();
        }
    });
    if let Some(f) = f {
        f(&mut Fields::new());
    }
}

/// Visits a record's key-values into a field list.
struct KeyValues<'a>(&'a mut Fields);

impl<'kvs> VisitSource<'kvs> for KeyValues<'_> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let mut field = KvValue {
            list: self.0,
            key: key.as_str(),
        };
        if value.visit(&mut field).is_err() {
            field.display(&value);
        }
        Ok(())
    }
}

/// Writes one key-value's value as JSON.
struct KvValue<'a, 'k> {
    list: &'a mut Fields,
    key: &'k str,
}

impl KvValue<'_, '_> {
    fn display(&mut self, value: &dyn fmt::Display) {
        self.list.push_with(self.key, |buf| {
            encode::display(buf, &|w| write!(w, "{value}"))
        });
    }
}

impl<'v> VisitValue<'v> for KvValue<'_, '_> {
    fn visit_any(&mut self, value: kv::Value<'_>) -> Result<(), kv::Error> {
        self.display(&value);
        Ok(())
    }
    fn visit_null(&mut self) -> Result<(), kv::Error> {
        self.list.push_with(self.key, encode::null);
        Ok(())
    }
    fn visit_u64(&mut self, value: u64) -> Result<(), kv::Error> {
        self.list.push_value(self.key, &value);
        Ok(())
    }
    fn visit_i64(&mut self, value: i64) -> Result<(), kv::Error> {
        self.list.push_value(self.key, &value);
        Ok(())
    }
    fn visit_u128(&mut self, value: u128) -> Result<(), kv::Error> {
        self.list.push_value(self.key, &value);
        Ok(())
    }
    fn visit_i128(&mut self, value: i128) -> Result<(), kv::Error> {
        self.list.push_value(self.key, &value);
        Ok(())
    }
    fn visit_f64(&mut self, value: f64) -> Result<(), kv::Error> {
        self.list.push_value(self.key, &value);
        Ok(())
    }
    fn visit_bool(&mut self, value: bool) -> Result<(), kv::Error> {
        self.list.push_value(self.key, &value);
        Ok(())
    }
    fn visit_str(&mut self, value: &str) -> Result<(), kv::Error> {
        self.list.push_value(self.key, value);
        Ok(())
    }
    fn visit_char(&mut self, value: char) -> Result<(), kv::Error> {
        self.list.push_value(self.key, &value);
        Ok(())
    }
}

/// The error of [`LogBridge::install`]: a `log` logger was already installed.
///
/// ```
/// use loglayer::bridge::LogBridge;
/// LogBridge::install().unwrap();
/// match LogBridge::install() {
///     Err(e) => eprintln!("{e}"), // "a `log` logger is already installed …"
///     Ok(()) => unreachable!(),
/// }
/// ```
#[derive(Debug)]
pub struct InstallError {
    source: ::log::SetLoggerError,
}

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "cannot install loglayer's `log` bridge: a `log` logger is already installed \
             (LogBridge::install was called before, or another crate set one)",
        )
    }
}

impl Error for InstallError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// `log`'s levels are loglayer's first five, one to one.
///
/// ```
/// assert_eq!(loglayer::Level::from(log::Level::Warn), loglayer::Level::Warn);
/// ```
impl From<::log::Level> for Level {
    fn from(level: ::log::Level) -> Level {
        match level {
            ::log::Level::Trace => Level::Trace,
            ::log::Level::Debug => Level::Debug,
            ::log::Level::Info => Level::Info,
            ::log::Level::Warn => Level::Warn,
            ::log::Level::Error => Level::Error,
        }
    }
}

/// loglayer's levels as `log` levels; `Fatal`, which `log` lacks, becomes
/// `Error`.
///
/// ```
/// use loglayer::Level;
/// assert_eq!(log::Level::from(Level::Info), log::Level::Info);
/// assert_eq!(log::Level::from(Level::Fatal), log::Level::Error);
/// ```
impl From<Level> for ::log::Level {
    fn from(level: Level) -> ::log::Level {
        match level {
            Level::Trace => ::log::Level::Trace,
            Level::Debug => ::log::Level::Debug,
            Level::Info => ::log::Level::Info,
            Level::Warn => ::log::Level::Warn,
            Level::Error | Level::Fatal => ::log::Level::Error,
        }
    }
}
