//! The one error type of tracekit.

use std::{fmt, time::Duration};

use crate::transformer::StageError;

/// Everything that can go wrong in tracekit, from building a pipeline to running it.
///
/// The messages are part of the public contract: they say what was wrong and,
/// where it helps, what would be right.
///
/// ```
/// use tracekit_core::{Error, Pipeline};
///
/// let err = Pipeline::new(Vec::new()).unwrap_err();
/// assert!(matches!(err, Error::EmptyPipeline));
/// assert_eq!(err.to_string(), "Pipeline steps cannot be empty");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A pipeline was built from no steps.
    #[error("Pipeline steps cannot be empty")]
    EmptyPipeline,

    /// A step was given the empty string as its name.
    #[error("Step name cannot be empty")]
    EmptyStepName,

    /// A step name that cannot be used (control characters, too long).
    #[error("Invalid step name {name:?}: {reason}")]
    InvalidStepName {
        /// The name, shortened to its first 64 characters.
        name: String,
        /// Why it was rejected.
        reason: String,
    },

    /// Two or more steps share a name.
    #[error("Duplicate step names: {}", names.join(", "))]
    DuplicateStepNames {
        /// Each duplicated name, once, in declaration order.
        names: Vec<String>,
    },

    /// A step is named like the pipeline's input.
    #[error("Step name '{name}' is reserved for the pipeline's input")]
    ReservedStepName {
        /// The reserved name.
        name: String,
    },

    /// A step reads something that is neither a step nor the input.
    #[error("Step '{step}' reads '{input}', which is not a step")]
    UnknownInput {
        /// The reading step.
        step: String,
        /// The name it reads.
        input: String,
    },

    /// The declared inputs form a cycle.
    #[error("Circular dependency detected in pipeline: {}", path.join(" -> "))]
    Cycle {
        /// The cycle, first step repeated at the end: `["a", "b", "a"]`.
        path: Vec<String>,
    },

    /// A step name that the pipeline does not have.
    #[error("Step '{step}' not found in pipeline")]
    StepNotFound {
        /// The name asked for.
        step: String,
    },

    /// An intermediate result was asked for before any `transform`.
    #[error("No intermediate result for step '{step}'. Call transform() first.")]
    NoIntermediate {
        /// The step asked for.
        step: String,
    },

    /// A step's output has no measurement of that name.
    #[error("Step '{step}' has no measurement '{key}'. Available: [{}]", available.join(", "))]
    NoMeasurement {
        /// The step asked for.
        step: String,
        /// The measurement asked for.
        key: String,
        /// The measurements the step's output has.
        available: Vec<String>,
    },

    /// An executor name that is not one of the three.
    #[error("executor_type must be 'thread', 'process' or 'sequential', got '{got}'")]
    InvalidExecutor {
        /// The name given.
        got: String,
    },

    /// A parameter name that the step does not have.
    #[error("Invalid parameter '{param}' for step '{step}'. Valid parameters: [{}]", valid.join(", "))]
    InvalidParameter {
        /// The step.
        step: String,
        /// The parameter name given.
        param: String,
        /// The step's parameter names.
        valid: Vec<String>,
    },

    /// A known parameter was given a value the step does not accept.
    #[error("Invalid value for parameter '{param}' of step '{step}': {source}")]
    InvalidParameterValue {
        /// The step.
        step: String,
        /// The parameter.
        param: String,
        /// What the step said about the value.
        #[source]
        source: StageError,
    },

    /// A trace that cannot exist (bad sample rate, ...).
    #[error("Invalid trace: {0}")]
    InvalidTrace(String),

    /// A configuration that cannot work (zero workers, ...).
    #[error("Invalid configuration: {0}")]
    InvalidConfig(String),

    /// A stage returned an error.
    #[error("Stage '{step}' failed: {source}")]
    Stage {
        /// The step whose stage failed.
        step: String,
        /// The stage's own error.
        #[source]
        source: StageError,
    },

    /// A stage panicked; the panic was caught.
    #[error("Stage '{step}' panicked: {message}")]
    StagePanicked {
        /// The step whose stage panicked.
        step: String,
        /// The panic message.
        message: String,
    },

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

    /// A stage ran past its time limit.
    #[error("Stage '{step}' exceeded its time limit of {limit:?}")]
    Timeout {
        /// The step.
        step: String,
        /// The limit it ran past.
        limit: Duration,
    },

    /// One input of a batch failed.
    #[error("Batch input {index} failed: {source}")]
    Batch {
        /// Position of the failing input in the batch.
        index: usize,
        /// What went wrong with it.
        #[source]
        source: Box<Error>,
    },

    /// An executor could not do its own work (fork failed, a worker vanished...).
    #[error("Executor failure: {0}")]
    Executor(String),

    /// A broken invariant inside tracekit (an executor lost a run, ...): a
    /// bug, never the fault of a stage or an input.
    #[error("Internal error in tracekit: {0}")]
    Internal(String),

    /// A feature that is not available in this build or on this platform.
    #[error("{0}")]
    Unavailable(String),

    /// A pipeline spec file could not be understood.
    #[error("{}", spec_message(.message, *.line))]
    Spec {
        /// What was wrong, naming the step and key.
        message: String,
        /// The line in the spec text, where known (1-based).
        line: Option<usize>,
    },

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// A file's contents could not be understood.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: String,
        /// What was wrong.
        message: String,
    },
}

fn spec_message(message: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("Invalid pipeline spec (line {line}): {message}"),
        None => format!("Invalid pipeline spec: {message}"),
    }
}

impl Error {
    /// `Batch input {index} failed: {error}`: the error of a batch whose
    /// lowest failing input is `index`.
    pub fn batch(index: usize, error: Error) -> Error {
        Error::Batch {
            index,
            source: Box::new(error),
        }
    }

    /// The step this error is about, where there is one.
    ///
    /// For a [`Error::Batch`] error it is the step of the inner error.
    pub fn step(&self) -> Option<&str> {
        match self {
            Error::Stage { step, .. }
            | Error::StagePanicked { step, .. }
            | Error::WorkerCrashed { step, .. }
            | Error::Timeout { step, .. }
            | Error::StepNotFound { step }
            | Error::NoIntermediate { step }
            | Error::NoMeasurement { step, .. }
            | Error::InvalidParameter { step, .. }
            | Error::InvalidParameterValue { step, .. }
            | Error::UnknownInput { step, .. } => Some(step),
            Error::Batch { source, .. } => source.step(),
            _ => None,
        }
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
        let e = Error::WorkerCrashed {
            step: "s".into(),
            pid: 42,
            signal: 11,
        };
        assert_eq!(
            e.to_string(),
            "Worker running stage 's' (pid 42) was killed by signal SIGSEGV"
        );
    }
}
