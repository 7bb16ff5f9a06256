//! The library batch over MPI ranks, checked against one-process runs.
//!
//! Run by `cargo test --features mpi`: without `TRACEKIT_SPMD` in its
//! environment this program launches itself under `mpiexec -n 1`, `-n 2` and
//! `-n 3` and checks that every run passes; under `mpiexec` every rank runs
//! the same checks (SPMD) and rank 0 compares.

use std::{
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use tracekit_core::{
    Error as CoreError, Executor, INPUT, ParamValue, Params, Pipeline, Run, SequentialExecutor,
    StageError, Step, Trace, TraceMeta, Transformer,
};
use tracekit_exec_mpi::{Cluster, Error, Served};
use tracekit_exec_process::ProcessExecutor;
use tracekit_exec_thread::ThreadExecutor;

fn main() -> ExitCode {
    if std::env::var_os("TRACEKIT_SPMD").is_none() {
        return launch();
    }
    match spmd() {
        Ok(checks) => {
            println!("spmd: {checks} checks passed");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("spmd check failed: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs this program under `mpiexec` for 1, 2 and 3 ranks.
fn launch() -> ExitCode {
    let exe = std::env::current_exe().expect("the test binary has a path");
    let (mut passed, mut failed) = (0, 0);
    for ranks in 1..=3 {
        let start = Instant::now();
        let mut child = Command::new("mpiexec")
            .args(["-n", &ranks.to_string()])
            .arg(&exe)
            .env("TRACEKIT_SPMD", "1")
            .stdin(Stdio::null())
            .spawn()
            .expect("mpiexec runs (MPICH: apt-get install mpich)");
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting for mpiexec") {
                break Some(status);
            }
            if start.elapsed() > Duration::from_secs(300) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        match status {
            Some(s) if s.success() => {
                println!(
                    "test spmd with {ranks} rank(s) ... ok ({:.1?})",
                    start.elapsed()
                );
                passed += 1;
            }
            other => {
                println!("test spmd with {ranks} rank(s) ... FAILED ({other:?})");
                failed += 1;
            }
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out",
        if failed == 0 { "ok" } else { "FAILED" }
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Fails on inputs whose channel is "bad"; otherwise measures the mean.
#[derive(Clone)]
struct Picky;

impl Transformer for Picky {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        if i[0].meta().channel == "bad" {
            return Err(format!("input of {} samples marked bad", i[0].len()).into());
        }
        let mean = i[0].samples().iter().sum::<f64>() / i[0].len().max(1) as f64;
        Ok(i[0]
            .derive(i[0].samples().to_vec())
            .with_measurement("mean", mean))
    }
    fn kind(&self) -> &str {
        "picky"
    }
}

fn builtin(name: &str, kind: &str, params: &[(&str, ParamValue)]) -> Step {
    let params: Params = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Step::boxed(
        name,
        tracekit_dsp::build(kind, &params).expect("a built-in step"),
    )
}

/// A fan-out with the standard chain: lowpass -> fft -> spectral_metrics,
/// and a highpass beside it.
fn pipeline(cutoff: f64) -> Pipeline {
    Pipeline::new([
        Step::new("picky", Picky).input(INPUT),
        builtin("lowpass", "lowpass", &[("cutoff", cutoff.into())]).input("picky"),
        builtin("highpass", "highpass", &[("cutoff", 1e3.into())]).input("picky"),
        builtin("fft", "fft", &[]).input("lowpass"),
        builtin("metrics", "spectral_metrics", &[]).input("lowpass"),
    ])
    .expect("a valid pipeline")
    .with_output("metrics")
    .expect("metrics is a step")
}

/// Deterministic inputs of different lengths; the channels listed are "bad".
fn inputs(n: usize, bad: &[usize]) -> Vec<Trace> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..n)
        .map(|k| {
            let len = 2048 + 97 * k;
            let samples = (0..len)
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                    (i as f64 * 0.0628 * (1.0 + k as f64 / 10.0)).sin() + 0.01 * noise
                })
                .collect();
            let mut meta = TraceMeta::new(1e6);
            meta.channel = if bad.contains(&k) {
                "bad".into()
            } else {
                format!("ch{k}")
            };
            meta.attributes.insert("index".into(), k.to_string());
            Trace::with_meta(samples, meta).expect("a valid trace")
        })
        .collect()
}

fn same_runs(a: &[Run], b: &[Run]) -> Result<(), String> {
    if a.len() != b.len() {
        return Err(format!("{} runs where {} were expected", a.len(), b.len()));
    }
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        if x.kept_steps() != y.kept_steps() {
            return Err(format!(
                "run {k} kept {:?}, expected {:?}",
                x.kept_steps(),
                y.kept_steps()
            ));
        }
        for step in x.kept_steps() {
            let (tx, ty) = (x.get(step).unwrap(), y.get(step).unwrap());
            if !tx.bit_eq(ty) || tx.meta().attributes != ty.meta().attributes {
                return Err(format!(
                    "run {k}: step '{step}' differs from the one-process run"
                ));
            }
        }
    }
    Ok(())
}

struct Checks<'c> {
    cluster: &'c Cluster,
    passed: usize,
}

impl Checks<'_> {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
        if ok {
            self.passed += 1;
            Ok(())
        } else {
            Err(format!("rank {}: {}", self.cluster.rank(), what()))
        }
    }

    /// Rank 0 runs one batch; the others serve it with `pipeline`.
    fn batch<T>(
        &mut self,
        pipeline: &Pipeline,
        executor: &dyn Executor,
        root: impl FnOnce(&Cluster) -> T,
    ) -> Result<Option<T>, Error> {
        if self.cluster.is_root() {
            Ok(Some(root(self.cluster)))
        } else {
            match self.cluster.serve_batch_on(pipeline, executor)? {
                Served::Batch => Ok(None),
                Served::Shutdown => Err(Error::Protocol("rank 0 shut down early".into())),
            }
        }
    }
}

fn spmd() -> Result<usize, String> {
    let cluster = Cluster::init().map_err(|e| e.to_string())?;
    let mut c = Checks {
        cluster: &cluster,
        passed: 0,
    };
    let p = pipeline(50e3);
    let good = inputs(23, &[]);
    let reference = p
        .run_batch_on(&SequentialExecutor, &good)
        .map_err(|e| e.to_string())?;

    // Bit for bit on each local executor.
    let thread = ThreadExecutor::new(2);
    let process = ProcessExecutor::new(2).map_err(|e| e.to_string())?;
    let executors: [(&str, &dyn Executor); 3] = [
        ("sequential", &SequentialExecutor),
        ("thread", &thread),
        ("process", &process),
    ];
    for (name, executor) in executors {
        let got = c
            .batch(&p, executor, |cl| cl.run_batch_on(&p, executor, &good))
            .map_err(|e| e.to_string())?;
        if let Some(got) = got {
            let runs = got.map_err(|e| format!("{name}: {e}"))?;
            let same = same_runs(&runs, &reference);
            c.check(same.is_ok(), || format!("{name}: {}", same.unwrap_err()))?;
        }
    }

    // A failing batch: the same error as one process, the lowest failing input.
    let bad = inputs(23, &[9, 5, 17]);
    let expected = p.run_batch_on(&SequentialExecutor, &bad).unwrap_err();
    if let Some(got) = c
        .batch(&p, &SequentialExecutor, |cl| cl.run_batch(&p, &bad))
        .map_err(|e| e.to_string())?
    {
        match got {
            Err(Error::Pipeline(e @ CoreError::Batch { index: 5, .. })) => {
                c.check(e.to_string() == expected.to_string(), || {
                    format!("error {e} where one process gives {expected}")
                })?;
                c.check(e.step() == Some("picky"), || {
                    format!("error {e} names no step")
                })?;
            }
            other => {
                return Err(format!(
                    "a failing batch gave {other:?}, expected {expected}"
                ));
            }
        }
    }

    // Keep going: one result per input.
    if let Some(got) = c
        .batch(&p, &SequentialExecutor, |cl| {
            cl.run_batch_each_on(&p, &SequentialExecutor, &bad)
        })
        .map_err(|e| e.to_string())?
    {
        let each = got.map_err(|e| e.to_string())?;
        let failed: Vec<usize> = each
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_err())
            .map(|(k, _)| k)
            .collect();
        c.check(failed == [5, 9, 17], || {
            format!("inputs {failed:?} failed, expected [5, 9, 17]")
        })?;
        let one = p
            .run_on(&SequentialExecutor, &bad[4])
            .map_err(|e| e.to_string())?;
        let same = same_runs(std::slice::from_ref(each[4].as_ref().unwrap()), &[one]);
        c.check(same.is_ok(), || same.unwrap_err())?;
    }

    // An empty batch.
    if let Some(got) = c
        .batch(&p, &SequentialExecutor, |cl| cl.run_batch(&p, &[]))
        .map_err(|e| e.to_string())?
    {
        let runs = got.map_err(|e| e.to_string())?;
        c.check(runs.is_empty(), || {
            format!("{} runs from no input", runs.len())
        })?;
    }

    // Rank 1 builds another pipeline: an error on every rank.
    if cluster.size() > 1 {
        let mine = if cluster.rank() == 1 {
            pipeline(40e3)
        } else {
            pipeline(50e3)
        };
        let got = c.batch(&mine, &SequentialExecutor, |cl| cl.run_batch(&mine, &good));
        match (cluster.rank(), got) {
            (0, Ok(Some(Err(Error::FingerprintMismatch { rank: 1, .. })))) => {
                c.check(true, String::new)?
            }
            (1, Err(Error::FingerprintMismatch { rank: 1, .. })) => c.check(true, String::new)?,
            (_, Err(Error::Aborted { reason })) => c
                .check(reason.contains("rank 1 built a different pipeline"), || {
                    reason
                })?,
            (rank, other) => return Err(format!("rank {rank}: a mismatch gave {other:?}")),
        }
        // And the next batch works again.
        if let Some(got) = c
            .batch(&p, &SequentialExecutor, |cl| cl.run_batch(&p, &good))
            .map_err(|e| e.to_string())?
        {
            let same = got
                .map_err(|e| e.to_string())
                .and_then(|runs| same_runs(&runs, &reference));
            c.check(same.is_ok(), || same.unwrap_err())?;
        }
    }

    // Not rank 0's work elsewhere.
    if !cluster.is_root() {
        let e = cluster.run_batch(&p, &good).unwrap_err();
        c.check(matches!(e, Error::NotRoot { .. }), || e.to_string())?;
    }

    // The other ranks serve until rank 0's cluster is dropped.
    if !cluster.is_root() {
        cluster.serve(&p).map_err(|e| e.to_string())?;
    }
    Ok(c.passed)
}
