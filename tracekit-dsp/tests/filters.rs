//! The filter built-ins against golden data from SciPy
//! (`fixtures/gen_filters.py` writes `tests/fixtures/filters_iir.json`).

mod filters_common;

use filters_common::{Fixture, assert_close, assert_close_to, params_of};
use tracekit_core::{Trace, TraceMeta};
use tracekit_dsp::{
    build,
    sos::{Band, butter_sos, cheby1_sos},
};

fn fixture() -> Fixture {
    Fixture::load(include_str!("fixtures/filters_iir.json"))
}

#[test]
fn butterworth_designs_match_scipy() {
    let fx = fixture();
    let mut worst = 0.0_f64;
    for case in fx.cases("butter") {
        let p = &case["params"];
        let order = p["order"].as_u64().unwrap() as usize;
        let edge = |k: &str| p[k].as_f64().unwrap();
        let band = match case["kind"].as_str().unwrap() {
            "lowpass" => Band::Lowpass(edge("cutoff")),
            "highpass" => Band::Highpass(edge("cutoff")),
            "bandpass" => Band::Bandpass(edge("low"), edge("high")),
            _ => Band::Bandstop(edge("low"), edge("high")),
        };
        let want = Fixture::floats(&case["sos"]);
        let got: Vec<f64> = butter_sos(order, band, case["fs"].as_f64().unwrap())
            .unwrap()
            .concat();
        assert_eq!(got.len(), want.len(), "{band:?} order {order}");
        for (g, w) in got.iter().zip(&want) {
            let err = (g - w).abs() / w.abs().max(1e-300);
            if *w != 0.0 {
                worst = worst.max(err);
            }
            assert!(
                (g - w).abs() <= 1e-11 * w.abs() || (*w == 0.0 && g.abs() < 1e-15),
                "{band:?} order {order}: {got:?} vs {want:?}"
            );
        }
    }
    println!("largest relative coefficient error: {worst:e}");
}

#[test]
fn chebyshev_design_matches_scipy() {
    let fx = fixture();
    let want = Fixture::floats(&fx.root["cheby1_8_0.05_0.8div3"]);
    let got = cheby1_sos(8, 0.05, Band::Lowpass(0.8 / 3.0), 2.0)
        .unwrap()
        .concat();
    assert_close(&got, &want, "cheby1");
}

/// Runs every case of `section`; returns (compared, skipped as ill-conditioned).
fn run_cases(section: &str) -> (usize, usize) {
    let fx = fixture();
    let (mut count, mut skipped) = (0, 0);
    for case in fx.cases(section) {
        let kind = case["kind"].as_str().unwrap();
        let params = params_of(&case["params"]);
        let stage = build(kind, &params).unwrap();
        let name = case["signal"].as_str().unwrap();
        let mut meta = TraceMeta::new(case["fs"].as_f64().unwrap());
        meta.channel = "CH1".into();
        meta.measurements.insert("gain".into(), 2.0);
        let input = Trace::with_meta(fx.signal(name), meta.clone()).unwrap();
        let label = format!("{kind} {params:?} on {name}");
        let result = stage.transform(&[&input]);
        if let Some(padlen) = case.get("error") {
            let err = result.expect_err(&label).to_string();
            assert!(err.contains(padlen.as_str().unwrap()), "{label}: {err}");
            assert!(err.contains(kind), "{label}: {err}");
            continue;
        }
        let out = result.unwrap_or_else(|e| panic!("{label}: {e}"));
        let y = Fixture::floats(&case["y"]);
        assert!(out.samples().iter().all(|v| v.is_finite()), "{label}");
        match case.get("sensitivity").and_then(|s| s.as_f64()) {
            // So ill-conditioned that SciPy disagrees with itself by orders of
            // magnitude under 1e-15 coefficient changes: nothing to compare.
            Some(s) if s > 1e3 => skipped += 1,
            // Widen the tolerance by what rounding alone does to SciPy's output.
            Some(s) => assert_close_to(out.samples(), &y, 1e-9 * (10.0 * s).max(1.0), &label),
            None => assert_close(out.samples(), &y, &label),
        }
        let rate = case
            .get("rate")
            .map_or(meta.sample_rate, |r| Fixture::floats(r)[0]);
        assert_eq!(out.sample_rate(), rate, "{label}");
        assert_eq!(out.meta().channel, "CH1");
        assert_eq!(out.measurement("gain"), Some(2.0));
        count += 1;
    }
    (count - skipped, skipped)
}

#[test]
fn butterworth_filters_match_scipy() {
    let (compared, skipped) = run_cases("butter");
    assert!(
        compared > 100 && skipped <= 4,
        "{compared} compared, {skipped} skipped"
    );
}

#[test]
fn decimate_matches_scipy() {
    let (compared, skipped) = run_cases("decimate");
    assert_eq!(
        (compared, skipped),
        (17, 0),
        "16 regular cases and one short forward-only case"
    );
}
