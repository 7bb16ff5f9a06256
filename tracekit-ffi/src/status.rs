//! Status codes and executor kinds as C sees them.

use tracekit_facade::{Error, ErrorClass};

/// The result of every fallible call; `TK_OK` (0) is success.
///
/// On any other value the call wrote nothing through its out-pointer, and
/// `tk_last_error_message()` gives the reason on the calling thread.
/// The numeric values are stable; a value that is ever retired stays
/// reserved.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub enum tk_status {
    /// Success.
    TK_OK = 0,
    /// A pointer argument was NULL.
    TK_ERR_NULL_ARGUMENT = 1,
    /// An argument had a bad value: invalid UTF-8, a NaN sample rate, bad JSON,
    /// an unknown transformer kind or parameter, a bad executor configuration.
    TK_ERR_INVALID_ARGUMENT = 2,
    /// The pipeline's wiring is wrong: no steps, a duplicate, empty or reserved
    /// step name, an input that names no step, a cycle.
    TK_ERR_PIPELINE = 3,
    /// A step, intermediate result or measurement that does not exist.
    TK_ERR_NOT_FOUND = 4,
    /// A stage failed or panicked; a C callback returned a status other than `TK_OK`.
    TK_ERR_STAGE = 5,
    /// A worker process died (killed by a signal), or the executor could not run its workers.
    TK_ERR_WORKER_CRASHED = 6,
    /// A stage ran past its time limit.
    TK_ERR_TIMEOUT = 7,
    /// Reading or writing a file failed.
    TK_ERR_IO = 8,
    /// A bug inside tracekit (a panic caught at the boundary, a broken
    /// invariant); the handles involved are still safe to free.
    TK_ERR_PANIC = 9,
}

impl tk_status {
    /// The status of an error class: the one place where tracekit's errors
    /// become C statuses. Each error enum classifies its own variants
    /// ([`Error::class`] and the classes of the errors it wraps).
    pub fn from_class(class: ErrorClass) -> tk_status {
        match class {
            ErrorClass::InvalidArgument => tk_status::TK_ERR_INVALID_ARGUMENT,
            ErrorClass::Pipeline => tk_status::TK_ERR_PIPELINE,
            ErrorClass::NotFound => tk_status::TK_ERR_NOT_FOUND,
            ErrorClass::Stage => tk_status::TK_ERR_STAGE,
            ErrorClass::Worker => tk_status::TK_ERR_WORKER_CRASHED,
            ErrorClass::Timeout => tk_status::TK_ERR_TIMEOUT,
            ErrorClass::Io => tk_status::TK_ERR_IO,
            ErrorClass::Internal => tk_status::TK_ERR_PANIC,
        }
    }

    /// The status that stands for a tracekit error.
    pub fn from_error(e: &Error) -> tk_status {
        tk_status::from_class(e.class())
    }

    /// The status whose number is `raw`, if there is one.
    pub fn from_raw(raw: u32) -> Option<tk_status> {
        const ALL: [tk_status; 10] = [
            tk_status::TK_OK,
            tk_status::TK_ERR_NULL_ARGUMENT,
            tk_status::TK_ERR_INVALID_ARGUMENT,
            tk_status::TK_ERR_PIPELINE,
            tk_status::TK_ERR_NOT_FOUND,
            tk_status::TK_ERR_STAGE,
            tk_status::TK_ERR_WORKER_CRASHED,
            tk_status::TK_ERR_TIMEOUT,
            tk_status::TK_ERR_IO,
            tk_status::TK_ERR_PANIC,
        ];
        ALL.into_iter().find(|s| *s as u32 == raw)
    }

    /// The C name of the status: `"TK_OK"`, `"TK_ERR_STAGE"`, ...
    pub fn name(self) -> &'static str {
        match self {
            tk_status::TK_OK => "TK_OK",
            tk_status::TK_ERR_NULL_ARGUMENT => "TK_ERR_NULL_ARGUMENT",
            tk_status::TK_ERR_INVALID_ARGUMENT => "TK_ERR_INVALID_ARGUMENT",
            tk_status::TK_ERR_PIPELINE => "TK_ERR_PIPELINE",
            tk_status::TK_ERR_NOT_FOUND => "TK_ERR_NOT_FOUND",
            tk_status::TK_ERR_STAGE => "TK_ERR_STAGE",
            tk_status::TK_ERR_WORKER_CRASHED => "TK_ERR_WORKER_CRASHED",
            tk_status::TK_ERR_TIMEOUT => "TK_ERR_TIMEOUT",
            tk_status::TK_ERR_IO => "TK_ERR_IO",
            tk_status::TK_ERR_PANIC => "TK_ERR_PANIC",
        }
    }
}

/// Where a pipeline runs its stages: one of the `TK_EXECUTOR_*` values.
///
/// A plain integer rather than a Rust enum: C may pass any value, and an
/// out-of-range one must be an error (`TK_ERR_INVALID_ARGUMENT`), not
/// undefined behaviour.
pub type tk_executor = u32;

/// One stage at a time on the calling thread.
pub const TK_EXECUTOR_SEQUENTIAL: tk_executor = 0;
/// Worker threads (the default of a new pipeline).
pub const TK_EXECUTOR_THREAD: tk_executor = 1;
/// Pre-forked worker processes; stages, C callbacks included, are inherited by fork.
pub const TK_EXECUTOR_PROCESS: tk_executor = 2;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tracekit_facade::{CoreError, exec::ProcessError, io};

    use super::*;

    /// Every variant of every error enum the C ABI can meet, with the status
    /// it must give. The enums are `#[non_exhaustive]`: a variant added
    /// later gets its class in its own crate (where the match is exhaustive)
    /// and belongs here too.
    fn every_error() -> Vec<(Error, tk_status)> {
        use tk_status::*;
        let stage = || "s".to_owned();
        let core = vec![
            (CoreError::EmptyPipeline, TK_ERR_PIPELINE),
            (CoreError::EmptyStepName, TK_ERR_PIPELINE),
            (
                CoreError::InvalidStepName {
                    name: "a\0".into(),
                    reason: "a control character".into(),
                },
                TK_ERR_PIPELINE,
            ),
            (
                CoreError::DuplicateStepNames {
                    names: vec![stage()],
                },
                TK_ERR_PIPELINE,
            ),
            (
                CoreError::ReservedStepName {
                    name: "input".into(),
                },
                TK_ERR_PIPELINE,
            ),
            (
                CoreError::UnknownInput {
                    step: stage(),
                    input: "x".into(),
                },
                TK_ERR_PIPELINE,
            ),
            (
                CoreError::Cycle {
                    path: vec!["a".into(), "b".into(), "a".into()],
                },
                TK_ERR_PIPELINE,
            ),
            (CoreError::StepNotFound { step: stage() }, TK_ERR_NOT_FOUND),
            (
                CoreError::NoIntermediate { step: stage() },
                TK_ERR_NOT_FOUND,
            ),
            (
                CoreError::NoMeasurement {
                    step: stage(),
                    key: "k".into(),
                    available: vec![],
                },
                TK_ERR_NOT_FOUND,
            ),
            (
                CoreError::InvalidParameter {
                    step: stage(),
                    param: "p".into(),
                    valid: vec![],
                },
                TK_ERR_INVALID_ARGUMENT,
            ),
            (
                CoreError::InvalidParameterValue {
                    step: stage(),
                    param: "p".into(),
                    source: "no".into(),
                },
                TK_ERR_INVALID_ARGUMENT,
            ),
            (
                CoreError::InvalidTrace("rate".into()),
                TK_ERR_INVALID_ARGUMENT,
            ),
            (
                CoreError::InvalidConfig("0".into()),
                TK_ERR_INVALID_ARGUMENT,
            ),
            (
                CoreError::Stage {
                    step: stage(),
                    source: "no".into(),
                },
                TK_ERR_STAGE,
            ),
            (
                CoreError::StagePanicked {
                    step: stage(),
                    message: "boom".into(),
                },
                TK_ERR_STAGE,
            ),
            (
                CoreError::Timeout {
                    step: stage(),
                    limit: Duration::from_secs(1),
                },
                TK_ERR_TIMEOUT,
            ),
            (
                CoreError::batch(3, CoreError::NoIntermediate { step: stage() }),
                TK_ERR_NOT_FOUND,
            ),
            (
                CoreError::backend(ErrorClass::Worker, None, std::fmt::Error),
                TK_ERR_WORKER_CRASHED,
            ),
            (CoreError::Internal("lost".into()), TK_ERR_PANIC),
        ];
        let errno = nix::errno::Errno::EAGAIN;
        let process = vec![
            ProcessError::WorkerCrashed {
                step: stage(),
                pid: 1,
                signal: 11,
            },
            ProcessError::WorkerExited {
                step: stage(),
                pid: 1,
                code: 3,
            },
            ProcessError::WorkerVanished {
                step: stage(),
                pid: 1,
            },
            ProcessError::WorkerFailed {
                step: stage(),
                pid: 1,
                message: "no".into(),
            },
            ProcessError::Spawn {
                what: "fork a worker process",
                source: errno,
            },
            ProcessError::Send {
                step: stage(),
                source: errno,
            },
            ProcessError::Wait(errno),
            ProcessError::SharedMemory {
                what: "input trace".into(),
                message: "no".into(),
            },
            ProcessError::Protocol {
                step: stage(),
                message: "sent no output".into(),
            },
            ProcessError::MalformedReply {
                step: stage(),
                worker: 1,
                pid: 1,
                problem: "it answers request 6, not request 7".into(),
            },
            ProcessError::OutOfDescriptors {
                what: "create a worker socket".into(),
                step: None,
                source: nix::errno::Errno::EMFILE,
                limit: 1024,
            },
        ];
        let path = || "f.wfm".to_owned();
        let files = vec![
            (
                io::Error::Io {
                    path: path(),
                    source: std::io::Error::other("gone"),
                },
                TK_ERR_IO,
            ),
            (
                io::Error::Format {
                    path: path(),
                    format: "WAV",
                    message: "truncated".into(),
                },
                TK_ERR_IO,
            ),
            (
                io::Error::Unknown {
                    path: path(),
                    message: "?".into(),
                },
                TK_ERR_IO,
            ),
            (
                io::Error::InvalidOption("0".into()),
                TK_ERR_INVALID_ARGUMENT,
            ),
        ];
        let facade = vec![
            (
                Error::Spec {
                    message: "no".into(),
                    line: Some(2),
                },
                TK_ERR_INVALID_ARGUMENT,
            ),
            (
                Error::SpecFile {
                    path: path(),
                    source: std::io::Error::other("gone"),
                },
                TK_ERR_IO,
            ),
            (
                Error::InvalidExecutor { got: "gpu".into() },
                TK_ERR_INVALID_ARGUMENT,
            ),
            (Error::Unavailable("mpi".into()), TK_ERR_INVALID_ARGUMENT),
        ];
        core.into_iter()
            .map(|(e, s)| (Error::Core(e), s))
            .chain(
                process
                    .into_iter()
                    .map(|e| (e.into(), TK_ERR_WORKER_CRASHED)),
            )
            .chain(files.into_iter().map(|(e, s)| (Error::Io(e), s)))
            .chain(facade)
            .collect()
    }

    #[test]
    fn every_error_variant_has_its_status() {
        for (error, status) in every_error() {
            assert_eq!(tk_status::from_error(&error), status, "{error:?}");
        }
    }

    #[test]
    fn names_match_the_header() {
        assert_eq!(
            tk_status::TK_ERR_NULL_ARGUMENT.name(),
            "TK_ERR_NULL_ARGUMENT"
        );
        assert_eq!(tk_status::TK_OK as u32, 0);
        assert_eq!(tk_status::TK_ERR_PANIC as u32, 9);
        for raw in 0..10 {
            assert_eq!(tk_status::from_raw(raw).map(|s| s as u32), Some(raw));
        }
        assert_eq!(tk_status::from_raw(10), None);
        assert_eq!(tk_status::from_raw(u32::MAX), None);
    }
}
