//! Security (RELIABILITY.md, "Security"): log forging, terminal injection
//! and redaction, checked on every part of an entry and every output. The
//! property-based versions are in tests/proptest_output.rs; the HTTP
//! request-id checks are in tests/middleware.rs.

use loglayer_suite::SharedBuf as Buf;
use std::fmt;

use loglayer::plugin::Redact;
use loglayer::transport::{CaptureTransport, ConsoleTransport, JsonTransport};
use loglayer::{Level, LogLayer, RawEntry};
use serde_json::{json, Value};

/// An error with a source chain, both with hostile text.
#[derive(Debug)]
struct Chain(String, Option<Box<Chain>>);
impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Chain {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.1.as_deref().map(|e| e as _)
    }
}

/// A forged second entry, for each kind of line break.
fn forgeries() -> Vec<String> {
    ["\n", "\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}", "\u{b}", "\u{c}"]
        .iter()
        .map(|br| {
            format!(
                "x{br}{{\"time\":\"2020-01-01T00:00:00.000Z\",\"level\":\"fatal\",\"msg\":\"forged\"}}{br}12:00:00.000 FATAL forged"
            )
        })
        .collect()
}

/// Logs `s` in every part of an entry: message, prefix, context key and
/// value, metadata key and nested value, macro fields (serde, Display,
/// Debug), error message and sources, `raw`.
fn log_everywhere(log: &LogLayer, s: &str) -> usize {
    log.with_context(json!({ s: s, "ctx": [s] }));
    let child = log.with_prefix(s);
    child
        .with_metadata(json!({ s: { s: [s] } }))
        .with_error(&Chain(
            s.to_owned(),
            Some(Box::new(Chain(s.to_owned(), None))),
        ))
        .error(s);
    loglayer::sync_scope(child.clone(), || {
        loglayer::warn!(a = s, b = %s, c = ?s, "k.e.y" = s, "{s}");
    });
    log.raw(
        RawEntry::new(Level::Fatal, s)
            .metadata(json!({ s: s }))
            .context(json!({ s: s })),
    );
    log.error_only(&Chain(s.to_owned(), None));
    log.clear_context();
    4
}

#[test]
fn log_forging_a_line_break_in_any_part_never_starts_a_new_line_in_any_output() {
    for forged in forgeries() {
        let json_out = Buf::default();
        let console_out = Buf::default();
        let console_colour = Buf::default();
        let capture = CaptureTransport::new();
        let log = LogLayer::builder()
            .transport(JsonTransport::new(json_out.clone()))
            .transport(ConsoleTransport::new(console_out.clone()))
            .transport(ConsoleTransport::new(console_colour.clone()).with_color(true))
            .transport(capture.clone())
            .build();
        let n = log_everywhere(&log, &forged);

        let json = json_out.text();
        assert_eq!(json.matches('\n').count(), n, "{forged:?}: {json}");
        for line in json.lines() {
            assert!(!line.contains('\r'), "{forged:?}: {line}");
            let v: Value = serde_json::from_str(line).expect("valid line");
            assert_ne!(v["msg"], "forged", "a forged entry parsed: {line}");
        }
        for text in [console_out.text(), console_colour.text()] {
            assert_eq!(text.matches('\n').count(), n, "{forged:?}: {text}");
            for bad in ['\r', '\u{85}', '\u{2028}', '\u{2029}', '\u{b}', '\u{c}'] {
                assert!(!text.contains(bad), "{forged:?}: raw {bad:?} in {text}");
            }
            for line in text.lines() {
                assert!(!line.starts_with("12:00:00.000 FATAL"), "forged: {line}");
            }
        }
        assert_eq!(capture.len(), n);
        for line in capture.lines() {
            assert!(!line.contains('\n') && !line.contains('\r'));
        }
    }
}

/// Escape sequences and controls a terminal would act on.
const INJECTIONS: [&str; 10] = [
    "\x1b[2J\x1b[H",                               // clear screen
    "\x1b]0;owned\x07",                            // set window title (OSC, BEL)
    "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", // OSC 8 hyperlink
    "\u{9b}31m",                                   // C1 CSI
    "\u{9d}0;t\u{9c}",                             // C1 OSC / ST
    "\x07\x08\x7f",                                // BEL, BS, DEL
    "\x1bP+q\x1b\\",                               // DCS
    "abc\u{202e}fed\u{2066}x\u{2069}",             // bidi override / isolate
    "\x1b[31mred\x1b[0m",                          // colour from data
    "\u{0}\u{1}\u{1f}",
];

fn our_sequences_removed(text: &str) -> String {
    let mut rest = text.to_owned();
    for seq in [
        "\x1b[0m",
        "\x1b[2m",
        "\x1b[32m",
        "\x1b[33m",
        "\x1b[31m",
        "\x1b[1;31m",
    ] {
        rest = rest.replace(seq, "");
    }
    rest
}

#[test]
fn terminal_injection_is_escaped_by_the_console_while_its_own_colours_work() {
    for injection in INJECTIONS {
        for colour in [false, true] {
            let out = Buf::default();
            let log = LogLayer::new(ConsoleTransport::new(out.clone()).with_color(colour));
            let n = log_everywhere(&log, injection);
            let text = out.text();
            assert_eq!(text.matches('\n').count(), n);
            let data_part = our_sequences_removed(&text);
            for c in data_part.chars() {
                let raw_control = (c.is_control() && c != '\n')
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c);
                assert!(
                    !raw_control,
                    "{injection:?} colour={colour}: raw {c:?} in {text:?}"
                );
            }
            if colour {
                // The transport's own colours are still there, per level.
                assert!(text.contains("\x1b[31mERROR\x1b[0m"), "{text:?}");
                assert!(text.contains("\x1b[33mWARN \x1b[0m"), "{text:?}");
                assert!(text.contains("\x1b[1;31mFATAL\x1b[0m"), "{text:?}");
            } else {
                assert!(!text.contains('\x1b'), "{text:?}");
            }
        }
    }
}

#[test]
fn the_json_writer_escapes_every_control_and_separator_from_data() {
    for injection in INJECTIONS.iter().map(|s| s.to_string()).chain(forgeries()) {
        let out = Buf::default();
        let log = LogLayer::new(JsonTransport::new(out.clone()));
        let n = log_everywhere(&log, &injection);
        let text = out.text();
        assert_eq!(text.matches('\n').count(), n);
        for c in text.chars() {
            let raw = (c.is_control() && c != '\n' && !('\u{80}'..='\u{9f}').contains(&c))
                || c == '\u{2028}'
                || c == '\u{2029}';
            assert!(!raw, "{injection:?}: raw {c:?} in {text:?}");
        }
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).expect("valid");
            if v["level"] == "fatal" {
                assert_eq!(v["msg"].as_str(), Some(injection.as_str()), "round-trips");
            }
        }
    }
}

// ----------------------------------------------------------------------------
// Redaction.

fn redacting(capture: &CaptureTransport) -> LogLayer {
    LogLayer::builder()
        .transport(capture.clone())
        .plugin(
            Redact::new()
                .keys(["password", "authorization"])
                .values(["s3cr3t-token"]),
        )
        .build()
}

fn assert_clean(capture: &CaptureTransport, secret: &str) {
    for line in capture.lines() {
        assert!(!line.contains(secret), "{secret} leaked: {line}");
        assert!(!line.contains("hunter2"), "key-marked value leaked: {line}");
    }
}

#[test]
fn redaction_covers_errors_sources_macros_raw_and_children_made_before_and_after() {
    let capture = CaptureTransport::new();
    let log = redacting(&capture);
    let early_child = log.child();
    log.with_context(json!({ "password": "hunter2", "note": "has s3cr3t-token inside" }));
    let late_child = log.child();
    let prefixed = log.with_prefix("s3cr3t-token:");
    let err = Chain(
        "login failed for s3cr3t-token".into(),
        Some(Box::new(Chain("cause: s3cr3t-token".into(), None))),
    );
    for l in [&log, &early_child, &late_child, &prefixed] {
        l.with_error(&err).error("e s3cr3t-token");
        l.error_only(&err);
        l.with_metadata(json!({ "Authorization": "Bearer hunter2", "n": ["s3cr3t-token"] }))
            .info("m");
        loglayer::sync_scope(l.clone(), || {
            loglayer::error!(password = "hunter2", t = %"s3cr3t-token", err = &err, "macro s3cr3t-token");
        });
        l.raw(
            RawEntry::new(Level::Warn, "raw s3cr3t-token")
                .metadata(json!({ "password": "hunter2" }))
                .context(json!({ "x": "s3cr3t-token" }))
                .error(&err),
        );
    }
    assert_eq!(capture.len(), 4 * 5, "nothing dropped");
    assert_clean(&capture, "s3cr3t-token");
    // Children got the censor, not nothing.
    let entries = capture.entries();
    assert!(entries.iter().any(|e| e["password"] == "[REDACTED]"));
    assert!(entries.iter().any(|e| e["Authorization"] == "[REDACTED]"));
}

#[test]
fn redaction_never_mutates_the_callers_data() {
    let capture = CaptureTransport::new();
    let log = redacting(&capture);
    let mut data = json!({ "password": "hunter2", "list": ["s3cr3t-token"] });
    let before = data.clone();
    log.with_metadata(&data).info("x");
    log.with_context(&data);
    log.info("y");
    assert_eq!(data, before);
    data["extra"] = json!(1); // still the caller's own value
    assert_clean(&capture, "s3cr3t-token");
}

#[test]
fn redaction_fails_closed_in_every_transport_when_a_value_is_too_deep() {
    let capture = CaptureTransport::new();
    let json_out = Buf::default();
    let console_out = Buf::default();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .transport(JsonTransport::new(json_out.clone()))
        .transport(ConsoleTransport::new(console_out.clone()))
        .plugin(Redact::new().keys(["password"]).max_depth(4))
        .build();
    let deep = json!({ "a": { "b": { "c": { "d": { "e": { "password": "hunter2" } } } } } });
    let dropped_before = loglayer::failures().dropped_entries;
    log.with_metadata(&deep).info("too deep to check");
    log.with_context(&deep);
    log.info("context too deep to check");
    assert_eq!(capture.len(), 0, "{:?}", capture.lines());
    assert_eq!(json_out.text(), "");
    assert_eq!(console_out.text(), "");
    assert!(loglayer::failures().dropped_entries >= dropped_before + 2);
    log.clear_context();
    log.info("shallow again");
    assert_eq!(capture.messages(), ["shallow again"]);
}

#[test]
fn the_json_writer_escapes_nel_so_no_unicode_reader_splits_the_line() {
    let out = Buf::default();
    let log = LogLayer::new(JsonTransport::new(out.clone()));
    let n = log_everywhere(&log, "x\u{85}{\"level\":\"fatal\",\"msg\":\"forged\"}");
    let text = out.text();
    assert_eq!(text.matches('\n').count(), n);
    assert!(!text.contains('\u{85}'), "raw NEL in {text:?}");
}
