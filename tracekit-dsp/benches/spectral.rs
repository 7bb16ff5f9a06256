//! Spectral kernels against bare FFTs of the same total length.
//!
//! `cargo bench -p tracekit-dsp --bench spectral -- --measurement-time 3 --warm-up-time 1`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use num_complex::Complex;
use rand::{SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, Normal};
use realfft::RealFftPlanner;
use rustfft::FftPlanner;
use tracekit_core::{Trace, Transformer};
use tracekit_dsp::{Envelope, Fft, FftScale, Psd};

const N: usize = 1 << 20;

fn capture() -> Trace {
    let mut rng = StdRng::seed_from_u64(7);
    let noise = Normal::new(0.0, 0.01).unwrap();
    let x = (0..N)
        .map(|i| {
            let t = i as f64 / 1e6;
            (2e4 * std::f64::consts::PI * t).sin() + noise.sample(&mut rng)
        })
        .collect();
    Trace::new(x, 1e6).unwrap()
}

fn bench(c: &mut Criterion) {
    let trace = capture();
    let x = trace.samples().to_vec();

    let mut g = c.benchmark_group("spectral");
    g.sample_size(20);

    let fft = Fft::default();
    g.bench_function("fft_2^20_hann_db", |b| {
        b.iter(|| fft.transform(&[black_box(&trace)]).unwrap())
    });

    let linear = Fft {
        scale: FftScale::Linear,
        ..Fft::default()
    };
    g.bench_function("fft_2^20_hann_linear", |b| {
        b.iter(|| linear.transform(&[black_box(&trace)]).unwrap())
    });

    let r2c = RealFftPlanner::<f64>::new().plan_fft_forward(N);
    let mut out = r2c.make_output_vec();
    let mut scratch = r2c.make_scratch_vec();
    g.bench_function("bare_realfft_2^20", |b| {
        b.iter(|| {
            let mut buf = x.clone();
            r2c.process_with_scratch(&mut buf, &mut out, &mut scratch)
                .unwrap();
        })
    });

    let c2c = FftPlanner::<f64>::new().plan_fft_forward(N);
    let mut cscratch = vec![Complex::new(0.0, 0.0); c2c.get_inplace_scratch_len()];
    g.bench_function("bare_complex_fft_2^20", |b| {
        b.iter(|| {
            let mut buf: Vec<Complex<f64>> = x.iter().map(|&v| Complex::new(v, 0.0)).collect();
            c2c.process_with_scratch(&mut buf, &mut cscratch);
        })
    });

    g.bench_function("envelope_2^20", |b| {
        b.iter(|| Envelope.transform(&[black_box(&trace)]).unwrap())
    });

    // Welch with the defaults (256-point segments, 50% overlap) against the
    // same segment FFTs alone, and against one real FFT of the same total length.
    let psd = Psd::default();
    g.bench_function("psd_2^20_nperseg_256", |b| {
        b.iter(|| psd.transform(&[black_box(&trace)]).unwrap())
    });
    let (nperseg, step) = (256, 128);
    let segments = (N - nperseg) / step + 1;
    let seg_plan = RealFftPlanner::<f64>::new().plan_fft_forward(nperseg);
    let mut seg_buf = seg_plan.make_input_vec();
    let mut seg_out = seg_plan.make_output_vec();
    let mut seg_scratch = seg_plan.make_scratch_vec();
    g.bench_function("bare_realfft_256_x_segments", |b| {
        b.iter(|| {
            for s in 0..segments {
                seg_buf.copy_from_slice(&x[s * step..s * step + nperseg]);
                seg_plan
                    .process_with_scratch(&mut seg_buf, &mut seg_out, &mut seg_scratch)
                    .unwrap();
            }
        })
    });
    let total = segments * nperseg;
    let total_plan = RealFftPlanner::<f64>::new().plan_fft_forward(total);
    let long: Vec<f64> = x.iter().cycle().take(total).copied().collect();
    let mut long_out = total_plan.make_output_vec();
    let mut long_scratch = total_plan.make_scratch_vec();
    g.bench_function("bare_realfft_psd_total_length", |b| {
        b.iter(|| {
            let mut buf = long.clone();
            total_plan
                .process_with_scratch(&mut buf, &mut long_out, &mut long_scratch)
                .unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
