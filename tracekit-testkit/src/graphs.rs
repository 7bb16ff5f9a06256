//! Test inputs, graphs and comparisons.

use tracekit_core::{INPUT, Pipeline, Run, Step, Trace, TraceMeta};

use crate::Affine;

/// A trace of `x` at 1 kHz.
pub fn trace(x: &[f64]) -> Trace {
    Trace::new(x.to_vec(), 1000.0).expect("a valid rate")
}

/// `n` samples `seed + cos(0.37 k)` at 1 kHz.
pub fn input(seed: f64, n: usize) -> Trace {
    Trace::new(
        (0..n).map(|k| seed + (k as f64 * 0.37).cos()).collect(),
        1e3,
    )
    .expect("a valid rate")
}

/// A deterministic, irregular signal of `n` samples at 1 MS/s, with
/// metadata in every field (channel, units, start, a measurement).
pub fn signal(n: usize) -> Trace {
    let samples = (0..n)
        .map(|k| {
            let t = k as f64 * 1e-6;
            (2.0 * std::f64::consts::PI * 1e4 * t).sin() + 0.1 * (k as f64 * 0.37).cos()
        })
        .collect();
    let mut meta = TraceMeta::new(1e6);
    meta.channel = "CH1".into();
    meta.units = "V".into();
    meta.start = 1.25e-3;
    meta.measurements.insert("gain".into(), 0.5);
    Trace::with_meta(samples, meta).expect("a valid rate")
}

/// `n` chained [`Affine`] stages `s0`, `s1`, ...
pub fn chain(n: usize) -> Pipeline {
    Pipeline::new((0..n).map(|k| Step::new(format!("s{k}"), Affine(1.0 + k as f64 * 0.01, 0.1))))
        .expect("a valid chain")
}

/// input -> a -> (b, c) -> d, twice over, ending in a stage reading three.
pub fn diamonds() -> Pipeline {
    Pipeline::new([
        Step::new("a", Affine(1.1, 0.0)),
        Step::new("b", Affine(0.9, 0.2)).input("a"),
        Step::new("c", Affine(1.3, -0.2)).input("a"),
        Step::new("d", Affine(1.0, 0.0)).inputs(["b", "c"]),
        Step::new("e", Affine(0.7, 0.1)).input("d"),
        Step::new("f", Affine(0.5, 0.3)).inputs(["d", INPUT]),
        Step::new("g", Affine(1.0, 0.0)).inputs(["e", "f", "a"]),
    ])
    .expect("a valid graph")
}

/// `width` stages `w0`, `w1`, ... reading the input, and `join` reading them all.
pub fn fan_out(width: usize) -> Pipeline {
    let mut steps: Vec<Step> = (0..width)
        .map(|k| Step::new(format!("w{k}"), Affine(1.0 + k as f64 * 0.001, 0.0)).input(INPUT))
        .collect();
    steps.push(Step::new("join", Affine(0.01, 0.0)).inputs((0..width).map(|k| format!("w{k}"))));
    Pipeline::new(steps).expect("a valid fan-out")
}

/// A random DAG of `n` [`Affine`] stages (fixed `seed`): each reads one to
/// three earlier stages or the input, declared in shuffled order.
pub fn random_dag(n: usize, seed: u64) -> Pipeline {
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
    Pipeline::new(steps).expect("a valid graph")
}

/// Asserts that two runs of `p` hold the same traces, bit for bit, for every
/// step, and keep the same steps.
pub fn assert_same_run(p: &Pipeline, a: &Run, b: &Run) {
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
