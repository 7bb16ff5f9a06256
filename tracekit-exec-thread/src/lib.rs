//! The thread executor of tracekit: runs the independent stages of a pipeline,
//! and the traces of a batch, on scoped worker threads.
//!
//! [`ThreadExecutor`] drives the core's [`Schedule`](tracekit_core::Schedule):
//! a stage starts as soon as its own inputs are ready. Stages are borrowed,
//! not `'static`: workers are scoped threads that live for one call, spawned
//! only when two stages can run at once; the calling thread works beside
//! them. A stage that is the only runnable one while nothing else is in
//! flight runs on the calling thread, so a linear chain costs no hand-off
//! and spawns no thread.
//!
//! ```
//! use tracekit_core::{Pipeline, Step, Trace, Transformer, StageError, INPUT};
//! use tracekit_exec_thread::ThreadExecutor;
//!
//! #[derive(Clone)]
//! struct Scale(f64);
//! impl Transformer for Scale {
//!     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
//!         Ok(i[0].derive(i[0].samples().iter().map(|x| x * self.0).collect()))
//!     }
//! }
//!
//! let p = Pipeline::new([
//!     Step::new("double", Scale(2.0)).input(INPUT),
//!     Step::new("triple", Scale(3.0)).input(INPUT),
//! ])?;
//! let input = Trace::new(vec![1.0, 2.0], 1e3)?;
//! let run = p.run_on(&ThreadExecutor::new(2), &input)?;
//! assert_eq!(run.get("double").unwrap().samples(), &[2.0, 4.0]);
//! assert_eq!(run.output().samples(), &[3.0, 6.0]);
//! # Ok::<(), tracekit_core::Error>(())
//! ```
#![deny(missing_docs)]

mod engine;
mod executor;

pub use crate::executor::ThreadExecutor;
