use std::future::Future;
use std::rc::Rc;

use loglayer::with_logger;

#[with_logger]
async fn holds_rc_across_await() {
    let shared = Rc::new(1);
    std::future::ready(()).await;
    log!(info, "value {}", shared);
}

fn assert_send<F: Future + Send>(_: F) {}

fn main() {
    assert_send(holds_rc_across_await());
}
