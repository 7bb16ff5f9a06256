//! The `stats` built-in.

use tracekit_core::{StageError, Trace, Transformer};

use crate::input::{mean, min_max, non_empty, one, pairwise_sum, std_about};

const KIND: &str = "stats";

/// Passes the samples through and records the measurements `mean`, `std`
/// (ddof 0), `rms`, `min`, `max` and `peak_to_peak`, as NumPy's `np.mean(x)`,
/// `np.std(x)`, `np.sqrt(np.mean(x**2))`, `np.min(x)`, `np.max(x)` and
/// `np.ptp(x)` compute them. An empty trace is an error.
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::Stats;
///
/// let out = Stats.transform(&[&Trace::new(vec![1.0, -1.0], 1.0)?])?;
/// assert_eq!(out.measurement("rms"), Some(1.0));
/// assert_eq!(out.measurement("peak_to_peak"), Some(2.0));
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats;

impl Transformer for Stats {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let t = one(KIND, inputs)?;
        non_empty(KIND, t)?;
        let x = t.samples();
        let m = mean(x);
        let (min, max) = min_max(x);
        let rms = (pairwise_sum(x, &|v| v * v) / x.len() as f64).sqrt();
        Ok(t.clone()
            .with_measurement("mean", m)
            .with_measurement("std", std_about(x, m))
            .with_measurement("rms", rms)
            .with_measurement("min", min)
            .with_measurement("max", max)
            .with_measurement("peak_to_peak", max - min))
    }

    fn kind(&self) -> &str {
        KIND
    }
}
