//! The core of tracekit: traces, transformers, pipelines with real dataflow
//! between named stages, and the executor contract.
//!
//! A [`Pipeline`] is a list of named [`Step`]s. Each step reads the traces it
//! declares (by default the previous step's output); the wiring is checked
//! when the pipeline is built: unknown names and cycles are errors then, never
//! at run time. An [`Executor`] runs a pipeline's [`Plan`], starting every
//! stage as soon as its own inputs are ready, using the shared [`Schedule`].
//!
//! ```
//! use tracekit_core::{Pipeline, Step, Trace, Transformer, StageError};
//!
//! #[derive(Clone)]
//! struct Scale(f64);
//! impl Transformer for Scale {
//!     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
//!         Ok(i[0].derive(i[0].samples().iter().map(|x| x * self.0).collect()))
//!     }
//! }
//!
//! let mut p = Pipeline::new([Step::new("double", Scale(2.0)), Step::new("half", Scale(0.5))])?;
//! let out = p.transform(&Trace::new(vec![1.0, 2.0], 1e3)?)?;
//! assert_eq!(out.samples(), &[1.0, 2.0]);
//! # Ok::<(), tracekit_core::Error>(())
//! ```
#![deny(missing_docs)]

pub mod buffer;
mod error;
mod executor;
mod graph;
mod pipeline;
mod plan;
mod run;
mod run_set;
mod schedule;
mod step;
mod trace;
mod transformer;

pub use crate::{
    error::{Error, ErrorClass},
    executor::{Executor, SequentialExecutor},
    graph::{MAX_STEP_NAME_LEN, Source, check_step_name},
    pipeline::Pipeline,
    plan::{Plan, panic_message},
    run::{Run, StageRecord},
    run_set::{RunSet, StageOutput, Task, batch_result},
    schedule::Schedule,
    step::{INPUT, Step},
    trace::{Domain, SampleBuffer, Trace, TraceMeta},
    transformer::{ParamValue, Params, StageError, Transformer, unknown_param},
};
