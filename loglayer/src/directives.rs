//! Per-target levels in the syntax Rust users know from `env_logger`:
//! `info,my_crate::db=debug,hyper=warn`.

use std::fmt;
use std::str::FromStr;

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
fn matches_prefix(target: &str, prefix: &str) -> bool {
    match target.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with("::") || prefix.is_empty(),
        None => false,
    }
}

/// Why a directive string was rejected.
///
/// ```
/// let err = "info,=debug".parse::<loglayer::Directives>().unwrap_err();
/// assert!(err.to_string().contains("=debug"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseDirectivesError {
    item: String,
    reason: &'static str,
}

impl fmt::Display for ParseDirectivesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid directive {:?}: {}; expected `level`, `target=level` or `target`, \
             with levels trace, debug, info, warn, error, fatal or off",
            self.item, self.reason
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
        for raw in s.split(',') {
            let item = raw.trim();
            if item.is_empty() {
                continue;
            }
            let err = |reason| ParseDirectivesError {
                item: item.to_owned(),
                reason,
            };
            match item.split_once('=') {
                Some((target, level)) => {
                    let target = target.trim();
                    if target.is_empty() {
                        return Err(err("missing target before `=`"));
                    }
                    if target.contains(char::is_whitespace) {
                        return Err(err("a target cannot contain spaces"));
                    }
                    let level = parse_level(level).map_err(|_| err("unknown level"))?;
                    d = d.target(target, level);
                }
                None => match parse_level(item) {
                    Ok(level) => {
                        if default_set {
                            return Err(err("the default level is given twice"));
                        }
                        default_set = true;
                        d.default = level;
                    }
                    Err(()) if item.contains(char::is_whitespace) => {
                        return Err(err("a target cannot contain spaces"))
                    }
                    Err(()) => d = d.target(item, Some(Level::Trace)),
                },
            }
        }
        Ok(d)
    }
}
