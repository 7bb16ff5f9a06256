//! Stages that misbehave inside their worker: they call `exit`, write to
//! descriptors that are not theirs. Each gives a clear error, the worker is
//! replaced, and the next run works.

mod common;

use std::{
    ffi::CString,
    fs,
    sync::{
        Once,
        atomic::{AtomicI32, Ordering},
    },
};

use common::*;
use tracekit_core::{INPUT, Pipeline, StageError, Step, Trace, Transformer};
use tracekit_exec_process::ProcessError;

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

    let executor = tracekit_exec_process::ProcessExecutor::new(2).unwrap();
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
