//! Errors given to the macros: `#[with_logger(err)]` logs an `Err` the
//! function returns, and `err = &e` in `info!` & co. attaches `e`. Both keep
//! the error's source chain whenever the value leads to a `dyn Error`.
//! Not public API.
//!
//! The macros do not know the error's type, and a generic function cannot
//! ask "is this an `Error`, or does it deref to one?", so the choice is made
//! by method resolution at the call site (autoref specialization): the
//! expansion calls `(&&&&ErrWrap(e)).__loglayer_err()` with these traits in
//! scope, and rustc picks the first impl whose bounds hold, trying one `&`
//! less each step:
//!
//! | tier | impl for | when `V` (the value's type) is | e.g. |
//! |---|---|---|---|
//! | [`ReportAsError`] | `&&&ErrWrap<V>` | an [`AsError`] | any `Error`, `&E`, `&dyn Error` |
//! | [`ReportAsDerefError`] | `&&ErrWrap<V>` | `Deref<Target: AsError>` | `Box<dyn Error + Send + Sync>`, `anyhow::Error`, `eyre::Report` |
//! | [`ReportAsDerefDerefError`] | `&ErrWrap<V>` | `Deref<Target: Deref<Target: AsError>>` | `&anyhow::Error`, `&Box<dyn Error>` |
//! | [`ReportAsDisplay`] | `ErrWrap<V>` | only `Display` | `String` |
//!
//! The attribute imports all four; the level macros the first three and
//! [`ReportNotAnError`] in the fourth place, so `err = &value` with a value
//! that is no error is one compile error there, saying what is accepted.

use std::error::Error;
use std::fmt;
use std::ops::Deref;

use crate::{AsError, Level, LogLayer};

/// Holds the error (by reference) while the tiers are tried.
pub struct ErrWrap<'a, V: ?Sized>(pub &'a V);

/// What the tiers find: an error with its chain, or only a message.
#[derive(Clone, Copy)]
pub enum ErrRef<'a> {
    /// A `dyn Error`: its `source()` chain is kept.
    Error(&'a (dyn Error + 'a)),
    /// A value that is only `Display`: logged as an error without sources.
    Display(&'a (dyn fmt::Display + 'a)),
}

impl ErrRef<'_> {
    /// Calls `f` with this value as a `dyn Error` (a `Display`-only value is
    /// wrapped in place, without allocating).
    fn with_dyn<R>(self, f: impl FnOnce(&(dyn Error + '_)) -> R) -> R {
        match self {
            ErrRef::Error(e) => f(e),
            ErrRef::Display(d) => f(&DisplayError(d)),
        }
    }
}

/// Tier 1: the value is an [`AsError`].
pub trait ReportAsError<'a> {
    #[doc(hidden)]
    fn __loglayer_err(&self) -> ErrRef<'a>;
}

/// Tier 2: the value derefs to an [`AsError`].
pub trait ReportAsDerefError<'a> {
    #[doc(hidden)]
    fn __loglayer_err(&self) -> ErrRef<'a>;
}

/// Tier 3: the value derefs twice to an [`AsError`].
pub trait ReportAsDerefDerefError<'a> {
    #[doc(hidden)]
    fn __loglayer_err(&self) -> ErrRef<'a>;
}

/// Tier 4 (the attribute only): the value is only `Display`.
pub trait ReportAsDisplay<'a> {
    #[doc(hidden)]
    fn __loglayer_err(&self) -> ErrRef<'a>;
}

impl<'a, V: AsError + ?Sized> ReportAsError<'a> for &&&ErrWrap<'a, V> {
    fn __loglayer_err(&self) -> ErrRef<'a> {
        ErrRef::Error(self.0.as_error())
    }
}

impl<'a, V> ReportAsDerefError<'a> for &&ErrWrap<'a, V>
where
    V: Deref + ?Sized,
    V::Target: AsError,
{
    fn __loglayer_err(&self) -> ErrRef<'a> {
        ErrRef::Error(Deref::deref(self.0).as_error())
    }
}

impl<'a, V> ReportAsDerefDerefError<'a> for &ErrWrap<'a, V>
where
    V: Deref + ?Sized,
    V::Target: Deref,
    <V::Target as Deref>::Target: AsError,
{
    fn __loglayer_err(&self) -> ErrRef<'a> {
        ErrRef::Error(Deref::deref(Deref::deref(self.0)).as_error())
    }
}

impl<'a, V: fmt::Display> ReportAsDisplay<'a> for ErrWrap<'a, V> {
    fn __loglayer_err(&self) -> ErrRef<'a> {
        ErrRef::Display(self.0)
    }
}

/// The level macros' last tier: reached only when no tier above applies, it
/// turns "no method found" into one error that says what `err = ..` takes.
pub trait ReportNotAnError<'a, V: ?Sized> {
    #[doc(hidden)]
    fn __loglayer_err(&self) -> ErrRef<'a>
    where
        V: NotAnError;
}

impl<'a, V: ?Sized> ReportNotAnError<'a, V> for ErrWrap<'a, V> {
    fn __loglayer_err(&self) -> ErrRef<'a>
    where
        V: NotAnError,
    {
        V::unreachable(self.0)
    }
}

/// Implemented by no type: the bound that fails for `err = &value` when
/// `value` is no error.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be attached as an error",
    label = "`err = ..` takes a reference to an error",
    note = "it takes any `std::error::Error`, `Box<dyn Error>`, or a type that derefs to `dyn Error` (such as `anyhow::Error`); log other values as fields: `key = ?value` or `key = %value`"
)]
pub trait NotAnError {
    #[doc(hidden)]
    fn unreachable(&self) -> ErrRef<'_>;
}

/// `#[with_logger(err)]`: logs `err` through `logger` (the scope's logger:
/// the expansion passes `current()` from inside the scope). Non-generic.
pub fn report(logger: &LogLayer, level: Level, function: &'static str, err: ErrRef<'_>) {
    if logger.is_level_enabled(level) {
        err.with_dyn(|e| {
            logger
                .with_error(e)
                .log(level, format_args!("{function} returned an error"));
        });
    }
}

/// `info!(err = &e, ..)`: one macro call with an error, through the current
/// logger. Non-generic.
pub fn log_err(
    level: Level,
    target: &'static str,
    fields: &[(&str, &dyn super::FieldValue)],
    args: fmt::Arguments<'_>,
    err: ErrRef<'_>,
) {
    err.with_dyn(|e| super::log(level, target, fields, args, Some(e)));
}

/// A `Display`-only value seen as an error without sources.
struct DisplayError<'a>(&'a (dyn fmt::Display + 'a));

impl fmt::Debug for DisplayError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)
    }
}
impl fmt::Display for DisplayError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)
    }
}
impl Error for DisplayError<'_> {}
