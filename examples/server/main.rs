//! LogLayer's "Express + AsyncLocalStorage" guide, rebuilt on axum with
//! `loglayer::tower::RequestLoggerLayer`: a logger per request, and nested
//! functions that log through it with no logger parameter.
//!
//! ```text
//! cargo run --example server                       # ephemeral port, printed first
//! PORT=3000 cargo run --example server             # a fixed port
//! LOGLAYER_FORMAT=json cargo run --example server  # JSON lines instead of the console format
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
//! The routes are in `app.rs`; `tests/server.rs` runs the same app.

mod app;

use std::process::ExitCode;

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
    // the level in LOGLAYER_LEVEL. Each request gets a child of it.
    let base = loglayer::from_env();

    let served = axum::serve(listener, app::app(base.clone()))
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
