//! The `fft` stage on 2^20 samples against a bare real FFT of the same length.
//!
//! `cargo bench -p tracekit-dsp --bench fft_stage`
//!
//! The bare side has its plan, buffers and scratch made beforehand and pays
//! only for copying the input into the FFT's buffer and the transform; the
//! stage pays for everything it does (mean, window, transform, magnitudes,
//! dB, its output buffer). The cases take turns within each round; the
//! figure is the median over rounds of the per-round ratio stage / bare.

use std::hint::black_box;

use realfft::RealFftPlanner;
use tracekit_core::{Trace, Transformer};
use tracekit_dsp::{Fft, FftScale};
use tracekit_testkit::rounds::{Case, interleaved};

const N: usize = 1 << 20;
const ROUNDS: usize = 31;
const PER_ROUND: usize = 5;

fn main() {
    let x: Vec<f64> = (0..N)
        .map(|i| {
            let t = i as f64 / 1e6;
            (2e4 * std::f64::consts::PI * t).sin()
                + 0.01 * ((i * 7919 % 1009) as f64 / 1009.0 - 0.5)
        })
        .collect();
    let trace = Trace::new(x.clone(), 1e6).expect("a valid rate");

    let plan = RealFftPlanner::<f64>::new().plan_fft_forward(N);
    let mut input = plan.make_input_vec();
    let mut output = plan.make_output_vec();
    let mut scratch = plan.make_scratch_vec();

    let db = Fft::default();
    let linear = Fft {
        scale: FftScale::Linear,
        ..Fft::default()
    };
    let cases: Vec<Case<'_>> = vec![
        (
            "bare realfft (copy + transform)",
            Box::new(|| {
                input.copy_from_slice(black_box(&x));
                plan.process_with_scratch(&mut input, &mut output, &mut scratch)
                    .expect("transforms");
                black_box(&output);
            }),
        ),
        (
            "fft stage (hann, mean, dB)",
            Box::new(|| {
                black_box(db.transform(&[black_box(&trace)]).expect("transforms"));
            }),
        ),
        (
            "fft stage (hann, mean, linear)",
            Box::new(|| {
                black_box(linear.transform(&[black_box(&trace)]).expect("transforms"));
            }),
        ),
    ];
    let rounds = interleaved(ROUNDS, PER_ROUND, cases);
    let base = "bare realfft (copy + transform)";
    print!("fft stage on 2^20 samples: {}", rounds.report(base));
    println!(
        "median per-round ratio stage (dB) / bare: {:.3}",
        rounds.median_ratio("fft stage (hann, mean, dB)", base)
    );
    let pool = tracekit_core::buffer::pool_stats();
    println!(
        "output buffers: {} fresh, {} reused from the pool",
        pool.fresh, pool.reused
    );
}
