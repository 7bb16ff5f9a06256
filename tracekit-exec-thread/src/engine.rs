//! The scheduling loop behind [`ThreadExecutor`](crate::ThreadExecutor).
//!
//! The calling thread first runs what it can alone: while exactly one stage
//! is runnable and nothing else is, it runs that stage in place, so a chain
//! needs neither a thread nor a lock. Once two stages can run at once, it
//! spawns helper threads in a scope (no more than the graph's width allows,
//! and `workers - 1` at most) and becomes worker 0 among them. Every worker
//! runs the same loop: take a stage, run it, then, under the engine's lock,
//! record the result and hand out what became runnable, keeping one of
//! those stages for itself (its input is still in this core's cache) and
//! queueing the rest. No thread only coordinates, so no core idles while a
//! coordinator sleeps and wakes, and nothing waits for a hand-back.
//!
//! One loop serves a single run and a small batch alike: a batch is several
//! runs in flight at once. A large batch goes [`by_trace`] instead.

use std::{
    sync::{
        Mutex, MutexGuard, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
    time::Instant,
};

use crossbeam::channel::{self, Receiver, Sender};
use tracekit_core::{Error, Plan, Run, Schedule, Source, StageRecord, Trace};

/// Why a call failed: the error and the index of the input it belongs to.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) index: usize,
    pub(crate) error: Error,
}

/// Runs `plan` on every input with at most `workers` stages at once, and at
/// most twice `workers` inputs in flight. Results come in input order; on
/// failure, the error of the lowest failing input.
pub(crate) fn execute(
    plan: &Plan<'_>,
    inputs: &[Trace],
    workers: usize,
) -> Result<Vec<Run>, Failure> {
    // Inputs at or above `cutoff` start no more stages (set by the first failure).
    let cutoff = AtomicUsize::new(usize::MAX);
    let mut engine = Engine::new(plan, inputs, workers, &cutoff);
    // A chain (or anything that never has two stages runnable at once) ends
    // here, without a thread, a lock or a channel.
    if !engine.advance_inline() {
        return engine.finish();
    }
    let (jobs, queue) = channel::unbounded();
    engine.jobs = Some(jobs);
    let helpers = engine.helpers_wanted();
    let first = engine.hand_out();
    let shared = Shared {
        engine: Mutex::new(engine),
        queue,
        plan,
        cutoff: &cutoff,
    };
    let lost_helpers = thread::scope(|scope| {
        let mut handles = Vec::with_capacity(helpers);
        for id in 1..=helpers {
            let shared = &shared;
            let spawned = thread::Builder::new()
                .name(format!("tracekit-worker-{id}"))
                .spawn_scoped(scope, move || work(shared, id, None));
            match spawned {
                Ok(handle) => handles.push(handle),
                // Out of threads: those spawned so far, and this one, do the rest.
                Err(_) => break,
            }
        }
        work(&shared, 0, first);
        // A scope only waits for its threads' closures to return; joining
        // also waits for the threads to end, so none outlives the call (a
        // program that exits right after leaves no thread behind).
        handles
            .into_iter()
            .map(|handle| handle.join())
            .filter(Result::is_err)
            .count()
    });
    let engine = shared
        .engine
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    if lost_helpers > 0 {
        // Stages run behind `Plan::call_stage`, which catches their panics:
        // only a fault of the engine itself gets here.
        return Err(Failure {
            index: engine.active.first().copied().unwrap_or(0),
            error: Error::Executor("a thread executor worker panicked".into()),
        });
    }
    engine.finish()
}

/// The most stages of one run of `plan` that can ever run at once, or an
/// upper bound of it: the stages off its longest path, plus one (only one
/// stage of a path runs at a time; the number of generations is the longest
/// path's length).
pub(crate) fn most_at_once(plan: &Plan<'_>) -> usize {
    plan.len() + 1 - plan.generations().len().clamp(1, plan.len().max(1))
}

/// Runs `plan` on every input, `workers` threads (the calling one among
/// them) each taking the next input and running all its stages in turn. Results come in input order; on
/// failure, [`Error::Batch`] for the lowest failing input (inputs after it
/// start no more).
pub(crate) fn by_trace(
    plan: &Plan<'_>,
    inputs: &[Trace],
    workers: usize,
) -> Result<Vec<Run>, Error> {
    let next = AtomicUsize::new(0);
    // The lowest failing input so far; inputs above it are not started.
    let cutoff = AtomicUsize::new(usize::MAX);
    let mut slots: Vec<Option<Result<Run, Error>>> = inputs.iter().map(|_| None).collect();
    let take_traces = |worker: usize| {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            if index >= inputs.len() || index > cutoff.load(Ordering::Relaxed) {
                return done;
            }
            let run = plan.run_sequential(&inputs[index], worker);
            if run.is_err() {
                cutoff.fetch_min(index, Ordering::Relaxed);
            }
            done.push((index, run));
        }
    };
    let joined = thread::scope(|scope| {
        // The calling thread is worker 0; out of threads, fewer helpers do it all.
        let handles: Vec<_> = (1..workers)
            .map_while(|worker| {
                let take_traces = &take_traces;
                thread::Builder::new()
                    .name(format!("tracekit-worker-{worker}"))
                    .spawn_scoped(scope, move || take_traces(worker))
                    .ok()
            })
            .collect();
        let mut joined = vec![Ok(take_traces(0))];
        joined.extend(handles.into_iter().map(|h| h.join()));
        joined
    });
    for finished in joined {
        // Stages run behind `Plan::run_stage`, which catches their panics.
        let finished =
            finished.map_err(|_| Error::Executor("a thread executor worker panicked".into()))?;
        for (index, run) in finished {
            slots[index] = Some(run);
        }
    }
    let mut runs = Vec::with_capacity(inputs.len());
    for (index, slot) in slots.into_iter().enumerate() {
        match slot {
            Some(Ok(run)) => runs.push(run),
            Some(Err(error)) => {
                return Err(Error::Batch {
                    index,
                    source: Box::new(error),
                });
            }
            None => {
                return Err(Error::Executor(format!(
                    "the thread executor lost batch input {index}"
                )));
            }
        }
    }
    Ok(runs)
}

/// One stage of one input, handed to whichever worker takes it.
struct Job {
    index: usize,
    stage: usize,
    inputs: Vec<Trace>,
    run_start: Instant,
}

/// A handed-out stage, back from its worker.
struct Done {
    index: usize,
    stage: usize,
    outcome: Outcome,
}

enum Outcome {
    Finished(Result<(Trace, StageRecord), Error>),
    /// Not started: its input had stopped by the time a worker took it.
    Skipped,
}

/// One input's run in progress.
struct TraceRun<'p> {
    input: &'p Trace,
    schedule: Schedule<'p>,
    results: Vec<Option<Trace>>,
    records: Vec<StageRecord>,
    start: Instant,
    /// Stages of this run handed out and not yet back.
    outstanding: usize,
    error: Option<Error>,
}

/// What the threads of a parallel run share.
struct Shared<'p> {
    engine: Mutex<Engine<'p>>,
    /// Stages handed out and not yet taken by a thread.
    queue: Receiver<Job>,
    plan: &'p Plan<'p>,
    cutoff: &'p AtomicUsize,
}

impl<'p> Shared<'p> {
    /// The engine. A panic while the lock was held (a fault of the engine,
    /// never of a stage) leaves it as consistent as it was, and the run ends.
    fn lock(&self) -> MutexGuard<'_, Engine<'p>> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Closes the queue if the thread holding it unwinds, so that no other
/// worker waits for stages that will never come.
struct CloseOnUnwind<'s, 'p>(&'s Shared<'p>);

impl Drop for CloseOnUnwind<'_, '_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.lock().jobs = None;
        }
    }
}

/// A worker (the calling thread is worker 0): runs `first`, then stages from
/// the queue and those its own results make runnable, until the queue closes.
fn work(shared: &Shared<'_>, id: usize, first: Option<Job>) {
    let _close = CloseOnUnwind(shared);
    let mut next = first;
    loop {
        let job = match next.take() {
            Some(job) => job,
            None => match shared.queue.recv() {
                Ok(job) => job,
                // Closed and empty: every run has ended.
                Err(_) => return,
            },
        };
        let done = perform(shared.plan, shared.cutoff, job, id);
        next = shared.lock().take_in(done);
    }
}

struct Engine<'p> {
    plan: &'p Plan<'p>,
    inputs: &'p [Trace],
    workers: usize,
    cutoff: &'p AtomicUsize,
    /// By input index: `Some` while that input is in flight.
    runs: Vec<Option<TraceRun<'p>>>,
    /// Indices of the inputs in flight, ascending.
    active: Vec<usize>,
    /// The next input to admit.
    next: usize,
    finished: Vec<Option<Run>>,
    failure: Option<Failure>,
    /// Stages handed out and not yet back, all runs together.
    outstanding: usize,
    /// Where runnable stages go for other threads; `None` before the run
    /// goes parallel and once it has ended (which closes the queue).
    jobs: Option<Sender<Job>>,
}

impl<'p> Engine<'p> {
    fn new(
        plan: &'p Plan<'p>,
        inputs: &'p [Trace],
        workers: usize,
        cutoff: &'p AtomicUsize,
    ) -> Engine<'p> {
        Engine {
            plan,
            inputs,
            workers: workers.max(1),
            cutoff,
            runs: inputs.iter().map(|_| None).collect(),
            active: Vec::with_capacity(workers.min(inputs.len())),
            next: 0,
            finished: inputs.iter().map(|_| None).collect(),
            failure: None,
            outstanding: 0,
            jobs: None,
        }
    }

    /// How many inputs may be in flight at once: twice the workers, so that
    /// while a finished stage travels back and its successor is dispatched,
    /// every worker still finds a stage of another input in the queue.
    fn max_in_flight(&self) -> usize {
        if self.workers > 1 {
            2 * self.workers
        } else {
            1
        }
    }

    fn cutoff(&self) -> usize {
        self.cutoff.load(Ordering::Relaxed)
    }

    /// Runs what it can on the calling thread alone: while exactly one stage
    /// is runnable and nothing is in flight. Returns whether stages remain
    /// that need workers.
    fn advance_inline(&mut self) -> bool {
        loop {
            self.admit();
            if self.active.is_empty() {
                return false;
            }
            if self.outstanding > 0 {
                return true;
            }
            match self.only_ready() {
                Some((index, stage)) => self.run_inline(index, stage),
                None => return true,
            }
        }
    }

    /// How many helper threads a parallel run can keep busy: `workers - 1`,
    /// or fewer when the graph is narrower.
    fn helpers_wanted(&self) -> usize {
        if self.workers <= 1 {
            return 0;
        }
        let width = most_at_once(self.plan);
        let runs = self.max_in_flight().min(self.inputs.len());
        (self.workers - 1).min(width.saturating_mul(runs).saturating_sub(1))
    }

    /// Takes in a stage's outcome from a worker, and hands out what became
    /// runnable (see [`Engine::hand_out`]).
    fn take_in(&mut self, done: Done) -> Option<Job> {
        self.outstanding -= 1;
        if let Some(run) = self.runs[done.index].as_mut() {
            run.outstanding -= 1;
        }
        self.record(done.index, done.stage, done.outcome);
        self.hand_out()
    }
    /// The runs in input order, or the failure of the lowest failing input.
    fn finish(self) -> Result<Vec<Run>, Failure> {
        if let Some(failure) = self.failure {
            return Err(failure);
        }
        self.finished
            .into_iter()
            .collect::<Option<Vec<Run>>>()
            .ok_or_else(|| Failure {
                index: 0,
                error: Error::Executor("the thread executor lost a run".into()),
            })
    }

    /// Starts runs for the next inputs while fewer than `workers` are in flight.
    fn admit(&mut self) {
        while self.active.len() < self.max_in_flight()
            && self.next < self.inputs.len()
            && self.next < self.cutoff()
        {
            let input = &self.inputs[self.next];
            let n = self.plan.len();
            self.runs[self.next] = Some(TraceRun {
                input,
                schedule: self.plan.schedule(),
                results: vec![None; n],
                records: vec![StageRecord::default(); n],
                start: Instant::now(),
                outstanding: 0,
                error: None,
            });
            self.active.push(self.next);
            self.next += 1;
        }
    }

    /// The one runnable stage, taken from its schedule, if exactly one stage
    /// of all runs is runnable.
    fn only_ready(&mut self) -> Option<(usize, usize)> {
        let cutoff = self.cutoff();
        let mut found = None;
        for &index in self.active.iter().take_while(|&&i| i < cutoff) {
            match self.runs[index]
                .as_ref()
                .map_or(0, |r| r.schedule.ready_len())
            {
                0 => {}
                1 if found.is_none() => found = Some(index),
                _ => return None,
            }
        }
        let index = found?;
        let stage = self.runs[index].as_mut()?.schedule.next_ready()?;
        Some((index, stage))
    }

    /// Runs a stage on the calling thread, reading the results in place.
    fn run_inline(&mut self, index: usize, stage: usize) {
        let Some(run) = self.runs[index].as_ref() else {
            return;
        };
        let result = self
            .plan
            .run_stage(stage, run.input, &run.results, run.start, 0);
        self.record(index, stage, Outcome::Finished(result));
    }

    /// Admits inputs, then hands out every runnable stage of every live run:
    /// the first is returned for the calling worker to run next, the others
    /// go to the queue. Closes the queue once every run has ended.
    fn hand_out(&mut self) -> Option<Job> {
        self.admit();
        let cutoff = self.cutoff();
        let plan = self.plan;
        let mut kept = None;
        let mut missing = None;
        for &index in self.active.iter().take_while(|&&i| i < cutoff) {
            let Some(run) = self.runs[index].as_mut() else {
                continue;
            };
            while let Some(stage) = run.schedule.next_ready() {
                let Some(inputs) = gather(plan, stage, run.input, &run.results) else {
                    missing = Some((index, stage));
                    break;
                };
                let job = Job {
                    index,
                    stage,
                    inputs,
                    run_start: run.start,
                };
                if kept.is_none() {
                    kept = Some(job);
                } else if self.jobs.as_ref().is_none_or(|q| q.send(job).is_err()) {
                    // The queue is open while runs are (and `Shared` holds a receiver).
                    missing = Some((index, stage));
                    break;
                }
                run.outstanding += 1;
                self.outstanding += 1;
            }
            if missing.is_some() {
                break;
            }
        }
        if let Some((index, stage)) = missing {
            let error = Error::Executor(format!(
                "inputs of stage '{}' are not ready",
                plan.name(stage)
            ));
            self.record(index, stage, Outcome::Finished(Err(error)));
        }
        if self.active.is_empty() {
            self.jobs = None;
        } else if self.outstanding == 0 {
            // Open runs with nothing runnable and nothing running: a plan
            // made by a pipeline never gets here.
            let index = self.active[0];
            self.failure.get_or_insert(Failure {
                index,
                error: Error::Executor("the thread executor found no runnable stage".into()),
            });
            self.jobs = None;
        }
        kept
    }

    /// Takes in the outcome of a stage of run `index`.
    fn record(&mut self, index: usize, stage: usize, outcome: Outcome) {
        let Some(run) = self.runs[index].as_mut() else {
            return;
        };
        match outcome {
            Outcome::Skipped => {}
            Outcome::Finished(Ok((trace, record))) => {
                if run.error.is_none() {
                    run.results[stage] = Some(trace);
                    run.records[stage] = record;
                    let results = &mut run.results;
                    run.schedule.complete(stage, |d| results[d] = None);
                }
            }
            Outcome::Finished(Err(error)) => {
                if run.error.is_none() {
                    run.error = Some(error);
                }
                self.stop_from(index);
            }
        }
        self.retire(index);
    }

    /// Stops inputs from `index` on: they start no new stage.
    fn stop_from(&mut self, index: usize) {
        if index >= self.cutoff() {
            return;
        }
        self.cutoff.store(index, Ordering::Relaxed);
        let stopped: Vec<usize> = self.active.iter().copied().filter(|&i| i > index).collect();
        for i in stopped {
            self.retire(i);
        }
    }

    /// Closes run `index` if it has finished, failed or stopped and nothing of
    /// it is still running.
    fn retire(&mut self, index: usize) {
        let stopped = index >= self.cutoff();
        let Some(run) = self.runs[index].as_mut() else {
            return;
        };
        if run.outstanding > 0 || !(stopped || run.schedule.is_done()) {
            return;
        }
        let Some(run) = self.runs[index].take() else {
            return;
        };
        self.active.retain(|&i| i != index);
        let error = match run.error {
            Some(error) => Some(error),
            None if stopped => None,
            None => match self.plan.finish(run.results, run.records) {
                Ok(done) => {
                    self.finished[index] = Some(done);
                    None
                }
                Err(error) => Some(error),
            },
        };
        let Some(error) = error else {
            return;
        };
        if self.failure.as_ref().is_none_or(|f| index < f.index) {
            self.failure = Some(Failure { index, error });
            self.stop_from(index);
        }
    }
}

/// Clones the input traces of `stage` (the samples stay shared).
fn gather(
    plan: &Plan<'_>,
    stage: usize,
    input: &Trace,
    results: &[Option<Trace>],
) -> Option<Vec<Trace>> {
    plan.inputs(stage)
        .iter()
        .map(|source| match *source {
            Source::Input => Some(input.clone()),
            Source::Stage(d) => results.get(d)?.clone(),
        })
        .collect()
}

/// Runs one job on this thread as worker `worker`, unless its input has stopped.
fn perform(plan: &Plan<'_>, cutoff: &AtomicUsize, job: Job, worker: usize) -> Done {
    let outcome = if job.index >= cutoff.load(Ordering::Relaxed) {
        Outcome::Skipped
    } else {
        Outcome::Finished(run_job(plan, &job, worker))
    };
    Done {
        index: job.index,
        stage: job.stage,
        outcome,
    }
}

/// [`Plan::run_stage`] for inputs gathered ahead: calls the stage, times it,
/// and applies the stage time limit.
fn run_job(plan: &Plan<'_>, job: &Job, worker: usize) -> Result<(Trace, StageRecord), Error> {
    let inputs: Vec<&Trace> = job.inputs.iter().collect();
    let start = Instant::now();
    let out = plan.call_stage(job.stage, &inputs)?;
    let duration = start.elapsed();
    let record = StageRecord {
        start: start.duration_since(job.run_start),
        duration,
        worker,
    };
    match plan.stage_timeout() {
        Some(limit) if duration > limit => Err(Error::Timeout {
            step: plan.name(job.stage).to_owned(),
            limit,
        }),
        _ => Ok((out, record)),
    }
}
