//! Failing, panicking and slow stages on the thread executor.

use std::{sync::atomic::Ordering, time::Duration};

use tracekit_core::{
    Error, INPUT, Pipeline, SequentialExecutor, StageError, Step, Trace, Transformer,
};
use tracekit_exec_thread::ThreadExecutor;
use tracekit_testkit::{Affine, FailOn, PanicOn, Probe, input};

fn mid_graph(bad: Step) -> Pipeline {
    Pipeline::new([
        Step::new("a", Affine(1.0, 0.0)),
        Step::new("b", Affine(2.0, 0.0)).input("a"),
        bad.input("a"),
        Step::new("d", Affine(1.0, 0.0)).inputs(["b", "bad"]),
        Step::new("e", Affine(1.0, 0.0)).input("d"),
    ])
    .unwrap()
}

#[test]
fn a_panicking_stage_mid_graph_is_an_error_and_the_pipeline_stays_usable() {
    // Affine(1, 0) of a trace starting at 0 starts at sin(0) = 0.
    let p = mid_graph(Step::new("bad", PanicOn(0.0)));
    for workers in [1, 2, 3, 64] {
        let exec = ThreadExecutor::new(workers);
        let err = p
            .run_on(&exec, &input(-1.0, 16).derive(vec![0.0; 16]))
            .unwrap_err();
        match &err {
            Error::StagePanicked { step, message } => {
                assert_eq!(step, "bad");
                assert_eq!(message, "boom at 0");
            }
            other => panic!("expected a panic error, got {other:?}"),
        }
        assert_eq!(err.to_string(), "Stage 'bad' panicked: boom at 0");
        let x = input(1.0, 16);
        let run = p.run_on(&exec, &x).unwrap();
        assert!(
            run.output()
                .bit_eq(p.run_on(&SequentialExecutor, &x).unwrap().output())
        );
    }
}

#[test]
fn an_erroring_stage_names_its_step() {
    let p = mid_graph(Step::new("bad", FailOn(0.0)));
    for workers in [1, 2, 3, 64] {
        let err = p
            .run_on(
                &ThreadExecutor::new(workers),
                &input(0.0, 8).derive(vec![0.0; 8]),
            )
            .unwrap_err();
        assert!(
            matches!(&err, Error::Stage { step, .. } if step == "bad"),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "Stage 'bad' failed: bad first sample 0");
        assert_eq!(err.step(), Some("bad"));
    }
}

#[test]
fn no_stage_starts_after_the_first_error() {
    let probe = Probe::sleeping(20);
    let mut steps = vec![Step::new("bad", FailOn(0.0)).input(INPUT)];
    steps.extend((0..20).map(|k| Step::new(format!("p{k}"), probe.clone()).input(INPUT)));
    let p = Pipeline::new(steps).unwrap();
    let err = p
        .run_on(&ThreadExecutor::new(2), &input(0.0, 4).derive(vec![0.0; 4]))
        .unwrap_err();
    assert_eq!(err.step(), Some("bad"));
    let calls = probe.calls.load(Ordering::SeqCst);
    assert!(calls <= 2, "{calls} stages started after the failure");
}

#[test]
fn stages_after_a_failure_in_a_chain_never_run() {
    let probe = Probe::default();
    let p = Pipeline::new([
        Step::new("a", Affine(1.0, 0.0)),
        Step::new("bad", FailOn(0.0)),
        Step::new("after", probe.clone()),
    ])
    .unwrap();
    let err = p
        .run_on(&ThreadExecutor::new(4), &input(0.0, 4).derive(vec![0.0; 4]))
        .unwrap_err();
    assert_eq!(err.step(), Some("bad"));
    assert_eq!(probe.calls.load(Ordering::SeqCst), 0);
}

#[test]
fn stage_timeout_gives_timeout_on_thread_and_sequential() {
    let mut p = Pipeline::new([
        Step::new("fast", Affine(1.0, 0.0)).input(INPUT),
        Step::new("slow", Probe::sleeping(60)).input(INPUT),
        Step::new("other", Affine(1.0, 0.0)).input(INPUT),
    ])
    .unwrap();
    p.set_stage_timeout(Some(Duration::from_millis(10)));
    let x = input(0.5, 8);
    let thread_err = p.run_on(&ThreadExecutor::new(2), &x).unwrap_err();
    let seq_err = p.run_on(&SequentialExecutor, &x).unwrap_err();
    for err in [thread_err, seq_err] {
        match &err {
            Error::Timeout { step, limit } => {
                assert_eq!(step, "slow");
                assert_eq!(*limit, Duration::from_millis(10));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("Stage 'slow' exceeded its time limit of")
        );
    }
    p.set_stage_timeout(Some(Duration::from_secs(30)));
    assert!(p.run_on(&ThreadExecutor::new(2), &x).is_ok());
}

#[test]
fn zero_workers_is_clamped_or_rejected() {
    assert_eq!(ThreadExecutor::new(0).workers(), 1);
    let err = ThreadExecutor::try_new(0).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)));
    assert_eq!(
        err.to_string(),
        "Invalid configuration: the thread executor needs at least 1 worker, got 0"
    );
    let p = tracekit_testkit::fan_out(5);
    let x = input(0.0, 8);
    assert!(
        p.run_on(&ThreadExecutor::new(0), &x)
            .unwrap()
            .output()
            .bit_eq(p.run_on(&SequentialExecutor, &x).unwrap().output())
    );
}

/// Fails on an input whose first sample is `slow` after a while, and on one
/// whose first sample is `fast` at once.
#[derive(Clone)]
struct FailsAt {
    slow: f64,
    fast: f64,
}

impl Transformer for FailsAt {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        match i[0].samples().first() {
            Some(&x) if x == self.slow => {
                std::thread::sleep(std::time::Duration::from_millis(200));
                Err(format!("slow failure on {x}").into())
            }
            Some(&x) if x == self.fast => Err(format!("fast failure on {x}").into()),
            _ => Ok(i[0].clone()),
        }
    }
}

#[test]
fn the_earliest_failure_in_the_sequential_order_wins_however_late() {
    let at = |x: f64| Trace::new(vec![x, 1.0], 1e3).unwrap();
    let batch = Pipeline::new([Step::new(
        "check",
        FailsAt {
            slow: 1.0,
            fast: 2.0,
        },
    )])
    .unwrap();
    let run = Pipeline::new([
        Step::new(
            "a",
            FailsAt {
                slow: 0.0,
                fast: -1.0,
            },
        )
        .input(INPUT),
        Step::new(
            "b",
            FailsAt {
                slow: -1.0,
                fast: 0.0,
            },
        )
        .input(INPUT),
    ])
    .unwrap();
    for workers in [2, 3, 4] {
        let executor = ThreadExecutor::new(workers);
        let err = batch
            .run_batch_on(&executor, &[at(0.0), at(1.0), at(2.0)])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Batch input 1 failed: Stage 'check' failed: slow failure on 1"
        );
        let err = run.run_on(&executor, &at(0.0)).unwrap_err();
        assert_eq!(err.to_string(), "Stage 'a' failed: slow failure on 0");
    }
}
