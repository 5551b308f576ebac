//! [`RollingFile`]: a file writer that rotates by size and by time, keeps a
//! bounded number of old files, and follows outside rotators.
//!
//! The behaviour and the file names are described on
//! [`RollingFile`](crate::writer::RollingFile). One file per part:
//!
//! - `file`: the [`RollingFile`] writer, its checks before each write and
//!   the rotation itself;
//! - `builder`: the [`RollingFileBuilder`], which turns the options into one
//!   rotation plan;
//! - `rotation`: the [`Rotation`] choices and the UTC periods behind them;
//! - `names`: what the active and rotated files are called;
//! - `retention`: deleting the oldest rotated files.

mod builder;
mod file;
mod names;
mod retention;
mod rotation;

pub use builder::RollingFileBuilder;
pub use file::RollingFile;
pub use rotation::Rotation;
