//! Groups (LogLayer 9): named routing rules that send the entries tagged
//! with a group to that group's transports only, from the group's own level.
//!
//! Two halves, kept apart because they change differently:
//!
//! - the **routing table** ([`Routing`]): the groups a logger defines, the
//!   active-groups filter and the rule for untagged entries. One per built
//!   logger, shared by reference with its children, scopes and spawned tasks
//!   (as LogLayer shares `groups` with children), so
//!   [`LogLayer::disable_group`] on any of them is seen by all;
//! - the **tags** ([`GroupTags`], in `Config`): the groups a logger stamps
//!   on everything it logs ([`LogLayer::with_group`], a
//!   `#[with_logger(group = "..")]` scope). One entry tagged with
//!   [`LogBuilder::with_group`](crate::LogBuilder::with_group) is sent
//!   through such a child, so the pipeline knows only loggers' tags.
//!
//! `pipeline.rs` reads `Config::routed` first: a logger without tags whose
//! untagged entries go everywhere (the default) pays that one load per
//! entry. Otherwise a [`Route`] is computed once per entry and asked per
//! transport, in LogLayer's order: group enabled, active-groups filter,
//! group level, transport in the group; then the transport's own level and
//! the plugins' `should_send_to_logger`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};

use super::state::{Config, Frozen, State};
use super::LogLayer;
use crate::Level;

/// The environment variable that sets the active groups (and their levels)
/// when a logger is built: `name,name` or `name:level,name:level`.
pub(crate) const GROUPS_ENV: &str = "LOGLAYER_GROUPS";

/// A group's name as a logger or an entry holds it (a literal costs no
/// allocation).
pub(crate) type GroupName = Cow<'static, str>;

/// A named routing rule: the transports (by [`id`](crate::transport::Transport::id))
/// that receive the entries tagged with this group, the least severe level
/// it lets through, and whether it routes at all (LogLayer's
/// `LogGroupConfig`).
///
/// ```
/// use loglayer::{transport::CaptureTransport, Group, Level, LogLayer};
///
/// let console = CaptureTransport::with_id("console");
/// let datadog = CaptureTransport::with_id("datadog");
/// let log = LogLayer::builder()
///     .transport(console.clone())
///     .transport(datadog.clone())
///     .group("database", Group::new(["datadog"]).level(Level::Error))
///     .build();
///
/// log.with_group("database").info("query took 50ms"); // below the group's level: dropped
/// log.with_group("database").error("connection lost"); // to datadog only
/// log.info("started"); // untagged: everywhere
/// assert_eq!(datadog.messages(), ["connection lost", "started"]);
/// assert_eq!(console.messages(), ["started"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    transports: Vec<String>,
    level: Option<Level>,
    enabled: bool,
}

impl Group {
    /// A group routing to these transport ids, at every level, enabled.
    pub fn new<I, S>(transports: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Group {
            transports: transports.into_iter().map(Into::into).collect(),
            level: None,
            enabled: true,
        }
    }

    /// Lets through only entries at `level` or more severe (default: every
    /// level, LogLayer's `"trace"`).
    pub fn level(self, level: Level) -> Self {
        Group {
            level: Some(level),
            ..self
        }
    }

    /// Starts the group enabled (default) or disabled. Entries tagged only
    /// with disabled groups go nowhere; see [`LogLayer::enable_group`].
    pub fn enabled(self, enabled: bool) -> Self {
        Group { enabled, ..self }
    }

    /// The ids of the transports this group routes to.
    pub fn transport_ids(&self) -> &[String] {
        &self.transports
    }

    /// The least severe level this group lets through; `None` for every level.
    pub fn min_level(&self) -> Option<Level> {
        self.level
    }

    /// Whether the group routes entries.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }
}

/// Where entries tagged with no group go (LogLayer's `ungroupedBehavior`).
/// An entry tagged only with groups that are not defined counts as untagged.
///
/// ```
/// use loglayer::{transport::CaptureTransport, Group, LogLayer, Ungrouped};
///
/// let console = CaptureTransport::with_id("console");
/// let datadog = CaptureTransport::with_id("datadog");
/// let log = LogLayer::builder()
///     .transport(console.clone())
///     .transport(datadog.clone())
///     .group("database", Group::new(["datadog"]))
///     .ungrouped(Ungrouped::only(["console"]))
///     .build();
/// log.info("untagged");
/// log.with_group("database").info("tagged");
/// assert_eq!(console.messages(), ["untagged"]);
/// assert_eq!(datadog.messages(), ["tagged"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Ungrouped {
    /// To every transport (the default, so adding groups to a logger changes
    /// nothing for the entries that have none).
    #[default]
    All,
    /// Nowhere: only tagged entries are written (LogLayer's `"none"`).
    Nowhere,
    /// To the transports with these ids only.
    Only(Vec<String>),
}

impl Ungrouped {
    /// [`Ungrouped::Only`] these transport ids.
    pub fn only<I, S>(transports: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Ungrouped::Only(transports.into_iter().map(Into::into).collect())
    }

    fn admits(&self, transport_id: &str) -> bool {
        match self {
            Ungrouped::All => true,
            Ungrouped::Nowhere => false,
            Ungrouped::Only(ids) => ids.iter().any(|id| id == transport_id),
        }
    }
}

/// The groups a logger tags its entries with: unique, in the order added.
#[derive(Clone, Default)]
pub(crate) struct GroupTags(Vec<GroupName>);

impl GroupTags {
    /// The tags, in the order they were added.
    pub(crate) fn names(&self) -> &[GroupName] {
        &self.0
    }

    /// Adds `name` unless it is there already (tags are additive and a set,
    /// as in LogLayer).
    pub(crate) fn add(&mut self, name: GroupName) {
        if !self.0.contains(&name) {
            self.0.push(name);
        }
    }
}

impl fmt::Debug for GroupTags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

/// The routing table of a built logger, shared by its children (see the
/// module docs).
pub(crate) struct Routing {
    /// Fixed when the logger is built.
    ungrouped: Ungrouped,
    /// The groups and the active filter, changed at run time as a whole.
    table: ArcSwap<Table>,
}

/// What [`Routing`] changes at run time.
#[derive(Clone, Default)]
pub(crate) struct Table {
    groups: BTreeMap<String, Group>,
    /// `Some`: only these groups route (LogLayer's `activeGroups`).
    active: Option<Vec<String>>,
}

impl Table {
    pub(crate) fn new(groups: BTreeMap<String, Group>, active: Option<Vec<String>>) -> Self {
        Table { groups, active }
    }

    /// Applies a `LOGLAYER_GROUPS` value: the named groups become the active
    /// ones, and `name:level` sets the level of a group defined here. A word
    /// that is no level leaves that group's level as it was.
    pub(crate) fn apply_env(&mut self, spec: &str) {
        let mut active = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, level) = match item.split_once(':') {
                Some((name, level)) if !name.is_empty() => (name.trim(), Some(level.trim())),
                _ => (item, None),
            };
            if let (Some(group), Some(Ok(level))) =
                (self.groups.get_mut(name), level.map(str::parse::<Level>))
            {
                group.level = Some(level);
            }
            active.push(name.to_owned());
        }
        self.active = Some(active);
    }

    fn is_active(&self, name: &str) -> bool {
        self.active
            .as_ref()
            .is_none_or(|active| active.iter().any(|a| a == name))
    }
}

impl Routing {
    pub(crate) fn new(ungrouped: Ungrouped, table: Table) -> Self {
        Routing {
            ungrouped,
            table: ArcSwap::from_pointee(table),
        }
    }

    /// Changes the table (`f` may run again if another thread changed it
    /// meanwhile); returns what `f` returned the last time.
    fn update<R>(&self, f: impl Fn(&mut Table) -> R) -> R {
        let mut out = None;
        self.table.rcu(|current| {
            let mut next = Table::clone(current);
            out = Some(f(&mut next));
            next
        });
        out.expect("rcu runs its closure at least once")
    }
}

impl Routing {
    /// Whether untagged entries go to every transport.
    pub(crate) fn ungrouped_all(&self) -> bool {
        self.ungrouped == Ungrouped::All
    }
}

impl Config {
    /// Tags this logger's entries with `name` too.
    pub(crate) fn add_group(&mut self, name: GroupName) {
        self.groups.add(name);
        self.routed = true;
    }

    /// The routing of one entry at `level` from this logger.
    pub(crate) fn route(&self, level: Level) -> Route<'_> {
        let table = self.routing.table.load();
        let tags = &self.groups.0;
        let any_defined = tags.iter().any(|name| table.groups.contains_key(&**name));
        Route {
            table,
            ungrouped: &self.routing.ungrouped,
            tags,
            level,
            any_defined,
        }
    }
}

/// Which transports one entry goes to (see the module docs).
pub(crate) struct Route<'a> {
    table: Guard<Arc<Table>>,
    ungrouped: &'a Ungrouped,
    tags: &'a [GroupName],
    level: Level,
    /// Whether a tag names a defined group; if none does, the entry counts
    /// as untagged.
    any_defined: bool,
}

impl Route<'_> {
    /// Whether the transport `transport_id` receives the entry: one of its
    /// groups is enabled, active, lets its level through and lists the
    /// transport — or, untagged, [`Ungrouped`] lets it.
    pub(crate) fn admits(&self, transport_id: &str) -> bool {
        if !self.any_defined {
            return self.ungrouped.admits(transport_id);
        }
        let table = &*self.table;
        self.tags.iter().any(|name| {
            table.groups.get(&**name).is_some_and(|group| {
                group.enabled
                    && table.is_active(name)
                    && group.level.is_none_or(|min| self.level >= min)
                    && group.transports.iter().any(|t| t == transport_id)
            })
        })
    }
}

impl Frozen {
    /// The same frozen logger, its child to tag entries with `name` as well.
    pub(crate) fn in_group(mut self, name: GroupName) -> Frozen {
        let mut config = Config::clone(&self.state.config);
        config.add_group(name);
        self.state = Arc::new(State {
            config: Arc::new(config),
            ..State::clone(&self.state)
        });
        self
    }
}

/// Groups: tagging ([`with_group`](LogLayer::with_group)) and the routing
/// table, changed at run time. The table is shared by a logger and every
/// logger made from it ([`child`](LogLayer::child), `with_prefix`,
/// `with_group`, scopes, spawned tasks), so a change through any of them is
/// seen by all, as in LogLayer.
impl LogLayer {
    /// A child logger that tags everything it logs with `group` on top of
    /// the groups this logger already tags with (groups are additive across
    /// children, like LogLayer's `withGroup` on a logger). This logger is
    /// not changed.
    ///
    /// Hand the child to a scope and everything logged in it, at any depth,
    /// is tagged too: `loglayer::scope(log.with_group("database"), fut)`,
    /// or `#[with_logger(group = "database")]` on a function.
    ///
    /// ```
    /// use loglayer::{transport::CaptureTransport, Group, LogLayer};
    ///
    /// let console = CaptureTransport::with_id("console");
    /// let sentry = CaptureTransport::with_id("sentry");
    /// let datadog = CaptureTransport::with_id("datadog");
    /// let log = LogLayer::builder()
    ///     .transport(console.clone())
    ///     .transport(sentry.clone())
    ///     .transport(datadog.clone())
    ///     .group("database", Group::new(["datadog"]))
    ///     .group("auth", Group::new(["sentry"]))
    ///     .build();
    ///
    /// let db = log.with_group("database");
    /// db.error("pool exhausted");
    /// db.with_group("auth").error("auth db failure"); // both groups' transports
    /// loglayer::sync_scope(db, || loglayer::warn!("slow query"));
    /// log.info("untagged"); // the parent is not tagged
    ///
    /// assert_eq!(datadog.messages(), ["pool exhausted", "auth db failure", "slow query", "untagged"]);
    /// assert_eq!(sentry.messages(), ["auth db failure", "untagged"]);
    /// assert_eq!(console.messages(), ["untagged"]);
    /// ```
    pub fn with_group(&self, group: impl Into<Cow<'static, str>>) -> LogLayer {
        let name = group.into();
        self.child_with_config(|config| config.add_group(name))
    }

    /// [`with_group`](LogLayer::with_group) with several groups at once
    /// (LogLayer's `withGroup([..])`): the child's entries go to the union of
    /// the groups' transports.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, Group, LogLayer};
    /// let a = CaptureTransport::with_id("a");
    /// let b = CaptureTransport::with_id("b");
    /// let log = LogLayer::builder()
    ///     .transport(a.clone())
    ///     .transport(b.clone())
    ///     .group("database", Group::new(["a"]))
    ///     .group("auth", Group::new(["b"]))
    ///     .build();
    /// log.with_groups(["database", "auth"]).error("to both");
    /// assert_eq!((a.len(), b.len()), (1, 1));
    /// ```
    pub fn with_groups<I, S>(&self, groups: I) -> LogLayer
    where
        I: IntoIterator<Item = S>,
        S: Into<Cow<'static, str>>,
    {
        self.child_with_config(|config| {
            for name in groups {
                config.add_group(name.into());
            }
        })
    }

    /// Defines a group at run time, or replaces the group with this name
    /// (LogLayer's `addGroup`).
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, Group, Level, LogLayer};
    /// let t1 = CaptureTransport::with_id("t1");
    /// let log = LogLayer::new(t1.clone());
    /// log.add_group("database", Group::new(["t1"]).level(Level::Error));
    /// log.with_group("database").info("dropped");
    /// log.with_group("database").error("sent");
    /// assert_eq!(t1.messages(), ["sent"]);
    /// ```
    pub fn add_group(&self, name: impl Into<String>, group: Group) -> &Self {
        let name = name.into();
        self.routing()
            .update(|t| t.groups.insert(name.clone(), group.clone()));
        self
    }

    /// Removes a group; returns whether it was defined. Entries tagged with
    /// it then count as untagged (see [`Ungrouped`]).
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, Group, LogLayer};
    /// let t1 = CaptureTransport::with_id("t1");
    /// let t2 = CaptureTransport::with_id("t2");
    /// let log = LogLayer::builder().transport(t1.clone()).transport(t2.clone())
    ///     .group("database", Group::new(["t1"])).build();
    /// assert!(log.remove_group("database"));
    /// assert!(!log.remove_group("database"));
    /// log.with_group("database").error("now untagged: everywhere");
    /// assert_eq!((t1.len(), t2.len()), (1, 1));
    /// ```
    pub fn remove_group(&self, name: &str) -> bool {
        self.routing().update(|t| t.groups.remove(name).is_some())
    }

    /// Enables a group; returns whether it is defined.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, Group, LogLayer};
    /// let t1 = CaptureTransport::with_id("t1");
    /// let log = LogLayer::builder().transport(t1.clone())
    ///     .group("database", Group::new(["t1"]).enabled(false)).build();
    /// log.with_group("database").error("dropped");
    /// assert!(log.enable_group("database"));
    /// log.with_group("database").error("sent");
    /// assert_eq!(t1.messages(), ["sent"]);
    /// ```
    pub fn enable_group(&self, name: &str) -> bool {
        self.change_group(name, |g| g.enabled = true)
    }

    /// Disables a group: entries tagged only with it go nowhere. Returns
    /// whether it is defined.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, Group, LogLayer};
    /// let t1 = CaptureTransport::with_id("t1");
    /// let log = LogLayer::builder().transport(t1.clone())
    ///     .group("database", Group::new(["t1"])).build();
    /// assert!(log.disable_group("database"));
    /// log.with_group("database").error("dropped");
    /// assert!(t1.is_empty());
    /// ```
    pub fn disable_group(&self, name: &str) -> bool {
        self.change_group(name, |g| g.enabled = false)
    }

    /// Sets the least severe level a group lets through; returns whether it
    /// is defined. The logger's own levels still apply first.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, Group, Level, LogLayer};
    /// let t1 = CaptureTransport::with_id("t1");
    /// let log = LogLayer::builder().transport(t1.clone())
    ///     .group("database", Group::new(["t1"]).level(Level::Error)).build();
    /// log.with_group("database").info("dropped");
    /// assert!(log.set_group_level("database", Level::Info));
    /// log.with_group("database").info("sent");
    /// assert_eq!(t1.messages(), ["sent"]);
    /// ```
    pub fn set_group_level(&self, name: &str, level: Level) -> bool {
        self.change_group(name, |g| g.level = Some(level))
    }

    /// Only these groups route from now on; entries tagged only with other
    /// (defined) groups go nowhere (LogLayer's `setActiveGroups([..])`).
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, Group, LogLayer};
    /// let t1 = CaptureTransport::with_id("t1");
    /// let t2 = CaptureTransport::with_id("t2");
    /// let log = LogLayer::builder().transport(t1.clone()).transport(t2.clone())
    ///     .group("database", Group::new(["t1"]))
    ///     .group("auth", Group::new(["t2"]))
    ///     .build();
    /// log.set_active_groups(["auth"]);
    /// log.with_group("database").error("dropped");
    /// log.with_group("auth").error("sent");
    /// assert_eq!((t1.len(), t2.len()), (0, 1));
    /// log.clear_active_groups();
    /// log.with_group("database").error("sent too");
    /// assert_eq!(t1.len(), 1);
    /// ```
    pub fn set_active_groups<I, S>(&self, groups: I) -> &Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let active: Vec<String> = groups.into_iter().map(Into::into).collect();
        self.routing().update(|t| t.active = Some(active.clone()));
        self
    }

    /// Every defined group routes again (LogLayer's `setActiveGroups(null)`);
    /// this also lifts a filter set by `LOGLAYER_GROUPS`.
    pub fn clear_active_groups(&self) -> &Self {
        self.routing().update(|t| t.active = None);
        self
    }

    /// A snapshot of the defined groups, by name (LogLayer's `getGroups`);
    /// later changes do not reach it.
    ///
    /// ```
    /// # use loglayer::{transport::CaptureTransport, Group, Level, LogLayer};
    /// let log = LogLayer::builder().transport(CaptureTransport::with_id("t1"))
    ///     .group("database", Group::new(["t1"]).level(Level::Error)).build();
    /// let groups = log.groups();
    /// log.add_group("auth", Group::new(["t1"]));
    /// assert_eq!(groups.len(), 1);
    /// assert_eq!(groups["database"].min_level(), Some(Level::Error));
    /// assert_eq!(groups["database"].transport_ids(), ["t1"]);
    /// ```
    pub fn groups(&self) -> BTreeMap<String, Group> {
        self.routing().table.load().groups.clone()
    }

    /// The active-groups filter: `None` when every defined group routes.
    pub fn active_groups(&self) -> Option<Vec<String>> {
        self.routing().table.load().active.clone()
    }

    fn routing(&self) -> &Routing {
        &self.inner.config.routing
    }

    fn change_group(&self, name: &str, f: impl Fn(&mut Group)) -> bool {
        self.routing().update(|t| match t.groups.get_mut(name) {
            Some(group) => {
                f(group);
                true
            }
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut groups = BTreeMap::new();
        groups.insert(
            "database".to_owned(),
            Group::new(["t1"]).level(Level::Error),
        );
        groups.insert("auth".to_owned(), Group::new(["t2"]));
        Table::new(groups, None)
    }

    #[test]
    fn env_sets_active_groups_and_levels_of_defined_groups() {
        let mut t = table();
        t.apply_env(" database:debug , payments:info,, auth:loud ");
        assert_eq!(
            t.active.as_deref(),
            Some(&["database".to_owned(), "payments".into(), "auth".into()][..])
        );
        assert_eq!(t.groups["database"].level, Some(Level::Debug));
        // Not a level word: the level stays.
        assert_eq!(t.groups["auth"].level, None);
    }

    #[test]
    fn tags_are_a_set_in_order() {
        let mut tags = GroupTags::default();
        tags.add("a".into());
        tags.add("b".into());
        tags.add(String::from("a").into());
        assert_eq!(format!("{tags:?}"), r#"["a", "b"]"#);
    }
}
