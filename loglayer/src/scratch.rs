//! Spare buffers kept per thread, so that building one entry through the
//! methods (`with_metadata`, `with_error`, `raw`) allocates nothing in steady
//! state: a builder takes a spare list, string or error record, fills it, and
//! gives it back cleared when the entry is sent or dropped.
//!
//! A thread keeps at most [`SPARES`] of each, and drops any that grew huge
//! (one giant entry must not pin megabytes). When the spares are in use (a
//! builder inside a `Serialize` impl inside a builder), a fresh one is made.

use std::cell::RefCell;

use crate::error::ErrorInfo;
use crate::value::Fields;

/// Spares kept per thread and kind.
const SPARES: usize = 4;

/// A buffer past this many bytes is not kept.
const LARGE: usize = 64 * 1024;

thread_local! {
    static FIELDS: RefCell<Vec<Fields>> = const { RefCell::new(Vec::new()) };
    static STRINGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static ERRORS: RefCell<Vec<ErrorInfo>> = const { RefCell::new(Vec::new()) };
    static BYTES: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

fn take<T>(spares: &'static std::thread::LocalKey<RefCell<Vec<T>>>, make: fn() -> T) -> T {
    spares
        .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.pop()))
        .ok()
        .flatten()
        .unwrap_or_else(make)
}

fn give<T>(spares: &'static std::thread::LocalKey<RefCell<Vec<T>>>, spare: T) {
    let _ = spares.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            if s.len() < SPARES {
                s.push(spare);
            }
        }
    });
}

/// An empty field list.
pub(crate) fn fields() -> Fields {
    take(&FIELDS, Fields::new)
}

/// Gives back a field list taken with [`fields`] (or any other).
pub(crate) fn give_fields(mut f: Fields) {
    if f.byte_len() <= LARGE {
        f.clear();
        give(&FIELDS, f);
    }
}

/// An empty string.
pub(crate) fn string() -> String {
    take(&STRINGS, String::new)
}

/// Gives back a string.
pub(crate) fn give_string(mut s: String) {
    if s.capacity() <= LARGE {
        s.clear();
        give(&STRINGS, s);
    }
}

/// An error record to capture into (its buffers reused).
pub(crate) fn error() -> ErrorInfo {
    take(&ERRORS, ErrorInfo::empty)
}

/// Gives back an error record.
pub(crate) fn give_error(e: ErrorInfo) {
    if e.heap_size() <= LARGE {
        give(&ERRORS, e);
    }
}

/// Runs `f` with an empty byte buffer (to encode into).
pub(crate) fn with_bytes<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut buf = take(&BYTES, Vec::new);
    buf.clear();
    let result = f(&mut buf);
    if buf.capacity() <= LARGE {
        give(&BYTES, buf);
    }
    result
}
