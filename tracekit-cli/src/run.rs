//! `tracekit run`: a spec file's pipeline over many input files, as a batch.
//!
//! Inputs are read a few files at a time and run with
//! [`ParallelPipeline::run_batch`], so a progress bar moves and memory stays
//! bounded however many files there are. A file that cannot be read, or an
//! input whose run fails, is reported by name and the rest of the batch goes
//! on; the exit status then says that something failed.

use std::{
    collections::HashMap,
    fs::{self, File},
    io::{BufWriter, IsTerminal, Write},
    num::NonZeroUsize,
    path::{Path, PathBuf},
};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use tracekit::{
    Error, ExecutorKind, ParallelPipeline, Run,
    io::{self as capture_io, NamedTrace, OutputFormat, ReadOptions, write_trace},
};

use crate::{
    failure::Failure,
    graph,
    plot::{Figure, PlotFormat},
};

const EXAMPLES: &str = "\
Examples:
  tracekit run fanout.toml scope.wfm
  tracekit run fanout.toml captures/*.bin --out results
  tracekit run fanout.toml data/*.npy --sample-rate 1e6
  tracekit run fanout.toml a.csv b.wav --keep lowpass,fft --format json
  tracekit run fanout.toml capture.wav --keep lowpass,fft --plot
  tracekit run chain.toml scope.csv --executor process --workers 4

Inputs: any capture `tracekit info` reads, recognised by content: Tektronix,
Rigol, Keysight/Agilent, LeCroy, Rohde & Schwarz, Siglent, sigrok, TDMS, scope
CSV exports, WAV and NPY. Samples are volts (or the file's unit) and the time
base is the file's. A file with several channels gives one input per channel:
a scope's CH1 is <stem>.ch1, unnamed channels (WAV, NPY rows) <stem>.ch<k>.
WAV integers are scaled to [-1, 1) (divided by 2^(bits-1); 8-bit is unsigned,
(x-128)/128), floats kept as stored. Files that do not say their rate
(one-column CSV, NPY, a CSV whose X column is a sample index) need --sample-rate.

Outputs, under --out: <input>.<step>.<format> for the output step and each
--keep step, and measurements.csv (input,step,measurement,value) with the
measurements of every step of every input.

Exit status:
  0  every input was processed
  1  some inputs failed (each is named on stderr); the others were written
  2  usage or configuration error, found before any work: bad arguments, a spec
     that does not load (unknown kind, cycle...), an unknown --keep step, an
     executor this build lacks";

/// Arguments of `tracekit run`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct RunArgs {
    /// Pipeline spec file (TOML, or JSON with the same structure).
    #[arg(value_name = "SPEC")]
    spec: PathBuf,
    /// Capture files: scope formats, CSV, WAV, NPY (see below).
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<PathBuf>,
    /// Executor (sequential, thread or process); default: the spec's, else thread.
    #[arg(long, value_name = "K")]
    executor: Option<ExecutorKind>,
    /// Workers of the thread and process executors; default: the spec's, else automatic.
    #[arg(long, value_name = "N")]
    workers: Option<NonZeroUsize>,
    /// Directory for the outputs (created if missing).
    #[arg(long, value_name = "DIR", default_value = "tracekit-out")]
    out: PathBuf,
    /// Also write the outputs of these steps (comma-separated step names).
    #[arg(long, value_name = "STEP,...", value_delimiter = ',')]
    keep: Vec<String>,
    /// Format of the trace files written.
    #[arg(long, value_name = "FORMAT", default_value = "npy",
          value_parser = ["csv", "npy", "json"])]
    format: String,
    /// Sample rate for files that do not carry one (one-column CSV, NPY).
    #[arg(long, value_name = "HZ")]
    sample_rate: Option<f64>,
    /// Also draw, per input, the input and each written step as stacked
    /// panels with the measurements: DIR/<input>.svg (or .png).
    #[arg(long)]
    plot: bool,
    /// Picture format for --plot.
    #[arg(long, value_name = "FORMAT", default_value = "svg", value_parser = ["svg", "png"])]
    plot_format: String,
}

/// What happened to the batch so far.
#[derive(Debug, Default)]
struct Tally {
    /// Inputs (traces) whose outputs were written.
    written: usize,
    /// Files written, measurements.csv aside.
    files: usize,
    /// Names of the files or inputs that failed.
    failed: Vec<String>,
}

/// Where messages go: above a progress bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
}

impl Progress {
    fn new(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:32} {pos}/{len} files  {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            total,
            done: 0,
        }
    }

    /// Reports a failure on stderr.
    fn error(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("error: {message}")),
            None => eprintln!("error: {message}"),
        }
    }

    /// Counts `files` more files as done.
    fn advance(&mut self, files: usize, last: &str) {
        self.done += files;
        match &self.bar {
            Some(bar) => {
                bar.set_message(last.to_owned());
                bar.inc(files as u64);
            }
            None if files > 0 => eprintln!("[{}/{}] {last}", self.done, self.total),
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The loaded pipeline and everything a batch needs to write its results.
struct Batch<'a> {
    pipeline: ParallelPipeline,
    /// The output step, then each kept step, once.
    written_steps: Vec<String>,
    format: OutputFormat,
    out: &'a Path,
    measurements: BufWriter<File>,
    /// Draw each input and its written steps, in this format.
    plot: Option<PlotFormat>,
}

/// Runs `tracekit run`.
pub(crate) fn run(args: &RunArgs) -> Result<(), Failure> {
    let mut pipeline = graph::load(&args.spec)?;
    if args.executor.is_some() || args.workers.is_some() {
        let kind = args.executor.unwrap_or(pipeline.executor_type());
        let workers = args
            .workers
            .map(NonZeroUsize::get)
            .or(pipeline.max_workers());
        pipeline.set_parallel_config(kind, workers);
    }
    let written_steps = steps_to_write(&pipeline, &args.keep)?;
    let format: OutputFormat = args
        .format
        .parse()
        .map_err(|e: capture_io::Error| Failure::Usage(e.to_string()))?;
    if let Some(rate) = args.sample_rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(Failure::Usage(format!(
            "--sample-rate must be finite and greater than 0, got {rate}"
        )));
    }
    // Build the executor now: one this build lacks is a configuration error.
    pipeline
        .executor()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    fs::create_dir_all(&args.out).map_err(|e| {
        Failure::Failed(format!(
            "cannot create the output directory {}: {e}",
            args.out.display()
        ))
    })?;
    let measurements_path = args.out.join("measurements.csv");
    let measurements = File::create(&measurements_path)
        .map(BufWriter::new)
        .and_then(|mut w| writeln!(w, "input,step,measurement,value").map(|()| w))
        .map_err(|e| Failure::Failed(format!("{}: {e}", measurements_path.display())))?;

    // A few traces per run_batch: twice the workers, so that the thread
    // executor gives each worker whole traces; few enough that the bar moves
    // and memory stays bounded.
    let chunk = (2 * pipeline.resolved_workers()).clamp(2, 32);
    let mut batch = Batch {
        pipeline,
        written_steps,
        format,
        out: &args.out,
        measurements,
        plot: if args.plot {
            Some(
                args.plot_format
                    .parse()
                    .map_err(|e| Failure::Usage(format!("--plot-format: {e}")))?,
            )
        } else {
            None
        },
    };
    let mut tally = Tally::default();
    let mut progress = Progress::new(args.inputs.len());
    let mut names: HashMap<String, PathBuf> = HashMap::new();
    let mut pending: Vec<NamedTrace> = Vec::new();
    let mut pending_files = 0;
    for path in &args.inputs {
        match read_input(path, args.sample_rate, &mut names) {
            Ok(traces) => {
                pending.extend(traces);
                pending_files += 1;
            }
            Err(message) => {
                progress.error(&message);
                tally.failed.push(path.display().to_string());
                progress.advance(1, &format!("{} failed", path.display()));
            }
        }
        if pending.len() >= chunk {
            batch.process(&pending, &mut tally, &progress);
            progress.advance(pending_files, &path.display().to_string());
            pending.clear();
            pending_files = 0;
        }
    }
    if !pending.is_empty() {
        batch.process(&pending, &mut tally, &progress);
    }
    progress.advance(pending_files, "done");
    progress.finish();
    batch
        .measurements
        .flush()
        .map_err(|e| Failure::Failed(format!("{}: {e}", measurements_path.display())))?;

    outln!(
        "{} input{} processed: {} files in {}, measurements in {}",
        tally.written,
        if tally.written == 1 { "" } else { "s" },
        tally.files,
        args.out.display(),
        measurements_path.display()
    );
    if tally.failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "{} input{} failed: {}",
            tally.failed.len(),
            if tally.failed.len() == 1 { "" } else { "s" },
            tally.failed.join(", ")
        )))
    }
}

/// The output step, then each `--keep` step not already listed; an unknown
/// step is a usage error.
fn steps_to_write(pipeline: &ParallelPipeline, keep: &[String]) -> Result<Vec<String>, Failure> {
    let mut steps = vec![pipeline.output_step().to_owned()];
    for name in keep.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if pipeline.named_step(name).is_none() {
            return Err(Failure::Usage(format!(
                "--keep: Step '{name}' not found in pipeline; its steps are: {}",
                pipeline.step_names().join(", ")
            )));
        }
        if !steps.iter().any(|s| s == name) {
            steps.push(name.to_owned());
        }
    }
    Ok(steps)
}

/// Reads one input file; a name already taken by an earlier file is refused,
/// so that no output overwrites another.
fn read_input(
    path: &Path,
    sample_rate: Option<f64>,
    names: &mut HashMap<String, PathBuf>,
) -> Result<Vec<NamedTrace>, String> {
    let mut options = ReadOptions::new();
    options.sample_rate = sample_rate;
    // The reader's errors start with the path.
    let traces = capture_io::read_named(path, &options).map_err(|e| e.to_string())?;
    for t in &traces {
        if let Some(first) = names.get(&t.name) {
            return Err(format!(
                "{}: its input name '{}' is already used by {}; rename one of the files",
                path.display(),
                t.name,
                first.display()
            ));
        }
    }
    for t in &traces {
        names.insert(t.name.clone(), path.to_owned());
    }
    Ok(traces)
}

impl Batch<'_> {
    /// Runs `inputs` as one batch and writes what each gives. When the batch
    /// fails, each input runs alone, so that one bad input fails alone.
    fn process(&mut self, inputs: &[NamedTrace], tally: &mut Tally, progress: &Progress) {
        let traces: Vec<_> = inputs.iter().map(|n| n.trace.clone()).collect();
        let runs: Vec<Result<Run, Error>> = match self.pipeline.run_batch(&traces) {
            Ok(runs) => runs.into_iter().map(Ok).collect(),
            Err(_) => traces.iter().map(|t| self.pipeline.run(t)).collect(),
        };
        for (input, run) in inputs.iter().zip(runs) {
            let written = run
                .map_err(|e| e.to_string())
                .and_then(|run| self.write(input, &run));
            match written {
                Ok(files) => {
                    tally.written += 1;
                    tally.files += files;
                }
                Err(message) => {
                    progress.error(&format!("{}: {message}", input.name));
                    tally.failed.push(input.name.clone());
                }
            }
        }
    }

    /// Writes the chosen steps' traces and every measurement of one input's run.
    fn write(&mut self, input: &NamedTrace, run: &Run) -> Result<usize, String> {
        let name = input.name.as_str();
        for step in &self.written_steps {
            let trace = run
                .get(step)
                .ok_or_else(|| format!("the run kept no output of step '{step}'"))?;
            let path = self
                .out
                .join(format!("{name}.{step}.{}", self.format.extension()));
            write_trace(trace, &path, self.format).map_err(|e| e.to_string())?;
        }
        for step in run.kept_steps() {
            let Some(trace) = run.get(step) else { continue };
            for (key, value) in &trace.meta().measurements {
                writeln!(
                    self.measurements,
                    "{},{},{},{value:?}",
                    csv_field(name),
                    csv_field(step),
                    csv_field(key)
                )
                .map_err(|e| format!("measurements.csv: {e}"))?;
            }
        }
        let mut files = self.written_steps.len();
        if let Some(format) = self.plot {
            let shown: Vec<&str> = self.written_steps.iter().map(String::as_str).collect();
            let path = self.out.join(format!("{name}.{}", format.extension()));
            Figure::of_steps(&input.trace, run, &shown)
                .with_title(name)
                .write(&path, format)
                .map_err(|e| e.to_string())?;
            files += 1;
        }
        Ok(files)
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("lowpass"), "lowpass");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
