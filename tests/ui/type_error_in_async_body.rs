use loglayer::with_logger;

#[with_logger(context(n))]
async fn double(n: u32) -> u64 {
    log!(info, "doubling");
    n * 2
}

fn main() {
    let _ = double(1);
}
