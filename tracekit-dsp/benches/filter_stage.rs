//! Zero-phase filter stages on 2^20 samples against a copy of the input.
//!
//! `cargo bench -p tracekit-dsp --bench filter_stage`
//!
//! The cases take turns within each round; every figure is the median over
//! rounds of the per-round ratio to copying the input into a preallocated
//! buffer (a machine's memory speed, measured beside the filters).

use std::hint::black_box;

use tracekit_core::{Trace, Transformer};
use tracekit_dsp::{Bandpass, Decimate, Lowpass};
use tracekit_testkit::rounds::{Case, interleaved};

const N: usize = 1 << 20;
const ROUNDS: usize = 31;
const PER_ROUND: usize = 3;

fn main() {
    let x: Vec<f64> = (0..N)
        .map(|i| (i as f64 * 0.01).sin() + 0.1 * ((i * 7919 % 1009) as f64 / 1009.0 - 0.5))
        .collect();
    let trace = Trace::new(x.clone(), 1e6).expect("a valid rate");
    let mut copy = vec![0.0; N];
    let stage = |t: Box<dyn Transformer>| -> Box<dyn FnMut() + '_> {
        let trace = &trace;
        Box::new(move || {
            black_box(t.transform(&[black_box(trace)]).expect("filters"));
        })
    };
    let cases: Vec<Case<'_>> = vec![
        (
            "copy",
            Box::new(|| {
                copy.copy_from_slice(black_box(&x));
                black_box(&copy);
            }),
        ),
        (
            "lowpass order 4, zero phase",
            stage(Box::new(Lowpass::new(50_000.0))),
        ),
        (
            "lowpass order 4, forward",
            stage(Box::new(Lowpass::new(50_000.0).with_zero_phase(false))),
        ),
        (
            "bandpass order 4, zero phase",
            stage(Box::new(Bandpass::new(20_000.0, 80_000.0))),
        ),
        (
            "lowpass order 12, zero phase",
            stage(Box::new(Lowpass::new(50_000.0).with_order(12))),
        ),
        ("decimate 4, zero phase", stage(Box::new(Decimate::new(4)))),
    ];
    let rounds = interleaved(ROUNDS, PER_ROUND, cases);
    print!("filter stages on 2^20 samples: {}", rounds.report("copy"));
}
