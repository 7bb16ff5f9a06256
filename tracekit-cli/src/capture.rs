//! The synthetic capture of the design's standard workloads: 1 MS/s,
//! sin 10 kHz + 0.1 sin 30 kHz + 0.01 N(0, 1), from a fixed seed.
//!
//! The 30 kHz tone is the third harmonic of the 10 kHz fundamental at a tenth
//! of its amplitude, so a correct THD measurement reads about -20 dB.

use std::f64::consts::TAU;

use rand::{SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, StandardNormal};
use tracekit::{Error, ParamValue, Params, Step, Trace};

/// Samples per second of the capture.
pub(crate) const SAMPLE_RATE: f64 = 1e6;
/// The seed of the noise; the same seed gives the same capture, bit for bit.
pub(crate) const SEED: u64 = 0x7ace_0001;
/// The one-line description printed with the capture.
pub(crate) const DESCRIPTION: &str = "sin 10 kHz + 0.1 sin 30 kHz + 0.01 N(0,1)";

/// `len` samples of the standard capture, noise drawn from `seed`.
pub(crate) fn capture(len: usize, seed: u64) -> Result<Trace, Error> {
    let mut rng = StdRng::seed_from_u64(seed);
    let samples = (0..len)
        .map(|k| {
            let t = k as f64 / SAMPLE_RATE;
            let noise: f64 = StandardNormal.sample(&mut rng);
            (TAU * 10e3 * t).sin() + 0.1 * (TAU * 30e3 * t).sin() + 0.01 * noise
        })
        .collect();
    Ok(Trace::new(samples, SAMPLE_RATE)?)
}

/// A step running the built-in `kind` with `params`, from the registry.
pub(crate) fn builtin(
    name: &str,
    kind: &str,
    params: &[(&str, ParamValue)],
) -> Result<Step, Error> {
    let params: Params = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Ok(Step::boxed(name, tracekit::dsp::build(kind, &params)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_capture_is_reproducible_and_has_the_expected_power() {
        let a = capture(4096, SEED).unwrap();
        assert!(a.bit_eq(&capture(4096, SEED).unwrap()));
        assert!(!a.bit_eq(&capture(4096, SEED + 1).unwrap()));
        assert_eq!(a.sample_rate(), SAMPLE_RATE);
        let rms = (a.samples().iter().map(|x| x * x).sum::<f64>() / 4096.0).sqrt();
        // sqrt((1 + 0.01) / 2), plus a little noise.
        assert!((rms - 0.7106).abs() < 0.01, "rms {rms}");
    }
}
