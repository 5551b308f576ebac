//! Typed values: the one representation of context, metadata and plugin data,
//! from the macros to the transports.
//!
//! A field's value is encoded once, when it is added (a compact tagged byte
//! form, see `encode.rs`), and read back as a [`Value`] — a borrowed view
//! that keeps the type: a transport or plugin asks for an `i64`, a `bool`, a
//! string, a list or a nested map without parsing any text. The JSON
//! transport renders the same bytes straight to JSON (`render.rs`); a
//! logger's context is rendered once, when it is set.
//!
//! [`Fields`] is an ordered list of unique keys with such values: what
//! [`Entry::context`](crate::Entry::context) and
//! [`Entry::metadata`](crate::Entry::metadata) read from and what plugins
//! edit through [`LogData`](crate::plugin::LogData).
//!
//! ```
//! use loglayer::{transport::Transport, value::Value, Entry, LogLayer};
//!
//! struct Typed;
//! impl Transport for Typed {
//!     fn write(&self, entry: &Entry<'_>) -> std::io::Result<()> {
//!         let (_, user) = entry.metadata().find(|(k, _)| *k == "user").unwrap();
//!         assert_eq!(user.as_u64(), Some(7));
//!         let (_, tags) = entry.metadata().find(|(k, _)| *k == "tags").unwrap();
//!         let tags: Vec<&str> = tags.as_list().unwrap().iter().filter_map(|t| t.as_str()).collect();
//!         assert_eq!(tags, ["a", "b"]);
//!         Ok(())
//!     }
//! }
//! LogLayer::new(Typed).with_metadata(serde_json::json!({"user": 7, "tags": ["a", "b"]})).info("hi");
//! ```

pub(crate) mod encode;
mod fields;
mod render;

use std::fmt;

use serde_core::ser::{SerializeMap, SerializeSeq};
use serde_core::{Serialize, Serializer};

pub use self::fields::Fields;
pub(crate) use self::fields::{Fnv, SMALL};
pub(crate) use self::render::write_json;

/// One value of a field, borrowed from the entry (or [`Fields`]) that holds it.
///
/// Integers are canonical, as in `serde_json`: a non-negative integer is a
/// [`U64`](Value::U64), a negative one an [`I64`](Value::I64), and the
/// 128-bit variants hold only values outside the 64-bit range. The `as_*`
/// accessors convert across them where the number fits.
///
/// Its [`Display`](fmt::Display) is the value's JSON text (non-finite floats
/// as `null`), and it is [`Serialize`], so it can be handed to any serde
/// format as it is.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// `null` (also `None` and `()`).
    Null,
    /// A boolean.
    Bool(bool),
    /// A negative integer.
    I64(i64),
    /// A non-negative integer.
    U64(u64),
    /// A negative integer below `i64::MIN`.
    I128(i128),
    /// An integer above `u64::MAX`.
    U128(u128),
    /// A floating-point number (an `f32` arrives as the `f64` of its
    /// shortest decimal text). May be NaN or infinite; JSON writes those as
    /// `null`.
    F64(f64),
    /// A string (also a `char`, a unit enum variant, and `Display`/`Debug`
    /// fields).
    Str(&'a str),
    /// A list (a sequence, tuple, or byte slice).
    List(List<'a>),
    /// A map with string keys (a struct, a map, a data-carrying enum variant).
    Map(Map<'a>),
}

/// A list inside a [`Value`]; [`iter`](List::iter) walks its items.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct List<'a> {
    body: &'a [u8],
}

/// A map inside a [`Value`], in its original key order; [`iter`](Map::iter)
/// walks its entries and [`get`](Map::get) finds one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Map<'a> {
    body: &'a [u8],
}

fn read_u32(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

fn read_8(bytes: &[u8], at: usize) -> Option<[u8; 8]> {
    bytes.get(at..at + 8)?.try_into().ok()
}

fn read_16(bytes: &[u8], at: usize) -> Option<[u8; 16]> {
    bytes.get(at..at + 16)?.try_into().ok()
}

fn read_str(bytes: &[u8], at: usize) -> Option<(&str, usize)> {
    let len = read_u32(bytes, at)?;
    let text = bytes.get(at + 4..at + 4 + len)?;
    // Only the encoder writes these bytes, from `&str`s.
    Some((std::str::from_utf8(text).ok()?, at + 4 + len))
}

impl<'a> Value<'a> {
    /// Decodes the value at the start of `bytes`: the value and its length.
    /// Bytes that are not a value (never written by the encoder) read as
    /// `Null`, consuming everything.
    pub(crate) fn decode(bytes: &'a [u8]) -> (Value<'a>, usize) {
        Self::try_decode(bytes).unwrap_or((Value::Null, bytes.len()))
    }

    fn try_decode(bytes: &'a [u8]) -> Option<(Value<'a>, usize)> {
        use encode::*;
        let tag = *bytes.first()?;
        Some(match tag {
            NULL => (Value::Null, 1),
            FALSE => (Value::Bool(false), 1),
            TRUE => (Value::Bool(true), 1),
            I64 => (Value::I64(i64::from_le_bytes(read_8(bytes, 1)?)), 9),
            U64 => (Value::U64(u64::from_le_bytes(read_8(bytes, 1)?)), 9),
            F64 => (Value::F64(f64::from_le_bytes(read_8(bytes, 1)?)), 9),
            I128 => (Value::I128(i128::from_le_bytes(read_16(bytes, 1)?)), 17),
            U128 => (Value::U128(u128::from_le_bytes(read_16(bytes, 1)?)), 17),
            STR => {
                let (s, end) = read_str(bytes, 1)?;
                (Value::Str(s), end)
            }
            LIST | MAP => {
                let len = read_u32(bytes, 1)?;
                let body = bytes.get(5..5 + len)?;
                let v = if tag == LIST {
                    Value::List(List { body })
                } else {
                    Value::Map(Map { body })
                };
                (v, 5 + len)
            }
            _ => return None,
        })
    }

    /// The value as an `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::I64(n) => Some(n),
            Value::U64(n) => i64::try_from(n).ok(),
            _ => None,
        }
    }

    /// The value as a `u64`, if it is a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U64(n) => Some(n),
            _ => None,
        }
    }

    /// The value as an `f64`: a float, or an integer converted (perhaps
    /// rounded).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F64(n) => Some(n),
            Value::I64(n) => Some(n as f64),
            Value::U64(n) => Some(n as f64),
            Value::I128(n) => Some(n as f64),
            Value::U128(n) => Some(n as f64),
            _ => None,
        }
    }

    /// The value as a `bool`, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value as a string, if it is one.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a list, if it is one.
    pub fn as_list(&self) -> Option<List<'a>> {
        match *self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The value as a map, if it is one.
    pub fn as_map(&self) -> Option<Map<'a>> {
        match *self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as a `serde_json::Value` (allocates; non-finite floats
    /// become `null`, as in JSON).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match *self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(b),
            Value::I64(n) => J::from(n),
            Value::U64(n) => J::from(n),
            // Out of serde_json's range: its nearest float, like a JSON reader.
            Value::I128(n) => J::from(n as f64),
            Value::U128(n) => J::from(n as f64),
            Value::F64(n) => serde_json::Number::from_f64(n).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.to_owned()),
            Value::List(l) => J::Array(l.iter().map(|v| v.to_json()).collect()),
            Value::Map(m) => {
                J::Object(m.iter().map(|(k, v)| (k.to_owned(), v.to_json())).collect())
            }
        }
    }
}

impl<'a> List<'a> {
    /// The items, in order.
    pub fn iter(&self) -> impl Iterator<Item = Value<'a>> + 'a {
        let mut rest = self.body;
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let (v, used) = Value::decode(rest);
            rest = rest.get(used..).unwrap_or(&[]);
            Some(v)
        })
    }

    /// The number of items (walks the list).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the list has no items.
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// The item at `index`, if any (walks the list).
    pub fn get(&self, index: usize) -> Option<Value<'a>> {
        self.iter().nth(index)
    }
}

impl<'a> Map<'a> {
    /// The map whose encoded body (entries without the tag and length) is
    /// `body`.
    pub(crate) fn from_body(body: &'a [u8]) -> Self {
        Map { body }
    }

    /// The entries, in their original order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Value<'a>)> + 'a {
        self.encoded().map(|(k, bytes)| (k, Value::decode(bytes).0))
    }

    /// The entries with their values still encoded.
    pub(crate) fn encoded(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let mut rest = self.body;
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let Some((k, after_key)) = read_str(rest, 0) else {
                rest = &[];
                return None;
            };
            let value = &rest[after_key..];
            let used = Value::decode(value).1;
            rest = rest.get(after_key + used..).unwrap_or(&[]);
            Some((k, &value[..used.min(value.len())]))
        })
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The number of entries (walks the map).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }
}

impl fmt::Debug for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Debug for Map<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The value's JSON text, exactly as the JSON transport writes it.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = Vec::new();
        render::write_value(&mut buf, *self);
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(b),
            Value::I64(n) => s.serialize_i64(n),
            Value::U64(n) => s.serialize_u64(n),
            Value::I128(n) => s.serialize_i128(n),
            Value::U128(n) => s.serialize_u128(n),
            Value::F64(n) => s.serialize_f64(n),
            Value::Str(v) => s.serialize_str(v),
            Value::List(l) => l.serialize(s),
            Value::Map(m) => m.serialize(s),
        }
    }
}

impl Serialize for List<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for v in self.iter() {
            seq.serialize_element(&v)?;
        }
        seq.end()
    }
}

impl Serialize for Map<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, &v)?;
        }
        map.end()
    }
}

macro_rules! eq_scalar {
    ($($ty:ty => $as:ident),*) => {$(
        impl PartialEq<$ty> for Value<'_> {
            fn eq(&self, other: &$ty) -> bool {
                self.$as() == Some(*other)
            }
        }
    )*};
}

eq_scalar!(i64 => as_i64, u64 => as_u64, f64 => as_f64, bool => as_bool);

impl PartialEq<str> for Value<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Value<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roundtrip(v: &serde_json::Value) -> serde_json::Value {
        let mut buf = Vec::new();
        encode::value(&mut buf, v);
        let (decoded, used) = Value::decode(&buf);
        assert_eq!(used, buf.len());
        decoded.to_json()
    }

    #[test]
    fn json_values_survive_encoding() {
        let v = json!({"a": 1, "b": [true, null, -2, 1.5, "x\n"], "c": {"d": {}}, "e": []});
        assert_eq!(roundtrip(&v), v);
    }

    #[test]
    fn integers_are_canonical() {
        let enc = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = Vec::new();
            f(&mut b);
            b
        };
        assert_eq!(
            enc(&|b| encode::value(b, &7i8)),
            enc(&|b| encode::value(b, &7u64))
        );
        assert_eq!(
            enc(&|b| encode::value(b, &-7i128)),
            enc(&|b| encode::value(b, &-7i64))
        );
        let mut b = Vec::new();
        encode::value(&mut b, &(1u128 << 100));
        assert_eq!(Value::decode(&b).0, Value::U128(1 << 100));
        assert_eq!(Value::decode(&b).0.to_string(), (1u128 << 100).to_string());
    }

    #[test]
    fn display_is_json() {
        let mut b = Vec::new();
        encode::value(&mut b, &(f64::NAN, 1.1f32, "q\"", [1u8, 2]));
        assert_eq!(Value::decode(&b).0.to_string(), r#"[null,1.1,"q\"",[1,2]]"#);
    }

    #[test]
    fn malformed_bytes_read_as_null() {
        for bytes in [
            &[encode::STR, 9, 0, 0, 0, b'a'][..],
            &[99],
            &[encode::LIST, 200, 0, 0, 0],
        ] {
            assert_eq!(Value::decode(bytes), (Value::Null, bytes.len()));
        }
    }

    #[test]
    fn failing_values_become_placeholders() {
        let mut b = Vec::new();
        let mut m = std::collections::BTreeMap::new();
        m.insert(vec![1], 2);
        encode::value(&mut b, &m);
        assert_eq!(
            Value::decode(&b).0,
            Value::Str("[unserializable: key must be a string]")
        );
        let mut deep = json!(1);
        for _ in 0..150 {
            deep = json!([deep]);
        }
        b.clear();
        encode::value(&mut b, &deep);
        assert_eq!(Value::decode(&b).0, Value::Str(crate::json::TOO_DEEP));
    }
}
