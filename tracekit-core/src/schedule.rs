//! The ready-queue state machine shared by every executor.

use std::collections::VecDeque;

use crate::Plan;

/// Which stages of one run may start now, and which outputs may be dropped.
///
/// Every executor drives a `Schedule`: it takes runnable stages with
/// [`Schedule::next_ready`], runs them however it likes, and reports each
/// finished one with [`Schedule::complete`], which makes the stages that were
/// waiting only for it runnable. A stage becomes runnable as soon as its own
/// inputs are ready, not when its whole generation is.
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
/// # Ok::<(), tracekit_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Schedule<'p> {
    plan: &'p Plan<'p>,
    /// Dependencies each stage still waits for.
    waiting: Vec<u32>,
    /// Readers of each stage's output that have not completed yet.
    unread: Vec<u32>,
    ready: VecDeque<usize>,
    in_flight: usize,
    completed: usize,
}

impl<'p> Schedule<'p> {
    pub(crate) fn new(plan: &'p Plan<'p>) -> Schedule<'p> {
        let graph = plan.graph();
        let ready = graph
            .generations
            .first()
            .cloned()
            .unwrap_or_default()
            .into();
        Schedule {
            plan,
            waiting: graph.deps.iter().map(|d| d.len() as u32).collect(),
            unread: graph.readers.iter().map(|r| r.len() as u32).collect(),
            ready,
            in_flight: 0,
            completed: 0,
        }
    }

    /// Takes the next runnable stage, if any, and counts it as in flight.
    pub fn next_ready(&mut self) -> Option<usize> {
        let stage = self.ready.pop_front()?;
        self.in_flight += 1;
        Some(stage)
    }

    /// How many stages are runnable now.
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// How many stages were taken and not yet completed.
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
        self.in_flight -= 1;
        self.completed += 1;
        for &reader in &graph.readers[stage] {
            self.waiting[reader] -= 1;
            if self.waiting[reader] == 0 {
                self.ready.push_back(reader);
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

    /// Whether every stage has completed.
    pub fn is_done(&self) -> bool {
        self.completed == self.waiting.len()
    }
}
