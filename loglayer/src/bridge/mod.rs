//! Bridges from the `log` and `tracing` facades into loglayer, and from
//! loglayer into `tracing`.

#[cfg(feature = "log")]
mod log;
#[cfg(feature = "tracing")]
mod tracing;
