use loglayer::with_logger;

#[with_logger]
const fn answer() -> u32 {
    42
}

fn main() {
    let _ = answer();
}
