//! Where a logger's entries go: its transports and plugins, added, removed,
//! enabled and flushed by id. Each change swaps the logger's state (see
//! `state.rs`), so a log call running meanwhile sees the old set or the new
//! one, never half of a change.
//!
//! Ids follow LogLayer's rules at run time: a transport added with an id the
//! logger already has **replaces** that transport; a plugin added with an id
//! the logger already has is **refused** ([`DuplicatePluginError`]). A
//! transport that leaves a logger (replaced or removed) is flushed on the way
//! out, and closed when its last logger drops it.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::state::{AttachedPlugin, State};
use super::LogLayer;
use crate::fault;
use crate::plugin::Plugin;
use crate::transport::Transport;

/// The error of [`LogLayer::add_plugin`] and [`LogLayer::add_plugins`]: a
/// plugin's id is already taken on this logger (or twice in one batch), so
/// nothing was added.
///
/// ```
/// use loglayer::{plugin::Redact, transport::CaptureTransport, LogLayer};
///
/// let log = LogLayer::new(CaptureTransport::new());
/// log.add_plugin(Redact::new().keys(["password"]).with_id("pii")).unwrap();
/// let err = log.add_plugin(Redact::new().keys(["token"]).with_id("pii")).unwrap_err();
/// assert_eq!(err.id(), "pii");
/// assert_eq!(err.to_string(), r#"a plugin with id "pii" is already added to this logger"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicatePluginError {
    id: String,
}

impl DuplicatePluginError {
    /// The id that was already taken.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for DuplicatePluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a plugin with id {:?} is already added to this logger",
            self.id
        )
    }
}

impl std::error::Error for DuplicatePluginError {}

impl LogLayer {
    /// Adds a transport to this logger (not to its parent or existing
    /// children). If the logger already has a transport with the same
    /// [`id`](Transport::id), the new one **replaces** it, as in LogLayer:
    /// the old one is flushed and dropped (and closed, once no other logger
    /// holds it).
    ///
    /// The built-in transports' default ids are their kind (`"json"`,
    /// `"console"`, `"capture"`), so give a second transport of the same
    /// kind its own id (`with_id`) to keep both.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer};
    /// let a = CaptureTransport::with_id("a");
    /// let b = CaptureTransport::with_id("b");
    /// let log = LogLayer::new(a.clone());
    /// log.add_transport(b.clone()).info("both");
    /// assert_eq!((a.len(), b.len()), (1, 1));
    ///
    /// let b2 = CaptureTransport::with_id("b");
    /// log.add_transport(b2.clone()).info("a and the new b");
    /// assert_eq!((a.len(), b.len(), b2.len()), (2, 1, 1));
    /// ```
    pub fn add_transport(&self, transport: impl Transport) -> &Self {
        self.put_transports(vec![Arc::new(transport)])
    }

    /// Adds several transports in one change (LogLayer's `addTransport`
    /// with an array): each replaces a transport with the same id, as
    /// [`add_transport`](LogLayer::add_transport) does, and the others are
    /// added. A log call sees all of them or none.
    ///
    /// To add transports of different types, pass `Arc<dyn Transport>`s.
    ///
    /// ```
    /// use loglayer::{transport::{CaptureTransport, JsonTransport, Transport}, LogLayer};
    /// use std::sync::Arc;
    ///
    /// let log = LogLayer::new(CaptureTransport::with_id("a"));
    /// let b = CaptureTransport::with_id("b");
    /// log.add_transports([CaptureTransport::with_id("a"), b.clone()]);
    /// let mixed: [Arc<dyn Transport>; 2] = [
    ///     Arc::new(JsonTransport::new(std::io::sink())),
    ///     Arc::new(CaptureTransport::with_id("c")),
    /// ];
    /// log.add_transports(mixed);
    /// log.info("x");
    /// assert_eq!(b.len(), 1);
    /// ```
    pub fn add_transports<T: Transport>(&self, transports: impl IntoIterator<Item = T>) -> &Self {
        let new = transports
            .into_iter()
            .map(|t| Arc::new(t) as Arc<dyn Transport>)
            .collect();
        self.put_transports(new)
    }

    /// Adds `new` in order; each first takes out the transports with its id.
    /// The ones taken out are flushed once the change is visible.
    fn put_transports(&self, new: Vec<Arc<dyn Transport>>) -> &Self {
        let mut replaced = Vec::new();
        self.inner.state.rcu(|current| {
            // `rcu` may run this again if another change won the race.
            replaced.clear();
            let mut v = current.transports.to_vec();
            for t in &new {
                let (gone, kept): (Vec<_>, Vec<_>) =
                    v.into_iter().partition(|old| old.id() == t.id());
                replaced.extend(gone);
                v = kept;
                v.push(t.clone());
            }
            State {
                transports: v.into(),
                ..State::clone(current)
            }
        });
        flush_each(&replaced);
        self
    }

    /// Removes the transports with this id from this logger; returns whether
    /// any was removed. A removed transport is flushed; it is closed only
    /// when no logger holds it, so removing it from a child never closes it
    /// for the parent.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, LogLayer};
    /// let log = LogLayer::new(CaptureTransport::with_id("a"));
    /// assert!(log.remove_transport("a"));
    /// assert!(!log.remove_transport("a"));
    /// ```
    pub fn remove_transport(&self, id: &str) -> bool {
        let mut removed = Vec::new();
        self.inner.state.rcu(|current| {
            let (gone, kept): (Vec<_>, Vec<_>) = current
                .transports
                .iter()
                .cloned()
                .partition(|t| t.id() == id);
            removed = gone;
            State {
                transports: kept.into(),
                ..State::clone(current)
            }
        });
        flush_each(&removed);
        !removed.is_empty()
    }

    /// Replaces all of this logger's transports; the old ones are flushed.
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
        let v: Arc<[Arc<dyn Transport>]> = transports
            .into_iter()
            .map(|t| Arc::new(t) as Arc<dyn Transport>)
            .collect();
        let old = self.inner.state.rcu(|current| State {
            transports: v.clone(),
            ..State::clone(current)
        });
        flush_each(&old.transports);
        self
    }

    /// Adds a plugin to this logger, after the existing ones. A plugin whose
    /// [`id`](Plugin::id) this logger already has is refused with an error
    /// and not added (LogLayer throws there), so two plugins never answer to
    /// one id through this method.
    ///
    /// A list given whole — [`LogLayer::builder`]'s `plugin` calls,
    /// [`with_fresh_plugins`](LogLayer::with_fresh_plugins) — is taken as
    /// given instead, so that two plugins of one type with their default id
    /// (two `Filter`s, both `"filter"`) can be composed there; the by-id
    /// methods then act on both. The check is for adding to a running
    /// logger, where registering the same plugin twice is the mistake.
    ///
    /// ```
    /// # use loglayer::{plugin::Filter, transport::CaptureTransport, Level, LogLayer};
    /// let log = LogLayer::new(CaptureTransport::new());
    /// log.add_plugin(Filter::min_level(Level::Info))?;
    /// assert!(log.add_plugin(Filter::min_level(Level::Warn)).is_err(), "the id \"filter\" is taken");
    /// log.add_plugin(Filter::min_level(Level::Warn).with_id("warn-filter"))?
    ///     .add_plugin(Filter::drop_message_containing("ping").with_id("ping-filter"))?;
    /// # Ok::<(), loglayer::DuplicatePluginError>(())
    /// ```
    pub fn add_plugin(&self, plugin: impl Plugin) -> Result<&Self, DuplicatePluginError> {
        self.put_plugins(vec![attach(Arc::new(plugin))])
    }

    /// Adds several plugins in one change, in order (LogLayer's
    /// `addPlugins`). If any id is already taken on this logger, or appears
    /// twice among them, none is added.
    ///
    /// ```
    /// # use loglayer::{plugin::Filter, transport::CaptureTransport, Level, LogLayer};
    /// let log = LogLayer::new(CaptureTransport::new());
    /// let err = log
    ///     .add_plugins([Filter::min_level(Level::Info), Filter::min_level(Level::Warn)])
    ///     .unwrap_err();
    /// assert_eq!(err.id(), "filter");
    /// assert!(!log.remove_plugin("filter"), "nothing was added");
    /// ```
    pub fn add_plugins<P: Plugin>(
        &self,
        plugins: impl IntoIterator<Item = P>,
    ) -> Result<&Self, DuplicatePluginError> {
        let new = plugins
            .into_iter()
            .map(|p| attach(Arc::new(p) as Arc<dyn Plugin>))
            .collect();
        self.put_plugins(new)
    }

    /// Appends `new`, unless one of their ids is taken: then changes nothing.
    fn put_plugins(&self, new: Vec<AttachedPlugin>) -> Result<&Self, DuplicatePluginError> {
        let mut taken = None;
        self.inner.state.rcu(|current| {
            taken = first_taken_id(&current.plugins, &new);
            if taken.is_some() {
                // Store the same state back: nothing changes.
                return Arc::clone(current);
            }
            let mut v = current.plugins.to_vec();
            v.extend(new.iter().cloned());
            Arc::new(State {
                plugins: v.into(),
                ..State::clone(current)
            })
        });
        match taken {
            Some(id) => Err(DuplicatePluginError { id }),
            None => Ok(self),
        }
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
            for attached in v.iter_mut().filter(|p| p.plugin.id() == id) {
                attached.enabled = enabled;
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

    /// Replaces all of this logger's plugins. Like the builder, it takes the
    /// list as given, whatever the ids (see [`add_plugin`](LogLayer::add_plugin)).
    pub fn with_fresh_plugins<P: Plugin>(&self, plugins: impl IntoIterator<Item = P>) -> &Self {
        let v: Vec<AttachedPlugin> = plugins.into_iter().map(|p| attach(Arc::new(p))).collect();
        self.inner.update(|s| s.plugins = v.clone().into());
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
        flush_each(&self.inner.state.load_full().transports);
    }
}

/// A plugin as a logger holds it, enabled.
fn attach(plugin: Arc<dyn Plugin>) -> AttachedPlugin {
    AttachedPlugin {
        plugin,
        enabled: true,
    }
}

/// The first id of `new` that `existing` or an earlier plugin of `new` has.
fn first_taken_id(existing: &[AttachedPlugin], new: &[AttachedPlugin]) -> Option<String> {
    new.iter().enumerate().find_map(|(i, p)| {
        let id = p.plugin.id();
        let taken = existing
            .iter()
            .chain(&new[..i])
            .any(|q| q.plugin.id() == id);
        taken.then(|| id.to_owned())
    })
}

/// Flushes each transport; a failure or a panic is counted, never raised.
fn flush_each(transports: &[Arc<dyn Transport>]) {
    for t in transports {
        match catch_unwind(AssertUnwindSafe(|| t.flush())) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => fault::transport_failed(t.id(), &e),
            Err(_) => fault::transport_failed(t.id(), &"flush panicked"),
        }
    }
}
