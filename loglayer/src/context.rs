//! The context a logger carries, and the **one merge rule** for it.
//!
//! A [`Context`] is the logger's static fields (rendered to JSON once, see
//! [`crate::value`]) plus its [lazy values](crate::lazy), which are computed
//! again for every entry. Every addition goes through [`merge`], so the two
//! invariants live here and nowhere else:
//!
//! - **later keys win**: a new field or lazy value replaces an earlier field or
//!   lazy value of the same key;
//! - **a key is never both** a plain field and a lazy value.
//!
//! Callers of [`merge`]: [`Context::merged`] — used by `with_context` and the
//! macros' context (below, on [`LogLayer`]), by a `#[with_logger]` child built
//! in one step (`Frozen::into_child_with_fields`) and by
//! [`Context::evaluate`] (a lazy value's result is a later key) — and one
//! entry's metadata ([`LogBuilder::with_metadata`](crate::LogBuilder::with_metadata)),
//! which follows the same rule. [`Context::without`] drops keys. A context
//! that *replaces* the logger's for one entry ([`crate::RawEntry`], plugins'
//! output) is built from plain fields with [`Context::new`].

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, OnceLock};

use serde_core::Serialize;
use serde_json::{Map, Value};

use crate::entry::is_fixed_key;
use crate::json;
use crate::lazy::Lazy;
use crate::pipeline::catch;
use crate::value::{Fields, Fnv, SMALL};
use crate::LogLayer;

/// A context: fields plus what makes an entry cheap — the flattened JSON
/// fragment rendered once (when the first entry writes it, so a logger that
/// never writes a line, like a request's logger at warn, never renders it),
/// and a key index to detect metadata overrides.
#[derive(Default)]
pub(crate) struct Context {
    pub(crate) fields: Fields,
    /// `"k":v,"k2":v2` — the fields as they appear flattened in a line;
    /// see [`rendered`](Context::rendered).
    rendered: OnceLock<Vec<u8>>,
    index: HashMap<Box<str>, (), BuildHasherDefault<Fnv>>,
    /// Values computed for each entry (see [`crate::lazy`]), after `fields`;
    /// never a key of `fields`.
    pub(crate) lazies: Vec<(String, Lazy)>,
    /// Whether a key is `time`, `level` or `msg` (always reserved in a line).
    pub(crate) has_fixed_reserved: bool,
    /// One bit per key (see [`bloom_bit`]): a zero bit means "not a key".
    bloom: u64,
}

impl Context {
    /// A context of plain fields (no lazy values).
    pub(crate) fn new(fields: Fields) -> Self {
        let mut index = HashMap::default();
        if fields.len() > SMALL {
            for (k, _) in fields.iter_encoded() {
                index.insert(k.into(), ());
            }
        }
        // Keys only: `iter` would decode every value too.
        let has_fixed_reserved = fields.keys().any(is_fixed_key);
        let bloom = fields.keys().fold(0, |m, k| m | bloom_bit(k));
        Context {
            fields,
            rendered: OnceLock::new(),
            index,
            lazies: Vec::new(),
            has_fixed_reserved,
            bloom,
        }
    }

    /// This context with the fields that `add` writes, then `lazies`, added
    /// by [`merge`]. `room` is `(fields, bytes)` that `add` writes, so the
    /// copy of the fields does not reallocate.
    pub(crate) fn merged(
        &self,
        room: (usize, usize),
        add: impl FnOnce(&mut Fields),
        lazies: Vec<(String, Lazy)>,
    ) -> Context {
        let mut fields = self.fields.clone_with_room(room.0, room.1);
        let mut all = self.lazies.clone();
        merge(&mut fields, &mut all, |f| {
            add(f);
            lazies
        });
        Context {
            lazies: all,
            ..Context::new(fields)
        }
    }

    /// This context without the keys for which `dropped` is true (plain or
    /// lazy).
    pub(crate) fn without(&self, dropped: impl Fn(&str) -> bool) -> Context {
        let mut fields = self.fields.clone();
        fields.retain(|k, _| !dropped(k));
        let lazies = self
            .lazies
            .iter()
            .filter(|(k, _)| !dropped(k))
            .cloned()
            .collect();
        Context {
            lazies,
            ..Context::new(fields)
        }
    }

    /// This context with its lazy values computed now (for one entry): each
    /// value is merged in as a later key, so it keeps its place after the
    /// plain fields.
    pub(crate) fn evaluate(&self) -> Context {
        let bytes = self.lazies.iter().map(|(k, _)| k.len() + 16).sum();
        self.merged(
            (self.lazies.len(), bytes),
            |fields| {
                for (k, l) in &self.lazies {
                    fields.push_with(k, |buf| l.encode(buf));
                }
            },
            Vec::new(),
        )
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields as they appear flattened in a line (`"k":v,"k2":v2`),
    /// rendered by the first entry that asks and kept for the next ones.
    pub(crate) fn rendered(&self) -> &[u8] {
        self.rendered.get_or_init(|| {
            let fields = &self.fields;
            // Each field renders as `"key":value,`; numbers and strings take
            // about as many bytes as their encoding.
            let mut out = Vec::with_capacity(fields.byte_len() + 4 * fields.len() + 16);
            for (i, (k, v)) in fields.iter_encoded().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json::write_str(&mut out, k);
                out.push(b':');
                crate::value::write_json(&mut out, v);
            }
            out
        })
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
            self.fields.contains_key(key)
        }
    }
}

/// **The merge rule**: adds to `fields` what `add` writes, then the lazy
/// values `add` returns. Later keys win, whether plain or lazy, and no key
/// ends up both in `fields` and in `lazies` (which must hold on entry too).
pub(crate) fn merge(
    fields: &mut Fields,
    lazies: &mut Vec<(String, Lazy)>,
    add: impl FnOnce(&mut Fields) -> Vec<(String, Lazy)>,
) {
    let new = add(fields);
    let is_new = |k: &str| new.iter().any(|(n, _)| n == k);
    if !lazies.is_empty() {
        // No plain field shared a key with a lazy value, so a lazy key found
        // in `fields` now was written by `add`: the new field wins. A new lazy
        // value wins over an old one of its key.
        lazies.retain(|(k, _)| !fields.contains_key(k) && !is_new(k));
    }
    if !new.is_empty() {
        // ... and over a plain field of its key, old or new.
        fields.retain(|k, _| !is_new(k));
        lazies.extend(new);
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

/// The context methods of the handle: each ends in one of the merges above.
impl LogLayer {
    /// Adds keys to **this** logger's context, in place: every clone of the
    /// handle sees them, later keys win. Returns `self` for chaining.
    ///
    /// A value that is not an object is kept under the key `value`.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// let same = log.clone();
    /// log.with_context(serde_json::json!({"user": 1})).with_context(serde_json::json!({"user": 2}));
    /// same.info("hi");
    /// assert_eq!(capture.entries()[0]["user"], 2);
    /// ```
    pub fn with_context(&self, value: impl Serialize) -> &Self {
        let (fields, lazies) = crate::lazy::fields_deferring(&value);
        self.add_context_fields(fields, lazies);
        self
    }

    /// Runs plugins' `on_context_called` on `fields`, then merges them.
    pub(crate) fn add_context_fields(&self, fields: Fields, lazies: Vec<(String, Lazy)>) {
        let state = self.inner.state.load();
        let mut fields = fields;
        for attached in state.plugins.iter().filter(|p| p.enabled) {
            let p = &*attached.plugin;
            let input = std::mem::take(&mut fields);
            match catch(p, "on_context_called", || p.on_context_called(input)) {
                Some(Some(f)) => fields = f,
                _ => return,
            }
        }
        self.store_context(&fields, lazies);
    }

    /// Adds already-encoded fields (from the macros) to the context.
    pub(crate) fn add_context_list(&self, list: &Fields) {
        if self.inner.state.load().has_plugins() {
            self.add_context_fields(list.clone(), Vec::new());
        } else {
            self.store_context(list, Vec::new());
        }
    }

    /// Merges fields and lazy values into the context (plugins already ran).
    fn store_context(&self, list: &Fields, lazies: Vec<(String, Lazy)>) {
        let room = (list.len(), list.byte_len());
        self.inner.update(|s| {
            let context = s.context.merged(room, |f| f.extend(list), lazies.clone());
            s.context = Arc::new(context);
        });
    }

    /// A snapshot of the context.
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    /// log.with_context(serde_json::json!({"a": 1}));
    /// assert_eq!(log.get_context()["a"], 1);
    /// ```
    pub fn get_context(&self) -> Map<String, Value> {
        let context = &self.inner.state.load().context;
        if context.lazies.is_empty() {
            context.fields.to_json_map()
        } else {
            context.evaluate().fields.to_json_map()
        }
    }

    /// Drops every context key.
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    /// log.with_context(serde_json::json!({"a": 1}));
    /// log.clear_context();
    /// assert!(log.get_context().is_empty());
    /// ```
    pub fn clear_context(&self) -> &Self {
        self.inner
            .update(|s| s.context = Arc::new(Context::default()));
        self
    }

    /// Drops the named context keys.
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    /// log.with_context(serde_json::json!({"a": 1, "b": 2}));
    /// log.clear_context_keys(&["a"]);
    /// assert_eq!(log.get_context(), *serde_json::json!({"b": 2}).as_object().unwrap());
    /// ```
    pub fn clear_context_keys<K: AsRef<str>>(&self, keys: &[K]) -> &Self {
        self.inner.update(|s| {
            let context = s.context.without(|k| keys.iter().any(|d| d.as_ref() == k));
            s.context = Arc::new(context);
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lazy::lazy;

    fn keys(fields: &Fields, lazies: &[(String, Lazy)]) -> (Vec<String>, Vec<String>) {
        (
            fields.iter().map(|(k, _)| k.to_owned()).collect(),
            lazies.iter().map(|(k, _)| k.clone()).collect(),
        )
    }

    #[test]
    fn later_keys_win_and_no_key_is_both_plain_and_lazy() {
        let (mut fields, mut lazies) = (Fields::new(), Vec::new());
        let add_ab = |f: &mut Fields| {
            f.push_value("a", &1);
            f.push_value("b", &2);
        };
        merge(&mut fields, &mut lazies, |f| {
            add_ab(f);
            Vec::new()
        });
        // A lazy value replaces a plain field...
        merge(&mut fields, &mut lazies, |_| vec![("a".into(), lazy(|| 3))]);
        assert_eq!(keys(&fields, &lazies), (vec!["b".into()], vec!["a".into()]));
        // ... and a plain field a lazy value.
        let c = vec![("c".to_owned(), lazy(|| 5))];
        merge(&mut fields, &mut lazies, |f| {
            f.push_value("a", &4);
            c
        });
        assert_eq!(
            keys(&fields, &lazies),
            (vec!["b".into(), "a".into()], vec!["c".into()])
        );
        // Computed, lazy values come after the plain fields.
        let context = Context {
            lazies,
            ..Context::new(fields)
        }
        .evaluate();
        let pairs: Vec<(&str, Option<u64>)> = context
            .fields
            .iter()
            .map(|(k, v)| (k, v.as_u64()))
            .collect();
        assert_eq!(pairs, [("b", Some(2)), ("a", Some(4)), ("c", Some(5))]);
        assert!(context.lazies.is_empty());
    }

    #[test]
    fn without_drops_plain_and_lazy_keys() {
        let mut fields = Fields::new();
        fields.push_value("a", &1);
        fields.push_value("b", &2);
        let context = Context::new(fields).merged((0, 0), |_| {}, vec![("c".into(), lazy(|| 3))]);
        let left = context.without(|k| k == "a" || k == "c");
        assert_eq!(keys(&left.fields, &left.lazies), (vec!["b".into()], vec![]));
        assert!(left.contains("b") && !left.contains("a"));
    }
}
