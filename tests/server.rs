//! The example server (`examples/server/app.rs`, the same code
//! `cargo run --example server` runs) on 127.0.0.1:0, driven over real HTTP
//! by hyper's client with 200 concurrent requests, each with its own
//! `x-request-id`. Every captured line must carry exactly its own request's
//! id, method, path and ids, and nothing of any other request.
//!
//! Then the admin routes (`examples/server/admin.rs`): levels set, read and
//! overridden over HTTP while the server runs, a bad spec refused with the
//! parser's message, and the example's level-header rule.

#[path = "../examples/server/admin.rs"]
#[allow(dead_code)]
mod admin;
#[path = "../examples/server/app.rs"]
#[allow(dead_code)]
mod app;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use loglayer::transport::CaptureTransport;
use loglayer::{Level, LevelControl, LogLayer};
use serde_json::{json, Value};

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Starts the app with `base` on an ephemeral loopback port.
async fn start(base: LogLayer) -> SocketAddr {
    start_with(base, None).await
}

/// Starts the app with `base` and, optionally, the admin routes.
async fn start_with(base: LogLayer, admin: Option<admin::Admin>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app::app(base, admin))
            .await
            .expect("serve");
    });
    addr
}

/// A logger at info into `capture` (the example's default level).
fn base_at_info(capture: &CaptureTransport) -> LogLayer {
    LogLayer::builder()
        .transport(capture.clone())
        .level(Level::Info)
        .build()
}

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// What request `i` of the mix is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Order,
    MissingOrder,
    Me,
    Unauthorized,
    Checkout,
}

#[derive(Clone)]
struct Plan {
    id: String,
    kind: Kind,
    method: &'static str,
    path: String,
    /// The `order_id` its lines may carry.
    order_id: Option<u64>,
    /// The `user_id` its lines after auth carry.
    user_id: Option<u64>,
    status: u16,
    /// Messages of its lines, in order (completion last).
    messages: Vec<&'static str>,
}

fn plan(i: u64) -> Plan {
    let id = format!("req-{i:03}");
    let kind = [
        Kind::Order,
        Kind::MissingOrder,
        Kind::Me,
        Kind::Unauthorized,
        Kind::Checkout,
    ][(i % 5) as usize];
    let (method, path, order_id, user_id, status, messages) = match kind {
        Kind::Order => (
            "GET",
            format!("/orders/{}", i + 1),
            Some(i + 1),
            None,
            200,
            vec![
                "loading order",
                "checking stock",
                "order loaded",
                "request completed",
            ],
        ),
        Kind::MissingOrder => (
            "GET",
            format!("/orders/{}", 5000 + i),
            Some(5000 + i),
            None,
            404,
            vec!["loading order", "order not found", "request completed"],
        ),
        Kind::Me => (
            "GET",
            "/me".to_string(),
            None,
            Some(1000 + i),
            200,
            vec![
                "authenticating",
                "authenticated",
                "loading profile",
                "request completed",
            ],
        ),
        Kind::Unauthorized => (
            "GET",
            "/me".to_string(),
            None,
            None,
            401,
            vec![
                "authenticating",
                "authentication failed",
                "request completed",
            ],
        ),
        Kind::Checkout => (
            "POST",
            format!("/checkout/{i}"),
            Some(i),
            None,
            500,
            vec!["checking out", "checkout failed", "request completed"],
        ),
    };
    Plan {
        id,
        kind,
        method,
        path,
        order_id,
        user_id,
        status,
        messages,
    }
}

/// Sends the request of `plan`; returns (status, echoed x-request-id, body).
async fn send(client: HttpClient, addr: SocketAddr, plan: &Plan) -> (u16, String, Value) {
    let mut req = http::Request::builder()
        .method(plan.method)
        .uri(format!("http://{addr}{}", plan.path))
        .header("x-request-id", &plan.id);
    if let Some(user) = plan.user_id {
        req = req.header("authorization", format!("Bearer user-{user}"));
    }
    let res = client
        .request(req.body(Empty::new()).expect("request"))
        .await
        .expect("response");
    let status = res.status().as_u16();
    let echoed = res
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().expect("ascii id").to_owned())
        .unwrap_or_default();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, echoed, body)
}

fn expected_level(status: u16) -> &'static str {
    match status {
        500.. => "error",
        400..=499 => "warn",
        _ => "info",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_requests_each_see_only_their_own_context() {
    let capture = CaptureTransport::new();
    let base = base_at_info(&capture);
    base.with_context(json!({"service": "shop"}));
    let addr = start(base.clone()).await;
    let client = client();

    let plans: Vec<Plan> = (0..200).map(plan).collect();
    let tasks: Vec<_> = plans
        .iter()
        .map(|p| {
            let (client, p) = (client.clone(), p.clone());
            tokio::spawn(async move { send(client, addr, &p).await })
        })
        .collect();
    let mut responses = Vec::new();
    for t in tasks {
        responses.push(t.await.expect("client task"));
    }

    // Responses: status, the id echoed back, the body of this request.
    for (p, (status, echoed, body)) in plans.iter().zip(&responses) {
        assert_eq!(*status, p.status, "{}", p.id);
        assert_eq!(echoed, &p.id, "x-request-id echoed for {}", p.id);
        match p.kind {
            Kind::Order => assert_eq!(body["id"], p.order_id.unwrap()),
            Kind::Me => assert_eq!(body["user_id"], p.user_id.unwrap()),
            Kind::Checkout => assert_eq!(
                body["error"],
                format!("could not charge order {}", p.order_id.unwrap())
            ),
            _ => {}
        }
    }

    // Every captured line belongs to exactly one request we sent.
    let entries = capture.entries();
    let by_id: BTreeMap<&str, &Plan> = plans.iter().map(|p| (p.id.as_str(), p)).collect();
    let mut lines: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for e in &entries {
        let id = e["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("line without a request_id: {e}"));
        assert!(by_id.contains_key(id), "unknown request id {id}: {e}");
        lines.entry(id).or_default().push(e);
    }
    assert_eq!(lines.len(), 200, "every request logged");
    let expected_total: usize = plans.iter().map(|p| p.messages.len()).sum();
    assert_eq!(entries.len(), expected_total);

    for p in &plans {
        let mine = &lines[p.id.as_str()];
        let messages: Vec<&str> = mine.iter().map(|e| e["msg"].as_str().unwrap()).collect();
        assert_eq!(messages, p.messages, "lines of {}", p.id);
        let mut authenticated = false;
        for e in mine {
            // The request's own context, and the base logger's.
            assert_eq!(e["method"], p.method, "{e}");
            assert_eq!(e["path"], p.path.as_str(), "{e}");
            assert_eq!(e["service"], "shop", "{e}");
            // Ids of this request only.
            if let Some(order_id) = e.get("order_id") {
                assert_eq!(Some(order_id.as_u64().unwrap()), p.order_id, "{e}");
            }
            if e["msg"] == "authenticated" {
                authenticated = true;
            }
            match (p.user_id, authenticated) {
                (Some(user), true) => assert_eq!(e["user_id"], user, "{e}"),
                _ => assert!(e.get("user_id").is_none(), "user_id before auth: {e}"),
            }
        }
        if p.kind == Kind::Order {
            assert_eq!(
                mine[1]["sku"],
                format!("SKU-{:04}", p.order_id.unwrap() % 7)
            );
        }
        if p.kind == Kind::Checkout {
            let failed = mine[1];
            assert_eq!(failed["level"], "error");
            assert_eq!(
                failed["err"]["message"],
                format!("could not charge order {}", p.order_id.unwrap())
            );
            assert_eq!(
                failed["err"]["sources"],
                json!([
                    "payment gateway unavailable",
                    "connection reset by card processor"
                ])
            );
        }
        // The completion entry.
        let done = mine.last().unwrap();
        assert_eq!(done["msg"], "request completed");
        assert_eq!(done["status"], p.status, "{done}");
        assert_eq!(done["level"], expected_level(p.status), "{done}");
        let latency = done["latency_ms"].as_f64().expect("latency_ms is a number");
        assert!(latency >= 0.0, "{done}");
    }

    // The per-request context never reached the base logger.
    assert_eq!(
        base.get_context(),
        json!({"service": "shop"}).as_object().unwrap().clone()
    );
}

#[tokio::test]
async fn missing_or_bad_request_ids_are_replaced_and_returned() {
    let capture = CaptureTransport::new();
    let addr = start(base_at_info(&capture)).await;
    let client = client();

    let mut seen = HashSet::new();
    for incoming in [
        None,
        Some("has space"),
        Some(&*"x".repeat(129)),
        Some("a/b"),
    ] {
        let mut req = http::Request::get(format!("http://{addr}/orders/1"));
        if let Some(v) = incoming {
            req = req.header("x-request-id", v);
        }
        let res = client
            .request(req.body(Empty::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert!(seen.insert(id.clone()), "ids are unique");
        let lines: Vec<Value> = capture
            .entries()
            .into_iter()
            .filter(|e| e["request_id"] == id.as_str())
            .collect();
        assert_eq!(lines.len(), 4, "all lines of the request carry {id}");
    }
    assert_eq!(capture.len(), 16);
}

// ---------------------------------------------------------------------------
// The admin routes and the level header.

const TOKEN: &str = "admin-s3cret";
/// A hang detector, not a timing assertion.
const WAIT: Duration = Duration::from_secs(20);

/// The app with the admin routes: its control, the base logger's capture and
/// its address.
async fn start_admin() -> (LevelControl, CaptureTransport, SocketAddr) {
    let levels = LevelControl::new(Level::Info);
    let capture = CaptureTransport::new();
    let base = LogLayer::builder()
        .transport(capture.clone())
        .level_control(levels.clone())
        .build();
    let admin = admin::Admin {
        levels: levels.clone(),
        token: TOKEN.into(),
    };
    let addr = start_with(base, Some(admin)).await;
    (levels, capture, addr)
}

/// Sends one request with a text body; returns (status, JSON body).
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Value) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
    let res = tokio::time::timeout(WAIT, client.request(req))
        .await
        .expect("no hang")
        .expect("response");
    let status = res.status().as_u16();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

const ADMIN: (&str, &str) = ("authorization", "Bearer admin-s3cret");

/// `GET /orders/42` as request `id`; returns the messages of its lines.
async fn order_lines(addr: SocketAddr, capture: &CaptureTransport, id: &str) -> Vec<String> {
    order_lines_with(addr, capture, id, &[]).await
}

async fn order_lines_with(
    addr: SocketAddr,
    capture: &CaptureTransport,
    id: &str,
    headers: &[(&str, &str)],
) -> Vec<String> {
    let mut headers = headers.to_vec();
    headers.push(("x-request-id", id));
    assert_eq!(call(addr, "GET", "/orders/42", &headers, "").await.0, 200);
    capture
        .entries()
        .iter()
        .filter(|e| e["request_id"] == id)
        .map(|e| e["msg"].as_str().unwrap().to_owned())
        .collect()
}

const DEBUG_LINES: [&str; 2] = ["cache miss, querying", "view recorded"];

fn has_debug(lines: &[String]) -> bool {
    DEBUG_LINES.iter().any(|d| lines.iter().any(|l| l == d))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_route_sets_reads_and_overrides_levels_that_revert_on_expiry() {
    let (levels, capture, addr) = start_admin().await;

    let (status, body) = call(addr, "GET", "/admin/levels", &[ADMIN], "").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"spec": "info", "base": "info", "override_secs_left": null})
    );
    let lines = order_lines(addr, &capture, "before").await;
    assert!(!has_debug(&lines), "{lines:?}");

    // An override for an hour: debug lines appear, from the handler and from
    // the spawned task.
    let (status, body) = call(addr, "PUT", "/admin/levels?for=1h", &[ADMIN], "debug").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["spec"], "debug");
    assert_eq!(body["base"], "info");
    assert!(body["override_secs_left"].as_f64().unwrap() > 0.0, "{body}");
    let lines = order_lines(addr, &capture, "during").await;
    for d in DEBUG_LINES {
        assert!(lines.iter().any(|l| l == d), "{d} in {lines:?}");
    }
    // The change left an audit line.
    assert!(capture
        .entries()
        .iter()
        .any(|e| e["msg"] == "admin: log levels changed" && e["spec"] == "debug"));

    // A short override ends on its own: poll until the debug lines stop.
    let (status, _) = call(addr, "PUT", "/admin/levels?for=200ms", &[ADMIN], "debug").await;
    assert_eq!(status, 200);
    let start = Instant::now();
    let mut n = 0;
    loop {
        n += 1;
        let lines = order_lines(addr, &capture, &format!("expiring-{n}")).await;
        if !has_debug(&lines) {
            break;
        }
        assert!(start.elapsed() < WAIT, "the override never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, body) = call(addr, "GET", "/admin/levels", &[ADMIN], "").await;
    assert_eq!(
        body,
        json!({"spec": "info", "base": "info", "override_secs_left": null})
    );

    // Without a duration the spec replaces the base; DELETE ends an override.
    let (status, body) = call(
        addr,
        "PUT",
        "/admin/levels",
        &[ADMIN],
        "warn,loglayer_suite=debug",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(levels.base_spec(), "warn,loglayer_suite=debug");
    let (status, _) = call(addr, "PUT", "/admin/levels?for=90", &[ADMIN], "trace").await;
    assert_eq!(status, 200);
    assert_eq!(levels.spec(), "trace");
    let (status, body) = call(addr, "DELETE", "/admin/levels/override", &[ADMIN], "").await;
    assert_eq!(status, 200);
    assert_eq!(body["spec"], "warn,loglayer_suite=debug");
    assert_eq!(body["override_secs_left"], Value::Null);
}

#[tokio::test]
async fn a_bad_spec_gets_400_with_the_parsers_message_and_keeps_the_old_set() {
    let (levels, capture, addr) = start_admin().await;

    let (status, body) = call(addr, "PUT", "/admin/levels", &[ADMIN], "debug,app::db=loud").await;
    assert_eq!(status, 400);
    let error = body["error"].as_str().unwrap();
    assert!(error.contains(r#""app::db=loud" at column 7"#), "{error}");
    assert!(error.contains(r#"unknown level "loud""#), "{error}");

    let (status, body) = call(addr, "PUT", "/admin/levels?for=soon", &[ADMIN], "debug").await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("invalid duration"),
        "{body}"
    );

    assert_eq!(levels.spec(), "info");
    let lines = order_lines(addr, &capture, "after-bad").await;
    assert!(!has_debug(&lines), "{lines:?}");
}

#[tokio::test]
async fn the_admin_routes_need_the_token_and_exist_only_with_one() {
    let (levels, _capture, addr) = start_admin().await;
    for headers in [
        &[][..],
        &[("authorization", "Bearer wrong")][..],
        &[("authorization", "admin-s3cret")][..],
        &[("x-debug-token", TOKEN)][..],
    ] {
        assert_eq!(call(addr, "GET", "/admin/levels", headers, "").await.0, 401);
        assert_eq!(
            call(addr, "PUT", "/admin/levels", headers, "trace").await.0,
            401
        );
        assert_eq!(
            call(addr, "DELETE", "/admin/levels/override", headers, "")
                .await
                .0,
            401
        );
    }
    assert_eq!(levels.spec(), "info");

    let addr = start(base_at_info(&CaptureTransport::new())).await;
    assert_eq!(
        call(addr, "GET", "/admin/levels", &[ADMIN], "").await.0,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_level_header_rule_debugs_one_request_alone() {
    let (_levels, capture, addr) = start_admin().await;

    let forced = [("x-log-level", "debug"), ("x-debug-token", TOKEN)];
    let (a, b, c) = tokio::join!(
        order_lines_with(addr, &capture, "forced", &forced),
        order_lines(addr, &capture, "plain"),
        order_lines_with(addr, &capture, "no-token", &[("x-log-level", "debug")]),
    );
    for d in DEBUG_LINES {
        assert!(a.iter().any(|l| l == d), "{d} in {a:?}");
    }
    assert!(!has_debug(&b), "{b:?}");
    assert!(!has_debug(&c), "{c:?}");
    let forced_lines: Vec<Value> = capture
        .entries()
        .into_iter()
        .filter(|e| e["request_id"] == "forced")
        .collect();
    assert!(forced_lines.iter().all(|e| e["log_level"] == "debug"));
}
