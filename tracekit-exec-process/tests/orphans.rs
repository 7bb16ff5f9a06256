//! No worker outlives the process that forked it, whatever state it is in
//! when that process ends: SIGKILLed while its workers wait idle between
//! runs, SIGKILLed during a long stage after the thread that forked the
//! workers had ended, or leaving by `exit` without dropping its executor.
//!
//! Each case runs a copy of this test binary as the parent (the ignored
//! helper below), finds its workers among its children, ends it and polls
//! until they are gone, with a generous deadline: this checks that they
//! end, not how fast.

mod common;

use std::{
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use common::*;
use tracekit_core::{INPUT, Pipeline, Step};
use tracekit_exec_process::ProcessExecutor;

/// The helper test that plays the parent.
const HELPER: &str = "helper_parent";

/// Which case the helper plays (the variable is set only for it).
const CASE_ENV: &str = "TRACEKIT_TEST_ORPHAN_CASE";

/// The workers of the helper's executor.
const WORKERS: usize = 2;

#[test]
#[ignore = "the parent process of the tests of this file, which run it"]
fn helper_parent() {
    let case = std::env::var(CASE_ENV).expect("run by the tests of orphans.rs only");
    let executor = ProcessExecutor::new(WORKERS).unwrap();
    match case.as_str() {
        // Forks the workers, then waits with them idle, to be killed.
        "idle" => {
            assert_same(&healthy_pipeline(), &executor, &signal(64));
            thread::sleep(Duration::from_secs(600));
        }
        // Forks the workers on a thread that ends, then runs long stages
        // from this one, to be killed during them.
        "forked-on-an-ended-thread" => {
            thread::scope(|s| {
                s.spawn(|| assert_same(&healthy_pipeline(), &executor, &signal(64)))
                    .join()
                    .unwrap();
            });
            let long = || Faulty(Fault::SleepReporting(Duration::from_secs(600)));
            let p = Pipeline::new([
                Step::new("a", long()).input(INPUT),
                Step::new("b", long()).input(INPUT),
                Step::new("sum", Sum).inputs(["a", "b"]),
            ])
            .unwrap();
            let _ = p.run_on(&executor, &signal(64));
        }
        // Forks the workers, then leaves by `exit`, the executor not dropped.
        "exit" => {
            assert_same(&healthy_pipeline(), &executor, &signal(64));
            // Long enough for the test to see the workers first.
            thread::sleep(Duration::from_millis(500));
            std::process::exit(0);
        }
        other => panic!("unknown case {other}"),
    }
    panic!("the parent was to be ended from outside, it went on");
}

/// Starts the helper as the parent of case `case`.
fn parent(case: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", HELPER, "--test-threads=1"])
        .env(CASE_ENV, case)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `parent` has `n` children (its workers); gives their pids.
fn workers_of(parent: &mut Child, n: usize) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let workers = children_of(parent.id() as i32);
        if workers.len() >= n {
            return workers;
        }
        let ended = parent.try_wait().unwrap();
        assert!(
            ended.is_none() && Instant::now() < deadline,
            "the parent forked {} of {n} workers (ended: {ended:?})",
            workers.len()
        );
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_parent_killed_while_its_workers_wait_leaves_none() {
    let mut p = parent("idle");
    let workers = workers_of(&mut p, WORKERS);
    p.kill().unwrap();
    p.wait().unwrap();
    assert_workers_end(&workers, Duration::from_secs(10), "idle");
}

#[test]
fn a_parent_killed_during_a_long_stage_leaves_none_when_the_forking_thread_had_ended() {
    let mut p = parent("forked-on-an-ended-thread");
    // Both workers sleep in their stage: they outlived the thread that
    // forked them, and are busy when the parent dies.
    let workers = sleeping_workers_of(p.id() as i32, WORKERS);
    p.kill().unwrap();
    p.wait().unwrap();
    assert_workers_end(
        &workers,
        Duration::from_secs(10),
        "forked on an ended thread",
    );
}

#[test]
fn a_parent_that_exits_without_dropping_its_executor_leaves_none() {
    let mut p = parent("exit");
    let workers = workers_of(&mut p, WORKERS);
    let status = p.wait().unwrap();
    assert!(status.success(), "{status}");
    assert_workers_end(&workers, Duration::from_secs(10), "exit");
}
