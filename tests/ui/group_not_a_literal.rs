// `group = ..` takes a string literal (the group's name), not an expression.
const DATABASE: &str = "database";

#[loglayer::with_logger(group = DATABASE)]
fn load_user() {}

fn main() {
    load_user();
}
