//! Ordered key → JSON-text lists: the representation of context and metadata.
//!
//! Values are rendered to JSON once, when they are added; an entry then copies
//! bytes instead of re-serializing. A list never holds a key twice: adding an
//! existing key replaces the earlier value (later keys win).

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::json;
use crate::lazy::Lazy;

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
    #[cfg(feature = "log")]
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

use crate::json::TOO_DEEP;

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

/// A context: fields plus what makes an entry cheap — the flattened JSON
/// fragment rendered once, and a key index to detect metadata overrides.
#[derive(Default)]
pub(crate) struct Context {
    pub(crate) fields: FieldList,
    /// `"k":v,"k2":v2` — the fields as they appear flattened in a line.
    pub(crate) rendered: Vec<u8>,
    index: HashMap<Box<str>, (), BuildHasherDefault<Fnv>>,
    /// Values computed for each entry (see [`crate::lazy`]), after `fields`.
    pub(crate) lazies: Vec<(String, Lazy)>,
    /// Whether a key is `time`, `level` or `msg` (always reserved in a line).
    pub(crate) has_fixed_reserved: bool,
    /// One bit per key (see [`bloom_bit`]): a zero bit means "not a key".
    bloom: u64,
}

impl Context {
    /// A context with lazy values besides the rendered fields. A key is never
    /// in both.
    pub(crate) fn with_lazies(mut fields: FieldList, lazies: Vec<(String, Lazy)>) -> Self {
        if !lazies.is_empty() {
            let mut kept = FieldList::new();
            for (k, v) in fields.iter() {
                if !lazies.iter().any(|(lk, _)| lk == k) {
                    kept.push_raw(k, v);
                }
            }
            fields = kept;
        }
        Context {
            lazies,
            ..Context::new(fields)
        }
    }

    /// This context with its lazy values computed now (for one entry).
    pub(crate) fn evaluate(&self) -> Context {
        let mut fields = self.fields.clone();
        for (k, l) in &self.lazies {
            fields.push_with(k, |buf| l.write_json(buf));
        }
        Context::new(fields)
    }

    pub(crate) fn new(fields: FieldList) -> Self {
        // Each field renders as `"key":value,` with a few bytes of quoting.
        let size: usize = fields
            .iter_bytes()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum();
        let mut rendered = Vec::with_capacity(size + 16);
        let mut index = HashMap::default();
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                rendered.push(b',');
            }
            json::write_str(&mut rendered, k);
            rendered.push(b':');
            rendered.extend_from_slice(v.as_bytes());
            if fields.len() > SMALL {
                index.insert(k.into(), ());
            }
        }
        let has_fixed_reserved = fields
            .iter()
            .any(|(k, _)| matches!(k, "time" | "level" | "msg"));
        let bloom = fields.iter().fold(0, |m, (k, _)| m | bloom_bit(k));
        Context {
            fields,
            rendered,
            index,
            lazies: Vec::new(),
            has_fixed_reserved,
            bloom,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        // Most lookups miss (a metadata key that is not in the context): a
        // one-bit filter answers those without comparing strings.
        if self.bloom & bloom_bit(key) == 0 {
            return false;
        }
        if self.fields.len() > SMALL {
            self.index.contains_key(key)
        } else {
            self.fields.contains(key)
        }
    }
}

/// The bit of `key` in a context's 64-bit key filter: cheap (length and two
/// bytes), enough to rule out most absent keys.
fn bloom_bit(key: &str) -> u64 {
    let b = key.as_bytes();
    let h = b
        .len()
        .wrapping_mul(31)
        .wrapping_add(usize::from(*b.first().unwrap_or(&0)) * 7)
        .wrapping_add(usize::from(*b.last().unwrap_or(&0)));
    1u64 << (h % 64)
}

/// Up to this many keys a linear scan beats hashing.
const SMALL: usize = 8;
