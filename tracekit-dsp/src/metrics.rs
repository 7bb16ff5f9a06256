//! The `spectral_metrics` kind: THD, SNR, SINAD, ENOB and SFDR of a sine
//! capture, following IEEE Std 1241-2010 (section 9, frequency-domain
//! methods).
//!
//! # Definitions
//!
//! With `n` samples at `fs`, window `w` (`S2 = sum(w^2)`) and
//! `X = rfft(w * (x - mean(x)))`:
//!
//! * **Power spectrum.** `P[k] = 2 |X[k]|^2 / (n * S2)` for the one-sided
//!   bins (DC and, for even `n`, Nyquist not doubled). This is
//!   `2 |X[k]|^2 / sum(w)^2` divided by the window's equivalent noise
//!   bandwidth `ENBW = n * S2 / sum(w)^2` (in bins), so that the sum of `P`
//!   over a tone's main lobe is the tone's power (`A^2 / 2` for a sine of
//!   amplitude `A`) and the sum over all bins of white noise is its variance.
//! * **Tones.** A tone at bin `k` owns the bins `k - L ..= k + L`, where `L`
//!   is the window's main-lobe half width ([`Window::main_lobe_bins`]: 1 rect,
//!   2 hann/hamming, 3 blackman, 5 flattop), and beyond them, on each side,
//!   the bins over which the spectrum keeps falling, up to `4 L` more bins:
//!   the window's leakage skirt, which would otherwise count as noise (with a Hann window the
//!   sidelobes of an off-bin full-scale tone sum to about -58 dBc). Its power
//!   is the sum of `P` over the bins it owns. A bin belongs to at most one
//!   tone: DC first, then the fundamental, then the harmonics in order.
//! * **DC** owns bins `0 ..= L`; it is excluded from every figure.
//! * **Fundamental**: the largest bin above the DC lobe, `k0`. Its frequency
//!   is refined by the power-weighted centroid of its main lobe,
//!   `f0 = sum(k P[k]) / sum(P[k])` bins; `fundamental_hz = f0 * fs / n`.
//!   Its power is `Ps`.
//! * **Harmonics** `h = 2 ..= n_harmonics + 1` sit at `h * f0` bins, folded
//!   back into the first Nyquist zone (`r = (h f0) mod n`, then `n - r` if
//!   `r > n/2`), rounded to the nearest bin. `Pd` is the sum of their powers.
//! * **Noise**: the mean of `P` over the bins no tone owns, times `n / 2` (the
//!   number of one-sided bins), so noise under the tones is counted as IEEE
//!   1241 asks. `Pn` is this estimate.
//! * `thd_db = 10 log10(Pd / Ps)`; `snr_db = 10 log10(Ps / Pn)`;
//!   `sinad_db = 10 log10(Ps / (Pn + Pd))`; `enob_bits = (sinad_db - 1.76) / 6.02`;
//!   `sfdr_db = 10 log10(Ps / Pspur)`, where `Pspur` is the largest of the
//!   harmonic powers and the power of the lobe (within unowned bins) around
//!   the largest unowned bin.
//!
//! Ratios are limited to `1e-30 ..= 1e30` (±300 dB), so a perfectly clean
//! synthetic sine gives large finite figures rather than infinities. A trace
//! that is empty, too short, holds NaN or infinite samples, or has no energy
//! outside DC (all zeros, constant) is a stage error, never a NaN measurement.

use num_complex::Complex;
use tracekit_core::{ParamValue, Params, StageError, Trace, Transformer, buffer::SampleVec};

use crate::{
    fftplan, params,
    pooled::{extend_blocks, filled_vec},
    spectrum::{need_samples, one_input},
    window::{WINDOWS, Window},
};

/// Passes the samples through and adds the measurements `fundamental_hz`,
/// `thd_db`, `snr_db`, `sinad_db`, `enob_bits` and `sfdr_db`, defined in the
/// [module documentation](self) after IEEE 1241-2010.
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::SpectralMetrics;
///
/// let fs = 48_000.0;
/// let x: Vec<f64> = (0..8192)
///     .map(|i| {
///         let p = 2.0 * std::f64::consts::PI * 1001.3 * i as f64 / fs;
///         p.sin() + 0.01 * (2.0 * p).sin()
///     })
///     .collect();
/// let out = SpectralMetrics::default().transform(&[&Trace::new(x, fs)?])?;
/// assert!((out.measurement("thd_db").unwrap() + 40.0).abs() < 0.1);
/// assert!((out.measurement("fundamental_hz").unwrap() - 1001.3).abs() < 0.5);
/// # Ok::<(), tracekit_core::StageError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralMetrics {
    /// How many harmonics above the fundamental count as distortion (5: the 2nd to the 6th).
    pub n_harmonics: usize,
    /// The window (`hann`).
    pub window: Window,
}

impl Default for SpectralMetrics {
    fn default() -> SpectralMetrics {
        SpectralMetrics {
            n_harmonics: 5,
            window: Window::Hann,
        }
    }
}

/// The measurements of one capture, in linear power and bins.
#[derive(Debug, Clone, Copy)]
struct Analysis {
    fundamental_bins: f64,
    signal: f64,
    distortion: f64,
    noise: f64,
    spur: f64,
}

const KIND: &str = "spectral_metrics";

/// How far a tone's leakage skirt may reach beyond its main lobe, in main-lobe half widths.
const SKIRT_LOBES: usize = 4;

/// Which tone owns a bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Free,
    Dc,
    Tone,
}

/// `10 log10(num / den)`, limited to ±300 dB.
fn db(num: f64, den: f64) -> f64 {
    let ratio = if den > 0.0 { num / den } else { f64::INFINITY };
    10.0 * ratio.clamp(1e-30, 1e30).log10()
}

impl SpectralMetrics {
    fn analyse(&self, x: &[f64]) -> Result<Analysis, StageError> {
        let n = x.len();
        let half = self.window.main_lobe_bins();
        if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(
                format!("{KIND}: sample {i} is {v}; the metrics need finite samples").into(),
            );
        }
        let w = self.window.cached(n)?;
        let mean = x.iter().sum::<f64>() / n as f64;
        let s2 = w.sum_sq;
        let bins = n / 2 + 1;
        let nyquist = if n % 2 == 0 { bins - 1 } else { usize::MAX };
        let power = fftplan::with_workspace(|ws| -> Result<SampleVec, StageError> {
            ws.rfft(n, |buf| {
                for ((b, xi), wi) in buf.iter_mut().zip(x).zip(&w.samples) {
                    *b = wi * (xi - mean);
                }
            })?;
            let mut power = SampleVec::scratch(bins)?;
            extend_blocks(&mut power, bins, |start, block| {
                for (k, (p, c)) in (start..).zip(block.iter_mut().zip(&ws.spectrum[start..])) {
                    let q = Complex::norm_sqr(c) / (n as f64 * s2);
                    *p = if k == 0 || k == nyquist { q } else { 2.0 * q };
                }
            });
            Ok(power)
        })?;

        let mut owner = filled_vec(bins, Owner::Free)?;
        let lobe = |k: usize| k.saturating_sub(half)..=(k + half).min(bins - 1);
        owner[lobe(0)].fill(Owner::Dc);
        let (k0, peak) = power
            .iter()
            .enumerate()
            .skip(half + 1)
            .fold(
                (0, 0.0),
                |best, (k, &p)| if p > best.1 { (k, p) } else { best },
            );
        if peak <= 0.0 {
            return Err(format!(
                "{KIND}: no detectable fundamental: the spectrum of the {n} samples is zero outside DC (a constant or all-zero trace)"
            )
            .into());
        }
        // A tone owns the free bins of its main lobe, then, on each side, the
        // free bins over which the spectrum keeps falling (its leakage skirt),
        // at most `skirt` bins on each side.
        let skirt = SKIRT_LOBES * half;
        let claim = |k: usize, owner: &mut [Owner]| -> f64 {
            let mut total = 0.0;
            let mut take = |j: usize, owner: &mut [Owner]| {
                owner[j] = Owner::Tone;
                total += power[j];
            };
            let main = lobe(k);
            let (lo, hi) = (*main.start(), *main.end());
            for j in main {
                if owner[j] == Owner::Free {
                    take(j, owner);
                }
            }
            let mut j = hi + 1;
            while j <= hi + skirt && j < bins && owner[j] == Owner::Free && power[j] < power[j - 1]
            {
                take(j, owner);
                j += 1;
            }
            let mut j = lo;
            while j + skirt > lo && j > 0 && owner[j - 1] == Owner::Free && power[j - 1] < power[j]
            {
                take(j - 1, owner);
                j -= 1;
            }
            total
        };
        // The fundamental's frequency: the power-weighted centroid of its main lobe.
        let (mut p_sum, mut kp_sum) = (0.0, 0.0);
        for j in lobe(k0).filter(|&j| owner[j] == Owner::Free) {
            p_sum += power[j];
            kp_sum += j as f64 * power[j];
        }
        let f0 = kp_sum / p_sum;
        let signal = claim(k0, &mut owner);

        let mut distortion = 0.0;
        let mut spur: f64 = 0.0;
        for h in 2..=self.n_harmonics + 1 {
            let mut r = (h as f64 * f0) % n as f64;
            if r > n as f64 / 2.0 {
                r = n as f64 - r;
            }
            let p = claim((r.round() as usize).min(bins - 1), &mut owner);
            distortion += p;
            spur = spur.max(p);
        }

        let free = || (0..bins).filter(|&k| owner[k] == Owner::Free);
        let free_bins = free().count();
        if free_bins == 0 {
            return Err(format!(
                "{KIND}: {n} samples leave no bins for the noise estimate once DC, the fundamental and {} harmonics are removed",
                self.n_harmonics
            )
            .into());
        }
        let noise = free().map(|k| power[k]).sum::<f64>() / free_bins as f64 * (n as f64 / 2.0);
        if let Some(k_spur) = free().max_by(|&a, &b| power[a].total_cmp(&power[b])) {
            let lobe_power: f64 = lobe(k_spur)
                .filter(|&j| owner[j] == Owner::Free)
                .map(|j| power[j])
                .sum();
            spur = spur.max(lobe_power);
        }
        Ok(Analysis {
            fundamental_bins: f0,
            signal,
            distortion,
            noise,
            spur,
        })
    }
}

impl Transformer for SpectralMetrics {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let input = one_input(KIND, inputs)?;
        // Overflow-checked: a huge n_harmonics must fail here, not wrap to a
        // small minimum and then loop over that many harmonics.
        let min = self
            .n_harmonics
            .checked_mul(4)
            .and_then(|h| h.checked_add(8 * (self.window.main_lobe_bins() + 1)))
            .ok_or_else(|| {
                format!(
                    "{KIND}: n_harmonics {} is too large: no trace is long enough",
                    self.n_harmonics
                )
            })?;
        need_samples(KIND, input, min, &format!(" with window '{}'", self.window))?;
        if self.n_harmonics == 0 {
            return Err(format!("{KIND}: n_harmonics must be at least 1, got 0").into());
        }
        let a = self.analyse(input.samples())?;
        let sinad = db(a.signal, a.noise + a.distortion);
        let n = input.len() as f64;
        Ok(input
            .clone()
            .with_measurement(
                "fundamental_hz",
                a.fundamental_bins * input.sample_rate() / n,
            )
            .with_measurement("thd_db", db(a.distortion, a.signal))
            .with_measurement("snr_db", db(a.signal, a.noise))
            .with_measurement("sinad_db", sinad)
            .with_measurement("enob_bits", (sinad - 1.76) / 6.02)
            .with_measurement("sfdr_db", db(a.signal, a.spur)))
    }

    fn kind(&self) -> &str {
        KIND
    }

    fn get_params(&self) -> Params {
        Params::from([
            ("n_harmonics".into(), ParamValue::from(self.n_harmonics)),
            ("window".into(), ParamValue::from(self.window.name())),
        ])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "n_harmonics" => match params::count(KIND, name, &value)? {
                0 => {
                    return Err(format!(
                        "{KIND}: parameter 'n_harmonics' must be at least 1, got 0"
                    )
                    .into());
                }
                h => self.n_harmonics = h,
            },
            "window" => self.window = params::choice(KIND, name, &value, WINDOWS)?.parse()?,
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}
