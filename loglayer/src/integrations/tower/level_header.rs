//! The level header ([`level_header`](super::RequestLoggerLayer::level_header)):
//! a request may ask for its own level with a header, and gets it when the
//! application's `authorize` says yes. Reading the header is one map lookup
//! for requests without it; `authorize` runs only for requests that carry a
//! valid one.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use http::header::{HeaderMap, HeaderName};

use crate::Level;

/// The context key that says which level a request was forced to.
pub(super) const LOG_LEVEL_KEY: &str = "log_level";

/// Decides whether a request may choose its level.
pub(super) type Authorize = dyn Fn(&HeaderMap) -> bool + Send + Sync;

/// The header's name and the application's rule.
#[derive(Clone)]
pub(super) struct LevelHeader {
    pub(super) name: HeaderName,
    pub(super) authorize: Arc<Authorize>,
}

impl fmt::Debug for LevelHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LevelHeader")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What a request's headers ask for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Requested {
    /// No header: the normal levels.
    Absent,
    /// An authorised request for this level.
    Forced(Level),
    /// A header that is not honoured, and why (logged at debug).
    Refused(&'static str),
}

impl LevelHeader {
    /// What `headers` ask for. The header must appear once and hold a level
    /// word (`trace` … `fatal`, any case); only then is `authorize` asked. An
    /// `authorize` that panics refuses.
    pub(super) fn read(&self, headers: &HeaderMap) -> Requested {
        let mut values = headers.get_all(&self.name).iter();
        let Some(value) = values.next() else {
            return Requested::Absent;
        };
        if values.next().is_some() {
            return Requested::Refused("the header is repeated");
        }
        let Some(level) = value.to_str().ok().and_then(|v| v.parse::<Level>().ok()) else {
            return Requested::Refused("not a level word (trace, debug, info, warn, error, fatal)");
        };
        match catch_unwind(AssertUnwindSafe(|| (self.authorize)(headers))) {
            Ok(true) => Requested::Forced(level),
            Ok(false) => Requested::Refused("not authorised"),
            Err(_) => Requested::Refused("the authorize function panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(authorize: bool) -> LevelHeader {
        LevelHeader {
            name: HeaderName::from_static("x-log-level"),
            authorize: Arc::new(move |_| authorize),
        }
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-log-level", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn reads_one_level_word_and_asks_authorize() {
        assert_eq!(header(true).read(&headers(&[])), Requested::Absent);
        assert_eq!(
            header(true).read(&headers(&["DEBUG"])),
            Requested::Forced(Level::Debug)
        );
        assert_eq!(
            header(false).read(&headers(&["debug"])),
            Requested::Refused("not authorised")
        );
        assert!(matches!(
            header(true).read(&headers(&["loud"])),
            Requested::Refused(_)
        ));
        assert!(matches!(
            header(true).read(&headers(&["debug", "trace"])),
            Requested::Refused(_)
        ));
        let panicking = LevelHeader {
            name: HeaderName::from_static("x-log-level"),
            authorize: Arc::new(|_| panic!("no")),
        };
        assert!(matches!(
            panicking.read(&headers(&["debug"])),
            Requested::Refused(_)
        ));
    }
}
