//! What macro expansions name. **Not public API**: anything here may change
//! in any release.

use std::error::Error;
use std::fmt;

use serde_core::Serialize;

mod report;

pub use self::report::{ErrWrap, ReportAsDisplay, ReportAsError};
pub use crate::current::{Callsite, ScopeLogger, SyncGuard};
pub use crate::level::statically_enabled;
pub use crate::pipeline::FieldValue;
use crate::pipeline::{Meta, Msg, Record};
use crate::value::encode;
use crate::{Level, LogLayer};

/// Whether a macro call at `level` from `target` goes anywhere. The macros
/// call this before evaluating any argument, with their call site's
/// `static` cache.
#[inline]
pub fn enabled(level: Level, target: &'static str, callsite: &'static Callsite) -> bool {
    crate::current::enabled(level, target, callsite)
}

/// Sends one macro call through the current logger. Non-generic: one copy in
/// the binary.
pub fn log(
    level: Level,
    target: &'static str,
    fields: &[(&str, &dyn FieldValue)],
    args: fmt::Arguments<'_>,
    error: Option<&dyn Error>,
) {
    crate::current::with_current_inner(|logger| {
        let info = error.map(|e| logger.capture_error(e));
        logger.emit(Record {
            level,
            msg: Msg::Args(args),
            meta: if fields.is_empty() {
                Meta::None
            } else {
                Meta::Pairs(fields)
            },
            error: info.as_ref(),
            target: Some(target),
            context: None,
            root: None,
        });
        if let Some(info) = info {
            crate::scratch::give_error(info);
        }
    });
}

/// Marker for values usable with `k = value`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be logged as a serde value",
    label = "this value does not implement `serde::Serialize`",
    note = "log it with its `Debug` impl as `key = ?value`, or with `Display` as `key = %value`"
)]
pub trait SerializeField {
    #[doc(hidden)]
    fn __write(&self, out: &mut Vec<u8>);
}

impl<T: Serialize + ?Sized> SerializeField for T {
    fn __write(&self, out: &mut Vec<u8>) {
        encode::value(out, self);
    }
}

/// `k = value`: serialized with serde. The writer is captured by [`ser`], so
/// the `FieldValue` impl has no bound of its own and a value that is not
/// `Serialize` gives exactly one error (at `ser`).
pub struct Ser<'a, T: ?Sized> {
    value: &'a T,
    write: fn(&T, &mut Vec<u8>),
}
/// `k = ?value`: its `Debug` text.
pub struct Dbg<'a, T: ?Sized>(&'a T);
/// `k = %value`: its `Display` text.
pub struct Disp<'a, T: ?Sized>(&'a T);

/// Wraps a `Serialize` value as a field.
#[inline]
pub fn ser<T: SerializeField + ?Sized>(v: &T) -> Ser<'_, T> {
    Ser {
        value: v,
        write: <T as SerializeField>::__write,
    }
}

/// Wraps a `Debug` value as a field.
#[inline]
pub fn dbg<T: fmt::Debug + ?Sized>(v: &T) -> Dbg<'_, T> {
    Dbg(v)
}

/// Wraps a `Display` value as a field.
#[inline]
pub fn disp<T: fmt::Display + ?Sized>(v: &T) -> Disp<'_, T> {
    Disp(v)
}

impl<T: ?Sized> FieldValue for Ser<'_, T> {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.write)(self.value, out);
    }
}

impl<T: fmt::Debug + ?Sized> FieldValue for Dbg<'_, T> {
    fn encode(&self, out: &mut Vec<u8>) {
        encode::display(out, &|w| write!(w, "{:?}", self.0));
    }
}

impl<T: fmt::Display + ?Sized> FieldValue for Disp<'_, T> {
    fn encode(&self, out: &mut Vec<u8>) {
        encode::display(out, &|w| write!(w, "{}", self.0));
    }
}

/// `#[with_logger(logger = expr)]`: accepts a `LogLayer` or `&LogLayer`.
pub fn logger_from<L: std::borrow::Borrow<LogLayer>>(l: L) -> LogLayer {
    l.borrow().clone()
}

/// `#[with_logger]`: a child of `base` (or of the current logger) **as it is
/// now**, with these context fields (rendered now); the child is built only
/// when first needed.
pub fn pending(base: Option<&LogLayer>, fields: &[(&'static str, &dyn FieldValue)]) -> ScopeLogger {
    let parent = match base {
        Some(b) => b.inner.freeze(),
        None => crate::current::freeze_current(),
    };
    ScopeLogger::pending(parent, fields)
}

/// `#[with_logger]` on a fn that returns a future: a child of the logger
/// that is current when the [`scoped`] future is first polled (or dropped
/// unpolled), with these context fields (rendered now).
pub fn deferred(fields: &[(&'static str, &dyn FieldValue)]) -> ScopeLogger {
    ScopeLogger::deferred(fields)
}

/// `#[with_logger(logger = expr)]`: that logger as it is.
pub fn ready(logger: LogLayer) -> ScopeLogger {
    ScopeLogger::ready(logger)
}

/// `#[with_logger(group = "name")]`: the scope's logger, as a child that also
/// tags its entries with `group`.
pub fn in_group(logger: ScopeLogger, group: &'static str) -> ScopeLogger {
    logger.in_group(group)
}

/// `#[with_logger]` on an async fn: runs `fut` in the scope of `logger`.
pub fn scoped<F>(logger: ScopeLogger, fut: F) -> crate::Scoped<F> {
    crate::current::scoped(logger, fut)
}

/// `#[with_logger]` on a plain fn: makes `logger` current until the guard drops.
pub fn enter_scope(logger: ScopeLogger) -> SyncGuard {
    SyncGuard::enter(Some(logger))
}

// `#[with_logger(err)]` and `err = &e` in the level macros: see `report.rs`.
pub use self::report::{
    log_err, report, ErrRef, NotAnError, ReportAsDerefDerefError, ReportAsDerefError,
    ReportNotAnError,
};

/// `r#type` → `type`: the key of a raw identifier field (`__key!`).
pub const fn unraw(key: &'static str) -> &'static str {
    match key.as_bytes() {
        [b'r', b'#', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(rest) => rest,
            Err(_) => key,
        },
        _ => key,
    }
}
