//! The current logger (`loglayer::scope`, `sync_scope`, `current`,
//! `try_current`, `WithLogger`): isolation between concurrent tasks, panics,
//! cancellation, `Drop` inside a scope, nesting, combinators and executors.
//!
//! Every test checks what a `CaptureTransport` received or what
//! `try_current()` sees afterwards, so each one fails if the scope leaks or
//! loses its logger. No test calls `set_default` (that one lives in
//! `tests/spawn.rs`, in a single test, because it is process-global).

use std::collections::HashMap;
use std::future::{pending, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use loglayer::transport::CaptureTransport;
use loglayer::{LogLayer, WithLogger};
use serde_json::{json, Value};

/// A logger writing to `capture`, with `context` as its context.
fn logger(capture: &CaptureTransport, context: Value) -> LogLayer {
    let logger = LogLayer::new(capture.clone());
    logger.with_context(context);
    logger
}

/// The entries whose message is `msg`.
fn with_msg(capture: &CaptureTransport, msg: &str) -> Vec<Value> {
    capture
        .entries()
        .into_iter()
        .filter(|e| e["msg"] == msg)
        .collect()
}

/// A multi-thread runtime with few workers, so that probe tasks spawned after
/// a test's work run on the very threads that ran that work.
fn small_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Spawns `n` fresh tasks (each yielding once, so they also run after being
/// rescheduled, possibly on another worker) and asserts that none of them
/// sees a current logger.
async fn assert_workers_clean(n: usize) {
    let probes: Vec<_> = (0..n)
        .map(|_| {
            tokio::spawn(async {
                let before = loglayer::try_current().is_none();
                tokio::task::yield_now().await;
                let after = loglayer::try_current().is_none();
                before && after
            })
        })
        .collect();
    for (i, probe) in probes.into_iter().enumerate() {
        assert!(
            probe.await.expect("probe task"),
            "probe task {i} found a stale logger on its worker thread"
        );
    }
    assert!(
        loglayer::try_current().is_none(),
        "the test's own task sees a stale logger"
    );
}

/// Logs `"dropped"` through the current logger when dropped.
struct LogOnDrop(&'static str);

impl Drop for LogOnDrop {
    fn drop(&mut self) {
        loglayer::info!(dropped = self.0, "dropped");
    }
}

// ----------------------------------------------------------------------------
// Isolation under work stealing.

const TASKS: u64 = 10_000;
/// Log calls made by one `request`.
const LOGS_PER_TASK: usize = 6;

/// A request handler: nested async fns that take no logger, yielding and
/// sleeping between log calls. `me` is written by the call itself, the task id
/// in the context comes from the scope.
async fn request(i: u64) {
    loglayer::info!(me = i, step = "start", "request");
    tokio::task::yield_now().await;
    assert_context_is(i);
    load(i).await;
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_context_is(i);
    loglayer::info!(me = i, step = "end", "request");
}

async fn load(i: u64) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    loglayer::info!(me = i, step = "load", "load");
    query(i).await;
    tokio::task::yield_now().await;
    loglayer::info!(me = i, step = "loaded", "load");
}

async fn query(i: u64) {
    tokio::task::yield_now().await;
    loglayer::info!(me = i, step = "query", "query");
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_context_is(i);
    loglayer::info!(me = i, step = "queried", "query");
}

fn assert_context_is(i: u64) {
    let current = loglayer::try_current().expect("a scoped task lost its logger");
    assert_eq!(
        current.get_context().get("task"),
        Some(&json!(i)),
        "task {i} sees another task's logger"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_concurrent_tasks_each_log_with_their_own_context() {
    let capture = CaptureTransport::new();
    let base = LogLayer::new(capture.clone());
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let task_logger = base.child();
            task_logger.with_context(json!({ "task": i }));
            tokio::spawn(loglayer::scope(task_logger, request(i)))
        })
        .collect();
    for task in tasks {
        task.await.expect("task panicked (see its assertion above)");
    }

    let entries = capture.entries();
    assert_eq!(entries.len(), TASKS as usize * LOGS_PER_TASK);
    let mut per_task: HashMap<u64, usize> = HashMap::new();
    for entry in &entries {
        let me = entry["me"].as_u64().expect("every entry has `me`");
        assert_eq!(
            entry["task"], entry["me"],
            "entry logged by task {me} carries another task's context: {entry}"
        );
        *per_task.entry(me).or_default() += 1;
    }
    assert_eq!(per_task.len(), TASKS as usize);
    assert!(per_task.values().all(|&n| n == LOGS_PER_TASK));
    assert!(base.get_context().is_empty(), "children changed the base");
    assert!(loglayer::try_current().is_none());
}

// ----------------------------------------------------------------------------
// Panics.

#[test]
fn panic_in_a_scoped_future_leaves_nothing_behind() {
    let capture = CaptureTransport::new();
    let log = logger(&capture, json!({ "who": "panicker" }));

    // Caught around the future (futures' catch_unwind), polled by block_on.
    let caught = futures::executor::block_on(
        AssertUnwindSafe(loglayer::scope(log.clone(), async {
            loglayer::info!("before panic");
            tokio::task::yield_now().await;
            panic!("boom in a scoped future");
        }))
        .catch_unwind(),
    );
    assert!(caught.is_err());
    assert!(
        loglayer::try_current().is_none(),
        "stale logger after panic"
    );

    // Caught around the whole executor call.
    let caught = catch_unwind(AssertUnwindSafe(|| {
        futures::executor::block_on(loglayer::scope(log.clone(), async {
            tokio::task::yield_now().await;
            panic!("boom through block_on");
        }))
    }));
    assert!(caught.is_err());
    assert!(
        loglayer::try_current().is_none(),
        "stale logger after panic"
    );

    // Caught inside an outer scope: the outer logger is current again.
    let outer_capture = CaptureTransport::new();
    let outer = logger(&outer_capture, json!({ "who": "outer" }));
    futures::executor::block_on(loglayer::scope(outer.clone(), async {
        let inner = AssertUnwindSafe(loglayer::scope(log.clone(), async {
            loglayer::info!("inner before panic");
            tokio::task::yield_now().await;
            panic!("inner boom");
        }))
        .catch_unwind()
        .await;
        assert!(inner.is_err());
        assert!(loglayer::current().ptr_eq(&outer), "outer not restored");
        loglayer::info!("outer after inner panic");
    }));
    assert!(loglayer::try_current().is_none());

    let outer_entries = outer_capture.entries();
    assert_eq!(outer_entries.len(), 1);
    assert_eq!(outer_entries[0]["who"], "outer");
    assert_eq!(capture.len(), 2);
    assert!(capture.entries().iter().all(|e| e["who"] == "panicker"));
}

/// Logs, then panics, when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        loglayer::info!(dropped = "panicking", "dropped");
        panic!("Drop panics");
    }
}

#[test]
fn panic_in_drop_inside_a_scope_leaves_nothing_behind() {
    let capture = CaptureTransport::new();
    let log = logger(&capture, json!({ "scope": "s" }));
    let outer_capture = CaptureTransport::new();
    let outer = logger(&outer_capture, json!({ "scope": "outer" }));

    loglayer::sync_scope(outer.clone(), || {
        // Dropped early (cancelled): the panic comes out of Scoped's drop.
        let cancelled = loglayer::scope(log.clone(), async {
            let _bomb = PanicOnDrop;
            pending::<()>().await;
        });
        let mut cancelled = Box::pin(cancelled);
        assert!(cancelled.as_mut().now_or_never().is_none());
        let caught = catch_unwind(AssertUnwindSafe(move || drop(cancelled)));
        assert!(caught.is_err());
        assert!(loglayer::current().ptr_eq(&outer), "outer not restored");

        // Dropped on completion, inside poll.
        let caught = catch_unwind(AssertUnwindSafe(|| {
            futures::executor::block_on(loglayer::scope(log.clone(), async {
                let _bomb = PanicOnDrop;
                tokio::task::yield_now().await;
            }))
        }));
        assert!(caught.is_err());
        assert!(loglayer::current().ptr_eq(&outer), "outer not restored");
        loglayer::info!("outer after");
    });
    assert!(loglayer::try_current().is_none());

    let dropped = with_msg(&capture, "dropped");
    assert_eq!(dropped.len(), 2);
    assert!(dropped.iter().all(|e| e["scope"] == "s"));
    assert_eq!(outer_capture.messages(), ["outer after"]);
}

#[test]
fn panicking_spawned_tasks_leave_their_workers_clean() {
    let capture = CaptureTransport::new();
    let base = LogLayer::new(capture.clone());
    small_runtime().block_on(async {
        for round in 0..4 {
            let mut tasks = Vec::new();
            for i in 0..50_u32 {
                let task_logger = base.child();
                task_logger.with_context(json!({ "task": i }));
                // Half through `scope` + tokio::spawn, half through loglayer::spawn.
                let body = async move {
                    loglayer::info!(me = i, "about to panic");
                    tokio::task::yield_now().await;
                    if i % 3 == 0 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    panic!("task {i} panics");
                };
                tasks.push(if i % 2 == 0 {
                    tokio::spawn(loglayer::scope(task_logger, body))
                } else {
                    loglayer::sync_scope(task_logger, || loglayer::spawn(body))
                });
            }
            for task in tasks {
                let err = task.await.expect_err("the task should panic");
                assert!(err.is_panic(), "round {round}: {err}");
            }
            assert_workers_clean(200).await;
        }
    });
    let entries = capture.entries();
    assert_eq!(entries.len(), 4 * 50);
    assert!(entries.iter().all(|e| e["task"] == e["me"]));
}

#[test]
fn sync_scope_restores_on_panic() {
    let capture = CaptureTransport::new();
    let outer = logger(&capture, json!({ "depth": 1 }));
    let middle = logger(&capture, json!({ "depth": 2 }));
    let inner = logger(&capture, json!({ "depth": 3 }));

    // A top-level sync_scope that panics leaves nothing.
    let caught = catch_unwind(AssertUnwindSafe(|| {
        loglayer::sync_scope(outer.clone(), || {
            loglayer::info!(at = 1, "top level before panic");
            panic!("top-level boom");
        })
    }));
    assert!(caught.is_err());
    assert!(
        loglayer::try_current().is_none(),
        "stale logger after panic"
    );

    // Nested: each level restores its parent, also when the inner one panics.
    let result = loglayer::sync_scope(outer.clone(), || {
        loglayer::info!(at = 1, "outer");
        let caught = catch_unwind(AssertUnwindSafe(|| {
            loglayer::sync_scope(middle.clone(), || {
                loglayer::info!(at = 2, "middle");
                let caught = catch_unwind(AssertUnwindSafe(|| {
                    loglayer::sync_scope(inner.clone(), || {
                        loglayer::info!(at = 3, "inner");
                        panic!("inner boom");
                    })
                }));
                assert!(caught.is_err());
                assert!(loglayer::current().ptr_eq(&middle), "middle not restored");
                loglayer::info!(at = 2, "middle after inner panic");
                panic!("middle boom");
            })
        }));
        assert!(caught.is_err());
        assert!(loglayer::current().ptr_eq(&outer), "outer not restored");
        loglayer::info!(at = 1, "outer after middle panic");
        // A scope that returns normally restores too.
        let n = loglayer::sync_scope(inner.clone(), || {
            loglayer::info!(at = 3, "inner, no panic");
            7
        });
        assert!(loglayer::current().ptr_eq(&outer));
        n
    });
    assert_eq!(result, 7);
    assert!(loglayer::try_current().is_none());

    let entries = capture.entries();
    assert_eq!(entries.len(), 7);
    for entry in &entries {
        assert_eq!(entry["depth"], entry["at"], "wrong logger for {entry}");
    }
}

// ----------------------------------------------------------------------------
// Cancellation.

#[test]
fn select_cancellation_leaves_nothing_behind() {
    let capture = CaptureTransport::new();
    let base = LogLayer::new(capture.clone());
    small_runtime().block_on(async {
        for i in 0..200_u32 {
            let loser = base.child();
            loser.with_context(json!({ "task": i }));
            let cancelled = tokio::spawn(async move {
                tokio::select! {
                    biased;
                    _ = loglayer::scope(loser, async move {
                        let _guard = LogOnDrop("select");
                        loglayer::info!(me = i, "polled");
                        tokio::task::yield_now().await;
                        pending::<()>().await;
                    }) => unreachable!("never completes"),
                    _ = async {
                        tokio::task::yield_now().await;
                        tokio::task::yield_now().await;
                    } => {}
                }
                loglayer::try_current().is_none()
            });
            assert!(
                cancelled.await.unwrap(),
                "stale logger after select! dropped a scoped future"
            );
        }
        assert_workers_clean(200).await;

        // select! inside a scope: dropping the inner scoped future restores
        // the outer logger.
        let outer = base.child();
        outer.with_context(json!({ "task": "outer" }));
        let outer_for_check = outer.clone();
        let inner = base.child();
        loglayer::scope(outer, async move {
            for _ in 0..20 {
                tokio::select! {
                    biased;
                    _ = loglayer::scope(inner.clone(), pending::<()>()) => unreachable!(),
                    _ = tokio::task::yield_now() => {}
                }
                assert!(loglayer::current().ptr_eq(&outer_for_check));
                tokio::task::yield_now().await;
                assert!(loglayer::current().ptr_eq(&outer_for_check));
            }
        })
        .await;
        assert!(loglayer::try_current().is_none());
    });

    let polled = with_msg(&capture, "polled");
    assert_eq!(polled.len(), 200);
    assert!(polled.iter().all(|e| e["task"] == e["me"]));
    let dropped = with_msg(&capture, "dropped");
    assert_eq!(dropped.len(), 200, "every cancelled future logs in Drop");
    assert!(dropped.iter().all(|e| e["task"].is_u64()));
}

#[test]
fn abort_leaves_nothing_behind() {
    let capture = CaptureTransport::new();
    let base = LogLayer::new(capture.clone());
    small_runtime().block_on(async {
        for round in 0..5_u32 {
            let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel();
            let tasks: Vec<_> = (0..100_u32)
                .map(|i| {
                    let task_logger = base.child();
                    task_logger.with_context(json!({ "task": i, "round": round }));
                    let started_tx = started_tx.clone();
                    tokio::spawn(loglayer::scope(task_logger, async move {
                        let _guard = LogOnDrop("abort");
                        loglayer::info!(me = i, "started");
                        tokio::task::yield_now().await;
                        started_tx.send(()).unwrap();
                        pending::<()>().await;
                    }))
                })
                .collect();
            drop(started_tx);
            for _ in 0..100 {
                started_rx.recv().await.expect("every task starts");
            }
            for task in &tasks {
                task.abort();
            }
            for task in tasks {
                let err = task.await.expect_err("aborted");
                assert!(err.is_cancelled());
            }
            assert_workers_clean(200).await;
        }
    });

    let started = with_msg(&capture, "started");
    assert_eq!(started.len(), 500);
    assert!(started.iter().all(|e| e["task"] == e["me"]));
    let dropped = with_msg(&capture, "dropped");
    assert_eq!(dropped.len(), 500, "every aborted task logs in Drop");
    let mut seen: HashMap<(u64, u64), usize> = HashMap::new();
    for entry in &dropped {
        assert_eq!(entry["dropped"], "abort");
        let key = (
            entry["round"].as_u64().expect("round from the scope"),
            entry["task"].as_u64().expect("task from the scope"),
        );
        *seen.entry(key).or_default() += 1;
    }
    assert_eq!(seen.len(), 500, "each aborted task logged its own Drop");
}

// ----------------------------------------------------------------------------
// Drop inside a scope.

/// Ready at once, but keeps a `LogOnDrop` until the future itself is dropped.
struct ReadyHolding(#[allow(dead_code)] LogOnDrop);

impl Future for ReadyHolding {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Ready(())
    }
}

#[test]
fn drop_inside_a_scoped_future_logs_with_that_scope() {
    let capture = CaptureTransport::new();
    let log = logger(&capture, json!({ "scope": "s" }));
    let outer_capture = CaptureTransport::new();
    let outer = logger(&outer_capture, json!({ "scope": "outer" }));

    futures::executor::block_on(async {
        // Completed: a local dropped at the end of the body.
        loglayer::scope(log.clone(), async {
            let _guard = LogOnDrop("completed local");
            tokio::task::yield_now().await;
        })
        .await;
        // Completed: a value the inner future holds until it is dropped.
        loglayer::scope(log.clone(), ReadyHolding(LogOnDrop("completed held"))).await;
        // Completed: a captured value.
        let captured = LogOnDrop("completed captured");
        loglayer::scope(log.clone(), async move {
            let _keep = &captured;
            tokio::task::yield_now().await;
        })
        .await;
    });

    // Cancelled after one poll, dropped outside any scope.
    let cancelled = loglayer::scope(log.clone(), async {
        let _guard = LogOnDrop("cancelled after poll");
        pending::<()>().await;
    });
    assert!(cancelled.now_or_never().is_none());

    // Never polled: only the captured value exists.
    let captured = LogOnDrop("never polled");
    drop(loglayer::scope(log.clone(), async move {
        let _keep = captured;
    }));

    // Dropped inside another scope: the inner scope's logger wins.
    loglayer::sync_scope(outer.clone(), || {
        let cancelled = async {
            let _guard = LogOnDrop("cancelled inside outer");
            pending::<()>().await;
        }
        .with_logger(log.clone());
        assert!(cancelled.now_or_never().is_none());
        assert!(loglayer::current().ptr_eq(&outer));
        loglayer::info!("outer still current");
    });
    assert!(loglayer::try_current().is_none());

    let dropped: Vec<String> = with_msg(&capture, "dropped")
        .iter()
        .map(|e| {
            assert_eq!(e["scope"], "s", "Drop logged outside its scope: {e}");
            e["dropped"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        dropped,
        [
            "completed local",
            "completed held",
            "completed captured",
            "cancelled after poll",
            "never polled",
            "cancelled inside outer",
        ]
    );
    assert_eq!(outer_capture.messages(), ["outer still current"]);
}

// ----------------------------------------------------------------------------
// Nesting and combinators.

#[tokio::test]
async fn nested_scopes_restore_the_outer_logger() {
    let capture = CaptureTransport::new();
    let a = logger(&capture, json!({ "logger": "a" }));
    let b = logger(&capture, json!({ "logger": "b" }));
    let c = logger(&capture, json!({ "logger": "c" }));
    let (a2, b2, c2) = (a.clone(), b.clone(), c.clone());

    loglayer::scope(a.clone(), async move {
        loglayer::info!(expect = "a", "a1");
        loglayer::scope(b2.clone(), async {
            loglayer::info!(expect = "b", "b1");
            tokio::task::yield_now().await;
            loglayer::scope(c2.clone(), async {
                tokio::time::sleep(Duration::from_millis(1)).await;
                loglayer::info!(expect = "c", "c1");
            })
            .await;
            assert!(loglayer::current().ptr_eq(&b2));
            // A sync scope inside an async one.
            loglayer::sync_scope(c2.clone(), || loglayer::info!(expect = "c", "c2"));
            loglayer::info!(expect = "b", "b2");
        })
        .await;
        assert!(loglayer::current().ptr_eq(&a2));
        loglayer::info!(expect = "a", "a2");
    })
    .await;
    assert!(loglayer::try_current().is_none());

    let entries = capture.entries();
    assert_eq!(entries.len(), 6);
    for entry in entries {
        assert_eq!(entry["logger"], entry["expect"], "{entry}");
    }
}

/// Logs `n` times, yielding in between, and checks its logger after each
/// yield. Unscoped (`scoped == false`), it must see no logger at all.
async fn worker(name: &'static str, n: u32, scoped: bool) {
    for step in 0..n {
        if scoped {
            loglayer::info!(expect = name, step = step, "work");
        } else {
            assert!(
                loglayer::try_current().is_none(),
                "unscoped branch sees a logger"
            );
        }
        tokio::task::yield_now().await;
    }
}

#[test]
fn join_of_differently_scoped_futures() {
    let capture = CaptureTransport::new();
    let a = logger(&capture, json!({ "logger": "a" }));
    let b = logger(&capture, json!({ "logger": "b" }));
    let c = logger(&capture, json!({ "logger": "c" }));

    // futures::executor
    futures::executor::block_on(async {
        futures::join!(
            loglayer::scope(a.clone(), worker("a", 5, true)),
            worker("none", 5, false),
            worker("b", 7, true).with_logger(b.clone()),
            loglayer::scope(c.clone(), async {
                futures::join!(
                    worker("c", 3, true),
                    loglayer::scope(a.clone(), worker("a", 4, true)),
                );
                worker("c", 2, true).await;
            }),
        );
    });
    assert_eq!(capture.len(), 5 + 7 + 3 + 4 + 2);

    // tokio, multi-thread
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            tokio::join!(
                loglayer::scope(a.clone(), worker("a", 6, true)),
                loglayer::scope(b.clone(), worker("b", 6, true)),
                worker("none", 6, false),
            );
        });
    assert_eq!(capture.len(), 21 + 12);

    for entry in capture.entries() {
        assert_eq!(entry["logger"], entry["expect"], "{entry}");
    }
    assert!(loglayer::try_current().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn futures_unordered_of_differently_scoped_futures() {
    let capture = CaptureTransport::new();
    let base = LogLayer::new(capture.clone());
    let mut set: FuturesUnordered<_> = (0..300_u64)
        .map(|i| {
            let own = base.child();
            own.with_context(json!({ "task": i }));
            loglayer::scope(own, async move {
                for step in 0..(i % 5 + 1) {
                    if step % 2 == 0 {
                        tokio::task::yield_now().await;
                    } else {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    loglayer::info!(me = i, step = step, "unordered");
                }
                assert_context_is(i);
                i
            })
        })
        .collect();
    let mut done = Vec::new();
    while let Some(i) = set.next().await {
        assert!(loglayer::try_current().is_none(), "leak between polls");
        done.push(i);
    }
    assert_eq!(done.len(), 300);

    let entries = capture.entries();
    let expected: u64 = (0..300_u64).map(|i| i % 5 + 1).sum();
    assert_eq!(entries.len() as u64, expected);
    assert!(entries.iter().all(|e| e["task"] == e["me"]));
}

// ----------------------------------------------------------------------------
// Executors and the default logger.

#[test]
fn works_on_futures_executor_and_tokio_current_thread() {
    let capture = CaptureTransport::new();
    let log = logger(&capture, json!({ "request_id": "r-1" }));

    futures::executor::block_on(loglayer::scope(log.clone(), async {
        loglayer::info!(executor = "futures", "hello");
        futures::future::ready(()).await;
        tokio::task::yield_now().await;
        loglayer::info!(executor = "futures", "bye");
    }));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let handle = tokio::spawn(loglayer::scope(log.clone(), async {
            loglayer::info!(executor = "current_thread", "hello");
            tokio::time::sleep(Duration::from_millis(1)).await;
            loglayer::info!(executor = "current_thread", "bye");
        }));
        // While the spawned task sleeps, this task sees no logger.
        tokio::task::yield_now().await;
        assert!(loglayer::try_current().is_none());
        handle.await.unwrap();
        async {
            loglayer::info!(executor = "current_thread", "with_logger");
        }
        .with_logger(log.clone())
        .await;
    });

    // with_current_logger captured in one place, polled elsewhere.
    let deferred = loglayer::sync_scope(log.clone(), || {
        async { loglayer::info!(executor = "futures", "deferred") }.with_current_logger()
    });
    assert!(loglayer::try_current().is_none());
    futures::executor::block_on(deferred);

    let entries = capture.entries();
    assert_eq!(entries.len(), 6);
    assert!(entries.iter().all(|e| e["request_id"] == "r-1"));
    assert_eq!(
        capture.messages(),
        ["hello", "bye", "hello", "bye", "with_logger", "deferred"]
    );
}

#[test]
fn outside_any_scope_current_is_the_default_logger() {
    assert!(loglayer::try_current().is_none());
    let default = loglayer::current();
    assert!(
        default.ptr_eq(&loglayer::current()),
        "default is one logger"
    );

    let capture = CaptureTransport::new();
    let log = logger(&capture, json!({ "k": 1 }));
    loglayer::sync_scope(log.clone(), || {
        let current = loglayer::current();
        assert!(current.ptr_eq(&log));
        assert!(!current.ptr_eq(&default));
        assert!(loglayer::try_current().unwrap().ptr_eq(&log));
    });
    assert!(loglayer::current().ptr_eq(&default));
    assert!(loglayer::try_current().is_none());
}
