use loglayer::with_logger;

#[with_logger(context(usr))]
fn handler(user: &str, id: u64) {
    log!(info, "hello {} {}", user, id);
}

fn main() {
    handler("ann", 1);
}
