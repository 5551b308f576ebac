//! [`LogLayer`]: the logger handle, its builder and the per-entry [`LogBuilder`].

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::entry::{Entry, Shape};
use crate::error::{AsError, ErrorInfo, ErrorSerializer};
use crate::fault;
use crate::fields::{to_object, Context, FieldList};
use crate::json;
use crate::lazy::Lazy;
use crate::plugin::{LogData, Plugin};
use crate::transport::Transport;
use crate::{Directives, Level};

/// Every level bit any logger of this process has ever enabled. A hint that
/// only grows: a macro call whose level no logger enables stops at one load.
static ANY_LEVELS: AtomicU8 = AtomicU8::new(0);

fn note_levels(mask: u8) {
    let bits = mask & ALL_LEVELS;
    if ANY_LEVELS.load(Ordering::Relaxed) & bits != bits {
        ANY_LEVELS.fetch_or(bits, Ordering::Relaxed);
    }
}

/// Whether some logger may enable `level` (see `ANY_LEVELS`).
#[inline]
pub(crate) fn any_logger_enables(level: Level) -> bool {
    ANY_LEVELS.load(Ordering::Relaxed) & level.bit() != 0
}

/// Bit of `Inner::levels` set by `disable_logging`.
const DISABLED: u8 = 0b1000_0000;
const ALL_LEVELS: u8 = 0b0011_1111;
const MUTE_CONTEXT: u8 = 1;
const MUTE_METADATA: u8 = 2;

/// Deepest nesting of log calls on one thread (a transport or `Display` impl
/// that logs while logging); deeper entries are dropped and counted.
const MAX_DEPTH: u8 = 4;

/// A logger: context, level, transports and plugins.
///
/// `LogLayer` is a cheap handle (`Arc` inside): clones are the **same** logger,
/// so [`with_context`](LogLayer::with_context), level and transport changes
/// through one clone are seen by all. [`child`](LogLayer::child) makes an
/// independent logger.
///
/// ```
/// use loglayer::{transport::CaptureTransport, LogLayer};
/// use serde_json::json;
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::new(capture.clone());
/// log.with_context(json!({"request_id": "7f3a"}));
/// log.with_metadata(json!({"order_id": 42})).info("shipping");
/// log.info("done");
///
/// let entries = capture.entries();
/// assert_eq!(entries[0]["order_id"], 42);
/// assert_eq!(entries[1]["request_id"], "7f3a");
/// assert!(entries[1].get("order_id").is_none()); // metadata is per entry
/// ```
#[derive(Clone)]
pub struct LogLayer {
    pub(crate) inner: Arc<Inner>,
}

// A panic inside a log call never leaves a logger half-updated: every change
// is one atomic store or swap. So a logger can be used across `catch_unwind`.
impl std::panic::UnwindSafe for LogLayer {}
impl std::panic::RefUnwindSafe for LogLayer {}

pub(crate) struct Inner {
    config: Arc<Config>,
    levels: AtomicU8,
    muted: AtomicU8,
    state: ArcSwap<State>,
}

/// What never changes once a logger is built, shared by a logger and its
/// children (a prefixed child gets its own copy).
#[derive(Clone)]
struct Config {
    shape: Shape,
    error_serializer: Option<Arc<ErrorSerializer>>,
    copy_msg_on_only_error: bool,
    /// Per-target levels; `None` when only the level mask applies.
    directives: Option<Arc<Directives>>,
    prefix: Option<Arc<str>>,
}

/// A logger as it is at one moment: what a child starts from. Taking one
/// clones one `Arc` (the state, which also points to the config) and
/// allocates nothing, so a `#[with_logger]` scope can hold its parent's
/// state from entry without building its child yet.
pub(crate) struct Frozen {
    levels: u8,
    muted: u8,
    state: Arc<State>,
}

impl Frozen {
    /// Whether `level` passes for an entry from `target`, by the levels the
    /// logger had when frozen.
    #[inline]
    pub(crate) fn is_enabled_for(&self, level: Level, target: &str) -> bool {
        levels_allow(self.levels, level)
            && self
                .state
                .config
                .directives
                .as_ref()
                .is_none_or(|d| d.enabled(Some(target), level))
    }

    /// Whether a plugin would see context added to the child.
    pub(crate) fn has_plugins(&self) -> bool {
        self.state.has_plugins()
    }

    /// The child, with the parent's context as it was when frozen.
    pub(crate) fn into_child(self) -> LogLayer {
        let Frozen {
            levels,
            muted,
            state,
        } = self;
        LogLayer {
            inner: Arc::new(Inner {
                config: state.config.clone(),
                levels: AtomicU8::new(levels),
                muted: AtomicU8::new(muted),
                state: ArcSwap::new(state),
            }),
        }
    }

    /// The child with extra context fields added by `add` (already rendered,
    /// later keys win), built in one step. Only for parents without plugins:
    /// with plugins, build [`into_child`](Frozen::into_child) and add the
    /// fields through `with_context`'s path so `on_context_called` sees them.
    pub(crate) fn into_child_with_fields(
        self,
        room: (usize, usize),
        add: impl FnOnce(&mut FieldList),
    ) -> LogLayer {
        // The parent's static fields never share a key with its lazy values,
        // so a lazy key found after `add` was set by `add`: it wins.
        let mut fields = self.state.context.fields.clone_with_room(room.0, room.1);
        add(&mut fields);
        let lazies = self
            .state
            .context
            .lazies
            .iter()
            .filter(|(k, _)| !fields.contains(k))
            .cloned()
            .collect();
        let state = State {
            config: self.state.config.clone(),
            context: Arc::new(Context::with_lazies(fields, lazies)),
            transports: self.state.transports.clone(),
            plugins: self.state.plugins.clone(),
        };
        Frozen {
            state: Arc::new(state),
            ..self
        }
        .into_child()
    }
}

/// Whether a level mask lets `level` through.
#[inline]
fn levels_allow(mask: u8, level: Level) -> bool {
    mask & level.bit() != 0 && mask & DISABLED == 0
}

/// What a logger holds that changes as a whole: swapped atomically so a log
/// call reads it without a lock.
#[derive(Clone)]
struct State {
    /// The logger's `Inner::config`, also here so that a [`Frozen`] logger
    /// needs one `Arc`.
    config: Arc<Config>,
    context: Arc<Context>,
    transports: Arc<[Arc<dyn Transport>]>,
    plugins: Arc<[PluginSlot]>,
}

#[derive(Clone)]
struct PluginSlot {
    plugin: Arc<dyn Plugin>,
    enabled: bool,
}

impl State {
    fn has_plugins(&self) -> bool {
        self.plugins.iter().any(|p| p.enabled)
    }
}

static EMPTY_CONTEXT: LazyLock<Context> = LazyLock::new(Context::default);

/// A value written as a metadata field. Implemented by the wrappers the
/// macros build; not public API.
#[doc(hidden)]
pub trait FieldValue {
    /// Appends exactly one JSON value.
    fn write_json(&self, out: &mut Vec<u8>);
}

/// The message of a call.
#[derive(Clone, Copy)]
pub(crate) enum Msg<'a> {
    Args(fmt::Arguments<'a>),
    Display(&'a dyn fmt::Display),
}

/// The metadata of a call.
#[derive(Clone, Copy)]
pub(crate) enum Meta<'a> {
    None,
    Pairs(&'a [(&'a str, &'a dyn FieldValue)]),
    List(&'a FieldList),
}

/// One call, before assembly.
pub(crate) struct Record<'a> {
    pub(crate) level: Level,
    pub(crate) msg: Msg<'a>,
    pub(crate) meta: Meta<'a>,
    pub(crate) error: Option<&'a ErrorInfo>,
    pub(crate) target: Option<&'a str>,
    pub(crate) context: Option<&'a Context>,
}

/// Per-thread reusable buffers, so an entry allocates nothing in steady state.
#[derive(Default)]
struct Scratch {
    msg: String,
    meta: FieldList,
}

thread_local! {
    static SCRATCH: RefCell<Option<Box<Scratch>>> = const { RefCell::new(None) };
    static DEPTH: std::cell::Cell<u8> = const { std::cell::Cell::new(0) };
}

struct DepthGuard;

impl DepthGuard {
    fn enter() -> Option<DepthGuard> {
        DEPTH
            .try_with(|d| {
                let v = d.get();
                if v >= MAX_DEPTH {
                    None
                } else {
                    d.set(v + 1);
                    Some(DepthGuard)
                }
            })
            .ok()
            .flatten()
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
    }
}

fn take_scratch() -> Box<Scratch> {
    SCRATCH
        .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.take()))
        .ok()
        .flatten()
        .unwrap_or_default()
}

fn put_scratch(mut scratch: Box<Scratch>) {
    if scratch.msg.capacity() > 64 * 1024 {
        scratch.msg = String::new();
    }
    scratch.meta.shrink_if_large();
    let _ = SCRATCH.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            *s = Some(scratch);
        }
    });
}

fn catch<R>(plugin: &dyn Plugin, hook: &str, f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(_) => {
            let id = catch_unwind(AssertUnwindSafe(|| plugin.id().to_owned()))
                .unwrap_or_else(|_| "<unknown>".to_owned());
            fault::plugin_panicked(&id, hook);
            None
        }
    }
}

impl Inner {
    pub(crate) fn capture_error(&self, err: &(dyn Error + '_)) -> ErrorInfo {
        ErrorInfo::capture(err, self.config.error_serializer.as_deref())
    }

    /// Whether `level` passes for an entry without a target (the methods).
    #[inline]
    pub(crate) fn is_enabled(&self, level: Level) -> bool {
        self.mask_allows(level)
            && self
                .config
                .directives
                .as_ref()
                .is_none_or(|d| d.enabled(None, level))
    }

    /// Whether `level` passes for an entry from `target` (the macros).
    #[inline]
    pub(crate) fn is_enabled_for(&self, level: Level, target: &str) -> bool {
        self.mask_allows(level)
            && self
                .config
                .directives
                .as_ref()
                .is_none_or(|d| d.enabled(Some(target), level))
    }

    #[inline]
    fn mask_allows(&self, level: Level) -> bool {
        levels_allow(self.levels.load(Ordering::Relaxed), level)
    }

    /// This logger as it is now (see [`Frozen`]).
    pub(crate) fn freeze(&self) -> Frozen {
        Frozen {
            levels: self.levels.load(Ordering::Relaxed),
            muted: self.muted.load(Ordering::Relaxed),
            state: self.state.load_full(),
        }
    }

    /// Sends one call through the pipeline. Never panics.
    pub(crate) fn emit(&self, record: Record<'_>) {
        let Some(_depth) = DepthGuard::enter() else {
            fault::entry_dropped("logging re-entered itself too deeply (a transport or value that logs while logging?)");
            return;
        };
        let mut scratch = take_scratch();
        let result = catch_unwind(AssertUnwindSafe(|| self.emit_in(&mut scratch, record)));
        if result.is_err() {
            fault::entry_dropped("internal panic while assembling an entry");
        }
        put_scratch(scratch);
    }

    fn emit_in(&self, scratch: &mut Scratch, record: Record<'_>) {
        let time = SystemTime::now();
        let state = self.state.load();
        let Scratch { msg, meta } = scratch;

        msg.clear();
        if let Some(prefix) = &self.config.prefix {
            msg.push_str(prefix);
            msg.push(' ');
        }
        match record.msg {
            Msg::Args(args) => json::append_message(msg, args),
            Msg::Display(d) => json::append_message(msg, format_args!("{d}")),
        }

        let muted = self.muted.load(Ordering::Relaxed);
        meta.clear();
        if muted & MUTE_METADATA == 0 {
            match record.meta {
                Meta::None => {}
                Meta::Pairs(pairs) => {
                    for (k, v) in pairs {
                        meta.push_with(k, |buf| v.write_json(buf));
                    }
                }
                Meta::List(list) => meta.extend(list),
            }
        }
        let context: &Context = if muted & MUTE_CONTEXT != 0 {
            &EMPTY_CONTEXT
        } else {
            record.context.unwrap_or(&state.context)
        };
        let evaluated;
        let context = if context.lazies.is_empty() {
            context
        } else {
            evaluated = context.evaluate();
            &evaluated
        };

        if state.has_plugins() {
            self.emit_with_plugins(&state, time, msg, meta, context, &record);
            return;
        }
        let entry = Entry {
            level: record.level,
            time,
            message: msg,
            target: record.target,
            context,
            metadata: meta,
            error: record.error,
            shape: &self.config.shape,
        };
        send(&state, &entry);
    }

    #[cold]
    #[allow(clippy::too_many_arguments)]
    fn emit_with_plugins(
        &self,
        state: &State,
        time: SystemTime,
        msg: &mut String,
        meta: &FieldList,
        context: &Context,
        record: &Record<'_>,
    ) {
        let plugins: Vec<&PluginSlot> = state.plugins.iter().filter(|p| p.enabled).collect();
        let mut data = LogData {
            context: context.fields.to_map(),
            metadata: meta.to_map(),
            error: record.error.map(ErrorInfo::to_value),
        };
        if !data.metadata.is_empty() {
            for slot in &plugins {
                let p = &*slot.plugin;
                let md = std::mem::take(&mut data.metadata);
                match catch(p, "on_metadata_called", || p.on_metadata_called(md)) {
                    Some(Some(md)) => data.metadata = md,
                    Some(None) => break,
                    None => return fault::entry_dropped("a plugin panicked in on_metadata_called"),
                }
            }
        }
        for slot in &plugins {
            let p = &*slot.plugin;
            if catch(p, "on_before_data_out", || {
                p.on_before_data_out(record.level, &mut data)
            })
            .is_none()
            {
                return fault::entry_dropped("a plugin panicked in on_before_data_out");
            }
        }
        for slot in &plugins {
            let p = &*slot.plugin;
            if catch(p, "on_before_message_out", || {
                p.on_before_message_out(record.level, msg)
            })
            .is_none()
            {
                return fault::entry_dropped("a plugin panicked in on_before_message_out");
            }
        }
        let mut level = record.level;
        for slot in &plugins {
            let p = &*slot.plugin;
            if let Some(Some(l)) = catch(p, "transform_log_level", || {
                p.transform_log_level(level, &data, msg)
            }) {
                level = l;
            }
        }
        let context = Context::new(FieldList::from_map(&data.context));
        let meta = FieldList::from_map(&data.metadata);
        let error = data.error.map(ErrorInfo::from_value);
        let entry = Entry {
            level,
            time,
            message: msg,
            target: record.target,
            context: &context,
            metadata: &meta,
            error: error.as_ref(),
            shape: &self.config.shape,
        };
        for slot in &plugins {
            let p = &*slot.plugin;
            if !catch(p, "should_log", || p.should_log(&entry)).unwrap_or(false) {
                return; // filtered or sampled out (a panic here also fails closed)
            }
        }
        for t in state.transports.iter() {
            if !accepts(&**t, level) {
                continue;
            }
            let id = t.id();
            let send_it = plugins.iter().all(|slot| {
                let p = &*slot.plugin;
                catch(p, "should_send_to_logger", || {
                    p.should_send_to_logger(id, &entry)
                })
                .unwrap_or(false)
            });
            if send_it {
                write_one(&**t, &entry);
            }
        }
    }
}

fn accepts(t: &dyn Transport, level: Level) -> bool {
    t.enabled() && t.level().is_none_or(|min| level >= min)
}

fn write_one(t: &dyn Transport, entry: &Entry<'_>) {
    match catch_unwind(AssertUnwindSafe(|| t.write(entry))) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => fault::transport_failed(t.id(), &e),
        Err(_) => fault::transport_failed(t.id(), &"it panicked"),
    }
}

fn send(state: &State, entry: &Entry<'_>) {
    for t in state.transports.iter() {
        if accepts(&**t, entry.level) {
            write_one(&**t, entry);
        }
    }
}

impl fmt::Debug for LogLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.load();
        f.debug_struct("LogLayer")
            .field("context", &state.context.fields)
            .field(
                "transports",
                &state
                    .transports
                    .iter()
                    .map(|t| t.id().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field(
                "plugins",
                &state
                    .plugins
                    .iter()
                    .map(|p| p.plugin.id().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field("prefix", &self.inner.config.prefix)
            .finish_non_exhaustive()
    }
}

/// Options for [`LogLayer::error_only_with`] and [`LogLayer::metadata_only_with`].
///
/// ```
/// use loglayer::{Level, OnlyOptions};
/// let opts = OnlyOptions { level: Some(Level::Warn), copy_msg: Some(true) };
/// # let _ = opts;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OnlyOptions {
    /// The entry's level; `None` for the method's default (error / info).
    pub level: Option<Level>,
    /// For `error_only_with`: use the error's message as the entry's message;
    /// `None` for the logger's `copy_msg_on_only_error` setting.
    pub copy_msg: Option<bool>,
}

/// A fully specified entry for [`LogLayer::raw`].
///
/// ```
/// use loglayer::{transport::CaptureTransport, Level, LogLayer, RawEntry};
/// use serde_json::json;
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::new(capture.clone());
/// log.raw(RawEntry::new(Level::Warn, "custom")
///     .metadata(json!({"a": 1}))
///     .context(json!({"tenant": "x"})));
/// let e = &capture.entries()[0];
/// assert_eq!((e["level"].as_str(), e["a"].as_i64(), e["tenant"].as_str()), (Some("warn"), Some(1), Some("x")));
/// ```
#[derive(Debug)]
pub struct RawEntry<'a> {
    level: Level,
    message: String,
    metadata: Option<Map<String, Value>>,
    context: Option<Map<String, Value>>,
    error: Option<&'a (dyn Error + 'a)>,
}

impl<'a> RawEntry<'a> {
    /// An entry with a level and message.
    pub fn new(level: Level, message: impl fmt::Display) -> Self {
        RawEntry {
            level,
            message: json::display_to_string(&message),
            metadata: None,
            context: None,
            error: None,
        }
    }

    /// Sets the metadata (an object; anything else is kept under `value`).
    pub fn metadata(mut self, value: impl Serialize) -> Self {
        self.metadata = Some(to_object(&value));
        self
    }

    /// Replaces the logger's context for this entry only.
    pub fn context(mut self, value: impl Serialize) -> Self {
        self.context = Some(to_object(&value));
        self
    }

    /// Attaches an error.
    pub fn error<E: AsError + ?Sized>(mut self, err: &'a E) -> Self {
        self.error = Some(err.as_error());
        self
    }
}

/// Builds a [`LogLayer`]: transports, plugins, level and output options.
///
/// ```
/// use loglayer::{transport::{CaptureTransport, JsonTransport}, Level, LogLayer};
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::builder()
///     .transport(JsonTransport::new(std::io::sink()))
///     .transport(capture.clone())
///     .level(Level::Warn)
///     .prefix("[billing]")
///     .metadata_field_name("meta")
///     .build();
/// log.info("hidden");
/// log.with_metadata(serde_json::json!({"a": 1})).warn("shown");
/// let e = &capture.entries()[0];
/// assert_eq!(e["msg"], "[billing] shown");
/// assert_eq!(e["meta"]["a"], 1);
/// ```
#[must_use = "call .build() to get the logger"]
pub struct LogLayerBuilder {
    transports: Vec<Arc<dyn Transport>>,
    plugins: Vec<Arc<dyn Plugin>>,
    level: Option<Level>,
    enabled: bool,
    prefix: Option<String>,
    shape: Shape,
    error_serializer: Option<Arc<ErrorSerializer>>,
    copy_msg_on_only_error: bool,
    muted: u8,
    directives: Option<Directives>,
}

impl fmt::Debug for LogLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogLayerBuilder")
            .field("transports", &self.transports.len())
            .field("plugins", &self.plugins.len())
            .field("level", &self.level)
            .field("enabled", &self.enabled)
            .field("prefix", &self.prefix)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

impl LogLayerBuilder {
    /// Adds a transport (repeatable: every transport receives every entry).
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transports.push(Arc::new(transport));
        self
    }

    /// Adds a plugin (repeatable; plugins run in the order added).
    pub fn plugin(mut self, plugin: impl Plugin) -> Self {
        self.plugins.push(Arc::new(plugin));
        self
    }

    /// Enables `level` and everything more severe (default: every level).
    pub fn level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    /// Levels per target (module path), e.g. parsed from
    /// `"info,my_crate::db=debug"`; see [`Directives`]. The macros record the
    /// module path of each call as its target; the `LogLayer` methods use the
    /// default level of the directives. `set_level` and friends still gate
    /// every entry on top of them.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, Directives, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .directives("warn,rust_out=debug".parse::<Directives>().unwrap())
    ///     .build();
    /// loglayer::sync_scope(log.clone(), || loglayer::debug!("doc-tests run in module rust_out"));
    /// log.info("no target: the default, warn, applies");
    /// assert_eq!(capture.len(), 1);
    /// ```
    pub fn directives(mut self, directives: Directives) -> Self {
        self.directives = Some(directives);
        self
    }

    /// Starts with logging on (default) or off.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Prefixes every message with `prefix` and a space.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Nests the context under this key instead of flattening it.
    pub fn context_field_name(mut self, name: impl Into<String>) -> Self {
        self.shape.context_field = Some(name.into());
        self
    }

    /// Nests metadata under this key instead of flattening it.
    pub fn metadata_field_name(mut self, name: impl Into<String>) -> Self {
        self.shape.metadata_field = Some(name.into());
        self
    }

    /// The key of the error (default `err`).
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder().transport(capture.clone()).error_field_name("error").build();
    /// log.with_error(&std::io::Error::other("x")).error("failed");
    /// assert_eq!(capture.entries()[0]["error"]["message"], "x");
    /// ```
    pub fn error_field_name(mut self, name: impl Into<String>) -> Self {
        self.shape.error_field = name.into();
        self
    }

    /// Replaces the default `{"message", "sources"}` error value.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .error_serializer(|e| serde_json::json!({"text": e.to_string(), "kind": "io"}))
    ///     .build();
    /// log.with_error(&std::io::Error::other("x")).error("failed");
    /// assert_eq!(capture.entries()[0]["err"]["kind"], "io");
    /// ```
    pub fn error_serializer<F>(mut self, f: F) -> Self
    where
        F: Fn(&(dyn Error + '_)) -> Value + Send + Sync + 'static,
    {
        self.error_serializer = Some(Arc::new(f));
        self
    }

    /// Makes [`LogLayer::error_only`] use the error's message as the entry's
    /// message (LogLayer's `copyMsgOnOnlyError`; default off).
    pub fn copy_msg_on_only_error(mut self, copy: bool) -> Self {
        self.copy_msg_on_only_error = copy;
        self
    }

    /// Starts with the context muted (see [`LogLayer::mute_context`]).
    pub fn mute_context(mut self, mute: bool) -> Self {
        self.set_mute(MUTE_CONTEXT, mute);
        self
    }

    /// Starts with metadata muted (see [`LogLayer::mute_metadata`]).
    pub fn mute_metadata(mut self, mute: bool) -> Self {
        self.set_mute(MUTE_METADATA, mute);
        self
    }

    fn set_mute(&mut self, bit: u8, on: bool) {
        if on {
            self.muted |= bit;
        } else {
            self.muted &= !bit;
        }
    }

    /// The logger.
    pub fn build(self) -> LogLayer {
        let mut levels = match (self.level, &self.directives) {
            (Some(level), _) => level.mask_from(),
            (None, Some(d)) => d.most_verbose().map_or(0, Level::mask_from),
            (None, None) => ALL_LEVELS,
        };
        note_levels(levels);
        if !self.enabled {
            levels |= DISABLED;
        }
        let plugins: Arc<[PluginSlot]> = self
            .plugins
            .into_iter()
            .map(|plugin| PluginSlot {
                plugin,
                enabled: true,
            })
            .collect();
        let config = Arc::new(Config {
            shape: self.shape,
            error_serializer: self.error_serializer,
            copy_msg_on_only_error: self.copy_msg_on_only_error,
            directives: self.directives.map(Arc::new),
            prefix: self.prefix.map(Arc::from),
        });
        LogLayer {
            inner: Arc::new(Inner {
                config: config.clone(),
                levels: AtomicU8::new(levels),
                muted: AtomicU8::new(self.muted),
                state: ArcSwap::from_pointee(State {
                    config,
                    context: Arc::new(Context::default()),
                    transports: self.transports.into(),
                    plugins,
                }),
            }),
        }
    }
}

macro_rules! level_methods {
    ($($(#[$doc:meta])* $name:ident => $level:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self, message: impl fmt::Display) {
            self.log(Level::$level, message);
        }
    )*};
}

impl LogLayer {
    /// A logger with one transport, every level enabled.
    ///
    /// ```
    /// let log = loglayer::LogLayer::new(loglayer::transport::JsonTransport::stdout());
    /// log.info("hello");
    /// ```
    pub fn new(transport: impl Transport) -> Self {
        Self::builder().transport(transport).build()
    }

    /// A builder for transports, plugins, level and output options.
    pub fn builder() -> LogLayerBuilder {
        LogLayerBuilder {
            transports: Vec::new(),
            plugins: Vec::new(),
            level: None,
            enabled: true,
            prefix: None,
            shape: Shape::default(),
            error_serializer: None,
            copy_msg_on_only_error: false,
            muted: 0,
            directives: None,
        }
    }

    level_methods! {
        /// Logs `message` at trace level.
        trace => Trace;
        /// Logs `message` at debug level.
        debug => Debug;
        /// Logs `message` at info level.
        ///
        /// ```
        /// # let capture = loglayer::transport::CaptureTransport::new();
        /// # let log = loglayer::LogLayer::new(capture.clone());
        /// log.info(format_args!("{} items", 3));
        /// # assert_eq!(capture.messages(), ["3 items"]);
        /// ```
        info => Info;
        /// Logs `message` at warn level.
        warn => Warn;
        /// Logs `message` at error level.
        error => Error;
        /// Logs `message` at fatal level (it does not exit the process).
        fatal => Fatal;
    }

    /// Logs `message` at `level`.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.log(loglayer::Level::Warn, "careful");
    /// # assert_eq!(capture.entries()[0]["level"], "warn");
    /// ```
    pub fn log(&self, level: Level, message: impl fmt::Display) {
        if self.inner.is_enabled(level) {
            self.inner.emit(Record {
                level,
                msg: Msg::Display(&message),
                meta: Meta::None,
                error: None,
                target: None,
                context: None,
            });
        }
    }

    /// Starts an entry with metadata (an object: its keys become fields of
    /// this entry only). Chain more `with_metadata`/`with_error`, then a level.
    ///
    /// A value that is not an object is kept under the key `value`.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// #[derive(serde::Serialize)]
    /// struct Order { id: u64 }
    /// log.with_metadata(Order { id: 42 }).with_metadata(serde_json::json!({"retry": true})).info("shipping");
    /// let e = &capture.entries()[0];
    /// assert_eq!((e["id"].as_u64(), e["retry"].as_bool()), (Some(42), Some(true)));
    /// ```
    pub fn with_metadata(&self, value: impl Serialize) -> LogBuilder<'_> {
        LogBuilder::new(self).with_metadata(value)
    }

    /// Starts an entry with an error attached (its message and source chain).
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// let err = std::io::Error::other("disk full");
    /// log.with_error(&err).error("save failed");
    /// assert_eq!(capture.entries()[0]["err"]["message"], "disk full");
    /// ```
    pub fn with_error<E: AsError + ?Sized>(&self, err: &E) -> LogBuilder<'_> {
        LogBuilder::new(self).with_error(err)
    }

    /// Logs only an error, at error level (LogLayer's `errorOnly`). The message
    /// is empty unless `copy_msg_on_only_error` is set.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.error_only(&std::io::Error::other("boom"));
    /// let e = &capture.entries()[0];
    /// assert_eq!((e["level"].as_str(), e["msg"].as_str()), (Some("error"), Some("")));
    /// ```
    pub fn error_only<E: AsError + ?Sized>(&self, err: &E) {
        self.error_only_with(err, OnlyOptions::default());
    }

    /// [`error_only`](LogLayer::error_only) with another level or message rule.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// use loglayer::{Level, OnlyOptions};
    /// log.error_only_with(&std::io::Error::other("boom"),
    ///     OnlyOptions { level: Some(Level::Warn), copy_msg: Some(true) });
    /// let e = &capture.entries()[0];
    /// assert_eq!((e["level"].as_str(), e["msg"].as_str()), (Some("warn"), Some("boom")));
    /// ```
    pub fn error_only_with<E: AsError + ?Sized>(&self, err: &E, options: OnlyOptions) {
        let level = options.level.unwrap_or(Level::Error);
        if !self.inner.is_enabled(level) {
            return;
        }
        let info = self.capture_error(err.as_error());
        let copy = options
            .copy_msg
            .unwrap_or(self.inner.config.copy_msg_on_only_error);
        let message: &str = if copy { &info.message } else { "" };
        self.inner.emit(Record {
            level,
            msg: Msg::Display(&message),
            meta: Meta::None,
            error: Some(&info),
            target: None,
            context: None,
        });
    }

    /// Logs only metadata, at info level with an empty message (LogLayer's
    /// `metadataOnly`).
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.metadata_only(serde_json::json!({"queue_depth": 17}));
    /// assert_eq!(capture.entries()[0]["queue_depth"], 17);
    /// ```
    pub fn metadata_only(&self, value: impl Serialize) {
        self.metadata_only_with(value, OnlyOptions::default());
    }

    /// [`metadata_only`](LogLayer::metadata_only) at another level.
    pub fn metadata_only_with(&self, value: impl Serialize, options: OnlyOptions) {
        let level = options.level.unwrap_or(Level::Info);
        if self.inner.is_enabled(level) {
            self.with_metadata(value).log(level, "");
        }
    }

    /// Sends a fully specified entry through the whole pipeline (plugins,
    /// transports), bypassing nothing but the builder.
    pub fn raw(&self, entry: RawEntry<'_>) {
        if !self.inner.is_enabled(entry.level) {
            return;
        }
        let info = entry.error.map(|e| self.capture_error(e));
        let meta = entry
            .metadata
            .map(|m| FieldList::from_map(&m))
            .unwrap_or_default();
        let context = entry.context.map(|c| Context::new(FieldList::from_map(&c)));
        self.inner.emit(Record {
            level: entry.level,
            msg: Msg::Display(&entry.message),
            meta: Meta::List(&meta),
            error: info.as_ref(),
            target: None,
            context: context.as_ref(),
        });
    }

    pub(crate) fn capture_error(&self, err: &(dyn Error + '_)) -> ErrorInfo {
        self.inner.capture_error(err)
    }

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
        let (map, lazies) = crate::lazy::to_object_deferring(&value);
        self.add_context_map(map, lazies);
        self
    }

    pub(crate) fn add_context_map(&self, map: Map<String, Value>, lazies: Vec<(String, Lazy)>) {
        let state = self.inner.state.load();
        let mut map = map;
        for slot in state.plugins.iter().filter(|p| p.enabled) {
            let p = &*slot.plugin;
            let input = std::mem::take(&mut map);
            match catch(p, "on_context_called", || p.on_context_called(input)) {
                Some(Some(m)) => map = m,
                _ => return,
            }
        }
        self.store_context(&FieldList::from_map(&map), lazies);
    }

    /// Adds already-rendered fields (from the macros) to the context.
    pub(crate) fn add_context_list(&self, list: &FieldList) {
        if self.inner.state.load().has_plugins() {
            self.add_context_map(list.to_map(), Vec::new());
        } else {
            self.store_context(list, Vec::new());
        }
    }

    /// Merges fields and lazy values into the context (plugins already ran).
    /// Later keys win, whether plain or lazy.
    fn store_context(&self, list: &FieldList, lazies: Vec<(String, Lazy)>) {
        self.update(|s| {
            let mut fields = s.context.fields.clone();
            fields.extend(list);
            let mut all_lazies: Vec<(String, Lazy)> = s
                .context
                .lazies
                .iter()
                .filter(|(k, _)| !list.contains(k) && !lazies.iter().any(|(n, _)| n == k))
                .cloned()
                .collect();
            all_lazies.extend(lazies.iter().cloned());
            s.context = Arc::new(Context::with_lazies(fields, all_lazies));
        });
    }

    fn update(&self, f: impl Fn(&mut State)) {
        self.inner.state.rcu(|current| {
            let mut next = State::clone(current);
            f(&mut next);
            next
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
            context.fields.to_map()
        } else {
            context.evaluate().fields.to_map()
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
        self.update(|s| s.context = Arc::new(Context::default()));
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
        self.update(|s| {
            let dropped = |k: &str| keys.iter().any(|d| d.as_ref() == k);
            let mut fields = FieldList::new();
            for (k, v) in s.context.fields.iter() {
                if !dropped(k) {
                    fields.push_raw(k, v);
                }
            }
            let lazies = s
                .context
                .lazies
                .iter()
                .filter(|(k, _)| !dropped(k))
                .cloned()
                .collect();
            s.context = Arc::new(Context::with_lazies(fields, lazies));
        });
        self
    }

    /// A new logger with a snapshot of this one's context, level, mutes,
    /// transports and plugins; from then on the two evolve independently.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.with_context(serde_json::json!({"app": "shop"}));
    /// let child = log.child();
    /// child.with_context(serde_json::json!({"request_id": "r1"}));
    /// assert!(log.get_context().get("request_id").is_none());
    /// assert_eq!(child.get_context()["app"], "shop");
    /// ```
    pub fn child(&self) -> LogLayer {
        self.inner.freeze().into_child()
    }

    /// A child logger whose messages start with `prefix` and a space.
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.with_prefix("[db]").info("connected");
    /// assert_eq!(capture.messages(), ["[db] connected"]);
    /// ```
    pub fn with_prefix(&self, prefix: impl Into<String>) -> LogLayer {
        let mut frozen = self.inner.freeze();
        let config = Arc::new(Config {
            prefix: Some(Arc::from(prefix.into())),
            ..Config::clone(&frozen.state.config)
        });
        frozen.state = Arc::new(State {
            config,
            ..State::clone(&frozen.state)
        });
        frozen.into_child()
    }

    fn update_levels(&self, f: impl Fn(u8) -> u8) {
        if let Ok(old) = self
            .inner
            .levels
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| Some(f(v)))
        {
            note_levels(f(old));
        }
    }

    /// Enables `level` and everything more severe; disables the rest.
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    /// use loglayer::Level;
    /// log.set_level(Level::Warn);
    /// assert!(!log.is_level_enabled(Level::Info));
    /// assert!(log.is_level_enabled(Level::Error));
    /// ```
    pub fn set_level(&self, level: Level) -> &Self {
        self.update_levels(|v| (v & DISABLED) | level.mask_from());
        self
    }

    /// Enables one level.
    pub fn enable_level(&self, level: Level) -> &Self {
        self.update_levels(|v| v | level.bit());
        self
    }

    /// Disables one level.
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    /// use loglayer::Level;
    /// log.disable_level(Level::Debug);
    /// assert!(!log.is_level_enabled(Level::Debug));
    /// assert!(log.is_level_enabled(Level::Trace));
    /// log.enable_level(Level::Debug);
    /// assert!(log.is_level_enabled(Level::Debug));
    /// ```
    pub fn disable_level(&self, level: Level) -> &Self {
        self.update_levels(|v| v & !level.bit());
        self
    }

    /// Whether an entry at `level` would be sent (logging on and the level
    /// enabled).
    pub fn is_level_enabled(&self, level: Level) -> bool {
        self.inner.is_enabled(level)
    }

    /// Turns logging back on. Like LogLayer, this does **not** undo an earlier
    /// [`set_level`](LogLayer::set_level): levels disabled then stay disabled.
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    /// use loglayer::Level;
    /// log.set_level(Level::Error);
    /// log.disable_logging();
    /// assert!(!log.is_level_enabled(Level::Fatal));
    /// log.enable_logging();
    /// assert!(log.is_level_enabled(Level::Fatal));
    /// assert!(!log.is_level_enabled(Level::Info)); // still off from set_level
    /// ```
    pub fn enable_logging(&self) -> &Self {
        self.update_levels(|v| v & !DISABLED);
        self
    }

    /// Turns all logging off, whatever the levels.
    pub fn disable_logging(&self) -> &Self {
        self.update_levels(|v| v | DISABLED);
        self
    }

    fn set_muted(&self, bit: u8, on: bool) -> &Self {
        if on {
            self.inner.muted.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.inner.muted.fetch_and(!bit, Ordering::Relaxed);
        }
        self
    }

    /// Leaves the context out of entries until [`unmute_context`](LogLayer::unmute_context).
    ///
    /// ```
    /// # let capture = loglayer::transport::CaptureTransport::new();
    /// # let log = loglayer::LogLayer::new(capture.clone());
    /// log.with_context(serde_json::json!({"a": 1}));
    /// log.mute_context().info("x");
    /// log.unmute_context().info("y");
    /// let e = capture.entries();
    /// assert!(e[0].get("a").is_none());
    /// assert_eq!(e[1]["a"], 1);
    /// ```
    pub fn mute_context(&self) -> &Self {
        self.set_muted(MUTE_CONTEXT, true)
    }

    /// Puts the context back into entries.
    pub fn unmute_context(&self) -> &Self {
        self.set_muted(MUTE_CONTEXT, false)
    }

    /// Leaves metadata out of entries until [`unmute_metadata`](LogLayer::unmute_metadata).
    pub fn mute_metadata(&self) -> &Self {
        self.set_muted(MUTE_METADATA, true)
    }

    /// Puts metadata back into entries.
    pub fn unmute_metadata(&self) -> &Self {
        self.set_muted(MUTE_METADATA, false)
    }

    /// Adds a transport to this logger (not to its parent or existing children).
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer};
    /// let a = CaptureTransport::with_id("a");
    /// let b = CaptureTransport::with_id("b");
    /// let log = LogLayer::new(a.clone());
    /// log.add_transport(b.clone()).info("both");
    /// assert_eq!((a.len(), b.len()), (1, 1));
    /// assert!(log.remove_transport("a"));
    /// log.info("only b");
    /// assert_eq!((a.len(), b.len()), (1, 2));
    /// ```
    pub fn add_transport(&self, transport: impl Transport) -> &Self {
        let t: Arc<dyn Transport> = Arc::new(transport);
        self.update(|s| {
            let mut v = s.transports.to_vec();
            v.push(t.clone());
            s.transports = v.into();
        });
        self
    }

    /// Removes the transports with this id from this logger; returns whether
    /// any was removed. A transport is closed only when no logger holds it,
    /// so removing it from a child never closes it for the parent.
    pub fn remove_transport(&self, id: &str) -> bool {
        let mut removed = false;
        self.inner.state.rcu(|current| {
            let mut next = State::clone(current);
            let v: Vec<_> = current
                .transports
                .iter()
                .filter(|t| t.id() != id)
                .cloned()
                .collect();
            removed = v.len() != current.transports.len();
            next.transports = v.into();
            next
        });
        removed
    }

    /// Replaces all of this logger's transports.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer};
    /// let old = CaptureTransport::new();
    /// let new = CaptureTransport::new();
    /// let log = LogLayer::new(old.clone());
    /// log.with_fresh_transports([new.clone()]).info("x");
    /// assert_eq!((old.len(), new.len()), (0, 1));
    /// ```
    pub fn with_fresh_transports<T: Transport>(
        &self,
        transports: impl IntoIterator<Item = T>,
    ) -> &Self {
        let v: Vec<Arc<dyn Transport>> = transports
            .into_iter()
            .map(|t| Arc::new(t) as Arc<dyn Transport>)
            .collect();
        self.update(|s| s.transports = v.clone().into());
        self
    }

    /// Adds a plugin to this logger (after the existing ones).
    pub fn add_plugin(&self, plugin: impl Plugin) -> &Self {
        let p: Arc<dyn Plugin> = Arc::new(plugin);
        self.update(|s| {
            let mut v = s.plugins.to_vec();
            v.push(PluginSlot {
                plugin: p.clone(),
                enabled: true,
            });
            s.plugins = v.into();
        });
        self
    }

    /// Removes the plugins with this id; returns whether any was removed.
    pub fn remove_plugin(&self, id: &str) -> bool {
        let mut removed = false;
        self.inner.state.rcu(|current| {
            let mut next = State::clone(current);
            let v: Vec<_> = current
                .plugins
                .iter()
                .filter(|p| p.plugin.id() != id)
                .cloned()
                .collect();
            removed = v.len() != current.plugins.len();
            next.plugins = v.into();
            next
        });
        removed
    }

    fn set_plugin_enabled(&self, id: &str, enabled: bool) -> bool {
        let mut found = false;
        self.inner.state.rcu(|current| {
            let mut next = State::clone(current);
            let mut v = current.plugins.to_vec();
            found = false;
            for slot in v.iter_mut().filter(|p| p.plugin.id() == id) {
                slot.enabled = enabled;
                found = true;
            }
            next.plugins = v.into();
            next
        });
        found
    }

    /// Re-enables a disabled plugin; returns whether one has this id.
    pub fn enable_plugin(&self, id: &str) -> bool {
        self.set_plugin_enabled(id, true)
    }

    /// Disables a plugin without removing it; returns whether one has this id.
    ///
    /// ```
    /// # use loglayer::{plugin::Plugin, transport::CaptureTransport, LogLayer};
    /// struct Upper;
    /// impl Plugin for Upper {
    ///     fn id(&self) -> &str { "upper" }
    ///     fn on_before_message_out(&self, _: loglayer::Level, m: &mut String) { *m = m.to_uppercase(); }
    /// }
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder().transport(capture.clone()).plugin(Upper).build();
    /// log.info("a");
    /// assert!(log.disable_plugin("upper"));
    /// log.info("b");
    /// assert!(log.enable_plugin("upper"));
    /// log.info("c");
    /// assert_eq!(capture.messages(), ["A", "b", "C"]);
    /// ```
    pub fn disable_plugin(&self, id: &str) -> bool {
        self.set_plugin_enabled(id, false)
    }

    /// Replaces all of this logger's plugins.
    pub fn with_fresh_plugins<P: Plugin>(&self, plugins: impl IntoIterator<Item = P>) -> &Self {
        let v: Vec<PluginSlot> = plugins
            .into_iter()
            .map(|p| PluginSlot {
                plugin: Arc::new(p),
                enabled: true,
            })
            .collect();
        self.update(|s| s.plugins = v.clone().into());
        self
    }

    /// Flushes every transport: when it returns, each has handed what it
    /// accepted to the OS. Failures are counted in [`crate::failures()`].
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::JsonTransport::stdout());
    /// log.info("bye");
    /// log.flush();
    /// ```
    pub fn flush(&self) {
        let state = self.inner.state.load_full();
        for t in state.transports.iter() {
            match catch_unwind(AssertUnwindSafe(|| t.flush())) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => fault::transport_failed(t.id(), &e),
                Err(_) => fault::transport_failed(t.id(), &"flush panicked"),
            }
        }
    }

    /// Whether two handles are the same logger.
    ///
    /// ```
    /// # let log = loglayer::LogLayer::new(loglayer::transport::CaptureTransport::new());
    /// assert!(log.ptr_eq(&log.clone()));
    /// assert!(!log.ptr_eq(&log.child()));
    /// ```
    pub fn ptr_eq(&self, other: &LogLayer) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// One entry being built: metadata and an error, then a level method sends it.
///
/// ```
/// # let capture = loglayer::transport::CaptureTransport::new();
/// # let log = loglayer::LogLayer::new(capture.clone());
/// log.with_metadata(serde_json::json!({"a": 1}))
///     .with_error(&std::io::Error::other("x"))
///     .with_metadata(serde_json::json!({"b": 2}))
///     .warn("two keys and an error");
/// let e = &capture.entries()[0];
/// assert_eq!((e["a"].as_i64(), e["b"].as_i64()), (Some(1), Some(2)));
/// assert_eq!(e["err"]["message"], "x");
/// ```
#[must_use = "an entry is sent only by a level method such as .info(...)"]
pub struct LogBuilder<'a> {
    logger: &'a LogLayer,
    metadata: FieldList,
    lazies: Vec<(String, Lazy)>,
    error: Option<ErrorInfo>,
}

impl fmt::Debug for LogBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogBuilder")
            .field("metadata", &self.metadata)
            .field("lazies", &self.lazies.len())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

macro_rules! builder_level_methods {
    ($($name:ident => $level:ident,)*) => {$(
        #[doc = concat!("Sends the entry at ", stringify!($name), " level.")]
        pub fn $name(self, message: impl fmt::Display) {
            self.log(Level::$level, message);
        }
    )*};
}

impl<'a> LogBuilder<'a> {
    fn new(logger: &'a LogLayer) -> Self {
        LogBuilder {
            logger,
            metadata: FieldList::new(),
            lazies: Vec::new(),
            error: None,
        }
    }

    /// Adds metadata; keys already set are replaced.
    pub fn with_metadata(mut self, value: impl Serialize) -> Self {
        let (map, lazies) = crate::lazy::to_object_deferring(&value);
        if !self.lazies.is_empty() {
            self.lazies.retain(|(l, _)| !map.contains_key(l));
        }
        self.metadata.extend(&FieldList::from_map(&map));
        for (k, l) in lazies {
            self.lazies.retain(|(n, _)| *n != k);
            self.lazies.push((k, l));
        }
        self
    }

    /// Attaches an error (replacing an earlier one).
    pub fn with_error<E: AsError + ?Sized>(mut self, err: &E) -> Self {
        self.error = Some(self.logger.capture_error(err.as_error()));
        self
    }

    builder_level_methods! {
        trace => Trace,
        debug => Debug,
        info => Info,
        warn => Warn,
        error => Error,
        fatal => Fatal,
    }

    /// Sends the entry at `level`.
    pub fn log(mut self, level: Level, message: impl fmt::Display) {
        if self.logger.inner.is_enabled(level) {
            // Lazy values run only now that the entry is known to be sent.
            for (k, l) in &self.lazies {
                self.metadata.push_with(k, |buf| l.write_json(buf));
            }
            self.logger.inner.emit(Record {
                level,
                msg: Msg::Display(&message),
                meta: Meta::List(&self.metadata),
                error: self.error.as_ref(),
                target: None,
                context: None,
            });
        }
    }
}
