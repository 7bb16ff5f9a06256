//! `tracekit`: run, inspect and benchmark tracekit pipelines from the shell.
//!
//! Each subcommand lives in its own module with its clap arguments and a
//! `run` function; `main` only parses and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `print!` for command output; see [`table::emit`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::table::emit(&format!($($arg)*))
    };
}

/// `println!` for command output; see [`table::emit`].
macro_rules! outln {
    () => {
        $crate::table::emit("\n")
    };
    ($($arg:tt)*) => {
        $crate::table::emit(&format!("{}\n", format_args!($($arg)*)))
    };
}

mod bench;
mod demo;
mod failure;
mod graph;
mod info;
mod merge;
mod plot;
mod records;
mod run;
mod shard;
mod sys;
mod table;

const EXAMPLES: &str = "\
Examples:
  tracekit demo                                 start here: the fan-out pipeline on every executor
  tracekit demo --spec > fanout.toml            the demo's pipeline as a spec file
  tracekit graph fanout.toml                    its steps and generations
  tracekit info examples/captures/tone-tek.wfm  what a capture holds, as tracekit reads it
  tracekit run fanout.toml examples/captures/tone-scipy.wav --keep lowpass --format csv
  tracekit bench W1
  tracekit demo --plot                          also draw tracekit-demo.svg

Paths are the repository's: examples/captures/ holds one capture in six formats.

Exit status: 0 success; 1 the work failed (for `run`: some inputs failed);
2 usage or configuration error (bad arguments, a spec that does not load).";

/// Parallel pipelines of signal-trace transformers.
#[derive(Debug, Parser)]
#[command(name = "tracekit", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the fan-out pipeline on a synthetic capture on every executor:
    /// graph, stage times, speedups, equality check and measurements.
    Demo(demo::DemoArgs),
    /// Runs a spec file's pipeline over capture files (scope formats, CSV, WAV, NPY) as a batch.
    Run(run::RunArgs),
    /// Describes capture files: format, instrument, and per channel samples,
    /// rate, duration, units, range and attributes.
    Info(info::InfoArgs),
    /// Joins the measurements.csv of several runs (the parts of a --shard
    /// job array) into one, rows ordered by input path.
    Merge(merge::MergeArgs),
    /// Prints a spec file's dependency graph and generations (or Graphviz DOT).
    Graph(graph::GraphArgs),
    /// Times the standard workloads (W0 overhead, W1 fan-out, W2 batch) on the executors.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Info(args) => info::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Bench(args) => bench::run(&args).map_err(failure::Failure::from),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}
