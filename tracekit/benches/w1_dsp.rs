//! W1 (`tracekit::workloads`) with the real built-in stages: sequential
//! against two process workers, with each stage's worker, start and time.
//!
//! `cargo bench -p tracekit --bench w1_dsp` (here, where the stage library
//! and the process executor are both dependencies)

use std::time::{Duration, Instant};

use tracekit::{
    Pipeline, Trace,
    exec::{Executor, ProcessExecutor, SequentialExecutor},
    workloads::Workload,
};

fn time(p: &Pipeline, e: &dyn Executor, x: &Trace, runs: usize) -> Duration {
    p.run_on(e, x).expect("a warm-up run");
    let mut v: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            p.run_on(e, x).expect("a run");
            start.elapsed()
        })
        .collect();
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("w1_dsp: bench");
        return;
    }
    let w1 = Workload::W1;
    let p = w1
        .pipeline(tracekit::ExecutorKind::Sequential, None)
        .expect("a valid pipeline")
        .into_pipeline();
    let x = w1.inputs().expect("the input").remove(0);
    let process = ProcessExecutor::new(2).expect("two workers");
    let seq = time(&p, &SequentialExecutor, &x, 10);
    let proc = time(&p, &process, &x, 10);
    println!("W1 ({}):", w1.description());
    println!("  sequential      {seq:>12.1?}");
    println!(
        "  process (2)     {proc:>12.1?}   speedup {:.2}x",
        seq.as_secs_f64() / proc.as_secs_f64()
    );
    for e in [&SequentialExecutor as &dyn Executor, &process] {
        let run = p.run_on(e, &x).expect("a run");
        for (name, r) in p.step_names().iter().zip(run.records()) {
            println!(
                "    {name:<10} worker {} start {:>10.1?} took {:>10.1?}",
                r.worker, r.start, r.duration
            );
        }
    }
}
