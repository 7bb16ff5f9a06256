//! The ready-queue state machine of one run, shared by every executor.

use std::{cmp::Reverse, collections::BinaryHeap};

use crate::Plan;

/// Which stages of one run may start now, which outputs may be dropped, and
/// where a failing run stops.
///
/// Every executor drives a `Schedule` (usually through a
/// [`RunSet`](crate::RunSet), which holds one per input): it takes runnable
/// stages with [`Schedule::next_ready`], runs them however it likes, and
/// reports each one back with [`Schedule::complete`] or [`Schedule::fail`].
/// A stage becomes runnable as soon as its own inputs are ready, not when its
/// whole generation is.
///
/// Runnable stages come out in the *sequential order* ([`Plan::order`]): the
/// order in which the [`SequentialExecutor`](crate::SequentialExecutor) runs
/// them. After a failure only the stages earlier in that order than the
/// earliest failure known so far may still start, so whatever the timing, the
/// earliest failure in the sequential order is the one a run reports: the
/// failure the sequential executor meets first.
///
/// ```
/// use tracekit_core::{Pipeline, Step, Trace, Transformer, StageError, INPUT};
///
/// #[derive(Clone)]
/// struct Id;
/// impl Transformer for Id {
///     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> { Ok(i[0].clone()) }
/// }
///
/// let p = Pipeline::new([
///     Step::new("a", Id),
///     Step::new("b", Id).input(INPUT),
///     Step::new("c", Id).inputs(["a", "b"]),
/// ])?;
/// let plan = p.plan();
/// let mut s = plan.schedule();
/// assert_eq!((s.next_ready(), s.next_ready(), s.next_ready()), (Some(0), Some(1), None));
/// s.complete(0, |_| {});
/// assert_eq!(s.next_ready(), None); // c still waits for b
/// s.complete(1, |_| {});
/// assert_eq!(s.next_ready(), Some(2));
/// s.complete(2, |_| {});
/// assert!(s.is_done());
///
/// // A failure stops everything after it in the sequential order.
/// let mut s = plan.schedule();
/// let (a, b) = (s.next_ready(), s.next_ready());
/// assert!(s.fail(1)); // b failed: the earliest failure so far
/// s.complete(0, |_| {});
/// assert_eq!(s.next_ready(), None); // c comes after b: it never starts
/// assert!(s.is_finished() && !s.is_done());
/// assert_eq!(s.failed(), Some(1));
/// # let _ = (a, b);
/// # Ok::<(), tracekit_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Schedule<'p> {
    plan: &'p Plan<'p>,
    /// Dependencies each stage still waits for.
    waiting: Vec<u32>,
    /// Readers of each stage's output that have not completed yet.
    unread: Vec<u32>,
    /// Runnable stages by rank, lowest first; none at or after `cutoff`.
    ready: BinaryHeap<Reverse<u32>>,
    in_flight: usize,
    completed: usize,
    /// Stages from this rank on do not start: the rank of the earliest
    /// failure, 0 once stopped, `u32::MAX` while nothing failed.
    cutoff: u32,
    /// The rank of the earliest failure, if any.
    failure: Option<u32>,
}

impl<'p> Schedule<'p> {
    pub(crate) fn new(plan: &'p Plan<'p>) -> Schedule<'p> {
        let graph = plan.graph();
        let ready = graph
            .generations
            .first()
            .map(|first| first.iter().map(|&s| Reverse(graph.rank[s])).collect())
            .unwrap_or_default();
        Schedule {
            plan,
            waiting: graph.deps.iter().map(|d| d.len() as u32).collect(),
            unread: graph.readers.iter().map(|r| r.len() as u32).collect(),
            ready,
            in_flight: 0,
            completed: 0,
            cutoff: u32::MAX,
            failure: None,
        }
    }

    /// Takes the runnable stage earliest in the sequential order, if any, and
    /// counts it as in flight.
    pub fn next_ready(&mut self) -> Option<usize> {
        let Reverse(rank) = self.ready.pop()?;
        self.in_flight += 1;
        Some(self.plan.graph().order[rank as usize])
    }

    /// Takes `stage` if it is runnable now, and counts it as in flight.
    ///
    /// For backends that send several stages at once (a chain of stages that
    /// each read only the one before, to one worker): once the stage before
    /// completes, its successor is runnable and is taken here. `false` if
    /// the stage is not runnable (not yet ready, already taken, or after a
    /// failure): the backend must then discard what it computes.
    pub fn take(&mut self, stage: usize) -> bool {
        let Some(&rank) = self.plan.graph().rank.get(stage) else {
            return false;
        };
        let before = self.ready.len();
        self.ready.retain(|&Reverse(r)| r != rank);
        if self.ready.len() == before {
            return false;
        }
        self.in_flight += 1;
        true
    }

    /// How many stages are runnable now.
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// How many stages were taken and not yet completed or failed.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Records that `stage` finished; the stages it unblocks become runnable.
    ///
    /// `release` is called with every stage whose output nobody will read any
    /// more and that the plan does not keep (see [`Plan::keeps`]): the executor
    /// may drop it now.
    pub fn complete(&mut self, stage: usize, mut release: impl FnMut(usize)) {
        let graph = self.plan.graph();
        self.in_flight = self.in_flight.saturating_sub(1);
        self.completed += 1;
        for &reader in &graph.readers[stage] {
            self.waiting[reader] -= 1;
            if self.waiting[reader] == 0 && graph.rank[reader] < self.cutoff {
                self.ready.push(Reverse(graph.rank[reader]));
            }
        }
        for &dep in &graph.deps[stage] {
            self.unread[dep] -= 1;
            if self.unread[dep] == 0 && !self.plan.keeps(dep) {
                release(dep);
            }
        }
        if graph.readers[stage].is_empty() && !self.plan.keeps(stage) {
            release(stage);
        }
    }

    /// Records that `stage` failed. Stages after it in the sequential order
    /// no longer start; those before it still may (one of them could fail
    /// too, and would be the run's failure).
    ///
    /// Returns whether this is now the earliest failure of the run: the one
    /// the run reports.
    pub fn fail(&mut self, stage: usize) -> bool {
        self.in_flight = self.in_flight.saturating_sub(1);
        let rank = self.plan.graph().rank[stage];
        let earliest = self.failure.is_none_or(|f| rank < f);
        if earliest {
            self.failure = Some(rank);
        }
        self.cut(rank);
        earliest
    }

    /// Starts no more stages (the run is not wanted any more); stages in
    /// flight may still be reported back.
    pub fn stop(&mut self) {
        self.cut(0);
    }

    fn cut(&mut self, rank: u32) {
        if rank < self.cutoff {
            self.cutoff = rank;
            self.ready.retain(|&Reverse(r)| r < rank);
        }
    }

    /// The stage of the earliest failure so far, if any stage failed.
    pub fn failed(&self) -> Option<usize> {
        let rank = self.failure?;
        self.plan.graph().order.get(rank as usize).copied()
    }

    /// Whether every stage has completed.
    pub fn is_done(&self) -> bool {
        self.completed == self.waiting.len()
    }

    /// Whether the run is over: nothing in flight and nothing left that may
    /// start (every stage completed, or the run failed or was stopped).
    pub fn is_finished(&self) -> bool {
        self.in_flight == 0 && self.ready.is_empty()
    }
}
