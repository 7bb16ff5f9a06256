//! `tracekit bench`: the standard workloads ([`tracekit::workloads`]), timed
//! on each executor, with the CPU time and page faults they cost.
//!
//! The executors take turns, one timed sample each per round, so that a
//! machine whose speed drifts meanwhile slows them all alike.

use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use tracekit::{Error, ExecutorKind, ParallelPipeline, Trace, workloads::Workload};

use crate::sys::{self, Usage};

const EXAMPLES: &str = "\
Examples:
  tracekit bench W0                              overhead per transform, every executor
  tracekit bench W1 --executor thread --workers 2
  tracekit bench W0 --json                       one JSON object per executor

Workloads (input at 1 MS/s: sin 10 kHz + 0.1 sin 30 kHz + 0.01 N(0,1), fixed seed):
  W0  4 chained scale stages on 1,024 samples; one iteration is a transform
  W1  lowpass, highpass, bandpass (zero-phase) and fft all reading 2^20
      samples; one iteration is a transform
  W2  64 traces x 65,536 samples through normalize, lowpass, fft; one
      iteration is the whole run_batch

Columns: workers is the pipeline's resolved_workers() (automatic thread
workers read min(32, cpus + 4) but run at most cpus stages at once). median
is the median time of an iteration over the timed runs (W0:
each run is the mean of 2,000 transforms). faults/iter (JSON
minor_faults_per_iter) and cpu/iter (cpu_s_per_iter: user + system time) are
means per iteration over the same timed runs, warm-up excluded, counted for
this process (every thread) and its child processes: the process executor's
workers while they live (Linux: /proc/<pid>/schedstat and /proc/<pid>/stat),
and children that ended and were reaped (getrusage RUSAGE_CHILDREN).
cpu/wall (cpu_per_wall) is the CPU time over the wall time of those runs: the
number of cores kept busy on average, at most the workers (1 when sequential).

Exit status: 0 on success; 2 for bad arguments; 1 when a workload fails.";

/// Transforms per W0 sample: enough for the clock to resolve.
const W0_INNER: u32 = 2000;

/// Arguments of `tracekit bench`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct BenchArgs {
    /// Which workload to run.
    #[arg(value_enum, ignore_case = true, default_value = "all")]
    workload: Which,
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

/// The workloads to run: one, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    #[value(name = "W0")]
    W0,
    #[value(name = "W1")]
    W1,
    #[value(name = "W2")]
    W2,
    #[value(name = "all")]
    All,
}

impl Which {
    fn workloads(self) -> Vec<Workload> {
        match self {
            Which::W0 => vec![Workload::W0],
            Which::W1 => vec![Workload::W1],
            Which::W2 => vec![Workload::W2],
            Which::All => Workload::ALL.to_vec(),
        }
    }
}

/// Timed repetitions of `workload` when `--runs` is not given.
fn default_runs(workload: Workload) -> u32 {
    match workload {
        Workload::W0 => 31,
        Workload::W1 | Workload::W2 => 7,
    }
}

/// Iterations in one timed sample of `workload`.
fn inner_iterations(workload: Workload) -> u32 {
    match workload {
        Workload::W0 => W0_INNER,
        Workload::W1 | Workload::W2 => 1,
    }
}

/// What one workload on one executor measured.
#[derive(Debug)]
struct Measurement {
    workload: Workload,
    kind: ExecutorKind,
    workers: usize,
    runs: u32,
    /// The median time of an iteration.
    median: Duration,
    /// Wall time of all timed iterations.
    wall: Duration,
    /// What all timed iterations used.
    used: Usage,
    /// Timed iterations in all.
    iterations: u64,
}

/// Runs `tracekit bench`.
pub(crate) fn run(args: &BenchArgs) -> Result<(), Error> {
    let kinds = match args.executor {
        Some(kind) => vec![kind],
        None => ExecutorKind::ALL.to_vec(),
    };
    if !args.json {
        outln!("{}", header());
    }
    for workload in args.workload.workloads() {
        let inputs = workload.inputs()?;
        let runs = args.runs.unwrap_or(default_runs(workload));
        let mut timers = Vec::with_capacity(kinds.len());
        for &kind in &kinds {
            match Timer::new(workload, &inputs, kind, args.workers.map(|n| n.get())) {
                Ok(timer) => timers.push(timer),
                // Comparing all executors, one that this build lacks is skipped, not fatal.
                Err(Error::Unavailable(why)) if args.executor.is_none() => {
                    eprintln!("note: {workload} on {kind} skipped: {why}");
                }
                Err(err) => return Err(err),
            }
        }
        // Round by round, each executor once: a machine whose speed drifts
        // while the benchmark runs slows every executor alike, so the ratios
        // stay fair.
        for _ in 0..runs {
            for timer in &mut timers {
                timer.sample()?;
            }
        }
        let mut sequential = None;
        for timer in timers {
            let measured = timer.finish(runs);
            if measured.kind == ExecutorKind::Sequential {
                sequential = Some(measured.median);
            }
            if args.json {
                outln!("{}", measured.json());
            } else {
                outln!("{}", measured.row(sequential));
            }
        }
    }
    Ok(())
}

/// One workload on one executor: its pipeline and what its samples measured.
struct Timer<'i> {
    workload: Workload,
    inputs: &'i [Trace],
    kind: ExecutorKind,
    pipeline: ParallelPipeline,
    /// The time of an iteration, one entry per sample.
    samples: Vec<Duration>,
    wall: Duration,
    used: Usage,
}

impl<'i> Timer<'i> {
    /// A timer of `workload` on `kind`, warmed up by one untimed sample.
    fn new(
        workload: Workload,
        inputs: &'i [Trace],
        kind: ExecutorKind,
        workers: Option<usize>,
    ) -> Result<Timer<'i>, Error> {
        let workers = match kind {
            ExecutorKind::Sequential => None,
            _ => workers,
        };
        let mut timer = Timer {
            workload,
            inputs,
            kind,
            pipeline: workload.pipeline(kind, workers)?,
            samples: Vec::new(),
            wall: Duration::ZERO,
            used: Usage::default(),
        };
        timer.sample()?;
        timer.samples.clear();
        timer.wall = Duration::ZERO;
        timer.used = Usage::default();
        Ok(timer)
    }

    /// Times one sample: [`inner_iterations`] iterations of the workload,
    /// with the resources they used.
    fn sample(&mut self) -> Result<(), Error> {
        let inner = inner_iterations(self.workload);
        let pipeline = self.pipeline.as_pipeline();
        let before = sys::usage();
        let start = Instant::now();
        for _ in 0..inner {
            self.workload.run_once(pipeline, self.inputs)?;
        }
        let elapsed = start.elapsed();
        let used = sys::usage().since(before);
        self.samples.push(elapsed / inner);
        self.wall += elapsed;
        self.used = self.used.add(used);
        Ok(())
    }

    fn finish(mut self, runs: u32) -> Measurement {
        self.samples.sort_unstable();
        Measurement {
            workload: self.workload,
            kind: self.kind,
            workers: self.pipeline.resolved_workers(),
            runs,
            median: self.samples[self.samples.len() / 2],
            wall: self.wall,
            used: self.used,
            iterations: u64::from(runs) * u64::from(inner_iterations(self.workload)),
        }
    }
}

/// The text table's header line.
fn header() -> String {
    format!(
        "{:<9}{:<12}{:>8}{:>13}{:>6}{:>15}{:>13}{:>13}{:>10}",
        "workload",
        "executor",
        "workers",
        "median",
        "runs",
        "vs sequential",
        "faults/iter",
        "cpu/iter",
        "cpu/wall"
    )
}

impl Measurement {
    fn faults_per_iter(&self) -> f64 {
        self.used.minor_faults as f64 / self.iterations.max(1) as f64
    }

    fn cpu_per_iter(&self) -> Duration {
        Duration::from_secs_f64(self.used.cpu.as_secs_f64() / self.iterations.max(1) as f64)
    }

    fn cpu_per_wall(&self) -> f64 {
        if self.wall.is_zero() {
            return 0.0;
        }
        self.used.cpu.as_secs_f64() / self.wall.as_secs_f64()
    }

    /// One JSON object on one line.
    fn json(&self) -> String {
        serde_json::json!({
            "workload": self.workload.name(),
            "executor": self.kind.as_str(),
            "workers": self.workers,
            "median_s": self.median.as_secs_f64(),
            "runs": self.runs,
            "minor_faults_per_iter": self.faults_per_iter(),
            "cpu_s_per_iter": self.cpu_per_iter().as_secs_f64(),
            "cpu_per_wall": self.cpu_per_wall(),
        })
        .to_string()
    }

    /// One row of the text table; the speedup is over `sequential`'s median.
    fn row(&self, sequential: Option<Duration>) -> String {
        let ratio = match sequential {
            Some(seq) if !self.median.is_zero() => {
                format!("{:.2}x", seq.as_secs_f64() / self.median.as_secs_f64())
            }
            _ => "-".to_owned(),
        };
        format!(
            "{:<9}{:<12}{:>8}{:>13}{:>6}{:>15}{:>13}{:>13}{:>10}",
            self.workload.name(),
            self.kind.as_str(),
            self.workers,
            human(self.median),
            self.runs,
            ratio,
            format!("{:.1}", self.faults_per_iter()),
            human(self.cpu_per_iter()),
            format!("{:.2}", self.cpu_per_wall()),
        )
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
    fn a_timer_measures_time_cpu_and_faults_per_iteration() {
        let workload = Workload::W0;
        let inputs = workload.inputs().unwrap();
        let mut timer = Timer::new(workload, &inputs, ExecutorKind::Thread, Some(2)).unwrap();
        assert!(timer.samples.is_empty(), "the warm-up is not counted");
        timer.sample().unwrap();
        timer.sample().unwrap();
        let m = timer.finish(2);
        assert_eq!((m.workers, m.iterations), (2, 2 * u64::from(W0_INNER)));
        assert!(m.used.cpu > Duration::ZERO, "{m:?}");
        let json: serde_json::Value = serde_json::from_str(&m.json()).unwrap();
        for key in [
            "median_s",
            "minor_faults_per_iter",
            "cpu_s_per_iter",
            "cpu_per_wall",
        ] {
            assert!(
                json[key].as_f64().is_some_and(|v| v >= 0.0),
                "{key}: {json}"
            );
        }
        assert_eq!(json["workload"], "W0");
        let row = m.row(Some(m.median));
        assert!(row.starts_with("W0       thread"), "{row}");
        assert!(row.contains("1.00x"), "{row}");
        assert_eq!(row.chars().count(), header().chars().count(), "{row}");
    }

    #[test]
    fn all_is_every_workload() {
        assert_eq!(Which::All.workloads(), Workload::ALL);
        assert_eq!(Which::W2.workloads(), [Workload::W2]);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_nanos(2_500)), "2.500 µs");
        assert_eq!(human(Duration::from_millis(12)), "12.000 ms");
        assert_eq!(human(Duration::from_nanos(80)), "80 ns");
    }
}
