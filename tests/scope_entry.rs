//! When a `#[with_logger]` scope takes its logger, and what code sees while
//! the scope's child is built or the thread is torn down (issue 10, holes 1–3).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use loglayer::plugin::Plugin;
use loglayer::transport::CaptureTransport;
use loglayer::{with_logger, Level, LogLayer};
use serde_json::json;

fn capture_logger() -> (CaptureTransport, LogLayer) {
    let capture = CaptureTransport::new();
    let log = LogLayer::new(capture.clone());
    (capture, log)
}

// Hole 1: the child is a snapshot of the parent at entry.

#[with_logger(context(step = 1))]
fn changes_the_parent_then_logs(parent: &LogLayer) {
    parent.with_context(json!({"late": true}));
    parent.set_level(Level::Error);
    loglayer::info!("inside");
}

#[test]
fn a_plain_fn_child_ignores_what_the_parent_gains_after_entry() {
    let (capture, parent) = capture_logger();
    parent.with_context(json!({"early": true}));
    loglayer::sync_scope(parent.clone(), || changes_the_parent_then_logs(&parent));
    let entries = capture.entries();
    assert_eq!(
        entries.len(),
        1,
        "set_level(Error) after entry must not silence the child"
    );
    assert_eq!(entries[0]["early"], true);
    assert_eq!(entries[0]["step"], 1);
    assert!(
        entries[0].get("late").is_none(),
        "context added after entry leaked: {}",
        entries[0]
    );
}

/// A future that is pending once, so code can run between the body's entry
/// and its first log call.
struct YieldOnce(bool);
impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Children taken one after another under one scope (the scope's slot keeps
/// the state it froze last, and takes it again while the parent still holds
/// it): each is the parent as it was at its own entry.
#[test]
fn children_taken_in_turn_under_one_scope_each_see_the_parent_at_their_entry() {
    let (capture, parent) = capture_logger();
    loglayer::sync_scope(parent.clone(), || {
        for i in 0..3 {
            parent.with_context(json!({ "i": i }));
            changes_the_parent_then_logs(&parent);
            parent.set_level(Level::Info);
            parent.clear_context_keys(&["late"]);
        }
        parent.with_context(json!({ "i": "last" }));
        futures::executor::block_on(yields_then_logs());
    });
    let entries = capture.entries();
    let seen: Vec<_> = entries.iter().map(|e| e["i"].clone()).collect();
    assert_eq!(seen, [json!(0), json!(1), json!(2), json!("last")]);
    assert!(
        entries.iter().all(|e| e.get("late").is_none()),
        "{entries:?}"
    );
}

#[with_logger(context(job = "sync"))]
async fn yields_then_logs() {
    YieldOnce(false).await;
    loglayer::info!("after the yield");
}

#[test]
fn an_async_fn_child_is_frozen_at_its_first_poll() {
    let (capture, parent) = capture_logger();
    let mut fut = Box::pin(loglayer::scope(parent.clone(), yields_then_logs()));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_pending()); // entered, not logged yet
    parent.with_context(json!({"late": true}));
    parent.set_level(Level::Error);
    assert!(fut.as_mut().poll(&mut cx).is_ready());
    let entries = capture.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["job"], "sync");
    assert!(entries[0].get("late").is_none());
}

#[with_logger]
fn no_context_child(parent: &LogLayer) {
    parent.set_level(Level::Fatal);
    loglayer::warn!("still on");
}

#[test]
fn a_child_without_context_is_frozen_too() {
    let (capture, parent) = capture_logger();
    loglayer::sync_scope(parent.clone(), || no_context_child(&parent));
    assert_eq!(capture.messages(), ["still on"]);
}

// Hole 2: code that runs while the child is built sees the scope.

struct Watcher {
    saw_scope: Arc<Mutex<Vec<bool>>>,
}

impl Plugin for Watcher {
    fn id(&self) -> &str {
        "watcher"
    }
    fn on_context_called(
        &self,
        context: loglayer::value::Fields,
    ) -> Option<loglayer::value::Fields> {
        self.saw_scope
            .lock()
            .unwrap()
            .push(loglayer::try_current().is_some());
        loglayer::info!(note = "from the plugin", "plugin ran");
        Some(context)
    }
}

#[with_logger(context(order = 7))]
fn logs_once() {
    loglayer::info!("body");
}

/// A logger with the `Watcher` plugin, and what the plugin saw.
fn watched_logger() -> (CaptureTransport, LogLayer, Arc<Mutex<Vec<bool>>>) {
    let saw_scope = Arc::new(Mutex::new(Vec::new()));
    let capture = CaptureTransport::new();
    let parent = LogLayer::builder()
        .transport(capture.clone())
        .plugin(Watcher {
            saw_scope: saw_scope.clone(),
        })
        .build();
    (capture, parent, saw_scope)
}

#[test]
fn a_plugin_running_while_the_child_is_built_finds_the_scope() {
    let (capture, parent, saw_scope) = watched_logger();
    loglayer::sync_scope(parent, logs_once);
    assert_eq!(*saw_scope.lock().unwrap(), [true]);
    // The plugin's own line went to the scope's logger, not the default one.
    let messages = capture.messages();
    assert!(messages.contains(&"plugin ran".to_owned()), "{messages:?}");
    assert!(messages.contains(&"body".to_owned()));
    let body = &capture.entries()[messages.iter().position(|m| m == "body").unwrap()];
    assert_eq!(body["order"], 7);
}

#[test]
fn a_plugin_running_while_a_reentrant_scope_is_built_finds_that_scope() {
    // A `Display` impl that calls a #[with_logger] fn while a log call on
    // this thread is being written: that scope goes on the overlay.
    struct CallsScopedFn;
    impl std::fmt::Display for CallsScopedFn {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            logs_once();
            f.write_str("outer")
        }
    }
    let (capture, parent, saw_scope) = watched_logger();
    loglayer::sync_scope(parent, || loglayer::info!(v = %CallsScopedFn, "outer call"));
    assert_eq!(*saw_scope.lock().unwrap(), [true]);
    let entries = capture.entries();
    let body = entries
        .iter()
        .find(|e| e["msg"] == "body")
        .expect("body logged in scope");
    assert_eq!(body["order"], 7);
}

// Hole 3: a scoped future dropped at thread exit is dropped in its scope.

struct LogsOnDrop;
impl Drop for LogsOnDrop {
    fn drop(&mut self) {
        loglayer::info!("dropped at thread exit");
    }
}

thread_local! {
    // Declared and first touched before the logger's slot, so its destructor
    // runs after the slot's would (thread-local destructors run in reverse).
    static KEPT: RefCell<Vec<Pin<Box<dyn Future<Output = ()>>>>> = const { RefCell::new(Vec::new()) };
}

#[test]
fn a_scoped_future_dropped_at_thread_exit_is_dropped_in_its_scope() {
    let (capture, log) = capture_logger();
    log.with_context(json!({"request_id": "r-exit"}));
    std::thread::spawn(move || {
        KEPT.with(|k| k.borrow_mut().clear()); // register KEPT's destructor first
        let guard = LogsOnDrop;
        let mut fut: Pin<Box<dyn Future<Output = ()>>> =
            Box::pin(loglayer::scope(log, async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending()); // touches the slot
        loglayer::info!("outside"); // and the log path's thread-locals
        KEPT.with(|k| k.borrow_mut().push(fut));
    })
    .join()
    .unwrap();
    let entries = capture.entries();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["msg"], "dropped at thread exit");
    assert_eq!(entries[0]["request_id"], "r-exit");
}
