//! The thread executor gives the sequential executor's results, bit for bit.

use std::{sync::Arc, thread};

use tracekit_core::{Pipeline, SequentialExecutor};
use tracekit_exec_thread::ThreadExecutor;
use tracekit_testkit::{assert_same_run, chain, diamonds, fan_out, input, random_dag};

const WORKERS: [usize; 4] = [1, 2, 3, 64];

fn check(p: &Pipeline) {
    for seed in [0.0, 1.5] {
        let x = input(seed, 257);
        let expected = p.run_on(&SequentialExecutor, &x).unwrap();
        for workers in WORKERS {
            let got = p.run_on(&ThreadExecutor::new(workers), &x).unwrap();
            assert_same_run(p, &got, &expected);
        }
    }
}

#[test]
fn chains() {
    check(&chain(1));
    check(&chain(2));
    check(&chain(40));
}

#[test]
fn diamond_graphs() {
    check(&diamonds());
}

#[test]
fn wide_fan_outs() {
    check(&fan_out(3));
    check(&fan_out(100));
}

#[test]
fn random_graphs() {
    for seed in 0..20 {
        check(&random_dag(30, seed));
    }
}

#[test]
fn with_output_and_dropped_intermediates() {
    let p = diamonds().with_output("d").unwrap();
    let x = input(0.3, 64);
    let keep: Arc<[bool]> = vec![false; p.len()].into();
    let plan = p.plan().with_keep(Some(keep));
    let expected = SequentialExecutor.run_sequential(&plan, &x);
    for workers in WORKERS {
        let got = tracekit_core::Executor::run(&ThreadExecutor::new(workers), &plan, &x).unwrap();
        assert_same_run(&p, &got, &expected);
        assert_eq!(got.kept_steps(), vec!["d"]);
    }
}

trait RunSequential {
    fn run_sequential(
        &self,
        plan: &tracekit_core::Plan<'_>,
        x: &tracekit_core::Trace,
    ) -> tracekit_core::Run;
}

impl RunSequential for SequentialExecutor {
    fn run_sequential(
        &self,
        plan: &tracekit_core::Plan<'_>,
        x: &tracekit_core::Trace,
    ) -> tracekit_core::Run {
        tracekit_core::Executor::run(self, plan, x).unwrap()
    }
}

#[test]
fn concurrent_runs_on_one_pipeline() {
    let p = random_dag(25, 7);
    let exec = ThreadExecutor::new(3);
    let inputs: Vec<_> = (0..6).map(|k| input(k as f64, 128)).collect();
    let expected: Vec<_> = inputs
        .iter()
        .map(|x| p.run_on(&SequentialExecutor, x).unwrap())
        .collect();
    thread::scope(|s| {
        for (x, want) in inputs.iter().zip(&expected) {
            let (p, exec) = (&p, &exec);
            s.spawn(move || {
                for _ in 0..5 {
                    let got = p.run_on(exec, x).unwrap();
                    assert_same_run(p, &got, want);
                }
            });
        }
    });
}

#[test]
fn empty_traces_are_values() {
    let p = fan_out(4);
    let x = input(0.0, 0);
    let expected = p.run_on(&SequentialExecutor, &x).unwrap();
    let got = p.run_on(&ThreadExecutor::new(2), &x).unwrap();
    assert_same_run(&p, &got, &expected);
    assert!(got.output().is_empty());
}
