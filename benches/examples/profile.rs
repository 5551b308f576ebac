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
//! Scenarios: `json_event`, `json_event_thread`, `two_threads`, `ctx50`, `disabled`, `scope_enter`, `floor`,
//! `middleware` and `middleware_bare` (a request through `RequestLoggerLayer` at warn, and without it).
//! Prints the wall time per iteration (a sanity check only: use the benches
//! for numbers).

use std::hint::black_box;
use std::time::Instant;

use loglayer::transport::JsonTransport;
use loglayer::{Level, LogLayer};
use loglayer_benches::{block_on, context_map, Discard, Floor, ATTEMPT, STATUS};

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
        "disabled" => loglayer::sync_scope(logger(3), || {
            for _ in 0..iters {
                loglayer::debug!(
                    attempt = black_box(ATTEMPT),
                    status = black_box(STATUS),
                    "order shipped"
                );
            }
        }),
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
        "floor" => {
            let mut floor = Floor::new(Discard);
            for _ in 0..iters {
                floor.event(black_box(ATTEMPT), black_box(STATUS));
            }
        }
        other => {
            eprintln!("unknown scenario {other}: json_event, json_event_thread, two_threads, ctx50, disabled, scope_enter, floor, middleware, middleware_bare");
            std::process::exit(2);
        }
    }
    let per = start.elapsed().as_nanos() as f64 / iters as f64;
    println!("{scenario}: {iters} iterations, {per:.1} ns each");
}
