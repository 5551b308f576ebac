//! Random trace and span ids. std's `RandomState` is keyed from the
//! operating system's randomness; SipHash under that key, over a counter, is
//! a keyed pseudo-random function: its outputs cannot be told from random
//! without the key, and unlike a mixed counter they cannot be inverted to
//! predict the next one. Not for secrets — trace ids are not secrets — but
//! well spread and independent across processes, as W3C Trace Context asks.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// 64 pseudo-random bits.
fn random_u64() -> u64 {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static BLOCK: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }
    let n = next_unique(&COUNTER, &BLOCK);
    KEY.get_or_init(RandomState::new).hash_one(n)
}

/// How many counter values a thread takes from a shared counter at once.
const BLOCK_LEN: u64 = 1024;

/// A value of `counter` never handed out before in this process: taken from
/// this thread's block of `BLOCK_LEN` values (`(next, end)` in `block`), a
/// new block reserved from the shared counter when it runs out — so threads
/// handling requests touch the shared counter's cache line once per 1024
/// ids instead of once per id.
pub(super) fn next_unique(
    counter: &AtomicU64,
    block: &'static std::thread::LocalKey<Cell<(u64, u64)>>,
) -> u64 {
    let take = |(next, end): (u64, u64)| {
        if next < end {
            (next, (next + 1, end))
        } else {
            let start = counter.fetch_add(BLOCK_LEN, Ordering::Relaxed);
            (start, (start + 1, start + BLOCK_LEN))
        }
    };
    block
        .try_with(|b| {
            let (n, rest) = take(b.get());
            b.set(rest);
            n
        })
        // During thread teardown: one value of its own.
        .unwrap_or_else(|_| counter.fetch_add(1, Ordering::Relaxed))
}

/// The two lowercase hex digits of every byte.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [DIGITS[i >> 4], DIGITS[i & 0xf]];
        i += 1;
    }
    t
};

/// Lowercase hex digits held inline (an id is written into the request's
/// context as a string, so it need not be a `String` of its own).
#[derive(Clone, Copy)]
pub(super) struct Hex<const N: usize>([u8; N]);

impl<const N: usize> Hex<N> {
    /// `words`, big-endian, as `N` hex digits (`N` is 16 per word).
    pub(super) fn new(words: &[u64]) -> Self {
        let mut out = [b'0'; N];
        for (digits, word) in out.chunks_exact_mut(16).zip(words) {
            for (pair, byte) in digits.chunks_exact_mut(2).zip(word.to_be_bytes()) {
                pair.copy_from_slice(&HEX_PAIRS[usize::from(byte)]);
            }
        }
        Hex(out)
    }

    /// The digits, owned.
    pub(super) fn into_bytes(self) -> [u8; N] {
        self.0
    }

    /// The digits (ASCII).
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    #[cfg(test)]
    pub(super) fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A new trace id: 16 random bytes as 32 lowercase hex digits, never all zero.
pub(super) fn new_trace_id() -> Hex<32> {
    loop {
        let (hi, lo) = (random_u64(), random_u64());
        if hi | lo != 0 {
            return Hex::new(&[hi, lo]);
        }
    }
}

/// A new span id: 8 random bytes as 16 lowercase hex digits, never all zero.
pub(super) fn new_span_id() -> Hex<16> {
    loop {
        let id = random_u64();
        if id != 0 {
            return Hex::new(&[id]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::propagation::w3c::is_id;

    #[test]
    fn ids_are_valid_and_distinct() {
        let traces: std::collections::HashSet<String> = (0..1000)
            .map(|_| new_trace_id().as_str().to_owned())
            .collect();
        let spans: std::collections::HashSet<String> = (0..1000)
            .map(|_| new_span_id().as_str().to_owned())
            .collect();
        assert_eq!(
            Hex::<32>::new(&[1, 0xfe]).as_str(),
            format!("{:016x}{:016x}", 1, 0xfe)
        );
        assert_eq!((traces.len(), spans.len()), (1000, 1000));
        assert!(traces.iter().all(|t| is_id(t, 32)));
        assert!(spans.iter().all(|s| is_id(s, 16)));
    }

    #[test]
    fn hex_digits_of_every_byte_value() {
        for w in [0, u64::MAX, 0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210] {
            assert_eq!(Hex::<16>::new(&[w]).as_str(), format!("{w:016x}"));
        }
    }

    #[test]
    fn counter_values_are_unique_across_threads_and_blocks() {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        thread_local! {
            static BLOCK: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
        }
        // Three blocks' worth per thread, four threads.
        let per_thread = 3 * BLOCK_LEN as usize + 7;
        let all: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        (0..per_thread)
                            .map(|_| next_unique(&COUNTER, &BLOCK))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a thread panicked"))
                .collect()
        });
        let distinct: std::collections::HashSet<u64> = all.iter().copied().collect();
        assert_eq!(distinct.len(), 4 * per_thread);
    }
}
