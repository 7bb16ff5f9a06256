//! Stages that misbehave inside their worker: they call `exit`, write to
//! descriptors that are not theirs. Each gives a clear error, the worker is
//! replaced, and the next run works.

mod common;

use std::{
    ffi::CString,
    fs::{self, File},
    process::Command,
    sync::{
        Once,
        atomic::{AtomicI32, Ordering},
    },
};

use common::*;
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use tracekit_core::{INPUT, Pipeline, SequentialExecutor, StageError, Step, Trace, Transformer};
use tracekit_exec_process::{ProcessError, ProcessExecutor};

/// Calls `exit(code)`, which runs the process's exit handlers and flushes
/// its stdio buffers.
#[derive(Clone)]
struct Exits(i32);

impl Transformer for Exits {
    fn transform(&self, _: &[&Trace]) -> Result<Trace, StageError> {
        std::process::exit(self.0)
    }
}

/// The process id of the test process, for the exit handler.
static TEST_PID: AtomicI32 = AtomicI32::new(0);

/// The file that `mark_exit` creates in a process other than the test's.
fn exit_marker(pid: i32) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tracekit-exec-process-atexit-{pid}"))
}

/// An exit handler of the test process: in any other process (a worker
/// that ran it by mistake) it leaves a file named after that process.
extern "C" fn mark_exit() {
    let pid = std::process::id() as i32;
    if pid != TEST_PID.load(Ordering::Relaxed) {
        let _ = fs::write(exit_marker(pid), b"");
    }
}

#[test]
fn a_stage_that_calls_exit_ends_its_worker_only() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        TEST_PID.store(std::process::id() as i32, Ordering::Relaxed);
        // SAFETY: `mark_exit` is a valid handler for the life of the process.
        assert_eq!(unsafe { libc::atexit(mark_exit) }, 0);
    });
    // A stdio stream of this process with bytes in its buffer: a worker that
    // flushed its copy would write them a second time.
    let path = std::env::temp_dir().join(format!(
        "tracekit-exec-process-stdio-{}",
        std::process::id()
    ));
    let c_path = CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: both arguments are NUL-terminated strings.
    let stream = unsafe { libc::fopen(c_path.as_ptr(), c"w".as_ptr()) };
    assert!(!stream.is_null());
    // SAFETY: `stream` is an open stream; the text is NUL-terminated.
    assert!(unsafe { libc::fputs(c"buffered once\n".as_ptr(), stream) } >= 0);

    let executor = ProcessExecutor::new(2).unwrap();
    let bad = Pipeline::new([
        Step::new("a", Scale(2.0)).input(INPUT),
        Step::new("quits", Exits(7)).input("a"),
    ])
    .unwrap();
    let good = healthy_pipeline();
    for _ in 0..3 {
        let err = bad.run_on(&executor, &signal(64)).unwrap_err();
        let Some(&ProcessError::WorkerExited {
            ref step,
            pid,
            code,
        }) = err.backend_error()
        else {
            panic!("not a worker that exited: {err:?}");
        };
        assert_eq!((step.as_str(), code), ("quits", 7));
        assert_eq!(
            err.to_string(),
            format!("Worker running stage 'quits' (pid {pid}) exited with status 7")
        );
        assert!(
            !exit_marker(pid).exists(),
            "the worker ran the parent's exit handler"
        );
        assert!(!executor.worker_pids().contains(&pid), "replaced");
        assert_same(&good, &executor, &signal(64));
    }

    // SAFETY: `stream` is open, and closed here once.
    assert_eq!(unsafe { libc::fclose(stream) }, 0);
    let written = fs::read_to_string(&path).unwrap();
    fs::remove_file(&path).unwrap();
    assert_eq!(written, "buffered once\n", "a worker flushed its copy");
}

/// Set in the environment of `helper_short_of_descriptors`, which runs only
/// when asked to.
const SHORT_ENV: &str = "TRACEKIT_TEST_SHORT_OF_DESCRIPTORS";

/// Opens descriptors until this process has only `free` left.
fn fill_descriptors(free: usize) -> Vec<File> {
    let mut held = Vec::new();
    while let Ok(f) = File::open("/dev/null") {
        held.push(f);
    }
    held.truncate(held.len().saturating_sub(free));
    held
}

#[test]
#[ignore = "run in a process of its own by descriptor_exhaustion_is_reported_as_such"]
fn helper_short_of_descriptors() {
    assert!(
        std::env::var_os(SHORT_ENV).is_some(),
        "run by descriptor_exhaustion_is_reported_as_such only: it lowers its limits"
    );
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, 128.min(hard), hard).unwrap();
    let p = healthy_pipeline();
    let input = signal(256);
    let want = p.run_on(&SequentialExecutor, &input).unwrap();
    // Workers forked before the shortage, and workers forked during it.
    let forked_before = ProcessExecutor::new(2).unwrap();
    assert_same(&p, &forked_before, &input);
    let mut short = 0;
    for free in 0..16 {
        let forked_during = ProcessExecutor::new(2).unwrap();
        for (which, executor) in [("before", &forked_before), ("during", &forked_during)] {
            let filler = fill_descriptors(free);
            let result = p.run_on(executor, &input);
            drop(filler);
            match result {
                Ok(run) => assert!(run.output().bit_eq(want.output()), "{free} free"),
                Err(e) => {
                    let message = e.to_string();
                    println!("{free} free, workers forked {which} the shortage: {message}");
                    assert!(
                        matches!(
                            e.backend_error(),
                            Some(ProcessError::OutOfDescriptors { .. })
                        ),
                        "{free} free, workers forked {which}: {message}"
                    );
                    assert!(
                        message.starts_with("out of file descriptors: cannot ")
                            && message.contains("(a process may have 128 open;"),
                        "{message}"
                    );
                    short += 1;
                }
            }
            // With descriptors to spare again, the next run works.
            assert_same(&p, executor, &input);
        }
    }
    assert!(short > 0, "no run ran short of descriptors");
}

#[test]
fn descriptor_exhaustion_is_reported_as_such() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "helper_short_of_descriptors",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SHORT_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "the helper ran: {stdout}");
}

/// Passes its input through; first, when the input starts below zero, it
/// takes every descriptor its process may still open (a callback that
/// leaks them), after lowering the limit to 64 to get there quickly.
#[derive(Clone)]
struct Hog;

impl Transformer for Hog {
    fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
        if i[0].samples().first().is_some_and(|&x| x < 0.0) {
            let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
            setrlimit(Resource::RLIMIT_NOFILE, 64.min(hard), hard).unwrap();
            std::mem::forget(fill_descriptors(0));
        }
        Ok(i[0].clone())
    }
}

#[test]
fn a_worker_out_of_descriptors_says_so_and_is_replaced() {
    let p = Pipeline::new([
        Step::new("a", Scale(2.0)).input(INPUT),
        Step::new("hog", Hog).input("a"),
        Step::new("b", Scale(3.0)).input("hog"),
    ])
    .unwrap();
    let executor = ProcessExecutor::new(1).unwrap();
    let below = Trace::new(vec![-1.0, 2.0], 10.0).unwrap();
    let err = p.run_on(&executor, &below).unwrap_err();
    let Some(&ProcessError::OutOfDescriptors { source, .. }) = err.backend_error() else {
        panic!("not out of descriptors: {err}");
    };
    assert_eq!(source, nix::errno::Errno::EMFILE);
    assert_eq!(err.step(), Some("hog"));
    assert!(
        executor.worker_pids().is_empty(),
        "the short worker was kept"
    );
    let message = err.to_string();
    assert!(
        message.starts_with(
            "out of file descriptors: cannot create a shared-memory segment for the \
             stage's output, in worker 1 (pid "
        ) && message.contains(") running stage 'hog': EMFILE"),
        "{message}"
    );
    // The next run, on a new worker, works.
    assert_same(&p, &executor, &signal(64));
}
