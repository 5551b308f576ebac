//! Misuse of `#[with_logger]` and type errors in its functions: each case is
//! named after the mistake, and its `.stderr` shows the one error rustc gives.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
