use loglayer::with_logger;

#[with_logger(level = info)]
fn handler() {}

fn main() {
    handler();
}
