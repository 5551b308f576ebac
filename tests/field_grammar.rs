//! One field grammar for the level macros and `#[with_logger(context(..))]`:
//! every form of the table in the `loglayer::macros` docs, run through both,
//! gives the same keys and values.

use loglayer::transport::CaptureTransport;
use loglayer::{with_logger, LogLayer};
use serde_json::{json, Map, Value};

#[derive(serde::Serialize, Debug)]
struct Point {
    x: i32,
}

struct Args<'a> {
    point: Point,
    label: &'a str,
    dbg_arg: Option<u8>,
    disp_arg: f64,
    r#match: &'a str,
    r#fn: (u8, u8),
    r#loop: char,
}

fn args() -> Args<'static> {
    Args {
        point: Point { x: 3 },
        label: "lbl",
        dbg_arg: Some(1),
        disp_arg: 1.5,
        r#match: "m",
        r#fn: (1, 2),
        r#loop: 'l',
    }
}

/// The fields of the one entry `f` logs, without `time`, `level` and `msg`.
fn logged_fields(f: impl FnOnce()) -> Map<String, Value> {
    let capture = CaptureTransport::new();
    loglayer::sync_scope(LogLayer::new(capture.clone()), f);
    let entries = capture.entries();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let mut fields = entries[0].as_object().unwrap().clone();
    for key in ["time", "level", "msg"] {
        fields.remove(key);
    }
    fields
}

#[allow(clippy::too_many_arguments)]
#[with_logger(context(
    k_ser = point.x,
    k_dbg = ?point,
    k_disp = %label,
    "str.ser" = point.x,
    "str.dbg" = ?point,
    "str.disp" = %label,
    point,
    ?dbg_arg,
    %disp_arg,
    r#type = "raw key",
    r#match,
    ?r#fn,
    %r#loop,
))]
fn via_attribute(
    point: Point,
    label: &str,
    dbg_arg: Option<u8>,
    disp_arg: f64,
    r#match: &str,
    r#fn: (u8, u8),
    r#loop: char,
) {
    log!(info, "fields");
}

#[test]
fn the_level_macros_and_the_attribute_accept_the_same_forms() {
    let from_macro = logged_fields(|| {
        let Args {
            point,
            label,
            dbg_arg,
            disp_arg,
            r#match,
            r#fn,
            r#loop,
        } = args();
        loglayer::info!(
            k_ser = point.x,
            k_dbg = ?point,
            k_disp = %label,
            "str.ser" = point.x,
            "str.dbg" = ?point,
            "str.disp" = %label,
            point,
            ?dbg_arg,
            %disp_arg,
            r#type = "raw key",
            r#match,
            ?r#fn,
            %r#loop,
            "fields"
        );
    });
    let from_attribute = logged_fields(|| {
        let a = args();
        via_attribute(
            a.point, a.label, a.dbg_arg, a.disp_arg, a.r#match, a.r#fn, a.r#loop,
        );
    });

    let expected = json!({
        "k_ser": 3,
        "k_dbg": "Point { x: 3 }",
        "k_disp": "lbl",
        "str.ser": 3,
        "str.dbg": "Point { x: 3 }",
        "str.disp": "lbl",
        "point": { "x": 3 },
        "dbg_arg": "Some(1)",
        "disp_arg": "1.5",
        "type": "raw key",
        "match": "m",
        "fn": "(1, 2)",
        "loop": "l",
    });
    assert_eq!(Value::Object(from_macro.clone()), expected);
    assert_eq!(from_macro, from_attribute);
}
