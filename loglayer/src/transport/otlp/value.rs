//! The one conversion from a field's value to an OpenTelemetry [`AnyValue`].
//!
//! Entries carry values as JSON text today; this is the only place that
//! turns that text into a typed OpenTelemetry value, so the typed value
//! pipeline planned for entries replaces this one function.

use opentelemetry::logs::AnyValue;
use opentelemetry::Key;
use serde_json::Value;

/// Nested lists and maps deeper than this become their JSON text (a string),
/// so a pathological value cannot blow the export thread's stack.
const MAX_DEPTH: usize = 32;

/// A field's JSON text as a typed value: integers → `Int` (a `u64` above
/// `i64::MAX` → `String`, its exact digits), floats → `Double`, booleans →
/// `Boolean`, strings → `String`, arrays → `ListAny`, objects → `Map`.
/// `null` gives `None` (the attribute, list item or map entry is left out).
/// Text that is not JSON (it cannot happen today) is kept as a `String`.
pub(crate) fn any_value(json_text: &str) -> Option<AnyValue> {
    match serde_json::from_str::<Value>(json_text) {
        Ok(v) => from_json(v, 0),
        Err(_) => Some(AnyValue::String(json_text.to_owned().into())),
    }
}

fn from_json(v: Value, depth: usize) -> Option<AnyValue> {
    if depth > MAX_DEPTH && (v.is_array() || v.is_object()) {
        return Some(AnyValue::String(v.to_string().into()));
    }
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => AnyValue::Boolean(b),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => AnyValue::Int(i),
            (None, Some(u), _) => AnyValue::String(u.to_string().into()),
            (None, None, Some(f)) => AnyValue::Double(f),
            _ => AnyValue::String(n.to_string().into()),
        },
        Value::String(s) => AnyValue::String(s.into()),
        Value::Array(items) => AnyValue::ListAny(Box::new(
            items
                .into_iter()
                .filter_map(|item| from_json(item, depth + 1))
                .collect(),
        )),
        Value::Object(map) => AnyValue::Map(Box::new(
            map.into_iter()
                .filter_map(|(k, item)| Some((Key::new(k), from_json(item, depth + 1)?)))
                .collect(),
        )),
    })
}
