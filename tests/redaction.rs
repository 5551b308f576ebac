//! The `Redact` plugin: secrets never reach any output line, whatever their
//! source; keys, paths, censor and remove; the caller's data is left alone;
//! a failure drops the entry instead of sending it unredacted.

use std::error::Error;
use std::fmt;

use loglayer::plugin::Redact;
use loglayer::transport::CaptureTransport;
use loglayer::{Level, LogLayer};
use serde_json::{json, Value};

const SECRET: &str = "s3cret-XYZZY";

fn logger(redact: Redact) -> (CaptureTransport, LogLayer) {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .plugin(redact)
        .build();
    (capture, log)
}

/// Every raw line is free of `secret`, and there are `n` lines.
#[track_caller]
fn assert_absent(capture: &CaptureTransport, secret: &str, n: usize) {
    let lines = capture.lines();
    assert_eq!(lines.len(), n, "lines: {lines:#?}");
    for line in &lines {
        assert!(!line.contains(secret), "secret leaked: {line}");
    }
}

/// An error whose source chain carries text.
#[derive(Debug)]
struct Chain {
    message: String,
    source: Option<Box<Chain>>,
}
impl Chain {
    fn new(messages: &[String]) -> Chain {
        let (first, rest) = messages.split_first().expect("at least one message");
        Chain {
            message: first.clone(),
            source: (!rest.is_empty()).then(|| Box::new(Chain::new(rest))),
        }
    }
}
impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl Error for Chain {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn Error + 'static))
    }
}

#[test]
fn secret_values_never_appear_in_context_metadata_arrays_error_or_message() {
    let (capture, log) = logger(Redact::new().values([SECRET]));
    log.with_context(json!({"db": {"url": format!("postgres://u:{SECRET}@h/db")}}));
    log.with_metadata(json!({
        "deep": {"a": [{"b": [1, SECRET, {"c": SECRET}]}]},
        SECRET: "as a key",
        "list": [SECRET, SECRET],
    }))
    .info(format_args!("connecting with {SECRET} now"));
    let err = Chain::new(&[
        format!("auth failed for {SECRET}"),
        "middle".into(),
        format!("root cause: token {SECRET}"),
    ]);
    log.with_error(&err).error("failed");
    assert_absent(&capture, SECRET, 2);

    let e = capture.entries();
    assert_eq!(e[0]["db"]["url"], "postgres://u:[REDACTED]@h/db");
    assert_eq!(
        e[0]["deep"]["a"][0]["b"],
        json!([1, "[REDACTED]", {"c": "[REDACTED]"}])
    );
    assert_eq!(e[0]["[REDACTED]"], "as a key");
    assert_eq!(e[0]["msg"], "connecting with [REDACTED] now");
    assert_eq!(e[1]["err"]["message"], "auth failed for [REDACTED]");
    assert_eq!(
        e[1]["err"]["sources"],
        json!(["middle", "root cause: token [REDACTED]"])
    );
}

#[test]
fn secret_keys_are_hidden_at_any_depth_in_context_metadata_and_error() {
    let capture = CaptureTransport::new();
    let log = LogLayer::builder()
        .transport(capture.clone())
        .error_serializer(|e| json!({"message": e.to_string(), "auth": {"Token": SECRET}}))
        .plugin(Redact::new().keys(["password", "token"]))
        .build();
    log.with_context(json!({"svc": {"password": SECRET}, "password": SECRET}));
    log.with_metadata(json!({
        "users": [{"name": "ann", "password": SECRET}, [{"TOKEN": SECRET}]],
        "password_hint": "kept",
    }))
    .with_error(&std::io::Error::other("denied"))
    .warn("login");
    assert_absent(&capture, SECRET, 1);

    let e = &capture.entries()[0];
    assert_eq!(e["svc"]["password"], "[REDACTED]");
    assert_eq!(e["password"], "[REDACTED]");
    assert_eq!(
        e["users"][0],
        json!({"name": "ann", "password": "[REDACTED]"})
    );
    assert_eq!(e["users"][1][0]["TOKEN"], "[REDACTED]");
    assert_eq!(e["password_hint"], "kept"); // whole-key match only
    assert_eq!(e["err"]["auth"]["Token"], "[REDACTED]");
    assert_eq!(e["err"]["message"], "denied");
}

#[test]
fn child_loggers_inherit_redaction_of_inherited_and_own_context() {
    let (capture, log) = logger(Redact::new().keys(["api_key"]).values([SECRET]));
    log.with_context(json!({"api_key": "parent-key-123"}));
    let child = log.child();
    child.with_context(json!({"session": {"note": format!("sid {SECRET}")}}));
    child.info("from child");
    let prefixed = child.with_prefix("[job]");
    prefixed.info(format_args!("token {SECRET}"));
    let grandchild = prefixed.child();
    grandchild.with_context(json!({"api_key": "grandchild-key-456"}));
    grandchild.warn("from grandchild");

    assert_absent(&capture, SECRET, 3);
    for line in capture.lines() {
        assert!(!line.contains("parent-key-123") && !line.contains("grandchild-key-456"));
    }
    let e = capture.entries();
    assert_eq!(e[0]["session"]["note"], "sid [REDACTED]");
    assert_eq!(e[1]["msg"], "[job] token [REDACTED]");
    assert_eq!(e[2]["api_key"], "[REDACTED]");
}

#[test]
fn fields_given_to_the_macros_are_redacted() {
    let (capture, log) = logger(Redact::new().keys(["password"]).values([SECRET]));
    loglayer::sync_scope(log, || {
        loglayer::info!(password = "s3cret", user = "ann", "login for {}", "ann");
        loglayer::warn!(note = SECRET, "retry with {}", SECRET);
        let err = Chain::new(&["outer".into(), format!("inner {SECRET}")]);
        loglayer::error!(err = &err, "failed");
    });
    assert_absent(&capture, SECRET, 3);
    assert_absent(&capture, "s3cret", 3);
    let e = capture.entries();
    assert_eq!(e[0]["password"], "[REDACTED]");
    assert_eq!(e[0]["user"], "ann");
    assert_eq!(e[1]["note"], "[REDACTED]");
    assert_eq!(e[1]["msg"], "retry with [REDACTED]");
    assert_eq!(e[2]["err"]["sources"], json!(["inner [REDACTED]"]));
}

#[test]
fn paths_with_wildcards_hide_exactly_what_they_name() {
    let (capture, log) = logger(Redact::new().paths([
        "user.email",
        "headers.*",
        "*.secret",
        "items.*.card",
        "**.ssn",
        "matrix.1",
    ]));
    log.with_context(json!({"user": {"email": "a@x.io", "name": "Ann"}}));
    log.with_metadata(json!({
        "headers": {"cookie": "c=1", "authorization": "Bearer abc"},
        "vault": {"secret": "v", "public": "p"},
        "secret": "top-level secret is not *.secret",
        "items": [{"card": "4111", "sku": 1}, {"card": "5500", "sku": 2}],
        "a": {"b": [{"ssn": "123-45"}]},
        "matrix": ["m0", "m1", "m2"],
        "other": {"email": "kept@x.io"},
    }))
    .info("order");
    let e = &capture.entries()[0];
    assert_eq!(e["user"], json!({"email": "[REDACTED]", "name": "Ann"}));
    assert_eq!(
        e["headers"],
        json!({"cookie": "[REDACTED]", "authorization": "[REDACTED]"})
    );
    assert_eq!(e["vault"], json!({"secret": "[REDACTED]", "public": "p"}));
    assert_eq!(e["secret"], "top-level secret is not *.secret");
    assert_eq!(
        e["items"],
        json!([{"card": "[REDACTED]", "sku": 1}, {"card": "[REDACTED]", "sku": 2}])
    );
    assert_eq!(e["a"]["b"][0]["ssn"], "[REDACTED]");
    assert_eq!(e["matrix"], json!(["m0", "[REDACTED]", "m2"]));
    assert_eq!(e["other"]["email"], "kept@x.io");
    let line = &capture.lines()[0];
    for hidden in ["a@x.io", "Bearer abc", "4111", "5500", "123-45", "m1"] {
        assert!(!line.contains(hidden), "{hidden} leaked: {line}");
    }
}

#[test]
fn paths_apply_from_the_root_of_context_and_of_metadata() {
    let (capture, log) = logger(Redact::new().paths(["user.email"]));
    log.with_context(json!({"user": {"email": "ctx@x.io"}}));
    log.info("context only");
    log.with_metadata(
        json!({"user": {"email": "meta@x.io"}, "nested": {"user": {"email": "n@x.io"}}}),
    )
    .info("metadata wins");
    let e = capture.entries();
    assert_eq!(e[0]["user"]["email"], "[REDACTED]");
    assert_eq!(e[1]["user"]["email"], "[REDACTED]");
    assert_eq!(e[1]["nested"]["user"]["email"], "n@x.io"); // not from the root
}

#[test]
fn censor_text_versus_remove() {
    let data = json!({"token": "t", "keep": 1, "list": [{"token": "x"}, 2], "items": ["a", "b"]});

    let (capture, log) = logger(Redact::new().keys(["token"]).censor("***"));
    log.with_metadata(&data).info("censored");
    assert_eq!(
        capture.entries()[0],
        json!({
            "time": capture.entries()[0]["time"], "level": "info", "msg": "censored",
            "token": "***", "keep": 1, "list": [{"token": "***"}, 2], "items": ["a", "b"],
        })
    );

    let (capture, log) = logger(Redact::new().keys(["token"]).paths(["items.0"]).remove());
    log.with_metadata(&data).info("removed");
    let e = &capture.entries()[0];
    assert!(e.get("token").is_none());
    assert_eq!(e["keep"], 1);
    assert_eq!(e["list"], json!([{}, 2]));
    assert_eq!(e["items"], json!(["b"]));
}

#[test]
fn keys_ignore_case_by_default_and_can_match_exactly() {
    let data = json!({"Password": "a", "PASSWORD": "b", "password": "c"});
    let (capture, log) = logger(Redact::new().keys(["password"]));
    log.with_metadata(&data).info("x");
    let e = &capture.entries()[0];
    for k in ["Password", "PASSWORD", "password"] {
        assert_eq!(e[k], "[REDACTED]", "{k}");
    }

    let (capture, log) = logger(
        Redact::new()
            .keys(["password"])
            .paths(["User.Email"])
            .case_sensitive(true),
    );
    log.with_metadata(&data)
        .with_metadata(json!({"user": {"email": "e"}}))
        .info("x");
    let e = &capture.entries()[0];
    assert_eq!(
        (&e["Password"], &e["PASSWORD"], &e["password"]),
        (&json!("a"), &json!("b"), &json!("[REDACTED]"))
    );
    assert_eq!(e["user"]["email"], "e");
}

#[test]
fn the_callers_data_and_the_stored_context_are_never_mutated() {
    let (capture, log) = logger(Redact::new().keys(["password"]).values([SECRET]).remove());
    let context = json!({"password": SECRET, "note": SECRET});
    let metadata = json!({"user": {"password": SECRET}, "list": [SECRET]});
    let (context_before, metadata_before) = (context.clone(), metadata.clone());

    log.with_context(&context);
    log.with_metadata(&metadata).info("x");
    log.with_metadata(metadata.clone()).info("y");

    assert_absent(&capture, SECRET, 2);
    assert_eq!(context, context_before);
    assert_eq!(metadata, metadata_before);
    // The logger keeps the real context; only what goes out is redacted.
    assert_eq!(Value::Object(log.get_context()), context_before);
}

/// A value nested `depth` levels deep, with `leaf` at the bottom.
fn nested(depth: usize, leaf: Value) -> Value {
    let mut v = leaf;
    for _ in 0..depth {
        v = json!({ "n": v });
    }
    v
}

#[test]
fn a_value_too_deep_to_check_drops_the_entry_and_counts_it() {
    // 80 levels: deeper than Redact's limit (64), within what the writer keeps
    // (100; deeper values become a placeholder before any plugin sees them).
    let (capture, log) = logger(Redact::new().keys(["password"]));
    log.info("before");

    let before = loglayer::failures().dropped_entries;
    log.with_metadata(json!({"payload": nested(80, json!({"password": SECRET}))}))
        .info("deep metadata");
    assert!(loglayer::failures().dropped_entries > before);

    let before = loglayer::failures().dropped_entries;
    let child = log.child();
    child.with_context(json!({"payload": nested(80, json!({"password": SECRET}))}));
    child.info("deep context");
    assert!(loglayer::failures().dropped_entries > before);

    // Absurdly deep: whatever happens to it, the secret never goes out.
    log.with_metadata(json!({"payload": nested(300, json!({"password": SECRET}))}))
        .info("absurdly deep");

    log.info("after");
    let lines = capture.lines();
    assert!(lines.iter().all(|l| !l.contains(SECRET)), "{lines:#?}");
    let messages = capture.messages();
    assert!(!messages.contains(&"deep metadata".to_owned()));
    assert!(!messages.contains(&"deep context".to_owned()));
    assert_eq!(messages.first().map(String::as_str), Some("before"));
    assert_eq!(messages.last().map(String::as_str), Some("after"));
}

#[test]
fn json_text_in_a_string_holding_a_secret_key_is_redacted_whole() {
    let (capture, log) = logger(Redact::new().keys(["password"]));
    let body = json!({"user": "ann", "password": SECRET}).to_string();
    log.with_metadata(json!({"body": body, "other": "plain text"}))
        .info("request");
    assert_absent(&capture, SECRET, 1);
    assert_eq!(capture.entries()[0]["body"], "[REDACTED]");
    assert_eq!(capture.entries()[0]["other"], "plain text");
}

#[test]
fn a_deep_value_under_a_redacted_key_is_fine() {
    let (capture, log) = logger(Redact::new().keys(["blob"]).max_depth(4));
    log.with_metadata(json!({"blob": nested(50, json!(SECRET))}))
        .info("kept");
    assert_absent(&capture, SECRET, 1);
    assert_eq!(capture.entries()[0]["blob"], "[REDACTED]");
}

#[test]
fn disabling_or_removing_the_plugin_lets_data_through() {
    let (capture, log) = logger(Redact::new().keys(["password"]).with_id("pii"));
    let send = |log: &LogLayer| log.with_metadata(json!({"password": SECRET})).info("x");
    send(&log);
    assert!(log.disable_plugin("pii"));
    send(&log);
    assert!(log.enable_plugin("pii"));
    send(&log);
    assert!(log.remove_plugin("pii"));
    send(&log);
    let leaked: Vec<bool> = capture.lines().iter().map(|l| l.contains(SECRET)).collect();
    assert_eq!(leaked, [false, true, false, true]);
}

#[test]
fn redaction_applies_at_every_level_and_to_every_transport() {
    let a = CaptureTransport::with_id("a");
    let b = CaptureTransport::with_id("b");
    let log = LogLayer::builder()
        .transport(a.clone())
        .transport(b.clone())
        .level(Level::Trace)
        .plugin(Redact::new().values([SECRET]))
        .build();
    for level in Level::ALL {
        log.with_metadata(json!({"v": SECRET})).log(level, SECRET);
    }
    assert_absent(&a, SECRET, 6);
    assert_absent(&b, SECRET, 6);
}
