//! The worker loop behind [`ThreadExecutor`](crate::ThreadExecutor): it moves
//! the tasks of a core [`RunSet`] to threads; the set decides what may run.
//!
//! The calling thread first runs what it can alone: while exactly one task
//! is runnable and nothing else is, it runs that task in place, so a chain
//! needs neither a thread nor a lock. Once two tasks can run at once, it
//! spawns helper threads in a scope (no more than the graph's width allows,
//! and `workers - 1` at most) and becomes worker 0 among them. Every worker
//! runs the same loop: under the lock, report the task it finished and take
//! the next one; run it outside the lock. A worker keeps to the input it
//! works on (its data is still in this core's cache), else takes an input
//! nobody works on (so a large batch runs whole traces per thread), else
//! helps with the earliest runnable stage. No thread only coordinates.

use std::{
    sync::{
        Condvar, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    thread,
};

use tracekit_core::{Error, Plan, RunSet, StageRecord, Task, Trace};

/// How many runs of a batch are open at once with `workers` workers: twice
/// the workers, so that a worker that finishes a trace finds the next one
/// admitted, and memory stays bounded.
pub(crate) fn window(workers: usize) -> usize {
    if workers > 1 { 2 * workers } else { 1 }
}

/// The most stages of one run of `plan` that can ever run at once, or an
/// upper bound of it: the stages off its longest path, plus one (only one
/// stage of a path runs at a time; the number of generations is the longest
/// path's length).
pub(crate) fn most_at_once(plan: &Plan<'_>) -> usize {
    plan.len() + 1 - plan.generations().len().clamp(1, plan.len().max(1))
}

/// Runs every task of `set` on at most `workers` threads, the calling one
/// among them. `Err` only if the engine itself failed (a worker thread
/// panicked outside a stage, which the stages' own panics never cause).
pub(crate) fn drive<'p>(
    mut set: RunSet<'p, Trace>,
    workers: usize,
) -> Result<RunSet<'p, Trace>, Error> {
    if workers <= 1 {
        set.run_all(0);
        return Ok(set);
    }
    // A chain (or anything that never has two tasks runnable at once) ends
    // here, without a thread, a lock or a condition variable.
    loop {
        set.admit();
        if set.ready_len() != 1 {
            break;
        }
        let Some(task) = set.next_task() else {
            break;
        };
        let result = set.run_task(task, 0);
        set.complete(task, result);
    }
    if set.is_finished() {
        return Ok(set);
    }
    let plan = set.plan();
    let runs = window(workers).min(set.inputs().len());
    let helpers = (workers - 1).min(most_at_once(plan).saturating_mul(runs).saturating_sub(1));
    let shared = Shared {
        set: Mutex::new(set),
        wake: Condvar::new(),
        broken: AtomicBool::new(false),
        plan,
    };
    let lost_helpers = thread::scope(|scope| {
        let mut handles = Vec::with_capacity(helpers);
        for id in 1..=helpers {
            let shared = &shared;
            let spawned = thread::Builder::new()
                .name(format!("tracekit-worker-{id}"))
                .spawn_scoped(scope, move || work(shared, id));
            match spawned {
                Ok(handle) => handles.push(handle),
                // Out of threads: those spawned so far, and this one, do the rest.
                Err(_) => break,
            }
        }
        work(&shared, 0);
        // A scope only waits for its threads' closures to return; joining
        // also waits for the threads to end, so none outlives the call (a
        // program that exits right after leaves no thread behind).
        handles
            .into_iter()
            .map(|handle| handle.join())
            .filter(Result::is_err)
            .count()
    });
    if lost_helpers > 0 || shared.broken.load(Ordering::Relaxed) {
        return Err(Error::Internal("a thread executor worker panicked".into()));
    }
    Ok(shared
        .set
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner))
}

/// What the threads of a parallel call share.
struct Shared<'p> {
    set: Mutex<RunSet<'p, Trace>>,
    /// Signalled when tasks became runnable or the set finished.
    wake: Condvar,
    /// Set when a worker unwinds: the others stop.
    broken: AtomicBool,
    plan: &'p Plan<'p>,
}

impl<'p> Shared<'p> {
    /// The set. A panic while the lock was held (a fault of the engine,
    /// never of a stage) sets `broken`, and the call ends.
    fn lock(&self) -> MutexGuard<'_, RunSet<'p, Trace>> {
        self.set.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Stops the other workers if the thread holding it unwinds, so that none
/// waits for tasks that will never come.
struct StopOnUnwind<'s, 'p>(&'s Shared<'p>);

impl Drop for StopOnUnwind<'_, '_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.broken.store(true, Ordering::Relaxed);
            self.0.wake.notify_all();
        }
    }
}

type Outcome = (Task, Result<(Trace, StageRecord), Error>);

/// A worker (the calling thread is worker 0): takes tasks and runs them
/// until the set has finished.
fn work(shared: &Shared<'_>, id: usize) {
    let _stop = StopOnUnwind(shared);
    let mut mine: Option<usize> = None;
    let mut done: Option<Outcome> = None;
    let mut set = shared.lock();
    loop {
        if let Some((task, result)) = done.take() {
            set.complete(task, result);
        }
        if shared.broken.load(Ordering::Relaxed) {
            return;
        }
        let next = mine
            .and_then(|input| set.next_task_for(input))
            .or_else(|| set.next_idle_task())
            .or_else(|| set.next_task());
        let Some(task) = next else {
            if set.is_finished() {
                shared.wake.notify_all();
                return;
            }
            set = shared
                .wake
                .wait(set)
                .unwrap_or_else(PoisonError::into_inner);
            continue;
        };
        // The traces are shared, not copied: the lock can go.
        let inputs: Option<Vec<Trace>> = set
            .gather(task)
            .map(|inputs| inputs.into_iter().cloned().collect());
        let start = set.run_start(task.input);
        if set.ready_len() > 0 {
            shared.wake.notify_one();
        }
        drop(set);
        let result = match (inputs, start) {
            (Some(inputs), Some(start)) => {
                let inputs: Vec<&Trace> = inputs.iter().collect();
                shared.plan.run_stage(task.stage, &inputs, start, id)
            }
            _ => Err(Error::Internal(format!(
                "inputs of stage '{}' are not ready",
                shared.plan.name(task.stage)
            ))),
        };
        mine = Some(task.input);
        done = Some((task, result));
        set = shared.lock();
    }
}
