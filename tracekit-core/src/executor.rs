//! The executor contract and the sequential executor.

use std::slice;

use crate::{Error, Plan, Run, RunSet, Trace};

/// A backend that runs plans: sequentially, on threads, in processes...
///
/// Backends move work and results; the rules live once, in core: which stage
/// may run when in [`Schedule`](crate::Schedule), the bookkeeping of a batch
/// and the failure to report in [`RunSet`]. Every backend returns results
/// identical, bit for bit, to the [`SequentialExecutor`]'s, and the same
/// error: the failure earliest in the sequential order ([`Plan::order`],
/// then the input index).
///
/// A backend that drives a [`RunSet`] gets all of that by construction:
///
/// ```
/// use tracekit_core::{Error, Executor, Pipeline, Plan, Run, RunSet, Step, Trace, Transformer, StageError};
///
/// /// Runs everything on the calling thread, recording itself as worker 7.
/// struct Seventh;
/// impl Executor for Seventh {
///     fn run(&self, plan: &Plan<'_>, input: &Trace) -> Result<Run, Error> {
///         let mut set = RunSet::new(plan, std::slice::from_ref(input), 1);
///         set.run_all(7);
///         set.finish_run()
///     }
/// }
///
/// #[derive(Clone)]
/// struct Neg;
/// impl Transformer for Neg {
///     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
///         Ok(i[0].derive(i[0].samples().iter().map(|x| -x).collect()))
///     }
/// }
///
/// let p = Pipeline::new([Step::new("neg", Neg)])?;
/// let run = p.run_on(&Seventh, &Trace::new(vec![1.0], 1.0)?)?;
/// assert_eq!(run.output().samples(), &[-1.0]);
/// assert_eq!(run.records()[0].worker, 7);
/// # Ok::<(), tracekit_core::Error>(())
/// ```
pub trait Executor: Send + Sync {
    /// Runs every stage of `plan` on `input`.
    fn run(&self, plan: &Plan<'_>, input: &Trace) -> Result<Run, Error>;

    /// Runs `plan` on each input, results in input order; a failure is
    /// [`Error::Batch`] for the lowest failing input. The default runs them
    /// one after another and stops at the first failure.
    fn run_batch(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Result<Vec<Run>, Error> {
        inputs
            .iter()
            .enumerate()
            .map(|(index, input)| self.run(plan, input).map_err(|e| Error::batch(index, e)))
            .collect()
    }

    /// Runs `plan` on every input, also after failures: one result per input,
    /// in input order. The default runs them one after another.
    fn run_batch_each(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Vec<Result<Run, Error>> {
        inputs.iter().map(|input| self.run(plan, input)).collect()
    }
}

/// Runs one stage at a time on the calling thread, in the sequential order
/// ([`Plan::order`]).
///
/// The reference every other executor is measured against.
///
/// ```
/// use tracekit_core::{Pipeline, SequentialExecutor, Step, Trace, Transformer, StageError};
///
/// #[derive(Clone)]
/// struct Inc;
/// impl Transformer for Inc {
///     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
///         Ok(i[0].derive(i[0].samples().iter().map(|x| x + 1.0).collect()))
///     }
/// }
///
/// let p = Pipeline::new([Step::new("a", Inc)])?;
/// let run = p.run_on(&SequentialExecutor, &Trace::new(vec![0.0], 1.0)?)?;
/// assert_eq!(run.output().samples(), &[1.0]);
/// # Ok::<(), tracekit_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SequentialExecutor;

impl Executor for SequentialExecutor {
    fn run(&self, plan: &Plan<'_>, input: &Trace) -> Result<Run, Error> {
        let mut set = RunSet::new(plan, slice::from_ref(input), 1);
        set.run_all(0);
        set.finish_run()
    }

    fn run_batch(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Result<Vec<Run>, Error> {
        let mut set = RunSet::new(plan, inputs, 1);
        set.run_all(0);
        set.finish()
    }

    fn run_batch_each(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Vec<Result<Run, Error>> {
        let mut set = RunSet::keep_going(plan, inputs, 1);
        set.run_all(0);
        set.finish_each()
    }
}
