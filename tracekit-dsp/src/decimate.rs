//! The `decimate` built-in.

use tracekit_core::{ParamValue, Params, StageError, Trace, Transformer, buffer::SampleVec};

use crate::{
    input::{non_empty, one},
    params,
    pooled::output_blocks,
    sos::{Band, cheby1_sos, sosfilt_pooled, sosfiltfilt_pooled},
};

const KIND: &str = "decimate";

/// Lowpass filtering then keeping every `factor`-th sample, like
/// `scipy.signal.decimate(x, factor, ftype='iir', zero_phase=zero_phase)`:
/// an order-8 Chebyshev type I filter with 0.05 dB ripple and cutoff
/// `0.8 / factor` of Nyquist, run with `sosfiltfilt` or `sosfilt`. The output's
/// sample rate is the input's divided by `factor`.
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::Decimate;
///
/// let t = Trace::new(vec![1.0; 100], 1000.0)?;
/// let out = Decimate::new(4).transform(&[&t])?;
/// assert_eq!(out.len(), 25);
/// assert_eq!(out.sample_rate(), 250.0);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Decimate {
    factor: usize,
    zero_phase: bool,
}

impl Decimate {
    /// Decimation by `factor` (at least 1; checked when it runs), zero-phase.
    pub fn new(factor: usize) -> Decimate {
        Decimate {
            factor,
            zero_phase: true,
        }
    }

    /// The same stage filtering forward only (`zero_phase=False`) or not.
    pub fn with_zero_phase(mut self, zero_phase: bool) -> Decimate {
        self.zero_phase = zero_phase;
        self
    }

    /// Builds from registry parameters (`factor` required, `zero_phase` true).
    pub fn from_params(p: &Params) -> Result<Decimate, StageError> {
        params::require(KIND, p, &["factor"])?;
        params::apply(Decimate::new(1), p)
    }
}

impl Transformer for Decimate {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let t = one(KIND, inputs)?;
        let q = self.factor;
        if q == 0 {
            return Err(format!("{KIND}: factor must be at least 1, got 0").into());
        }
        non_empty(KIND, t)?;
        let sos = cheby1_sos(8, 0.05, Band::Lowpass(0.8 / q as f64), 2.0)
            .map_err(|e| format!("{KIND}: {e}"))?;
        // The filtered signal is scratch; every q-th sample of it is the output.
        let y = if self.zero_phase {
            sosfiltfilt_pooled(&sos, t.samples(), SampleVec::scratch)
        } else {
            sosfilt_pooled(&sos, t.samples(), SampleVec::scratch).map_err(StageError::from)
        }
        .map_err(|e| format!("{KIND}: {e}"))?;
        let out = output_blocks(y.len().div_ceil(q), |start, block| {
            for (i, o) in (start..).zip(block.iter_mut()) {
                *o = y[i * q];
            }
        })
        .map_err(|e| format!("{KIND}: {e}"))?;
        let mut meta = t.meta().clone();
        meta.sample_rate /= q as f64;
        Ok(Trace::from_samples(out, meta)?)
    }

    fn kind(&self) -> &str {
        KIND
    }

    fn get_params(&self) -> Params {
        Params::from([
            ("factor".to_owned(), ParamValue::from(self.factor)),
            ("zero_phase".to_owned(), ParamValue::Bool(self.zero_phase)),
        ])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "factor" => {
                let q = params::count(KIND, name, &value)?;
                if q == 0 {
                    return Err(
                        format!("{KIND}: parameter 'factor' must be at least 1, got 0").into(),
                    );
                }
                self.factor = q;
            }
            "zero_phase" => self.zero_phase = params::flag(KIND, name, &value)?,
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}
