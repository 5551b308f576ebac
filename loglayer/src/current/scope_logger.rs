//! What a scope makes current: a logger, or the recipe for a child that is
//! built only when something needs it.
//!
//! `#[with_logger]` scopes start [`Pending`](ScopeLogger::Pending): entering
//! one freezes the parent (one `Arc` clone of its state; a ready parent in
//! the thread's slot takes it from the [`FreezeCache`] beside it) and renders
//! the context values into a small inline buffer (30 bytes, see
//! `PACKED_INLINE`), so a function that never logs never builds its child
//! and, when its context fits, allocates nothing. The parent is frozen **at entry**: context or
//! levels the parent gains later do not reach the child, exactly as with
//! [`LogLayer::child`]. A `#[with_logger(group = "..")]` scope's child also
//! tags its entries with that group (see `logger/groups.rs`), so everything
//! logged under the function, at any depth, is routed by it.

use crate::logger::{Config, FreezeCache, Frozen};
use crate::pipeline::FieldValue;
use crate::value::{encode, Fields, Map};
use crate::LogLayer;

/// See the module docs. Not public API.
#[doc(hidden)]
pub enum ScopeLogger {
    /// A logger, current as it is; with what a child of it frozen here
    /// last took (see [`FreezeCache`]).
    Ready(LogLayer, FreezeCache),
    /// A child of a frozen parent with extra context fields, not built yet.
    Pending(PendingChild),
    /// A child of whatever logger is current when the scope is first entered
    /// (a boxed future's first poll), with these fields and group. Resolved
    /// into `Pending` on entry, so the thread's slot never holds one.
    Deferred(PackedFields, Option<&'static str>),
}

/// See [`ScopeLogger::Pending`].
#[doc(hidden)]
pub struct PendingChild {
    parent: Frozen,
    fields: PackedFields,
    /// `#[with_logger(group = "..")]`: a group the child tags entries with.
    group: Option<&'static str>,
}

impl ScopeLogger {
    /// `logger`, current as it is.
    pub(crate) fn ready(logger: LogLayer) -> Self {
        ScopeLogger::Ready(logger, FreezeCache::default())
    }

    /// A child taken here now: a ready logger freezes through its cache.
    #[inline]
    pub(crate) fn freeze_ready(&mut self) -> Option<Frozen> {
        match self {
            ScopeLogger::Ready(l, cache) => Some(cache.freeze(&l.inner)),
            _ => None,
        }
    }

    /// A pending child of `parent` as it is now, with `fields` (rendered now).
    pub(crate) fn pending(parent: Frozen, fields: &[(&str, &dyn FieldValue)]) -> Self {
        ScopeLogger::Pending(PendingChild {
            parent,
            fields: PackedFields::pack(fields),
            group: None,
        })
    }

    /// A child of the logger current at first entry, with `fields` (rendered now).
    pub(crate) fn deferred(fields: &[(&str, &dyn FieldValue)]) -> Self {
        ScopeLogger::Deferred(PackedFields::pack(fields), None)
    }

    /// A child of `parent` as it is now, with no fields of its own.
    pub(crate) fn child_of(parent: Frozen) -> Self {
        ScopeLogger::Pending(PendingChild {
            parent,
            fields: PackedFields::empty(),
            group: None,
        })
    }

    /// The same scope, its logger a child that also tags its entries with
    /// `group` (`#[with_logger(group = "..")]`). A ready logger becomes a
    /// pending child of itself, so nothing is built until something logs.
    pub(crate) fn in_group(self, group: &'static str) -> Self {
        match self {
            ScopeLogger::Ready(logger, _) => ScopeLogger::Pending(PendingChild {
                parent: logger.inner.freeze(),
                fields: PackedFields::empty(),
                group: Some(group),
            }),
            ScopeLogger::Pending(p) => ScopeLogger::Pending(PendingChild {
                group: Some(group),
                ..p
            }),
            ScopeLogger::Deferred(fields, _) => ScopeLogger::Deferred(fields, Some(group)),
        }
    }

    /// Builds the logger, leaving out the context that plugins must see
    /// through `with_context`'s path: the caller makes the logger current
    /// first, then adds that rest with [`PackedFields::add_to`], so code that
    /// runs meanwhile (a plugin's `on_context_called`) finds the scope.
    /// Runs no user code itself.
    pub(crate) fn start_build(self) -> (LogLayer, Option<PackedFields>) {
        let pending = match self {
            ScopeLogger::Ready(l, _) => return (l, None),
            ScopeLogger::Pending(p) => p,
            ScopeLogger::Deferred(fields, group) => PendingChild {
                parent: super::freeze_current(),
                fields,
                group,
            },
        };
        let PendingChild {
            parent,
            fields,
            group,
        } = pending;
        let parent = match group {
            Some(group) => parent.in_group(group.into()),
            None => parent,
        };
        if fields.is_empty() {
            (parent.into_child(), None)
        } else if parent.has_plugins() {
            (parent.into_child(), Some(fields))
        } else {
            let room = (fields.count(), fields.bytes().len());
            let child = parent.into_child_with_fields(room, |list| {
                fields.for_each(|k, v| list.push_encoded(k, v))
            });
            (child, None)
        }
    }

    /// Turns a deferred logger into a pending child of the current logger.
    #[inline]
    pub(crate) fn resolve(&mut self) {
        if matches!(self, ScopeLogger::Deferred(..)) {
            self.resolve_deferred();
        }
    }

    #[cold]
    #[inline(never)]
    fn resolve_deferred(&mut self) {
        if let ScopeLogger::Deferred(fields, group) = self {
            let fields = std::mem::replace(fields, PackedFields::empty());
            *self = ScopeLogger::Pending(PendingChild {
                parent: super::freeze_current(),
                fields,
                group: *group,
            });
        }
    }

    /// What decides this logger's levels (config and level mask); a
    /// pending child has its parent's as they were at entry. `None` for a
    /// deferred logger, which has no parent yet.
    #[inline]
    pub(crate) fn levels(&self) -> Option<(&Config, u8)> {
        match self {
            ScopeLogger::Ready(l, _) => Some(l.inner.levels()),
            ScopeLogger::Pending(p) => Some(p.parent.levels()),
            ScopeLogger::Deferred(..) => None,
        }
    }

    pub(crate) fn is_ready(&self) -> bool {
        matches!(self, ScopeLogger::Ready(..))
    }

    pub(crate) fn as_ready(&self) -> Option<&LogLayer> {
        match self {
            ScopeLogger::Ready(l, _) => Some(l),
            _ => None,
        }
    }
}

impl std::fmt::Debug for ScopeLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScopeLogger::Ready(l, _) => f.debug_tuple("Ready").field(l).finish(),
            ScopeLogger::Pending(_) => f.write_str("Pending"),
            ScopeLogger::Deferred(..) => f.write_str("Deferred"),
        }
    }
}

/// Context fields encoded as the body of a map value (see
/// [`crate::value`]), inline when short, so entering a scope allocates
/// nothing.
#[doc(hidden)]
pub enum PackedFields {
    Inline { len: u8, buf: [u8; PACKED_INLINE] },
    Heap(Box<[u8]>),
}

/// 30 bytes inline (one key and a number or short string: `request_id =
/// 42` takes 23), so that with the heap case a boxed slice a `ScopeLogger`
/// is 64 bytes: it is swapped into the thread's slot and back on every
/// poll, and moved into the future it scopes (88 bytes with 48 inline and a
/// `Vec` cost `scope_enter` ~60 instructions a call and ~20 a poll).
const PACKED_INLINE: usize = 30;

impl PackedFields {
    fn empty() -> Self {
        PackedFields::Inline {
            len: 0,
            buf: [0; PACKED_INLINE],
        }
    }

    fn pack(fields: &[(&str, &dyn FieldValue)]) -> Self {
        if fields.is_empty() {
            return Self::empty();
        }
        crate::transport::with_buffer(|scratch| {
            for (k, v) in fields {
                encode::key(scratch, k);
                v.encode(scratch);
            }
            if scratch.len() <= PACKED_INLINE {
                let mut buf = [0; PACKED_INLINE];
                buf[..scratch.len()].copy_from_slice(scratch);
                PackedFields::Inline {
                    len: scratch.len() as u8,
                    buf,
                }
            } else {
                PackedFields::Heap(scratch.as_slice().into())
            }
        })
    }

    fn bytes(&self) -> &[u8] {
        match self {
            PackedFields::Inline { len, buf } => &buf[..*len as usize],
            PackedFields::Heap(v) => v,
        }
    }

    fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }

    fn count(&self) -> usize {
        let mut n = 0;
        self.for_each(|_, _| n += 1);
        n
    }

    fn for_each(&self, mut f: impl FnMut(&str, &[u8])) {
        for (k, v) in Map::from_body(self.bytes()).encoded() {
            f(k, v);
        }
    }

    /// Adds these fields to `logger`'s context through `with_context`'s path
    /// (plugins see them). May run user code.
    pub(crate) fn add_to(&self, logger: &LogLayer) {
        let mut list = Fields::new();
        self.for_each(|k, v| list.push_encoded(k, v));
        logger.add_context_list(&list);
    }
}
