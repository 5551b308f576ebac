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

/// A new trace id: 16 random bytes as 32 lowercase hex digits, never all zero.
pub(super) fn new_trace_id() -> String {
    loop {
        let (hi, lo) = (random_u64(), random_u64());
        if hi | lo != 0 {
            return format!("{hi:016x}{lo:016x}");
        }
    }
}

/// A new span id: 8 random bytes as 16 lowercase hex digits, never all zero.
pub(super) fn new_span_id() -> String {
    loop {
        let id = random_u64();
        if id != 0 {
            return format!("{id:016x}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::propagation::w3c::is_id;

    #[test]
    fn ids_are_valid_and_distinct() {
        let traces: std::collections::HashSet<_> = (0..1000).map(|_| new_trace_id()).collect();
        let spans: std::collections::HashSet<_> = (0..1000).map(|_| new_span_id()).collect();
        assert_eq!((traces.len(), spans.len()), (1000, 1000));
        assert!(traces.iter().all(|t| is_id(t, 32)));
        assert!(spans.iter().all(|s| is_id(s, 16)));
    }
}
