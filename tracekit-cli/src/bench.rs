//! `tracekit bench`: the standard workloads of the design, timed on each executor.
//!
//! - W0 overhead: 4 chained `scale` stages on 1,024 samples; time per transform.
//! - W1 fan-out: 2^20 samples; `lowpass` 50 kHz, `highpass` 1 kHz, `bandpass`
//!   1–50 kHz (order 4, zero-phase) and `fft` (hann, dB), all reading the
//!   input; the output is the `fft` step. Time per transform.
//! - W2 batch: 64 traces of 65,536 samples through `normalize` -> `lowpass`
//!   50 kHz -> `fft`; time for the whole batch (`run_batch`).
//!
//! Inputs are sampled at 1 MS/s: sin 10 kHz + 0.1 sin 30 kHz + 0.01 N(0, 1),
//! from a fixed seed. The executors take turns, one timed run each per round,
//! so that a machine whose speed drifts meanwhile slows them all alike.

use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use tracekit::{CoreError, Error, ExecutorKind, INPUT, ParallelPipeline, ParamValue, Step, Trace};

use crate::capture::{SEED, builtin as stage, capture};

const EXAMPLES: &str = "\
Examples:
  tracekit bench W0                              overhead per transform, every executor
  tracekit bench W1 --executor thread --workers 2
  tracekit bench W0 --json                       one JSON object per executor

Exit status: 0 on success; 2 for bad arguments; 1 when a workload fails.";

/// Arguments of `tracekit bench`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct BenchArgs {
    /// Which workload to run.
    #[arg(value_enum, ignore_case = true, default_value = "all")]
    workload: Workload,
    /// Run on this executor only (sequential, thread or process); default: compare them all.
    #[arg(long, value_name = "K")]
    executor: Option<ExecutorKind>,
    /// Workers of the thread and process executors; default: automatic.
    #[arg(long, value_name = "N", value_parser = crate::failure::parse_workers)]
    workers: Option<std::num::NonZeroUsize>,
    /// Print one JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
    /// Timed repetitions per workload and executor (the median is reported);
    /// default: 31 for W0, 7 for W1 and W2.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    runs: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Workload {
    #[value(name = "W0")]
    W0,
    #[value(name = "W1")]
    W1,
    #[value(name = "W2")]
    W2,
    #[value(name = "all")]
    All,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::W0 => "W0",
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::All => "all",
        }
    }

    fn default_runs(self) -> u32 {
        match self {
            Workload::W0 => 31,
            _ => 7,
        }
    }
}

/// One workload, ready to time.
struct Bench {
    workload: Workload,
    steps: Vec<Step>,
    inputs: Vec<Trace>,
}

/// The median of one workload on one executor.
struct Measurement {
    workload: Workload,
    kind: ExecutorKind,
    workers: usize,
    median: Duration,
    runs: u32,
}

/// Runs `tracekit bench`.
pub(crate) fn run(args: &BenchArgs) -> Result<(), Error> {
    let workloads = match args.workload {
        Workload::All => vec![Workload::W0, Workload::W1, Workload::W2],
        one => vec![one],
    };
    let kinds = match args.executor {
        Some(kind) => vec![kind],
        None => ExecutorKind::ALL.to_vec(),
    };
    if !args.json {
        println!(
            "{:<9}{:<12}{:>8}{:>14}{:>7}{:>16}",
            "workload", "executor", "workers", "median", "runs", "vs sequential"
        );
    }
    for workload in workloads {
        let bench = Bench::new(workload)?;
        let runs = args.runs.unwrap_or(workload.default_runs());
        let mut timers = Vec::with_capacity(kinds.len());
        for &kind in &kinds {
            match bench.timer(kind, args.workers.map(std::num::NonZeroUsize::get)) {
                Ok(timer) => timers.push(timer),
                // Comparing all executors, one that this build lacks is skipped, not fatal.
                Err(Error::Unavailable(why)) if args.executor.is_none() => {
                    eprintln!(
                        "note: {workload} on {kind} skipped: {why}",
                        workload = workload.name()
                    );
                }
                Err(err) => return Err(err),
            }
        }
        // Round by round, each executor once: a machine whose speed drifts
        // while the benchmark runs slows every executor alike, so the ratios
        // stay fair.
        let mut samples = vec![Vec::with_capacity(runs as usize); timers.len()];
        for _ in 0..runs {
            for (timer, samples) in timers.iter_mut().zip(&mut samples) {
                samples.push(timer.sample()?);
            }
        }
        let mut sequential = None;
        for (timer, mut samples) in timers.into_iter().zip(samples) {
            samples.sort_unstable();
            let measured = Measurement {
                workload,
                kind: timer.kind,
                workers: timer.pipeline.resolved_workers(),
                median: samples[samples.len() / 2],
                runs,
            };
            if measured.kind == ExecutorKind::Sequential {
                sequential = Some(measured.median);
            }
            measured.print(args.json, sequential);
        }
    }
    Ok(())
}

impl Bench {
    fn new(workload: Workload) -> Result<Bench, Error> {
        let (steps, inputs) = match workload {
            Workload::W0 => {
                let steps = [2.0, 0.5, 4.0, 0.25]
                    .iter()
                    .enumerate()
                    .map(|(k, &factor)| {
                        stage(&format!("scale{k}"), "scale", &[("factor", factor.into())])
                    })
                    .collect::<Result<_, _>>()?;
                (steps, vec![capture(1024, SEED)?])
            }
            Workload::W1 => {
                let filter = |kind: &str, edges: &[(&str, f64)]| {
                    let mut params: Vec<(&str, ParamValue)> =
                        edges.iter().map(|&(k, v)| (k, v.into())).collect();
                    params.push(("order", 4_i64.into()));
                    params.push(("zero_phase", true.into()));
                    stage(kind, kind, &params).map(|s| s.input(INPUT))
                };
                let steps = vec![
                    filter("lowpass", &[("cutoff", 50e3)])?,
                    filter("highpass", &[("cutoff", 1e3)])?,
                    filter("bandpass", &[("low", 1e3), ("high", 50e3)])?,
                    stage(
                        "fft",
                        "fft",
                        &[("window", "hann".into()), ("scale", "db".into())],
                    )?
                    .input(INPUT),
                ];
                (steps, vec![capture(1 << 20, SEED)?])
            }
            Workload::W2 => {
                let steps = vec![
                    stage("normalize", "normalize", &[])?,
                    stage("lowpass", "lowpass", &[("cutoff", 50e3.into())])?,
                    stage(
                        "fft",
                        "fft",
                        &[("window", "hann".into()), ("scale", "db".into())],
                    )?,
                ];
                let inputs = (0..64)
                    .map(|k| capture(65_536, SEED + k))
                    .collect::<Result<_, _>>()?;
                (steps, inputs)
            }
            Workload::All => {
                return Err(CoreError::InvalidConfig("'all' is several workloads".into()).into());
            }
        };
        Ok(Bench {
            workload,
            steps,
            inputs,
        })
    }

    /// A timer of this workload on `kind`, warmed up by one untimed run.
    fn timer(&self, kind: ExecutorKind, workers: Option<usize>) -> Result<Timer<'_>, Error> {
        let workers = match kind {
            ExecutorKind::Sequential => None,
            _ => workers,
        };
        let mut timer = Timer {
            bench: self,
            kind,
            pipeline: ParallelPipeline::with_config(self.steps.clone(), kind, workers)?,
        };
        timer.sample()?;
        Ok(timer)
    }
}

/// One workload on one executor.
struct Timer<'b> {
    bench: &'b Bench,
    kind: ExecutorKind,
    pipeline: ParallelPipeline,
}

impl Timer<'_> {
    /// The time of one transform (W0: the mean of a batch of transforms, long
    /// enough for the clock; W1), or of one whole batch (W2).
    fn sample(&mut self) -> Result<Duration, Error> {
        const W0_INNER: u32 = 2000;
        let inputs = &self.bench.inputs;
        let start = Instant::now();
        match self.bench.workload {
            Workload::W0 => {
                for _ in 0..W0_INNER {
                    self.pipeline.transform(&inputs[0])?;
                }
                return Ok(start.elapsed() / W0_INNER);
            }
            Workload::W1 => {
                self.pipeline.transform(&inputs[0])?;
            }
            Workload::W2 | Workload::All => {
                self.pipeline.run_batch(inputs)?;
            }
        }
        Ok(start.elapsed())
    }
}

impl Measurement {
    fn print(&self, json: bool, sequential: Option<Duration>) {
        if json {
            let line = serde_json::json!({
                "workload": self.workload.name(),
                "executor": self.kind.as_str(),
                "workers": self.workers,
                "median_s": self.median.as_secs_f64(),
                "runs": self.runs,
            });
            println!("{line}");
            return;
        }
        let ratio = match sequential {
            Some(seq) if !self.median.is_zero() => {
                format!("{:.2}x", seq.as_secs_f64() / self.median.as_secs_f64())
            }
            _ => "-".to_owned(),
        };
        println!(
            "{:<9}{:<12}{:>8}{:>14}{:>7}{:>16}",
            self.workload.name(),
            self.kind.as_str(),
            self.workers,
            human(self.median),
            self.runs,
            ratio
        );
    }
}

/// A duration with a unit that keeps three or four significant digits.
fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.3} ms", s * 1e3)
    } else if s >= 1e-6 {
        format!("{:.3} µs", s * 1e6)
    } else {
        format!("{:.0} ns", s * 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_builds_and_runs_the_same_on_every_executor() {
        let w0 = Bench::new(Workload::W0).unwrap();
        assert_eq!(w0.steps.len(), 4);
        let mut seq =
            ParallelPipeline::with_config(w0.steps.clone(), ExecutorKind::Sequential, None)
                .unwrap();
        let mut thr =
            ParallelPipeline::with_config(w0.steps.clone(), ExecutorKind::Thread, Some(2)).unwrap();
        assert!(
            seq.transform(&w0.inputs[0])
                .unwrap()
                .bit_eq(&thr.transform(&w0.inputs[0]).unwrap())
        );
        let w2 = Bench::new(Workload::W2).unwrap();
        assert_eq!((w2.inputs.len(), w2.inputs[0].len()), (64, 65_536));
        assert_eq!(
            ParallelPipeline::new(w2.steps)
                .unwrap()
                .get_execution_order()
                .len(),
            3
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_nanos(2_500)), "2.500 µs");
        assert_eq!(human(Duration::from_millis(12)), "12.000 ms");
        assert_eq!(human(Duration::from_nanos(80)), "80 ns");
    }
}
