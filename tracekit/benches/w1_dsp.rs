//! W1 with the real built-in stages: `lowpass` 50 kHz, `highpass` 1 kHz,
//! `bandpass` 1-50 kHz (order 4, zero-phase) and `fft` (hann, dB), all four
//! reading `input` (2^20 samples); sequential against two process workers.
//!
//! `cargo bench -p tracekit --bench w1_dsp` (here, where the stage library
//! and the process executor are both dependencies)

use std::time::{Duration, Instant};

use tracekit::{
    INPUT, ParamValue, Params, Pipeline, Step, Trace,
    exec::{Executor, ProcessExecutor, SequentialExecutor},
};

fn step(name: &str, kind: &str, params: &[(&str, ParamValue)]) -> Step {
    let params: Params = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Step::boxed(
        name,
        tracekit::dsp::build(kind, &params).expect("a built-in stage"),
    )
    .input(INPUT)
}

/// The standard input: 1 MS/s, sin 10 kHz + 0.1 sin 30 kHz + a little noise.
fn input(n: usize) -> Trace {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let samples = (0..n)
        .map(|k| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let noise = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let t = k as f64 * 1e-6;
            let w = 2.0 * std::f64::consts::PI;
            (w * 1e4 * t).sin() + 0.1 * (w * 3e4 * t).sin() + 0.01 * noise
        })
        .collect();
    Trace::new(samples, 1e6).expect("a valid rate")
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
