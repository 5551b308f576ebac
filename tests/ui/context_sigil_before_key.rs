// A sigil before a key with a value: the `?`/`%` goes after the `=`.

use loglayer::with_logger;

#[with_logger(context(?user = name))]
fn greet(name: &str) {
    log!(info, "hello {}", name);
}

fn main() {
    greet("ann");
}
