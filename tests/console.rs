//! `ConsoleTransport`: the human format, colour, and escaping of hostile data
//! (log forging, terminal injection), through the public API only.

use std::collections::HashSet;
use std::error::Error;
use std::fmt;
use std::io;
use std::sync::Arc;

use loglayer::transport::{ConsoleTransport, Transport};
use loglayer::{Level, LogLayer};
use loglayer_suite::WriteCalls as Calls;
use serde_json::json;

/// A logger at trace level writing to a console transport without the time
/// column, plus its output.
fn logger(color: bool) -> (LogLayer, Calls) {
    let out = Calls::default();
    let log = LogLayer::new(
        ConsoleTransport::new(out.clone())
            .with_time(false)
            .with_color(color),
    );
    log.set_level(Level::Trace);
    (log, out)
}

/// Characters that must never appear raw in console output (independent of
/// the implementation's own list).
fn is_forbidden(c: char) -> bool {
    c.is_control() // C0, DEL, C1
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// Asserts `out` holds exactly one entry: one write call, one line, no raw
/// forbidden character before the final newline.
fn assert_one_safe_line(out: &Calls) -> String {
    let calls = out.calls();
    assert_eq!(calls.len(), 1, "expected one write call, got {calls:?}");
    let text = String::from_utf8(calls[0].clone()).unwrap();
    let body = text
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("no final newline: {text:?}"));
    for c in body.chars() {
        assert!(!is_forbidden(c), "raw {c:?} in {body:?}");
    }
    body.to_owned()
}

/// Removes the transport's own SGR sequences; anything else stays.
fn strip_our_sgr(s: &str) -> String {
    let mut out = s.to_owned();
    for seq in [
        "\x1b[0m",
        "\x1b[2m",
        "\x1b[32m",
        "\x1b[33m",
        "\x1b[31m",
        "\x1b[1;31m",
    ] {
        out = out.replace(seq, "");
    }
    out
}

#[derive(Debug)]
struct Chain {
    msg: String,
    source: Option<Box<Chain>>,
}

impl Chain {
    fn new(msgs: &[&str]) -> Chain {
        let (first, rest) = msgs.split_first().unwrap();
        Chain {
            msg: (*first).to_owned(),
            source: if rest.is_empty() {
                None
            } else {
                Some(Box::new(Chain::new(rest)))
            },
        }
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl Error for Chain {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn Error + 'static))
    }
}

#[test]
fn levels_are_upper_case_and_aligned() {
    let (log, out) = logger(false);
    log.trace("m");
    log.debug("m");
    log.info("m");
    log.warn("m");
    log.error("m");
    log.fatal("m");
    assert_eq!(
        out.lines(),
        ["TRACE m", "DEBUG m", "INFO  m", "WARN  m", "ERROR m", "FATAL m"]
    );
}

#[test]
fn time_column_is_utc_time_of_day_with_millis() {
    let out = Calls::default();
    let log = LogLayer::new(ConsoleTransport::new(out.clone()));
    log.info("hello");
    let lines = out.lines();
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    let (time, rest) = line.split_at(12);
    assert_eq!(rest, " INFO  hello");
    let b = time.as_bytes();
    assert_eq!((b[2], b[5], b[8]), (b':', b':', b'.'), "{time}");
    let num = |r: std::ops::Range<usize>| time[r].parse::<u32>().unwrap();
    assert!(
        num(0..2) < 24 && num(3..5) < 60 && num(6..8) < 60 && num(9..12) < 1000,
        "{time}"
    );
}

#[test]
fn fields_render_as_key_value_in_output_order() {
    let (log, out) = logger(false);
    log.with_context(json!({"request_id": "7f3a"}));
    log.with_metadata(json!({
        "a_int": 42,
        "b_float": 1.5,
        "c_bool": true,
        "d_null": null,
        "e_obj": {"x": 1, "y": "two words"},
        "f_arr": [1, "two"],
        "g_neg": -7
    }))
    .info("shipping");
    assert_eq!(
        out.lines(),
        [concat!(
            "INFO  shipping request_id=7f3a a_int=42 b_float=1.5 c_bool=true d_null=null ",
            r#"e_obj={"x":1,"y":"two words"} f_arr=[1,"two"] g_neg=-7"#
        )]
    );
}

#[test]
fn metadata_wins_over_context() {
    let (log, out) = logger(false);
    log.with_context(json!({"a": "ctx", "b": "ctx"}));
    log.with_metadata(json!({"b": "meta"})).info("x");
    assert_eq!(out.lines(), ["INFO  x a=ctx b=meta"]);
}

#[test]
fn strings_are_bare_only_when_unambiguous() {
    let (log, out) = logger(false);
    log.with_metadata(json!({
        "a": "plain",
        "b": "two words",
        "c": "k=v",
        "d": "say \"hi\"",
        "e": "",
        "f": r"C:\dir",
        "g": "héllo✓",
        "h": "tab\there",
        "i": "42",
        "j": "nbsp\u{a0}x"
    }))
    .info("q");
    assert_eq!(
        out.lines(),
        [concat!(
            r#"INFO  q a=plain b="two words" c="k=v" d="say \"hi\"" e="" f="C:\\dir" "#,
            r#"g=héllo✓ h="tab\there" i=42 j="nbsp"#,
            "\u{a0}",
            r#"x""#
        )]
    );
}

#[test]
fn keys_that_need_it_are_quoted() {
    let (log, out) = logger(false);
    log.with_metadata(json!({"a b": 1, "c=d": 2, "": 3}))
        .info("k");
    assert_eq!(out.lines(), [r#"INFO  k ""=3 "a b"=1 "c=d"=2"#]);
}

#[test]
fn message_is_shown_as_is_apart_from_controls() {
    let (log, out) = logger(false);
    log.info(r#"path C:\tmp "quoted" a=b"#);
    assert_eq!(out.lines(), [r#"INFO  path C:\tmp "quoted" a=b"#]);
}

#[test]
fn no_colour_by_default_with_new() {
    let out = Calls::default();
    let log = LogLayer::new(ConsoleTransport::new(out.clone()));
    log.set_level(Level::Trace);
    for level in Level::ALL {
        match level {
            Level::Trace => log.with_metadata(json!({"k": 1})).trace("m"),
            Level::Debug => log.with_metadata(json!({"k": 1})).debug("m"),
            Level::Info => log.with_metadata(json!({"k": 1})).info("m"),
            Level::Warn => log.with_metadata(json!({"k": 1})).warn("m"),
            Level::Error => log.with_error(&Chain::new(&["e"])).error("m"),
            Level::Fatal => log.with_metadata(json!({"k": 1})).fatal("m"),
        }
    }
    let text = out.text();
    assert_eq!(text.lines().count(), 6);
    assert!(!text.contains('\x1b'), "{text:?}");
}

#[test]
fn with_color_true_colours_level_time_and_keys() {
    let out = Calls::default();
    let log = LogLayer::new(ConsoleTransport::new(out.clone()).with_color(true));
    log.set_level(Level::Trace);
    log.trace("t");
    log.debug("d");
    log.with_metadata(json!({"k": "v"})).info("i");
    log.warn("w");
    log.error("e");
    log.fatal("f");
    let lines = out.lines();
    assert_eq!(lines.len(), 6);
    let levels = [
        "\x1b[2mTRACE\x1b[0m t",
        "\x1b[2mDEBUG\x1b[0m d",
        "\x1b[32mINFO \x1b[0m i \x1b[2mk=\x1b[0mv",
        "\x1b[33mWARN \x1b[0m w",
        "\x1b[31mERROR\x1b[0m e",
        "\x1b[1;31mFATAL\x1b[0m f",
    ];
    for (line, want) in lines.iter().zip(levels) {
        assert!(line.starts_with("\x1b[2m"), "time not dimmed: {line:?}");
        assert_eq!(
            &line[4..16],
            &strip_our_sgr(line)[..12],
            "time column: {line:?}"
        );
        assert!(line.ends_with(want), "{line:?} should end with {want:?}");
    }
}

#[test]
fn with_color_false_overrides() {
    let out = Calls::default();
    let log = LogLayer::new(
        ConsoleTransport::new(out.clone())
            .with_color(true)
            .with_color(false),
    );
    log.error("x");
    assert!(!out.text().contains('\x1b'));
}

#[test]
fn hostile_message_stays_on_one_escaped_line() {
    let (log, out) = logger(false);
    log.info("a\nb\rc\td\x1b[31me\x07f\u{9b}2Jg\u{202e}h\u{2066}i\u{2028}j\0k\x7fl");
    let line = assert_one_safe_line(&out);
    assert_eq!(
        line,
        r"INFO  a\nb\rc\td\u{1b}[31me\u{7}f\u{9b}2Jg\u{202e}h\u{2066}i\u{2028}j\u{0}k\u{7f}l"
    );
}

#[test]
fn forged_entry_in_message_cannot_start_a_line() {
    let (log, out) = logger(false);
    log.info("login failed user=bob\nINFO  login ok user=admin");
    let lines = out.lines();
    assert_eq!(
        lines,
        [r"INFO  login failed user=bob\nINFO  login ok user=admin"]
    );
}

#[test]
fn hostile_keys_and_values_are_escaped() {
    let (log, out) = logger(false);
    log.with_context(json!({"ctx\nkey": "v\x1b]0;pwned\x07"}));
    log.with_metadata(json!({
        "bidi\u{202e}": "x\u{2067}y",
        "c1": "\u{9b}31m",
        "crlf": "a\r\nINFO  forged",
        "nested": {"k\u{9b}": ["\x1b[2J", "\u{202d}"]}
    }))
    .warn("m");
    let line = assert_one_safe_line(&out);
    assert_eq!(
        line,
        concat!(
            r#"WARN  m "ctx\nkey"="v\u{1b}]0;pwned\u{7}" "bidi\u{202e}"="x\u{2067}y" "#,
            r#"c1="\u{9b}31m" crlf="a\r\nINFO  forged" "#,
            r#"nested={"k\u009b":["\u001b[2J","\u202d"]}"#
        )
    );
    // The nested value is still JSON, and decodes back to the original data.
    let json_text = line.split("nested=").nth(1).unwrap();
    let v: serde_json::Value = serde_json::from_str(json_text).unwrap();
    assert_eq!(v, json!({"k\u{9b}": ["\x1b[2J", "\u{202d}"]}));
}

#[test]
fn every_forbidden_character_is_escaped_everywhere() {
    let forbidden: Vec<char> = (0u32..0x3000)
        .filter_map(char::from_u32)
        .filter(|&c| is_forbidden(c))
        .collect();
    assert!(forbidden.len() > 70);
    for color in [false, true] {
        for &c in &forbidden {
            let (log, out) = logger(color);
            let s = format!("a{c}b");
            log.with_context(json!({ s.clone(): s.clone() }));
            log.with_metadata(json!({"obj": {s.clone(): [s.clone()]}}))
                .with_error(&Chain::new(&[&s, "in\u{1b}[1mner", &s]))
                .error(&s);
            let calls = out.calls();
            assert_eq!(calls.len(), 1, "{c:?}");
            let text = String::from_utf8(calls[0].clone()).unwrap();
            let body = strip_our_sgr(text.strip_suffix('\n').unwrap());
            for d in body.chars() {
                assert!(
                    !is_forbidden(d),
                    "colour {color}: raw {d:?} in {body:?} (from {c:?})"
                );
            }
        }
    }
}

#[test]
fn hostile_data_with_colour_only_leaves_our_sequences() {
    let (log, out) = logger(true);
    log.with_metadata(json!({"k\x1b[0m": "\x1b[32mfake\x1b[0m"}))
        .info("\x1b[31mred\x07");
    let calls = out.calls();
    assert_eq!(calls.len(), 1);
    let text = String::from_utf8(calls[0].clone()).unwrap();
    assert_eq!(
        text,
        concat!(
            "\x1b[32mINFO \x1b[0m ",
            r"\u{1b}[31mred\u{7}",
            " \x1b[2m",
            r#""k\u{1b}[0m"="#,
            "\x1b[0m",
            r#""\u{1b}[32mfake\u{1b}[0m""#,
            "\n"
        )
    );
}

#[test]
fn error_is_shown_as_message_and_sources() {
    let (log, out) = logger(false);
    let err = Chain::new(&["request failed", "connection reset", "peer closed"]);
    log.with_metadata(json!({"order_id": 42}))
        .with_error(&err)
        .error("payment");
    assert_eq!(
        out.lines(),
        [r#"ERROR payment order_id=42 err="request failed: connection reset: peer closed""#]
    );
}

#[test]
fn error_without_sources_and_error_only_word() {
    let (log, out) = logger(false);
    log.with_error(&io::Error::other("boom")).error("failed");
    assert_eq!(out.lines(), ["ERROR failed err=boom"]);
}

#[test]
fn error_text_is_escaped() {
    let (log, out) = logger(false);
    let err = Chain::new(&["bad\ninput", "\x1b[31mred\u{202e}"]);
    log.with_error(&err).error("x");
    let line = assert_one_safe_line(&out);
    assert_eq!(line, r#"ERROR x err="bad\ninput: \u{1b}[31mred\u{202e}""#);
}

#[test]
fn user_key_named_like_the_error_field_is_kept() {
    let (log, out) = logger(false);
    log.with_metadata(json!({"err": "user value"}))
        .with_error(&io::Error::other("real"))
        .error("x");
    assert_eq!(out.lines(), [r#"ERROR x _err="user value" err=real"#]);
}

#[test]
fn user_error_shaped_object_is_not_mistaken_for_the_error() {
    let (log, out) = logger(false);
    log.with_metadata(json!({"e": {"message": "m", "sources": []}}))
        .info("x");
    assert_eq!(out.lines(), [r#"INFO  x e={"message":"m","sources":[]}"#]);
}

#[test]
fn concurrent_threads_write_whole_lines() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 200;
    let (log, out) = logger(false);
    log.with_context(json!({"svc": "api"}));
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let log = log.clone();
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    log.with_metadata(json!({"i": i, "t": t, "pad": "x".repeat(i)}))
                        .info(format!("thread {t} line {i}"));
                }
            });
        }
    });
    let calls = out.calls();
    assert_eq!(
        calls.len(),
        THREADS * PER_THREAD,
        "one write call per entry"
    );
    let mut seen = HashSet::new();
    for call in calls {
        let line = String::from_utf8(call).unwrap();
        let body = line.strip_suffix('\n').expect("each call is a whole line");
        assert!(!body.contains('\n'), "{body:?}");
        let rest = body
            .strip_prefix("INFO  thread ")
            .unwrap_or_else(|| panic!("{body:?}"));
        let (t, rest) = rest.split_once(" line ").unwrap();
        let (i, fields) = rest.split_once(' ').unwrap();
        let (t, i): (usize, usize) = (t.parse().unwrap(), i.parse().unwrap());
        let pad = if i == 0 {
            r#""""#.to_owned()
        } else {
            "x".repeat(i)
        };
        assert_eq!(fields, format!("svc=api i={i} pad={pad} t={t}"));
        assert!(seen.insert((t, i)), "duplicate line {t}/{i}");
    }
    assert_eq!(seen.len(), THREADS * PER_THREAD);
}

#[test]
fn level_filter_enabled_flag_and_id() {
    let out = Calls::default();
    let t = Arc::new(
        ConsoleTransport::new(out.clone())
            .with_level(Level::Warn)
            .with_time(false),
    );
    assert_eq!(t.id(), "console");
    assert_eq!(t.level(), Some(Level::Warn));
    let log = LogLayer::new(t.clone());
    log.info("dropped by the transport's level");
    log.warn("kept");
    t.set_enabled(false);
    assert!(!t.enabled());
    log.error("dropped while disabled");
    t.set_enabled(true);
    log.error("kept again");
    assert_eq!(out.lines(), ["WARN  kept", "ERROR kept again"]);
    assert_eq!(ConsoleTransport::new(io::sink()).with_id("tty").id(), "tty");
}

#[test]
fn stdout_and_stderr_constructors_work() {
    // Whether they colour depends on the environment; they must not fail.
    let t = ConsoleTransport::stderr().with_id("e");
    assert_eq!(t.id(), "e");
    let log = LogLayer::new(ConsoleTransport::stdout().with_level(Level::Fatal));
    log.info("filtered out");
    assert!(ConsoleTransport::stdout().flush().is_ok());
}

#[test]
fn a_failing_writer_does_not_panic_the_caller() {
    struct Broken;
    impl io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let (log, out) = logger(false);
    log.add_transport(
        ConsoleTransport::new(Broken)
            .with_id("broken")
            .with_time(false),
    );
    log.info("still logged elsewhere");
    assert_eq!(out.lines(), ["INFO  still logged elsewhere"]);
}

#[test]
fn renamed_error_field_and_nested_context() {
    let out = Calls::default();
    let log = LogLayer::builder()
        .transport(ConsoleTransport::new(out.clone()).with_time(false))
        .error_field_name("error")
        .context_field_name("ctx")
        .build();
    log.with_context(json!({"a": 1}));
    log.with_metadata(json!({"b": "x y"}))
        .with_error(&Chain::new(&["outer", "inner"]))
        .error("failed");
    assert_eq!(
        out.lines(),
        [r#"ERROR failed ctx={"a":1} b="x y" error="outer: inner""#]
    );
}

#[test]
fn custom_error_serializer_value_is_shown_escaped() {
    let out = Calls::default();
    let log = LogLayer::builder()
        .transport(ConsoleTransport::new(out.clone()).with_time(false))
        .error_serializer(|e| json!({"kind": "io\u{9b}", "text": e.to_string()}))
        .build();
    log.with_error(&io::Error::other("x\u{1b}[2J"))
        .error("failed");
    let line = assert_one_safe_line(&out);
    assert_eq!(
        line,
        r#"ERROR failed err={"kind":"io\u009b","text":"x\u001b[2J"}"#
    );
}
