//! Where and how many stages run: the inline fast path, the worker limit,
//! stage records.

use std::{sync::atomic::Ordering, thread};

use tracekit_core::{INPUT, Pipeline, Step};
use tracekit_exec_thread::ThreadExecutor;
use tracekit_testkit::{Probe, input};

#[test]
fn a_chain_runs_on_the_calling_thread() {
    let probe = Probe::default();
    let p = Pipeline::new((0..10).map(|k| Step::new(format!("s{k}"), probe.clone()))).unwrap();
    let run = p.run_on(&ThreadExecutor::new(8), &input(0.0, 4)).unwrap();
    let me = thread::current().id();
    let threads = probe.threads.lock().unwrap();
    assert_eq!(threads.len(), 10);
    assert!(threads.iter().all(|&t| t == me));
    assert!(run.records().iter().all(|r| r.worker == 0));
}

#[test]
fn at_most_workers_stages_run_at_once() {
    for workers in [1, 2, 3] {
        let probe = Probe::sleeping(10);
        let p =
            Pipeline::new((0..12).map(|k| Step::new(format!("s{k}"), probe.clone()).input(INPUT)))
                .unwrap();
        let run = p
            .run_on(&ThreadExecutor::new(workers), &input(0.0, 4))
            .unwrap();
        assert_eq!(probe.max_running.load(Ordering::SeqCst), workers);
        assert!(run.records().iter().all(|r| r.worker < workers));
        let used: std::collections::BTreeSet<usize> =
            run.records().iter().map(|r| r.worker).collect();
        assert_eq!(used.len(), workers, "workers used: {used:?}");
    }
}

#[test]
fn records_hold_start_and_duration() {
    let p = Pipeline::new([
        Step::new("a", Probe::sleeping(5)).input(INPUT),
        Step::new("b", Probe::sleeping(5)).input(INPUT),
        Step::new("c", Probe::sleeping(5)).inputs(["a", "b"]),
    ])
    .unwrap();
    let run = p.run_on(&ThreadExecutor::new(2), &input(0.0, 4)).unwrap();
    let r = run.records();
    for rec in r {
        assert!(rec.duration.as_millis() >= 5);
    }
    // c starts after both a and b ended.
    assert!(r[2].start >= r[0].start + r[0].duration);
    assert!(r[2].start >= r[1].start + r[1].duration);
    assert_eq!(run.timings().len(), 3);
    assert_eq!(run.timings()[2].0, "c");
}

#[test]
fn a_stage_starts_when_its_own_inputs_are_ready() {
    // slow -> after_slow and fast -> after_fast: after_fast must not wait for slow.
    let p = Pipeline::new([
        Step::new("slow", Probe::sleeping(80)).input(INPUT),
        Step::new("fast", Probe::sleeping(1)).input(INPUT),
        Step::new("after_slow", Probe::sleeping(1)).input("slow"),
        Step::new("after_fast", Probe::sleeping(1)).input("fast"),
    ])
    .unwrap();
    let run = p.run_on(&ThreadExecutor::new(3), &input(0.0, 4)).unwrap();
    let r = run.records();
    assert!(r[3].start < r[0].start + r[0].duration, "{r:?}");
}
