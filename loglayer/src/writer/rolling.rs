//! [`RollingFile`]: a file writer that rotates by size and by time, keeps a
//! bounded number of old files, and follows outside rotators.

use std::fmt;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// When a [`RollingFile`] starts a new file.
///
/// Time rotation uses UTC. A size limit can also be combined with
/// [`Daily`](Rotation::Daily) or [`Hourly`](Rotation::Hourly) through
/// [`RollingFileBuilder::max_size`]. The file names are listed on
/// [`RollingFile`].
///
/// ```
/// use loglayer::writer::Rotation;
///
/// let by_size = Rotation::Size(10 * 1024 * 1024); // 10 MiB per file
/// assert_ne!(by_size, Rotation::Daily);
/// assert_eq!(Rotation::default(), Rotation::Never);
/// for r in [Rotation::Never, by_size, Rotation::Daily, Rotation::Hourly] {
///     println!("{r:?}");
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rotation {
    /// One file that grows forever (unless [`max_size`](RollingFileBuilder::max_size) is set).
    #[default]
    Never,
    /// A new file before a line would take the active file past this many
    /// bytes. A line longer than the limit is still written whole, alone in
    /// its file.
    Size(u64),
    /// A new file at the first line written on a new UTC day.
    Daily,
    /// A new file at the first line written in a new UTC hour.
    Hourly,
}

type Clock = Box<dyn Fn() -> SystemTime + Send + 'static>;

/// The time granularity of the names of rotated files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Granularity {
    Day,
    Hour,
}

impl Granularity {
    fn key(self, secs: u64) -> u64 {
        match self {
            Granularity::Day => secs / 86_400,
            Granularity::Hour => secs / 3_600,
        }
    }

    /// `YYYY-MM-DD` or `YYYY-MM-DD-HH` (UTC) for a unix second.
    fn stamp(self, secs: u64) -> String {
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        let y = y.clamp(0, 9999);
        match self {
            Granularity::Day => format!("{y:04}-{m:02}-{d:02}"),
            Granularity::Hour => {
                format!("{y:04}-{m:02}-{d:02}-{:02}", secs % 86_400 / 3_600)
            }
        }
    }
}

use crate::json::civil_from_days;

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// How often (by the writer's clock) the active path is checked for an
/// outside rotator, and a failed rotation is retried.
const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Width of the sequence number of size-rotated files (`000001`).
const SEQ_WIDTH: usize = 6;

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
/// | [`Never`](Rotation::Never) | `app.log` | none |
/// | [`Daily`](Rotation::Daily) | `app.log` | `app.2026-11-26.log` |
/// | [`Hourly`](Rotation::Hourly) | `app.log` | `app.2026-11-26-05.log` |
/// | [`Size`](Rotation::Size), or `Never` + [`max_size`](RollingFileBuilder::max_size) | `app.log` | `app.2026-11-26.000001.log`, `app.2026-11-26.000002.log`, … |
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
    dir: PathBuf,
    path: PathBuf,
    prefix: String,
    suffix: String,
    period: Option<Granularity>,
    names: Granularity,
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

/// Configures a [`RollingFile`]; made by [`RollingFile::builder`].
///
/// ```
/// use loglayer::writer::{RollingFile, Rotation};
///
/// let dir = std::env::temp_dir().join(format!("loglayer-doc-{}-builder", std::process::id()));
/// let file = RollingFile::builder(&dir, "audit")
///     .suffix("jsonl")
///     .rotation(Rotation::Hourly)
///     .max_files(48)
///     .build()?;
/// assert_eq!(file.path(), dir.join("audit.jsonl"));
/// # drop(file);
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "a builder does nothing until `.build()`"]
pub struct RollingFileBuilder {
    dir: PathBuf,
    prefix: String,
    suffix: String,
    rotation: Rotation,
    max_size: Option<u64>,
    max_files: Option<usize>,
    clock: Option<Clock>,
}

impl RollingFile {
    /// Starts configuring a rolling file named `prefix` in `dir`. Defaults:
    /// suffix `log`, [`Rotation::Never`], no size limit, every rotated file
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
        RollingFileBuilder {
            dir: dir.as_ref().to_path_buf(),
            prefix: prefix.into(),
            suffix: "log".to_owned(),
            rotation: Rotation::Never,
            max_size: None,
            max_files: None,
            clock: None,
        }
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
        &self.path
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
        let file = match open(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(&self.dir)?;
                open(&self.path)?
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
        let replaced = match fs::metadata(&self.path) {
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
                if let Err(e) = self.prune() {
                    report(&self.path, "deleting old files failed", &e);
                }
            }
            Err(e) => {
                self.retry_at = Some(now + CHECK_INTERVAL);
                report(&self.path, "rotation failed", &e);
            }
        }
    }

    /// Renames the active file to its rotated name and opens a new one.
    fn rotate(&mut self, now: u64) -> io::Result<()> {
        let target = self.rotated_name(self.opened)?;
        self.file = None; // closed before the rename (required on Windows)
        match fs::rename(&self.path, self.dir.join(&target)) {
            Ok(()) => self.open_active(now, false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => self.open_active(now, false),
            Err(e) => {
                // Keep writing to the same file; its period stays.
                let _ = self.open_active(now, true);
                Err(e)
            }
        }
    }

    /// The name the active file takes when rotated now, started at `opened`.
    fn rotated_name(&self, opened: u64) -> io::Result<String> {
        let stamp = self.names.stamp(opened);
        if self.max_size.is_none() {
            let name = self.join(&stamp);
            if !self.dir.join(&name).exists() {
                return Ok(name);
            }
        }
        let mut last = 0;
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            if let Some((s, Some(n))) = name.to_str().and_then(|n| self.parse_rotated(n)) {
                if s == stamp {
                    last = last.max(n);
                }
            }
        }
        let seq = format!("{stamp}.{:0width$}", last + 1, width = SEQ_WIDTH);
        Ok(self.join(&seq))
    }

    /// `{prefix}.{middle}.{suffix}`, or `{prefix}.{middle}` with no suffix.
    fn join(&self, middle: &str) -> String {
        if self.suffix.is_empty() {
            format!("{}.{middle}", self.prefix)
        } else {
            format!("{}.{middle}.{}", self.prefix, self.suffix)
        }
    }

    /// The stamp and sequence number of a rotated file of this writer.
    fn parse_rotated<'n>(&self, name: &'n str) -> Option<(&'n str, Option<u64>)> {
        let rest = name.strip_prefix(self.prefix.as_str())?.strip_prefix('.')?;
        let middle = if self.suffix.is_empty() {
            rest
        } else {
            rest.strip_suffix(self.suffix.as_str())?.strip_suffix('.')?
        };
        let (stamp, seq) = match middle.split_once('.') {
            Some((stamp, seq)) => {
                if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (stamp, Some(seq.parse().ok()?))
            }
            None => (middle, None),
        };
        let shape_ok = |pattern: &str| {
            stamp.len() == pattern.len()
                && stamp.bytes().zip(pattern.bytes()).all(|(b, p)| {
                    if p == b'9' {
                        b.is_ascii_digit()
                    } else {
                        b == p
                    }
                })
        };
        if shape_ok("9999-99-99") || shape_ok("9999-99-99-99") {
            Some((stamp, seq))
        } else {
            None
        }
    }

    /// Deletes the oldest rotated files beyond `max_files`.
    fn prune(&self) -> io::Result<()> {
        let Some(keep) = self.max_files else {
            return Ok(());
        };
        let mut rotated: Vec<String> = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            if let Some(name) = entry.file_name().to_str() {
                if self.parse_rotated(name).is_some() && entry.file_type()?.is_file() {
                    rotated.push(name.to_owned());
                }
            }
        }
        if rotated.len() <= keep {
            return Ok(());
        }
        rotated.sort();
        let excess = rotated.len() - keep;
        let mut first_err = None;
        for name in &rotated[..excess] {
            match fs::remove_file(self.dir.join(name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    first_err.get_or_insert(e);
                }
                _ => {}
            }
        }
        first_err.map_or(Ok(()), Err)
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
            .field("path", &self.path)
            .field("period", &self.period)
            .field("max_size", &self.max_size)
            .field("max_files", &self.max_files)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl RollingFileBuilder {
    /// When to start a new file (default [`Rotation::Never`]).
    ///
    /// ```
    /// use loglayer::writer::{RollingFile, Rotation};
    ///
    /// let dir = std::env::temp_dir().join(format!("loglayer-doc-{}-rotation", std::process::id()));
    /// let file = RollingFile::builder(&dir, "app").rotation(Rotation::Size(1 << 20)).build()?;
    /// # drop(file);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn rotation(mut self, rotation: Rotation) -> Self {
        self.rotation = rotation;
        self
    }

    /// Also starts a new file before a line would take the active file past
    /// `bytes`, whatever the [`rotation`](Self::rotation); combined with
    /// [`Rotation::Daily`] or [`Rotation::Hourly`] this rotates by size
    /// within each period. If [`Rotation::Size`] is set too, the smaller
    /// limit applies.
    ///
    /// ```
    /// use loglayer::writer::{RollingFile, Rotation};
    ///
    /// let dir = std::env::temp_dir().join(format!("loglayer-doc-{}-max-size", std::process::id()));
    /// let file = RollingFile::builder(&dir, "app")
    ///     .rotation(Rotation::Daily)
    ///     .max_size(100 * 1024 * 1024)
    ///     .build()?;
    /// # drop(file);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = Some(bytes);
        self
    }

    /// Keeps at most `n` rotated files besides the active one, deleting the
    /// oldest (the first by name) after each rotation and when the writer is
    /// built. `0` keeps none. Default: keep all.
    ///
    /// ```
    /// use loglayer::writer::{RollingFile, Rotation};
    ///
    /// let dir = std::env::temp_dir().join(format!("loglayer-doc-{}-max-files", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// for day in ["2026-11-24", "2026-11-25", "2026-11-26"] {
    ///     std::fs::write(dir.join(format!("app.{day}.log")), "{}\n")?;
    /// }
    /// let file = RollingFile::builder(&dir, "app")
    ///     .rotation(Rotation::Daily)
    ///     .max_files(2)
    ///     .build()?;
    /// assert!(!dir.join("app.2026-11-24.log").exists()); // the oldest went
    /// assert!(dir.join("app.2026-11-26.log").exists());
    /// # drop(file);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn max_files(mut self, n: usize) -> Self {
        self.max_files = Some(n);
        self
    }

    /// The file name extension (default `"log"`); `""` for none.
    ///
    /// ```
    /// use loglayer::writer::RollingFile;
    ///
    /// let dir = std::env::temp_dir().join(format!("loglayer-doc-{}-suffix", std::process::id()));
    /// let file = RollingFile::builder(&dir, "app").suffix("jsonl").build()?;
    /// assert_eq!(file.path(), dir.join("app.jsonl"));
    /// # drop(file);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn suffix(mut self, suffix: impl Into<String>) -> Self {
        self.suffix = suffix.into();
        self
    }

    /// **For tests**: the clock the writer reads to decide time rotation,
    /// name rotated files and pace its checks (default
    /// [`SystemTime::now`]), so a test can cross an hour or a day without
    /// sleeping.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use loglayer::writer::{RollingFile, Rotation};
    ///
    /// let dir = std::env::temp_dir().join(format!("loglayer-doc-{}-clock", std::process::id()));
    /// let secs = Arc::new(AtomicU64::new(1_795_651_200)); // 2026-11-26T00:00:00Z
    /// let clock = secs.clone();
    /// let mut file = RollingFile::builder(&dir, "app")
    ///     .rotation(Rotation::Daily)
    ///     .with_clock(move || UNIX_EPOCH + Duration::from_secs(clock.load(Ordering::SeqCst)))
    ///     .build()?;
    /// file.write_all(b"{\"day\":1}\n")?;
    /// secs.fetch_add(86_400, Ordering::SeqCst);
    /// file.write_all(b"{\"day\":2}\n")?;
    /// assert!(dir.join("app.2026-11-26.log").exists());
    /// # drop(file);
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(hidden)]
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + 'static) -> Self {
        self.clock = Some(Box::new(clock));
        self
    }

    /// Creates the directory if missing, opens (or creates) the active file
    /// for appending, and applies [`max_files`](Self::max_files).
    ///
    /// Errors: an empty prefix, or a prefix or suffix holding a path
    /// separator (`InvalidInput`); a directory or file that cannot be
    /// created or opened. Never panics.
    ///
    /// ```
    /// use loglayer::writer::RollingFile;
    ///
    /// let base = std::env::temp_dir().join(format!("loglayer-doc-{}-build", std::process::id()));
    /// let file = RollingFile::builder(base.join("a/b"), "app").build()?; // creates a/b
    /// assert!(base.join("a/b/app.log").exists());
    ///
    /// std::fs::write(base.join("plain"), "")?;
    /// assert!(RollingFile::builder(base.join("plain"), "app").build().is_err());
    /// assert!(RollingFile::builder(&base, "../app").build().is_err());
    /// # drop(file);
    /// std::fs::remove_dir_all(&base)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(self) -> io::Result<RollingFile> {
        let bad = |s: &str| s.contains(['/', '\\', '\0']) || s == "." || s == "..";
        if self.prefix.is_empty() || bad(&self.prefix) || bad(&self.suffix) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "rolling file: invalid prefix {:?} or suffix {:?} (the prefix must be \
                     non-empty; neither may hold a path separator)",
                    self.prefix, self.suffix
                ),
            ));
        }
        fs::create_dir_all(&self.dir)?;
        let (period, size) = match self.rotation {
            Rotation::Never => (None, None),
            Rotation::Size(n) => (None, Some(n)),
            Rotation::Daily => (Some(Granularity::Day), None),
            Rotation::Hourly => (Some(Granularity::Hour), None),
        };
        let max_size = match (size, self.max_size) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let clock = self.clock.unwrap_or_else(|| Box::new(SystemTime::now));
        let now = clock();
        let path = self.dir.join(if self.suffix.is_empty() {
            self.prefix.clone()
        } else {
            format!("{}.{}", self.prefix, self.suffix)
        });
        let mut file = RollingFile {
            dir: self.dir,
            path,
            prefix: self.prefix,
            suffix: self.suffix,
            period,
            names: period.unwrap_or(Granularity::Day),
            max_size,
            max_files: self.max_files,
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
        if let Err(e) = file.prune() {
            report(&file.path, "deleting old files failed", &e);
        }
        Ok(file)
    }
}

impl fmt::Debug for RollingFileBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RollingFileBuilder")
            .field("dir", &self.dir)
            .field("prefix", &self.prefix)
            .field("suffix", &self.suffix)
            .field("rotation", &self.rotation)
            .field("max_size", &self.max_size)
            .field("max_files", &self.max_files)
            .field("clock", &self.clock.as_ref().map(|_| "custom"))
            .finish()
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
fn report(path: &Path, what: &str, err: &io::Error) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        // 2026-11-26T05:07:09Z
        let t = 1_795_651_200 + 5 * 3600 + 7 * 60 + 9;
        assert_eq!(Granularity::Day.stamp(t), "2026-11-26");
        assert_eq!(Granularity::Hour.stamp(t), "2026-11-26-05");
        assert_eq!(Granularity::Day.stamp(0), "1970-01-01");
        assert_eq!(Granularity::Hour.stamp(951_782_400), "2000-02-29-00");
    }
}
