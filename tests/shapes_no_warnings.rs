//! Every shape of function the `#[with_logger]` docs list compiles without a
//! single warning (this file denies them all), and each one logs what it
//! should. A regression test for "unnecessary braces around block return
//! value" on one-line bodies.

#![deny(warnings)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use futures::future::{BoxFuture, FutureExt};
use loglayer::transport::CaptureTransport;
use loglayer::{with_logger, LogLayer};
use serde_json::{json, Value};

fn capture() -> (CaptureTransport, LogLayer) {
    let capture = CaptureTransport::new();
    (capture.clone(), LogLayer::new(capture))
}

/// The entries' messages and one field of each.
fn fields(capture: &CaptureTransport, key: &str) -> Vec<(String, Value)> {
    capture
        .entries()
        .into_iter()
        .map(|e| (e["msg"].as_str().unwrap().to_owned(), e[key].clone()))
        .collect()
}

#[derive(Debug, PartialEq)]
struct Oops;

impl fmt::Display for Oops {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oops")
    }
}

impl std::error::Error for Oops {}

// ----------------------------------------------------------------------------
// One-line bodies, plain and async, with and without options. rustc's
// `unused_braces` lint looks only at blocks on one line, so rustfmt must
// leave them so.

#[rustfmt::skip]
#[with_logger]
fn one_line() -> u32 { 42 }

#[rustfmt::skip]
#[with_logger]
fn empty() {}

#[rustfmt::skip]
#[with_logger(context(k = 1))]
async fn one_line_async() -> u32 { 7 }

#[rustfmt::skip]
#[with_logger(err)]
fn one_line_err() -> Result<u32, Oops> { Err(Oops) }

#[rustfmt::skip]
#[with_logger(err)]
async fn one_line_err_async() -> Result<u32, Oops> { Ok(1) }

#[rustfmt::skip]
#[with_logger(context(n))]
fn one_line_log(n: u32) { log!(info, "one line") }

#[rustfmt::skip]
#[with_logger]
fn one_line_future() -> impl Future<Output = u32> { async { 5 } }

#[test]
fn one_line_bodies() {
    let (capture, logger) = capture();
    loglayer::sync_scope(logger.clone(), || {
        assert_eq!(one_line(), 42);
        empty();
        assert!(one_line_err().is_err());
        one_line_log(3);
    });
    assert_eq!(futures::executor::block_on(one_line_future()), 5);
    let (a, b) = futures::executor::block_on(loglayer::scope(logger, async {
        (one_line_async().await, one_line_err_async().await)
    }));
    assert_eq!((a, b.unwrap()), (7, 1));
    assert_eq!(
        fields(&capture, "n"),
        [
            ("one_line_err returned an error".to_owned(), Value::Null),
            ("one line".to_owned(), json!(3)),
        ]
    );
}

// ----------------------------------------------------------------------------
// Methods with every receiver; generics, where clauses, lifetimes,
// `impl Trait` arguments and returns; `?` and early return.

struct Account {
    id: u32,
    balance: i64,
}

impl Account {
    #[with_logger(context(account = self.id))]
    fn balance(&self) -> i64 {
        log!(debug, "balance");
        self.balance
    }

    #[with_logger(context(account = self.id, amount), err)]
    fn withdraw(&mut self, amount: i64) -> Result<i64, Oops> {
        if amount > self.balance {
            return Err(Oops);
        }
        self.balance -= amount;
        log!(info, "withdrew");
        Ok(self.balance)
    }

    #[with_logger(context(account = self.id), err(level = warn))]
    async fn deposit(&mut self, amount: i64) -> Result<i64, Oops> {
        let amount = u32::try_from(amount).map_err(|_| Oops)?;
        self.balance += i64::from(amount);
        log!(info, "deposited");
        Ok(self.balance)
    }

    #[with_logger(context(closed = self.id))]
    fn close(self) -> i64 {
        log!(info, "closed");
        self.balance
    }

    #[with_logger(context(closed = self.id))]
    async fn close_async(self) -> i64 {
        log!(info, "closed async");
        self.balance
    }
}

#[allow(clippy::needless_lifetimes)] // named lifetimes are the shape under test
#[with_logger(context(count = items.len()))]
fn first_matching<'a, T, P>(items: &'a [T], predicate: P) -> Option<&'a T>
where
    T: fmt::Debug,
    P: Fn(&T) -> bool,
{
    let found = items.iter().find(|item| predicate(item))?;
    log!(info, "found {:?}", found);
    Some(found)
}

#[with_logger(context(prefix = %prefix))]
fn labels<'p>(
    prefix: &'p str,
    items: impl IntoIterator<Item = u32> + 'p,
) -> impl Iterator<Item = String> + 'p {
    log!(info, "labels");
    items.into_iter().map(move |n| format!("{prefix}{n}"))
}

#[with_logger(err)]
async fn parse_all(inputs: &[&str]) -> Result<Vec<u32>, std::num::ParseIntError> {
    let mut out = Vec::new();
    for input in inputs {
        if input.is_empty() {
            return Ok(out);
        }
        out.push(input.parse()?);
    }
    Ok(out)
}

#[test]
fn methods_generics_lifetimes_impl_trait() {
    let (capture, logger) = capture();
    let mut account = Account { id: 1, balance: 10 };
    futures::executor::block_on(loglayer::scope(logger, async {
        assert_eq!(account.balance(), 10);
        assert!(account.withdraw(50).is_err());
        assert_eq!(account.withdraw(4), Ok(6));
        assert_eq!(account.deposit(4).await.unwrap(), 10);
        assert!(account.deposit(-1).await.is_err());
        assert_eq!(first_matching(&[1, 2, 3], |n| *n > 1), Some(&2));
        assert_eq!(first_matching(&[1], |n| *n > 1), None);
        let labels: Vec<String> = labels("#", [1, 2]).collect();
        assert_eq!(labels, ["#1", "#2"]);
        assert_eq!(parse_all(&["1", "", "x"]).await.unwrap(), [1]);
        assert!(parse_all(&["x"]).await.is_err());
        assert_eq!(account.close(), 10);
        assert_eq!(Account { id: 2, balance: 0 }.close_async().await, 0);
    }));
    let account = fields(&capture, "account");
    assert_eq!(
        account,
        [
            ("balance".to_owned(), json!(1)),
            ("withdraw returned an error".to_owned(), json!(1)),
            ("withdrew".to_owned(), json!(1)),
            ("deposited".to_owned(), json!(1)),
            ("deposit returned an error".to_owned(), json!(1)),
            ("found 2".to_owned(), Value::Null),
            ("labels".to_owned(), Value::Null),
            ("parse_all returned an error".to_owned(), Value::Null),
            ("closed".to_owned(), Value::Null),
            ("closed async".to_owned(), Value::Null),
        ]
    );
    assert_eq!(capture.entries()[4]["level"], "warn");
    assert_eq!(capture.entries()[5]["count"], 3);
    assert_eq!(capture.entries()[9]["closed"], 2);
}

// ----------------------------------------------------------------------------
// `logger = ..` and every context form.

#[derive(serde::Serialize, Debug)]
struct Point {
    x: i32,
}

#[with_logger(logger = logger, context(
    plain = 1,
    dbg = ?point,
    disp = %label,
    "dotted.key" = point.x,
    "dotted.dbg" = ?point.x,
    "dotted.disp" = %label,
    point,
    ?label,
    %r#type,
))]
fn every_form(logger: &LogLayer, point: Point, label: &str, r#type: &str) -> i32 {
    log!(info, "every form");
    point.x
}

#[with_logger(logger = logger)]
async fn given(logger: LogLayer) {
    log!(info, "given");
}

#[test]
fn logger_and_context_forms() {
    let (capture, logger) = capture();
    assert_eq!(every_form(&logger, Point { x: 5 }, "l", "t"), 5);
    futures::executor::block_on(given(logger));
    let e = &capture.entries()[0];
    assert_eq!(
        (&e["plain"], &e["dbg"], &e["disp"], &e["dotted.key"]),
        (&json!(1), &json!("Point { x: 5 }"), &json!("l"), &json!(5))
    );
    assert_eq!(
        (&e["dotted.dbg"], &e["dotted.disp"], &e["point"]),
        (&json!("5"), &json!("l"), &json!({ "x": 5 }))
    );
    assert_eq!((&e["label"], &e["type"]), (&json!("\"l\""), &json!("t")));
    assert_eq!(capture.entries()[1]["msg"], "given");
}

// ----------------------------------------------------------------------------
// `#[async_trait]` methods and fns returning a future, with `err`.

#[async_trait::async_trait]
trait Repo {
    async fn get(&self, id: u32) -> Result<u32, Oops>;
    async fn put(&mut self, (id, value): (u32, u32));
}

struct Memory(Vec<u32>);

#[async_trait::async_trait]
impl Repo for Memory {
    #[with_logger(context(id), err)]
    async fn get(&self, id: u32) -> Result<u32, Oops> {
        let value = self.0.get(id as usize).ok_or(Oops)?;
        Ok(*value)
    }

    #[with_logger(context(id, value))]
    async fn put(&mut self, (id, value): (u32, u32)) {
        self.0.insert(id as usize, value);
        log!(info, "put")
    }
}

#[with_logger(context(id))]
fn later(id: u32) -> impl Future<Output = u32> {
    async move { id }
}

#[with_logger(err)]
fn later_err(fail: bool) -> impl Future<Output = Result<(), Oops>> {
    async move {
        if fail {
            return Err(Oops);
        }
        Ok(())
    }
}

#[with_logger(err)]
fn pinned(fail: bool) -> Pin<Box<dyn Future<Output = Result<(), Oops>> + Send>> {
    Box::pin(async move {
        if fail {
            Err(Oops)
        } else {
            Ok(())
        }
    })
}

#[with_logger(err)]
fn boxed(fail: bool) -> BoxFuture<'static, Result<(), Oops>> {
    async move {
        if fail {
            Err(Oops)
        } else {
            Ok(())
        }
    }
    .boxed()
}

#[test]
fn async_trait_and_future_returning_fns() {
    let (capture, logger) = capture();
    futures::executor::block_on(loglayer::scope(logger, async {
        let mut repo = Memory(vec![]);
        repo.put((0, 9)).await;
        assert_eq!(repo.get(0).await.unwrap(), 9);
        assert!(repo.get(1).await.is_err());
        assert_eq!(later(4).await, 4);
        assert!(later_err(true).await.is_err());
        assert!(later_err(false).await.is_ok());
        assert!(pinned(true).await.is_err());
        assert!(boxed(true).await.is_err());
    }));
    assert_eq!(
        fields(&capture, "id"),
        [
            ("put".to_owned(), json!(0)),
            ("get returned an error".to_owned(), json!(1)),
            ("later_err returned an error".to_owned(), Value::Null),
            ("pinned returned an error".to_owned(), Value::Null),
            ("boxed returned an error".to_owned(), Value::Null),
        ]
    );
    assert_eq!(capture.entries()[0]["value"], 9);
}
