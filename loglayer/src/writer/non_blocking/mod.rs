//! [`NonBlocking`]: any writer behind a bounded queue and one writer thread.
//!
//! The policies, the guard and the counters are described on
//! [`NonBlocking`](crate::writer::NonBlocking). One file per part:
//!
//! - `handle`: the [`NonBlocking`] handle callers write to, and its counters;
//! - `builder`: the [`Policy`] and the [`NonBlockingBuilder`], which starts
//!   the worker;
//! - `queue`: the bounded queue and the state every part shares; `push` and
//!   `flush` wait there, always within a bound;
//! - `worker`: the thread that drains the queue into the real writer;
//! - `guard`: the [`WorkerGuard`] and shutdown;
//! - `notice`: the entry written after entries were dropped.

mod builder;
mod guard;
mod handle;
mod notice;
mod queue;
mod worker;

pub use builder::{NonBlockingBuilder, Policy};
pub use guard::WorkerGuard;
pub use handle::NonBlocking;
