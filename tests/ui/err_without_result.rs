use loglayer::with_logger;

#[with_logger(err)]
fn handler() {}

fn main() {
    handler();
}
