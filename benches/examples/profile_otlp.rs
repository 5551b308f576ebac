//! A driver for profilers of the OTLP transport's cost on the caller's thread
//! (issue 12): `json_event`'s entry through an `OtlpTransport` whose endpoint
//! has nothing listening. Every chunk of calls the queue is drained (flush),
//! so callers reuse the export thread's spare buffers as in steady state.
//!
//! ```text
//! cargo build --release -p loglayer-benches --example profile_otlp
//! # instructions of the log calls alone (the drain is not collected):
//! valgrind --tool=callgrind --toggle-collect='profile_otlp::calls' \
//!     target/release/examples/profile_otlp 20
//! ```
//!
//! The argument is the number of chunks; prints the wall time per call (a
//! sanity check only: use `cargo bench --bench otlp` for numbers).
//! `CHUNK=n` sets the calls per chunk (default 1000); `BATCH=n` the
//! transport's batch size (default 512): a batch larger than a chunk keeps
//! the export thread idle while calls are timed.

use std::hint::black_box;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use loglayer::otlp::OtlpTransport;
use loglayer::{Level, LogLayer};
use loglayer_benches::{context_map, ATTEMPT, STATUS};

/// The timed (and collected) part: `chunk` log calls.
#[inline(never)]
fn calls(chunk: u32) {
    for _ in 0..chunk {
        loglayer::info!(
            attempt = black_box(ATTEMPT),
            status = black_box(STATUS),
            "order shipped"
        );
    }
}

fn main() {
    let chunks: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = l.local_addr().expect("its address");
        format!("http://{addr}")
    };
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u32>().ok());
    let chunk = env("CHUNK").unwrap_or(1000).max(1);
    let mut builder = OtlpTransport::builder();
    if let Some(n) = env("BATCH") {
        let n = n.max(1) as usize;
        builder = builder.batch_size(n).queue_size(n.max(2048));
    }
    let transport = builder
        .endpoint(dead)
        .export_timeout(Duration::from_millis(100))
        .build()
        .expect("an OTLP transport");
    let log = LogLayer::builder()
        .transport(transport)
        .level(Level::Info)
        .build();
    log.with_context(context_map(3));
    let mut timed = Duration::ZERO;
    loglayer::sync_scope(log.clone(), || {
        for _ in 0..chunks {
            let start = Instant::now();
            calls(chunk);
            timed += start.elapsed();
            log.flush();
        }
    });
    let calls = u64::from(chunks) * u64::from(chunk);
    let per = timed.as_nanos() as f64 / calls as f64;
    println!("otlp_event: {calls} calls, {per:.1} ns each");
}
