//! The process executor against the sequential one, and its error handling.

mod common;

use std::{sync::Arc, time::Duration};

use common::*;
use tracekit_core::{Error, Executor, INPUT, Pipeline, SequentialExecutor, Step};
use tracekit_exec_process::{ProcessError, ProcessExecutor};

fn chain() -> Pipeline {
    Pipeline::new([
        Step::new("id", Identity),
        Step::new("s1", Scale(1.5)),
        Step::new("s2", Scale(-0.25)),
        Step::new("respell", Respell),
        Step::new("s3", Scale(3.0)),
    ])
    .unwrap()
}

fn diamond() -> Pipeline {
    Pipeline::new([
        Step::new("top", Scale(0.5)).input(INPUT),
        Step::new("left", Scale(2.0)).input("top"),
        Step::new("right", Center { mean: 0.125 }).input("top"),
        Step::new("bottom", Sum).inputs(["left", "right", "top", "left"]),
    ])
    .unwrap()
}

fn fan_out() -> Pipeline {
    Pipeline::new([
        Step::new("a", Scale(2.0)).input(INPUT),
        Step::new("b", Respell).input(INPUT),
        Step::new("c", Center { mean: 1.0 }).input(INPUT),
        Step::new("d", Identity).input(INPUT),
        Step::new("e", Burn(2)).input(INPUT),
        Step::new("merge", Sum).inputs(["a", "c", "d", "e", INPUT]),
    ])
    .unwrap()
}

#[test]
fn results_equal_sequential_bit_for_bit() {
    for workers in 1..=4 {
        let executor = ProcessExecutor::new(workers).unwrap();
        for p in [chain(), diamond(), fan_out()] {
            for n in [0, 1, 1000, 65_536] {
                if n == 0 && p.step_names().contains(&"merge") {
                    continue; // Sum of empty inputs is fine, but keep one empty case per shape
                }
                assert_same(&p, &executor, &signal(n));
            }
        }
        assert!(executor.worker_pids().len() <= workers);
    }
}

#[test]
fn workers_are_reused_across_runs() {
    let executor = ProcessExecutor::new(2).unwrap();
    let p = fan_out();
    assert!(
        executor.worker_pids().is_empty(),
        "workers are forked lazily"
    );
    p.run_on(&executor, &signal(100)).unwrap();
    let pids = executor.worker_pids();
    assert_eq!(pids.len(), 2);
    for _ in 0..5 {
        p.run_on(&executor, &signal(100)).unwrap();
    }
    assert_eq!(executor.worker_pids(), pids);
}

#[test]
fn batches_equal_sequential() {
    let executor = ProcessExecutor::new(3).unwrap();
    let p = diamond();
    let inputs: Vec<_> = (0..9).map(|k| signal(100 * k + 1)).collect();
    let want = p.run_batch_on(&SequentialExecutor, &inputs).unwrap();
    let got = p.run_batch_on(&executor, &inputs).unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!(g.output().bit_eq(w.output()));
        assert!(g.get("left").unwrap().bit_eq(w.get("left").unwrap()));
    }
    assert!(p.run_batch_on(&executor, &[]).unwrap().is_empty());
}

#[test]
fn a_batch_error_names_the_input_and_step() {
    let executor = ProcessExecutor::new(2).unwrap();
    let p = Pipeline::new([
        Step::new("a", Scale(2.0)),
        Step::new("sum", Sum).inputs(["a", INPUT]),
    ])
    .unwrap();
    let mut inputs: Vec<_> = (0..5).map(|_| signal(64)).collect();
    inputs[3] = signal(0);
    // An empty input is fine; make one fail through a stage error instead.
    let bad = Pipeline::new([Step::new("bad", Faulty(Fault::Error))]).unwrap();
    let err = bad.run_batch_on(&executor, &inputs).unwrap_err();
    match &err {
        Error::Batch { source, .. } => assert!(matches!(**source, Error::Stage { .. })),
        other => panic!("expected a batch error, got {other:?}"),
    }
    assert_eq!(err.step(), Some("bad"));
    assert_eq!(p.run_batch_on(&executor, &inputs).unwrap().len(), 5);
}

#[test]
fn fit_and_set_params_reach_the_workers() {
    let executor = ProcessExecutor::new(2).unwrap();
    let mut p = Pipeline::new([
        Step::new("center", Center::default()),
        Step::new("scale", Scale(1.0)),
    ])
    .unwrap();
    let input = signal(1000);
    let before = p.run_on(&executor, &input).unwrap();
    assert!(
        before
            .output()
            .bit_eq(&input.derive(input.samples().to_vec()))
    );
    let pids = executor.worker_pids();

    p.fit(&input).unwrap();
    assert_same(&p, &executor, &input);
    let after = p.run_on(&executor, &input).unwrap();
    let mean = input.samples().iter().sum::<f64>() / 1000.0;
    assert_eq!(after.output().samples()[0], input.samples()[0] - mean);
    assert_ne!(executor.worker_pids(), pids, "workers were forked again");

    p.set_params([("scale__factor", 4.0)]).unwrap();
    assert_same(&p, &executor, &input);

    p.named_step_mut("scale")
        .unwrap()
        .set_param("factor", 0.5.into())
        .unwrap();
    assert_same(&p, &executor, &input);

    // A clone is another state too; alternating pipelines stays correct.
    let mut q = p.clone();
    q.set_params([("scale__factor", -1.0)]).unwrap();
    for _ in 0..2 {
        assert_same(&p, &executor, &input);
        assert_same(&q, &executor, &input);
    }
}

#[test]
fn stage_errors_read_as_on_the_other_executors() {
    let executor = ProcessExecutor::new(2).unwrap();
    for fault in [Fault::Error, Fault::Panic] {
        let p = faulty_pipeline(fault);
        let want = p.run_on(&SequentialExecutor, &signal(16)).unwrap_err();
        let got = p.run_on(&executor, &signal(16)).unwrap_err();
        assert_eq!(got.to_string(), want.to_string());
        assert_eq!(got.step(), Some("bad"));
        match fault {
            Fault::Error => assert!(matches!(got, Error::Stage { .. })),
            _ => assert!(matches!(got, Error::StagePanicked { .. })),
        }
        assert_same(&healthy_pipeline(), &executor, &signal(16));
    }
}

#[test]
fn crashes_name_the_step_and_signal() {
    let executor = ProcessExecutor::new(2).unwrap();
    for (fault, signal_number, name) in [
        (Fault::Segfault, libc::SIGSEGV, "SIGSEGV"),
        (Fault::Abort, libc::SIGABRT, "SIGABRT"),
    ] {
        let err = faulty_pipeline(fault)
            .run_on(&executor, &signal(16))
            .unwrap_err();
        match err.backend_error() {
            Some(ProcessError::WorkerCrashed { step, pid, signal }) => {
                assert_eq!(step, "bad");
                assert_eq!(*signal, signal_number);
                assert!(*pid > 0);
                assert!(
                    !executor.worker_pids().contains(pid),
                    "the dead worker is gone"
                );
            }
            _ => panic!("expected a crash, got {err:?}"),
        }
        assert!(
            err.to_string().contains("Worker running stage 'bad'"),
            "{err}"
        );
        assert!(err.to_string().ends_with(name), "{err}");
        assert_same(&healthy_pipeline(), &executor, &signal(16));
    }
}

#[test]
fn a_stage_past_its_limit_is_killed() {
    let limit = Duration::from_millis(200);
    let executor = ProcessExecutor::new(2).unwrap().with_timeout(limit);
    let p = faulty_pipeline(Fault::Sleep(Duration::from_secs(30)));
    let start = std::time::Instant::now();
    let err = p.run_on(&executor, &signal(16)).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    match &err {
        Error::Timeout { step, limit: l } => assert_eq!((step.as_str(), *l), ("bad", limit)),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("Stage 'bad' exceeded its time limit of")
    );
    assert_same(&healthy_pipeline(), &executor, &signal(16));
}

#[test]
fn the_smaller_limit_wins() {
    let executor = ProcessExecutor::new(1)
        .unwrap()
        .with_timeout(Duration::from_secs(60));
    let mut p = faulty_pipeline(Fault::Sleep(Duration::from_secs(30)));
    p.set_stage_timeout(Some(Duration::from_millis(100)));
    let err = p.run_on(&executor, &signal(16)).unwrap_err();
    assert!(
        matches!(err, Error::Timeout { limit, .. } if limit == Duration::from_millis(100)),
        "{err:?}"
    );
    // Stages within the limit are fine.
    let mut ok = healthy_pipeline();
    ok.set_stage_timeout(Some(Duration::from_secs(30)));
    assert_same(&ok, &executor, &signal(16));
    // The executor's limit, when it is the smaller one.
    let executor = ProcessExecutor::new(1)
        .unwrap()
        .with_timeout(Duration::from_millis(100));
    p.set_stage_timeout(Some(Duration::from_secs(60)));
    let err = p.run_on(&executor, &signal(16)).unwrap_err();
    assert!(
        matches!(err, Error::Timeout { limit, .. } if limit == Duration::from_millis(100)),
        "{err:?}"
    );
}

#[test]
fn a_worker_killed_from_outside_is_reported_and_replaced() {
    let executor = ProcessExecutor::new(1).unwrap();
    let p = faulty_pipeline(Fault::SleepReporting(Duration::from_secs(30)));
    std::thread::scope(|s| {
        let run = s.spawn(|| p.run_on(&executor, &signal(16)));
        // Wait for the worker to sleep in the stage, then kill it.
        let pid = sleeping_worker();
        // SAFETY: sending a signal has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
        let err = run.join().unwrap().unwrap_err();
        match err.backend_error() {
            Some(ProcessError::WorkerCrashed { step, signal, .. }) => {
                assert_eq!(*signal, libc::SIGKILL);
                assert_eq!(step, "bad");
            }
            _ => panic!("expected a crash, got {err:?}"),
        }
    });
    assert_same(&healthy_pipeline(), &executor, &signal(16));
}

#[test]
fn an_idle_worker_killed_from_outside_is_replaced_quietly() {
    let executor = ProcessExecutor::new(2).unwrap();
    let p = healthy_pipeline();
    assert_same(&p, &executor, &signal(16));
    for pid in executor.worker_pids() {
        // SAFETY: sending a signal has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_same(&p, &executor, &signal(16));
}

#[test]
fn runs_from_several_threads_share_one_executor() {
    let executor = Arc::new(ProcessExecutor::new(2).unwrap());
    let p = Arc::new(fan_out());
    let handles: Vec<_> = (0..4)
        .map(|k| {
            let (executor, p) = (Arc::clone(&executor), Arc::clone(&p));
            std::thread::spawn(move || {
                for n in 0..5 {
                    assert_same(&p, &executor, &signal(100 * k + n + 1));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn keep_drops_unkept_intermediates() {
    let executor = ProcessExecutor::new(2).unwrap();
    let p = diamond();
    let keep: Arc<[bool]> = Arc::from(vec![false, true, false, false]);
    let plan = p.plan().with_keep(Some(keep));
    let run = executor.run(&plan, &signal(100)).unwrap();
    assert_eq!(run.kept_steps(), vec!["left", "bottom"]);
    let want = p.run(&signal(100)).unwrap();
    assert!(run.output().bit_eq(want.output()));
}

#[test]
fn records_say_which_worker_ran_each_stage() {
    let executor = ProcessExecutor::new(2).unwrap();
    let run = fan_out().run_on(&executor, &signal(100)).unwrap();
    assert!(run.records().iter().all(|r| (1..=2).contains(&r.worker)));
    assert_eq!(run.timings().len(), 6);
}

#[test]
fn outputs_outlive_the_executor() {
    let p = chain();
    let run = {
        let executor = ProcessExecutor::new(2).unwrap();
        p.run_on(&executor, &signal(4096)).unwrap()
    };
    assert!(run.output().bit_eq(p.run(&signal(4096)).unwrap().output()));
}

#[test]
fn zero_workers_is_an_error() {
    let err = ProcessExecutor::new(0).unwrap_err();
    assert!(err.to_string().contains("got 0"), "{err}");
    assert!(ProcessExecutor::new(1_000_000).is_err());
}

#[test]
fn a_chain_runs_in_one_worker() {
    let executor = ProcessExecutor::new(2).unwrap();
    let run = chain().run_on(&executor, &signal(64)).unwrap();
    let first = run.records()[0].worker;
    assert!(run.records().iter().all(|r| r.worker == first));
}

#[test]
fn a_failure_inside_a_chain_names_its_step() {
    // With a time limit and without one (the parent then watches no clock).
    let limited = ProcessExecutor::new(2)
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    let unlimited = ProcessExecutor::new(2).unwrap();
    for (executor, faults) in [
        (
            &limited,
            &[
                Fault::Error,
                Fault::Panic,
                Fault::Segfault,
                Fault::Sleep(Duration::from_secs(30)),
            ][..],
        ),
        (
            &unlimited,
            &[Fault::Error, Fault::Panic, Fault::Segfault, Fault::Abort][..],
        ),
    ] {
        for &fault in faults {
            let p = Pipeline::new([
                Step::new("a", Identity),
                Step::new("b", Scale(2.0)),
                Step::new("bad", Faulty(fault)),
                Step::new("c", Scale(3.0)),
            ])
            .unwrap();
            let err = p.run_on(executor, &signal(64)).unwrap_err();
            assert_eq!(err.step(), Some("bad"), "{fault:?}: {err}");
            assert_same(&chain(), executor, &signal(64));
            assert_same(&fan_out(), executor, &signal(64));
        }
    }
}

/// The executor remembers the segments of its last inputs: running the same
/// trace again must give the same result, and a trace that shares the samples
/// but not the metadata, or a new trace (perhaps at a freed one's address),
/// must never be served a stale segment.
#[test]
fn remembered_inputs_never_serve_stale_data() {
    let executor = ProcessExecutor::new(2).unwrap();
    // `Respell` copies the input's rate into its output, so stale metadata shows.
    let p = Pipeline::new([
        Step::new("a", Scale(2.0)).input(INPUT),
        Step::new("b", Respell).input(INPUT),
        Step::new("sum", Sum).inputs(["a", INPUT]),
    ])
    .unwrap();
    let input = signal(4096);
    for _ in 0..3 {
        assert_same(&p, &executor, &input);
    }
    let mut respelled = input.clone();
    respelled.meta_mut().sample_rate = 7.0;
    respelled.meta_mut().channel = "other".into();
    assert!(Arc::ptr_eq(input.buffer(), respelled.buffer()));
    assert_same(&p, &executor, &respelled);
    assert_same(&p, &executor, &input);
    // Fresh buffers, dropped after each run, over and over: any address reuse
    // must not bring back an old segment.
    for k in 0..50 {
        let fresh = signal(4096).derive(
            signal(4096)
                .samples()
                .iter()
                .map(|x| x + f64::from(k))
                .collect(),
        );
        assert_same(&p, &executor, &fresh);
    }
    // And a batch that repeats one trace among new ones.
    let batch: Vec<_> = (0..6)
        .map(|k| {
            if k % 2 == 0 {
                input.clone()
            } else {
                signal(100 + k)
            }
        })
        .collect();
    let runs = p.run_batch_on(&executor, &batch).unwrap();
    for (run, trace) in runs.iter().zip(&batch) {
        let expected = p.run_on(&SequentialExecutor, trace).unwrap();
        assert!(run.output().bit_eq(expected.output()));
    }
}
