//! Transports: where entries go.
//!
//! A logger sends each entry to every transport it holds. The crate ships
//! [`JsonTransport`] (JSON lines, its field names and formats set by a
//! [`JsonFormat`], with presets for Google Cloud, Elastic and Datadog),
//! [`ConsoleTransport`] (a human format for a terminal) and
//! [`CaptureTransport`] (in memory, for tests), and with the `tracing`
//! feature `TracingTransport` (entries re-emitted as `tracing` events);
//! anything else is a few lines of [`Transport`].
//!
//! The built-in transports set their id, level and on/off switch with the
//! same methods (`with_id`, `with_level`, `set_enabled`), written once.

mod capture;
mod console;
mod json;
mod json_format;
mod options;
#[cfg(feature = "tracing")]
mod tracing;

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

pub use capture::CaptureTransport;
pub use console::ConsoleTransport;
pub use json::JsonTransport;
pub use json_format::{ErrorFormat, JsonFormat, LevelFormat, TimeFormat};
pub(crate) use options::{transport_options, Options};
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub use tracing::TracingTransport;

use crate::{Entry, Level};

/// A destination for entries.
///
/// # For implementors
///
/// Only [`write`](Transport::write) is required. It receives each entry that
/// passed the logger's and this transport's level filters; return an error when
/// the destination fails — the logger counts it, reports the first failure on
/// stderr and carries on with the other transports. A panic in `write` is caught
/// the same way, so a transport can never take the caller down; it should still
/// never block indefinitely.
///
/// ```
/// use loglayer::{transport::Transport, Entry, Level, LogLayer};
/// use std::sync::{Arc, Mutex};
///
/// /// Keeps the messages of warnings and worse.
/// #[derive(Clone, Default)]
/// struct Alerts(Arc<Mutex<Vec<String>>>);
///
/// impl Transport for Alerts {
///     fn id(&self) -> &str { "alerts" }
///     fn level(&self) -> Option<Level> { Some(Level::Warn) }
///     fn write(&self, entry: &Entry<'_>) -> std::io::Result<()> {
///         self.0.lock().unwrap().push(entry.message().to_owned());
///         Ok(())
///     }
/// }
///
/// let alerts = Alerts::default();
/// let log = LogLayer::new(alerts.clone());
/// log.info("fine");
/// log.warn("disk at 90%");
/// assert_eq!(*alerts.0.lock().unwrap(), ["disk at 90%"]);
/// ```
pub trait Transport: Send + Sync + 'static {
    /// Writes one entry.
    fn write(&self, entry: &Entry<'_>) -> io::Result<()>;

    /// The id used by [`LogLayer::remove_transport`](crate::LogLayer::remove_transport)
    /// and by plugins' `should_send_to_logger`. Defaults to the type's name.
    fn id(&self) -> &str {
        std::any::type_name::<Self>()
    }

    /// The least severe level this transport accepts; `None` accepts all.
    fn level(&self) -> Option<Level> {
        None
    }

    /// Whether this transport currently accepts entries.
    fn enabled(&self) -> bool {
        true
    }

    /// Makes everything accepted so far durable (written to the OS).
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
}

/// A shared or boxed transport is a transport.
macro_rules! forward_transport {
    ($($ptr:ident),*) => {$(
        impl<T: Transport + ?Sized> Transport for $ptr<T> {
            fn write(&self, entry: &Entry<'_>) -> io::Result<()> {
                (**self).write(entry)
            }
            fn id(&self) -> &str {
                (**self).id()
            }
            fn level(&self) -> Option<Level> {
                (**self).level()
            }
            fn enabled(&self) -> bool {
                (**self).enabled()
            }
            fn flush(&self) -> io::Result<()> {
                (**self).flush()
            }
        }
    )*};
}

forward_transport!(Arc, Box);

/// Locks a writer mutex, recovering from poisoning: a writer that panicked
/// mid-write must not disable logging for everyone after it.
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f` on the writer behind `m`, unless this thread already holds that
/// writer further up the stack — a writer (or something it calls) that logs
/// into the same transport. That nested entry is refused with an error, which
/// the logger counts, instead of deadlocking on the writer's lock.
pub(crate) fn with_writer<W: ?Sized, R>(
    m: &Mutex<W>,
    f: impl FnOnce(&mut W) -> io::Result<R>,
) -> io::Result<R> {
    let addr = m as *const Mutex<W> as *const () as usize;
    let Some(_held) = crate::reentry::WriterGuard::hold(addr) else {
        return Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            "re-entrant write: the transport's writer logged into the same transport",
        ));
    };
    f(&mut lock(m))
}

/// A value alone on its cache line(s) (128 bytes: two lines, as adjacent-line
/// prefetchers pull pairs), so that writes to it do not slow down reads of its
/// neighbours on other cores.
#[repr(align(128))]
pub(crate) struct CachePadded<T>(pub(crate) T);

/// Runs `f` with a thread-local scratch buffer (a fresh one when re-entered).
pub(crate) fn with_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut f = Some(f);
    let result = BUF.try_with(|cell| {
        let mut buf = cell.try_borrow_mut().ok()?;
        buf.clear();
        let r = (f.take()?)(&mut buf);
        if buf.capacity() > 64 * 1024 {
            *buf = Vec::new();
        }
        Some(r)
    });
    match result {
        Ok(Some(r)) => r,
        _ => match f.take() {
            Some(f) => f(&mut Vec::new()),
            // `f` ran but its result was lost: cannot happen, the closure
            // above only returns None before taking `f`.
            None => unreachable_result(),
        },
    }
}

#[cold]
fn unreachable_result<R>() -> R {
    unreachable!("with_buffer: closure consumed without a result")
}
