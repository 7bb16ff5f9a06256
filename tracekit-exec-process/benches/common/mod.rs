//! What the process-executor benches share.

use tracekit_core::Trace;

/// The standard input: 1 MS/s, sin 10 kHz + 0.1 sin 30 kHz + a little noise.
pub(crate) fn input(n: usize) -> Trace {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let samples = (0..n)
        .map(|k| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let noise = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let t = k as f64 * 1e-6;
            let w = 2.0 * std::f64::consts::PI;
            (w * 1e4 * t).sin() + 0.1 * (w * 3e4 * t).sin() + 0.01 * noise
        })
        .collect();
    Trace::new(samples, 1e6).expect("a valid rate")
}
