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
//! from a fixed seed.

use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use tracekit::{Error, ExecutorKind, INPUT, ParallelPipeline, ParamValue, Step, Trace};

use crate::capture::{SEED, builtin as stage, capture};

/// Arguments of `tracekit bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Which workload to run.
    #[arg(value_enum, ignore_case = true, default_value = "all")]
    workload: Workload,
    /// Run on this executor only (sequential, thread or process); default: compare them all.
    #[arg(long, value_name = "K")]
    executor: Option<ExecutorKind>,
    /// Workers of the thread and process executors; default: automatic.
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
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
        let mut sequential = None;
        for &kind in &kinds {
            let measured = match bench.measure(kind, args.workers, runs) {
                Ok(m) => m,
                // Comparing all executors, one that this build lacks is skipped, not fatal.
                Err(Error::Unavailable(why)) if args.executor.is_none() => {
                    eprintln!(
                        "note: {workload} on {kind} skipped: {why}",
                        workload = workload.name()
                    );
                    continue;
                }
                Err(err) => return Err(err),
            };
            if kind == ExecutorKind::Sequential {
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
                return Err(Error::InvalidConfig("'all' is several workloads".into()));
            }
        };
        Ok(Bench {
            workload,
            steps,
            inputs,
        })
    }

    /// Times `runs` repetitions after one warm-up; W0 times batches of
    /// transforms, long enough for the clock, and divides.
    fn measure(
        &self,
        kind: ExecutorKind,
        workers: Option<usize>,
        runs: u32,
    ) -> Result<Measurement, Error> {
        let workers = match kind {
            ExecutorKind::Sequential => None,
            _ => workers,
        };
        let mut p = ParallelPipeline::with_config(self.steps.clone(), kind, workers)?;
        let input = &self.inputs[0];
        let mut samples = Vec::with_capacity(runs as usize);
        match self.workload {
            Workload::W0 => {
                const INNER: u32 = 2000;
                p.transform(input)?;
                for _ in 0..runs {
                    let start = Instant::now();
                    for _ in 0..INNER {
                        p.transform(input)?;
                    }
                    samples.push(start.elapsed() / INNER);
                }
            }
            Workload::W1 => {
                p.transform(input)?;
                for _ in 0..runs {
                    let start = Instant::now();
                    p.transform(input)?;
                    samples.push(start.elapsed());
                }
            }
            Workload::W2 | Workload::All => {
                p.run_batch(&self.inputs)?;
                for _ in 0..runs {
                    let start = Instant::now();
                    p.run_batch(&self.inputs)?;
                    samples.push(start.elapsed());
                }
            }
        }
        samples.sort_unstable();
        Ok(Measurement {
            workload: self.workload,
            kind,
            workers: p.resolved_workers(),
            median: samples[samples.len() / 2],
            runs,
        })
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
