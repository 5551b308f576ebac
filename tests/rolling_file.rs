//! `RollingFile` on real files in temp dirs: rotation by size and time,
//! retention, predictable names, outside rotators, and errors.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use loglayer::transport::JsonTransport;
use loglayer::writer::{RollingFile, Rotation};
use loglayer::LogLayer;
use serde_json::{json, Value};

/// 2026-11-26T00:00:00Z.
const NOV_26: u64 = 1_795_651_200;
const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;

/// A fresh, empty temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("loglayer-test-{}-{}", std::process::id(), name));
        let _ = fs::remove_dir_all(&path);
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// File names in the dir, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    /// The lines of one file, each parsed as JSON (panics on a torn line).
    fn lines(&self, name: &str) -> Vec<Value> {
        let text = fs::read_to_string(self.0.join(name)).unwrap();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{name} ends mid-line"
        );
        text.lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: bad line {l:?}: {e}"))
            })
            .collect()
    }

    /// Every line of the rotated files (by name) then the active file.
    fn all_lines(&self, active: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for name in self.names().iter().filter(|n| *n != active) {
            out.extend(self.lines(name));
        }
        out.extend(self.lines(active));
        out
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A settable clock, in unix seconds.
#[derive(Clone)]
struct Clock(Arc<AtomicU64>);

impl Clock {
    fn at(secs: u64) -> Self {
        Clock(Arc::new(AtomicU64::new(secs)))
    }
    fn set(&self, secs: u64) {
        self.0.store(secs, Ordering::SeqCst);
    }
    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    fn func(&self) -> impl Fn() -> SystemTime + Send + 'static {
        let c = self.0.clone();
        move || UNIX_EPOCH + Duration::from_secs(c.load(Ordering::SeqCst))
    }
}

fn seq_names(stamp: &str, range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|n| format!("app.{stamp}.{n:06}.log")).collect()
}

fn with_active(mut names: Vec<String>) -> Vec<String> {
    names.push("app.log".to_owned());
    names.sort();
    names
}

#[test]
fn size_rotation_predicted_names_and_no_split_lines() {
    let dir = TempDir::new("size");
    let clock = Clock::at(NOV_26 + 10 * HOUR);
    let file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Size(1_000))
        .with_clock(clock.func())
        .build()
        .unwrap();
    let log = LogLayer::new(JsonTransport::new(file));
    for i in 0..200u32 {
        // Lines of varying length, so rotation happens at varying offsets.
        let pad = "x".repeat((i as usize * 7) % 90);
        log.with_metadata(json!({"i": i, "pad": pad})).info("entry");
    }
    log.flush();

    let names = dir.names();
    let rotated: Vec<String> = names.iter().filter(|n| *n != "app.log").cloned().collect();
    assert!(rotated.len() > 5, "expected several rotations: {names:?}");
    assert_eq!(
        rotated,
        seq_names("2026-11-26", 1..=rotated.len() as u32),
        "names are app.{{day}}.{{seq}}.log, numbered from 1 without gaps"
    );

    // Every line parses, none is lost or duplicated, and name order is
    // chronological.
    let all = dir.all_lines("app.log");
    let seen: Vec<u64> = all.iter().map(|l| l["i"].as_u64().unwrap()).collect();
    assert_eq!(seen, (0..200).collect::<Vec<u64>>());

    // No file exceeds the limit (no single line here is longer than it).
    for name in &names {
        let len = fs::metadata(dir.path().join(name)).unwrap().len();
        assert!(len <= 1_000, "{name} has {len} bytes");
        assert!(len > 0, "{name} is empty");
    }
}

#[test]
fn a_line_longer_than_the_limit_is_written_whole_alone() {
    let dir = TempDir::new("long-line");
    let clock = Clock::at(NOV_26);
    let mut file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Size(100))
        .with_clock(clock.func())
        .build()
        .unwrap();
    let long = format!("{}\n", json!({"big": "y".repeat(500)}));
    file.write_all(b"{\"n\":1}\n").unwrap();
    file.write_all(long.as_bytes()).unwrap();
    file.write_all(b"{\"n\":2}\n").unwrap();
    file.flush().unwrap();

    assert_eq!(
        dir.names(),
        with_active(seq_names("2026-11-26", 1..=2)),
        "the long line gets a file of its own"
    );
    assert_eq!(dir.lines("app.2026-11-26.000001.log"), [json!({"n": 1})]);
    assert_eq!(
        fs::read_to_string(dir.path().join("app.2026-11-26.000002.log")).unwrap(),
        long
    );
    assert_eq!(dir.lines("app.log"), [json!({"n": 2})]);
}

#[test]
fn concurrent_writers_never_split_a_line() {
    let dir = TempDir::new("threads");
    let file = RollingFile::builder(dir.path(), "app")
        .max_size(2_048)
        .build()
        .unwrap();
    let log = LogLayer::new(JsonTransport::new(file));
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..250u64 {
                    log.with_metadata(
                        json!({"t": t, "i": i, "pad": "z".repeat((i % 50) as usize)}),
                    )
                    .info("threaded");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    log.flush();

    let all = dir.all_lines("app.log");
    assert_eq!(all.len(), 1_000);
    // Each thread's lines appear in its own order.
    for t in 0..4u64 {
        let mine: Vec<u64> = all
            .iter()
            .filter(|l| l["t"] == t)
            .map(|l| l["i"].as_u64().unwrap())
            .collect();
        assert_eq!(mine, (0..250).collect::<Vec<u64>>());
    }
    assert!(dir.names().len() > 2);
}

#[test]
fn retention_deletes_the_oldest_beyond_max_files() {
    let dir = TempDir::new("retention");
    let clock = Clock::at(NOV_26 + 3 * HOUR);
    let mut file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Size(60))
        .max_files(3)
        .with_clock(clock.func())
        .build()
        .unwrap();
    // Each line is about 40 bytes, so each file holds one line.
    for i in 0..10 {
        let line = format!("{}\n", json!({"i": i, "pad": "0123456789abcdef"}));
        file.write_all(line.as_bytes()).unwrap(); // one call per line
    }
    drop(file);

    assert_eq!(
        dir.names(),
        with_active(seq_names("2026-11-26", 7..=9)),
        "only the three newest rotated files remain"
    );
    let kept: Vec<u64> = dir
        .all_lines("app.log")
        .iter()
        .map(|l| l["i"].as_u64().unwrap())
        .collect();
    assert_eq!(kept, [6, 7, 8, 9], "the newest lines are the ones kept");
}

#[test]
fn retention_zero_keeps_only_the_active_file() {
    let dir = TempDir::new("retention-zero");
    let clock = Clock::at(NOV_26);
    let mut file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Daily)
        .max_files(0)
        .with_clock(clock.func())
        .build()
        .unwrap();
    for _ in 0..3 {
        file.write_all(b"{}\n").unwrap();
        clock.advance(DAY);
    }
    assert_eq!(dir.names(), ["app.log"]);
}

#[test]
fn retention_leaves_other_files_alone() {
    let dir = TempDir::new("retention-others");
    fs::create_dir_all(dir.path()).unwrap();
    for name in [
        "app.2020-01-01.log",
        "app.log.1",             // logrotate's name
        "app.2020-01-01.txt",    // another suffix
        "other.2020-01-01.log",  // another prefix
        "app.notes.log",         // not a stamp
        "app.2020-01-01.x1.log", // not a sequence number
    ] {
        fs::write(dir.path().join(name), "{}\n").unwrap();
    }
    let file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Daily)
        .max_files(0)
        .build()
        .unwrap();
    drop(file);
    assert_eq!(
        dir.names(),
        [
            "app.2020-01-01.txt",
            "app.2020-01-01.x1.log",
            "app.log",
            "app.log.1",
            "app.notes.log",
            "other.2020-01-01.log",
        ]
    );
}

#[test]
fn daily_rotation_uses_the_utc_day_of_the_lines() {
    let dir = TempDir::new("daily");
    let clock = Clock::at(NOV_26 + 23 * HOUR + 59 * 60); // 2026-11-26T23:59Z
    let file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Daily)
        .with_clock(clock.func())
        .build()
        .unwrap();
    let log = LogLayer::new(JsonTransport::new(file));
    for i in 0..3 {
        log.with_metadata(json!({"day": 26, "i": i})).info("a");
    }
    clock.set(NOV_26 + DAY + 1); // 2026-11-27T00:00:01Z
    for i in 0..2 {
        log.with_metadata(json!({"day": 27, "i": i})).info("b");
    }
    clock.set(NOV_26 + 2 * DAY + 5 * HOUR); // 2026-11-28T05:00Z
    log.with_metadata(json!({"day": 28})).info("c");
    log.flush();

    assert_eq!(
        dir.names(),
        ["app.2026-11-26.log", "app.2026-11-27.log", "app.log"]
    );
    let days =
        |name: &str| -> Vec<Value> { dir.lines(name).iter().map(|l| l["day"].clone()).collect() };
    assert_eq!(days("app.2026-11-26.log"), [26, 26, 26]);
    assert_eq!(days("app.2026-11-27.log"), [27, 27]);
    assert_eq!(days("app.log"), [28]);
}

#[test]
fn daily_rotation_skips_days_without_lines() {
    let dir = TempDir::new("daily-gap");
    let clock = Clock::at(NOV_26);
    let mut file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Daily)
        .with_clock(clock.func())
        .build()
        .unwrap();
    file.write_all(b"{\"d\":1}\n").unwrap();
    clock.advance(10 * DAY); // nothing written in between: no empty files
    file.write_all(b"{\"d\":2}\n").unwrap();
    assert_eq!(dir.names(), ["app.2026-11-26.log", "app.log"]);
}

#[test]
fn hourly_rotation_names_across_a_year_boundary() {
    let dir = TempDir::new("hourly");
    let new_year = 1_798_761_600; // 2027-01-01T00:00:00Z
    let clock = Clock::at(new_year - HOUR + 30 * 60); // 2026-12-31T23:30Z
    let mut file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Hourly)
        .with_clock(clock.func())
        .build()
        .unwrap();
    file.write_all(b"{\"h\":23}\n").unwrap();
    clock.set(new_year + 10 * 60);
    file.write_all(b"{\"h\":0}\n").unwrap();
    clock.set(new_year + 59 * 60);
    file.write_all(b"{\"h\":0}\n").unwrap();
    clock.set(new_year + HOUR + 1);
    file.write_all(b"{\"h\":1}\n").unwrap();

    assert_eq!(
        dir.names(),
        ["app.2026-12-31-23.log", "app.2027-01-01-00.log", "app.log"]
    );
    assert_eq!(dir.lines("app.2026-12-31-23.log"), [json!({"h": 23})]);
    assert_eq!(dir.lines("app.2027-01-01-00.log").len(), 2);
    assert_eq!(dir.lines("app.log"), [json!({"h": 1})]);
}

#[test]
fn hourly_with_max_size_numbers_files_within_each_hour() {
    let dir = TempDir::new("hourly-size");
    let clock = Clock::at(NOV_26 + 5 * HOUR);
    let mut file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Hourly)
        .max_size(25)
        .with_clock(clock.func())
        .build()
        .unwrap();
    let line = b"{\"pad\":\"0123456789\"}\n"; // 21 bytes: one per file
    for _ in 0..3 {
        file.write_all(line).unwrap();
    }
    clock.advance(HOUR);
    file.write_all(line).unwrap(); // time rotation of the 05 file
    file.write_all(line).unwrap(); // size rotation within 06

    assert_eq!(
        dir.names(),
        with_active(
            [
                seq_names("2026-11-26-05", 1..=3),
                seq_names("2026-11-26-06", 1..=1)
            ]
            .concat()
        )
    );
}

#[test]
fn never_rotation_keeps_one_file() {
    let dir = TempDir::new("never");
    let clock = Clock::at(NOV_26);
    let mut file = RollingFile::builder(dir.path(), "app")
        .with_clock(clock.func())
        .build()
        .unwrap();
    for _ in 0..5 {
        file.write_all(b"{}\n").unwrap();
        clock.advance(DAY);
    }
    assert_eq!(dir.names(), ["app.log"]);
    assert_eq!(dir.lines("app.log").len(), 5);
}

#[test]
fn reopens_after_the_active_file_is_removed() {
    let dir = TempDir::new("reopen-rm");
    let clock = Clock::at(NOV_26);
    let file = RollingFile::builder(dir.path(), "app")
        .with_clock(clock.func())
        .build()
        .unwrap();
    let log = LogLayer::new(JsonTransport::new(file));
    log.info("before");
    fs::remove_file(dir.path().join("app.log")).unwrap();

    clock.advance(2); // the next check is due
    log.info("after 1");
    log.info("after 2");
    log.flush();

    let msgs: Vec<Value> = dir
        .lines("app.log")
        .iter()
        .map(|l| l["msg"].clone())
        .collect();
    assert_eq!(msgs, ["after 1", "after 2"]);
    assert_eq!(dir.names(), ["app.log"]);
}

#[test]
fn reopens_after_an_outside_rename_like_logrotate() {
    let dir = TempDir::new("reopen-mv");
    let clock = Clock::at(NOV_26);
    let mut file = RollingFile::builder(dir.path(), "app")
        .with_clock(clock.func())
        .build()
        .unwrap();
    file.write_all(b"{\"n\":1}\n").unwrap();
    fs::rename(dir.path().join("app.log"), dir.path().join("app.log.1")).unwrap();
    file.write_all(b"{\"n\":2}\n").unwrap(); // same second: still the old file
    clock.advance(1);
    file.write_all(b"{\"n\":3}\n").unwrap();

    assert_eq!(dir.names(), ["app.log", "app.log.1"]);
    assert_eq!(dir.lines("app.log.1"), [json!({"n": 1}), json!({"n": 2})]);
    assert_eq!(dir.lines("app.log"), [json!({"n": 3})]);
}

#[test]
fn reopens_when_the_whole_directory_is_removed() {
    let dir = TempDir::new("reopen-dir");
    let clock = Clock::at(NOV_26);
    let mut file = RollingFile::builder(dir.path().join("logs"), "app")
        .with_clock(clock.func())
        .build()
        .unwrap();
    file.write_all(b"{\"n\":1}\n").unwrap();
    fs::remove_dir_all(dir.path()).unwrap();
    clock.advance(5);
    file.write_all(b"{\"n\":2}\n").unwrap();
    let text = fs::read_to_string(dir.path().join("logs/app.log")).unwrap();
    assert_eq!(text, "{\"n\":2}\n");
}

#[test]
fn copytruncate_resets_the_size_count() {
    let dir = TempDir::new("truncate");
    let clock = Clock::at(NOV_26);
    let mut file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Size(100))
        .with_clock(clock.func())
        .build()
        .unwrap();
    let line = format!("{}\n", json!({"pad": "p".repeat(30)})); // 41 bytes
    file.write_all(line.as_bytes()).unwrap();
    file.write_all(line.as_bytes()).unwrap();
    // An outside rotator copies then truncates in place.
    fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("app.log"))
        .unwrap()
        .set_len(0)
        .unwrap();
    clock.advance(1);
    file.write_all(line.as_bytes()).unwrap();
    file.write_all(line.as_bytes()).unwrap();
    assert_eq!(
        dir.names(),
        ["app.log"],
        "no rotation: the file was emptied"
    );
    assert_eq!(dir.lines("app.log").len(), 2);
}

#[test]
fn creates_missing_directories() {
    let dir = TempDir::new("mkdir");
    let nested = dir.path().join("a/b/c");
    assert!(!nested.exists());
    let mut file = RollingFile::builder(&nested, "app").build().unwrap();
    assert_eq!(file.path(), nested.join("app.log"));
    file.write_all(b"{}\n").unwrap();
    file.flush().unwrap();
    assert_eq!(fs::read_to_string(nested.join("app.log")).unwrap(), "{}\n");
}

#[test]
fn an_unusable_directory_is_an_error_not_a_panic() {
    let dir = TempDir::new("unwritable");
    fs::create_dir_all(dir.path()).unwrap();

    // A regular file where a directory should be (fails even as root).
    let plain = dir.path().join("plain");
    fs::write(&plain, "").unwrap();
    assert!(RollingFile::builder(&plain, "app").build().is_err());
    assert!(RollingFile::builder(plain.join("sub"), "app")
        .build()
        .is_err());

    // A directory where the active file should be.
    fs::create_dir_all(dir.path().join("taken.log")).unwrap();
    assert!(RollingFile::builder(dir.path(), "taken").build().is_err());

    // A read-only directory (only meaningful when permissions apply: not as root).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.path().join("ro");
        fs::create_dir_all(&ro).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
        let enforced = fs::write(ro.join("probe"), "").is_err();
        if enforced {
            let err = RollingFile::builder(&ro, "app").build().unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
        }
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    }

    // Names that would escape the directory.
    for (prefix, suffix) in [("", "log"), ("../app", "log"), ("app", "a/b"), ("..", "")] {
        let err = RollingFile::builder(dir.path(), prefix)
            .suffix(suffix)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}

#[test]
fn restart_continues_numbering_and_never_overwrites() {
    let dir = TempDir::new("restart");
    for run in 0..2u64 {
        let file = RollingFile::builder(dir.path(), "app")
            .rotation(Rotation::Size(300))
            .build()
            .unwrap();
        let log = LogLayer::new(JsonTransport::new(file));
        for i in 0..30 {
            log.with_metadata(json!({"n": run * 100 + i}))
                .info("restart");
        }
    }
    let all: Vec<u64> = dir
        .all_lines("app.log")
        .iter()
        .map(|l| l["n"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (0..30).chain(100..130).collect();
    assert_eq!(
        all, expected,
        "rotated names sort chronologically across runs"
    );
}

#[test]
fn a_file_left_from_yesterday_is_rotated_under_yesterdays_name() {
    let dir = TempDir::new("yesterday");
    fs::create_dir_all(dir.path()).unwrap();
    let active = dir.path().join("app.log");
    fs::write(&active, "{\"old\":true}\n").unwrap();
    let yesterday = UNIX_EPOCH + Duration::from_secs(NOV_26 + 20 * HOUR);
    fs::File::options()
        .write(true)
        .open(&active)
        .unwrap()
        .set_modified(yesterday)
        .unwrap();

    let clock = Clock::at(NOV_26 + DAY + 8 * HOUR);
    let mut file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Daily)
        .with_clock(clock.func())
        .build()
        .unwrap();
    file.write_all(b"{\"old\":false}\n").unwrap();
    assert_eq!(dir.names(), ["app.2026-11-26.log", "app.log"]);
    assert_eq!(dir.lines("app.2026-11-26.log"), [json!({"old": true})]);
    assert_eq!(dir.lines("app.log"), [json!({"old": false})]);
}

#[test]
fn a_time_rotated_name_already_taken_is_not_overwritten() {
    let dir = TempDir::new("taken");
    fs::create_dir_all(dir.path()).unwrap();
    fs::write(dir.path().join("app.2026-11-26.log"), "{\"first\":true}\n").unwrap();
    let clock = Clock::at(NOV_26 + HOUR);
    let mut file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Daily)
        .with_clock(clock.func())
        .build()
        .unwrap();
    file.write_all(b"{\"second\":true}\n").unwrap();
    clock.advance(DAY);
    file.write_all(b"{\"third\":true}\n").unwrap();
    assert_eq!(
        dir.names(),
        ["app.2026-11-26.000001.log", "app.2026-11-26.log", "app.log"]
    );
    assert_eq!(dir.lines("app.2026-11-26.log"), [json!({"first": true})]);
    assert_eq!(
        dir.lines("app.2026-11-26.000001.log"),
        [json!({"second": true})]
    );
}

#[test]
fn a_line_written_in_pieces_is_not_split_by_rotation() {
    let dir = TempDir::new("pieces");
    let clock = Clock::at(NOV_26);
    let mut file = RollingFile::builder(dir.path(), "app")
        .rotation(Rotation::Size(10))
        .suffix("")
        .with_clock(clock.func())
        .build()
        .unwrap();
    file.write_all(b"{\"a\":").unwrap();
    file.write_all(b"\"0123456789\"").unwrap();
    file.write_all(b"}\n").unwrap();
    file.write_all(b"{}\n").unwrap();
    assert_eq!(dir.names(), ["app", "app.2026-11-26.000001"]);
    assert_eq!(
        dir.lines("app.2026-11-26.000001"),
        [json!({"a": "0123456789"})]
    );
    assert_eq!(dir.lines("app"), [json!({})]);
}

#[test]
fn writer_is_send_and_debug() {
    fn assert_send<T: Send + 'static>(_: &T) {}
    let dir = TempDir::new("send");
    let file = RollingFile::builder(dir.path(), "app").build().unwrap();
    assert_send(&file);
    assert!(format!("{file:?}").contains("RollingFile"));
}
