//! Spawned work and the current logger: `loglayer::spawn`, `spawn_blocking`
//! and `thread::spawn` carry a child of the current logger (also when the work
//! runs after the parent scope ended); plain `tokio::spawn` and
//! `std::thread::spawn` do not; pooled threads keep no stale logger.
//!
//! `set_default` is process-global, so every use of it is in one test
//! (`default_logger_outside_scopes_and_in_plain_spawns`); the other tests never
//! log outside a scope, and that test only counts entries it marked itself.

use std::sync::{Arc, Barrier};

use loglayer::transport::CaptureTransport;
use loglayer::LogLayer;
use loglayer_suite::entry_with_msg;
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// A logger writing to `capture`, with `context` as its context.
fn logger(capture: &CaptureTransport, context: Value) -> LogLayer {
    let logger = LogLayer::new(capture.clone());
    logger.with_context(context);
    logger
}

/// The only entry whose message is `msg`.
/// Inside spawned work: a logger is current, it carries the parent's context,
/// and it is not the parent itself (a child). Then it adds a key of its own.
fn check_child_and_extend(parent: &LogLayer, key: &str) {
    let current = loglayer::try_current().expect("spawned work has a logger");
    assert!(
        !current.ptr_eq(parent),
        "spawned work got the parent, not a child"
    );
    assert_eq!(current.get_context().get("request_id"), Some(&json!("r-1")));
    current.with_context(json!({ key: true }));
}

// ----------------------------------------------------------------------------
// loglayer::spawn

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_carries_a_child_of_the_current_logger() {
    let capture = CaptureTransport::new();
    let parent = logger(&capture, json!({ "request_id": "r-1" }));
    let p = parent.clone();

    loglayer::scope(parent.clone(), async move {
        let p2 = p.clone();
        loglayer::spawn(async move {
            check_child_and_extend(&p2, "in_task");
            tokio::task::yield_now().await;
            loglayer::info!("in task");
            // Nested: a child of the child.
            loglayer::spawn(async {
                assert_eq!(loglayer::current().get_context()["in_task"], true);
                loglayer::info!("in grandchild task");
            })
            .await
            .unwrap();
        })
        .await
        .unwrap();
        assert!(loglayer::current().ptr_eq(&p), "the parent scope changed");
        loglayer::info!("parent after task");
    })
    .await;

    assert!(loglayer::try_current().is_none());
    assert_eq!(
        parent.get_context(),
        *json!({ "request_id": "r-1" }).as_object().unwrap()
    );
    let task = entry_with_msg(&capture, "in task");
    assert_eq!(task["request_id"], "r-1");
    assert_eq!(task["in_task"], true);
    let grandchild = entry_with_msg(&capture, "in grandchild task");
    assert_eq!(grandchild["request_id"], "r-1");
    assert_eq!(grandchild["in_task"], true);
    let after = entry_with_msg(&capture, "parent after task");
    assert_eq!(after["request_id"], "r-1");
    assert!(
        after.get("in_task").is_none(),
        "the child changed its parent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_runs_with_its_logger_after_the_parent_scope_ended() {
    let capture = CaptureTransport::new();
    let parent = logger(&capture, json!({ "request_id": "r-1" }));
    let (release, released) = oneshot::channel::<()>();

    let p = parent.clone();
    // The scope only spawns; the task's handle is awaited after it ended.
    #[allow(clippy::async_yields_async)]
    let handle = loglayer::scope(parent.clone(), async move {
        loglayer::spawn(async move {
            released.await.unwrap();
            check_child_and_extend(&p, "late");
            loglayer::info!("after the parent scope");
        })
    })
    .await;

    // The scope is over; its logger changes after the spawn.
    assert!(loglayer::try_current().is_none());
    parent.with_context(json!({ "added_after_spawn": 1 }));
    drop(parent);
    release.send(()).unwrap();
    handle.await.unwrap();

    let late = entry_with_msg(&capture, "after the parent scope");
    assert_eq!(late["request_id"], "r-1");
    assert_eq!(late["late"], true);
    assert!(
        late.get("added_after_spawn").is_none(),
        "the task's logger is a snapshot (child) taken at spawn time"
    );
}

// ----------------------------------------------------------------------------
// loglayer::spawn_blocking

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_blocking_carries_a_child_of_the_current_logger() {
    let capture = CaptureTransport::new();
    let parent = logger(&capture, json!({ "request_id": "r-1" }));
    let p = parent.clone();

    let (release, released) = oneshot::channel::<()>();
    // The scope returns the late task's handle, awaited after it ended.
    #[allow(clippy::async_yields_async)]
    let late = loglayer::scope(parent.clone(), async move {
        let p2 = p.clone();
        let now = loglayer::spawn_blocking(move || {
            check_child_and_extend(&p2, "blocking");
            loglayer::info!("in blocking");
        });
        let p3 = p.clone();
        let late = loglayer::spawn_blocking(move || {
            released.blocking_recv().unwrap();
            check_child_and_extend(&p3, "late_blocking");
            loglayer::info!("late blocking");
        });
        now.await.unwrap();
        loglayer::info!("parent after blocking");
        late
    })
    .await;
    assert!(loglayer::try_current().is_none());
    parent.with_context(json!({ "added_after_spawn": 1 }));
    release.send(()).unwrap();
    late.await.unwrap();

    let blocking = entry_with_msg(&capture, "in blocking");
    assert_eq!(
        (
            blocking["request_id"].as_str(),
            blocking["blocking"].as_bool()
        ),
        (Some("r-1"), Some(true))
    );
    let after = entry_with_msg(&capture, "parent after blocking");
    assert!(
        after.get("blocking").is_none(),
        "the child changed its parent"
    );
    let late = entry_with_msg(&capture, "late blocking");
    assert_eq!(late["request_id"], "r-1");
    assert_eq!(late["late_blocking"], true);
    assert!(late.get("added_after_spawn").is_none());
}

#[test]
fn blocking_pool_threads_keep_no_stale_logger() {
    let capture = CaptureTransport::new();
    let parent = logger(&capture, json!({ "request_id": "r-1" }));
    // Two blocking threads at most: the probes below run on the very threads
    // that ran the scoped closures.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for round in 0..10_u32 {
            let scoped: Vec<_> = loglayer::scope(parent.clone(), async {
                (0..8_u32)
                    .map(|i| {
                        loglayer::spawn_blocking(move || {
                            loglayer::info!(round = round, i = i, "scoped blocking");
                            assert!(i % 4 != 3, "blocking closure {i} panics");
                        })
                    })
                    .collect()
            })
            .await;
            for (i, handle) in scoped.into_iter().enumerate() {
                let result = handle.await;
                assert_eq!(result.is_err(), i % 4 == 3, "closure {i}: {result:?}");
            }
            let probes: Vec<_> = (0..16)
                .map(|_| tokio::task::spawn_blocking(|| loglayer::try_current().is_none()))
                .collect();
            for probe in probes {
                assert!(
                    probe.await.unwrap(),
                    "round {round}: stale logger on a blocking thread"
                );
            }
        }
    });
    assert_eq!(capture.len(), 10 * 8);
    assert!(capture.entries().iter().all(|e| e["request_id"] == "r-1"));
}

// ----------------------------------------------------------------------------
// loglayer::thread::spawn

#[test]
fn thread_spawn_carries_a_child_of_the_current_logger() {
    let capture = CaptureTransport::new();
    let parent = logger(&capture, json!({ "request_id": "r-1" }));
    let (release, released) = std::sync::mpsc::channel::<()>();

    let (now, late) = loglayer::sync_scope(parent.clone(), || {
        let p = parent.clone();
        let now = loglayer::thread::spawn(move || {
            check_child_and_extend(&p, "thread");
            loglayer::info!("in thread");
        });
        let p = parent.clone();
        let late = loglayer::thread::spawn(move || {
            released.recv().unwrap();
            check_child_and_extend(&p, "late_thread");
            loglayer::info!("late thread");
        });
        (now, late)
    });
    now.join().unwrap();
    assert!(loglayer::try_current().is_none());
    parent.with_context(json!({ "added_after_spawn": 1 }));
    release.send(()).unwrap();
    late.join().unwrap();
    parent.info("parent after threads");

    let thread = entry_with_msg(&capture, "in thread");
    assert_eq!(thread["request_id"], "r-1");
    assert_eq!(thread["thread"], true);
    let late = entry_with_msg(&capture, "late thread");
    assert_eq!(late["late_thread"], true);
    assert!(late.get("added_after_spawn").is_none());
    let after = entry_with_msg(&capture, "parent after threads");
    assert!(after.get("thread").is_none() && after.get("late_thread").is_none());

    // From inside an async scope too.
    let handle = futures::executor::block_on(loglayer::scope(parent.clone(), async {
        loglayer::thread::spawn(|| loglayer::info!(from = "async", "thread from async"))
    }));
    handle.join().unwrap();
    assert_eq!(
        entry_with_msg(&capture, "thread from async")["request_id"],
        "r-1"
    );
}

// ----------------------------------------------------------------------------
// Plain tokio::spawn / std::thread::spawn do not inherit.

#[test]
fn plain_spawns_do_not_inherit() {
    let capture = CaptureTransport::new();
    let parent = logger(&capture, json!({ "request_id": "r-1" }));

    for rt in [
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    ] {
        rt.block_on(loglayer::scope(parent.clone(), async {
            assert!(loglayer::try_current().is_some());
            let tasks: Vec<_> = (0..50)
                .map(|_| {
                    tokio::spawn(async {
                        let first = loglayer::try_current().is_none();
                        tokio::task::yield_now().await;
                        first && loglayer::try_current().is_none()
                    })
                })
                .collect();
            for task in tasks {
                assert!(
                    task.await.unwrap(),
                    "plain tokio::spawn inherited the logger"
                );
            }
            let blocking = tokio::task::spawn_blocking(|| loglayer::try_current().is_none());
            assert!(
                blocking.await.unwrap(),
                "plain spawn_blocking inherited the logger"
            );
        }));
    }

    loglayer::sync_scope(parent.clone(), || {
        let inherited = std::thread::spawn(|| loglayer::try_current().is_some())
            .join()
            .unwrap();
        assert!(!inherited, "std::thread::spawn inherited the logger");
    });
    assert!(capture.is_empty());
}

// ----------------------------------------------------------------------------
// The default logger (the only test that calls `set_default`).

#[test]
fn default_logger_outside_scopes_and_in_plain_spawns() {
    let default_capture = CaptureTransport::new();
    let default = logger(&default_capture, json!({ "logger": "default" }));
    let scoped_capture = CaptureTransport::new();
    let scoped = logger(&scoped_capture, json!({ "logger": "scoped" }));

    assert!(loglayer::try_current().is_none());
    assert!(!loglayer::current().ptr_eq(&default));
    loglayer::set_default(default.clone());
    assert!(
        loglayer::current().ptr_eq(&default),
        "set_default had no effect"
    );
    assert!(
        loglayer::try_current().is_none(),
        "set_default is not a scope"
    );

    loglayer::info!(marker = "outside", "marked");
    loglayer::sync_scope(scoped.clone(), || {
        assert!(loglayer::current().ptr_eq(&scoped));
        loglayer::info!(marker = "sync scope", "marked");
        std::thread::spawn(|| loglayer::info!(marker = "std thread", "marked"))
            .join()
            .unwrap();
        loglayer::thread::spawn(|| loglayer::info!(marker = "loglayer thread", "marked"))
            .join()
            .unwrap();
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(loglayer::scope(scoped.clone(), async {
        tokio::spawn(async { loglayer::info!(marker = "tokio spawn", "marked") })
            .await
            .unwrap();
        tokio::task::spawn_blocking(|| loglayer::info!(marker = "tokio blocking", "marked"))
            .await
            .unwrap();
        loglayer::spawn(async { loglayer::info!(marker = "loglayer spawn", "marked") })
            .await
            .unwrap();
        loglayer::spawn_blocking(|| loglayer::info!(marker = "loglayer blocking", "marked"))
            .await
            .unwrap();
    }));
    assert!(loglayer::try_current().is_none());

    let markers = |capture: &CaptureTransport, expect: &str| -> Vec<String> {
        capture
            .entries()
            .into_iter()
            .filter(|e| e["msg"] == "marked")
            .map(|e| {
                assert_eq!(e["logger"], expect, "{e}");
                e["marker"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    let mut on_default = markers(&default_capture, "default");
    on_default.sort();
    assert_eq!(
        on_default,
        ["outside", "std thread", "tokio blocking", "tokio spawn"]
    );
    let mut on_scoped = markers(&scoped_capture, "scoped");
    on_scoped.sort();
    assert_eq!(
        on_scoped,
        [
            "loglayer blocking",
            "loglayer spawn",
            "loglayer thread",
            "sync scope"
        ]
    );

    // A second set_default replaces the first.
    let other_capture = CaptureTransport::new();
    let other = logger(&other_capture, json!({ "logger": "other" }));
    loglayer::set_default(other.clone());
    assert!(loglayer::current().ptr_eq(&other));
    loglayer::info!(marker = "after second set_default", "marked");
    assert_eq!(
        markers(&other_capture, "other"),
        ["after second set_default"]
    );
    assert_eq!(markers(&default_capture, "default").len(), 4);
}

/// Many `loglayer::thread::spawn` at once from different scopes: each thread
/// sees its own scope's context.
#[test]
fn concurrent_thread_spawns_keep_their_own_logger() {
    let capture = CaptureTransport::new();
    let base = LogLayer::new(capture.clone());
    let barrier = Arc::new(Barrier::new(16));
    let handles: Vec<_> = (0..16_u64)
        .map(|i| {
            let own = base.child();
            own.with_context(json!({ "task": i }));
            let barrier = barrier.clone();
            loglayer::sync_scope(own, || {
                loglayer::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..10 {
                        loglayer::info!(me = i, "threaded");
                        std::thread::yield_now();
                    }
                })
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let entries = capture.entries();
    assert_eq!(entries.len(), 160);
    assert!(entries.iter().all(|e| e["task"] == e["me"]));
}
