//! The `envelope` kind: magnitude of the analytic signal.

use num_complex::Complex;
use tracekit_core::{StageError, Trace, Transformer, buffer::SampleVec};

use crate::{
    fftplan,
    pooled::output_blocks,
    spectrum::{need_samples, one_input},
};

/// The envelope `abs(scipy.signal.hilbert(x))`.
///
/// The analytic signal is `x + i H(x)`; the Hilbert transform `H(x)` is real,
/// so it is computed with one forward and one inverse *real* FFT:
/// `H = irfft(-i * X[k])` for `0 < k < n/2`, with the DC bin (and for even
/// `n` the Nyquist bin) set to zero, exactly the bins that SciPy's
/// `h = [1, 2, ..., 2, (1)]` leaves out of the imaginary part. The output is
/// `sqrt(x^2 + H^2)`: same length, rate and units as the input.
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::Envelope;
///
/// // A 4-cycle cosine over 64 samples has a flat envelope of 1.
/// let x: Vec<f64> = (0..64).map(|i| (std::f64::consts::PI * i as f64 / 8.0).cos()).collect();
/// let env = Envelope.transform(&[&Trace::new(x, 1.0)?])?;
/// assert!(env.samples().iter().all(|e| (e - 1.0).abs() < 1e-12));
/// # Ok::<(), tracekit_core::StageError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Envelope;

impl Transformer for Envelope {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let input = one_input("envelope", inputs)?;
        need_samples("envelope", input, 1, "")?;
        let x = input.samples();
        let n = x.len();
        let positive = n.div_ceil(2); // bins 1..positive are doubled by SciPy
        let scale = 1.0 / n as f64;
        let env = fftplan::with_workspace(|ws| -> Result<SampleVec, StageError> {
            ws.rfft(n, |buf| buf.copy_from_slice(x))?;
            for (k, c) in ws.spectrum.iter_mut().enumerate() {
                *c = if k == 0 || k >= positive {
                    Complex::new(0.0, 0.0)
                } else {
                    // -i * X[k], with irfft's 1/n folded in.
                    Complex::new(c.im * scale, -c.re * scale)
                };
            }
            ws.irfft(n)?;
            let h = &ws.real;
            Ok(output_blocks(n, |start, block| {
                let end = start + block.len();
                for (e, (re, im)) in block
                    .iter_mut()
                    .zip(x[start..end].iter().zip(&h[start..end]))
                {
                    *e = (re * re + im * im).sqrt();
                }
            })?)
        })?;
        Ok(input.derive_samples(env))
    }

    fn kind(&self) -> &str {
        "envelope"
    }
}
