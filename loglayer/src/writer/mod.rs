//! Writers for production: a non-blocking writer that keeps its promises and
//! rolling files. Both are `io::Write`, so they go under
//! [`JsonTransport`](crate::transport::JsonTransport) or
//! [`ConsoleTransport`](crate::transport::ConsoleTransport).

mod non_blocking;
mod rolling;

pub use non_blocking::{NonBlocking, NonBlockingBuilder, Policy, WorkerGuard};
pub use rolling::{RollingFile, RollingFileBuilder, Rotation};
