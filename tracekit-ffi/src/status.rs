//! Status codes and executor kinds as C sees them.

use tracekit_facade::Error;

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
    /// A bug inside tracekit was caught at the boundary; the handles involved
    /// are still safe to free.
    TK_ERR_PANIC = 9,
}

impl tk_status {
    /// The status that stands for a tracekit error.
    pub fn from_error(e: &Error) -> tk_status {
        match e {
            Error::EmptyPipeline
            | Error::EmptyStepName
            | Error::InvalidStepName { .. }
            | Error::DuplicateStepNames { .. }
            | Error::ReservedStepName { .. }
            | Error::UnknownInput { .. }
            | Error::Cycle { .. } => tk_status::TK_ERR_PIPELINE,
            Error::StepNotFound { .. }
            | Error::NoIntermediate { .. }
            | Error::NoMeasurement { .. } => tk_status::TK_ERR_NOT_FOUND,
            Error::InvalidExecutor { .. }
            | Error::InvalidParameter { .. }
            | Error::InvalidParameterValue { .. }
            | Error::InvalidTrace(_)
            | Error::InvalidConfig(_)
            | Error::Unavailable(_)
            | Error::Spec { .. }
            | Error::Format { .. } => tk_status::TK_ERR_INVALID_ARGUMENT,
            Error::Stage { .. } | Error::StagePanicked { .. } => tk_status::TK_ERR_STAGE,
            Error::WorkerCrashed { .. } | Error::Executor(_) => tk_status::TK_ERR_WORKER_CRASHED,
            Error::Timeout { .. } => tk_status::TK_ERR_TIMEOUT,
            Error::Io { .. } => tk_status::TK_ERR_IO,
            Error::Batch { source, .. } => tk_status::from_error(source),
            _ => tk_status::TK_ERR_PIPELINE,
        }
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
    use super::*;

    #[test]
    fn wiring_errors_are_pipeline_errors() {
        let e = Error::Cycle {
            path: vec!["a".into(), "b".into(), "a".into()],
        };
        assert_eq!(tk_status::from_error(&e), tk_status::TK_ERR_PIPELINE);
    }

    #[test]
    fn batch_maps_its_source() {
        let e = Error::Batch {
            index: 3,
            source: Box::new(Error::Timeout {
                step: "s".into(),
                limit: std::time::Duration::from_secs(1),
            }),
        };
        assert_eq!(tk_status::from_error(&e), tk_status::TK_ERR_TIMEOUT);
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
