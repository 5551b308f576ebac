//! Per-target levels in the syntax Rust users know from `env_logger`:
//! `info,my_crate::db=debug,hyper=warn`.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Level;

/// A default level plus levels for targets (module paths).
///
/// Each comma-separated item is one of:
///
/// | item | meaning |
/// |---|---|
/// | `level` | the default level (`trace` … `fatal`, or `off`) |
/// | `target=level` | entries whose target starts with `target` use `level` (`off` silences them) |
/// | `target` | every level for that target |
///
/// The longest matching target wins; entries without a target (the
/// `LogLayer` methods) use the default. The macros record the module path of
/// the call as the target, so `my_crate::db=debug` turns on `debug!` inside
/// `my_crate::db` and its submodules only.
///
/// ```
/// use loglayer::{Directives, Level};
///
/// let d: Directives = "info,my_crate::db=debug,hyper=off".parse().unwrap();
/// assert!(d.enabled(Some("my_crate::db::pool"), Level::Debug));
/// assert!(!d.enabled(Some("my_crate::http"), Level::Debug));
/// assert!(!d.enabled(Some("hyper::proto"), Level::Error));
/// assert!(d.enabled(None, Level::Info));
/// assert!("info,db=loud".parse::<Directives>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directives {
    default: Option<Level>,
    /// Sorted longest target first, so the first match is the most specific.
    targets: Vec<(String, Option<Level>)>,
}

impl Default for Directives {
    /// `info` for everything.
    fn default() -> Self {
        Directives::new(Level::Info)
    }
}

impl Directives {
    /// Directives with a default level and no targets.
    pub fn new(default: Level) -> Self {
        Directives {
            default: Some(default),
            targets: Vec::new(),
        }
    }

    /// Adds a level for a target prefix (`None` silences it).
    ///
    /// ```
    /// use loglayer::{Directives, Level};
    /// let d = Directives::new(Level::Warn).target("app::db", Some(Level::Trace));
    /// assert!(d.enabled(Some("app::db"), Level::Trace));
    /// ```
    pub fn target(mut self, target: impl Into<String>, level: Option<Level>) -> Self {
        let target = target.into();
        self.targets.retain(|(t, _)| *t != target);
        self.targets.push((target, level));
        self.targets.sort_by_key(|t| std::cmp::Reverse(t.0.len()));
        self
    }

    /// The level in force for `target` (`None`: everything off).
    pub fn level_for(&self, target: Option<&str>) -> Option<Level> {
        if let Some(target) = target {
            for (prefix, level) in &self.targets {
                if matches_prefix(target, prefix) {
                    return *level;
                }
            }
        }
        self.default
    }

    /// Whether an entry at `level` from `target` passes.
    pub fn enabled(&self, target: Option<&str>, level: Level) -> bool {
        self.level_for(target).is_some_and(|min| level >= min)
    }

    /// The least severe level any directive enables (`None`: all off).
    pub(crate) fn most_verbose(&self) -> Option<Level> {
        self.targets
            .iter()
            .map(|(_, l)| *l)
            .chain([self.default])
            .flatten()
            .min()
    }

    /// Whether any target has a level of its own (else the default decides
    /// for every entry).
    pub(crate) fn has_targets(&self) -> bool {
        !self.targets.is_empty()
    }

    /// Reads `LOGLAYER_LEVEL`. Unset or empty gives `info`; a malformed value
    /// prints one message on stderr and gives `info`. Never panics.
    ///
    /// ```
    /// let d = loglayer::Directives::from_env();
    /// # let _ = d;
    /// ```
    pub fn from_env() -> Self {
        Self::from_env_var("LOGLAYER_LEVEL")
    }

    /// Like [`from_env`](Directives::from_env), from another variable.
    pub fn from_env_var(name: &str) -> Self {
        match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => v.parse().unwrap_or_else(|e| {
                crate::fault::config_problem(format_args!("{name}: {e}; using info"));
                Directives::default()
            }),
            Ok(_) | Err(std::env::VarError::NotPresent) => Directives::default(),
            Err(std::env::VarError::NotUnicode(_)) => {
                crate::fault::config_problem(format_args!("{name} is not valid UTF-8; using info"));
                Directives::default()
            }
        }
    }
}

/// `my_crate::db` matches `my_crate::db` and `my_crate::db::pool`, not
/// `my_crate::dbx`.
/// Directives as a logger (or a [`LevelControl`](crate::LevelControl)) holds
/// them, never changed again, under an id no other set of this process
/// gets: a macro call site remembers the levels its target enables under one
/// id (`current/verdict.rs`), so a call under the same set does not look
/// its target up again.
#[derive(Debug)]
pub(crate) struct TargetSet {
    id: u64,
    directives: Directives,
}

impl TargetSet {
    pub(crate) fn new(directives: Directives) -> Self {
        // Starts at 1: 0 is a call site's "nothing remembered".
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        TargetSet {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            directives,
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The levels enabled for `target`, a bit per level (`Level::bit`).
    pub(crate) fn levels_for(&self, target: &str) -> u8 {
        self.directives
            .level_for(Some(target))
            .map_or(0, Level::mask_from)
    }
}

impl std::ops::Deref for TargetSet {
    type Target = Directives;

    fn deref(&self) -> &Directives {
        &self.directives
    }
}

fn matches_prefix(target: &str, prefix: &str) -> bool {
    match target.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with("::") || prefix.is_empty(),
        None => false,
    }
}

/// Why a directive string was rejected: which item, where it starts in the
/// spec, and what is wrong with it.
///
/// ```
/// let err = "info,db=loud".parse::<loglayer::Directives>().unwrap_err();
/// assert_eq!(err.item(), "db=loud");
/// assert_eq!(err.column(), 6);
/// assert!(err.to_string().starts_with(r#"invalid directive "db=loud" at column 6: unknown level "loud""#));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseDirectivesError {
    item: String,
    /// 1-based, in characters, of the item's first character in the spec.
    column: usize,
    reason: String,
}

impl ParseDirectivesError {
    /// The comma-separated item that was rejected, trimmed.
    pub fn item(&self) -> &str {
        &self.item
    }

    /// Where the rejected item starts in the spec: 1 for its first
    /// character, counted in characters.
    pub fn column(&self) -> usize {
        self.column
    }
}

impl fmt::Display for ParseDirectivesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid directive {:?} at column {}: {}; expected `level`, `target=level` or \
             `target`, with levels trace, debug, info, warn, error, fatal or off",
            self.item, self.column, self.reason
        )
    }
}

impl std::error::Error for ParseDirectivesError {}

fn parse_level(s: &str) -> Result<Option<Level>, ()> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    s.parse::<Level>().map(Some).map_err(|_| ())
}

impl FromStr for Directives {
    type Err = ParseDirectivesError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut d = Directives::default();
        let mut default_set = false;
        let mut offset = 0;
        for raw in s.split(',') {
            let start = offset + (raw.len() - raw.trim_start().len());
            offset += raw.len() + 1;
            let item = raw.trim();
            if item.is_empty() {
                continue;
            }
            let err = |reason: String| ParseDirectivesError {
                item: item.to_owned(),
                column: s[..start].chars().count() + 1,
                reason,
            };
            match item.split_once('=') {
                Some((target, level)) => {
                    let target = target.trim();
                    if target.is_empty() {
                        return Err(err("missing target before `=`".into()));
                    }
                    if target.contains(char::is_whitespace) {
                        return Err(err("a target cannot contain spaces".into()));
                    }
                    let level = match parse_level(level) {
                        Ok(level) => level,
                        Err(()) if level.trim().is_empty() => {
                            return Err(err("missing level after `=`".into()))
                        }
                        Err(()) => {
                            return Err(err(format!("unknown level {:?}", level.trim())));
                        }
                    };
                    d = d.target(target, level);
                }
                None => match parse_level(item) {
                    Ok(level) => {
                        if default_set {
                            return Err(err("the default level is given twice".into()));
                        }
                        default_set = true;
                        d.default = level;
                    }
                    Err(()) if item.contains(char::is_whitespace) => {
                        return Err(err("a target cannot contain spaces".into()))
                    }
                    Err(()) => d = d.target(item, Some(Level::Trace)),
                },
            }
        }
        Ok(d)
    }
}

/// The canonical spec: the default level (or `off`) first, then each
/// `target=level`, most specific first. Parsing it gives the same
/// directives back.
///
/// ```
/// use loglayer::Directives;
/// let d: Directives = "my_app::db=debug, warn, hyper".parse().unwrap();
/// assert_eq!(d.to_string(), "warn,my_app::db=debug,hyper=trace");
/// assert_eq!(d.to_string().parse::<Directives>().unwrap(), d);
/// ```
impl fmt::Display for Directives {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn name(level: Option<Level>) -> &'static str {
            level.map_or("off", Level::as_str)
        }
        f.write_str(name(self.default))?;
        for (target, level) in &self.targets {
            write!(f, ",{target}={}", name(*level))?;
        }
        Ok(())
    }
}

/// Directives with `level` as the default and no targets.
///
/// ```
/// use loglayer::{Directives, Level};
/// assert_eq!(Directives::from(Level::Debug).to_string(), "debug");
/// ```
impl From<Level> for Directives {
    fn from(level: Level) -> Self {
        Directives::new(level)
    }
}
