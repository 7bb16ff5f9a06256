//! Scheduling overhead per stage: a 1,000-stage chain and a 1,000-wide
//! fan-out of trivial stages, sequential against thread; and W0 (4 chained
//! scale stages on 1,024 samples), where the inline fast path must keep the
//! thread executor within 1.2x of the sequential one; and a fan-out of four
//! equal CPU-bound stages, where 2 workers should approach twice the speed.
//!
//! Criterion reports the time per run; divided by 1,000 it is the cost per
//! stage (the stages themselves cost a few nanoseconds each).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tracekit_core::{
    Executor, INPUT, Pipeline, SequentialExecutor, StageError, Step, Trace, Transformer,
};
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

/// Multiplies by a factor: the W0 stage.
#[derive(Clone)]
struct Scale(f64);

impl Transformer for Scale {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        Ok(inputs[0].derive(inputs[0].samples().iter().map(|x| x * self.0).collect()))
    }
}

/// A CPU-bound stage of fixed cost: `ROUNDS` rounds of `sin` per sample.
#[derive(Clone)]
struct Burn;

const ROUNDS: usize = 48;

impl Transformer for Burn {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let out = inputs[0]
            .samples()
            .iter()
            .map(|&x| (0..ROUNDS).fold(x, |acc, _| acc.sin() * 1.5 + 0.25))
            .collect();
        Ok(inputs[0].derive(out))
    }
}

/// W1-style fan-out: four equal CPU-bound stages reading the input (a few
/// milliseconds each); the thread executor with 2 workers against sequential.
fn equal_fan_out(c: &mut Criterion) {
    let pipeline = Pipeline::new((0..4).map(|k| Step::new(format!("burn{k}"), Burn).input(INPUT)))
        .expect("a valid fan-out");
    let input =
        Trace::new((0..16_384).map(|k| k as f64 * 1e-3).collect(), 1e6).expect("a valid trace");
    let mut group = c.benchmark_group("fan_out_4_equal");
    group.sample_size(20);
    let executors: [(&str, Box<dyn Executor>); 2] = [
        ("sequential", Box::new(SequentialExecutor)),
        ("thread-2", Box::new(ThreadExecutor::new(2))),
    ];
    for (label, executor) in &executors {
        group.bench_function(*label, |b| {
            b.iter(|| black_box(pipeline.run_on(&**executor, black_box(&input))))
        });
    }
    // The machine's own ceiling: two bare threads, each running two of the
    // stages with no executor at all. Cores that slow down under sustained
    // load on both show up here as well as in thread-2.
    group.bench_function("bare-threads-2", |b| {
        b.iter(|| {
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| {
                        for _ in 0..2 {
                            black_box(Burn.transform(&[black_box(&input)]).ok());
                        }
                    });
                }
            })
        })
    });
    group.finish();
}

fn bench_graph(c: &mut Criterion, name: &str, pipeline: &Pipeline, len: usize) {
    let input = Trace::new(vec![1.0; len], 1.0).expect("a valid trace");
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
    bench_graph(c, "chain_1000", &chain, 16);
    let fan_out = Pipeline::new((0..STAGES).map(|k| Step::new(format!("s{k}"), Pass).input(INPUT)))
        .expect("a valid fan-out");
    bench_graph(c, "fan_out_1000", &fan_out, 16);
    // W0 of the design: 4 chained scale stages on 1,024 samples.
    let w0 = Pipeline::new([2.0, 0.5, 4.0, 0.25].map(|f| Step::new(format!("x{f}"), Scale(f))))
        .expect("a valid chain");
    bench_graph(c, "w0_chain_4x1024", &w0, 1024);
}

criterion_group!(benches, overhead, equal_fan_out);
criterion_main!(benches);
