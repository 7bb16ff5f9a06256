//! The public face of the thread backend.

use std::{num::NonZeroUsize, slice, thread};

use tracekit_core::{Error, Executor, Plan, Run, RunSet, Trace};

use crate::engine;

/// Runs pipeline stages on up to `workers` threads at once, the calling
/// thread among them.
///
/// Each call to [`Executor::run`] or [`Executor::run_batch`] opens a thread
/// scope and spawns helper threads lazily: only when more than one stage can
/// run at the same time, never more than `workers - 1`, and no more than the
/// graph is wide. A stage that is the only runnable one while nothing else
/// is in flight runs on the calling thread (worker 0 in
/// [`StageRecord`](tracekit_core::StageRecord)), so a linear chain costs no
/// hand-off and spawns no thread. Otherwise the calling thread works like
/// any helper: whichever thread finishes a stage hands out the stages that
/// became runnable, and runs one of them itself. With one worker, or a graph
/// in which no two stages can ever run at once, a run is exactly the
/// sequential executor's, on the calling thread. The executor itself holds no threads, so it
/// is cheap to create, `Copy`, and usable from many threads at once.
///
/// Results are identical, bit for bit, to the
/// [`SequentialExecutor`](tracekit_core::SequentialExecutor)'s, and so are
/// errors: after a failure, stages later in the sequential order do not
/// start, those earlier go on (stages already running finish), and the
/// failure reported is the earliest in that order, naming its step.
///
/// ```
/// use tracekit_core::{Pipeline, SequentialExecutor, Step, Trace, Transformer, StageError, INPUT};
/// use tracekit_exec_thread::ThreadExecutor;
///
/// #[derive(Clone)]
/// struct Square;
/// impl Transformer for Square {
///     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
///         Ok(i[0].derive(i[0].samples().iter().map(|x| x * x).collect()))
///     }
/// }
///
/// let p = Pipeline::new((0..8).map(|k| Step::new(format!("s{k}"), Square).input(INPUT)))?;
/// let input = Trace::new(vec![1.5, -2.0], 1.0)?;
/// let threaded = p.run_on(&ThreadExecutor::new(4), &input)?;
/// let sequential = p.run_on(&SequentialExecutor, &input)?;
/// assert!(threaded.output().bit_eq(sequential.output()));
/// # Ok::<(), tracekit_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThreadExecutor {
    workers: NonZeroUsize,
}

impl ThreadExecutor {
    /// An executor running at most `workers` stages at once. Zero is taken
    /// as one (everything then runs on the calling thread); use
    /// [`ThreadExecutor::try_new`] to have zero rejected instead.
    pub fn new(workers: usize) -> ThreadExecutor {
        ThreadExecutor {
            workers: NonZeroUsize::new(workers).unwrap_or(NonZeroUsize::MIN),
        }
    }

    /// An executor running at most `workers` stages at once; zero is an
    /// [`Error::InvalidConfig`].
    ///
    /// ```
    /// use tracekit_exec_thread::ThreadExecutor;
    ///
    /// assert_eq!(ThreadExecutor::try_new(3)?.workers(), 3);
    /// let err = ThreadExecutor::try_new(0).unwrap_err();
    /// assert!(err.to_string().contains("at least 1"), "{err}");
    /// # Ok::<(), tracekit_core::Error>(())
    /// ```
    pub fn try_new(workers: usize) -> Result<ThreadExecutor, Error> {
        NonZeroUsize::new(workers)
            .map(|workers| ThreadExecutor { workers })
            .ok_or_else(|| {
                Error::InvalidConfig(format!(
                    "the thread executor needs at least 1 worker, got {workers}"
                ))
            })
    }

    /// The most stages this executor runs at once.
    pub fn workers(&self) -> usize {
        self.workers.get()
    }
}

impl Default for ThreadExecutor {
    /// One worker per available CPU (one if that cannot be known).
    fn default() -> ThreadExecutor {
        ThreadExecutor {
            workers: thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
        }
    }
}

impl ThreadExecutor {
    /// Drives `set` on this executor's workers.
    fn drive<'p>(&self, set: RunSet<'p, Trace>) -> Result<RunSet<'p, Trace>, Error> {
        engine::drive(set, self.workers())
    }
}

impl Executor for ThreadExecutor {
    fn run(&self, plan: &Plan<'_>, input: &Trace) -> Result<Run, Error> {
        let mut set = RunSet::new(plan, slice::from_ref(input), 1);
        if self.workers() == 1 || engine::most_at_once(plan) == 1 {
            // Nothing could run beside anything else: exactly the
            // sequential executor's work, on the calling thread.
            set.run_all(0);
            return set.finish_run();
        }
        self.drive(set)?.finish_run()
    }

    /// Runs the traces in parallel, and the stages of each trace too.
    /// Results come in input order. If inputs fail, the error is
    /// [`Error::Batch`] for the lowest failing index, the same one a
    /// sequential loop would report.
    ///
    /// A worker keeps to the trace it works on and, when that trace has
    /// nothing runnable, takes a trace nobody works on: a batch of more
    /// traces than workers runs whole traces per thread (a trace's data stays
    /// in one core's cache and no stage waits for a hand-off), and a smaller
    /// one also runs the stages of each trace in parallel. At most twice
    /// `workers` traces are in flight.
    fn run_batch(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Result<Vec<Run>, Error> {
        let set = RunSet::new(plan, inputs, engine::window(self.workers()));
        self.drive(set)?.finish()
    }

    /// [`ThreadExecutor::run_batch`], every input running to its end.
    fn run_batch_each(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Vec<Result<Run, Error>> {
        let set = RunSet::keep_going(plan, inputs, engine::window(self.workers()));
        match self.drive(set) {
            Ok(set) => set.finish_each(),
            Err(e) => {
                let message = e.to_string();
                inputs
                    .iter()
                    .map(|_| Err(Error::Internal(message.clone())))
                    .collect()
            }
        }
    }
}
