//! [`ParallelPipeline`]: a [`Pipeline`] whose executor is chosen by kind and
//! number of workers.

use std::{collections::BTreeMap, fmt, ops::Index, sync::Arc, time::Duration};

use tracekit_core::{
    Error as CoreError, Executor, ParamValue, Params, Pipeline, Plan, Run, SequentialExecutor,
    Step, Trace, Transformer,
};
use tracekit_exec_process::ProcessExecutor;
use tracekit_exec_thread::ThreadExecutor;

use crate::{Error, ExecutorKind};

/// A pipeline whose independent stages run in parallel: a drop-in replacement
/// for [`Pipeline`] with the same steps, the same results bit for bit, and an
/// executor backend to choose by [`ExecutorKind`] and number of workers.
///
/// It is a [`Pipeline`] carrying the executor of its configuration: every
/// method means what the [`Pipeline`] method of the same name means, run on
/// that executor. [`ParallelPipeline::as_pipeline`] (or `AsRef`) and
/// [`ParallelPipeline::into_pipeline`] give the pipeline inside, which runs on
/// the same executor. The executor is made with the configuration and kept, so
/// a backend with expensive workers (processes, forked on the first run) keeps
/// them across runs; changing the configuration makes a new one.
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
/// // The pipeline inside runs on the same executor.
/// assert!(std::sync::Arc::ptr_eq(p.as_pipeline().executor(), p.executor()?));
/// let run = p.as_pipeline().run(&Trace::new(vec![1.0], 1e3)?)?;
/// assert_eq!(run.output().samples(), &[3.0]);
/// # Ok::<(), tracekit::Error>(())
/// ```
pub struct ParallelPipeline {
    /// The pipeline, carrying the executor of the configuration.
    pipeline: Pipeline,
    kind: ExecutorKind,
    max_workers: Option<usize>,
    /// Why the configuration gives no executor, if it does not.
    unusable: Option<String>,
}

impl ParallelPipeline {
    /// A pipeline of `steps` on the thread executor with automatic workers.
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Result<ParallelPipeline, Error> {
        ParallelPipeline::with_config(steps, ExecutorKind::Thread, None)
    }

    /// A pipeline of `steps` on executor `kind` with at most `max_workers`
    /// workers (`None`: automatic, see [`ParallelPipeline::resolved_workers`]).
    ///
    /// `Some(0)` is an [`InvalidConfig`](CoreError::InvalidConfig) error.
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
    /// included); it runs on executor `kind` from now on.
    ///
    /// This cannot fail: a `Some(0)` here makes every run return an
    /// [`InvalidConfig`](CoreError::InvalidConfig) error until the
    /// configuration is changed.
    pub fn from_pipeline(
        pipeline: Pipeline,
        kind: ExecutorKind,
        max_workers: Option<usize>,
    ) -> ParallelPipeline {
        let mut p = ParallelPipeline {
            pipeline,
            kind,
            max_workers,
            unusable: None,
        };
        p.configure();
        p
    }

    /// Gives the pipeline the executor of the configuration.
    fn configure(&mut self) {
        let executor: Arc<dyn Executor> = match build(self.kind, self.max_workers) {
            Ok(executor) => {
                self.unusable = None;
                executor
            }
            Err(e) => {
                // Kept as the reason alone: `Unusable` gives it back as an
                // InvalidConfig error, whose message adds the prefix.
                let why = match e {
                    CoreError::InvalidConfig(why) => why,
                    other => other.to_string(),
                };
                self.unusable = Some(why.clone());
                Arc::new(Unusable(why))
            }
        };
        self.pipeline.set_executor(executor);
    }

    /// The executor backend.
    pub fn executor_type(&self) -> ExecutorKind {
        self.kind
    }

    /// The configured number of workers; `None` means automatic.
    pub fn max_workers(&self) -> Option<usize> {
        self.max_workers
    }

    /// The number of workers of the configuration: the configured number, or
    /// with automatic workers [`ExecutorKind::auto_workers`] (threads
    /// `min(32, cpus + 4)`, the original's figure; processes `cpus`;
    /// sequential 1), where `cpus` is [`std::thread::available_parallelism`].
    ///
    /// With automatic workers the thread executor runs at most `cpus` stages
    /// at once ([`ExecutorKind::auto_stages_at_once`]): stages are CPU-bound,
    /// and more threads than cores gain nothing and lose the cache. An
    /// explicit `max_workers` is honoured exactly, above `cpus` too (for
    /// stages that mostly wait, on a device or a file).
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

    /// Changes the executor backend and the number of workers; the pipeline
    /// runs on a new executor of that configuration from now on.
    ///
    /// `Some(0)` is accepted here and makes the next run return an
    /// [`InvalidConfig`](CoreError::InvalidConfig) error; use [`ParallelPipeline::try_set_parallel_config`]
    /// to have it rejected at once.
    pub fn set_parallel_config(
        &mut self,
        kind: ExecutorKind,
        max_workers: Option<usize>,
    ) -> &mut Self {
        self.kind = kind;
        self.max_workers = max_workers;
        self.configure();
        self
    }

    /// [`ParallelPipeline::set_parallel_config`], rejecting `Some(0)` with an
    /// [`InvalidConfig`](CoreError::InvalidConfig) error (the configuration is
    /// then left unchanged).
    pub fn try_set_parallel_config(
        &mut self,
        kind: ExecutorKind,
        max_workers: Option<usize>,
    ) -> Result<&mut Self, Error> {
        check_workers(max_workers)?;
        Ok(self.set_parallel_config(kind, max_workers))
    }

    /// The executor of the configuration, or the
    /// [`InvalidConfig`](CoreError::InvalidConfig) error that keeps it from existing (`max_workers` of `Some(0)`, too many
    /// process workers).
    pub fn executor(&self) -> Result<&Arc<dyn Executor>, Error> {
        match &self.unusable {
            Some(why) => Err(CoreError::InvalidConfig(why.clone()).into()),
            None => Ok(self.pipeline.executor()),
        }
    }

    /// The pipeline inside; it runs on the same executor.
    pub fn as_pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Unwraps the pipeline; it keeps running on the same executor.
    pub fn into_pipeline(self) -> Pipeline {
        self.pipeline
    }

    // The Pipeline methods, delegated.

    /// See [`Pipeline::with_output`].
    pub fn with_output(mut self, step: &str) -> Result<ParallelPipeline, Error> {
        self.pipeline = self.pipeline.with_output(step)?;
        Ok(self)
    }

    /// See [`Pipeline::len`].
    pub fn len(&self) -> usize {
        self.pipeline.len()
    }

    /// See [`Pipeline::is_empty`].
    pub fn is_empty(&self) -> bool {
        self.pipeline.is_empty()
    }

    /// See [`Pipeline::step_names`].
    pub fn step_names(&self) -> Vec<&str> {
        self.pipeline.step_names()
    }

    /// See [`Pipeline::steps`].
    pub fn steps(&self) -> &[Step] {
        self.pipeline.steps()
    }

    /// See [`Pipeline::output_step`].
    pub fn output_step(&self) -> &str {
        self.pipeline.output_step()
    }

    /// See [`Pipeline::named_step`].
    pub fn named_step(&self, name: &str) -> Option<&(dyn Transformer + 'static)> {
        self.pipeline.named_step(name)
    }

    /// See [`Pipeline::named_step_mut`]; every executor sees the change on
    /// the next run (process workers are forked again).
    pub fn named_step_mut(&mut self, name: &str) -> Option<&mut (dyn Transformer + 'static)> {
        self.pipeline.named_step_mut(name)
    }

    /// See [`Pipeline::stage_timeout`].
    pub fn stage_timeout(&self) -> Option<Duration> {
        self.pipeline.stage_timeout()
    }

    /// Sets the time limit for each stage (`None`: no limit).
    ///
    /// The process executor kills a worker at the limit; on the sequential and
    /// thread executors a stage that returns after the limit has its result
    /// discarded. Either way the run gives a [`Timeout`](CoreError::Timeout) error.
    pub fn set_stage_timeout(&mut self, limit: Option<Duration>) -> &mut Self {
        self.pipeline.set_stage_timeout(limit);
        self
    }

    /// See [`Pipeline::plan`].
    pub fn plan(&self) -> Plan<'_> {
        self.pipeline.plan()
    }

    /// Runs every step on `input` on the configured executor. Reentrant:
    /// several threads may run one pipeline at once.
    pub fn run(&self, input: &Trace) -> Result<Run, Error> {
        Ok(self.pipeline.run(input)?)
    }

    /// See [`Pipeline::run_on`]: one run on another executor.
    pub fn run_on(&self, executor: &dyn Executor, input: &Trace) -> Result<Run, Error> {
        Ok(self.pipeline.run_on(executor, input)?)
    }

    /// Runs the pipeline on each input, in parallel across inputs as well as
    /// across stages; results in input order. A failure is a
    /// [`Batch`](CoreError::Batch) error naming the lowest failing input.
    pub fn run_batch(&self, inputs: &[Trace]) -> Result<Vec<Run>, Error> {
        Ok(self.pipeline.run_batch(inputs)?)
    }

    /// See [`Pipeline::run_batch_on`]: one batch on another executor.
    pub fn run_batch_on(
        &self,
        executor: &dyn Executor,
        inputs: &[Trace],
    ) -> Result<Vec<Run>, Error> {
        Ok(self.pipeline.run_batch_on(executor, inputs)?)
    }

    /// See [`Pipeline::run_batch_each`]: every input runs, one result each.
    pub fn run_batch_each(&self, inputs: &[Trace]) -> Vec<Result<Run, Error>> {
        let each = self.pipeline.run_batch_each(inputs);
        each.into_iter().map(|r| r.map_err(Error::from)).collect()
    }

    /// Runs the pipeline and keeps every intermediate for
    /// [`ParallelPipeline::get_intermediate`].
    pub fn transform(&mut self, input: &Trace) -> Result<Trace, Error> {
        Ok(self.pipeline.transform(input)?)
    }

    /// See [`Pipeline::fit`] (sequential by nature).
    pub fn fit(&mut self, input: &Trace) -> Result<&mut Self, Error> {
        self.pipeline.fit(input)?;
        Ok(self)
    }

    /// [`ParallelPipeline::fit`], then [`ParallelPipeline::transform`].
    pub fn fit_transform(&mut self, input: &Trace) -> Result<Trace, Error> {
        Ok(self.pipeline.fit_transform(input)?)
    }

    /// See [`Pipeline::get_intermediate`].
    pub fn get_intermediate(&self, step: &str) -> Result<&Trace, Error> {
        Ok(self.pipeline.get_intermediate(step)?)
    }

    /// See [`Pipeline::get_intermediate_value`].
    pub fn get_intermediate_value(&self, step: &str, key: &str) -> Result<f64, Error> {
        Ok(self.pipeline.get_intermediate_value(step, key)?)
    }

    /// See [`Pipeline::has_intermediate`].
    pub fn has_intermediate(&self, step: &str) -> bool {
        self.pipeline.has_intermediate(step)
    }

    /// See [`Pipeline::list_intermediates`].
    pub fn list_intermediates(&self) -> Vec<&str> {
        self.pipeline.list_intermediates()
    }

    /// See [`Pipeline::last_run`].
    pub fn last_run(&self) -> Option<&Run> {
        self.pipeline.last_run()
    }

    /// See [`Pipeline::get_params`].
    pub fn get_params(&self) -> Params {
        self.pipeline.get_params()
    }

    /// See [`Pipeline::set_params`].
    pub fn set_params<I, K, V>(&mut self, params: I) -> Result<&mut Self, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<ParamValue>,
    {
        self.pipeline.set_params(params)?;
        Ok(self)
    }

    /// See [`Pipeline::get_dependency_graph`].
    pub fn get_dependency_graph(&self) -> BTreeMap<String, Vec<String>> {
        self.pipeline.get_dependency_graph()
    }

    /// See [`Pipeline::get_execution_order`].
    pub fn get_execution_order(&self) -> Vec<Vec<String>> {
        self.pipeline.get_execution_order()
    }

    /// See [`Pipeline::to_dot`].
    pub fn to_dot(&self) -> String {
        self.pipeline.to_dot()
    }
}

fn check_workers(max_workers: Option<usize>) -> Result<(), CoreError> {
    match max_workers {
        Some(0) => Err(CoreError::InvalidConfig(
            "max_workers must be at least 1, got 0 (use None for automatic)".into(),
        )),
        _ => Ok(()),
    }
}

/// The executor of a configuration.
fn build(kind: ExecutorKind, max_workers: Option<usize>) -> Result<Arc<dyn Executor>, CoreError> {
    check_workers(max_workers)?;
    let workers = max_workers.unwrap_or_else(|| kind.auto_stages_at_once());
    Ok(match kind {
        ExecutorKind::Sequential => Arc::new(SequentialExecutor),
        ExecutorKind::Thread => Arc::new(ThreadExecutor::try_new(workers)?),
        ExecutorKind::Process => Arc::new(ProcessExecutor::new(workers)?),
    })
}

/// The executor of a configuration that has none: every run is the
/// configuration's error.
#[derive(Debug)]
struct Unusable(String);

impl Unusable {
    fn error(&self) -> CoreError {
        CoreError::InvalidConfig(self.0.clone())
    }
}

impl Executor for Unusable {
    fn run(&self, _: &Plan<'_>, _: &Trace) -> Result<Run, CoreError> {
        Err(self.error())
    }

    fn run_batch(&self, _: &Plan<'_>, _: &[Trace]) -> Result<Vec<Run>, CoreError> {
        Err(self.error())
    }

    fn run_batch_each(&self, _: &Plan<'_>, inputs: &[Trace]) -> Vec<Result<Run, CoreError>> {
        inputs.iter().map(|_| Err(self.error())).collect()
    }
}

impl AsRef<Pipeline> for ParallelPipeline {
    fn as_ref(&self) -> &Pipeline {
        &self.pipeline
    }
}

impl Index<usize> for ParallelPipeline {
    type Output = dyn Transformer;

    /// The transformer of the step at `index`; panics if out of range, like a slice.
    fn index(&self, index: usize) -> &Self::Output {
        &self.pipeline[index]
    }
}

impl Index<&str> for ParallelPipeline {
    type Output = dyn Transformer;

    /// The transformer of step `name`; panics if there is none, like a map.
    /// Use [`ParallelPipeline::named_step`] for a fallible lookup.
    fn index(&self, name: &str) -> &Self::Output {
        &self.pipeline[name]
    }
}

impl Clone for ParallelPipeline {
    /// A deep copy with the same configuration and its own executor (its own
    /// process workers).
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
        let rows: Vec<String> = self
            .steps()
            .iter()
            .map(|s| format!("  ('{}', {})", s.name(), s.transformer().kind()))
            .collect();
        let workers = match self.max_workers {
            Some(n) => n.to_string(),
            None => "auto".to_owned(),
        };
        write!(
            f,
            "ParallelPipeline([\n{}\n], executor={}, workers={workers})",
            rows.join(",\n"),
            self.kind
        )
    }
}

impl fmt::Debug for ParallelPipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParallelPipeline")
            .field("pipeline", &self.pipeline)
            .field("executor_type", &self.kind)
            .field("max_workers", &self.max_workers)
            .field("unusable", &self.unusable)
            .finish()
    }
}
