//! The `moving_average` built-in.

use tracekit_core::{
    ParamValue, Params, StageError, Trace, Transformer,
    buffer::{AllocError, SampleVec},
};

use crate::{input::one, params, pooled::output_blocks};

const KIND: &str = "moving_average";

/// Windows up to this length are summed directly; longer ones with a running sum.
const DIRECT: usize = 32;
/// A running sum is recomputed from scratch this often, so rounding cannot drift.
const RESYNC: usize = 256;

/// A centered moving average of `length` samples with zeros beyond the ends,
/// like `np.convolve(x, np.ones(length) / length, 'same')`.
///
/// `length` must be between 1 and the trace's length.
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::MovingAverage;
///
/// let t = Trace::new(vec![3.0, 3.0, 3.0, 3.0], 1.0)?;
/// let out = MovingAverage::new(3).transform(&[&t])?;
/// assert_eq!(out.samples(), &[2.0, 3.0, 3.0, 2.0]);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MovingAverage {
    length: usize,
}

impl MovingAverage {
    /// A moving average over `length` samples.
    pub fn new(length: usize) -> MovingAverage {
        MovingAverage { length }
    }

    /// Builds from registry parameters (`length`, default 5).
    pub fn from_params(p: &Params) -> Result<MovingAverage, StageError> {
        params::apply(MovingAverage::default(), p)
    }
}

impl Default for MovingAverage {
    fn default() -> MovingAverage {
        MovingAverage::new(5)
    }
}

/// `np.convolve(x, ones(m)/m, 'same')` for `1 <= m <= x.len()`.
fn average(x: &[f64], m: usize) -> Result<SampleVec, AllocError> {
    let n = x.len();
    let w = 1.0 / m as f64;
    let left = m / 2;
    // Output k averages x[k - left .. k - left + m], clipped to the trace.
    let window = |k: usize| (k.saturating_sub(left), (k + m - left).min(n));
    if m <= DIRECT {
        return output_blocks(n, |start, block| {
            for (k, o) in (start..).zip(block.iter_mut()) {
                let (a, b) = window(k);
                *o = x[a..b].iter().fold(0.0, |acc, v| acc + v * w);
            }
        });
    }
    let mut sum = 0.0;
    let (mut a, mut b) = (0, 0);
    output_blocks(n, |start, block| {
        for (k, o) in (start..).zip(block.iter_mut()) {
            let (na, nb) = window(k);
            if k % RESYNC == 0 {
                sum = x[na..nb].iter().sum();
            } else {
                sum += x[b..nb].iter().sum::<f64>();
                sum -= x[a..na].iter().sum::<f64>();
            }
            (a, b) = (na, nb);
            *o = sum * w;
        }
    })
}

impl Transformer for MovingAverage {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let t = one(KIND, inputs)?;
        let (m, n) = (self.length, t.len());
        if m == 0 || m > n {
            return Err(format!(
                "{KIND}: length must be between 1 and the trace length {n}, got {m}"
            )
            .into());
        }
        Ok(t.derive_samples(average(t.samples(), m)?))
    }

    fn kind(&self) -> &str {
        KIND
    }

    fn get_params(&self) -> Params {
        Params::from([("length".to_owned(), ParamValue::from(self.length))])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "length" => {
                let m = params::count(KIND, name, &value)?;
                if m == 0 {
                    return Err(
                        format!("{KIND}: parameter 'length' must be at least 1, got 0").into(),
                    );
                }
                self.length = m;
            }
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_sum_matches_direct() {
        let x: Vec<f64> = (0..2000)
            .map(|i| ((i * 7919) % 101) as f64 - 50.0)
            .collect();
        for m in [33, 64, 101, 1999, 2000] {
            let got = average(&x, m).unwrap();
            let w = 1.0 / m as f64;
            for (k, g) in got.iter().enumerate() {
                let a = k.saturating_sub(m / 2);
                let b = (k + m - m / 2).min(x.len());
                let want: f64 = x[a..b].iter().map(|v| v * w).sum();
                assert!((g - want).abs() < 1e-9, "m {m} k {k}: {g} vs {want}");
            }
        }
    }
}
