//! A backend written outside the tracekit crates, checked with one call: the
//! way a backend author uses the conformance kit.

use std::thread;

use tracekit_conformance::{Conformance, check_executor};
use tracekit_core::{Error, Executor, Plan, Run, RunSet, Trace};

/// Runs every runnable stage of a round on its own scoped thread, then
/// reports them back in reverse order: a crude backend, but a correct one,
/// since the core's RunSet keeps the rules.
struct RoundsExecutor;

impl RoundsExecutor {
    fn drive(set: &mut RunSet<'_>) {
        loop {
            let round: Vec<_> = std::iter::from_fn(|| set.next_task()).collect();
            if round.is_empty() {
                return;
            }
            let results: Vec<_> = thread::scope(|s| {
                let handles: Vec<_> = round
                    .iter()
                    .enumerate()
                    .map(|(worker, &task)| {
                        let set = &*set;
                        s.spawn(move || set.run_task(task, worker + 1))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err(Error::Internal("a thread panicked".into())))
                    })
                    .collect()
            });
            for (task, result) in round.into_iter().zip(results).rev() {
                set.complete(task, result);
            }
        }
    }
}

impl Executor for RoundsExecutor {
    fn run(&self, plan: &Plan<'_>, input: &Trace) -> Result<Run, Error> {
        let mut set = RunSet::new(plan, std::slice::from_ref(input), 1);
        RoundsExecutor::drive(&mut set);
        set.finish_run()
    }

    fn run_batch(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Result<Vec<Run>, Error> {
        let mut set = RunSet::new(plan, inputs, 3);
        RoundsExecutor::drive(&mut set);
        set.finish()
    }

    fn run_batch_each(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Vec<Result<Run, Error>> {
        let mut set = RunSet::keep_going(plan, inputs, 3);
        RoundsExecutor::drive(&mut set);
        set.finish_each()
    }
}

#[test]
fn a_backend_defined_here_conforms() {
    check_executor("rounds", || Box::new(RoundsExecutor));
}

/// Runs a batch's inputs from the last to the first and reports the first
/// failure it meets: the drift the kit exists to catch.
struct BackwardsExecutor;

impl Executor for BackwardsExecutor {
    fn run(&self, plan: &Plan<'_>, input: &Trace) -> Result<Run, Error> {
        tracekit_core::SequentialExecutor.run(plan, input)
    }

    fn run_batch(&self, plan: &Plan<'_>, inputs: &[Trace]) -> Result<Vec<Run>, Error> {
        let mut runs = Vec::new();
        for (index, input) in inputs.iter().enumerate().rev() {
            runs.push(self.run(plan, input).map_err(|e| Error::batch(index, e))?);
        }
        runs.reverse();
        Ok(runs)
    }
}

#[test]
fn a_backend_that_reports_the_wrong_failure_does_not_conform() {
    let failure = Conformance::new("backwards")
        .only(["failures"])
        .seed(1)
        .cases(64)
        .run(&|| Box::new(BackwardsExecutor))
        .expect_err("the kit catches a batch that reports its last failing input");
    assert_eq!(failure.property, "failures");
    assert!(failure.message.contains("run_batch"), "{failure}");
    assert!(
        failure
            .to_string()
            .starts_with("executor 'backwards' fails"),
        "{failure}"
    );
}
