//! How a [`RollingFile`] is configured: the [`RollingFileBuilder`], its
//! defaults, and [`build`](RollingFileBuilder::build), which turns the
//! options into one rotation plan (a period and one size limit), checks the
//! names and opens the file.

use std::fmt;
use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::SystemTime;

use super::file::{Clock, Config};
use super::names::Names;
use super::rotation::Granularity;
use super::{RollingFile, Rotation};

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

impl RollingFileBuilder {
    /// The defaults, as [`RollingFile::builder`] documents them.
    pub(super) fn new(dir: PathBuf, prefix: String) -> RollingFileBuilder {
        RollingFileBuilder {
            dir,
            prefix,
            suffix: "log".to_owned(),
            rotation: Rotation::Never,
            max_size: None,
            max_files: None,
            clock: None,
        }
    }

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
        let (period, size) = match self.rotation {
            Rotation::Never => (None, None),
            Rotation::Size(n) => (None, Some(n)),
            Rotation::Daily => (Some(Granularity::Day), None),
            Rotation::Hourly => (Some(Granularity::Hour), None),
        };
        let stamps = period.unwrap_or(Granularity::Day);
        let names = Names::new(self.dir, self.prefix, self.suffix, stamps)?;
        fs::create_dir_all(&names.dir)?;
        let max_size = match (size, self.max_size) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        RollingFile::open(Config {
            names,
            period,
            max_size,
            max_files: self.max_files,
            clock: self.clock.unwrap_or_else(|| Box::new(SystemTime::now)),
        })
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
