//! Properties 1, 2 and 5: every executor gives the sequential result, bit for
//! bit, on random pipelines and random traces; batches equal mapped runs;
//! fitting and cloning behave the same everywhere.

use proptest::prelude::*;
use tracekit_conformance::{
    PipelineSpec, assert_runs_equal, pipeline_strategy, same_error, trace_strategy,
};
use tracekit_core::{Executor, Pipeline, SequentialExecutor, Trace};
use tracekit_exec_process::ProcessExecutor;
use tracekit_exec_thread::ThreadExecutor;

fn cases(default: u32) -> ProptestConfig {
    // PROPTEST_CASES overrides the count for longer local runs.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

/// Runs `pipeline` on `executor` and compares with the sequential executor:
/// equal runs when both succeed, the same error (variant and step) when both fail.
fn check(pipeline: &Pipeline, executor: &dyn Executor, input: &Trace) -> Result<(), TestCaseError> {
    let names = pipeline.step_names();
    let expected = pipeline.run_on(&SequentialExecutor, input);
    let got = pipeline.run_on(executor, input);
    match (&expected, &got) {
        (Ok(a), Ok(b)) => assert_runs_equal(&names, a, b).map_err(TestCaseError::fail),
        (Err(a), Err(b)) if same_error(a, b) => {
            prop_assert_eq!(a.to_string(), b.to_string());
            Ok(())
        }
        _ => Err(TestCaseError::fail(format!(
            "sequential gave {:?}, executor gave {:?}",
            expected.as_ref().map(|_| "a run"),
            got.as_ref().map(|_| "a run")
        ))),
    }
}

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn thread_executor_equals_sequential(
        spec in pipeline_strategy(40, true),
        input in trace_strategy(4096),
        workers in 1usize..=8,
    ) {
        let pipeline = spec.build();
        check(&pipeline, &ThreadExecutor::new(workers), &input)?;
    }

    #[test]
    fn batches_equal_mapped_runs(
        spec in pipeline_strategy(12, false),
        inputs in proptest::collection::vec(trace_strategy(512), 0..6),
        workers in 1usize..=4,
    ) {
        let pipeline = spec.build();
        let names = pipeline.step_names();
        let executors: [Box<dyn Executor>; 3] = [
            Box::new(SequentialExecutor),
            Box::new(ThreadExecutor::new(workers)),
            Box::new(ProcessExecutor::new(workers).unwrap()),
        ];
        let mapped: Vec<_> = inputs.iter().map(|x| pipeline.run(x).unwrap()).collect();
        for executor in &executors {
            let batch = pipeline.run_batch_on(executor.as_ref(), &inputs).unwrap();
            prop_assert_eq!(batch.len(), mapped.len());
            for (a, b) in mapped.iter().zip(&batch) {
                assert_runs_equal(&names, a, b).map_err(TestCaseError::fail)?;
            }
        }
    }

    #[test]
    fn fit_then_transform_is_the_same_everywhere(
        spec in pipeline_strategy(10, false),
        input in trace_strategy(256),
        factor in -4.0f64..4.0,
    ) {
        let mut reference = spec.build();
        reference.fit(&input).unwrap();
        let mut thread = reference.clone();
        let process = reference.clone();
        let expected = reference.run(&input).unwrap();
        let names = reference.step_names();
        for run in [
            thread.run_on(&ThreadExecutor::new(3), &input).unwrap(),
            process.run_on(&ProcessExecutor::new(2).unwrap(), &input).unwrap(),
        ] {
            assert_runs_equal(&names, &expected, &run).map_err(TestCaseError::fail)?;
        }
        // Clones are independent: changing one leaves the others alone.
        let first = names[0].to_string();
        thread.set_params([(format!("{first}__k"), factor)]).unwrap();
        let again = reference.run(&input).unwrap();
        assert_runs_equal(&names, &expected, &again).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    // Forking is the expensive part: fewer, larger cases.
    #![proptest_config(cases(24))]

    #[test]
    fn process_executor_equals_sequential(
        spec in pipeline_strategy(40, true),
        inputs in proptest::collection::vec(trace_strategy(4096), 1..4),
        workers in 1usize..=4,
    ) {
        let pipeline = spec.build();
        // One executor for several inputs: the workers are reused between runs.
        let executor = ProcessExecutor::new(workers).unwrap();
        for input in &inputs {
            check(&pipeline, &executor, input)?;
        }
    }
}

#[test]
fn spec_strategy_makes_out_of_order_declarations() {
    // The generator is only useful if it shuffles declarations and uses explicit outputs.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let specs: Vec<PipelineSpec> = (0..200)
        .map(|_| {
            pipeline_strategy(10, true)
                .new_tree(&mut runner)
                .unwrap()
                .current()
        })
        .collect();
    assert!(
        specs
            .iter()
            .any(|s| s.declaration.windows(2).any(|w| w[0] > w[1]))
    );
    assert!(specs.iter().any(|s| s.output.is_some()));
    assert!(
        specs
            .iter()
            .any(|s| s.steps.iter().any(|st| st.inputs.len() > 1))
    );
    assert!(
        specs
            .iter()
            .any(|s| s.steps.iter().any(|st| st.stage.op.fallible()))
    );
}
