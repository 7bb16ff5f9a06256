//! The batch engine: admission, the failure rule for stages and inputs,
//! keep-going batches, and chains taken through the schedule.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use tracekit_core::{
    Error, INPUT, Pipeline, RunSet, SequentialExecutor, StageError, Step, Task, Trace, Transformer,
    batch_result,
};

/// Adds one; fails on a first sample equal to `fail_on`; counts its calls.
#[derive(Clone)]
struct Inc {
    fail_on: f64,
    calls: Arc<AtomicUsize>,
}

impl Inc {
    fn new(fail_on: f64) -> Inc {
        Inc {
            fail_on,
            calls: Arc::default(),
        }
    }
}

impl Transformer for Inc {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match i[0].samples()[0] {
            x if x == self.fail_on => Err(format!("refuses {x}").into()),
            _ => Ok(i[0].derive(i[0].samples().iter().map(|x| x + 1.0).collect())),
        }
    }
}

fn at(x: f64) -> Trace {
    Trace::new(vec![x], 1.0).unwrap()
}

/// Completes `task` by running it in place.
fn run(set: &mut RunSet<'_>, task: Task) {
    let result = set.run_task(task, 0);
    set.complete(task, result);
}

#[test]
fn at_most_window_runs_are_open_and_inputs_come_in_order() {
    let p = Pipeline::new([Step::new("a", Inc::new(f64::NAN))]).unwrap();
    let plan = p.plan();
    let inputs: Vec<Trace> = (0..5).map(|k| at(k as f64)).collect();
    let mut set = RunSet::new(&plan, &inputs, 2);
    let first = set.next_task().unwrap();
    let second = set.next_task().unwrap();
    assert_eq!((first.input, second.input), (0, 1));
    assert_eq!(set.next_task(), None, "the window is full");
    assert!(set.is_open(0) && set.is_open(1) && !set.is_open(2));
    run(&mut set, second);
    assert_eq!(set.next_task().map(|t| t.input), Some(2));
    assert_eq!(set.in_flight(), 2);
}

#[test]
fn a_batch_stops_after_its_lowest_failing_input() {
    let stage = Inc::new(1.0);
    let calls = Arc::clone(&stage.calls);
    let p = Pipeline::new([Step::new("a", stage)]).unwrap();
    let plan = p.plan();
    let inputs: Vec<Trace> = (0..4).map(|k| at(k as f64)).collect();
    let mut set = RunSet::new(&plan, &inputs, 4);
    let tasks: Vec<Task> = std::iter::from_fn(|| set.next_task()).collect();
    assert_eq!(tasks.len(), 4);
    // Input 2 succeeds before input 1 fails; input 3 is still running.
    run(&mut set, tasks[2]);
    run(&mut set, tasks[1]);
    assert!(!set.is_finished(), "inputs 0 and 3 are in flight");
    run(&mut set, tasks[3]);
    run(&mut set, tasks[0]);
    assert!(set.is_finished());
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    let err = set.finish().unwrap_err();
    assert_eq!(
        err.to_string(),
        "Batch input 1 failed: Stage 'a' failed: refuses 1"
    );
}

#[test]
fn nothing_after_a_failing_input_is_admitted() {
    let stage = Inc::new(0.0);
    let calls = Arc::clone(&stage.calls);
    let p = Pipeline::new([Step::new("a", stage)]).unwrap();
    let inputs: Vec<Trace> = (0..6).map(|k| at(k as f64)).collect();
    let err = p.run_batch(&inputs).unwrap_err();
    assert!(matches!(err, Error::Batch { index: 0, .. }), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_keep_going_batch_runs_every_input() {
    let p = Pipeline::new([Step::new("a", Inc::new(1.0)), Step::new("b", Inc::new(3.0))]).unwrap();
    let inputs: Vec<Trace> = (0..4).map(|k| at(k as f64)).collect();
    let each = p.run_batch_each(&inputs);
    let outcomes: Vec<Result<f64, String>> = each
        .iter()
        .map(|r| match r {
            Ok(run) => Ok(run.output().samples()[0]),
            Err(e) => Err(e.to_string()),
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            Ok(2.0),
            Err("Stage 'a' failed: refuses 1".into()),
            Err("Stage 'b' failed: refuses 3".into()),
            Ok(5.0),
        ]
    );
    let err = batch_result(each).unwrap_err();
    assert!(matches!(err, Error::Batch { index: 1, .. }), "{err}");
    assert!(batch_result(p.run_batch_each(&inputs[..1])).is_ok());
}

#[test]
fn stages_before_a_failure_go_on_and_an_earlier_failure_wins() {
    // a and b both read the input; b fails first, then a fails too: a is
    // earlier in the sequential order, so its failure is the run's.
    let p = Pipeline::new([
        Step::new("a", Inc::new(0.0)).input(INPUT),
        Step::new("b", Inc::new(0.0)).input(INPUT),
        Step::new("c", Inc::new(f64::NAN)).inputs(["a", "b"]),
    ])
    .unwrap();
    let plan = p.plan();
    let inputs = [at(0.0)];
    let mut set = RunSet::new(&plan, &inputs, 1);
    let a = set.next_task().unwrap();
    let b = set.next_task().unwrap();
    assert_eq!((a.stage, b.stage), (0, 1));
    run(&mut set, b);
    assert!(
        !set.is_finished(),
        "a is earlier than the failure: it goes on"
    );
    run(&mut set, a);
    assert!(set.is_finished());
    let err = set.finish_run().unwrap_err();
    assert_eq!(err.to_string(), "Stage 'a' failed: refuses 0");
    let sequential = p.run_on(&SequentialExecutor, &inputs[0]).unwrap_err();
    assert_eq!(sequential.to_string(), err.to_string());
}

#[test]
fn a_chain_successor_is_taken_once_its_predecessor_completes() {
    let p = Pipeline::new([
        Step::new("a", Inc::new(f64::NAN)),
        Step::new("b", Inc::new(f64::NAN)),
    ])
    .unwrap();
    let plan = p.plan();
    let inputs = [at(0.0)];
    let mut set = RunSet::new(&plan, &inputs, 1);
    let a = set.next_task().unwrap();
    let b = Task { input: 0, stage: 1 };
    assert!(!set.take(b), "b is not ready before a completes");
    run(&mut set, a);
    assert!(set.take(b));
    assert_eq!(
        set.next_task(),
        None,
        "b was taken: nothing else is runnable"
    );
    run(&mut set, b);
    assert_eq!(set.finish_run().unwrap().output().samples(), &[2.0]);
}

#[test]
fn an_empty_batch_is_finished_at_once() {
    let p = Pipeline::new([Step::new("a", Inc::new(0.0))]).unwrap();
    let plan = p.plan();
    let set: RunSet<'_> = RunSet::new(&plan, &[], 3);
    assert!(set.is_finished());
    assert!(set.finish().unwrap().is_empty());
}
