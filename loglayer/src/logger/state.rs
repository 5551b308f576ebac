//! What a logger holds: [`Inner`] behind every [`LogLayer`] handle, split by
//! how each part changes, and [`Frozen`], a logger as it is at one moment.
//!
//! - [`Config`]: fixed when the logger is built (shape, prefix, directives,
//!   group tags…; the group routing table it points to changes in place);
//! - `levels` and `muted`: one atomic byte each, changed in place;
//! - [`State`]: context, transports and plugins, swapped as a whole
//!   (`ArcSwap`), so a log call reads it without a lock and a change is
//!   never seen half done.

use std::error::Error;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::buffer::Buffer;
use super::groups::{GroupTags, Routing};
use super::levels::TargetLevels;
use super::LogLayer;
use crate::context::Context;
use crate::entry::Shape;
use crate::error::{ErrorInfo, ErrorSerializer};
use crate::plugin::Plugin;
use crate::transport::Transport;
use crate::value::Fields;

/// The logger behind a [`LogLayer`] handle (and behind the default logger).
pub(crate) struct Inner {
    pub(crate) config: Arc<Config>,
    /// Level bits, plus `DISABLED` (see `levels.rs`).
    pub(crate) levels: AtomicU8,
    /// `MUTE_CONTEXT` / `MUTE_METADATA` bits (see `levels.rs`).
    pub(crate) muted: AtomicU8,
    pub(crate) state: ArcSwap<State>,
}

/// What never changes once a logger is built, shared by a logger and its
/// children (a prefixed child gets its own copy).
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) shape: Shape,
    pub(crate) error_serializer: Option<Arc<ErrorSerializer>>,
    pub(crate) copy_msg_on_only_error: bool,
    /// Per-target levels (fixed or from a `LevelControl`); `None` when only
    /// the level mask applies.
    pub(crate) target_levels: Option<TargetLevels>,
    pub(crate) prefix: Option<Arc<str>>,
    /// The fingers-crossed buffer of this logger's scope (`buffer.rs`),
    /// shared by its children.
    pub(crate) buffer: Option<Arc<Buffer>>,
    /// The groups this logger tags its entries with (`groups.rs`).
    pub(crate) groups: GroupTags,
    /// Whether this logger's entries need routing even when they add no
    /// group: it tags with groups, or untagged entries do not go
    /// everywhere (`groups.rs`, `Config::unrouted`).
    pub(crate) routed: bool,
    /// The routing table, shared by reference with its children (`groups.rs`).
    pub(crate) routing: Arc<Routing>,
}

/// What a logger holds that changes as a whole: swapped atomically so a log
/// call reads it without a lock.
#[derive(Clone)]
pub(crate) struct State {
    /// The logger's `Inner::config`, also here so that a [`Frozen`] logger
    /// needs one `Arc`.
    pub(crate) config: Arc<Config>,
    pub(crate) context: Arc<Context>,
    pub(crate) transports: Arc<[Arc<dyn Transport>]>,
    pub(crate) plugins: Arc<[AttachedPlugin]>,
}

/// A plugin as a logger holds it: disabling keeps its place in the order.
#[derive(Clone)]
pub(crate) struct AttachedPlugin {
    pub(crate) plugin: Arc<dyn Plugin>,
    pub(crate) enabled: bool,
}

impl State {
    pub(crate) fn has_plugins(&self) -> bool {
        self.plugins.iter().any(|p| p.enabled)
    }
}

impl Inner {
    pub(crate) fn capture_error(&self, err: &(dyn Error + '_)) -> ErrorInfo {
        ErrorInfo::capture(err, self.config.error_serializer.as_deref())
    }

    /// Replaces the state with a copy changed by `f` (which may run more than
    /// once if another thread changes the state meanwhile).
    pub(crate) fn update(&self, f: impl Fn(&mut State)) {
        self.state.rcu(|current| {
            let mut next = State::clone(current);
            f(&mut next);
            next
        });
    }

    /// This logger as it is now (see [`Frozen`]).
    pub(crate) fn freeze(&self) -> Frozen {
        Frozen {
            levels: self.levels.load(Ordering::Relaxed),
            muted: self.muted.load(Ordering::Relaxed),
            state: self.state.load_full(),
        }
    }
}

/// How one holder of a logger (a scope's slot) freezes it again and again:
/// the state it froze last, taken again while the logger still holds it.
/// Checking that is one relaxed load of the logger's state pointer
/// (`arc_swap::Cache`), where [`Inner::freeze`]'s protected load costs three
/// atomic read-modify-writes (the debt slot, the count, paying the debt).
/// The cache holds the logger and that state until the holder goes away.
#[derive(Default)]
#[doc(hidden)]
pub struct FreezeCache(Option<arc_swap::Cache<StateOf, Arc<State>>>);

/// A logger's state cell, as `arc_swap::Cache` wants it.
struct StateOf(Arc<Inner>);

impl std::ops::Deref for StateOf {
    type Target = ArcSwap<State>;

    fn deref(&self) -> &ArcSwap<State> {
        &self.0.state
    }
}

impl FreezeCache {
    /// `logger` as it is now, as [`Inner::freeze`] gives it. Always called
    /// with the same logger (the cache's holder has one).
    #[inline]
    pub(crate) fn freeze(&mut self, logger: &Arc<Inner>) -> Frozen {
        let levels = logger.levels.load(Ordering::Relaxed);
        let muted = logger.muted.load(Ordering::Relaxed);
        let cache = self
            .0
            .get_or_insert_with(|| arc_swap::Cache::new(StateOf(Arc::clone(logger))));
        Frozen {
            levels,
            muted,
            state: Arc::clone(cache.load()),
        }
    }
}

impl std::fmt::Debug for FreezeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FreezeCache")
    }
}

/// A logger as it is at one moment: what a child starts from. Taking one
/// clones one `Arc` (the state, which also points to the config) and
/// allocates nothing, so a `#[with_logger]` scope can hold its parent's
/// state from entry without building its child yet.
pub(crate) struct Frozen {
    levels: u8,
    muted: u8,
    pub(super) state: Arc<State>,
}

impl Frozen {
    /// What decides the levels: the config and the level mask the logger
    /// had when frozen.
    #[inline]
    pub(crate) fn levels(&self) -> (&Config, u8) {
        (&self.state.config, self.levels)
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
    /// later keys win; see [`Context::merged`]), built in one step. Only for
    /// parents without plugins: with plugins, build
    /// [`into_child`](Frozen::into_child) and add the fields through
    /// `with_context`'s path so `on_context_called` sees them.
    pub(crate) fn into_child_with_fields(
        self,
        room: (usize, usize),
        add: impl FnOnce(&mut Fields),
    ) -> LogLayer {
        let context = self.state.context.merged(room, add, Vec::new());
        let state = State {
            config: self.state.config.clone(),
            context: Arc::new(context),
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
