//! `tracekit demo`: the fan-out pipeline of the original `ParallelPipeline`
//! example, run on a synthetic capture on every executor.
//!
//! Prints the pipeline and its generations, per-stage times, the speedup of
//! each executor over sequential (medians measured now), a bit-for-bit check
//! of every executor's results against sequential, and the spectral
//! measurements of the capture.

use std::{
    num::NonZeroUsize,
    path::{Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use clap::Args;
use tracekit::{Error, ExecutorKind, INPUT, ParallelPipeline, ParamValue, Run, Step, Trace};

use crate::{
    capture::{self, SAMPLE_RATE, SEED, builtin as stage},
    failure::Failure,
    graph,
    plot::{Figure, Lane, PlotFormat},
    table::{Align, Table, grouped, millis},
};

const EXAMPLES: &str = "\
Examples:
  tracekit demo                          every executor, automatic workers
  tracekit demo --executor thread --workers 4
  tracekit demo --runs 11                steadier medians
  tracekit demo --plot                   also draw tracekit-demo.svg (capture,
                                         filters, spectrum, stage timeline)
  tracekit demo --spec > fanout.toml     the demo pipeline as a spec file, for
                                         `tracekit run` and `tracekit graph`

The sequential executor always runs too: it is the reference for the speedup
and for the bit-for-bit check. An executor that this build lacks is skipped
with a note, unless it was asked for by name.

Exit status: 0 on success; 1 when a run fails or an executor's results differ
from the sequential ones; 2 on a usage error or an executor that is not
available.";

/// The step whose output carries the measurements.
const METRICS: &str = "metrics";

/// Arguments of `tracekit demo`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct DemoArgs {
    /// Compare only this executor (sequential, thread or process) with sequential.
    #[arg(long, value_name = "K")]
    executor: Option<ExecutorKind>,
    /// Workers of the thread and process executors; default: automatic.
    #[arg(long, value_name = "N")]
    workers: Option<NonZeroUsize>,
    /// Timed runs per executor after one warm-up; medians are reported.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Print the demo pipeline as a TOML spec and exit.
    #[arg(long)]
    spec: bool,
    /// Also draw the capture, the filter outputs, the spectrum and a timeline
    /// of the stages on each executor into a picture (see --plot-file).
    #[arg(long)]
    plot: bool,
    /// Where --plot writes: an .svg or .png file.
    #[arg(long, value_name = "FILE", default_value = "tracekit-demo.svg")]
    plot_file: PathBuf,
    /// Samples in the capture (small values keep tests fast).
    #[arg(long, value_name = "N", default_value_t = 1 << 20, hide = true)]
    samples: usize,
}

/// One executor's medians over the timed runs, and its last run.
struct Timed {
    kind: ExecutorKind,
    workers: usize,
    wall: Duration,
    stages: Vec<Duration>,
    last: Run,
}

/// How an executor's results compare with the sequential ones.
struct Check {
    compared: usize,
    differing: Vec<String>,
}

/// The fan-out: three Butterworth filters, an FFT and the spectral metrics all
/// read the input; `merge` is the mean of the three filter outputs.
pub(crate) fn steps() -> Result<Vec<Step>, Error> {
    let order = || ("order", ParamValue::Int(4));
    let zero_phase = || ("zero_phase", ParamValue::Bool(true));
    Ok(vec![
        stage(
            "lowpass",
            "lowpass",
            &[("cutoff", 50e3.into()), order(), zero_phase()],
        )?
        .input(INPUT),
        stage(
            "highpass",
            "highpass",
            &[("cutoff", 1e3.into()), order(), zero_phase()],
        )?
        .input(INPUT),
        stage(
            "bandpass",
            "bandpass",
            &[
                ("low", 1e3.into()),
                ("high", 50e3.into()),
                order(),
                zero_phase(),
            ],
        )?
        .input(INPUT),
        stage(
            "fft",
            "fft",
            &[("window", "hann".into()), ("scale", "db".into())],
        )?
        .input(INPUT),
        stage(
            METRICS,
            "spectral_metrics",
            &[("n_harmonics", 5_i64.into()), ("window", "hann".into())],
        )?
        .input(INPUT),
        stage("merge", "merge", &[("op", "mean".into())])?
            .inputs(["lowpass", "highpass", "bandpass"]),
    ])
}

/// Runs `tracekit demo`.
pub(crate) fn run(args: &DemoArgs) -> Result<(), Failure> {
    let steps = steps()?;
    if args.spec {
        let p = ParallelPipeline::with_config(steps, ExecutorKind::Thread, None)?;
        out!("{}", p.to_spec());
        return Ok(());
    }
    let workers = args.workers.map(NonZeroUsize::get);
    let kinds: Vec<ExecutorKind> = match args.executor {
        Some(ExecutorKind::Sequential) => vec![ExecutorKind::Sequential],
        Some(kind) => vec![ExecutorKind::Sequential, kind],
        None => ExecutorKind::ALL.to_vec(),
    };
    // An executor asked for by name must exist before anything is printed.
    if let Some(kind) = args.executor {
        let probe = ParallelPipeline::with_config(steps.clone(), kind, workers)?;
        if let Err(err) = probe.executor() {
            return Err(Failure::Usage(err.to_string()));
        }
    }
    let input = capture::capture(args.samples, SEED)?;
    let reference = ParallelPipeline::with_config(steps.clone(), ExecutorKind::Sequential, None)?;

    let cpus = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    outln!("tracekit demo: the fan-out pipeline on a synthetic capture");
    outln!(
        "  capture  {} samples at {} MS/s: {}, seed {SEED:#x}",
        grouped(input.len()),
        SAMPLE_RATE / 1e6,
        capture::DESCRIPTION
    );
    outln!(
        "  timing   median of {} run{} per executor, after one warm-up; {cpus} CPUs",
        args.runs,
        if args.runs == 1 { "" } else { "s" }
    );
    outln!();
    out!("{}", graph::describe(&reference, false));
    outln!();

    let mut timed: Vec<Timed> = Vec::new();
    let mut notes = Vec::new();
    for kind in kinds {
        match measure(&steps, kind, workers, args.runs, &input) {
            Ok(t) => timed.push(t),
            Err(Error::Unavailable(why)) if args.executor != Some(kind) => {
                notes.push(format!("{kind} skipped: {why}"));
            }
            Err(Error::Unavailable(why)) => return Err(Failure::Usage(why)),
            Err(err) => return Err(err.into()),
        }
    }
    // The sequential executor is always first and cannot be unavailable.
    let Some(sequential) = timed.first() else {
        return Err(Failure::Failed("the sequential run did not happen".into()));
    };

    out!("{}", stage_table(&reference, &timed));
    outln!();
    let checks: Vec<Check> = timed
        .iter()
        .map(|t| check(&sequential.last, &t.last))
        .collect();
    out!("{}", executor_table(&timed, &checks));
    for note in &notes {
        outln!("  note: {note}");
    }
    outln!();
    out!("{}", measurement_table(&sequential.last)?);
    if args.plot {
        draw(&args.plot_file, &input, &timed)?;
        outln!();
        outln!("Picture written to {}", args.plot_file.display());
    }

    let differing: Vec<String> = timed
        .iter()
        .zip(&checks)
        .filter(|(_, c)| !c.differing.is_empty())
        .map(|(t, c)| format!("{} ({})", t.kind, c.differing.join(", ")))
        .collect();
    if differing.is_empty() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "results differ from the sequential executor's: {}",
            differing.join("; ")
        )))
    }
}

/// Draws the capture, the filter outputs and the spectrum of the sequential
/// run, with the measurements and a timeline of the last run on each executor.
fn draw(path: &Path, input: &Trace, timed: &[Timed]) -> Result<(), Failure> {
    let format = match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("png") => PlotFormat::Png,
        _ => PlotFormat::Svg,
    };
    let Some(sequential) = timed.first() else {
        return Ok(());
    };
    let lanes = timed.iter().map(|t| {
        let name = match t.kind {
            ExecutorKind::Sequential => t.kind.to_string(),
            kind => format!("{kind} ×{}", t.workers),
        };
        Lane::from_run(name, &t.last)
    });
    Figure::of_steps(
        input,
        &sequential.last,
        &["lowpass", "highpass", "bandpass", "fft"],
    )
    .with_title("tracekit demo: the fan-out pipeline on a synthetic capture")
    .with_timeline(lanes)
    .write(path, format)
    .map_err(|e| Failure::Failed(e.to_string()))
}

/// Runs the pipeline once to warm up, then `runs` times, on `kind`.
fn measure(
    steps: &[Step],
    kind: ExecutorKind,
    workers: Option<usize>,
    runs: u32,
    input: &Trace,
) -> Result<Timed, Error> {
    let workers = match kind {
        ExecutorKind::Sequential => None,
        _ => workers,
    };
    let p = ParallelPipeline::with_config(steps.to_vec(), kind, workers)?;
    let mut last = p.run(input)?;
    let mut walls = Vec::with_capacity(runs as usize);
    let mut stages: Vec<Vec<Duration>> = vec![Vec::with_capacity(runs as usize); p.len()];
    for _ in 0..runs {
        let start = Instant::now();
        last = p.run(input)?;
        walls.push(start.elapsed());
        for (samples, (_, d)) in stages.iter_mut().zip(last.timings()) {
            samples.push(*d);
        }
    }
    Ok(Timed {
        kind,
        workers: p.resolved_workers(),
        wall: median(&mut walls),
        stages: stages.iter_mut().map(|s| median(s)).collect(),
        last,
    })
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Compares every step's output of `run` with the sequential run, bit for bit.
fn check(reference: &Run, run: &Run) -> Check {
    let mut compared = 0;
    let mut differing = Vec::new();
    for step in reference.kept_steps() {
        let (Some(a), b) = (reference.get(step), run.get(step)) else {
            continue;
        };
        compared += 1;
        if !b.is_some_and(|b| a.bit_eq(b)) {
            differing.push(step.to_owned());
        }
    }
    Check {
        compared,
        differing,
    }
}

/// Median wall time of each stage on each executor.
fn stage_table(pipeline: &ParallelPipeline, timed: &[Timed]) -> String {
    let mut columns = vec![("step", Align::Left), ("kind", Align::Left)];
    let names: Vec<String> = timed.iter().map(|t| t.kind.to_string()).collect();
    columns.extend(names.iter().map(|n| (n.as_str(), Align::Right)));
    let mut table = Table::new(&columns);
    for (k, step) in pipeline.steps().iter().enumerate() {
        let mut row = vec![step.name().to_owned(), step.transformer().kind().to_owned()];
        row.extend(timed.iter().map(|t| millis(t.stages[k])));
        table.row(row);
    }
    table.rule();
    let mut sum = vec!["sum of stages".to_owned(), String::new()];
    sum.extend(timed.iter().map(|t| millis(t.stages.iter().sum())));
    table.row(sum);
    let mut wall = vec!["wall time".to_owned(), String::new()];
    wall.extend(timed.iter().map(|t| millis(t.wall)));
    table.row(wall);
    format!(
        "Stage times (median per stage, from Run::timings)\n{}",
        table.render(2)
    )
}

/// Wall time, speedup over sequential and the equality check per executor.
fn executor_table(timed: &[Timed], checks: &[Check]) -> String {
    let sequential = timed.first().map_or(Duration::ZERO, |t| t.wall);
    let mut table = Table::new(&[
        ("executor", Align::Left),
        ("workers", Align::Right),
        ("wall time", Align::Right),
        ("speedup", Align::Right),
        ("results vs sequential", Align::Left),
    ]);
    for (t, c) in timed.iter().zip(checks) {
        let speedup = if t.wall.is_zero() {
            "-".to_owned()
        } else {
            format!("{:.2}x", sequential.as_secs_f64() / t.wall.as_secs_f64())
        };
        let verdict = if t.kind == ExecutorKind::Sequential {
            "reference".to_owned()
        } else if c.differing.is_empty() {
            format!("identical: {}/{} steps bit for bit", c.compared, c.compared)
        } else {
            format!("DIFFER in {}", c.differing.join(", "))
        };
        table.row([
            t.kind.to_string(),
            t.workers.to_string(),
            millis(t.wall),
            speedup,
            verdict,
        ]);
    }
    format!(
        "Executors (speedup = sequential wall time / wall time)\n{}",
        table.render(2)
    )
}

/// The spectral measurements of the capture, with what theory says they are:
/// signal power 1/2, third harmonic 0.1²/2, noise 0.01².
fn measurement_table(run: &Run) -> Result<String, Failure> {
    let trace = run
        .get(METRICS)
        .ok_or_else(|| Failure::Failed(format!("the run kept no output of step '{METRICS}'")))?;
    let (signal, harmonic, noise) = (0.5_f64, 0.005_f64, 1e-4_f64);
    let sinad = 10.0 * (signal / (noise + harmonic)).log10();
    let rows: [(&str, &str, &str, f64); 6] = [
        ("fundamental", "fundamental_hz", "Hz", 10e3),
        ("THD", "thd_db", "dB", 10.0 * (harmonic / signal).log10()),
        ("SNR", "snr_db", "dB", 10.0 * (signal / noise).log10()),
        ("SINAD", "sinad_db", "dB", sinad),
        ("ENOB", "enob_bits", "bits", (sinad - 1.76) / 6.02),
        ("SFDR", "sfdr_db", "dB", 10.0 * (signal / harmonic).log10()),
    ];
    let mut table = Table::new(&[
        ("measurement", Align::Left),
        ("value", Align::Right),
        ("in theory", Align::Right),
        ("unit", Align::Left),
        ("key", Align::Left),
    ]);
    for (label, key, unit, theory) in rows {
        let value = trace
            .measurement(key)
            .ok_or_else(|| Failure::Failed(format!("step '{METRICS}' did not measure '{key}'")))?;
        table.row([
            label.to_owned(),
            format!("{value:.2}"),
            format!("{theory:.2}"),
            unit.to_owned(),
            key.to_owned(),
        ]);
    }
    Ok(format!(
        "Measurements (step '{METRICS}', spectral_metrics of the input)\n{}",
        table.render(2)
    ))
}
