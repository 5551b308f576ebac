//! [`Fields`]: an ordered list of unique keys with encoded values — the
//! representation of context, metadata and plugin data.
//!
//! A value is encoded once, when it is added; an entry then copies bytes
//! instead of serializing again. A list never holds a key twice: adding an
//! existing key replaces the earlier value (later keys win).

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use serde_core::Serialize;

use super::{encode, Value};

/// Where a key or a value lies in its buffer. `Copy` (unlike `Range`), so
/// that a list of items is copied as one block.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    end: u32,
}

#[derive(Clone, Copy, Debug)]
struct Item {
    key: Span,
    value: Span,
}

/// An ordered list of fields: unique string keys with typed [`Value`]s.
///
/// Plugins read and change an entry's context, metadata and error through it
/// (see [`LogData`](crate::plugin::LogData)); transports read it through
/// [`Entry`](crate::Entry). A key is never present twice.
///
/// ```
/// use loglayer::value::{Fields, Value};
///
/// let mut fields = Fields::new();
/// fields.insert("user", 7);
/// fields.insert("tags", ["a", "b"]);
/// fields.insert("user", 8); // replaces, in place
/// assert_eq!(fields.get("user"), Some(Value::U64(8)));
/// assert_eq!(fields.keys().collect::<Vec<_>>(), ["user", "tags"]);
/// assert!(fields.remove("tags"));
/// assert_eq!(fields.len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct Fields {
    keys: String,
    values: Vec<u8>,
    items: Vec<Item>,
}

fn range(start: usize, end: usize) -> Span {
    // Buffers larger than 4 GiB are not supported; saturate rather than wrap.
    let c = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    Span {
        start: c(start),
        end: c(end),
    }
}

impl Fields {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// The fields of any serde value: the entries of a map or struct, in
    /// their order; anything else under the key `value` (`null` gives no
    /// fields). A value that cannot be serialized gives the documented
    /// placeholder under `value`; a field nested too deeply, the placeholder
    /// as that field's value.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Self {
        let mut fields = Fields::new();
        fields.extend_from_serialize(value);
        fields
    }

    /// Adds the fields of `value` as [`from_serialize`](Self::from_serialize)
    /// reads them (later keys win). Encodes through a spare buffer of this
    /// thread: no allocation once this list has room.
    pub(crate) fn extend_from_serialize<T: Serialize + ?Sized>(&mut self, value: &T) {
        crate::scratch::with_bytes(|buf| {
            encode::fields(buf, value);
            match Value::decode(buf).0 {
                Value::Map(map) if self.is_empty() => {
                    // A serde map rarely repeats a key: a short one is
                    // checked by a scan, a long one with a set (so a huge map
                    // is not quadratic).
                    let mut seen: Option<HashSet<&str, BuildHasherDefault<Fnv>>> = None;
                    for (i, (k, v)) in map.encoded().enumerate() {
                        let fresh = match &mut seen {
                            Some(set) => set.insert(k),
                            None if i < SMALL => !self.contains_key(k),
                            None => {
                                let mut set: HashSet<&str, BuildHasherDefault<Fnv>> =
                                    map.encoded().take(i).map(|(k, _)| k).collect();
                                let fresh = set.insert(k);
                                seen = Some(set);
                                fresh
                            }
                        };
                        if fresh {
                            self.append(k, |out| out.extend_from_slice(v));
                        } else {
                            self.push_encoded(k, v);
                        }
                    }
                }
                Value::Map(map) => {
                    for (k, v) in map.encoded() {
                        self.push_encoded(k, v);
                    }
                }
                Value::Null => {}
                _ => self.push_encoded("value", buf),
            }
        });
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<Value<'_>> {
        let it = self.items.get(self.position(key)?)?;
        Some(Value::decode(self.bytes_at(it)).0)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// `(key, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Value<'_>)> + '_ {
        self.items
            .iter()
            .map(move |it| (self.key_at(it), Value::decode(self.bytes_at(it)).0))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.items.iter().map(move |it| self.key_at(it))
    }

    /// Sets `key` to `value` (any serde value; a [`Value`] read from another
    /// list is copied as it is). An existing `key` keeps its position and
    /// takes the new value; a new one goes at the end.
    pub fn insert(&mut self, key: &str, value: impl Serialize) {
        self.set_with(key, |out| encode::value(out, &value));
    }

    /// [`insert`](Self::insert) of an already-encoded value.
    pub(crate) fn insert_encoded(&mut self, key: &str, encoded: &[u8]) {
        self.set_with(key, |out| out.extend_from_slice(encoded));
    }

    /// Sets `key` to the value `write` appends: in place if present, else at
    /// the end.
    fn set_with(&mut self, key: &str, write: impl FnOnce(&mut Vec<u8>)) {
        match self.position(key) {
            Some(pos) => {
                let start = self.values.len();
                write(&mut self.values);
                self.items[pos].value = range(start, self.values.len());
            }
            None => self.append(key, write),
        }
    }

    /// Removes `key`; whether it was present.
    pub fn remove(&mut self, key: &str) -> bool {
        match self.position(key) {
            Some(pos) => {
                self.items.remove(pos);
                true
            }
            None => false,
        }
    }

    /// Keeps only the fields for which `keep` returns `true`, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, Value<'_>) -> bool) {
        let kept: Vec<bool> = self.iter().map(|(k, v)| keep(k, v)).collect();
        if kept.iter().all(|k| *k) {
            return;
        }
        let mut out = Fields::new();
        for ((k, v), _) in self.iter_encoded().zip(&kept).filter(|(_, k)| **k) {
            // Keys of one list are unique: no duplicate scan.
            out.append(k, |buf| buf.extend_from_slice(v));
        }
        *self = out;
    }

    /// Removes every field.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.values.clear();
        self.items.clear();
    }

    /// The fields as a JSON object (allocates).
    pub fn to_json_map(&self) -> serde_json::Map<String, serde_json::Value> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_json()))
            .collect()
    }

    // ---- crate-internal ------------------------------------------------

    /// A copy with room for `items` more fields holding `bytes` more bytes,
    /// so adding them does not reallocate.
    pub(crate) fn clone_with_room(&self, items: usize, bytes: usize) -> Self {
        let mut copy = Fields {
            keys: String::with_capacity(self.keys.len() + bytes),
            values: Vec::with_capacity(self.values.len() + bytes),
            items: Vec::with_capacity(self.items.len() + items),
        };
        copy.extend(self);
        copy
    }

    /// Bytes held by keys and values, to size a copy.
    pub(crate) fn byte_len(&self) -> usize {
        self.keys.len() + self.values.len()
    }

    /// Makes this list a copy of `other`, reusing this list's buffers: no
    /// allocation when they have room (`clone` always allocates).
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) fn copy_from(&mut self, other: &Fields) {
        self.keys.clone_from(&other.keys);
        self.values.clone_from(&other.values);
        self.items.clone_from(&other.items);
    }

    /// Bytes of heap memory this list holds.
    #[cfg_attr(not(feature = "otlp"), allow(dead_code))]
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.keys.capacity()
            + self.values.capacity()
            + self.items.capacity() * std::mem::size_of::<Item>()
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

    fn bytes_at(&self, it: &Item) -> &[u8] {
        self.values
            .get(it.value.start as usize..it.value.end as usize)
            .unwrap_or(&[encode::NULL])
    }

    /// Adds `key` with a value written by `write` (which must append exactly
    /// one encoded value). Replaces an earlier value of the same key.
    pub(crate) fn push_with(&mut self, key: &str, write: impl FnOnce(&mut Vec<u8>)) {
        if let Some(pos) = self.position(key) {
            self.items.remove(pos);
        }
        self.append(key, write);
    }

    /// Adds `key`, which the caller knows is not in the list yet (no scan
    /// for an earlier value).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn push_new(&mut self, key: &str, write: impl FnOnce(&mut Vec<u8>)) {
        debug_assert!(!self.contains_key(key), "{key} is already in the list");
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

    /// Adds `key` with an already-encoded value.
    pub(crate) fn push_encoded(&mut self, key: &str, encoded: &[u8]) {
        self.push_with(key, |buf| buf.extend_from_slice(encoded));
    }

    /// Adds a serde value.
    pub(crate) fn push_value<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.push_with(key, |buf| encode::value(buf, value));
    }

    /// Appends every field of `other` (later keys win), in time linear in
    /// both lists.
    pub(crate) fn extend(&mut self, other: &Fields) {
        if other.len() > SMALL && !self.is_empty() {
            let replaced: HashSet<&str, BuildHasherDefault<Fnv>> = other.keys().collect();
            let mut kept = Fields::new();
            for (k, v) in self.iter_encoded().filter(|(k, _)| !replaced.contains(k)) {
                kept.append(k, |buf| buf.extend_from_slice(v));
            }
            *self = kept;
        } else if !self.is_empty() {
            for (k, v) in other.iter_encoded() {
                self.push_encoded(k, v);
            }
            return;
        }
        for (k, v) in other.iter_encoded() {
            self.append(k, |buf| buf.extend_from_slice(v));
        }
    }

    /// `(key, encoded value)` pairs in order.
    pub(crate) fn iter_encoded(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.items
            .iter()
            .map(move |it| (self.key_at(it), self.bytes_at(it)))
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Equal when they hold the same keys with the same values, in the same order.
impl PartialEq for Fields {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter_encoded().eq(other.iter_encoded())
    }
}

/// Serializes as a map, in order.
impl Serialize for Fields {
    fn serialize<S: serde_core::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde_core::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, &v)?;
        }
        map.end()
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
