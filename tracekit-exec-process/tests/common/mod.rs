//! Stages and helpers of the process executor's tests (the stages every
//! crate's tests use come from `tracekit-testkit`).

#![allow(
    dead_code,
    unused_imports,
    reason = "each test binary uses a different part"
)]

use std::{fs, time::Duration};

use tracekit_core::{
    Domain, INPUT, Pipeline, SequentialExecutor, StageError, Step, Trace, TraceMeta, Transformer,
    buffer::SampleVec,
};
use tracekit_exec_process::ProcessExecutor;
pub(crate) use tracekit_testkit::{Burn, Center, Identity, Scale, Sum, signal};

/// Rewrites every field of the metadata, with awkward values.
#[derive(Clone)]
pub(crate) struct Respell;

impl Transformer for Respell {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        let mut meta = TraceMeta::new(i[0].sample_rate() / 3.0);
        meta.start = -0.0;
        meta.domain = Domain::Frequency;
        meta.channel = "CH1 → ☃".into();
        meta.units = "dBµV".into();
        meta.measurements
            .insert("nan".into(), f64::from_bits(0x7ff8_0000_dead_beef));
        meta.measurements.insert("tiny".into(), 5e-324);
        meta.measurements.insert("inf".into(), f64::NEG_INFINITY);
        let samples = i[0]
            .samples()
            .iter()
            .map(|x| x.sin())
            .chain([f64::NAN])
            .collect();
        Ok(i[0].derive_with_meta(samples, meta)?)
    }
}

/// `x * factor` in an output buffer (in a worker: shared memory).
#[derive(Clone)]
pub(crate) struct PooledScale(pub(crate) f64);

impl Transformer for PooledScale {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        let out = SampleVec::from_exact_iter(i[0].samples().iter().map(|x| x * self.0))?;
        Ok(i[0].derive_samples(out))
    }
}

/// The element-wise sum of its inputs in an output buffer, one sample
/// longer than the first (a NaN), with new metadata.
#[derive(Clone)]
pub(crate) struct PooledSum;

impl Transformer for PooledSum {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        let n = i[0].len();
        let mut out = SampleVec::zeroed(n)?;
        for t in i {
            for (o, x) in out.iter_mut().zip(t.samples()) {
                *o += x;
            }
        }
        out.push(f64::NAN);
        let mut meta = i[0].meta().clone();
        meta.units = "V²".into();
        meta.measurements.insert("inputs".into(), i.len() as f64);
        Ok(Trace::from_samples(out, meta)?)
    }
}

/// The ways a stage can go wrong.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Fault {
    Segfault,
    Abort,
    Sleep(Duration),
    /// Sleeps, after creating a file named after its process id (see `sleeping_worker`).
    SleepReporting(Duration),
    Error,
    Panic,
}

/// A stage that goes wrong in the given way.
#[derive(Clone)]
pub(crate) struct Faulty(pub(crate) Fault);

impl Transformer for Faulty {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        match self.0 {
            Fault::Segfault => {
                // The Rust runtime handles SIGSEGV to report stack overflows;
                // a real fault re-executes after its handler steps aside, a
                // raised one would not, so step it aside first.
                // SAFETY: restoring a default disposition and raising a signal
                // have no memory-safety preconditions; the default action
                // ends this (worker) process.
                unsafe {
                    libc::signal(libc::SIGSEGV, libc::SIG_DFL);
                    libc::raise(libc::SIGSEGV);
                }
            }
            Fault::SleepReporting(d) => {
                let path = std::env::temp_dir()
                    .join(format!("tracekit-exec-process-test-{}", std::process::id()));
                let _ = std::fs::write(&path, b"");
                std::thread::sleep(d);
            }
            Fault::Abort => std::process::abort(),
            Fault::Sleep(d) => std::thread::sleep(d),
            Fault::Error => {
                return Err(format!("cutoff 5e5 Hz is at or above Nyquist ({} Hz)", 5e5).into());
            }
            Fault::Panic => panic!("index {} out of range for {} samples", 7, i[0].len()),
        }
        Ok(i[0].clone())
    }
}

/// Asserts that the process executor gives what the sequential one gives, bit for bit.
pub(crate) fn assert_same(p: &Pipeline, executor: &ProcessExecutor, input: &Trace) {
    let want = p.run_on(&SequentialExecutor, input).unwrap();
    let got = p.run_on(executor, input).unwrap();
    assert!(got.output().bit_eq(want.output()), "output differs");
    for name in p.step_names() {
        let (g, w) = (got.get(name).unwrap(), want.get(name).unwrap());
        assert!(g.bit_eq(w), "step {name} differs: {g:?} vs {w:?}");
    }
}

/// A pipeline with one faulty stage `bad` in a small fan-out.
pub(crate) fn faulty_pipeline(fault: Fault) -> Pipeline {
    Pipeline::new([
        Step::new("a", Scale(2.0)).input(INPUT),
        Step::new("bad", Faulty(fault)).input(INPUT),
        Step::new("sum", Sum).inputs(["a", "bad"]),
    ])
    .unwrap()
}

/// A healthy pipeline to check that an executor still works.
pub(crate) fn healthy_pipeline() -> Pipeline {
    Pipeline::new([
        Step::new("a", Scale(2.0)).input(INPUT),
        Step::new("b", Scale(3.0)).input(INPUT),
        Step::new("sum", Sum).inputs(["a", "b"]),
    ])
    .unwrap()
}

/// The number of open descriptors of this process.
pub(crate) fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The processes whose parent is this process (zombies included).
pub(crate) fn children() -> Vec<i32> {
    children_of(std::process::id() as i32)
}

/// The state letter and parent of process `pid` (from `/proc/PID/stat`), if
/// it exists.
fn state_and_parent(pid: i32) -> Option<(char, i32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) in ")".
    let rest = stat.rfind(')').map(|i| &stat[i + 2..])?;
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse::<i32>().ok()?;
    Some((state, ppid))
}

/// The processes whose parent is `parent` (zombies included).
pub(crate) fn children_of(parent: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if state_and_parent(pid).is_some_and(|(_, ppid)| ppid == parent) {
            out.push(pid);
        }
    }
    out
}

/// Whether process `pid` exists and is not a zombie.
pub(crate) fn is_alive(pid: i32) -> bool {
    state_and_parent(pid).is_some_and(|(state, _)| !matches!(state, 'Z' | 'X'))
}

/// Polls until none of `workers` is alive; past `within`, kills the ones
/// left (they are no children of this process, so nothing else would) and
/// fails, naming `case`.
pub(crate) fn assert_workers_end(workers: &[i32], within: Duration, case: &str) {
    let deadline = std::time::Instant::now() + within;
    let mut alive = workers.to_vec();
    while !alive.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        alive.retain(|&pid| is_alive(pid));
    }
    for &pid in &alive {
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status();
    }
    assert!(
        alive.is_empty(),
        "{case}: workers {alive:?} of {workers:?} outlived their parent"
    );
}

/// Waits until a child process of this one sleeps in a
/// `Fault::SleepReporting` stage; gives its pid.
pub(crate) fn sleeping_worker() -> i32 {
    sleeping_workers_of(std::process::id() as i32, 1)[0]
}

/// Waits until `n` child processes of `parent` sleep in
/// `Fault::SleepReporting` stages; gives their pids.
pub(crate) fn sleeping_workers_of(parent: i32, n: usize) -> Vec<i32> {
    let mut found = Vec::new();
    for _ in 0..1000 {
        for pid in children_of(parent) {
            let path = std::env::temp_dir().join(format!("tracekit-exec-process-test-{pid}"));
            if pid != parent && std::fs::remove_file(&path).is_ok() {
                found.push(pid);
            }
        }
        if found.len() >= n {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "{} of {n} workers of {parent} reported sleeping",
        found.len()
    );
}
