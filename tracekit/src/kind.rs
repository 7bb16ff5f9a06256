//! Which backend a [`ParallelPipeline`](crate::ParallelPipeline) runs on.

use std::{fmt, num::NonZeroUsize, str::FromStr, thread};

use tracekit_core::Error;

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

    /// The number of workers when none is configured: `min(32, cpus + 4)` for
    /// threads (stages may wait on I/O), `cpus` for processes, 1 for sequential.
    ///
    /// ```
    /// use tracekit::ExecutorKind;
    ///
    /// assert_eq!(ExecutorKind::Sequential.auto_workers(), 1);
    /// assert!(ExecutorKind::Thread.auto_workers() >= 5);
    /// ```
    pub fn auto_workers(self) -> usize {
        let cpus = thread::available_parallelism().map_or(1, NonZeroUsize::get);
        match self {
            ExecutorKind::Sequential => 1,
            ExecutorKind::Thread => 32.min(cpus + 4),
            ExecutorKind::Process => cpus,
        }
    }
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
