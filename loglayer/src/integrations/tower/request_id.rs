//! The request id: the incoming one when it is acceptable
//! (`[A-Za-z0-9._-]{1,128}`, exactly one header), else a new one.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

use std::cell::{Cell, RefCell};

use bytes::{Bytes, BytesMut};
use http::header::{HeaderMap, HeaderName, HeaderValue};

use super::random::{next_unique, Hex};

/// The default header for the request id.
pub(super) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The incoming request id, if there is exactly one and it is acceptable.
pub(super) fn incoming_request_id<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Option<&'h HeaderValue> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    valid_request_id(value.as_bytes()).then_some(value)
}

/// `[A-Za-z0-9._-]{1,128}`.
fn valid_request_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A new request id: 32 lowercase hex digits. Two bijective mixes of a
/// counter, keyed by per-process random keys: unique within the process (for
/// 2^64 ids) and unpredictable from outside it.
pub(super) fn generate_request_id() -> HeaderValue {
    static KEYS: OnceLock<(u64, u64)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let &(k0, k1) = KEYS.get_or_init(|| {
        let state = RandomState::new();
        let salt = (
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        (state.hash_one((0u8, salt)), state.hash_one((1u8, salt)))
    });
    thread_local! {
        static BLOCK: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    }
    let n = next_unique(&COUNTER, &BLOCK);
    let id = Hex::<32>::new(&[splitmix64(k0 ^ n), splitmix64(k1 ^ n)]);
    shared_value(&id.into_bytes())
}

/// `id` (a valid request id) as a header value without an allocation of its
/// own: the bytes are copied into this thread's current block of ids (4 KiB,
/// a new one when full), and the value shares that block, like the header
/// values hyper slices out of its read buffer. Clones (for the request and
/// the response) share it too. A block is freed when the last value in it
/// is dropped, so a long-lived request keeps at most one block alive.
pub(super) fn shared_value(id: &[u8]) -> HeaderValue {
    const BLOCK: usize = 4096;
    thread_local! {
        static IDS: RefCell<BytesMut> = RefCell::new(BytesMut::new());
    }
    let bytes = IDS
        .try_with(|ids| {
            let mut ids = ids.borrow_mut();
            if ids.capacity() < id.len() {
                *ids = BytesMut::with_capacity(BLOCK.max(id.len()));
            }
            ids.extend_from_slice(id);
            ids.split().freeze()
        })
        // During thread teardown: a copy of its own.
        .unwrap_or_else(|_| Bytes::copy_from_slice(id));
    HeaderValue::from_maybe_shared(bytes).expect("a valid request id is a valid header value")
}

/// The SplitMix64 finalizer: a bijection on `u64` that scrambles well.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_rules() {
        assert!(valid_request_id(b"a"));
        assert!(valid_request_id(&[b'x'; 128]));
        assert!(!valid_request_id(&[b'x'; 129]));
        assert!(!valid_request_id(b""));
        assert!(!valid_request_id(b"a b"));
        assert!(!valid_request_id(b"a\tb"));
        assert!(!valid_request_id("é".as_bytes()));
        let a = generate_request_id();
        let b = generate_request_id();
        assert_ne!(a, b);
        // Values share a block but not their bytes.
        let c = shared_value(b"req-1");
        let d = shared_value(b"req-2");
        assert_eq!((c.as_bytes(), d.as_bytes()), (&b"req-1"[..], &b"req-2"[..]));
        let long = [b'x'; 128];
        for _ in 0..100 {
            assert_eq!(shared_value(&long).as_bytes(), &long[..]);
        }
        assert_eq!(a.len(), 32);
        assert!(valid_request_id(a.as_bytes()));
    }
}
