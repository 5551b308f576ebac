use loglayer::with_logger;

#[with_logger(context(1 = user))]
fn handler(user: &str) {
    log!(info, "hello {}", user);
}

fn main() {
    handler("ann");
}
