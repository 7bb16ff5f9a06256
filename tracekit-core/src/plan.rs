//! The plan an executor runs, and the one place where a stage is called.

use std::{
    any::Any,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Arc,
    time::{Duration, Instant},
};

use crate::{
    Error, Schedule, Source, StageError, StageRecord, Step, Trace, Transformer, graph::Graph,
};

/// Everything an executor needs to run a pipeline: the stages, their wiring,
/// which outputs to keep, and the stage time limit.
///
/// Made by [`Pipeline::plan`](crate::Pipeline::plan). Backends read the
/// wiring from it, drive a [`Schedule`] (or a [`RunSet`](crate::RunSet)) per
/// run, and call every stage through [`Plan::run_stage`].
///
/// A plan borrows only heap memory (the pipeline's steps and its graph),
/// never the [`Pipeline`](crate::Pipeline) value itself, which may live on
/// a thread's stack. Backends may rely on it: the process executor's
/// workers are forked from a thread of its own and read the plan in a copy
/// of the parent's memory, where the stacks of the other threads are free
/// memory.
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

    pub(crate) fn graph(&self) -> &'a Graph {
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

    /// The sequential order: the generations one after another, each in
    /// declaration order. The [`SequentialExecutor`](crate::SequentialExecutor)
    /// runs the stages in this order, and a failing run reports the failure
    /// earliest in it, on every executor.
    pub fn order(&self) -> &'a [usize] {
        &self.graph.order
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
        self.graph.gather(i, input, |d| results.get(d)?.as_ref())
    }

    /// Runs stage `i` on `inputs` in this thread: the one place where any
    /// executor calls a stage.
    ///
    /// An error of the stage becomes [`Error::Stage`] and a panic
    /// [`Error::StagePanicked`], both naming the step; the call is timed (from
    /// `run_start`, the start of the run, and recorded as run by `worker`),
    /// and a result that comes after the stage time limit is discarded and
    /// becomes [`Error::Timeout`].
    ///
    /// ```
    /// use std::time::Instant;
    /// use tracekit_core::{Error, Pipeline, Step, Trace, Transformer, StageError};
    ///
    /// #[derive(Clone)]
    /// struct Fails;
    /// impl Transformer for Fails {
    ///     fn transform(&self, _: &[&Trace]) -> Result<Trace, StageError> { Err("no".into()) }
    /// }
    ///
    /// let p = Pipeline::new([Step::new("f", Fails)])?;
    /// let input = Trace::new(vec![1.0], 1.0)?;
    /// let err = p.plan().run_stage(0, &[&input], Instant::now(), 0).unwrap_err();
    /// assert_eq!(err.to_string(), "Stage 'f' failed: no");
    /// # Ok::<(), tracekit_core::Error>(())
    /// ```
    pub fn run_stage(
        &self,
        i: usize,
        inputs: &[&Trace],
        run_start: Instant,
        worker: usize,
    ) -> Result<(Trace, StageRecord), Error> {
        let stage = self.stage(i);
        let start = Instant::now();
        let out = guarded(self.name(i), || stage.transform(inputs))?;
        let end = Instant::now();
        let record = StageRecord {
            start: start.saturating_duration_since(run_start),
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
}

/// Calls `f` (a stage's `transform` or `fit`), turning its error into
/// [`Error::Stage`] and a panic into [`Error::StagePanicked`] for `step`.
pub(crate) fn guarded<T>(
    step: &str,
    f: impl FnOnce() -> Result<T, StageError>,
) -> Result<T, Error> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(Error::Stage {
            step: step.to_owned(),
            source,
        }),
        Err(payload) => Err(Error::StagePanicked {
            step: step.to_owned(),
            message: panic_message(&*payload),
        }),
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
