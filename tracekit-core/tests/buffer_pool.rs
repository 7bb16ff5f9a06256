//! The buffer pool's reuse, caps and run-end release, seen through its
//! counters. One test function: the pool is process-wide, and tests of one
//! binary run in parallel.

use tracekit_core::{
    Pipeline, StageError, Step, Trace, Transformer,
    buffer::{self, SampleVec, pool_stats},
};

/// Doubles its input into a pooled buffer, as built-in stages do.
#[derive(Clone)]
struct Double;

impl Transformer for Double {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let x = inputs[0].samples();
        let out = SampleVec::from_exact_iter(x.iter().map(|v| 2.0 * v))?;
        Ok(inputs[0].derive_samples(out))
    }
}

fn fan_out() -> Pipeline {
    Pipeline::new([
        Step::new("a", Double),
        Step::new("b", Double).inputs(["a"]),
        Step::new("c", Double).inputs(["a"]),
        Step::new("d", Double).inputs(["b", "c"]),
    ])
    .unwrap()
}

#[test]
fn buffers_are_reused_and_the_caps_hold() {
    let input = Trace::new(vec![1.0; 1 << 16], 1e6).unwrap();
    let p = fan_out();

    // Steady state: once the first run has filled the pool, runs whose
    // outputs are dropped allocate no new sample buffers.
    drop(p.run(&input).unwrap());
    let warm = pool_stats();
    for _ in 0..10 {
        let run = p.run(&input).unwrap();
        assert_eq!(run.output().samples()[0], 8.0);
    }
    let after = pool_stats();
    assert_eq!(
        after.fresh, warm.fresh,
        "a steady-state run allocated buffers"
    );
    assert!(after.reused >= warm.reused + 40, "{warm:?} -> {after:?}");

    // A buffer larger than the cap works, and is freed rather than kept.
    buffer::set_pool_limit(1 << 20);
    let big = Trace::new(vec![0.5; 1 << 18], 1e6).unwrap();
    let run = p.run(&big).unwrap();
    assert_eq!(run.output().samples()[7], 4.0);
    drop(run);
    let capped = pool_stats();
    assert!(capped.idle_bytes <= 1 << 20, "{capped:?}");
    assert_eq!(capped.limit, 1 << 20);

    // When a run ends, idle memory above the run-end allowance goes back.
    buffer::set_pool_limit(1 << 30);
    let many: Vec<SampleVec> = (0..40)
        .map(|_| SampleVec::zeroed(1 << 20).unwrap())
        .collect();
    drop(many);
    assert!(pool_stats().idle_bytes > buffer::RUN_END_IDLE);
    let run = p.run(&input).unwrap();
    assert!(pool_stats().idle_bytes <= buffer::RUN_END_IDLE);
    drop(run);

    // Pooling off: buffers still work, nothing is kept.
    buffer::set_pool_limit(0);
    drop(p.run(&input).unwrap());
    assert_eq!(pool_stats().idle_bytes, 0);
}
