//! The generators behind the kit's properties make the cases they are
//! meant to make.

use proptest::strategy::{Strategy, ValueTree};
use tracekit_conformance::{PipelineSpec, chaos::chaos_strategy, pipeline_strategy};

#[test]
fn spec_strategy_makes_out_of_order_declarations() {
    // The generator is only useful if it shuffles declarations and uses explicit outputs.
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

#[test]
fn chaos_strategy_makes_several_failures_in_a_batch() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let cases: Vec<_> = (0..200)
        .map(|_| {
            chaos_strategy(8, 5_000)
                .new_tree(&mut runner)
                .unwrap()
                .current()
        })
        .collect();
    let failing_inputs = |case: &tracekit_conformance::chaos::ChaosCase| {
        (0..case.inputs)
            .filter(|&i| {
                case.steps
                    .iter()
                    .any(|(s, _)| (s.fail | s.panic) & (1 << i) != 0)
            })
            .count()
    };
    assert!(cases.iter().any(|c| failing_inputs(c) >= 2));
    assert!(cases.iter().any(|c| failing_inputs(c) == 0));
    assert!(
        cases
            .iter()
            .any(|c| c.steps.iter().filter(|(s, _)| s.fail != 0).count() >= 2)
    );
    assert!(cases.iter().any(|c| {
        c.steps
            .iter()
            .any(|(s, _)| s.delay_us.iter().any(|&d| d > 1_000))
    }));
}
