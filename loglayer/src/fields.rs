//! Ordered key → JSON-text lists: the representation of context and metadata.
//!
//! Values are rendered to JSON once, when they are added; an entry then copies
//! bytes instead of re-serializing. A list never holds a key twice: adding an
//! existing key replaces the earlier value (later keys win).

use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::json;
use crate::json::TOO_DEEP;

#[derive(Clone, Debug)]
struct Item {
    key: Range<u32>,
    value: Range<u32>,
}

/// An ordered list of unique keys with JSON-rendered values.
#[derive(Clone, Default)]
pub(crate) struct FieldList {
    keys: String,
    values: Vec<u8>,
    items: Vec<Item>,
}

fn range(start: usize, end: usize) -> Range<u32> {
    // Buffers larger than 4 GiB are not supported; saturate rather than wrap.
    let c = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    c(start)..c(end)
}

impl FieldList {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A copy of `self` with room for `items` more fields holding `bytes`
    /// more bytes, so adding them does not reallocate.
    pub(crate) fn clone_with_room(&self, items: usize, bytes: usize) -> Self {
        let mut copy = FieldList {
            keys: String::with_capacity(self.keys.len() + bytes),
            values: Vec::with_capacity(self.values.len() + bytes),
            items: Vec::with_capacity(self.items.len() + items),
        };
        copy.extend(self);
        copy
    }

    /// Bytes held by keys and values, to size a copy.
    #[cfg(feature = "tracing")]
    pub(crate) fn byte_len(&self) -> usize {
        self.keys.len() + self.values.len()
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.values.clear();
        self.items.clear();
    }

    /// Drops oversized buffers (after a huge entry) so a thread-local scratch
    /// list does not pin megabytes forever.
    pub(crate) fn shrink_if_large(&mut self) {
        const LIMIT: usize = 64 * 1024;
        if self.values.capacity() > LIMIT {
            self.values = Vec::new();
        }
        if self.keys.capacity() > LIMIT {
            self.keys = String::new();
        }
        if self.items.capacity() > 4096 {
            self.items = Vec::new();
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.items.iter().position(|it| self.key_at(it) == key)
    }

    fn key_at(&self, it: &Item) -> &str {
        self.keys
            .get(it.key.start as usize..it.key.end as usize)
            .unwrap_or("")
    }

    fn value_at(&self, it: &Item) -> &str {
        let bytes = self
            .values
            .get(it.value.start as usize..it.value.end as usize)
            .unwrap_or(b"null");
        // Values are only ever written by the JSON writers, which emit UTF-8.
        std::str::from_utf8(bytes).unwrap_or("null")
    }

    /// Adds `key` with a value written by `write` (which must append exactly
    /// one JSON value). Replaces an earlier value of the same key.
    pub(crate) fn push_with(&mut self, key: &str, write: impl FnOnce(&mut Vec<u8>)) {
        if let Some(pos) = self.position(key) {
            self.items.remove(pos);
        }
        self.append(key, write);
    }

    /// Adds `key` known not to be in the list yet.
    fn append(&mut self, key: &str, write: impl FnOnce(&mut Vec<u8>)) {
        let ks = self.keys.len();
        self.keys.push_str(key);
        let vs = self.values.len();
        write(&mut self.values);
        self.items.push(Item {
            key: range(ks, self.keys.len()),
            value: range(vs, self.values.len()),
        });
    }

    /// Adds `key` with already-rendered JSON text.
    pub(crate) fn push_raw(&mut self, key: &str, json_text: &str) {
        self.push_with(key, |buf| buf.extend_from_slice(json_text.as_bytes()));
    }

    /// Adds a serde value.
    #[cfg(any(feature = "log", feature = "tracing"))]
    pub(crate) fn push_value<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.push_with(key, |buf| json::write_value(buf, value));
    }

    /// Appends every field of `other` (later keys win), in time linear in
    /// both lists.
    pub(crate) fn extend(&mut self, other: &FieldList) {
        if other.len() > SMALL && !self.is_empty() {
            let replaced: std::collections::HashSet<&str, BuildHasherDefault<Fnv>> =
                other.iter().map(|(k, _)| k).collect();
            let mut kept = FieldList::new();
            for (k, v) in self.iter().filter(|(k, _)| !replaced.contains(k)) {
                kept.append(k, |buf| buf.extend_from_slice(v.as_bytes()));
            }
            *self = kept;
        } else if !self.is_empty() {
            for (k, v) in other.iter() {
                self.push_raw(k, v);
            }
            return;
        }
        for (k, v) in other.iter() {
            self.append(k, |buf| buf.extend_from_slice(v.as_bytes()));
        }
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Keeps only the fields whose key passes `keep`, in order.
    pub(crate) fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        if self.iter().all(|(k, _)| keep(k)) {
            return;
        }
        let mut kept = FieldList::new();
        for (k, v) in self.iter().filter(|(k, _)| keep(k)) {
            // Keys of one list are unique: no duplicate scan.
            kept.append(k, |buf| buf.extend_from_slice(v.as_bytes()));
        }
        *self = kept;
    }

    /// Bytes of keys and values (to size a copy that will receive them).
    pub(crate) fn text_len(&self) -> usize {
        self.keys.len() + self.values.len()
    }

    /// `(key, JSON bytes)` pairs in insertion order, without re-checking the
    /// values' UTF-8 (for writers that copy bytes).
    pub(crate) fn iter_bytes(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.items.iter().map(move |it| {
            let value = self
                .values
                .get(it.value.start as usize..it.value.end as usize)
                .unwrap_or(b"null");
            (self.key_at(it), value)
        })
    }

    /// `(key, JSON text)` pairs in insertion order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.items
            .iter()
            .map(move |it| (self.key_at(it), self.value_at(it)))
    }

    /// Builds a list from a JSON object.
    pub(crate) fn from_map(map: &Map<String, Value>) -> Self {
        let mut list = FieldList::new();
        for (k, v) in map {
            // A map's keys are unique: no duplicate scan.
            list.append(k, |buf| json::write_value(buf, v));
        }
        list
    }

    /// The fields as a JSON object (values parsed back; a value nested too
    /// deeply to parse becomes a placeholder).
    pub(crate) fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| {
                let value =
                    serde_json::from_str(v).unwrap_or_else(|_| Value::String(TOO_DEEP.to_owned()));
                (k.to_owned(), value)
            })
            .collect()
    }
}

impl fmt::Debug for FieldList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Serializes any value into an object for context or metadata: an object
/// stays as it is; anything else is kept under the key `value` (documented).
pub(crate) fn to_object<T: Serialize + ?Sized>(value: &T) -> Map<String, Value> {
    // `to_value` keeps numbers exact and never re-parses text, so no depth
    // limit of a parser applies here (too-deep values are caught when written).
    let value = match catch_unwind(AssertUnwindSafe(|| serde_json::to_value(value))) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => Value::String(format!("[unserializable: {e}]")),
        Err(_) => Value::String("[unserializable: panicked]".to_owned()),
    };
    match value {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            let mut map = Map::new();
            map.insert("value".to_owned(), other);
            map
        }
    }
}

/// FNV-1a: a fast hash for short keys, for the context key index.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Up to this many keys a linear scan beats hashing.
pub(crate) const SMALL: usize = 8;
