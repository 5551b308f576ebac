//! [`Options`]: what every built-in transport lets a user set the same way —
//! its id, the least severe level it accepts, whether it is on — and
//! [`transport_options!`], which writes the methods for those settings once.
//!
//! A transport embeds one `Options` and states only what is its own (its
//! writer, its format, its constructors); one macro call inside its `impl`
//! gives it the shared builder methods, with their docs and doc-tests, and
//! one inside its `impl Transport` answers `id`, `level` and `enabled`:
//!
//! ```text
//! pub struct JsonTransport { writer: ..., options: Options }
//!
//! impl JsonTransport {
//!     pub fn new(..) -> Self { .. options: Options::new("json") .. }
//!     transport_options! {
//!         example: JsonTransport::stdout(),
//!         default_id: "json",
//!         field: options,
//!         methods: [with_id, with_level, set_enabled],
//!     }
//! }
//!
//! impl Transport for JsonTransport {
//!     fn write(..) { .. }
//!     transport_options! { accessors: options }
//! }
//! ```
//!
//! A macro rather than a trait because the methods must stay inherent: users
//! call `JsonTransport::stdout().with_level(..)` without importing anything.
//! `methods` lists the ones a transport has, since not all have all three
//! (`CaptureTransport::with_id` is a constructor, and a capture is shared
//! behind an `Arc`, so it takes no by-value builders).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::Level;

/// Settings every built-in transport has: id, level filter, enabled flag.
#[derive(Debug)]
pub(crate) struct Options {
    id: String,
    level: Option<Level>,
    /// Atomic because it changes at run time, through a shared reference.
    enabled: AtomicBool,
}

impl Options {
    /// Options with this id, accepting every level, on.
    pub(crate) fn new(id: &str) -> Self {
        Options {
            id: id.to_owned(),
            level: None,
            enabled: AtomicBool::new(true),
        }
    }

    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn set_id(&mut self, id: String) {
        self.id = id;
    }

    pub(crate) fn level(&self) -> Option<Level> {
        self.level
    }

    pub(crate) fn set_level(&mut self, level: Level) {
        self.level = Some(level);
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }
}

/// Writes the methods for a transport's [`Options`]; see the module docs.
///
/// - `transport_options! { example: T::ctor(), default_id: "..", field: a.b, methods: [..] }`
///   inside `impl T`: the listed builder methods (`with_id`, `with_level`,
///   `set_enabled`), documented, each with a doc-test that builds a `T` with
///   `T::ctor()`; the `with_id` doc-test also checks `default_id`.
/// - `transport_options! { accessors: a.b }` inside `impl Transport for T`:
///   `id`, `level` and `enabled`, read from `self.a.b`.
macro_rules! transport_options {
    (
        example: $ty:ident :: $ctor:ident (),
        default_id: $default_id:literal,
        field: $($field:ident).+,
        methods: [$($method:ident),+ $(,)?] $(,)?
    ) => {
        $crate::transport::transport_options!(
            @methods ($ty, $ctor, $default_id, ($($field).+)) [$($method),+]
        );
    };

    // One arm per method, given the transport as one token tree.
    (@methods $transport:tt [$($method:ident),+]) => {
        $( $crate::transport::transport_options!(@$method $transport); )+
    };

    (accessors: $($field:ident).+) => {
        fn id(&self) -> &str {
            self.$($field).+.id()
        }

        fn level(&self) -> ::core::option::Option<$crate::Level> {
            self.$($field).+.level()
        }

        fn enabled(&self) -> bool {
            self.$($field).+.enabled()
        }
    };

    (@with_id ($ty:ident, $ctor:ident, $default_id:literal, ($($field:ident).+))) => {
        #[doc = concat!(
            "Sets the id (default `\"", $default_id, "\"`): the name ",
            "[`LogLayer::remove_transport`](crate::LogLayer::remove_transport) ",
            "and plugins' `should_send_to_logger` know this transport by."
        )]
        ///
        /// ```
        #[doc = concat!("use loglayer::transport::{", stringify!($ty), ", Transport};")]
        ///
        #[doc = concat!(
            "assert_eq!(", stringify!($ty), "::", stringify!($ctor), "().id(), \"",
            $default_id, "\");"
        )]
        #[doc = concat!(
            "let t = ", stringify!($ty), "::", stringify!($ctor), "().with_id(\"audit\");"
        )]
        /// assert_eq!(t.id(), "audit");
        /// ```
        pub fn with_id(mut self, id: impl Into<String>) -> Self {
            self.$($field).+.set_id(id.into());
            self
        }
    };

    (@with_level ($ty:ident, $ctor:ident, $default_id:literal, ($($field:ident).+))) => {
        /// Accepts only entries at `level` or more severe (by default every
        /// level the logger lets through).
        ///
        /// ```
        #[doc = concat!("use loglayer::{transport::{", stringify!($ty), ", Transport}, Level};")]
        ///
        #[doc = concat!(
            "let t = ", stringify!($ty), "::", stringify!($ctor), "().with_level(Level::Warn);"
        )]
        /// assert_eq!(t.level(), Some(Level::Warn));
        /// ```
        pub fn with_level(mut self, level: $crate::Level) -> Self {
            self.$($field).+.set_level(level);
            self
        }
    };

    (@set_enabled ($ty:ident, $ctor:ident, $default_id:literal, ($($field:ident).+))) => {
        /// Turns this transport on or off at run time (it starts on); while
        /// off it accepts no entries.
        ///
        /// ```
        #[doc = concat!("use loglayer::transport::{", stringify!($ty), ", Transport};")]
        ///
        #[doc = concat!("let t = ", stringify!($ty), "::", stringify!($ctor), "();")]
        /// t.set_enabled(false);
        /// assert!(!t.enabled());
        /// t.set_enabled(true);
        /// assert!(t.enabled());
        /// ```
        pub fn set_enabled(&self, enabled: bool) {
            self.$($field).+.set_enabled(enabled);
        }
    };
}

pub(crate) use transport_options;
