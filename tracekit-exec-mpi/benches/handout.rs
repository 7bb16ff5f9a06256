//! Scale-out figures of the library batch.
//!
//! `cargo bench -p tracekit-exec-mpi --features mpi` launches this program
//! under `mpiexec -n 1` and `-n 2` (`TRACEKIT_BENCH_RANKS=1,2,4` for other
//! counts) and prints, for each:
//! - W-scale: 64 inputs of 262,144 samples through lowpass -> fft ->
//!   spectral_metrics, the sequential executor on each rank, timed on rank 0
//!   from after MPI initialisation to the last result (the traces travel to
//!   the ranks and the runs come back); the best of 3 batches;
//! - hand-out: 4,000 tiny inputs (16 samples, one `scale` stage): the time
//!   per input that another rank ran, which is the hand-out round trip (task
//!   out, run back) plus a microsecond of work. Rank 0's own thread sleeps a
//!   millisecond per input here, or it would take nearly every tiny input
//!   itself (it takes its tasks without a round trip).

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use tracekit_core::{ParamValue, Params, Pipeline, Step, Trace};
use tracekit_exec_mpi::{Cluster, Fingerprint, Flow, Job};

fn main() {
    if std::env::var_os("TRACEKIT_SPMD").is_some() {
        spmd();
        return;
    }
    // `cargo test --benches` runs benches once as tests; nothing to time then.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let exe = std::env::current_exe().expect("the bench binary has a path");
    let ranks = std::env::var("TRACEKIT_BENCH_RANKS").unwrap_or_else(|_| "1,2".into());
    for n in ranks.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let start = Instant::now();
        let status = Command::new("mpiexec")
            .args(["-n", n])
            .arg(&exe)
            .env("TRACEKIT_SPMD", "1")
            .stdin(Stdio::null())
            .status()
            .expect("mpiexec runs");
        println!(
            "ranks {n}: whole mpiexec command {:.3} s ({status})",
            start.elapsed().as_secs_f64()
        );
    }
}

fn step(name: &str, kind: &str, params: &[(&str, ParamValue)]) -> Step {
    let params: Params = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Step::boxed(
        name,
        tracekit_dsp::build(kind, &params).expect("a built-in"),
    )
}

fn capture(len: usize, seed: u64) -> Trace {
    let mut state = seed | 1;
    let samples = (0..len)
        .map(|k| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let t = k as f64 / 1e6;
            (std::f64::consts::TAU * 10e3 * t).sin()
                + 0.1 * (std::f64::consts::TAU * 30e3 * t).sin()
                + 0.02 * noise
        })
        .collect();
    Trace::new(samples, 1e6).expect("a valid trace")
}

/// Tiny tasks that report which rank ran them.
struct Tiny<'a> {
    pipeline: &'a Pipeline,
    input: &'a Trace,
}

impl Job for Tiny<'_> {
    type Output = ();
    fn payload(&self, _: usize) -> Vec<u8> {
        Vec::new()
    }
    fn run(&self, _: usize) {
        std::thread::sleep(Duration::from_millis(1));
        let _ = self.pipeline.run(self.input);
    }
    fn receive(&self, _: usize, _: &[u8]) -> Result<(), tracekit_exec_mpi::Error> {
        Ok(())
    }
}

fn spmd() {
    let cluster = Cluster::init().expect("MPI starts");
    let after_init = Instant::now();
    let chain = Pipeline::new([
        step("lowpass", "lowpass", &[("cutoff", 50e3.into())]),
        step("fft", "fft", &[]),
        step("metrics", "spectral_metrics", &[]),
    ])
    .expect("a valid pipeline");
    let tiny = Pipeline::new([step("scale", "scale", &[("factor", 2.0.into())])])
        .expect("a valid pipeline");
    let small = capture(16, 3);
    let fingerprint = Fingerprint::of_pipeline(&tiny);

    if !cluster.is_root() {
        for _ in 0..3 {
            cluster
                .serve_batch_on(&chain, &tracekit_core::SequentialExecutor)
                .expect("serves");
        }
        cluster
            .serve_with(fingerprint, |_, _| {
                let _ = tiny.run(&small);
                Vec::new()
            })
            .expect("serves");
        return;
    }
    let inputs: Vec<Trace> = (0..64).map(|k| capture(262_144, k + 1)).collect();
    let setup = after_init.elapsed();
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let runs = cluster.run_batch(&chain, &inputs).expect("the batch runs");
        assert_eq!(runs.len(), 64);
        best = best.min(start.elapsed());
    }
    println!(
        "ranks {}: W-scale 64 x 262144 lowpass->fft->spectral_metrics: {:.3} s (best of 3; input generation {:.3} s not counted)",
        cluster.size(),
        best.as_secs_f64(),
        setup.as_secs_f64()
    );

    let n = 4000;
    let mut remote = 0usize;
    let start = Instant::now();
    cluster
        .hand_out(
            fingerprint,
            n,
            &Tiny {
                pipeline: &tiny,
                input: &small,
            },
            |_, rank, _| {
                if rank != 0 {
                    remote += 1;
                }
                Flow::Continue
            },
        )
        .expect("the tiny batch runs");
    let elapsed = start.elapsed();
    if remote > 0 {
        println!(
            "ranks {}: hand-out: {remote} of {n} tiny inputs ran on other ranks, {:.1} us per remote input ({:.1} us per input overall)",
            cluster.size(),
            elapsed.as_secs_f64() * 1e6 / remote as f64 * (cluster.size() - 1) as f64,
            elapsed.as_secs_f64() * 1e6 / n as f64
        );
    } else {
        println!(
            "ranks 1: hand-out: {n} tiny inputs on rank 0's thread, {:.1} us per input",
            elapsed.as_secs_f64() * 1e6 / n as f64
        );
    }
}
