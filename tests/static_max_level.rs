//! The compile-time ceiling: with feature `max_level_warn`, calls below warn
//! are removed — nothing evaluated, nothing sent — whatever the logger's level.
//! CI runs this file with `cargo test --features max_level_warn --test static_max_level`.

use loglayer::transport::CaptureTransport;
use loglayer::{Level, LogLayer, STATIC_MAX_LEVEL};

#[test]
#[cfg(feature = "max_level_warn")]
fn calls_below_the_ceiling_are_compiled_out() {
    assert_eq!(STATIC_MAX_LEVEL, Some(Level::Warn));
    let capture = CaptureTransport::new();
    let evaluated = std::cell::Cell::new(0);
    let touch = || {
        evaluated.set(evaluated.get() + 1);
        1
    };
    loglayer::sync_scope(LogLayer::new(capture.clone()), || {
        loglayer::trace!(x = touch(), "gone");
        loglayer::debug!(x = touch(), "gone");
        loglayer::info!(x = touch(), "gone {}", touch());
        loglayer::log!(info, x = touch(), "gone");
        loglayer::warn!(x = touch(), "kept");
        loglayer::error!(x = touch(), "kept");
    });
    assert_eq!(
        evaluated.get(),
        2,
        "only the warn and error calls evaluated their fields"
    );
    assert_eq!(capture.messages(), ["kept", "kept"]);
}

#[test]
#[cfg(not(feature = "max_level_warn"))]
fn without_a_ceiling_every_level_is_compiled_in() {
    assert_eq!(STATIC_MAX_LEVEL, Some(Level::Trace));
    let capture = CaptureTransport::new();
    loglayer::sync_scope(LogLayer::new(capture.clone()), || loglayer::trace!("kept"));
    assert_eq!(capture.messages(), ["kept"]);
}
