//! `tracekit run`: a spec file's pipeline over many input files, as a batch.
//!
//! Inputs are read a few files at a time and run with
//! [`ParallelPipeline::run_batch_each`], so a progress bar moves and memory stays
//! bounded however many files there are. A file that cannot be read, or an
//! input whose run fails, is reported by name and the rest of the batch goes
//! on; the exit status then says that something failed.

use std::{
    collections::HashMap,
    fmt::Write as _,
    fs,
    io::IsTerminal,
    num::NonZeroUsize,
    path::{Path, PathBuf},
    time::Duration,
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
    records::{self, Done, FileId, Records},
    shard::{SHARD_FILE, Shard},
    sys,
};

#[cfg(feature = "mpi")]
mod mpi;

const EXAMPLES: &str = "\
Examples:
  tracekit run fanout.toml examples/captures/tone-tek.wfm
  tracekit run fanout.toml examples/captures/*.bin --out results
  tracekit run fanout.toml examples/captures/*.npy --sample-rate 1e6
  tracekit run fanout.toml examples/captures/*.wfm --keep lowpass,fft --format json
  tracekit run fanout.toml examples/captures/tone-scipy.wav --keep lowpass,fft --plot
  tracekit run fanout.toml examples/captures/tone-rigol.csv --executor process --workers 4

fanout.toml is the demo's pipeline (tracekit demo --spec > fanout.toml); more
specs are in the repository's tracekit/examples/pipelines/, captures in its
examples/captures/.

Inputs: any capture `tracekit info` reads, recognised by content: Tektronix,
Rigol, Keysight/Agilent, LeCroy, Rohde & Schwarz, Siglent, sigrok, TDMS, scope
CSV exports, WAV and NPY. Samples are volts (or the file's unit) and the time
base is the file's. A file with several channels gives one input per channel:
a scope's CH1 is <stem>.ch1, unnamed channels (WAV, NPY rows) <stem>.ch<k>.
WAV integers are scaled to [-1, 1) as scipy.io.wavfile reads them: divided
by 2^(n-1), n the container SciPy returns (16, 32 or 64 bits; 24-bit samples
come as 32), 8-bit unsigned as (x-128)/128; floats are kept as stored. Files that do not say their rate
(one-column CSV, NPY, a CSV whose X column is a sample index) need --sample-rate.

Outputs, under --out: <input>.<step>.<format> for the output step and each
--keep step, and measurements.csv (input,step,measurement,value) with the
measurements of every step of every input.

Every file is written under a temporary name and renamed when complete, so
an output is whole or absent; measurements.csv is written last, only when
the batch ends. Ctrl-C stops after the inputs in flight: the same command
with --resume then runs only what was not finished.

Limits, raised by environment variables (sizes in bytes or with K, M, G, T):
  TRACEKIT_MAX_SAMPLES   samples per channel of one file (default 2^30)
  TRACEKIT_MAX_CHANNELS  channels of one file (default 4096)
  TRACEKIT_STAGE_MEMORY  what one stage's parameters may make it allocate, e.g.
                         resample's samples, fft's nfft (default: half the memory)
  TRACEKIT_BUFFER_POOL   idle sample buffers kept for reuse (default: 1/8 of the memory)

Exit status:
  0    every input was processed
  1    some inputs failed (each is named on stderr); the others were written
  2    usage or configuration error, found before any work: bad arguments, a spec
       that does not load (unknown kind, cycle...), an unknown --keep step, an
       executor this build lacks
  130  interrupted (Ctrl-C); finish with --resume";

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
    #[arg(long, value_name = "N", value_parser = crate::failure::parse_workers)]
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
    /// Time limit of each stage, in seconds. The process executor kills a
    /// worker at the limit; the thread and sequential executors cannot
    /// abandon a running stage, so they fail it only once it returns late.
    #[arg(long, value_name = "SECONDS")]
    stage_timeout: Option<f64>,
    /// Continue an interrupted run (same arguments): inputs whose outputs
    /// were all written are skipped, the rest run, and measurements.csv is
    /// rebuilt whole.
    #[arg(long)]
    resume: bool,
    /// Make non-finite samples (NaN, infinities) in an input or an output an
    /// error for that input, not a warning.
    #[arg(long)]
    strict: bool,
    /// Run only the I-th of N parts of the input files (0 <= I < N), cut
    /// from the paths sorted bytewise: for job arrays, joined afterwards by
    /// `tracekit merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Share the batch among the ranks of an MPI job (started by mpiexec or
    /// srun; builds with the `mpi` feature).
    #[arg(long)]
    mpi: bool,
}

/// What happened to the batch so far.
#[derive(Debug, Default)]
struct Tally {
    /// Inputs (traces) whose outputs were written, this run or a resumed one.
    written: usize,
    /// Input files all of whose traces were written.
    files_done: usize,
    /// Files written, measurements.csv aside.
    files: usize,
    /// Input files skipped because an earlier run finished them (`--resume`).
    resumed: usize,
    /// Inputs with non-finite samples in the input or an output.
    non_finite: usize,
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
    /// Draw each input and its written steps, in this format.
    plot: Option<PlotFormat>,
    strict: bool,
}

/// One input file of the batch: its identity and what it gave so far.
#[derive(Debug, Default)]
struct FileState {
    id: Option<FileId>,
    /// Traces read from it.
    traces: usize,
    /// Finished by an earlier run (`--resume`).
    resumed: bool,
    /// Traces read from it not yet processed.
    pending: usize,
    failed: bool,
    done: Done,
}

/// The options of `run` that change what it writes, hashed with the spec
/// file: a record of another run identity is never resumed.
fn run_identity(args: &RunArgs) -> Result<u64, Failure> {
    let spec = fs::read(&args.spec)
        .map_err(|e| Failure::Usage(format!("{}: {e}", args.spec.display())))?;
    let options = format!(
        "{}|{:?}|{:?}|{}|{}|{}",
        args.format,
        args.keep,
        args.sample_rate.map(f64::to_bits),
        args.plot,
        args.plot_format,
        args.strict
    );
    Ok(records::fnv1a(&[&spec, options.as_bytes()]))
}

/// Runs `tracekit run`.
pub(crate) fn run(args: &RunArgs) -> Result<(), Failure> {
    let batch = Batch::from_args(args)?;
    let inputs = match args.shard {
        Some(shard) => shard.select(&args.inputs),
        None => args.inputs.clone(),
    };
    if args.mpi {
        return run_mpi(batch, args, &inputs);
    }
    let (measurements_path, records) = prepare_out(args, &inputs)?;
    sys::catch_sigint();
    let mut batch = batch;
    // A few traces per run_batch: twice the workers, so that the thread
    // executor gives each worker whole traces; few enough that the bar moves
    // and memory stays bounded.
    let chunk = batch
        .pipeline
        .resolved_workers()
        .saturating_mul(2)
        .clamp(2, 32);
    let mut tally = Tally::default();
    let mut progress = Progress::new(inputs.len());
    let mut names: HashMap<String, PathBuf> = HashMap::new();
    let mut files: Vec<FileState> = Vec::with_capacity(inputs.len());
    // Traces read and not yet run, with the index of their file.
    let mut pending: Vec<(usize, NamedTrace)> = Vec::new();
    let mut interrupted = false;
    for (index, path) in inputs.iter().enumerate() {
        if sys::interrupted() {
            interrupted = true;
            break;
        }
        let (mut state, resumed) = resume_or_start(path, &records, &mut tally, &mut progress);
        if resumed {
            files.push(state);
            continue;
        }
        match read_input(path, args.sample_rate, &mut names) {
            Ok(traces) => {
                state.traces = traces.len();
                state.pending = traces.len();
                pending.extend(traces.into_iter().map(|t| (index, t)));
            }
            Err(message) => {
                progress.error(&message);
                tally.failed.push(path.display().to_string());
                progress.advance(1, &format!("{} failed", path.display()));
                state.failed = true;
            }
        }
        files.push(state);
        if pending.len() >= chunk {
            batch.process(
                &pending,
                &mut files,
                &records,
                &mut tally,
                &mut progress,
                &inputs,
            );
            pending.clear();
        }
    }
    if !pending.is_empty() && !interrupted {
        batch.process(
            &pending,
            &mut files,
            &records,
            &mut tally,
            &mut progress,
            &inputs,
        );
    }
    progress.finish();
    drop(batch); // Process workers are reaped here.
    let interrupted = interrupted || sys::interrupted();
    finish(
        args,
        &inputs,
        &files,
        &tally,
        interrupted,
        &measurements_path,
        records,
    )
}

/// `--mpi` in a build without the feature.
#[cfg(not(feature = "mpi"))]
fn run_mpi(_: Batch<'_>, _: &RunArgs, _: &[PathBuf]) -> Result<(), Failure> {
    Err(Failure::Usage(
        "--mpi: this tracekit was built without MPI. Build it with the `mpi` feature: \
         `cargo install --path tracekit-cli --features mpi` (or `cargo build --release \
         -p tracekit-cli --features mpi`), which needs an MPI library and libclang \
         (Debian: apt-get install mpich libmpich-dev libclang-dev); then launch it with \
         `mpiexec -n N tracekit run ... --mpi`. Without MPI, `--shard I/N` splits a batch \
         for job arrays."
            .into(),
    ))
}

#[cfg(feature = "mpi")]
fn run_mpi(batch: Batch<'_>, args: &RunArgs, inputs: &[PathBuf]) -> Result<(), Failure> {
    mpi::run(batch, args, inputs)
}

/// The state of an input file, and whether an earlier run finished it
/// (`--resume`; it is then counted as done).
fn resume_or_start(
    path: &Path,
    records: &Records,
    tally: &mut Tally,
    progress: &mut Progress,
) -> (FileState, bool) {
    let id = FileId::of(path);
    let resumed = id.as_ref().and_then(|id| records.load(id));
    let mut state = FileState {
        id,
        ..FileState::default()
    };
    match resumed {
        Some(done) => {
            tally.resumed += 1;
            tally.files_done += 1;
            tally.written += done.inputs;
            tally.files += done.files;
            state.done = done;
            state.resumed = true;
            progress.advance(1, &format!("{} (done before)", path.display()));
            (state, true)
        }
        None => (state, false),
    }
}

impl<'a> Batch<'a> {
    /// Loads the spec and checks every option, before any work.
    fn from_args(args: &'a RunArgs) -> Result<Batch<'a>, Failure> {
        let mut pipeline = graph::load(&args.spec)?;
        if args.executor.is_some() || args.workers.is_some() {
            let kind = args.executor.unwrap_or(pipeline.executor_type());
            let workers = args
                .workers
                .map(NonZeroUsize::get)
                .or(pipeline.max_workers());
            pipeline.set_parallel_config(kind, workers);
        }
        if let Some(seconds) = args.stage_timeout {
            let limit = Duration::try_from_secs_f64(seconds)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    Failure::Usage(format!(
                        "--stage-timeout must be a positive number of seconds, got {seconds}"
                    ))
                })?;
            if pipeline.executor_type() != ExecutorKind::Process {
                eprintln!(
                    "warning: --stage-timeout: the {} executor cannot stop a running stage; \
                 a stage past the limit fails only when it returns (the process executor \
                 kills it at the limit)",
                    pipeline.executor_type()
                );
            }
            pipeline.set_stage_timeout(Some(limit));
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
        // An --out that cannot be a directory is a usage error, found before any work.
        fs::create_dir_all(&args.out).map_err(|e| {
            Failure::Usage(format!(
                "--out {}: cannot create the output directory: {e}",
                args.out.display()
            ))
        })?;
        Ok(Batch {
            pipeline,
            written_steps,
            format,
            out: &args.out,
            plot: if args.plot {
                Some(
                    args.plot_format
                        .parse()
                        .map_err(|e| Failure::Usage(format!("--plot-format: {e}")))?,
                )
            } else {
                None
            },
            strict: args.strict,
        })
    }
}

/// Clears what earlier runs left in the output directory (temporaries of a
/// killed run, a measurements.csv that would no longer describe this batch:
/// measurements.csv is present only when complete), opens the records, and
/// writes shard.csv for a sharded run.
fn prepare_out(args: &RunArgs, inputs: &[PathBuf]) -> Result<(PathBuf, Records), Failure> {
    let out_error = |e: std::io::Error| Failure::Failed(format!("{}: {e}", args.out.display()));
    capture_io::remove_temporaries(&args.out).map_err(out_error)?;
    let measurements_path = args.out.join("measurements.csv");
    match fs::remove_file(&measurements_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(out_error(e)),
        _ => {}
    }
    if let Some(shard) = args.shard {
        let text = shard.manifest(inputs);
        capture_io::write_atomically(&args.out.join(SHARD_FILE), |out| {
            out.write_all(text.as_bytes())
        })
        .map_err(|e| Failure::Failed(e.to_string()))?;
    }
    let records =
        Records::open(&args.out, run_identity(args)?, args.resume).map_err(Failure::Failed)?;
    Ok((measurements_path, records))
}

/// Writes measurements.csv (the files' rows in input order) and the summary;
/// the exit status says whether anything failed.
fn finish(
    args: &RunArgs,
    inputs: &[PathBuf],
    files: &[FileState],
    tally: &Tally,
    interrupted: bool,
    measurements_path: &Path,
    records: Records,
) -> Result<(), Failure> {
    if interrupted {
        return Err(Failure::Interrupted(format!(
            "interrupted: {} of {} input files finished (outputs in {}); run the same \
             command with --resume to finish the rest",
            tally.files_done,
            inputs.len(),
            args.out.display()
        )));
    }
    let mut table = String::from("input,step,measurement,value\n");
    for state in files {
        table.push_str(&state.done.rows);
    }
    capture_io::write_atomically(measurements_path, |out| out.write_all(table.as_bytes()))
        .map_err(|e| Failure::Failed(e.to_string()))?;
    records.remove();

    let read_files = files.iter().filter(|f| f.traces > 0 || f.resumed).count();
    outln!(
        "{} input file{} read, {} input{} processed{}: {} files in {}, measurements in {}",
        read_files,
        if read_files == 1 { "" } else { "s" },
        tally.written,
        if tally.written == 1 { "" } else { "s" },
        if tally.resumed > 0 {
            format!(" ({} files finished by an earlier run)", tally.resumed)
        } else {
            String::new()
        },
        tally.files,
        args.out.display(),
        measurements_path.display()
    );
    if tally.non_finite > 0 {
        eprintln!(
            "warning: {} input{} had non-finite samples (NaN or infinite) in the input or an \
             output; --strict makes that an error",
            tally.non_finite,
            if tally.non_finite == 1 { "" } else { "s" }
        );
    }
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

/// Where a trace holds non-finite samples: `None` if nowhere.
fn non_finite(trace: &tracekit::Trace) -> Option<usize> {
    let n = trace.samples().iter().filter(|x| !x.is_finite()).count();
    (n > 0).then_some(n)
}

impl Batch<'_> {
    /// Runs `inputs` (each with the index of its file) as one keep-going
    /// batch and writes what each gives; an input file whose traces are all
    /// written gets its record. A bad input fails alone.
    fn process(
        &mut self,
        inputs: &[(usize, NamedTrace)],
        files: &mut [FileState],
        records: &Records,
        tally: &mut Tally,
        progress: &mut Progress,
        inputs_files: &[PathBuf],
    ) {
        let traces: Vec<_> = inputs.iter().map(|(_, n)| n.trace.clone()).collect();
        let runs: Vec<Result<Run, Error>> = self.pipeline.run_batch_each(&traces);
        for ((index, input), run) in inputs.iter().zip(runs) {
            let state = &mut files[*index];
            let written = run
                .map_err(|e| e.to_string())
                .and_then(|run| self.check_finite(input, &run, tally).map(|()| run))
                .and_then(|run| self.write(input, &run));
            match written {
                Ok((files_written, rows)) => {
                    tally.written += 1;
                    tally.files += files_written;
                    state.done.inputs += 1;
                    state.done.files += files_written;
                    state.done.rows.push_str(&rows);
                }
                Err(message) => {
                    // The file the user gave, and which of its traces when it has several.
                    let path = inputs_files[*index].display().to_string();
                    let label = if state.traces > 1 {
                        format!("{path} ({})", input.name)
                    } else {
                        path
                    };
                    progress.error(&format!("{label}: {message}"));
                    tally.failed.push(label);
                    state.failed = true;
                }
            }
            state.pending -= 1;
            if state.pending == 0 {
                let path = &inputs_files[*index];
                if !state.failed {
                    tally.files_done += 1;
                    if let Some(id) = &state.id {
                        if let Err(e) = records.save(id, &state.done) {
                            progress.error(&format!(
                                "{}: cannot record it as done ({e}); --resume will run it again",
                                path.display()
                            ));
                        }
                    }
                }
                progress.advance(1, &path.display().to_string());
            }
        }
    }

    /// Warns (or, with `--strict`, fails) when the input or a written
    /// output holds NaN or infinite samples.
    fn check_finite(&self, input: &NamedTrace, run: &Run, tally: &mut Tally) -> Result<(), String> {
        let mut found = Vec::new();
        if let Some(n) = non_finite(&input.trace) {
            found.push(format!("{n} in the input"));
        }
        for step in &self.written_steps {
            if let Some(n) = run.get(step).and_then(non_finite) {
                found.push(format!("{n} in step '{step}'"));
            }
        }
        if found.is_empty() {
            return Ok(());
        }
        let what = format!("non-finite samples (NaN or infinite): {}", found.join(", "));
        if self.strict {
            return Err(what);
        }
        tally.non_finite += 1;
        eprintln!("warning: {}: {what}", input.name);
        Ok(())
    }

    /// Writes the chosen steps' traces of one input's run; returns the
    /// number of files written and the input's rows of measurements.csv.
    fn write(&self, input: &NamedTrace, run: &Run) -> Result<(usize, String), String> {
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
        let mut rows = String::new();
        for step in run.kept_steps() {
            let Some(trace) = run.get(step) else { continue };
            for (key, value) in &trace.meta().measurements {
                let _ = writeln!(
                    rows,
                    "{},{},{},{value:?}",
                    csv_field(name),
                    csv_field(step),
                    csv_field(key)
                );
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
        Ok((files, rows))
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
pub(crate) fn csv_field(s: &str) -> String {
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
