use loglayer::with_logger;

#[with_logger(context(a = 1), err, context(b = 2))]
fn handler() -> Result<(), String> {
    Ok(())
}

fn main() {
    let _ = handler();
}
