//! Fuzzes the console writer: arbitrary bytes logged through
//! `ConsoleTransport` (colour on and off) never yield a raw control
//! character, escape sequence, bidi control or line break from data, and
//! every entry is exactly one line.
//!
//! Run: `cd fuzz && cargo +nightly fuzz run console_writer`
#![no_main]

use libfuzzer_sys::fuzz_target;

fn run(data: &[u8]) {
    loglayer_fuzz::bodies::console_writer(data);
}

fuzz_target!(|data: &[u8]| run(data));
