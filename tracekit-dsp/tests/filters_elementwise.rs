//! The element-wise, statistics and merge built-ins against golden data from
//! NumPy/SciPy (`fixtures/gen_filters.py` writes
//! `tests/fixtures/filters_elementwise.json`).

mod filters_common;

use filters_common::{Fixture, assert_close, assert_exact, params_of};
use tracekit_core::{Trace, TraceMeta};
use tracekit_dsp::build;

#[test]
fn elementwise_kinds_match_numpy() {
    let fx = Fixture::load(include_str!("fixtures/filters_elementwise.json"));
    let mut seen = std::collections::BTreeMap::new();
    for case in fx.cases("cases") {
        let kind = case["kind"].as_str().unwrap();
        let params = params_of(&case["params"]);
        let mut stage = build(kind, &params).unwrap();
        let mut meta = TraceMeta::new(250.0);
        meta.units = "V".into();
        let inputs: Vec<Trace> = case["signals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| Trace::with_meta(fx.signal(n.as_str().unwrap()), meta.clone()).unwrap())
            .collect();
        let label = format!("{kind} {params:?} on {}", case["signals"]);
        if let Some(fit) = case.get("fit") {
            let reference = Trace::new(fx.signal(fit.as_str().unwrap()), 250.0).unwrap();
            stage.fit(&[&reference]).unwrap();
        }
        let refs: Vec<&Trace> = inputs.iter().collect();
        let out = stage
            .transform(&refs)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let want = Fixture::floats(&case["y"]);
        match kind {
            // Least squares and windowed sums: rounding order differs from LAPACK/BLAS.
            // A residual can be all rounding noise (one or two samples):
            // the floor is relative to the input's size there.
            "detrend" if params["type"] == "linear".into() => {
                let peak = inputs[0]
                    .samples()
                    .iter()
                    .fold(0.0_f64, |m, v| m.max(v.abs()));
                for (g, w) in out.samples().iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-9 * w.abs() + 1e-12 * peak,
                        "{label}: {g} vs {w}"
                    );
                }
            }
            "moving_average" => assert_close(out.samples(), &want, &label),
            _ => assert_exact(out.samples(), &want, &label),
        }
        if let Some(ms) = case.get("measurements").and_then(|m| m.as_object()) {
            for (name, v) in ms {
                let got = out
                    .measurement(name)
                    .unwrap_or_else(|| panic!("{label}: no {name}"));
                assert_exact(&[got], &Fixture::floats(v), &format!("{label} {name}"));
            }
        }
        assert_eq!(out.meta().units, "V", "{label}");
        assert_eq!(out.sample_rate(), 250.0, "{label}");
        *seen.entry(kind.to_owned()).or_insert(0) += 1;
    }
    let kinds: Vec<&str> = seen.keys().map(String::as_str).collect();
    assert_eq!(
        kinds,
        [
            "clip",
            "detrend",
            "merge",
            "moving_average",
            "normalize",
            "offset",
            "scale",
            "stats"
        ]
    );
}
