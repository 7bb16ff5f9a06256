//! The executor contract, the plan an executor runs, and the sequential executor.

use std::{
    any::Any,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{Error, Run, Schedule, Source, StageRecord, Step, Trace, Transformer, graph::Graph};

/// A backend that runs plans: sequentially, on threads, in processes...
///
/// Backends move work and results; the rules of which stage may run when live
/// once, in [`Schedule`]. Every backend returns results identical, bit for bit,
/// to the [`SequentialExecutor`]'s.
pub trait Executor: Send + Sync {
    /// Runs every stage of `plan` on `input`.
    fn run(&self, plan: &Plan<'_>, input: &Trace) -> Result<Run, Error>;

    /// Runs `plan` on each input, results in input order. The default runs them
    /// one after another; the first failure is returned as [`Error::Batch`].
    fn run_batch(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Result<Vec<Run>, Error> {
        inputs
            .iter()
            .enumerate()
            .map(|(index, input)| {
                self.run(plan, input).map_err(|e| Error::Batch {
                    index,
                    source: Box::new(e),
                })
            })
            .collect()
    }
}

/// Everything an executor needs to run a pipeline once: the stages, their
/// wiring, which outputs to keep, and the stage time limit.
///
/// Made by [`crate::Pipeline::plan`].
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    steps: &'a [Step],
    graph: &'a Graph,
    output: usize,
    keep: Option<Arc<[bool]>>,
    stage_timeout: Option<Duration>,
    state_id: u64,
}

impl<'a> Plan<'a> {
    pub(crate) fn new(
        steps: &'a [Step],
        graph: &'a Graph,
        output: usize,
        stage_timeout: Option<Duration>,
        state_id: u64,
    ) -> Plan<'a> {
        Plan {
            steps,
            graph,
            output,
            keep: None,
            stage_timeout,
            state_id,
        }
    }

    pub(crate) fn graph(&self) -> &Graph {
        self.graph
    }

    /// Keeps only the output step and the steps where `keep` is true (one flag
    /// per stage, declaration order); other intermediates are dropped as soon
    /// as nothing reads them. By default every output is kept.
    pub fn with_keep(mut self, keep: Option<Arc<[bool]>>) -> Plan<'a> {
        self.keep = keep.filter(|k| k.len() == self.len());
        self
    }

    /// Sets the time limit for each stage.
    pub fn with_stage_timeout(mut self, limit: Option<Duration>) -> Plan<'a> {
        self.stage_timeout = limit;
        self
    }

    /// The number of stages.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the plan has no stages (never true for a plan made by a pipeline).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The name of stage `i`.
    pub fn name(&self, i: usize) -> &'a str {
        &self.steps[i].name
    }

    /// The transformer of stage `i`.
    pub fn stage(&self, i: usize) -> &'a dyn Transformer {
        &*self.steps[i].transformer
    }

    /// Where each input of stage `i` comes from, in declaration order.
    pub fn inputs(&self, i: usize) -> &'a [Source] {
        &self.graph.inputs[i]
    }

    /// The distinct stages that read stage `i`.
    pub fn readers(&self, i: usize) -> &'a [usize] {
        &self.graph.readers[i]
    }

    /// The generations (Kahn layers) of stage indices.
    pub fn generations(&self) -> &'a [Vec<usize>] {
        &self.graph.generations
    }

    /// The index of the output stage.
    pub fn output(&self) -> usize {
        self.output
    }

    /// Whether the run keeps the output of stage `i`.
    pub fn keeps(&self, i: usize) -> bool {
        i == self.output || self.keep.as_ref().is_none_or(|k| k[i])
    }

    /// The time limit for each stage, if any.
    pub fn stage_timeout(&self) -> Option<Duration> {
        self.stage_timeout
    }

    /// Identifies the stages' state: it changes whenever the pipeline's stages
    /// may have changed (fit, set_params, mutable access, clone). Executors that
    /// copy stages (by fork) use it to know when their copy is stale.
    pub fn state_id(&self) -> u64 {
        self.state_id
    }

    /// A fresh schedule for one run of this plan.
    pub fn schedule(&self) -> Schedule<'_> {
        Schedule::new(self)
    }

    /// The input traces of stage `i`, given the pipeline input and the outputs so far.
    ///
    /// Returns `None` if an input is missing (not yet computed, or released).
    pub fn gather<'t>(
        &self,
        i: usize,
        input: &'t Trace,
        results: &'t [Option<Trace>],
    ) -> Option<Vec<&'t Trace>> {
        self.inputs(i)
            .iter()
            .map(|s| match *s {
                Source::Input => Some(input),
                Source::Stage(d) => results.get(d)?.as_ref(),
            })
            .collect()
    }

    /// Calls stage `i`'s transform, turning an error or a panic into the
    /// [`Error`] that names the step.
    pub fn call_stage(&self, i: usize, inputs: &[&Trace]) -> Result<Trace, Error> {
        let stage = self.stage(i);
        match catch_unwind(AssertUnwindSafe(|| stage.transform(inputs))) {
            Ok(Ok(trace)) => Ok(trace),
            Ok(Err(source)) => Err(Error::Stage {
                step: self.name(i).to_owned(),
                source,
            }),
            Err(payload) => Err(Error::StagePanicked {
                step: self.name(i).to_owned(),
                message: panic_message(&*payload),
            }),
        }
    }

    /// Runs stage `i` in this thread: gathers its inputs, calls it, times it,
    /// and applies the stage time limit (a result that comes too late is
    /// discarded and becomes [`Error::Timeout`]).
    pub fn run_stage(
        &self,
        i: usize,
        input: &Trace,
        results: &[Option<Trace>],
        run_start: Instant,
        worker: usize,
    ) -> Result<(Trace, StageRecord), Error> {
        let inputs = self.gather(i, input, results).ok_or_else(|| {
            Error::Executor(format!("inputs of stage '{}' are not ready", self.name(i)))
        })?;
        let start = Instant::now();
        let out = self.call_stage(i, &inputs)?;
        let end = Instant::now();
        let record = StageRecord {
            start: start.duration_since(run_start),
            duration: end.duration_since(start),
            worker,
        };
        match self.stage_timeout {
            Some(limit) if record.duration > limit => Err(Error::Timeout {
                step: self.name(i).to_owned(),
                limit,
            }),
            _ => Ok((out, record)),
        }
    }

    /// Runs every stage on the calling thread, one after another in schedule
    /// order, recording `worker` as the worker: what the
    /// [`SequentialExecutor`] does (with worker 0), and what a backend's
    /// worker does with a whole input of a batch.
    pub fn run_sequential(&self, input: &Trace, worker: usize) -> Result<Run, Error> {
        let run_start = Instant::now();
        let mut results: Vec<Option<Trace>> = vec![None; self.len()];
        let mut records = vec![StageRecord::default(); self.len()];
        let mut schedule = self.schedule();
        while let Some(i) = schedule.next_ready() {
            let (out, record) = self.run_stage(i, input, &results, run_start, worker)?;
            results[i] = Some(out);
            records[i] = record;
            schedule.complete(i, |done| results[done] = None);
        }
        self.finish(results, records)
    }

    /// Assembles the [`Run`] from the outputs (one per stage, `None` where
    /// released) and the stage records.
    pub fn finish(
        &self,
        results: Vec<Option<Trace>>,
        records: Vec<StageRecord>,
    ) -> Result<Run, Error> {
        if results.len() != self.len() || records.len() != self.len() {
            return Err(Error::Executor(
                "an executor returned the wrong number of results".into(),
            ));
        }
        if results[self.output].is_none() {
            return Err(Error::Executor("an executor lost the output".into()));
        }
        Ok(Run::new(
            self.graph.names.clone(),
            results,
            self.output,
            records,
        ))
    }
}

/// The text of a caught panic's payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Runs one stage at a time on the calling thread, in schedule order.
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
        plan.run_sequential(input, 0)
    }
}
