//! The bookkeeping of a batch, kept once for every executor: which inputs are
//! admitted, each run's [`Schedule`] and outputs, the failure to report.

use std::time::Instant;

use crate::{Error, Plan, Run, Schedule, StageRecord, Trace};

/// One stage of one input of a batch: the unit of work a backend moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Task {
    /// The position of the input in the batch.
    pub input: usize,
    /// The stage (declaration index).
    pub stage: usize,
}

/// What a backend keeps of a stage's output while a run is in progress.
///
/// In-process backends keep the [`Trace`] itself. A backend whose outputs
/// live elsewhere (in shared memory, on another machine) keeps its own handle,
/// and gives the trace for the [`Run`] where the plan keeps one.
pub trait StageOutput {
    /// The trace for the finished run; `None` where the backend did not make
    /// one (only for outputs the plan does not keep).
    fn into_trace(self) -> Option<Trace>;
}

impl StageOutput for Trace {
    fn into_trace(self) -> Option<Trace> {
        Some(self)
    }
}

/// One admitted input whose run is not over.
#[derive(Debug)]
struct OpenRun<'p, O> {
    schedule: Schedule<'p>,
    outputs: Vec<Option<O>>,
    records: Vec<StageRecord>,
    start: Instant,
    /// The error of the earliest failing stage so far.
    error: Option<Error>,
}

/// The batch engine: the runs of one plan over many inputs, as a backend
/// drives them.
///
/// It admits inputs in order (at most `window` runs open at once, so that
/// memory stays bounded), holds each run's [`Schedule`], outputs, timings and
/// error, hands out the runnable [`Task`]s, and applies the failure rule for
/// stages and inputs alike: the failure reported is the one earliest in the
/// sequential order, so work earlier than the earliest failure known so far
/// goes on, and nothing later starts. For a batch ([`RunSet::new`]) that
/// order is the input index, then [`Plan::order`]; a keep-going batch
/// ([`RunSet::keep_going`]) applies it within each input only, and every
/// input runs.
///
/// A backend only moves work: it takes tasks ([`RunSet::next_task`] and its
/// variants, or [`RunSet::take`] for a stage it already sends along), runs
/// each one with [`Plan::run_stage`] wherever it likes, and reports every
/// task it took exactly once with [`RunSet::complete`]. When
/// [`RunSet::is_finished`], [`RunSet::finish`] (or [`RunSet::finish_each`],
/// [`RunSet::finish_run`]) gives the result. `O` is what the backend keeps
/// of an output (see [`StageOutput`]).
///
/// ```
/// use tracekit_core::{Pipeline, RunSet, Step, Trace, Transformer, StageError, INPUT};
///
/// #[derive(Clone)]
/// struct Half;
/// impl Transformer for Half {
///     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
///         match i[0].samples()[0] {
///             x if x < 0.0 => Err(format!("negative sample {x}").into()),
///             _ => Ok(i[0].derive(i[0].samples().iter().map(|x| x / 2.0).collect())),
///         }
///     }
/// }
///
/// let p = Pipeline::new([Step::new("a", Half), Step::new("b", Half)])?;
/// let plan = p.plan();
/// let inputs = [Trace::new(vec![4.0], 1.0)?, Trace::new(vec![-1.0], 1.0)?];
///
/// // A backend's loop, here on the calling thread.
/// let mut set = RunSet::new(&plan, &inputs, 2);
/// while let Some(task) = set.next_task() {
///     let stage_inputs = set.gather(task).expect("inputs are ready");
///     let start = set.run_start(task.input).expect("the run is open");
///     let result = plan.run_stage(task.stage, &stage_inputs, start, 0);
///     set.complete(task, result);
/// }
/// assert!(set.is_finished());
/// let err = set.finish().unwrap_err();
/// assert_eq!(err.to_string(), "Batch input 1 failed: Stage 'a' failed: negative sample -1");
/// # Ok::<(), tracekit_core::Error>(())
/// ```
#[derive(Debug)]
pub struct RunSet<'p, O = Trace> {
    plan: &'p Plan<'p>,
    inputs: &'p [Trace],
    window: usize,
    keep_going: bool,
    /// The open runs with their inputs, ascending by input.
    open: Vec<(usize, OpenRun<'p, O>)>,
    /// The next input to admit.
    next: usize,
    /// By input: the result once its run is over (`None` for inputs not run).
    results: Vec<Option<Result<Run, Error>>>,
    /// The lowest failing input so far (not in keep-going batches).
    failed_input: Option<usize>,
    in_flight: usize,
}

impl<'p, O: StageOutput> RunSet<'p, O> {
    /// A batch of `plan` over `inputs`, at most `window` runs open at once
    /// (at least one), that stops at the first failure in the sequential order.
    pub fn new(plan: &'p Plan<'p>, inputs: &'p [Trace], window: usize) -> RunSet<'p, O> {
        RunSet {
            plan,
            inputs,
            window: window.max(1),
            keep_going: false,
            open: Vec::new(),
            next: 0,
            results: inputs.iter().map(|_| None).collect(),
            failed_input: None,
            in_flight: 0,
        }
    }

    /// A keep-going batch: every input runs, a failing one does not stop the
    /// others, and [`RunSet::finish_each`] gives one result per input.
    pub fn keep_going(plan: &'p Plan<'p>, inputs: &'p [Trace], window: usize) -> RunSet<'p, O> {
        RunSet {
            keep_going: true,
            ..RunSet::new(plan, inputs, window)
        }
    }

    /// The plan being run.
    pub fn plan(&self) -> &'p Plan<'p> {
        self.plan
    }

    /// The inputs of the batch.
    pub fn inputs(&self) -> &'p [Trace] {
        self.inputs
    }

    /// Opens runs for the next inputs while fewer than `window` are open
    /// (the `next_task` methods do this themselves).
    pub fn admit(&mut self) {
        while self.open.len() < self.window
            && self.next < self.inputs.len()
            && self.failed_input.is_none()
        {
            let n = self.plan.len();
            self.open.push((
                self.next,
                OpenRun {
                    schedule: self.plan.schedule(),
                    outputs: (0..n).map(|_| None).collect(),
                    records: vec![StageRecord::default(); n],
                    start: Instant::now(),
                    error: None,
                },
            ));
            self.next += 1;
        }
    }

    /// Takes the runnable task earliest in the sequential order (lowest
    /// input, then [`Plan::order`]) and counts it as in flight.
    pub fn next_task(&mut self) -> Option<Task> {
        self.admit();
        self.take_first(|_| true)
    }

    /// Takes a runnable stage of `input`, the earliest in [`Plan::order`]
    /// (for a worker that keeps to the input it works on).
    pub fn next_task_for(&mut self, input: usize) -> Option<Task> {
        let run = self.run_mut(input)?;
        let stage = run.schedule.next_ready()?;
        self.in_flight += 1;
        Some(Task { input, stage })
    }

    /// Takes the earliest runnable stage of an input none of whose stages is
    /// in flight (for a worker that looks for an input of its own).
    pub fn next_idle_task(&mut self) -> Option<Task> {
        self.admit();
        self.take_first(|run| run.schedule.in_flight() == 0)
    }

    fn take_first(&mut self, accept: impl Fn(&OpenRun<'p, O>) -> bool) -> Option<Task> {
        for (input, run) in &mut self.open {
            let input = *input;
            if !accept(run) {
                continue;
            }
            if let Some(stage) = run.schedule.next_ready() {
                self.in_flight += 1;
                return Some(Task { input, stage });
            }
        }
        None
    }

    /// Takes `task` if its stage is runnable now (see [`Schedule::take`]):
    /// for a backend that sends a stage along with the one before it.
    /// `false` if it is not: what the backend computes for it must then be
    /// discarded, not completed.
    pub fn take(&mut self, task: Task) -> bool {
        let Some(run) = self.run_mut(task.input) else {
            return false;
        };
        let taken = run.schedule.take(task.stage);
        if taken {
            self.in_flight += 1;
        }
        taken
    }

    /// How many tasks are runnable now, in the open runs.
    pub fn ready_len(&self) -> usize {
        self.open_runs().map(|run| run.schedule.ready_len()).sum()
    }

    /// How many tasks were taken and not yet completed.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Whether the run of `input` is open: admitted and not over.
    pub fn is_open(&self, input: usize) -> bool {
        self.run(input).is_some()
    }

    /// Whether the batch is over: no run open and none left to admit.
    pub fn is_finished(&self) -> bool {
        self.open.is_empty() && (self.next >= self.inputs.len() || self.failed_input.is_some())
    }

    /// When the run of `input` started (stage records count from it), while
    /// it is open.
    pub fn run_start(&self, input: usize) -> Option<Instant> {
        Some(self.run(input)?.start)
    }

    /// The output of `stage` in the open run of `input`, if it was computed
    /// and not yet released.
    pub fn output(&self, input: usize, stage: usize) -> Option<&O> {
        self.run(input)?.outputs.get(stage)?.as_ref()
    }

    /// Every output held by the open runs.
    pub fn outputs(&self) -> impl Iterator<Item = &O> + '_ {
        self.open_runs()
            .flat_map(|run| run.outputs.iter().flatten())
    }

    fn open_runs(&self) -> impl Iterator<Item = &OpenRun<'p, O>> + '_ {
        self.open.iter().map(|(_, run)| run)
    }

    fn position(&self, input: usize) -> Option<usize> {
        self.open.binary_search_by_key(&input, |(i, _)| *i).ok()
    }

    fn run(&self, input: usize) -> Option<&OpenRun<'p, O>> {
        Some(&self.open[self.position(input)?].1)
    }

    fn run_mut(&mut self, input: usize) -> Option<&mut OpenRun<'p, O>> {
        let position = self.position(input)?;
        Some(&mut self.open[position].1)
    }

    /// Reports a task taken before: its output and record, or its error.
    ///
    /// An output is kept while a stage still reads it or the plan keeps it;
    /// an error is the run's if it is the earliest in [`Plan::order`] so far,
    /// and then, unless the batch keeps going, stops the inputs after this
    /// one. Tasks of runs already over are ignored.
    pub fn complete(&mut self, task: Task, result: Result<(O, StageRecord), Error>) {
        let Some(position) = self.position(task.input) else {
            return;
        };
        self.in_flight = self.in_flight.saturating_sub(1);
        let run = &mut self.open[position].1;
        match result {
            Ok((output, record)) => {
                run.outputs[task.stage] = Some(output);
                run.records[task.stage] = record;
                let outputs = &mut run.outputs;
                run.schedule
                    .complete(task.stage, |done| outputs[done] = None);
            }
            Err(error) => {
                if run.schedule.fail(task.stage) {
                    run.error = Some(error);
                }
                if !self.keep_going && self.failed_input.is_none_or(|f| task.input < f) {
                    self.failed_input = Some(task.input);
                    self.stop_after(task.input);
                }
            }
        }
        self.close_if_over(task.input);
    }

    /// Stops the open runs of inputs after `input`: they start no more stages.
    fn stop_after(&mut self, input: usize) {
        let later: Vec<usize> = self
            .open
            .iter()
            .map(|(i, _)| *i)
            .filter(|&i| i > input)
            .collect();
        for i in later {
            if let Some(run) = self.run_mut(i) {
                run.schedule.stop();
            }
            self.close_if_over(i);
        }
    }

    /// Ends the run of `input` once nothing of it runs and nothing may start.
    fn close_if_over(&mut self, input: usize) {
        let Some(position) = self.position(input) else {
            return;
        };
        if !self.open[position].1.schedule.is_finished() {
            return;
        }
        let (_, run) = self.open.remove(position);
        let stopped = self.failed_input.is_some_and(|f| input > f);
        self.results[input] = match run.error {
            Some(error) => Some(Err(error)),
            None if stopped => None,
            None if run.schedule.is_done() => Some(self.assemble(run.outputs, run.records)),
            None => Some(Err(Error::Internal(format!(
                "the run of batch input {input} stalled with stages left to run"
            )))),
        };
    }

    fn assemble(&self, outputs: Vec<Option<O>>, records: Vec<StageRecord>) -> Result<Run, Error> {
        let results: Vec<Option<Trace>> = outputs
            .into_iter()
            .map(|o| o.and_then(StageOutput::into_trace))
            .collect();
        let output = self.plan.output();
        if results[output].is_none() {
            return Err(Error::Internal(format!(
                "the executor kept no output of step '{}'",
                self.plan.name(output)
            )));
        }
        Ok(Run::new(
            self.plan.graph().names.clone(),
            results,
            output,
            records,
        ))
    }

    /// The runs in input order, or [`Error::Batch`] for the lowest failing
    /// input (see [`batch_result`]).
    pub fn finish(self) -> Result<Vec<Run>, Error> {
        let mut runs = Vec::with_capacity(self.results.len());
        for (index, result) in self.results.into_iter().enumerate() {
            match result {
                Some(Ok(run)) => runs.push(run),
                Some(Err(error)) => return Err(Error::batch(index, error)),
                None => return Err(never_run(index)),
            }
        }
        Ok(runs)
    }

    /// One result per input, in input order (for a keep-going batch; in a
    /// batch that stopped, the inputs that did not run are
    /// [`Error::Internal`]).
    pub fn finish_each(self) -> Vec<Result<Run, Error>> {
        self.results
            .into_iter()
            .enumerate()
            .map(|(index, result)| result.unwrap_or_else(|| Err(never_run(index))))
            .collect()
    }

    /// The result of the first input, unwrapped: for a set of one input,
    /// what [`Executor::run`](crate::Executor::run) returns.
    pub fn finish_run(self) -> Result<Run, Error> {
        self.results
            .into_iter()
            .next()
            .flatten()
            .unwrap_or_else(|| Err(never_run(0)))
    }
}

fn never_run(index: usize) -> Error {
    Error::Internal(format!("batch input {index} was never run"))
}

impl<'p> RunSet<'p, Trace> {
    /// The input traces of `task`'s stage, from its run's outputs; `None`
    /// if one is missing (the task is not runnable).
    pub fn gather(&self, task: Task) -> Option<Vec<&Trace>> {
        let run = self.run(task.input)?;
        self.plan
            .graph()
            .gather(task.stage, self.inputs.get(task.input)?, |d| {
                run.outputs.get(d)?.as_ref()
            })
    }

    /// Runs `task` on the calling thread, as `worker`, reading its inputs
    /// in place: [`RunSet::gather`] and [`Plan::run_stage`].
    pub fn run_task(&self, task: Task, worker: usize) -> Result<(Trace, StageRecord), Error> {
        let (Some(inputs), Some(start)) = (self.gather(task), self.run_start(task.input)) else {
            return Err(Error::Internal(format!(
                "inputs of stage '{}' are not ready",
                self.plan.name(task.stage)
            )));
        };
        self.plan.run_stage(task.stage, &inputs, start, worker)
    }

    /// Runs every task on the calling thread, one after another in the
    /// sequential order, as `worker`: what the
    /// [`SequentialExecutor`](crate::SequentialExecutor) does.
    pub fn run_all(&mut self, worker: usize) {
        while let Some(task) = self.next_task() {
            let result = self.run_task(task, worker);
            self.complete(task, result);
        }
    }
}

/// Applies the batch failure rule to one result per input: the runs in
/// input order, or `Batch input N failed: ...` ([`Error::Batch`]) for the
/// lowest failing `N`.
///
/// For backends that gather per-input results themselves (from
/// [`Pipeline::run_batch_each`](crate::Pipeline::run_batch_each) on several
/// machines, say): the error is the one a sequential loop over the batch
/// would report.
///
/// ```
/// use tracekit_core::{Error, Pipeline, Step, Trace, Transformer, StageError, batch_result};
///
/// #[derive(Clone)]
/// struct Positive;
/// impl Transformer for Positive {
///     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
///         if i[0].samples()[0] > 0.0 { Ok(i[0].clone()) } else { Err("not positive".into()) }
///     }
/// }
///
/// let p = Pipeline::new([Step::new("check", Positive)])?;
/// let inputs: Vec<Trace> = [1.0, -1.0, -2.0].iter().map(|&x| Trace::new(vec![x], 1.0)).collect::<Result<_, _>>()?;
/// let each = p.run_batch_each(&inputs);
/// assert!(each[0].is_ok() && each[1].is_err() && each[2].is_err());
/// let err = batch_result(each).unwrap_err();
/// assert_eq!(err.to_string(), "Batch input 1 failed: Stage 'check' failed: not positive");
/// # Ok::<(), tracekit_core::Error>(())
/// ```
pub fn batch_result(results: Vec<Result<Run, Error>>) -> Result<Vec<Run>, Error> {
    results
        .into_iter()
        .enumerate()
        .map(|(index, result)| result.map_err(|error| Error::batch(index, error)))
        .collect()
}
