//! Fuzz target bodies for loglayer (see `bodies`). The same module is
//! compiled into the stable test `tests/reliability_fuzz_smoke.rs`.

pub mod bodies;
