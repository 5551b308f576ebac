//! The names of a rolling file's files, in one place: the active file
//! `{prefix}.{suffix}`, the rotated ones `{prefix}.{stamp}[.{seq}].{suffix}`,
//! which names are ours (for retention), and which prefixes and suffixes are
//! accepted.
//!
//! The names are built so that sorting them as strings sorts them oldest
//! first (a fixed-width UTC stamp, then a fixed-width sequence number):
//! retention is then a sort, and a person's `ls` shows the order too.

use std::fs;
use std::io;
use std::path::PathBuf;

use super::rotation::Granularity;

/// Width of the sequence number of size-rotated files (`000001`).
const SEQ_WIDTH: usize = 6;

/// Where a rolling file's files live and what they are called.
#[derive(Debug)]
pub(super) struct Names {
    pub(super) dir: PathBuf,
    /// The active file, `{dir}/{prefix}.{suffix}`.
    pub(super) path: PathBuf,
    prefix: String,
    suffix: String,
    /// The period the stamp in a rotated name gives (days unless hourly).
    stamps: Granularity,
}

impl Names {
    /// Checks `prefix` and `suffix` (`InvalidInput` if the prefix is empty or
    /// either could leave `dir`); creates nothing.
    pub(super) fn new(
        dir: PathBuf,
        prefix: String,
        suffix: String,
        stamps: Granularity,
    ) -> io::Result<Names> {
        let bad = |s: &str| s.contains(['/', '\\', '\0']) || s == "." || s == "..";
        if prefix.is_empty() || bad(&prefix) || bad(&suffix) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "rolling file: invalid prefix {prefix:?} or suffix {suffix:?} (the prefix must be \
                     non-empty; neither may hold a path separator)"
                ),
            ));
        }
        let path = dir.join(file_name(&prefix, None, &suffix));
        Ok(Names {
            dir,
            path,
            prefix,
            suffix,
            stamps,
        })
    }

    /// The name the active file takes when rotated, started at `opened`.
    /// `numbered`: a size limit is set, so every rotated name carries a
    /// sequence number; otherwise one is added only if the name is taken
    /// (the clock went backwards), so an existing file is never overwritten.
    pub(super) fn rotated(&self, opened: u64, numbered: bool) -> io::Result<String> {
        let stamp = self.stamps.stamp(opened);
        if !numbered {
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
        file_name(&self.prefix, Some(middle), &self.suffix)
    }

    /// Whether `name` is a rotated file of this writer.
    pub(super) fn is_rotated(&self, name: &str) -> bool {
        self.parse_rotated(name).is_some()
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
}

/// `{prefix}[.{middle}]`, then `.{suffix}` unless the suffix is empty.
fn file_name(prefix: &str, middle: Option<&str>, suffix: &str) -> String {
    let mut name = prefix.to_owned();
    for part in [middle.unwrap_or(""), suffix] {
        if !part.is_empty() {
            name.push('.');
            name.push_str(part);
        }
    }
    name
}
