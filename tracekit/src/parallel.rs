//! [`ParallelPipeline`]: a [`Pipeline`] that runs on a chosen executor.

use std::{
    fmt,
    ops::{Deref, DerefMut},
    sync::OnceLock,
    time::Duration,
};

use tracekit_core::{Error, Executor, Pipeline, Run, SequentialExecutor, Step, Trace};
use tracekit_exec_process::ProcessExecutor;
use tracekit_exec_thread::ThreadExecutor;

use crate::ExecutorKind;

/// A pipeline whose independent stages run in parallel: a drop-in replacement
/// for [`Pipeline`] with the same steps, the same results bit for bit, and an
/// executor backend to choose.
///
/// Every [`Pipeline`] method is available through `Deref`/`DerefMut`
/// (`step_names`, `get_intermediate`, `set_params`, `to_dot`...); `run`,
/// `transform`, `fit_transform` and `run_batch` use the configured executor.
/// The executor is built on the first run and kept, so a backend with
/// expensive workers (processes) keeps them across runs; changing the
/// configuration builds a new one.
///
/// ```
/// use tracekit::{ExecutorKind, ParallelPipeline, StageError, Step, Trace, Transformer, INPUT};
///
/// #[derive(Clone)]
/// struct Scale(f64);
/// impl Transformer for Scale {
///     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
///         Ok(i[0].derive(i[0].samples().iter().map(|x| x * self.0).collect()))
///     }
///     fn kind(&self) -> &str { "scale" }
/// }
///
/// let mut p = ParallelPipeline::with_config(
///     [
///         Step::new("a", Scale(2.0)).input(INPUT),
///         Step::new("b", Scale(3.0)).input(INPUT),
///     ],
///     ExecutorKind::Thread,
///     Some(2),
/// )?;
/// let out = p.transform(&Trace::new(vec![1.0], 1e3)?)?;
/// assert_eq!(out.samples(), &[3.0]);
/// assert_eq!(p.get_intermediate("a")?.samples(), &[2.0]);
/// assert_eq!(
///     p.to_string(),
///     "ParallelPipeline([\n  ('a', scale),\n  ('b', scale)\n], executor=thread, workers=2)"
/// );
/// # Ok::<(), tracekit::Error>(())
/// ```
pub struct ParallelPipeline {
    pipeline: Pipeline,
    kind: ExecutorKind,
    max_workers: Option<usize>,
    /// Built on the first run; reset whenever the configuration changes.
    executor: OnceLock<Box<dyn Executor>>,
}

impl ParallelPipeline {
    /// A pipeline of `steps` on the thread executor with automatic workers.
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Result<ParallelPipeline, Error> {
        ParallelPipeline::with_config(steps, ExecutorKind::Thread, None)
    }

    /// A pipeline of `steps` on executor `kind` with at most `max_workers`
    /// workers (`None`: automatic, see [`ParallelPipeline::resolved_workers`]).
    ///
    /// `Some(0)` is an [`Error::InvalidConfig`].
    pub fn with_config(
        steps: impl IntoIterator<Item = Step>,
        kind: ExecutorKind,
        max_workers: Option<usize>,
    ) -> Result<ParallelPipeline, Error> {
        check_workers(max_workers)?;
        Ok(ParallelPipeline::from_pipeline(
            Pipeline::new(steps)?,
            kind,
            max_workers,
        ))
    }

    /// Wraps an existing pipeline (its output step and stage time limit
    /// included).
    ///
    /// This cannot fail: a `Some(0)` here makes every run return
    /// [`Error::InvalidConfig`] until the configuration is changed.
    pub fn from_pipeline(
        pipeline: Pipeline,
        kind: ExecutorKind,
        max_workers: Option<usize>,
    ) -> ParallelPipeline {
        ParallelPipeline {
            pipeline,
            kind,
            max_workers,
            executor: OnceLock::new(),
        }
    }

    /// The executor backend.
    pub fn executor_type(&self) -> ExecutorKind {
        self.kind
    }

    /// The configured number of workers; `None` means automatic.
    pub fn max_workers(&self) -> Option<usize> {
        self.max_workers
    }

    /// The number of workers a run uses: the configured number, or
    /// [`ExecutorKind::auto_workers`] (threads `min(32, cpus + 4)`, processes
    /// `cpus`, sequential 1).
    ///
    /// ```
    /// use tracekit::{ExecutorKind, ParallelPipeline};
    /// # use tracekit::{Step, Trace, Transformer, StageError};
    /// # #[derive(Clone)] struct Id;
    /// # impl Transformer for Id {
    /// #     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> { Ok(i[0].clone()) }
    /// # }
    ///
    /// let mut p = ParallelPipeline::new([Step::new("a", Id)])?;
    /// let cpus = std::thread::available_parallelism()?.get();
    /// assert_eq!(p.resolved_workers(), 32.min(cpus + 4));
    /// p.set_parallel_config(ExecutorKind::Sequential, None);
    /// assert_eq!(p.resolved_workers(), 1);
    /// p.set_parallel_config(ExecutorKind::Thread, Some(3));
    /// assert_eq!(p.resolved_workers(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resolved_workers(&self) -> usize {
        self.max_workers.unwrap_or_else(|| self.kind.auto_workers())
    }

    /// Changes the executor backend and the number of workers; the next run
    /// builds the new executor.
    ///
    /// `Some(0)` is accepted here and makes the next run return
    /// [`Error::InvalidConfig`]; use [`ParallelPipeline::try_set_parallel_config`]
    /// to have it rejected at once.
    pub fn set_parallel_config(
        &mut self,
        kind: ExecutorKind,
        max_workers: Option<usize>,
    ) -> &mut Self {
        self.kind = kind;
        self.max_workers = max_workers;
        self.executor = OnceLock::new();
        self
    }

    /// [`ParallelPipeline::set_parallel_config`], rejecting `Some(0)` with
    /// [`Error::InvalidConfig`] (the configuration is then left unchanged).
    pub fn try_set_parallel_config(
        &mut self,
        kind: ExecutorKind,
        max_workers: Option<usize>,
    ) -> Result<&mut Self, Error> {
        check_workers(max_workers)?;
        Ok(self.set_parallel_config(kind, max_workers))
    }

    /// Sets the time limit for each stage (`None`: no limit).
    ///
    /// The process executor kills a worker at the limit; on the sequential and
    /// thread executors a stage that returns after the limit has its result
    /// discarded. Either way the run gives [`Error::Timeout`].
    pub fn set_stage_timeout(&mut self, limit: Option<Duration>) -> &mut Self {
        self.pipeline.set_stage_timeout(limit);
        self
    }

    /// The executor, built now if this is the first run since the last
    /// configuration change.
    pub fn executor(&self) -> Result<&dyn Executor, Error> {
        executor(&self.executor, self.kind, self.max_workers)
    }

    /// Runs every step on `input` on the configured executor. Reentrant:
    /// several threads may run one pipeline at once.
    pub fn run(&self, input: &Trace) -> Result<Run, Error> {
        self.pipeline.run_on(self.executor()?, input)
    }

    /// Runs the pipeline and keeps every intermediate for
    /// [`Pipeline::get_intermediate`].
    pub fn transform(&mut self, input: &Trace) -> Result<Trace, Error> {
        let executor = executor(&self.executor, self.kind, self.max_workers)?;
        self.pipeline.transform_on(executor, input)
    }

    /// Fits every stage in topological order (sequentially, by nature).
    pub fn fit(&mut self, input: &Trace) -> Result<&mut Self, Error> {
        self.pipeline.fit(input)?;
        Ok(self)
    }

    /// [`ParallelPipeline::fit`], then [`ParallelPipeline::transform`].
    pub fn fit_transform(&mut self, input: &Trace) -> Result<Trace, Error> {
        self.fit(input)?;
        self.transform(input)
    }

    /// Runs the pipeline on each input, in parallel across inputs as well as
    /// across stages; results in input order. A failure is [`Error::Batch`]
    /// naming the lowest failing input.
    pub fn run_batch(&self, inputs: &[Trace]) -> Result<Vec<Run>, Error> {
        self.pipeline.run_batch_on(self.executor()?, inputs)
    }

    /// The wrapped pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Unwraps the pipeline.
    pub fn into_pipeline(self) -> Pipeline {
        self.pipeline
    }
}

fn check_workers(max_workers: Option<usize>) -> Result<(), Error> {
    match max_workers {
        Some(0) => Err(Error::InvalidConfig(
            "max_workers must be at least 1, got 0 (use None for automatic)".into(),
        )),
        _ => Ok(()),
    }
}

/// The executor kept in `cell`, built first if needed.
fn executor(
    cell: &OnceLock<Box<dyn Executor>>,
    kind: ExecutorKind,
    max_workers: Option<usize>,
) -> Result<&dyn Executor, Error> {
    if let Some(built) = cell.get() {
        return Ok(&**built);
    }
    let built = build(kind, max_workers)?;
    // Two threads may build at once; the first one stored is kept.
    Ok(&**cell.get_or_init(|| built))
}

fn build(kind: ExecutorKind, max_workers: Option<usize>) -> Result<Box<dyn Executor>, Error> {
    check_workers(max_workers)?;
    let workers = max_workers.unwrap_or_else(|| kind.auto_workers());
    match kind {
        ExecutorKind::Sequential => Ok(Box::new(SequentialExecutor)),
        ExecutorKind::Thread => Ok(Box::new(ThreadExecutor::try_new(workers)?)),
        ExecutorKind::Process => Ok(Box::new(ProcessExecutor::new(workers)?)),
    }
}

impl Deref for ParallelPipeline {
    type Target = Pipeline;

    fn deref(&self) -> &Pipeline {
        &self.pipeline
    }
}

impl DerefMut for ParallelPipeline {
    /// The pipeline, to change it; executors see the change on the next run.
    fn deref_mut(&mut self) -> &mut Pipeline {
        &mut self.pipeline
    }
}

impl Clone for ParallelPipeline {
    /// A deep copy with the same configuration and a fresh executor.
    fn clone(&self) -> ParallelPipeline {
        ParallelPipeline::from_pipeline(self.pipeline.clone(), self.kind, self.max_workers)
    }
}

impl From<Pipeline> for ParallelPipeline {
    /// The pipeline on the thread executor with automatic workers.
    fn from(pipeline: Pipeline) -> ParallelPipeline {
        ParallelPipeline::from_pipeline(pipeline, ExecutorKind::Thread, None)
    }
}

impl fmt::Display for ParallelPipeline {
    /// `ParallelPipeline([\n  ('a', scale)\n], executor=thread, workers=auto)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let workers = match self.max_workers {
            Some(n) => n.to_string(),
            None => "auto".to_owned(),
        };
        let tail = format!(", executor={}, workers={workers}", self.kind);
        self.pipeline.fmt_steps(f, "ParallelPipeline", &tail)
    }
}

impl fmt::Debug for ParallelPipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParallelPipeline")
            .field("pipeline", &self.pipeline)
            .field("executor_type", &self.kind)
            .field("max_workers", &self.max_workers)
            .field("executor_built", &self.executor.get().is_some())
            .finish()
    }
}
