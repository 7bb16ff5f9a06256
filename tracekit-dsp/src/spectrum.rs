//! The `fft` kind: one-sided amplitude spectrum of a windowed trace.

use num_complex::Complex;
use tracekit_core::{
    Domain, ParamValue, Params, StageError, Trace, Transformer, buffer::SampleVec,
};

use crate::{
    fftplan,
    ln::ln_normal,
    params,
    pooled::extend_blocks,
    simd::widened,
    window::{WINDOWS, Window},
};

/// The one input of a single-input stage, or an error naming the kind.
pub(crate) fn one_input<'a>(kind: &str, inputs: &[&'a Trace]) -> Result<&'a Trace, StageError> {
    match inputs {
        [t] => Ok(t),
        _ => Err(format!("{kind}: expects 1 input trace, got {}", inputs.len()).into()),
    }
}

/// An error unless the trace has at least `min` samples.
pub(crate) fn need_samples(
    kind: &str,
    t: &Trace,
    min: usize,
    what: &str,
) -> Result<(), StageError> {
    if t.len() < min {
        let got = if t.is_empty() {
            "the trace is empty".to_string()
        } else {
            format!("got {}", t.len())
        };
        return Err(format!("{kind}: needs at least {min} samples{what}, {got}").into());
    }
    Ok(())
}

/// A frequency-domain trace over `points` spaced `1 / sample_rate` Hz apart from 0 Hz.
pub(crate) fn frequency_trace(
    input: &Trace,
    points: SampleVec,
    sample_rate: f64,
    units: String,
) -> Result<Trace, StageError> {
    let mut meta = input.meta().clone();
    meta.sample_rate = sample_rate;
    meta.start = 0.0;
    meta.domain = Domain::Frequency;
    meta.units = units;
    Ok(Trace::from_samples(points, meta)?)
}

widened!(
    ["avx512f", "avx2"],
    /// `out = |c| * scale` for every bin `c`.
    fn amplitudes(out: &mut [f64], spectrum: &[Complex<f64>], scale: f64) {
        for (o, c) in out.iter_mut().zip(spectrum) {
            *o = c.norm_sqr().sqrt() * scale;
        }
    }
);

widened!(
    ["avx512f", "avx2"],
    /// `out = 20 log10(max(|c| * scale, 1e-20))` for every bin `c`, given
    /// `scale_sq = scale^2`, as `10 log10(max(|c|^2 scale^2, 1e-40))`: no
    /// square root, and the logarithm a natural one that vectorises. Two
    /// loops, so that each keeps its constants in registers.
    fn decibels(out: &mut [f64], spectrum: &[Complex<f64>], scale_sq: f64) {
        const DB_PER_NEPER: f64 = 10.0 / std::f64::consts::LN_10;
        for (o, c) in out.iter_mut().zip(spectrum) {
            *o = (c.norm_sqr() * scale_sq).max(1e-40);
        }
        for o in out.iter_mut() {
            *o = DB_PER_NEPER * ln_normal(*o);
        }
    }
);

/// How the `fft` kind scales its amplitudes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FftScale {
    /// `20 * log10(max(a, 1e-20))`, units `"dB"`.
    #[default]
    Db,
    /// The amplitude itself, in the input's units.
    Linear,
}

/// One-sided amplitude spectrum, as NumPy computes it:
///
/// ```text
/// x' = x - mean(x)                 (detrend "mean"; "none" keeps x)
/// a  = abs(numpy.fft.rfft(w * x', nfft)) * 2 / sum(w)     DC and Nyquist bins not doubled
/// y  = 20 * log10(max(a, 1e-20))   (scale "db"; "linear" keeps a)
/// ```
///
/// `w = scipy.signal.get_window(window, len(x))`, and `nfft` 0 means the next
/// power of two at or above the length (the signal is zero padded). The
/// output has `nfft / 2 + 1` points in the frequency domain, from 0 Hz in
/// steps of `fs / nfft` (a sample rate of `nfft / fs` points per hertz).
///
/// ```
/// use tracekit_core::{Domain, Trace, Transformer};
/// use tracekit_dsp::{Fft, FftScale};
///
/// let fs = 1024.0;
/// let x: Vec<f64> = (0..1024).map(|i| 2.0 * (2.0 * std::f64::consts::PI * 64.0 * i as f64 / fs).sin()).collect();
/// let fft = Fft { scale: FftScale::Linear, ..Fft::default() };
/// let spectrum = fft.transform(&[&Trace::new(x, fs)?])?;
/// assert_eq!(spectrum.meta().domain, Domain::Frequency);
/// assert_eq!(spectrum.len(), 513);
/// assert!((spectrum.samples()[64] - 2.0).abs() < 1e-9);   // a bin-centred tone of amplitude 2
/// # Ok::<(), tracekit_core::StageError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Fft {
    /// The window (`hann`).
    pub window: Window,
    /// Transform length; 0 (the default) is the next power of two >= the trace length.
    pub nfft: usize,
    /// dB (the default) or linear amplitudes.
    pub scale: FftScale,
    /// Whether the mean is subtracted before windowing (`detrend = "mean"`, the default) or not (`"none"`).
    pub detrend_mean: bool,
}

impl Default for Fft {
    /// Hann window, nfft 0, dB, mean removed.
    fn default() -> Fft {
        Fft {
            window: Window::Hann,
            nfft: 0,
            scale: FftScale::Db,
            detrend_mean: true,
        }
    }
}

impl Transformer for Fft {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let input = one_input("fft", inputs)?;
        need_samples("fft", input, 1, "")?;
        let x = input.samples();
        let n = x.len();
        let nfft = match self.nfft {
            0 => n.next_power_of_two(),
            m if m < n => {
                return Err(
                    format!("fft: nfft ({m}) must be at least the trace length ({n})").into(),
                );
            }
            m => m,
        };
        // The transform's buffer (8 bytes a point), its half spectrum (16 per
        // two points) and the output (8 per two points).
        crate::budget::check("fft", &format!("'nfft' = {nfft}"), nfft, 20)?;
        let w = self.window.cached(n)?;
        let sum_w = w.sum;
        if sum_w.is_nan() || sum_w <= 0.0 {
            return Err(format!(
                "fft: window '{}' of length {n} sums to {sum_w}",
                self.window
            )
            .into());
        }
        let mean = if self.detrend_mean {
            crate::input::mean(x)
        } else {
            0.0
        };
        let db = self.scale == FftScale::Db;
        let bins = nfft / 2 + 1;
        let out = fftplan::with_workspace(|ws| -> Result<SampleVec, StageError> {
            ws.rfft(nfft, |buf| {
                let (head, pad) = buf.split_at_mut(n);
                for ((b, &xi), &wi) in head.iter_mut().zip(x).zip(&w.samples) {
                    *b = wi * (xi - mean);
                }
                pad.fill(0.0);
            })?;
            let spectrum = &ws.spectrum[..bins];
            // DC, and Nyquist for an even length, are not doubled: every bin
            // is computed with the doubled scale, then those are redone.
            let (single, double) = (1.0 / sum_w, 2.0 / sum_w);
            let ends = [Some(0), (nfft % 2 == 0).then_some(bins - 1)];
            let mut out = SampleVec::with_capacity(bins)?;
            if db {
                extend_blocks(&mut out, bins, |start, block| {
                    decibels(
                        block,
                        &spectrum[start..start + block.len()],
                        double * double,
                    );
                });
                for k in ends.into_iter().flatten() {
                    decibels(&mut out[k..=k], &spectrum[k..=k], single * single);
                }
            } else {
                extend_blocks(&mut out, bins, |start, block| {
                    amplitudes(block, &spectrum[start..start + block.len()], double);
                });
                for k in ends.into_iter().flatten() {
                    amplitudes(&mut out[k..=k], &spectrum[k..=k], single);
                }
            }
            Ok(out)
        })?;
        let units = if db {
            "dB".to_string()
        } else {
            input.meta().units.clone()
        };
        frequency_trace(input, out, nfft as f64 / input.sample_rate(), units)
    }

    fn kind(&self) -> &str {
        "fft"
    }

    fn get_params(&self) -> Params {
        Params::from([
            ("window".into(), ParamValue::from(self.window.name())),
            ("nfft".into(), ParamValue::from(self.nfft)),
            (
                "scale".into(),
                ParamValue::from(match self.scale {
                    FftScale::Db => "db",
                    FftScale::Linear => "linear",
                }),
            ),
            (
                "detrend".into(),
                ParamValue::from(if self.detrend_mean { "mean" } else { "none" }),
            ),
        ])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "window" => self.window = params::choice("fft", name, &value, WINDOWS)?.parse()?,
            "nfft" => self.nfft = params::count("fft", name, &value)?,
            "scale" => {
                self.scale = match params::choice("fft", name, &value, &["db", "linear"])?.as_str()
                {
                    "linear" => FftScale::Linear,
                    _ => FftScale::Db,
                }
            }
            "detrend" => {
                self.detrend_mean =
                    params::choice("fft", name, &value, &["mean", "none"])? == "mean"
            }
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}
