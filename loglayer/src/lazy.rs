//! [`lazy`]: values computed only when an entry is actually emitted
//! (LogLayer's `lazy()`).

use std::cell::RefCell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::json;

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

/// Appends the computed value as JSON.
type WriteFn = dyn Fn(&mut Vec<u8>) + Send + Sync;

/// Wraps a closure as a [`Lazy`] value.
pub fn lazy<F, T>(f: F) -> Lazy
where
    F: Fn() -> T + Send + Sync + 'static,
    T: Serialize,
{
    Lazy {
        write: Arc::new(move |out: &mut Vec<u8>| json::write_value(out, &f())),
    }
}

impl Lazy {
    /// Appends the value as JSON, with a placeholder if the closure panics.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        let start = out.len();
        if catch_unwind(AssertUnwindSafe(|| (self.write)(out))).is_err() {
            out.truncate(start);
            json::write_str(out, LAZY_PANIC_PLACEHOLDER);
        }
    }

    fn evaluate(&self) -> Value {
        let mut buf = Vec::new();
        self.write_json(&mut buf);
        serde_json::from_slice(&buf).unwrap_or(Value::Null)
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

/// Serializes `value` into an object like [`crate::fields::to_object`], but
/// keeps top-level lazy values aside, unevaluated. Lazies nested deeper are
/// evaluated now.
pub(crate) fn to_object_deferring<T: Serialize + ?Sized>(
    value: &T,
) -> (Map<String, Value>, Vec<(String, Lazy)>) {
    let previous = DEFERRED
        .try_with(|d| d.try_borrow_mut().ok().map(|mut d| d.replace(Vec::new())))
        .ok()
        .flatten();
    let mut map = crate::fields::to_object(value);
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
        return (map, Vec::new());
    }
    let lookup = |v: &Value| -> Option<&Lazy> {
        let i: usize = v.as_str()?.strip_prefix(marker_prefix())?.parse().ok()?;
        registered.get(i)
    };
    let mut lazies = Vec::new();
    map.retain(|k, v| match lookup(v) {
        Some(l) => {
            lazies.push((k.clone(), l.clone()));
            false
        }
        None => true,
    });
    for v in map.values_mut() {
        resolve_nested(v, &lookup);
    }
    (map, lazies)
}

fn resolve_nested<'a>(v: &mut Value, lookup: &impl Fn(&Value) -> Option<&'a Lazy>) {
    if let Some(l) = lookup(v) {
        *v = l.evaluate();
        return;
    }
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| resolve_nested(i, lookup)),
        Value::Object(map) => map.values_mut().for_each(|i| resolve_nested(i, lookup)),
        _ => {}
    }
}
