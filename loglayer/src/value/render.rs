//! Rendering the encoding as JSON text, as `serde_json` would write the
//! original value (plus this crate's extra string escapes, see
//! [`crate::json`]).

use super::{encode, Value};
use crate::json;

/// Appends the JSON text of the encoded value at the start of `bytes`. The
/// common scalars are written straight from their bytes (a string needs no
/// UTF-8 check to be escaped); the rest goes through [`Value`].
#[inline]
pub(crate) fn write_json(out: &mut Vec<u8>, bytes: &[u8]) {
    match bytes.first() {
        Some(&encode::STR) => {
            if let Some(text) = str_bytes(bytes) {
                json::write_utf8(out, text);
                return;
            }
        }
        Some(&encode::U64) => {
            if let Some(b) = bytes.get(1..9) {
                let n = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
                out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
                return;
            }
        }
        _ => {}
    }
    write_value(out, Value::decode(bytes).0);
}

/// The UTF-8 bytes of an encoded string.
fn str_bytes(bytes: &[u8]) -> Option<&[u8]> {
    let len = bytes.get(1..5)?;
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    bytes.get(5..5 + len)
}

/// Appends the JSON text of `v`.
pub(crate) fn write_value(out: &mut Vec<u8>, v: Value<'_>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::I64(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        Value::U64(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        Value::I128(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        Value::U128(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        Value::F64(n) if n.is_finite() => {
            out.extend_from_slice(ryu::Buffer::new().format_finite(n).as_bytes());
        }
        // JSON has no NaN or infinity: written as `JSON.stringify` does.
        Value::F64(_) => out.extend_from_slice(b"null"),
        Value::Str(s) => json::write_str(out, s),
        Value::List(list) => {
            out.push(b'[');
            for (i, item) in list.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Map(map) => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json::write_str(out, k);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
    }
}
