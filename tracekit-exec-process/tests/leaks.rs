//! Nothing leaks: descriptors, child processes and zombies return to where
//! they started after errors of every kind, repeated.
//!
//! The tests of this binary count process-wide things, so they take turns.

mod common;

use std::{sync::Mutex, time::Duration};

use common::*;
use tracekit_exec_process::ProcessExecutor;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn check_repeated(fault: Fault) {
    let _turn = serial();
    let (fds_before, children_before) = (open_fds(), children().len());
    {
        let executor = ProcessExecutor::new(2)
            .unwrap()
            .with_timeout(Duration::from_millis(150));
        let bad = faulty_pipeline(fault);
        let good = healthy_pipeline();
        // One round first: the executor's steady state includes the segment
        // it remembers of the last input and those it keeps for reuse.
        assert_same(&good, &executor, &signal(256));
        bad.run_on(&executor, &signal(256)).unwrap_err();
        assert_same(&good, &executor, &signal(256));
        let (fds, kids) = (open_fds(), children().len());
        for round in 0..20 {
            let err = bad.run_on(&executor, &signal(256)).unwrap_err();
            assert_eq!(err.step(), Some("bad"), "round {round}: {err}");
            assert_same(&good, &executor, &signal(256));
            assert_eq!(
                open_fds(),
                fds,
                "descriptors after round {round} of {fault:?}"
            );
            assert_eq!(
                children().len(),
                kids,
                "children after round {round} of {fault:?}"
            );
        }
    }
    assert_eq!(open_fds(), fds_before, "descriptors after drop ({fault:?})");
    assert_eq!(
        children().len(),
        children_before,
        "children after drop ({fault:?})"
    );
}

#[test]
fn segfaults_leak_nothing() {
    check_repeated(Fault::Segfault);
}

#[test]
fn aborts_leak_nothing() {
    check_repeated(Fault::Abort);
}

#[test]
fn timeouts_leak_nothing() {
    check_repeated(Fault::Sleep(Duration::from_secs(30)));
}

#[test]
fn stage_errors_leak_nothing() {
    check_repeated(Fault::Error);
}

#[test]
fn panics_leak_nothing() {
    check_repeated(Fault::Panic);
}

#[test]
fn dropping_the_executor_leaves_no_child() {
    let _turn = serial();
    let before = children();
    let executor = ProcessExecutor::new(3).unwrap();
    let mut p = healthy_pipeline();
    p.run_on(&executor, &signal(10)).unwrap();
    p.set_params([("a__factor", 5.0)]).unwrap();
    p.run_on(&executor, &signal(10)).unwrap();
    let pids = executor.worker_pids();
    assert!(!pids.is_empty());
    assert!(pids.iter().all(|pid| children().contains(pid)));
    drop(executor);
    assert_eq!(children(), before);
}

#[test]
fn mappings_are_released() {
    let _turn = serial();
    let maps = || {
        std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .filter(|l| l.contains("memfd:tracekit-segment"))
            .count()
    };
    let before = maps();
    {
        let executor = ProcessExecutor::new(2).unwrap();
        let p = healthy_pipeline();
        let run = p.run_on(&executor, &signal(10_000)).unwrap();
        assert_eq!(maps(), before + 3, "one mapping per kept output");
        drop(run);
        assert_eq!(maps(), before);
        for _ in 0..10 {
            p.run_on(&executor, &signal(10_000)).unwrap();
        }
    }
    assert_eq!(maps(), before);
}
