use loglayer::with_logger;

#[derive(Debug)]
struct MyError;

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("my error")
    }
}

impl std::error::Error for MyError {}

#[with_logger(err)]
async fn read(path: &str) -> Result<String, MyError> {
    let text = std::fs::read_to_string(path)?;
    Ok(text)
}

fn main() {
    let _ = read("x");
}
