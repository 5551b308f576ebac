//! Retention: after each rotation, and when the writer is built, delete the
//! oldest rotated files beyond [`max_files`](super::RollingFileBuilder::max_files).
//!
//! Only files whose names parse as this writer's rotated names are counted
//! or deleted, so other files in the directory (another prefix, a person's
//! notes) are never touched. A failure is reported, not returned: retention
//! must not stop logging.

use std::fs;
use std::io;

use super::file::report;
use super::names::Names;

/// Keeps the newest `keep` rotated files (all when `None`); a failure is
/// reported once on stderr.
pub(super) fn prune(names: &Names, keep: Option<usize>) {
    let Some(keep) = keep else {
        return;
    };
    if let Err(e) = delete_oldest(names, keep) {
        report(&names.path, "deleting old files failed", &e);
    }
}

/// Deletes the oldest rotated files beyond `keep`: the first by name, since
/// rotated names sort oldest first. Goes on after a failed deletion and
/// returns the first error.
fn delete_oldest(names: &Names, keep: usize) -> io::Result<()> {
    let mut rotated: Vec<String> = Vec::new();
    for entry in fs::read_dir(&names.dir)? {
        let entry = entry?;
        if let Some(name) = entry.file_name().to_str() {
            if names.is_rotated(name) && entry.file_type()?.is_file() {
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
        match fs::remove_file(names.dir.join(name)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                first_err.get_or_insert(e);
            }
            _ => {}
        }
    }
    first_err.map_or(Ok(()), Err)
}
