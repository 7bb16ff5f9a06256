//! The `normalize` built-in: z-score or min-max scaling, with learnable statistics.

use std::cmp::Ordering;

use tracekit_core::{ParamValue, Params, StageError, Trace, Transformer};

use crate::{
    input::{mean, min_max, non_empty, one, std_about},
    params,
    pooled::{map, output_blocks},
    simd::widened,
};

const KIND: &str = "normalize";
const METHODS: &[&str] = &["zscore", "minmax"];

/// Statistics of a trace, learned by [`Normalize::fit`](Transformer::fit).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Learned {
    mean: f64,
    std: f64,
    min: f64,
    max: f64,
}

impl Learned {
    fn of(x: &[f64]) -> Learned {
        let mean = mean(x);
        let (min, max) = min_max(x);
        Learned {
            mean,
            std: std_about(x, mean),
            min,
            max,
        }
    }
}

/// Scales samples by statistics: `method = "zscore"` gives `(x - mean) / std`
/// (NumPy's `x.mean()` and `x.std()`, ddof 0; a zero std counts as 1),
/// `"minmax"` maps `[min, max]` to `[low, high]` as
/// `(x - min) / (max - min) * (high - low) + low` (a zero range counts as 1).
///
/// After [`fit`](Transformer::fit) the statistics learned there are used;
/// unfitted, each input's own are.
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::Normalize;
///
/// let t = Trace::new(vec![1.0, 2.0, 3.0], 1.0)?;
/// let out = Normalize::minmax(0.0, 1.0).transform(&[&t])?;
/// assert_eq!(out.samples(), &[0.0, 0.5, 1.0]);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Normalize {
    minmax: bool,
    low: f64,
    high: f64,
    learned: Option<Learned>,
}

impl Normalize {
    /// Z-score normalization.
    pub fn zscore() -> Normalize {
        Normalize {
            minmax: false,
            low: -1.0,
            high: 1.0,
            learned: None,
        }
    }

    /// Min-max normalization onto `[low, high]`.
    pub fn minmax(low: f64, high: f64) -> Normalize {
        Normalize {
            minmax: true,
            low,
            high,
            learned: None,
        }
    }

    /// Builds from registry parameters (`method` "zscore" | "minmax", `low` -1, `high` 1).
    pub fn from_params(p: &Params) -> Result<Normalize, StageError> {
        params::apply(Normalize::zscore(), p)
    }

    /// Whether `fit` has learned statistics.
    pub fn is_fitted(&self) -> bool {
        self.learned.is_some()
    }
}

impl Default for Normalize {
    fn default() -> Normalize {
        Normalize::zscore()
    }
}

widened!(
    ["avx"],
    /// `out = (x - m) / s` for every sample. Division is the slow part, so
    /// where the CPU has AVX the loop runs on 4-wide vectors: the same IEEE
    /// operations in the same order, so the same bits as the scalar loop.
    fn standardize(out: &mut [f64], x: &[f64], m: f64, s: f64) {
        for (o, v) in out.iter_mut().zip(x) {
            *o = (v - m) / s;
        }
    }
);

impl Transformer for Normalize {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let t = one(KIND, inputs)?;
        let x = t.samples();
        if self.minmax && self.low.partial_cmp(&self.high) != Some(Ordering::Less) {
            return Err(
                format!("{KIND}: low {} must be below high {}", self.low, self.high).into(),
            );
        }
        if x.is_empty() {
            return Ok(t.clone());
        }
        let out = if self.minmax {
            let (min, max) = match self.learned {
                Some(l) => (l.min, l.max),
                None => min_max(x),
            };
            let range = if max - min == 0.0 { 1.0 } else { max - min };
            let (low, span) = (self.low, self.high - self.low);
            map(x, |v| (v - min) / range * span + low)?
        } else {
            let (m, s) = match self.learned {
                Some(l) => (l.mean, l.std),
                None => {
                    let m = mean(x);
                    (m, std_about(x, m))
                }
            };
            let s = if s == 0.0 { 1.0 } else { s };
            output_blocks(x.len(), |start, block| {
                standardize(block, &x[start..start + block.len()], m, s);
            })?
        };
        Ok(t.derive_samples(out))
    }

    fn fit(&mut self, inputs: &[&Trace]) -> Result<(), StageError> {
        let t = one(KIND, inputs)?;
        non_empty(KIND, t)?;
        self.learned = Some(Learned::of(t.samples()));
        Ok(())
    }

    fn kind(&self) -> &str {
        KIND
    }

    fn get_params(&self) -> Params {
        let method = if self.minmax { "minmax" } else { "zscore" };
        Params::from([
            ("high".to_owned(), ParamValue::Float(self.high)),
            ("low".to_owned(), ParamValue::Float(self.low)),
            ("method".to_owned(), ParamValue::from(method)),
        ])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "method" => self.minmax = params::choice(KIND, name, &value, METHODS)? == "minmax",
            "low" => self.low = params::finite(KIND, name, &value)?,
            "high" => self.high = params::finite(KIND, name, &value)?,
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}
