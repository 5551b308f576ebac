//! The `Filter` and `Sample` plugins: what they keep, per level, per message
//! and per predicate; sampled fractions within generous statistical bands;
//! one decision per entry, shared by every transport.

use std::collections::BTreeSet;

use loglayer::plugin::{Filter, LogData, Plugin, Sample};
use loglayer::transport::CaptureTransport;
use loglayer::{Entry, Level, LogLayer};
use serde_json::json;

fn builder() -> (CaptureTransport, loglayer::LogLayerBuilder) {
    let capture = CaptureTransport::new();
    let b = LogLayer::builder()
        .transport(capture.clone())
        .level(Level::Trace);
    (capture, b)
}

fn with(plugin: impl Plugin) -> (CaptureTransport, LogLayer) {
    let (capture, b) = builder();
    (capture, b.plugin(plugin).build())
}

fn levels_of(capture: &CaptureTransport) -> Vec<String> {
    capture
        .entries()
        .iter()
        .map(|e| e["level"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[test]
fn min_level_keeps_that_level_and_above() {
    let (capture, log) = with(Filter::min_level(Level::Warn));
    for level in Level::ALL {
        log.log(level, level);
    }
    assert_eq!(levels_of(&capture), ["warn", "error", "fatal"]);
}

#[test]
fn min_level_sees_the_level_after_transform_log_level() {
    /// Raises every entry whose message starts with "!" to error.
    struct Escalate;
    impl Plugin for Escalate {
        fn transform_log_level(&self, _: Level, _: &LogData<'_>, message: &str) -> Option<Level> {
            message.starts_with('!').then_some(Level::Error)
        }
    }
    let (capture, b) = builder();
    let log = b
        .plugin(Escalate)
        .plugin(Filter::min_level(Level::Error))
        .build();
    log.info("plain");
    log.info("!escalated");
    assert_eq!(capture.messages(), ["!escalated"]);
    assert_eq!(levels_of(&capture), ["error"]);
}

#[test]
fn message_substring_filters_keep_or_drop_on_match() {
    let messages = [
        "GET /healthcheck 200",
        "GET /orders 200",
        "healthcheck failed",
    ];

    let (capture, log) = with(Filter::drop_message_containing("healthcheck"));
    messages.iter().for_each(|m| log.info(m));
    assert_eq!(capture.messages(), ["GET /orders 200"]);

    let (capture, log) = with(Filter::keep_message_containing("healthcheck"));
    messages.iter().for_each(|m| log.info(m));
    assert_eq!(
        capture.messages(),
        ["GET /healthcheck 200", "healthcheck failed"]
    );

    // Case-sensitive.
    let (capture, log) = with(Filter::drop_message_containing("HEALTHCHECK"));
    messages.iter().for_each(|m| log.info(m));
    assert_eq!(capture.len(), 3);
}

#[test]
fn message_glob_filters_match_the_whole_message() {
    let messages = [
        "GET /health 200",
        "GET /healthz 200",
        "GET /healthz 503",
        "POST /health 200",
        "user 42 logged in",
        "user 42 logged in twice",
        "a*b literal",
    ];
    let (capture, log) = with(Filter::drop_message_matching("GET /health* 200"));
    messages.iter().for_each(|m| log.info(m));
    assert_eq!(
        capture.messages(),
        [
            "GET /healthz 503",
            "POST /health 200",
            "user 42 logged in",
            "user 42 logged in twice",
            "a*b literal"
        ]
    );

    let (capture, log) = with(Filter::keep_message_matching("user ?? logged in"));
    messages.iter().for_each(|m| log.info(m));
    assert_eq!(capture.messages(), ["user 42 logged in"]);

    let (capture, log) = with(Filter::keep_message_matching(r"a\*b *"));
    messages.iter().for_each(|m| log.info(m));
    assert_eq!(capture.messages(), ["a*b literal"]);
}

#[test]
fn predicates_see_fields_context_and_error() {
    let (capture, log) = with(Filter::drop_if(|e: &Entry<'_>| {
        e.metadata().any(|(k, v)| k == "route" && v == "/metrics")
            || e.context().any(|(k, v)| k == "tenant" && v == "internal")
    }));
    log.with_metadata(json!({"route": "/metrics"})).info("m");
    log.with_metadata(json!({"route": "/orders"})).info("o");
    log.child()
        .with_context(json!({"tenant": "internal"}))
        .info("internal");
    assert_eq!(capture.messages(), ["o"]);

    let (capture, log) = with(Filter::keep_if(|e: &Entry<'_>| {
        e.error()
            .is_some_and(|err| err.message().contains("timeout"))
    }));
    log.with_error(&std::io::Error::other("timeout after 5s"))
        .warn("slow");
    log.with_error(&std::io::Error::other("refused"))
        .warn("down");
    log.warn("no error");
    assert_eq!(capture.messages(), ["slow"]);
}

#[test]
fn several_filters_must_all_keep_an_entry_and_can_be_removed_by_id() {
    let (capture, b) = builder();
    let log = b
        .plugin(Filter::min_level(Level::Info).with_id("level"))
        .plugin(Filter::drop_message_containing("noise").with_id("noise"))
        .build();
    log.debug("debug");
    log.info("noise");
    log.info("signal");
    assert!(log.remove_plugin("noise"));
    log.info("noise again");
    assert!(log.disable_plugin("level"));
    log.debug("debug again");
    assert_eq!(capture.messages(), ["signal", "noise again", "debug again"]);
}

/// Logs `n` entries at `level`, numbered, and returns how many were kept.
fn kept(log: &LogLayer, capture: &CaptureTransport, level: Level, n: usize) -> usize {
    let before = capture.len();
    for i in 0..n {
        log.log(level, i);
    }
    capture.len() - before
}

#[test]
fn a_seeded_rate_keeps_about_that_fraction() {
    for seed in [1, 42, 7_777] {
        let (capture, log) = with(Sample::rate(0.1).seed(seed));
        let n = kept(&log, &capture, Level::Info, 10_000);
        assert!((700..=1_300).contains(&n), "seed {seed}: kept {n} of 10000");
    }
    let (capture, log) = with(Sample::rate(0.5).seed(3));
    let n = kept(&log, &capture, Level::Debug, 10_000);
    assert!((4_700..=5_300).contains(&n), "kept {n} of 10000");
}

#[test]
fn rates_zero_and_one_are_exact() {
    let (capture, log) = with(Sample::rate(0.0));
    assert_eq!(kept(&log, &capture, Level::Info, 1_000), 0);
    let (capture, log) = with(Sample::rate(1.0));
    assert_eq!(kept(&log, &capture, Level::Info, 1_000), 1_000);
    // Out of range rates are clamped.
    let (capture, log) = with(Sample::rate(-3.0).level_rate(Level::Warn, 9.0));
    assert_eq!(kept(&log, &capture, Level::Info, 100), 0);
    assert_eq!(kept(&log, &capture, Level::Warn, 100), 100);
}

#[test]
fn the_same_seed_makes_the_same_decisions() {
    let run = |seed: u64| {
        let (capture, log) = with(Sample::rate(0.3).seed(seed));
        for i in 0..500 {
            log.info(i);
        }
        capture.messages()
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}

#[test]
fn per_level_rates_override_the_default_rate() {
    let (capture, log) = with(
        Sample::rate(0.5)
            .level_rate(Level::Debug, 0.01)
            .level_rate(Level::Trace, 0.0)
            .level_rate(Level::Warn, 1.0)
            .seed(42),
    );
    let debug = kept(&log, &capture, Level::Debug, 10_000);
    assert!((40..=200).contains(&debug), "debug kept {debug}");
    let info = kept(&log, &capture, Level::Info, 10_000);
    assert!((4_700..=5_300).contains(&info), "info kept {info}");
    assert_eq!(kept(&log, &capture, Level::Trace, 10_000), 0);
    assert_eq!(kept(&log, &capture, Level::Warn, 1_000), 1_000);
}

#[test]
fn errors_and_fatals_are_always_kept_unless_opted_in() {
    let (capture, log) = with(
        Sample::rate(0.0)
            .level_rate(Level::Error, 0.0)
            .level_rate(Level::Fatal, 0.0),
    );
    assert_eq!(kept(&log, &capture, Level::Error, 1_000), 1_000);
    assert_eq!(kept(&log, &capture, Level::Fatal, 1_000), 1_000);
    assert_eq!(kept(&log, &capture, Level::Warn, 1_000), 0);

    let (capture, log) = with(Sample::rate(0.0).sample_errors(true));
    assert_eq!(kept(&log, &capture, Level::Error, 100), 0);
    assert_eq!(kept(&log, &capture, Level::Fatal, 100), 0);

    let (capture, log) = with(
        Sample::rate(0.0)
            .level_rate(Level::Error, 0.5)
            .sample_errors(true)
            .seed(5),
    );
    let n = kept(&log, &capture, Level::Error, 10_000);
    assert!((4_700..=5_300).contains(&n), "errors kept {n}");
}

#[test]
fn every_transport_sees_the_same_entries() {
    let a = CaptureTransport::with_id("a");
    let b = CaptureTransport::with_id("b");
    let log = LogLayer::builder()
        .transport(a.clone())
        .transport(b.clone())
        .level(Level::Trace)
        .plugin(Sample::rate(0.5).level_rate(Level::Debug, 0.2))
        .plugin(Filter::drop_message_matching("*7"))
        .build();
    for i in 0..2_000 {
        let level = Level::ALL[i % Level::ALL.len()];
        log.log(level, format_args!("entry {i}"));
    }
    let set = |c: &CaptureTransport| c.messages().into_iter().collect::<BTreeSet<_>>();
    let (sa, sb) = (set(&a), set(&b));
    assert_eq!(sa, sb);
    assert_eq!(a.messages(), b.messages()); // same order too
    assert!(sa.len() > 500 && sa.len() < 1_800, "kept {}", sa.len());
    assert!(sa.iter().all(|m| !m.ends_with('7')));
    // Every error and fatal not ending in 7 was kept.
    let expected_errors = (0..2_000).filter(|i| i % 6 >= 4 && i % 10 != 7).count();
    let kept_errors = a
        .entries()
        .iter()
        .filter(|e| e["level"] == "error" || e["level"] == "fatal")
        .count();
    assert_eq!(kept_errors, expected_errors);
}

#[test]
fn sampling_is_shared_across_threads_without_losing_the_rate() {
    let (capture, log) = with(Sample::rate(0.25).seed(11));
    std::thread::scope(|s| {
        for _ in 0..4 {
            let log = log.clone();
            s.spawn(move || {
                for i in 0..2_500 {
                    log.info(i);
                }
            });
        }
    });
    let n = capture.len();
    assert!((2_200..=2_800).contains(&n), "kept {n} of 10000");
}
