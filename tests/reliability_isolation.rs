//! Context isolation beyond tests/scope.rs (RELIABILITY.md, "Context
//! isolation"): nested async scopes restore the outer logger also when the
//! inner one panics and the panic is caught (inside an async scope, on a
//! multi-thread runtime, many tasks at once).

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use loglayer::transport::CaptureTransport;
use loglayer::LogLayer;
use serde_json::json;

fn named(capture: &CaptureTransport, name: &str) -> LogLayer {
    let l = LogLayer::new(capture.clone());
    l.with_context(json!({ "logger": name }));
    l
}

/// Three levels of scopes; the two inner ones panic (async and sync) and the
/// panics are caught at each level; the outer logger is back every time.
async fn nested_panics(capture: CaptureTransport, id: usize) {
    let outer = named(&capture, &format!("outer-{id}"));
    let middle = named(&capture, &format!("middle-{id}"));
    let inner = named(&capture, &format!("inner-{id}"));
    let o2 = outer.clone();
    loglayer::scope(outer.clone(), async move {
        loglayer::info!(expect = format!("outer-{id}"), "before");
        let m2 = middle.clone();
        let caught = AssertUnwindSafe(loglayer::scope(middle.clone(), async move {
            loglayer::info!(expect = format!("middle-{id}"), "middle");
            let caught = AssertUnwindSafe(loglayer::scope(inner.clone(), async {
                tokio::task::yield_now().await;
                loglayer::info!(expect = format!("inner-{id}"), "inner");
                panic!("intentional: inner async scope panics");
            }))
            .catch_unwind()
            .await;
            assert!(caught.is_err());
            assert!(
                loglayer::current().ptr_eq(&m2),
                "middle restored after inner panic"
            );
            let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
                loglayer::sync_scope(inner.clone(), || {
                    panic!("intentional: inner sync scope panics")
                })
            }));
            assert!(caught.is_err());
            assert!(
                loglayer::current().ptr_eq(&m2),
                "middle restored after sync panic"
            );
            tokio::task::yield_now().await;
            loglayer::info!(expect = format!("middle-{id}"), "middle again");
            panic!("intentional: middle scope panics too");
        }))
        .catch_unwind()
        .await;
        assert!(caught.is_err());
        assert!(
            loglayer::current().ptr_eq(&o2),
            "outer restored after middle panic"
        );
        tokio::task::yield_now().await;
        assert!(
            loglayer::current().ptr_eq(&o2),
            "outer still current after a yield"
        );
        loglayer::info!(expect = format!("outer-{id}"), "after");
    })
    .await;
    assert!(
        loglayer::try_current().is_none(),
        "nothing left after the outer scope"
    );
}

fn check(capture: &CaptureTransport, tasks: usize) {
    let entries = capture.entries();
    assert_eq!(entries.len(), tasks * 5, "every entry written once");
    for e in entries {
        assert_eq!(e["logger"], e["expect"], "{e}");
    }
}

#[test]
fn nested_scopes_restore_the_outer_logger_when_an_inner_one_panics_and_is_caught() {
    let capture = CaptureTransport::new();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(nested_panics(capture.clone(), 0));
    futures::executor::block_on(async {
        // A different executor: tokio's yield_now works on any executor.
        nested_panics(capture.clone(), 1).await
    });
    check(&capture, 2);
}

#[test]
fn many_tasks_with_panicking_nested_scopes_stay_isolated_under_work_stealing() {
    const TASKS: usize = 500;
    let capture = CaptureTransport::new();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    rt.block_on(async {
        let handles: Vec<_> = (0..TASKS)
            .map(|id| tokio::spawn(nested_panics(capture.clone(), id)))
            .collect();
        for h in handles {
            h.await.expect("a task failed an isolation check");
        }
        for _ in 0..32 {
            tokio::spawn(async { assert!(loglayer::try_current().is_none()) })
                .await
                .unwrap();
        }
    });
    check(&capture, TASKS);
}
