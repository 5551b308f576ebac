//! loglayer against its peers, every scenario of issue 6 in one run:
//! `cargo bench -p loglayer-benches --bench compare` (see `BENCHMARKS.md` and
//! `benches/run.sh`, which prints the ratio table).
//!
//! Group names are the scenarios; function names are the peers:
//! `loglayer`, `tracing_json` (`fmt().json()` stock), `tracing_json_flat`
//! (with `flatten_event(true)`), `slog_json`, and `floor` (hand-written
//! serde_json into a reused buffer, see `loglayer_benches::Floor`).

use std::hint::black_box;
use std::io::Write;
use std::pin::pin;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use loglayer::transport::JsonTransport;
use loglayer::writer::NonBlocking;
use loglayer::{FingersCrossed, Level, LevelControl, LogLayer};
use loglayer_benches::{
    block_on, context_map, context_pairs, tls_slot, tls_swap, Discard, Floor, Keep, Shared, Val,
    YieldN, ATTEMPT, REQUEST_ID, ROUTE, STATUS, USER_ID,
};
use slog::{o, Drain};
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;

// ---------------------------------------------------------------------------
// Set-up of each peer.

/// A loglayer logger at `info`, JSON lines into `w`, with `n` context keys.
fn loglayer_logger<W: Write + Send + 'static>(w: W, n: usize) -> LogLayer {
    with_keys(
        LogLayer::builder()
            .transport(JsonTransport::new(w))
            .level(Level::Info)
            .build(),
        n,
    )
}

/// `log` with the benchmark's first `n` context keys.
fn with_keys(log: LogLayer, n: usize) -> LogLayer {
    if n > 0 {
        log.with_context(context_map(n));
    }
    log
}

/// One loglayer `json_event` (inside a scope of a logger with context).
#[inline(always)]
fn loglayer_event() {
    loglayer::info!(
        attempt = black_box(ATTEMPT),
        status = black_box(STATUS),
        "order shipped"
    );
}

/// tracing-subscriber's JSON formatter at INFO into `w`.
fn tracing_json<W>(w: W, flat: bool) -> Dispatch
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let b = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(w);
    if flat {
        Dispatch::new(b.flatten_event(true).finish())
    } else {
        Dispatch::new(b.finish())
    }
}

#[inline(always)]
fn tracing_event() {
    tracing::info!(
        attempt = black_box(ATTEMPT),
        status = black_box(STATUS),
        "order shipped"
    );
}

/// Runs `f` with `d` as this thread's dispatcher and the `n`-key context
/// spans entered.
fn in_tracing_context<R>(d: &Dispatch, n: usize, f: impl FnOnce() -> R) -> R {
    tracing::dispatcher::with_default(d, || {
        let spans = tracing_spans(n);
        let mut guards: Vec<_> = spans.iter().map(|s| s.enter()).collect();
        let r = f();
        while let Some(g) = guards.pop() {
            drop(g);
        }
        r
    })
}

/// slog-json (with its default keys ts/level/msg) behind a mutex, filtered
/// at Info at run time.
fn slog_root<W: Write + Send + 'static>(w: W) -> slog::Logger {
    let json = slog_json::Json::new(w).add_default_keys().build();
    let drain = slog::LevelFilter::new(Mutex::new(json).fuse(), slog::Level::Info).fuse();
    slog::Logger::root(drain, o!())
}

/// A child of `root` with the `n`-key context.
fn slog_child(root: &slog::Logger, n: usize) -> slog::Logger {
    let mut log = root.new(o!("request_id" => REQUEST_ID, "user_id" => USER_ID, "route" => ROUTE));
    for (k, v) in context_pairs(n).into_iter().skip(3) {
        let k: &'static str = Box::leak(k.into_boxed_str());
        log = match v {
            Val::Str(s) => log.new(o!(k => s)),
            Val::U64(u) => log.new(o!(k => u)),
        };
    }
    log
}

#[inline(always)]
fn slog_event(log: &slog::Logger) {
    slog::info!(log, "order shipped"; "attempt" => black_box(ATTEMPT), "status" => black_box(STATUS));
}

#[inline(always)]
fn floor_event<W: Write>(floor: &mut Floor<W>) {
    floor.event(black_box(ATTEMPT), black_box(STATUS));
}

/// The `n`-key context as tracing spans (tracing allows at most 32 fields
/// per span, so 50 keys are two nested spans of 25).
fn tracing_spans(n: usize) -> Vec<tracing::Span> {
    match n {
        3 => vec![tracing::info_span!(
            "request",
            request_id = REQUEST_ID,
            user_id = USER_ID,
            route = ROUTE
        )],
        20 => vec![tracing::info_span!(
            "request",
            request_id = REQUEST_ID,
            user_id = USER_ID,
            route = ROUTE,
            ctx_3 = 3007_u64,
            ctx_4 = "value-4",
            ctx_5 = 5007_u64,
            ctx_6 = "value-6",
            ctx_7 = 7007_u64,
            ctx_8 = "value-8",
            ctx_9 = 9007_u64,
            ctx_10 = "value-10",
            ctx_11 = 11007_u64,
            ctx_12 = "value-12",
            ctx_13 = 13007_u64,
            ctx_14 = "value-14",
            ctx_15 = 15007_u64,
            ctx_16 = "value-16",
            ctx_17 = 17007_u64,
            ctx_18 = "value-18",
            ctx_19 = 19007_u64
        )],
        50 => {
            let outer = tracing::info_span!(
                "request",
                request_id = REQUEST_ID,
                user_id = USER_ID,
                route = ROUTE,
                ctx_3 = 3007_u64,
                ctx_4 = "value-4",
                ctx_5 = 5007_u64,
                ctx_6 = "value-6",
                ctx_7 = 7007_u64,
                ctx_8 = "value-8",
                ctx_9 = 9007_u64,
                ctx_10 = "value-10",
                ctx_11 = 11007_u64,
                ctx_12 = "value-12",
                ctx_13 = 13007_u64,
                ctx_14 = "value-14",
                ctx_15 = 15007_u64,
                ctx_16 = "value-16",
                ctx_17 = 17007_u64,
                ctx_18 = "value-18",
                ctx_19 = 19007_u64,
                ctx_20 = "value-20",
                ctx_21 = 21007_u64,
                ctx_22 = "value-22",
                ctx_23 = 23007_u64,
                ctx_24 = "value-24"
            );
            let inner = outer.in_scope(|| {
                tracing::info_span!(
                    "inner",
                    ctx_25 = 25007_u64,
                    ctx_26 = "value-26",
                    ctx_27 = 27007_u64,
                    ctx_28 = "value-28",
                    ctx_29 = 29007_u64,
                    ctx_30 = "value-30",
                    ctx_31 = 31007_u64,
                    ctx_32 = "value-32",
                    ctx_33 = 33007_u64,
                    ctx_34 = "value-34",
                    ctx_35 = 35007_u64,
                    ctx_36 = "value-36",
                    ctx_37 = 37007_u64,
                    ctx_38 = "value-38",
                    ctx_39 = 39007_u64,
                    ctx_40 = "value-40",
                    ctx_41 = 41007_u64,
                    ctx_42 = "value-42",
                    ctx_43 = 43007_u64,
                    ctx_44 = "value-44",
                    ctx_45 = 45007_u64,
                    ctx_46 = "value-46",
                    ctx_47 = 47007_u64,
                    ctx_48 = "value-48",
                    ctx_49 = 49007_u64
                )
            });
            vec![outer, inner]
        }
        _ => unreachable!("context sizes are 3, 20 and 50"),
    }
}

// ---------------------------------------------------------------------------
// Sample lines: one per peer, printed at start-up and checked to be JSON with
// the same content, so no peer is measured doing less than the others.

fn samples() {
    let check = |peer: &str, line: String| {
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{peer} wrote no JSON line ({e}): {line:?}"));
        let text = v.to_string();
        for needle in [REQUEST_ID, "order shipped", "attempt", "status"] {
            assert!(text.contains(needle), "{peer}: {needle} missing in {line}");
        }
        println!("sample {peer:<18} {line}");
    };

    let keep = Keep::default();
    let log = loglayer_logger(keep.clone(), 3);
    loglayer::sync_scope(log, loglayer_event);
    check("loglayer", keep.first_line());

    for (peer, flat) in [("tracing_json", false), ("tracing_json_flat", true)] {
        let keep = Keep::default();
        let k = keep.clone();
        let d = tracing_json(move || k.clone(), flat);
        in_tracing_context(&d, 3, tracing_event);
        check(peer, keep.first_line());
    }

    let keep = Keep::default();
    let root = slog_root(keep.clone());
    slog_event(&slog_child(&root, 3));
    check("slog_json", keep.first_line());

    let keep = Keep::default();
    floor_event(&mut Floor::new(keep.clone()));
    check("floor", keep.first_line());
}

// ---------------------------------------------------------------------------
// Scenarios.

fn disabled(c: &mut Criterion) {
    samples();
    let mut g = c.benchmark_group("disabled");
    let log = loglayer_logger(Discard, 3);
    loglayer::sync_scope(log, || {
        g.bench_function("loglayer", |b| {
            b.iter(|| {
                loglayer::debug!(
                    attempt = black_box(ATTEMPT),
                    status = black_box(STATUS),
                    "order shipped"
                )
            })
        });
    });
    // Outside any scope: the default logger as first built, from the
    // environment (level info), then one set with `set_default` and a
    // builder level.
    g.bench_function("loglayer_default_from_env", |b| {
        b.iter(loglayer_disabled_event)
    });
    loglayer::set_default(loglayer_logger(Discard, 3));
    g.bench_function("loglayer_default_set", |b| b.iter(loglayer_disabled_event));
    // Per-target directives that enable debug nowhere (`compare::db=warn`),
    // so the hint still holds.
    loglayer::sync_scope(
        loglayer_directed(Discard, 3, "info,compare::db=warn"),
        || g.bench_function("loglayer_directives", |b| b.iter(loglayer_disabled_event)),
    );
    let d = tracing_json(std::io::sink, false);
    in_tracing_context(&d, 3, || {
        g.bench_function("tracing_json", |b| {
            b.iter(|| {
                tracing::debug!(
                    attempt = black_box(ATTEMPT),
                    status = black_box(STATUS),
                    "order shipped"
                )
            })
        });
    });
    let log = slog_child(&slog_root(Discard), 3);
    g.bench_function("slog_json", |b| {
        b.iter(|| {
            slog::debug!(log, "order shipped"; "attempt" => black_box(ATTEMPT), "status" => black_box(STATUS))
        })
    });
    // The same logger following a LevelControl at info (issue 13): no logger
    // enables debug yet, so this also stops at the process-wide hint.
    let log = loglayer_controlled(Discard, 3, &LevelControl::new(Level::Info));
    loglayer::sync_scope(log, || {
        g.bench_function("loglayer_level_control", |b| {
            b.iter(loglayer_disabled_event)
        })
    });
    floor_disabled(&mut g);
    g.finish();
}

/// The floor of a disabled call: a level in a static, compared before
/// anything is built.
fn floor_disabled(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    static FLOOR_LEVEL: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(30);
    g.bench_function("floor", |b| {
        b.iter(|| {
            if FLOOR_LEVEL.load(std::sync::atomic::Ordering::Relaxed) <= 20 {
                black_box((ATTEMPT, STATUS));
            }
        })
    });
}

/// [`loglayer_logger`], its levels from the directives `spec`.
fn loglayer_directed<W: Write + Send + 'static>(w: W, n: usize, spec: &str) -> LogLayer {
    let directives: loglayer::Directives = spec.parse().expect("valid directives");
    with_keys(
        LogLayer::builder()
            .transport(JsonTransport::new(w))
            .directives(directives)
            .build(),
        n,
    )
}

/// [`loglayer_logger`], its levels from `control` instead of a fixed level.
fn loglayer_controlled<W: Write + Send + 'static>(
    w: W,
    n: usize,
    control: &LevelControl,
) -> LogLayer {
    with_keys(
        LogLayer::builder()
            .transport(JsonTransport::new(w))
            .level_control(control.clone())
            .build(),
        n,
    )
}

#[inline(always)]
fn loglayer_disabled_event() {
    loglayer::debug!(
        attempt = black_box(ATTEMPT),
        status = black_box(STATUS),
        "order shipped"
    )
}

/// A disabled `debug!` once some logger in the process has enabled debug, so
/// the process-wide hint lets it through to the scope's logger: its own level
/// (`loglayer`, a logger at info) against the same logger following a
/// `LevelControl` at info (`loglayer_level_control`; issue 13 asks for
/// within 10%). Runs after `disabled`, whose calls must stop at the hint.
fn disabled_past_hint(c: &mut Criterion) {
    let mut g = c.benchmark_group("disabled_past_hint");
    // Raises the hint for debug for the rest of the process.
    let _debug = LogLayer::builder()
        .transport(JsonTransport::new(Discard))
        .level(Level::Debug)
        .build();
    loglayer::sync_scope(loglayer_logger(Discard, 3), || {
        g.bench_function("loglayer", |b| b.iter(loglayer_disabled_event))
    });
    let control = LevelControl::new(Level::Info);
    loglayer::sync_scope(loglayer_controlled(Discard, 3, &control), || {
        g.bench_function("loglayer_level_control", |b| {
            b.iter(loglayer_disabled_event)
        })
    });
    // Per-target directives: this module at info, another one at debug.
    loglayer::sync_scope(
        loglayer_directed(Discard, 3, "info,compare::db=debug"),
        || g.bench_function("loglayer_directives", |b| b.iter(loglayer_disabled_event)),
    );
    // The same directives from a `LevelControl`.
    let control = LevelControl::new(
        "info,compare::db=debug"
            .parse::<loglayer::Directives>()
            .expect("valid directives"),
    );
    loglayer::sync_scope(loglayer_controlled(Discard, 3, &control), || {
        g.bench_function("loglayer_level_control_targets", |b| {
            b.iter(loglayer_disabled_event)
        })
    });
    // Outside any scope: the default logger, set with `set_default` and a
    // builder level (library code running outside any request), then from
    // the environment.
    loglayer::set_default(loglayer_logger(Discard, 3));
    g.bench_function("loglayer_default_set", |b| b.iter(loglayer_disabled_event));
    loglayer::set_default(loglayer::from_env());
    g.bench_function("loglayer_default_from_env", |b| {
        b.iter(loglayer_disabled_event)
    });
    // tracing, with another dispatcher enabling debug (callsite interest is
    // then computed across both).
    let _debug_dispatch = Dispatch::new(
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::sink)
            .finish(),
    );
    let d = tracing_json(std::io::sink, false);
    in_tracing_context(&d, 3, || {
        g.bench_function("tracing_json", |b| {
            b.iter(|| {
                tracing::debug!(
                    attempt = black_box(ATTEMPT),
                    status = black_box(STATUS),
                    "order shipped"
                )
            })
        });
    });
    floor_disabled(&mut g);
    g.finish();
}

fn json_event(c: &mut Criterion) {
    let mut g = c.benchmark_group("json_event");
    g.throughput(Throughput::Elements(1));
    bench_event_peers(&mut g, 3, |peer| peer.to_owned(), true);
    g.finish();
}

fn context_scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("context_scaling");
    g.throughput(Throughput::Elements(1));
    for n in [3, 20, 50] {
        bench_event_peers(&mut g, n, |peer| format!("{peer}/{n}"), false);
    }
    g.finish();
}

/// The `json_event` of every peer with an `n`-key context.
fn bench_event_peers(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    n: usize,
    id: impl Fn(&str) -> String,
    with_flat: bool,
) {
    let log = loglayer_logger(Discard, n);
    loglayer::sync_scope(log, || {
        g.bench_function(id("loglayer"), |b| b.iter(loglayer_event));
    });
    let flats: &[bool] = if with_flat { &[false, true] } else { &[false] };
    for &flat in flats {
        let d = tracing_json(std::io::sink, flat);
        let name = if flat {
            "tracing_json_flat"
        } else {
            "tracing_json"
        };
        in_tracing_context(&d, n, || {
            g.bench_function(id(name), |b| b.iter(tracing_event));
        });
    }
    let log = slog_child(&slog_root(Discard), n);
    g.bench_function(id("slog_json"), |b| b.iter(|| slog_event(&log)));
    let mut floor = Floor::new(Discard);
    if n == 3 {
        g.bench_function(id("floor"), |b| b.iter(|| floor_event(&mut floor)));
    } else {
        let ctx = context_pairs(n);
        g.bench_function(id("floor"), |b| {
            b.iter(|| floor.event_with(&ctx, black_box(ATTEMPT), black_box(STATUS)))
        });
    }
}

// scope_enter: an async fn that logs nothing, polled to completion.

async fn bare(id: u64) {
    black_box(id);
}

async fn bare_yield(id: u64) {
    black_box(id);
    YieldN(3).await;
}

#[loglayer::with_logger(context(request_id = id))]
async fn with_logger(id: u64) {
    black_box(id);
}

#[loglayer::with_logger(context(request_id = id))]
async fn with_logger_yield(id: u64) {
    black_box(id);
    YieldN(3).await;
}

#[tracing::instrument(skip_all, fields(request_id = id))]
async fn instrumented(id: u64) {
    black_box(id);
}

#[tracing::instrument(skip_all, fields(request_id = id))]
async fn instrumented_yield(id: u64) {
    black_box(id);
    YieldN(3).await;
}

fn scope_enter(c: &mut Criterion) {
    for (group, polls) in [("scope_enter", 0), ("scope_enter_3polls", 3)] {
        let mut g = c.benchmark_group(group);
        let y = polls > 0;
        g.bench_function("bare", |b| {
            b.iter(|| {
                if y {
                    block_on(bare_yield(black_box(42)))
                } else {
                    block_on(bare(black_box(42)))
                }
            })
        });
        g.bench_function("floor_tls_swap", |b| {
            b.iter(|| {
                let id = black_box(42);
                if y {
                    block_on(tls_swap(id as usize, pin!(bare_yield(id))))
                } else {
                    block_on(tls_swap(id as usize, pin!(bare(id))))
                }
            });
            black_box(tls_slot());
        });
        // The caller's logger: a request logger with no context, JSON into a
        // discarding writer (nothing is logged).
        loglayer::sync_scope(loglayer_logger(Discard, 0), || {
            g.bench_function("loglayer", |b| {
                b.iter(|| {
                    if y {
                        block_on(with_logger_yield(black_box(42)))
                    } else {
                        block_on(with_logger(black_box(42)))
                    }
                })
            });
        });
        let d = tracing_json(std::io::sink, false);
        tracing::dispatcher::with_default(&d, || {
            g.bench_function("tracing_instrument", |b| {
                b.iter(|| {
                    if y {
                        block_on(instrumented_yield(black_box(42)))
                    } else {
                        block_on(instrumented(black_box(42)))
                    }
                })
            });
        });
        let _global = slog_scope::set_global_logger(slog_root(Discard));
        g.bench_function("slog_scope", |b| {
            b.iter(|| {
                let id: u64 = black_box(42);
                let log = slog_scope::logger().new(o!("request_id" => id));
                if y {
                    block_on(slog_scope_futures::SlogScope::new(log, bare_yield(id)))
                } else {
                    block_on(slog_scope_futures::SlogScope::new(log, bare(id)))
                }
            })
        });
        g.finish();
    }
}

// two_threads: json_event on 1 and on 2 threads into one shared discarding
// writer; the time reported is wall time per event (total events / s is its
// inverse), so scaling = time(1 thread) / time(2 threads).

/// Runs `work(events, barrier)` on `threads` threads, `iters / threads`
/// events each; each returns its time measured from the common start.
fn parallel<F>(iters: u64, threads: u64, work: F) -> Duration
where
    F: Fn(u64, &Barrier) -> Duration + Sync,
{
    let barrier = Barrier::new(threads as usize);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(|| work(iters.div_ceil(threads), &barrier)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread panicked"))
            .max()
            .unwrap_or_default()
    })
}

fn timed(events: u64, barrier: &Barrier, mut f: impl FnMut()) -> Duration {
    barrier.wait();
    let start = Instant::now();
    for _ in 0..events {
        f();
    }
    start.elapsed()
}

fn two_threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("two_threads");
    g.throughput(Throughput::Elements(1));
    for threads in [1u64, 2] {
        let log = loglayer_logger(Discard, 3);
        g.bench_function(BenchmarkId::new("loglayer", threads), |b| {
            b.iter_custom(|iters| {
                parallel(iters, threads, |n, bar| {
                    loglayer::sync_scope(log.clone(), || timed(n, bar, loglayer_event))
                })
            })
        });
        // The same transport (one writer), but a child logger per thread: no
        // `Arc<Inner>` shared between the threads (isolates its refcount).
        g.bench_function(
            BenchmarkId::new("loglayer_child_per_thread", threads),
            |b| {
                b.iter_custom(|iters| {
                    parallel(iters, threads, |n, bar| {
                        loglayer::sync_scope(log.child(), || timed(n, bar, loglayer_event))
                    })
                })
            },
        );
        let d = tracing_json(std::io::sink, false);
        g.bench_function(BenchmarkId::new("tracing_json", threads), |b| {
            b.iter_custom(|iters| {
                parallel(iters, threads, |n, bar| {
                    in_tracing_context(&d, 3, || timed(n, bar, tracing_event))
                })
            })
        });
        let log = slog_child(&slog_root(Discard), 3);
        g.bench_function(BenchmarkId::new("slog_json", threads), |b| {
            b.iter_custom(|iters| {
                parallel(iters, threads, |n, bar| {
                    let log = log.clone();
                    timed(n, bar, || slog_event(&log))
                })
            })
        });
        // The control: the floor with a writer per thread (nothing shared).
        // Its scaling shows whether the machine really gave the run 2 cores;
        // if it is well below 2x, the scaling of the others means little.
        g.bench_function(BenchmarkId::new("control_floor_unshared", threads), |b| {
            b.iter_custom(|iters| {
                parallel(iters, threads, |n, bar| {
                    let mut floor = Floor::new(Discard);
                    timed(n, bar, || floor_event(&mut floor))
                })
            })
        });
        let shared: Shared<Discard> = Shared::default();
        g.bench_function(BenchmarkId::new("floor", threads), |b| {
            b.iter_custom(|iters| {
                parallel(iters, threads, |n, bar| {
                    let mut floor = Floor::new(shared.clone());
                    timed(n, bar, || floor_event(&mut floor))
                })
            })
        });
    }
    g.finish();
}

// non_blocking: the caller's cost of json_event through `NonBlocking`.

fn non_blocking(c: &mut Criterion) {
    let mut g = c.benchmark_group("non_blocking");
    g.throughput(Throughput::Elements(1));

    // The reference: the same entry straight into a discarding writer.
    loglayer::sync_scope(loglayer_logger(Discard, 3), || {
        g.bench_function("loglayer_discard", |b| b.iter(loglayer_event));
    });

    let (nb, guard) = NonBlocking::new(Discard);
    let log = loglayer_logger(nb, 3);
    loglayer::sync_scope(log.clone(), || {
        g.bench_function("loglayer_nb_discard", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    loglayer_event();
                }
                let t = start.elapsed();
                log.flush(); // outside the timing: each sample starts empty
                t
            })
        });
    });
    drop(guard);

    let path = std::env::temp_dir().join(format!("loglayer-bench-{}.log", std::process::id()));
    let open = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("open the bench file")
    };
    let truncate = open();

    let (nb, guard) = NonBlocking::new(open());
    let log = loglayer_logger(nb, 3);
    loglayer::sync_scope(log.clone(), || {
        g.bench_function("loglayer_nb_file", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    loglayer_event();
                }
                let t = start.elapsed();
                log.flush();
                let _ = truncate.set_len(0); // keep the file small
                t
            })
        });
    });
    drop(guard);

    // For comparison: the file written on the caller's thread.
    let log = loglayer_logger(open(), 3);
    loglayer::sync_scope(log, || {
        g.bench_function("loglayer_file_direct", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    loglayer_event();
                }
                let t = start.elapsed();
                let _ = truncate.set_len(0);
                t
            })
        });
    });
    g.finish();
    let _ = std::fs::remove_file(&path);
}

// handle_clone: what a log call would pay to clone the current logger's
// handle instead of borrowing the thread's slot (the overlay's reason to
// exist): one thread, and two threads cloning the same logger.
fn handle_clone(c: &mut Criterion) {
    let mut g = c.benchmark_group("handle_clone");
    g.throughput(Throughput::Elements(1));
    let log = loglayer_logger(Discard, 3);
    for threads in [1u64, 2] {
        g.bench_function(BenchmarkId::new("borrow", threads), |b| {
            b.iter_custom(|iters| {
                parallel(iters, threads, |n, bar| {
                    loglayer::sync_scope(log.clone(), || {
                        timed(n, bar, || {
                            {
                                static CALLSITE: loglayer::__private::Callsite =
                                    loglayer::__private::Callsite::new();
                                black_box(loglayer::__private::enabled(
                                    loglayer::Level::Info,
                                    "bench",
                                    &CALLSITE,
                                ))
                            };
                        })
                    })
                })
            })
        });
        g.bench_function(BenchmarkId::new("clone", threads), |b| {
            b.iter_custom(|iters| {
                parallel(iters, threads, |n, bar| {
                    loglayer::sync_scope(log.clone(), || {
                        timed(n, bar, || {
                            black_box(loglayer::try_current());
                        })
                    })
                })
            })
        });
    }
}

/// Fingers-crossed buffering (issue 13, part 3): a `debug!` kept in the
/// request's buffer (`buffered_debug`: an owned copy of the message, context
/// handle and metadata; the buffer is full, so each call also drops the
/// oldest — the steady state of a long request) against the `info!` that the
/// same logger writes as a JSON line (`written_info`). Runs last: its
/// buffering logger raises the process-wide hint for debug.
fn fingers_crossed(c: &mut Criterion) {
    let mut g = c.benchmark_group("fingers_crossed");
    g.throughput(Throughput::Elements(1));
    let log = loglayer_logger(Discard, 3).fingers_crossed(FingersCrossed::new(Level::Debug));
    loglayer::sync_scope(log.clone(), || {
        g.bench_function("written_info", |b| b.iter(loglayer_event));
        g.bench_function("buffered_debug", |b| b.iter(loglayer_disabled_event));
    });
    // (With a criterion filter that skips this group, nothing was held.)
    let stats = log.buffer_stats().expect("a buffer");
    assert!(!stats.triggered, "{stats:?}");
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
}

criterion_group! {
    name = benches;
    config = config();
    targets = disabled, disabled_past_hint, json_event, context_scaling, scope_enter, two_threads, non_blocking, handle_clone, fingers_crossed
}
criterion_main!(benches);
