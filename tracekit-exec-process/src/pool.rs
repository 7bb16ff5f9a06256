//! The worker processes of one executor, kept from call to call.

use std::{sync::Arc, time::Duration};

use tracekit_core::{
    RunSet,
    buffer::{self, RUN_END_IDLE},
};

use crate::{
    batch::Batch,
    inputs::InputCache,
    reply::Output,
    segment::Recycler,
    sys::{self, Forker},
    worker::Worker,
};

/// The worker processes of one executor.
#[derive(Debug)]
pub(crate) struct Pool {
    slots: Vec<Option<Worker>>,
    recycler: Arc<Recycler>,
    /// The stage state the live workers were forked with.
    state_id: Option<u64>,
    /// The inputs of the last call, as written to segments.
    inputs: InputCache,
    /// The thread every worker is forked from; it outlives them.
    forker: Forker,
}

impl Pool {
    pub(crate) fn new(workers: usize) -> Pool {
        Pool {
            slots: (0..workers).map(|_| None).collect(),
            recycler: {
                // Reused segments save allocating their pages on every run,
                // but each holds a descriptor: keep a share of the limit.
                let budget = (sys::descriptor_limit() / 8).clamp(16, 256);
                // Read here, before any fork: the pool limit's first read
                // takes the environment's lock, which a worker must not.
                let bytes = u64::try_from(buffer::pool_limit()).unwrap_or(u64::MAX);
                Recycler::new(budget.max(2 * workers + 4), bytes, budget)
            },
            state_id: None,
            inputs: InputCache::default(),
            forker: Forker::default(),
        }
    }

    /// The live workers' process ids.
    pub(crate) fn pids(&self) -> Vec<i32> {
        self.slots
            .iter()
            .flatten()
            .map(|w| w.pid().as_raw())
            .collect()
    }

    /// The bytes of the free segments kept for reuse.
    #[cfg(test)]
    pub(crate) fn idle_shared_bytes(&self) -> u64 {
        self.recycler.idle_bytes()
    }

    /// Kills and reaps every worker.
    pub(crate) fn shutdown(&mut self) {
        let workers: Vec<Worker> = self.slots.iter_mut().filter_map(Option::take).collect();
        for w in &workers {
            let _ = nix::sys::signal::kill(w.pid(), nix::sys::signal::Signal::SIGKILL);
        }
        for w in &workers {
            w.kill();
        }
        self.state_id = None;
    }

    /// Runs every task of `set` on the workers, `limit` the time limit of
    /// each stage; gives the set back, finished.
    pub(crate) fn execute<'p>(
        &mut self,
        set: RunSet<'p, Output>,
        limit: Option<Duration>,
    ) -> RunSet<'p, Output> {
        if set.is_finished() {
            return set;
        }
        let state_id = set.plan().state_id();
        if self.state_id != Some(state_id) {
            // The stages changed since the workers were forked: re-fork.
            self.shutdown();
            self.state_id = Some(state_id);
        }
        // Workers killed from outside while idle are replaced quietly.
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|w| w.try_reap().is_some()) {
                *slot = None;
            }
        }
        let mut batch = Batch::new(set, &self.recycler, limit, &mut self.inputs);
        batch.drive(&mut self.slots, &mut self.forker);
        let kept = batch.kept_bytes();
        let set = batch.into_set();
        self.inputs.end_call();
        // Idle segments beyond the run-end allowance go back to the system,
        // room left for the kept outputs, which come back when the caller
        // drops them: after a large run, small runs leave no more than the
        // allowance idle. (Outputs larger than it come back all the same,
        // for the next run to reuse, and its end trims them.)
        self.recycler
            .release_idle((RUN_END_IDLE as u64).saturating_sub(kept));
        set
    }
}
