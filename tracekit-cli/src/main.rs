//! `tracekit`: run, inspect and benchmark tracekit pipelines from the shell.
//!
//! Each subcommand lives in its own module with its clap arguments and a
//! `run` function; `main` only parses and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;

/// Parallel pipelines of signal-trace transformers.
#[derive(Debug, Parser)]
#[command(name = "tracekit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Times the standard workloads (W0 overhead, W1 fan-out, W2 batch) on the executors.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
