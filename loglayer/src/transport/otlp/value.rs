//! The one conversion from a field's typed value to an OpenTelemetry
//! [`AnyValue`]: no text is parsed.

use opentelemetry::logs::AnyValue;
use opentelemetry::Key;

use crate::value::Value;

/// Nested lists and maps deeper than this become their JSON text (a string),
/// so a pathological value cannot blow the export thread's stack.
const MAX_DEPTH: usize = 32;

/// A field's value as OpenTelemetry's: integers → `Int` (beyond `i64` →
/// `String`, its exact digits), floats → `Double`, booleans → `Boolean`,
/// strings → `String`, lists → `ListAny`, maps → `Map`. `null` gives `None`
/// (the attribute, list item or map entry is left out).
pub(crate) fn any_value(v: Value<'_>) -> Option<AnyValue> {
    convert(v, 0)
}

fn convert(v: Value<'_>, depth: usize) -> Option<AnyValue> {
    if depth > MAX_DEPTH && matches!(v, Value::List(_) | Value::Map(_)) {
        return Some(AnyValue::String(v.to_string().into()));
    }
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => AnyValue::Boolean(b),
        Value::I64(n) => AnyValue::Int(n),
        Value::U64(n) => match i64::try_from(n) {
            Ok(n) => AnyValue::Int(n),
            Err(_) => AnyValue::String(n.to_string().into()),
        },
        Value::I128(n) => AnyValue::String(n.to_string().into()),
        Value::U128(n) => AnyValue::String(n.to_string().into()),
        Value::F64(n) => AnyValue::Double(n),
        Value::Str(s) => AnyValue::String(s.to_owned().into()),
        Value::List(items) => AnyValue::ListAny(Box::new(
            items
                .iter()
                .filter_map(|item| convert(item, depth + 1))
                .collect(),
        )),
        Value::Map(map) => AnyValue::Map(Box::new(
            map.iter()
                .filter_map(|(k, item)| Some((Key::new(k.to_owned()), convert(item, depth + 1)?)))
                .collect(),
        )),
    })
}
