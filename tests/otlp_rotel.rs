//! `OtlpTransport` against a real OTLP receiver: rotel's `rotel-agent`
//! (the `rotel` Python package; `.ci/run` installs it and sets
//! `LOGLAYER_ROTEL_AGENT` to the binary). It prints every record it
//! receives; the test reads that output back.
//!
//! In CI (`CI` set) a missing agent fails the test; elsewhere it is skipped
//! with a message.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use loglayer::otlp::{OtlpProtocol, OtlpTransport};
use loglayer::LogLayer;
use serde_json::json;

fn agent() -> Option<PathBuf> {
    match std::env::var_os("LOGLAYER_ROTEL_AGENT") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("CI").is_some() => {
            panic!("CI is set but LOGLAYER_ROTEL_AGENT is not: .ci/run installs rotel and sets it")
        }
        None => {
            eprintln!("skipped: set LOGLAYER_ROTEL_AGENT to a rotel-agent binary (pip install --pre rotel)");
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running agent; killed when dropped.
struct Rotel {
    child: Child,
    output: PathBuf,
    grpc: u16,
    http: u16,
}

impl Rotel {
    fn start(agent: &PathBuf) -> Rotel {
        let (grpc, http) = (free_port(), free_port());
        let output =
            std::env::temp_dir().join(format!("loglayer-rotel-{}-{http}.log", std::process::id()));
        let file = std::fs::File::create(&output).unwrap();
        let child = Command::new(agent)
            .args([
                "start",
                "--otlp-grpc-endpoint",
                &format!("127.0.0.1:{grpc}"),
                "--otlp-http-endpoint",
                &format!("127.0.0.1:{http}"),
                "--exporter",
                "blackhole",
                "--debug-log",
                "logs",
                "--debug-log-verbosity",
                "detailed",
            ])
            .env("NO_COLOR", "1")
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap();
        let rotel = Rotel {
            child,
            output,
            grpc,
            http,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let listening = |port| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
        while !(listening(http) && listening(grpc)) {
            assert!(
                Instant::now() < deadline,
                "rotel-agent did not listen:\n{}",
                rotel.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        rotel
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// The agent's output once it contains `needle` (waits up to 20 s).
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} never appeared in:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Rotel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.output);
    }
}

/// The endpoint of `rotel` for `protocol`.
fn endpoint(rotel: &Rotel, protocol: OtlpProtocol) -> String {
    match protocol {
        OtlpProtocol::Grpc => format!("http://127.0.0.1:{}", rotel.grpc),
        _ => format!("http://127.0.0.1:{}", rotel.http),
    }
}

/// Sends one typed entry over `protocol` and checks what rotel printed.
fn typed_records(protocol: OtlpProtocol, body: &str) {
    let Some(agent) = agent() else { return };
    let rotel = Rotel::start(&agent);
    let log = LogLayer::new(
        OtlpTransport::builder()
            .protocol(protocol)
            .endpoint(endpoint(&rotel, protocol))
            .service_name("rotel-check")
            .build()
            .unwrap(),
    );
    log.with_context(json!({
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "span_id": "00f067aa0ba902b7",
        "request_id": "7f3a",
    }));
    log.with_metadata(json!({
        "int_key": 42,
        "float_key": 1.5,
        "bool_key": true,
        "nested_key": {"inner": 7},
        "list_key": [1, "x"],
    }))
    .warn(body);
    log.flush();
    let body_line = format!("Body: Str({body})");
    let out = rotel.wait_for(&body_line);
    for line in [
        "-> service.name: Str(rotel-check)",
        "InstrumentationScope loglayer",
        "SeverityText: WARN",
        "SeverityNumber: SEVERITY_NUMBER_WARN(13)",
        &body_line,
        "-> request_id: Str(7f3a)",
        "-> int_key: Int(42)",
        "-> float_key: Double(1.5)",
        "-> bool_key: Bool(true)",
        "-> nested_key: Map(inner:Int(7))",
        "-> list_key: Slice(Int(1), Str(x))",
        "Trace ID       : 4bf92f3577b34da6a3ce929d0e0e4736",
        "Span ID        : 00f067aa0ba902b7",
    ] {
        assert!(
            out.contains(line),
            "{line:?} missing from rotel's output:\n{out}"
        );
    }
    // The trace context is not repeated as attributes.
    assert!(!out.contains("-> trace_id"), "{out}");
    assert!(!out.contains("-> span_id"), "{out}");
}

#[test]
fn rotel_receives_typed_records_over_http() {
    typed_records(OtlpProtocol::HttpProtobuf, "hello rotel");
}

#[test]
fn rotel_receives_typed_records_over_grpc() {
    typed_records(OtlpProtocol::Grpc, "hello rotel over grpc");
}

/// Killed after one record arrived: log calls stay prompt, flush is
/// bounded, everything after the kill is counted.
fn killed_mid_run(protocol: OtlpProtocol) {
    let Some(agent) = agent() else { return };
    let mut rotel = Rotel::start(&agent);
    let log = LogLayer::new(
        OtlpTransport::builder()
            .protocol(protocol)
            .endpoint(endpoint(&rotel, protocol))
            .export_timeout(Duration::from_millis(300))
            .flush_timeout(Duration::from_secs(3))
            .build()
            .unwrap(),
    );
    log.info("before the kill");
    log.flush();
    rotel.wait_for("Body: Str(before the kill)");
    rotel.child.kill().unwrap();
    rotel.child.wait().unwrap();

    let before = loglayer::failures().transport_errors;
    let start = Instant::now();
    for _ in 0..20 {
        log.info("after the kill");
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "log calls blocked"
    );
    log.flush();
    // A hang detector with a wide margin (flush's bound is 3 s).
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(loglayer::failures().transport_errors >= before + 20);
}

#[test]
fn rotel_killed_mid_run_never_blocks_and_counts() {
    killed_mid_run(OtlpProtocol::HttpProtobuf);
}

#[test]
fn rotel_killed_mid_run_over_grpc_never_blocks_and_counts() {
    killed_mid_run(OtlpProtocol::Grpc);
}
