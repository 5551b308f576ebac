//! Exit behaviour of a process logging through `NonBlocking`, in a child
//! process (`tests/support/exit_probe.rs`): returning from `main`, panicking,
//! `process::exit`, a closed stdout (`| head -1`) and `/dev/full`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

const PROBE: &str = env!("CARGO_BIN_EXE_loglayer-exit-probe");
/// Generous: only a hang gets anywhere near it.
const HANG: Duration = Duration::from_secs(20);

fn probe(args: &[&str]) -> Command {
    let mut cmd = Command::new(PROBE);
    cmd.args(args).env_remove("LOGLAYER_LEVEL");
    cmd
}

/// Waits for `child`, killing it and failing the test after [`HANG`].
fn wait_bounded(child: &mut Child, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: the probe did not exit within {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the probe to completion with stdout and stderr captured, bounded.
fn run(args: &[&str]) -> Output {
    let mut child = probe(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn probe");
    // Drain both pipes on threads so a full pipe cannot stall the probe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = wait_bounded(&mut child, &args.join(" "));
    Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

/// Every stdout line is a complete JSON entry; they are entries 0..n in order.
fn assert_n_complete_lines(out: &Output, n: u64) {
    let text = String::from_utf8(out.stdout.clone()).expect("utf-8 stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "last line is incomplete; stderr: {stderr}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len() as u64,
        n,
        "expected exactly {n} lines; stderr: {stderr}"
    );
    for (i, line) in lines.iter().enumerate() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {i} {line:?}: {e}"));
        assert_eq!(v["msg"], "probe entry");
        assert_eq!(v["i"], i as u64, "line {i} out of order");
    }
}

#[test]
fn returning_from_main_with_the_guard_alive_writes_every_line() {
    let out = run(&["return", "20000"]);
    assert!(out.status.success(), "{:?}", out.status);
    assert_n_complete_lines(&out, 20000);
}

#[test]
fn returning_from_main_waits_for_a_slow_writer() {
    let out = run(&["return", "300", "slow"]);
    assert!(out.status.success(), "{:?}", out.status);
    assert_n_complete_lines(&out, 300);
}

#[test]
fn panicking_in_main_with_the_guard_alive_writes_every_line() {
    for args in [&["panic", "20000"][..], &["panic", "300", "slow"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(101), "{args:?}: {:?}", out.status);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("probe panics"), "{stderr}");
        assert_n_complete_lines(&out, args[1].parse().unwrap());
    }
}

#[test]
fn dropping_the_guard_before_process_exit_writes_every_line() {
    let out = run(&["exit", "300", "slow"]);
    assert_eq!(out.status.code(), Some(3), "{:?}", out.status);
    assert_n_complete_lines(&out, 300);
}

#[test]
fn the_panic_hook_flushes_when_the_guard_is_not_dropped() {
    let out = run(&["hook", "300", "slow"]);
    assert_eq!(out.status.code(), Some(101), "{:?}", out.status);
    assert_n_complete_lines(&out, 300);
}

#[test]
fn a_closed_stdout_makes_no_panic_and_no_hang() {
    let mut child = probe(&["head", "200000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn probe");
    let mut stderr = child.stderr.take().unwrap();
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    {
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).expect("read the first line");
        let v: serde_json::Value = serde_json::from_str(&first).expect("first line is JSON");
        assert_eq!(v["i"], 0);
        // `reader` drops here: the read end of the pipe closes, like `head -1`.
    }
    let status = wait_bounded(&mut child, "head");
    let stderr = err_t.join().unwrap();
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(status.success(), "{status:?}; stderr: {stderr}");
    let counts = parse_counts(&stderr);
    assert_eq!(
        counts.written + counts.failed + counts.dropped,
        200000,
        "{stderr}"
    );
    assert!(
        counts.failed > 0,
        "the closed pipe was not noticed: {stderr}"
    );
}

#[test]
fn dev_full_makes_no_panic_and_counts_failures() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full on this system");
        return;
    };
    let mut child = probe(&["full", "1000"])
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn probe");
    let mut stderr = child.stderr.take().unwrap();
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = wait_bounded(&mut child, "full");
    let stderr = err_t.join().unwrap();
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(status.success(), "{status:?}; stderr: {stderr}");
    let counts = parse_counts(&stderr);
    assert!(counts.failed > 0, "{stderr}");
    assert_eq!(counts.written, 0, "{stderr}");
    assert_eq!(counts.failed + counts.dropped, 1000, "{stderr}");
}

struct Counts {
    written: u64,
    failed: u64,
    dropped: u64,
}

/// Parses the probe's `written=W failed=F dropped=D` line.
fn parse_counts(stderr: &str) -> Counts {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("written="))
        .unwrap_or_else(|| panic!("no counts line on stderr: {stderr}"));
    let get = |key: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {line:?}"))
    };
    Counts {
        written: get("written"),
        failed: get("failed"),
        dropped: get("dropped"),
    }
}
