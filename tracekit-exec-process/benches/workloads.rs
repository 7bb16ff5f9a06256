//! Standard workloads W0 and W1 on the process executor, against the
//! sequential executor, and the peak memory of W1 against threads.
//!
//! `cargo bench -p tracekit-exec-process --bench workloads`
//!
//! W1's four stages are CPU-bound recursive filters written here (each about
//! 20 ms on 2^20 samples), so that this crate needs no other tracekit crate;
//! they build their outputs in output buffers, as the built-in stages do.
//! Peak memory is measured in fresh processes (this binary run again) as the
//! highest sum of proportional set sizes (Pss) over the process and its
//! workers, sampled every millisecond; the "thread" figure runs the same four
//! stages two at a time on scoped threads.

use std::{
    env,
    process::Command,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::{Duration, Instant},
};

use tracekit_core::{
    Executor, INPUT, Pipeline, SequentialExecutor, StageError, Step, Trace, Transformer,
    buffer::SampleVec,
};
use tracekit_exec_process::ProcessExecutor;
use tracekit_testkit::procfs::pss_tree_kib;

mod common;

use common::input;

/// `x * factor`.
#[derive(Clone)]
struct Scale(f64);

impl Transformer for Scale {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        Ok(i[0].derive(i[0].samples().iter().map(|x| x * self.0).collect()))
    }
}

/// `passes` first-order recursive filters in a row, pole `pole`.
#[derive(Clone)]
struct Recursive {
    pole: f64,
    passes: usize,
}

impl Transformer for Recursive {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        // An output buffer, as the built-in stages use: in a worker, shared
        // memory that goes back to the parent uncopied.
        let mut out = SampleVec::from_slice(i[0].samples())?;
        let y: &mut [f64] = &mut out;
        for pass in 0..self.passes {
            let a = self.pole - 1e-3 * pass as f64;
            let mut state = 0.0;
            for v in y.iter_mut() {
                state = a * state + (1.0 - a) * *v;
                *v = state;
            }
        }
        Ok(i[0].derive_samples(out))
    }
}

fn w0() -> Pipeline {
    Pipeline::new((0..4).map(|k| Step::new(format!("scale{k}"), Scale(1.0 + k as f64))))
        .expect("a valid pipeline")
}

fn w1() -> Pipeline {
    let stage =
        |name: &str, pole: f64| Step::new(name, Recursive { pole, passes: 12 }).input(INPUT);
    Pipeline::new([
        stage("lowpass", 0.9),
        stage("highpass", 0.5),
        stage("bandpass", 0.7),
        stage("fft", 0.3),
    ])
    .expect("a valid pipeline")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(p: &Pipeline, e: &dyn Executor, x: &Trace, runs: usize) -> Duration {
    p.run_on(e, x).expect("a warm-up run");
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                p.run_on(e, x).expect("a run");
                start.elapsed()
            })
            .collect(),
    )
}

/// Runs W1 three times with `kind` and prints the peak Pss (kB) of the tree.
fn memory_child(kind: &str) {
    let p = w1();
    let x = input(1 << 20);
    let stop = AtomicBool::new(false);
    let peak = AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(pss_tree_kib(std::process::id()), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        match kind {
            "process" => {
                let e = ProcessExecutor::new(2).expect("two workers");
                for _ in 0..3 {
                    p.run_on(&e, &x).expect("a run");
                }
            }
            _ => {
                for _ in 0..3 {
                    let plan = p.plan();
                    let outs: Vec<Trace> = std::thread::scope(|t| {
                        let halves: Vec<_> = [[0, 1], [2, 3]]
                            .into_iter()
                            .map(|pair| {
                                let plan = &plan;
                                let x = &x;
                                t.spawn(move || {
                                    pair.map(|i| {
                                        let start = std::time::Instant::now();
                                        plan.run_stage(i, &[x], start, 0).expect("a stage").0
                                    })
                                })
                            })
                            .collect();
                        halves
                            .into_iter()
                            .flat_map(|h| h.join().expect("a thread"))
                            .collect()
                    });
                    std::hint::black_box(outs);
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    println!("{}", peak.load(Ordering::Relaxed));
}

fn peak_of(kind: &str) -> Option<u64> {
    let out = Command::new(env::current_exe().ok()?)
        .args(["--memory", kind])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn main() {
    let args: Vec<String> = env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--memory") {
        memory_child(args.get(i + 1).map_or("thread", String::as_str));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        println!("workloads: bench");
        return;
    }
    let process = ProcessExecutor::new(2).expect("two workers");

    let (p0, x0) = (w0(), input(1024));
    let seq0 = time(&p0, &SequentialExecutor, &x0, 2000);
    let proc0 = time(&p0, &process, &x0, 2000);
    println!("W0 (4 chained scale stages, 1,024 samples), per transform:");
    println!("  sequential      {seq0:>12.1?}");
    println!("  process (2)     {proc0:>12.1?}");

    let (p1, x1) = (w1(), input(1 << 20));
    let seq1 = time(&p1, &SequentialExecutor, &x1, 10);
    let proc1 = time(&p1, &process, &x1, 10);
    println!("W1 (four stages reading input, 2^20 samples), per transform:");
    println!("  sequential      {seq1:>12.1?}");
    println!(
        "  process (2)     {proc1:>12.1?}   speedup {:.2}x",
        seq1.as_secs_f64() / proc1.as_secs_f64()
    );
    if args.iter().any(|a| a == "--records") {
        let run = p1.run_on(&process, &x1).expect("a run");
        for (name, r) in p1.step_names().iter().zip(run.records()) {
            println!(
                "    {name:<10} worker {} start {:>10.1?} took {:>10.1?}",
                r.worker, r.start, r.duration
            );
        }
    }
    drop(process);

    if let (Some(thread), Some(proc)) = (peak_of("thread"), peak_of("process")) {
        println!("W1 peak memory (Pss of the process and its workers):");
        println!("  threads (2)     {:>9.1} MiB", thread as f64 / 1024.0);
        println!(
            "  process (2)     {:>9.1} MiB   ratio {:.2}",
            proc as f64 / 1024.0,
            proc as f64 / thread as f64
        );
    }
}
