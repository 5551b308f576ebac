use loglayer::with_logger;

struct Service;

impl Service {
    #[with_logger(context(self))]
    fn call(&self) {}
}

fn main() {
    Service.call();
}
