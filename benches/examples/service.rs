//! The service-level benchmark (issue 15): requests per second of one axum
//! app on one core, without logging, with loglayer's `RequestLoggerLayer` and
//! with tower-http's `TraceLayer` + tracing-subscriber JSON. One mode per
//! process; `benches/service.sh` runs every mode and prints the table.
//!
//! ```text
//! cargo build --release -p loglayer-benches --example service
//! $CARGO_TARGET_DIR/release/examples/service ours 5     # mode, seconds measured
//! ```
//!
//! Modes:
//!
//! | mode | middleware | level | lines written per request |
//! |---|---|---|---|
//! | `bare` | none, and the handler logs nothing | – | 0 |
//! | `ours` | `RequestLoggerLayer`, `JsonTransport` into `writer::NonBlocking` (lossless) into a file | info | 3 |
//! | `ours_warn` | the same | warn | 0 |
//! | `tracing` | `TraceLayer` (span and response at INFO), `fmt().json()` into `tracing_appender::non_blocking` (lossless) into a file | info | 3 |
//! | `tracing_warn` | the same | warn | 0 |
//!
//! The handler is the same in every mode: a nested function logs two lines
//! with two fields each, around one `yield_now().await`; the completion line
//! is the middleware's (ours: `request completed`; tracing: `finished
//! processing request`).
//!
//! The server (its runtime thread and the writer's thread) is pinned to CPU 0
//! on a current-thread tokio runtime; the load client to CPU 1: a
//! current-thread runtime driving `CONNS` keep-alive HTTP/1.1 connections
//! (a minimal client on raw sockets, as cheap as `wrk`), each with one
//! request in flight (as `wrk` does), for one second of warm-up and then the
//! measured seconds. Latencies are measured per request by the client.
//!
//! Allocations are counted by a counting global allocator on every thread
//! but the client's, during the measured window, and divided by the requests
//! the server handled in that window. After the run the server shuts down
//! gracefully, the writer is flushed (its guard dropped), and the lines in
//! the file are counted against 3 per request handled (warm-up included).
//!
//! The server's CPU time (every thread but the client's: the runtime and the
//! log writer) per request handled is printed too: on a machine shared with
//! other work, throughput follows whatever else runs on CPU 0, while CPU time
//! per request moves much less.
//!
//! Output: one line of `key=value` pairs for the script.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;

// ---------------------------------------------------------------------------
// Counting allocator: every thread but the load client's.

struct Counting;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set on the client's thread: its allocations are not the server's.
    static EXCLUDED: Cell<bool> = const { Cell::new(false) };
}

/// `SERVICE_ALLOC_TRACE=N`: print a backtrace for the allocations of the
/// server's requests number 1000 to 1000 + N (to see where they come from).
static TRACE_FROM: AtomicU64 = AtomicU64::new(u64::MAX);
static TRACE_TO: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static TRACING: Cell<bool> = const { Cell::new(false) };
}

/// Whether `SERVICE_ALLOC_TRACE` is set (one load per allocation otherwise).
static TRACE_ON: AtomicBool = AtomicBool::new(false);

fn note() {
    if !EXCLUDED.try_with(Cell::get).unwrap_or(false) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        if TRACE_ON.load(Ordering::Relaxed) {
            trace_allocation();
        }
    }
}

#[cold]
fn trace_allocation() {
    {
        let handled = HANDLED.load(Ordering::Relaxed);
        if handled >= TRACE_FROM.load(Ordering::Relaxed)
            && handled < TRACE_TO.load(Ordering::Relaxed)
            && !TRACING.try_with(|t| t.replace(true)).unwrap_or(true)
        {
            let bt = std::backtrace::Backtrace::force_capture().to_string();
            let frames: Vec<&str> = bt
                .lines()
                .filter(|l| {
                    let l = l.trim_start();
                    !l.starts_with("at ")
                        && !l.contains("service::note")
                        && !l.contains("backtrace")
                        && !l.contains("GlobalAlloc")
                        && !l.contains(" alloc::")
                        && !l.contains("__rust")
                })
                .take(6)
                .collect();
            eprintln!("--- request {handled}:\n{}", frames.join("\n"));
            let _ = TRACING.try_with(|t| t.set(false));
        }
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// bookkeeping is one relaxed atomic add and a const-initialised thread-local
// without a destructor, neither of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

/// Pins the calling thread (and the threads it creates later) to `cpu`; a
/// machine with fewer CPUs is left unpinned.
fn pin_to(cpu: usize) {
    if std::thread::available_parallelism().map_or(1, |n| n.get()) <= cpu {
        return;
    }
    // SAFETY: `set` is a plain bit set on a zeroed `cpu_set_t` owned by this
    // frame; `sched_setaffinity(0, ..)` only reads it, for this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

// ---------------------------------------------------------------------------
// The app.

/// Requests handled (counted by the handler).
static HANDLED: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Bare,
    Ours,
    Tracing,
}

async fn handler_bare() -> &'static str {
    HANDLED.fetch_add(1, Ordering::Relaxed);
    lookup_bare(42).await
}

async fn lookup_bare(order_id: u64) -> &'static str {
    std::hint::black_box(order_id);
    tokio::task::yield_now().await;
    "ok"
}

async fn handler_ours() -> &'static str {
    HANDLED.fetch_add(1, Ordering::Relaxed);
    lookup_ours(42).await
}

async fn lookup_ours(order_id: u64) -> &'static str {
    loglayer::info!(order_id = order_id, step = "lookup", "looking up the order");
    tokio::task::yield_now().await;
    loglayer::info!(order_id = order_id, rows = 3, "order found");
    "ok"
}

async fn handler_tracing() -> &'static str {
    HANDLED.fetch_add(1, Ordering::Relaxed);
    lookup_tracing(42).await
}

async fn lookup_tracing(order_id: u64) -> &'static str {
    tracing::info!(order_id = order_id, step = "lookup", "looking up the order");
    tokio::task::yield_now().await;
    tracing::info!(order_id = order_id, rows = 3, "order found");
    "ok"
}

/// What must outlive the server so the file gets every line.
enum Guard {
    None,
    Ours(loglayer::writer::WorkerGuard, loglayer::LogLayer),
    Tracing(tracing_appender::non_blocking::WorkerGuard),
}

fn app(mode: Mode, warn: bool, file: &std::path::Path) -> (Router, Guard) {
    match mode {
        Mode::Bare => (Router::new().route("/", get(handler_bare)), Guard::None),
        Mode::Ours => {
            use loglayer::tower::RequestLoggerLayer;
            use loglayer::transport::JsonTransport;
            use loglayer::writer::NonBlocking;
            use loglayer::{Level, LogLayer};
            let out = std::fs::File::create(file).expect("log file");
            let (writer, guard) = NonBlocking::new(out);
            let level = if warn { Level::Warn } else { Level::Info };
            let base = LogLayer::builder()
                .transport(JsonTransport::new(writer))
                .level(level)
                .build();
            // Outside a request (there is none here) the default logger.
            loglayer::set_default(base.clone());
            let router = Router::new()
                .route("/", get(handler_ours))
                .layer(RequestLoggerLayer::new(base.clone()));
            (router, Guard::Ours(guard, base))
        }
        Mode::Tracing => {
            use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
            let out = std::fs::File::create(file).expect("log file");
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .finish(out);
            let level = if warn {
                tracing::Level::WARN
            } else {
                tracing::Level::INFO
            };
            tracing_subscriber::fmt()
                .json()
                .with_writer(writer)
                .with_max_level(level)
                .init();
            // The span and the completion line at INFO (the defaults are
            // DEBUG, which would write nothing at INFO).
            let layer = TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO));
            let router = Router::new().route("/", get(handler_tracing)).layer(layer);
            (router, Guard::Tracing(guard))
        }
    }
}

// ---------------------------------------------------------------------------
// The load client.

/// What the client measured.
struct Load {
    /// Responses in the measured window.
    responses: u64,
    /// Latencies of those responses, in microseconds, sorted.
    latencies: Vec<u32>,
    /// Server allocations and requests handled in the window.
    allocs: u64,
    handled: u64,
    elapsed: Duration,
    /// CPU time of every thread but the client's in the window.
    server_cpu: Duration,
}

/// CPU time used so far by `clock` (`CLOCK_PROCESS_CPUTIME_ID` or
/// `CLOCK_THREAD_CPUTIME_ID`).
fn cpu_time(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec owned by this frame.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time of the process minus this (the client's) thread.
fn server_cpu() -> Duration {
    cpu_time(libc::CLOCK_PROCESS_CPUTIME_ID).saturating_sub(cpu_time(libc::CLOCK_THREAD_CPUTIME_ID))
}

fn run_load(addr: SocketAddr, conns: usize, warm_up: Duration, measure: Duration) -> Load {
    EXCLUDED.with(|e| e.set(true));
    pin_to(1);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    rt.block_on(async move {
        let start = Instant::now();
        let window_start = start + warm_up;
        let window_end = window_start + measure;
        let mut tasks = Vec::new();
        for _ in 0..conns {
            tasks.push(tokio::spawn(connection(addr, window_start, window_end)));
        }
        // The window's start and end, as the server saw them.
        tokio::time::sleep_until(window_start.into()).await;
        let (a0, h0, t0, c0) = (
            ALLOCS.load(Ordering::Relaxed),
            HANDLED.load(Ordering::Relaxed),
            Instant::now(),
            server_cpu(),
        );
        tokio::time::sleep_until(window_end.into()).await;
        let (a1, h1, t1, c1) = (
            ALLOCS.load(Ordering::Relaxed),
            HANDLED.load(Ordering::Relaxed),
            Instant::now(),
            server_cpu(),
        );
        let mut latencies = Vec::new();
        for t in tasks {
            latencies.extend(t.await.expect("connection task"));
        }
        latencies.sort_unstable();
        Load {
            responses: latencies.len() as u64,
            latencies,
            allocs: a1 - a0,
            handled: h1 - h0,
            elapsed: t1 - t0,
            server_cpu: c1.saturating_sub(c0),
        }
    })
}

/// The request, as `wrk` sends it: a request line and a `Host` header.
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// One keep-alive connection, one request in flight, until `end`; returns
/// the latencies (µs) of the responses that started inside the window.
///
/// A minimal HTTP/1.1 client over a raw socket (like `wrk`: write the
/// request, read until the head and `Content-Length` bytes of body are in):
/// a full client such as hyper's costs about as much CPU per request as the
/// server, so one client core could not keep one server core busy.
async fn connection(addr: SocketAddr, start: Instant, end: Instant) -> Vec<u32> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut latencies = Vec::with_capacity(1 << 16);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let t = Instant::now();
        stream.write_all(REQUEST).await.expect("write");
        let mut filled = 0;
        loop {
            let n = stream.read(&mut buf[filled..]).await.expect("read");
            assert!(n > 0, "the server closed the connection");
            filled += n;
            if let Some(len) = response_len(&buf[..filled]) {
                assert_eq!(filled, len, "one response at a time");
                break;
            }
            assert!(filled < buf.len(), "response too large");
        }
        assert!(buf.starts_with(b"HTTP/1.1 200"), "not a 200 response");
        let done = Instant::now();
        if done >= end {
            break;
        }
        if t >= start {
            latencies.push((done - t).as_micros().min(u32::MAX as u128) as u32);
        }
    }
    latencies
}

/// The length of the complete response at the start of `buf` (head and
/// `Content-Length` bytes of body), or `None` while incomplete.
fn response_len(buf: &[u8]) -> Option<usize> {
    let head = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let body = buf[..head]
        .split(|&b| b == b'\n')
        .find_map(|line| {
            let line = std::str::from_utf8(line).ok()?;
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    (buf.len() >= head + body).then_some(head + body)
}

// ---------------------------------------------------------------------------

fn count_lines(path: &std::path::Path) -> u64 {
    let Ok(file) = std::fs::File::open(path) else {
        return 0;
    };
    BufReader::new(file).split(b'\n').count() as u64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode_arg = args.next().unwrap_or_else(|| "ours".into());
    let secs: f64 = args.next().map_or(5.0, |s| s.parse().expect("seconds"));
    let conns: usize = std::env::var("CONNS").map_or(64, |s| s.parse().expect("CONNS"));
    if let Some(n) = std::env::var("SERVICE_ALLOC_TRACE")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        TRACE_FROM.store(1000, Ordering::Relaxed);
        TRACE_TO.store(1000 + n, Ordering::Relaxed);
        TRACE_ON.store(true, Ordering::Relaxed);
    }
    let (mode, warn) = match mode_arg.as_str() {
        "bare" => (Mode::Bare, false),
        "ours" => (Mode::Ours, false),
        "ours_warn" => (Mode::Ours, true),
        "tracing" => (Mode::Tracing, false),
        "tracing_warn" => (Mode::Tracing, true),
        other => panic!("unknown mode {other}: bare, ours, ours_warn, tracing, tracing_warn"),
    };
    let dir = std::env::var_os("SERVICE_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let file = dir.join(format!(
        "loglayer-service-{mode_arg}-{}.log",
        std::process::id()
    ));

    // The server's threads (the runtime's and the writer's, created below)
    // inherit CPU 0.
    pin_to(0);
    let (router, guard) = app(mode, warn, &file);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("server runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");

    let client = std::thread::Builder::new()
        .name("load".into())
        .spawn(move || {
            run_load(
                addr,
                conns,
                Duration::from_secs(1),
                Duration::from_secs_f64(secs),
            )
        })
        .expect("client thread");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let waiter = std::thread::spawn(move || {
        let load = client.join().expect("client");
        let _ = stop_tx.send(());
        load
    });
    rt.block_on(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            })
            .await
            .expect("serve")
    });
    let load = waiter.join().expect("waiter");
    let handled_total = HANDLED.load(Ordering::Relaxed);
    drop(rt);
    // Flush: every accepted line is in the file once the guard is dropped.
    match guard {
        Guard::None => {}
        Guard::Ours(guard, base) => {
            base.flush();
            drop(base);
            drop(guard);
        }
        Guard::Tracing(guard) => drop(guard),
    }
    let lines = count_lines(&file);
    let _ = std::fs::remove_file(&file);
    let expected = if mode == Mode::Bare || warn {
        0
    } else {
        3 * handled_total
    };

    let pct = |p: f64| {
        let l = &load.latencies;
        if l.is_empty() {
            0
        } else {
            l[((l.len() - 1) as f64 * p).round() as usize]
        }
    };
    println!(
        "mode={mode_arg} rps={:.0} p50_us={} p99_us={} lines={lines} expected={expected} allocs_per_req={:.2} cpu_us_per_req={:.3} handled={handled_total} responses={}",
        load.responses as f64 / load.elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        load.allocs as f64 / load.handled.max(1) as f64,
        load.server_cpu.as_secs_f64() * 1e6 / load.handled.max(1) as f64,
        load.responses,
    );
}
