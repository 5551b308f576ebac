use loglayer::with_logger;

#[derive(Debug)]
struct MyError;

#[with_logger(err)]
async fn read(path: &str) -> Result<String, MyError> {
    let text = std::fs::read_to_string(path)?;
    Ok(text)
}

fn main() {
    let _ = read("x");
}
