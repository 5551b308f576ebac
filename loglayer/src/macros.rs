//! The level macros: `trace!` … `fatal!` and `log!`.
//!
//! Each resolves [`current()`](crate::current) — the innermost scope's logger,
//! else the default logger — then checks the level **before** evaluating any
//! argument: a disabled call costs a thread-local read and a comparison.
//!
//! Syntax: fields first, then the message and its format arguments. The
//! field grammar is documented once, under [Fields](crate::log!#fields) on
//! `log!`, and `#[with_logger(context(..))]` parses the very same forms
//! (`tests/field_grammar.rs` runs every form through both).
//!
//! The message is optional (`info!(done = true)` has an empty message).

/// Logs at a level given as a word (`trace` … `fatal`) or a [`Level`](crate::Level)
/// expression, through the current logger.
///
/// # Fields
///
/// Fields come first, separated by commas, then the message. The same forms
/// are accepted by `#[with_logger(context(..))]`, except `err`:
///
/// | field | key | logged as |
/// |---|---|---|
/// | `key = expr` | `key` | `expr` serialized with serde (`expr: Serialize`) |
/// | `key = ?expr` | `key` | its `Debug` text |
/// | `key = %expr` | `key` | its `Display` text |
/// | `"any.key" = expr`, `"any.key" = ?expr`, `"any.key" = %expr` | `any.key` | as above: a key that is not an identifier |
/// | `name`, `?name`, `%name` | `name` | shorthand for `name = name`, `name = ?name`, `name = %name` (in `context(..)`, `name` must be an argument of the function) |
/// | `r#type = expr`, `r#type`, `?r#type`, … | `type` | a raw identifier is logged without its `r#` |
/// | `err = &error` | — | level macros only: attached as the entry's error with its source chain; any [`AsError`](crate::AsError), a `Box<dyn Error>` (with or without `Send + Sync`), or a type that derefs to `dyn Error` such as `anyhow::Error` |
///
/// Values are borrowed, never moved, and rendered at once. The message is
/// optional (`info!(done = true)` has an empty message).
///
/// ```
/// use loglayer::{transport::CaptureTransport, Level, LogLayer};
///
/// let capture = CaptureTransport::new();
/// loglayer::sync_scope(LogLayer::new(capture.clone()), || {
///     loglayer::log!(info, "hi");
///     let level = Level::Warn;
///     loglayer::log!(level, attempt = 3, "retrying in {}s", 5);
/// });
/// let e = capture.entries();
/// assert_eq!(e[1]["level"], "warn");
/// assert_eq!(e[1]["msg"], "retrying in 5s");
/// assert_eq!(e[1]["attempt"], 3);
/// ```
#[macro_export]
macro_rules! log {
    (trace, $($t:tt)*) => { $crate::__log!($crate::Level::Trace; $($t)*) };
    (debug, $($t:tt)*) => { $crate::__log!($crate::Level::Debug; $($t)*) };
    (info, $($t:tt)*) => { $crate::__log!($crate::Level::Info; $($t)*) };
    (warn, $($t:tt)*) => { $crate::__log!($crate::Level::Warn; $($t)*) };
    (error, $($t:tt)*) => { $crate::__log!($crate::Level::Error; $($t)*) };
    (fatal, $($t:tt)*) => { $crate::__log!($crate::Level::Fatal; $($t)*) };
    ($level:expr, $($t:tt)*) => { $crate::__log!($level; $($t)*) };
}

/// Logs at trace level through the current logger. See [`log!`](crate::log!)
/// and its [fields](crate::log!#fields).
///
/// ```
/// loglayer::trace!(bytes = 512, "read chunk");
/// ```
#[macro_export]
macro_rules! trace {
    ($($t:tt)*) => { $crate::__log!($crate::Level::Trace; $($t)*) };
}

/// Logs at debug level through the current logger.
///
/// ```
/// let cache = vec![1, 2];
/// loglayer::debug!(entries = ?cache, "cache state");
/// ```
#[macro_export]
macro_rules! debug {
    ($($t:tt)*) => { $crate::__log!($crate::Level::Debug; $($t)*) };
}

/// Logs at info level through the current logger.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
/// let capture = CaptureTransport::new();
/// loglayer::sync_scope(LogLayer::new(capture.clone()), || {
///     let user = "ada";
///     loglayer::info!(user_id = 7_u64, name = %user, "signed in after {} tries", 2);
/// });
/// let e = &capture.entries()[0];
/// assert_eq!(e["msg"], "signed in after 2 tries");
/// assert_eq!((e["user_id"].as_u64(), e["name"].as_str()), (Some(7), Some("ada")));
/// ```
#[macro_export]
macro_rules! info {
    ($($t:tt)*) => { $crate::__log!($crate::Level::Info; $($t)*) };
}

/// Logs at warn level through the current logger.
///
/// ```
/// loglayer::warn!("disk at {}%", 91);
/// ```
#[macro_export]
macro_rules! warn {
    ($($t:tt)*) => { $crate::__log!($crate::Level::Warn; $($t)*) };
}

/// Logs at error level through the current logger; `err = &e` attaches an
/// error.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
/// let capture = CaptureTransport::new();
/// loglayer::sync_scope(LogLayer::new(capture.clone()), || {
///     let e = std::io::Error::other("connection reset");
///     loglayer::error!(err = &e, peer = "10.0.0.7", "request failed");
/// });
/// assert_eq!(capture.entries()[0]["err"]["message"], "connection reset");
/// ```
///
/// A `Box<dyn Error>` (or an `anyhow::Error`) goes in as it is, and keeps its
/// source chain:
///
/// ```
/// # use loglayer::{transport::CaptureTransport, LogLayer};
/// #[derive(Debug)]
/// struct SaveError(std::io::Error);
/// impl std::fmt::Display for SaveError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("could not save")
///     }
/// }
/// impl std::error::Error for SaveError {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// let capture = CaptureTransport::new();
/// loglayer::sync_scope(LogLayer::new(capture.clone()), || {
///     let e: Box<dyn std::error::Error> = Box::new(SaveError(std::io::Error::other("disk full")));
///     loglayer::error!(err = &e, "save failed");
/// });
/// let err = &capture.entries()[0]["err"];
/// assert_eq!(err["message"], "could not save");
/// assert_eq!(err["sources"][0], "disk full");
/// ```
#[macro_export]
macro_rules! error {
    ($($t:tt)*) => { $crate::__log!($crate::Level::Error; $($t)*) };
}

/// Logs at fatal level through the current logger (it does not exit).
///
/// ```
/// loglayer::fatal!(code = 3, "cannot continue");
/// ```
#[macro_export]
macro_rules! fatal {
    ($($t:tt)*) => { $crate::__log!($crate::Level::Fatal; $($t)*) };
}

/// Level check first (compile-time ceiling, then the logger), then fields.
#[doc(hidden)]
#[macro_export]
macro_rules! __log {
    ($level:expr; $($t:tt)*) => {{
        let __loglayer_level: $crate::Level = $level;
        static __LOGLAYER_CALLSITE: $crate::__private::Callsite = $crate::__private::Callsite::new();
        if $crate::__private::statically_enabled(__loglayer_level)
            && $crate::__private::enabled(__loglayer_level, ::core::module_path!(), &__LOGLAYER_CALLSITE)
        {
            $crate::__log_fields!((__loglayer_level) [] [] $($t)*);
        }
    }};
}

/// Munches `key = value` fields, then the message.
#[doc(hidden)]
#[macro_export]
macro_rules! __log_fields {
    // The error.
    ($ctx:tt [$($f:tt)*] [$($e:tt)*] err = $v:expr, $($rest:tt)*) => {
        $crate::__log_fields!($ctx [$($f)*] [$v] $($rest)*)
    };
    ($ctx:tt [$($f:tt)*] [$($e:tt)*] err = $v:expr) => {
        $crate::__log_fields!($ctx [$($f)*] [$v])
    };
    // Debug / Display / serde fields, identifier keys.
    ($ctx:tt [$($f:tt)*] $e:tt $k:ident = ?$v:expr $(, $($rest:tt)*)?) => {
        $crate::__log_fields!($ctx [$($f)* ($crate::__key!($k), $crate::__private::dbg(&$v))] $e $($($rest)*)?)
    };
    ($ctx:tt [$($f:tt)*] $e:tt $k:ident = %$v:expr $(, $($rest:tt)*)?) => {
        $crate::__log_fields!($ctx [$($f)* ($crate::__key!($k), $crate::__private::disp(&$v))] $e $($($rest)*)?)
    };
    ($ctx:tt [$($f:tt)*] $e:tt $k:ident = $v:expr $(, $($rest:tt)*)?) => {
        $crate::__log_fields!($ctx [$($f)* ($crate::__key!($k), $crate::__private::ser(&$v))] $e $($($rest)*)?)
    };
    // Shorthand: `name` is `name = name` (also `?name`, `%name`).
    ($ctx:tt [$($f:tt)*] $e:tt ?$k:ident $(, $($rest:tt)*)?) => {
        $crate::__log_fields!($ctx [$($f)* ($crate::__key!($k), $crate::__private::dbg(&$k))] $e $($($rest)*)?)
    };
    ($ctx:tt [$($f:tt)*] $e:tt %$k:ident $(, $($rest:tt)*)?) => {
        $crate::__log_fields!($ctx [$($f)* ($crate::__key!($k), $crate::__private::disp(&$k))] $e $($($rest)*)?)
    };
    ($ctx:tt [$($f:tt)*] $e:tt $k:ident $(, $($rest:tt)*)?) => {
        $crate::__log_fields!($ctx [$($f)* ($crate::__key!($k), $crate::__private::ser(&$k))] $e $($($rest)*)?)
    };
    // String-literal keys.
    ($ctx:tt [$($f:tt)*] $e:tt $k:literal = ?$v:expr $(, $($rest:tt)*)?) => {
        $crate::__log_fields!($ctx [$($f)* ($k, $crate::__private::dbg(&$v))] $e $($($rest)*)?)
    };
    ($ctx:tt [$($f:tt)*] $e:tt $k:literal = %$v:expr $(, $($rest:tt)*)?) => {
        $crate::__log_fields!($ctx [$($f)* ($k, $crate::__private::disp(&$v))] $e $($($rest)*)?)
    };
    ($ctx:tt [$($f:tt)*] $e:tt $k:literal = $v:expr $(, $($rest:tt)*)?) => {
        $crate::__log_fields!($ctx [$($f)* ($k, $crate::__private::ser(&$v))] $e $($($rest)*)?)
    };
    // The message, with format arguments.
    ($ctx:tt $f:tt $e:tt $fmt:literal $(, $($args:tt)*)?) => {
        $crate::__log_emit!($ctx $f $e ::core::format_args!($fmt $(, $($args)*)?))
    };
    // No message.
    ($ctx:tt $f:tt $e:tt) => {
        $crate::__log_emit!($ctx $f $e ::core::format_args!(""))
    };
}

/// An identifier key as written, without the `r#` of a raw identifier
/// (`r#type = 1` is logged as `"type"`), computed at compile time.
#[doc(hidden)]
#[macro_export]
macro_rules! __key {
    ($k:ident) => {{
        const __LOGLAYER_KEY: &::core::primitive::str =
            $crate::__private::unraw(::core::stringify!($k));
        __LOGLAYER_KEY
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __log_emit {
    (($level:ident) [$(($k:expr, $v:expr))*] [] $args:expr) => {
        $crate::__private::log(
            $level,
            ::core::module_path!(),
            &[$(($k, &$v as &dyn $crate::__private::FieldValue)),*],
            $args,
            ::core::option::Option::None,
        )
    };
    // The error goes through the tiers of `__private::report` (autoref
    // specialization), so `&Box<dyn Error>` and `&anyhow::Error` keep their
    // source chain like any `&impl Error`.
    (($level:ident) [$(($k:expr, $v:expr))*] [$err:expr] $args:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::{
            ReportAsDerefDerefError as _, ReportAsDerefError as _, ReportAsError as _,
            ReportNotAnError as _,
        };
        $crate::__private::log_err(
            $level,
            ::core::module_path!(),
            &[$(($k, &$v as &dyn $crate::__private::FieldValue)),*],
            $args,
            (&&&&$crate::__private::ErrWrap(&$err)).__loglayer_err(),
        );
    }};
}
