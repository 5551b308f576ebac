//! `#[with_logger]` in a module that shadows everything its expansion could
//! accidentally name: `core`, `loglayer`, the prelude's types, variants and
//! traits, and arguments named like the attribute's own vocabulary.

#![allow(dead_code, non_camel_case_types, clippy::disallowed_names)]

use ::loglayer::transport::CaptureTransport;
use ::loglayer::LogLayer;
use ::serde_json::{json, Value};

mod shadowed {
    use ::loglayer::with_logger;
    use ::loglayer::LogLayer;

    // Modules named like the crates the expansion uses.
    mod core {}
    mod loglayer {}
    mod __private {}

    // Prelude types and traits.
    pub struct Option;
    pub struct Box;
    pub struct String;
    pub struct Vec;
    pub struct Clone;
    pub struct Send;
    pub struct Future;
    pub struct Borrow;
    pub type Result<T> = ::std::result::Result<T, Failure>;

    // Prelude variants: a glob import shadows them.
    pub enum Shadow {
        Some,
        None,
        Ok,
        Err,
    }
    #[allow(unused_imports)] // unused: the expansion names none of them
    pub use self::Shadow::*;

    // Functions named like the runtime's.
    pub fn scope() {}
    pub fn enter() {}
    pub fn child_of_current() {}
    pub fn add_context() {}
    pub fn ser() {}
    pub fn dbg() {}
    pub fn disp() {}

    #[derive(Debug)]
    pub struct Failure;

    impl ::core::fmt::Display for Failure {
        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
            f.write_str("failure")
        }
    }

    impl ::std::error::Error for Failure {}

    /// Arguments named `logger` and `log`; `log!` still works.
    #[with_logger(context(log, n = *logger), err)]
    pub fn plain(logger: &u32, log: &str) -> Result<u32> {
        log!(info, "plain {}", log);
        if *logger == 0 {
            return ::std::result::Result::Err(Failure);
        }
        ::std::result::Result::Ok(*logger)
    }

    #[with_logger(logger = logger, context(log = %log), err(level = warn))]
    pub async fn async_fn(logger: LogLayer, log: &str) -> Result<()> {
        log!(info, "async {}", log);
        ::std::result::Result::Err(Failure)
    }

    pub struct Service {
        pub name: &'static str,
    }

    impl Service {
        #[with_logger(context(service = self.name))]
        pub async fn call<T: ::core::fmt::Debug + ::core::marker::Send>(&self, value: T) -> T {
            log!(info, "{:?}", value);
            value
        }
    }
}

fn entries(capture: &CaptureTransport) -> ::std::vec::Vec<Value> {
    capture.entries()
}

#[test]
fn plain_fn_in_a_shadowing_module() {
    let capture = CaptureTransport::new();
    let logger = LogLayer::new(capture.clone());
    ::loglayer::sync_scope(logger, || {
        assert_eq!(shadowed::plain(&3, "x").unwrap(), 3);
        assert!(shadowed::plain(&0, "y").is_err());
    });
    let entries = entries(&capture);
    assert_eq!(entries.len(), 3, "{entries:#?}");
    assert_eq!(entries[0]["msg"], "plain x");
    assert_eq!(
        (&entries[0]["log"], &entries[0]["n"]),
        (&json!("x"), &json!(3))
    );
    assert_eq!(entries[2]["level"], "error");
    assert_eq!(entries[2]["err"]["message"], "failure");
}

#[tokio::test]
async fn async_fn_and_method_in_a_shadowing_module() {
    let capture = CaptureTransport::new();
    let logger = LogLayer::new(capture.clone());
    assert!(shadowed::async_fn(logger.clone(), "z").await.is_err());
    let service = shadowed::Service { name: "svc" };
    assert_eq!(::loglayer::scope(logger, service.call(5)).await, 5);

    let entries = entries(&capture);
    assert_eq!(entries.len(), 3, "{entries:#?}");
    assert_eq!(entries[0]["log"], "z");
    assert_eq!(entries[1]["level"], "warn");
    assert_eq!(
        (&entries[2]["msg"], &entries[2]["service"]),
        (&json!("5"), &json!("svc"))
    );
}
