//! The [`Sample`] plugin: keeps a random fraction of entries, per level;
//! errors and fatals are always kept. See [`Sample`].
//!
//! ```
//! use loglayer::{plugin::Sample, transport::CaptureTransport, LogLayer};
//! let capture = CaptureTransport::new();
//! let log = LogLayer::builder()
//!     .transport(capture.clone())
//!     .plugin(Sample::rate(0.0))
//!     .build();
//! log.info("dropped");
//! log.error("kept");
//! assert_eq!(capture.messages(), ["kept"]);
//! ```

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use super::Plugin;
use crate::{Entry, Level};

/// The SplitMix64 increment.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// A plugin that keeps a random fraction of entries.
///
/// Each entry is kept with the probability set for its level — one rate for
/// all levels ([`Sample::rate`]), overridden per level with
/// [`Sample::level_rate`]. Entries at **error and fatal are always kept**
/// unless [`Sample::sample_errors`] is turned on.
///
/// The choice is random, not "one in every N": each entry is an independent
/// draw from a small, lock-free pseudo-random generator (SplitMix64 over an
/// atomic counter), so the kept fraction matches the rate on average and
/// bursts are not in step with the sampler. With [`Sample::seed`] the sequence
/// of decisions is reproducible (for tests; with several threads logging at
/// once, which thread draws which number is not).
///
/// The decision is made once per entry, in [`Plugin::should_log`], so every
/// transport of the logger sees the same entries.
///
/// ```
/// use loglayer::{plugin::Sample, transport::CaptureTransport, Level, LogLayer};
///
/// let capture = CaptureTransport::new();
/// let log = LogLayer::builder()
///     .transport(capture.clone())
///     .plugin(Sample::rate(0.25).level_rate(Level::Warn, 1.0).seed(7))
///     .build();
/// for i in 0..1000 {
///     log.info(format_args!("request {i}"));
/// }
/// log.warn("always kept (rate 1.0)");
/// log.error("always kept (errors are never sampled)");
///
/// let kept_info = capture.entries().iter().filter(|e| e["level"] == "info").count();
/// assert!((150..350).contains(&kept_info));
/// assert_eq!(capture.messages()[kept_info..], ["always kept (rate 1.0)", "always kept (errors are never sampled)"]);
/// ```
///
/// Its id is `"sample"` unless set with [`Sample::with_id`].
#[derive(Debug)]
pub struct Sample {
    id: String,
    /// Keep probability per level, indexed by [`index`].
    rates: [f64; 6],
    sample_errors: bool,
    state: AtomicU64,
}

/// The position of `level` in [`Level::ALL`].
fn index(level: Level) -> usize {
    match level {
        Level::Trace => 0,
        Level::Debug => 1,
        Level::Info => 2,
        Level::Warn => 3,
        Level::Error => 4,
        Level::Fatal => 5,
    }
}

/// A rate as a probability: clamped to `0.0..=1.0`; NaN keeps everything.
fn clamp(rate: f64) -> f64 {
    if rate.is_nan() {
        1.0
    } else {
        rate.clamp(0.0, 1.0)
    }
}

/// A seed that differs between runs and between samplers.
fn random_seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish()
}

impl Sample {
    /// Keeps each entry with probability `rate` (`0.0` keeps none, `1.0` all;
    /// values outside are clamped, NaN counts as `1.0`). Error and fatal
    /// entries are always kept unless [`sample_errors`](Sample::sample_errors)
    /// is set. The seed is random; set one with [`seed`](Sample::seed).
    ///
    /// ```
    /// use loglayer::{plugin::Sample, transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Sample::rate(1.0))
    ///     .build();
    /// log.info("a");
    /// log.debug("b");
    /// assert_eq!(capture.len(), 2);
    /// ```
    pub fn rate(rate: f64) -> Self {
        Sample {
            id: "sample".to_owned(),
            rates: [clamp(rate); 6],
            sample_errors: false,
            state: AtomicU64::new(random_seed()),
        }
    }

    /// Sets the rate for one level, overriding [`rate`](Sample::rate) for it.
    /// A rate set for error or fatal applies only with
    /// [`sample_errors`](Sample::sample_errors).
    ///
    /// ```
    /// use loglayer::{plugin::Sample, transport::CaptureTransport, Level, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Sample::rate(1.0).level_rate(Level::Debug, 0.0))
    ///     .build();
    /// log.debug("dropped");
    /// log.info("kept");
    /// assert_eq!(capture.messages(), ["kept"]);
    /// ```
    pub fn level_rate(mut self, level: Level, rate: f64) -> Self {
        self.rates[index(level)] = clamp(rate);
        self
    }

    /// Whether error and fatal entries are sampled like the others (default
    /// `false`: they are always kept).
    ///
    /// ```
    /// use loglayer::{plugin::Sample, transport::CaptureTransport, LogLayer};
    /// let capture = CaptureTransport::new();
    /// let log = LogLayer::builder()
    ///     .transport(capture.clone())
    ///     .plugin(Sample::rate(0.0).sample_errors(true))
    ///     .build();
    /// log.error("sampled out too");
    /// assert!(capture.is_empty());
    /// ```
    pub fn sample_errors(mut self, yes: bool) -> Self {
        self.sample_errors = yes;
        self
    }

    /// Seeds the generator, making the sequence of decisions reproducible.
    ///
    /// ```
    /// use loglayer::{plugin::Sample, transport::CaptureTransport, LogLayer};
    /// let kept = |seed| {
    ///     let capture = CaptureTransport::new();
    ///     let log = LogLayer::builder()
    ///         .transport(capture.clone())
    ///         .plugin(Sample::rate(0.5).seed(seed))
    ///         .build();
    ///     for i in 0..100 {
    ///         log.info(i);
    ///     }
    ///     capture.messages()
    /// };
    /// assert_eq!(kept(42), kept(42));
    /// ```
    pub fn seed(self, seed: u64) -> Self {
        self.state.store(seed, Ordering::Relaxed);
        self
    }

    /// Sets the id used by `remove_plugin`, `disable_plugin` and `enable_plugin`.
    ///
    /// ```
    /// use loglayer::plugin::{Plugin, Sample};
    /// assert_eq!(Sample::rate(0.1).with_id("sampler").id(), "sampler");
    /// ```
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// The keep probability for `level` (after clamping), ignoring the
    /// always-kept rule for errors.
    ///
    /// ```
    /// use loglayer::{plugin::Sample, Level};
    /// let s = Sample::rate(0.1).level_rate(Level::Debug, 7.0);
    /// assert_eq!((s.rate_for(Level::Info), s.rate_for(Level::Debug)), (0.1, 1.0));
    /// ```
    pub fn rate_for(&self, level: Level) -> f64 {
        self.rates[index(level)]
    }

    /// A uniform draw in `[0, 1)` (SplitMix64).
    fn next_unit(&self) -> f64 {
        let mut z = self
            .state
            .fetch_add(GAMMA, Ordering::Relaxed)
            .wrapping_add(GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    fn keep(&self, level: Level) -> bool {
        if level >= Level::Error && !self.sample_errors {
            return true;
        }
        let rate = self.rate_for(level);
        if rate >= 1.0 {
            true
        } else if rate <= 0.0 {
            false
        } else {
            self.next_unit() < rate
        }
    }
}

impl Plugin for Sample {
    fn id(&self) -> &str {
        &self.id
    }

    fn should_log(&self, entry: &Entry<'_>) -> bool {
        self.keep(entry.level())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_draws_are_in_range_and_spread() {
        let s = Sample::rate(0.5).seed(1);
        let draws: Vec<f64> = (0..10_000).map(|_| s.next_unit()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let low = draws.iter().filter(|d| **d < 0.5).count();
        assert!((4_700..5_300).contains(&low), "{low}");
    }

    #[test]
    fn clamping() {
        assert_eq!(clamp(-1.0), 0.0);
        assert_eq!(clamp(2.0), 1.0);
        assert_eq!(clamp(f64::NAN), 1.0);
    }
}
