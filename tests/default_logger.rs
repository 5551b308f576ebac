//! The default logger: what `current()` is outside every scope, and its level
//! from `LOGLAYER_LEVEL`. Each case runs in a child process, because the
//! default logger is process-wide and read once.

use std::process::Command;

use loglayer::Level;

/// Runs the test named `name` of this binary in a child with `LOGLAYER_LEVEL`
/// set (or unset), returning its stdout and stderr.
fn child(name: &str, level: Option<&str>) -> (String, String) {
    child_with(name, level, None)
}

fn child_with(name: &str, level: Option<&str>, format: Option<&str>) -> (String, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("LOGLAYER_DEFAULT_CHILD", "1");
    match level {
        Some(l) => cmd.env("LOGLAYER_LEVEL", l),
        None => cmd.env_remove("LOGLAYER_LEVEL"),
    };
    match format {
        Some(f) => cmd.env("LOGLAYER_FORMAT", f),
        None => cmd.env_remove("LOGLAYER_FORMAT"),
    };
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "child {name} failed:\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

fn in_child() -> bool {
    std::env::var_os("LOGLAYER_DEFAULT_CHILD").is_some()
}

#[test]
fn child_reports_levels() {
    if !in_child() {
        return;
    }
    let log = loglayer::current();
    let enabled: Vec<&str> = Level::ALL
        .iter()
        .filter(|l| log.is_level_enabled(**l))
        .map(|l| l.as_str())
        .collect();
    println!("ENABLED={}", enabled.join(","));
    loglayer::info!(marker = "visible-info", "an info line");
    loglayer::debug!(marker = "visible-debug", "a debug line");
}

fn enabled_line(stdout: &str) -> &str {
    stdout
        .lines()
        .find_map(|l| l.split("ENABLED=").nth(1))
        .expect("child printed its levels")
}

#[test]
fn default_is_a_console_logger_at_info() {
    if in_child() {
        return;
    }
    let (stdout, _) = child("child_reports_levels", None);
    assert_eq!(enabled_line(&stdout), "info,warn,error,fatal");
    assert!(
        stdout.contains("an info line") && stdout.contains("visible-info"),
        "{stdout}"
    );
    assert!(!stdout.contains("a debug line"), "{stdout}");
    assert!(
        !stdout.contains("{\"time\""),
        "console format, not JSON: {stdout}"
    );
}

#[test]
fn loglayer_level_sets_the_default_level() {
    if in_child() {
        return;
    }
    let (stdout, _) = child("child_reports_levels", Some("debug"));
    assert_eq!(enabled_line(&stdout), "debug,info,warn,error,fatal");
    assert!(stdout.contains("a debug line"), "{stdout}");
    let (stdout, _) = child("child_reports_levels", Some("ERROR"));
    assert_eq!(enabled_line(&stdout), "error,fatal");
}

#[test]
fn a_malformed_level_warns_once_and_falls_back_to_info() {
    if in_child() {
        return;
    }
    for bad in ["my_app=loud", "debug,=warn", "warn,debug", "my app=info"] {
        let (stdout, stderr) = child("child_reports_levels", Some(bad));
        assert_eq!(enabled_line(&stdout), "info,warn,error,fatal", "{bad}");
        assert_eq!(
            stderr.matches("LOGLAYER_LEVEL").count(),
            1,
            "{bad}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn child_logs_from_two_modules() {
    if !in_child() {
        return;
    }
    mod db {
        pub fn query() {
            loglayer::debug!("db debug line");
        }
    }
    db::query();
    loglayer::debug!("top debug line");
    loglayer::warn!("top warn line");
}

#[test]
fn per_target_directives_choose_levels_by_module_path() {
    if in_child() {
        return;
    }
    let (stdout, _) = child(
        "child_logs_from_two_modules",
        Some("warn,default_logger::db=debug"),
    );
    assert!(stdout.contains("db debug line"), "{stdout}");
    assert!(!stdout.contains("top debug line"), "{stdout}");
    assert!(stdout.contains("top warn line"), "{stdout}");
    let (stdout, _) = child(
        "child_logs_from_two_modules",
        Some("debug,default_logger=off"),
    );
    assert!(
        !stdout.contains("line"),
        "a target set to off is silent: {stdout}"
    );
}

#[test]
fn loglayer_format_json_switches_the_default_to_json_lines() {
    if in_child() {
        return;
    }
    let (stdout, _) = child_with("child_reports_levels", None, Some("json"));
    let line = stdout
        .lines()
        .find(|l| l.contains("an info line"))
        .expect("the info entry");
    let start = line.find('{').unwrap();
    let v: serde_json::Value = serde_json::from_str(&line[start..]).unwrap();
    assert_eq!(v["marker"], "visible-info");
    let (stdout, stderr) = child_with("child_reports_levels", None, Some("yaml"));
    assert!(stderr.contains("LOGLAYER_FORMAT"), "{stderr}");
    assert!(stdout.contains("INFO"), "falls back to console: {stdout}");
}

#[test]
fn current_outside_scopes_is_the_default_and_try_current_is_none() {
    if in_child() {
        return;
    }
    assert!(loglayer::try_current().is_none());
    let a = loglayer::current();
    let b = loglayer::current();
    assert!(a.ptr_eq(&b), "the same default logger");
}
