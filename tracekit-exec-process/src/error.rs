//! The process backend's own errors: crashes, the protocol with the workers,
//! forks. Core's [`Error::Backend`] carries them.

use std::fmt;

use nix::errno::Errno;
use tracekit_core::{Error, ErrorClass};

/// What the process executor itself can fail at, as the source of a
/// [`tracekit_core::Error::Backend`].
///
/// ```
/// use tracekit_core::{Error, ErrorClass};
/// use tracekit_exec_process::ProcessError;
///
/// let crash = ProcessError::WorkerCrashed { step: "s".into(), pid: 42, signal: 11 };
/// let e = Error::from(crash);
/// assert_eq!(e.to_string(), "Worker running stage 's' (pid 42) was killed by signal SIGSEGV");
/// assert_eq!(e.class(), ErrorClass::Worker);
/// assert!(matches!(e.backend_error(), Some(ProcessError::WorkerCrashed { signal: 11, .. })));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// The worker process running a stage died by a signal.
    #[error("Worker running stage '{step}' (pid {pid}) was killed by signal {}", signal_name(*signal))]
    WorkerCrashed {
        /// The step the worker was running.
        step: String,
        /// The worker's process id.
        pid: i32,
        /// The signal number (`11` is SIGSEGV).
        signal: i32,
    },

    /// The worker process running a stage ended by itself.
    #[error("Worker running stage '{step}' (pid {pid}) exited with status {code}")]
    WorkerExited {
        /// The step the worker was running.
        step: String,
        /// The worker's process id.
        pid: i32,
        /// Its exit status.
        code: i32,
    },

    /// The worker process running a stage is gone, and how it ended is unknown.
    #[error("Worker running stage '{step}' (pid {pid}) vanished")]
    WorkerVanished {
        /// The step the worker was running.
        step: String,
        /// The worker's process id.
        pid: i32,
    },

    /// A worker could not do what it was asked (map a segment, write its
    /// output...).
    #[error("Worker running stage '{step}' (pid {pid}) failed: {message}")]
    WorkerFailed {
        /// The step the worker was running.
        step: String,
        /// The worker's process id.
        pid: i32,
        /// What the worker said.
        message: String,
    },

    /// A worker could not be forked, or its socket made.
    #[error("cannot {what}: {source}")]
    Spawn {
        /// What failed: `fork a worker process`, `create a worker socket`.
        what: &'static str,
        /// The system's error.
        #[source]
        source: Errno,
    },

    /// A stage could not be sent to its worker.
    #[error("cannot send stage '{step}' to its worker: {source}")]
    Send {
        /// The step.
        step: String,
        /// The system's error.
        #[source]
        source: Errno,
    },

    /// The parent could not wait for its workers.
    #[error("cannot wait for the workers: {0}")]
    Wait(#[source] Errno),

    /// A trace could not be put into or read from shared memory.
    #[error("{what}: {message}")]
    SharedMemory {
        /// Which trace: `input trace`, `output of stage 's'`.
        what: String,
        /// What went wrong.
        message: String,
    },

    /// A worker's reply broke the protocol.
    #[error("the worker running stage '{step}' {message}")]
    Protocol {
        /// The step.
        step: String,
        /// What was wrong with the reply.
        message: String,
    },

    /// A message on a worker's socket was not the reply the parent waited
    /// for: garbled, cut, stray (another request's number, another stage),
    /// or with the wrong descriptors. The worker was killed and is replaced;
    /// nothing it sent was used.
    #[error("Worker {worker} (pid {pid}) running stage '{step}' sent a malformed reply: {problem}")]
    MalformedReply {
        /// The step the worker was running.
        step: String,
        /// The worker's number (1 is the first), as in the run's records.
        worker: usize,
        /// The worker's process id.
        pid: i32,
        /// What was wrong, with the numbers.
        problem: String,
    },

    /// A descriptor could not be made (a socket, a shared-memory segment, a
    /// descriptor received): this process, or a worker, has as many open as
    /// it may (`EMFILE`), or the system has (`ENFILE`).
    #[error("out of file descriptors: cannot {what}: {source}{}", limit_note(*source, *limit))]
    OutOfDescriptors {
        /// What could not be done, and where.
        what: String,
        /// The step it was for, where there is one.
        step: Option<String>,
        /// The system's error: `EMFILE` or `ENFILE`.
        #[source]
        source: Errno,
        /// The most descriptors a process may have open (`RLIMIT_NOFILE`),
        /// workers included.
        limit: u64,
    },
}

/// What `OutOfDescriptors` says about the limit that was met.
fn limit_note(source: Errno, limit: u64) -> String {
    match source {
        Errno::EMFILE => {
            format!(" (a process may have {limit} open; the limit is RLIMIT_NOFILE, `ulimit -n`)")
        }
        Errno::ENFILE => " (the system's table of open files is full: fs.file-max)".into(),
        _ => String::new(),
    }
}

impl ProcessError {
    /// How a caller should treat this error: every variant is a worker that
    /// died or could not be run ([`ErrorClass::Worker`]).
    pub fn class(&self) -> ErrorClass {
        match self {
            ProcessError::WorkerCrashed { .. }
            | ProcessError::WorkerExited { .. }
            | ProcessError::WorkerVanished { .. }
            | ProcessError::WorkerFailed { .. }
            | ProcessError::Spawn { .. }
            | ProcessError::Send { .. }
            | ProcessError::Wait(_)
            | ProcessError::SharedMemory { .. }
            | ProcessError::Protocol { .. }
            | ProcessError::MalformedReply { .. }
            | ProcessError::OutOfDescriptors { .. } => ErrorClass::Worker,
        }
    }

    /// The step this error is about, where there is one.
    pub fn step(&self) -> Option<&str> {
        match self {
            ProcessError::WorkerCrashed { step, .. }
            | ProcessError::WorkerExited { step, .. }
            | ProcessError::WorkerVanished { step, .. }
            | ProcessError::WorkerFailed { step, .. }
            | ProcessError::Send { step, .. }
            | ProcessError::Protocol { step, .. }
            | ProcessError::MalformedReply { step, .. } => Some(step),
            ProcessError::OutOfDescriptors { step, .. } => step.as_deref(),
            ProcessError::Spawn { .. }
            | ProcessError::Wait(_)
            | ProcessError::SharedMemory { .. } => None,
        }
    }
}

impl From<ProcessError> for Error {
    fn from(e: ProcessError) -> Error {
        let step = e.step().map(str::to_owned);
        Error::backend(e.class(), step.as_deref(), e)
    }
}

/// The conventional name of a Linux signal number: `signal_name(11) == "SIGSEGV"`.
///
/// Unknown numbers read `signal N`.
pub fn signal_name(signal: i32) -> SignalName {
    SignalName(signal)
}

/// Displays a signal number by name; see [`signal_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalName(pub i32);

impl fmt::Display for SignalName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 32] = [
            "",
            "SIGHUP",
            "SIGINT",
            "SIGQUIT",
            "SIGILL",
            "SIGTRAP",
            "SIGABRT",
            "SIGBUS",
            "SIGFPE",
            "SIGKILL",
            "SIGUSR1",
            "SIGSEGV",
            "SIGUSR2",
            "SIGPIPE",
            "SIGALRM",
            "SIGTERM",
            "SIGSTKFLT",
            "SIGCHLD",
            "SIGCONT",
            "SIGSTOP",
            "SIGTSTP",
            "SIGTTIN",
            "SIGTTOU",
            "SIGURG",
            "SIGXCPU",
            "SIGXFSZ",
            "SIGVTALRM",
            "SIGPROF",
            "SIGWINCH",
            "SIGIO",
            "SIGPWR",
            "SIGSYS",
        ];
        match usize::try_from(self.0).ok().and_then(|i| NAMES.get(i)) {
            Some(name) if !name.is_empty() => f.write_str(name),
            _ => write!(f, "signal {}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(11).to_string(), "SIGSEGV");
        assert_eq!(signal_name(6).to_string(), "SIGABRT");
        assert_eq!(signal_name(9).to_string(), "SIGKILL");
        assert_eq!(signal_name(77).to_string(), "signal 77");
        assert_eq!(signal_name(-1).to_string(), "signal -1");
    }

    #[test]
    fn crash_message() {
        let e = Error::from(ProcessError::WorkerCrashed {
            step: "s".into(),
            pid: 42,
            signal: 11,
        });
        assert_eq!(
            e.to_string(),
            "Worker running stage 's' (pid 42) was killed by signal SIGSEGV"
        );
    }
}
