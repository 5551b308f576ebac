//! Fingers-crossed buffering (`FingersCrossed`, `LogLayer::fingers_crossed`,
//! `RequestLoggerLayer::fingers_crossed`): entries below the levels wait in a
//! bounded per-scope buffer and are written — first, in order, with their
//! times, marked `"buffered": true` — only when the scope fails. Through the
//! public API, then over real HTTP on loopback (axum server, hyper client).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use http::StatusCode;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use loglayer::tower::RequestLoggerLayer;
use loglayer::transport::{CaptureTransport, Transport};
use loglayer::{Entry, FingersCrossed, Level, LogLayer};
use serde_json::{json, Value};
use tokio::sync::Barrier;

/// A hang detector, not a timing assertion.
const WAIT: Duration = Duration::from_secs(20);

fn base_at_info() -> (LogLayer, CaptureTransport) {
    let capture = CaptureTransport::new();
    let base = LogLayer::builder()
        .transport(capture.clone())
        .level(Level::Info)
        .build();
    (base, capture)
}

fn debug_buffer() -> FingersCrossed {
    FingersCrossed::new(Level::Debug)
}

fn buffered(e: &Value) -> bool {
    e.get("buffered") == Some(&Value::Bool(true))
}

// ---------------------------------------------------------------------------
// Through the public API
// ---------------------------------------------------------------------------

#[test]
fn a_failing_scope_writes_its_buffered_entries_first_in_order_and_marked() {
    let (base, capture) = base_at_info();
    let job = base.fingers_crossed(debug_buffer());
    job.debug("one");
    job.with_metadata(json!({"rows": 3})).debug("two");
    job.info("written at once");
    job.trace("below the buffer: dropped");
    assert_eq!(capture.messages(), ["written at once"]);
    assert_eq!(job.buffer_stats().unwrap().held, 2);

    job.with_error(&std::io::Error::other("disk full"))
        .error("save failed");
    assert_eq!(
        capture.messages(),
        ["written at once", "one", "two", "save failed"]
    );
    let e = capture.entries();
    assert!(!buffered(&e[0]), "{}", e[0]);
    assert!(buffered(&e[1]) && buffered(&e[2]), "{e:?}");
    assert_eq!(e[2]["rows"], 3);
    assert_eq!(e[1]["level"], "debug");
    assert!(!buffered(&e[3]), "the trigger is not marked: {}", e[3]);
    assert_eq!(e[3]["err"]["message"], "disk full");
    let stats = job.buffer_stats().unwrap();
    assert!(stats.triggered);
    assert_eq!((stats.held, stats.dropped), (0, 0));
}

/// Records each entry's `time` and message exactly as the pipeline gives it.
#[derive(Clone, Default)]
struct Times(Arc<Mutex<Vec<(String, SystemTime)>>>);

impl Transport for Times {
    fn write(&self, entry: &Entry<'_>) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap()
            .push((entry.message().to_owned(), entry.time()));
        Ok(())
    }
}

#[test]
fn buffered_entries_keep_the_time_of_their_call() {
    let times = Times::default();
    let base = LogLayer::builder()
        .transport(times.clone())
        .level(Level::Info)
        .build();
    let job = base.fingers_crossed(debug_buffer());
    job.debug("early");
    let between = SystemTime::now();
    std::thread::sleep(Duration::from_millis(2));
    job.error("late");
    let got = times.0.lock().unwrap().clone();
    assert_eq!(got[0].0, "early");
    assert!(got[0].1 <= between, "the call's time, not the release's");
    assert!(got[1].1 > between);
}

#[test]
fn a_scope_that_ends_without_a_trigger_writes_nothing_of_its_buffer() {
    let (base, capture) = base_at_info();
    let job = base.fingers_crossed(debug_buffer());
    for i in 0..10 {
        job.debug(format_args!("detail {i}"));
    }
    job.warn("slow, but fine");
    drop(job);
    base.error("another scope fails");
    assert_eq!(
        capture.messages(),
        ["slow, but fine", "another scope fails"]
    );
}

#[test]
fn after_the_trigger_entries_down_to_the_buffer_level_pass_through_unmarked() {
    let (base, capture) = base_at_info();
    let job = base.fingers_crossed(debug_buffer());
    job.debug("before");
    job.error("boom");
    job.debug("after");
    job.trace("below the buffer level");
    assert_eq!(capture.messages(), ["before", "boom", "after"]);
    assert!(!buffered(&capture.entries()[2]));
}

#[test]
fn overflow_drops_the_oldest_and_counts_them() {
    let (base, capture) = base_at_info();
    let before = FingersCrossed::dropped_total();
    let job = base.fingers_crossed(debug_buffer().capacity(3));
    for i in 0..10 {
        job.debug(format_args!("step {i}"));
    }
    let stats = job.buffer_stats().unwrap();
    assert_eq!((stats.held, stats.dropped), (3, 7));
    assert!(FingersCrossed::dropped_total() >= before + 7);

    assert_eq!(job.release_buffered(), 3);
    assert_eq!(capture.messages(), ["step 7", "step 8", "step 9"]);
    let e = capture.entries();
    assert_eq!(e[0]["buffer_dropped"], 7);
    assert!(e[1].get("buffer_dropped").is_none());
}

#[test]
fn children_prefixed_children_and_with_logger_scopes_share_the_buffer() {
    let (base, capture) = base_at_info();
    let job = base.fingers_crossed(debug_buffer());
    job.with_context(json!({"job": 7}));
    job.debug("parent");
    job.child().debug("child");
    job.with_prefix("[db]").debug("prefixed");
    loglayer::sync_scope(job.clone(), || {
        loglayer::debug!("macro");
        nested_fn();
    });
    assert!(capture.is_empty());
    job.child().error("a child fails");
    assert_eq!(
        capture.messages(),
        [
            "parent",
            "child",
            "[db] prefixed",
            "macro",
            "nested",
            "a child fails"
        ]
    );
    let e = capture.entries();
    assert!(e[..5].iter().all(buffered), "{e:?}");
    assert!(e.iter().all(|e| e["job"] == 7), "{e:?}");
    assert_eq!(e[4]["step"], "nested");
}

#[loglayer::with_logger(context(step = "nested"))]
fn nested_fn() {
    log!(debug, "nested");
}

#[test]
fn a_nested_buffer_is_its_own() {
    let (base, capture) = base_at_info();
    let outer = base.fingers_crossed(debug_buffer());
    outer.debug("outer detail");
    let inner = outer.fingers_crossed(debug_buffer());
    inner.debug("inner detail");
    inner.error("inner fails");
    assert_eq!(capture.messages(), ["inner detail", "inner fails"]);
    outer.error("outer fails");
    assert_eq!(
        capture.messages(),
        ["inner detail", "inner fails", "outer detail", "outer fails"]
    );
}

#[test]
fn a_logger_built_with_a_buffer_and_a_custom_trigger() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .level(Level::Error)
        .fingers_crossed(FingersCrossed::new(Level::Info).trigger(Level::Warn))
        .build();
    log.debug("below the buffer");
    log.info("kept");
    assert!(capture.is_empty());
    log.warn("triggers, and is written although below error");
    assert_eq!(
        capture.messages(),
        ["kept", "triggers, and is written although below error"]
    );
}

#[test]
fn logging_off_buffers_nothing() {
    let (base, capture) = base_at_info();
    let job = base.fingers_crossed(debug_buffer());
    job.disable_logging();
    job.debug("off");
    assert_eq!(job.buffer_stats().unwrap().held, 0);
    job.enable_logging();
    job.error("on");
    assert_eq!(capture.messages(), ["on"]);
}

#[test]
fn macros_see_buffered_levels_as_enabled_and_others_not() {
    let (base, _capture) = base_at_info();
    let job = base.fingers_crossed(debug_buffer());
    assert!(job.is_level_enabled(Level::Debug));
    assert!(!job.is_level_enabled(Level::Trace));
    assert!(!base.is_level_enabled(Level::Debug));
    let evaluated = std::cell::Cell::new(0);
    let count = || {
        evaluated.set(evaluated.get() + 1);
        1
    };
    loglayer::sync_scope(job, || {
        loglayer::debug!(n = count(), "buffered");
        loglayer::trace!(n = count(), "not evaluated");
    });
    assert_eq!(evaluated.get(), 1);
}

#[test]
fn released_entries_go_through_the_plugins() {
    let capture = CaptureTransport::new();
    let base = LogLayer::builder()
        .transport(capture.clone())
        .level(Level::Info)
        .plugin(loglayer::plugin::Redact::new().keys(["password"]))
        .build();
    let job = base.fingers_crossed(debug_buffer());
    job.with_metadata(json!({"password": "hunter2"}))
        .debug("login");
    job.error("failed");
    let e = &capture.entries()[0];
    assert!(buffered(e));
    assert_ne!(e["password"], "hunter2", "{e}");
}

#[test]
fn threads_logging_while_another_triggers_lose_and_repeat_nothing() {
    let (base, capture) = base_at_info();
    let job = base.fingers_crossed(debug_buffer().capacity(100_000));
    const THREADS: usize = 4;
    const PER_THREAD: usize = 500;
    let start = Arc::new(std::sync::Barrier::new(THREADS + 1));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (job, start) = (job.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 0..PER_THREAD {
                    job.debug(format_args!("{t}-{i}"));
                }
            })
        })
        .collect();
    start.wait();
    job.error("trigger");
    for h in handles {
        h.join().unwrap();
    }
    let entries = capture.entries();
    let unique: HashSet<_> = entries.iter().map(|e| e["msg"].to_string()).collect();
    assert_eq!(entries.len(), THREADS * PER_THREAD + 1);
    assert_eq!(unique.len(), entries.len());
    // Each thread's buffered entries come out in order, its later (direct)
    // ones too, and every buffered one was logged before every direct one.
    // (Entries written directly while the buffer is being written may land
    // among the released ones: only that interleaving is free.)
    for t in 0..THREADS {
        let prefix = format!("{t}-");
        let (mut held, mut direct) = (Vec::new(), Vec::new());
        for e in &entries {
            if let Some(i) = e["msg"].as_str().unwrap().strip_prefix(&prefix) {
                let i: usize = i.parse().unwrap();
                if buffered(e) {
                    held.push(i)
                } else {
                    direct.push(i)
                }
            }
        }
        assert!(held.windows(2).all(|w| w[0] < w[1]), "thread {t}: {held:?}");
        assert!(
            direct.windows(2).all(|w| w[0] < w[1]),
            "thread {t}: {direct:?}"
        );
        if let (Some(last), Some(first)) = (held.last(), direct.first()) {
            assert!(last < first, "thread {t}: {held:?} then {direct:?}");
        }
    }
}

/// A transport that logs through the logger it serves, while it writes.
struct LogsWhileWriting {
    logger: Mutex<Option<LogLayer>>,
    capture: CaptureTransport,
}

impl Transport for LogsWhileWriting {
    fn write(&self, entry: &Entry<'_>) -> std::io::Result<()> {
        self.capture.write(entry)?;
        let logger = self.logger.lock().unwrap().clone();
        if let Some(logger) = logger {
            logger.debug("from inside the transport");
            logger.error("error from inside the transport");
        }
        Ok(())
    }
}

#[test]
fn a_transport_that_logs_while_the_buffer_is_written_neither_deadlocks_nor_panics() {
    let t = Arc::new(LogsWhileWriting {
        logger: Mutex::new(None),
        capture: CaptureTransport::new(),
    });
    let base = LogLayer::builder()
        .transport(t.clone())
        .level(Level::Info)
        .build();
    let job = base.fingers_crossed(debug_buffer());
    *t.logger.lock().unwrap() = Some(job.clone());
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        job.debug("buffered");
        job.error("trigger");
        done.send(()).unwrap();
    });
    finished.recv_timeout(WAIT).expect("no deadlock");
    worker.join().unwrap();
    *t.logger.lock().unwrap() = None;
    assert_eq!(t.capture.messages()[0], "buffered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_tasks_share_the_buffer_of_their_scope() {
    let (base, capture) = base_at_info();
    let job = base.fingers_crossed(debug_buffer());
    loglayer::scope(job.clone(), async {
        loglayer::debug!("before spawn");
        loglayer::spawn(async {
            tokio::task::yield_now().await;
            loglayer::debug!("in spawned task");
        })
        .await
        .unwrap();
        loglayer::spawn_blocking(|| loglayer::debug!("in blocking task"))
            .await
            .unwrap();
    })
    .await;
    assert!(capture.is_empty());
    loglayer::scope(job, async {
        loglayer::spawn(async { loglayer::error!("spawned task fails") })
            .await
            .unwrap();
    })
    .await;
    assert_eq!(
        capture.messages(),
        [
            "before spawn",
            "in spawned task",
            "in blocking task",
            "spawned task fails"
        ]
    );
}

// ---------------------------------------------------------------------------
// Over HTTP, with RequestLoggerLayer::fingers_crossed
// ---------------------------------------------------------------------------

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

#[derive(serde::Deserialize)]
struct Ask {
    /// The status to answer.
    status: u16,
    /// Log an error entry (but answer `status`).
    #[serde(default)]
    log_error: bool,
    /// Wait at the barrier first (to be in flight with other requests).
    #[serde(default)]
    together: bool,
}

/// Logs debug lines from the handler, a nested `#[with_logger]` fn and a
/// spawned task, then an info line, and answers the status asked for.
async fn work(State(barrier): State<Arc<Barrier>>, Query(ask): Query<Ask>) -> StatusCode {
    if ask.together {
        barrier.wait().await;
    }
    loglayer::debug!(status = ask.status, "handler detail");
    nested_http().await;
    loglayer::spawn(async {
        tokio::task::yield_now().await;
        loglayer::debug!("spawned detail");
    })
    .await
    .expect("spawned task");
    loglayer::info!("handler done");
    if ask.log_error {
        loglayer::error!("handler saw an error");
    }
    StatusCode::from_u16(ask.status).expect("status")
}

#[loglayer::with_logger(context(step = "nested"))]
async fn nested_http() {
    tokio::task::yield_now().await;
    log!(debug, "nested detail");
}

async fn start(base: LogLayer, together: usize) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = Router::new()
        .route("/work", get(work))
        .with_state(Arc::new(Barrier::new(together.max(1))))
        .layer(RequestLoggerLayer::new(base).fingers_crossed(debug_buffer()));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    addr
}

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn get_status(client: &HttpClient, addr: SocketAddr, query: &str, id: &str) -> u16 {
    let req = http::Request::get(format!("http://{addr}/work?{query}"))
        .header("x-request-id", id)
        .body(Empty::new())
        .unwrap();
    let res = tokio::time::timeout(WAIT, client.request(req))
        .await
        .expect("no hang")
        .expect("response");
    let status = res.status().as_u16();
    res.into_body().collect().await.expect("body");
    status
}

fn lines_of(capture: &CaptureTransport, id: &str) -> Vec<Value> {
    capture
        .entries()
        .into_iter()
        .filter(|e| e["request_id"] == id)
        .collect()
}

fn messages(lines: &[Value]) -> Vec<&str> {
    lines.iter().map(|e| e["msg"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_request_writes_its_debug_lines_before_the_error_a_succeeding_one_none() {
    let (base, capture) = base_at_info();
    let addr = start(base, 1).await;
    let client = client();

    assert_eq!(get_status(&client, addr, "status=200", "ok").await, 200);
    assert_eq!(
        messages(&lines_of(&capture, "ok")),
        ["handler done", "request completed"]
    );

    assert_eq!(get_status(&client, addr, "status=503", "fail").await, 503);
    let lines = lines_of(&capture, "fail");
    assert_eq!(
        messages(&lines),
        [
            "handler done",
            "handler detail",
            "nested detail",
            "spawned detail",
            "request completed"
        ]
    );
    assert!(lines[1..4].iter().all(buffered), "{lines:?}");
    assert_eq!(lines[1]["status"], 503);
    assert_eq!(lines[2]["step"], "nested");
    assert_eq!(lines[4]["level"], "error");
    assert!(!buffered(&lines[4]));

    // An error entry triggers too, whatever the status.
    assert_eq!(
        get_status(&client, addr, "status=200&log_error=true", "err").await,
        200
    );
    assert_eq!(
        messages(&lines_of(&capture, "err")),
        [
            "handler done",
            "handler detail",
            "nested detail",
            "spawned detail",
            "handler saw an error",
            "request completed"
        ]
    );
    // A 4xx is not a failure of this service.
    assert_eq!(get_status(&client, addr, "status=404", "nf").await, 404);
    assert_eq!(
        messages(&lines_of(&capture, "nf")),
        ["handler done", "request completed"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_never_mix_their_buffers() {
    const PAIRS: usize = 8;
    let (base, capture) = base_at_info();
    let addr = start(base, 2 * PAIRS).await;
    let client = client();

    let requests = (0..2 * PAIRS).map(|i| {
        let client = client.clone();
        async move {
            let (query, id) = if i % 2 == 0 {
                ("status=500&together=true", format!("fail-{i}"))
            } else {
                ("status=200&together=true", format!("ok-{i}"))
            };
            get_status(&client, addr, query, &id).await
        }
    });
    let statuses = futures::future::join_all(requests).await;
    assert_eq!(statuses.iter().filter(|s| **s == 500).count(), PAIRS);

    for i in 0..2 * PAIRS {
        if i % 2 == 0 {
            let lines = lines_of(&capture, &format!("fail-{i}"));
            let marked: Vec<&str> = messages(&lines)
                .into_iter()
                .zip(&lines)
                .filter(|(_, e)| buffered(e))
                .map(|(m, _)| m)
                .collect();
            assert_eq!(
                marked,
                ["handler detail", "nested detail", "spawned detail"],
                "request {i}"
            );
        } else {
            let lines = lines_of(&capture, &format!("ok-{i}"));
            assert_eq!(
                messages(&lines),
                ["handler done", "request completed"],
                "request {i}"
            );
        }
    }
    // Nothing was written without a request id, or twice.
    let expected = PAIRS * 5 + PAIRS * 2;
    assert_eq!(capture.len(), expected);
}

#[tokio::test]
async fn a_5xx_releases_the_buffer_also_without_completion_entries() {
    use tower::{service_fn, Layer, ServiceExt};
    let (base, capture) = base_at_info();
    let layer = RequestLoggerLayer::new(base)
        .completion(false)
        .fingers_crossed(debug_buffer());
    let svc = layer.layer(service_fn(|_req: http::Request<String>| async {
        loglayer::debug!("about to fail");
        let mut res = http::Response::new(String::new());
        *res.status_mut() = StatusCode::BAD_GATEWAY;
        Ok::<_, std::convert::Infallible>(res)
    }));
    let res = svc
        .oneshot(http::Request::new(String::new()))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(capture.messages(), ["about to fail"]);
    assert!(buffered(&capture.entries()[0]));
}

#[test]
fn a_buffer_follows_a_level_control_for_what_it_keeps() {
    let capture = CaptureTransport::new();
    let control = loglayer::LevelControl::new(Level::Info);
    let base = LogLayer::builder()
        .transport(capture.clone())
        .level_control(control.clone())
        .build();
    let job = base.fingers_crossed(debug_buffer());
    loglayer::sync_scope(job.clone(), || loglayer::debug!("kept"));
    assert!(capture.is_empty());
    control.set("debug").unwrap();
    loglayer::sync_scope(job.clone(), || loglayer::debug!("written"));
    assert_eq!(capture.messages(), ["written"]);
    assert_eq!(job.buffer_stats().unwrap().held, 1);
}
