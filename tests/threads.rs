//! Threads logging at once into one writer: no torn or interleaved lines, and
//! each thread's entries arrive in the order it wrote them.

use std::io;
use std::sync::{Arc, Barrier, Mutex};

use loglayer::transport::JsonTransport;
use loglayer::LogLayer;
use serde_json::{json, Value};

/// A writer that appends bytes and may split each write into small pieces,
/// the way a pipe could accept a partial write.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);
impl io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Accept at most 7 bytes per call: `write_all` must loop, and the
        // transport must keep the whole line together anyway.
        let n = buf.len().min(7);
        self.0.lock().unwrap().extend_from_slice(&buf[..n]);
        std::thread::yield_now();
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn concurrent_threads_never_tear_lines_and_keep_per_thread_order() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 300;
    let sink = Sink::default();
    let log = LogLayer::new(JsonTransport::new(sink.clone()));
    log.with_context(json!({"service": "threads"}));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = log.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                for seq in 0..PER_THREAD {
                    log.with_metadata(
                        json!({"thread": t, "seq": seq, "pad": "x".repeat(seq % 50)}),
                    )
                    .info(format_args!("thread {t} entry {seq}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let bytes = sink.0.lock().unwrap().clone();
    let text = String::from_utf8(bytes).expect("UTF-8, so no line was cut mid-character");
    let mut next = [0usize; THREADS];
    let mut count = 0;
    for line in text.lines() {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("torn line {line:?}: {e}"));
        let t = v["thread"].as_u64().unwrap() as usize;
        let seq = v["seq"].as_u64().unwrap() as usize;
        assert_eq!(seq, next[t], "thread {t} out of order");
        assert_eq!(v["msg"], format!("thread {t} entry {seq}"));
        assert_eq!(v["service"], "threads");
        next[t] += 1;
        count += 1;
    }
    assert_eq!(count, THREADS * PER_THREAD);
}

#[test]
fn context_changes_while_other_threads_log_are_atomic() {
    let sink = Sink::default();
    let log = LogLayer::new(JsonTransport::new(sink.clone()));
    log.with_context(json!({"a": 0, "b": 0}));
    let writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            for i in 1..200 {
                log.with_context(json!({"a": i, "b": i}));
            }
        })
    };
    let reader = {
        let log = log.clone();
        std::thread::spawn(move || {
            for _ in 0..200 {
                log.info("r");
            }
        })
    };
    writer.join().unwrap();
    reader.join().unwrap();
    let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            v["a"], v["b"],
            "a context update is seen whole or not at all"
        );
    }
}
