//! OTLP logs export: [`OtlpTransport`] sends entries to an OpenTelemetry
//! collector (or any OTLP receiver), on the official `opentelemetry`,
//! `opentelemetry_sdk` and `opentelemetry-otlp` crates.
//!
//! ```no_run
//! use loglayer::{otlp::OtlpTransport, LogLayer};
//!
//! // OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 OTEL_SERVICE_NAME=checkout
//! let log = LogLayer::new(OtlpTransport::from_env()?);
//! log.with_metadata(serde_json::json!({"order_id": 42, "paid": true})).info("shipped");
//! log.flush(); // before exit: waits (bounded) until the entries are exported
//! # Ok::<(), loglayer::otlp::OtlpError>(())
//! ```
//!
//! The files: `mod.rs` (the transport, its builder and settings),
//! `record.rs` (the mapping of an entry onto a log record), `value.rs`
//! (the one conversion from a value to an OpenTelemetry `AnyValue`),
//! `worker.rs` (the bounded queue and the export thread).

mod record;
mod value;
mod worker;

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{LogExporter, WithExportConfig};
use opentelemetry_sdk::logs::LogExporter as _;
use opentelemetry_sdk::Resource;

use crate::transport::{transport_options, Options, Transport};
use crate::{Entry, Level};
use worker::{Limits, Queue, Refused};

/// Crates on the exporter's own path (its HTTP client and the OpenTelemetry
/// SDK): entries whose target is one of them are ignored, so that what the
/// exporter logs through a `log`/`tracing` bridge never loops back into it.
const EXPORTER_CRATES: &[&str] = &[
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry_http",
    "reqwest",
    "hyper",
    "hyper_util",
    "h2",
    "tonic",
    "rustls",
    "want",
];

/// The OTLP wire protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtlpProtocol {
    /// `http/protobuf`: protobuf over HTTP, `POST {endpoint}/v1/logs` (port 4318).
    HttpProtobuf,
    /// `grpc` (port 4317): needs the `otlp-grpc` feature.
    Grpc,
}

impl OtlpProtocol {
    /// Parses the value of `OTEL_EXPORTER_OTLP_PROTOCOL`.
    ///
    /// ```
    /// use loglayer::otlp::OtlpProtocol;
    /// assert_eq!(OtlpProtocol::parse("http/protobuf").unwrap(), OtlpProtocol::HttpProtobuf);
    /// assert_eq!(OtlpProtocol::parse("grpc").unwrap(), OtlpProtocol::Grpc);
    /// assert!(OtlpProtocol::parse("http/json").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<OtlpProtocol, OtlpError> {
        match text.trim() {
            "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
            "grpc" => Ok(OtlpProtocol::Grpc),
            other => Err(OtlpError(format!(
                "unsupported OTLP protocol {other:?}: expected \"http/protobuf\" or \"grpc\""
            ))),
        }
    }
}

/// Why an [`OtlpTransport`] could not be built: a bad setting (an unknown
/// protocol, `grpc` without the `otlp-grpc` feature, a malformed endpoint)
/// or an exporter that failed to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtlpError(String);

impl fmt::Display for OtlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OtlpError {}

/// Sends entries as OpenTelemetry log records over OTLP.
///
/// **Mapping.** Level → severity number and text (trace 1 `TRACE`, debug 5
/// `DEBUG`, info 9 `INFO`, warn 13 `WARN`, error 17 `ERROR`, fatal 21
/// `FATAL`); message → body (a string); the entry's time → the timestamp
/// (the export thread's clock → the observed timestamp); context and
/// metadata → attributes **with their types** — integers `Int`, floats
/// `Double`, booleans `Boolean`, strings `String`, objects `Map`, arrays
/// `ListAny` (a `null` is left out; an integer above `i64::MAX` is a string of
/// its digits); metadata wins over context on a shared key. Valid
/// `trace_id` and `span_id` keys (hex, as [`tower::RequestLoggerLayer`] sets
/// them, with `trace_flags`) become the record's trace context and are not
/// repeated as attributes. An attached error becomes `exception.type` (a
/// custom error serializer's `type` or `name` string, else `"error"`),
/// `exception.message` (its `Display`) and `exception.stacktrace` (its
/// `source()` chain, outermost first, one per line). The resource holds
/// `service.name` and the attributes set on the builder; the
/// instrumentation scope is `loglayer`.
///
/// **Never blocking the caller.** A log call copies the entry onto a bounded
/// queue ([`OtlpTransportBuilder::queue_size`]) and returns; one thread per
/// transport exports batches — over HTTP with a blocking client, over gRPC
/// (feature `otlp-grpc`) with tonic on a current-thread tokio runtime that
/// the thread owns — so a log call never needs an async runtime. When the queue is full the entry is refused and counted in
/// [`failures()`](crate::failures) (`transport_errors`), as is every record
/// of a batch the receiver did not accept (down, slow past the export
/// timeout, an error status); the first failure is reported once on stderr.
///
/// **Flush and shutdown.** [`LogLayer::flush`](crate::LogLayer::flush)
/// returns once every entry queued before it was exported or counted as
/// failed, or when [`OtlpTransportBuilder::flush_timeout`] has passed (then
/// flush counts one error and the rest is settled later). Dropping the
/// transport (the last logger holding it) drains the queue with the same
/// bound and never joins a stuck thread. A logger that lives until the
/// process exits (a default logger) should be flushed before `main` returns.
///
/// **No feedback loop.** The export thread is marked, and entries logged on
/// it (by the HTTP client, through loglayer's `log` or `tracing` bridge) are
/// ignored; so are entries whose target is one of the exporter's crates
/// (`opentelemetry*`, `reqwest`, `hyper`, `hyper_util`, `h2`, `tonic`,
/// `rustls`, `want`), which the HTTP client logs from its own threads.
///
/// [`tower::RequestLoggerLayer`]: https://docs.rs/loglayer/latest/loglayer/tower/struct.RequestLoggerLayer.html
pub struct OtlpTransport {
    queue: Arc<Queue>,
    flush_timeout: Duration,
    options: Options,
}

impl OtlpTransport {
    /// A transport configured by the standard environment variables:
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` (the base URL, default
    /// `http://localhost:4318`, or `http://localhost:4317` for gRPC; over
    /// HTTP `/v1/logs` is appended),
    /// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` (the full URL, wins),
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` / `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`
    /// (`http/protobuf`, the default; `grpc` needs the `otlp-grpc`
    /// feature; anything else is an error), `OTEL_SERVICE_NAME`, and what the
    /// exporter reads itself (`OTEL_EXPORTER_OTLP_TIMEOUT`,
    /// `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_RESOURCE_ATTRIBUTES`).
    ///
    /// ```
    /// // With nothing set: http/protobuf to http://localhost:4318/v1/logs.
    /// # std::env::remove_var("OTEL_EXPORTER_OTLP_PROTOCOL");
    /// let transport = loglayer::otlp::OtlpTransport::from_env()?;
    /// # Ok::<(), loglayer::otlp::OtlpError>(())
    /// ```
    pub fn from_env() -> Result<OtlpTransport, OtlpError> {
        OtlpTransportBuilder::from_env()?.build()
    }

    /// A builder with the defaults (`http/protobuf` to
    /// `http://localhost:4318`, service `unknown_service`), reading no
    /// environment variable of its own.
    ///
    /// ```no_run
    /// use loglayer::otlp::OtlpTransport;
    /// use std::time::Duration;
    ///
    /// let transport = OtlpTransport::builder()
    ///     .endpoint("http://collector:4318")
    ///     .service_name("checkout")
    ///     .resource_attribute("deployment.environment.name", "prod")
    ///     .queue_size(8192)
    ///     .export_timeout(Duration::from_secs(5))
    ///     .build()?;
    /// # Ok::<(), loglayer::otlp::OtlpError>(())
    /// ```
    pub fn builder() -> OtlpTransportBuilder {
        OtlpTransportBuilder::default()
    }

    // Written out rather than by `transport_options!`, whose doc-tests name
    // `loglayer::transport::T`; this transport lives in `loglayer::otlp`.

    /// Sets the id (default `"otlp"`): the name
    /// [`LogLayer::remove_transport`](crate::LogLayer::remove_transport) and
    /// plugins' `should_send_to_logger` know this transport by.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.options.set_id(id.into());
        self
    }

    /// Accepts only entries at `level` or more severe (by default every
    /// level the logger lets through).
    ///
    /// ```no_run
    /// use loglayer::{otlp::OtlpTransport, Level};
    /// let t = OtlpTransport::from_env()?.with_id("otel").with_level(Level::Info);
    /// # Ok::<(), loglayer::otlp::OtlpError>(())
    /// ```
    pub fn with_level(mut self, level: Level) -> Self {
        self.options.set_level(level);
        self
    }

    /// Turns this transport on or off at run time (it starts on); while off
    /// it accepts no entries.
    pub fn set_enabled(&self, enabled: bool) {
        self.options.set_enabled(enabled);
    }
}

impl fmt::Debug for OtlpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpTransport")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

thread_local! {
    /// Buffers for this thread's next queued entry, handed back by an export
    /// thread (see `worker::Queue::push`).
    static SPARE: std::cell::Cell<Option<Box<record::Buffers>>> = const { std::cell::Cell::new(None) };
}

impl Transport for OtlpTransport {
    fn write(&self, entry: &Entry<'_>) -> io::Result<()> {
        if worker::in_export_thread() || entry.target().is_some_and(is_exporter_crate) {
            return Ok(());
        }
        let spare = SPARE.try_with(|s| s.take()).ok().flatten();
        match self.queue.push(record::Queued::new(entry, spare)) {
            Ok(spare) => {
                if spare.is_some() {
                    let _ = SPARE.try_with(|s| s.set(spare));
                }
                Ok(())
            }
            Err(Refused::Full(n)) => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("OTLP queue full ({n} entries): entry dropped"),
            )),
            Err(Refused::Stopped) => Err(io::Error::other("OTLP export thread stopped")),
        }
    }

    transport_options! { accessors: options }

    fn flush(&self) -> io::Result<()> {
        if worker::in_export_thread() {
            return Ok(());
        }
        match self.queue.flush(self.flush_timeout) {
            0 => Ok(()),
            n => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "OTLP flush: {n} entries not yet exported after {:?}",
                    self.flush_timeout
                ),
            )),
        }
    }
}

impl Drop for OtlpTransport {
    fn drop(&mut self) {
        if !worker::in_export_thread() {
            self.queue.shutdown(self.flush_timeout);
        }
    }
}

fn is_exporter_crate(target: &str) -> bool {
    // Every entry passes here: most targets are ruled out by their first
    // letter, the rest by a byte scan (`split("::")` builds a substring
    // searcher, which cost more than the rest of `write`: callgrind).
    if !matches!(
        target.as_bytes().first(),
        Some(b'o' | b'r' | b'h' | b't' | b'w')
    ) {
        return false;
    }
    let end = target
        .bytes()
        .position(|b| b == b':')
        .unwrap_or(target.len());
    EXPORTER_CRATES.contains(&&target[..end])
}

/// Settings for an [`OtlpTransport`]; from [`OtlpTransport::builder`].
#[derive(Clone, Debug)]
pub struct OtlpTransportBuilder {
    /// Base URL (`/v1/logs` appended for HTTP) or, when `full_url`, the URL;
    /// `None`: the protocol's default (`localhost:4318` HTTP, `:4317` gRPC).
    endpoint: Option<String>,
    full_url: bool,
    protocol: OtlpProtocol,
    service_name: Option<String>,
    resource: Vec<(String, String)>,
    /// Also read `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`.
    env_resource: bool,
    queue_size: usize,
    batch_size: usize,
    batch_delay: Duration,
    export_timeout: Option<Duration>,
    flush_timeout: Duration,
}

impl Default for OtlpTransportBuilder {
    fn default() -> Self {
        OtlpTransportBuilder {
            endpoint: None,
            full_url: false,
            protocol: OtlpProtocol::HttpProtobuf,
            service_name: None,
            resource: Vec::new(),
            env_resource: false,
            queue_size: 2048,
            batch_size: 512,
            batch_delay: Duration::from_secs(1),
            export_timeout: None,
            flush_timeout: Duration::from_secs(5),
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl OtlpTransportBuilder {
    /// The builder [`OtlpTransport::from_env`] uses: the defaults, then the
    /// environment variables listed there. Set more on it before `build`.
    ///
    /// ```
    /// # std::env::remove_var("OTEL_EXPORTER_OTLP_PROTOCOL");
    /// let transport = loglayer::otlp::OtlpTransportBuilder::from_env()?
    ///     .queue_size(10_000)
    ///     .build()?;
    /// # Ok::<(), loglayer::otlp::OtlpError>(())
    /// ```
    pub fn from_env() -> Result<OtlpTransportBuilder, OtlpError> {
        let mut b = OtlpTransportBuilder {
            env_resource: true,
            ..OtlpTransportBuilder::default()
        };
        let protocol =
            env("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL").or_else(|| env("OTEL_EXPORTER_OTLP_PROTOCOL"));
        if let Some(p) = protocol {
            b.protocol = OtlpProtocol::parse(&p)?;
        }
        if let Some(url) = env("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") {
            b.endpoint = Some(url);
            b.full_url = true;
        } else if let Some(base) = env("OTEL_EXPORTER_OTLP_ENDPOINT") {
            b.endpoint = Some(base);
        }
        b.service_name = env("OTEL_SERVICE_NAME");
        Ok(b)
    }

    /// The receiver's base URL, as in `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// (`http://host:4318`; over HTTP, `/v1/logs` is appended; over gRPC,
    /// `http://host:4317` as it is).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self.full_url = false;
        self
    }

    /// The wire protocol (default `http/protobuf`; [`OtlpProtocol::Grpc`]
    /// needs the `otlp-grpc` feature, else [`build`](Self::build) fails).
    pub fn protocol(mut self, protocol: OtlpProtocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// `service.name` in the resource (default `unknown_service`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Another resource attribute (`service.version`,
    /// `deployment.environment.name`, …).
    pub fn resource_attribute(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.resource.push((key.into(), value.into()));
        self
    }

    /// How many entries may wait for export (default 2048); more are
    /// dropped and counted.
    pub fn queue_size(mut self, entries: usize) -> Self {
        self.queue_size = entries.max(1);
        self
    }

    /// The most records in one export request (default 512).
    pub fn batch_size(mut self, records: usize) -> Self {
        self.batch_size = records.max(1);
        self
    }

    /// How long the export thread waits to fill a batch (default 1 s).
    pub fn batch_delay(mut self, delay: Duration) -> Self {
        self.batch_delay = delay;
        self
    }

    /// The bound on one export request, retries included (default: the
    /// exporter's, `OTEL_EXPORTER_OTLP_TIMEOUT` or 10 s).
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = Some(timeout);
        self
    }

    /// The bound on [`LogLayer::flush`](crate::LogLayer::flush) and on the
    /// drain when the transport is dropped (default 5 s).
    pub fn flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// Starts the exporter and its thread.
    pub fn build(self) -> Result<OtlpTransport, OtlpError> {
        let mut resource = if self.env_resource {
            Resource::builder()
        } else {
            Resource::builder_empty()
                .with_attribute(KeyValue::new("service.name", "unknown_service"))
        };
        if let Some(name) = &self.service_name {
            resource = resource.with_service_name(name.clone());
        }
        let resource = resource
            .with_attributes(
                self.resource
                    .iter()
                    .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
            )
            .build();
        let scope = InstrumentationScope::builder("loglayer")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let limits = Limits {
            queue_size: self.queue_size,
            batch_size: self.batch_size,
            delay: self.batch_delay,
        };
        let id = "otlp".to_owned();
        let endpoint = self.endpoint.clone().unwrap_or_else(|| {
            match self.protocol {
                OtlpProtocol::HttpProtobuf => "http://localhost:4318",
                OtlpProtocol::Grpc => "http://localhost:4317",
            }
            .to_owned()
        });
        let queue = match self.protocol {
            OtlpProtocol::HttpProtobuf => {
                let url = if self.full_url {
                    endpoint
                } else {
                    format!("{}/v1/logs", endpoint.trim_end_matches('/'))
                };
                let mut b = LogExporter::builder()
                    .with_http()
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .with_endpoint(url);
                if let Some(t) = self.export_timeout {
                    b = b.with_timeout(t);
                }
                let mut exporter = b.build().map_err(|e| OtlpError(e.to_string()))?;
                exporter.set_resource(&resource);
                Queue::start(
                    id,
                    move || Ok((exporter, worker::Driver::Blocking)),
                    scope,
                    limits,
                )
            }
            #[cfg(feature = "otlp-grpc")]
            OtlpProtocol::Grpc => {
                let bound = self.export_timeout.unwrap_or_else(env_export_timeout);
                let export_timeout = self.export_timeout;
                // Made on the export thread, inside its own runtime: tonic's
                // channel needs one, and the caller may be on any (or none).
                let make = move || {
                    let rt = worker::Driver::grpc_runtime()?;
                    let exporter = {
                        let _context = rt.enter();
                        let mut b = LogExporter::builder().with_tonic().with_endpoint(endpoint);
                        if let Some(t) = export_timeout {
                            b = b.with_timeout(t);
                        }
                        let mut exporter = b.build().map_err(|e| e.to_string())?;
                        exporter.set_resource(&resource);
                        exporter
                    };
                    Ok((
                        exporter,
                        worker::Driver::Tokio(rt, bound + Duration::from_secs(1)),
                    ))
                };
                Queue::start(id, make, scope, limits)
            }
            #[cfg(not(feature = "otlp-grpc"))]
            OtlpProtocol::Grpc => return Err(grpc_unavailable()),
        }
        .map_err(OtlpError)?;
        Ok(OtlpTransport {
            queue,
            flush_timeout: self.flush_timeout,
            options: Options::new("otlp"),
        })
    }
}

/// The exporter's own bound on one export: `OTEL_EXPORTER_OTLP_LOGS_TIMEOUT`
/// or `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds), else 10 s.
#[cfg(feature = "otlp-grpc")]
fn env_export_timeout() -> Duration {
    [
        "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
    ]
    .iter()
    .find_map(|name| env(name)?.trim().parse::<u64>().ok())
    .map_or(Duration::from_secs(10), Duration::from_millis)
}

#[cfg(not(feature = "otlp-grpc"))]
fn grpc_unavailable() -> OtlpError {
    OtlpError(
        "OTLP protocol \"grpc\" needs loglayer's `otlp-grpc` feature; \
         use \"http/protobuf\" or enable the feature"
            .to_owned(),
    )
}

#[cfg(all(test, not(feature = "otlp-grpc")))]
mod tests {
    use super::{OtlpProtocol, OtlpTransport};

    // Run with `cargo test -p loglayer --no-default-features --features otlp --lib`
    // (the workspace's own test run enables `otlp-grpc`).
    #[test]
    fn grpc_without_the_feature_is_a_clear_error() {
        let err = OtlpTransport::builder()
            .protocol(OtlpProtocol::Grpc)
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("otlp-grpc"), "{err}");
    }
}

#[cfg(test)]
mod exporter_crates {
    use super::{is_exporter_crate, EXPORTER_CRATES};

    #[test]
    fn every_exporter_crate_and_its_modules_are_recognised() {
        for krate in EXPORTER_CRATES {
            assert!(is_exporter_crate(krate), "{krate}");
            let module = format!("{krate}::client::pool");
            assert!(is_exporter_crate(&module), "{module}");
        }
    }

    #[test]
    fn other_targets_are_not() {
        for target in [
            "",
            "app",
            "app::db",
            "hyperion",
            "tonic_app::x",
            "h",
            "want_more",
            "::",
        ] {
            assert!(!is_exporter_crate(target), "{target}");
        }
    }
}
