//! [`LogLayerBuilder`]: builds a **logger** — its transports, plugins, levels
//! and output shape, set once, then [`build`](LogLayerBuilder::build).
//!
//! Not to be confused with [`LogBuilder`](crate::LogBuilder) (`log_builder.rs`),
//! which builds **one entry** of an existing logger.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;
use std::sync::atomic::AtomicU8;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde_json::Value;

use super::buffer::{Buffer, FingersCrossed};
use super::groups::{Group, GroupTags, Routing, Table, Ungrouped, GROUPS_ENV};
use super::levels::{note_levels, TargetLevels, ALL_LEVELS, DISABLED, MUTE_CONTEXT, MUTE_METADATA};
use super::state::{AttachedPlugin, Config, Inner, State};
use super::LogLayer;
use crate::context::Context;
use crate::directives::TargetSet;
use crate::entry::Shape;
use crate::error::ErrorSerializer;
use crate::plugin::Plugin;
use crate::transport::Transport;
use crate::{Directives, Level, LevelControl};

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
    plugins: Vec<AttachedPlugin>,
    level: Option<Level>,
    enabled: bool,
    prefix: Option<String>,
    shape: Shape,
    error_serializer: Option<Arc<ErrorSerializer>>,
    copy_msg_on_only_error: bool,
    muted: u8,
    target_levels: Option<TargetLevels>,
    fingers_crossed: Option<FingersCrossed>,
    groups: BTreeMap<String, Group>,
    ungrouped: Ungrouped,
    active_groups: Option<Vec<String>>,
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
            .field("groups", &self.groups)
            .field("ungrouped", &self.ungrouped)
            .field("active_groups", &self.active_groups)
            .finish_non_exhaustive()
    }
}

impl LogLayerBuilder {
    /// The defaults: no transport, every level, logging on (see
    /// [`LogLayer::builder`]).
    pub(super) fn new() -> Self {
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
            target_levels: None,
            fingers_crossed: None,
            groups: BTreeMap::new(),
            ungrouped: Ungrouped::All,
            active_groups: None,
        }
    }

    /// Adds a transport (repeatable: every transport receives every entry).
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transports.push(Arc::new(transport));
        self
    }

    /// Adds a plugin (repeatable; plugins run in the order added). Ids need
    /// not be unique here (see [`LogLayer::add_plugin`]).
    pub fn plugin(mut self, plugin: impl Plugin) -> Self {
        self.plugins.push(AttachedPlugin {
            plugin: Arc::new(plugin),
            enabled: true,
        });
        self
    }

    /// Adds a plugin that starts disabled (LogLayer's `disabled: true`), in
    /// its place in the order; [`LogLayer::enable_plugin`] turns it on.
    ///
    /// ```
    /// # use loglayer::{plugin::Filter, transport::CaptureTransport, Level, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .disabled_plugin(Filter::min_level(Level::Warn).with_id("quiet"))
    ///     .build();
    /// log.info("sent");
    /// log.enable_plugin("quiet");
    /// log.info("dropped");
    /// assert_eq!(capture.messages(), ["sent"]);
    /// ```
    pub fn disabled_plugin(mut self, plugin: impl Plugin) -> Self {
        self.plugins.push(AttachedPlugin {
            plugin: Arc::new(plugin),
            enabled: false,
        });
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
    /// every entry on top of them. Replaces a
    /// [`level_control`](LogLayerBuilder::level_control) given before.
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
        self.target_levels = Some(TargetLevels::Fixed(Arc::new(TargetSet::new(directives))));
        self
    }

    /// Makes the logger follow `control`: its levels are whatever the control
    /// holds at the time of each call, for this logger, its children and
    /// every scope under it. Keep a clone of the control to change them; see
    /// [`LevelControl`]. Without [`level`](LogLayerBuilder::level) the
    /// control decides alone. Replaces
    /// [`directives`](LogLayerBuilder::directives) given before.
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, Level, LevelControl, LogLayer};
    ///
    /// let control = LevelControl::new(Level::Warn);
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .level_control(control.clone())
    ///     .build();
    /// let child = log.child();
    ///
    /// loglayer::sync_scope(child.clone(), || loglayer::info!("hidden"));
    /// control.set("info").unwrap();
    /// loglayer::sync_scope(child, || loglayer::info!("shown"));
    /// assert_eq!(capture.messages(), ["shown"]);
    /// ```
    pub fn level_control(mut self, control: LevelControl) -> Self {
        self.target_levels = Some(TargetLevels::Control(control));
        self
    }

    /// Keeps the entries below the logger's levels, down to `options`'
    /// level, in one fingers-crossed buffer for this logger and everything
    /// under it, written when an entry at the trigger level comes; see
    /// [`FingersCrossed`]. For a buffer per unit of work (a request, a job),
    /// use [`LogLayer::fingers_crossed`] on a base logger instead.
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, FingersCrossed, Level, LogLayer};
    ///
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .level(Level::Info)
    ///     .fingers_crossed(FingersCrossed::new(Level::Trace))
    ///     .build();
    /// log.trace("connecting");
    /// assert!(capture.is_empty());
    /// log.error("connection refused");
    /// assert_eq!(capture.messages(), ["connecting", "connection refused"]);
    /// ```
    pub fn fingers_crossed(mut self, options: FingersCrossed) -> Self {
        self.fingers_crossed = Some(options);
        self
    }

    /// Defines a group (LogLayer's `groups`; repeatable, a later group with
    /// the same name replaces the earlier): the entries tagged with `name`
    /// go to the group's transports only, from its level, while it is
    /// enabled. Tag entries with [`LogLayer::with_group`],
    /// [`LogBuilder::with_group`](crate::LogBuilder::with_group) or
    /// `#[with_logger(group = "..")]`; see [`Group`] for the rules.
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, Group, Level, LogLayer};
    ///
    /// let console = CaptureTransport::with_id("console");
    /// let datadog = CaptureTransport::with_id("datadog");
    /// let sentry = CaptureTransport::with_id("sentry");
    /// let log = LogLayer::builder()
    ///     .transport(console.clone())
    ///     .transport(datadog.clone())
    ///     .transport(sentry.clone())
    ///     .group("database", Group::new(["datadog"]).level(Level::Error))
    ///     .group("auth", Group::new(["sentry", "datadog"]).level(Level::Warn))
    ///     .build();
    /// log.with_group("auth").warn("token expired");
    /// assert_eq!((console.len(), datadog.len(), sentry.len()), (0, 1, 1));
    /// ```
    pub fn group(mut self, name: impl Into<String>, group: Group) -> Self {
        self.groups.insert(name.into(), group);
        self
    }

    /// Where entries tagged with no (defined) group go: every transport
    /// (default), none, or the listed ones; see [`Ungrouped`].
    pub fn ungrouped(mut self, ungrouped: Ungrouped) -> Self {
        self.ungrouped = ungrouped;
        self
    }

    /// Only these groups route; entries tagged only with other defined
    /// groups go nowhere (LogLayer's `activeGroups`). Change it later with
    /// [`LogLayer::set_active_groups`].
    ///
    /// The `LOGLAYER_GROUPS` environment variable, read by
    /// [`build`](LogLayerBuilder::build), overrides this: `database,auth`
    /// makes those groups the active ones, and `database:debug` also sets
    /// the level of the group `database` (if it is defined here).
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, Group, LogLayer};
    /// let t1 = CaptureTransport::with_id("t1");
    /// let t2 = CaptureTransport::with_id("t2");
    /// let log = LogLayer::builder()
    ///     .transport(t1.clone())
    ///     .transport(t2.clone())
    ///     .group("database", Group::new(["t1"]))
    ///     .group("auth", Group::new(["t2"]))
    ///     .active_groups(["database"])
    ///     .build();
    /// # if std::env::var_os("LOGLAYER_GROUPS").is_none() {
    /// log.with_group("database").error("sent");
    /// log.with_group("auth").error("dropped: auth is not active");
    /// assert_eq!((t1.len(), t2.len()), (1, 0));
    /// # }
    /// ```
    pub fn active_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.active_groups = Some(groups.into_iter().map(Into::into).collect());
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
        let mut levels = match (self.level, &self.target_levels) {
            (Some(level), _) => level.mask_from(),
            (None, Some(TargetLevels::Fixed(d))) => d.most_verbose().map_or(0, Level::mask_from),
            // Every level: the control decides, as it changes.
            (None, Some(TargetLevels::Control(_))) | (None, None) => ALL_LEVELS,
        };
        // The hint: what this logger may enable now (a control raises the
        // hint itself when it changes).
        note_levels(
            self.target_levels
                .as_ref()
                .map_or(levels, |t| levels & t.mask()),
        );
        if let Some(options) = &self.fingers_crossed {
            note_levels(options.level.mask_from());
        }
        if !self.enabled {
            levels |= DISABLED;
        }
        let plugins: Arc<[AttachedPlugin]> = self.plugins.into();
        let routing = Arc::new(routing(self.groups, self.active_groups, self.ungrouped));
        let config = Arc::new(Config {
            shape: self.shape,
            error_serializer: self.error_serializer,
            copy_msg_on_only_error: self.copy_msg_on_only_error,
            target_levels: self.target_levels,
            prefix: self.prefix.map(Arc::from),
            buffer: self.fingers_crossed.map(|o| Arc::new(Buffer::new(o))),
            groups: GroupTags::default(),
            routed: !routing.ungrouped_all(),
            routing,
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

/// The routing table of a new logger: the builder's groups, then
/// `LOGLAYER_GROUPS` over its active groups and levels.
fn routing(
    groups: BTreeMap<String, Group>,
    active: Option<Vec<String>>,
    ungrouped: Ungrouped,
) -> Routing {
    let mut table = Table::new(groups, active);
    if let Some(spec) = std::env::var_os(GROUPS_ENV) {
        if let Some(spec) = spec.to_str().filter(|s| !s.trim().is_empty()) {
            table.apply_env(spec);
        }
    }
    Routing::new(ungrouped, table)
}
