//! Shared helpers for the benchmarks in `benches/`: a discarding writer, a
//! minimal executor, a self-waking yield, the thread-local "floor" for scope
//! entry, and the hand-written serde_json **floor** for one JSON line.
//!
//! The floor is what a competent hand-written logger would do for the
//! `json_event` line: `SystemTime::now()`, an RFC 3339 timestamp (date part
//! cached per second, as loglayer does), and one `serde_json::to_writer` of a
//! `#[derive(Serialize)]` struct into a reused `Vec<u8>`, then one
//! `write_all` into the writer.

use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::io::{self, Write};
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// The message every scenario logs.
pub const MSG: &str = "order shipped";
/// The three context values of `json_event`.
pub const REQUEST_ID: &str = "7f3a9c2e-41d8-4b6a-9e10-5c2d8f7a1b34";
/// `user_id` context value.
pub const USER_ID: u64 = 4_211_337;
/// `route` context value.
pub const ROUTE: &str = "/api/v1/orders/{id}/ship";
/// The two per-event fields: a `u64` ...
pub const ATTEMPT: u64 = 3;
/// ... and a short string.
pub const STATUS: &str = "ok";

/// A writer that discards every byte (but looks at the length, so the
/// formatting cannot be optimised away). `Clone`, `Send`, `Sync`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

impl Write for Discard {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(black_box(buf.len()))
    }
    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        black_box(buf.len());
        Ok(())
    }
    #[inline]
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer that keeps the bytes (for the sample lines printed at start-up).
#[derive(Clone, Debug, Default)]
pub struct Keep(pub std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Keep {
    /// The first line written, without its newline.
    pub fn first_line(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        text.lines().next().unwrap_or("").to_owned()
    }
}

impl Write for Keep {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// A minimal executor.

/// Polls `fut` to completion on this thread with a no-op waker, busy-polling
/// when it is pending (the futures benchmarked here wake themselves).
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// A future that returns `Pending` `n` times (waking itself each time), then
/// `Ready`: `n` extra polls of every enclosing future.
#[derive(Debug)]
pub struct YieldN(pub u32);

impl Future for YieldN {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            Poll::Ready(())
        } else {
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

thread_local! {
    static SLOT: Cell<usize> = const { Cell::new(0) };
}

/// The scope_enter floor: swaps a pointer-sized value into a thread-local
/// around each poll (and back out afterwards), nothing else.
#[derive(Debug)]
pub struct TlsSwap<F> {
    value: usize,
    fut: F,
}

/// Wraps `fut` so `value` is in the thread-local slot while it is polled.
pub fn tls_swap<F: Future + Unpin>(value: usize, fut: F) -> TlsSwap<F> {
    TlsSwap { value, fut }
}

impl<F: Future + Unpin> Future for TlsSwap<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let prev = SLOT.with(|s| s.replace(this.value));
        let out = Pin::new(&mut this.fut).poll(cx);
        SLOT.with(|s| s.set(prev));
        out
    }
}

/// The value in the floor's slot (to keep the swap observable).
pub fn tls_slot() -> usize {
    SLOT.with(Cell::get)
}

// ---------------------------------------------------------------------------
// The JSON-line floor.

/// The `json_event` line, as a hand-written logger would declare it.
#[derive(Serialize)]
pub struct Line<'a> {
    /// RFC 3339 UTC, milliseconds.
    pub time: &'a str,
    /// Level name.
    pub level: &'static str,
    /// Message.
    pub msg: &'a str,
    /// Context.
    pub request_id: &'a str,
    /// Context.
    pub user_id: u64,
    /// Context.
    pub route: &'a str,
    /// Field.
    pub attempt: u64,
    /// Field.
    pub status: &'a str,
}

/// A context value of the scaling floor.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Val {
    /// A string.
    Str(String),
    /// An unsigned integer.
    U64(u64),
}

/// `n` context pairs: the 3 of `json_event` first, then `ctx_3` … alternating
/// strings and numbers.
pub fn context_pairs(n: usize) -> Vec<(String, Val)> {
    let mut v = vec![
        ("request_id".to_owned(), Val::Str(REQUEST_ID.to_owned())),
        ("user_id".to_owned(), Val::U64(USER_ID)),
        ("route".to_owned(), Val::Str(ROUTE.to_owned())),
    ];
    for i in 3..n {
        let val = if i % 2 == 0 {
            Val::Str(format!("value-{i}"))
        } else {
            Val::U64(i as u64 * 1000 + 7)
        };
        v.push((format!("ctx_{i}"), val));
    }
    v.truncate(n);
    v
}

/// The scaling floor's line: context pairs serialized as map entries.
struct MapLine<'a> {
    time: &'a str,
    msg: &'a str,
    ctx: &'a [(String, Val)],
    attempt: u64,
    status: &'a str,
}

impl Serialize for MapLine<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5 + self.ctx.len()))?;
        m.serialize_entry("time", self.time)?;
        m.serialize_entry("level", "info")?;
        m.serialize_entry("msg", self.msg)?;
        for (k, v) in self.ctx {
            m.serialize_entry(k, v)?;
        }
        m.serialize_entry("attempt", &self.attempt)?;
        m.serialize_entry("status", self.status)?;
        m.end()
    }
}

/// The floor: formats the `json_event` line with serde_json into a reused
/// buffer and writes it with one `write_all`.
#[derive(Debug)]
pub struct Floor<W> {
    buf: Vec<u8>,
    cached_sec: u64,
    date: [u8; 20],
    /// Where the lines go.
    pub writer: W,
}

impl<W: Write> Floor<W> {
    /// A floor writing into `writer`.
    pub fn new(writer: W) -> Self {
        Floor {
            buf: Vec::with_capacity(512),
            cached_sec: u64::MAX,
            date: [0; 20],
            writer,
        }
    }

    fn now(&mut self) -> [u8; 24] {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let (secs, ms) = (d.as_secs(), d.subsec_millis());
        if secs != self.cached_sec {
            self.cached_sec = secs;
            self.date = format_second(secs);
        }
        let mut t = [0u8; 24];
        t[..20].copy_from_slice(&self.date);
        t[20] = b'0' + (ms / 100) as u8;
        t[21] = b'0' + (ms / 10 % 10) as u8;
        t[22] = b'0' + (ms % 10) as u8;
        t[23] = b'Z';
        t
    }

    /// One `json_event` line (3 context keys, 2 fields).
    pub fn event(&mut self, attempt: u64, status: &str) {
        let t = self.now();
        let time = std::str::from_utf8(&t).unwrap_or("");
        self.buf.clear();
        let line = Line {
            time,
            level: "info",
            msg: MSG,
            request_id: REQUEST_ID,
            user_id: USER_ID,
            route: ROUTE,
            attempt,
            status,
        };
        let _ = serde_json::to_writer(&mut self.buf, &line);
        self.buf.push(b'\n');
        let _ = self.writer.write_all(&self.buf);
    }

    /// One line with `ctx` as the context (the scaling floor).
    pub fn event_with(&mut self, ctx: &[(String, Val)], attempt: u64, status: &str) {
        let t = self.now();
        let time = std::str::from_utf8(&t).unwrap_or("");
        self.buf.clear();
        let line = MapLine {
            time,
            msg: MSG,
            ctx,
            attempt,
            status,
        };
        let _ = serde_json::to_writer(&mut self.buf, &line);
        self.buf.push(b'\n');
        let _ = self.writer.write_all(&self.buf);
    }
}

/// A writer shared by threads: locks a mutex around each `write_all`, like
/// every logger's shared writer does.
#[derive(Debug, Default)]
pub struct Shared<W>(pub std::sync::Arc<std::sync::Mutex<W>>);

impl<W> Clone for Shared<W> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<W: Write> Write for Shared<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        w.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        w.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `YYYY-MM-DDTHH:MM:SS.` for a unix second.
fn format_second(secs: u64) -> [u8; 20] {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let y = (yoe + era * 400 + i64::from(m <= 2)).clamp(0, 9999) as u64;
    let mut b = *b"0000-00-00T00:00:00.";
    let put = |b: &mut [u8], mut v: u64| {
        for c in b.iter_mut().rev() {
            *c = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(&mut b[0..4], y);
    put(&mut b[5..7], m);
    put(&mut b[8..10], d);
    put(&mut b[11..13], rem / 3600);
    put(&mut b[14..16], rem / 60 % 60);
    put(&mut b[17..19], rem % 60);
    b
}

/// The first `n` of [`context_pairs`] as a JSON object, the way loglayer's
/// `with_context` takes them.
pub fn context_map(n: usize) -> serde_json::Map<String, serde_json::Value> {
    context_pairs(n)
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Val::Str(s) => serde_json::Value::from(s),
                Val::U64(u) => serde_json::Value::from(u),
            };
            (k, v)
        })
        .collect()
}
