//! The process executor of tracekit: stages run in pre-forked worker
//! processes, and traces travel between them through shared memory.
//!
//! Workers are forked lazily, on the first run, and reused across runs and
//! batches. They inherit the pipeline's stages by the fork itself, so nothing
//! is serialized and any [`Transformer`](tracekit_core::Transformer) works,
//! C callbacks included. When the stages change (`fit`, `set_params`,
//! `named_step_mut`, a clone: anything that changes [`Plan::state_id`]) the
//! workers are forked again before the next run.
//!
//! Every trace lives in an anonymous `memfd` segment: the input is
//! written once and mapped by every worker that reads it, each stage's output
//! is one segment that the workers downstream and the parent map directly.
//! The sockets carry only small control messages and the segments'
//! descriptors. Nothing has a name, so nothing is left behind when a process
//! is killed. Segments that no trace reads any more are kept for reuse, so
//! that a worker writes its output into pages that already exist; workers
//! keep their mappings of recent segments, so that reading an input again or
//! writing into a reused segment touches no page tables. The input of a run
//! is written once: running the same trace again reuses its segment.
//!
//! Stages are handed to free workers as soon as they are ready, following the
//! core's [`Schedule`](tracekit_core::Schedule); a linear chain (stages that
//! read only the previous stage's output) goes to one worker in one message,
//! which answers once per stage.
//!
//! A stage that crashes its worker gives [`ProcessError::WorkerCrashed`]
//! (carried by core's [`Error::Backend`]), one that runs past its time limit
//! has its worker killed and gives [`Error::Timeout`]; either way the worker
//! is replaced and the next run works. Stage errors and panics read exactly as on the other executors.
//!
//! Each request to a worker carries a number and its length; each reply
//! repeats the number, names its stage, declares its length and brings
//! exactly the descriptors its status calls for. Anything else on a
//! worker's socket (a message a stage wrote there, a garbled or cut one) is
//! [`ProcessError::MalformedReply`], saying what was wrong: the worker is
//! killed and replaced, and nothing it sent is used. A process, the parent
//! or a worker, that has no descriptor left for a socket or a segment gives
//! [`ProcessError::OutOfDescriptors`], with the limit; a worker that ran
//! short is replaced.
//!
//! A worker that ends by itself exits with its stage's `exit` status, or
//! with one of its own: 2 (its socket could not be read), 3 (its reply
//! could not be sent, its socket closed under it, say), 101 (it panicked
//! outside a stage), 125 (its parent had ended before the worker asked to
//! die with it).
//!
//! ```
//! use tracekit_core::{Pipeline, StageError, Step, Trace, Transformer, INPUT};
//! use tracekit_exec_process::ProcessExecutor;
//!
//! #[derive(Clone)]
//! struct Scale(f64);
//! impl Transformer for Scale {
//!     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
//!         Ok(i[0].derive(i[0].samples().iter().map(|x| x * self.0).collect()))
//!     }
//! }
//!
//! let pipeline = Pipeline::new([
//!     Step::new("double", Scale(2.0)).input(INPUT),
//!     Step::new("triple", Scale(3.0)).input(INPUT),
//! ])?;
//! let executor = ProcessExecutor::new(2)?;
//! let run = pipeline.run_on(&executor, &Trace::new(vec![1.0, 2.0], 1e3)?)?;
//! assert_eq!(run.get("double").unwrap().samples(), &[2.0, 4.0]);
//! assert_eq!(run.output().samples(), &[3.0, 6.0]);
//! # Ok::<(), tracekit_core::Error>(())
//! ```
//!
//! # Workers live as long as their executor
//!
//! Each worker asks the kernel to kill it when its parent ends
//! (`PR_SET_PDEATHSIG`), checking right after the request that the parent
//! had not ended already: a killed parent, even by SIGKILL, leaves no worker
//! running. The kernel sends that signal when the parent *thread* ends, so
//! every worker of an executor is forked from one thread the executor owns
//! (named `tracekit-forker`), never from the thread that happened to run
//! first (which, in a C host's thread pool, may end at any time). That
//! thread ends when the executor is dropped, after its workers.
//!
//! # Safety of the fork
//!
//! A worker is forked from a process that may run other threads; it holds
//! copies of every lock they held. The worker's own code takes none of them:
//! it uses system calls and the allocator (fork-safe with glibc), prints
//! nothing, and leaves with `_exit`. Panics in workers are caught and
//! reported; the executor installs, once, a panic hook that stays silent in
//! workers and defers to the previous hook elsewhere. Stages themselves
//! should not print or take process-wide locks either (the same rule as for
//! Python's `fork` start method). The worker's own output memory takes only
//! locks it created after the fork.
//!
//! Nor should a stage keep the traces it is given past the call: their
//! segments are handed out again once the run's traces drop. (A stage that
//! keeps the trace it returns gets its output copied, so that the one it
//! keeps stays its own.)
//!
//! A worker runs its stages on the forker thread's stack (8 MiB), in a copy
//! of the parent's memory in which the other threads' stacks are free
//! memory: a stage (a C callback's user data, say) should not rely on data
//! that lives on the stack of the thread that started the run, once it
//! starts threads of its own.
//!
//! A stage that calls `exit()` (a C callback's `exit`, Rust's
//! [`std::process::exit`]) ends its worker only: with glibc, the worker
//! leaves with `_exit` and that status before any exit handler of the parent
//! runs, so the parent's `atexit` handlers and C++ destructors do not run in
//! it and its copies of the parent's stdio buffers are not written out a
//! second time. The run gets [`ProcessError::WorkerExited`] with the status
//! and the stage, and the worker is replaced. (`quick_exit` runs the
//! parent's `at_quick_exit` handlers.)
#![deny(missing_docs)]

mod batch;
mod error;
mod inputs;
mod mapping_cache;
mod outputs;
mod pool;
mod reply;
mod segment;
mod sys;
mod wire;
mod worker;

/// Unit tests that fork workers take this for reading; a test whose
/// workers write to every socket they inherited (other tests' workers'
/// sockets among them) takes it for writing.
#[cfg(test)]
static FORKS: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Shares [`FORKS`] with the other forking tests.
#[cfg(test)]
fn forks() -> std::sync::RwLockReadGuard<'static, ()> {
    FORKS.read().unwrap_or_else(PoisonError::into_inner)
}

use std::{
    fmt, slice,
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tracekit_core::{Error, Executor, Plan, Run, RunSet, Trace};

pub use crate::error::{ProcessError, SignalName, signal_name};
use crate::{pool::Pool, reply::Output};

/// The most workers one executor may have.
pub const MAX_WORKERS: usize = 1024;

/// Runs stages in pre-forked worker processes; traces go through shared memory.
///
/// Runs on one executor from several threads take turns. Dropping the
/// executor kills and reaps every worker.
///
/// ```
/// use std::time::Duration;
/// use tracekit_exec_process::ProcessExecutor;
///
/// let executor = ProcessExecutor::new(4)?.with_timeout(Duration::from_secs(5));
/// assert_eq!(executor.workers(), 4);
/// assert_eq!(executor.timeout(), Some(Duration::from_secs(5)));
/// assert!(ProcessExecutor::new(0).is_err());
/// # Ok::<(), tracekit_core::Error>(())
/// ```
pub struct ProcessExecutor {
    workers: usize,
    timeout: Option<Duration>,
    pool: Mutex<Pool>,
}

impl ProcessExecutor {
    /// An executor with `workers` worker processes (forked on the first run).
    ///
    /// Fails unless `1 <= workers <= MAX_WORKERS`.
    pub fn new(workers: usize) -> Result<ProcessExecutor, Error> {
        if workers == 0 || workers > MAX_WORKERS {
            return Err(Error::InvalidConfig(format!(
                "the process executor needs between 1 and {MAX_WORKERS} workers, got {workers}"
            )));
        }
        Ok(ProcessExecutor {
            workers,
            timeout: None,
            pool: Mutex::new(Pool::new(workers)),
        })
    }

    /// Sets the time limit of each stage: a stage still running at the limit
    /// has its worker killed and gives [`Error::Timeout`]. Where the plan
    /// sets a limit too ([`Plan::stage_timeout`]), the smaller wins.
    pub fn with_timeout(mut self, limit: Duration) -> ProcessExecutor {
        self.timeout = Some(limit);
        self
    }

    /// The time limit set with [`ProcessExecutor::with_timeout`], if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The number of worker processes.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The process ids of the workers alive now (none before the first run).
    ///
    /// Waits for a run in progress on another thread to finish.
    pub fn worker_pids(&self) -> Vec<i32> {
        self.lock().pids()
    }

    /// Kills and reaps every worker now; the next run forks new ones.
    pub fn shutdown(&self) {
        self.lock().shutdown();
    }

    /// The bytes of shared memory kept idle for reuse.
    #[cfg(test)]
    pub(crate) fn idle_shared_bytes(&self) -> u64 {
        self.lock().idle_shared_bytes()
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        // The pool is consistent between calls; a panic cannot leave it
        // half-changed in a way that matters (workers are re-checked per run).
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ProcessExecutor {
    /// Runs every task of `set` on the workers; the time limit of a stage is
    /// the smaller of the plan's and this executor's.
    fn execute<'p>(&self, set: RunSet<'p, Output>) -> RunSet<'p, Output> {
        let limit = match (set.plan().stage_timeout(), self.timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.lock().execute(set, limit)
    }

    /// How many runs of a batch are open at once: one more than the workers,
    /// so that every worker finds a chain to run.
    fn window(&self) -> usize {
        self.workers + 1
    }
}

impl Executor for ProcessExecutor {
    fn run(&self, plan: &Plan<'_>, input: &Trace) -> Result<Run, Error> {
        let set = RunSet::new(plan, slice::from_ref(input), 1);
        self.execute(set).finish_run()
    }

    /// Runs the inputs in parallel too: stages of several runs share the workers.
    fn run_batch(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Result<Vec<Run>, Error> {
        let set = RunSet::new(plan, inputs, self.window());
        self.execute(set).finish()
    }

    /// [`ProcessExecutor::run_batch`], every input running to its end.
    fn run_batch_each(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Vec<Result<Run, Error>> {
        let set = RunSet::keep_going(plan, inputs, self.window());
        self.execute(set).finish_each()
    }
}

impl Drop for ProcessExecutor {
    fn drop(&mut self) {
        self.pool
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .shutdown();
    }
}

impl fmt::Debug for ProcessExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ProcessExecutor");
        d.field("workers", &self.workers)
            .field("timeout", &self.timeout);
        if let Ok(pool) = self.pool.try_lock() {
            d.field("live", &pool.pids());
        }
        d.finish()
    }
}
