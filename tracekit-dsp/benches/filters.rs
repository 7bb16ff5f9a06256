//! Filter and element-wise kernels on 2^20 samples.
//!
//! Run with `cargo bench -p tracekit-dsp --bench filters -- --measurement-time 3 --warm-up-time 1`;
//! `python3 fixtures/gen_filters.py --time` prints SciPy/NumPy's figures for the same work.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng, rngs::StdRng};
use tracekit_core::{Trace, Transformer};
use tracekit_dsp::{Lowpass, Merge, MergeOp, Normalize, Scale};

const N: usize = 1 << 20;

fn input(seed: u64) -> Trace {
    let mut rng = StdRng::seed_from_u64(seed);
    let samples = (0..N).map(|_| rng.random_range(-1.0..1.0)).collect();
    Trace::new(samples, 1e6).expect("valid rate")
}

fn benches(c: &mut Criterion) {
    let x = input(1);
    let y = input(2);
    let mut g = c.benchmark_group("2^20");
    g.bench_function("copy", |b| b.iter(|| black_box(x.samples().to_vec())));
    let lowpass = Lowpass::new(50_000.0);
    g.bench_function("lowpass_zero_phase_order4", |b| {
        b.iter(|| lowpass.transform(&[black_box(&x)]).expect("filters"))
    });
    let forward = Lowpass::new(50_000.0).with_zero_phase(false);
    g.bench_function("lowpass_forward_order4", |b| {
        b.iter(|| forward.transform(&[black_box(&x)]).expect("filters"))
    });
    let scale = Scale::new(2.0);
    g.bench_function("scale", |b| {
        b.iter(|| scale.transform(&[black_box(&x)]).expect("scales"))
    });
    let normalize = Normalize::zscore();
    g.bench_function("normalize_zscore", |b| {
        b.iter(|| normalize.transform(&[black_box(&x)]).expect("normalizes"))
    });
    let merge = Merge::new(MergeOp::Mean);
    g.bench_function("merge_mean_2", |b| {
        b.iter(|| merge.transform(&[black_box(&x), &y]).expect("merges"))
    });
    g.finish();
}

criterion_group!(filters, benches);
criterion_main!(filters);
