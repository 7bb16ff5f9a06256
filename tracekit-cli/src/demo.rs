//! `tracekit demo`: the fan-out pipeline of the original `ParallelPipeline`
//! example, run on a synthetic capture on every executor.
//!
//! Prints the pipeline and its generations, per-stage times, the speedup of
//! each executor over sequential (medians measured now) beside the bound the
//! graph and the cores allow, with the reason when a speedup falls far short
//! of it, a bit-for-bit check of every executor's results against
//! sequential, and the spectral measurements of the capture.

use std::{
    collections::BTreeMap,
    num::NonZeroUsize,
    path::{Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use clap::Args;
use tracekit::{
    Error, ExecutorKind, ParallelPipeline, Run, Step, Trace, spec,
    workloads::{self, SAMPLE_RATE, SEED},
};

use crate::{
    failure::Failure,
    graph,
    plot::{Figure, Lane, PlotFormat},
    table::{Align, Table, grouped, millis},
};

/// The examples and notes at the end of `tracekit demo --help`.
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
and for the bit-for-bit check. Beside each speedup stands its bound: the sum
of the stage times over the critical path's time, capped by the cores and the
workers; a speedup far below it comes with the likely reason (more workers
than cores, other load on the machine, time spent outside the stages). An executor that this build lacks is skipped
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
    #[arg(long, value_name = "N", value_parser = crate::failure::parse_workers)]
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
    /// The executor.
    kind: ExecutorKind,
    /// Its workers, as resolved.
    workers: usize,
    /// Median wall time of a run.
    wall: Duration,
    /// Median time of each stage, in declaration order.
    stages: Vec<Duration>,
    /// The last timed run.
    last: Run,
}

/// How an executor's results compare with the sequential ones.
struct Check {
    /// Steps compared.
    compared: usize,
    /// Steps whose outputs differ.
    differing: Vec<String>,
}

/// The fan-out of the original example: three Butterworth filters, an FFT
/// and the spectral metrics all read the input; `merge` is the mean of the
/// three filter outputs ([`spec::FAN_OUT`]).
pub(crate) fn steps() -> Result<Vec<Step>, Error> {
    Ok(spec::load(spec::FAN_OUT)?.into_pipeline().into_steps())
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
    let input = workloads::signal(args.samples, SEED)?;
    let reference = ParallelPipeline::with_config(steps.clone(), ExecutorKind::Sequential, None)?;

    let cpus = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    // Read before any run of ours adds to it.
    let load = load_average();
    outln!("tracekit demo: the fan-out pipeline on a synthetic capture");
    outln!(
        "  capture  {} samples at {} MS/s: {}, seed {SEED:#x}",
        grouped(input.len()),
        SAMPLE_RATE / 1e6,
        workloads::SIGNAL
    );
    let load_note = load.map_or(String::new(), |l| format!(", load average {l:.2}"));
    outln!(
        "  timing   median of {} run{} per executor, after one warm-up; {cpus} CPUs{load_note}",
        args.runs,
        if args.runs == 1 { "" } else { "s" }
    );
    outln!();
    out!("{}", graph::describe(reference.as_pipeline(), false));
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
    let machine = Machine { cores: cpus, load };
    out!("{}", executor_table(&reference, &timed, &checks, machine));
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

/// The median of `samples` (the upper one of an even count); zero for none.
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

/// What the demo knows of the machine it measures on.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Machine {
    /// `std::thread::available_parallelism()`.
    cores: usize,
    /// The 1-minute load average before the demo started, where the system
    /// tells it (`/proc/loadavg`).
    load: Option<f64>,
}

/// The 1-minute load average from `/proc/loadavg`; `None` where there is no
/// such file or it does not read as expected.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let first = text.split_whitespace().next()?.parse::<f64>().ok()?;
    (first.is_finite() && first >= 0.0).then_some(first)
}

/// The longest chain of stages through the graph: its steps (in order) and
/// the sum of their times.
#[derive(Debug, Clone, PartialEq)]
struct CriticalPath {
    /// The steps, first to last.
    steps: Vec<String>,
    /// The sum of their times.
    time: Duration,
}

/// The critical path of the graph whose generations are `order` and whose
/// steps read `deps` (the input omitted), each step taking `times[step]`.
/// A step missing from `times` takes no time.
fn critical_path(
    order: &[Vec<String>],
    deps: &BTreeMap<String, Vec<String>>,
    times: &BTreeMap<String, Duration>,
) -> CriticalPath {
    // Finish time of each step and the step before it on its longest chain.
    let mut finish: BTreeMap<&str, (Duration, Option<&str>)> = BTreeMap::new();
    for step in order.iter().flatten() {
        let before = deps
            .get(step)
            .into_iter()
            .flatten()
            .filter_map(|d| finish.get(d.as_str()).map(|f| (f.0, d.as_str())))
            .max_by_key(|f| f.0);
        let own = times.get(step).copied().unwrap_or_default();
        let start = before.map_or(Duration::ZERO, |b| b.0);
        finish.insert(step, (start + own, before.map(|b| b.1)));
    }
    let last = finish
        .iter()
        .max_by_key(|(_, f)| f.0)
        .map(|(s, f)| (*s, f.0));
    let Some((mut at, time)) = last else {
        return CriticalPath {
            steps: Vec::new(),
            time: Duration::ZERO,
        };
    };
    let mut steps = vec![at.to_owned()];
    // At most one step per generation: the chain ends.
    while let Some(&(_, Some(before))) = finish.get(at) {
        steps.push(before.to_owned());
        at = before;
        if steps.len() > order.len() {
            break;
        }
    }
    steps.reverse();
    CriticalPath { steps, time }
}

/// The best speedup over sequential that `workers` workers can reach on
/// this graph and machine: the stage times' sum over the critical path's
/// time, capped by the cores and the workers.
#[derive(Debug, Clone, PartialEq)]
struct Bound {
    /// Sum of the sequential stage times.
    sum: Duration,
    /// The critical path, with the sequential stage times.
    path: CriticalPath,
    /// `sum / path.time`: what the graph allows with unlimited cores.
    graph: f64,
    /// The bound: `graph` capped by the cores and the workers.
    value: f64,
}

impl Bound {
    /// The bound of a graph whose stages sum to `sum` along `path`, on
    /// `cores` cores with `workers` workers; never below 1.
    fn new(sum: Duration, path: CriticalPath, cores: usize, workers: usize) -> Bound {
        let graph = if path.time.is_zero() {
            1.0
        } else {
            sum.as_secs_f64() / path.time.as_secs_f64()
        };
        let value = graph
            .min(cores.max(1) as f64)
            .min(workers.max(1) as f64)
            .max(1.0);
        Bound {
            sum,
            path,
            graph,
            value,
        }
    }
}

/// Why `t` reached only `speedup` over `sequential` on `machine`: each
/// likely cause, measured. `floor` is the shortest wall time its own stage
/// times allow (their critical path, or their sum over the workers).
fn shortfall(
    t: &Timed,
    sequential: &Timed,
    speedup: f64,
    floor: Duration,
    machine: Machine,
) -> Vec<String> {
    let mut why = Vec::new();
    let sum = |x: &Timed| x.stages.iter().sum::<Duration>().as_secs_f64();
    let stretch = if sum(sequential) > 0.0 {
        sum(t) / sum(sequential)
    } else {
        1.0
    };
    if t.workers > machine.cores {
        why.push(format!(
            "{} workers on {} cores, so stages that run at once share the cores",
            t.workers, machine.cores
        ));
    }
    if let Some(load) = machine.load.filter(|l| *l >= 0.5) {
        why.push(format!(
            "the machine was busy before the demo started (load average {load:.2} on {} cores)",
            machine.cores
        ));
    }
    if stretch >= 1.25 {
        why.push(format!(
            "its stages took {stretch:.2}x as long as on the sequential executor: they waited for a core"
        ));
    }
    let outside = t.wall.saturating_sub(floor);
    if t.wall > Duration::ZERO && outside.as_secs_f64() > 0.25 * t.wall.as_secs_f64() {
        why.push(format!(
            "about {} of its wall time was spent outside the stages (starting workers, moving traces)",
            millis(outside)
        ));
    }
    if why.is_empty() && speedup < 1.0 {
        why.push("no cause stands out: rerun with --runs 11 for steadier medians".to_owned());
    } else if why.is_empty() {
        why.push("no cause stands out: the medians may be noisy (try --runs 11)".to_owned());
    }
    why
}

/// Wall time, speedup over sequential beside its bound, and the equality
/// check per executor; then how the bound is made and, for each executor
/// far below its bound (or slower than sequential), why.
fn executor_table(
    pipeline: &ParallelPipeline,
    timed: &[Timed],
    checks: &[Check],
    machine: Machine,
) -> String {
    let Some(sequential) = timed.first() else {
        return String::new();
    };
    let names = pipeline.step_names();
    let times: BTreeMap<String, Duration> = names
        .iter()
        .map(|n| (*n).to_owned())
        .zip(sequential.stages.iter().copied())
        .collect();
    let (order, deps) = (
        pipeline.get_execution_order(),
        pipeline.get_dependency_graph(),
    );
    let path = critical_path(&order, &deps, &times);
    let sum: Duration = sequential.stages.iter().sum();
    let mut table = Table::new(&[
        ("executor", Align::Left),
        ("workers", Align::Right),
        ("wall time", Align::Right),
        ("speedup", Align::Right),
        ("bound", Align::Right),
        ("results vs sequential", Align::Left),
    ]);
    let mut notes = Vec::new();
    for (t, c) in timed.iter().zip(checks) {
        let bound = Bound::new(sum, path.clone(), machine.cores, t.workers);
        let speedup = if t.wall.is_zero() {
            None
        } else {
            Some(sequential.wall.as_secs_f64() / t.wall.as_secs_f64())
        };
        let verdict = if t.kind == ExecutorKind::Sequential {
            "reference".to_owned()
        } else if c.differing.is_empty() {
            format!("identical: {}/{} steps bit for bit", c.compared, c.compared)
        } else {
            format!("DIFFER in {}", c.differing.join(", "))
        };
        let far_below = |s: f64| s < 0.8 * bound.value || s < 1.0;
        if let Some(s) = speedup.filter(|&s| t.kind != ExecutorKind::Sequential && far_below(s)) {
            let own: BTreeMap<String, Duration> = names
                .iter()
                .map(|n| (*n).to_owned())
                .zip(t.stages.iter().copied())
                .collect();
            let chain = critical_path(&order, &deps, &own).time;
            let spread = t.stages.iter().sum::<Duration>() / t.workers.max(1) as u32;
            let why = shortfall(t, sequential, s, chain.max(spread), machine);
            let mut note = format!(
                "  note: {} reached {s:.2}x of a possible {:.2}x:\n",
                t.kind, bound.value
            );
            for reason in why {
                note.push_str(&format!("        - {reason}\n"));
            }
            notes.push(note);
        }
        table.row([
            t.kind.to_string(),
            t.workers.to_string(),
            millis(t.wall),
            speedup.map_or("-".to_owned(), |s| format!("{s:.2}x")),
            format!("{:.2}x", bound.value),
            verdict,
        ]);
    }
    let graph = Bound::new(sum, path, usize::MAX, usize::MAX);
    let chain = graph.path.steps.join(" → ");
    let mut out = format!(
        "Executors (speedup = sequential wall time / wall time; bound = the best this graph allows here)\n{}",
        table.render(2)
    );
    out.push_str(&format!(
        "  bound: the stages sum to {}, the critical path ({chain}) takes {}: {:.2}x, \
         capped by the {} cores and by each executor's workers\n",
        millis(graph.sum),
        millis(graph.path.time),
        graph.graph,
        machine.cores,
    ));
    for note in notes {
        out.push_str(&note);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// The demo's graph with stage times of our choosing (ms), in
    /// declaration order: lowpass, highpass, bandpass, fft, metrics, merge.
    fn graph(times: [u64; 6]) -> (ParallelPipeline, BTreeMap<String, Duration>) {
        let p = ParallelPipeline::with_config(steps().unwrap(), ExecutorKind::Sequential, None)
            .unwrap();
        let times = p
            .step_names()
            .into_iter()
            .map(str::to_owned)
            .zip(times.map(ms))
            .collect();
        (p, times)
    }

    #[test]
    fn the_critical_path_is_the_longest_chain() {
        let (p, times) = graph([10, 10, 30, 20, 25, 10]);
        let (order, deps) = (p.get_execution_order(), p.get_dependency_graph());
        let path = critical_path(&order, &deps, &times);
        assert_eq!(path.steps, ["bandpass", "merge"]);
        assert_eq!(path.time, ms(40));
        let (_, times) = graph([10, 10, 30, 20, 90, 10]);
        let path = critical_path(&order, &deps, &times);
        assert_eq!(
            (path.steps, path.time),
            (vec!["metrics".to_owned()], ms(90))
        );
        let empty = critical_path(&[], &BTreeMap::new(), &BTreeMap::new());
        assert_eq!((empty.steps.len(), empty.time), (0, Duration::ZERO));
    }

    #[test]
    fn the_bound_is_capped_by_cores_and_workers() {
        let path = CriticalPath {
            steps: vec!["bandpass".to_owned(), "merge".to_owned()],
            time: ms(40),
        };
        let bound = |cores, workers| Bound::new(ms(105), path.clone(), cores, workers).value;
        assert_eq!(bound(8, 6), 105.0 / 40.0);
        assert_eq!(bound(2, 6), 2.0);
        assert_eq!(bound(8, 1), 1.0);
        assert_eq!(bound(0, 0), 1.0, "never below 1");
        let instant = CriticalPath {
            steps: Vec::new(),
            time: Duration::ZERO,
        };
        assert_eq!(Bound::new(Duration::ZERO, instant, 4, 4).value, 1.0);
    }

    /// Timings of one executor, with a real (tiny) run of the demo graph.
    fn timed(kind: ExecutorKind, workers: usize, wall: u64, stages: [u64; 6]) -> Timed {
        let input = workloads::signal(4096, SEED).unwrap();
        let p = ParallelPipeline::with_config(steps().unwrap(), ExecutorKind::Sequential, None)
            .unwrap();
        Timed {
            kind,
            workers,
            wall: ms(wall),
            stages: stages.map(ms).to_vec(),
            last: p.run(&input).unwrap(),
        }
    }

    #[test]
    fn a_speedup_far_below_its_bound_says_why() {
        let (p, _) = graph([0; 6]);
        let seq = timed(ExecutorKind::Sequential, 1, 105, [10, 10, 30, 20, 25, 10]);
        // Six workers on two busy cores: every stage took three times as long.
        let thread = timed(ExecutorKind::Thread, 6, 120, [30, 30, 90, 60, 75, 30]);
        // As fast as the bound allows.
        let process = timed(ExecutorKind::Process, 2, 55, [10, 10, 30, 20, 25, 10]);
        let check = || Check {
            compared: 6,
            differing: Vec::new(),
        };
        let machine = Machine {
            cores: 2,
            load: Some(3.5),
        };
        let out = executor_table(
            &p,
            &[seq, thread, process],
            &[check(), check(), check()],
            machine,
        );
        let row = |kind: &str| {
            out.lines()
                .find(|l| l.trim_start().starts_with(kind))
                .unwrap_or_else(|| panic!("no {kind} row in\n{out}"))
        };
        assert!(row("sequential").contains("1.00x  1.00x"), "{out}");
        assert!(row("thread").contains("0.88x  2.00x"), "{out}");
        assert!(row("process").contains("1.91x  2.00x"), "{out}");
        assert!(
            out.contains(
                "  bound: the stages sum to 105.00 ms, the critical path (bandpass → merge) \
                 takes 40.00 ms: 2.62x, capped by the 2 cores"
            ),
            "{out}"
        );
        assert!(
            out.contains("  note: thread reached 0.88x of a possible 2.00x:\n"),
            "{out}"
        );
        for reason in [
            "        - 6 workers on 2 cores, so stages that run at once share the cores\n",
            "        - the machine was busy before the demo started (load average 3.50 on 2 cores)\n",
            "        - its stages took 3.00x as long as on the sequential executor",
        ] {
            assert!(out.contains(reason), "no {reason:?} in\n{out}");
        }
        assert!(
            !out.contains("note: process"),
            "process is near its bound:\n{out}"
        );
    }

    #[test]
    fn time_outside_the_stages_or_nothing_in_particular() {
        let seq = timed(ExecutorKind::Sequential, 1, 105, [10, 10, 30, 20, 25, 10]);
        let idle = Machine {
            cores: 4,
            load: Some(0.1),
        };
        // Stages as fast as sequential, 200 ms of wall time around them.
        let slow = timed(ExecutorKind::Process, 4, 240, [10, 10, 30, 20, 25, 10]);
        let why = shortfall(&slow, &seq, 0.44, ms(40), idle);
        assert_eq!(
            why,
            [
                "about 200.00 ms of its wall time was spent outside the stages \
              (starting workers, moving traces)"
            ]
        );
        let close = timed(ExecutorKind::Thread, 4, 70, [10, 10, 30, 20, 25, 10]);
        let why = shortfall(&close, &seq, 1.5, ms(60), Machine { load: None, ..idle });
        assert_eq!(why.len(), 1);
        assert!(why[0].starts_with("no cause stands out"), "{why:?}");
    }
}
