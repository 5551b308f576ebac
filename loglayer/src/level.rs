//! Log levels: [`Level`], its parsing and the compile-time ceiling.

use std::fmt;
use std::str::FromStr;

/// The severity of an entry.
///
/// The numeric values are LogLayer's: `Trace = 10` up to `Fatal = 60`, so levels
/// compare and sort by severity. A level converts to its number (`as u8` or
/// [`u8::from`]) and back ([`Level::try_from`], exact numbers only), and to
/// its name ([`Display`](fmt::Display), [`as_str`](Level::as_str)) and back
/// ([`FromStr`], ignoring case).
///
/// ```
/// use loglayer::Level;
///
/// assert!(Level::Warn > Level::Info);
/// assert_eq!(Level::Error as u8, 50);
/// assert_eq!(u8::from(Level::Error), 50);
/// assert_eq!(Level::try_from(40), Ok(Level::Warn));
/// assert_eq!("WARN".parse::<Level>(), Ok(Level::Warn));
/// assert_eq!(Level::Fatal.to_string(), "fatal");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// Very fine-grained diagnostics.
    Trace = 10,
    /// Diagnostics for developers.
    Debug = 20,
    /// Normal operation worth recording.
    Info = 30,
    /// Something unexpected that the program handled.
    Warn = 40,
    /// An operation failed.
    Error = 50,
    /// The program cannot continue.
    Fatal = 60,
}

impl Level {
    /// Every level, from least to most severe.
    ///
    /// ```
    /// assert_eq!(loglayer::Level::ALL.len(), 6);
    /// ```
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// The lowercase name used in output: `"trace"` … `"fatal"`.
    ///
    /// ```
    /// assert_eq!(loglayer::Level::Info.as_str(), "info");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// The bit of this level in a level mask (internal representation of a
    /// logger's enabled levels).
    pub(crate) const fn bit(self) -> u8 {
        match self {
            Level::Trace => 1,
            Level::Debug => 2,
            Level::Info => 4,
            Level::Warn => 8,
            Level::Error => 16,
            Level::Fatal => 32,
        }
    }

    /// The mask of this level and every more severe one.
    pub(crate) const fn mask_from(self) -> u8 {
        // Bits are in severity order, so "this and above" is every bit from ours up.
        !(self.bit() - 1) & 0b11_1111
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl From<Level> for u8 {
    /// The level's number, LogLayer's: `10` (trace) … `60` (fatal).
    fn from(level: Level) -> u8 {
        level as u8
    }
}

impl TryFrom<u8> for Level {
    type Error = ParseLevelError;

    /// The level with this number: `10`, `20`, `30`, `40`, `50` or `60`.
    /// Numbers in between name no level (LogLayer has none there either).
    ///
    /// ```
    /// use loglayer::Level;
    ///
    /// assert_eq!(Level::try_from(10), Ok(Level::Trace));
    /// let err = Level::try_from(35).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "unknown log level number 35: expected one of 10 (trace), 20 (debug), \
    ///      30 (info), 40 (warn), 50 (error), 60 (fatal)"
    /// );
    /// ```
    fn try_from(number: u8) -> Result<Self, ParseLevelError> {
        Level::ALL
            .into_iter()
            .find(|level| *level as u8 == number)
            .ok_or(ParseLevelError {
                input: Input::Number(number),
            })
    }
}

/// The error returned when a name or a number names no level (by
/// [`FromStr`] or [`Level::try_from`]).
///
/// ```
/// let err = "loud".parse::<loglayer::Level>().unwrap_err();
/// assert!(err.to_string().contains("trace, debug, info, warn, error, fatal"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLevelError {
    input: Input,
}

/// What was given where a level was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Input {
    Name(String),
    Number(u8),
}

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.input {
            Input::Name(name) => write!(
                f,
                "unknown log level {name:?}: expected one of trace, debug, info, warn, error, fatal"
            ),
            Input::Number(n) => write!(
                f,
                "unknown log level number {n}: expected one of 10 (trace), 20 (debug), \
                 30 (info), 40 (warn), 50 (error), 60 (fatal)"
            ),
        }
    }
}

impl std::error::Error for ParseLevelError {}

impl FromStr for Level {
    type Err = ParseLevelError;

    /// Parses a level name, ignoring ASCII case and surrounding whitespace.
    /// `"warning"` is accepted for `Warn`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let level = [
            ("trace", Level::Trace),
            ("debug", Level::Debug),
            ("info", Level::Info),
            ("warn", Level::Warn),
            ("warning", Level::Warn),
            ("error", Level::Error),
            ("fatal", Level::Fatal),
        ]
        .into_iter()
        .find(|(name, _)| t.eq_ignore_ascii_case(name))
        .map(|(_, level)| level);
        level.ok_or_else(|| ParseLevelError {
            input: Input::Name(s.to_owned()),
        })
    }
}

/// The compile-time ceiling set by the `max_level_*` / `release_max_level_*`
/// features: the least severe level the macros still compile in, or `None`
/// when every call is compiled out (`max_level_off`).
///
/// Calls below it are removed by the compiler; their arguments are still
/// type-checked but never evaluated.
///
/// ```
/// // With no feature set every level is compiled in.
/// # #[cfg(not(any(feature = "max_level_off", feature = "max_level_fatal", feature = "max_level_error",
/// #   feature = "max_level_warn", feature = "max_level_info", feature = "max_level_debug")))]
/// assert_eq!(loglayer::STATIC_MAX_LEVEL, Some(loglayer::Level::Trace));
/// ```
pub const STATIC_MAX_LEVEL: Option<Level> = static_max_level();

const fn static_max_level() -> Option<Level> {
    // `release_max_level_*` applies only without debug assertions; the most
    // restrictive feature that applies wins, so that enabling features stays additive
    // in the sense that matters: a ceiling never lets more through.
    let release = !cfg!(debug_assertions);
    if cfg!(feature = "max_level_off") || (release && cfg!(feature = "release_max_level_off")) {
        None
    } else if cfg!(feature = "max_level_fatal")
        || (release && cfg!(feature = "release_max_level_fatal"))
    {
        Some(Level::Fatal)
    } else if cfg!(feature = "max_level_error")
        || (release && cfg!(feature = "release_max_level_error"))
    {
        Some(Level::Error)
    } else if cfg!(feature = "max_level_warn")
        || (release && cfg!(feature = "release_max_level_warn"))
    {
        Some(Level::Warn)
    } else if cfg!(feature = "max_level_info")
        || (release && cfg!(feature = "release_max_level_info"))
    {
        Some(Level::Info)
    } else if cfg!(feature = "max_level_debug")
        || (release && cfg!(feature = "release_max_level_debug"))
    {
        Some(Level::Debug)
    } else {
        Some(Level::Trace)
    }
}

/// Whether `level` survives the compile-time ceiling. Used by the macros; a
/// `const fn` so the check folds away.
#[doc(hidden)]
pub const fn statically_enabled(level: Level) -> bool {
    match STATIC_MAX_LEVEL {
        None => false,
        Some(max) => level as u8 >= max as u8,
    }
}
