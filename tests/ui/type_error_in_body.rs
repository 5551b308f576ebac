use loglayer::with_logger;

#[with_logger]
fn count(items: &[u32]) -> usize {
    let total: u32 = items.iter().sum();
    total
}

fn main() {
    count(&[1, 2]);
}
