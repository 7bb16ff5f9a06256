//! The `ParallelPipeline` tour: one fan-out pipeline on a synthetic capture.
//!
//! 1. the same pipeline on the sequential, thread and process executors, timed;
//! 2. its dependency graph and execution order (generations);
//! 3. switching executors on one pipeline with `set_parallel_config`, with
//!    results identical bit for bit;
//! 4. intermediates: every step's output and measurements after `transform`.
//!
//! Run with `cargo run --release -p tracekit --example parallel_pipeline`.

use std::{process::ExitCode, time::Instant};

use tracekit::{
    prelude::*,
    spec,
    workloads::{SEED, signal},
};

/// 2^20 samples of the standard signal (1 MS/s, `workloads::SIGNAL`).
fn capture() -> Result<Trace, Error> {
    signal(1 << 20, SEED)
}

/// The demo's fan-out: filters, FFT and metrics all read the input; `merge`
/// averages the filters (`examples/pipelines/fanout.toml`).
fn steps() -> Result<Vec<Step>, Error> {
    Ok(spec::load(spec::FAN_OUT)?.into_pipeline().into_steps())
}

fn main() -> ExitCode {
    match tour() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn tour() -> Result<(), Error> {
    let input = capture()?;
    println!(
        "capture: {} samples at {} Hz\n",
        input.len(),
        input.sample_rate()
    );

    println!("1. Sequential vs thread vs process (best of 3 transforms)");
    let mut reference: Option<(f64, Trace)> = None;
    for kind in ExecutorKind::ALL {
        let mut p = ParallelPipeline::with_config(steps()?, kind, None)?;
        let mut best = f64::INFINITY;
        let mut output = None;
        for _ in 0..3 {
            let start = Instant::now();
            match p.transform(&input) {
                Ok(out) => output = Some(out),
                Err(Error::Unavailable(why)) => {
                    println!("   {:<10} skipped: {why}", kind.as_str());
                    break;
                }
                Err(e) => return Err(e),
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        let Some(output) = output else { continue };
        let (seq_time, seq_out) = reference.get_or_insert((best, output.clone()));
        println!(
            "   {:<10} {:>3} workers  {:>8.2} ms  {:>5.2}x  same output: {}",
            kind.as_str(),
            p.resolved_workers(),
            best * 1e3,
            *seq_time / best,
            output.bit_eq(seq_out)
        );
    }

    println!("\n2. Dependency graph and execution order");
    let mut p = ParallelPipeline::new(steps()?)?;
    for (step, reads) in p.get_dependency_graph() {
        let reads = if reads.is_empty() {
            INPUT.to_owned()
        } else {
            reads.join(", ")
        };
        println!("   {step:<9} <- {reads}");
    }
    for (k, generation) in p.get_execution_order().iter().enumerate() {
        println!("   generation {}: {}", k + 1, generation.join(", "));
    }
    for line in p.to_string().lines() {
        println!("   {line}");
    }

    println!("\n3. set_parallel_config: switch executors, same results");
    p.set_parallel_config(ExecutorKind::Sequential, None);
    let sequential = p.transform(&input)?;
    for (kind, workers) in [
        (ExecutorKind::Thread, Some(2)),
        (ExecutorKind::Thread, None),
        (ExecutorKind::Process, Some(2)),
    ] {
        p.set_parallel_config(kind, workers);
        match p.transform(&input) {
            Ok(out) => println!(
                "   {kind} with {} workers: identical to sequential: {}",
                p.resolved_workers(),
                out.bit_eq(&sequential)
            ),
            Err(Error::Unavailable(why)) => println!("   {kind}: skipped: {why}"),
            Err(e) => return Err(e),
        }
    }

    println!("\n4. Intermediates of the last transform");
    for step in p.list_intermediates() {
        let t = p.get_intermediate(step)?;
        println!(
            "   {step:<9} {:>8} points  {:?} domain",
            t.len(),
            t.meta().domain
        );
    }
    for key in [
        "fundamental_hz",
        "thd_db",
        "snr_db",
        "sinad_db",
        "enob_bits",
        "sfdr_db",
    ] {
        println!(
            "   metrics.{key:<15} {:>10.3}",
            p.get_intermediate_value("metrics", key)?
        );
    }
    Ok(())
}
