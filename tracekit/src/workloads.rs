//! The standard workloads: the one definition that `tracekit bench` and the
//! benchmarks time.
//!
//! - [`Workload::W0`], overhead: 4 chained `scale` stages on 1,024 samples;
//!   one iteration is one transform.
//! - [`Workload::W1`], fan-out: `lowpass` 50 kHz, `highpass` 1 kHz and
//!   `bandpass` 1–50 kHz (order 4, zero-phase) and `fft` (hann, dB), all four
//!   reading one 2^20-sample input; the output is the `fft` step. One
//!   iteration is one transform.
//! - [`Workload::W2`], batch: 64 traces of 65,536 samples through
//!   `normalize` -> `lowpass` 50 kHz -> `fft`; one iteration is the whole
//!   batch ([`Pipeline::run_batch`]).
//!
//! Every input is the standard [`signal`] at 1 MS/s ([`SIGNAL`]), the noise
//! drawn from a fixed seed ([`SEED`]; W2's traces from `SEED`, `SEED + 1`,
//! ...), so every program times the same samples.
//!
//! ```
//! use tracekit::{ExecutorKind, workloads::Workload};
//!
//! let w1 = Workload::W1;
//! let pipeline = w1.pipeline(ExecutorKind::Thread, Some(2))?;
//! let inputs = w1.inputs()?;
//! assert_eq!(inputs[0].len(), 1 << 20);
//! assert_eq!(pipeline.step_names(), ["lowpass", "highpass", "bandpass", "fft"]);
//! w1.run_once(pipeline.as_pipeline(), &inputs)?; // one timed iteration
//! # Ok::<(), tracekit::Error>(())
//! ```

use std::{f64::consts::TAU, fmt, str::FromStr};

use rand::{SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, StandardNormal};

use crate::{
    CoreError, Error, ExecutorKind, INPUT, ParallelPipeline, ParamValue, Params, Pipeline, Step,
    Trace,
};

/// Samples per second of the standard signal.
pub const SAMPLE_RATE: f64 = 1e6;

/// The seed of the standard signal's noise; the same seed gives the same
/// samples, bit for bit.
pub const SEED: u64 = 0x7ace_0001;

/// What the standard signal holds, in one line.
pub const SIGNAL: &str = "sin 10 kHz + 0.1 sin 30 kHz + 0.01 N(0,1)";

/// `len` samples of the standard signal at [`SAMPLE_RATE`], the noise drawn
/// from `seed`: sin 10 kHz + 0.1 sin 30 kHz + 0.01 N(0, 1).
///
/// The 30 kHz tone is the third harmonic of the 10 kHz fundamental at a tenth
/// of its amplitude, so a correct THD measurement reads about -20 dB.
///
/// ```
/// use tracekit::workloads::{SEED, signal};
///
/// let x = signal(4096, SEED)?;
/// assert!(x.bit_eq(&signal(4096, SEED)?));
/// assert_eq!(x.sample_rate(), 1e6);
/// # Ok::<(), tracekit::Error>(())
/// ```
pub fn signal(len: usize, seed: u64) -> Result<Trace, Error> {
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

/// One of the standard workloads (see the [module](self) documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Overhead: 4 chained `scale` stages on 1,024 samples.
    W0,
    /// Fan-out: three zero-phase filters and an FFT reading one 2^20-sample input.
    W1,
    /// Batch: 64 traces of 65,536 samples through normalize, lowpass, fft.
    W2,
}

impl Workload {
    /// Every workload, in order.
    pub const ALL: [Workload; 3] = [Workload::W0, Workload::W1, Workload::W2];

    /// `"W0"`, `"W1"` or `"W2"`.
    pub fn name(self) -> &'static str {
        match self {
            Workload::W0 => "W0",
            Workload::W1 => "W1",
            Workload::W2 => "W2",
        }
    }

    /// What the workload runs and what one iteration is, in one line.
    pub fn description(self) -> &'static str {
        match self {
            Workload::W0 => "4 chained scale stages on 1,024 samples, per transform",
            Workload::W1 => {
                "lowpass, highpass, bandpass (zero-phase) and fft all reading 2^20 samples, per transform"
            }
            Workload::W2 => {
                "64 traces x 65,536 samples through normalize, lowpass, fft, per run_batch"
            }
        }
    }

    /// The workload's steps, built from the registry of built-in stages.
    pub fn steps(self) -> Result<Vec<Step>, Error> {
        match self {
            Workload::W0 => [2.0, 0.5, 4.0, 0.25]
                .iter()
                .enumerate()
                .map(|(k, &factor)| {
                    builtin(&format!("scale{k}"), "scale", &[("factor", factor.into())])
                })
                .collect(),
            Workload::W1 => {
                let filter = |kind: &str, edges: &[(&str, ParamValue)]| {
                    let mut params = edges.to_vec();
                    params.push(("order", 4_i64.into()));
                    params.push(("zero_phase", true.into()));
                    builtin(kind, kind, &params).map(|s| s.input(INPUT))
                };
                Ok(vec![
                    filter("lowpass", &[("cutoff", 50e3.into())])?,
                    filter("highpass", &[("cutoff", 1e3.into())])?,
                    filter("bandpass", &[("low", 1e3.into()), ("high", 50e3.into())])?,
                    fft()?.input(INPUT),
                ])
            }
            Workload::W2 => Ok(vec![
                builtin("normalize", "normalize", &[])?,
                builtin("lowpass", "lowpass", &[("cutoff", 50e3.into())])?,
                fft()?,
            ]),
        }
    }

    /// The workload's inputs: one trace for W0 and W1, the 64 of W2's batch.
    pub fn inputs(self) -> Result<Vec<Trace>, Error> {
        match self {
            Workload::W0 => Ok(vec![signal(1024, SEED)?]),
            Workload::W1 => Ok(vec![signal(1 << 20, SEED)?]),
            Workload::W2 => (0..64).map(|k| signal(65_536, SEED + k)).collect(),
        }
    }

    /// The workload's steps as a [`ParallelPipeline`] on executor `kind` with
    /// `max_workers` workers (`None`: automatic).
    pub fn pipeline(
        self,
        kind: ExecutorKind,
        max_workers: Option<usize>,
    ) -> Result<ParallelPipeline, Error> {
        ParallelPipeline::with_config(self.steps()?, kind, max_workers)
    }

    /// One iteration of the workload on `pipeline`'s executor: one run of the
    /// first input (W0, W1) or one batch of them all (W2). The results are
    /// dropped before this returns, so repeated iterations are the steady
    /// state in which buffers are reused.
    ///
    /// `inputs` are [`Workload::inputs`] (or others of your choosing); none
    /// at all is an [`InvalidConfig`](CoreError::InvalidConfig) error.
    pub fn run_once(self, pipeline: &Pipeline, inputs: &[Trace]) -> Result<(), Error> {
        match self {
            Workload::W0 | Workload::W1 => {
                let input = inputs.first().ok_or_else(|| {
                    CoreError::InvalidConfig(format!("workload {self} needs an input, got none"))
                })?;
                drop(pipeline.run(input)?);
            }
            Workload::W2 => drop(pipeline.run_batch(inputs)?),
        }
        Ok(())
    }
}

/// A step running the built-in `kind` with `params`.
fn builtin(name: &str, kind: &str, params: &[(&str, ParamValue)]) -> Result<Step, Error> {
    let params: Params = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Ok(Step::boxed(name, crate::dsp::build(kind, &params)?))
}

/// The `fft` step of W1 and W2: hann window, dB.
fn fft() -> Result<Step, Error> {
    builtin(
        "fft",
        "fft",
        &[("window", "hann".into()), ("scale", "db".into())],
    )
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Workload {
    type Err = Error;

    /// Parses `"W0"`, `"W1"` or `"W2"` (any case); anything else is an
    /// [`InvalidConfig`](CoreError::InvalidConfig) error.
    fn from_str(s: &str) -> Result<Workload, Error> {
        Workload::ALL
            .into_iter()
            .find(|w| w.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                CoreError::InvalidConfig(format!("a workload is W0, W1 or W2, got '{s}'")).into()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signal_is_reproducible_and_has_the_expected_power() {
        let a = signal(4096, SEED).unwrap();
        assert!(a.bit_eq(&signal(4096, SEED).unwrap()));
        assert!(!a.bit_eq(&signal(4096, SEED + 1).unwrap()));
        assert_eq!(a.sample_rate(), SAMPLE_RATE);
        let rms = (a.samples().iter().map(|x| x * x).sum::<f64>() / 4096.0).sqrt();
        // sqrt((1 + 0.01) / 2), plus a little noise.
        assert!((rms - 0.7106).abs() < 0.01, "rms {rms}");
    }

    #[test]
    fn every_workload_has_its_shape() {
        let shapes = Workload::ALL.map(|w| {
            let inputs = w.inputs().unwrap();
            (w.steps().unwrap().len(), inputs.len(), inputs[0].len())
        });
        assert_eq!(shapes, [(4, 1, 1024), (4, 1, 1 << 20), (3, 64, 65_536)]);
        let w1 = Workload::W1
            .pipeline(ExecutorKind::Sequential, None)
            .unwrap();
        assert_eq!(w1.get_execution_order().len(), 1, "W1 is one fan-out");
        assert_eq!(w1.output_step(), "fft");
        let w2 = Workload::W2
            .pipeline(ExecutorKind::Sequential, None)
            .unwrap();
        assert_eq!(w2.get_execution_order().len(), 3, "W2 is a chain");
    }

    #[test]
    fn an_iteration_runs_the_same_on_every_executor_and_needs_inputs() {
        let w0 = Workload::W0;
        let inputs = w0.inputs().unwrap();
        let mut seq = w0.pipeline(ExecutorKind::Sequential, None).unwrap();
        let mut thr = w0.pipeline(ExecutorKind::Thread, Some(2)).unwrap();
        assert!(
            seq.transform(&inputs[0])
                .unwrap()
                .bit_eq(&thr.transform(&inputs[0]).unwrap())
        );
        w0.run_once(thr.as_pipeline(), &inputs).unwrap();
        let err = w0.run_once(thr.as_pipeline(), &[]).unwrap_err();
        assert!(err.to_string().contains("W0 needs an input"), "{err}");
    }

    #[test]
    fn workloads_parse_and_display() {
        for w in Workload::ALL {
            assert_eq!(w.to_string().parse::<Workload>().unwrap(), w);
        }
        assert_eq!("w1".parse::<Workload>().unwrap(), Workload::W1);
        let err = "W3".parse::<Workload>().unwrap_err();
        assert!(err.to_string().contains("got 'W3'"), "{err}");
    }
}
