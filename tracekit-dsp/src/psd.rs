//! The `psd` kind: Welch's power spectral density.

use num_complex::Complex;
use tracekit_core::{ParamValue, Params, StageError, Trace, Transformer, buffer::SampleVec};

use crate::{
    fftplan, params,
    spectrum::{frequency_trace, need_samples, one_input},
    window::{WINDOWS, Window},
};

/// Power spectral density by Welch's method, matching
/// `scipy.signal.welch(x, fs, window, nperseg, noverlap)`: segments of
/// `nperseg` samples, `nperseg - noverlap` apart; each has its mean removed
/// (`detrend='constant'`), is windowed and transformed; the squared
/// magnitudes are averaged, scaled by `1 / (fs * sum(w^2))` (density), and
/// doubled except at DC and Nyquist (one-sided).
///
/// The output has `nperseg / 2 + 1` points in the frequency domain, from 0 Hz
/// in steps of `fs / nperseg`, in the input's units squared per hertz. A trace
/// shorter than `nperseg` is a stage error (SciPy would shorten the segment).
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::Psd;
///
/// let x: Vec<f64> = (0..4096).map(|i| (i as f64 * 0.3).sin()).collect();
/// let psd = Psd { nperseg: 512, ..Psd::default() }.transform(&[&Trace::new(x, 1e3)?])?;
/// assert_eq!(psd.len(), 257);
/// # Ok::<(), tracekit_core::StageError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Psd {
    /// Segment length (256).
    pub nperseg: usize,
    /// Overlap between segments; `None` (the default) is `nperseg / 2`.
    pub noverlap: Option<usize>,
    /// The window applied to each segment (`hann`).
    pub window: Window,
}

impl Default for Psd {
    fn default() -> Psd {
        Psd {
            nperseg: 256,
            noverlap: None,
            window: Window::Hann,
        }
    }
}

impl Psd {
    fn overlap(&self) -> usize {
        self.noverlap.unwrap_or(self.nperseg / 2)
    }
}

impl Transformer for Psd {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let input = one_input("psd", inputs)?;
        let nperseg = self.nperseg;
        let noverlap = self.overlap();
        if nperseg == 0 {
            return Err("psd: nperseg must be at least 1, got 0".into());
        }
        if noverlap >= nperseg {
            return Err(format!(
                "psd: noverlap ({noverlap}) must be less than nperseg ({nperseg})"
            )
            .into());
        }
        need_samples("psd", input, nperseg, &format!(" (nperseg = {nperseg})"))?;
        let x = input.samples();
        let step = nperseg - noverlap;
        let segments = (x.len() - nperseg) / step + 1;

        let w = self.window.cached(nperseg)?;
        let mut power = SampleVec::zeroed(nperseg / 2 + 1)?;
        fftplan::with_workspace(|ws| -> Result<(), StageError> {
            let plan = ws.forward_plan(nperseg)?;
            for s in 0..segments {
                let seg = &x[s * step..s * step + nperseg];
                let mean = seg.iter().sum::<f64>() / nperseg as f64;
                for ((b, xi), wi) in ws.real.iter_mut().zip(seg).zip(&w.samples) {
                    *b = wi * (xi - mean);
                }
                ws.forward(&plan).map_err(|e| format!("psd: {e}"))?;
                for (p, c) in power.iter_mut().zip(&ws.spectrum) {
                    *p += Complex::norm_sqr(c);
                }
            }
            Ok(())
        })?;

        let fs = input.sample_rate();
        let scale = 1.0 / (fs * w.sum_sq) / segments as f64;
        let last = if nperseg % 2 == 0 {
            power.len() - 1
        } else {
            usize::MAX
        };
        for (k, p) in power.iter_mut().enumerate() {
            *p *= if k == 0 || k == last {
                scale
            } else {
                2.0 * scale
            };
        }
        let units = match input.meta().units.as_str() {
            "" => "1/Hz".to_string(),
            u => format!("{u}^2/Hz"),
        };
        frequency_trace(input, power, nperseg as f64 / fs, units)
    }

    fn kind(&self) -> &str {
        "psd"
    }

    fn get_params(&self) -> Params {
        Params::from([
            ("nperseg".into(), ParamValue::from(self.nperseg)),
            ("noverlap".into(), ParamValue::from(self.overlap())),
            ("window".into(), ParamValue::from(self.window.name())),
        ])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "nperseg" => self.nperseg = params::count("psd", name, &value)?,
            "noverlap" => self.noverlap = Some(params::count("psd", name, &value)?),
            "window" => self.window = params::choice("psd", name, &value, WINDOWS)?.parse()?,
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}
