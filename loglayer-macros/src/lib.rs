//! The `#[with_logger]` attribute of [loglayer](https://docs.rs/loglayer).
//!
//! Use it as `loglayer::with_logger`; this crate is an implementation detail
//! of `loglayer` and its generated code names only `::loglayer::…` and
//! `::core::…` paths, so the caller must depend on `loglayer` under that name.
//!
//! The crate is laid out the usual way for an attribute macro:
//! `args.rs` parses the options into plain data, `expand.rs` rewrites the
//! function (its top comment shows the exact expansion), and `fallback.rs`
//! emits the error next to the untouched function when the attribute is
//! misused.

mod args;
mod check;
mod expand;
mod fallback;
mod shape;

use proc_macro::TokenStream;

/// Runs the function's body in a new logger scope, so everything it calls —
/// at any depth, across every `.await` — logs through that logger.
///
/// # Options
///
/// Options go in any order, each at most once.
///
/// | Form | The scope's logger |
/// |---|---|
/// | `#[with_logger]` | a `child()` of `loglayer::current()` (see below for when it is taken) |
/// | `context(k = expr, k2 = ?expr, k3 = %expr, "a.key" = expr, arg, ?arg, %arg)` | that child plus these context keys |
/// | `logger = expr` | `expr` itself (a `LogLayer`, `&LogLayer` or `Arc<LogLayer>`; it is borrowed, never moved) |
/// | `logger = expr, context(..)` | a `child()` of `expr` plus the keys; `expr` is left untouched |
/// | `err`, `err(level = warn)` | as well: an `Err` the function returns is logged once, with the error attached (level `error` unless given: `trace`, `debug`, `info`, `warn`, `error`, `fatal`) |
/// | `group = "name"` | with any of the above: a child of that logger that tags everything it logs with the group `"name"` (a string literal), as `LogLayer::with_group` does |
///
/// `context(...)` takes the fields of the level macros, with the same
/// grammar: see the [field table](macro.log.html#fields) on `loglayer::log!`
/// (everything but `err = ..`). A bare `arg`, `?arg` or `%arg` must name an
/// argument of the function. Values may use the arguments: they are borrowed
/// and rendered at once, nothing is moved or kept.
///
/// Inside the body, `log!(level, ...)` works without an import.
///
/// **`err`** logs `"<fn name> returned an error"` through the scope's logger,
/// with the error under `err`: its message and source chain for any
/// `std::error::Error`, a `Box<dyn Error>` (with or without `Send + Sync`) or
/// a type that derefs to `dyn Error` (`anyhow::Error`, `eyre::Report`); only
/// its `Display` text for other types (`String`).
///
/// **When the logger is taken.** A plain fn takes it when it is called. An
/// `async fn` does nothing until its future is first polled, so it takes the
/// current logger then — as `tracing`'s `#[instrument]` does — and so do an
/// `#[async_trait]` method and a plain fn that returns a future (below):
/// `loglayer::scope(log, obj.method()).await` logs through `log` whichever
/// the method is. The child is a snapshot of its parent at that moment. When
/// you create such a future in one scope and poll it somewhere else (hand it
/// to an executor, `tokio::spawn` it), pin the logger at creation with
/// `loglayer::WithLogger::with_current_logger`, or use `loglayer::spawn`. A
/// `logger = expr` is always taken where it is evaluated.
///
/// Supported: `async fn` and plain fns, methods (`self`, `&self`,
/// `&mut self`), generics, where clauses, lifetimes, `impl Trait` arguments
/// and returns, `?` and early `return`, and methods of `#[async_trait]`
/// impls and traits (pattern arguments such as `(a, b): (u32, u32)` included:
/// `context(a)` names them as written). The rewritten `async fn` is `Send`
/// exactly when the original is.
///
/// **Plain fns that return a future.** When the body's tail expression is
/// `async { .. }`, `async move { .. }`, `Box::pin(async ..)` (any path ending
/// in `Box::pin`) or `EXPR.boxed()` / `EXPR.boxed_local()` (futures'
/// `FutureExt`; not when the return type is a `Stream`), the returned future
/// runs in the scope, with its parent taken at first poll. The context values
/// are rendered at the call. Statements before the tail run as written, in
/// the caller's scope, and a future returned early by `return` is not
/// wrapped. Any other body is a plain fn's: only the call itself runs in the
/// scope.
///
/// **`#[track_caller]` with `err` on a plain fn** is not honoured inside the
/// body: to let `?` and `return` reach the report, the body runs in a closure
/// called by the function, and closures cannot be `#[track_caller]` on
/// stable Rust (`closure_track_caller` is unstable). So
/// `Location::caller()`, and the location of a panic from a
/// `#[track_caller]` function such as `Option::unwrap`, called directly in
/// the body report that line of the body, as in a function without
/// `#[track_caller]` (`tests/with_logger.rs` pins this down). Without `err`
/// the body is not wrapped and `#[track_caller]` works as usual.
///
/// # Example
///
/// ```
/// use loglayer::transport::CaptureTransport;
/// use loglayer::{with_logger, LogLayer};
///
/// struct Order {
///     id: u64,
/// }
///
/// #[with_logger(context(order_id = order.id))]
/// async fn ship(order: &Order) -> Result<(), String> {
///     log!(info, "shipping");
///     reserve_stock().await
/// }
///
/// async fn reserve_stock() -> Result<(), String> {
///     loglayer::info!("reserving"); // logs with `order_id` too
///     Ok(())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let capture = CaptureTransport::new();
/// let logger = LogLayer::new(capture.clone());
/// loglayer::scope(logger, ship(&Order { id: 42 })).await.unwrap();
///
/// let entries = capture.entries();
/// assert_eq!(entries[0]["msg"], "shipping");
/// assert_eq!(entries[1]["msg"], "reserving");
/// assert_eq!(entries[1]["order_id"], 42);
/// # }
/// ```
///
/// A plain fn, a logger taken from an argument, and `err`:
///
/// ```
/// use loglayer::transport::CaptureTransport;
/// use loglayer::{with_logger, LogLayer};
///
/// #[with_logger(logger = logger, context(input = %input), err(level = warn))]
/// fn parse(logger: &LogLayer, input: &str) -> Result<u32, std::num::ParseIntError> {
///     let n = input.parse()?;
///     log!(debug, "parsed");
///     Ok(n)
/// }
///
/// let capture = CaptureTransport::new();
/// let logger = LogLayer::new(capture.clone());
/// assert!(parse(&logger, "nope").is_err());
///
/// let entries = capture.entries();
/// assert_eq!(entries.len(), 1);
/// assert_eq!(entries[0]["level"], "warn");
/// assert_eq!(entries[0]["input"], "nope");
/// assert!(logger.get_context().is_empty()); // the caller's logger is untouched
/// ```
///
/// **`group`** tags everything logged under the function — in the body, in
/// the functions it calls at any depth, across `.await`, in tasks started
/// with `loglayer::spawn` — with a LogLayer group, so those entries go to
/// the group's transports from the group's level (see `loglayer::Group`).
/// The routing rules are those of the logger the scope's logger comes from
/// (the current logger, e.g. a request's), not of a logger fixed at compile
/// time. The same without the attribute:
/// `loglayer::scope(loglayer::current().with_group("database"), fut)`.
///
/// ```
/// use loglayer::transport::CaptureTransport;
/// use loglayer::{with_logger, Group, LogLayer};
///
/// #[with_logger(group = "database")]
/// async fn load_user(id: u64) -> u64 {
///     query(id).await
/// }
///
/// async fn query(id: u64) -> u64 {
///     loglayer::debug!(id, "SELECT * FROM users"); // tagged "database" too
///     id
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let console = CaptureTransport::with_id("console");
/// let db_log = CaptureTransport::with_id("db_log");
/// let logger = LogLayer::builder()
///     .transport(console.clone())
///     .transport(db_log.clone())
///     .group("database", Group::new(["db_log"]))
///     .build();
/// loglayer::scope(logger, async {
///     load_user(7).await;
///     loglayer::info!("request done"); // untagged: every transport
/// })
/// .await;
///
/// assert_eq!(db_log.messages(), ["SELECT * FROM users", "request done"]);
/// assert_eq!(console.messages(), ["request done"]);
/// # }
/// ```
///
/// # Expansion
///
/// The signature, attributes and braces stay as written. An `async fn`:
///
/// ```text
/// #[with_logger(context(order_id = order.id))]
/// async fn ship(order: &Order) -> Result<(), ShipError> { BODY }
/// ```
///
/// becomes, roughly (paths shortened):
///
/// ```text
/// async fn ship(order: &Order) -> Result<(), ShipError> {
///     // The parent (the current logger) and the rendered context values;
///     // the child logger is built only if the body logs or calls `current()`.
///     let __loglayer_logger = __private::pending(None, &[("order_id", &__private::ser(&(order.id)))]);
///     __private::scoped(__loglayer_logger, async move {
///         // an unreachable `return` of type `Result<(), ShipError>`, so `?`
///         // and `return` infer exactly as in the original body
///         use ::loglayer::log;
///         { BODY }
///     })
///     .await
/// }
/// ```
///
/// A plain fn is not wrapped in anything; a guard sets the current logger and
/// restores the previous one when the function returns or unwinds:
///
/// ```text
/// fn parse(input: &str) -> Config {
///     let __loglayer_guard = __private::enter_scope(LOGGER);
///     use ::loglayer::log;
///     { BODY }
/// }
/// ```
///
/// With `err`, the result is checked before it is returned, inside the
/// scope (through `loglayer::current()`); for a plain fn that is the one case
/// where the body runs in an immediately called closure, so that an early
/// `return` or `?` still reaches the check. A future the function returns
/// runs as `scoped(deferred(FIELDS), FUTURE)`: `deferred` renders the
/// fields now and takes the parent at first poll. `group = "name"` wraps the
/// logger as `in_group(LOGGER, "name")`. In an `#[async_trait]`
/// method, the async block that `async_trait` generates keeps its argument
/// bindings, and the user's body inside it gets the `async fn` expansion
/// above. `loglayer-macros/src/expand.rs` shows every case.
///
/// # Errors
///
/// Misuse is a compile error on the offending token, and the function is
/// still emitted as written:
///
/// ```compile_fail
/// #[loglayer::with_logger(level = info)] // expected one of: `context`, `logger`, `err`, `group`
/// fn f() {}
/// ```
///
/// ```compile_fail
/// const DB: &str = "database";
/// #[loglayer::with_logger(group = DB)] // expected a string literal: `group = "name"`
/// fn f() {}
/// ```
///
/// ```compile_fail
/// #[loglayer::with_logger]
/// const fn f() {} // `#[with_logger]` cannot be used on a `const fn`
/// ```
///
/// ```compile_fail,E0277
/// struct NotSerialize;
/// #[loglayer::with_logger(context(value))] // use `value = ?value` for Debug
/// fn f(value: NotSerialize) {}
/// ```
#[proc_macro_attribute]
pub fn with_logger(args: TokenStream, item: TokenStream) -> TokenStream {
    let original = proc_macro2::TokenStream::from(item.clone());
    let expanded =
        syn::parse::<args::Args>(args).and_then(|args| expand::expand(args, syn::parse(item)?));
    match expanded {
        Ok(tokens) => tokens.into(),
        Err(error) => fallback::expand(original, &error).into(),
    }
}
