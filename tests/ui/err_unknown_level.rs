use loglayer::with_logger;

#[with_logger(err(level = critical))]
fn handler() -> Result<(), String> {
    Ok(())
}

fn main() {
    let _ = handler();
}
