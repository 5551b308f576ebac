//! `#[with_logger]` on functions that return a future instead of being
//! `async fn`s: plain fns whose tail is `async {..}`, `Box::pin(async {..})`
//! or `.boxed()`, and `#[async_trait]` methods. One rule for all of them, the
//! rule of an `async fn`: the returned future runs in the scope, and the
//! scope's parent is the logger current when the future is **first polled**.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};

use futures::future::{BoxFuture, FutureExt, LocalBoxFuture};
use loglayer::transport::CaptureTransport;
use loglayer::{with_logger, LogLayer};
use loglayer_suite::entry_with_msg;
use serde_json::{json, Value};

/// A logger writing to a fresh capture, with `{"origin": name}` in its context.
fn logger(name: &str) -> (CaptureTransport, LogLayer) {
    let capture = CaptureTransport::new();
    let logger = LogLayer::new(capture.clone());
    logger.with_context(json!({ "origin": name }));
    (capture, logger)
}

/// Creates the future in a scope of `creator`, then polls it in a scope of
/// `poller`, on `futures`' executor.
fn create_then_poll<F: Future>(
    creator: &LogLayer,
    poller: &LogLayer,
    create: impl FnOnce() -> F,
) -> F::Output {
    let future = loglayer::sync_scope(creator.clone(), create);
    futures::executor::block_on(loglayer::scope(poller.clone(), future))
}

// ----------------------------------------------------------------------------
// Plain fns returning a future.

#[with_logger(context(shape = "async", id))]
fn tail_async(id: u32) -> impl Future<Output = u32> {
    let doubled = id * 2;
    async move {
        log!(info, "tail_async");
        nested().await;
        doubled
    }
}

#[with_logger(context(shape = "async_borrowing"))]
fn tail_async_borrowing(name: &str) -> impl Future<Output = usize> + '_ {
    async {
        log!(info, "tail_async_borrowing");
        name.len()
    }
}

#[with_logger(context(shape = "box_pin"))]
fn tail_box_pin(id: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move {
        log!(info, "tail_box_pin");
        nested().await;
        id
    })
}

#[with_logger(context(shape = "std_box_pin"))]
fn tail_std_box_pin() -> Pin<std::boxed::Box<dyn Future<Output = ()>>> {
    std::boxed::Box::pin(async {
        log!(info, "tail_std_box_pin");
    })
}

#[with_logger(context(shape = "boxed"))]
fn tail_boxed(id: u32) -> BoxFuture<'static, u32> {
    helper(id).boxed()
}

#[with_logger(context(shape = "boxed_local"))]
fn tail_boxed_local() -> LocalBoxFuture<'static, ()> {
    async {
        log!(info, "tail_boxed_local");
    }
    .boxed_local()
}

async fn helper(id: u32) -> u32 {
    loglayer::info!("helper");
    id
}

async fn nested() {
    futures::future::ready(()).await;
    loglayer::info!("nested");
}

#[test]
fn a_returned_future_runs_in_the_scope_and_takes_its_parent_when_first_polled() {
    let (created_capture, creator) = logger("creator");
    let (capture, poller) = logger("poller");

    assert_eq!(create_then_poll(&creator, &poller, || tail_async(4)), 8);
    let e = entry_with_msg(&capture, "tail_async");
    assert_eq!(
        (&e["origin"], &e["shape"], &e["id"]),
        (&json!("poller"), &json!("async"), &json!(4))
    );
    assert_eq!(entry_with_msg(&capture, "nested")["shape"], "async");

    let name = String::from("abc");
    assert_eq!(
        create_then_poll(&creator, &poller, || tail_async_borrowing(&name)),
        3
    );
    assert_eq!(
        entry_with_msg(&capture, "tail_async_borrowing")["origin"],
        "poller"
    );

    assert_eq!(create_then_poll(&creator, &poller, || tail_box_pin(5)), 5);
    assert_eq!(entry_with_msg(&capture, "tail_box_pin")["shape"], "box_pin");

    create_then_poll(&creator, &poller, tail_std_box_pin);
    assert_eq!(
        entry_with_msg(&capture, "tail_std_box_pin")["origin"],
        "poller"
    );

    assert_eq!(create_then_poll(&creator, &poller, || tail_boxed(6)), 6);
    let e = entry_with_msg(&capture, "helper");
    assert_eq!(
        (&e["origin"], &e["shape"]),
        (&json!("poller"), &json!("boxed"))
    );

    create_then_poll(&creator, &poller, tail_boxed_local);
    assert_eq!(
        entry_with_msg(&capture, "tail_boxed_local")["shape"],
        "boxed_local"
    );

    assert!(
        created_capture.entries().is_empty(),
        "{:#?}",
        created_capture.entries()
    );
    // The scope ended with each future: the poller's own logger is untouched.
    assert!(poller.get_context().get("shape").is_none());
}

#[with_logger(context(shape = "async"))]
fn returns_future_and_logs_before() -> impl Future<Output = ()> {
    log!(info, "before the future");
    async {
        log!(info, "in the future");
    }
}

#[test]
fn statements_before_the_returned_future_run_in_the_callers_scope() {
    let (_, creator) = logger("creator");
    let (capture, poller) = logger("poller");
    let future = loglayer::sync_scope(creator.clone(), returns_future_and_logs_before);
    loglayer::sync_scope(poller.clone(), || {
        futures::executor::block_on(future);
        let before = returns_future_and_logs_before();
        drop(before);
    });
    assert_eq!(entry_with_msg(&capture, "in the future")["shape"], "async");
    assert!(entry_with_msg(&capture, "before the future")
        .get("shape")
        .is_none());
}

#[with_logger(context(n = counter.load(Ordering::SeqCst)))]
fn snapshot(counter: &AtomicU32) -> impl Future<Output = ()> + '_ {
    async move {
        counter.fetch_add(1, Ordering::SeqCst);
        log!(info, "snapshot");
    }
}

#[test]
fn context_values_of_a_returned_future_are_rendered_at_the_call() {
    let (capture, logger) = logger("l");
    let counter = AtomicU32::new(7);
    let future = snapshot(&counter);
    counter.store(100, Ordering::SeqCst);
    futures::executor::block_on(loglayer::scope(logger, future));
    assert_eq!(entry_with_msg(&capture, "snapshot")["n"], 7);
    assert_eq!(counter.load(Ordering::SeqCst), 101);
}

#[with_logger(logger = log, context(shape = "explicit"))]
fn explicit_logger(log: &LogLayer) -> impl Future<Output = ()> {
    async {
        log!(info, "explicit");
    }
}

#[test]
fn an_explicit_logger_is_taken_at_the_call() {
    let (capture, given) = logger("given");
    let (poller_capture, poller) = logger("poller");
    let future = explicit_logger(&given);
    futures::executor::block_on(loglayer::scope(poller, future));
    assert_eq!(entry_with_msg(&capture, "explicit")["shape"], "explicit");
    assert!(poller_capture.entries().is_empty());
}

// ----------------------------------------------------------------------------
// `err` on a plain fn returning a future of a `Result`.

#[derive(Debug)]
struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

impl std::error::Error for Failed {}

#[with_logger(err, context(id))]
fn fallible(id: u32) -> impl Future<Output = Result<u32, Failed>> {
    async move {
        if id == 0 {
            return Err(Failed);
        }
        let checked: u32 = id.checked_sub(1).ok_or(Failed)?;
        log!(info, "fallible ok");
        Ok(checked)
    }
}

#[with_logger(err(level = warn))]
fn fallible_boxed(fail: bool) -> BoxFuture<'static, Result<(), String>> {
    async move {
        if fail {
            Err("boxed failure".to_owned())
        } else {
            Ok(())
        }
    }
    .boxed()
}

#[test]
fn err_on_a_fn_returning_a_future_of_a_result() {
    let (capture, logger) = logger("l");
    futures::executor::block_on(loglayer::scope(logger, async {
        assert!(fallible(0).await.is_err());
        assert_eq!(fallible(3).await.unwrap(), 2);
        assert!(fallible_boxed(true).await.is_err());
        assert!(fallible_boxed(false).await.is_ok());
    }));
    let errors: Vec<Value> = capture
        .entries()
        .into_iter()
        .filter(|e| e["msg"].as_str().unwrap().ends_with("returned an error"))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(errors[0]["msg"], "fallible returned an error");
    assert_eq!(errors[0]["id"], 0);
    assert_eq!(errors[0]["level"], "error");
    assert_eq!(errors[0]["err"]["message"], "failed");
    assert_eq!(errors[1]["level"], "warn");
    assert_eq!(errors[1]["err"]["message"], "boxed failure");
    assert_eq!(entry_with_msg(&capture, "fallible ok")["id"], 3);
}

// ----------------------------------------------------------------------------
// `#[async_trait]` methods: taken at first poll, like an `async fn`.

#[async_trait::async_trait]
trait Service: Send + Sync {
    async fn call(&self, request: u32) -> u32;

    async fn pair(&self, pair: (u32, u32), named: Named) -> u32;

    async fn rename(&mut self, name: &str) -> String;

    async fn consume(self: Box<Self>) -> String;

    #[with_logger(context(method = "provided"))]
    async fn provided(&self) -> &'static str {
        log!(info, "provided");
        "provided"
    }
}

struct Named {
    label: &'static str,
}

struct Echo {
    name: String,
}

#[async_trait::async_trait]
impl Service for Echo {
    #[with_logger(context(service = self.name, request))]
    async fn call(&self, request: u32) -> u32 {
        futures::future::ready(()).await;
        log!(info, "call");
        request + 1
    }

    // Pattern arguments: `#[async_trait]` renames them `__argN` in the
    // signature and destructures them in the body; the options see the
    // names as written.
    #[with_logger(context(a, ?b, sum = a + b, label = %label, who = self.name))]
    async fn pair(&self, (a, b): (u32, u32), Named { label }: Named) -> u32 {
        log!(info, "pair");
        a + b + label.len() as u32
    }

    #[with_logger(context(old = self.name, new = name))]
    async fn rename(&mut self, name: &str) -> String {
        let old = std::mem::replace(&mut self.name, name.to_owned());
        log!(info, "rename");
        old
    }

    #[with_logger(context(consumed = self.name))]
    async fn consume(self: Box<Self>) -> String {
        log!(info, "consume");
        self.name
    }
}

#[test]
fn async_trait_methods_take_the_logger_current_at_first_poll() {
    let (capture, log) = logger("scope");
    let mut service = Echo {
        name: "echo".to_owned(),
    };

    // Created outside any scope, polled in one: the lines go to `log`.
    let call = service.call(1);
    assert_eq!(
        futures::executor::block_on(loglayer::scope(log.clone(), call)),
        2
    );
    let e = entry_with_msg(&capture, "call");
    assert_eq!(
        (&e["origin"], &e["service"], &e["request"]),
        (&json!("scope"), &json!("echo"), &json!(1))
    );

    let pair = service.pair((2, 3), Named { label: "xy" });
    assert_eq!(
        futures::executor::block_on(loglayer::scope(log.clone(), pair)),
        7
    );
    let e = entry_with_msg(&capture, "pair");
    assert_eq!(
        (&e["a"], &e["b"], &e["sum"], &e["label"], &e["who"]),
        (
            &json!(2),
            &json!("3"),
            &json!(5),
            &json!("xy"),
            &json!("echo")
        )
    );

    let provided = service.provided();
    assert_eq!(
        futures::executor::block_on(loglayer::scope(log.clone(), provided)),
        "provided"
    );
    assert_eq!(entry_with_msg(&capture, "provided")["origin"], "scope");

    let rename = service.rename("renamed");
    assert_eq!(
        futures::executor::block_on(loglayer::scope(log.clone(), rename)),
        "echo"
    );
    let e = entry_with_msg(&capture, "rename");
    assert_eq!((&e["old"], &e["new"]), (&json!("echo"), &json!("renamed")));

    let consume = Box::new(service).consume();
    assert_eq!(
        futures::executor::block_on(loglayer::scope(log.clone(), consume)),
        "renamed"
    );
    assert_eq!(entry_with_msg(&capture, "consume")["consumed"], "renamed");
}

#[tokio::test]
async fn async_trait_objects_in_a_scope_like_async_fns() {
    let (capture, log) = logger("scope");
    let service: Box<dyn Service> = Box::new(Echo {
        name: "dyn".to_owned(),
    });
    let future = service.call(9);
    assert_eq!(loglayer::scope(log, future).await, 10);
    assert_eq!(entry_with_msg(&capture, "call")["service"], "dyn");
}

#[async_trait::async_trait]
trait Fallible {
    async fn run(&self, (x, y): (i32, i32)) -> Result<i32, Failed>;
}

struct Runner;

#[async_trait::async_trait]
impl Fallible for Runner {
    #[with_logger(err, context(x, y))]
    async fn run(&self, (x, y): (i32, i32)) -> Result<i32, Failed> {
        if x < 0 {
            return Err(Failed);
        }
        let z = y.checked_add(x).ok_or(Failed)?;
        Ok(z)
    }
}

#[test]
fn async_trait_err_reports_in_the_scope_taken_at_first_poll() {
    let (capture, log) = logger("scope");
    let failing = Runner.run((-1, 2));
    let overflow = Runner.run((1, i32::MAX));
    let fine = Runner.run((1, 2));
    futures::executor::block_on(loglayer::scope(log, async {
        assert!(failing.await.is_err());
        assert!(overflow.await.is_err());
        assert_eq!(fine.await.unwrap(), 3);
    }));
    let entries = capture.entries();
    assert_eq!(entries.len(), 2, "{entries:#?}");
    assert_eq!(
        (&entries[0]["origin"], &entries[0]["x"], &entries[0]["y"]),
        (&json!("scope"), &json!(-1), &json!(2))
    );
    assert_eq!(entries[1]["x"], 1);
    assert_eq!(entries[0]["msg"], "run returned an error");
}
