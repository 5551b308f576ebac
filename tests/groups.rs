//! Groups (LogLayer 9): routing rules by name. The first part ports
//! LogLayer's `LogLayer.groups.test.ts` case by case (each test is named
//! after its JS case); the second checks what LogLayer has no counterpart
//! for: `#[with_logger(group = "..")]` and a group-tagged logger handed to
//! `scope`, tagging everything under a function at any depth.
//!
//! Not ported: the mock-class cases (no mocks here).

use loglayer::transport::CaptureTransport;
use loglayer::{with_logger, Group, Level, LogLayer, Ungrouped};
use serde_json::json;

/// Captures with the ids `t1`, `t2`, ...
fn transports(n: usize) -> Vec<CaptureTransport> {
    (1..=n)
        .map(|i| CaptureTransport::with_id(&format!("t{i}")))
        .collect()
}

/// A logger over `ts` with these groups.
fn logger(ts: &[CaptureTransport], groups: &[(&str, Group)]) -> LogLayer {
    let mut b = LogLayer::builder();
    for t in ts {
        b = b.transport(t.clone());
    }
    for (name, group) in groups {
        b = b.group(*name, group.clone());
    }
    b.build()
}

/// How many entries each transport got.
fn counts(ts: &[CaptureTransport]) -> Vec<usize> {
    ts.iter().map(CaptureTransport::len).collect()
}

fn db(ids: &[&str]) -> Group {
    Group::new(ids.iter().copied())
}

// ---------------------------------------------------------------------------
// backward compatibility

#[test]
fn should_send_logs_to_all_transports_when_no_groups_are_configured() {
    let ts = transports(2);
    let log = logger(&ts, &[]);
    log.info("test message");
    for t in &ts {
        assert_eq!(t.messages(), ["test message"]);
        assert_eq!(t.entries()[0]["level"], "info");
    }
}

#[test]
fn should_send_ungrouped_logs_to_all_transports_even_when_groups_are_configured() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"]).level(Level::Error))]);
    log.info("ungrouped message");
    assert_eq!(ts[0].messages(), ["ungrouped message"]);
    assert_eq!(ts[1].messages(), ["ungrouped message"]);
}

// ---------------------------------------------------------------------------
// basic group routing

#[test]
fn should_route_grouped_logs_only_to_the_groups_transports() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    log.with_group("database").error("db error");
    assert_eq!(ts[0].messages(), ["db error"]);
    assert_eq!(ts[0].entries()[0]["level"], "error");
    assert!(ts[1].is_empty());
}

#[test]
fn should_route_multi_group_logs_to_the_union_of_transports() {
    let ts = transports(3);
    let log = logger(&ts, &[("database", db(&["t1"])), ("auth", db(&["t2"]))]);
    log.with_groups(["database", "auth"])
        .error("multi-group error");
    assert_eq!(ts[0].messages(), ["multi-group error"]);
    assert_eq!(ts[1].messages(), ["multi-group error"]);
    assert!(ts[2].is_empty());
}

// ---------------------------------------------------------------------------
// group log level filtering

#[test]
fn should_drop_logs_below_the_groups_level() {
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["t1"]).level(Level::Error))]);
    log.with_group("database").info("should be dropped");
    log.with_group("database").warn("should also be dropped");
    assert!(ts[0].is_empty());
    log.with_group("database").error("should pass");
    assert_eq!(ts[0].messages(), ["should pass"]);
}

#[test]
fn should_allow_logs_at_or_above_the_groups_level() {
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["t1"]).level(Level::Warn))]);
    let g = log.with_group("database");
    g.warn("warn passes");
    g.error("error passes");
    g.fatal("fatal passes");
    assert_eq!(ts[0].len(), 3);
}

#[test]
fn should_allow_all_levels_when_group_has_no_level_set() {
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    log.with_group("database").trace("trace passes");
    assert_eq!(ts[0].messages(), ["trace passes"]);
}

// ---------------------------------------------------------------------------
// group enabled/disabled

#[test]
fn should_not_route_logs_through_a_disabled_group() {
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["t1"]).enabled(false))]);
    log.with_group("database").error("should be dropped");
    assert!(ts[0].is_empty());
}

#[test]
fn should_allow_disable_group_at_runtime() {
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    assert!(log.disable_group("database"));
    log.with_group("database").error("should be dropped");
    assert!(ts[0].is_empty());
    assert!(!log.disable_group("nonexistent"));
}

#[test]
fn should_allow_enable_group_at_runtime() {
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["t1"]).enabled(false))]);
    assert!(log.enable_group("database"));
    log.with_group("database").error("should pass");
    assert_eq!(ts[0].messages(), ["should pass"]);
}

// ---------------------------------------------------------------------------
// activeGroups filter

#[test]
fn should_only_route_logs_through_active_groups() {
    if std::env::var_os("LOGLAYER_GROUPS").is_some() {
        return; // the variable overrides `active_groups`; see the env cases
    }
    let ts = transports(2);
    let log = LogLayer::builder()
        .transport(ts[0].clone())
        .transport(ts[1].clone())
        .group("database", db(&["t1"]))
        .group("auth", db(&["t2"]))
        .active_groups(["database"])
        .build();
    log.with_group("database").error("db error");
    log.with_group("auth").error("auth error");
    assert_eq!(counts(&ts), [1, 0]);
    assert_eq!(log.active_groups(), Some(vec!["database".to_owned()]));
}

#[test]
fn should_allow_set_active_groups_at_runtime() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"])), ("auth", db(&["t2"]))]);
    log.set_active_groups(["auth"]);
    log.with_group("database").error("should be dropped");
    log.with_group("auth").error("should pass");
    assert_eq!(counts(&ts), [0, 1]);
}

#[test]
fn should_clear_the_filter_when_set_active_groups_null() {
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    log.set_active_groups(["nonexistent"]);
    log.with_group("database").error("should be dropped");
    assert!(ts[0].is_empty());
    log.clear_active_groups();
    assert_eq!(log.active_groups(), None);
    log.with_group("database").error("should pass");
    assert_eq!(ts[0].messages(), ["should pass"]);
}

// ---------------------------------------------------------------------------
// ungrouped behavior

fn with_ungrouped(ts: &[CaptureTransport], ungrouped: Ungrouped) -> LogLayer {
    LogLayer::builder()
        .transport(ts[0].clone())
        .transport(ts[1].clone())
        .group("database", db(&["t1"]))
        .ungrouped(ungrouped)
        .build()
}

#[test]
fn should_send_ungrouped_logs_to_all_transports_by_default_ungrouped_behavior_all() {
    let ts = transports(2);
    with_ungrouped(&ts, Ungrouped::All).info("ungrouped");
    assert_eq!(counts(&ts), [1, 1]);
}

#[test]
fn should_drop_ungrouped_logs_when_ungrouped_behavior_none() {
    let ts = transports(2);
    let log = with_ungrouped(&ts, Ungrouped::Nowhere);
    log.info("ungrouped");
    assert_eq!(counts(&ts), [0, 0]);
    // Tagged entries still go where their group says, also with plugins.
    log.with_group("database").info("tagged");
    assert_eq!(counts(&ts), [1, 0]);
}

#[test]
fn should_send_ungrouped_logs_only_to_specific_transports_when_ungrouped_behavior_is_a_list() {
    let ts = transports(2);
    with_ungrouped(&ts, Ungrouped::only(["t2"])).info("ungrouped");
    assert_eq!(counts(&ts), [0, 1]);
}

// ---------------------------------------------------------------------------
// child logger with persistent groups

#[test]
fn should_create_a_child_logger_with_with_group_that_persists_groups() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    let db_logger = log.with_group("database");
    db_logger.error("first");
    assert_eq!(counts(&ts), [1, 0]);
    db_logger.error("second");
    assert_eq!(counts(&ts), [2, 0]);
}

#[test]
fn should_route_grouped_logs_to_all_transports_in_the_groups_transports_list() {
    let ts = transports(2);
    let log = logger(&ts, &[("test", db(&["t1", "t2"]).level(Level::Info))]);
    let test_logger = log.with_group("test");
    let messages = [
        "first grouped message",
        "second grouped message",
        "third grouped message",
    ];
    for m in messages {
        test_logger.info(m);
    }
    assert_eq!(ts[0].messages(), messages);
    assert_eq!(ts[1].messages(), messages);
    log.info("ungrouped message");
    assert_eq!(ts[0].messages()[3], "ungrouped message");
    assert_eq!(ts[1].messages()[3], "ungrouped message");
}

#[test]
fn should_not_affect_the_parent_logger() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    let _db_logger = log.with_group("database");
    log.info("parent log");
    assert_eq!(counts(&ts), [1, 1]);
}

#[test]
fn should_inherit_parent_groups_in_nested_with_group() {
    let ts = transports(3);
    let log = logger(&ts, &[("database", db(&["t1"])), ("auth", db(&["t2"]))]);
    log.with_group("database")
        .with_group("auth")
        .error("nested groups");
    assert_eq!(counts(&ts), [1, 1, 0]);
}

// ---------------------------------------------------------------------------
// group merging (logger-level + per-log)

#[test]
fn should_merge_logger_level_and_per_log_groups() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"])), ("auth", db(&["t2"]))]);
    let db_logger = log.with_group("database");
    db_logger
        .with_metadata(json!({"test": true}))
        .with_group("auth")
        .error("merged groups");
    assert_eq!(counts(&ts), [1, 1]);
    // The per-entry group stays with that entry.
    db_logger.error("database only");
    assert_eq!(counts(&ts), [2, 1]);
}

// ---------------------------------------------------------------------------
// undefined groups

#[test]
fn should_treat_logs_tagged_with_undefined_groups_as_ungrouped() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    log.with_group("nonexistent").error("unknown group");
    assert_eq!(counts(&ts), [1, 1]);
}

#[test]
fn should_treat_mix_of_defined_and_undefined_groups_correctly() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"]).level(Level::Error))]);
    log.with_groups(["database", "nonexistent"])
        .error("mixed groups");
    // A defined group is among them: the entry is not untagged, so t2,
    // outside `database`, gets nothing.
    assert_eq!(counts(&ts), [1, 0]);
}

// ---------------------------------------------------------------------------
// runtime management

#[test]
fn should_add_groups_at_runtime_with_add_group() {
    let ts = transports(1);
    let log = logger(&ts, &[]);
    log.add_group("database", db(&["t1"]).level(Level::Error));
    log.with_group("database").error("should pass");
    log.with_group("database").info("should be dropped");
    assert_eq!(ts[0].messages(), ["should pass"]);
}

#[test]
fn should_remove_groups_at_runtime_with_remove_group() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    assert!(log.remove_group("database"));
    log.with_group("database").error("now ungrouped");
    assert_eq!(counts(&ts), [1, 1]);
}

#[test]
fn should_update_group_level_at_runtime_with_set_group_level() {
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["t1"]).level(Level::Error))]);
    log.with_group("database").info("should be dropped");
    assert!(ts[0].is_empty());
    assert!(log.set_group_level("database", Level::Info));
    log.with_group("database").info("should pass now");
    assert_eq!(ts[0].messages(), ["should pass now"]);
}

#[test]
fn should_return_groups_snapshot_with_get_groups() {
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["t1"]).level(Level::Error))]);
    let groups = log.groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups["database"], db(&["t1"]).level(Level::Error));
    log.add_group("auth", db(&["t1"]));
    assert!(!groups.contains_key("auth"));
    assert!(log.groups().contains_key("auth"));
}

// ---------------------------------------------------------------------------
// API chaining

#[test]
fn should_work_with_with_metadata_with_group() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    log.with_metadata(json!({"query": "SELECT *"}))
        .with_group("database")
        .error("query failed");
    let e = &ts[0].entries()[0];
    assert_eq!(
        (e["level"].as_str(), e["query"].as_str()),
        (Some("error"), Some("SELECT *"))
    );
    assert!(ts[1].is_empty());
}

#[test]
fn should_work_with_with_error_with_group() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    log.with_error(&std::io::Error::other("test"))
        .with_group("database")
        .error("error occurred");
    assert_eq!(ts[0].entries()[0]["err"]["message"], "test");
    assert!(ts[1].is_empty());
}

#[test]
fn should_work_with_with_group_with_metadata() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    log.with_group("database")
        .with_metadata(json!({"query": "SELECT *"}))
        .error("query failed");
    assert_eq!(counts(&ts), [1, 0]);
}

// ---------------------------------------------------------------------------
// single transport

#[test]
fn should_apply_group_routing_with_a_single_transport() {
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["t1"]).level(Level::Error))]);
    log.with_group("database").info("should be dropped");
    log.with_group("database").error("should pass");
    assert_eq!(ts[0].messages(), ["should pass"]);
}

#[test]
fn should_drop_grouped_logs_when_transport_is_not_in_group() {
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["other-transport"]))]);
    log.with_group("database").error("wrong transport");
    assert!(ts[0].is_empty());
}

// ---------------------------------------------------------------------------
// env variable parsing: in a child process of this test binary, so the
// variable never reaches the other tests.

/// Runs the test `name` again in a child process with `LOGLAYER_GROUPS` set;
/// returns true in the child (where the caller then checks), false in the
/// parent after the child passed.
fn in_child_with_env(name: &str, value: &str) -> bool {
    if std::env::var_os("LOGLAYER_GROUPS_TEST_CHILD").is_some() {
        return true;
    }
    let stdout = loglayer_suite::run_alone_in_fresh_process(
        name,
        &[
            ("LOGLAYER_GROUPS_TEST_CHILD", "1"),
            ("LOGLAYER_GROUPS", value),
        ],
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test:\n{stdout}"
    );
    false
}

#[test]
fn should_filter_active_groups_from_env_variable() {
    if !in_child_with_env("should_filter_active_groups_from_env_variable", "database") {
        return;
    }
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"])), ("auth", db(&["t2"]))]);
    log.with_group("database").error("db error");
    log.with_group("auth").error("auth error");
    assert_eq!(counts(&ts), [1, 0]);
}

#[test]
fn should_override_group_levels_from_env_variable() {
    if !in_child_with_env(
        "should_override_group_levels_from_env_variable",
        "database:debug",
    ) {
        return;
    }
    let ts = transports(1);
    let log = logger(&ts, &[("database", db(&["t1"]).level(Level::Error))]);
    log.with_group("database").debug("debug message");
    assert_eq!(ts[0].messages(), ["debug message"]);
    assert_eq!(log.groups()["database"].min_level(), Some(Level::Debug));
}

#[test]
fn env_variable_overrides_active_groups_set_on_the_builder() {
    if !in_child_with_env(
        "env_variable_overrides_active_groups_set_on_the_builder",
        "auth",
    ) {
        return;
    }
    let ts = transports(2);
    let log = LogLayer::builder()
        .transport(ts[0].clone())
        .transport(ts[1].clone())
        .group("database", db(&["t1"]))
        .group("auth", db(&["t2"]))
        .active_groups(["database"])
        .build();
    log.with_group("database").error("dropped");
    log.with_group("auth").error("sent");
    assert_eq!(counts(&ts), [0, 1]);
}

// ---------------------------------------------------------------------------
// Beyond LogLayer: the table is shared by every logger made from one, and
// plugins are asked only about the transports the groups route to.

#[test]
fn runtime_changes_reach_children_made_before() {
    let ts = transports(2);
    let log = logger(&ts, &[("database", db(&["t1"]))]);
    let child = log.child().with_prefix("[c]").with_group("database");
    child.error("routed");
    child.disable_group("database"); // through the child: the parent sees it too
    log.with_group("database").error("dropped");
    child.error("dropped too");
    assert_eq!(counts(&ts), [1, 0]);
}

#[derive(Clone, Default)]
struct AskedAbout(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl loglayer::plugin::Plugin for AskedAbout {
    fn id(&self) -> &str {
        "asked-about"
    }
    fn should_send_to_logger(&self, transport_id: &str, _: &loglayer::Entry<'_>) -> bool {
        self.0.lock().unwrap().push(transport_id.to_owned());
        true
    }
}

#[test]
fn with_plugins_groups_route_before_should_send_to_logger() {
    let ts = transports(2);
    let asked = AskedAbout::default();
    let log = LogLayer::builder()
        .transport(ts[0].clone())
        .transport(ts[1].clone())
        .plugin(asked.clone())
        .group("database", db(&["t1"]))
        .ungrouped(Ungrouped::only(["t2"]))
        .build();
    log.with_group("database").error("tagged");
    log.info("untagged");
    assert_eq!(ts[0].messages(), ["tagged"]);
    assert_eq!(ts[1].messages(), ["untagged"]);
    assert_eq!(*asked.0.lock().unwrap(), ["t1", "t2"]);
}

// ---------------------------------------------------------------------------
// Beyond LogLayer: `#[with_logger(group = "..")]` and scopes. The scope's
// logger is a child of the current logger, so the routing is that of the
// logger the request runs with, and everything under the function is tagged.

/// `console` gets untagged entries; `db_log` gets the `database` group.
fn db_setup() -> (CaptureTransport, CaptureTransport, LogLayer) {
    let console = CaptureTransport::with_id("console");
    let db_log = CaptureTransport::with_id("db_log");
    let log = LogLayer::builder()
        .transport(console.clone())
        .transport(db_log.clone())
        .group("database", Group::new(["db_log"]))
        .build();
    (console, db_log, log)
}

#[with_logger(group = "database")]
async fn load_user(id: u64) -> u64 {
    log!(info, "load_user");
    tokio::task::yield_now().await;
    query(id).await;
    plain_helper();
    loglayer::spawn(async {
        loglayer::info!("spawned");
    })
    .await
    .unwrap();
    id
}

async fn query(id: u64) {
    tokio::task::yield_now().await;
    loglayer::debug!(id, "query");
}

fn plain_helper() {
    loglayer::info!("plain helper");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_logger_group_tags_everything_under_the_function_at_any_depth() {
    let (console, db_log, log) = db_setup();
    loglayer::scope(log, async {
        loglayer::info!("before");
        load_user(7).await;
        loglayer::info!("after");
    })
    .await;
    assert_eq!(console.messages(), ["before", "after"]);
    assert_eq!(
        db_log.messages(),
        [
            "before",
            "load_user",
            "query",
            "plain helper",
            "spawned",
            "after"
        ]
    );
}

#[with_logger(group = "database", context(table = "users"))]
fn plain_in_group() {
    loglayer::warn!("plain fn");
}

#[with_logger(logger = base, group = "database")]
fn with_base(base: &LogLayer) {
    log!(info, "from base");
}

#[with_logger(group = "database")]
fn returns_future() -> impl std::future::Future<Output = ()> {
    async {
        loglayer::info!("in returned future");
    }
}

#[tokio::test]
async fn with_logger_group_on_plain_fns_and_returned_futures() {
    let (console, db_log, log) = db_setup();
    loglayer::sync_scope(log.clone(), plain_in_group);
    with_base(&log);
    loglayer::scope(log.clone(), returns_future()).await;
    assert!(console.is_empty(), "{:?}", console.messages());
    assert_eq!(
        db_log.messages(),
        ["plain fn", "from base", "in returned future"]
    );
    assert_eq!(db_log.entries()[0]["table"], "users");
    // The base logger itself is not tagged.
    log.info("untagged");
    assert_eq!(console.messages(), ["untagged"]);
}

#[tokio::test]
async fn routing_follows_the_request_logger() {
    // A request's logger is a child of the base logger: a group scope under
    // it is routed by the table the base defined, and changing the table at
    // run time (here: through the base) reaches the request at once.
    let (console, db_log, base) = db_setup();
    let request = base.child();
    request.with_context(json!({"request_id": "r1"}));
    loglayer::scope(request, async {
        load_user(1).await;
    })
    .await;
    assert!(console.is_empty());
    assert_eq!(db_log.entries()[0]["request_id"], "r1");

    base.disable_group("database");
    loglayer::scope(base.child(), async {
        load_user(2).await;
    })
    .await;
    assert_eq!(db_log.len(), 4, "{:?}", db_log.messages());
    assert!(console.is_empty());
}

#[tokio::test]
async fn scope_with_a_group_tagged_child_tags_everything_in_it() {
    let (console, db_log, log) = db_setup();
    loglayer::scope(log.with_group("database"), async {
        query(1).await;
        plain_helper();
    })
    .await;
    assert!(console.is_empty());
    assert_eq!(db_log.messages(), ["query", "plain helper"]);
}

// ---------------------------------------------------------------------------
// An entry's groups, as transports and plugins see them.

/// Records the groups of each entry it is asked about.
#[derive(Clone, Default)]
struct SeenGroups(std::sync::Arc<std::sync::Mutex<Vec<Vec<String>>>>);

impl SeenGroups {
    fn note(&self, entry: &loglayer::Entry<'_>) {
        let groups = entry.groups().map(str::to_owned).collect();
        self.0.lock().unwrap().push(groups);
    }
    fn seen(&self) -> Vec<Vec<String>> {
        self.0.lock().unwrap().clone()
    }
}

impl loglayer::transport::Transport for SeenGroups {
    fn write(&self, entry: &loglayer::Entry<'_>) -> std::io::Result<()> {
        self.note(entry);
        Ok(())
    }
}

impl loglayer::plugin::Plugin for SeenGroups {
    fn id(&self) -> &str {
        "seen-groups"
    }
    fn should_send_to_logger(&self, _: &str, entry: &loglayer::Entry<'_>) -> bool {
        self.note(entry);
        true
    }
}

#[test]
fn groups_passed_to_transports() {
    let seen = SeenGroups::default();
    // Groups not defined on the logger route like untagged entries (to every
    // transport), so the transport sees all three.
    let log = LogLayer::new(seen.clone());
    log.with_group("database").info("tagged by the logger");
    log.with_metadata(json!({"a": 1}))
        .with_groups(["auth", "database"])
        .info("tagged for one entry");
    log.info("untagged");
    assert_eq!(
        seen.seen(),
        [
            vec!["database".to_owned()],
            vec!["auth".to_owned(), "database".to_owned()],
            vec![],
        ]
    );
}

#[test]
fn groups_passed_to_should_send_to_logger() {
    let seen = SeenGroups::default();
    let log = LogLayer::builder()
        .transport(CaptureTransport::new())
        .plugin(seen.clone())
        .build();
    log.with_group("payments").warn("tagged");
    assert_eq!(seen.seen(), [vec!["payments".to_owned()]]);
}

#[test]
fn a_fingers_crossed_replay_is_routed_by_the_groups_of_the_logger_that_buffered() {
    let all = CaptureTransport::with_id("all");
    let db = CaptureTransport::with_id("db");
    let log = LogLayer::builder()
        .transport(all.clone())
        .transport(db.clone())
        .level(Level::Info)
        .group("database", Group::new(["db"]))
        .ungrouped(Ungrouped::only(["all"]))
        .build()
        .fingers_crossed(loglayer::FingersCrossed::new(Level::Debug));
    log.with_group("database").debug("slow query");
    log.error("request failed");
    assert_eq!(db.messages(), ["slow query"]);
    assert_eq!(db.entries()[0]["buffered"], true);
    assert_eq!(all.messages(), ["request failed"]);
}
