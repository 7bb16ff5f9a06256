//! Hostile spec files and parameters that ask for terabytes, run by
//! `tracekit run` on every executor: each is a clean error (refused before
//! any work, or a stage error for every input while the batch goes on) or a
//! result with a warning, never a panic, an allocation abort, a signal or
//! a message that runs on.

mod support;

use std::{fs, process::Output};

use support::{TempDir, stderr, tracekit};
use tracekit::{
    Trace,
    io::{OutputFormat, write_trace},
};

const EXECUTORS: [&str; 3] = ["sequential", "thread", "process"];

/// What a case must give.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Refused before any work (exit 2), with a message holding each text.
    Refused(&'static [&'static str]),
    /// Each input's run fails (exit 1), naming the step, with each text.
    Fails(&'static [&'static str]),
    /// Either `Fails` with these texts, or every input runs with a warning
    /// that its output holds NaN or infinite samples: a parameter that
    /// leaves nothing of the signal (a filter edge far below any frequency
    /// of the trace, decimation by more than its length).
    FailsOrWarns(&'static [&'static str]),
    /// Runs (exit 0).
    Runs,
}

struct Case {
    name: &'static str,
    spec: Vec<u8>,
    /// On the sequential, thread and process executors.
    expect: [Expect; 3],
}

/// A one-step spec: step `s` of `kind` with the TOML lines `params`.
fn step(kind: &str, params: &str) -> Vec<u8> {
    format!("[[steps]]\nname = \"s\"\nkind = \"{kind}\"\n{params}\n").into_bytes()
}

fn case(name: &'static str, spec: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case {
        name,
        spec: spec.into(),
        expect: [expect; 3],
    }
}

/// Parameters that imply huge buffers, or none at all.
fn huge_parameters() -> Vec<Case> {
    const BUDGET: &[&str] = &["stage memory budget"];
    let max = i64::MAX;
    vec![
        case(
            "resample 1e12",
            step("resample", "samples = 1e12"),
            Expect::Fails(&["'samples' = 1000000000000", "stage memory budget"]),
        ),
        case(
            "resample 10^12",
            step("resample", "samples = 1000000000000"),
            Expect::Fails(BUDGET),
        ),
        case(
            "resample i64::MAX",
            step("resample", &format!("samples = {max}")),
            Expect::Fails(&["'samples' = 9223372036854775807", "stage memory budget"]),
        ),
        case(
            "fft 1e12",
            step("fft", "nfft = 1e12"),
            Expect::Fails(&["'nfft' = 1000000000000", "stage memory budget"]),
        ),
        case(
            "fft i64::MAX",
            step("fft", &format!("nfft = {max}")),
            Expect::Fails(BUDGET),
        ),
        case(
            "psd 1e12",
            step("psd", "nperseg = 1e12"),
            Expect::Fails(&["nperseg = 1000000000000", "got 1024"]),
        ),
        case(
            "psd i64::MAX",
            step("psd", &format!("nperseg = {max}\nnoverlap = 0")),
            Expect::Fails(&["nperseg = 9223372036854775807"]),
        ),
        case(
            "psd noverlap i64::MAX",
            step("psd", &format!("nperseg = 16\nnoverlap = {max}")),
            Expect::Fails(&["noverlap (9223372036854775807) must be less than nperseg (16)"]),
        ),
        case(
            "moving_average 1e12",
            step("moving_average", "length = 1e12"),
            Expect::Fails(&["between 1 and the trace length 1024, got 1000000000000"]),
        ),
        case(
            "moving_average i64::MAX",
            step("moving_average", &format!("length = {max}")),
            Expect::Fails(&["got 9223372036854775807"]),
        ),
        case(
            "decimate 1e12",
            step("decimate", "factor = 1e12"),
            Expect::FailsOrWarns(&["factor"]),
        ),
        case(
            "decimate i64::MAX",
            step("decimate", &format!("factor = {max}")),
            Expect::FailsOrWarns(&["factor"]),
        ),
        case(
            "lowpass order 1e12",
            step("lowpass", "cutoff = 1e3\norder = 1e12"),
            Expect::Refused(&["'order' must be between 1 and 16, got 1000000000000"]),
        ),
        case(
            "highpass order i64::MAX",
            step("highpass", &format!("cutoff = 1e3\norder = {max}")),
            Expect::Refused(&["'order' must be between 1 and 16"]),
        ),
        case(
            "bandpass order i64::MAX",
            step("bandpass", &format!("low = 1e3\nhigh = 2e3\norder = {max}")),
            Expect::Refused(&["'order' must be between 1 and 16"]),
        ),
        case(
            "bandstop order 1e12",
            step("bandstop", "low = 1e3\nhigh = 2e3\norder = 1e12"),
            Expect::Refused(&["'order' must be between 1 and 16"]),
        ),
        case(
            "lowpass cutoff 5e-324",
            step("lowpass", "cutoff = 5e-324"),
            Expect::Fails(&["critical frequency"]),
        ),
        case(
            "lowpass cutoff 1e-300",
            step("lowpass", "cutoff = 1e-300\norder = 16"),
            Expect::FailsOrWarns(&["critical frequency"]),
        ),
        case(
            "dwt level 1e12",
            step("dwt", "level = 1e12"),
            Expect::Fails(&["level 1000000000000 is too high for 1024 samples"]),
        ),
        case(
            "dwt_denoise level i64::MAX",
            step("dwt_denoise", &format!("level = {max}")),
            Expect::Fails(&["is too high for 1024 samples"]),
        ),
        case(
            "spectral_metrics 1e12",
            step("spectral_metrics", "n_harmonics = 1e12"),
            Expect::Fails(&["needs at least"]),
        ),
        case(
            "spectral_metrics i64::MAX",
            step("spectral_metrics", &format!("n_harmonics = {max}")),
            Expect::Fails(&["n_harmonics 9223372036854775807 is too large"]),
        ),
        case(
            "spectral_metrics 2^62",
            step("spectral_metrics", "n_harmonics = 4611686018427387904"),
            Expect::Fails(&["is too large"]),
        ),
        case(
            "resample -1",
            step("resample", "samples = -1"),
            Expect::Refused(&["'samples' must be >= 0, got -1"]),
        ),
        case(
            "fft i64::MIN",
            step("fft", &format!("nfft = {}", i64::MIN)),
            Expect::Refused(&["'nfft' must be >= 0"]),
        ),
        case(
            "resample 1e300",
            step("resample", "samples = 1e300"),
            Expect::Refused(&["'samples' must be a non-negative integer"]),
        ),
        case(
            "resample 0.5",
            step("resample", "samples = 0.5"),
            Expect::Refused(&["non-negative integer"]),
        ),
        case(
            "fft nfft inf",
            step("fft", "nfft = inf"),
            Expect::Refused(&["non-negative integer"]),
        ),
        case(
            "lowpass cutoff nan",
            step("lowpass", "cutoff = nan"),
            Expect::Refused(&["'cutoff' must be finite"]),
        ),
        case(
            "scale factor -inf",
            step("scale", "factor = -inf"),
            Expect::Refused(&["'factor' must be finite"]),
        ),
        case(
            "clip nan",
            step("clip", "low = nan\nhigh = nan"),
            Expect::Refused(&["must not be NaN"]),
        ),
    ]
}

/// Specs whose structure is hostile.
fn hostile_specs() -> Vec<Case> {
    let deep = 100_000;
    let mut cases = vec![
        case(
            "deep TOML array",
            step(
                "scale",
                &format!("factor = {}{}", "[".repeat(deep), "]".repeat(deep)),
            ),
            Expect::Refused(&["recurs"]),
        ),
        case(
            "deep TOML table",
            format!(
                "a = {}1{}\n[[steps]]\nname = \"s\"\nkind = \"scale\"\n",
                "{b = ".repeat(deep),
                "}".repeat(deep)
            ),
            Expect::Refused(&["recurs"]),
        ),
        case(
            "deep JSON",
            format!(
                "{{\"steps\": [{{\"name\": \"s\", \"kind\": \"scale\", \"factor\": {}{}}}]}}",
                "[".repeat(deep),
                "]".repeat(deep)
            ),
            Expect::Refused(&["recursion limit"]),
        ),
        case(
            "JSON duplicate key",
            r#"{"steps": [{"name": "s", "kind": "scale", "factor": 1, "factor": 2}]}"#,
            Expect::Refused(&["duplicate key 'factor'"]),
        ),
        case(
            "JSON root array",
            r#"[{"name": "s", "kind": "scale"}]"#,
            Expect::Refused(&["must be a JSON object"]),
        ),
        case(
            "not UTF-8",
            b"[[steps]]\nname = \"\xff\xfe\"\nkind = \"scale\"\n".to_vec(),
            Expect::Refused(&["UTF-8"]),
        ),
        case("empty", "", Expect::Refused(&["steps cannot be empty"])),
        case(
            "steps not an array",
            "steps = 5\n",
            Expect::Refused(&["'steps' must be an array of tables"]),
        ),
        case(
            "kind not a string",
            "[[steps]]\nname = \"s\"\nkind = 5\n",
            Expect::Refused(&["'kind' must be a string"]),
        ),
        case(
            "unknown kind",
            step("nuke", ""),
            Expect::Refused(&["unknown transformer kind 'nuke'"]),
        ),
        case(
            "cycle",
            "[[steps]]\nname = \"a\"\nkind = \"scale\"\ninputs = [\"b\"]\n[[steps]]\nname = \"b\"\nkind = \"scale\"\ninputs = [\"a\"]\n",
            Expect::Refused(&["Circular dependency", "a -> b -> a"]),
        ),
        case(
            "self loop",
            "[[steps]]\nname = \"a\"\nkind = \"scale\"\ninputs = [\"a\"]\n",
            Expect::Refused(&["Circular dependency"]),
        ),
        case(
            "duplicate steps",
            [step("scale", ""), step("offset", "")].concat(),
            Expect::Refused(&["Duplicate step names: s"]),
        ),
        case(
            "unknown output",
            [b"output = \"zz\"\n".to_vec(), step("scale", "")].concat(),
            Expect::Refused(&["output: Step 'zz' not found"]),
        ),
        case(
            "unknown executor",
            [b"executor = \"gpu\"\n".to_vec(), step("scale", "")].concat(),
            Expect::Refused(&["got 'gpu'"]),
        ),
        case(
            "negative workers",
            [b"max_workers = -1\n".to_vec(), step("scale", "")].concat(),
            Expect::Refused(&["'max_workers' must be a positive integer"]),
        ),
        case(
            "stage_timeout nan",
            [b"stage_timeout = nan\n".to_vec(), step("scale", "")].concat(),
            Expect::Refused(&["'stage_timeout'"]),
        ),
        case(
            "stage_timeout 1e300",
            [b"stage_timeout = 1e300\n".to_vec(), step("scale", "")].concat(),
            Expect::Refused(&["'stage_timeout'"]),
        ),
        case(
            "NUL in a name",
            "[[steps]]\nname = \"a\\u0000b\"\nkind = \"scale\"\n",
            Expect::Refused(&["control characters"]),
        ),
        case(
            "slash in a name",
            "[[steps]]\nname = \"../x\"\nkind = \"scale\"\n",
            Expect::Refused(&["output file names"]),
        ),
        case(
            "a 1 MiB name",
            format!(
                "[[steps]]\nname = \"{}\"\nkind = \"scale\"\n",
                "x".repeat(1 << 20)
            ),
            Expect::Refused(&["the limit is 1024"]),
        ),
        case(
            "a 1 MiB reference",
            format!(
                "[[steps]]\nname = \"s\"\nkind = \"scale\"\ninputs = [\"{}\"]\n",
                "y".repeat(1 << 20)
            ),
            Expect::Refused(&["yyy..."]),
        ),
        case(
            "unequal merge",
            [
                step("decimate", "factor = 2"),
                b"[[steps]]\nname = \"m\"\nkind = \"merge\"\ninputs = [\"input\", \"s\"]\n"
                    .to_vec(),
            ]
            .concat(),
            Expect::Fails(&["Stage 'm' failed: merge: input 1 has sample rate 500000"]),
        ),
    ];
    // A worker count no executor can have: the process executor refuses
    // it, the others need no more threads than the graph is wide.
    let mut workers = case(
        "max_workers i64::MAX",
        [
            format!("max_workers = {}\n", i64::MAX).into_bytes(),
            step("scale", ""),
        ]
        .concat(),
        Expect::Runs,
    );
    workers.expect[2] = Expect::Refused(&["between 1 and 1024 workers"]);
    cases.push(workers);
    cases
}

/// Checks one run of `case` on `executor` against what it must give.
fn check(case: &Case, executor: &str, expect: Expect, o: &Output) {
    let err = stderr(o);
    let all = format!("{}{err}", String::from_utf8_lossy(&o.stdout));
    let context = format!("{} on {executor}", case.name);
    let code = o
        .status
        .code()
        .unwrap_or_else(|| panic!("{context}: ended by {}: {err}", o.status));
    for bad in [
        "panicked",
        "memory allocation of",
        "stack backtrace",
        "RUST_BACKTRACE",
        "overflow",
    ] {
        assert!(!all.contains(bad), "{context}: {bad:?} in:\n{all}");
    }
    assert!(
        all.len() < 16 << 10,
        "{context}: {} bytes of messages",
        all.len()
    );
    let has_all = |texts: &[&str]| texts.iter().all(|t| err.contains(t));
    let failed_each_input = |texts: &[&str]| {
        code == 1
            && has_all(texts)
            && ["a.npy", "b.npy"]
                .iter()
                .all(|input| err.contains(&format!("error: {input}: Stage '")))
            && err.lines().last() == Some("error: 2 inputs failed: a.npy, b.npy")
    };
    let ok = match expect {
        Expect::Refused(texts) => code == 2 && err.starts_with("error: ") && has_all(texts),
        Expect::Fails(texts) => failed_each_input(texts),
        Expect::FailsOrWarns(texts) => {
            failed_each_input(texts)
                || (code == 0
                    && ["a:", "b:"]
                        .iter()
                        .all(|input| err.contains(&format!("warning: {input} non-finite samples"))))
        }
        Expect::Runs => code == 0,
    };
    assert!(
        ok,
        "{context}: expected {expect:?}, got status {code}:\n{all}"
    );
}

#[test]
fn hostile_specs_and_huge_parameters_fail_cleanly_on_every_executor() {
    let dir = TempDir::new("hostile");
    for (k, name) in ["a.npy", "b.npy"].into_iter().enumerate() {
        let samples = (0..1024)
            .map(|i| (i as f64 * (0.05 + 0.01 * k as f64)).sin())
            .collect();
        write_trace(
            &Trace::new(samples, 1e6).unwrap(),
            &dir.path(name),
            OutputFormat::Npy,
        )
        .unwrap();
    }
    let cases: Vec<Case> = huge_parameters()
        .into_iter()
        .chain(hostile_specs())
        .collect();
    for (n, case) in cases.iter().enumerate() {
        let spec = dir.path(&format!("spec{n}.toml"));
        fs::write(&spec, &case.spec).unwrap();
        for (executor, expect) in EXECUTORS.into_iter().zip(case.expect) {
            let out = format!("out{n}-{executor}");
            let o = tracekit(
                &dir.0,
                &[
                    "run",
                    spec.to_str().unwrap(),
                    "a.npy",
                    "b.npy",
                    "--sample-rate",
                    "1e6",
                    "--executor",
                    executor,
                    "--out",
                    &out,
                ],
            );
            check(case, executor, expect, &o);
        }
    }
}
