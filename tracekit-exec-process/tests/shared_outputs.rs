//! Stages that build their outputs in output buffers (`SampleVec`), whose
//! outputs travel from the workers as shared memory, mixed with stages that
//! return a `Vec` or pass their input through: the results are the
//! sequential executor's, bit for bit, in every shape, size and order.

mod common;

use common::*;
use tracekit_core::{INPUT, Pipeline, SequentialExecutor, Step, Trace};
use tracekit_exec_process::ProcessExecutor;

fn chain() -> Pipeline {
    Pipeline::new([
        Step::new("p1", PooledScale(1.5)),
        Step::new("v1", Scale(-0.25)),
        Step::new("id", Identity),
        Step::new("p2", PooledScale(3.0)),
        Step::new("respell", Respell),
        Step::new("sum", PooledSum),
    ])
    .unwrap()
}

fn diamond() -> Pipeline {
    Pipeline::new([
        Step::new("top", PooledScale(0.5)).input(INPUT),
        Step::new("left", Scale(2.0)).input("top"),
        Step::new("right", PooledScale(-1.0)).input("top"),
        Step::new("same", Identity).input("right"),
        Step::new("bottom", PooledSum).inputs(["left", "right", "top", "same", "left"]),
    ])
    .unwrap()
}

fn fan_out() -> Pipeline {
    Pipeline::new([
        Step::new("a", PooledScale(2.0)).input(INPUT),
        Step::new("b", Respell).input(INPUT),
        Step::new("c", PooledScale(-3.0)).input(INPUT),
        Step::new("d", Identity).input(INPUT),
        Step::new("e", PooledSum).inputs([INPUT, INPUT]),
        Step::new("merge", PooledSum).inputs(["a", "c", "d", "e", INPUT]),
    ])
    .unwrap()
}

#[test]
fn results_equal_sequential_bit_for_bit() {
    for workers in 1..=3 {
        let executor = ProcessExecutor::new(workers).unwrap();
        // Sizes below and above the smallest pooled buffer, growing and
        // shrinking so that reused segments are larger and smaller.
        for n in [0, 1, 511, 512, 5000, 65_536, 700, 200_000, 3, 65_536] {
            for p in [chain(), diamond(), fan_out()] {
                assert_same(&p, &executor, &signal(n));
            }
        }
    }
}

#[test]
fn batches_equal_sequential() {
    let executor = ProcessExecutor::new(2).unwrap();
    let inputs: Vec<Trace> = [10, 4096, 100_000, 512, 70_000, 0, 4096]
        .into_iter()
        .map(signal)
        .collect();
    for p in [chain(), diamond(), fan_out()] {
        for _ in 0..3 {
            let got = p.run_batch_on(&executor, &inputs).unwrap();
            let want = p.run_batch_on(&SequentialExecutor, &inputs).unwrap();
            for (g, w) in got.iter().zip(&want) {
                for name in p.step_names() {
                    assert!(g.get(name).unwrap().bit_eq(w.get(name).unwrap()), "{name}");
                }
            }
        }
    }
}

#[test]
fn outputs_outlive_the_executor_and_later_runs() {
    let p = fan_out();
    let executor = ProcessExecutor::new(2).unwrap();
    let x = signal(50_000);
    let first = p.run_on(&executor, &x).unwrap();
    // Later runs reuse segments: none that the first run's traces hold.
    for _ in 0..5 {
        drop(p.run_on(&executor, &signal(50_000)).unwrap());
    }
    drop(executor);
    let want = p.run_on(&SequentialExecutor, &x).unwrap();
    for name in p.step_names() {
        assert!(
            first.get(name).unwrap().bit_eq(want.get(name).unwrap()),
            "{name}"
        );
    }
}
