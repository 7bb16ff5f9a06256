//! What the CLI tests share: temporary directories, generated inputs,
//! running the binary, and comparing output directories byte for byte.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the support"
)]

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::atomic::{AtomicUsize, Ordering},
};

use tracekit::{
    Trace,
    io::{OutputFormat, write_trace},
};

/// A directory removed when the test ends.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "tracekit-cli-test-{}-{tag}-{n}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_tracekit");

/// Runs the binary in `dir` with `args`.
pub(crate) fn tracekit(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the tracekit binary runs")
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The spec of the scale-out target: lowpass -> fft, spectral metrics of the lowpass.
pub(crate) const SPEC: &str = r#"
executor = "sequential"

[[steps]]
name = "lowpass"
kind = "lowpass"
cutoff = 50000.0

[[steps]]
name = "fft"
kind = "fft"

[[steps]]
name = "metrics"
kind = "spectral_metrics"
inputs = ["lowpass"]
"#;

/// Writes `spec.toml` and `count` NPY inputs of `len` samples (names
/// `in00.npy`...) in `dir`; returns the input names.
pub(crate) fn write_inputs(dir: &TempDir, count: usize, len: usize) -> Vec<String> {
    fs::write(dir.path("spec.toml"), SPEC).unwrap();
    (0..count)
        .map(|k| {
            let name = format!("in{k:02}.npy");
            let samples = (0..len)
                .map(|i| {
                    let t = i as f64 / 1e6;
                    (std::f64::consts::TAU * 10e3 * (1.0 + k as f64 / 50.0) * t).sin()
                        + 0.1 * (std::f64::consts::TAU * 30e3 * t + k as f64).sin()
                })
                .collect();
            let trace = Trace::new(samples, 1e6).unwrap();
            write_trace(&trace, &dir.path(&name), OutputFormat::Npy).unwrap();
            name
        })
        .collect()
}

/// Every file under `dir` (relative name -> bytes), hidden ones aside.
pub(crate) fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .map(|n| {
            let bytes = fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

/// Panics with the first difference between two output directories.
pub(crate) fn assert_same_dirs(got: &Path, expected: &Path) {
    let (a, b) = (files(got), files(expected));
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&a),
        names(&b),
        "{} and {} hold different files",
        got.display(),
        expected.display()
    );
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name} differs between {} and {}",
            got.display(),
            expected.display()
        );
    }
}

pub(crate) fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}
