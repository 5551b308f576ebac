//! Structured logging with the fluent API of [LogLayer], and a logger that
//! follows your async code the way Node's `AsyncLocalStorage` lets LogLayer's
//! users build by hand.
//!
//! [LogLayer]: https://loglayer.dev
//!
//! Coming from LogLayer? [`coming_from_loglayer`] maps its API and
//! configuration, row by row, to this crate's.
//!
//! # Quick start
//!
//! ```
//! use loglayer::{transport::CaptureTransport, with_logger, LogLayer};
//!
//! struct Order { id: u64, sku: String }
//!
//! #[with_logger(context(order_id = order.id))]
//! async fn ship(order: &Order) -> Result<(), std::io::Error> {
//!     log!(info, "shipping");            // `log!` needs no import inside #[with_logger] fns
//!     reserve_stock(order).await;        // nested fns log with order_id too
//!     Ok(())
//! }
//!
//! async fn reserve_stock(order: &Order) {
//!     loglayer::info!(sku = %order.sku, "reserving");   // resolves the current logger
//! }
//!
//! // In a service, the logger comes from the request (see `loglayer::scope`).
//! let capture = CaptureTransport::new();
//! let request_logger = LogLayer::new(capture.clone());
//! request_logger.with_context(serde_json::json!({"request_id": "7f3a"}));
//!
//! let order = Order { id: 42, sku: "B-12".into() };
//! futures::executor::block_on(loglayer::scope(request_logger, ship(&order))).unwrap();
//!
//! for entry in capture.entries() {
//!     assert_eq!(entry["request_id"], "7f3a");
//!     assert_eq!(entry["order_id"], 42);
//! }
//! assert_eq!(capture.entries()[1]["sku"], "B-12");
//! ```
//!
//! # The logger
//!
//! [`LogLayer`] is a handle: context ([`with_context`](LogLayer::with_context)),
//! per-entry metadata and errors ([`with_metadata`](LogLayer::with_metadata),
//! [`with_error`](LogLayer::with_error)), [`child`](LogLayer::child) loggers,
//! levels, [plugins](plugin) and one or more [transports](transport). Output
//! is JSON lines ([`transport::JsonTransport`]) or a human console format
//! ([`transport::ConsoleTransport`]); the shape of a line is described on
//! [`Entry`].
//!
//! # The current logger
//!
//! [`scope`] runs a future with a logger as the *current* logger;
//! [`current`] and the macros find it at any depth, across every `.await`,
//! with no parameter. [`sync_scope`] does the same for a closure, and
//! `#[with_logger]` for a whole function.
//!
//! **Why not a plain thread-local?** On a work-stealing runtime a task can
//! resume on another worker after any `.await`. A thread-local set when the
//! request starts would then be read by whatever other task runs on the first
//! worker, and missed by this one. loglayer's [`Scoped`] future instead puts
//! its logger in the thread's slot around **every poll** (and around its own
//! drop), and takes it back out before returning — with a guard, so a panic
//! restores the slot too. Whatever thread polls the task, the task sees its
//! logger, and nothing stays behind.
//!
//! **Spawned work.** A spawned task is polled by the runtime, not by your
//! scope, so plain `tokio::spawn` and `std::thread::spawn` start with the
//! default logger. Use [`spawn`], [`spawn_local`], [`spawn_blocking`],
//! [`thread::spawn`] and [`thread::scope`], which give the new work a child of
//! the current logger (taken when you call them), or wrap a future with
//! [`WithLogger::with_current_logger`]. Outside every scope there is nothing
//! to carry: such work follows the default logger, as plain code does, so a
//! later [`set_default`] reaches it.
//!
//! **When a `#[with_logger]` child is taken.** A plain fn takes it when
//! called; an `async fn`, an `#[async_trait]` method or a fn returning a
//! boxed future takes it when the future is first polled, so
//! `loglayer::scope(log, obj.method()).await` logs through `log`. Either
//! way it is a snapshot, like [`LogLayer::child`]: context or levels the
//! parent gains afterwards do not reach it.
//!
//! ## From `AsyncLocalStorage`
//!
//! | `AsyncLocalStorage` | loglayer |
//! |---|---|
//! | `als.run(store, fn)` | [`scope(logger, fut)`](scope), [`sync_scope(logger, f)`](sync_scope), `#[with_logger]` |
//! | `als.getStore()` | [`try_current()`](try_current) (`None` outside every scope), [`current()`](current) (else the default logger) |
//! | `als.enterWith(store)` | [`replace_current(logger)`](replace_current): for the rest of the innermost scope |
//! | `als.exit(fn)` | [`unscoped(fut)`](unscoped), [`sync_unscoped(f)`](sync_unscoped), [`WithLogger::without_logger`] |
//! | `AsyncLocalStorage.bind(fn)` | [`bind(f)`](bind) |
//! | `AsyncLocalStorage.snapshot()` | [`snapshot()`](snapshot), then [`Snapshot::run`] / [`Snapshot::scope`] |
//! | `AsyncResource` (context for callbacks) | [`WithLogger::with_logger`], [`WithLogger::with_current_logger`] |
//! | async iterators | `WithLoggerStream` (feature `futures`): streams and sinks polled in a scope |
//! | automatic propagation to new async resources | explicit: [`spawn`], [`spawn_local`], [`spawn_blocking`], [`thread::spawn`], [`thread::scope`] |
//! | `als.disable()` | not needed: a scope ends when its future or closure does |
//!
//! # Macros
//!
//! [`trace!`], [`debug!`], [`info!`], [`warn!`], [`error!`], [`fatal!`] and
//! [`log!`] take fields first, then the message:
//!
//! ```
//! # let e = std::io::Error::other("x"); let user = "ada"; let cart = vec![1];
//! loglayer::info!(user_id = 7, name = %user, cart = ?cart, "checkout took {}ms", 12);
//! loglayer::error!(err = &e, "payment failed");
//! ```
//!
//! The same field forms work in `#[with_logger(context(..))]`: one grammar,
//! one table, in [`log!`'s docs](log!#fields).
//!
//! Nothing is evaluated or formatted when the level is disabled. The
//! `max_level_*` / `release_max_level_*` features remove calls below a level
//! at compile time (see [`STATIC_MAX_LEVEL`]).
//!
//! # Layout
//!
//! Each source file holds one idea; `docs/architecture.md` in the repository
//! maps them and walks one `info!` call from the macro to the bytes:
//! `macros.rs` → `__private/` → `current/` → `pipeline.rs` →
//! `transport/json.rs`.
//!
//! # Never
//!
//! A log call never panics and never leaves its scope's logger behind: a
//! failing transport, plugin, `Display` or `Serialize` impl is caught,
//! replaced by a placeholder or skipped, and counted in [`failures()`].

#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(hidden)]
pub mod __private;
#[doc = include_str!("docs/coming_from_loglayer.md")]
pub mod coming_from_loglayer {}
// The integrations with other crates live under `src/integrations/`; their
// public paths stay `loglayer::bridge`, `loglayer::tower` and
// `loglayer::propagation`.
#[cfg(any(feature = "log", feature = "tracing"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "log", feature = "tracing"))))]
#[path = "integrations/bridge/mod.rs"]
pub mod bridge;
mod context;
mod current;
mod directives;
mod entry;
mod error;
mod fault;
mod json;
mod lazy;
mod level;
mod logger;
mod macros;
#[cfg(feature = "otlp")]
#[cfg_attr(docsrs, doc(cfg(feature = "otlp")))]
#[path = "transport/otlp/mod.rs"]
pub mod otlp;
mod pipeline;
pub mod plugin;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
#[path = "integrations/propagation/mod.rs"]
pub mod propagation;
mod reentry;
mod scratch;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
#[path = "integrations/tower/mod.rs"]
pub mod tower;
pub mod transport;
pub mod value;
pub mod writer;

#[cfg(feature = "futures")]
pub use current::WithLoggerStream;
pub use current::{
    bind, current, from_env, replace_current, scope, set_default, snapshot, sync_scope,
    sync_unscoped, thread, try_current, unscoped, NoScopeError, Scoped, Snapshot, WithLogger,
};
#[cfg(feature = "tokio")]
pub use current::{spawn, spawn_blocking, spawn_local};
pub use directives::{Directives, ParseDirectivesError};
pub use entry::Entry;
pub use error::{AsError, ErrorInfo};
pub use fault::{failures, Failures};
pub use lazy::{lazy, Lazy};
pub use level::{Level, ParseLevelError, STATIC_MAX_LEVEL};
pub use logger::{
    BufferStats, DuplicatePluginError, FingersCrossed, Group, LevelControl, LogBuilder, LogLayer,
    LogLayerBuilder, OnlyOptions, RawEntry, Ungrouped,
};

pub use loglayer_macros::with_logger;
