//! Writing the encoding: a serde `Serializer` and the scalar writers the
//! macros and bridges call directly.
//!
//! # The encoding
//!
//! One value is a tag byte and its payload, little-endian:
//!
//! | tag | payload |
//! |---|---|
//! | [`NULL`], [`FALSE`], [`TRUE`] | none |
//! | [`I64`], [`U64`], [`F64`] | 8 bytes |
//! | [`I128`], [`U128`] | 16 bytes |
//! | [`STR`] | `u32` length, then UTF-8 bytes |
//! | [`LIST`] | `u32` length of the body, then the items |
//! | [`MAP`] | `u32` length of the body, then per entry a key (`u32` length + UTF-8) and a value |
//!
//! Containers carry their byte length, so a reader skips one in O(1).
//! Integers are canonical, as in `serde_json`: a non-negative integer is a
//! `U64`, a negative one an `I64`, and the 128-bit tags only hold values out of
//! 64-bit range — so equal numbers have equal bytes.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde_core::ser::{self, Serialize};

use crate::json::{FMT_ERROR_PLACEHOLDER, MAX_DEPTH, PANIC_PLACEHOLDER, TOO_DEEP};

pub(crate) const NULL: u8 = 0;
pub(crate) const FALSE: u8 = 1;
pub(crate) const TRUE: u8 = 2;
pub(crate) const I64: u8 = 3;
pub(crate) const U64: u8 = 4;
pub(crate) const F64: u8 = 5;
pub(crate) const STR: u8 = 6;
pub(crate) const LIST: u8 = 7;
pub(crate) const MAP: u8 = 8;
pub(crate) const I128: u8 = 9;
pub(crate) const U128: u8 = 10;

/// Placeholder for a string or container over 4 GiB (the encoding's limit).
const TOO_LARGE: &str = "[unserializable: too large]";

pub(crate) fn null(out: &mut Vec<u8>) {
    out.push(NULL);
}

pub(crate) fn bool(out: &mut Vec<u8>, v: bool) {
    out.push(if v { TRUE } else { FALSE });
}

pub(crate) fn i64(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        u64(out, v as u64);
    } else {
        out.push(I64);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

pub(crate) fn u64(out: &mut Vec<u8>, v: u64) {
    out.push(U64);
    out.extend_from_slice(&v.to_le_bytes());
}

pub(crate) fn i128(out: &mut Vec<u8>, v: i128) {
    if let Ok(v) = i64::try_from(v) {
        i64(out, v);
    } else if let Ok(v) = u64::try_from(v) {
        u64(out, v);
    } else {
        out.push(I128);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

pub(crate) fn u128(out: &mut Vec<u8>, v: u128) {
    if let Ok(v) = u64::try_from(v) {
        u64(out, v);
    } else {
        out.push(U128);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

pub(crate) fn f64(out: &mut Vec<u8>, v: f64) {
    out.push(F64);
    out.extend_from_slice(&v.to_le_bytes());
}

/// An `f32` as the `f64` of its shortest decimal form (`1.1f32` is `1.1`,
/// not `1.100000023841858`), as `serde_json` writes it.
pub(crate) fn f32(out: &mut Vec<u8>, v: f32) {
    let wide = if v.is_finite() {
        ryu::Buffer::new()
            .format_finite(v)
            .parse::<f64>()
            .unwrap_or(f64::from(v))
    } else {
        f64::from(v)
    };
    f64(out, wide);
}

/// A string given as bytes that should be ASCII (ids, header values,
/// checked before): written as they are when they are, which skips a UTF-8
/// check; anything else is written lossily.
#[cfg_attr(not(feature = "tower"), allow(dead_code))]
pub(crate) fn ascii(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_ascii() && u32::try_from(bytes.len()).is_ok() {
        out.push(STR);
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    } else {
        str(out, &String::from_utf8_lossy(bytes));
    }
}

pub(crate) fn str(out: &mut Vec<u8>, s: &str) {
    match u32::try_from(s.len()) {
        Ok(len) => {
            out.push(STR);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Err(_) => str(out, TOO_LARGE),
    }
}

/// Writes a map key (no tag).
pub(crate) fn key(out: &mut Vec<u8>, k: &str) {
    let len = u32::try_from(k.len()).unwrap_or(0);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&k.as_bytes()[..len as usize]);
}

/// Starts a container: writes `tag` and room for its length; returns where
/// the body starts, for [`close`].
pub(crate) fn open(out: &mut Vec<u8>, tag: u8) -> usize {
    out.push(tag);
    out.extend_from_slice(&[0; 4]);
    out.len()
}

/// Ends the container whose body started at `body`. `false` if it is too
/// large to encode.
pub(crate) fn close(out: &mut [u8], body: usize) -> bool {
    let Ok(len) = u32::try_from(out.len() - body) else {
        return false;
    };
    out[body - 4..body].copy_from_slice(&len.to_le_bytes());
    true
}

/// A `fmt::Write` appending raw text.
struct Text<'a>(&'a mut Vec<u8>);

impl fmt::Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Writes a `Display`/`Debug` rendering as a string, with the documented
/// placeholders when the impl fails or panics.
pub(crate) fn display(out: &mut Vec<u8>, f: &dyn Fn(&mut dyn fmt::Write) -> fmt::Result) {
    let start = out.len();
    let body = open(out, STR);
    let result = catch_unwind(AssertUnwindSafe(|| f(&mut Text(&mut *out))));
    let placeholder = match result {
        Ok(Ok(())) if close(out, body) => return,
        Ok(Ok(())) => TOO_LARGE,
        Ok(Err(_)) => FMT_ERROR_PLACEHOLDER,
        Err(_) => PANIC_PLACEHOLDER,
    };
    out.truncate(start);
    str(out, placeholder);
}

/// Encodes any serde value. A `Serialize` impl that fails or panics, or a
/// value nested deeper than [`MAX_DEPTH`], leaves the documented placeholder
/// string instead (see [`crate::json`]).
pub(crate) fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    encode_at(out, v, false);
}

/// Encodes a value whose top level is a list of fields (context, metadata):
/// a top-level map or struct does not count towards [`MAX_DEPTH`], and a
/// field nested too deeply becomes the placeholder alone, not the whole value
/// (a failing or panicking `Serialize` still fails the whole value).
pub(crate) fn fields<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    encode_at(out, v, true);
}

#[inline]
fn encode_at<T: Serialize + ?Sized>(out: &mut Vec<u8>, v: &T, root_fields: bool) {
    let start = out.len();
    let result = catch_unwind(AssertUnwindSafe(|| {
        v.serialize(Encoder {
            out: &mut *out,
            depth: 0,
            root_fields,
        })
    }));
    let placeholder = match result {
        Ok(Ok(())) => return,
        Ok(Err(e)) => placeholder(&e),
        Err(_) => PANICKED.to_owned(),
    };
    out.truncate(start);
    str(out, &placeholder);
}

/// Placeholder for a `Serialize` impl that panicked.
const PANICKED: &str = "[unserializable: panicked]";

/// The documented placeholder for a value that could not be encoded.
fn placeholder(e: &Error) -> String {
    match e {
        Error::TooDeep => TOO_DEEP.to_owned(),
        Error::TooLarge => TOO_LARGE.to_owned(),
        Error::Custom(msg) => format!("[unserializable: {msg}]"),
    }
}

/// Why a value could not be encoded.
#[derive(Debug)]
pub(crate) enum Error {
    TooDeep,
    TooLarge,
    Custom(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooDeep => f.write_str("nested too deeply"),
            Error::TooLarge => f.write_str("too large"),
            Error::Custom(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::Custom(msg.to_string())
    }
}

/// The serde `Serializer` writing the encoding.
pub(crate) struct Encoder<'a> {
    out: &'a mut Vec<u8>,
    depth: usize,
    /// This value is a list of fields (see [`fields`]).
    root_fields: bool,
}

/// An open list or map being filled by serde.
pub(crate) struct Container<'a> {
    out: &'a mut Vec<u8>,
    depth: usize,
    body: usize,
    /// For an enum variant's `{"Variant": ...}` wrapper: its body start.
    outer: Option<usize>,
    /// The top-level map of a list of fields (see [`fields`]).
    root_fields: bool,
}

impl<'a> Encoder<'a> {
    fn nested(&mut self) -> Encoder<'_> {
        Encoder {
            out: self.out,
            depth: self.depth,
            root_fields: false,
        }
    }

    fn open(self, tag: u8, variant: Option<&str>) -> Result<Container<'a>, Error> {
        let root_fields = self.root_fields && tag == MAP && variant.is_none();
        let depth = if root_fields {
            0
        } else {
            self.depth + 1 + usize::from(variant.is_some())
        };
        if depth > MAX_DEPTH {
            return Err(Error::TooDeep);
        }
        let outer = variant.map(|name| {
            let outer = open(self.out, MAP);
            key(self.out, name);
            outer
        });
        let body = open(self.out, tag);
        Ok(Container {
            out: self.out,
            depth,
            body,
            outer,
            root_fields,
        })
    }
}

impl Container<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        let start = self.out.len();
        let result = v.serialize(Encoder {
            out: &mut *self.out,
            depth: self.depth,
            root_fields: false,
        });
        match result {
            // A field of a list of fields nested too deeply is its own
            // placeholder; the other fields are kept.
            Err(Error::TooDeep) if self.root_fields => {
                self.out.truncate(start);
                str(self.out, TOO_DEEP);
                Ok(())
            }
            other => other,
        }
    }

    fn map_key(&mut self, k: &str) {
        key(self.out, k);
    }

    fn finish(self) -> Result<(), Error> {
        if !close(self.out, self.body) {
            return Err(Error::TooLarge);
        }
        match self.outer {
            Some(outer) if !close(self.out, outer) => Err(Error::TooLarge),
            _ => Ok(()),
        }
    }
}

impl<'a> ser::Serializer for Encoder<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Container<'a>;
    type SerializeTuple = Container<'a>;
    type SerializeTupleStruct = Container<'a>;
    type SerializeTupleVariant = Container<'a>;
    type SerializeMap = Container<'a>;
    type SerializeStruct = Container<'a>;
    type SerializeStructVariant = Container<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        bool(self.out, v);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        i64(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        i128(self.out, v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        u64(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        u128(self.out, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        f32(self.out, v);
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        f64(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        // As serde_json: an array of numbers.
        let list = self.open(LIST, None)?;
        for b in v {
            u64(list.out, u64::from(*b));
        }
        list.finish()
    }
    fn serialize_none(self) -> Result<(), Error> {
        null(self.out);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        null(self.out);
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        null(self.out);
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        str(self.out, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        if self.depth + 1 > MAX_DEPTH {
            return Err(Error::TooDeep);
        }
        let body = open(self.out, MAP);
        key(self.out, variant);
        let mut inner = self.nested();
        inner.depth += 1;
        v.serialize(inner)?;
        if close(self.out, body) {
            Ok(())
        } else {
            Err(Error::TooLarge)
        }
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Container<'a>, Error> {
        self.open(LIST, None)
    }
    fn serialize_tuple(self, _: usize) -> Result<Container<'a>, Error> {
        self.open(LIST, None)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Container<'a>, Error> {
        self.open(LIST, None)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Container<'a>, Error> {
        self.open(LIST, Some(variant))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Container<'a>, Error> {
        self.open(MAP, None)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Container<'a>, Error> {
        self.open(MAP, None)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Container<'a>, Error> {
        self.open(MAP, Some(variant))
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, v: &T) -> Result<(), Error> {
        display(self.out, &|w| write!(w, "{v}"));
        Ok(())
    }
}

/// The sequence-like serde traits: each element is one more item.
macro_rules! items {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Container<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
                self.element(v)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Container<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), Error> {
        k.serialize(KeyEncoder(&mut *self.out))
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.element(v)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// The struct-like serde traits: each field is one more entry.
macro_rules! entries {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Container<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                k: &'static str,
                v: &T,
            ) -> Result<(), Error> {
                self.map_key(k);
                self.element(v)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

entries!(SerializeStruct, SerializeStructVariant);

/// Map keys: strings, and as in `serde_json` numbers, booleans and chars
/// written as their text; anything else fails with `serde_json`'s message.
struct KeyEncoder<'a>(&'a mut Vec<u8>);

fn key_error() -> Error {
    Error::Custom("key must be a string".to_owned())
}

macro_rules! key_as_text {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<(), Error> {
            key(self.0, &v.to_string());
            Ok(())
        }
    )*};
}

impl ser::Serializer for KeyEncoder<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    key_as_text!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_char: char);

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        if !v.is_finite() {
            return Err(Error::Custom("float key must be finite".to_owned()));
        }
        key(self.0, ryu::Buffer::new().format_finite(v));
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        if !v.is_finite() {
            return Err(Error::Custom("float key must be finite".to_owned()));
        }
        key(self.0, ryu::Buffer::new().format_finite(v));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        key(self.0, v);
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        key(self.0, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(key_error())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
    fn collect_str<T: fmt::Display + ?Sized>(self, v: &T) -> Result<(), Error> {
        key(self.0, &v.to_string());
        Ok(())
    }
}
