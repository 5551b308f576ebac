//! The [`Filter`] plugin: drops entries by level, message or any predicate.
//! See [`Filter`].
//!
//! ```
//! use loglayer::{plugin::Filter, transport::CaptureTransport, Level, LogLayer};
//! let capture = CaptureTransport::new();
//! let log = LogLayer::builder()
//!     .transport(capture.clone())
//!     .plugin(Filter::min_level(Level::Info))
//!     .build();
//! log.debug("dropped");
//! log.info("kept");
//! assert_eq!(capture.messages(), ["kept"]);
//! ```

use std::fmt;
use std::sync::Arc;

use super::Plugin;
use crate::{Entry, Level};

type Predicate = dyn Fn(&Entry<'_>) -> bool + Send + Sync;

/// What a filter tests.
#[derive(Clone)]
enum Rule {
    MinLevel(Level),
    Contains(String),
    Glob(String),
    Predicate(Arc<Predicate>),
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::MinLevel(l) => f.debug_tuple("MinLevel").field(l).finish(),
            Rule::Contains(s) => f.debug_tuple("Contains").field(s).finish(),
            Rule::Glob(s) => f.debug_tuple("Glob").field(s).finish(),
            Rule::Predicate(_) => f.write_str("Predicate(..)"),
        }
    }
}

/// A plugin that keeps or drops whole entries: by level, message or any predicate.
///
/// Each constructor says in its name whether a match **keeps** or **drops**
/// the entry: [`Filter::min_level`] keeps entries at or above a level,
/// `keep_*` constructors keep only the entries that match (dropping the rest),
/// `drop_*` constructors drop the entries that match (keeping the rest).
///
/// The decision is made once per entry (in [`Plugin::should_log`], after the
/// other plugins have edited the entry and set its final level), so every
/// transport sees the same entries. Several filters on one logger all apply:
/// an entry is sent only if every one keeps it.
///
/// ```
/// use loglayer::{plugin::Filter, transport::CaptureTransport, Level, LogLayer};
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::builder()
///     .transport(capture.clone())
///     .plugin(Filter::min_level(Level::Info))
///     .plugin(Filter::drop_message_containing("healthcheck"))
///     .build();
///
/// log.debug("cache miss");              // below info: dropped
/// log.info("GET /healthcheck 200");     // matches: dropped
/// log.info("GET /orders 200");          // kept
/// assert_eq!(capture.messages(), ["GET /orders 200"]);
/// ```
///
/// A predicate sees the whole [`Entry`] — level, message, target, context,
/// metadata (as `(key, value)` pairs of typed [`Value`](crate::value::Value)s)
/// and error:
///
/// ```
/// use loglayer::{plugin::Filter, transport::CaptureTransport, Entry, LogLayer};
/// use serde_json::json;
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::builder()
///     .transport(capture.clone())
///     .plugin(Filter::drop_if(|e: &Entry<'_>| {
///         e.metadata().any(|(k, v)| k == "route" && v == "/metrics")
///     }))
///     .build();
/// log.with_metadata(json!({"route": "/metrics"})).info("served");
/// log.with_metadata(json!({"route": "/orders"})).info("served");
/// assert_eq!(capture.entries().len(), 1);
/// assert_eq!(capture.entries()[0]["route"], "/orders");
/// ```
///
/// Its id is `"filter"` unless set with [`Filter::with_id`].
#[derive(Clone, Debug)]
pub struct Filter {
    id: String,
    rule: Rule,
    /// `true`: send the entry when the rule matches; `false`: when it doesn't.
    keep_on_match: bool,
}

impl Filter {
    fn new(rule: Rule, keep_on_match: bool) -> Self {
        Filter {
            id: "filter".to_owned(),
            rule,
            keep_on_match,
        }
    }

    /// Keeps entries at `level` or more severe; drops the rest. The level is
    /// the entry's final one (after plugins' `transform_log_level`).
    ///
    /// ```
    /// use loglayer::{plugin::Filter, transport::CaptureTransport, Level, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Filter::min_level(Level::Error))
    ///     .build();
    /// log.warn("w");
    /// log.error("e");
    /// log.fatal("f");
    /// assert_eq!(capture.messages(), ["e", "f"]);
    /// ```
    pub fn min_level(level: Level) -> Self {
        Self::new(Rule::MinLevel(level), true)
    }

    /// Keeps only entries for which `predicate` returns `true`.
    ///
    /// ```
    /// use loglayer::{plugin::Filter, transport::CaptureTransport, Entry, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Filter::keep_if(|e: &Entry<'_>| e.error().is_some()))
    ///     .build();
    /// log.warn("no error");
    /// log.with_error(&std::io::Error::other("boom")).warn("with error");
    /// assert_eq!(capture.messages(), ["with error"]);
    /// ```
    pub fn keep_if<F>(predicate: F) -> Self
    where
        F: Fn(&Entry<'_>) -> bool + Send + Sync + 'static,
    {
        Self::new(Rule::Predicate(Arc::new(predicate)), true)
    }

    /// Drops entries for which `predicate` returns `true`; keeps the rest.
    ///
    /// ```
    /// use loglayer::{plugin::Filter, transport::CaptureTransport, Entry, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Filter::drop_if(|e: &Entry<'_>| e.message().len() > 10))
    ///     .build();
    /// log.info("short");
    /// log.info("rather long message");
    /// assert_eq!(capture.messages(), ["short"]);
    /// ```
    pub fn drop_if<F>(predicate: F) -> Self
    where
        F: Fn(&Entry<'_>) -> bool + Send + Sync + 'static,
    {
        Self::new(Rule::Predicate(Arc::new(predicate)), false)
    }

    /// Keeps only entries whose message contains `text` (case-sensitive).
    ///
    /// ```
    /// use loglayer::{plugin::Filter, transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Filter::keep_message_containing("payment"))
    ///     .build();
    /// log.info("payment accepted");
    /// log.info("cart updated");
    /// assert_eq!(capture.messages(), ["payment accepted"]);
    /// ```
    pub fn keep_message_containing(text: impl Into<String>) -> Self {
        Self::new(Rule::Contains(text.into()), true)
    }

    /// Drops entries whose message contains `text` (case-sensitive).
    ///
    /// ```
    /// use loglayer::{plugin::Filter, transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Filter::drop_message_containing("healthcheck"))
    ///     .build();
    /// log.info("GET /healthcheck");
    /// log.info("GET /orders");
    /// assert_eq!(capture.messages(), ["GET /orders"]);
    /// ```
    pub fn drop_message_containing(text: impl Into<String>) -> Self {
        Self::new(Rule::Contains(text.into()), false)
    }

    /// Keeps only entries whose **whole** message matches the glob `pattern`:
    /// `*` matches any run of characters (also none), `?` exactly one
    /// character, `\` makes the next character literal; everything else
    /// matches itself, case-sensitively. (Use `*text*` to match anywhere.)
    ///
    /// ```
    /// use loglayer::{plugin::Filter, transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Filter::keep_message_matching("user * logged ?n"))
    ///     .build();
    /// log.info("user ann logged in");
    /// log.info("user ann logged out");
    /// log.info("the user bob logged in");
    /// assert_eq!(capture.messages(), ["user ann logged in"]);
    /// ```
    pub fn keep_message_matching(pattern: impl Into<String>) -> Self {
        Self::new(Rule::Glob(pattern.into()), true)
    }

    /// Drops entries whose whole message matches the glob `pattern` (see
    /// [`keep_message_matching`](Filter::keep_message_matching) for the syntax).
    ///
    /// ```
    /// use loglayer::{plugin::Filter, transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Filter::drop_message_matching("GET /health* 200"))
    ///     .build();
    /// log.info("GET /healthz 200");
    /// log.info("GET /healthz 503");
    /// assert_eq!(capture.messages(), ["GET /healthz 503"]);
    /// ```
    pub fn drop_message_matching(pattern: impl Into<String>) -> Self {
        Self::new(Rule::Glob(pattern.into()), false)
    }

    /// Sets the id used by `remove_plugin`, `disable_plugin` and `enable_plugin`.
    ///
    /// ```
    /// use loglayer::{plugin::Filter, transport::CaptureTransport, Level, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Filter::min_level(Level::Error).with_id("errors-only"))
    ///     .build();
    /// log.info("dropped");
    /// assert!(log.remove_plugin("errors-only"));
    /// log.info("sent");
    /// assert_eq!(capture.messages(), ["sent"]);
    /// ```
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Whether the rule matches the entry.
    fn matches(&self, entry: &Entry<'_>) -> bool {
        match &self.rule {
            Rule::MinLevel(min) => entry.level() >= *min,
            Rule::Contains(text) => entry.message().contains(text.as_str()),
            Rule::Glob(pattern) => glob_match(pattern, entry.message()),
            Rule::Predicate(p) => p(entry),
        }
    }
}

impl Plugin for Filter {
    fn id(&self) -> &str {
        &self.id
    }

    fn should_log(&self, entry: &Entry<'_>) -> bool {
        self.matches(entry) == self.keep_on_match
    }
}

/// One token of a glob pattern.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    Star,
    Any,
    Char(char),
}

/// Matches `text` against a glob (`*`, `?`, `\` escape), anchored at both ends.
/// Linear backtracking on the last `*`: O(pattern × text) at worst.
fn glob_match(pattern: &str, text: &str) -> bool {
    let mut toks = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '*' => Tok::Star,
            '?' => Tok::Any,
            '\\' => Tok::Char(chars.next().unwrap_or('\\')),
            c => Tok::Char(c),
        });
    }
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None; // (token after the star, text position)
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Star) => {
                star = Some((p + 1, t));
                p += 1;
            }
            Some(Tok::Any) => {
                p += 1;
                t += 1;
            }
            Some(Tok::Char(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("", ""));
        assert!(!glob_match("", "a"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("a*c", "abbbc"));
        assert!(glob_match("a*c", "ac"));
        assert!(!glob_match("a*c", "acb"));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match(r"a\*c", "a*c"));
        assert!(!glob_match(r"a\*c", "abc"));
        assert!(glob_match("h*é", "hé"));
        assert!(glob_match("**x", "x"));
        assert!(!glob_match("a*b*c", "aXbY"));
    }
}
