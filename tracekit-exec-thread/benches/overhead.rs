//! Scheduling overhead per stage: a 1,000-stage chain and a 1,000-wide
//! fan-out of trivial stages, sequential against thread.
//!
//! Criterion reports the time per run; divided by 1,000 it is the cost per
//! stage (the stages themselves cost a few nanoseconds each).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tracekit_core::{Executor, INPUT, Pipeline, SequentialExecutor, StageError, Step, Trace, Transformer};
use tracekit_exec_thread::ThreadExecutor;

const STAGES: usize = 1_000;

/// Passes its first input through: all cost is scheduling.
#[derive(Clone)]
struct Pass;

impl Transformer for Pass {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        Ok(inputs[0].clone())
    }
}

fn bench_graph(c: &mut Criterion, name: &str, pipeline: &Pipeline) {
    let input = Trace::new(vec![1.0; 16], 1.0).expect("a valid trace");
    let executors: [(&str, Box<dyn Executor>); 3] = [
        ("sequential", Box::new(SequentialExecutor)),
        ("thread-1", Box::new(ThreadExecutor::new(1))),
        ("thread-2", Box::new(ThreadExecutor::new(2))),
    ];
    let mut group = c.benchmark_group(name);
    for (label, executor) in &executors {
        group.bench_function(*label, |b| {
            b.iter(|| black_box(pipeline.run_on(&**executor, black_box(&input))))
        });
    }
    group.finish();
}

fn overhead(c: &mut Criterion) {
    let chain = Pipeline::new((0..STAGES).map(|k| Step::new(format!("s{k}"), Pass)))
        .expect("a valid chain");
    bench_graph(c, "chain_1000", &chain);
    let fan_out = Pipeline::new((0..STAGES).map(|k| Step::new(format!("s{k}"), Pass).input(INPUT)))
        .expect("a valid fan-out");
    bench_graph(c, "fan_out_1000", &fan_out);
}

criterion_group!(benches, overhead);
criterion_main!(benches);
