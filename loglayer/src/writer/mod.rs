//! Writers for production: a non-blocking writer that keeps its promises and
//! rolling files. Both are `io::Write`, so they go under
//! [`JsonTransport`](crate::transport::JsonTransport) or
//! [`ConsoleTransport`](crate::transport::ConsoleTransport).
//!
//! - [`NonBlocking`]: a bounded queue and one writer thread; lossless by
//!   default, or drop-and-report ([`Policy`]). Keep its [`WorkerGuard`] alive
//!   until exit: dropping it writes everything accepted, within a bound.
//! - [`RollingFile`]: a file rotated by size, day or hour ([`Rotation`]),
//!   keeping a bounded number of old files, reopened after outside rotation.
//!
//! ```
//! use loglayer::{transport::JsonTransport, writer::NonBlocking, LogLayer};
//!
//! let (writer, guard) = NonBlocking::new(std::io::sink());
//! let log = LogLayer::new(JsonTransport::new(writer));
//! log.info("queued, written by the worker thread");
//! drop(guard); // flushes everything accepted
//! ```

mod non_blocking;
mod rolling;

pub use non_blocking::{NonBlocking, NonBlockingBuilder, Policy, WorkerGuard};
pub use rolling::{RollingFile, RollingFileBuilder, Rotation};
