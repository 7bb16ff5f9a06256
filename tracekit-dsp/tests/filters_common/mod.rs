//! Reading the golden fixtures written by `fixtures/gen_filters.py`.

#![allow(dead_code, reason = "each test binary uses a different part")]

use serde_json::Value;
use tracekit_core::{ParamValue, Params};

/// A parsed fixture file.
pub(crate) struct Fixture {
    pub(crate) root: Value,
}

impl Fixture {
    pub(crate) fn load(text: &str) -> Fixture {
        Fixture {
            root: serde_json::from_str(text).expect("fixture is JSON"),
        }
    }

    /// Decodes a string of 16-hex-digit big-endian doubles.
    pub(crate) fn floats(v: &Value) -> Vec<f64> {
        let s = v.as_str().expect("hex string");
        assert_eq!(s.len() % 16, 0);
        (0..s.len() / 16)
            .map(|i| f64::from_bits(u64::from_str_radix(&s[16 * i..16 * i + 16], 16).unwrap()))
            .collect()
    }

    pub(crate) fn signal(&self, name: &str) -> Vec<f64> {
        Fixture::floats(&self.root["signals"][name])
    }

    pub(crate) fn cases(&self, section: &str) -> &[Value] {
        self.root[section].as_array().expect("a list of cases")
    }
}

/// The JSON object as stage parameters (integers stay integers).
pub(crate) fn params_of(v: &Value) -> Params {
    v.as_object()
        .expect("params object")
        .iter()
        .map(|(k, v)| {
            let p = match v {
                Value::Bool(b) => ParamValue::Bool(*b),
                Value::String(s) => ParamValue::Text(s.clone()),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => ParamValue::Int(i),
                    None => ParamValue::Float(n.as_f64().unwrap()),
                },
                other => panic!("unexpected parameter {other}"),
            };
            (k.clone(), p)
        })
        .collect()
}

/// Relative error at most 1e-9, with an absolute floor of 1e-12 * max|want|.
pub(crate) fn assert_close(got: &[f64], want: &[f64], label: &str) {
    assert_close_to(got, want, 1e-9, label);
}

/// The largest error over the allowed one, for relative tolerance `rel`
/// with an absolute floor of 1e-12 * max|want| (NaN must meet NaN).
pub(crate) fn error_ratio(got: &[f64], want: &[f64], rel: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "lengths");
    let peak = want.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    got.iter()
        .zip(want)
        .map(|(g, w)| match (g.is_nan(), w.is_nan()) {
            (true, true) => 0.0,
            (false, false) => (g - w).abs() / (rel * w.abs() + 1e-12 * peak).max(f64::MIN_POSITIVE),
            _ => f64::INFINITY,
        })
        .fold(0.0, f64::max)
}

/// [`assert_close`] with relative tolerance `rel`.
pub(crate) fn assert_close_to(got: &[f64], want: &[f64], rel: f64, label: &str) {
    let ratio = error_ratio(got, want, rel);
    assert!(
        ratio <= 1.0,
        "{label}: error {ratio:.3} times the tolerance {rel:e}\n got {got:?}\nwant {want:?}"
    );
}

/// The same bits (any NaN matches any NaN).
pub(crate) fn assert_exact(got: &[f64], want: &[f64], label: &str) {
    assert_eq!(got.len(), want.len(), "{label}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let same = g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan());
        assert!(same, "{label}[{i}]: {g:e} vs {w:e}");
    }
}
