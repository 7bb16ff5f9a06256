//! Which backend a [`ParallelPipeline`](crate::ParallelPipeline) runs on.

use std::{fmt, num::NonZeroUsize, str::FromStr, thread};

use crate::Error;

/// The executor backends a [`ParallelPipeline`](crate::ParallelPipeline) can use.
///
/// Parsed from and displayed as `"sequential"`, `"thread"` and `"process"`.
///
/// ```
/// use tracekit::ExecutorKind;
///
/// let kind: ExecutorKind = "process".parse()?;
/// assert_eq!(kind, ExecutorKind::Process);
/// assert_eq!(kind.to_string(), "process");
/// let err = "gpu".parse::<ExecutorKind>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "executor_type must be 'thread', 'process' or 'sequential', got 'gpu'"
/// );
/// # Ok::<(), tracekit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExecutorKind {
    /// One stage at a time on the calling thread.
    Sequential,
    /// Scoped worker threads (the default).
    #[default]
    Thread,
    /// Pre-forked worker processes with shared-memory traces.
    Process,
}

impl ExecutorKind {
    /// Every kind, in the order the CLI compares them.
    pub const ALL: [ExecutorKind; 3] = [
        ExecutorKind::Sequential,
        ExecutorKind::Thread,
        ExecutorKind::Process,
    ];

    /// The name used in spec files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutorKind::Sequential => "sequential",
            ExecutorKind::Thread => "thread",
            ExecutorKind::Process => "process",
        }
    }

    /// The number of workers when none is configured ("automatic"), as
    /// [`ParallelPipeline::resolved_workers`](crate::ParallelPipeline::resolved_workers)
    /// reports it:
    ///
    /// - threads: `min(32, cpus + 4)`, the default of Python's
    ///   `ThreadPoolExecutor` that the original `ParallelPipeline` used; the
    ///   thread executor built for it runs at most `cpus` stages at once
    ///   (see [`ExecutorKind::auto_stages_at_once`]), since stages are CPU-bound;
    /// - processes: `cpus` worker processes;
    /// - sequential: 1.
    ///
    /// `cpus` is [`std::thread::available_parallelism`] (1 if unknown).
    ///
    /// ```
    /// use tracekit::ExecutorKind;
    ///
    /// let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    /// assert_eq!(ExecutorKind::Sequential.auto_workers(), 1);
    /// assert_eq!(ExecutorKind::Thread.auto_workers(), 32.min(cpus + 4));
    /// assert_eq!(ExecutorKind::Process.auto_workers(), cpus);
    /// ```
    pub fn auto_workers(self) -> usize {
        let cpus = cpus();
        match self {
            ExecutorKind::Sequential => 1,
            ExecutorKind::Thread => 32.min(cpus + 4),
            ExecutorKind::Process => cpus,
        }
    }

    /// How many stages an executor of this kind with automatic workers runs
    /// at once: `cpus` for threads (what
    /// [`ThreadExecutor::default`](crate::exec::ThreadExecutor) gives)
    /// and for processes, 1 for sequential.
    ///
    /// ```
    /// use tracekit::ExecutorKind;
    ///
    /// let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    /// assert_eq!(ExecutorKind::Thread.auto_stages_at_once(), cpus);
    /// assert!(ExecutorKind::Thread.auto_stages_at_once() <= ExecutorKind::Thread.auto_workers());
    /// ```
    pub fn auto_stages_at_once(self) -> usize {
        match self {
            ExecutorKind::Sequential => 1,
            ExecutorKind::Thread | ExecutorKind::Process => cpus(),
        }
    }
}

/// The CPUs this process may use (1 if that cannot be known).
fn cpus() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

impl fmt::Display for ExecutorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExecutorKind {
    type Err = Error;

    /// Parses `"sequential"`, `"thread"` or `"process"`; anything else is
    /// [`Error::InvalidExecutor`].
    fn from_str(s: &str) -> Result<ExecutorKind, Error> {
        ExecutorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::InvalidExecutor { got: s.to_owned() })
    }
}
