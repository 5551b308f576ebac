//! What Node's `AsyncLocalStorage` offers, in loglayer's terms: one test (or
//! more) per verb of the table in the crate docs.

use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::{SinkExt, StreamExt};
use loglayer::transport::CaptureTransport;
use loglayer::{with_logger, LogLayer, WithLogger, WithLoggerStream};
use serde_json::json;

fn logger_with(capture: &CaptureTransport, key: &str, value: &str) -> LogLayer {
    let log = LogLayer::new(capture.clone());
    log.with_context(json!({ key: value }));
    log
}

// enterWith → replace_current

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replace_current_lasts_for_the_rest_of_the_scope_across_awaits() {
    let capture = CaptureTransport::new();
    let request = logger_with(&capture, "request_id", "r-1");
    loglayer::scope(request, async {
        loglayer::info!("before auth");
        let authed = loglayer::current().child();
        authed.with_context(json!({"user_id": 7}));
        loglayer::replace_current(authed).unwrap();
        tokio::task::yield_now().await;
        loglayer::info!("after auth");
        nested().await;
    })
    .await;
    async fn nested() {
        tokio::task::yield_now().await;
        loglayer::info!("nested");
    }
    let e = capture.entries();
    assert_eq!(e.len(), 3);
    assert!(e[0].get("user_id").is_none());
    for entry in &e[1..] {
        assert_eq!(
            (entry["user_id"].as_i64(), entry["request_id"].as_str()),
            (Some(7), Some("r-1"))
        );
    }
    assert!(loglayer::try_current().is_none(), "nothing stays behind");
}

#[test]
fn replace_current_ends_with_its_scope() {
    let capture = CaptureTransport::new();
    let outer = logger_with(&capture, "who", "outer");
    loglayer::sync_scope(outer, || {
        loglayer::sync_scope(loglayer::current().child(), || {
            loglayer::replace_current(logger_with(&capture, "who", "replaced")).unwrap();
            loglayer::info!("inner");
        });
        loglayer::info!("outer again");
    });
    let e = capture.entries();
    assert_eq!(
        (e[0]["who"].as_str(), e[1]["who"].as_str()),
        (Some("replaced"), Some("outer"))
    );
}

#[with_logger(context(step = "auth"))]
fn authenticate(capture: &CaptureTransport) {
    loglayer::replace_current(logger_with(capture, "user", "ada")).unwrap();
    loglayer::info!("authenticated");
}

#[test]
fn replace_current_inside_a_with_logger_fn_stays_inside_it() {
    let capture = CaptureTransport::new();
    loglayer::sync_scope(logger_with(&capture, "who", "caller"), || {
        authenticate(&capture);
        loglayer::info!("back in the caller");
    });
    let e = capture.entries();
    assert_eq!(e[0]["user"], "ada");
    assert_eq!(e[1]["who"], "caller");
    assert!(e[1].get("user").is_none());
}

#[test]
fn replace_current_outside_every_scope_is_an_error_and_changes_nothing() {
    let err = loglayer::replace_current(LogLayer::new(CaptureTransport::new())).unwrap_err();
    assert!(err.to_string().contains("no scope"), "{err}");
    assert!(loglayer::try_current().is_none());
}

// exit → unscoped / sync_unscoped

#[tokio::test]
async fn unscoped_work_has_no_scope_and_the_scope_returns_after() {
    let capture = CaptureTransport::new();
    loglayer::scope(logger_with(&capture, "request_id", "r-2"), async {
        let seen = loglayer::unscoped(async {
            tokio::task::yield_now().await;
            loglayer::try_current().is_none()
        })
        .await;
        assert!(seen, "an unscoped future sees no scope");
        let seen = async { loglayer::try_current().is_none() }
            .without_logger()
            .await;
        assert!(seen);
        assert!(loglayer::sync_unscoped(|| loglayer::try_current().is_none()));
        loglayer::info!("still in the request");
    })
    .await;
    assert_eq!(capture.entries()[0]["request_id"], "r-2");
}

// bind / snapshot

#[test]
fn bind_runs_a_closure_later_on_another_thread_with_the_logger_of_its_creation() {
    let capture = CaptureTransport::new();
    let job = loglayer::sync_scope(logger_with(&capture, "request_id", "r-3"), || {
        loglayer::bind(|| {
            loglayer::info!("callback");
            7
        })
    });
    let n = std::thread::spawn(job).join().unwrap();
    assert_eq!(n, 7);
    assert_eq!(capture.entries()[0]["request_id"], "r-3");
}

#[test]
fn a_snapshot_runs_many_closures_in_parallel_in_its_scope() {
    let capture = CaptureTransport::new();
    let snap = loglayer::sync_scope(logger_with(&capture, "batch", "b-1"), loglayer::snapshot);
    assert!(snap.logger().is_some());
    std::thread::scope(|s| {
        for i in 0..4 {
            let snap = &snap;
            s.spawn(move || snap.run(|| loglayer::info!(i, "item")));
        }
    });
    let e = capture.entries();
    assert_eq!(e.len(), 4);
    assert!(e.iter().all(|e| e["batch"] == "b-1"));
    assert!(loglayer::try_current().is_none());
    futures::executor::block_on(snap.scope(async { loglayer::info!("async") }));
    assert_eq!(capture.len(), 5);
}

// Streams and sinks

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_handed_out_of_a_handler_logs_in_the_handlers_scope() {
    let capture = CaptureTransport::new();
    let handler = || async {
        futures::stream::iter(0..3)
            .then(|i| async move {
                tokio::task::yield_now().await;
                loglayer::info!(i, "event");
                i
            })
            .with_current_logger()
    };
    let body = loglayer::scope(logger_with(&capture, "request_id", "r-4"), handler()).await;
    // Polled after the handler returned, on another task.
    let items: Vec<i32> = tokio::spawn(body.collect()).await.unwrap();
    assert_eq!(items, [0, 1, 2]);
    let e = capture.entries();
    assert_eq!(e.len(), 3);
    assert!(e.iter().all(|e| e["request_id"] == "r-4"));
}

/// A duplex connection: a stream of replies and a sink of requests, logging
/// in both halves.
struct Duplex {
    queue: VecDeque<u32>,
}

impl futures::Stream for Duplex {
    type Item = u32;
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<u32>> {
        let next = self.queue.pop_front();
        loglayer::info!(item = ?next, "read");
        Poll::Ready(next)
    }
}

impl futures::Sink<u32> for Duplex {
    type Error = std::convert::Infallible;
    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn start_send(mut self: Pin<&mut Self>, item: u32) -> Result<(), Self::Error> {
        loglayer::info!(item, "write");
        self.queue.push_back(item * 10);
        Ok(())
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn a_sink_and_stream_log_in_the_scope() {
    let capture = CaptureTransport::new();
    let mut conn = Duplex {
        queue: VecDeque::new(),
    }
    .with_logger(logger_with(&capture, "conn", "c-1"));
    futures::executor::block_on(async {
        conn.send(4).await.unwrap();
        assert_eq!(conn.next().await, Some(40));
    });
    let e = capture.entries();
    assert_eq!(capture.messages(), ["write", "read"]);
    assert!(e.iter().all(|e| e["conn"] == "c-1"));
}

// spawn_local and scoped threads

#[tokio::test]
async fn spawn_local_carries_a_child_of_the_current_logger() {
    let capture = CaptureTransport::new();
    let local = tokio::task::LocalSet::new();
    let log = logger_with(&capture, "request_id", "r-5");
    local
        .run_until(loglayer::scope(log.clone(), async {
            let not_send = Rc::new(3);
            loglayer::spawn_local(async move {
                loglayer::current().with_context(json!({"task_only": true}));
                loglayer::info!(n = *not_send, "local task");
            })
            .await
            .unwrap();
            loglayer::info!("parent");
        }))
        .await;
    let e = capture.entries();
    assert_eq!(e[0]["request_id"], "r-5");
    assert_eq!(e[0]["n"], 3);
    assert!(
        e[1].get("task_only").is_none(),
        "a child, not the parent itself"
    );
}

#[test]
fn scoped_threads_carry_a_child_of_the_current_logger() {
    let capture = CaptureTransport::new();
    let counter = Mutex::new(0);
    loglayer::sync_scope(logger_with(&capture, "job", "j-1"), || {
        loglayer::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    *counter.lock().unwrap() += 1;
                    loglayer::info!("scope thread");
                });
            }
        });
        std::thread::scope(|s| {
            loglayer::thread::spawn_scoped(s, || loglayer::info!("spawn_scoped"));
            // std's own spawn does not carry it.
            s.spawn(|| assert!(loglayer::try_current().is_none()));
        });
    });
    assert_eq!(*counter.lock().unwrap(), 2);
    let e = capture.entries();
    assert_eq!(e.len(), 3);
    assert!(e.iter().all(|e| e["job"] == "j-1"));
}

// Outside every scope, carried work follows the default logger.

#[tokio::test]
async fn work_started_outside_every_scope_follows_a_later_set_default() {
    let (first, second) = (CaptureTransport::new(), CaptureTransport::new());
    loglayer::set_default(LogLayer::new(first.clone()));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = loglayer::spawn(async move {
        rx.await.unwrap();
        loglayer::info!("from the task");
    });
    let later = async { loglayer::info!("from with_current_logger") }.with_current_logger();
    let bound = loglayer::bind(|| loglayer::info!("from bind"));
    let thread_gate = Arc::new(std::sync::Barrier::new(2));
    let gate = thread_gate.clone();
    let thread = loglayer::thread::spawn(move || {
        gate.wait();
        loglayer::info!("from the thread");
    });

    loglayer::set_default(LogLayer::new(second.clone()));
    tx.send(()).unwrap();
    task.await.unwrap();
    later.await;
    bound();
    thread_gate.wait();
    thread.join().unwrap();

    assert_eq!(first.len(), 0, "{:?}", first.messages());
    let mut got = second.messages();
    got.sort();
    assert_eq!(
        got,
        [
            "from bind",
            "from the task",
            "from the thread",
            "from with_current_logger"
        ]
    );
}
