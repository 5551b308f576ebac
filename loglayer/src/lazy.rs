//! [`lazy`]: values computed only when an entry is actually emitted
//! (LogLayer's `lazy()`).

use std::cell::RefCell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};

use serde_core::{Serialize, Serializer};
use serde_json::Value;

use crate::value::{encode, Fields};

/// Placeholder written when a lazy value's closure panics.
pub(crate) const LAZY_PANIC_PLACEHOLDER: &str = "[lazy value panicked]";

/// A value computed each time an entry that carries it is emitted.
///
/// Make one with [`lazy`]. As a **top-level value** of the object given to
/// [`with_context`](crate::LogLayer::with_context) or
/// [`with_metadata`](crate::LogLayer::with_metadata), the closure runs only
/// when an entry is actually sent — never for a disabled level — and for
/// context, again for every entry, so it can report the current state. Nested
/// deeper, or used anywhere else, it is computed when it is serialized. A
/// closure that panics yields the placeholder `"[lazy value panicked]"`; the
/// entry is still sent.
///
/// ```
/// use loglayer::{lazy, transport::CaptureTransport, Level, LogLayer};
/// use std::collections::HashMap;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::new(capture.clone());
/// let queue_depth = Arc::new(AtomicU64::new(1));
/// let depth = queue_depth.clone();
/// log.with_context(HashMap::from([("queue_depth", lazy(move || depth.load(Ordering::SeqCst)))]));
///
/// log.info("first");
/// queue_depth.store(5, Ordering::SeqCst);
/// log.info("second");
/// log.set_level(Level::Error);
/// log.info("disabled: the closure does not run");
///
/// let e = capture.entries();
/// assert_eq!((e[0]["queue_depth"].as_u64(), e[1]["queue_depth"].as_u64()), (Some(1), Some(5)));
/// ```
#[derive(Clone)]
pub struct Lazy {
    write: Arc<WriteFn>,
}

/// Appends the computed value, encoded (see [`crate::value`]).
type WriteFn = dyn Fn(&mut Vec<u8>) + Send + Sync;

/// Wraps a closure as a [`Lazy`] value.
pub fn lazy<F, T>(f: F) -> Lazy
where
    F: Fn() -> T + Send + Sync + 'static,
    T: Serialize,
{
    Lazy {
        write: Arc::new(move |out: &mut Vec<u8>| encode::value(out, &f())),
    }
}

impl Lazy {
    /// Appends the value, encoded, with a placeholder if the closure panics.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        if catch_unwind(AssertUnwindSafe(|| (self.write)(out))).is_err() {
            out.truncate(start);
            encode::str(out, LAZY_PANIC_PLACEHOLDER);
        }
    }

    fn evaluate(&self) -> Value {
        let mut buf = Vec::new();
        self.encode(&mut buf);
        crate::value::Value::decode(&buf).0.to_json()
    }
}

impl fmt::Debug for Lazy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Lazy(..)")
    }
}

thread_local! {
    /// Set while `with_context`/`with_metadata` serialize their argument:
    /// lazies register here instead of running.
    static DEFERRED: RefCell<Option<Vec<Lazy>>> = const { RefCell::new(None) };
}

/// A per-process prefix no user string is expected to carry.
fn marker_prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        format!("\u{0}loglayer-lazy:{}:{nonce}:", std::process::id())
    })
}

impl Serialize for Lazy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let index = DEFERRED
            .try_with(|d| {
                let mut d = d.try_borrow_mut().ok()?;
                let list = d.as_mut()?;
                list.push(self.clone());
                Some(list.len() - 1)
            })
            .ok()
            .flatten();
        match index {
            Some(i) => s.serialize_str(&format!("{}{i}", marker_prefix())),
            None => self.evaluate().serialize(s),
        }
    }
}

/// The fields of `value` (as [`Fields::from_serialize`]), with its top-level
/// lazy values kept aside, unevaluated. Lazies nested deeper are evaluated
/// now.
pub(crate) fn fields_deferring<T: Serialize + ?Sized>(value: &T) -> (Fields, Vec<(String, Lazy)>) {
    let mut fields = Fields::new();
    let lazies = extend_deferring(&mut fields, value);
    (fields, lazies)
}

/// Adds the fields of `value` to `fields` (later keys win) and returns its
/// top-level lazy values, which are not added (see [`fields_deferring`]).
pub(crate) fn extend_deferring<T: Serialize + ?Sized>(
    fields: &mut Fields,
    value: &T,
) -> Vec<(String, Lazy)> {
    let previous = DEFERRED
        .try_with(|d| d.try_borrow_mut().ok().map(|mut d| d.replace(Vec::new())))
        .ok()
        .flatten();
    fields.extend_from_serialize(value);
    let registered = DEFERRED
        .try_with(|d| {
            d.try_borrow_mut()
                .ok()
                .and_then(|mut d| std::mem::replace(&mut *d, previous.flatten()))
        })
        .ok()
        .flatten()
        .unwrap_or_default();
    if registered.is_empty() {
        return Vec::new();
    }
    // Only markers of this call can be in `fields`: stored fields never hold
    // one (they are resolved before anything is stored).
    let lookup = |text: &str| -> Option<&Lazy> {
        let i: usize = text.strip_prefix(marker_prefix())?.parse().ok()?;
        registered.get(i)
    };
    let mut lazies = Vec::new();
    fields.retain(|k, v| match v.as_str().and_then(lookup) {
        Some(l) => {
            lazies.push((k.to_owned(), l.clone()));
            false
        }
        None => true,
    });
    // A marker nested in a list or map: evaluated now, in place.
    let marker = marker_prefix().as_bytes();
    let nested: Vec<(String, Value)> = fields
        .iter_encoded()
        .filter(|(_, bytes)| bytes.windows(marker.len()).any(|w| w == marker))
        .map(|(k, bytes)| {
            let mut v = crate::value::Value::decode(bytes).0.to_json();
            resolve_nested(&mut v, &lookup);
            (k.to_owned(), v)
        })
        .collect();
    if !nested.is_empty() {
        let mut resolved = Fields::new();
        for (k, bytes) in fields.iter_encoded() {
            match nested.iter().find(|(n, _)| n == k) {
                Some((_, v)) => resolved.insert(k, v),
                None => resolved.push_encoded(k, bytes),
            }
        }
        *fields = resolved;
    }
    lazies
}

fn resolve_nested<'a>(v: &mut Value, lookup: &impl Fn(&str) -> Option<&'a Lazy>) {
    if let Some(l) = v.as_str().and_then(lookup) {
        *v = l.evaluate();
        return;
    }
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| resolve_nested(i, lookup)),
        Value::Object(map) => map.values_mut().for_each(|i| resolve_nested(i, lookup)),
        _ => {}
    }
}
