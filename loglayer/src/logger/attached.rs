//! Where a logger's entries go: its transports and plugins, added, removed,
//! enabled and flushed by id. Each change swaps the logger's state (see
//! `state.rs`), so a log call running meanwhile sees the old set or the new
//! one, never half of a change.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::state::{PluginSlot, State};
use super::LogLayer;
use crate::fault;
use crate::plugin::Plugin;
use crate::transport::Transport;

impl LogLayer {
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
        self.inner.update(|s| {
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
        self.inner.update(|s| s.transports = v.clone().into());
        self
    }

    /// Adds a plugin to this logger (after the existing ones).
    pub fn add_plugin(&self, plugin: impl Plugin) -> &Self {
        let p: Arc<dyn Plugin> = Arc::new(plugin);
        self.inner.update(|s| {
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
        let state = self.inner.state.load_full();
        for t in state.transports.iter() {
            match catch_unwind(AssertUnwindSafe(|| t.flush())) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => fault::transport_failed(t.id(), &e),
                Err(_) => fault::transport_failed(t.id(), &"flush panicked"),
            }
        }
    }
}
