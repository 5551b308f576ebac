//! `#[loglayer::with_logger]`: every option and every shape of function,
//! checked through what a `CaptureTransport` receives.

use std::fmt;
use std::future::Future;

use loglayer::transport::CaptureTransport;
use loglayer::{with_logger, LogLayer};
use loglayer_suite::entry_with_msg;
use serde_json::{json, Value};

/// A logger writing to a fresh capture, with `{"root": true}` in its context.
fn root() -> (CaptureTransport, LogLayer) {
    let capture = CaptureTransport::new();
    let logger = LogLayer::new(capture.clone());
    logger.with_context(json!({ "root": true }));
    (capture, logger)
}

fn assert_send<F: Future + Send>(future: F) -> F {
    future
}

// ----------------------------------------------------------------------------
// `#[with_logger]`: a child of the current logger.

#[with_logger]
async fn bare_async() {
    loglayer::current().with_context(json!({ "inner": 1 }));
    log!(info, "in bare_async");
    nested_async().await;
    nested_plain();
}

async fn nested_async() {
    tokio::task::yield_now().await;
    loglayer::info!(depth = 2, "nested async {}", "call");
}

fn nested_plain() {
    loglayer::info!(depth = %"two", "nested plain");
}

#[tokio::test]
async fn bare_attribute_runs_the_body_in_a_child_of_the_current_logger() {
    let (capture, logger) = root();
    loglayer::scope(logger.clone(), async {
        assert_send(bare_async()).await;
        loglayer::info!("after");
    })
    .await;

    let inside = entry_with_msg(&capture, "in bare_async");
    assert_eq!(inside["root"], true);
    assert_eq!(inside["inner"], 1);
    let nested = entry_with_msg(&capture, "nested async call");
    assert_eq!(
        (&nested["root"], &nested["inner"], &nested["depth"]),
        (&json!(true), &json!(1), &json!(2))
    );
    let nested = entry_with_msg(&capture, "nested plain");
    assert_eq!(
        (&nested["inner"], &nested["depth"]),
        (&json!(1), &json!("two"))
    );

    // The child's context did not leak into the caller's logger or scope.
    let after = entry_with_msg(&capture, "after");
    assert_eq!(after["root"], true);
    assert!(after.get("inner").is_none(), "{after}");
    assert!(logger.get_context().get("inner").is_none());
}

#[with_logger]
fn bare_plain() -> u32 {
    loglayer::current().with_context(json!({ "inner": "plain" }));
    log!(info, "in bare_plain");
    nested_plain();
    7
}

#[test]
fn bare_attribute_on_a_plain_fn_restores_the_caller_scope() {
    let (capture, logger) = root();
    let n = loglayer::sync_scope(logger, || {
        let n = bare_plain();
        loglayer::info!("after");
        n
    });
    assert_eq!(n, 7);
    assert_eq!(entry_with_msg(&capture, "in bare_plain")["inner"], "plain");
    assert_eq!(entry_with_msg(&capture, "nested plain")["inner"], "plain");
    let after = entry_with_msg(&capture, "after");
    assert_eq!(after["root"], true);
    assert!(after.get("inner").is_none(), "{after}");
}

#[with_logger(context(step = "panicking"))]
fn panics() {
    log!(info, "about to panic");
    panic!("boom");
}

#[test]
fn a_panicking_plain_fn_restores_the_caller_scope() {
    let (capture, logger) = root();
    loglayer::sync_scope(logger, || {
        let result = std::panic::catch_unwind(panics);
        assert!(result.is_err());
        loglayer::info!("after");
    });
    assert_eq!(
        entry_with_msg(&capture, "about to panic")["step"],
        "panicking"
    );
    let after = entry_with_msg(&capture, "after");
    assert!(after.get("step").is_none(), "{after}");
}

// ----------------------------------------------------------------------------
// `context(...)`

#[derive(Debug, serde::Serialize)]
struct Point {
    x: i32,
    y: i32,
}

struct Name(&'static str);

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "name:{}", self.0)
    }
}

#[with_logger(context(
    id = 42,
    point,
    debug = ?point,
    display = %name,
    "http.method" = "GET",
    sum = point.x + point.y,
    r#type = "keyword key",
))]
async fn every_context_form(point: Point, name: Name) -> Point {
    log!(info, "context forms");
    // The attribute only borrowed the arguments: the body still owns them.
    let _owned: Name = name;
    point
}

#[tokio::test]
async fn context_records_serialize_debug_display_and_arguments() {
    let (capture, logger) = root();
    let point = loglayer::scope(logger, every_context_form(Point { x: 1, y: 2 }, Name("n"))).await;
    assert_eq!(point.x, 1);

    let entry = entry_with_msg(&capture, "context forms");
    assert_eq!(entry["root"], true);
    assert_eq!(entry["id"], 42);
    assert_eq!(entry["point"], json!({ "x": 1, "y": 2 }));
    assert_eq!(entry["debug"], "Point { x: 1, y: 2 }");
    assert_eq!(entry["display"], "name:n");
    assert_eq!(entry["http.method"], "GET");
    assert_eq!(entry["sum"], 3);
    assert_eq!(entry["type"], "keyword key");
}

#[with_logger(context(user))]
fn greet(user: &str) -> String {
    log!(info, "greeting");
    format!("hello {user}")
}

#[with_logger(context(outer = "set"))]
fn outer_plain() {
    greet("ann");
    log!(info, "outer done");
}

#[test]
fn nested_attributed_fns_stack_their_context() {
    let (capture, logger) = root();
    loglayer::sync_scope(logger, outer_plain);
    let greeting = entry_with_msg(&capture, "greeting");
    assert_eq!(
        (&greeting["outer"], &greeting["user"]),
        (&json!("set"), &json!("ann"))
    );
    let done = entry_with_msg(&capture, "outer done");
    assert_eq!(done["outer"], "set");
    assert!(done.get("user").is_none(), "{done}");
}

#[test]
fn context_values_are_taken_when_the_function_is_called() {
    let (capture, logger) = root();
    for n in 0..3 {
        loglayer::sync_scope(logger.clone(), || counted(n));
    }
    let seen: Vec<Value> = capture.entries().iter().map(|e| e["n"].clone()).collect();
    assert_eq!(seen, [json!(0), json!(1), json!(2)]);
}

#[with_logger(context(n))]
fn counted(n: u32) {
    log!(info, "counted {}", n);
}

// ----------------------------------------------------------------------------
// `logger = expr`

#[with_logger(logger = logger)]
fn uses_given_logger(logger: &LogLayer) {
    // The scope's logger is the caller's logger itself.
    loglayer::current().with_context(json!({ "set_inside": 1 }));
    log!(info, "given logger");
    assert_eq!(logger.get_context()["set_inside"], 1);
}

#[test]
fn logger_option_uses_that_logger() {
    let (outer_capture, outer) = root();
    let (capture, logger) = root();
    loglayer::sync_scope(outer, || uses_given_logger(&logger));
    assert_eq!(entry_with_msg(&capture, "given logger")["set_inside"], 1);
    assert!(outer_capture.entries().is_empty());
}

#[with_logger(logger = logger, context(request = id))]
async fn owned_logger_with_context(logger: LogLayer, id: u64) -> LogLayer {
    log!(info, "owned logger");
    // Neither `logger` nor `id` was moved by the attribute.
    let _ = id;
    logger
}

#[tokio::test]
async fn logger_with_context_is_a_child_and_leaves_the_callers_logger_alone() {
    let (capture, logger) = root();
    let returned = assert_send(owned_logger_with_context(logger.clone(), 9)).await;
    assert!(returned.ptr_eq(&logger));
    let entry = entry_with_msg(&capture, "owned logger");
    assert_eq!(
        (&entry["root"], &entry["request"]),
        (&json!(true), &json!(9))
    );
    assert!(logger.get_context().get("request").is_none());
}

struct Request {
    logger: LogLayer,
    path: &'static str,
}

impl Request {
    #[with_logger(logger = self.logger, context(path = self.path))]
    fn handle(&self) -> usize {
        log!(info, "handling");
        self.path.len()
    }
}

#[test]
fn logger_option_accepts_a_field_behind_a_reference() {
    let (capture, logger) = root();
    let request = Request {
        logger,
        path: "/orders",
    };
    assert_eq!(request.handle(), 7);
    assert_eq!(entry_with_msg(&capture, "handling")["path"], "/orders");
}

// ----------------------------------------------------------------------------
// `err`

#[derive(Debug)]
struct ShipError {
    source: std::io::Error,
}

impl fmt::Display for ShipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("could not ship")
    }
}

impl std::error::Error for ShipError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn io_error() -> std::io::Error {
    std::io::Error::other("disk full")
}

#[with_logger(err, context(order = order))]
async fn ship(order: u32) -> Result<u32, ShipError> {
    tokio::task::yield_now().await;
    if order == 0 {
        // An early return is reported too.
        return Err(ShipError { source: io_error() });
    }
    let _: u8 = u8::try_from(order).map_err(|_| ShipError { source: io_error() })?;
    log!(info, "shipped");
    Ok(order)
}

#[tokio::test]
async fn err_logs_a_returned_error_once_with_its_sources() {
    let (capture, logger) = root();
    let outcomes = loglayer::scope(logger, async {
        (
            ship(0).await.is_err(),
            ship(1000).await.is_err(),
            ship(5).await.unwrap(),
        )
    })
    .await;
    assert_eq!(outcomes, (true, true, 5));

    let entries = capture.entries();
    let errors: Vec<&Value> = entries.iter().filter(|e| e["level"] == "error").collect();
    assert_eq!(errors.len(), 2, "{entries:#?}");
    for (error, order) in errors.iter().zip([0, 1000]) {
        assert_eq!(error["order"], order);
        assert_eq!(error["err"]["message"], "could not ship");
        assert_eq!(error["err"]["sources"], json!(["disk full"]));
    }
    assert_eq!(entry_with_msg(&capture, "shipped")["order"], 5);
}

#[with_logger(err(level = warn))]
fn parse_port(input: &str) -> Result<u16, std::num::ParseIntError> {
    let port = input.parse::<u16>()?;
    if port == 0 {
        return Ok(80);
    }
    Ok(port)
}

#[test]
fn err_on_a_plain_fn_sees_question_mark_and_early_return() {
    let (capture, logger) = root();
    loglayer::sync_scope(logger, || {
        assert_eq!(parse_port("0"), Ok(80));
        assert_eq!(parse_port("8080"), Ok(8080));
        assert!(parse_port("http").is_err());
    });
    let entries = capture.entries();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0]["level"], "warn");
    assert_eq!(
        entries[0]["err"]["message"],
        "invalid digit found in string"
    );
}

#[with_logger(err(level = info))]
fn fails_with_a_string() -> Result<(), String> {
    Err("plain message".to_owned())
}

#[test]
fn err_accepts_errors_that_are_only_display() {
    let (capture, logger) = root();
    let _ = loglayer::sync_scope(logger, fails_with_a_string);
    let entries = capture.entries();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0]["level"], "info");
    assert_eq!(entries[0]["err"]["message"], "plain message");
}

// ----------------------------------------------------------------------------
// Shapes of functions: methods, generics, lifetimes, `impl Trait`.

struct Counter {
    id: u32,
    count: u32,
}

impl Counter {
    #[with_logger(context(counter = self.id))]
    fn get(&self) -> u32 {
        log!(info, "get");
        self.count
    }

    #[with_logger(context(counter = self.id))]
    async fn bump(&mut self) -> u32 {
        tokio::task::yield_now().await;
        self.count += 1;
        log!(info, "bump");
        self.count
    }

    #[with_logger(context(counter = self.id, last = self.count))]
    async fn finish(self) -> u32 {
        log!(info, "finish");
        self.count
    }

    #[with_logger]
    fn new_in_scope(id: u32) -> Self {
        log!(info, "new");
        Self { id, count: 0 }
    }
}

#[tokio::test]
async fn methods_with_every_receiver() {
    let (capture, logger) = root();
    let total = loglayer::scope(logger, async {
        let mut counter = Counter::new_in_scope(3);
        counter.bump().await;
        counter.bump().await;
        assert_eq!(counter.get(), 2);
        assert_send(counter.finish()).await
    })
    .await;
    assert_eq!(total, 2);
    assert_eq!(entry_with_msg(&capture, "get")["counter"], 3);
    assert_eq!(entry_with_msg(&capture, "finish")["last"], 2);
    assert_eq!(
        capture
            .entries()
            .iter()
            .filter(|e| e["msg"] == "bump")
            .count(),
        2
    );
}

#[with_logger(context(len = items.len()))]
async fn longest<'a, T>(items: &'a [T], key: impl Fn(&T) -> usize) -> Option<&'a T>
where
    T: fmt::Debug + Sync,
{
    tokio::task::yield_now().await;
    let best = items.iter().max_by_key(|item| key(item))?;
    log!(info, "longest {:?}", best);
    Some(best)
}

#[with_logger(context(prefix = %prefix))]
fn prefixed<'p, I>(prefix: &'p str, items: I) -> impl Iterator<Item = String> + 'p
where
    I: IntoIterator<Item = &'static str>,
    I::IntoIter: 'p,
{
    log!(info, "prefixing");
    items.into_iter().map(move |item| format!("{prefix}{item}"))
}

#[with_logger]
async fn displayable(n: impl Into<u64> + Send) -> impl fmt::Display {
    let n: u64 = n.into();
    if n == 0 {
        return "zero".to_string();
    }
    format!("{n}")
}

// `impl Trait` nested in the return type (a tuple, a generic argument, a
// reference): the rewrite names the type with each one erased to `_`, so `?`
// still converts into the declared `Result`.
#[with_logger]
async fn nested_impl_trait(
    n: &String,
) -> Result<(impl fmt::Display, Vec<impl fmt::Debug>, &impl AsRef<str>), std::num::ParseIntError> {
    let parsed: u64 = n.parse()?;
    Ok((parsed, vec![parsed; 2], n))
}

#[tokio::test]
async fn generics_lifetimes_and_impl_trait() {
    let (capture, logger) = root();
    loglayer::scope(logger, async {
        let words = ["a", "abc", "ab"];
        assert_eq!(longest(&words, |w| w.len()).await, Some(&"abc"));
        assert_eq!(longest::<&str>(&[], |w| w.len()).await, None);
        let out: Vec<String> = prefixed("x-", ["1", "2"]).collect();
        assert_eq!(out, ["x-1", "x-2"]);
        assert_eq!(displayable(0u8).await.to_string(), "zero");
        assert_eq!(displayable(12u32).await.to_string(), "12");
        let seven = "7".to_string();
        let (shown, listed, borrowed) = nested_impl_trait(&seven).await.unwrap();
        assert_eq!(
            (shown.to_string(), format!("{listed:?}")),
            ("7".into(), "[7, 7]".into())
        );
        assert_eq!(borrowed.as_ref(), "7");
        assert!(nested_impl_trait(&"x".to_string()).await.is_err());
    })
    .await;
    assert_eq!(entry_with_msg(&capture, "longest \"abc\"")["len"], 3);
    assert_eq!(entry_with_msg(&capture, "prefixing")["prefix"], "x-");
}

// ----------------------------------------------------------------------------
// `#[async_trait]`: the attribute sees the method after async-trait rewrote it.

#[async_trait::async_trait]
trait Store: Sync {
    async fn load(&self, key: &str) -> Result<String, String>;

    #[with_logger(context(default_method = true))]
    async fn describe(&self) -> String {
        log!(info, "describe");
        "store".to_owned()
    }
}

struct MemoryStore {
    name: &'static str,
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    #[with_logger(context(store = self.name, key), err)]
    async fn load(&self, key: &str) -> Result<String, String> {
        tokio::task::yield_now().await;
        if key.is_empty() {
            return Err("empty key".to_owned());
        }
        log!(info, "loaded");
        Ok(format!("{}:{key}", self.name))
    }
}

#[tokio::test]
async fn async_trait_methods() {
    let (capture, logger) = root();
    let store: Box<dyn Store> = Box::new(MemoryStore { name: "mem" });
    loglayer::scope(logger, async {
        assert_eq!(store.load("k").await.unwrap(), "mem:k");
        assert!(store.load("").await.is_err());
        assert_eq!(store.describe().await, "store");
        loglayer::info!("after");
    })
    .await;
    let loaded = entry_with_msg(&capture, "loaded");
    assert_eq!(
        (&loaded["store"], &loaded["key"]),
        (&json!("mem"), &json!("k"))
    );
    let failed: Vec<Value> = capture
        .entries()
        .into_iter()
        .filter(|e| e["level"] == "error")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["err"]["message"], "empty key");
    assert_eq!(failed[0]["key"], "");
    assert_eq!(entry_with_msg(&capture, "describe")["default_method"], true);
    assert!(entry_with_msg(&capture, "after").get("store").is_none());
}

trait NativeAsync {
    fn run(&self) -> impl Future<Output = u32> + Send;
}

struct Native;

impl NativeAsync for Native {
    #[with_logger(context(native = true))]
    async fn run(&self) -> u32 {
        log!(info, "native");
        1
    }
}

#[test]
fn native_async_fn_in_trait_with_futures_executor() {
    let (capture, logger) = root();
    let n = futures::executor::block_on(loglayer::scope(logger, Native.run()));
    assert_eq!(n, 1);
    assert_eq!(entry_with_msg(&capture, "native")["native"], true);
}

// ----------------------------------------------------------------------------
// Isolation under a work-stealing runtime.

#[with_logger(context(task = id))]
async fn worker(id: usize) -> usize {
    for step in 0..5 {
        tokio::task::yield_now().await;
        log!(info, "task {} step {}", id, step);
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tasks_each_see_their_own_context() {
    let (capture, logger) = root();
    let handles: Vec<_> = (0..50)
        .map(|id| tokio::spawn(loglayer::scope(logger.clone(), worker(id))))
        .collect();
    for (id, handle) in handles.into_iter().enumerate() {
        assert_eq!(handle.await.unwrap(), id);
    }
    let entries = capture.entries();
    assert_eq!(entries.len(), 250);
    for entry in entries {
        let task = entry["task"].as_u64().unwrap();
        let msg = entry["msg"].as_str().unwrap();
        assert!(msg.starts_with(&format!("task {task} ")), "{entry}");
    }
    assert!(logger.get_context().get("task").is_none());
}

#[test]
fn async_fn_created_in_one_scope_and_polled_elsewhere_keeps_it_with_current_logger() {
    use loglayer::WithLogger;

    #[loglayer::with_logger]
    async fn job() {
        log!(info, "job ran");
    }

    let capture = loglayer::transport::CaptureTransport::new();
    let outer = loglayer::LogLayer::new(capture.clone());
    outer.with_context(serde_json::json!({"origin": "creator"}));
    let fut = loglayer::sync_scope(outer, || job().with_current_logger());
    futures::executor::block_on(fut); // polled outside the creating scope
    let e = capture.entries();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["origin"], "creator");
}

// ----------------------------------------------------------------------------
// `#[track_caller]`: documented on the attribute. Without `err` the body sees
// the caller's location; with `err` on a plain fn the body runs in a closure
// (stable closures cannot be `#[track_caller]`), so it sees its own line.

#[with_logger]
#[track_caller]
fn caller_line() -> u32 {
    std::panic::Location::caller().line()
}

#[with_logger(err)]
#[track_caller]
fn caller_line_with_err() -> Result<u32, String> {
    Ok(std::panic::Location::caller().line())
}

#[test]
fn track_caller_is_honoured_without_err_and_not_inside_an_err_closure() {
    let line = line!() + 1;
    let (plain, with_err) = (caller_line(), caller_line_with_err().unwrap());
    assert_eq!(plain, line);
    assert_eq!(with_err, line - 6);
}
