//! `loglayer::tower::RequestLoggerLayer` at the service level, driven with
//! `tower::ServiceExt::oneshot` and `tower::service_fn` handlers: request ids
//! (kept, replaced, generated), `traceparent`, the completion entry, the scope
//! around `call`, the response future and the response body, panics,
//! cancellation and spawned tasks.

use std::collections::HashSet;
use std::convert::Infallible;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::FutureExt;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Body, Bytes, Frame};
use loglayer::tower::RequestLoggerLayer;
use loglayer::transport::CaptureTransport;
use loglayer::LogLayer;
use serde_json::{json, Value};
use tower::{service_fn, Layer, Service, ServiceExt};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";

fn layer(capture: &CaptureTransport) -> RequestLoggerLayer {
    RequestLoggerLayer::new(LogLayer::new(capture.clone()))
}

/// A handler that logs one line ("handling", with the request id it sees in
/// its headers) and answers 200.
async fn handler(req: Request<String>) -> Result<Response<String>, Infallible> {
    let seen = req
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    loglayer::info!(seen_header = seen, "handling");
    Ok(Response::new("ok".to_string()))
}

fn get(uri: &str) -> http::request::Builder {
    Request::get(uri)
}

/// Sends `req` through the layer around [`handler`]; returns the response's
/// `x-request-id` and the captured entries.
fn run(capture: &CaptureTransport, req: Request<String>) -> (String, Vec<Value>) {
    run_with(layer(capture), capture, req)
}

/// [`run`] with a configured layer (logging to `capture`).
fn run_with(
    layer: RequestLoggerLayer,
    capture: &CaptureTransport,
    req: Request<String>,
) -> (String, Vec<Value>) {
    capture.clear();
    let res = futures::executor::block_on(layer.layer(service_fn(handler)).oneshot(req)).unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    (id, capture.entries())
}

fn is_hex_id(id: &Value, len: usize) -> bool {
    id.as_str().is_some_and(|id| {
        id.len() == len
            && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && id.bytes().any(|b| b != b'0')
    })
}

/// The entries of one request that started its own trace: a new trace id
/// (not the caller's [`TRACE_ID`]), one new span id, flags `01`, no parent.
fn assert_new_trace(entries: &[Value], why: &str) {
    assert!(!entries.is_empty(), "{why}");
    let (trace_id, span_id) = (&entries[0]["trace_id"], &entries[0]["span_id"]);
    assert!(is_hex_id(trace_id, 32), "{why}: {}", entries[0]);
    assert!(is_hex_id(span_id, 16), "{why}: {}", entries[0]);
    assert_ne!(trace_id, TRACE_ID, "{why}");
    assert_ne!(span_id, SPAN_ID, "{why}");
    for e in entries {
        assert_eq!(&e["trace_id"], trace_id, "{why}: {e}");
        assert_eq!(&e["span_id"], span_id, "{why}: {e}");
        assert_eq!(e["trace_flags"], "01", "{why}: {e}");
        assert!(e.get("parent_span_id").is_none(), "{why}: {e}");
        assert!(e.get("tracestate").is_none(), "{why}: {e}");
    }
}

fn is_generated(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn with_msg<'a>(entries: &'a [Value], msg: &str) -> Vec<&'a Value> {
    entries.iter().filter(|e| e["msg"] == msg).collect()
}

#[test]
fn valid_incoming_id_is_kept_echoed_and_in_the_context() {
    let capture = CaptureTransport::new();
    let req = Request::post("/orders/7?verbose=1")
        .header("x-request-id", "Abc-123_x.y")
        .body(String::new())
        .unwrap();
    let (id, entries) = run(&capture, req);
    assert_eq!(id, "Abc-123_x.y");
    assert_eq!(entries.len(), 2);
    for e in &entries {
        assert_eq!(e["request_id"], "Abc-123_x.y");
        assert_eq!(e["method"], "POST");
        assert_eq!(e["path"], "/orders/7", "the path, without the query");
    }
    // No traceparent came in: the request starts a trace of its own.
    assert_new_trace(&entries, "no traceparent");
    assert_eq!(entries[0]["seen_header"], "Abc-123_x.y");
}

#[test]
fn ids_of_128_characters_are_kept_129_replaced() {
    let capture = CaptureTransport::new();
    let max = "a".repeat(128);
    let (id, _) = run(
        &capture,
        get("/")
            .header("x-request-id", &max)
            .body(String::new())
            .unwrap(),
    );
    assert_eq!(id, max);

    let long = "a".repeat(129);
    let (id, entries) = run(
        &capture,
        get("/")
            .header("x-request-id", &long)
            .body(String::new())
            .unwrap(),
    );
    assert!(is_generated(&id), "{id}");
    assert_eq!(entries[0]["request_id"], id.as_str());
}

#[test]
fn unacceptable_ids_are_replaced_by_a_generated_one_everywhere() {
    let capture = CaptureTransport::new();
    let bad: Vec<HeaderValue> = vec![
        HeaderValue::from_static(""),
        HeaderValue::from_static("has space"),
        HeaderValue::from_static("tab\there"),
        HeaderValue::from_static("a/b"),
        HeaderValue::from_static("../../etc/passwd"),
        HeaderValue::from_static("x;y=z"),
        HeaderValue::from_static("\"quoted\""),
        HeaderValue::from_bytes("héllo".as_bytes()).unwrap(), // UTF-8 (obs-text)
        HeaderValue::from_bytes("日本".as_bytes()).unwrap(),
        HeaderValue::from_bytes(&[0x80, 0xff]).unwrap(),
        HeaderValue::from_str(&"é".repeat(100)).unwrap(),
    ];
    for value in bad {
        let (id, entries) = run(
            &capture,
            get("/")
                .header("x-request-id", value.clone())
                .body(String::new())
                .unwrap(),
        );
        assert!(is_generated(&id), "{value:?} -> {id}");
        assert_eq!(entries.len(), 2);
        for e in &entries {
            assert_eq!(e["request_id"], id.as_str(), "{value:?}");
        }
        assert_eq!(
            entries[0]["seen_header"],
            id.as_str(),
            "the handler sees the id in use"
        );
    }
}

#[test]
fn a_repeated_id_header_is_replaced() {
    let capture = CaptureTransport::new();
    let req = get("/")
        .header("x-request-id", "one")
        .header("x-request-id", "two")
        .body(String::new())
        .unwrap();
    let (id, entries) = run(&capture, req);
    assert!(is_generated(&id), "{id}");
    assert_eq!(entries[0]["request_id"], id.as_str());
}

#[test]
fn missing_ids_are_generated_and_unique_across_threads() {
    let capture = CaptureTransport::new();
    let svc = layer(&capture).completion(false).layer(service_fn(handler));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let svc = svc.clone();
            std::thread::spawn(move || {
                (0..500)
                    .map(|_| {
                        let res = futures::executor::block_on(
                            svc.clone().oneshot(get("/").body(String::new()).unwrap()),
                        )
                        .unwrap();
                        res.headers()["x-request-id"].to_str().unwrap().to_owned()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for t in threads {
        for id in t.join().unwrap() {
            assert!(is_generated(&id), "{id}");
            assert!(ids.insert(id.clone()), "duplicate id {id}");
        }
    }
    assert_eq!(ids.len(), 2000);
    // And each request logged with its own id.
    let logged: HashSet<String> = capture
        .entries()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(logged, ids);
}

#[test]
fn a_custom_request_id_header() {
    let capture = CaptureTransport::new();
    let svc = layer(&capture)
        .request_id_header(http::HeaderName::from_static("x-correlation-id"))
        .layer(service_fn(handler));
    let req = get("/")
        .header("x-correlation-id", "corr-1")
        .header("x-request-id", "ignored")
        .body(String::new())
        .unwrap();
    let res = futures::executor::block_on(svc.oneshot(req)).unwrap();
    assert_eq!(res.headers()["x-correlation-id"], "corr-1");
    assert_eq!(res.headers().get("x-request-id"), None);
    assert_eq!(capture.entries()[0]["request_id"], "corr-1");
}

#[test]
fn a_valid_traceparent_joins_the_callers_trace_with_a_new_span_id() {
    let capture = CaptureTransport::new();
    let mut span_ids = HashSet::new();
    for (tp, flags) in [
        (format!("00-{TRACE_ID}-{SPAN_ID}-01"), "01"),
        (format!("00-{TRACE_ID}-{SPAN_ID}-00"), "00"),
        (
            format!("cc-{TRACE_ID}-{SPAN_ID}-01-what-the-future-adds"),
            "01",
        ),
        (format!("01-{TRACE_ID}-{SPAN_ID}-03"), "03"),
    ] {
        let (_, entries) = run(
            &capture,
            get("/")
                .header("traceparent", &tp)
                .body(String::new())
                .unwrap(),
        );
        assert_eq!(entries.len(), 2);
        let span_id = &entries[0]["span_id"];
        assert!(is_hex_id(span_id, 16), "{tp}: {}", entries[0]);
        assert_ne!(
            span_id, SPAN_ID,
            "{tp}: span_id is this service's, not the caller's"
        );
        assert!(
            span_ids.insert(span_id.clone()),
            "{tp}: a new span id per request"
        );
        for e in &entries {
            assert_eq!(e["trace_id"], TRACE_ID, "{tp}");
            assert_eq!(e["parent_span_id"], SPAN_ID, "{tp}");
            assert_eq!(&e["span_id"], span_id, "{tp}");
            assert_eq!(e["trace_flags"], flags, "{tp}");
            assert!(e.get("tracestate").is_none(), "{tp}");
        }
    }
}

#[test]
fn tracestate_is_kept_unchanged_only_with_a_valid_traceparent() {
    let capture = CaptureTransport::new();
    let tp = format!("00-{TRACE_ID}-{SPAN_ID}-01");
    let state = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
    let (_, entries) = run(
        &capture,
        get("/")
            .header("traceparent", &tp)
            .header("tracestate", state)
            .body(String::new())
            .unwrap(),
    );
    for e in &entries {
        assert_eq!(e["tracestate"], state);
    }
    // Split over two headers: one list.
    let (_, entries) = run(
        &capture,
        get("/")
            .header("traceparent", &tp)
            .header("tracestate", "rojo=00f067aa0ba902b7")
            .header("tracestate", "congo=t61rcWkgMzE")
            .body(String::new())
            .unwrap(),
    );
    assert_eq!(entries[0]["tracestate"], state);
    // Without a valid traceparent, too long, or with control characters: dropped.
    let long = format!("a={}", "x".repeat(511));
    for (tp, state) in [
        ("garbage", state),
        (tp.as_str(), long.as_str()),
        (tp.as_str(), "a=1\tb=2"),
        (tp.as_str(), ""),
    ] {
        let req = get("/")
            .header("traceparent", tp)
            .header(
                "tracestate",
                HeaderValue::from_bytes(state.as_bytes()).unwrap(),
            )
            .body(String::new())
            .unwrap();
        let (_, entries) = run(&capture, req);
        assert!(entries[0].get("tracestate").is_none(), "{tp} {state:?}");
        assert!(is_hex_id(&entries[0]["trace_id"], 32));
    }
}

#[test]
fn an_invalid_traceparent_starts_a_new_trace() {
    let capture = CaptureTransport::new();
    let zeros32 = "0".repeat(32);
    let zeros16 = "0".repeat(16);
    let upper = TRACE_ID.to_uppercase();
    let bad = [
        String::new(),
        "garbage".to_string(),
        format!("ff-{TRACE_ID}-{SPAN_ID}-01"), // forbidden version
        format!("00-{upper}-{SPAN_ID}-01"),    // upper case
        format!("00-{zeros32}-{SPAN_ID}-01"),  // all-zero trace id
        format!("00-{TRACE_ID}-{zeros16}-01"), // all-zero parent id
        format!("00-{TRACE_ID}-{SPAN_ID}-01-extra"), // version 00 has 4 fields
        format!("00-{TRACE_ID}-{SPAN_ID}-1"),  // short flags
        format!("00-{}-{SPAN_ID}-01", &TRACE_ID[1..]), // short trace id
        format!("00-{TRACE_ID}0-{SPAN_ID}-01"), // long trace id
        format!("00-{TRACE_ID}-{SPAN_ID}-0x"), // not hex
        format!("0g-{TRACE_ID}-{SPAN_ID}-01"), // not hex
        format!("00_{TRACE_ID}_{SPAN_ID}_01"), // separators
        format!(" 00-{TRACE_ID}-{SPAN_ID}-01"), // leading space
        format!("01-{TRACE_ID}-{SPAN_ID}-01x"), // later version, no dash
    ];
    let quiet = || layer(&capture).start_trace(false);
    for tp in &bad {
        let req = || {
            get("/")
                .header("traceparent", tp)
                .header("tracestate", "congo=t61rcWkgMzE")
                .body(String::new())
                .unwrap()
        };
        let (_, entries) = run(&capture, req());
        assert_eq!(entries.len(), 2);
        assert_new_trace(&entries, tp);

        // With start_trace(false): no trace keys at all.
        let (_, entries) = run_with(quiet(), &capture, req());
        assert_eq!(entries.len(), 2);
        for e in &entries {
            assert!(e.get("trace_id").is_none(), "{tp:?}: {e}");
            assert!(e.get("span_id").is_none(), "{tp:?}: {e}");
            assert!(e.get("parent_span_id").is_none(), "{tp:?}: {e}");
            assert!(e.get("trace_flags").is_none(), "{tp:?}: {e}");
            assert!(e.get("tracestate").is_none(), "{tp:?}: {e}");
        }
    }
    // Two traceparent headers: ambiguous, ignored.
    let good = format!("00-{TRACE_ID}-{SPAN_ID}-01");
    let req = || {
        get("/")
            .header("traceparent", &good)
            .header("traceparent", &good)
            .body(String::new())
            .unwrap()
    };
    let (_, entries) = run(&capture, req());
    assert_new_trace(&entries, "two traceparent headers");
    let (_, entries) = run_with(quiet(), &capture, req());
    assert!(entries[0].get("trace_id").is_none());
}

#[test]
fn start_trace_false_still_joins_a_valid_traceparent() {
    let capture = CaptureTransport::new();
    let req = get("/")
        .header("traceparent", format!("00-{TRACE_ID}-{SPAN_ID}-01"))
        .body(String::new())
        .unwrap();
    let (_, entries) = run_with(layer(&capture).start_trace(false), &capture, req);
    for e in &entries {
        assert_eq!(e["trace_id"], TRACE_ID);
        assert_eq!(e["parent_span_id"], SPAN_ID);
        assert!(is_hex_id(&e["span_id"], 16));
    }
}

#[test]
fn every_request_without_a_traceparent_starts_its_own_trace() {
    let capture = CaptureTransport::new();
    let mut traces = HashSet::new();
    for _ in 0..100 {
        let (_, entries) = run(&capture, get("/").body(String::new()).unwrap());
        assert_new_trace(&entries, "no traceparent");
        assert!(traces.insert(entries[0]["trace_id"].clone()));
    }
}

/// A handler answering with the status in the path (`/status/404`).
async fn status_handler(req: Request<String>) -> Result<Response<String>, Infallible> {
    let code: u16 = req
        .uri()
        .path()
        .trim_start_matches("/status/")
        .parse()
        .unwrap();
    let mut res = Response::new(String::new());
    *res.status_mut() = StatusCode::from_u16(code).unwrap();
    Ok(res)
}

#[test]
fn one_completion_entry_per_request_with_the_level_of_the_outcome() {
    let capture = CaptureTransport::new();
    let svc = layer(&capture).layer(service_fn(status_handler));
    for (code, level) in [
        (200, "info"),
        (201, "info"),
        (204, "info"),
        (301, "info"),
        (304, "info"),
        (400, "warn"),
        (404, "warn"),
        (499, "warn"),
        (500, "error"),
        (503, "error"),
    ] {
        capture.clear();
        let req = get(&format!("/status/{code}"))
            .header("x-request-id", format!("s{code}"))
            .body(String::new())
            .unwrap();
        let res = futures::executor::block_on(svc.clone().oneshot(req)).unwrap();
        assert_eq!(res.status().as_u16(), code);
        assert_eq!(res.headers()["x-request-id"], format!("s{code}").as_str());
        let entries = capture.entries();
        assert_eq!(entries.len(), 1, "{code}");
        let e = &entries[0];
        assert_eq!(e["msg"], "request completed");
        assert_eq!(e["level"], level, "{code}");
        assert_eq!(e["status"], code);
        assert_eq!(e["request_id"], format!("s{code}").as_str());
        assert_eq!(e["path"], format!("/status/{code}").as_str());
        assert!(e["latency_ms"].as_f64().unwrap() >= 0.0, "{e}");
    }
}

#[test]
fn the_completion_message_can_be_changed_or_turned_off() {
    let capture = CaptureTransport::new();
    let req = || get("/").body(String::new()).unwrap();

    let svc = layer(&capture)
        .completion_message("served")
        .layer(service_fn(handler));
    futures::executor::block_on(svc.oneshot(req())).unwrap();
    assert_eq!(capture.messages(), ["handling", "served"]);

    capture.clear();
    let svc = layer(&capture)
        .completion_message(String::from("owned"))
        .layer(service_fn(handler));
    futures::executor::block_on(svc.oneshot(req())).unwrap();
    assert_eq!(capture.messages(), ["handling", "owned"]);

    capture.clear();
    let svc = layer(&capture).completion(false).layer(service_fn(handler));
    let res = futures::executor::block_on(svc.oneshot(req())).unwrap();
    assert!(is_generated(
        res.headers()["x-request-id"].to_str().unwrap()
    ));
    assert_eq!(capture.messages(), ["handling"]);

    capture.clear();
    let svc = layer(&capture).completion(false).layer(service_fn(handler));
    futures::executor::block_on(svc.oneshot(req())).unwrap();
    assert_eq!(capture.messages(), ["handling"]);

    capture.clear();
    let svc = layer(&capture)
        .completion(false)
        .completion(true)
        .layer(service_fn(handler));
    futures::executor::block_on(svc.oneshot(req())).unwrap();
    assert_eq!(capture.messages(), ["handling", "request completed"]);
}

#[test]
fn an_error_from_the_service_is_logged_as_a_failed_request() {
    let capture = CaptureTransport::new();
    let svc = layer(&capture).layer(service_fn(|_req: Request<String>| async {
        loglayer::info!("about to fail");
        Err::<Response<String>, _>(std::io::Error::other("backend down"))
    }));
    let req = get("/x")
        .header("x-request-id", "fail-1")
        .body(String::new())
        .unwrap();
    let err = futures::executor::block_on(svc.oneshot(req)).unwrap_err();
    assert_eq!(err.to_string(), "backend down");
    let entries = capture.entries();
    assert_eq!(capture.messages(), ["about to fail", "request failed"]);
    assert_eq!(entries[1]["level"], "error");
    assert_eq!(entries[1]["request_id"], "fail-1");
    assert!(entries[1].get("status").is_none());
    assert!(entries[1]["latency_ms"].as_f64().unwrap() >= 0.0);
}

/// A body whose every `poll_frame` logs: two chunks, then the end.
struct LoggingBody {
    left: u32,
}

impl Body for LoggingBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let scoped = loglayer::try_current().is_some();
        loglayer::info!(left = self.left, scoped, "polling body");
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"chunk ")))))
    }
}

#[test]
fn the_response_body_is_polled_in_the_request_scope() {
    let capture = CaptureTransport::new();
    let svc = layer(&capture).layer(service_fn(|_req: Request<String>| async {
        Ok::<_, Infallible>(Response::new(LoggingBody { left: 2 }))
    }));
    let req = get("/stream")
        .header("x-request-id", "body-1")
        .body(String::new())
        .unwrap();
    let res = futures::executor::block_on(svc.oneshot(req)).unwrap();
    assert!(loglayer::try_current().is_none());
    // Collected here, outside every scope, as a server would.
    let bytes = futures::executor::block_on(res.into_body().collect())
        .unwrap()
        .to_bytes();
    assert_eq!(&bytes[..], b"chunk chunk ");
    assert!(
        loglayer::try_current().is_none(),
        "no logger left behind by the body"
    );

    let entries = capture.entries();
    assert_eq!(
        entries[0]["msg"], "request completed",
        "completion at the response head"
    );
    let polls = with_msg(&entries, "polling body");
    assert_eq!(polls.len(), 3);
    for e in polls {
        assert_eq!(e["request_id"], "body-1", "{e}");
        assert_eq!(e["path"], "/stream");
        assert_eq!(e["scoped"], true);
    }
}

fn panics_in_call(
    _req: Request<String>,
) -> std::future::Ready<Result<Response<String>, Infallible>> {
    loglayer::info!("before the panic");
    panic!("boom in call")
}

#[test]
fn a_panic_in_call_leaves_no_logger_and_is_logged() {
    let capture = CaptureTransport::new();
    let mut svc = layer(&capture).layer(service_fn(panics_in_call));
    let req = get("/p")
        .header("x-request-id", "panic-1")
        .body(String::new())
        .unwrap();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        drop(svc.call(req));
    }));
    let payload = caught.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"boom in call"),
        "the panic is resumed unchanged"
    );
    assert!(
        loglayer::try_current().is_none(),
        "the request logger left the thread"
    );

    let entries = capture.entries();
    assert_eq!(capture.messages(), ["before the panic", "request panicked"]);
    assert_eq!(entries[1]["level"], "error");
    assert_eq!(entries[1]["panic"], "boom in call");
    assert_eq!(entries[1]["request_id"], "panic-1");

    // The next request on this thread has its own logger, nothing else.
    capture.clear();
    let (id, entries) = run(
        &capture,
        get("/")
            .header("x-request-id", "after")
            .body(String::new())
            .unwrap(),
    );
    assert_eq!(id, "after");
    assert!(entries
        .iter()
        .all(|e| e["request_id"] == "after" && e["path"] == "/"));
}

async fn panics_in_future(req: Request<String>) -> Result<Response<String>, Infallible> {
    loglayer::info!("before the await");
    tokio::task::yield_now().await;
    if req.uri().path() == "/panic" {
        panic!(
            "boom in future {}",
            req.headers()["x-request-id"].to_str().unwrap()
        );
    }
    loglayer::info!("after the await");
    Ok(Response::new(String::new()))
}

#[test]
fn a_panic_in_the_future_leaves_no_logger_on_the_thread() {
    let capture = CaptureTransport::new();
    let svc = layer(&capture).layer(service_fn(panics_in_future));

    // Polled by hand on this thread.
    let req = get("/panic")
        .header("x-request-id", "p-1")
        .body(String::new())
        .unwrap();
    let fut = svc.clone().oneshot(req);
    let caught = catch_unwind(AssertUnwindSafe(|| futures::executor::block_on(fut)));
    assert!(caught.is_err());
    assert!(loglayer::try_current().is_none());
    let entries = capture.entries();
    let panicked = with_msg(&entries, "request panicked");
    assert_eq!(panicked.len(), 1);
    assert_eq!(panicked[0]["panic"], "boom in future p-1");
    assert_eq!(panicked[0]["request_id"], "p-1");
    assert!(
        with_msg(&entries, "request cancelled").is_empty(),
        "a panic is not also a cancellation"
    );

    // On a current-thread runtime: the task dies, the thread stays clean.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let req = get("/panic")
            .header("x-request-id", "p-2")
            .body(String::new())
            .unwrap();
        let err = tokio::spawn(svc.clone().oneshot(req)).await.unwrap_err();
        assert!(err.is_panic());
        let probe = tokio::spawn(async { loglayer::try_current().is_none() })
            .await
            .unwrap();
        assert!(probe, "the worker thread keeps no logger");
        assert!(loglayer::try_current().is_none());
    });
}

/// Every third request panics.
fn panics(i: usize) -> bool {
    matches!(i % 3, 0)
}

#[test]
fn panicking_and_healthy_requests_interleaved_on_a_multi_thread_runtime() {
    let capture = CaptureTransport::new();
    let svc = layer(&capture).layer(service_fn(panics_in_future));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let path = if panics(i) { "/panic" } else { "/ok" };
                let req = get(path)
                    .header("x-request-id", format!("r{i}"))
                    .body(String::new())
                    .unwrap();
                tokio::spawn(svc.clone().oneshot(req))
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.is_err(), panics(i));
        }
        // Fresh tasks on the same workers see no logger.
        let probes: Vec<_> = (0..64)
            .map(|_| tokio::spawn(async { loglayer::try_current().is_none() }))
            .collect();
        for p in probes {
            assert!(p.await.unwrap());
        }
    });
    let entries = capture.entries();
    for e in &entries {
        let i: usize = e["request_id"].as_str().unwrap()[1..].parse().unwrap();
        let expected_path = if panics(i) { "/panic" } else { "/ok" };
        assert_eq!(e["path"], expected_path, "{e}");
        match e["msg"].as_str().unwrap() {
            "request panicked" => assert_eq!(e["panic"], format!("boom in future r{i}").as_str()),
            "after the await" | "request completed" => assert!(!panics(i), "{e}"),
            _ => {}
        }
    }
    assert_eq!(with_msg(&entries, "request panicked").len(), 67);
    assert_eq!(with_msg(&entries, "request completed").len(), 133);
}

#[test]
fn a_request_dropped_before_its_response_is_logged_as_cancelled() {
    let capture = CaptureTransport::new();
    let svc = layer(&capture).layer(service_fn(|_req: Request<String>| async {
        loglayer::info!("waiting forever");
        std::future::pending::<Result<Response<String>, Infallible>>().await
    }));
    let req = get("/slow")
        .header("x-request-id", "gone")
        .body(String::new())
        .unwrap();
    let mut fut = Box::pin(svc.oneshot(req));
    assert!(fut.as_mut().now_or_never().is_none());
    assert!(loglayer::try_current().is_none());
    drop(fut);
    let entries = capture.entries();
    assert_eq!(capture.messages(), ["waiting forever", "request cancelled"]);
    assert_eq!(entries[1]["level"], "warn");
    assert_eq!(entries[1]["request_id"], "gone");
    assert!(entries[1]["latency_ms"].as_f64().unwrap() >= 0.0);
}

#[test]
fn drop_of_the_handler_future_runs_in_the_request_scope() {
    struct LogsOnDrop;
    impl Drop for LogsOnDrop {
        fn drop(&mut self) {
            loglayer::info!("dropped");
        }
    }
    let capture = CaptureTransport::new();
    let svc = layer(&capture)
        .completion(false)
        .layer(service_fn(|_req: Request<String>| async {
            let _guard = LogsOnDrop;
            std::future::pending::<Result<Response<String>, Infallible>>().await
        }));
    let req = get("/")
        .header("x-request-id", "drop-1")
        .body(String::new())
        .unwrap();
    let mut fut = Box::pin(svc.oneshot(req));
    assert!(fut.as_mut().now_or_never().is_none());
    drop(fut);
    assert_eq!(capture.messages(), ["dropped"]);
    assert_eq!(capture.entries()[0]["request_id"], "drop-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tokio_spawn_does_not_inherit_but_loglayer_spawn_does() {
    let capture = CaptureTransport::new();
    let svc = layer(&capture)
        .completion(false)
        .layer(service_fn(|_req: Request<String>| async {
            let plain = tokio::spawn(async { loglayer::try_current().is_none() })
                .await
                .unwrap();
            let inherited = loglayer::spawn(async {
                loglayer::info!("from loglayer::spawn");
                loglayer::try_current().is_some()
            })
            .await
            .unwrap();
            Ok::<_, Infallible>(Response::new(format!("{plain} {inherited}")))
        }));
    let req = get("/")
        .header("x-request-id", "spawn-1")
        .body(String::new())
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.into_body().into_inner(), "true true");
    let entries = capture.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["request_id"], "spawn-1");
}

#[test]
fn context_added_by_a_handler_stays_in_its_request() {
    let capture = CaptureTransport::new();
    let base = LogLayer::new(capture.clone());
    base.with_context(json!({"service": "shop"}));
    let svc = RequestLoggerLayer::new(base.clone()).layer(service_fn(
        |req: Request<String>| async move {
            if req.uri().path() == "/login" {
                loglayer::current().with_context(json!({"user_id": 7}));
            }
            loglayer::info!("handled");
            Ok::<_, Infallible>(Response::new(String::new()))
        },
    ));
    for (path, id) in [("/login", "a"), ("/other", "b")] {
        let req = get(path)
            .header("x-request-id", id)
            .body(String::new())
            .unwrap();
        futures::executor::block_on(svc.clone().oneshot(req)).unwrap();
    }
    let entries = capture.entries();
    assert_eq!(entries.len(), 4);
    for e in &entries {
        assert_eq!(e["service"], "shop");
        match e["request_id"].as_str().unwrap() {
            "a" => assert_eq!(e["user_id"], 7, "{e}"),
            _ => assert!(e.get("user_id").is_none(), "{e}"),
        }
    }
    assert_eq!(
        base.get_context(),
        json!({"service": "shop"}).as_object().unwrap().clone()
    );
}

#[test]
fn the_request_logger_is_in_the_request_extensions() {
    let capture = CaptureTransport::new();
    let svc =
        layer(&capture)
            .completion(false)
            .layer(service_fn(|req: Request<String>| async move {
                let logger = req
                    .extensions()
                    .get::<LogLayer>()
                    .expect("request logger")
                    .clone();
                assert!(
                    logger.ptr_eq(&loglayer::current()),
                    "the extension is the current logger"
                );
                logger.info("via extension");
                Ok::<_, Infallible>(Response::new(String::new()))
            }));
    let req = get("/")
        .header("x-request-id", "ext-1")
        .body(String::new())
        .unwrap();
    futures::executor::block_on(svc.oneshot(req)).unwrap();
    assert_eq!(capture.entries()[0]["request_id"], "ext-1");
}

#[test]
fn poll_ready_is_forwarded() {
    struct NotReady;
    impl Service<Request<String>> for NotReady {
        type Response = Response<String>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<String>, Infallible>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Pending
        }
        fn call(&mut self, _: Request<String>) -> Self::Future {
            unreachable!()
        }
    }
    let mut svc = layer(&CaptureTransport::new()).layer(NotReady);
    let waker = futures::task::noop_waker();
    assert!(svc
        .poll_ready(&mut Context::from_waker(&waker))
        .is_pending());
}

/// Type-level: the layer fits axum's `Router::layer`.
#[test]
fn works_as_an_axum_layer() {
    let capture = CaptureTransport::new();
    let app = axum::Router::new()
        .route(
            "/hi",
            axum::routing::get(|| async {
                loglayer::info!("hi from axum");
                "hi"
            }),
        )
        .layer(layer(&capture));
    let req = Request::get("/hi")
        .header("x-request-id", "axum-1")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = futures::executor::block_on(app.oneshot(req)).unwrap();
    assert_eq!(res.headers()["x-request-id"], "axum-1");
    let entries = capture.entries();
    assert_eq!(capture.messages(), ["hi from axum", "request completed"]);
    assert!(entries.iter().all(|e| e["request_id"] == "axum-1"));
}

#[test]
fn the_service_and_its_future_are_send_when_the_inner_ones_are() {
    fn assert_send<T: Send>(_: &T) {}
    let svc = layer(&CaptureTransport::new()).layer(service_fn(handler));
    assert_send(&svc);
    let fut = svc.oneshot(get("/").body(String::new()).unwrap());
    assert_send(&fut);
    let res = futures::executor::block_on(fut).unwrap();
    assert_send(&res);
}
