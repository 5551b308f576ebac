//! Async context: the Rust version of LogLayer's guide "Express +
//! AsyncLocalStorage".
//!
//! In Node, a LogLayer user writes a middleware that creates one logger per
//! request (`log.child().withContext({ requestId, method, path })`) and runs
//! the rest of the request inside `asyncLocalStorage.run(logger, next)`, so
//! that every function the handler calls can log with the request's context
//! without taking a logger parameter.
//!
//! Here the "server" is simulated (no HTTP crate): a handful of fake requests
//! arrive at once and are handled concurrently on a multi-thread tokio runtime.
//! The middleware is one line, `loglayer::scope(request_logger, handle(req))`;
//! after that:
//!
//! - `handle` → `load_user` → `query_db` log with `loglayer::info!` and friends
//!   and take no logger, yet every line carries its own request's
//!   `request_id`, `method` and `path`, although the requests interleave and
//!   hop between worker threads at every `.await`;
//! - `load_user` uses `#[loglayer::with_logger(context(user_id = id))]`, so its
//!   lines and those of `query_db` (which it calls) also carry `user_id`;
//! - `handle` starts background work with `loglayer::spawn`, which keeps the
//!   request's context even after the response was sent;
//! - at the end, a plain `tokio::spawn` shows what *not* to do: that task does
//!   not inherit the request logger and logs with the default logger (only
//!   `service`).
//!
//! Run it with
//!
//! ```text
//! cargo run --example async_context
//! ```
//!
//! Output is JSON lines on stdout (`JsonTransport`); pass `-- --console` for
//! the human console format (`ConsoleTransport`) instead. Pipe the JSON
//! through `jq -c 'select(.request_id == "req-2")'` to follow one request.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use loglayer::transport::{ConsoleTransport, JsonTransport};
use loglayer::LogLayer;
use serde_json::json;

/// A fake incoming request.
struct Request {
    id: String,
    method: &'static str,
    path: String,
    user_id: u64,
}

/// What the handler answers.
struct Response {
    status: u16,
    /// Work the handler left running after answering.
    background: Option<tokio::task::JoinHandle<()>>,
}

struct User {
    id: u64,
    name: String,
}

/// A database error with a source, to show the error chain in the output.
#[derive(Debug)]
enum DbError {
    NotFound(u64),
    Io(std::io::Error),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbError::NotFound(id) => write!(f, "no user with id {id}"),
            DbError::Io(_) => f.write_str("database connection failed"),
        }
    }
}

impl Error for DbError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            DbError::NotFound(_) => None,
            DbError::Io(e) => Some(e),
        }
    }
}

/// Requests that arrive "at once": they are all in flight together.
fn incoming_requests() -> Vec<Request> {
    [
        ("GET", "/users/1", 1),
        ("GET", "/users/2", 2),
        ("POST", "/users/3/orders", 3),
        ("GET", "/users/404", 404),
        ("GET", "/users/500", 500),
    ]
    .into_iter()
    .enumerate()
    .map(|(n, (method, path, user_id))| Request {
        id: format!("req-{}", n + 1),
        method,
        path: path.to_owned(),
        user_id,
    })
    .collect()
}

/// The request handler. No logger parameter: the macros find the request's
/// logger, which the "middleware" in `main` put in scope.
async fn handle(req: Request) -> Response {
    loglayer::info!("request received");
    let response = match load_user(req.user_id).await {
        Ok(user) => {
            // Background work: `loglayer::spawn` gives the task a child of the
            // current (request) logger, so it keeps the request context even
            // after this handler has returned.
            let audit = loglayer::spawn(send_audit_record(user.id));
            loglayer::info!(user = %user.name, "user found");
            Response {
                status: 200,
                background: Some(audit),
            }
        }
        Err(DbError::NotFound(id)) => {
            loglayer::warn!(user_id = id, "user not found");
            Response {
                status: 404,
                background: None,
            }
        }
        Err(e) => {
            loglayer::error!(err = &e, "could not load the user");
            Response {
                status: 500,
                background: None,
            }
        }
    };
    loglayer::info!(status = response.status, "response sent");
    response
}

/// Runs in a scope whose logger is a child of the request logger plus
/// `user_id`: its own lines and those of everything it calls carry both.
#[loglayer::with_logger(context(user_id = id))]
async fn load_user(id: u64) -> Result<User, DbError> {
    log!(debug, "loading user"); // `log!` needs no import inside #[with_logger] fns
    let name = query_db("SELECT name FROM users WHERE id = $1", id).await?;
    log!(info, name = %name, "user loaded");
    Ok(User { id, name })
}

/// The "database": simulated latency, then a row or an error.
async fn query_db(sql: &str, id: u64) -> Result<String, DbError> {
    loglayer::debug!(sql = sql, "query started");
    // Different latencies, so the requests' lines interleave.
    tokio::time::sleep(Duration::from_millis(5 * (id % 7))).await;
    tokio::task::yield_now().await;
    let result = match id {
        404 => Err(DbError::NotFound(id)),
        500 => Err(DbError::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        ))),
        _ => Ok(format!("user{id}")),
    };
    loglayer::debug!(ok = result.is_ok(), "query finished");
    result
}

/// Background work started by the handler with `loglayer::spawn`.
async fn send_audit_record(user_id: u64) {
    tokio::time::sleep(Duration::from_millis(20)).await;
    loglayer::info!(
        audited_user = user_id,
        "audit record written (background task)"
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let console = std::env::args().any(|a| a == "--console");
    let base = if console {
        LogLayer::new(ConsoleTransport::stdout())
    } else {
        LogLayer::new(JsonTransport::stdout())
    };
    base.with_context(json!({ "service": "users-api" }));
    // Outside every request (and in tasks that do not inherit), the macros
    // use the default logger: make it the service logger.
    loglayer::set_default(base.clone());
    loglayer::info!("server started");

    let mut in_flight = Vec::new();
    for req in incoming_requests() {
        // The "middleware": one logger per request, registered once.
        let request_logger = base.child();
        request_logger.with_context(json!({
            "request_id": req.id,
            "method": req.method,
            "path": req.path,
        }));
        in_flight.push(tokio::spawn(loglayer::scope(request_logger, handle(req))));
    }
    let mut background = Vec::new();
    for request in in_flight {
        let response = request.await.expect("handler panicked");
        background.extend(response.background);
    }
    // The audit tasks outlive their handlers; wait for them before exiting.
    for task in background {
        task.await.expect("background task panicked");
    }

    // What not to do: a plain `tokio::spawn` does not carry the logger. The
    // task below logs with the default logger, without the request context.
    let request_logger = base.child();
    request_logger.with_context(json!({ "request_id": "req-6", "method": "GET", "path": "/" }));
    loglayer::scope(request_logger, async {
        loglayer::info!("request received");
        tokio::spawn(async {
            loglayer::info!("plain tokio::spawn: no request context here");
        })
        .await
        .expect("task panicked");
    })
    .await;

    loglayer::info!("server stopped");
    base.flush();
}
