//! The spectral built-ins against golden data from NumPy, SciPy and
//! PyWavelets (`fixtures/gen_spectral.py`).

use serde_json::Value;
use tracekit_core::{Domain, ParamValue, Params, Trace};
use tracekit_dsp::{build, window::get_window};

fn fixture(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/spectral_{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["cases"].as_array().unwrap().clone()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Relative error at most 1e-9, with an absolute floor of 1e-12 * max |expected|.
fn assert_close(label: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{label}: length");
    let scale = want.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = 1e-9 * w.abs() + 1e-12 * scale;
        assert!(
            (g - w).abs() <= tol,
            "{label}: [{i}] got {g}, want {w} (diff {:e})",
            (g - w).abs()
        );
    }
}

fn param(case: &Value, key: &str) -> Option<(String, ParamValue)> {
    let v = &case[key];
    let value = if let Some(s) = v.as_str() {
        ParamValue::from(s)
    } else if let Some(i) = v.as_i64() {
        ParamValue::Int(i)
    } else {
        return None;
    };
    Some((key.to_string(), value))
}

fn run(kind: &str, case: &Value, keys: &[&str]) -> Trace {
    let params: Params = keys.iter().filter_map(|k| param(case, k)).collect();
    let stage = build(kind, &params).unwrap();
    let input = Trace::new(floats(&case["x"]), case["fs"].as_f64().unwrap()).unwrap();
    let out = stage
        .transform(&[&input])
        .unwrap_or_else(|e| panic!("{kind} {params:?}: {e}"));
    let again = stage.transform(&[&input]).unwrap();
    assert!(out.bit_eq(&again), "{kind} {params:?}: not deterministic");
    out
}

fn label(kind: &str, case: &Value, keys: &[&str]) -> String {
    let mut s = format!("{kind} n={}", case["x"].as_array().unwrap().len());
    for k in keys {
        s += &format!(" {k}={}", case[*k]);
    }
    s
}

#[test]
fn windows_match_scipy_get_window() {
    let cases = fixture("windows");
    assert_eq!(cases.len(), 40);
    for case in cases {
        let name = case["window"].as_str().unwrap();
        let n = case["n"].as_u64().unwrap() as usize;
        assert_close(
            &format!("{name} {n}"),
            &get_window(name, n).unwrap(),
            &floats(&case["y"]),
        );
    }
}

#[test]
fn fft_matches_numpy() {
    let keys = ["window", "nfft", "scale", "detrend"];
    let cases = fixture("fft");
    assert_eq!(cases.len(), 50);
    for case in &cases {
        let out = run("fft", case, &keys);
        let l = label("fft", case, &keys);
        let want = floats(&case["y"]);
        if case["scale"] == "db" {
            // Bins at the rounding-noise level (the DC bin of a mean-removed
            // signal under a rect window) have no meaningful dB value: compare
            // amplitudes with the absolute floor, and dB values of the bins
            // that carry signal.
            let amp =
                |db: &[f64]| -> Vec<f64> { db.iter().map(|v| 10f64.powf(v / 20.0)).collect() };
            assert_close(
                &format!("{l} (amplitude)"),
                &amp(out.samples()),
                &amp(&want),
            );
            let top = want.iter().fold(f64::MIN, |m, v| m.max(*v));
            let (got, want): (Vec<f64>, Vec<f64>) = out
                .samples()
                .iter()
                .zip(&want)
                .filter(|(_, w)| **w > top - 120.0)
                .unzip();
            assert_close(&l, &got, &want);
        } else {
            assert_close(&l, out.samples(), &want);
        }
        let nfft = case["nfft_used"].as_f64().unwrap();
        let fs = case["fs"].as_f64().unwrap();
        assert_eq!(out.meta().domain, Domain::Frequency, "{l}");
        assert_eq!(out.meta().start, 0.0, "{l}");
        assert_eq!(out.sample_rate(), nfft / fs, "{l}");
        let units = if case["scale"] == "db" { "dB" } else { "" };
        assert_eq!(out.meta().units, units, "{l}");
    }
}

#[test]
fn psd_matches_scipy_welch() {
    let keys = ["window", "nperseg", "noverlap"];
    let cases = fixture("psd");
    assert_eq!(cases.len(), 30);
    for case in &cases {
        let out = run("psd", case, &keys);
        let l = label("psd", case, &keys);
        assert_close(&l, out.samples(), &floats(&case["y"]));
        assert_eq!(out.meta().domain, Domain::Frequency, "{l}");
        assert!(
            (1.0 / out.sample_rate() - case["df"].as_f64().unwrap()).abs() < 1e-9,
            "{l}"
        );
    }
}

#[test]
fn envelope_matches_scipy_hilbert() {
    for case in &fixture("envelope") {
        let out = run("envelope", case, &[]);
        assert_close(
            &label("envelope", case, &[]),
            out.samples(),
            &floats(&case["y"]),
        );
    }
}

#[test]
fn resample_matches_scipy() {
    let cases = fixture("resample");
    assert_eq!(cases.len(), 14);
    for case in &cases {
        let out = run("resample", case, &["samples"]);
        let l = label("resample", case, &["samples"]);
        assert_close(&l, out.samples(), &floats(&case["y"]));
        let n = case["x"].as_array().unwrap().len() as f64;
        let num = case["samples"].as_f64().unwrap();
        assert!((out.sample_rate() - 1e3 * num / n).abs() < 1e-9, "{l}");
    }
}

#[test]
fn dwt_matches_pywavelets() {
    let keys = ["wavelet", "level"];
    let cases = fixture("dwt");
    assert!(cases.len() >= 64);
    let mut wavelets: Vec<&str> = cases
        .iter()
        .map(|c| c["wavelet"].as_str().unwrap())
        .collect();
    wavelets.dedup();
    assert_eq!(wavelets, tracekit_dsp::wavelet::WAVELETS);
    for case in &cases {
        let out = run("dwt", case, &keys);
        assert_close(
            &label("dwt", case, &keys),
            out.samples(),
            &floats(&case["y"]),
        );
    }
}

#[test]
fn dwt_denoise_matches_pywavelets() {
    let keys = ["wavelet", "level", "mode"];
    let cases = fixture("dwt_denoise");
    assert!(cases.iter().any(|c| c["mode"] == "hard") && cases.iter().any(|c| c["mode"] == "soft"));
    for case in &cases {
        let out = run("dwt_denoise", case, &keys);
        assert_close(
            &label("dwt_denoise", case, &keys),
            out.samples(),
            &floats(&case["y"]),
        );
    }
}
