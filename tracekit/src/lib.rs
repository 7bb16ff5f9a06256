//! tracekit: named pipelines of signal-trace transformers whose independent
//! stages run in parallel, on threads or in processes.
//!
//! This is the crate users depend on. It re-exports the core API (traces,
//! transformers, steps, pipelines, errors), the built-in transformers as
//! [`dsp`], the executors in [`exec`], and adds [`ParallelPipeline`]: a
//! [`Pipeline`] on a chosen [`ExecutorKind`]. Most programs need only the
//! [`prelude`]; [`workloads`] holds the standard benchmark workloads.
//!
//! ```
//! use tracekit::prelude::*;
//!
//! #[derive(Clone)]
//! struct Offset(f64);
//! impl Transformer for Offset {
//!     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
//!         Ok(i[0].derive(i[0].samples().iter().map(|x| x + self.0).collect()))
//!     }
//! }
//!
//! let steps = || [
//!     Step::new("up", Offset(1.0)).input(INPUT),
//!     Step::new("down", Offset(-1.0)).input(INPUT),
//!     Step::new("again", Offset(2.0)).input("up"),
//! ];
//! let input = Trace::new(vec![0.0, 1.0], 1e3)?;
//! let mut parallel = ParallelPipeline::new(steps())?;
//! let mut sequential = Pipeline::new(steps())?;
//! assert_eq!(parallel.transform(&input)?, sequential.transform(&input)?);
//! assert_eq!(parallel.get_execution_order(), vec![vec!["up", "down"], vec!["again"]]);
//! # Ok::<(), tracekit::Error>(())
//! ```
#![deny(missing_docs)]

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

mod error;
mod kind;
mod parallel;
pub mod spec;
pub mod workloads;

/// Sample buffers from the process-wide pool, for stages that want their
/// outputs recycled (and, in process workers, in shared memory).
pub use tracekit_core::buffer;
pub use tracekit_core::{
    Domain, Error as CoreError, ErrorClass, Executor, INPUT, MAX_STEP_NAME_LEN, ParamValue, Params,
    Pipeline, Plan, Run, RunSet, SampleBuffer, Schedule, Source, StageError, StageOutput,
    StageRecord, Step, Task, Trace, TraceMeta, Transformer, batch_result, check_step_name,
    panic_message, unknown_param,
};
/// The built-in transformers and the registry that builds them by kind name.
pub use tracekit_dsp as dsp;
/// Batches spread over the ranks of an MPI job (the `mpi` feature).
#[cfg(feature = "mpi")]
pub use tracekit_exec_mpi as mpi;
/// Captures in and out: scope CSV exports, WAV, NPY and instrument formats.
pub use tracekit_io as io;

pub use crate::{error::Error, kind::ExecutorKind, parallel::ParallelPipeline};

/// The executor backends, to run a [`Pipeline`] or a [`Plan`] directly.
pub mod exec {
    pub use tracekit_core::{Executor, SequentialExecutor};
    pub use tracekit_exec_process::{ProcessError, ProcessExecutor, SignalName, signal_name};
    pub use tracekit_exec_thread::ThreadExecutor;
}

/// The names most programs need: `use tracekit::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Domain, Error, ExecutorKind, INPUT, ParallelPipeline, ParamValue, Params, Pipeline, Run,
        StageError, Step, Trace, TraceMeta, Transformer,
        exec::{Executor, ProcessExecutor, SequentialExecutor, ThreadExecutor},
    };
}
