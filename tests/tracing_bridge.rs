//! The `tracing` bridges: `loglayer::bridge::TracingLayer` (tracing →
//! loglayer) and `loglayer::bridge::TracingTransport` (loglayer → tracing).
//!
//! Each test installs its subscriber with `tracing::subscriber::with_default`
//! (thread-local), except one that needs the global dispatcher and sets it
//! once for this binary.

use std::error::Error;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use loglayer::bridge::{TracingLayer, TracingTransport};
use loglayer::transport::{CaptureTransport, Transport};
use loglayer::{Directives, Level, LogLayer};
use loglayer_suite::Chained;
use serde_json::{json, Value};
use tracing::Instrument;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// Runs `f` with a registry + `TracingLayer` as this thread's subscriber.
fn with_layer<R>(f: impl FnOnce() -> R) -> R {
    let subscriber = tracing_subscriber::registry().with(TracingLayer::new());
    tracing::subscriber::with_default(subscriber, f)
}

/// A logger at `trace` with a capture, and the capture.
fn capture_logger() -> (LogLayer, CaptureTransport) {
    let capture = CaptureTransport::new();
    let logger = LogLayer::builder()
        .transport(capture.clone())
        .level(Level::Trace)
        .build();
    (logger, capture)
}

/// An in-memory writer for a `tracing_subscriber::fmt` layer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    /// The JSON lines written so far.
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

/// A JSON `fmt` layer writing into `buffer`.
fn json_layer<S>(buffer: &Buffer) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_ansi(false)
        .with_writer(buffer.clone())
}

/// The `fields` field of a forwarded event, parsed.
fn forwarded_fields(line: &Value) -> Value {
    let text = line["fields"]["fields"]
        .as_str()
        .unwrap_or_else(|| panic!("no `fields` field: {line}"));
    serde_json::from_str(text).unwrap()
}

/// Runs `f` on another thread; fails the test if it has not finished after
/// a generous delay (a hang), or if it panicked.
fn no_hang<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let r = f();
        let _ = tx.send(());
        r
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => handle.join().expect("the closure panicked"),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("hang: still running after 60s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        },
    }
}

/// Counts how often it is formatted.
struct Counted<'a>(&'a AtomicUsize);

impl fmt::Display for Counted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fetch_add(1, Ordering::SeqCst);
        f.write_str("counted")
    }
}

/// An error with a source.
fn failure() -> Chained {
    Chained::new("payment failed", "card declined")
}

// ---------------------------------------------------------------------------
// TracingLayer: tracing → loglayer
// ---------------------------------------------------------------------------

#[test]
fn an_event_in_a_span_has_span_fields_as_context_and_event_fields_as_metadata() {
    let capture = CaptureTransport::new();
    // Nested output shows which part each key went to.
    let logger = LogLayer::builder()
        .transport(capture.clone())
        .context_field_name("context")
        .metadata_field_name("metadata")
        .build();
    with_layer(|| {
        loglayer::sync_scope(logger, || {
            let span = tracing::info_span!("order", order_id = 42, region = "eu");
            let _in = span.enter();
            tracing::info!(sku = "B-12", qty = 3, "reserving {}", "stock");
        });
    });
    let entries = capture.entries();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let e = &entries[0];
    assert_eq!(e["msg"], "reserving stock");
    assert_eq!(e["level"], "info");
    assert_eq!(e["context"], json!({"order_id": 42, "region": "eu"}));
    assert_eq!(e["metadata"]["sku"], "B-12");
    assert_eq!(e["metadata"]["qty"], 3);
    assert_eq!(e["metadata"]["target"], "tracing_bridge");
    assert_eq!(e["metadata"]["module"], "tracing_bridge");
}

#[test]
fn nested_spans_contribute_their_fields_the_innermost_winning() {
    let (logger, capture) = capture_logger();
    with_layer(|| {
        loglayer::sync_scope(logger, || {
            let outer = tracing::info_span!("request", request_id = "r-1", step = "outer");
            let _o = outer.enter();
            let inner = tracing::debug_span!("db", table = "orders", step = "inner");
            let _i = inner.enter();
            tracing::warn!("slow query");
        });
    });
    let e = &capture.entries()[0];
    assert_eq!(e["request_id"], "r-1");
    assert_eq!(e["table"], "orders");
    assert_eq!(e["step"], "inner");
    assert_eq!(e["level"], "warn");
}

#[test]
fn fields_recorded_later_on_a_span_are_seen() {
    let (logger, capture) = capture_logger();
    with_layer(|| {
        loglayer::sync_scope(logger, || {
            let span = tracing::info_span!("auth", user = tracing::field::Empty, attempts = 1);
            let _in = span.enter();
            tracing::info!("before");
            span.record("user", "ada");
            span.record("attempts", 2);
            tracing::info!("after");
        });
    });
    let entries = capture.entries();
    assert!(entries[0].get("user").is_none(), "{}", entries[0]);
    assert_eq!(entries[0]["attempts"], 1);
    assert_eq!(entries[1]["user"], "ada");
    assert_eq!(entries[1]["attempts"], 2);
}

#[test]
fn an_explicit_parent_span_is_used() {
    let (logger, capture) = capture_logger();
    with_layer(|| {
        loglayer::sync_scope(logger, || {
            let parent = tracing::info_span!("job", job_id = 9);
            tracing::info!(parent: &parent, "not entered, but the parent");
        });
    });
    assert_eq!(capture.entries()[0]["job_id"], 9);
}

#[test]
fn the_loglayer_scope_context_is_there_too_and_span_fields_win_over_it() {
    let (logger, capture) = capture_logger();
    logger.with_context(json!({"request_id": "from-logger", "app": "shop"}));
    with_layer(|| {
        loglayer::sync_scope(logger.clone(), || {
            tracing::info!("no span");
            let span = tracing::info_span!("s", request_id = "from-span");
            let _in = span.enter();
            tracing::info!(app = "from-event", "in span");
        });
    });
    let entries = capture.entries();
    assert_eq!(entries[0]["request_id"], "from-logger");
    assert_eq!(entries[0]["app"], "shop");
    assert_eq!(entries[1]["request_id"], "from-span");
    assert_eq!(entries[1]["app"], "from-event"); // metadata wins over context
                                                 // The span fields were for those entries only.
    assert_eq!(logger.get_context()["request_id"], "from-logger");
}

#[test]
fn value_types_and_errors() {
    let (logger, capture) = capture_logger();
    let err = failure();
    with_layer(|| {
        loglayer::sync_scope(logger, || {
            tracing::error!(
                neg = -5_i64,
                big = u64::MAX,
                wide = 1_u128 << 100,
                ok = true,
                ratio = 0.25,
                name = "ada",
                items = ?vec![1, 2],
                shown = %"disp",
                error = &err as &(dyn Error + 'static),
                "charge failed"
            );
            tracing::info!(msg = "user", level = "user", "reserved keys");
            tracing::info!(done = true);
        });
    });
    let entries = capture.entries();
    let e = &entries[0];
    assert_eq!(e["neg"], -5);
    assert_eq!(e["big"], u64::MAX);
    // Exact in the line (serde_json's `Value` would round it to an f64).
    let wide = format!(r#""wide":{}"#, 1_u128 << 100);
    assert!(capture.lines()[0].contains(&wide), "{}", capture.lines()[0]);
    assert_eq!(e["ok"], true);
    assert_eq!(e["ratio"], 0.25);
    assert_eq!(e["name"], "ada");
    assert_eq!(e["items"], "[1, 2]");
    assert_eq!(e["shown"], "disp");
    assert_eq!(
        e["err"],
        json!({"message": "payment failed", "sources": ["card declined"]})
    );
    assert_eq!(entries[1]["_msg"], "user");
    assert_eq!(entries[1]["_level"], "user");
    assert_eq!(entries[1]["msg"], "reserved keys");
    assert_eq!(entries[2]["msg"], "");
    assert_eq!(entries[2]["done"], true);
}

#[test]
fn every_tracing_level_maps_to_the_loglayer_level_of_the_same_name() {
    let (logger, capture) = capture_logger();
    with_layer(|| {
        loglayer::sync_scope(logger, || {
            tracing::trace!("t");
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
            tracing::error!("e");
        });
    });
    let levels: Vec<Value> = capture
        .entries()
        .iter()
        .map(|e| e["level"].clone())
        .collect();
    assert_eq!(levels, ["trace", "debug", "info", "warn", "error"]);
}

#[test]
fn level_conversions_both_ways() {
    let pairs = [
        (tracing::Level::TRACE, Level::Trace),
        (tracing::Level::DEBUG, Level::Debug),
        (tracing::Level::INFO, Level::Info),
        (tracing::Level::WARN, Level::Warn),
        (tracing::Level::ERROR, Level::Error),
    ];
    for (theirs, ours) in pairs {
        assert_eq!(Level::from(theirs), ours);
        assert_eq!(tracing::Level::from(ours), theirs);
    }
    assert_eq!(tracing::Level::from(Level::Fatal), tracing::Level::ERROR);
}

#[test]
fn the_event_target_drives_per_target_directives() {
    let capture = CaptureTransport::new();
    let directives: Directives = "warn,chatty=debug,noisy=off".parse().unwrap();
    let logger = LogLayer::builder()
        .transport(capture.clone())
        .directives(directives)
        .build();
    with_layer(|| {
        loglayer::sync_scope(logger, || {
            tracing::debug!(target: "chatty::db", "chatty debug");
            tracing::trace!(target: "chatty::db", "chatty trace");
            tracing::error!(target: "noisy::inner", "noisy error");
            tracing::info!(target: "other", "other info");
            tracing::warn!(target: "other", "other warn");
        });
    });
    assert_eq!(capture.messages(), ["chatty debug", "other warn"]);
    assert_eq!(capture.entries()[0]["target"], "chatty::db");
}

#[test]
fn a_disabled_event_is_never_formatted_by_the_layer() {
    let (logger, capture) = capture_logger();
    logger.set_level(Level::Warn);
    let formatted = AtomicUsize::new(0);
    with_layer(|| {
        loglayer::sync_scope(logger, || {
            tracing::info!(value = %Counted(&formatted), "{}", Counted(&formatted));
        });
    });
    assert_eq!(formatted.load(Ordering::SeqCst), 0);
    assert!(capture.is_empty());
}

#[test]
fn the_layer_does_not_filter_for_the_other_layers() {
    let (logger, capture) = capture_logger();
    logger.set_level(Level::Error);
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::registry()
        .with(TracingLayer::new())
        .with(json_layer(&buffer));
    tracing::subscriber::with_default(subscriber, || {
        loglayer::sync_scope(logger, || tracing::info!("only for fmt"));
    });
    assert!(capture.is_empty());
    let lines = buffer.lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["fields"]["message"], "only for fmt");
}

#[test]
fn outside_any_loglayer_scope_events_go_to_the_default_logger() {
    with_layer(|| {
        assert!(loglayer::try_current().is_none());
        // Console on stdout; must simply not panic.
        tracing::info!(k = 1, "outside every scope");
    });
}

#[test]
fn concurrent_tasks_each_see_their_own_span_and_logger() {
    let mut captures = Vec::new();
    with_layer(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut tasks = Vec::new();
            for i in 0..30u64 {
                let (logger, capture) = capture_logger();
                logger.with_context(json!({ "task": i }));
                captures.push(capture);
                let work = async move {
                    for step in 0..3u64 {
                        tracing::info!(step, "working");
                        tokio::task::yield_now().await;
                    }
                }
                .instrument(tracing::info_span!("task", span_task = i));
                tasks.push(tokio::spawn(loglayer::scope(logger, work)));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
    });
    for (i, capture) in captures.iter().enumerate() {
        let entries = capture.entries();
        assert_eq!(entries.len(), 3, "task {i}: {entries:?}");
        for (step, e) in entries.iter().enumerate() {
            assert_eq!(e["task"], i as u64, "{e}");
            assert_eq!(e["span_task"], i as u64, "{e}");
            assert_eq!(e["step"], step as u64, "{e}");
        }
    }
}

// ---------------------------------------------------------------------------
// TracingTransport: loglayer → tracing
// ---------------------------------------------------------------------------

#[test]
fn the_transport_forwards_entries_to_the_tracing_subscriber() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::registry().with(json_layer(&buffer));
    tracing::subscriber::with_default(subscriber, || {
        let log = LogLayer::builder()
            .transport(TracingTransport::new())
            .level(Level::Trace)
            .build();
        log.with_context(json!({"request_id": "r-1"}));
        log.with_metadata(json!({"user": 7})).warn("disk at 90%");
        log.with_error(&failure()).fatal("gave up");
        log.child().clear_context().trace("bare");
        loglayer::sync_scope(log.clone(), || loglayer::debug!(n = 1, "via macro"));
    });
    let lines = buffer.lines();
    assert_eq!(lines.len(), 4, "{lines:?}");

    assert_eq!(lines[0]["level"], "WARN");
    assert_eq!(lines[0]["target"], "loglayer");
    assert_eq!(lines[0]["fields"]["message"], "disk at 90%");
    assert_eq!(
        forwarded_fields(&lines[0]),
        json!({"request_id": "r-1", "user": 7})
    );

    assert_eq!(lines[1]["level"], "ERROR"); // fatal has no tracing level
    assert_eq!(
        forwarded_fields(&lines[1])["err"],
        json!({"message": "payment failed", "sources": ["card declined"]})
    );

    assert_eq!(lines[2]["level"], "TRACE");
    assert_eq!(lines[2]["fields"]["message"], "bare");
    assert!(lines[2]["fields"].get("fields").is_none(), "{}", lines[2]);

    assert_eq!(lines[3]["level"], "DEBUG");
    assert_eq!(forwarded_fields(&lines[3])["n"], 1);
}

#[test]
fn the_transport_has_an_id_a_level_and_can_be_disabled() {
    let buffer = Buffer::default();
    let subscriber = tracing_subscriber::registry().with(json_layer(&buffer));
    let transport = Arc::new(
        TracingTransport::new()
            .with_id("to-tracing")
            .with_level(Level::Warn),
    );
    assert_eq!(transport.id(), "to-tracing");
    tracing::subscriber::with_default(subscriber, || {
        let log = LogLayer::new(transport.clone());
        log.info("below the transport's level");
        log.error("kept");
        transport.set_enabled(false);
        log.error("transport off");
        transport.set_enabled(true);
        assert!(log.remove_transport("to-tracing"));
        log.error("removed");
    });
    let lines = buffer.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["fields"]["message"], "kept");
}

// ---------------------------------------------------------------------------
// Both directions at once: no loops, no deadlock
// ---------------------------------------------------------------------------

/// A subscriber with `TracingLayer` and a JSON fmt layer, and a logger with a
/// capture and a `TracingTransport`.
fn round_trip_setup() -> (Buffer, LogLayer, CaptureTransport) {
    let buffer = Buffer::default();
    let capture = CaptureTransport::new();
    let logger = LogLayer::builder()
        .transport(capture.clone())
        .transport(TracingTransport::new())
        .level(Level::Trace)
        .build();
    (buffer, logger, capture)
}

fn check_round_trip(buffer: &Buffer, capture: &CaptureTransport, tag: &str) {
    let from_loglayer = format!("from loglayer {tag}");
    let from_tracing = format!("from tracing {tag}");
    // Each message reached the capture once: the forwarded event was not fed
    // back into loglayer.
    assert_eq!(
        capture.messages(),
        [from_loglayer.clone(), from_tracing.clone()]
    );
    // And the subscriber's output has each once: the event that came from
    // tracing was not sent back to it.
    let ours: Vec<Value> = buffer
        .lines()
        .into_iter()
        .filter(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.ends_with(tag))
        })
        .collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert_eq!(ours[0]["fields"]["message"], from_loglayer.as_str());
    assert_eq!(ours[0]["target"], "loglayer");
    assert_eq!(ours[1]["fields"]["message"], from_tracing.as_str());
    assert_eq!(ours[1]["target"], "tracing_bridge");
}

#[test]
fn layer_and_transport_together_do_not_loop_with_a_scoped_subscriber() {
    let (buffer, capture) = no_hang(|| {
        let (buffer, logger, capture) = round_trip_setup();
        let subscriber = tracing_subscriber::registry()
            .with(TracingLayer::new())
            .with(json_layer(&buffer));
        tracing::subscriber::with_default(subscriber, || {
            loglayer::sync_scope(logger, || {
                loglayer::info!("from loglayer scoped");
                tracing::info!("from tracing scoped");
            });
        });
        (buffer, capture)
    });
    check_round_trip(&buffer, &capture, "scoped");
}

/// Sets, once for this binary, a global subscriber with `TracingLayer` and a
/// JSON fmt layer; returns its buffer. Only threads without a scoped
/// subscriber (the `no_hang` threads below) use it.
fn global_subscriber() -> Buffer {
    static GLOBAL: OnceLock<Buffer> = OnceLock::new();
    GLOBAL
        .get_or_init(|| {
            let buffer = Buffer::default();
            let subscriber = tracing_subscriber::registry()
                .with(TracingLayer::new())
                .with(json_layer(&buffer));
            tracing::subscriber::set_global_default(subscriber).unwrap();
            buffer
        })
        .clone()
}

#[test]
fn layer_and_transport_together_do_not_loop_with_the_global_subscriber() {
    // The global dispatcher has no re-entrancy protection of its own (when
    // no scoped dispatcher is active), so here only the bridges' guard stops
    // the loop.
    let buffer = global_subscriber();
    let capture = no_hang(|| {
        let (_, logger, capture) = round_trip_setup();
        loglayer::sync_scope(logger, || {
            loglayer::info!("from loglayer global");
            tracing::info!("from tracing global");
        });
        capture
    });
    check_round_trip(&buffer, &capture, "global");
}

/// A transport whose writer emits a `tracing` event while writing.
struct TracesWhileWriting;

impl Transport for TracesWhileWriting {
    fn write(&self, entry: &loglayer::Entry<'_>) -> io::Result<()> {
        tracing::warn!("written: {}", entry.message());
        Ok(())
    }
}

#[test]
fn a_transport_that_emits_tracing_events_while_writing_does_not_loop() {
    let _ = global_subscriber();
    let capture = no_hang(|| {
        let capture = CaptureTransport::new();
        let logger = LogLayer::builder()
            .transport(capture.clone())
            .transport(TracesWhileWriting)
            .build();
        loglayer::sync_scope(logger, || tracing::info!("outer"));
        capture
    });
    // The event emitted by the transport went to the subscriber's other
    // layers only, not back into loglayer.
    assert_eq!(capture.messages(), ["outer"]);
}
