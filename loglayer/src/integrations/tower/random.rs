//! Random trace and span ids. std's `RandomState` is keyed from the
//! operating system's randomness; SipHash under that key, over a counter, is
//! a keyed pseudo-random function: its outputs cannot be told from random
//! without the key, and unlike a mixed counter they cannot be inverted to
//! predict the next one. Not for secrets — trace ids are not secrets — but
//! well spread and independent across processes, as W3C Trace Context asks.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// 64 pseudo-random bits.
fn random_u64() -> u64 {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    KEY.get_or_init(RandomState::new).hash_one(n)
}

/// Lowercase hex digits held inline (an id is written into the request's
/// context as a string, so it need not be a `String` of its own).
#[derive(Clone, Copy)]
pub(super) struct Hex<const N: usize>([u8; N]);

impl<const N: usize> Hex<N> {
    /// `words`, big-endian, as `N` hex digits (`N` is 16 per word).
    pub(super) fn new(words: &[u64]) -> Self {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'0'; N];
        let bytes = words.iter().flat_map(|w| w.to_be_bytes());
        for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 0xf)];
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
}
