//! Failing runs and batches: on every executor, with 1 to 4 workers, the
//! same error as the sequential executor (same variant, same message), and
//! the same runs where nothing fails, whatever the timing of the stages.

use std::sync::Arc;

use proptest::prelude::*;
use tracekit_conformance::chaos::{chaos_strategy, quiet_chaos_panics, same_batch, same_outcome};
use tracekit_core::{Executor, Pipeline};
use tracekit_exec_process::ProcessExecutor;
use tracekit_exec_thread::ThreadExecutor;

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Runs `pipeline` on `executor` (a batch, a keep-going batch, and single
/// runs) and compares everything with the sequential executor's outcome.
fn check(
    pipeline: &Pipeline,
    executor: Arc<dyn Executor>,
    inputs: &[tracekit_core::Trace],
) -> Result<(), TestCaseError> {
    let on = pipeline.clone().with_executor(executor);
    same_batch(&pipeline.run_batch(inputs), &on.run_batch(inputs))
        .map_err(|e| TestCaseError::fail(format!("run_batch: {e}")))?;
    let expected = pipeline.run_batch_each(inputs);
    let got = on.run_batch_each(inputs);
    prop_assert_eq!(expected.len(), got.len());
    for (i, (a, b)) in expected.iter().zip(&got).enumerate() {
        same_outcome(a, b)
            .map_err(|e| TestCaseError::fail(format!("run_batch_each, input {i}: {e}")))?;
    }
    for (i, input) in inputs.iter().enumerate() {
        same_outcome(&expected[i], &on.run(input))
            .map_err(|e| TestCaseError::fail(format!("run, input {i}: {e}")))?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn failing_runs_and_batches_report_the_sequential_error(
        case in chaos_strategy(8, 5_000),
        workers in 1usize..=4,
    ) {
        quiet_chaos_panics();
        let pipeline = case.pipeline();
        let inputs = case.traces();
        check(&pipeline, Arc::new(ThreadExecutor::new(workers)), &inputs)?;
        check(&pipeline, Arc::new(ProcessExecutor::new(workers).unwrap()), &inputs)?;
    }
}
