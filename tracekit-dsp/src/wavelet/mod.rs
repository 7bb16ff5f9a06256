//! Discrete wavelet transforms: the `dwt` and `dwt_denoise` kinds.
//!
//! Filter banks are PyWavelets' own (`haar`, `db1`–`db8`, `sym2`–`sym8`),
//! generated into `coeffs.rs` by `fixtures/gen_spectral.py`; the signal is
//! extended symmetrically (`mode='symmetric'`).

#[rustfmt::skip]
#[expect(clippy::approx_constant, reason = "generated: PyWavelets' values, digit for digit")]
mod coeffs;
mod transform;

use tracekit_core::{ParamValue, Params, StageError, Trace, Transformer, buffer::SampleVec};

use self::{
    coeffs::{FILTER_BANKS, FilterBank},
    transform::Levels,
};
use crate::{
    params,
    pooled::{extend_blocks, zeroed_scratch},
    spectrum::one_input,
};

/// The wavelet names that the `wavelet` parameters accept.
pub const WAVELETS: &[&str] = &[
    "haar", "db1", "db2", "db3", "db4", "db5", "db6", "db7", "db8", "sym2", "sym3", "sym4", "sym5",
    "sym6", "sym7", "sym8",
];

fn filter_bank(kind: &str, name: &str) -> Result<&'static FilterBank, StageError> {
    FILTER_BANKS.iter().find(|b| b.name == name).ok_or_else(|| {
        format!(
            "{kind}: unknown wavelet {name:?}; known wavelets: [{}]",
            WAVELETS.join(", ")
        )
        .into()
    })
}

/// The multilevel wavelet decomposition, all coefficients in one trace:
/// `np.concatenate(pywt.wavedec(x, wavelet, mode='symmetric', level=level))`,
/// that is `[cA_n, cD_n, ..., cD_1]`.
///
/// `level` 0 means `pywt.dwt_max_level(len, filter_len)`. A trace too short
/// for one level, or for the level asked, is a stage error.
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::Dwt;
///
/// let t = Trace::new(vec![1.0, 1.0, 3.0, 3.0], 1.0)?;
/// let haar = Dwt { wavelet: "haar".into(), level: 1 };
/// let out = haar.transform(&[&t])?;
/// let s = std::f64::consts::SQRT_2;
/// assert!((out.samples()[0] - s).abs() < 1e-12 && (out.samples()[1] - 3.0 * s).abs() < 1e-12);
/// assert!(out.samples()[2].abs() < 1e-12);
/// # Ok::<(), tracekit_core::StageError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dwt {
    /// The wavelet name, one of [`WAVELETS`] (`"db4"`).
    pub wavelet: String,
    /// Decomposition levels; 0 (the default) is the maximum.
    pub level: usize,
}

impl Default for Dwt {
    fn default() -> Dwt {
        Dwt {
            wavelet: "db4".into(),
            level: 0,
        }
    }
}

impl Transformer for Dwt {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let input = one_input("dwt", inputs)?;
        let bank = filter_bank("dwt", &self.wavelet)?;
        let level = transform::resolve_level("dwt", input.len(), bank, self.level)?;
        let levels = Levels::new(input.len(), bank, level);
        let mut out = SampleVec::zeroed(levels.total())?;
        let mut scratch = zeroed_scratch(levels.scratch())?;
        transform::wavedec_into(input.samples(), bank, &levels, &mut out, &mut scratch);
        Ok(input.derive_samples(out))
    }

    fn kind(&self) -> &str {
        "dwt"
    }

    fn get_params(&self) -> Params {
        Params::from([
            ("wavelet".into(), ParamValue::Text(self.wavelet.clone())),
            ("level".into(), ParamValue::from(self.level)),
        ])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "wavelet" => self.wavelet = params::choice("dwt", name, &value, WAVELETS)?,
            "level" => self.level = params::count("dwt", name, &value)?,
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}

/// How `dwt_denoise` shrinks detail coefficients (`pywt.threshold` modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThresholdMode {
    /// `sign(d) * max(|d| - t, 0)`, computed as `d * max(1 - t/|d|, 0)` like PyWavelets.
    #[default]
    Soft,
    /// `d` where `|d| >= t`, else 0.
    Hard,
}

impl ThresholdMode {
    fn name(self) -> &'static str {
        match self {
            ThresholdMode::Soft => "soft",
            ThresholdMode::Hard => "hard",
        }
    }

    fn apply(self, d: &mut [f64], t: f64) {
        if t == 0.0 {
            return;
        }
        match self {
            ThresholdMode::Soft => {
                for v in d {
                    *v *= (1.0 - t / v.abs()).max(0.0);
                }
            }
            ThresholdMode::Hard => {
                for v in d.iter_mut().filter(|v| v.abs() < t) {
                    *v = 0.0;
                }
            }
        }
    }
}

/// Wavelet denoising with the universal threshold:
/// `coeffs = pywt.wavedec(x, wavelet, 'symmetric', level)`,
/// `t = median(|cD1|) / 0.6745 * sqrt(2 ln n)`,
/// every detail level through `pywt.threshold(d, t, mode)`, then
/// `pywt.waverec(coeffs, wavelet, 'symmetric')[:n]`.
///
/// A threshold of exactly 0 (a finest detail level that is mostly zeros)
/// leaves the coefficients as they are.
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::DwtDenoise;
///
/// let x: Vec<f64> = (0..256).map(|i| (i as f64 * 0.05).sin()).collect();
/// let out = DwtDenoise::default().transform(&[&Trace::new(x.clone(), 1.0)?])?;
/// assert_eq!(out.len(), x.len());
/// # Ok::<(), tracekit_core::StageError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DwtDenoise {
    /// The wavelet name, one of [`WAVELETS`] (`"db4"`).
    pub wavelet: String,
    /// Decomposition levels; 0 (the default) is the maximum.
    pub level: usize,
    /// Soft (the default) or hard thresholding.
    pub mode: ThresholdMode,
}

impl Default for DwtDenoise {
    fn default() -> DwtDenoise {
        DwtDenoise {
            wavelet: "db4".into(),
            level: 0,
            mode: ThresholdMode::Soft,
        }
    }
}

/// NumPy's median (the mean of the two middle values for an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

impl Transformer for DwtDenoise {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let input = one_input("dwt_denoise", inputs)?;
        let x = input.samples();
        let n = x.len();
        let bank = filter_bank("dwt_denoise", &self.wavelet)?;
        let level = transform::resolve_level("dwt_denoise", n, bank, self.level)?;
        let levels = Levels::new(n, bank, level);
        let mut coeffs = zeroed_scratch(levels.total())?;
        let mut scratch = zeroed_scratch(levels.scratch())?;
        transform::wavedec_into(x, bank, &levels, &mut coeffs, &mut scratch);
        let (finest_at, finest_len) = levels.finest();
        let finest = &coeffs[finest_at..finest_at + finest_len];
        let mut magnitudes = SampleVec::scratch(finest_len)?;
        extend_blocks(&mut magnitudes, finest_len, |start, block| {
            for (m, d) in block.iter_mut().zip(&finest[start..]) {
                *m = d.abs();
            }
        });
        let sigma = median(&mut magnitudes) / 0.6745;
        drop(magnitudes);
        let threshold = sigma * (2.0 * (n as f64).ln()).sqrt();
        // Every detail level: all the coefficients after the coarsest approximation.
        self.mode.apply(&mut coeffs[levels.coarsest()..], threshold);
        let mut y = SampleVec::zeroed(levels.reconstructed(bank))?;
        transform::waverec_into(&coeffs, bank, &levels, &mut y, &mut scratch);
        y.truncate(n);
        Ok(input.derive_samples(y))
    }

    fn kind(&self) -> &str {
        "dwt_denoise"
    }

    fn get_params(&self) -> Params {
        Params::from([
            ("wavelet".into(), ParamValue::Text(self.wavelet.clone())),
            ("level".into(), ParamValue::from(self.level)),
            ("mode".into(), ParamValue::from(self.mode.name())),
        ])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        const KIND: &str = "dwt_denoise";
        match name {
            "wavelet" => self.wavelet = params::choice(KIND, name, &value, WAVELETS)?,
            "level" => self.level = params::count(KIND, name, &value)?,
            "mode" => {
                self.mode = match params::choice(KIND, name, &value, &["soft", "hard"])?.as_str() {
                    "hard" => ThresholdMode::Hard,
                    _ => ThresholdMode::Soft,
                }
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
    fn every_listed_wavelet_has_a_bank() {
        assert_eq!(WAVELETS.len(), FILTER_BANKS.len());
        for name in WAVELETS {
            let bank = filter_bank("dwt", name).unwrap();
            assert_eq!(bank.dec_lo.len(), bank.rec_hi.len());
        }
        assert!(filter_bank("dwt", "coif1").is_err());
    }

    #[test]
    fn perfect_reconstruction() {
        let x: Vec<f64> = (0..37).map(|i| ((i * i) % 11) as f64 - 3.0).collect();
        let bank = filter_bank("dwt", "sym5").unwrap();
        let levels = Levels::new(x.len(), bank, 2);
        let mut coeffs = vec![0.0; levels.total()];
        let mut scratch = vec![0.0; levels.scratch()];
        transform::wavedec_into(&x, bank, &levels, &mut coeffs, &mut scratch);
        let mut y = vec![0.0; levels.reconstructed(bank)];
        transform::waverec_into(&coeffs, bank, &levels, &mut y, &mut scratch);
        assert!(y.len() >= x.len());
        for (a, b) in x.iter().zip(&y) {
            assert!((a - b).abs() < 1e-10, "{a} vs {b}");
        }
    }

    #[test]
    fn median_like_numpy() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn too_short_is_an_error() {
        let t = Trace::new(vec![1.0; 5], 1.0).unwrap();
        let err = Dwt::default().transform(&[&t]).unwrap_err().to_string();
        assert!(
            err.contains("needs at least 14 samples") && err.contains("got 5"),
            "{err}"
        );
        let err = Dwt {
            level: 9,
            ..Dwt::default()
        }
        .transform(&[&Trace::new(vec![1.0; 64], 1.0).unwrap()])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("level 9") && err.contains("maximum is 3"),
            "{err}"
        );
    }
}
