//! The [`Redact`] plugin: hides secrets by key name, by path and by literal
//! value, in context, metadata, errors and messages. See [`Redact`].
//!
//! ```
//! use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
//! let capture = CaptureTransport::new();
//! let log = LogLayer::builder()
//!     .transport(capture.clone())
//!     .plugin(Redact::new().keys(["password"]))
//!     .build();
//! log.with_metadata(serde_json::json!({"password": "hunter2"})).info("login");
//! assert!(!capture.lines()[0].contains("hunter2"));
//! ```

use std::fmt;

use serde_json::{Map, Value};

mod path;

use self::path::{Key, Paths, St};
use super::{LogData, Plugin};
use crate::value::{Fields, Value as Typed};
use crate::{Entry, Level};

/// The metadata key that marks an entry whose redaction failed; it holds a NUL
/// so that no real key can collide with it. Never reaches a transport: the
/// plugin's `should_log` drops any entry holding it.
const FAILED_MARKER: &str = "\u{0}loglayer.redact.failed";

/// The default censor text.
const DEFAULT_CENSOR: &str = "[REDACTED]";

/// The default [`Redact::max_depth`].
const DEFAULT_MAX_DEPTH: usize = 64;

/// The value was nested deeper than `max_depth`.
struct TooDeep;

/// How redaction changes one field.
enum Change {
    /// Left out ([`Redact::remove`]).
    Remove,
    /// Replaced by the censor text.
    Censor,
    /// A list or map with parts redacted.
    Json(Value),
    /// A string or number with secret values replaced.
    Text(String),
}

/// A plugin that hides secrets in context, metadata, errors and messages.
///
/// Three kinds of rule, any number of each:
///
/// * **keys** — a key name wherever it occurs, at any depth of the context,
///   the metadata and the error value (`password`, `token`, ...);
/// * **paths** — dotted paths from the root of the context and of the metadata
///   (`user.email`, `headers.*`, `*.secret`, `items.*.card`, `**.ssn`);
/// * **values** — literal secret strings that must never appear: every
///   occurrence inside any string (and object key, and number) of the context,
///   metadata and error, and inside the message, is replaced by the censor text.
///
/// Keys also reach into JSON text held in a string (a serialized request body,
/// say): a string in which a secret key appears as a JSON key (`"password":`)
/// is redacted as a whole.
///
/// A value found by a key or a path is replaced as a whole by the censor text
/// (`"[REDACTED]"` unless set with [`Redact::censor`]), or removed with
/// [`Redact::remove`].
///
/// ```
/// use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
/// use serde_json::json;
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::builder()
///     .transport(capture.clone())
///     .plugin(
///         Redact::new()
///             .keys(["password", "token"])
///             .paths(["user.email"])
///             .values(["hunter2"]),
///     )
///     .build();
///
/// log.with_context(json!({"user": {"id": 7, "email": "a@example.com"}}));
/// log.with_metadata(json!({"login": {"Password": "hunter2"}, "note": "pw is hunter2"}))
///     .info("login with hunter2");
///
/// let line = &capture.lines()[0];
/// assert!(!line.contains("hunter2") && !line.contains("a@example.com"));
/// let e = &capture.entries()[0];
/// assert_eq!(e["user"]["email"], "[REDACTED]");
/// assert_eq!(e["user"]["id"], 7);
/// assert_eq!(e["login"]["Password"], "[REDACTED]"); // keys ignore case by default
/// assert_eq!(e["note"], "pw is [REDACTED]");
/// assert_eq!(e["msg"], "login with [REDACTED]");
/// ```
///
/// # Guarantees
///
/// * **Coverage.** Every entry of a logger that holds the plugin, whatever its
///   source: the logger's context (including what a [`child`] logger inherited
///   or added, since children inherit their parent's plugins), the entry's
///   metadata (including fields given to the level macros), the error (its
///   message and source chain, or the value of a custom error serializer) and,
///   for `values`, the message.
/// * **Never mutates the caller's data.** The plugin only edits the copy of an
///   entry's data that the logger hands to plugins; the logger's stored context
///   and the caller's values are left as they were.
/// * **Fails closed.** A value nested deeper than [`Redact::max_depth`] levels
///   (64 by default) cannot be checked in bounded time and stack, so the entry
///   is **dropped**, never sent unredacted: its data is wiped, and the entry is
///   counted in [`crate::failures()`]`.dropped_entries` (reported once on
///   stderr). This needs no panic, so it holds under `panic = "abort"` too.
///   Only values that need checking count: a deep value under a redacted key
///   or path is replaced as a whole and is fine.
///
/// # Order
///
/// Plugins run in registration order, so a plugin registered *after* `Redact`
/// that adds data in `on_before_data_out` adds it unredacted. Register
/// `Redact` last among plugins that add data.
///
/// [`child`]: crate::LogLayer::child
///
/// Its id is `"redact"` unless set with [`Redact::with_id`].
///
/// # Removing instead of censoring
///
/// ```
/// use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
/// use serde_json::json;
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::builder()
///     .transport(capture.clone())
///     .plugin(Redact::new().keys(["token"]).paths(["headers.*"]).remove())
///     .build();
/// log.with_metadata(json!({"headers": {"cookie": "c", "auth": "a"}, "token": "t", "ok": 1}))
///     .info("request");
/// assert_eq!(capture.entries()[0]["headers"], json!({}));
/// assert!(capture.entries()[0].get("token").is_none());
/// assert_eq!(capture.entries()[0]["ok"], 1);
/// ```
#[derive(Clone)]
pub struct Redact {
    id: String,
    keys: Vec<String>,
    paths: Paths,
    values: Vec<String>,
    censor: String,
    remove: bool,
    case_sensitive: bool,
    max_depth: usize,
}

impl Default for Redact {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Redact {
    /// Shows the rules, except the secret values themselves (only their count).
    ///
    /// ```
    /// let r = loglayer::plugin::Redact::new().keys(["password"]).values(["hunter2"]);
    /// let shown = format!("{r:?}");
    /// assert!(shown.contains("password") && !shown.contains("hunter2"));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redact")
            .field("id", &self.id)
            .field("keys", &self.keys)
            .field("paths", &self.paths)
            .field("values", &format_args!("<{} hidden>", self.values.len()))
            .field("censor", &self.censor)
            .field("remove", &self.remove)
            .field("case_sensitive", &self.case_sensitive)
            .field("max_depth", &self.max_depth)
            .finish()
    }
}

impl Redact {
    /// A plugin with no rules yet (it changes nothing until given some), id
    /// `"redact"`, censor text `"[REDACTED]"`, keys and paths matched ignoring
    /// case, depth limit 64.
    ///
    /// ```
    /// use loglayer::plugin::{Plugin, Redact};
    /// assert_eq!(Redact::new().id(), "redact");
    /// ```
    pub fn new() -> Self {
        Redact {
            id: "redact".to_owned(),
            keys: Vec::new(),
            paths: Paths::default(),
            values: Vec::new(),
            censor: DEFAULT_CENSOR.to_owned(),
            remove: false,
            case_sensitive: false,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// Sets the id used by `remove_plugin`, `disable_plugin` and `enable_plugin`.
    ///
    /// ```
    /// use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Redact::new().keys(["pin"]).with_id("pii"))
    ///     .build();
    /// assert!(log.disable_plugin("pii"));
    /// log.with_metadata(serde_json::json!({"pin": 1234})).info("x");
    /// assert_eq!(capture.entries()[0]["pin"], 1234);
    /// ```
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Redacts every value whose key is one of `keys`, at any depth of the
    /// context, the metadata and the error. The whole key must match (`token`
    /// does not match `csrf_token`); case is ignored unless
    /// [`case_sensitive`](Redact::case_sensitive) is set. A string value that
    /// holds JSON text in which one of these keys appears as a key
    /// (`"password":`, or `\"password\":` once escaped) is redacted whole.
    ///
    /// ```
    /// use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
    /// use serde_json::json;
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Redact::new().keys(["password"]))
    ///     .build();
    /// log.with_metadata(json!({"users": [{"name": "a", "PASSWORD": "x"}]})).info("x");
    /// assert_eq!(capture.entries()[0]["users"][0]["PASSWORD"], "[REDACTED]");
    /// assert_eq!(capture.entries()[0]["users"][0]["name"], "a");
    /// ```
    pub fn keys<I>(mut self, keys: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.keys.extend(keys.into_iter().map(Into::into));
        self
    }

    /// Redacts the values at these dotted paths, each taken from the root of
    /// the context and from the root of the metadata (the error is covered by
    /// [`keys`](Redact::keys) and [`values`](Redact::values), not by paths).
    ///
    /// * A segment is a key, or an array index in decimal (`items.0.card`).
    /// * `*` matches exactly one segment: any key, or any array element.
    /// * `**` matches zero or more segments: `**.ssn` is `ssn` at any depth,
    ///   and `a.**` is `a` itself.
    /// * `\.`, `\*` and `\\` stand for a literal dot, star and backslash in a key.
    ///
    /// A path matches its whole value (`user` censors the whole `user`
    /// object). Case is ignored unless [`case_sensitive`](Redact::case_sensitive)
    /// is set.
    ///
    /// ```
    /// use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
    /// use serde_json::json;
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Redact::new().paths(["user.email", "items.*.card", "*.secret"]))
    ///     .build();
    /// log.with_metadata(json!({
    ///     "user": {"email": "a@b.c", "name": "Ann"},
    ///     "items": [{"card": "4111", "sku": 1}, {"card": "5500", "sku": 2}],
    ///     "db": {"secret": "s", "host": "h"},
    /// }))
    /// .info("order");
    /// let e = &capture.entries()[0];
    /// assert_eq!(e["user"], json!({"email": "[REDACTED]", "name": "Ann"}));
    /// assert_eq!(e["items"][1], json!({"card": "[REDACTED]", "sku": 2}));
    /// assert_eq!(e["db"], json!({"secret": "[REDACTED]", "host": "h"}));
    /// ```
    pub fn paths<I>(mut self, paths: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.paths.extend(paths);
        self
    }

    /// Literal secrets that must never appear: each occurrence inside any
    /// string value, object key or number of the context, metadata and error,
    /// and inside the message, is replaced by the censor text (also with
    /// [`remove`](Redact::remove), which applies to keys and paths only).
    /// Matching is exact (case-sensitive); empty strings are ignored.
    ///
    /// ```
    /// use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Redact::new().values(["hunter2"]))
    ///     .build();
    /// log.error("bad password hunter2 for admin");
    /// assert_eq!(capture.messages(), ["bad password [REDACTED] for admin"]);
    /// ```
    pub fn values<I>(mut self, values: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.values.extend(
            values
                .into_iter()
                .map(Into::into)
                .filter(|v: &String| !v.is_empty()),
        );
        // Longest first, so that a secret containing another is replaced whole.
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        self
    }

    /// Sets the censor text that replaces redacted values (default
    /// `"[REDACTED]"`), and switches back from [`remove`](Redact::remove).
    ///
    /// ```
    /// use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Redact::new().keys(["token"]).censor("***"))
    ///     .build();
    /// log.with_metadata(serde_json::json!({"token": "abc"})).info("x");
    /// assert_eq!(capture.entries()[0]["token"], "***");
    /// ```
    pub fn censor(mut self, text: impl Into<String>) -> Self {
        self.censor = text.into();
        self.remove = false;
        self
    }

    /// Removes what keys and paths match instead of censoring it: the key is
    /// dropped from its object, or the element from its array. (Secrets found
    /// by [`values`](Redact::values) are still replaced by the censor text.)
    ///
    /// ```
    /// use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Redact::new().keys(["token"]).remove())
    ///     .build();
    /// log.with_metadata(serde_json::json!({"token": "abc", "user": 1})).info("x");
    /// assert!(capture.entries()[0].get("token").is_none());
    /// assert_eq!(capture.entries()[0]["user"], 1);
    /// ```
    pub fn remove(mut self) -> Self {
        self.remove = true;
        self
    }

    /// Whether keys and paths must match case exactly (default `false`: ASCII
    /// and Unicode case are ignored, so `password` also hides `Password`).
    ///
    /// ```
    /// use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Redact::new().keys(["token"]).case_sensitive(true))
    ///     .build();
    /// log.with_metadata(serde_json::json!({"token": 1, "Token": 2})).info("x");
    /// let e = &capture.entries()[0];
    /// assert_eq!((e["token"].as_str(), e["Token"].as_i64()), (Some("[REDACTED]"), Some(2)));
    /// ```
    pub fn case_sensitive(mut self, yes: bool) -> Self {
        self.case_sensitive = yes;
        self
    }

    /// The deepest nesting the plugin checks (default 64, at least 1): an
    /// entry holding a value that must be checked and is nested deeper is
    /// dropped and counted, never sent unredacted (see the
    /// [type documentation](Redact)).
    ///
    /// ```
    /// use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
    /// use serde_json::json;
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Redact::new().keys(["password"]).max_depth(2))
    ///     .build();
    /// let before = loglayer::failures().dropped_entries;
    /// log.with_metadata(json!({"a": {"b": 1}})).info("fits");
    /// log.with_metadata(json!({"a": {"b": {"password": "x"}}})).info("too deep");
    /// assert_eq!(capture.messages(), ["fits"]);
    /// assert!(loglayer::failures().dropped_entries > before);
    /// ```
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth.max(1);
        self
    }

    /// Redacts `data` in place (context, metadata, root fields, error). A
    /// list with nothing to hide is left as it is: the logger's context is
    /// then not copied, and keeps its rendered JSON.
    fn redact_data(&self, data: &mut LogData<'_>) -> Result<(), TooDeep> {
        let roots = self.paths.roots();
        if let Some(new) = self.redacted(data.context(), &roots)? {
            *data.context_mut() = new;
        }
        if let Some(new) = self.redacted(data.metadata(), &roots)? {
            *data.metadata_mut() = new;
        }
        let root = match data.root() {
            Some(root) => self.redacted(root, &roots)?,
            None => None,
        };
        if let (Some(new), Some(root)) = (root, data.root_mut()) {
            *root = new;
        }
        let error = match data.error() {
            Some(err) => self.redacted(err, &[])?,
            None => None,
        };
        if let (Some(new), Some(err)) = (error, data.error_mut()) {
            *err = new;
        }
        Ok(())
    }

    /// One list of fields (the root of the context, of the metadata, of the
    /// root fields, or the error) redacted at these path states, or `None`
    /// when nothing in it changes. Scalars are checked on their typed value;
    /// a list or map that needs a look is walked as a JSON value. The copy is
    /// made only from the first field that changes.
    fn redacted(&self, fields: &Fields, states: &[St]) -> Result<Option<Fields>, TooDeep> {
        if fields.is_empty() || !self.needs_descent(states) {
            return Ok(None);
        }
        if self.max_depth == 0 {
            return Err(TooDeep);
        }
        let mut out: Option<Fields> = None;
        for (i, (key, bytes)) in fields.iter_encoded().enumerate() {
            let value = Typed::decode(bytes).0;
            let (next, matched) = self.step(states, Key::Name(key));
            let hidden = matched
                || self.is_secret_key(key)
                || value.as_str().is_some_and(|t| self.embeds_secret_text(t));
            let new_key = self.scrubbed(key);
            let change = if hidden {
                Some(if self.remove {
                    Change::Remove
                } else {
                    Change::Censor
                })
            } else {
                self.changed_value(value, &next)?
            };
            if change.is_none() && new_key.is_none() {
                if let Some(out) = &mut out {
                    out.insert_encoded(key, bytes);
                }
                continue;
            }
            let out = out.get_or_insert_with(|| {
                let mut kept = Fields::new();
                for (k, b) in fields.iter_encoded().take(i) {
                    kept.insert_encoded(k, b);
                }
                kept
            });
            let key = new_key.as_deref().unwrap_or(key);
            match change {
                Some(Change::Remove) => {}
                Some(Change::Censor) => out.insert(key, &self.censor),
                Some(Change::Json(json)) => out.insert(key, json),
                Some(Change::Text(text)) => out.insert(key, text),
                None => out.insert_encoded(key, bytes),
            }
        }
        Ok(out)
    }

    /// What redaction makes of a value not hidden as a whole, if it changes.
    fn changed_value(&self, value: Typed<'_>, next: &[St]) -> Result<Option<Change>, TooDeep> {
        Ok(match value {
            Typed::List(_) | Typed::Map(_) if self.needs_descent(next) => {
                let original = value.to_json();
                let mut json = original.clone();
                self.walk_value(&mut json, next, 2)?;
                (json != original).then_some(Change::Json(json))
            }
            Typed::Str(text) if !self.values.is_empty() => {
                let mut text = text.to_owned();
                self.scrub(&mut text).then_some(Change::Text(text))
            }
            Typed::I64(_) | Typed::U64(_) | Typed::I128(_) | Typed::U128(_) | Typed::F64(_)
                if !self.values.is_empty() =>
            {
                let mut text = value.to_string();
                self.scrub(&mut text).then_some(Change::Text(text))
            }
            _ => None,
        })
    }

    /// `key` with the secret values replaced, if it holds any.
    fn scrubbed(&self, key: &str) -> Option<String> {
        if !self.values.iter().any(|v| key.contains(v.as_str())) {
            return None;
        }
        let mut key = key.to_owned();
        self.scrub(&mut key);
        Some(key)
    }

    /// Whether anything under a container at these path states needs a look.
    fn needs_descent(&self, states: &[St]) -> bool {
        !states.is_empty() || !self.keys.is_empty() || !self.values.is_empty()
    }

    fn walk_value(&self, value: &mut Value, states: &[St], depth: usize) -> Result<(), TooDeep> {
        match value {
            Value::String(s) => {
                self.scrub(s);
            }
            Value::Number(n) if !self.values.is_empty() => {
                let mut text = n.to_string();
                if self.scrub(&mut text) {
                    *value = Value::String(text);
                }
            }
            Value::Array(items) => self.walk_array(items, states, depth)?,
            Value::Object(map) => self.walk_map(map, states, depth)?,
            _ => {}
        }
        Ok(())
    }

    fn walk_array(
        &self,
        items: &mut Vec<Value>,
        states: &[St],
        depth: usize,
    ) -> Result<(), TooDeep> {
        if items.is_empty() || !self.needs_descent(states) {
            return Ok(());
        }
        if depth > self.max_depth {
            return Err(TooDeep);
        }
        let old = std::mem::take(items);
        items.reserve(old.len());
        for (i, mut item) in old.into_iter().enumerate() {
            let (next, matched) = self.step(states, Key::Index(i));
            if matched || self.embeds_secret_key(&item) {
                if self.remove {
                    continue;
                }
                item = Value::String(self.censor.clone());
            } else {
                self.walk_value(&mut item, &next, depth + 1)?;
            }
            items.push(item);
        }
        Ok(())
    }

    fn walk_map(
        &self,
        map: &mut Map<String, Value>,
        states: &[St],
        depth: usize,
    ) -> Result<(), TooDeep> {
        if map.is_empty() || !self.needs_descent(states) {
            return Ok(());
        }
        if depth > self.max_depth {
            return Err(TooDeep);
        }
        let old = std::mem::take(map);
        for (mut key, mut value) in old {
            let (next, matched) = self.step(states, Key::Name(&key));
            let matched = matched || self.is_secret_key(&key) || self.embeds_secret_key(&value);
            if matched {
                if self.remove {
                    continue;
                }
                value = Value::String(self.censor.clone());
            } else {
                self.walk_value(&mut value, &next, depth + 1)?;
            }
            self.scrub(&mut key);
            map.insert(key, value);
        }
        Ok(())
    }

    /// Replaces every secret value inside `s`; returns whether any was found.
    fn scrub(&self, s: &mut String) -> bool {
        let mut found = false;
        for secret in &self.values {
            if s.contains(secret.as_str()) {
                *s = s.replace(secret.as_str(), &self.censor);
                found = true;
            }
        }
        found
    }

    /// The path states after `key` (see [`Paths::step`]).
    fn step(&self, states: &[St], key: Key<'_>) -> (Vec<St>, bool) {
        self.paths.step(states, key, |a, b| self.name_eq(a, b))
    }

    fn name_eq(&self, a: &str, b: &str) -> bool {
        if self.case_sensitive {
            a == b
        } else if a.is_ascii() && b.is_ascii() {
            a.eq_ignore_ascii_case(b)
        } else {
            a.to_lowercase() == b.to_lowercase()
        }
    }

    fn is_secret_key(&self, key: &str) -> bool {
        self.keys.iter().any(|k| self.name_eq(k, key))
    }

    /// Whether `value` is a string holding JSON text (say a serialized
    /// request body, or a value the logger could not parse back) in which one
    /// of the secret keys appears as a key: `"password":`, also escaped once
    /// (`\"password\":`).
    fn embeds_secret_key(&self, value: &Value) -> bool {
        match value {
            Value::String(text) => self.embeds_secret_text(text),
            _ => false,
        }
    }

    /// [`embeds_secret_key`](Self::embeds_secret_key) for a string.
    fn embeds_secret_text(&self, text: &str) -> bool {
        if self.keys.is_empty() || !text.contains('"') || !text.contains(':') {
            return false;
        }
        let folded;
        let text = if self.case_sensitive {
            text
        } else {
            folded = text.to_lowercase();
            folded.as_str()
        };
        self.keys.iter().any(|key| {
            let folded_key;
            let key = if self.case_sensitive {
                key.as_str()
            } else {
                folded_key = key.to_lowercase();
                folded_key.as_str()
            };
            !key.is_empty()
                && text.match_indices(key).any(|(at, _)| {
                    let before = &text[..at];
                    let after = &text[at + key.len()..];
                    let after = after.strip_prefix('\\').unwrap_or(after);
                    before.ends_with('"')
                        && after
                            .strip_prefix('"')
                            .is_some_and(|rest| rest.trim_start().starts_with(':'))
                })
        })
    }
}

impl Plugin for Redact {
    fn id(&self) -> &str {
        &self.id
    }

    /// Redacts context, metadata and error; on failure wipes them and marks
    /// the entry so that [`should_log`](Plugin::should_log) drops it.
    fn on_before_data_out(&self, _level: Level, data: &mut LogData<'_>) {
        if self.redact_data(data).is_err() {
            data.context_mut().clear();
            data.metadata_mut().clear();
            if let Some(root) = data.root_mut() {
                root.clear();
            }
            data.remove_error();
            data.metadata_mut().insert(FAILED_MARKER, true);
        }
    }

    fn on_before_message_out(&self, _level: Level, message: &mut String) {
        self.scrub(message);
    }

    fn should_log(&self, entry: &Entry<'_>) -> bool {
        if entry.metadata().any(|(k, _)| k == FAILED_MARKER) {
            crate::fault::entry_dropped(&format!(
                "redaction (plugin {:?}) met a value nested deeper than {} levels; \
                 the entry was dropped rather than sent unredacted",
                self.id, self.max_depth
            ));
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(r: &Redact, v: Value) -> Value {
        let mut data = LogData::new(Fields::new(), Fields::from_serialize(&v), None);
        r.on_before_data_out(Level::Info, &mut data);
        Value::Object(data.metadata().to_json_map())
    }

    #[test]
    fn double_star() {
        let r = Redact::new().paths(["**.ssn", "a.**"]);
        let out = run(
            &r,
            json!({"x": {"y": [{"ssn": 1}]}, "ssn": 2, "a": {"b": 3}}),
        );
        assert_eq!(
            out,
            json!({"x": {"y": [{"ssn": "[REDACTED]"}]}, "ssn": "[REDACTED]", "a": "[REDACTED]"})
        );
    }

    #[test]
    fn secret_keys_and_numbers() {
        let r = Redact::new().values(["123", "hunter2"]);
        let out = run(&r, json!({"hunter2": "x", "n": 41234}));
        assert_eq!(out, json!({"[REDACTED]": "x", "n": "4[REDACTED]4"}));
    }

    #[test]
    fn json_text_in_strings() {
        let r = Redact::new().keys(["Password"]);
        let out = run(
            &r,
            json!({
                "body": r#"{"user":"a","PASSWORD" : "x"}"#,
                "twice": r#"{\"password\":\"x\"}"#,
                "prose": "the password: is not a JSON key",
                "list": ["ok", "{\"password\":1}"],
            }),
        );
        assert_eq!(
            out,
            json!({
                "body": "[REDACTED]",
                "twice": "[REDACTED]",
                "prose": "the password: is not a JSON key",
                "list": ["ok", "[REDACTED]"],
            })
        );
    }

    #[test]
    fn too_deep_marks_entry() {
        let r = Redact::new().keys(["k"]).max_depth(3);
        let out = run(&r, json!({"a": {"b": {"c": {"d": 1}}}}));
        assert_eq!(out, json!({ FAILED_MARKER: true }));
        // Under a redacted key, depth does not matter.
        let out = run(&r, json!({"k": {"b": {"c": {"d": 1}}}}));
        assert_eq!(out, json!({"k": "[REDACTED]"}));
    }
}
