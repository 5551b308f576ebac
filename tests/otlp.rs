//! `OtlpTransport` against a receiver built on the official OTLP protobuf
//! definitions (`opentelemetry-proto`): the mapping checked field by field,
//! `from_env` in child processes, and the receiver absent or killed mid-run.

use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::{body::Bytes, routing::post, Router};
use loglayer::otlp::{OtlpProtocol, OtlpTransport};
use loglayer::LogLayer;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use serde_json::json;

/// A tiny OTLP/HTTP receiver: `POST /v1/logs`, decoded requests sent to the test.
struct Receiver {
    addr: SocketAddr,
    requests: mpsc::Receiver<ExportLogsServiceRequest>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Receiver {
    fn start() -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (tx, requests) = mpsc::channel();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            let app = Router::new().route(
                "/v1/logs",
                post(move |body: Bytes| {
                    let tx = tx.clone();
                    async move {
                        let req = ExportLogsServiceRequest::decode(body).expect("valid protobuf");
                        let _ = tx.send(req);
                        ExportLogsServiceResponse::default().encode_to_vec()
                    }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            addr,
            requests,
            runtime: Some(runtime),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far (waits a little for the first).
    fn received(&self) -> Vec<ExportLogsServiceRequest> {
        let mut out: Vec<_> = self
            .requests
            .recv_timeout(Duration::from_secs(10))
            .into_iter()
            .collect();
        out.extend(self.requests.try_iter());
        out
    }

    /// Stops answering at once: listener and open connections dropped.
    fn kill(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn free_port_nobody_listens_on() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

fn records(reqs: &[ExportLogsServiceRequest]) -> Vec<LogRecord> {
    reqs.iter()
        .flat_map(|r| &r.resource_logs)
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| sl.log_records.clone())
        .collect()
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    let found: Vec<_> = attrs.iter().filter(|kv| kv.key == key).collect();
    assert!(
        found.len() <= 1,
        "attribute {key} appears {} times",
        found.len()
    );
    found.first()?.value.as_ref()?.value.as_ref()
}

fn string(s: &str) -> Value {
    Value::StringValue(s.to_owned())
}

fn any(v: Value) -> AnyValue {
    AnyValue { value: Some(v) }
}

#[derive(Debug)]
struct Outer(std::io::Error);
impl std::fmt::Display for Outer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("payment failed")
    }
}
impl std::error::Error for Outer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";

#[test]
fn otlp_mapping_is_exact_on_the_official_definitions() {
    let receiver = Receiver::start();
    let transport = OtlpTransport::builder()
        .endpoint(receiver.endpoint())
        .service_name("checkout")
        .resource_attribute("deployment.environment.name", "test")
        .build()
        .unwrap();
    let log = LogLayer::new(transport);
    log.set_level(loglayer::Level::Trace);
    log.with_context(json!({
        "request_id": "7f3a",
        "trace_id": TRACE_ID,
        "span_id": SPAN_ID,
        "trace_flags": "01",
        "shared": "from context",
    }));
    let before = std::time::SystemTime::now();
    log.with_metadata(json!({
        "int": 42,
        "negative": -7,
        "float": 1.5,
        "yes": true,
        "s": "text",
        "nested": {"a": 1, "b": [1, "x"], "c": {"d": false}},
        "list": [1, 2.5, false, "y"],
        "shared": "from metadata",
        "nothing": null,
    }))
    .with_error(&Outer(std::io::Error::other("card declined")))
    .error("charging");
    log.trace("t");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.fatal("f");
    log.flush();

    let reqs = receiver.received();
    let resource = reqs[0].resource_logs[0].resource.as_ref().unwrap();
    assert_eq!(
        attr(&resource.attributes, "service.name"),
        Some(&string("checkout"))
    );
    assert_eq!(
        attr(&resource.attributes, "deployment.environment.name"),
        Some(&string("test"))
    );
    let scope = reqs[0].resource_logs[0].scope_logs[0]
        .scope
        .as_ref()
        .unwrap();
    assert_eq!(scope.name, "loglayer");

    let recs = records(&reqs);
    assert_eq!(recs.len(), 6);
    let r = &recs[0];
    assert_eq!(r.severity_number, 17);
    assert_eq!(r.severity_text, "ERROR");
    assert_eq!(r.body.as_ref().unwrap().value, Some(string("charging")));
    assert_eq!(hex(&r.trace_id), TRACE_ID);
    assert_eq!(hex(&r.span_id), SPAN_ID);
    assert_eq!(r.flags & 0xff, 1);
    let ns = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    };
    assert!(r.time_unix_nano >= ns(before) && r.time_unix_nano <= r.observed_time_unix_nano);

    let a = &r.attributes;
    assert_eq!(attr(a, "request_id"), Some(&string("7f3a")));
    assert_eq!(attr(a, "int"), Some(&Value::IntValue(42)));
    assert_eq!(attr(a, "negative"), Some(&Value::IntValue(-7)));
    assert_eq!(attr(a, "float"), Some(&Value::DoubleValue(1.5)));
    assert_eq!(attr(a, "yes"), Some(&Value::BoolValue(true)));
    assert_eq!(attr(a, "s"), Some(&string("text")));
    assert_eq!(attr(a, "shared"), Some(&string("from metadata")));
    assert_eq!(attr(a, "nothing"), None);
    // The trace context is not repeated as attributes.
    for key in ["trace_id", "span_id", "trace_flags"] {
        assert_eq!(attr(a, key), None, "{key}");
    }
    let Some(Value::KvlistValue(nested)) = attr(a, "nested") else {
        panic!("nested is not a map: {:?}", attr(a, "nested"))
    };
    assert_eq!(attr(&nested.values, "a"), Some(&Value::IntValue(1)));
    let Some(Value::ArrayValue(b)) = attr(&nested.values, "b") else {
        panic!("nested.b is not a list")
    };
    assert_eq!(b.values, [any(Value::IntValue(1)), any(string("x"))]);
    let Some(Value::KvlistValue(c)) = attr(&nested.values, "c") else {
        panic!("nested.c is not a map")
    };
    assert_eq!(attr(&c.values, "d"), Some(&Value::BoolValue(false)));
    let Some(Value::ArrayValue(list)) = attr(a, "list") else {
        panic!("list is not a list")
    };
    assert_eq!(
        list.values,
        [
            any(Value::IntValue(1)),
            any(Value::DoubleValue(2.5)),
            any(Value::BoolValue(false)),
            any(string("y")),
        ]
    );
    assert_eq!(attr(a, "exception.type"), Some(&string("error")));
    assert_eq!(
        attr(a, "exception.message"),
        Some(&string("payment failed"))
    );
    assert_eq!(
        attr(a, "exception.stacktrace"),
        Some(&string("card declined"))
    );
    assert_eq!(attr(a, "err"), None);

    let levels: Vec<_> = recs[1..]
        .iter()
        .map(|r| (r.severity_number, r.severity_text.as_str()))
        .collect();
    assert_eq!(
        levels,
        [
            (1, "TRACE"),
            (5, "DEBUG"),
            (9, "INFO"),
            (13, "WARN"),
            (21, "FATAL")
        ]
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn otlp_flush_returns_after_everything_before_it_is_exported() {
    let receiver = Receiver::start();
    let log = LogLayer::new(
        OtlpTransport::builder()
            .endpoint(receiver.endpoint())
            .batch_size(7)
            .batch_delay(Duration::from_secs(3600))
            .build()
            .unwrap(),
    );
    for i in 0..100 {
        log.with_metadata(json!({ "i": i })).info("n");
    }
    log.flush();
    // No waiting here: flush returned, so all 100 were received.
    let got: Vec<_> = receiver.requests.try_iter().collect();
    let recs = records(&got);
    assert_eq!(recs.len(), 100);
    let order: Vec<_> = recs
        .iter()
        .map(|r| match attr(&r.attributes, "i") {
            Some(Value::IntValue(i)) => *i,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(order, (0..100).collect::<Vec<_>>());
}

/// Checks that a call finished well within `bound` (a hang detector with a
/// wide margin, not a speed test).
fn within<T>(bound: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(took < bound, "{what} took {took:?}, bound {bound:?}");
    out
}

/// With nothing listening at the endpoint, on a current-thread tokio runtime
/// as a service would run: log calls return at once, `flush` and the drop
/// return within their bounds, and every entry is counted as dropped.
fn receiver_absent_never_blocks_and_counts(protocol: OtlpProtocol, message: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let before = loglayer::failures().transport_errors;
        let log = LogLayer::new(
            OtlpTransport::builder()
                .protocol(protocol)
                .endpoint(free_port_nobody_listens_on())
                .export_timeout(Duration::from_millis(300))
                .flush_timeout(Duration::from_secs(3))
                .build()
                .unwrap(),
        );
        within(Duration::from_secs(2), "50 log calls", || {
            for _ in 0..50 {
                log.info(message);
            }
        });
        within(Duration::from_secs(3 + 5), "flush", || log.flush());
        assert!(loglayer::failures().transport_errors >= before + 50);
        within(Duration::from_secs(3 + 5), "drop", || drop(log));
    });
}

#[test]
fn otlp_receiver_absent_never_blocks_and_counts_every_entry() {
    receiver_absent_never_blocks_and_counts(OtlpProtocol::HttpProtobuf, "nobody listens");
}

#[test]
fn otlp_grpc_receiver_absent_never_blocks_and_counts_every_entry() {
    // gRPC (tonic) runs on the export thread's own runtime, while the caller
    // is on a current-thread tokio runtime of its own.
    receiver_absent_never_blocks_and_counts(OtlpProtocol::Grpc, "nobody listens over grpc");
}

#[test]
fn otlp_grpc_silent_receiver_is_bounded() {
    silent_receiver_never_blocks_and_counts(OtlpProtocol::Grpc, "silent");
}

#[test]
fn otlp_full_queue_refuses_and_counts() {
    let before = loglayer::failures().transport_errors;
    let log = LogLayer::new(
        OtlpTransport::builder()
            .endpoint(free_port_nobody_listens_on())
            .queue_size(4)
            .batch_delay(Duration::from_secs(3600))
            .export_timeout(Duration::from_millis(200))
            .flush_timeout(Duration::from_secs(2))
            .build()
            .unwrap(),
    );
    within(Duration::from_secs(2), "100 log calls", || {
        for _ in 0..100 {
            log.info("x");
        }
    });
    assert!(loglayer::failures().transport_errors >= before + 96);
    within(Duration::from_secs(2 + 5), "drop", || drop(log));
}

#[test]
fn otlp_receiver_killed_mid_run() {
    let mut receiver = Receiver::start();
    let log = LogLayer::new(
        OtlpTransport::builder()
            .endpoint(receiver.endpoint())
            .export_timeout(Duration::from_millis(300))
            .flush_timeout(Duration::from_secs(3))
            .build()
            .unwrap(),
    );
    log.info("before");
    log.flush();
    assert_eq!(records(&receiver.received()).len(), 1);
    receiver.kill();
    let before = loglayer::failures().transport_errors;
    within(Duration::from_secs(2), "log calls", || {
        for _ in 0..20 {
            log.info("after");
        }
    });
    within(Duration::from_secs(3 + 5), "flush", || log.flush());
    assert!(loglayer::failures().transport_errors >= before + 20);
}

#[test]
fn otlp_slow_receiver_never_blocks_a_log_call() {
    silent_receiver_never_blocks_and_counts(OtlpProtocol::HttpProtobuf, "slow");
}

/// A receiver that accepts TCP connections and never answers (no HTTP
/// response, no HTTP/2 handshake): log calls return at once, `flush` and the
/// drop return within their bounds, and every entry is counted once its
/// export times out.
fn silent_receiver_never_blocks_and_counts(protocol: OtlpProtocol, message: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let before = loglayer::failures().transport_errors;
    let log = LogLayer::new(
        OtlpTransport::builder()
            .protocol(protocol)
            .endpoint(format!("http://{addr}"))
            .export_timeout(Duration::from_millis(500))
            .flush_timeout(Duration::from_secs(1))
            .build()
            .unwrap(),
    );
    within(Duration::from_secs(2), "log calls", || {
        for _ in 0..50 {
            log.info(message);
        }
    });
    within(Duration::from_secs(1 + 5), "flush", || log.flush());
    within(Duration::from_secs(1 + 5), "drop", || drop(log));
    // Settled later, within the export bound (+1 s backstop): all counted.
    let deadline = Instant::now() + Duration::from_secs(10);
    while loglayer::failures().transport_errors < before + 50 {
        assert!(Instant::now() < deadline, "drops not counted");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn otlp_protocol_names() {
    assert_eq!(
        OtlpProtocol::parse("http/protobuf").unwrap(),
        OtlpProtocol::HttpProtobuf
    );
    assert!(OtlpProtocol::parse("http/json")
        .unwrap_err()
        .to_string()
        .contains("http/json"));
}

/// `from_env` reads process-wide variables, so each case runs in a child
/// process (this test binary again, running only `otlp_from_env_child`).
fn child(mode: &str, vars: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "otlp_from_env_child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("LOGLAYER_OTLP_CHILD", mode);
    for name in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
    ] {
        cmd.env_remove(name);
    }
    cmd.envs(vars.iter().copied());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "child {mode} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn otlp_from_env_child() {
    match std::env::var("LOGLAYER_OTLP_CHILD").as_deref() {
        Ok("send") => {
            let log = LogLayer::new(OtlpTransport::from_env().unwrap());
            log.with_metadata(json!({"n": 1})).warn("from env");
            log.flush();
        }
        Ok("bad-protocol") => {
            let err = OtlpTransport::from_env().unwrap_err().to_string();
            assert!(err.contains("http/json"), "{err}");
        }
        Ok("grpc") => {
            // This suite enables `otlp-grpc` (without it: a clear error naming
            // the feature, checked in loglayer's own unit tests).
            let log = LogLayer::new(OtlpTransport::from_env().unwrap());
            log.warn("over grpc, nobody listens");
            log.flush();
        }
        _ => {} // not a child: nothing to do
    }
}

#[test]
fn otlp_from_env_honours_endpoint_protocol_and_service_name() {
    let receiver = Receiver::start();
    let endpoint = receiver.endpoint();
    child(
        "send",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_SERVICE_NAME", "billing"),
        ],
    );
    let reqs = receiver.received();
    let resource = reqs[0].resource_logs[0].resource.as_ref().unwrap();
    assert_eq!(
        attr(&resource.attributes, "service.name"),
        Some(&string("billing"))
    );
    let recs = records(&reqs);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].severity_number, 13);
    assert_eq!(attr(&recs[0].attributes, "n"), Some(&Value::IntValue(1)));

    child(
        "bad-protocol",
        &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
    );
    child(
        "grpc",
        &[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                &free_port_nobody_listens_on(),
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "300"),
        ],
    );
}

#[test]
fn otlp_ignores_the_exporters_own_crates() {
    let receiver = Receiver::start();
    let log = LogLayer::new(
        OtlpTransport::builder()
            .endpoint(receiver.endpoint())
            .build()
            .unwrap(),
    );
    // Through the `log` bridge, an entry keeps the record's target.
    let _ = loglayer::bridge::LogBridge::install();
    loglayer::sync_scope(log.clone(), || {
        for target in [
            "hyper_util::client::legacy",
            "reqwest::blocking",
            "my_app::orders",
        ] {
            log::logger().log(
                &log::Record::builder()
                    .level(log::Level::Info)
                    .target(target)
                    .args(format_args!("from {target}"))
                    .build(),
            );
        }
    });
    log.flush();
    let bodies: Vec<_> = records(&receiver.received())
        .into_iter()
        .map(|r| r.body.unwrap().value.unwrap())
        .collect();
    assert_eq!(bodies, [string("from my_app::orders")]);
}

/// Every way an entry's context reaches the transport — the logger's own
/// (shared with the queued record), a context changed after the call, lazy
/// values, `raw`'s replacement, a muted one — and queued records reusing the
/// buffers of exported ones: each record holds exactly its own entry's fields.
#[test]
fn otlp_records_hold_their_own_fields_whatever_the_context_path() {
    use loglayer::{Level, RawEntry};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    let receiver = Receiver::start();
    let transport = OtlpTransport::builder()
        .endpoint(receiver.endpoint())
        .build()
        .unwrap();
    let log = LogLayer::new(transport);

    // A first batch with many fields, exported, so that later records reuse
    // its (larger) buffers.
    log.with_context(json!({"a": 1, "shared": "context"}));
    for i in 0..50u64 {
        log.with_metadata(json!({"m": i, "shared": "metadata", "big": "x".repeat(200)}))
            .info("first");
    }
    log.flush();
    let first = records(&receiver.received());
    assert_eq!(first.len(), 50);
    assert!(first.iter().all(|r| {
        attr(&r.attributes, "shared") == Some(&string("metadata"))
            && attr(&r.attributes, "a") == Some(&Value::IntValue(1))
    }));

    // The logger's own context, then changed after the call (before export).
    log.info("own");
    log.with_context(json!({"b": 2}));
    log.info("changed");
    // A context large enough to be shared with the queued record rather
    // than copied; changed again before the export.
    log.with_context(json!({"big_ctx": "y".repeat(600)}));
    log.info("large");
    log.with_context(json!({"c": 3}));
    // Lazy values: computed for each entry.
    let n = Arc::new(AtomicU64::new(7));
    let n2 = Arc::clone(&n);
    log.with_context(json!({"lazy": loglayer::lazy(move || n2.load(Ordering::SeqCst))}));
    log.info("lazy");
    n.store(8, Ordering::SeqCst);
    // `raw` replaces the context and adds root fields, which win over
    // metadata of the same key.
    log.raw(
        RawEntry::new(Level::Warn, "raw")
            .context(json!({"replaced": true}))
            .metadata(json!({"k": "metadata", "only_meta": 1}))
            .root(json!({"k": "root"})),
    );
    log.mute_context();
    log.info("muted");
    log.flush();

    let recs = records(&receiver.received());
    let by_body = |body: &str| {
        recs.iter()
            .find(|r| r.body.as_ref().and_then(|b| b.value.clone()) == Some(string(body)))
            .unwrap_or_else(|| panic!("no record {body}"))
    };
    let keys = |body: &str| {
        let mut k: Vec<String> = by_body(body)
            .attributes
            .iter()
            .map(|kv| kv.key.clone())
            .collect();
        k.sort();
        k
    };
    assert_eq!(recs.len(), 6);
    assert_eq!(keys("own"), ["a", "shared"]);
    assert_eq!(
        attr(&by_body("own").attributes, "shared"),
        Some(&string("context"))
    );
    assert_eq!(keys("changed"), ["a", "b", "shared"]);
    assert_eq!(keys("large"), ["a", "b", "big_ctx", "shared"]);
    assert_eq!(
        attr(&by_body("large").attributes, "big_ctx"),
        Some(&string(&"y".repeat(600)))
    );
    assert_eq!(keys("lazy"), ["a", "b", "big_ctx", "c", "lazy", "shared"]);
    assert_eq!(
        attr(&by_body("lazy").attributes, "lazy"),
        Some(&Value::IntValue(7))
    );
    assert_eq!(keys("raw"), ["k", "only_meta", "replaced"]);
    assert_eq!(attr(&by_body("raw").attributes, "k"), Some(&string("root")));
    assert_eq!(by_body("raw").severity_number, 13);
    assert!(keys("muted").is_empty(), "{:?}", keys("muted"));
}
