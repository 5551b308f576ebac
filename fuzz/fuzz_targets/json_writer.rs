//! Fuzzes the JSON writer: arbitrary bytes become a message, keys, nested
//! values, floats and an error, logged through `JsonTransport`; every entry
//! must be exactly one valid JSON line that parses back to the same values.
//!
//! Run: `cd fuzz && cargo +nightly fuzz run json_writer`
#![no_main]

use libfuzzer_sys::fuzz_target;

fn run(data: &[u8]) {
    loglayer_fuzz::bodies::json_writer(data);
}

fuzz_target!(|data: &[u8]| run(data));
