//! The error users of the facade see: the core's, the capture readers', and
//! the facade's own (spec files, executor names).

use tracekit_core::ErrorClass;

/// Everything that can go wrong in tracekit, as the facade reports it.
///
/// The core's errors (wiring, stages, runs, time limits, backends) come as
/// [`Error::Core`], capture files' as [`Error::Io`]; spec files and executor
/// names are the facade's own. `?` converts the errors of the crates below
/// into this one, and every message reads exactly as the error it wraps.
///
/// ```
/// use tracekit::{CoreError, Error, ErrorClass, ExecutorKind};
///
/// let err = "gpu".parse::<ExecutorKind>().unwrap_err();
/// assert!(matches!(err, Error::InvalidExecutor { .. }));
/// assert_eq!(err.class(), ErrorClass::InvalidArgument);
///
/// let err: Error = tracekit::Pipeline::new(Vec::new()).unwrap_err().into();
/// assert!(matches!(err.core(), Some(CoreError::EmptyPipeline)));
/// assert_eq!(err.to_string(), "Pipeline steps cannot be empty");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the core: graphs, stages, runs, time limits, backends.
    #[error(transparent)]
    Core(#[from] tracekit_core::Error),

    /// A capture file could not be read or written.
    #[error(transparent)]
    Io(#[from] tracekit_io::Error),

    /// A pipeline spec could not be understood.
    #[error("{}", spec_message(.message, *.line))]
    Spec {
        /// What was wrong, naming the step and key.
        message: String,
        /// The line in the spec text, where known (1-based).
        line: Option<usize>,
    },

    /// A spec file could not be read.
    #[error("{path}: {source}")]
    SpecFile {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// An executor name that is not one of the three.
    #[error("executor_type must be 'thread', 'process' or 'sequential', got '{got}'")]
    InvalidExecutor {
        /// The name given.
        got: String,
    },

    /// A feature that is not available in this build or on this platform.
    #[error("{0}")]
    Unavailable(String),
}

fn spec_message(message: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("Invalid pipeline spec (line {line}): {message}"),
        None => format!("Invalid pipeline spec: {message}"),
    }
}

impl Error {
    /// How a caller should treat this error (a C status, an exit code).
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Core(e) => e.class(),
            Error::Io(e) => e.class(),
            Error::Spec { .. } | Error::InvalidExecutor { .. } | Error::Unavailable(_) => {
                ErrorClass::InvalidArgument
            }
            Error::SpecFile { .. } => ErrorClass::Io,
        }
    }

    /// The core's error, if this is one.
    pub fn core(&self) -> Option<&tracekit_core::Error> {
        match self {
            Error::Core(e) => Some(e),
            _ => None,
        }
    }

    /// The step this error is about, where there is one.
    pub fn step(&self) -> Option<&str> {
        self.core().and_then(tracekit_core::Error::step)
    }
}

impl From<tracekit_exec_process::ProcessError> for Error {
    fn from(e: tracekit_exec_process::ProcessError) -> Error {
        Error::Core(e.into())
    }
}
