//! The built-in executors, checked by the conformance kit: every property,
//! with 1 to 4 workers (and 8 threads).

use tracekit_conformance::Conformance;
use tracekit_exec_process::ProcessExecutor;
use tracekit_exec_thread::ThreadExecutor;

fn thread(workers: usize) {
    Conformance::new(format!("thread, {workers} workers"))
        .check(|| Box::new(ThreadExecutor::new(workers)));
}

fn process(workers: usize) {
    // Forking is the expensive part: fewer cases per worker count.
    Conformance::new(format!("process, {workers} workers"))
        .cases(8)
        .check(|| Box::new(ProcessExecutor::new(workers).expect("a valid worker count")));
}

#[test]
fn thread_executor_with_one_worker() {
    thread(1);
}

#[test]
fn thread_executor_with_two_workers() {
    thread(2);
}

#[test]
fn thread_executor_with_three_workers() {
    thread(3);
}

#[test]
fn thread_executor_with_four_workers() {
    thread(4);
}

#[test]
fn thread_executor_with_eight_workers() {
    thread(8);
}

#[test]
fn process_executor_with_one_worker() {
    process(1);
}

#[test]
fn process_executor_with_two_workers() {
    process(2);
}

#[test]
fn process_executor_with_three_workers() {
    process(3);
}

#[test]
fn process_executor_with_four_workers() {
    process(4);
}

#[test]
fn the_sequential_executor_conforms_to_itself_from_a_fixed_seed() {
    // What an SPMD backend does on every rank: the same cases, no shrinking.
    Conformance::new("sequential")
        .seed(0x7ace)
        .cases(4)
        .check(|| Box::new(tracekit_core::SequentialExecutor));
}
