//! Placeholder: being written.
#![allow(missing_docs, missing_debug_implementations)]
pub struct NonBlocking;
pub struct NonBlockingBuilder;
pub enum Policy {}
pub struct WorkerGuard;
