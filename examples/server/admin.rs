//! The admin routes of `examples/server`: read and change the levels of the
//! running service, through the `LevelControl` its base logger follows. Also
//! started by `tests/server.rs` (with `#[path]`).
//!
//! | route | does |
//! |---|---|
//! | `GET /admin/levels` | `{"spec", "base", "override_secs_left"}`: the spec in force, the base spec, and the seconds the override has left (`null`: none) |
//! | `PUT /admin/levels` | the body is a spec (`LOGLAYER_LEVEL` syntax: `info,my_app::db=debug`); with `?for=<duration>` (`90`, `90s`, `15m`, `1h`, `500ms`) it is an override that ends on its own, else it replaces the base |
//! | `DELETE /admin/levels/override` | ends the override now |
//!
//! Every admin route needs `authorization: Bearer <ADMIN_TOKEN>`; without it
//! (or with another token) the answer is 401 and nothing changes. A bad spec
//! or duration is a 400 whose body says what is wrong (the parser's message:
//! which item, at which column); the levels stay as they were.
//!
//! The same token authorises the level header: a request with
//! `x-log-level: debug` **and** `x-debug-token: <ADMIN_TOKEN>` logs at debug,
//! alone (see `app.rs`). Tokens are compared in constant time.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{delete, get};
use axum::{Json, Router};
use loglayer::LevelControl;
use serde::Deserialize;
use serde_json::{json, Value};

/// What the admin routes act on, and the token that guards them.
pub struct Admin {
    /// The control the service's base logger follows.
    pub levels: LevelControl,
    /// The `ADMIN_TOKEN`; never empty (`main.rs` turns the routes off then).
    pub token: String,
}

impl Admin {
    /// Whether `value` is exactly `prefix` followed by the token.
    fn token_in(&self, value: Option<&HeaderValue>, prefix: &str) -> bool {
        let Some(given) = value.and_then(|v| v.as_bytes().strip_prefix(prefix.as_bytes())) else {
            return false;
        };
        constant_time_eq(given, self.token.as_bytes())
    }

    /// `authorization: Bearer <token>`.
    fn is_admin(&self, headers: &HeaderMap) -> bool {
        self.token_in(headers.get("authorization"), "Bearer ")
    }

    /// `x-debug-token: <token>`: the rule of the level header.
    pub fn may_force_level(&self, headers: &HeaderMap) -> bool {
        self.token_in(headers.get("x-debug-token"), "")
    }
}

/// Byte comparison whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The admin routes, with their state.
pub fn routes(admin: Arc<Admin>) -> Router {
    Router::new()
        .route("/admin/levels", get(read_levels).put(put_levels))
        .route("/admin/levels/override", delete(end_override))
        .with_state(admin)
}

type Answer = (StatusCode, Json<Value>);

fn levels_json(levels: &LevelControl) -> Value {
    json!({
        "spec": levels.spec(),
        "base": levels.base_spec(),
        "override_secs_left": levels.override_remaining().map(|d| d.as_secs_f64()),
    })
}

fn refuse(status: StatusCode, error: impl std::fmt::Display) -> Answer {
    (status, Json(json!({ "error": error.to_string() })))
}

fn unauthorised() -> Answer {
    refuse(
        StatusCode::UNAUTHORIZED,
        "admin routes need `authorization: Bearer <ADMIN_TOKEN>`",
    )
}

async fn read_levels(State(admin): State<Arc<Admin>>, headers: HeaderMap) -> Answer {
    if !admin.is_admin(&headers) {
        return unauthorised();
    }
    (StatusCode::OK, Json(levels_json(&admin.levels)))
}

#[derive(Deserialize)]
struct PutQuery {
    /// How long the spec lasts; absent: it replaces the base.
    #[serde(rename = "for")]
    duration: Option<String>,
}

async fn put_levels(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Query(query): Query<PutQuery>,
    spec: String,
) -> Answer {
    if !admin.is_admin(&headers) {
        loglayer::warn!("admin: level change refused (no valid token)");
        return unauthorised();
    }
    let spec = spec.trim();
    let changed = match query.duration.as_deref() {
        None => admin.levels.set(spec),
        Some(text) => match parse_duration(text) {
            Some(duration) => admin.levels.override_for(spec, duration),
            None => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "invalid duration {text:?}: expected seconds (`90`) or a number \
                         with ms, s, m or h (`500ms`, `90s`, `15m`, `1h`)"
                    ),
                )
            }
        },
    };
    if let Err(e) = changed {
        loglayer::warn!(spec, error = %e, "admin: level change refused");
        return refuse(StatusCode::BAD_REQUEST, e);
    }
    // An audit line, through this request's logger (it carries request_id).
    loglayer::warn!(
        spec = admin.levels.spec(),
        duration = query.duration.as_deref(),
        "admin: log levels changed"
    );
    (StatusCode::OK, Json(levels_json(&admin.levels)))
}

async fn end_override(State(admin): State<Arc<Admin>>, headers: HeaderMap) -> Answer {
    if !admin.is_admin(&headers) {
        return unauthorised();
    }
    admin.levels.clear_override();
    loglayer::warn!(spec = admin.levels.spec(), "admin: level override ended");
    (StatusCode::OK, Json(levels_json(&admin.levels)))
}

/// `90` (seconds), `500ms`, `90s`, `15m`, `1h`.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "" | "s" => Some(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        "h" => n.checked_mul(3600).map(Duration::from_secs),
        _ => None,
    }
}
