//! A tiny program for `tests/exit.rs`: logs through `JsonTransport` over a
//! `NonBlocking` stdout, then leaves `main` in the way the scenario names.
//!
//! Usage: `loglayer-exit-probe <scenario> <n> [slow]`
//!
//! - `return`: logs `n` entries and returns from `main` with the guard alive.
//! - `panic`: logs `n` entries and panics in `main` (the guard drops while unwinding).
//! - `exit`: logs `n` entries, drops the guard, then `std::process::exit(3)`.
//! - `hook`: installs `flush_on_panic`, logs `n` entries, forgets the guard and panics.
//! - `head`: logs `n` entries (the test closes stdout after one line).
//! - `full`: logs `n` entries (stdout is `/dev/full`).
//!
//! Every scenario that gets there prints `written=W failed=F dropped=D` on
//! stderr after the guard dropped. `slow` makes stdout accept one line per
//! write call, 1 ms each, so the worker is still busy when `main` ends.

use std::io::{self, Write};
use std::time::Duration;

use loglayer::{transport::JsonTransport, writer::NonBlocking, LogLayer};

/// Stdout that takes one line per call, slowly.
struct Slow(io::Stdout);

impl Write for Slow {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(Duration::from_millis(1));
        let line = buf
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| i + 1);
        self.0.write(&buf[..line])
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let scenario = args.next().unwrap_or_default();
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100);
    let slow = args.next().as_deref() == Some("slow");

    let (non_blocking, guard) = if slow {
        NonBlocking::new(Slow(io::stdout()))
    } else {
        NonBlocking::new(io::stdout())
    };
    let counters = non_blocking.clone();
    let log = LogLayer::new(JsonTransport::new(non_blocking));
    if scenario == "hook" {
        counters.flush_on_panic();
    }
    for i in 0..n {
        log.with_metadata(serde_json::json!({ "i": i }))
            .info("probe entry");
    }
    let report = |nb: &NonBlocking| {
        eprintln!(
            "written={} failed={} dropped={}",
            nb.written(),
            nb.failed(),
            nb.dropped()
        );
    };
    match scenario.as_str() {
        "return" => {}
        "panic" => panic!("probe panics with the guard alive"),
        "exit" => {
            drop(guard);
            report(&counters);
            std::process::exit(3);
        }
        "hook" => {
            std::mem::forget(guard);
            panic!("probe panics with the guard forgotten");
        }
        "head" | "full" => {
            drop(guard);
            report(&counters);
        }
        other => {
            eprintln!("unknown scenario {other:?}");
            std::process::exit(2);
        }
    }
}
