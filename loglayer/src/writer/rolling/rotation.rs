//! When a rolling file starts a new one: the public [`Rotation`] and the UTC
//! periods behind time rotation ([`Granularity`]), which also date the names
//! of rotated files.
//!
//! Periods are plain integer divisions of the unix second, so deciding
//! whether a line starts a new period costs no calendar arithmetic; the
//! calendar is needed only to name a file, once per rotation.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::json::civil_from_days;

/// When a [`RollingFile`](super::RollingFile) starts a new file.
///
/// Time rotation uses UTC. A size limit can also be combined with
/// [`Daily`](Rotation::Daily) or [`Hourly`](Rotation::Hourly) through
/// [`RollingFileBuilder::max_size`](super::RollingFileBuilder::max_size). The file names are listed on
/// [`RollingFile`](super::RollingFile).
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
    /// One file that grows forever (unless [`max_size`](super::RollingFileBuilder::max_size) is set).
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

/// A UTC period: the one time rotation starts a new file at, and the one
/// the date in a rotated file's name is given to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Granularity {
    Day,
    Hour,
}

impl Granularity {
    /// The period `secs` falls in: two seconds share a period exactly when
    /// their keys are equal.
    pub(super) fn key(self, secs: u64) -> u64 {
        match self {
            Granularity::Day => secs / 86_400,
            Granularity::Hour => secs / 3_600,
        }
    }

    /// `YYYY-MM-DD` or `YYYY-MM-DD-HH` (UTC) for a unix second.
    pub(super) fn stamp(self, secs: u64) -> String {
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

/// The unix second of `t` (0 before 1970).
pub(super) fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
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
