//! A stress test of the scope beyond the happy path (RELIABILITY.md,
//! "Context isolation"; SPEC: "isolation is absolute").
//!
//! Many tasks on a multi-thread tokio runtime, each in the scope of its own
//! logger (context `task` = its id), go through rounds that mix:
//! `select!` cancellation of a scoped future, `abort()` of a scoped task,
//! `block_in_place`, plain `spawn_blocking` and `loglayer::spawn_blocking`,
//! plain `tokio::spawn` and `loglayer::spawn`, `LocalSet` tasks, panics
//! caught inside the task and panics that kill a spawned task, and
//! yields/sleeps in between. After every step the task checks that
//! `try_current()` is still its own logger; fresh plain tasks and blocking
//! closures check that they see no logger at all; every entry written
//! carries the context of the task that claims it.
//!
//! Size: `LOGLAYER_STRESS_TASKS` tasks (default 256: about a second in a debug
//! build), `LOGLAYER_STRESS_ROUNDS` rounds each (default 4). CI runs the
//! default as part of `cargo test --workspace`; a soak run is e.g.
//! `LOGLAYER_STRESS_TASKS=5000 LOGLAYER_STRESS_ROUNDS=20 cargo test --release --test reliability_stress`.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use futures::FutureExt;
use loglayer::transport::CaptureTransport;
use loglayer::{LogLayer, WithLogger};
use serde_json::{json, Value};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Silences the panics this test raises on purpose (their payload starts with
/// "intentional"); any other panic is reported as usual.
fn quiet_intentional_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            if !payload.starts_with("intentional") {
                previous(info);
            }
        }));
    });
}

/// Fails the test unless the current logger is exactly `me`.
#[track_caller]
fn assert_mine(me: &LogLayer, step: &str) {
    match loglayer::try_current() {
        Some(l) if l.ptr_eq(me) => {}
        Some(l) => panic!(
            "step {step}: saw another task's logger {:?}",
            l.get_context()
        ),
        None => panic!("step {step}: lost the task's logger"),
    }
}

/// Fails the test if the current thread has any logger.
#[track_caller]
fn assert_none(step: &str) {
    if let Some(l) = loglayer::try_current() {
        panic!("step {step}: a stale logger {:?}", l.get_context());
    }
}

/// A logger whose context names its owner.
fn owned_logger(capture: &CaptureTransport, owner: &str) -> LogLayer {
    let l = LogLayer::new(capture.clone());
    l.with_context(json!({ "task": owner }));
    l
}

/// One round of every kind of step for task `id`, whose logger is `me`.
async fn round(id: usize, round: usize, me: &LogLayer, foreign: &CaptureTransport) {
    let tag = id.to_string();
    let claim = |step: &str| loglayer::info!(claimed = tag, step = step, round = round, "step");

    // 1. yield and sleep.
    tokio::task::yield_now().await;
    assert_mine(me, "yield");
    tokio::time::sleep(Duration::from_micros((id % 7) as u64 * 50)).await;
    assert_mine(me, "sleep");
    claim("sleep");

    // 2. select!: a scoped future of another logger is cancelled mid-way.
    let other = owned_logger(foreign, &format!("select-{id}"));
    let o2 = other.clone();
    tokio::select! {
        _ = loglayer::scope(other.clone(), async move {
            loop {
                assert_mine(&o2, "inside select branch");
                tokio::task::yield_now().await;
            }
        }) => unreachable!(),
        _ = tokio::time::sleep(Duration::from_micros(200)) => {}
    }
    assert_mine(me, "select");
    claim("select");

    // 3. abort(): a scoped task of another logger is aborted while pending.
    let other = owned_logger(foreign, &format!("abort-{id}"));
    let o2 = other.clone();
    let handle = tokio::spawn(
        async move {
            loop {
                assert_mine(&o2, "inside aborted task");
                tokio::time::sleep(Duration::from_micros(100)).await;
            }
        }
        .with_logger(other),
    );
    tokio::task::yield_now().await;
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    assert_mine(me, "abort");
    claim("abort");

    // 4. block_in_place: the closure runs on this thread, in this scope.
    tokio::task::block_in_place(|| {
        assert_mine(me, "inside block_in_place");
        claim("block_in_place");
    });
    assert_mine(me, "block_in_place");

    // 5. plain spawn_blocking: the pool thread has no logger.
    tokio::task::spawn_blocking(|| assert_none("plain spawn_blocking"))
        .await
        .unwrap();
    // loglayer::spawn_blocking: a child of this task's logger.
    let tag2 = tag.clone();
    let me2 = me.clone();
    loglayer::spawn_blocking(move || {
        let l = loglayer::try_current().expect("spawn_blocking carries the logger");
        assert!(!l.ptr_eq(&me2), "a child, not the same handle");
        assert_eq!(l.get_context()["task"], tag2.as_str());
        loglayer::info!(claimed = tag2, step = "spawn_blocking", "step");
    })
    .await
    .unwrap();
    assert_mine(me, "spawn_blocking");

    // 6. plain tokio::spawn sees nothing; loglayer::spawn sees a child.
    tokio::spawn(async {
        assert_none("plain spawn");
        tokio::task::yield_now().await;
        assert_none("plain spawn after yield");
    })
    .await
    .unwrap();
    let tag3 = tag.clone();
    loglayer::spawn(async move {
        tokio::task::yield_now().await;
        loglayer::info!(claimed = tag3, step = "spawn", "step");
    })
    .await
    .unwrap();
    assert_mine(me, "spawn");

    // 7. a panic inside a nested scope, caught inside this task.
    let other = owned_logger(foreign, &format!("panic-{id}"));
    let caught = AssertUnwindSafe(loglayer::scope(other, async {
        tokio::task::yield_now().await;
        panic!("intentional panic in a nested scope");
    }))
    .catch_unwind()
    .await;
    assert!(caught.is_err());
    assert_mine(me, "caught panic");
    // A sync_scope that panics, caught.
    let other = owned_logger(foreign, &format!("sync-panic-{id}"));
    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
        loglayer::sync_scope(other, || panic!("intentional panic in sync_scope"))
    }));
    assert!(caught.is_err());
    assert_mine(me, "caught sync panic");

    // 8. a spawned scoped task that panics (the worker must be left clean).
    let other = owned_logger(foreign, &format!("task-panic-{id}"));
    let err = tokio::spawn(
        async {
            tokio::task::yield_now().await;
            panic!("intentional panic in a spawned task");
        }
        .with_logger(other),
    )
    .await
    .unwrap_err();
    assert!(err.is_panic());
    assert_mine(me, "task panic");
    claim("end of round");
}

/// Runs `n` scoped tasks on a `LocalSet` (on a blocking-pool thread, driven
/// by the multi-thread runtime's handle), with the same kinds of checks.
fn local_set_tasks(
    handle: tokio::runtime::Handle,
    capture: CaptureTransport,
    foreign: CaptureTransport,
    base: usize,
    n: usize,
) {
    assert_none("blocking thread before LocalSet");
    let local = tokio::task::LocalSet::new();
    handle.block_on(local.run_until(async move {
        let mut handles = Vec::new();
        for i in 0..n {
            let id = base + i;
            let me = owned_logger(&capture, &id.to_string());
            let foreign = foreign.clone();
            let me2 = me.clone();
            handles.push(tokio::task::spawn_local(
                async move {
                    for r in 0..3 {
                        tokio::task::yield_now().await;
                        assert_mine(&me2, "local yield");
                        let other = owned_logger(&foreign, &format!("local-{id}"));
                        tokio::select! {
                            _ = loglayer::scope(other, std::future::pending::<()>()) => {}
                            _ = tokio::task::yield_now() => {}
                        }
                        assert_mine(&me2, "local select");
                        loglayer::info!(
                            claimed = id.to_string(),
                            step = "local",
                            round = r,
                            "step"
                        );
                    }
                }
                .with_logger(me),
            ));
            // A plain local task sees nothing.
            handles.push(tokio::task::spawn_local(async {
                assert_none("plain local task");
                tokio::task::yield_now().await;
                assert_none("plain local task after yield");
            }));
        }
        for h in handles {
            h.await.expect("local task");
        }
    }));
    assert_none("blocking thread after LocalSet");
}

#[test]
fn scope_stress_each_task_sees_only_its_own_logger_and_threads_keep_none() {
    quiet_intentional_panics();
    let tasks = env_usize("LOGLAYER_STRESS_TASKS", 256).max(1);
    let rounds = env_usize("LOGLAYER_STRESS_ROUNDS", 4).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .max_blocking_threads(16)
        .enable_all()
        .build()
        .unwrap();
    let capture = CaptureTransport::new();
    let foreign = CaptureTransport::new();
    let done = Arc::new(AtomicUsize::new(0));

    rt.block_on(async {
        let mut handles = Vec::new();
        for id in 0..tasks {
            let me = owned_logger(&capture, &id.to_string());
            let foreign = foreign.clone();
            let done = done.clone();
            let me2 = me.clone();
            handles.push(tokio::spawn(
                async move {
                    for r in 0..rounds {
                        round(id, r, &me2, &foreign).await;
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
                .with_logger(me),
            ));
        }
        // LocalSet tasks on blocking-pool threads, alongside.
        let local_n = (tasks / 4).max(2);
        let mut locals = Vec::new();
        for k in 0..2 {
            let (h, c, f) = (
                tokio::runtime::Handle::current(),
                capture.clone(),
                foreign.clone(),
            );
            locals.push(tokio::task::spawn_blocking(move || {
                local_set_tasks(h, c, f, tasks + k * local_n, local_n)
            }));
        }
        for h in handles {
            h.await
                .expect("a task failed a check (see its panic above)");
        }
        for h in locals {
            h.await.expect("a LocalSet task failed a check");
        }
        // Every worker and blocking thread is left with no logger.
        let mut probes = Vec::new();
        for _ in 0..64 {
            probes.push(tokio::spawn(async {
                assert_none("probe task");
                tokio::task::yield_now().await;
                assert_none("probe task after yield");
            }));
            probes.push(tokio::task::spawn_blocking(|| {
                assert_none("probe blocking")
            }));
        }
        for p in probes {
            p.await.unwrap();
        }
    });
    assert_eq!(done.load(Ordering::SeqCst), tasks);

    // Every entry carries the context of the task that wrote it.
    let entries = capture.entries();
    let per_task_round = 7; // sleep, select, abort, block_in_place, spawn_blocking, spawn, end
    assert!(
        entries.len() >= tasks * rounds * per_task_round,
        "{}",
        entries.len()
    );
    for e in &entries {
        assert_eq!(
            e["task"], e["claimed"],
            "an entry with another task's context: {e}"
        );
    }
    // Foreign loggers never logged into the tasks' capture, and vice versa.
    for e in foreign.entries() {
        let owner = e["task"].as_str().unwrap_or_default().to_owned();
        assert!(owner.contains('-'), "{e}");
        assert_eq!(e.get("claimed"), None::<&Value>, "{e}");
    }
}
