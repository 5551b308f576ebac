//! The caller's cost of one entry exported over OTLP (issue 12, part 3):
//! `cargo bench -p loglayer-benches --bench otlp` prints, for each peer, the
//! median time per entry on the caller's thread and the heap allocations
//! per entry made on that thread (a counting global allocator), then the
//! ratio. `ROUNDS=300` for more rounds (default 100).
//!
//! The entry is `json_event`'s: the message `order shipped`, 3 context keys
//! (`request_id`, `user_id`, `route`) and 2 fields (`attempt`, `status`).
//! Peers (group `otlp_event`):
//!
//! - `loglayer_otlp`: a logger with that context and an
//!   [`OtlpTransport`](loglayer::otlp::OtlpTransport) (defaults: queue 2048,
//!   batches of 512, 1 s delay);
//! - `tracing_otel_appender`: the common way today, `tracing` with an
//!   `OpenTelemetryTracingBridge` layer on a `tracing_subscriber::Registry`,
//!   into an `SdkLoggerProvider` with a `BatchLogProcessor` (its defaults:
//!   queue 2048, batches of 512, 1 s delay); the event carries all five
//!   keys, so that its record has the same attributes as ours;
//! - `tracing_otel_appender_span_ctx`: the same bridge with the 3 context
//!   keys in an entered span, as a service would hold them; the bridge does
//!   not export span fields, so its record has only the 2 event fields
//!   (less work than ours: shown for completeness).
//!
//! Both export with `opentelemetry-otlp`'s HTTP/protobuf exporter (blocking
//! reqwest client) to a loopback port where nothing listens, so every export
//! fails fast and nothing is sent. Only the log calls on the caller's thread
//! are timed, in rounds of 1000 entries; after each round the queue is
//! drained (flush, untimed: a failing export retries with back-off, so it is
//! slow), so that no call meets a full queue and the drop path is never what
//! is measured. Each round starts with 200 untimed entries (the caller
//! thread slept through the drain). The median is over rounds (time of the round ÷ 1000); the
//! first round of each peer is a warm-up and is not counted. Allocations
//! are counted over one more round, after the timed ones.
//!
//! Not criterion: criterion sizes its iterations by the timed part alone and
//! would run the untimed drain millions of times.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use loglayer::otlp::OtlpTransport;
use loglayer::{Level, LogLayer};
use loglayer_benches::{context_map, ATTEMPT, REQUEST_ID, ROUTE, STATUS, USER_ID};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_otlp::{LogExporter, WithExportConfig as _};
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt as _;

/// Counts allocations made on a thread while its flag is on.
struct Counting;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    if ACTIVE.try_with(Cell::get).unwrap_or(false) {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every call is forwarded to `System` unchanged; `note` only touches
// thread-locals of `Cell<u64>`/`Cell<bool>`, which never allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations on this thread while `f` runs.
fn count_allocs(f: impl FnOnce()) -> u64 {
    COUNT.with(|c| c.set(0));
    ACTIVE.with(|a| a.set(true));
    f();
    ACTIVE.with(|a| a.set(false));
    COUNT.with(Cell::get)
}

/// Entries per round (with `WARM`, below both queues' 2048).
const CHUNK: u32 = 1000;
/// Untimed entries before each round.
const WARM: u32 = 200;

/// A loopback URL where nothing listens.
fn dead_endpoint() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

/// What one peer measured.
struct Measured {
    name: &'static str,
    /// Median over rounds of the time per entry.
    median: Duration,
    /// Heap allocations on the caller's thread per entry.
    allocs: f64,
}

/// `rounds` timed rounds of `CHUNK` calls of `event` (after one warm-up
/// round), each after `WARM` untimed calls and followed by `drain`
/// (untimed); then one counted round.
fn measure(
    name: &'static str,
    rounds: usize,
    mut event: impl FnMut(),
    mut drain: impl FnMut(),
) -> Measured {
    let mut per_entry = Vec::with_capacity(rounds);
    for round in 0..=rounds {
        // Untimed: wakes the thread and its caches after the drain's sleep.
        for _ in 0..WARM {
            event();
        }
        let start = Instant::now();
        for _ in 0..CHUNK {
            event();
        }
        let took = start.elapsed() / CHUNK;
        drain();
        if round > 0 {
            per_entry.push(took);
        }
    }
    per_entry.sort();
    let allocs = count_allocs(|| {
        for _ in 0..CHUNK {
            event();
        }
    });
    drain();
    Measured {
        name,
        median: per_entry[per_entry.len() / 2],
        allocs: allocs as f64 / f64::from(CHUNK),
    }
}
/// The loglayer logger: `json_event`'s context, an `OtlpTransport`.
fn loglayer_otlp(endpoint: &str) -> LogLayer {
    let transport = OtlpTransport::builder()
        .endpoint(endpoint)
        .export_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let log = LogLayer::builder()
        .transport(transport)
        .level(Level::Info)
        .build();
    log.with_context(context_map(3));
    log
}

/// The SDK provider with a batch processor and the same exporter.
fn sdk_provider(endpoint: &str) -> SdkLoggerProvider {
    let exporter = LogExporter::builder()
        .with_http()
        .with_endpoint(format!("{endpoint}/v1/logs"))
        .with_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    SdkLoggerProvider::builder()
        .with_log_processor(BatchLogProcessor::builder(exporter).build())
        .build()
}

fn main() {
    let rounds = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100usize)
        .max(1);
    let mut results = Vec::new();

    let log = loglayer_otlp(&dead_endpoint());
    loglayer::sync_scope(log.clone(), || {
        results.push(measure(
            "loglayer_otlp",
            rounds,
            || {
                loglayer::info!(
                    attempt = black_box(ATTEMPT),
                    status = black_box(STATUS),
                    "order shipped"
                )
            },
            || log.flush(),
        ));
    });
    drop(log);

    let provider = sdk_provider(&dead_endpoint());
    let d = Dispatch::new(
        tracing_subscriber::registry().with(OpenTelemetryTracingBridge::new(&provider)),
    );
    tracing::dispatcher::with_default(&d, || {
        results.push(measure(
            "tracing_otel_appender",
            rounds,
            || {
                tracing::info!(
                    request_id = black_box(REQUEST_ID),
                    user_id = black_box(USER_ID),
                    route = black_box(ROUTE),
                    attempt = black_box(ATTEMPT),
                    status = black_box(STATUS),
                    "order shipped"
                )
            },
            || {
                let _ = provider.force_flush();
            },
        ));
        let span = tracing::info_span!(
            "request",
            request_id = REQUEST_ID,
            user_id = USER_ID,
            route = ROUTE
        );
        let _entered = span.enter();
        results.push(measure(
            "tracing_otel_appender_span_ctx",
            rounds,
            || {
                tracing::info!(
                    attempt = black_box(ATTEMPT),
                    status = black_box(STATUS),
                    "order shipped"
                )
            },
            || {
                let _ = provider.force_flush();
            },
        ));
    });
    let _ = provider.shutdown();

    let ours = results[0].median.as_secs_f64();
    println!(
        "otlp_event: {rounds} rounds of {CHUNK} entries, median per entry on the caller's thread"
    );
    println!();
    println!(
        "| peer | median per entry | ÷ loglayer_otlp | allocations per entry (caller's thread) |"
    );
    println!("|---|---|---|---|");
    for m in &results {
        println!(
            "| {} | {:.1} ns | {:.2}x | {:.2} |",
            m.name,
            m.median.as_secs_f64() * 1e9,
            m.median.as_secs_f64() / ours,
            m.allocs
        );
    }
}
