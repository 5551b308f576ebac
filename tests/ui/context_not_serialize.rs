use loglayer::with_logger;

#[derive(Debug)]
struct Config {
    port: u16,
}

#[with_logger(context(config))]
fn start(config: &Config) -> u16 {
    config.port
}

fn main() {
    start(&Config { port: 80 });
}
