//! Shared by the reader tests: a fixture is read and compared with the
//! values its generating script wrote beside it (`<fixture>.json`), and
//! damaged copies of it must fail cleanly.
#![allow(dead_code, reason = "each test file uses part of this module")]

use std::path::{Path, PathBuf};

use serde_json::Value;
use tracekit_io::{ReadOptions, Trace};

/// `tracekit-io/tests/fixtures/<rel>`.
pub(crate) fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// A fresh temporary directory for one test.
pub(crate) fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tracekit-io-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn close(a: f64, b: f64, rtol: f64, atol: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= atol + rtol * b.abs()
}

/// Reads `fixture(rel)` and checks every trace against `fixture(rel).json`:
///
/// ```json
/// {"format": "Rigol WFM", "rtol": 1e-9, "atol": 0.0,
///  "traces": [{"channel": "CH1", "sample_rate": 1e6, "start": -0.001, "units": "V",
///              "samples": [0.1, ...], "attributes": {"model": "DS1054Z"}}]}
/// ```
///
/// Every key but `traces` is optional; a trace's absent keys are not checked,
/// and its `attributes` need only be a subset of the trace's. `rtol`/`atol`
/// (default 1e-9 / 1e-12) apply to samples; rates and starts match to 1e-12.
/// Returns the traces read, for further checks.
pub(crate) fn check_fixture(rel: &str) -> Vec<Trace> {
    check_fixture_with(rel, &ReadOptions::new())
}

/// [`check_fixture`] with options.
pub(crate) fn check_fixture_with(rel: &str, options: &ReadOptions) -> Vec<Trace> {
    let path = fixture(rel);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(path.with_file_name(format!(
            "{}.json",
            path.file_name().unwrap().to_string_lossy()
        )))
        .unwrap_or_else(|e| panic!("{rel}.json: {e}")),
    )
    .unwrap();
    let traces = tracekit_io::read_with(&path, options).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let rtol = expected["rtol"].as_f64().unwrap_or(1e-9);
    let atol = expected["atol"].as_f64().unwrap_or(1e-12);
    let want = expected["traces"].as_array().expect("traces");
    assert_eq!(traces.len(), want.len(), "{rel}: number of traces");
    for (k, (got, want)) in traces.iter().zip(want).enumerate() {
        let meta = got.meta();
        let what = format!("{rel} trace {k} ({})", meta.channel);
        if let Some(format) = expected["format"].as_str() {
            assert_eq!(meta.attributes["format"], format, "{what}: format");
        }
        if let Some(channel) = want["channel"].as_str() {
            assert_eq!(meta.channel, channel, "{what}: channel");
        }
        if let Some(units) = want["units"].as_str() {
            assert_eq!(meta.units, units, "{what}: units");
        }
        if let Some(rate) = want["sample_rate"].as_f64() {
            assert!(
                close(meta.sample_rate, rate, 1e-12, 0.0),
                "{what}: sample_rate {} != {rate}",
                meta.sample_rate
            );
        }
        if let Some(start) = want["start"].as_f64() {
            assert!(
                close(meta.start, start, 1e-12, 1e-18),
                "{what}: start {} != {start}",
                meta.start
            );
        }
        if let Some(samples) = want["samples"].as_array() {
            assert_eq!(got.len(), samples.len(), "{what}: number of samples");
            for (i, (a, b)) in got.samples().iter().zip(samples).enumerate() {
                let b = b.as_f64().unwrap_or(f64::NAN);
                assert!(close(*a, b, rtol, atol), "{what}: sample {i}: {a} != {b}");
            }
        }
        if let Some(len) = want["len"].as_u64() {
            assert_eq!(got.len() as u64, len, "{what}: number of samples");
        }
        if let Some(attributes) = want["attributes"].as_object() {
            for (key, value) in attributes {
                let value = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                assert_eq!(
                    meta.attributes.get(key),
                    Some(&value),
                    "{what}: attribute {key}"
                );
            }
        }
    }
    traces
}

/// Damaged copies of a good file: cut at every `step` bytes (and at the
/// first 64 offsets), and with its first bytes zeroed. Each must either be
/// read (a shorter file can still be valid) or fail with a message that
/// names the file; none may panic.
pub(crate) fn check_damaged(rel: &str, step: usize) {
    let path = fixture(rel);
    let good = std::fs::read(&path).unwrap();
    let dir = temp_dir(&format!("damaged-{}", rel.replace('/', "-")));
    let name = path.file_name().unwrap();
    let cut = dir.join(name);
    let mut offsets: Vec<usize> = (0..good.len().min(64)).collect();
    offsets.extend((64..good.len()).step_by(step.max(1)));
    for n in offsets {
        std::fs::write(&cut, &good[..n]).unwrap();
        if let Err(e) = tracekit_io::read(&cut) {
            assert!(
                e.to_string().contains(&*cut.to_string_lossy()),
                "{rel} cut at {n}: {e}"
            );
        }
    }
    let mut zeroed = good.clone();
    zeroed[..good.len().min(16)].fill(0);
    std::fs::write(&cut, &zeroed).unwrap();
    if let Err(e) = tracekit_io::read(&cut) {
        assert!(
            e.to_string().contains(&*cut.to_string_lossy()),
            "{rel} zeroed: {e}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A copy of fixture `rel` changed by `edit`, under its own file name in a
/// fresh directory for `test`.
pub(crate) fn patched(test: &str, rel: &str, edit: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let path = fixture(rel);
    let mut data = std::fs::read(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    edit(&mut data);
    let copy = temp_dir(test).join(path.file_name().unwrap());
    std::fs::write(&copy, data).unwrap();
    copy
}

/// The error reading `path` gives, checked to name the file and, when
/// given, the format (`"Keysight BIN"`).
pub(crate) fn read_error(path: &Path, format: Option<&str>) -> String {
    let e = tracekit_io::read(path)
        .map(|t| panic!("{} read as {} traces", path.display(), t.len()))
        .unwrap_err()
        .to_string();
    assert!(e.contains(&*path.to_string_lossy()), "{e}");
    if let Some(format) = format {
        assert!(e.contains(&format!("{format}: ")), "{e}");
    }
    e
}
