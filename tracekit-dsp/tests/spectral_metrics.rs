//! `spectral_metrics` against synthetic signals with known answers, and bad
//! input for every spectral kind.

use std::f64::consts::PI;

use rand::{SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, Normal};
use tracekit_core::{ParamValue, Params, Trace};
use tracekit_dsp::build;

const FS: f64 = 1.0e6;

fn tones(n: usize, f0: f64, amps: &[f64]) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let p = 2.0 * PI * f0 * i as f64 / FS;
            amps.iter()
                .enumerate()
                .map(|(h, a)| a * ((h + 1) as f64 * p + 0.3 * h as f64).sin())
                .sum()
        })
        .collect()
}

fn noise(n: usize, sigma: f64, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let normal = Normal::new(0.0, sigma).unwrap();
    (0..n).map(|_| normal.sample(&mut rng)).collect()
}

fn metrics(x: Vec<f64>, params: &[(&str, ParamValue)]) -> Trace {
    let params: Params = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let stage = build("spectral_metrics", &params).unwrap();
    let input = Trace::new(x, FS).unwrap();
    let out = stage.transform(&[&input]).unwrap();
    assert_eq!(out.samples(), input.samples(), "samples pass through");
    for m in [
        "fundamental_hz",
        "thd_db",
        "snr_db",
        "sinad_db",
        "enob_bits",
        "sfdr_db",
    ] {
        let v = out.measurement(m).unwrap_or_else(|| panic!("missing {m}"));
        assert!(v.is_finite(), "{m} = {v}");
    }
    out
}

#[test]
fn thd_of_two_harmonics() {
    let want = 20.0 * (0.01_f64.powi(2) + 0.005_f64.powi(2)).sqrt().log10(); // -39.03 dB
    for window in ["hann", "hamming", "blackman", "flattop"] {
        // Off-bin fundamental: 12_345.6 Hz is 50.57 bins of 4096 at 1 MS/s.
        let x = tones(4096, 12_345.6, &[1.0, 0.01, 0.005]);
        let out = metrics(x, &[("window", window.into())]);
        let thd = out.measurement("thd_db").unwrap();
        assert!(
            (thd - want).abs() < 0.1,
            "{window}: THD {thd} dB, want {want}"
        );
        let f = out.measurement("fundamental_hz").unwrap();
        assert!(
            (f - 12_345.6).abs() < 0.1 * FS / 4096.0,
            "{window}: fundamental {f}"
        );
        // Hamming's sidelobes fall only 6 dB/octave: its leakage far from an
        // off-bin tone is the largest spur, so SFDR is checked on the others.
        let sfdr = out.measurement("sfdr_db").unwrap();
        if window != "hamming" {
            assert!((sfdr - 40.0).abs() < 0.1, "{window}: SFDR {sfdr}");
        }
    }
}

#[test]
fn thd_with_a_coherent_rect_window() {
    // 64 cycles in 4096 samples: every tone sits on a bin.
    let x = tones(4096, 64.0 * FS / 4096.0, &[1.0, 0.01, 0.005]);
    let out = metrics(x, &[("window", "rect".into())]);
    let thd = out.measurement("thd_db").unwrap();
    assert!((thd + 39.03).abs() < 0.01, "THD {thd}");
}

#[test]
fn harmonics_above_nyquist_fold_back() {
    // The 3rd harmonic of 200 kHz is 600 kHz: it aliases to 400 kHz.
    let n = 8192;
    let f0 = 200_123.0;
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 / FS;
            (2.0 * PI * f0 * t).sin() + 0.02 * (2.0 * PI * 3.0 * f0 * t).sin()
        })
        .collect();
    let out = metrics(x, &[("n_harmonics", 2.into())]);
    let thd = out.measurement("thd_db").unwrap();
    assert!((thd - 20.0 * 0.02_f64.log10()).abs() < 0.1, "THD {thd}");
}

#[test]
fn snr_sinad_enob_of_a_noisy_sine() {
    for (sigma, seed) in [(0.01, 1), (0.001, 2), (0.1, 3)] {
        let n = 16_384;
        let x: Vec<f64> = tones(n, 31_007.0, &[1.0])
            .iter()
            .zip(noise(n, sigma, seed))
            .map(|(s, e)| s + e)
            .collect();
        let out = metrics(x, &[]);
        let want = 10.0 * (0.5 / (sigma * sigma)).log10();
        let snr = out.measurement("snr_db").unwrap();
        assert!(
            (snr - want).abs() < 0.5,
            "sigma {sigma}: SNR {snr}, want {want}"
        );
        let sinad = out.measurement("sinad_db").unwrap();
        assert!(
            sinad <= snr + 1e-12 && (sinad - want).abs() < 0.5,
            "SINAD {sinad}"
        );
        let enob = out.measurement("enob_bits").unwrap();
        assert!((enob - (sinad - 1.76) / 6.02).abs() < 1e-12, "ENOB {enob}");
        let thd = out.measurement("thd_db").unwrap();
        assert!(thd < -want + 10.0, "THD of pure noise harmonics {thd}");
    }
}

#[test]
fn no_fundamental_is_an_error() {
    let stage = build("spectral_metrics", &Params::new()).unwrap();
    for (what, x) in [("zeros", vec![0.0; 1024]), ("constant", vec![3.5; 1024])] {
        let err = stage
            .transform(&[&Trace::new(x, FS).unwrap()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no detectable fundamental") && err.contains("1024"),
            "{what}: {err}"
        );
    }
    let mut x = tones(1024, 10_000.0, &[1.0]);
    x[7] = f64::NAN;
    let err = stage
        .transform(&[&Trace::new(x, FS).unwrap()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("sample 7 is NaN"), "{err}");
    let err = stage
        .transform(&[&Trace::new(vec![1.0; 10], FS).unwrap()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("needs at least") && err.contains("got 10"),
        "{err}"
    );
}

fn build_err(kind: &str, params: &[(&str, ParamValue)]) -> String {
    let params: Params = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    build(kind, &params).map(|_| ()).unwrap_err().to_string()
}

fn run_err(kind: &str, params: &[(&str, ParamValue)], x: Vec<f64>) -> String {
    let params: Params = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let stage = build(kind, &params).unwrap();
    stage
        .transform(&[&Trace::new(x, FS).unwrap()])
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_parameters_are_build_errors() {
    let e = build_err("fft", &[("window", "kaiser".into())]);
    assert!(
        e.contains("window") && e.contains("kaiser") && e.contains("hann"),
        "{e}"
    );
    let e = build_err("psd", &[("window", "gauss".into())]);
    assert!(e.contains("gauss"), "{e}");
    let e = build_err("dwt", &[("wavelet", "coif3".into())]);
    assert!(e.contains("coif3") && e.contains("db4"), "{e}");
    let e = build_err("dwt_denoise", &[("mode", "garrote".into())]);
    assert!(e.contains("garrote") && e.contains("soft"), "{e}");
    let e = build_err("resample", &[]);
    assert!(e.contains("samples") && e.contains("required"), "{e}");
    let e = build_err("resample", &[("samples", 0.into())]);
    assert!(e.contains("at least 1, got 0"), "{e}");
    let e = build_err("spectral_metrics", &[("n_harmonics", 0.into())]);
    assert!(e.contains("n_harmonics") && e.contains("got 0"), "{e}");
    let e = build_err("fft", &[("cutoff", 1.0.into())]);
    assert!(e.contains("cutoff") && e.contains("nfft"), "{e}");
}

#[test]
fn bad_traces_are_stage_errors() {
    for kind in [
        "fft",
        "psd",
        "envelope",
        "dwt",
        "dwt_denoise",
        "spectral_metrics",
    ] {
        let e = run_err(kind, &[], vec![]);
        assert!(e.contains("empty"), "{kind}: {e}");
    }
    let e = run_err("resample", &[("samples", 4.into())], vec![]);
    assert!(e.contains("empty"), "{e}");
    let e = run_err("fft", &[("nfft", 64.into())], vec![0.5; 100]);
    assert!(e.contains("nfft (64)") && e.contains("(100)"), "{e}");
    let e = run_err("psd", &[], vec![0.5; 100]);
    assert!(e.contains("256") && e.contains("got 100"), "{e}");
    let e = run_err(
        "psd",
        &[("nperseg", 16.into()), ("noverlap", 16.into())],
        vec![0.5; 100],
    );
    assert!(
        e.contains("noverlap (16)") && e.contains("nperseg (16)"),
        "{e}"
    );
    let e = run_err("dwt", &[("wavelet", "db8".into())], vec![0.5; 20]);
    assert!(
        e.contains("db8") && e.contains("30") && e.contains("got 20"),
        "{e}"
    );
    let e = run_err("dwt_denoise", &[("level", 5.into())], vec![0.5; 64]);
    assert!(e.contains("level 5") && e.contains("maximum is 3"), "{e}");
    // A count of harmonics whose sample minimum overflows is an error, not
    // an overflow panic (debug) or a wrapped minimum and an endless loop (release).
    for huge in [i64::MAX, 1 << 62] {
        let e = run_err(
            "spectral_metrics",
            &[("n_harmonics", huge.into())],
            vec![0.5; 1024],
        );
        assert!(
            e.contains(&format!("n_harmonics {huge} is too large")),
            "{e}"
        );
    }
}

#[test]
fn spectral_kinds_are_deterministic_across_threads() {
    let x = tones(5000, 1234.5, &[1.0, 0.1]);
    let input = Trace::new(x, FS).unwrap();
    let kinds: Vec<(&str, Params)> = vec![
        ("fft", Params::new()),
        ("psd", Params::new()),
        ("envelope", Params::new()),
        (
            "resample",
            Params::from([("samples".to_string(), ParamValue::Int(3333))]),
        ),
        ("dwt", Params::new()),
        ("dwt_denoise", Params::new()),
        ("spectral_metrics", Params::new()),
    ];
    for (kind, params) in kinds {
        let stage = build(kind, &params).unwrap();
        let here = stage.transform(&[&input]).unwrap();
        let there: Vec<Trace> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| stage.transform(&[&input]).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for t in there {
            assert!(t.bit_eq(&here), "{kind}");
        }
    }
}
