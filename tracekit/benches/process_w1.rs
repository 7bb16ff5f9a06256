//! W1 on the process executor against the thread executor, two workers
//! each: the time as the median of per-round ratios over interleaved
//! rounds, and the peak memory (the sum of Pss over the process and its
//! workers) of a W1 fan-out on a large trace.
//!
//! `cargo bench -p tracekit --bench process_w1 [-- OPTIONS]`
//!
//! - `--rounds N` (default 31): interleaved timing rounds of W1 on 2^20
//!   samples, three runs per case per round (their median counts).
//! - `--memory LOG2`: instead, the peak memory of three W1 runs on
//!   2^LOG2 samples (27: a 1 GiB trace; 6 to 10 GiB at the peak), each
//!   executor in a fresh process of this program, sampled every millisecond.
//! - `--only thread|process [--runs N]`: only N transforms (default 100)
//!   on that executor, nothing measured (for a profiler).
//! - `--stages builtin|pooled|both` (default both): W1 as
//!   `tracekit::workloads` defines it (the stage library's `lowpass`,
//!   `highpass`, `bandpass` and `fft`), or with four
//!   recursive filters written here that build their outputs in output
//!   buffers ([`SampleVec::with_capacity`]), as every built-in stage does
//!   once it takes its outputs from the buffer pool: in a process worker
//!   such an output is shared memory that reaches the parent uncopied.

use std::{
    env, fs,
    process::Command,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::Duration,
};

use tracekit::{
    INPUT, Pipeline, StageError, Step, Trace, Transformer,
    exec::{Executor, ProcessExecutor, ThreadExecutor},
    workloads::{SEED, Workload, signal},
};
use tracekit_core::buffer::SampleVec;
use tracekit_testkit::{
    procfs::{children, pss_tree_kib, shmem_kib},
    rounds::{Case, interleaved},
};

/// W1 with the stage library's stages ([`Workload::W1`]).
fn w1_builtin() -> Pipeline {
    Pipeline::new(Workload::W1.steps().expect("W1's steps")).expect("a valid pipeline")
}

/// `passes` first-order recursive filters in a row, pole `pole`, in an
/// output buffer; every `step`-th sample kept.
#[derive(Clone)]
struct Recursive {
    pole: f64,
    passes: usize,
    step: usize,
}

impl Recursive {
    fn filter(&self, y: &mut [f64]) {
        for pass in 0..self.passes {
            let a = self.pole - 1e-3 * pass as f64;
            let mut state = 0.0;
            for v in y.iter_mut() {
                state = a * state + (1.0 - a) * *v;
                *v = state;
            }
        }
    }
}

impl Transformer for Recursive {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        let x = i[0].samples();
        let out = if self.step == 1 {
            let mut out = SampleVec::with_capacity(x.len())?;
            out.extend_from_slice(x);
            self.filter(&mut out);
            out
        } else {
            // Filtered in working memory, every `step`-th sample kept.
            let mut work = SampleVec::scratch(x.len())?;
            work.extend_from_slice(x);
            self.filter(&mut work);
            let mut out = SampleVec::zeroed(x.len().div_ceil(self.step))?;
            for (o, v) in out.iter_mut().zip(work.iter().step_by(self.step)) {
                *o = *v;
            }
            out
        };
        Ok(i[0].derive_samples(out))
    }
}

/// W1's shape (four stages reading the input; the last gives half as many
/// samples, as `fft` does) with stages that build their outputs in output
/// buffers.
fn w1_pooled() -> Pipeline {
    let stage = |name: &str, pole: f64, step: usize| {
        Step::new(
            name,
            Recursive {
                pole,
                passes: 6,
                step,
            },
        )
        .input(INPUT)
    };
    Pipeline::new([
        stage("lowpass", 0.9, 1),
        stage("highpass", 0.5, 1),
        stage("bandpass", 0.7, 1),
        stage("fft", 0.3, 2),
    ])
    .expect("a valid pipeline")
}

/// The standard signal ([`signal`]) of `n` samples.
fn input(n: usize) -> Trace {
    signal(n, SEED).expect("the standard signal")
}

fn pipeline(stages: &str) -> Pipeline {
    match stages {
        "builtin" => w1_builtin(),
        _ => w1_pooled(),
    }
}

/// In a fresh process: three W1 runs on 2^`log2` samples with `executor`;
/// prints the peak Pss (kB) of the process and its workers, the Pss before
/// the first run, and the peak rise of the system's shared memory.
fn memory_child(executor: &str, stages: &str, log2: u32) {
    let p = pipeline(stages);
    let x = input(1 << log2);
    let e: Box<dyn Executor> = match executor {
        "process" => Box::new(ProcessExecutor::new(2).expect("two workers")),
        _ => Box::new(ThreadExecutor::new(2)),
    };
    let me = std::process::id();
    let tree = || pss_tree_kib(me);
    let before = tree();
    let shmem_before = shmem_kib();
    let stop = AtomicBool::new(false);
    let peak = AtomicU64::new(0);
    let shmem_peak = AtomicU64::new(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(tree(), Ordering::Relaxed);
                shmem_peak.fetch_max(shmem_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        for _ in 0..3 {
            let run = p.run_on(e.as_ref(), &x).expect("a run");
            std::hint::black_box(&run);
        }
        stop.store(true, Ordering::Relaxed);
    });
    println!(
        "{} {} {}",
        peak.load(Ordering::Relaxed),
        before,
        shmem_peak
            .load(Ordering::Relaxed)
            .saturating_sub(shmem_before)
    );
}

fn memory(stages: &str, log2: u32) {
    let child = |executor: &str| -> Option<Vec<u64>> {
        let out = Command::new(env::current_exe().ok()?)
            .args(["--memory-child", executor, stages, &log2.to_string()])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let v: Vec<u64> = text
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        (v.len() == 3).then_some(v)
    };
    let mib = |kb: u64| kb as f64 / 1024.0;
    let input_mib = (8u64 << log2) as f64 / (1 << 20) as f64;
    println!(
        "W1 ({stages} stages) on 2^{log2} samples ({input_mib:.0} MiB), peak Pss of the process and its workers:"
    );
    let (Some(thread), Some(process)) = (child("thread"), child("process")) else {
        println!("  a measuring process failed");
        return;
    };
    for (name, v) in [("thread (2)", &thread), ("process (2)", &process)] {
        println!(
            "  {name:<12} peak {:>9.1} MiB ({:.2}x the input; {:.1} MiB before the runs; shared memory +{:.1} MiB at most)",
            mib(v[0]),
            mib(v[0]) / input_mib,
            mib(v[1]),
            mib(v[2]),
        );
    }
    println!(
        "  process / thread peak Pss: {:.3}",
        process[0] as f64 / thread[0] as f64
    );
}

fn timing(stages: &str, rounds: usize) {
    let p = pipeline(stages);
    let x = input(1 << 20);
    let process = ProcessExecutor::new(2).expect("two workers");
    let thread = ThreadExecutor::new(2);
    let cases: Vec<Case<'_>> = vec![
        (
            "thread (2)",
            Box::new(|| {
                std::hint::black_box(p.run_on(&thread, &x).expect("a run"));
            }),
        ),
        (
            "process (2)",
            Box::new(|| {
                std::hint::black_box(p.run_on(&process, &x).expect("a run"));
            }),
        ),
    ];
    let r = interleaved(rounds, 3, cases);
    println!("W1 ({stages} stages, 2^20 samples), per transform:");
    print!("{}", r.report("thread (2)"));
    // Minor page faults and CPU time per steady-state transform, parent
    // and workers together.
    let me = std::process::id();
    let tree = || {
        children(me)
            .into_iter()
            .chain([me])
            .map(counters)
            .fold([0, 0], |a, b| [a[0] + b[0], a[1] + b[1]])
    };
    const RUNS: u64 = 20;
    for (name, e) in [
        ("thread (2)", &thread as &dyn Executor),
        ("process (2)", &process),
    ] {
        drop(p.run_on(e, &x).expect("a run"));
        let before = tree();
        for _ in 0..RUNS {
            drop(p.run_on(e, &x).expect("a run"));
        }
        let after = tree();
        println!(
            "  {name:<12} {} minor page faults, {:.1} ms CPU (user + sys) per transform",
            (after[0] - before[0]) / RUNS,
            (after[1] - before[1]) as f64 * 1e3 / TICKS / RUNS as f64,
        );
        if std::env::args().any(|a| a == "--records") {
            let run = p.run_on(e, &x).expect("a run");
            for (step, r) in p.step_names().iter().zip(run.records()) {
                println!(
                    "    {step:<10} worker {} start {:>10.1?} took {:>10.1?}",
                    r.worker, r.start, r.duration
                );
            }
        }
    }
}

/// Clock ticks per second of the CPU times in `/proc/PID/stat`.
const TICKS: f64 = 100.0;

/// The minor page faults and the CPU time (user + sys, in clock ticks) of
/// process `pid` so far.
fn counters(pid: u32) -> [u64; 2] {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let rest = stat.rfind(')').map_or("", |i| &stat[i + 2..]);
    let field = |k: usize| -> u64 {
        rest.split_whitespace()
            .nth(k)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    [field(7), field(11) + field(12)]
}

fn main() {
    let args: Vec<String> = env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(i) = args.iter().position(|a| a == "--memory-child") {
        let get = |k: usize| args.get(i + k).cloned().unwrap_or_default();
        memory_child(&get(1), &get(2), get(3).parse().unwrap_or(20));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        println!("process_w1: bench");
        return;
    }
    let stages = value("--stages").unwrap_or_else(|| "both".into());
    let variants: Vec<&str> = match stages.as_str() {
        "builtin" => vec!["builtin"],
        "pooled" => vec!["pooled"],
        _ => vec!["builtin", "pooled"],
    };
    if let Some(log2) = value("--memory").and_then(|v| v.parse().ok()) {
        for v in variants {
            memory(v, log2);
        }
        return;
    }
    if let Some(only) = value("--only") {
        // For profilers: one executor, `--runs` transforms, nothing else.
        let runs: usize = value("--runs").and_then(|v| v.parse().ok()).unwrap_or(100);
        let e: Box<dyn Executor> = match only.as_str() {
            "process" => Box::new(ProcessExecutor::new(2).expect("two workers")),
            _ => Box::new(ThreadExecutor::new(2)),
        };
        let x = input(1 << 20);
        for v in variants {
            let p = pipeline(v);
            for _ in 0..runs {
                drop(p.run_on(e.as_ref(), &x).expect("a run"));
            }
        }
        return;
    }
    let rounds = value("--rounds").and_then(|v| v.parse().ok()).unwrap_or(31);
    for v in variants {
        timing(v, rounds);
    }
}
