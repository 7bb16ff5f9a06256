//! Dependency analysis of large pipelines: `Pipeline::new` on a 10,000-stage
//! chain and on a 10,000-wide fan-out joined by one stage (O(V + E); the
//! target is well under 10 ms each).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tracekit_core::{INPUT, Pipeline, StageError, Step, Trace, Transformer};

#[derive(Clone)]
struct Pass;

impl Transformer for Pass {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        Ok(inputs[0].clone())
    }
}

const N: usize = 10_000;

fn chain() -> Vec<Step> {
    (0..N).map(|i| Step::new(format!("s{i}"), Pass)).collect()
}

fn fan_out() -> Vec<Step> {
    let mut steps: Vec<Step> = (0..N)
        .map(|i| Step::new(format!("w{i}"), Pass).input(INPUT))
        .collect();
    steps.push(Step::new("join", Pass).inputs((0..N).map(|i| format!("w{i}"))));
    steps
}

fn analysis(c: &mut Criterion) {
    let mut group = c.benchmark_group("analysis");
    group.sample_size(20);
    group.bench_function("chain_10000", |b| {
        b.iter_batched(
            chain,
            |steps| black_box(Pipeline::new(steps)),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("fan_out_10000", |b| {
        b.iter_batched(
            fan_out,
            |steps| black_box(Pipeline::new(steps)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, analysis);
criterion_main!(benches);
