//! The [`RollingFile`] writer itself: one `write` call is whole lines, never
//! split across files; before it, the outside-rotator check and the rotation
//! check; the active file and what is known about it (size, period, inode).
//!
//! Nothing on the write path allocates or locks: the checks compare
//! integers, the path is looked at no more than once a second, and names are
//! built only when a rotation happens.

use std::fmt;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use super::names::Names;
use super::retention::prune;
use super::rotation::{unix_secs, Granularity};
use super::RollingFileBuilder;

/// The clock a rolling file reads (a test may supply its own).
pub(super) type Clock = Box<dyn Fn() -> SystemTime + Send + 'static>;

/// How often (by the writer's clock) the active path is checked for an
/// outside rotator, and a failed rotation is retried.
const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// A file writer with rotation by size and by time (UTC), a retention limit
/// and predictable names. It is an [`io::Write`], so it goes under
/// [`JsonTransport`](crate::transport::JsonTransport) (or any other writer
/// user).
///
/// ```
/// use loglayer::transport::JsonTransport;
/// use loglayer::writer::{RollingFile, Rotation};
/// use loglayer::LogLayer;
///
/// let dir = std::env::temp_dir().join(format!("loglayer-doc-{}-rolling", std::process::id()));
/// let file = RollingFile::builder(&dir, "app")
///     .rotation(Rotation::Daily)
///     .max_size(50 * 1024 * 1024) // also rotate within a day past 50 MiB
///     .max_files(14)              // keep the 14 newest rotated files
///     .build()?;
/// assert_eq!(file.path(), dir.join("app.log"));
///
/// let log = LogLayer::new(JsonTransport::new(file));
/// log.info("started");
///
/// let text = std::fs::read_to_string(dir.join("app.log"))?;
/// assert!(text.contains(r#""msg":"started""#));
/// # drop(log);
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # File names
///
/// Lines are always written to the *active* file; rotating renames it and
/// starts a new, empty active file. With prefix `app` and the default suffix
/// `log`:
///
/// | Rotation | Active file | Rotated files |
/// |---|---|---|
/// | [`Never`](super::Rotation::Never) | `app.log` | none |
/// | [`Daily`](super::Rotation::Daily) | `app.log` | `app.2026-11-26.log` |
/// | [`Hourly`](super::Rotation::Hourly) | `app.log` | `app.2026-11-26-05.log` |
/// | [`Size`](super::Rotation::Size), or `Never` + [`max_size`](RollingFileBuilder::max_size) | `app.log` | `app.2026-11-26.000001.log`, `app.2026-11-26.000002.log`, … |
/// | `Daily` + `max_size` | `app.log` | `app.2026-11-26.000001.log`, … |
/// | `Hourly` + `max_size` | `app.log` | `app.2026-11-26-05.000001.log`, … |
///
/// - The date (and hour) in a rotated name is the UTC day (hour) in which
///   its file was started, which for time rotation is the day (hour) all of
///   its lines were written in. When a size limit is set, every rotated
///   file carries a six-digit sequence number, counting from `000001` within
///   each day (hour) and continuing after a restart.
/// - **Sorting the rotated names as strings sorts them oldest first**; the
///   active file holds the newest lines. Retention
///   ([`max_files`](RollingFileBuilder::max_files)) deletes the first names
///   in that order.
/// - An existing name is never overwritten: if a time-rotated name is
///   already taken (the clock went backwards), a sequence number is added.
/// - With an empty [`suffix`](RollingFileBuilder::suffix) the names end
///   without it (`app`, `app.2026-11-26`).
///
/// # Behaviour
///
/// - Each `write` call is taken as whole lines (as
///   [`JsonTransport`](crate::transport::JsonTransport) writes them: one
///   call per line) and is never split across files. The rotation check
///   comes before the write: a line that would take the file past the size
///   limit goes into a fresh file, and a line longer than the limit is
///   written whole, alone. Files are only rotated after a write that ended
///   with a newline, so a caller writing a line in pieces does not see it
///   split either. An empty active file is never rotated.
/// - Nothing is buffered: each line reaches the operating system in the
///   `write` call. [`flush`](Write::flush) flushes the file; it does not
///   `fsync`.
/// - **Outside rotators** (logrotate, a person with `rm` or `mv`): at most
///   once per second, the writer checks that the active path still names
///   the file it holds open (same device and inode on Unix; that it exists
///   elsewhere) and otherwise opens (creates) it again, so new lines land in
///   the new file. Truncation in place (`copytruncate`) is noticed at the
///   same check.
/// - Errors never panic. A failed rotation or deletion is reported once on
///   stderr; lines keep going to the current file, and the rotation is
///   retried a second later. A line that cannot be written at all returns
///   the error (the transport counts it in
///   [`failures`](crate::failures)).
/// - When it starts, the writer appends to an existing active file. For
///   time rotation that file belongs to the day (hour) of its last
///   modification, so a file left from yesterday is rotated under
///   yesterday's name at the first line written today.
pub struct RollingFile {
    names: Names,
    period: Option<Granularity>,
    max_size: Option<u64>,
    max_files: Option<usize>,
    clock: Clock,
    file: Option<File>,
    /// (device, inode) of the open file, on Unix.
    id: Option<(u64, u64)>,
    size: u64,
    /// The unix second that names the active file's period.
    opened: u64,
    at_line_start: bool,
    last_check: SystemTime,
    retry_at: Option<SystemTime>,
}

/// What [`RollingFileBuilder::build`] decided, for [`RollingFile::open`].
pub(super) struct Config {
    pub(super) names: Names,
    /// The period of time rotation, if any.
    pub(super) period: Option<Granularity>,
    /// The size limit, whichever way it was set.
    pub(super) max_size: Option<u64>,
    pub(super) max_files: Option<usize>,
    pub(super) clock: Clock,
}

impl RollingFile {
    /// Starts configuring a rolling file named `prefix` in `dir`. Defaults:
    /// suffix `log`, [`Rotation::Never`](super::Rotation::Never), no size limit, every rotated file
    /// kept.
    ///
    /// ```
    /// use loglayer::writer::RollingFile;
    ///
    /// let dir = std::env::temp_dir().join(format!("loglayer-doc-{}-new", std::process::id()));
    /// let file = RollingFile::builder(&dir, "app").build()?;
    /// assert_eq!(file.path(), dir.join("app.log"));
    /// # drop(file);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder(dir: impl AsRef<Path>, prefix: impl Into<String>) -> RollingFileBuilder {
        RollingFileBuilder::new(dir.as_ref().to_path_buf(), prefix.into())
    }

    /// Opens (or creates) the active file for appending and applies
    /// `max_files`; the directory must exist.
    pub(super) fn open(config: Config) -> io::Result<RollingFile> {
        let Config {
            names,
            period,
            max_size,
            max_files,
            clock,
        } = config;
        let now = clock();
        let mut file = RollingFile {
            names,
            period,
            max_size,
            max_files,
            clock,
            file: None,
            id: None,
            size: 0,
            opened: unix_secs(now),
            at_line_start: true,
            last_check: now,
            retry_at: None,
        };
        file.open_active(unix_secs(now), false)?;
        prune(&file.names, file.max_files);
        Ok(file)
    }

    /// The path of the active file, `{dir}/{prefix}.{suffix}`.
    ///
    /// ```
    /// use loglayer::writer::RollingFile;
    ///
    /// let dir = std::env::temp_dir().join(format!("loglayer-doc-{}-path", std::process::id()));
    /// let file = RollingFile::builder(&dir, "app").suffix("").build()?;
    /// assert_eq!(file.path(), dir.join("app"));
    /// # drop(file);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.names.path
    }

    fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// Opens (creating it, and the directory, if needed) the active file.
    /// `keep_opened`: the file is the same one as before (a failed
    /// rotation), so it keeps its period.
    fn open_active(&mut self, now: u64, keep_opened: bool) -> io::Result<()> {
        self.file = None;
        let open = |p: &Path| OpenOptions::new().create(true).append(true).open(p);
        let file = match open(&self.names.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(&self.names.dir)?;
                open(&self.names.path)?
            }
            other => other?,
        };
        let meta = file.metadata()?;
        self.size = meta.len();
        self.id = file_id(&meta);
        self.at_line_start = true;
        if self.size == 0 {
            self.opened = now;
        } else if !keep_opened {
            self.opened = meta.modified().map_or(now, |m| unix_secs(m).min(now));
        }
        self.file = Some(file);
        Ok(())
    }

    /// Reopens the active file if an outside rotator moved or removed it;
    /// resynchronises the size if it was truncated or appended to.
    fn check_path(&mut self, now: SystemTime) {
        match now.duration_since(self.last_check) {
            Ok(d) if d < CHECK_INTERVAL => return,
            _ => self.last_check = now,
        }
        if self.file.is_none() {
            return; // reopened by the write itself
        }
        let replaced = match fs::metadata(&self.names.path) {
            Ok(meta) => {
                let id = file_id(&meta);
                if id.is_some() && id != self.id {
                    true
                } else {
                    if id.is_some() {
                        self.size = meta.len();
                    }
                    false
                }
            }
            Err(e) => e.kind() == io::ErrorKind::NotFound,
        };
        if replaced {
            // On failure `file` stays `None` and the write reports the error.
            let _ = self.open_active(unix_secs(now), false);
        }
    }

    fn rotation_due(&self, now: u64, incoming: usize) -> bool {
        if self.size == 0 || !self.at_line_start {
            return false;
        }
        let by_size = self
            .max_size
            .is_some_and(|max| self.size.saturating_add(incoming as u64) > max);
        let by_time = self
            .period
            .is_some_and(|p| p.key(self.opened) != p.key(now));
        by_size || by_time
    }

    fn maybe_rotate(&mut self, now: SystemTime, incoming: usize) {
        let secs = unix_secs(now);
        if self.size == 0 {
            self.opened = secs;
        }
        if !self.rotation_due(secs, incoming) {
            return;
        }
        if self.retry_at.is_some_and(|t| now < t) {
            return;
        }
        match self.rotate(secs) {
            Ok(()) => {
                self.retry_at = None;
                prune(&self.names, self.max_files);
            }
            Err(e) => {
                self.retry_at = Some(now + CHECK_INTERVAL);
                report(&self.names.path, "rotation failed", &e);
            }
        }
    }

    /// Renames the active file to its rotated name and opens a new one.
    fn rotate(&mut self, now: u64) -> io::Result<()> {
        let target = self.names.rotated(self.opened, self.max_size.is_some())?;
        self.file = None; // closed before the rename (required on Windows)
        match fs::rename(&self.names.path, self.names.dir.join(&target)) {
            Ok(()) => self.open_active(now, false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => self.open_active(now, false),
            Err(e) => {
                // Keep writing to the same file; its period stays.
                let _ = self.open_active(now, true);
                Err(e)
            }
        }
    }
}

impl Write for RollingFile {
    /// Writes `buf` whole to the active file, rotating first if due; returns
    /// `buf.len()` or an error, never a partial count.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        self.check_path(now);
        self.maybe_rotate(now, buf.len());
        if self.file.is_none() {
            self.open_active(unix_secs(now), true)?;
        }
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("rolling file is not open"));
        };
        let mut written = 0;
        let result = loop {
            if written == buf.len() {
                break Ok(());
            }
            match file.write(&buf[written..]) {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.size += written as u64;
        if written > 0 {
            self.at_line_start = buf[written - 1] == b'\n';
        }
        result.map(|()| buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for RollingFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RollingFile")
            .field("path", &self.names.path)
            .field("period", &self.period)
            .field("max_size", &self.max_size)
            .field("max_files", &self.max_files)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

#[cfg(unix)]
fn file_id(meta: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_meta: &Metadata) -> Option<(u64, u64)> {
    None
}

/// Reports a rotation or retention failure once per process on stderr.
pub(super) fn report(path: &Path, what: &str, err: &io::Error) {
    static REPORTED: AtomicBool = AtomicBool::new(false);
    if !REPORTED.swap(true, Ordering::Relaxed) {
        let _ = writeln!(
            io::stderr(),
            "loglayer: rolling file {}: {what}: {err} (reported once; lines keep going to the \
             active file)",
            path.display()
        );
    }
}
