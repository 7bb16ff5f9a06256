//! Workers live exactly as long as their executor: not a moment after the
//! parent process is killed, and not a moment less when the thread that
//! happened to fork them ends.

mod common;

use std::{
    process::{Command, Stdio},
    thread,
    time::Duration,
};

use common::*;
use tracekit_core::{INPUT, Pipeline, Step};
use tracekit_exec_process::ProcessExecutor;

/// The name of the helper test that `a_killed_parent_leaves_no_worker` runs
/// in a child process of its own.
const PARENT_HELPER: &str = "helper_parent_running_a_long_stage";

/// Set in the helper's environment, so that it runs only when asked to.
const HELPER_ENV: &str = "TRACEKIT_TEST_KILLED_PARENT";

#[test]
#[ignore = "the parent process of a_killed_parent_leaves_no_worker, which runs it"]
fn helper_parent_running_a_long_stage() {
    assert!(
        std::env::var_os(HELPER_ENV).is_some(),
        "run by a_killed_parent_leaves_no_worker only"
    );
    let long = || Faulty(Fault::SleepReporting(Duration::from_secs(600)));
    let p = Pipeline::new([
        Step::new("a", long()).input(INPUT),
        Step::new("b", long()).input(INPUT),
        Step::new("sum", Sum).inputs(["a", "b"]),
    ])
    .unwrap();
    let executor = ProcessExecutor::new(2).unwrap();
    let result = p.run_on(&executor, &signal(64));
    panic!("the run was to be killed, it ended: {:?}", result.err());
}

#[test]
fn a_killed_parent_leaves_no_worker() {
    let mut parent = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", PARENT_HELPER, "--test-threads=1"])
        .env(HELPER_ENV, "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let workers = sleeping_workers_of(parent.id() as i32, 2);
    parent.kill().unwrap();
    parent.wait().unwrap();
    // By the time the parent is reaped the kernel has signalled its children;
    // a second is ample for them to end (without the signal they would sleep
    // for ten minutes).
    assert_workers_end(&workers, Duration::from_secs(1), "a killed parent");
}

#[test]
fn workers_forked_from_a_thread_that_ends_keep_working() {
    let executor = ProcessExecutor::new(2).unwrap();
    let p = healthy_pipeline();
    // The first run forks the workers, on a thread that then ends.
    thread::scope(|s| {
        s.spawn(|| assert_same(&p, &executor, &signal(100)))
            .join()
            .unwrap();
    });
    let pids = executor.worker_pids();
    assert_eq!(pids.len(), 2, "both workers were forked");
    // A parent-death signal tied to that thread would have come by now.
    thread::sleep(Duration::from_millis(300));
    for &pid in &pids {
        assert!(is_alive(pid), "worker {pid} died with the thread");
    }
    // Runs from other threads, which end too, use the same workers.
    for _ in 0..3 {
        thread::scope(|s| {
            s.spawn(|| assert_same(&p, &executor, &signal(100)))
                .join()
                .unwrap();
        });
        assert_same(&p, &executor, &signal(100));
    }
    assert_eq!(executor.worker_pids(), pids, "no worker was replaced");
}
