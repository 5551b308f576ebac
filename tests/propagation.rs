//! Trace context across two real services on loopback: service A
//! (`RequestLoggerLayer`) calls service B (`RequestLoggerLayer`) through
//! `loglayer::propagation`'s reqwest middleware or its tower client layer
//! (around hyper's client). B's lines must carry A's `trace_id` and
//! `request_id`, and B's `parent_span_id` must be A's `span_id`. The
//! `traceparent` A sends is read back with OpenTelemetry's own
//! `TraceContextPropagator`, and headers that propagator injects must be
//! accepted by our middleware with the same ids.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use loglayer::propagation::{outgoing_headers, Propagate, PropagateLayer, PropagateMiddleware};
use loglayer::tower::RequestLoggerLayer;
use loglayer::transport::CaptureTransport;
use loglayer::LogLayer;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::{json, Value};
use tower::{Layer, ServiceExt};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";

type HyperClient = Client<HttpConnector, Empty<Bytes>>;

/// How A calls B.
#[derive(Clone)]
enum Via {
    /// `reqwest-middleware` with [`PropagateMiddleware`].
    Reqwest(ClientWithMiddleware),
    /// hyper's client behind [`PropagateLayer`].
    Tower(Propagate<HyperClient>),
}

impl Via {
    fn reqwest() -> Via {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        Via::Reqwest(
            ClientBuilder::new(client)
                .with(PropagateMiddleware::new())
                .build(),
        )
    }

    fn tower() -> Via {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Via::Tower(PropagateLayer::new().layer(client))
    }

    fn name(&self) -> &'static str {
        match self {
            Via::Reqwest(_) => "reqwest",
            Via::Tower(_) => "tower",
        }
    }

    /// GETs `url` with `headers` (plus whatever the client adds) and parses
    /// the JSON body.
    async fn get(&self, url: String, headers: &[(&str, &str)]) -> Value {
        let body = match self {
            Via::Reqwest(client) => {
                let mut req = client.get(url);
                for &(name, value) in headers {
                    req = req.header(name, value);
                }
                let res = req.send().await.expect("B answers");
                res.text().await.expect("B's body")
            }
            Via::Tower(client) => {
                let mut req = Request::get(url);
                for &(name, value) in headers {
                    req = req.header(name, value);
                }
                let req = req.body(Empty::new()).unwrap();
                let res = client.clone().oneshot(req).await.expect("B answers");
                let bytes = res.into_body().collect().await.unwrap().to_bytes();
                String::from_utf8(bytes.to_vec()).unwrap()
            }
        };
        serde_json::from_str(&body).expect("B answers JSON")
    }
}

/// Binds an ephemeral loopback port and serves `app` there.
async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Service B: logs one line and answers with the trace headers it received.
fn service_b(capture: &CaptureTransport) -> Router {
    async fn stock(headers: HeaderMap) -> Json<Value> {
        loglayer::info!("checking stock");
        let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_owned());
        Json(json!({
            "traceparent": header("traceparent"),
            "tracestate": header("tracestate"),
            "x-request-id": header("x-request-id"),
        }))
    }
    Router::new()
        .route("/stock", get(stock))
        .layer(RequestLoggerLayer::new(LogLayer::new(capture.clone())))
}

#[derive(Clone)]
struct AState {
    via: Via,
    b: SocketAddr,
}

/// Service A: logs, calls B through `via`, and answers with what B saw.
/// `/explicit` sets its own `traceparent` and `x-request-id` on the call.
fn service_a(capture: &CaptureTransport, via: Via, b: SocketAddr) -> Router {
    async fn order(State(s): State<AState>) -> Json<Value> {
        loglayer::info!("placing order");
        let seen = s.via.get(format!("http://{}/stock", s.b), &[]).await;
        loglayer::info!("order placed");
        Json(seen)
    }
    async fn explicit(State(s): State<AState>) -> Json<Value> {
        let tp = format!("00-{TRACE_ID}-{SPAN_ID}-00");
        let headers = [("traceparent", tp.as_str()), ("x-request-id", "mine")];
        Json(s.via.get(format!("http://{}/stock", s.b), &headers).await)
    }
    Router::new()
        .route("/order", get(order))
        .route("/explicit", get(explicit))
        .with_state(AState { via, b })
        .layer(RequestLoggerLayer::new(LogLayer::new(capture.clone())))
}

/// What one request to A left behind.
struct Run {
    /// A's lines.
    a: Vec<Value>,
    /// B's lines.
    b: Vec<Value>,
    /// The headers B received, as B's body reported them (through A).
    seen_by_b: Value,
}

/// Starts B, then A calling B through `via`, and sends one request to
/// `path` on A with `headers` (from a plain client, outside every scope).
async fn two_services(via: Via, path: &str, headers: &[(&str, &str)]) -> Run {
    let (capture_a, capture_b) = (CaptureTransport::new(), CaptureTransport::new());
    let b = serve(service_b(&capture_b)).await;
    let a = serve(service_a(&capture_a, via, b)).await;
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut req = plain.get(format!("http://{a}{path}"));
    for &(name, value) in headers {
        req = req.header(name, value);
    }
    let res = req.send().await.expect("A answers");
    assert_eq!(res.status(), 200);
    let seen_by_b = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    Run {
        a: capture_a.entries(),
        b: capture_b.entries(),
        seen_by_b,
    }
}

/// The value of `key`, the same on every line of `entries`.
fn one<'a>(entries: &'a [Value], key: &str) -> &'a Value {
    let value = &entries[0][key];
    for e in entries {
        assert_eq!(&e[key], value, "{key} differs between lines: {e}");
    }
    value
}

fn is_hex_id(id: &Value, len: usize) -> bool {
    id.as_str().is_some_and(|id| {
        id.len() == len
            && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && id.bytes().any(|b| b != b'0')
    })
}

/// The headers B reported, as the map OpenTelemetry's extractor reads.
fn header_map(seen: &Value) -> HashMap<String, String> {
    seen.as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect()
}

/// `traceparent` as OpenTelemetry's propagator reads it.
fn extract(headers: &HashMap<String, String>) -> SpanContext {
    let cx = TraceContextPropagator::new().extract(headers);
    cx.span().span_context().clone()
}

/// B joined A's trace: same `trace_id` and `request_id`, B's
/// `parent_span_id` is A's `span_id`, and B got a span id of its own; the
/// `traceparent` B received says the same to OpenTelemetry's propagator.
fn assert_b_joined_a(run: &Run, why: &str) {
    assert_eq!(run.a.len(), 3, "{why}: {:?}", run.a); // placing, placed, completed
    assert_eq!(run.b.len(), 2, "{why}: {:?}", run.b); // checking, completed
    assert_eq!(run.b[0]["msg"], "checking stock");

    let a_trace = one(&run.a, "trace_id");
    let a_span = one(&run.a, "span_id");
    let a_request = one(&run.a, "request_id");
    let a_flags = one(&run.a, "trace_flags");
    assert!(is_hex_id(a_trace, 32), "{why}: {a_trace}");
    assert!(is_hex_id(a_span, 16), "{why}: {a_span}");

    assert_eq!(one(&run.b, "trace_id"), a_trace, "{why}");
    assert_eq!(one(&run.b, "request_id"), a_request, "{why}");
    assert_eq!(one(&run.b, "parent_span_id"), a_span, "{why}");
    assert_eq!(one(&run.b, "trace_flags"), a_flags, "{why}");
    let b_span = one(&run.b, "span_id");
    assert!(is_hex_id(b_span, 16), "{why}: {b_span}");
    assert_ne!(b_span, a_span, "{why}: B has a span of its own");

    let (trace, span, flags) = (
        a_trace.as_str().unwrap(),
        a_span.as_str().unwrap(),
        a_flags.as_str().unwrap(),
    );
    assert_eq!(
        run.seen_by_b["traceparent"],
        format!("00-{trace}-{span}-{flags}"),
        "{why}"
    );
    assert_eq!(&run.seen_by_b["x-request-id"], a_request, "{why}");

    // The independent implementation reads the same ids.
    let sc = extract(&header_map(&run.seen_by_b));
    assert!(sc.is_valid() && sc.is_remote(), "{why}: {sc:?}");
    assert_eq!(sc.trace_id().to_string(), trace, "{why}");
    assert_eq!(sc.span_id().to_string(), span, "{why}");
    let sampled = u8::from_str_radix(flags, 16).unwrap() & 1 == 1;
    assert_eq!(sc.is_sampled(), sampled, "{why}");
}

fn both() -> [Via; 2] {
    [Via::reqwest(), Via::tower()]
}

#[tokio::test]
async fn a_callers_trace_goes_from_a_to_b_through_both_clients() {
    let tp = format!("00-{TRACE_ID}-{SPAN_ID}-01");
    for via in both() {
        let why = via.name();
        let run = two_services(
            via,
            "/order",
            &[("traceparent", &tp), ("x-request-id", "order-1")],
        )
        .await;
        assert_b_joined_a(&run, why);
        assert_eq!(one(&run.a, "trace_id"), TRACE_ID, "{why}");
        assert_eq!(one(&run.a, "parent_span_id"), SPAN_ID, "{why}");
        assert_ne!(one(&run.a, "span_id"), SPAN_ID, "{why}");
        assert_eq!(one(&run.b, "request_id"), "order-1", "{why}");
        assert!(extract(&header_map(&run.seen_by_b)).is_sampled(), "{why}");
    }
}

#[tokio::test]
async fn without_a_traceparent_a_starts_a_trace_and_b_joins_it() {
    for via in both() {
        let why = via.name();
        let run = two_services(via, "/order", &[]).await;
        assert_b_joined_a(&run, why);
        assert_eq!(
            one(&run.a, "trace_flags"),
            "01",
            "{why}: a new trace is sampled"
        );
        assert!(
            run.a.iter().all(|e| e.get("parent_span_id").is_none()),
            "{why}"
        );
        // The generated request id went along too.
        assert_eq!(one(&run.a, "request_id").as_str().unwrap().len(), 32);
    }
}

#[tokio::test]
async fn an_invalid_traceparent_starts_a_new_trace_that_b_joins() {
    let upper = format!("00-{}-{SPAN_ID}-01", TRACE_ID.to_uppercase());
    let zero_span = format!("00-{TRACE_ID}-{}-01", "0".repeat(16));
    for tp in [upper.as_str(), zero_span.as_str(), "garbage"] {
        for via in both() {
            let why = format!("{} {tp}", via.name());
            let run = two_services(
                via,
                "/order",
                &[("traceparent", tp), ("tracestate", "congo=t61rcWkgMzE")],
            )
            .await;
            assert_b_joined_a(&run, &why);
            assert_ne!(one(&run.a, "trace_id"), TRACE_ID, "{why}");
            assert!(
                run.a.iter().all(|e| e.get("parent_span_id").is_none()),
                "{why}"
            );
            assert!(run.a.iter().all(|e| e.get("tracestate").is_none()), "{why}");
            assert_eq!(run.seen_by_b["tracestate"], Value::Null, "{why}");
        }
    }
}

#[tokio::test]
async fn tracestate_passes_through_unchanged() {
    let tp = format!("00-{TRACE_ID}-{SPAN_ID}-01");
    let state = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
    for via in both() {
        let why = via.name();
        let run = two_services(
            via,
            "/order",
            &[("traceparent", &tp), ("tracestate", state)],
        )
        .await;
        assert_b_joined_a(&run, why);
        assert_eq!(one(&run.a, "tracestate"), state, "{why}");
        assert_eq!(one(&run.b, "tracestate"), state, "{why}");
        assert_eq!(run.seen_by_b["tracestate"], state, "{why}");
        let sc = extract(&header_map(&run.seen_by_b));
        assert_eq!(sc.trace_state().header(), state, "{why}");
    }
}

#[tokio::test]
async fn headers_injected_by_opentelemetry_are_accepted_with_the_same_ids() {
    let trace_id = TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap();
    let span_id = SpanId::from_hex("b7ad6b7169203331").unwrap();
    let state = TraceState::from_str("vendor=abc,other=x1").unwrap();
    for (flags, sampled) in [(TraceFlags::SAMPLED, "01"), (TraceFlags::default(), "00")] {
        let parent = SpanContext::new(trace_id, span_id, flags, true, state.clone());
        let cx = opentelemetry::Context::new().with_remote_span_context(parent);
        let mut injected = HashMap::new();
        TraceContextPropagator::new().inject_context(&cx, &mut injected);
        let headers: Vec<(&str, &str)> = injected
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(headers.len(), 2, "{injected:?}"); // traceparent, tracestate

        for via in both() {
            let why = format!("{} {sampled}", via.name());
            let run = two_services(via, "/order", &headers).await;
            assert_b_joined_a(&run, &why);
            assert_eq!(one(&run.a, "trace_id"), &trace_id.to_string(), "{why}");
            assert_eq!(one(&run.a, "parent_span_id"), &span_id.to_string(), "{why}");
            assert_eq!(one(&run.a, "trace_flags"), sampled, "{why}");
            assert_eq!(one(&run.a, "tracestate"), "vendor=abc,other=x1", "{why}");
            assert_eq!(one(&run.b, "tracestate"), "vendor=abc,other=x1", "{why}");
        }
    }
}

#[tokio::test]
async fn headers_the_caller_set_are_not_overwritten() {
    for via in both() {
        let why = via.name();
        let run = two_services(via, "/explicit", &[("tracestate", "a=1")]).await;
        assert_eq!(
            run.seen_by_b["traceparent"],
            format!("00-{TRACE_ID}-{SPAN_ID}-00"),
            "{why}"
        );
        assert_eq!(run.seen_by_b["x-request-id"], "mine", "{why}");
        assert_eq!(run.seen_by_b["tracestate"], Value::Null, "{why}");
        assert_eq!(one(&run.b, "trace_id"), TRACE_ID, "{why}");
        assert_eq!(one(&run.b, "parent_span_id"), SPAN_ID, "{why}");
    }
}

#[tokio::test]
async fn concurrent_requests_each_carry_their_own_trace() {
    for via in both() {
        let (capture_a, capture_b) = (CaptureTransport::new(), CaptureTransport::new());
        let b = serve(service_b(&capture_b)).await;
        let a = serve(service_a(&capture_a, via.clone(), b)).await;
        let plain = reqwest::Client::builder().no_proxy().build().unwrap();
        let calls = (0..40).map(|i| {
            let req = plain
                .get(format!("http://{a}/order"))
                .header("x-request-id", format!("req-{i}"));
            async move { assert_eq!(req.send().await.unwrap().status(), 200) }
        });
        futures::future::join_all(calls).await;

        let (a_lines, b_lines) = (capture_a.entries(), capture_b.entries());
        assert_eq!((a_lines.len(), b_lines.len()), (120, 80), "{}", via.name());
        for i in 0..40 {
            let id = format!("req-{i}");
            let a: Vec<_> = a_lines
                .iter()
                .filter(|e| e["request_id"] == id)
                .cloned()
                .collect();
            let b: Vec<_> = b_lines
                .iter()
                .filter(|e| e["request_id"] == id)
                .cloned()
                .collect();
            assert_eq!((a.len(), b.len()), (3, 2), "{id}");
            assert_eq!(one(&b, "trace_id"), one(&a, "trace_id"), "{id}");
            assert_eq!(one(&b, "parent_span_id"), one(&a, "span_id"), "{id}");
        }
    }
}

#[tokio::test]
async fn outgoing_headers_is_empty_outside_a_request() {
    assert!(outgoing_headers().is_empty(), "no scope");
    let plain = LogLayer::new(CaptureTransport::new());
    plain.with_context(json!({"service": "shop"}));
    let headers = loglayer::scope(plain, async { outgoing_headers() }).await;
    assert!(
        headers.is_empty(),
        "a scope without trace keys: {headers:?}"
    );

    // After a request through both services, nothing is left behind here.
    let run = two_services(Via::reqwest(), "/order", &[]).await;
    assert_b_joined_a(&run, "reqwest");
    assert!(outgoing_headers().is_empty(), "no scope after the request");
}
