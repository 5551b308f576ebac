//! The default logger: the one used outside every scope.

use std::sync::OnceLock;

use arc_swap::ArcSwap;

use crate::logger::Inner;
use crate::transport::{ConsoleTransport, JsonTransport};
use crate::LogLayer;

static DEFAULT: OnceLock<ArcSwap<Inner>> = OnceLock::new();

pub(crate) fn default_handle() -> &'static ArcSwap<Inner> {
    DEFAULT.get_or_init(|| {
        let logger = from_env();
        // Its levels are in the hint now: calls may stop there again.
        crate::logger::default_settled();
        ArcSwap::new(logger.inner)
    })
}

/// The default logger as it is now.
pub(crate) fn default_logger() -> LogLayer {
    LogLayer {
        inner: default_handle().load_full(),
    }
}

/// A logger configured the way the default logger is, from the environment:
///
/// | variable | values | default |
/// |---|---|---|
/// | `LOGLAYER_LEVEL` | [`Directives`](crate::Directives): `info,my_crate::db=debug,hyper=warn` | `info` |
/// | `LOGLAYER_FORMAT` | `console` (human, [`ConsoleTransport`]) or `json` (JSON lines, [`JsonTransport`]) | `console` |
///
/// Output goes to stdout. A malformed value prints one message on stderr and
/// its default is used; this never panics.
///
/// ```
/// // e.g. LOGLAYER_LEVEL=info,my_app::db=debug LOGLAYER_FORMAT=json ./my_app
/// loglayer::set_default(loglayer::from_env());
/// loglayer::info!("configured from the environment");
/// ```
pub fn from_env() -> LogLayer {
    let builder = LogLayer::builder().directives(crate::Directives::from_env());
    let json = match std::env::var("LOGLAYER_FORMAT") {
        Err(std::env::VarError::NotPresent) => false,
        Ok(f) if f.trim().eq_ignore_ascii_case("json") => true,
        Ok(f) if f.trim().is_empty() || f.trim().eq_ignore_ascii_case("console") => false,
        Ok(other) => {
            crate::fault::config_problem(format_args!(
                "LOGLAYER_FORMAT: unknown format {other:?}: expected json or console; using console"
            ));
            false
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            crate::fault::config_problem(format_args!(
                "LOGLAYER_FORMAT is not valid UTF-8; using console"
            ));
            false
        }
    };
    if json {
        builder.transport(JsonTransport::stdout()).build()
    } else {
        builder.transport(ConsoleTransport::stdout()).build()
    }
}

/// Sets the logger used outside every scope (by [`current`](crate::current)
/// and the macros). Code outside every scope — including tasks started
/// outside every scope with [`spawn`](crate::spawn) or
/// [`with_current_logger`](crate::WithLogger::with_current_logger) — follows
/// the change from its next log call.
///
/// ```
/// use loglayer::{transport::JsonTransport, LogLayer};
/// loglayer::set_default(LogLayer::new(JsonTransport::stdout()));
/// loglayer::info!("now JSON on stdout");
/// ```
pub fn set_default(logger: LogLayer) {
    default_handle().store(logger.inner);
    crate::logger::levels_changed();
}
