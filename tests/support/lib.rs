pub use loglayer;
