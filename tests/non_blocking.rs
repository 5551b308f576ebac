//! `loglayer::writer::NonBlocking` through the public API: whole lines in
//! per-producer order, flush, both policies, a stuck or failing writer, and
//! shutdown. No timing assertions: a watchdog fails a test that hangs.

use std::io::{self, Write};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use loglayer::transport::JsonTransport;
use loglayer::writer::{NonBlocking, Policy};
use loglayer::LogLayer;
use serde_json::{json, Value};

/// Only a hang gets anywhere near this.
const HANG: Duration = Duration::from_secs(20);

/// Runs `f` on its own thread; fails the test if it has not returned after [`HANG`].
fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(HANG) {
        Ok(Ok(v)) => v,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("{what}: still blocked after {HANG:?}"),
    }
}

/// An in-memory writer the test can read back.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("utf-8 output")
    }
    fn lines(&self) -> Vec<Value> {
        let text = self.text();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "incomplete last line"
        );
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("torn line {l:?}: {e}")))
            .collect()
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Accepts one line per call and sleeps first: a slow disk or terminal.
struct Slow {
    out: Shared,
    pause: Duration,
}

impl Write for Slow {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        std::thread::sleep(self.pause);
        let line = buf
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| i + 1);
        self.out.write(&buf[..line])
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A gate a writer blocks on until the test opens it.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<GateState>, Condvar)>);

#[derive(Default)]
struct GateState {
    open: bool,
    /// A write call is waiting at the gate.
    waiting: bool,
}

impl Gate {
    fn open(&self) {
        self.0 .0.lock().unwrap().open = true;
        self.0 .1.notify_all();
    }
    fn pass(&self) {
        let mut st = self.0 .0.lock().unwrap();
        st.waiting = true;
        self.0 .1.notify_all();
        while !st.open {
            st = self.0 .1.wait(st).unwrap();
        }
        st.waiting = false;
    }
    /// Blocks until a write call is stuck at the closed gate.
    fn wait_for_writer(&self) {
        let mut st = self.0 .0.lock().unwrap();
        while !st.waiting {
            st = self.0 .1.wait(st).unwrap();
        }
    }
}

/// A writer blocked at a gate until the test opens it.
struct Gated {
    gate: Gate,
    out: Shared,
}

impl Write for Gated {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.gate.pass();
        self.out.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn entry(log: &LogLayer, t: usize, i: usize) {
    log.with_metadata(json!({ "t": t, "i": i })).info("entry");
}

#[test]
fn lines_arrive_whole_and_in_per_producer_order() {
    const THREADS: usize = 8;
    const EACH: usize = 2000;
    let out = Shared::default();
    let (nb, guard) = NonBlocking::builder(out.clone())
        .capacity(64) // small: producers often find the queue full
        .policy(Policy::Lossless {
            max_wait: Duration::from_secs(60),
        })
        .finish();
    let log = LogLayer::new(JsonTransport::new(nb.clone()));
    within("producers", move || {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..EACH {
                        entry(&log, t, i);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        drop(guard);
    });
    let lines = out.lines();
    assert_eq!(lines.len(), THREADS * EACH);
    let mut next = [0u64; THREADS];
    for line in &lines {
        assert_eq!(line["msg"], "entry");
        let t = line["t"].as_u64().unwrap() as usize;
        assert_eq!(line["i"], next[t], "thread {t} out of order");
        next[t] += 1;
    }
    assert_eq!(nb.written(), (THREADS * EACH) as u64);
    assert_eq!(nb.dropped(), 0);
    assert_eq!(nb.failed(), 0);
}

#[test]
fn flush_while_running_makes_everything_visible() {
    let out = Shared::default();
    let (nb, guard) = NonBlocking::new(Slow {
        out: out.clone(),
        pause: Duration::from_micros(500),
    });
    let log = LogLayer::new(JsonTransport::new(nb.clone()));
    let (lines, written) = within("flush", move || {
        for i in 0..200 {
            entry(&log, 0, i);
        }
        log.flush(); // through the transport
        let first = out.lines().len();
        for i in 200..300 {
            entry(&log, 0, i);
        }
        let mut nb2 = nb.clone();
        nb2.flush().expect("flush"); // directly
        let lines = out.lines();
        assert_eq!(first, 200);
        let written = nb.written();
        drop(guard);
        (lines, written)
    });
    assert_eq!(lines.len(), 300);
    assert_eq!(written, 300);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["i"], i);
    }
}

#[test]
fn lossless_with_a_slow_writer_loses_nothing() {
    const THREADS: usize = 4;
    const EACH: usize = 200;
    let out = Shared::default();
    let (nb, guard) = NonBlocking::builder(Slow {
        out: out.clone(),
        pause: Duration::from_micros(200),
    })
    .capacity(4)
    .policy(Policy::Lossless {
        max_wait: Duration::from_secs(60),
    })
    .finish();
    let log = LogLayer::new(JsonTransport::new(nb.clone()));
    within("lossless producers", move || {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || (0..EACH).for_each(|i| entry(&log, t, i)))
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        drop(guard);
    });
    assert_eq!(nb.dropped(), 0);
    assert_eq!(nb.written(), (THREADS * EACH) as u64);
    assert_eq!(out.lines().len(), THREADS * EACH);
}

#[test]
fn drop_and_report_never_waits_and_reports_the_count_once() {
    const CAPACITY: usize = 16;
    const THREADS: usize = 4;
    const EACH: usize = 1000;
    let out = Shared::default();
    let gate = Gate::default();
    let (nb, guard) = NonBlocking::builder(Gated {
        gate: gate.clone(),
        out: out.clone(),
    })
    .capacity(CAPACITY)
    .policy(Policy::DropAndReport)
    .finish();
    let log = LogLayer::new(JsonTransport::new(nb.clone()));

    // The worker takes the first entry and is stuck at the closed gate.
    entry(&log, THREADS, 0);
    gate.wait_for_writer();

    // The writer cannot make progress, yet every producer finishes.
    let producers_log = log.clone();
    within("producers with a blocked writer", move || {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let log = producers_log.clone();
                std::thread::spawn(move || (0..EACH).for_each(|i| entry(&log, t, i)))
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
    });
    let emitted = (THREADS * EACH + 1) as u64;
    // Memory is bounded by the queue: only `CAPACITY` entries wait.
    assert!(nb.queued() <= CAPACITY, "queued {}", nb.queued());
    assert!(nb.dropped() >= emitted - 1 - CAPACITY as u64);
    assert_eq!(out.lines().len(), 0);

    gate.open();
    within("guard drop after release", move || drop(guard));

    let written = nb.written();
    assert_eq!(nb.dropped(), emitted - written);
    assert_eq!(nb.failed(), 0);
    assert_eq!(written, 1 + CAPACITY as u64);
    let lines = out.lines();
    let notices: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get("dropped").is_some())
        .collect();
    assert_eq!(notices.len(), 1, "one dropped-count entry: {notices:?}");
    let notice = notices[0];
    assert_eq!(notice["level"], "warn");
    assert_eq!(notice["dropped"], nb.dropped());
    assert_eq!(
        notice["msg"],
        format!("loglayer dropped {} entries (queue full)", nb.dropped())
    );
    let time = notice["time"].as_str().unwrap();
    assert_eq!(time.len(), 24, "{time}");
    assert!(time.ends_with('Z'), "{time}");
    // Every other line is an entry, in per-producer order.
    assert_eq!(lines.len() as u64, written + 1);
    let mut last = [None::<u64>; THREADS + 1];
    for line in lines.iter().filter(|l| l.get("dropped").is_none()) {
        let t = line["t"].as_u64().unwrap() as usize;
        let i = line["i"].as_u64().unwrap();
        assert!(
            last[t].is_none_or(|prev| prev < i),
            "thread {t} out of order"
        );
        last[t] = Some(i);
    }
    drop(log);
}

#[test]
fn a_custom_dropped_notice_is_written_in_its_format() {
    let out = Shared::default();
    let gate = Gate::default();
    let (mut nb, guard) = NonBlocking::builder(Gated {
        gate: gate.clone(),
        out: out.clone(),
    })
    .capacity(1)
    .policy(Policy::DropAndReport)
    .dropped_notice(|n| format!("WARN  dropped {n}\n").into_bytes())
    .finish();
    nb.write_all(b"first\n").unwrap();
    gate.wait_for_writer();
    nb.write_all(b"second\n").unwrap(); // queued
    nb.write_all(b"third\n").unwrap(); // dropped
    nb.write_all(b"fourth\n").unwrap(); // dropped
    gate.open();
    within("guard drop", move || drop(guard));
    assert_eq!(out.text(), "first\nsecond\nWARN  dropped 2\n");
    assert_eq!((nb.written(), nb.dropped()), (2, 2));
}

#[test]
fn lossless_gives_up_after_max_wait_and_reports_it() {
    let out = Shared::default();
    let gate = Gate::default();
    let (mut nb, guard) = NonBlocking::builder(Gated {
        gate: gate.clone(),
        out: out.clone(),
    })
    .capacity(1)
    .policy(Policy::Lossless {
        max_wait: Duration::from_millis(10),
    })
    .finish();
    nb.write_all(b"{\"n\":1}\n").unwrap();
    gate.wait_for_writer();
    nb.write_all(b"{\"n\":2}\n").unwrap(); // queued
    let mut producer = nb.clone();
    within("lossless caller with a stuck writer", move || {
        producer.write_all(b"{\"n\":3}\n").unwrap() // waits, then dropped
    });
    assert_eq!(nb.dropped(), 1);
    gate.open();
    within("guard drop", move || drop(guard));
    let lines = out.lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[2]["dropped"], 1);
    assert_eq!(nb.written(), 2);
}

#[test]
fn a_writer_that_never_returns_cannot_hang_the_guard() {
    let gate = Gate::default(); // never opened
    let (nb, guard) = NonBlocking::builder(Gated {
        gate: gate.clone(),
        out: Shared::default(),
    })
    .capacity(2)
    .policy(Policy::Lossless {
        max_wait: Duration::from_secs(1),
    })
    .shutdown_timeout(Duration::from_millis(200))
    .finish();
    let log = LogLayer::new(JsonTransport::new(nb.clone()));
    let mut flusher = nb.clone();
    // One caller waits `max_wait` in vain; the others then drop at once
    // (were each to wait, this would take ~40 s and trip the watchdog).
    let flushed = within("logging into a stuck writer", move || {
        for i in 0..40 {
            entry(&log, 0, i);
        }
        flusher.flush()
    });
    let err = flushed.expect_err("flush cannot complete");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    within("guard drop with a stuck writer", move || drop(guard));
    assert_eq!(nb.written(), 0);
    // At most `capacity` entries queued and `capacity` in the stuck batch.
    assert!(nb.dropped() >= 40 - 2 * 2, "dropped {}", nb.dropped());
    // Still refused afterwards, without waiting.
    let mut late = nb.clone();
    within("write after shutdown", move || {
        assert!(late.write_all(b"late\n").is_err())
    });
    drop(gate);
}

/// Fails on every line that contains `FAIL`; writes other lines one per call.
struct Picky {
    out: Shared,
}

impl Write for Picky {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let end = buf
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| i + 1);
        let line = &buf[..end];
        if line.windows(4).any(|w| w == b"FAIL") {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "picky"));
        }
        if line.windows(5).any(|w| w == b"PANIC") {
            panic!("the writer panics");
        }
        self.out.write(line)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_writer_is_counted_and_never_blocks() {
    // Always failing: every entry counted as failed, nobody waits.
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
        }
    }
    let (nb, guard) = NonBlocking::builder(Broken).capacity(8).finish();
    let log = LogLayer::new(JsonTransport::new(nb.clone()));
    within("logging into a broken writer", move || {
        for i in 0..1000 {
            entry(&log, 0, i);
        }
        log.flush();
        drop(guard);
    });
    assert_eq!(nb.failed(), 1000);
    assert_eq!(nb.written(), 0);
    assert_eq!(nb.dropped(), 0);
}

#[test]
fn only_the_entries_the_writer_fails_on_are_lost() {
    let out = Shared::default();
    let (mut nb, guard) = NonBlocking::new(Picky { out: out.clone() });
    let mut expected = String::new();
    within("picky writer", move || {
        for i in 0..300 {
            let line = match i % 3 {
                0 => format!("ok {i}\n"),
                1 => format!("FAIL {i}\n"),
                _ if i % 30 == 2 => format!("PANIC {i}\n"),
                _ => format!("ok {i}\n"),
            };
            nb.write_all(line.as_bytes()).unwrap();
        }
        drop(guard);
        nb
    });
    for i in 0..300 {
        if i % 3 != 1 && i % 30 != 2 {
            expected.push_str(&format!("ok {i}\n"));
        }
    }
    assert_eq!(out.text(), expected);
}

#[test]
fn counters_add_up_with_a_picky_writer() {
    let out = Shared::default();
    let (mut nb, guard) = NonBlocking::builder(Picky { out })
        .capacity(4)
        .policy(Policy::Lossless {
            max_wait: Duration::from_secs(60),
        })
        .finish();
    let mut writer = nb.clone();
    within("picky writer", move || {
        for i in 0..100 {
            let line = if i % 4 == 0 { "FAIL\n" } else { "ok\n" };
            writer.write_all(line.as_bytes()).unwrap();
        }
        drop(guard);
    });
    assert_eq!(nb.failed(), 25);
    assert_eq!(nb.written(), 75);
    assert!(nb.write_all(b"ok\n").is_err());
}

#[test]
fn writes_after_the_guard_dropped_are_refused() {
    let out = Shared::default();
    let (nb, guard) = NonBlocking::new(out.clone());
    let log = LogLayer::new(JsonTransport::new(nb.clone()));
    entry(&log, 0, 0);
    drop(guard);
    assert_eq!(nb.written(), 1);
    within("logging after shutdown", move || {
        entry(&log, 0, 1); // returns; the refusal is counted
        log.flush();
    });
    let mut direct = nb.clone();
    let err = direct.write(b"late\n").expect_err("refused");
    assert_eq!(err.kind(), io::ErrorKind::Other);
    assert_eq!(nb.dropped(), 2);
    assert_eq!(out.lines().len(), 1);
}
