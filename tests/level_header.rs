//! `RequestLoggerLayer::level_header`: an authorised request that carries
//! `x-log-level: <level>` logs at that level — its handler, nested
//! `#[with_logger]` functions, `loglayer::spawn`ed tasks and its completion
//! entry — while every other request keeps the normal levels. Driven over real
//! HTTP on loopback (axum server, hyper client).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use http::HeaderName;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use loglayer::tower::RequestLoggerLayer;
use loglayer::transport::CaptureTransport;
use loglayer::{Level, LevelControl, LogLayer};
use serde_json::Value;
use tokio::sync::Barrier;

/// A hang detector, not a timing assertion.
const WAIT: Duration = Duration::from_secs(20);
const TOKEN: &str = "let-me-debug";

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// `GET /work` logs at every level below info from the handler, a nested
/// `#[with_logger]` fn and a spawned task; `GET /pair` does the same after
/// meeting a second request at a barrier, so the two are in flight together.
fn app(base: LogLayer, pair: Arc<Barrier>) -> Router {
    Router::new()
        .route("/work", get(work))
        .route("/pair", get(pair_work))
        .with_state(pair)
        .layer(
            RequestLoggerLayer::new(base)
                .level_header(HeaderName::from_static("x-log-level"), |headers| {
                    headers.get("x-debug-token").is_some_and(|t| t == TOKEN)
                }),
        )
}

async fn work() -> &'static str {
    loglayer::debug!("handler detail");
    loglayer::trace!("handler trace");
    nested().await;
    loglayer::spawn(async {
        tokio::task::yield_now().await;
        loglayer::debug!("spawned detail");
    })
    .await
    .expect("spawned task");
    loglayer::info!("handler done");
    "ok"
}

async fn pair_work(State(pair): State<Arc<Barrier>>) -> &'static str {
    pair.wait().await;
    work().await
}

#[loglayer::with_logger(context(step = "nested"))]
async fn nested() {
    tokio::task::yield_now().await;
    log!(debug, "nested detail");
}

async fn start(base: LogLayer) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(base, Arc::new(Barrier::new(2)));
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    addr
}

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Sends `GET path` with `headers`; returns the status.
async fn get_with(
    client: &HttpClient,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> u16 {
    let mut req = http::Request::get(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = tokio::time::timeout(WAIT, client.request(req.body(Empty::new()).unwrap()))
        .await
        .expect("no hang")
        .expect("response");
    let status = res.status().as_u16();
    res.into_body().collect().await.expect("body");
    status
}

fn base_at_info() -> (LogLayer, CaptureTransport) {
    let capture = CaptureTransport::new();
    let base = LogLayer::builder()
        .transport(capture.clone())
        .level(Level::Info)
        .build();
    (base, capture)
}

/// Messages of the lines with this request id, in order.
fn messages_of(capture: &CaptureTransport, id: &str) -> Vec<String> {
    lines_of(capture, id)
        .iter()
        .map(|e| e["msg"].as_str().unwrap().to_owned())
        .collect()
}

fn lines_of(capture: &CaptureTransport, id: &str) -> Vec<Value> {
    capture
        .entries()
        .into_iter()
        .filter(|e| e["request_id"] == id)
        .collect()
}

const FORCED_DEBUG: [&str; 5] = [
    "handler detail",
    "nested detail",
    "spawned detail",
    "handler done",
    "request completed",
];
const NORMAL: [&str; 2] = ["handler done", "request completed"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_concurrent_requests_only_the_authorised_one_logs_debug() {
    let (base, capture) = base_at_info();
    let addr = start(base).await;
    let client = client();

    let forced = get_with(
        &client,
        addr,
        "/pair",
        &[
            ("x-request-id", "forced"),
            ("x-log-level", "debug"),
            ("x-debug-token", TOKEN),
        ],
    );
    let normal = get_with(&client, addr, "/pair", &[("x-request-id", "normal")]);
    let (a, b) = tokio::join!(forced, normal);
    assert_eq!((a, b), (200, 200));

    assert_eq!(messages_of(&capture, "forced"), FORCED_DEBUG);
    for e in lines_of(&capture, "forced") {
        assert_eq!(e["log_level"], "debug", "{e}");
    }
    assert_eq!(lines_of(&capture, "forced")[1]["step"], "nested");

    assert_eq!(messages_of(&capture, "normal"), NORMAL);
    for e in lines_of(&capture, "normal") {
        assert!(e.get("log_level").is_none(), "{e}");
    }
    assert_eq!(capture.len(), FORCED_DEBUG.len() + NORMAL.len());
}

#[tokio::test]
async fn an_unauthorised_or_malformed_header_changes_nothing() {
    let (base, capture) = base_at_info();
    let addr = start(base).await;
    let client = client();

    let cases: [(&str, &[(&str, &str)]); 5] = [
        ("no-token", &[("x-log-level", "debug")]),
        (
            "wrong-token",
            &[("x-log-level", "debug"), ("x-debug-token", "guess")],
        ),
        (
            "not-a-level",
            &[("x-log-level", "loud"), ("x-debug-token", TOKEN)],
        ),
        (
            "repeated",
            &[
                ("x-log-level", "debug"),
                ("x-log-level", "trace"),
                ("x-debug-token", TOKEN),
            ],
        ),
        ("token-only", &[("x-debug-token", TOKEN)]),
    ];
    for (id, headers) in cases {
        let mut headers = headers.to_vec();
        headers.push(("x-request-id", id));
        assert_eq!(get_with(&client, addr, "/work", &headers).await, 200);
        assert_eq!(messages_of(&capture, id), NORMAL, "{id}");
        for e in lines_of(&capture, id) {
            assert!(e.get("log_level").is_none(), "{id}: {e}");
        }
    }
}

#[tokio::test]
async fn a_refused_header_is_recorded_at_debug_level_only() {
    // The normal level is debug here, so the refusal line is visible.
    let capture = CaptureTransport::new();
    let base = LogLayer::builder()
        .transport(capture.clone())
        .level(Level::Debug)
        .build();
    let addr = start(base).await;
    let client = client();

    let headers = [
        ("x-request-id", "refused"),
        ("x-log-level", "trace"),
        ("x-debug-token", "guess"),
    ];
    assert_eq!(get_with(&client, addr, "/work", &headers).await, 200);
    let lines = lines_of(&capture, "refused");
    assert_eq!(lines[0]["msg"], "log level header ignored");
    assert_eq!(lines[0]["level"], "debug");
    assert_eq!(lines[0]["header"], "x-log-level");
    assert_eq!(lines[0]["reason"], "not authorised");
    // And nothing at trace: the header was not honoured.
    assert!(lines.iter().all(|e| e["level"] != "trace"));
}

#[tokio::test]
async fn a_forced_level_can_also_quiet_one_request_and_trace_works() {
    let (base, capture) = base_at_info();
    let addr = start(base).await;
    let client = client();

    let quiet = [
        ("x-request-id", "quiet"),
        ("x-log-level", "ERROR"),
        ("x-debug-token", TOKEN),
    ];
    assert_eq!(get_with(&client, addr, "/work", &quiet).await, 200);
    assert!(messages_of(&capture, "quiet").is_empty());

    let trace = [
        ("x-request-id", "trace"),
        ("x-log-level", "trace"),
        ("x-debug-token", TOKEN),
    ];
    assert_eq!(get_with(&client, addr, "/work", &trace).await, 200);
    let messages = messages_of(&capture, "trace");
    assert_eq!(messages[..2], ["handler detail", "handler trace"]);
    assert_eq!(messages.len(), FORCED_DEBUG.len() + 1);
    assert_eq!(lines_of(&capture, "trace")[0]["log_level"], "trace");
}

#[tokio::test]
async fn the_forced_level_wins_over_the_base_loggers_level_control() {
    let control = LevelControl::new(Level::Warn);
    let capture = CaptureTransport::new();
    let base = LogLayer::builder()
        .transport(capture.clone())
        .level_control(control.clone())
        .build();
    let addr = start(base).await;
    let client = client();

    let forced = [
        ("x-request-id", "forced"),
        ("x-log-level", "debug"),
        ("x-debug-token", TOKEN),
    ];
    assert_eq!(get_with(&client, addr, "/work", &forced).await, 200);
    assert_eq!(
        get_with(&client, addr, "/work", &[("x-request-id", "plain")]).await,
        200
    );
    assert_eq!(messages_of(&capture, "forced"), FORCED_DEBUG);
    assert!(
        messages_of(&capture, "plain").is_empty(),
        "warn and above only"
    );

    control.set("info").unwrap();
    assert_eq!(
        get_with(&client, addr, "/work", &[("x-request-id", "plain2")]).await,
        200
    );
    assert_eq!(messages_of(&capture, "plain2"), NORMAL);
}

/// The macros stop at a process-wide hint of the levels any logger enables:
/// a forced request must raise it, or its `debug!` calls would stop there.
/// Checked in a fresh process (this binary running only the probe below),
/// where no logger has enabled debug before.
#[test]
fn a_forced_request_passes_the_macros_level_hint_in_a_fresh_process() {
    let stdout = loglayer_suite::run_alone_in_fresh_process(
        "hint_probe",
        &[("LOGLAYER_HINT_PROBE", "1"), ("LOGLAYER_LEVEL", "info")],
    );
    assert!(stdout.contains("hint probe ran"), "{stdout}");
}

#[tokio::test]
async fn hint_probe() {
    if std::env::var_os("LOGLAYER_HINT_PROBE").is_none() {
        return;
    }
    let (base, capture) = base_at_info();
    let addr = start(base).await;
    let client = client();
    assert_eq!(
        get_with(&client, addr, "/work", &[("x-request-id", "plain")]).await,
        200
    );
    let forced = [
        ("x-request-id", "forced"),
        ("x-log-level", "debug"),
        ("x-debug-token", TOKEN),
    ];
    assert_eq!(get_with(&client, addr, "/work", &forced).await, 200);
    assert_eq!(messages_of(&capture, "plain"), NORMAL);
    assert_eq!(messages_of(&capture, "forced"), FORCED_DEBUG);
    println!("hint probe ran");
}
