//! What happens to an entry: from a call that passed the level check to the
//! transports' `write`.
//!
//! 1. [`Inner::emit`] guards against re-entry (a transport or `Display` impl
//!    that logs while logging: [`MAX_DEPTH`](crate::reentry::MAX_DEPTH)), borrows this thread's scratch
//!    buffers and catches any panic, so a log call never panics its caller;
//! 2. `emit_in` assembles the [`Entry`]: time, prefix + message, metadata
//!    (unless muted), the context (unless muted; lazy values computed now);
//! 3. a logger with a fingers-crossed buffer (`logger/buffer.rs`) decides
//!    in `fingers_crossed` whether the entry waits in the buffer, or
//!    triggers it (the buffered entries are written first, marked);
//! 4. without plugins it goes straight to [`send`]; with plugins,
//!    `emit_with_plugins` runs their hooks in LogLayer's order
//!    (`on_metadata_called`, `on_before_data_out`, `on_before_message_out`,
//!    `transform_log_level`, `should_log`, then `should_send_to_logger` per
//!    transport), each under [`catch`];
//! 5. each transport that [`accepts`] the level — and, for a logger that
//!    tags with groups or routes untagged entries, that the entry's groups
//!    route to (`logger/groups.rs`, [`send_routed`]) — gets it
//!    through [`write_one`], which counts a failure or panic instead of
//!    spreading it.
//!
//! In steady state, without plugins or lazy values, an entry allocates
//! nothing: the message and metadata are written into reused per-thread
//! buffers and the context's JSON is rendered once, by its first entry.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::SystemTime;

use crate::context::Context;
use crate::entry::Entry;
use crate::error::ErrorInfo;
use crate::fault;
use crate::json;
use crate::logger::{
    AttachedPlugin, Buffer, Buffered, Inner, Released, State, Stored, MUTE_CONTEXT, MUTE_METADATA,
};
use crate::plugin::{LogData, Plugin};
use crate::reentry::EntryGuard;
use crate::transport::Transport;
use crate::value::Fields;
use crate::Level;

static EMPTY_CONTEXT: LazyLock<Context> = LazyLock::new(Context::default);

/// The metadata key that marks an entry written from a fingers-crossed buffer.
const BUFFERED_KEY: &str = "buffered";
/// The metadata key, on the first entry written from a buffer that
/// overflowed, counting the older entries it dropped.
const BUFFER_DROPPED_KEY: &str = "buffer_dropped";

/// A value written as a field. Implemented by the wrappers the macros build;
/// not public API.
#[doc(hidden)]
pub trait FieldValue {
    /// Appends exactly one encoded value (see [`crate::value`]).
    fn encode(&self, out: &mut Vec<u8>);
}

/// The message of a call.
#[derive(Clone, Copy)]
pub(crate) enum Msg<'a> {
    Args(fmt::Arguments<'a>),
    Display(&'a dyn fmt::Display),
    /// No message (`error_only`, `metadata_only`): no prefix is written,
    /// and an entry that ends up with no metadata and no error is not sent.
    None,
}

/// The metadata of a call.
#[derive(Clone, Copy)]
pub(crate) enum Meta<'a> {
    None,
    Pairs(&'a [(&'a str, &'a dyn FieldValue)]),
    List(&'a Fields),
}

/// One call, before assembly.
pub(crate) struct Record<'a> {
    pub(crate) level: Level,
    pub(crate) msg: Msg<'a>,
    pub(crate) meta: Meta<'a>,
    pub(crate) error: Option<&'a ErrorInfo>,
    pub(crate) target: Option<&'a str>,
    pub(crate) context: Option<&'a Context>,
    /// Fields written at the root of the line (`RawEntry::root`).
    pub(crate) root: Option<&'a Fields>,
}

/// Per-thread reusable buffers, so an entry allocates nothing in steady state.
#[derive(Default)]
struct Scratch {
    msg: String,
    meta: Fields,
}

thread_local! {
    static SCRATCH: RefCell<Option<Box<Scratch>>> = const { RefCell::new(None) };
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

/// Runs one hook of every plugin, in order; `false` if one panicked: the
/// entry is then dropped (and counted), never sent half-processed.
fn each_plugin(plugins: &[&AttachedPlugin], hook: &str, mut run: impl FnMut(&dyn Plugin)) -> bool {
    for attached in plugins {
        let p = &*attached.plugin;
        if catch(p, hook, || run(p)).is_none() {
            fault::entry_dropped(&format!("a plugin panicked in {hook}"));
            return false;
        }
    }
    true
}

pub(crate) fn catch<R>(plugin: &dyn Plugin, hook: &str, f: impl FnOnce() -> R) -> Option<R> {
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
    /// Sends one call through the pipeline. Never panics.
    pub(crate) fn emit(&self, record: Record<'_>) {
        let Some(_depth) = EntryGuard::enter() else {
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
        if let (Some(prefix), false) = (&self.config.prefix, matches!(record.msg, Msg::None)) {
            msg.push_str(prefix);
            msg.push(' ');
        }
        match record.msg {
            Msg::Args(args) => json::append_message(msg, args),
            Msg::Display(d) => json::append_message(msg, format_args!("{d}")),
            Msg::None => {}
        }

        let muted = self.muted.load(Ordering::Relaxed);
        meta.clear();
        if muted & MUTE_METADATA == 0 {
            match record.meta {
                Meta::None => {}
                Meta::Pairs(pairs) => {
                    for (k, v) in pairs {
                        meta.push_with(k, |buf| v.encode(buf));
                    }
                }
                Meta::List(list) => meta.extend(list),
            }
        }
        if nothing_to_send(&record, meta) {
            return;
        }
        // Plugins see the context even while its output is muted (as in
        // LogLayer); the plugin path leaves it out of the entry.
        let context: &Context = if muted & MUTE_CONTEXT != 0 && !state.has_plugins() {
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

        if let Some(buffer) = &self.config.buffer {
            if self.fingers_crossed(buffer, &state, time, msg, meta, context, &record) {
                return;
            }
        }
        self.dispatch(&state, time, msg, meta, context, &record);
    }

    /// An assembled entry to the plugins, if any, and the transports.
    /// Always inlined: a heuristic that stopped inlining it once `send`
    /// learned about groups cost 20 instructions per entry (callgrind).
    #[inline(always)]
    fn dispatch(
        &self,
        state: &State,
        time: SystemTime,
        msg: &mut String,
        meta: &mut Fields,
        context: &Context,
        record: &Record<'_>,
    ) {
        if state.has_plugins() {
            self.emit_with_plugins(state, time, msg, meta, context, record);
            return;
        }
        let entry = Entry {
            level: record.level,
            time,
            message: msg,
            target: record.target,
            context,
            logger_context: &state.context,
            metadata: meta,
            root: record.root,
            error: record.error,
            shape: &state.config.shape,
            groups: state.config.groups.names(),
        };
        send(state, &entry);
    }

    /// For a logger with a fingers-crossed buffer (`logger/buffer.rs`):
    /// keeps an entry the levels drop, or triggers the buffer and writes what
    /// it held before this entry. Returns whether the entry was taken
    /// (buffered or dropped) rather than to be written now.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn fingers_crossed(
        &self,
        buffer: &Buffer,
        state: &State,
        time: SystemTime,
        msg: &str,
        meta: &Fields,
        context: &Context,
        record: &Record<'_>,
    ) -> bool {
        let level = record.level;
        let written = self.levels_pass(level, record.target);
        // What an open (triggered) buffer drops: below both the levels and
        // the buffer's level.
        let dropped_when_open = !written && level < buffer.options.level;
        if buffer.is_open() {
            return dropped_when_open;
        }
        if level >= buffer.options.trigger {
            if let Some(released) = buffer.release() {
                self.write_released(state, released);
            }
            return dropped_when_open;
        }
        if written {
            return false;
        }
        if level < buffer.options.level {
            return true;
        }
        let entry = Buffered {
            level,
            time,
            message: msg.to_owned(),
            target: record.target.map(Box::from),
            context: owned_context(state, context),
            metadata: meta.clone(),
            error: record.error.cloned(),
            config: state.config.clone(),
        };
        match buffer.store(entry) {
            Stored::Held => true,
            // Triggered meanwhile by another thread: write it now.
            Stored::Open => false,
        }
    }

    /// Writes what a triggered buffer held, oldest first, each marked
    /// `"buffered": true` (the first also with `buffer_dropped` when the
    /// buffer overflowed). Returns how many were written.
    fn write_released(&self, state: &State, released: Released) -> usize {
        let count = released.entries.len();
        for (i, mut b) in released.entries.into_iter().enumerate() {
            b.metadata.push_value(BUFFERED_KEY, &true);
            if i == 0 && released.dropped > 0 {
                b.metadata.push_value(BUFFER_DROPPED_KEY, &released.dropped);
            }
            // Routed and shaped as the logger that buffered it (its groups),
            // through this logger's transports and plugins.
            let buffered_by = State {
                config: b.config.clone(),
                ..State::clone(state)
            };
            let record = Record {
                level: b.level,
                msg: Msg::Display(&""),
                meta: Meta::None,
                error: b.error.as_ref(),
                target: b.target.as_deref(),
                context: None,
                root: None,
            };
            self.dispatch(
                &buffered_by,
                b.time,
                &mut b.message,
                &mut b.metadata,
                &b.context,
                &record,
            );
        }
        count
    }

    /// Triggers this logger's buffer without an entry
    /// ([`LogLayer::release_buffered`](crate::LogLayer::release_buffered)).
    /// Never panics.
    pub(crate) fn release_buffered(&self) -> usize {
        let Some(released) = self.config.buffer.as_ref().and_then(|b| b.release()) else {
            return 0;
        };
        if released.entries.is_empty() {
            return 0;
        }
        let Some(_depth) = EntryGuard::enter() else {
            fault::entry_dropped("logging re-entered itself too deeply (a transport or value that logs while logging?)");
            return 0;
        };
        let state = self.state.load();
        catch_unwind(AssertUnwindSafe(|| self.write_released(&state, released))).unwrap_or_else(
            |_| {
                fault::entry_dropped("internal panic while writing buffered entries");
                0
            },
        )
    }

    /// The plugin hooks, in LogLayer's order. Plugins read and edit typed
    /// [`Fields`]; the logger's context is copied only if one changes it.
    #[cold]
    fn emit_with_plugins(
        &self,
        state: &State,
        time: SystemTime,
        msg: &mut String,
        meta: &mut Fields,
        context: &Context,
        record: &Record<'_>,
    ) {
        let plugins: Vec<&AttachedPlugin> = state.plugins.iter().filter(|p| p.enabled).collect();
        let (error, error_scalar) = match record.error.map(ErrorInfo::to_fields) {
            Some((fields, scalar)) => (Some(fields), scalar),
            None => (None, false),
        };
        let mut data = LogData {
            context: Cow::Borrowed(&context.fields),
            metadata: std::mem::take(meta),
            root: record.root.cloned(),
            error,
        };
        self.run_plugins(
            state,
            &plugins,
            time,
            msg,
            &mut data,
            context,
            record,
            error_scalar,
        );
        // Hand the metadata's buffers back to the thread's scratch.
        *meta = std::mem::take(&mut data.metadata);
    }

    #[allow(clippy::too_many_arguments)]
    fn run_plugins(
        &self,
        state: &State,
        plugins: &[&AttachedPlugin],
        time: SystemTime,
        msg: &mut String,
        data: &mut LogData<'_>,
        context: &Context,
        record: &Record<'_>,
        error_scalar: bool,
    ) {
        if !data.metadata.is_empty() {
            for attached in plugins {
                let p = &*attached.plugin;
                let md = std::mem::take(&mut data.metadata);
                match catch(p, "on_metadata_called", || p.on_metadata_called(md)) {
                    Some(Some(md)) => data.metadata = md,
                    Some(None) => break,
                    None => return fault::entry_dropped("a plugin panicked in on_metadata_called"),
                }
            }
            if data.error.is_none() && nothing_to_send(record, &data.metadata) {
                return; // `metadata_only` whose metadata a plugin dropped
            }
        }
        if !each_plugin(plugins, "on_before_data_out", |p| {
            p.on_before_data_out(record.level, data)
        }) || !each_plugin(plugins, "on_before_message_out", |p| {
            p.on_before_message_out(record.level, msg)
        }) {
            return;
        }
        let mut level = record.level;
        for attached in plugins {
            let p = &*attached.plugin;
            if let Some(Some(l)) = catch(p, "transform_log_level", || {
                p.transform_log_level(level, data, msg)
            }) {
                level = l;
            }
        }
        // A context no plugin changed keeps its rendered JSON; a muted one
        // stays out of the entry.
        let changed;
        let context = match &mut data.context {
            _ if self.muted.load(Ordering::Relaxed) & MUTE_CONTEXT != 0 => &*EMPTY_CONTEXT,
            Cow::Borrowed(_) => context,
            // The plugins are done with it: take it rather than copy it.
            Cow::Owned(fields) => {
                changed = Context::new(std::mem::take(fields));
                &changed
            }
        };
        let error = data
            .error
            .as_ref()
            .map(|f| ErrorInfo::from_fields(f, error_scalar));
        let entry = Entry {
            level,
            time,
            message: msg,
            target: record.target,
            context,
            logger_context: &state.context,
            metadata: &data.metadata,
            root: data.root.as_ref(),
            error: error.as_ref(),
            shape: &state.config.shape,
            groups: state.config.groups.names(),
        };
        for attached in plugins {
            let p = &*attached.plugin;
            if !catch(p, "should_log", || p.should_log(&entry)).unwrap_or(false) {
                return; // filtered or sampled out (a panic here also fails closed)
            }
        }
        // Groups first, then the transport's level, then the plugins
        // (LogLayer's order), so a plugin is not asked about a transport the
        // entry's groups do not route to.
        let route = state.config.routed.then(|| state.config.route(level));
        for t in state.transports.iter() {
            let id = t.id();
            if route.as_ref().is_some_and(|r| !r.admits(id)) || !accepts(&**t, level) {
                continue;
            }
            let send_it = plugins.iter().all(|attached| {
                let p = &*attached.plugin;
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

/// `context`'s `Arc` when it is the logger's own.
fn shared<'a>(state: &'a State, context: &Context) -> Option<&'a Arc<Context>> {
    std::ptr::eq(context, &*state.context).then_some(&state.context)
}

/// The context of an entry to buffer, owned: the logger's own (shared), or a
/// copy of one made for this entry (lazy values computed, `raw`'s, muted).
fn owned_context(state: &State, context: &Context) -> Arc<Context> {
    match shared(state, context) {
        Some(own) => Arc::clone(own),
        None => Arc::new(Context::new(context.fields.clone())),
    }
}

/// Whether a call without a message (`Msg::None`) has nothing left to send:
/// no metadata and no error. Such a call sends nothing (LogLayer's
/// `metadataOnly` with nothing to send).
fn nothing_to_send(record: &Record<'_>, meta: &Fields) -> bool {
    matches!(record.msg, Msg::None) && meta.is_empty() && record.error.is_none()
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

/// The entry to every transport that accepts its level and, when the
/// logger tags its entries with groups or routes untagged entries, that its
/// groups route to (`logger/groups.rs`).
fn send(state: &State, entry: &Entry<'_>) {
    if state.config.routed {
        return send_routed(state, entry);
    }
    for t in state.transports.iter() {
        if accepts(&**t, entry.level) {
            write_one(&**t, entry);
        }
    }
}

#[cold]
#[inline(never)]
fn send_routed(state: &State, entry: &Entry<'_>) {
    let route = state.config.route(entry.level);
    for t in state.transports.iter() {
        if route.admits(t.id()) && accepts(&**t, entry.level) {
            write_one(&**t, entry);
        }
    }
}
