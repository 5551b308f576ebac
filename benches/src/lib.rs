//! Shared helpers for the benchmarks in `benches/` (discarding writers, the floor).
