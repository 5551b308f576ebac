//! LogLayer's "Express + AsyncLocalStorage" guide, rebuilt on axum with
//! `loglayer::tower::RequestLoggerLayer`: a logger per request, and nested
//! functions that log through it with no logger parameter.
//!
//! ```text
//! cargo run --example server                       # ephemeral port, printed first
//! PORT=3000 cargo run --example server             # a fixed port
//! LOGLAYER_FORMAT=json cargo run --example server  # JSON lines instead of the console format
//! ADMIN_TOKEN=s3cret cargo run --example server    # with the admin routes and the level header
//! ```
//!
//! Then, from another terminal (with the printed port):
//!
//! ```text
//! curl -H 'x-request-id: order-1' http://127.0.0.1:3000/orders/42
//! curl http://127.0.0.1:3000/orders/4242                       # 404
//! curl -H 'authorization: Bearer user-7' http://127.0.0.1:3000/me
//! curl -X POST http://127.0.0.1:3000/checkout/42               # 500, error chain
//! ```
//!
//! With `ADMIN_TOKEN` set, change the levels while it runs (`admin.rs`):
//!
//! ```text
//! curl -H 'authorization: Bearer s3cret' http://127.0.0.1:3000/admin/levels
//! curl -X PUT -H 'authorization: Bearer s3cret' --data 'debug' \
//!      'http://127.0.0.1:3000/admin/levels?for=10m'               # debug for 10 minutes
//! curl -X DELETE -H 'authorization: Bearer s3cret' http://127.0.0.1:3000/admin/levels/override
//! curl -H 'x-log-level: debug' -H 'x-debug-token: s3cret' \
//!      http://127.0.0.1:3000/orders/42                            # this request alone at debug
//! ```
//!
//! The routes are in `app.rs` and `admin.rs`; `tests/server.rs` runs the same
//! app.

mod admin;
mod app;

use std::process::ExitCode;

use loglayer::transport::{ConsoleTransport, JsonTransport};
use loglayer::{LevelControl, LogLayer};

#[tokio::main]
async fn main() -> ExitCode {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => match p.trim().parse() {
            Ok(port) => port,
            Err(e) => {
                eprintln!("PORT={p:?}: {e}");
                return ExitCode::from(2);
            }
        },
        Err(_) => 0,
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(e) => {
            eprintln!("no local address: {e}");
            return ExitCode::FAILURE;
        }
    }

    // The console format on stdout (JSON lines with LOGLAYER_FORMAT=json), at
    // the levels in LOGLAYER_LEVEL — held by a LevelControl, so that the admin
    // routes can change them. Each request gets a child of it.
    let levels = LevelControl::from_env();
    let base = base_logger(levels.clone());
    let admin = match std::env::var("ADMIN_TOKEN") {
        Ok(token) if !token.trim().is_empty() => Some(admin::Admin {
            levels,
            token: token.trim().to_owned(),
        }),
        _ => {
            println!("admin routes off: set ADMIN_TOKEN to turn them on");
            None
        }
    };

    let served = axum::serve(listener, app::app(base.clone(), admin))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    base.flush();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `loglayer::from_env()`'s logger (the format from `LOGLAYER_FORMAT`), with
/// its levels from `levels` instead of fixed ones.
fn base_logger(levels: LevelControl) -> LogLayer {
    let builder = LogLayer::builder().level_control(levels);
    match std::env::var("LOGLAYER_FORMAT") {
        Ok(f) if f.trim().eq_ignore_ascii_case("json") => {
            builder.transport(JsonTransport::stdout()).build()
        }
        _ => builder.transport(ConsoleTransport::stdout()).build(),
    }
}
