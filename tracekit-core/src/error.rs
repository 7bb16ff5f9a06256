//! The errors of the core: graphs, stages, runs, time limits, and the
//! variant that carries a backend's own error.

use std::time::Duration;

use crate::transformer::StageError;

/// What can go wrong in the core of tracekit, from building a pipeline to
/// running it: wiring, stages, runs and batches, time limits; a backend's
/// own failures come as [`Error::Backend`], with the backend's error as the
/// source. Files and spec texts have errors of their own, in the crates that
/// read them.
///
/// The messages are part of the public contract: they say what was wrong and,
/// where it helps, what would be right. [`Error::class`] says how a caller
/// should treat each error.
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

    /// A backend could not do its own work (a worker died, a resource it
    /// needs could not be had...): the backend's own error, as the source. The message
    /// is the backend's.
    #[error("{source}")]
    Backend {
        /// How callers should treat it (C status, exit code).
        class: ErrorClass,
        /// The step the backend was running, where it knows one.
        step: Option<String>,
        /// The backend's error; [`Error::backend_error`] downcasts it.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },

    /// A broken invariant inside tracekit (an executor lost a run, ...): a
    /// bug, never the fault of a stage or an input.
    #[error("Internal error in tracekit: {0}")]
    Internal(String),
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

    /// A backend's own error: [`Error::Backend`] with `source`, its
    /// `class`, and the step it is about, if any.
    pub fn backend(
        class: ErrorClass,
        step: Option<&str>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Error {
        Error::Backend {
            class,
            step: step.map(str::to_owned),
            source: source.into(),
        }
    }

    /// The backend's own error of type `E`, if this is (or, for a batch,
    /// wraps) an [`Error::Backend`] carrying one.
    ///
    /// ```
    /// use tracekit_core::{Error, ErrorClass};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("the cluster is down")]
    /// struct ClusterDown;
    ///
    /// let e = Error::batch(3, Error::backend(ErrorClass::Worker, Some("fft"), ClusterDown));
    /// assert!(e.backend_error::<ClusterDown>().is_some());
    /// assert_eq!(e.to_string(), "Batch input 3 failed: the cluster is down");
    /// assert_eq!(e.class(), ErrorClass::Worker);
    /// assert_eq!(e.step(), Some("fft"));
    /// ```
    pub fn backend_error<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            Error::Backend { source, .. } => source.downcast_ref::<E>(),
            Error::Batch { source, .. } => source.backend_error(),
            _ => None,
        }
    }

    /// How a caller should treat this error; a batch error is classed as the
    /// error of its input.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::EmptyPipeline
            | Error::EmptyStepName
            | Error::InvalidStepName { .. }
            | Error::DuplicateStepNames { .. }
            | Error::ReservedStepName { .. }
            | Error::UnknownInput { .. }
            | Error::Cycle { .. } => ErrorClass::Pipeline,
            Error::StepNotFound { .. }
            | Error::NoIntermediate { .. }
            | Error::NoMeasurement { .. } => ErrorClass::NotFound,
            Error::InvalidParameter { .. }
            | Error::InvalidParameterValue { .. }
            | Error::InvalidTrace(_)
            | Error::InvalidConfig(_) => ErrorClass::InvalidArgument,
            Error::Stage { .. } | Error::StagePanicked { .. } => ErrorClass::Stage,
            Error::Timeout { .. } => ErrorClass::Timeout,
            Error::Batch { source, .. } => source.class(),
            Error::Backend { class, .. } => *class,
            Error::Internal(_) => ErrorClass::Internal,
        }
    }

    /// The step this error is about, where there is one.
    ///
    /// For a [`Error::Batch`] error it is the step of the inner error.
    pub fn step(&self) -> Option<&str> {
        match self {
            Error::Stage { step, .. }
            | Error::StagePanicked { step, .. }
            | Error::Timeout { step, .. }
            | Error::StepNotFound { step }
            | Error::NoIntermediate { step }
            | Error::NoMeasurement { step, .. }
            | Error::InvalidParameter { step, .. }
            | Error::InvalidParameterValue { step, .. }
            | Error::UnknownInput { step, .. } => Some(step),
            Error::Batch { source, .. } => source.step(),
            Error::Backend { step, .. } => step.as_deref(),
            _ => None,
        }
    }
}

/// How a caller should treat an error: what a front end makes a status code
/// or an exit status from. Every error enum of tracekit gives one for each of
/// its variants, in the crate that defines it, so that front ends map
/// classes, not variants.
///
/// ```
/// use tracekit_core::{ErrorClass, Pipeline};
///
/// let err = Pipeline::new(Vec::new()).unwrap_err();
/// assert_eq!(err.class(), ErrorClass::Pipeline);
/// assert!(err.class().is_usage());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// A bad value: a trace, a parameter, a configuration, a spec text.
    InvalidArgument,
    /// Wrong wiring: no steps, bad or duplicate names, unknown inputs, cycles.
    Pipeline,
    /// No such step, intermediate or measurement.
    NotFound,
    /// A stage failed or panicked.
    Stage,
    /// A worker died, or a backend could not run its workers.
    Worker,
    /// A stage ran past its time limit.
    Timeout,
    /// A file could not be read or written.
    Io,
    /// A bug inside tracekit.
    Internal,
}

impl ErrorClass {
    /// Whether the error is the caller's configuration (arguments, wiring,
    /// names), found before any work: a usage error for a command line.
    pub fn is_usage(self) -> bool {
        match self {
            ErrorClass::InvalidArgument | ErrorClass::Pipeline | ErrorClass::NotFound => true,
            ErrorClass::Stage
            | ErrorClass::Worker
            | ErrorClass::Timeout
            | ErrorClass::Io
            | ErrorClass::Internal => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backend_error_keeps_its_message_class_and_source() {
        let io = std::io::Error::other("the wire is cut");
        let e = Error::backend(ErrorClass::Worker, None, io);
        assert_eq!(e.to_string(), "the wire is cut");
        assert_eq!(e.class(), ErrorClass::Worker);
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.backend_error::<std::io::Error>().is_some());
        assert!(e.backend_error::<std::fmt::Error>().is_none());
        assert_eq!(e.step(), None);
    }

    #[test]
    fn a_batch_error_is_classed_as_its_input_s() {
        let e = Error::batch(
            2,
            Error::Timeout {
                step: "s".into(),
                limit: Duration::from_secs(1),
            },
        );
        assert_eq!(e.class(), ErrorClass::Timeout);
        assert_eq!(e.step(), Some("s"));
    }
}
