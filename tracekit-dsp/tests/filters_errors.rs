//! Bad input, parameters, metadata and determinism of the filter and
//! element-wise built-ins.

use tracekit_core::{Error, ParamValue, Params, StageError, Trace, TraceMeta, Transformer};
use tracekit_dsp::{
    Bandpass, Clip, Decimate, Highpass, KINDS, Lowpass, Merge, MergeOp, MovingAverage, Normalize,
    Scale, Stats, build,
};

fn params(pairs: &[(&str, ParamValue)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn trace(n: usize, fs: f64) -> Trace {
    Trace::new((0..n).map(|i| (i as f64 * 0.37).sin()).collect(), fs).unwrap()
}

fn err_of(r: Result<Trace, StageError>) -> String {
    r.expect_err("an error").to_string()
}

fn build_err(kind: &str, p: &[(&str, ParamValue)]) -> String {
    match build(kind, &params(p)) {
        Err(Error::InvalidConfig(msg)) => msg,
        Err(other) => panic!("{kind}: unexpected error {other}"),
        Ok(t) => panic!("{kind}: built {t:?}"),
    }
}

#[test]
fn unknown_kind_lists_the_known_ones() {
    let msg = build("lowpas", &Params::new()).unwrap_err().to_string();
    assert!(msg.contains("unknown transformer kind 'lowpas'"), "{msg}");
    for kind in ["scale", "lowpass", "decimate", "merge", "stats"] {
        assert!(msg.contains(kind), "{msg}");
        assert!(KINDS.contains(&kind));
    }
}

#[test]
fn bad_params_name_the_kind_the_param_and_the_value() {
    let m = build_err("lowpass", &[("cutoff", 10.0.into()), ("order", 0.into())]);
    assert!(
        m.contains("lowpass") && m.contains("order") && m.contains("got 0"),
        "{m}"
    );
    let m = build_err("lowpass", &[("cutoff", 10.0.into()), ("order", 17.into())]);
    assert!(m.contains("17") && m.contains("16"), "{m}");
    let m = build_err("lowpass", &[("cutoff", (-5.0).into())]);
    assert!(m.contains("cutoff") && m.contains("-5"), "{m}");
    let m = build_err("lowpass", &[("cutoff", 0.0.into())]);
    assert!(m.contains("cutoff") && m.contains("greater than 0"), "{m}");
    let m = build_err("lowpass", &[]);
    assert!(m.contains("'cutoff' is required"), "{m}");
    let m = build_err("bandpass", &[("low", 50.0.into()), ("high", 20.0.into())]);
    assert!(m.contains("low 50") && m.contains("high 20"), "{m}");
    let m = build_err("lowpass", &[("cutoff", "fast".into())]);
    assert!(m.contains("cutoff") && m.contains("text"), "{m}");
    let m = build_err(
        "lowpass",
        &[("cutoff", 1.0.into()), ("zero_phase", 1.into())],
    );
    assert!(
        m.contains("zero_phase") && m.contains("true or false"),
        "{m}"
    );
    let m = build_err("scale", &[("gain", 2.0.into())]);
    assert!(
        m.contains("unknown parameter 'gain'") && m.contains("[factor]"),
        "{m}"
    );
    let m = build_err("decimate", &[("factor", 0.into())]);
    assert!(m.contains("factor") && m.contains("got 0"), "{m}");
    let m = build_err("moving_average", &[("length", 0.into())]);
    assert!(m.contains("length") && m.contains("got 0"), "{m}");
    let m = build_err("merge", &[("op", "average".into())]);
    assert!(
        m.contains("op") && m.contains("average") && m.contains("concat"),
        "{m}"
    );
    let m = build_err("normalize", &[("method", "robust".into())]);
    assert!(m.contains("zscore") && m.contains("robust"), "{m}");
    let m = build_err("clip", &[("low", 2.0.into()), ("high", 1.0.into())]);
    assert!(m.contains("low 2") && m.contains("high 1"), "{m}");
}

#[test]
fn cutoffs_are_checked_against_the_trace_rate() {
    let t = trace(100, 1000.0);
    let m = err_of(Lowpass::new(500.0).transform(&[&t]));
    assert!(
        m.contains("lowpass") && m.contains("500") && m.contains("Nyquist"),
        "{m}"
    );
    let m = err_of(Highpass::new(700.0).transform(&[&t]));
    assert!(m.contains("700") && m.contains("500"), "{m}");
    let m = err_of(Bandpass::new(10.0, 600.0).transform(&[&t]));
    assert!(m.contains("high 600") && m.contains("500"), "{m}");
    let m = err_of(Bandpass::new(30.0, 30.0).transform(&[&t]));
    assert!(m.contains("low 30") && m.contains("high 30"), "{m}");
    let m = err_of(Lowpass::new(10.0).with_order(0).transform(&[&t]));
    assert!(m.contains("order") && m.contains("got 0"), "{m}");
    let m = err_of(Decimate::new(0).transform(&[&t]));
    assert!(m.contains("factor") && m.contains("got 0"), "{m}");
}

#[test]
fn empty_traces() {
    let empty = Trace::new(vec![], 100.0).unwrap();
    for kind in ["scale", "offset", "normalize", "detrend"] {
        let out = build(kind, &Params::new())
            .unwrap()
            .transform(&[&empty])
            .unwrap();
        assert!(out.is_empty(), "{kind}");
    }
    let out = Clip::new(-1.0, 1.0).transform(&[&empty]).unwrap();
    assert!(out.is_empty());
    for stage in [
        Box::new(Lowpass::new(10.0)) as Box<dyn Transformer>,
        Box::new(Lowpass::new(10.0).with_zero_phase(false)),
        Box::new(Decimate::new(2)),
        Box::new(MovingAverage::new(1)),
        Box::new(Stats),
    ] {
        let m = err_of(stage.transform(&[&empty]));
        assert!(m.contains(stage.kind()) && m.contains("0"), "{m}");
    }
    let m = err_of(MovingAverage::new(11).transform(&[&trace(10, 1.0)]));
    assert!(m.contains("11") && m.contains("10"), "{m}");
}

#[test]
fn short_signals_for_zero_phase_name_the_padding() {
    // Order 4: two sections, 3 * (2 * 2 + 1) = 15 samples of padding.
    let m = err_of(Lowpass::new(10.0).transform(&[&trace(15, 100.0)]));
    assert!(m.contains("15") && m.contains("padding"), "{m}");
    assert_eq!(
        Lowpass::new(10.0)
            .transform(&[&trace(16, 100.0)])
            .unwrap()
            .len(),
        16
    );
    // Odd orders have one first-order section: 3 * (2 * 2 + 1 - 1) = 12.
    assert!(
        Lowpass::new(10.0)
            .with_order(3)
            .transform(&[&trace(13, 100.0)])
            .is_ok()
    );
    let forward = Lowpass::new(10.0).with_zero_phase(false);
    assert_eq!(forward.transform(&[&trace(1, 100.0)]).unwrap().len(), 1);
}

#[test]
fn merge_checks_its_inputs() {
    let a = trace(10, 100.0);
    let b = trace(12, 100.0);
    let c = trace(10, 200.0);
    let m = err_of(Merge::new(MergeOp::Sum).transform(&[&a, &b]));
    assert!(m.contains("12") && m.contains("10"), "{m}");
    let m = err_of(Merge::new(MergeOp::Mean).transform(&[&a, &c]));
    assert!(m.contains("200") && m.contains("100"), "{m}");
    let m = err_of(Merge::new(MergeOp::Concat).transform(&[&a, &c]));
    assert!(m.contains("200"), "{m}");
    let m = err_of(Merge::new(MergeOp::Mean).transform(&[]));
    assert!(m.contains("got 0"), "{m}");
    let out = Merge::new(MergeOp::Concat).transform(&[&a, &b]).unwrap();
    assert_eq!(out.len(), 22);
    assert_eq!(&out.samples()[10..], b.samples());
    let out = Merge::new(MergeOp::Subtract)
        .transform(&[&a, &a, &a])
        .unwrap();
    assert!(out.samples().iter().zip(a.samples()).all(|(o, x)| *o == -x));
}

#[test]
fn nan_propagates_without_panics() {
    let mut x: Vec<f64> = (0..200).map(|i| (i as f64 * 0.1).sin()).collect();
    x[100] = f64::NAN;
    let t = Trace::new(x, 1000.0).unwrap();
    for kind in KINDS.iter().copied().filter(|k| {
        [
            "scale",
            "offset",
            "normalize",
            "detrend",
            "moving_average",
            "stats",
            "merge",
        ]
        .contains(k)
    }) {
        let out = build(kind, &Params::new())
            .unwrap()
            .transform(&[&t])
            .unwrap();
        assert!(
            out.samples()[100].is_nan() || out.samples().iter().all(|v| v.is_nan()),
            "{kind}"
        );
    }
    let out = Lowpass::new(50.0).transform(&[&t]).unwrap();
    assert!(out.samples().iter().any(|v| v.is_nan()));
    let out = Stats.transform(&[&t]).unwrap();
    assert!(out.measurement("max").unwrap().is_nan());
    assert!(out.measurement("mean").unwrap().is_nan());
    let out = Clip::new(-0.5, 0.5).transform(&[&t]).unwrap();
    assert!(out.samples()[100].is_nan());
}

#[test]
fn metadata_is_kept_and_decimate_divides_the_rate() {
    let mut meta = TraceMeta::new(1000.0);
    meta.channel = "CH2".into();
    meta.start = 0.5;
    meta.measurements.insert("earlier".into(), 1.0);
    let t = Trace::with_meta((0..100).map(|i| i as f64).collect(), meta).unwrap();
    let out = Decimate::new(3).transform(&[&t]).unwrap();
    assert_eq!(out.len(), 34);
    assert_eq!(out.sample_rate(), 1000.0 / 3.0);
    assert_eq!(out.meta().channel, "CH2");
    assert_eq!(out.meta().start, 0.5);
    let out = Stats.transform(&[&out]).unwrap();
    assert_eq!(out.measurement("earlier"), Some(1.0));
    for name in ["mean", "std", "rms", "min", "max", "peak_to_peak"] {
        assert!(out.measurement(name).is_some(), "{name}");
    }
    let out = Scale::new(2.0).transform(&[&t]).unwrap();
    assert_eq!(out.meta().channel, "CH2");
}

#[test]
fn normalize_fit_learns_the_statistics() {
    let reference = Trace::new(vec![0.0, 10.0], 1.0).unwrap();
    let t = Trace::new(vec![5.0, 15.0], 1.0).unwrap();
    let mut n = Normalize::minmax(0.0, 1.0);
    assert_eq!(n.transform(&[&t]).unwrap().samples(), &[0.0, 1.0]);
    n.fit(&[&reference]).unwrap();
    assert!(n.is_fitted());
    assert_eq!(n.transform(&[&t]).unwrap().samples(), &[0.5, 1.5]);
    let mut z = Normalize::zscore();
    z.fit(&[&reference]).unwrap();
    assert_eq!(z.transform(&[&t]).unwrap().samples(), &[0.0, 2.0]);
    let m = z
        .fit(&[&Trace::new(vec![], 1.0).unwrap()])
        .unwrap_err()
        .to_string();
    assert!(m.contains("empty"), "{m}");
}

#[test]
fn every_kind_round_trips_its_params() {
    let required: &[(&str, &[(&str, ParamValue)])] = &[
        ("clip", &[("low", (-1.0).into()), ("high", 1.0.into())]),
        ("lowpass", &[("cutoff", 10.0.into())]),
        ("highpass", &[("cutoff", 10.0.into())]),
        ("bandpass", &[("low", 10.0.into()), ("high", 20.0.into())]),
        ("bandstop", &[("low", 10.0.into()), ("high", 20.0.into())]),
        ("decimate", &[("factor", 4.into())]),
    ];
    let mine = [
        "scale",
        "offset",
        "clip",
        "normalize",
        "detrend",
        "moving_average",
        "lowpass",
        "highpass",
        "bandpass",
        "bandstop",
        "decimate",
        "stats",
        "merge",
    ];
    for kind in mine {
        let p = required
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(Params::new(), |(_, p)| params(p));
        let mut t = build(kind, &p).unwrap();
        assert_eq!(t.kind(), kind);
        let got = t.get_params();
        for (name, value) in &p {
            assert_eq!(
                got.get(name).and_then(ParamValue::as_f64),
                value.as_f64(),
                "{kind}.{name}"
            );
        }
        for (name, value) in got.clone() {
            t.set_param(&name, value)
                .unwrap_or_else(|e| panic!("{kind}.{name}: {e}"));
        }
        assert_eq!(t.get_params(), got, "{kind}");
        let m = t.set_param("nonsense", 1.0.into()).unwrap_err().to_string();
        assert!(m.contains("nonsense"), "{m}");
        // The rebuilt stage from its own params equals the original.
        assert_eq!(build(kind, &got).unwrap().get_params(), got, "{kind}");
    }
    let mut lp = Lowpass::new(10.0);
    lp.set_param("order", 8.into()).unwrap();
    lp.set_param("zero_phase", false.into()).unwrap();
    assert_eq!(lp.get_params()["order"], ParamValue::Int(8));
    assert!(lp.set_param("order", 2.5.into()).is_err());
}

#[test]
fn transforms_are_deterministic() {
    let t = trace(5000, 1e4);
    let stages: Vec<Box<dyn Transformer>> = vec![
        Box::new(Lowpass::new(300.0).with_order(8)),
        Box::new(Bandpass::new(100.0, 900.0).with_zero_phase(false)),
        Box::new(Decimate::new(5)),
        Box::new(MovingAverage::new(100)),
        Box::new(Normalize::zscore()),
    ];
    for s in &stages {
        let a = s.transform(&[&t]).unwrap();
        let b = s.clone().transform(&[&t]).unwrap();
        assert!(a.bit_eq(&b), "{}", s.kind());
    }
}
