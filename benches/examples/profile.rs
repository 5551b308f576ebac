//! A small driver for profilers: runs one loglayer scenario of the benches in a
//! loop, nothing else (no criterion), so a profile shows only that path.
//!
//! ```text
//! cargo build --release -p loglayer-benches --example profile
//! # instruction counts per function (valgrind is deterministic, unlike time):
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \
//!     target/release/examples/profile json_event 100000
//! callgrind_annotate /tmp/cg.out | head -40
//! # or sampled time:
//! perf record -g target/release/examples/profile scope_enter 3000000 && perf report
//! ```
//!
//! Scenarios: `json_event`, `json_event_thread`, `two_threads`, `ctx50`,
//! `scope_enter`, `scope_enter_4polls` (and `scope_enter_bare`,
//! `scope_enter_bare_4polls`: the same async fns without the attribute), `floor`, and the disabled `debug!`
//! in every setting of issue 15: `disabled_<setting>`, where `<setting>` is
//! `scope` (a scope's logger at info), `default_set` (no scope, `set_default`
//! of a logger at info), `default_env` (no scope, `set_default(from_env())`),
//! `directives` (a scope's logger with per-target directives), `control` (a
//! scope's logger following a `LevelControl` at info) or `control_targets`
//! (a `LevelControl` with per-target directives); add `_past_hint` for the
//! same while another logger in the process is at debug (`disabled` alone is
//! `disabled_scope`). `floor_disabled` is the floor of all of these: a level
//! in a static, compared first. `middleware` and `middleware_bare`: a request
//! through `RequestLoggerLayer` at warn, and the same handler without it.
//! Prints the wall time per iteration (a sanity check only: use the benches
//! for numbers).

use std::hint::black_box;
use std::time::Instant;

use loglayer::transport::JsonTransport;
use loglayer::{Level, LevelControl, LogLayer};
use loglayer_benches::{block_on, context_map, Discard, Floor, YieldN, ATTEMPT, STATUS};

fn logger(n: usize) -> LogLayer {
    let log = LogLayer::builder()
        .transport(JsonTransport::new(Discard))
        .level(Level::Info)
        .build();
    if n > 0 {
        log.with_context(context_map(n));
    }
    log
}

#[loglayer::with_logger(context(request_id = id))]
async fn with_logger(id: u64) {
    black_box(id);
}

async fn bare(id: u64) {
    black_box(id);
}

async fn bare_yield(id: u64) {
    black_box(id);
    YieldN(3).await;
}

#[loglayer::with_logger(context(request_id = id))]
async fn with_logger_yield(id: u64) {
    black_box(id);
    YieldN(3).await;
}

/// A logger at info with 3 context keys whose levels come from `builder`.
fn logger_with(builder: loglayer::LogLayerBuilder) -> LogLayer {
    let log = builder.transport(JsonTransport::new(Discard)).build();
    log.with_context(context_map(3));
    log
}

/// The disabled `debug!` of the benches, `iters` times.
fn disabled_calls(iters: u64) {
    for _ in 0..iters {
        loglayer::debug!(
            attempt = black_box(ATTEMPT),
            status = black_box(STATUS),
            "order shipped"
        );
    }
}

/// `disabled_<setting>[_past_hint]`; false if `setting` is unknown.
fn disabled(setting: &str, iters: u64) -> bool {
    let (setting, past_hint) = match setting.strip_suffix("past_hint") {
        Some(s) => (s.strip_suffix('_').unwrap_or(s), true),
        None => (setting, false),
    };
    // Another logger at debug: the process-wide hint lets debug calls through.
    let _debug = past_hint.then(|| logger_with(LogLayer::builder().level(Level::Debug)));
    // Per-target directives: this module at info, another one at debug (warn
    // while the hint must hold, so that no logger enables debug anywhere).
    let spec = if past_hint {
        "info,profile::db=debug"
    } else {
        "info,profile::db=warn"
    };
    let directives = || spec.parse::<loglayer::Directives>().expect("valid");
    let scoped = |log: LogLayer| loglayer::sync_scope(log, || disabled_calls(iters));
    match setting {
        "" | "scope" => scoped(logger(3)),
        "default_set" => {
            loglayer::set_default(logger(3));
            disabled_calls(iters);
        }
        "default_env" => {
            loglayer::set_default(loglayer::from_env());
            disabled_calls(iters);
        }
        "directives" => scoped(logger_with(LogLayer::builder().directives(directives()))),
        "control" => scoped(logger_with(
            LogLayer::builder().level_control(LevelControl::new(Level::Info)),
        )),
        "control_targets" => scoped(logger_with(
            LogLayer::builder().level_control(LevelControl::new(directives())),
        )),
        _ => return false,
    }
    true
}

fn main() {
    let mut args = std::env::args().skip(1);
    let scenario = args.next().unwrap_or_else(|| "json_event".to_owned());
    let iters: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let start = Instant::now();
    match scenario.as_str() {
        "json_event" | "ctx50" => {
            let n = if scenario == "ctx50" { 50 } else { 3 };
            loglayer::sync_scope(logger(n), || {
                for _ in 0..iters {
                    loglayer::info!(
                        attempt = black_box(ATTEMPT),
                        status = black_box(STATUS),
                        "order shipped"
                    );
                }
            });
        }
        "json_event_thread" => {
            // The same loop on a spawned thread (as in the two_threads bench).
            let log = logger(3);
            std::thread::spawn(move || {
                loglayer::sync_scope(log, || {
                    for _ in 0..iters {
                        loglayer::info!(
                            attempt = black_box(ATTEMPT),
                            status = black_box(STATUS),
                            "order shipped"
                        );
                    }
                })
            })
            .join()
            .expect("the thread panicked");
        }
        "two_threads" => {
            // json_event on two threads at once through one logger and one
            // writer (the two_threads bench), for `perf record`.
            let log = logger(3);
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    let log = log.clone();
                    std::thread::spawn(move || {
                        loglayer::sync_scope(log, || {
                            for _ in 0..iters {
                                loglayer::info!(
                                    attempt = black_box(ATTEMPT),
                                    status = black_box(STATUS),
                                    "order shipped"
                                );
                            }
                        })
                    })
                })
                .collect();
            for w in workers {
                w.join().expect("a thread panicked");
            }
        }
        "scope_enter" => loglayer::sync_scope(logger(0), || {
            for _ in 0..iters {
                block_on(with_logger(black_box(42)));
            }
        }),
        "middleware" | "middleware_bare" => {
            // The service bench's request through `RequestLoggerLayer` at
            // warn (nothing written), driven by hand: no network, so a
            // profile shows the middleware. `middleware_bare` is the same
            // handler without it (the difference is the middleware's cost).
            use loglayer::tower::RequestLoggerLayer;
            use tower::{Layer, Service};
            let base = LogLayer::builder()
                .transport(JsonTransport::new(Discard))
                .level(Level::Warn)
                .build();
            loglayer::set_default(base.clone());
            let handler = tower::service_fn(|_req: http::Request<String>| async {
                loglayer::info!(order_id = 42, step = "lookup", "looking up the order");
                loglayer::info!(order_id = 42, rows = 3, "order found");
                let mut res = http::Response::new(String::new());
                res.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                Ok::<_, std::convert::Infallible>(res)
            });
            let request = || {
                http::Request::get("/")
                    .header("host", "localhost")
                    .body(String::new())
                    .expect("request")
            };
            if scenario == "middleware" {
                let mut svc = RequestLoggerLayer::new(base).layer(handler);
                for _ in 0..iters {
                    black_box(block_on(svc.call(request())).expect("response"));
                }
            } else {
                let mut svc = handler;
                for _ in 0..iters {
                    black_box(block_on(svc.call(request())).expect("response"));
                }
            }
        }
        "scope_enter_4polls" => loglayer::sync_scope(logger(0), || {
            for _ in 0..iters {
                block_on(with_logger_yield(black_box(42)));
            }
        }),
        // What scope_enter adds to: the same async fns without the attribute.
        "scope_enter_bare" => {
            for _ in 0..iters {
                block_on(bare(black_box(42)));
            }
        }
        "scope_enter_bare_4polls" => {
            for _ in 0..iters {
                block_on(bare_yield(black_box(42)));
            }
        }
        "floor_disabled" => {
            static FLOOR_LEVEL: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(30);
            for _ in 0..iters {
                // `black_box`: one load per call, as a call site would do
                // (otherwise the loop's loads are merged into one).
                if black_box(&FLOOR_LEVEL).load(std::sync::atomic::Ordering::Relaxed) <= 20 {
                    black_box((ATTEMPT, STATUS));
                }
            }
        }
        "floor" => {
            let mut floor = Floor::new(Discard);
            for _ in 0..iters {
                floor.event(black_box(ATTEMPT), black_box(STATUS));
            }
        }
        other => {
            let known = other
                .strip_prefix("disabled")
                .map(|s| s.strip_prefix('_').unwrap_or(s))
                .is_some_and(|setting| disabled(setting, iters));
            if !known {
                eprintln!(
                    "unknown scenario {other}: see the list at the top of benches/examples/profile.rs"
                );
                std::process::exit(2);
            }
        }
    }
    let per = start.elapsed().as_nanos() as f64 / iters as f64;
    println!("{scenario}: {iters} iterations, {per:.1} ns each");
}
