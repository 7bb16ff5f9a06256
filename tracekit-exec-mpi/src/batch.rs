//! A batch of traces spread over the ranks: the traces travel to the ranks
//! that run them, the runs come back to rank 0.

use tracekit_core::{
    Error as CoreError, Executor, Pipeline, Plan, Run, SequentialExecutor, Trace, batch_result,
};

use crate::{
    Cluster, Error, Fingerprint, Flow, Job, Served,
    wire::{Reader, Writer},
};

/// One input of a batch per task: rank 0 sends the trace, gets the run back.
struct TraceJob<'a> {
    plan: &'a Plan<'a>,
    executor: &'a dyn Executor,
    inputs: &'a [Trace],
}

impl Job for TraceJob<'_> {
    type Output = Result<Run, CoreError>;

    fn payload(&self, index: usize) -> Vec<u8> {
        let mut w = Writer::default();
        w.trace(&self.inputs[index]);
        w.0
    }

    fn run(&self, index: usize) -> Self::Output {
        self.executor.run(self.plan, &self.inputs[index])
    }

    fn receive(&self, index: usize, bytes: &[u8]) -> Result<Self::Output, Error> {
        Reader::new(bytes).run_result(self.plan, &self.inputs[index])
    }
}

impl Cluster {
    /// Rank 0: runs `pipeline` on each input, spread over the ranks, each
    /// rank on the sequential executor; see [`Cluster::run_batch_on`].
    pub fn run_batch(&self, pipeline: &Pipeline, inputs: &[Trace]) -> Result<Vec<Run>, Error> {
        self.run_batch_on(pipeline, &SequentialExecutor, inputs)
    }

    /// Rank 0: runs `pipeline` on each input, spread over the ranks, and
    /// gives the runs in input order, bit for bit what a one-process
    /// `run_batch` gives. Rank 0 runs inputs too, on `executor`; the other
    /// ranks run theirs on the executor given to [`Cluster::serve_on`].
    ///
    /// Inputs are handed out one at a time, in order, to whichever rank is
    /// free. The failure rule is the one-process one: once an input fails, no
    /// later input starts, the earlier ones finish, and the error is
    /// `Batch input N failed: ...` for the lowest failing N
    /// ([`Error::Pipeline`]). Any other rank must be in [`Cluster::serve`]
    /// with the same pipeline (same [`Fingerprint`]), or this is
    /// [`Error::FingerprintMismatch`] on every rank.
    pub fn run_batch_on(
        &self,
        pipeline: &Pipeline,
        executor: &dyn Executor,
        inputs: &[Trace],
    ) -> Result<Vec<Run>, Error> {
        let results = self.hand_out_runs(pipeline, executor, inputs, true)?;
        // Inputs never handed out come after the lowest failure, which
        // core's batch rule reports first.
        let results = results
            .into_iter()
            .enumerate()
            .map(|(index, r)| {
                r.unwrap_or_else(|| {
                    Err(CoreError::Internal(format!(
                        "batch input {index} was never run"
                    )))
                })
            })
            .collect();
        batch_result(results).map_err(Error::Pipeline)
    }

    /// Rank 0: like [`Cluster::run_batch_on`], but every input runs whatever
    /// the others give: one result per input, in order.
    pub fn run_batch_each_on(
        &self,
        pipeline: &Pipeline,
        executor: &dyn Executor,
        inputs: &[Trace],
    ) -> Result<Vec<Result<Run, CoreError>>, Error> {
        self.hand_out_runs(pipeline, executor, inputs, false)?
            .into_iter()
            .enumerate()
            .map(|(index, r)| {
                r.ok_or_else(|| Error::Protocol(format!("input {index} was never run")))
            })
            .collect()
    }

    fn hand_out_runs(
        &self,
        pipeline: &Pipeline,
        executor: &dyn Executor,
        inputs: &[Trace],
        stop_at_failure: bool,
    ) -> Result<Vec<Option<Result<Run, CoreError>>>, Error> {
        let plan = pipeline.plan();
        let job = TraceJob {
            plan: &plan,
            executor,
            inputs,
        };
        self.hand_out(Fingerprint::of(&plan), inputs.len(), &job, |_, _, run| {
            if stop_at_failure && run.is_err() {
                Flow::Stop
            } else {
                Flow::Continue
            }
        })
    }

    /// Every rank but 0: runs the inputs that rank 0's batches hand out, on
    /// the sequential executor, until rank 0's cluster is dropped; see
    /// [`Cluster::serve_on`].
    pub fn serve(&self, pipeline: &Pipeline) -> Result<(), Error> {
        self.serve_on(pipeline, &SequentialExecutor)
    }

    /// Every rank but 0: runs the inputs that rank 0's batches
    /// ([`Cluster::run_batch_on`]) hand out, with `pipeline` on `executor`,
    /// and sends the runs back, until rank 0's cluster is dropped. `pipeline`
    /// must be the one rank 0 runs: a batch whose [`Fingerprint`] differs is
    /// [`Error::FingerprintMismatch`] here and on rank 0. On rank 0 this
    /// returns `Ok` at once.
    pub fn serve_on(&self, pipeline: &Pipeline, executor: &dyn Executor) -> Result<(), Error> {
        while self.serve_batch_on(pipeline, executor)? == Served::Batch {}
        Ok(())
    }

    /// Every rank but 0: serves rank 0's next batch only, or sees that there
    /// is none; see [`Cluster::serve_on`]. For SPMD programs whose pipeline
    /// changes between batches, the same change on every rank.
    pub fn serve_batch_on(
        &self,
        pipeline: &Pipeline,
        executor: &dyn Executor,
    ) -> Result<Served, Error> {
        let plan = pipeline.plan();
        self.serve_next_with(Fingerprint::of(&plan), |_, payload| {
            let result = Reader::new(payload)
                .trace()
                .map_err(|e| CoreError::Internal(format!("an input could not be decoded: {e}")))
                .and_then(|input| executor.run(&plan, &input));
            let mut w = Writer::default();
            w.run_result(&result);
            w.0
        })
    }
}
