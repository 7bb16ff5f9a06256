//! `run_batch`: many traces through one pipeline.

use std::sync::atomic::Ordering;

use tracekit_core::{Error, Executor, Pipeline, SequentialExecutor, Step, Trace};
use tracekit_exec_thread::ThreadExecutor;
use tracekit_testkit::{FailOn, Probe, assert_same_run, chain, diamonds, input};

fn inputs(n: usize) -> Vec<Trace> {
    (0..n)
        .map(|k| input(k as f64 * 0.25 + 1.0, 100 + k))
        .collect()
}

#[test]
fn results_come_in_input_order_and_equal_sequential() {
    let xs = inputs(17);
    for p in [chain(3), diamonds()] {
        let expected = p.run_batch_on(&SequentialExecutor, &xs).unwrap();
        for workers in [1, 2, 3, 64] {
            let got = p.run_batch_on(&ThreadExecutor::new(workers), &xs).unwrap();
            assert_eq!(got.len(), xs.len());
            for (g, e) in got.iter().zip(&expected) {
                assert_same_run(&p, g, e);
            }
            for (g, x) in got.iter().zip(&xs) {
                assert_eq!(g.output().len(), x.len());
            }
        }
    }
}

#[test]
fn an_empty_batch_is_empty() {
    let got = chain(2).run_batch_on(&ThreadExecutor::new(2), &[]).unwrap();
    assert!(got.is_empty());
}

#[test]
fn the_error_names_the_lowest_failing_input_and_the_step() {
    let p = Pipeline::new([
        Step::new("pre", Probe::default()),
        Step::new("check", FailOn(-7.0)),
        Step::new("post", Probe::default()),
    ])
    .unwrap();
    let mut xs = inputs(12);
    for bad in [9, 5] {
        xs[bad] = xs[bad].derive(vec![-7.0; 4]);
    }
    for workers in [1, 2, 3, 64] {
        let err = p
            .run_batch_on(&ThreadExecutor::new(workers), &xs)
            .unwrap_err();
        match &err {
            Error::Batch { index, source } => {
                assert_eq!(*index, 5);
                assert!(matches!(&**source, Error::Stage { step, .. } if step == "check"));
            }
            other => panic!("expected a batch error, got {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            "Batch input 5 failed: Stage 'check' failed: bad first sample -7"
        );
        assert_eq!(err.step(), Some("check"));
        let seq = p.run_batch_on(&SequentialExecutor, &xs).unwrap_err();
        assert_eq!(seq.to_string(), err.to_string());
    }
}

#[test]
fn at_most_workers_traces_are_in_flight() {
    let probe = Probe::sleeping(5);
    let p = Pipeline::new([Step::new("only", probe.clone())]).unwrap();
    let xs = inputs(12);
    let runs = ThreadExecutor::new(3).run_batch(&p.plan(), &xs).unwrap();
    assert_eq!(runs.len(), 12);
    assert_eq!(probe.calls.load(Ordering::SeqCst), 12);
    let max = probe.max_running.load(Ordering::SeqCst);
    assert!((2..=3).contains(&max), "max in flight {max}");
    for run in &runs {
        assert!(run.records()[0].worker <= 3);
    }
}
