//! Worker counts on the thread executor:
//!
//! 1. W1 and W2 with automatic workers against the best of 1, `cpus` and
//!    `cpus + 4` explicit workers (target: within 1.05x);
//! 2. the CPU time (user + system, `getrusage(RUSAGE_SELF)` deltas: every
//!    thread of the process) of W1 on 2 workers against the sequential
//!    executor's (target: at most 1.15x).
//!
//! `cargo bench -p tracekit --bench workers [-- --rounds 21]`
//!
//! Every figure is the median over interleaved rounds of per-round ratios
//! (`tracekit_testkit::rounds`), one iteration per case per round.

use std::{
    cell::RefCell,
    num::NonZeroUsize,
    thread,
    time::{Duration, Instant},
};

use tracekit::{ExecutorKind, ParallelPipeline, Trace, workloads::Workload};
use tracekit_testkit::rounds::{Case, interleaved};

mod common;

use common::{arg, median, usage};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("workers: bench");
        return;
    }
    let rounds = arg("--rounds", 21).max(1);
    let cpus = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let started = Instant::now();
    for workload in [Workload::W1, Workload::W2] {
        automatic_against_explicit(workload, cpus, rounds);
    }
    cpu_of_two_workers(rounds);
    println!(
        "\n{:.0?} in all",
        Duration::from_secs(started.elapsed().as_secs())
    );
}

/// One iteration of `workload` on `pipeline`.
fn iteration<'a>(
    workload: Workload,
    pipeline: &'a ParallelPipeline,
    inputs: &'a [Trace],
) -> impl FnMut() + 'a {
    move || {
        workload
            .run_once(pipeline.as_pipeline(), inputs)
            .expect("a workload iteration");
    }
}

/// `run`, pushing the CPU time of each call to `cpu`.
fn with_cpu<'a>(mut run: impl FnMut() + 'a, cpu: &'a RefCell<Vec<f64>>) -> impl FnMut() + 'a {
    move || {
        let (before, _) = usage();
        run();
        let (after, _) = usage();
        cpu.borrow_mut()
            .push(after.saturating_sub(before).as_secs_f64());
    }
}

fn automatic_against_explicit(workload: Workload, cpus: usize, rounds: usize) {
    let inputs = workload.inputs().expect("the inputs");
    let mut counts = vec![1, cpus, cpus + 4];
    counts.dedup();
    let names: Vec<String> = counts
        .iter()
        .map(|&n| format!("{n} worker{}", if n == 1 { "" } else { "s" }))
        .collect();
    let auto = workload
        .pipeline(ExecutorKind::Thread, None)
        .expect("a pipeline");
    let explicit: Vec<ParallelPipeline> = counts
        .iter()
        .map(|&n| {
            workload
                .pipeline(ExecutorKind::Thread, Some(n))
                .expect("a pipeline")
        })
        .collect();
    let auto_name = format!("automatic ({} resolved)", auto.resolved_workers());
    let mut cases: Vec<Case<'_>> = vec![(
        auto_name.as_str(),
        Box::new(iteration(workload, &auto, &inputs)),
    )];
    for (name, p) in names.iter().zip(&explicit) {
        cases.push((name.as_str(), Box::new(iteration(workload, p, &inputs))));
    }
    let r = interleaved(rounds, 1, cases);
    // Per round, automatic over the best explicit count of that round.
    let best: Vec<f64> = (0..rounds)
        .map(|k| {
            names
                .iter()
                .map(|n| r.times(n)[k].as_secs_f64())
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let ratio = median(
        r.times(&auto_name)
            .iter()
            .zip(&best)
            .map(|(a, b)| a.as_secs_f64() / b)
            .collect(),
    );
    println!(
        "\n{workload} on the thread executor, {cpus} CPUs: {}",
        workload.description()
    );
    print!("{}", r.report(&auto_name));
    println!("  automatic / best of {counts:?} workers: {ratio:.3}x (target: at most 1.05x)");
}

fn cpu_of_two_workers(rounds: usize) {
    let workload = Workload::W1;
    let inputs = workload.inputs().expect("the inputs");
    let sequential = workload
        .pipeline(ExecutorKind::Sequential, None)
        .expect("a pipeline");
    let two = workload
        .pipeline(ExecutorKind::Thread, Some(2))
        .expect("a pipeline");
    // Each case's CPU time per call, the untimed warm-up call first.
    let cpu: [RefCell<Vec<f64>>; 2] = Default::default();
    let timed = |pipeline, k| with_cpu(iteration(workload, pipeline, &inputs), &cpu[k]);
    let r = interleaved(
        rounds,
        1,
        vec![
            ("sequential", Box::new(timed(&sequential, 0))),
            ("thread, 2 workers", Box::new(timed(&two, 1))),
        ],
    );
    let [seq, thr] = cpu.map(|c| c.into_inner().split_off(1));
    let ratio = median(thr.iter().zip(&seq).map(|(t, s)| t / s).collect());
    println!(
        "\nW1 CPU time (user + system, RUSAGE_SELF), thread executor with 2 workers vs sequential:"
    );
    print!("{}", r.report("sequential"));
    println!(
        "  CPU per transform: sequential {:.2} ms, thread (2) {:.2} ms; thread / sequential {ratio:.3}x \
         (median of per-round ratios; target: at most 1.15x)",
        median(seq) * 1e3,
        median(thr) * 1e3,
    );
}
