//! The scheduling loop behind [`ThreadExecutor`](crate::ThreadExecutor).
//!
//! The calling thread owns every [`Schedule`] and every result. A stage that
//! is the only runnable one while nothing is in flight, it runs itself, in
//! place. Otherwise it hands the runnable stages, with clones of their input
//! traces (cheap: samples are shared), to a queue that scoped worker threads
//! drain, spawned on demand, at most `workers` of them; finished stages come
//! back on a second channel. One loop serves a single run and a batch alike:
//! a batch is several runs in flight at once.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    thread::{self, Scope, ScopedJoinHandle},
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
/// most twice `workers` inputs in flight. Results come in input order; on failure,
/// the error of the lowest failing input.
pub(crate) fn execute(
    plan: &Plan<'_>,
    inputs: &[Trace],
    workers: usize,
) -> Result<Vec<Run>, Failure> {
    // Inputs at or above `cutoff` start no more stages (set by the first failure).
    let cutoff = AtomicUsize::new(usize::MAX);
    let mut engine = Engine::new(plan, inputs, workers, &cutoff);
    // A chain (or anything that never has two stages runnable at once) ends
    // here, without a thread scope or a channel.
    if engine.advance_inline() {
        thread::scope(|scope| {
            // The pool lives in the scope's closure so that, returning or
            // unwinding, it closes the queue before the scope joins the workers.
            let mut pool = Pool::new();
            let driven = engine.drive(scope, &mut pool);
            pool.close_and_join();
            driven
        })?;
    }
    engine.finish()
}

/// Runs `plan` on every input, `workers` threads each taking the next input
/// and running all its stages in turn. Results come in input order; on
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
    let joined = thread::scope(|scope| {
        let handles: Vec<_> = (1..=workers)
            .map(|worker| {
                let (next, cutoff) = (&next, &cutoff);
                scope.spawn(move || {
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
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect::<Vec<_>>()
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

/// The channels and the workers' count, created on the first hand-off: a
/// chain never needs them.
struct Pool<'scope> {
    jobs: Sender<Job>,
    jobs_rx: Receiver<Job>,
    done: Sender<Done>,
    done_rx: Receiver<Done>,
    handles: Vec<ScopedJoinHandle<'scope, ()>>,
    spawned: usize,
    can_spawn: bool,
}

impl<'scope> Pool<'scope> {
    fn new() -> Pool<'scope> {
        let (jobs, jobs_rx) = channel::unbounded();
        let (done, done_rx) = channel::unbounded();
        Pool {
            jobs,
            jobs_rx,
            done,
            done_rx,
            handles: Vec::new(),
            spawned: 0,
            can_spawn: true,
        }
    }

    /// Closes the queue and joins every worker thread. A scope only waits
    /// for its threads' closures to return; joining also waits for the
    /// threads themselves to end, so none outlives the call (a program that
    /// exits right after leaves no thread behind).
    fn close_and_join(self) {
        let Pool { jobs, handles, .. } = self;
        drop(jobs);
        for handle in handles {
            // Workers catch stage panics; a panic here is already reported
            // as a lost stage by `drive`.
            let _ = handle.join();
        }
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

    /// Runs every admitted and remaining input to its end, with workers.
    fn drive<'scope>(
        &mut self,
        scope: &'scope Scope<'scope, '_>,
        pool: &mut Pool<'scope>,
    ) -> Result<(), Failure>
    where
        'p: 'scope,
    {
        while self.advance_inline() {
            let first = self.active.first().copied().unwrap_or(0);
            self.dispatch(scope, pool);
            if self.outstanding == 0 {
                // Open runs with nothing runnable and nothing running: a plan
                // made by a pipeline never gets here.
                return Err(Failure {
                    index: first,
                    error: Error::Executor("the thread executor found no runnable stage".into()),
                });
            }
            let done = self.next_done(pool).map_err(|error| Failure {
                index: first,
                error,
            })?;
            self.outstanding -= 1;
            if let Some(run) = self.runs[done.index].as_mut() {
                run.outstanding -= 1;
            }
            self.record(done.index, done.stage, done.outcome);
        }
        Ok(())
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

    /// Hands every runnable stage of every live run to the queue, then makes
    /// sure enough workers exist to take them.
    fn dispatch<'scope>(&mut self, scope: &'scope Scope<'scope, '_>, pool: &mut Pool<'scope>)
    where
        'p: 'scope,
    {
        let cutoff = self.cutoff();
        let plan = self.plan;
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
                // The calling thread holds a receiver, so the queue is never closed here.
                if pool.jobs.send(job).is_err() {
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
        self.spawn_workers(scope, pool);
        if let Some((index, stage)) = missing {
            let error = Error::Executor(format!(
                "inputs of stage '{}' are not ready",
                plan.name(stage)
            ));
            self.record(index, stage, Outcome::Finished(Err(error)));
        }
    }

    /// Spawns workers until each handed-out stage has a thread, up to
    /// `workers` of them. With one worker the calling thread does it all.
    fn spawn_workers<'scope>(&self, scope: &'scope Scope<'scope, '_>, pool: &mut Pool<'scope>)
    where
        'p: 'scope,
    {
        let want = if self.workers > 1 {
            self.workers.min(self.outstanding)
        } else {
            0
        };
        let (plan, cutoff) = (self.plan, self.cutoff);
        while pool.can_spawn && pool.spawned < want {
            let id = pool.spawned + 1;
            let (jobs, done) = (pool.jobs_rx.clone(), pool.done.clone());
            let spawned = thread::Builder::new()
                .name(format!("tracekit-worker-{id}"))
                .spawn_scoped(scope, move || work(plan, cutoff, id, &jobs, &done));
            match spawned {
                Ok(handle) => {
                    pool.handles.push(handle);
                    pool.spawned += 1;
                }
                // Out of threads: the workers so far (or the calling thread) do the rest.
                Err(_) => pool.can_spawn = false,
            }
        }
    }

    /// The next finished stage: one a worker sent, or, when there are no
    /// workers, one the calling thread runs from the queue.
    ///
    /// With workers, the calling thread only coordinates: were it to run a
    /// long stage itself, stages that become ready meanwhile would wait for it.
    fn next_done(&self, pool: &Pool<'_>) -> Result<Done, Error> {
        if pool.spawned == 0 {
            if let Ok(job) = pool.jobs_rx.try_recv() {
                return Ok(perform(self.plan, self.cutoff, job, 0));
            }
        }
        pool.done_rx
            .recv()
            .map_err(|_| Error::Executor("the worker threads stopped".into()))
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

/// A worker: runs jobs until the queue closes.
fn work(
    plan: &Plan<'_>,
    cutoff: &AtomicUsize,
    id: usize,
    jobs: &Receiver<Job>,
    done: &Sender<Done>,
) {
    for job in jobs {
        if done.send(perform(plan, cutoff, job, id)).is_err() {
            break;
        }
    }
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
