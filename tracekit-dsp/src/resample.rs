//! The `resample` kind: Fourier-method resampling.

use tracekit_core::{ParamValue, Params, StageError, Trace, Transformer, buffer::SampleVec};

use crate::{
    fftplan, params,
    spectrum::{need_samples, one_input},
};

/// Resampling to `samples` points with the Fourier method, matching
/// `scipy.signal.resample(x, num)` for real input: `X = rfft(x)` keeps its
/// first `min(num, n) / 2 + 1` bins; when that count `m = min(num, n)` is even
/// and the length changes, the unpaired bin at `m / 2` is doubled
/// (downsampling) or halved (upsampling), as SciPy does; then
/// `irfft(X * num / n, num)`. The sample rate is scaled by `num / n`.
///
/// `samples` has no default: it must be set (at least 1).
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::Resample;
///
/// let t = Trace::new(vec![1.0, 0.0, -1.0, 0.0], 4.0)?;
/// let up = Resample { samples: 8 }.transform(&[&t])?;
/// assert_eq!(up.len(), 8);
/// assert_eq!(up.sample_rate(), 8.0);
/// assert!((up.samples()[1] - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
/// # Ok::<(), tracekit_core::StageError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resample {
    /// The number of output samples; 0 means not set yet, an error at run time.
    pub samples: usize,
}

impl Transformer for Resample {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let input = one_input("resample", inputs)?;
        need_samples("resample", input, 1, "")?;
        let num = self.samples;
        if num == 0 {
            return Err("resample: parameter 'samples' must be set to at least 1".into());
        }
        // The half spectrum (16 bytes a point), the output and the inverse
        // transform's workspace (8 each).
        crate::budget::check("resample", &format!("'samples' = {num}"), num, 32)?;
        let x = input.samples();
        let n = x.len();
        let m = num.min(n);
        let kept = m / 2 + 1;
        // irfft normalises by 1/num and SciPy multiplies by num/n: 1/n in all.
        let scale = 1.0 / n as f64;
        let out = fftplan::with_workspace(|ws| -> Result<SampleVec, StageError> {
            ws.rfft(n, |buf| buf.copy_from_slice(x))?;
            ws.spectrum.truncate(kept);
            for c in &mut ws.spectrum {
                *c *= scale;
            }
            ws.resize_spectrum(num / 2 + 1)?;
            if m % 2 == 0 && num != n {
                ws.spectrum[m / 2] *= if num < n { 2.0 } else { 0.5 };
            }
            let mut out = SampleVec::zeroed(num)?;
            ws.irfft_into(&mut out)?;
            Ok(out)
        })?;
        let mut meta = input.meta().clone();
        meta.sample_rate = input.sample_rate() * num as f64 / n as f64;
        Ok(Trace::from_samples(out, meta)?)
    }

    fn kind(&self) -> &str {
        "resample"
    }

    fn get_params(&self) -> Params {
        Params::from([("samples".into(), ParamValue::from(self.samples))])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "samples" => match params::count("resample", name, &value)? {
                0 => Err("resample: parameter 'samples' must be at least 1, got 0".into()),
                s => {
                    self.samples = s;
                    Ok(())
                }
            },
            _ => Err(params::unknown(self, name)),
        }
    }
}
