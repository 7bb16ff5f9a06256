//! Stages and graphs shared by the thread executor's tests.

#![allow(
    dead_code,
    reason = "each test file uses a different part of these helpers"
)]

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    thread::{self, ThreadId},
    time::Duration,
};

use tracekit_core::{INPUT, Pipeline, Run, StageError, Step, Trace, Transformer};

/// `a * x + b` on the sum of all inputs (element-wise), with a measurement.
#[derive(Clone)]
pub(crate) struct Affine(pub f64, pub f64);

impl Transformer for Affine {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let n = inputs.iter().map(|t| t.len()).min().unwrap_or(0);
        let samples: Vec<f64> = (0..n)
            .map(|k| self.0 * inputs.iter().map(|t| t.samples()[k]).sum::<f64>() + self.1)
            .map(f64::sin)
            .collect();
        let mean = samples.iter().sum::<f64>() / samples.len().max(1) as f64;
        Ok(inputs[0].derive(samples).with_measurement("mean", mean))
    }

    fn kind(&self) -> &str {
        "affine"
    }
}

/// Fails when the first input's first sample equals the marker.
#[derive(Clone)]
pub(crate) struct FailOn(pub f64);

impl Transformer for FailOn {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        match inputs[0].samples().first() {
            Some(&x) if x == self.0 => Err(format!("bad first sample {x}").into()),
            _ => Ok(inputs[0].derive(inputs[0].samples().iter().map(|x| x + 1.0).collect())),
        }
    }
}

/// Panics when the first input's first sample equals the marker.
#[derive(Clone)]
pub(crate) struct PanicOn(pub f64);

impl Transformer for PanicOn {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        if inputs[0].samples().first() == Some(&self.0) {
            panic!("boom at {}", self.0);
        }
        Ok(inputs[0].clone())
    }
}

/// Sleeps, then passes the first input through; counts its calls, the
/// stages running at once, and the threads it ran on.
#[derive(Clone, Default)]
pub(crate) struct Probe {
    pub sleep: Duration,
    pub calls: Arc<AtomicUsize>,
    pub running: Arc<AtomicUsize>,
    pub max_running: Arc<AtomicUsize>,
    pub threads: Arc<Mutex<Vec<ThreadId>>>,
}

impl Probe {
    pub(crate) fn sleeping(ms: u64) -> Probe {
        Probe {
            sleep: Duration::from_millis(ms),
            ..Probe::default()
        }
    }
}

impl Transformer for Probe {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        self.threads
            .lock()
            .map_err(|_| "poisoned")?
            .push(thread::current().id());
        thread::sleep(self.sleep);
        self.running.fetch_sub(1, Ordering::SeqCst);
        Ok(inputs[0].clone())
    }
}

pub(crate) fn input(seed: f64, n: usize) -> Trace {
    Trace::new(
        (0..n).map(|k| seed + (k as f64 * 0.37).cos()).collect(),
        1e3,
    )
    .unwrap()
}

/// `n` chained stages.
pub(crate) fn chain(n: usize) -> Pipeline {
    Pipeline::new((0..n).map(|k| Step::new(format!("s{k}"), Affine(1.0 + k as f64 * 0.01, 0.1))))
        .unwrap()
}

/// input -> a -> (b, c) -> d, twice over, ending in a stage reading three.
pub(crate) fn diamonds() -> Pipeline {
    Pipeline::new([
        Step::new("a", Affine(1.1, 0.0)),
        Step::new("b", Affine(0.9, 0.2)).input("a"),
        Step::new("c", Affine(1.3, -0.2)).input("a"),
        Step::new("d", Affine(1.0, 0.0)).inputs(["b", "c"]),
        Step::new("e", Affine(0.7, 0.1)).input("d"),
        Step::new("f", Affine(0.5, 0.3)).inputs(["d", INPUT]),
        Step::new("g", Affine(1.0, 0.0)).inputs(["e", "f", "a"]),
    ])
    .unwrap()
}

/// `width` stages reading the input, and one reading them all.
pub(crate) fn fan_out(width: usize) -> Pipeline {
    let mut steps: Vec<Step> = (0..width)
        .map(|k| Step::new(format!("w{k}"), Affine(1.0 + k as f64 * 0.001, 0.0)).input(INPUT))
        .collect();
    steps.push(Step::new("join", Affine(0.01, 0.0)).inputs((0..width).map(|k| format!("w{k}"))));
    Pipeline::new(steps).unwrap()
}

/// A random DAG of `n` stages (fixed seed): each reads one to three earlier
/// stages or the input, declared in shuffled order.
pub(crate) fn random_dag(n: usize, seed: u64) -> Pipeline {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move |m: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % m as u64) as usize
    };
    let mut steps: Vec<Step> = (0..n)
        .map(|k| {
            let reads: Vec<String> = (0..1 + next(3))
                .map(|_| match next(k + 1) {
                    0 => INPUT.to_owned(),
                    j => format!("n{}", j - 1),
                })
                .collect();
            Step::new(format!("n{k}"), Affine(1.0 + next(100) as f64 * 0.01, 0.05)).inputs(reads)
        })
        .collect();
    for k in (1..steps.len()).rev() {
        steps.swap(k, next(k + 1));
    }
    Pipeline::new(steps).unwrap()
}

/// Asserts that two runs hold the same traces, bit for bit, for every step.
pub(crate) fn assert_same_run(p: &Pipeline, a: &Run, b: &Run) {
    assert!(a.output().bit_eq(b.output()), "outputs differ");
    for name in p.step_names() {
        match (a.get(name), b.get(name)) {
            (Some(x), Some(y)) => assert!(x.bit_eq(y), "step {name} differs"),
            (None, None) => {}
            _ => panic!("step {name} kept by one run only"),
        }
    }
    assert_eq!(a.kept_steps(), b.kept_steps());
}
