//! `#[with_logger(err)]`: logs an `Err` the function returns, keeping the
//! error's source chain when it has one. Not public API.

use std::error::Error;
use std::fmt;

use crate::json;
use crate::{Level, LogLayer};

/// Holds an error returned by a `#[with_logger(err)]` function.
pub struct ErrWrap<'a, E: ?Sized>(pub &'a E);

/// Preferred when the error implements `std::error::Error`: keeps the chain.
pub trait ReportAsError {
    #[doc(hidden)]
    fn __loglayer_report(&self, logger: &LogLayer, level: Level, function: &'static str);
}

/// Fallback for errors that are only `Display`.
pub trait ReportAsDisplay {
    #[doc(hidden)]
    fn __loglayer_report(&self, logger: &LogLayer, level: Level, function: &'static str);
}

impl<E: Error + ?Sized> ReportAsError for ErrWrap<'_, E> {
    fn __loglayer_report(&self, logger: &LogLayer, level: Level, function: &'static str) {
        if logger.is_level_enabled(level) {
            logger
                .with_error(&ErrorRef(self.0))
                .log(level, format_args!("{function} returned an error"));
        }
    }
}

impl<E: fmt::Display + ?Sized> ReportAsDisplay for &ErrWrap<'_, E> {
    fn __loglayer_report(&self, logger: &LogLayer, level: Level, function: &'static str) {
        if logger.is_level_enabled(level) {
            let message = json::display_to_string(&self.0);
            logger
                .with_error(&DisplayError(message))
                .log(level, format_args!("{function} returned an error"));
        }
    }
}

/// Adapts `&E` (possibly unsized) to `Error`.
struct ErrorRef<'a, E: ?Sized>(&'a E);

impl<E: Error + ?Sized> fmt::Debug for ErrorRef<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}
impl<E: Error + ?Sized> fmt::Display for ErrorRef<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)
    }
}
impl<E: Error + ?Sized> Error for ErrorRef<'_, E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// An error known only by its `Display` text.
#[derive(Debug)]
struct DisplayError(String);

impl fmt::Display for DisplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl Error for DisplayError {}
