//! W1 with the real built-in stages: `lowpass` 50 kHz, `highpass` 1 kHz,
//! `bandpass` 1-50 kHz (order 4, zero-phase) and `fft` (hann, dB), all four
//! reading `input` (2^20 samples); sequential against two process workers.
//!
//! `cargo bench -p tracekit-exec-process --features dsp-bench --bench w1_dsp`

use std::time::{Duration, Instant};

use tracekit_core::{
    Executor, INPUT, ParamValue, Params, Pipeline, SequentialExecutor, Step, Trace,
};
use tracekit_exec_process::ProcessExecutor;

mod common;

use common::input;

fn step(name: &str, kind: &str, params: &[(&str, ParamValue)]) -> Step {
    let params: Params = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Step::boxed(
        name,
        tracekit_dsp::build(kind, &params).expect("a built-in stage"),
    )
    .input(INPUT)
}

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
    let p = Pipeline::new([
        step(
            "lowpass",
            "lowpass",
            &[("cutoff", 50e3.into()), ("order", 4i64.into())],
        ),
        step(
            "highpass",
            "highpass",
            &[("cutoff", 1e3.into()), ("order", 4i64.into())],
        ),
        step(
            "bandpass",
            "bandpass",
            &[
                ("low", 1e3.into()),
                ("high", 50e3.into()),
                ("order", 4i64.into()),
            ],
        ),
        step(
            "fft",
            "fft",
            &[("window", "hann".into()), ("scale", "db".into())],
        ),
    ])
    .expect("a valid pipeline");
    let x = input(1 << 20);
    let process = ProcessExecutor::new(2).expect("two workers");
    let seq = time(&p, &SequentialExecutor, &x, 10);
    let proc = time(&p, &process, &x, 10);
    println!("W1 (built-in stages, 2^20 samples), per transform:");
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
