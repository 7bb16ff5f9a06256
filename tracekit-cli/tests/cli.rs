//! The `tracekit` binary, run as a user runs it: demo, run, graph and help.
//!
//! Inputs are generated into a fresh directory per test; outputs are compared
//! with the library's results for the same spec and files, bit for bit.

mod support;

use std::{
    f64::consts::TAU,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    process::Output,
};

use support::{TempDir, stderr, tracekit};
use tracekit::{
    Domain, ExecutorKind, Run, Trace,
    io::{NamedTrace, OutputFormat, ReadOptions, trace_to_json, write_trace},
    spec,
};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

fn example_spec(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tracekit/examples/pipelines")
        .join(name)
}

/// 1 MS/s: sin 10 kHz + 0.1 sin 30 kHz + deterministic pseudo-noise.
fn signal(len: usize, phase: f64) -> Vec<f64> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..len)
        .map(|k| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let t = k as f64 / 1e6;
            (TAU * 10e3 * t + phase).sin() + 0.1 * (TAU * 30e3 * t).sin() + 0.02 * noise
        })
        .collect()
}

/// Writes `a.npy` (one trace), `b.wav` (two float channels) and `c.csv`
/// (time,value) into `dir`.
fn write_inputs(dir: &TempDir) -> Vec<PathBuf> {
    let n = 8192;
    let a = dir.path("a.npy");
    write_trace(
        &Trace::new(signal(n, 0.0), 1e6).unwrap(),
        &a,
        OutputFormat::Npy,
    )
    .unwrap();

    let b = dir.path("b.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 1_000_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut wav = hound::WavWriter::create(&b, spec).unwrap();
    for (l, r) in signal(n, 0.5).into_iter().zip(signal(n, 1.0)) {
        wav.write_sample(l as f32).unwrap();
        wav.write_sample((0.5 * r) as f32).unwrap();
    }
    wav.finalize().unwrap();

    let c = dir.path("c.csv");
    let mut text = String::from("time,volts\n");
    for (k, x) in signal(n, 2.0).into_iter().enumerate() {
        writeln!(text, "{:?},{x:?}", k as f64 * 1e-6).unwrap();
    }
    fs::write(&c, text).unwrap();
    vec![a, b, c]
}

/// Every trace of `file`, at `rate` where the file does not say its own.
fn read_traces(file: &Path, rate: f64) -> Vec<NamedTrace> {
    tracekit::io::read_named(file, &ReadOptions::new().sample_rate(rate)).unwrap()
}

/// What the library gives for `spec` on each trace of each file: (input name, run).
fn library_runs(spec_path: &Path, files: &[PathBuf]) -> Vec<(String, Run)> {
    let mut p = spec::load_file(spec_path).unwrap();
    p.set_parallel_config(ExecutorKind::Sequential, None);
    files
        .iter()
        .flat_map(|f| read_traces(f, 1e6))
        .map(|named| (named.name, p.run(&named.trace).unwrap()))
        .collect()
}

/// The measurements.csv the batch must write for these runs.
fn expected_measurements(runs: &[(String, Run)]) -> String {
    let mut text = String::from("input,step,measurement,value\n");
    for (name, run) in runs {
        for step in run.kept_steps() {
            for (key, value) in &run.get(step).unwrap().meta().measurements {
                writeln!(text, "{name},{step},{key},{value:?}").unwrap();
            }
        }
    }
    text
}

fn assert_same_samples(file: &Path, expected: &Trace) {
    let back = read_traces(file, expected.sample_rate());
    assert_eq!(back.len(), 1, "{}", file.display());
    let bits = |t: &Trace| t.samples().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&back[0].trace),
        bits(expected),
        "{} differs from the library's result",
        file.display()
    );
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn demo_prints_every_section() {
    let dir = TempDir::new("demo");
    let o = tracekit(
        &dir.0,
        &[
            "demo",
            "--executor",
            "sequential",
            "--samples",
            "16384",
            "--runs",
            "1",
        ],
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}\n{}", stderr(&o));
    for section in [
        "tracekit demo",
        "16,384 samples at 1 MS/s",
        "Steps",
        "Generations",
        "  1  lowpass, highpass, bandpass, fft, metrics",
        "  2  merge",
        "Stage times",
        "wall time",
        "Executors",
        "reference",
        "Measurements",
    ] {
        assert!(out.contains(section), "missing {section:?} in\n{out}");
    }
    for (label, unit) in [
        ("fundamental", "Hz"),
        ("THD", "dB"),
        ("SNR", "dB"),
        ("SINAD", "dB"),
        ("ENOB", "bits"),
        ("SFDR", "dB"),
    ] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line in\n{out}"));
        assert!(line.contains(unit), "{line}");
    }
    // The 30 kHz tone is the third harmonic at a tenth of the fundamental.
    let thd = out
        .lines()
        .find(|l| l.trim_start().starts_with("THD"))
        .unwrap();
    assert!(thd.contains("-20.0"), "{thd}");
    // Sequential only: no other executor ran.
    assert!(
        !out.lines().any(|l| l.trim_start().starts_with("thread")),
        "{out}"
    );
}

#[test]
fn demo_checks_the_thread_executor_bit_for_bit() {
    let dir = TempDir::new("demo-thread");
    let o = tracekit(
        &dir.0,
        &[
            "demo",
            "--executor",
            "thread",
            "--workers",
            "2",
            "--samples",
            "8192",
            "--runs",
            "2",
        ],
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}\n{}", stderr(&o));
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("thread"))
        .unwrap_or_else(|| panic!("no thread row in\n{out}"));
    assert!(row.contains("identical: 6/6 steps bit for bit"), "{row}");
    assert!(row.contains('x'), "speedup missing: {row}");
}

#[test]
fn demo_on_every_executor_runs_or_skips_with_a_note() {
    let dir = TempDir::new("demo-all");
    let o = tracekit(&dir.0, &["demo", "--samples", "8192", "--runs", "1"]);
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}\n{}", stderr(&o));
    for kind in ["sequential", "thread", "process"] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(kind)
                || l.contains(&format!("note: {kind} skipped"))),
            "{kind} neither ran nor was skipped:\n{out}"
        );
    }
}

#[test]
fn demo_rejects_zero_workers_as_a_usage_error() {
    let dir = TempDir::new("demo-zero");
    let o = tracekit(&dir.0, &["demo", "--workers", "0"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[test]
fn the_demo_spec_is_the_example_fanout_spec() {
    let dir = TempDir::new("demo-spec");
    let o = tracekit(&dir.0, &["demo", "--spec"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let from_demo = spec::load(&stdout(&o)).unwrap();
    let example = spec::load_file(&example_spec("fanout.toml")).unwrap();
    assert_eq!(from_demo.get_params(), example.get_params());
    assert_eq!(
        from_demo.get_dependency_graph(),
        example.get_dependency_graph()
    );
    assert_eq!(from_demo.output_step(), example.output_step());
    assert_eq!(from_demo.step_names(), example.step_names());
}

#[test]
fn run_writes_what_the_library_computes_for_csv_wav_and_npy() {
    let dir = TempDir::new("run");
    let files = write_inputs(&dir);
    let fanout = example_spec("fanout.toml");
    let mut args = vec!["run", path_str(&fanout)];
    args.extend(files.iter().map(|f| path_str(f)));
    args.extend(["--sample-rate", "1e6", "--keep", "lowpass,metrics"]);
    let o = tracekit(&dir.0, &args);
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("4 inputs processed"), "{}", stdout(&o));

    let out = dir.path("tracekit-out");
    let runs = library_runs(&fanout, &files);
    let names: Vec<&str> = runs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "b.ch0", "b.ch1", "c"]);
    for (name, run) in &runs {
        for step in ["merge", "lowpass", "metrics"] {
            assert_same_samples(
                &out.join(format!("{name}.{step}.npy")),
                run.get(step).unwrap(),
            );
        }
        assert!(!out.join(format!("{name}.fft.npy")).exists());
    }
    let measurements = fs::read_to_string(out.join("measurements.csv")).unwrap();
    assert_eq!(measurements, expected_measurements(&runs));
    assert!(
        measurements.contains("\nb.ch1,metrics,thd_db,"),
        "{measurements}"
    );
    // Four inputs, three files each, and the measurements.
    assert_eq!(fs::read_dir(&out).unwrap().count(), 4 * 3 + 1);
}

#[test]
fn run_formats_csv_and_json_hold_the_library_results() {
    let dir = TempDir::new("formats");
    let files = write_inputs(&dir);
    let fanout = example_spec("fanout.toml");
    let runs = library_runs(&fanout, &files[..1]);
    let (name, run) = &runs[0];

    let o = tracekit(
        &dir.0,
        &[
            "run",
            path_str(&fanout),
            "a.npy",
            "--sample-rate",
            "1000000",
            "--format",
            "csv",
            "--out",
            "csv",
            "--keep",
            "fft",
            "--executor",
            "sequential",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for step in ["merge", "fft"] {
        let text = fs::read_to_string(dir.path(&format!("csv/{name}.{step}.csv"))).unwrap();
        let trace = run.get(step).unwrap();
        let mut lines = text.lines();
        // A spectrum has a header and a frequency column before its values.
        let spectrum = trace.meta().domain == Domain::Frequency;
        if spectrum {
            assert_eq!(lines.next(), Some("frequency_hz,value"), "{step}");
        }
        let values: Vec<u64> = lines
            .map(|l| {
                let value = if spectrum {
                    l.split(',').nth(1).unwrap()
                } else {
                    l
                };
                value.parse::<f64>().unwrap().to_bits()
            })
            .collect();
        let expected: Vec<u64> = trace.samples().iter().map(|x| x.to_bits()).collect();
        assert_eq!(values, expected, "{step}");
    }

    let o = tracekit(
        &dir.0,
        &[
            "run",
            path_str(&fanout),
            "a.npy",
            "--sample-rate",
            "1e6",
            "--format",
            "json",
            "--out",
            "json",
            "--keep",
            "metrics",
            "--workers",
            "2",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for step in ["merge", "metrics"] {
        let text = fs::read_to_string(dir.path(&format!("json/{name}.{step}.json"))).unwrap();
        let expected = serde_json::to_string(&trace_to_json(run.get(step).unwrap())).unwrap();
        assert_eq!(text, format!("{expected}\n"), "{step}");
    }
    let metrics: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path("json/a.metrics.json")).unwrap())
            .unwrap();
    assert!(metrics["measurements"]["thd_db"].as_f64().unwrap() < -19.0);
}

#[test]
fn run_reports_bad_files_by_name_and_finishes_the_rest() {
    let dir = TempDir::new("bad");
    let files = write_inputs(&dir);
    fs::write(dir.path("corrupt.npy"), b"not an npy file").unwrap();
    let fanout = example_spec("fanout.toml");
    let o = tracekit(
        &dir.0,
        &[
            "run",
            path_str(&fanout),
            "corrupt.npy",
            "a.npy",
            "missing.wav",
            "c.csv",
            "--sample-rate",
            "1e6",
        ],
    );
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(err.contains("corrupt.npy"), "{err}");
    assert!(err.contains("missing.wav"), "{err}");
    let last = err.lines().last().unwrap();
    assert!(last.contains("2 inputs failed"), "{last}");
    assert!(
        stdout(&o).contains("2 input files read, 2 inputs processed"),
        "{}",
        stdout(&o)
    );
    let runs = library_runs(&fanout, &[files[0].clone(), files[2].clone()]);
    for (name, run) in &runs {
        assert_same_samples(
            &dir.path(&format!("tracekit-out/{name}.merge.npy")),
            run.output(),
        );
    }
    let measurements = fs::read_to_string(dir.path("tracekit-out/measurements.csv")).unwrap();
    assert_eq!(measurements, expected_measurements(&runs));
}

#[test]
fn run_without_a_sample_rate_names_the_file_and_the_option() {
    let dir = TempDir::new("rate");
    write_inputs(&dir);
    let o = tracekit(
        &dir.0,
        &[
            "run",
            path_str(&example_spec("fanout.toml")),
            "a.npy",
            "b.wav",
        ],
    );
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(
        err.contains("a.npy") && err.contains("--sample-rate"),
        "{err}"
    );
    // The WAV file carries its rate and still runs.
    assert!(dir.path("tracekit-out/b.ch1.merge.npy").exists());
}

#[test]
fn info_describes_each_capture_and_names_the_ones_it_cannot_read() {
    let dir = TempDir::new("info");
    write_inputs(&dir);
    fs::write(dir.path("junk.bin"), [0u8, 0xff, 0x13, 0x37, 1, 2, 3, 4]).unwrap();
    let o = tracekit(&dir.0, &["info", "b.wav", "c.csv", "junk.bin"]);
    let (out, err) = (stdout(&o), stderr(&o));
    assert_eq!(code(&o), 1, "{err}");
    assert!(out.contains("b.wav: WAV, 2 traces"), "{out}");
    assert!(out.contains("b.ch1"), "{out}");
    assert!(out.contains("1 MSa/s"), "{out}");
    assert!(out.contains("8.192 ms"), "{out}");
    assert!(out.contains("c.csv: CSV, 1 trace"), "{out}");
    assert!(
        err.contains("junk.bin") && err.contains("unknown file type"),
        "{err}"
    );
    assert!(
        err.lines().last().unwrap().contains("1 of 3 files"),
        "{err}"
    );

    let o = tracekit(
        &dir.0,
        &["info", "--json", "b.wav", "a.npy", "--sample-rate", "1e6"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["format"], "WAV");
    let traces = lines[0]["traces"].as_array().unwrap();
    assert_eq!(traces.len(), 2);
    assert_eq!(traces[1]["input"], "b.ch1");
    assert_eq!(traces[1]["samples"], 8192);
    assert_eq!(traces[1]["sample_rate"], 1e6);
    assert_eq!(traces[1]["attributes"]["source"], "b.wav");
    let (lo, hi) = (
        traces[1]["min"].as_f64().unwrap(),
        traces[1]["max"].as_f64().unwrap(),
    );
    assert!(-0.6 < lo && lo < -0.4 && 0.4 < hi && hi < 0.6, "{lo} {hi}");
    assert_eq!(lines[1]["format"], "NPY");
    assert_eq!(lines[1]["traces"][0]["input"], "a");
}

#[test]
fn a_spec_with_a_cycle_is_a_configuration_error() {
    let dir = TempDir::new("cycle");
    write_inputs(&dir);
    fs::write(
        dir.path("cycle.toml"),
        "[[steps]]\nname = \"a\"\nkind = \"scale\"\ninputs = [\"b\"]\n\n\
         [[steps]]\nname = \"b\"\nkind = \"scale\"\ninputs = [\"a\"]\n",
    )
    .unwrap();
    for args in [
        &["run", "cycle.toml", "a.npy", "--sample-rate", "1e6"][..],
        &["graph", "cycle.toml"][..],
    ] {
        let o = tracekit(&dir.0, args);
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{args:?}: {err}");
        assert!(
            err.contains("Circular dependency detected in pipeline: a -> b -> a"),
            "{err}"
        );
        assert!(err.contains("cycle.toml"), "{err}");
    }
    assert!(!dir.path("tracekit-out").exists());
}

#[test]
fn unknown_keep_steps_and_missing_specs_fail_before_any_work() {
    let dir = TempDir::new("keep");
    write_inputs(&dir);
    let fanout = example_spec("fanout.toml");
    let o = tracekit(
        &dir.0,
        &[
            "run",
            path_str(&fanout),
            "a.npy",
            "--sample-rate",
            "1e6",
            "--keep",
            "fft,nope",
        ],
    );
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("Step 'nope' not found in pipeline"), "{err}");
    assert!(err.contains("lowpass, highpass"), "{err}");
    assert!(!dir.path("tracekit-out").exists());

    let o = tracekit(&dir.0, &["run", "no-such-spec.toml", "a.npy"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no-such-spec.toml"), "{}", stderr(&o));

    let o = tracekit(
        &dir.0,
        &["run", path_str(&fanout), "a.npy", "--format", "xml"],
    );
    assert_eq!(code(&o), 2);
}

#[test]
fn graph_prints_steps_kinds_inputs_and_generations() {
    let dir = TempDir::new("graph");
    let o = tracekit(
        &dir.0,
        &["graph", path_str(&example_spec("decimate_psd.toml"))],
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let row = |step: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(step))
            .unwrap_or_else(|| panic!("no {step} row in\n{out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(&row("detrend")[..3], ["detrend", "detrend", "input"]);
    assert_eq!(&row("decimate")[..3], ["decimate", "decimate", "detrend"]);
    assert_eq!(&row("psd")[..4], ["psd", "(output)", "psd", "decimate"]);
    assert_eq!(row("stats"), ["stats", "stats", "decimate"]);
    assert!(
        out.contains("  1  detrend\n  2  decimate\n  3  psd, stats\n"),
        "{out}"
    );

    let o = tracekit(
        &dir.0,
        &[
            "graph",
            path_str(&example_spec("decimate_psd.toml")),
            "--dot",
        ],
    );
    let library = spec::load_file(&example_spec("decimate_psd.toml")).unwrap();
    assert_eq!(stdout(&o), library.to_dot());
}

#[test]
fn a_spec_written_by_to_spec_reads_back_through_the_cli() {
    let dir = TempDir::new("roundtrip");
    for name in ["fanout.toml", "decimate_psd.toml", "wavelet_denoise.toml"] {
        let original = example_spec(name);
        let mut p = spec::load_file(&original).unwrap();
        p.set_parallel_config(ExecutorKind::Sequential, Some(3));
        let copy = dir.path(name);
        fs::write(&copy, p.to_spec()).unwrap();
        let a = stdout(&tracekit(&dir.0, &["graph", path_str(&original)]));
        let b = stdout(&tracekit(&dir.0, &["graph", path_str(&copy)]));
        let body = |s: &str| s.split_once('\n').unwrap().1.to_owned();
        assert_eq!(body(&a), body(&b), "{name}");
        assert!(b.contains("executor sequential (workers 3)"), "{b}");
    }
}

#[test]
fn every_example_spec_loads_and_runs_like_the_library() {
    let dir = TempDir::new("examples");
    // Long enough for the decimate + PSD chain (1,024-point segments after / 10).
    let long = dir.path("long.npy");
    write_trace(
        &Trace::new(signal(1 << 15, 0.0), 1e6).unwrap(),
        &long,
        OutputFormat::Npy,
    )
    .unwrap();
    let specs = fs::read_dir(example_spec(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect::<Vec<_>>();
    assert!(specs.len() >= 3, "{specs:?}");
    for spec_path in specs {
        let p = spec::load_file(&spec_path).unwrap();
        let out = dir.path(&format!("out-{}", p.output_step()));
        let o = tracekit(
            &dir.0,
            &[
                "run",
                path_str(&spec_path),
                "long.npy",
                "--sample-rate",
                "1e6",
                "--out",
                path_str(&out),
            ],
        );
        assert_eq!(code(&o), 0, "{}: {}", spec_path.display(), stderr(&o));
        let runs = library_runs(&spec_path, std::slice::from_ref(&long));
        assert_same_samples(
            &out.join(format!("long.{}.npy", p.output_step())),
            runs[0].1.output(),
        );
        assert_eq!(
            fs::read_to_string(out.join("measurements.csv")).unwrap(),
            expected_measurements(&runs)
        );
    }
}

#[test]
fn every_subcommand_has_help_with_examples() {
    let dir = TempDir::new("help");
    for sub in ["demo", "run", "graph", "info", "bench"] {
        let o = tracekit(&dir.0, &[sub, "--help"]);
        let out = stdout(&o);
        assert_eq!(code(&o), 0);
        assert!(out.contains("Examples:"), "{sub}: {out}");
        assert!(out.contains(&format!("tracekit {sub}")), "{sub}: {out}");
        assert!(out.contains("Exit status"), "{sub}: {out}");
    }
    let run_help = stdout(&tracekit(&dir.0, &["run", "--help"]));
    for needle in [
        "1    some inputs failed",
        "2    usage or configuration error",
        "130  interrupted",
        "--keep",
        "--resume",
        "--stage-timeout",
    ] {
        assert!(run_help.contains(needle), "{needle}: {run_help}");
    }
    let top = stdout(&tracekit(&dir.0, &["--help"]));
    for sub in ["demo", "run", "graph", "bench", "info"] {
        assert!(top.contains(sub), "{top}");
    }
}

/// The titles (`<text>` contents) of an SVG document, after checking it is well-formed XML.
fn svg_texts(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&text).expect("the picture is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_owned()))
        .collect()
}

#[test]
fn run_plot_draws_the_input_and_each_written_step() {
    let dir = TempDir::new("plot");
    let files = write_inputs(&dir);
    let fanout = example_spec("fanout.toml");
    let o = tracekit(
        &dir.0,
        &[
            "run",
            path_str(&fanout),
            path_str(&files[0]),
            "--sample-rate",
            "1e6",
            "--keep",
            "lowpass,fft",
            "--plot",
        ],
    );
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    let texts = svg_texts(&dir.path("tracekit-out/a.svg"));
    let has = |needle: &str| texts.iter().any(|t| t.contains(needle));
    for panel in ["input", "merge", "lowpass", "fft"] {
        assert!(
            texts.iter().any(|t| t.starts_with(panel)),
            "no panel {panel}: {texts:?}"
        );
    }
    assert!(
        !texts.iter().any(|t| t.starts_with("highpass")),
        "only written steps are drawn"
    );
    assert!(
        has("Time (ms)") || has("Time (s)") || has("Time (µs)"),
        "{texts:?}"
    );
    assert!(has("Frequency (log scale)"), "{texts:?}");
    assert!(
        has("thd_db"),
        "the measurements box lists the metrics: {texts:?}"
    );

    let o = tracekit(
        &dir.0,
        &[
            "run",
            path_str(&fanout),
            path_str(&files[2]),
            "--plot",
            "--plot-format",
            "png",
            "--out",
            "png",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let png = fs::read(dir.path("png/c.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn demo_plot_has_panels_spectrum_markers_and_a_timeline() {
    let dir = TempDir::new("demo-plot");
    let o = tracekit(
        &dir.0,
        &["demo", "--samples", "16384", "--runs", "1", "--plot"],
    );
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("Picture written to tracekit-demo.svg"));
    let texts = svg_texts(&dir.path("tracekit-demo.svg"));
    for needle in [
        "input",
        "lowpass",
        "highpass",
        "bandpass",
        "fft",
        "f0",
        "H3",
        "Stage timeline",
        "sequential",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(needle)),
            "no {needle:?} in {texts:?}"
        );
    }
}

#[test]
fn graph_svg_draws_every_step() {
    let dir = TempDir::new("graph-svg");
    let o = tracekit(
        &dir.0,
        &[
            "graph",
            path_str(&example_spec("fanout.toml")),
            "--svg",
            "g.svg",
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let texts = svg_texts(&dir.path("g.svg"));
    for step in [
        "input", "lowpass", "highpass", "bandpass", "fft", "metrics", "merge",
    ] {
        assert!(texts.iter().any(|t| t == step), "no node {step}: {texts:?}");
    }
}

#[test]
fn non_finite_samples_warn_and_strict_makes_them_errors() {
    let dir = TempDir::new("nan");
    fs::write(dir.path("nan.csv"), "1.0\nnan\n2.0\n3.0\n").unwrap();
    fs::write(dir.path("ok.csv"), "1.0\n2.0\n2.0\n3.0\n").unwrap();
    let stats = dir.path("stats.toml");
    fs::write(&stats, "[[steps]]\nname = \"stats\"\nkind = \"stats\"\n").unwrap();
    let args = [
        "run",
        path_str(&stats),
        "nan.csv",
        "ok.csv",
        "--sample-rate",
        "10",
    ];
    let o = tracekit(&dir.0, &args);
    let err = stderr(&o);
    assert_eq!(code(&o), 0, "{err}");
    assert!(
        err.contains("nan: non-finite samples") && err.contains("1 in the input"),
        "{err}"
    );
    assert!(err.contains("--strict"), "{err}");
    let o = tracekit(&dir.0, &[args.as_slice(), &["--strict"]].concat());
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(err.contains("1 input failed: nan"), "{err}");
    let rows = fs::read_to_string(dir.path("tracekit-out/measurements.csv")).unwrap();
    assert!(
        rows.contains("ok,stats,mean,2.0") && !rows.contains("nan,"),
        "{rows}"
    );
}

#[test]
fn worker_counts_out_of_range_are_usage_errors() {
    let dir = TempDir::new("workers");
    for sub in [
        &["demo", "--workers"][..],
        &["bench", "W0", "--runs", "1", "--workers"],
        &["run", "spec.toml", "in.csv", "--workers"],
    ] {
        for bad in ["0", "1025", "18446744073709551615", "many"] {
            let o = tracekit(&dir.0, &[sub, &[bad]].concat());
            assert_eq!(code(&o), 2, "{sub:?} {bad}: {}", stderr(&o));
            assert!(
                stderr(&o).contains("between 1 and 1024"),
                "{sub:?} {bad}: {}",
                stderr(&o)
            );
        }
    }
}

#[test]
fn an_output_directory_that_cannot_exist_is_a_usage_error() {
    let dir = TempDir::new("out");
    fs::write(dir.path("ok.csv"), "1.0\n2.0\n").unwrap();
    fs::write(dir.path("a-file"), "not a directory").unwrap();
    let stats = dir.path("stats.toml");
    fs::write(&stats, "[[steps]]\nname = \"stats\"\nkind = \"stats\"\n").unwrap();
    for out in ["a-file", "/dev/full", "a-file/below"] {
        let o = tracekit(
            &dir.0,
            &[
                "run",
                path_str(&stats),
                "ok.csv",
                "--sample-rate",
                "10",
                "--out",
                out,
            ],
        );
        assert_eq!(code(&o), 2, "{out}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("--out {out}: cannot create")),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn stage_timeout_is_checked_and_warns_without_the_process_executor() {
    let dir = TempDir::new("timeout");
    fs::write(dir.path("ok.csv"), "1.0\n2.0\n").unwrap();
    let stats = dir.path("stats.toml");
    fs::write(&stats, "[[steps]]\nname = \"stats\"\nkind = \"stats\"\n").unwrap();
    let base = ["run", path_str(&stats), "ok.csv", "--sample-rate", "10"];
    let o = tracekit(&dir.0, &[base.as_slice(), &["--stage-timeout=-1"]].concat());
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--stage-timeout must be a positive"),
        "{}",
        stderr(&o)
    );
    let o = tracekit(
        &dir.0,
        &[
            base.as_slice(),
            &["--stage-timeout", "5", "--executor", "thread"],
        ]
        .concat(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot stop a running stage"),
        "{}",
        stderr(&o)
    );
}
