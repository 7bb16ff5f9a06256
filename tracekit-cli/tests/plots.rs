//! The pictures, read back from the SVG files the binary writes: the layout
//! rules (marker labels inside their plot area, no two label boxes
//! overlapping, no marker line through a label), a readable window on long
//! captures, spectra in dB over a logarithmic axis, and measurement steps
//! drawn as tables rather than as copies of their input.
//!
//! Every rule is checked on the geometry the SVG holds, whatever it is:
//! plot areas are the rectangles outlined in the plot frame colour, label
//! boxes the rectangles filled with the label colour, marker lines the
//! vertical lines in the marker colour.

mod support;

use std::{
    f64::consts::TAU,
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use support::TempDir;
use tracekit::{
    Trace,
    io::{OutputFormat, write_trace},
};

/// The outline of every plot area, and nothing else (`style::PLOT_FRAME_COLOR`).
const PLOT_FRAME: &str = "#A0A0A0";
/// The fill of every marker label's box, and nothing else (`style::LABEL_BOX_COLOR`).
const LABEL_BOX: &str = "#FFF4F4";
/// Marker lines and labels (`style::MARKER_COLOR`).
const MARKER: &str = "#D62728";

/// Runs the binary in `dir` with `args`; fails the test unless it exits 0.
fn tracekit(dir: &Path, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_tracekit"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the tracekit binary runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "tracekit {args:?}\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// A rectangle of the picture, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Rect {
    fn contains(&self, o: &Rect) -> bool {
        o.left >= self.left && o.right <= self.right && o.top >= self.top && o.bottom <= self.bottom
    }

    fn contains_point(&self, (x, y): (f64, f64)) -> bool {
        x >= self.left && x <= self.right && y >= self.top && y <= self.bottom
    }

    fn overlaps(&self, o: &Rect) -> bool {
        self.left < o.right && o.left < self.right && self.top < o.bottom && o.top < self.bottom
    }
}

/// What a picture holds, as its SVG says.
#[derive(Debug, Default)]
struct Picture {
    /// Plot areas.
    frames: Vec<Rect>,
    /// Marker label boxes.
    boxes: Vec<Rect>,
    /// Marker lines: x, top, bottom.
    markers: Vec<(f64, f64, f64)>,
    /// Texts in the marker colour that sit in a plot area (labels): anchor and text.
    labels: Vec<((f64, f64), String)>,
    /// Every text, in document order.
    texts: Vec<String>,
}

fn number(node: roxmltree::Node<'_, '_>, name: &str) -> f64 {
    node.attribute(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number {name} on {node:?}"))
}

/// Reads the picture at `path`, failing the test on malformed XML.
fn picture(path: &Path) -> Picture {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&text).expect("the picture is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let mut p = Picture::default();
    let mut marker_texts = Vec::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        match node.tag_name().name() {
            "rect" => {
                let (x, y) = (number(node, "x"), number(node, "y"));
                let r = Rect {
                    left: x,
                    top: y,
                    right: x + number(node, "width"),
                    bottom: y + number(node, "height"),
                };
                if node.attribute("stroke") == Some(PLOT_FRAME) {
                    p.frames.push(r);
                }
                if node.attribute("fill") == Some(LABEL_BOX) {
                    p.boxes.push(r);
                }
            }
            "polyline" if node.attribute("stroke") == Some(MARKER) => {
                let points: Vec<(f64, f64)> = node
                    .attribute("points")
                    .unwrap_or("")
                    .split_whitespace()
                    .filter_map(|xy| {
                        let (x, y) = xy.split_once(',')?;
                        Some((x.parse().ok()?, y.parse().ok()?))
                    })
                    .collect();
                if let [(x0, y0), (x1, y1)] = points[..] {
                    if x0 == x1 {
                        p.markers.push((x0, y0.min(y1), y0.max(y1)));
                    }
                }
            }
            "text" => {
                let content = node.text().unwrap_or("").trim().to_owned();
                if node.attribute("fill") == Some(MARKER) {
                    marker_texts.push(((number(node, "x"), number(node, "y")), content.clone()));
                }
                p.texts.push(content);
            }
            _ => {}
        }
    }
    p.labels = marker_texts
        .into_iter()
        .filter(|(at, _)| p.frames.iter().any(|f| f.contains_point(*at)))
        .collect();
    p
}

/// The layout rules: every label box inside a plot area, no two boxes
/// overlapping, no marker line through a box, every label's text in a box.
fn assert_layout(p: &Picture, what: &str) {
    assert!(!p.frames.is_empty(), "{what}: no plot area");
    for (i, b) in p.boxes.iter().enumerate() {
        assert!(
            p.frames.iter().any(|f| f.contains(b)),
            "{what}: label box {b:?} is outside every plot area"
        );
        for o in &p.boxes[i + 1..] {
            assert!(
                !b.overlaps(o),
                "{what}: label boxes {b:?} and {o:?} overlap"
            );
        }
        for &(x, top, bottom) in &p.markers {
            let crosses = x >= b.left && x < b.right && top < b.bottom && bottom > b.top;
            assert!(
                !crosses,
                "{what}: the marker line at x={x} ({top}..{bottom}) crosses {b:?}"
            );
        }
    }
    for (at, text) in &p.labels {
        assert!(
            p.boxes.iter().any(|b| b.contains_point(*at)),
            "{what}: label {text:?} at {at:?} is in no label box"
        );
    }
    assert_eq!(
        p.labels.len(),
        p.boxes.len(),
        "{what}: one text per label box"
    );
}

/// Panel captions: each panel has one grey note that starts with "· ".
fn panel_notes(p: &Picture) -> Vec<&str> {
    p.texts
        .iter()
        .filter(|t| t.starts_with("· "))
        .map(String::as_str)
        .collect()
}

/// sin f + 0.1 sin 3f + a little deterministic noise, `n` samples at `rate`.
fn tone(n: usize, rate: f64, hz: f64) -> Trace {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let samples = (0..n)
        .map(|k| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let t = k as f64 / rate;
            (TAU * hz * t).sin() + 0.1 * (TAU * 3.0 * hz * t).sin() + 0.02 * noise
        })
        .collect();
    Trace::new(samples, rate).unwrap()
}

fn write_npy(dir: &TempDir, name: &str, trace: &Trace) -> String {
    write_trace(trace, &dir.path(name), OutputFormat::Npy).unwrap();
    name.to_owned()
}

/// A spectrum and the spectral metrics of the input (which give the
/// fundamental, so the spectrum gets harmonic markers).
const SPECTRUM_SPEC: &str = r#"
executor = "sequential"
output = "fft"

[[steps]]
name = "fft"
kind = "fft"
inputs = ["input"]
window = "hann"
scale = "db"

[[steps]]
name = "metrics"
kind = "spectral_metrics"
inputs = ["input"]
n_harmonics = 5
window = "hann"
"#;

fn example_spec(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tracekit/examples/pipelines")
        .join(name)
}

#[test]
fn the_demo_picture_reads_at_a_glance() {
    let dir = TempDir::new("demo");
    tracekit(
        &dir.0,
        &["demo", "--samples", "65536", "--runs", "1", "--plot"],
    );
    let p = picture(&dir.path("tracekit-demo.svg"));
    assert_layout(&p, "demo");
    // Input, three filters, the spectrum: five panels, none for metrics.
    let notes = panel_notes(&p);
    assert_eq!(notes.len(), 5, "{notes:?}");
    // 65,536 samples of 10 kHz are 655 periods: the time panels show five.
    let windows: Vec<&&str> = notes.iter().filter(|n| n.contains("shown:")).collect();
    assert_eq!(windows.len(), 4, "{notes:?}");
    assert!(
        windows.iter().all(|n| n.contains("5 periods of 10 kHz")),
        "{notes:?}"
    );
    let has = |t: &str| p.texts.iter().any(|x| x == t);
    for text in [
        "f0 10 kHz",
        "Frequency (log scale)",
        "10 kHz",
        "metrics",
        "measured input; samples unchanged",
        "thd_db",
        "Stage timeline",
    ] {
        assert!(has(text), "no {text:?} in {:?}", p.texts);
    }
    // Each filter is drawn over the input and minus it.
    for step in ["lowpass", "highpass", "bandpass"] {
        let diff = format!("{step} − input: what the step changed, over the span above");
        assert!(has(&diff), "no {diff:?} in {:?}", p.texts);
    }
    assert!(p.boxes.len() >= 4, "f0 and most harmonics are labelled");
}

#[test]
fn run_plot_draws_measurements_as_tables_and_spectra_in_db() {
    let dir = TempDir::new("run");
    let input = write_npy(&dir, "long.npy", &tone(1 << 18, 1e6, 10e3));
    tracekit(
        &dir.0,
        &[
            "run",
            example_spec("fanout.toml").to_str().unwrap(),
            &input,
            "--sample-rate",
            "1e6",
            "--keep",
            "fft,metrics",
            "--plot",
            "--out",
            "fan",
        ],
    );
    let p = picture(&dir.path("fan/long.svg"));
    assert_layout(&p, "fanout");
    // Input, fft and merge; metrics is a table.
    assert_eq!(panel_notes(&p).len(), 3, "{:?}", panel_notes(&p));
    assert!(
        !p.texts.iter().any(|t| t.starts_with("metrics —")),
        "{:?}",
        p.texts
    );
    for text in [
        "metrics",
        "measured input; samples unchanged",
        "fundamental_hz",
    ] {
        assert!(
            p.texts.iter().any(|t| t == text),
            "no {text:?}: {:?}",
            p.texts
        );
    }
    let fft = panel_notes(&p)
        .into_iter()
        .find(|n| n.contains("points"))
        .unwrap();
    assert!(
        fft.contains("dB over log frequency, DC bin left out"),
        "{fft}"
    );

    tracekit(
        &dir.0,
        &[
            "run",
            example_spec("decimate_psd.toml").to_str().unwrap(),
            &input,
            "--sample-rate",
            "1e6",
            "--keep",
            "decimate,stats",
            "--plot",
            "--out",
            "psd",
        ],
    );
    let p = picture(&dir.path("psd/long.svg"));
    assert_layout(&p, "psd");
    let has = |t: &str| p.texts.iter().any(|x| x == t);
    assert!(has("PSD (dB re 1/Hz)"), "{:?}", p.texts);
    assert!(has("Frequency (log scale)"), "{:?}", p.texts);
    assert!(
        has("stats") && has("rms"),
        "stats is a table: {:?}",
        p.texts
    );
    assert_eq!(
        panel_notes(&p).len(),
        3,
        "input, decimate, psd: {:?}",
        panel_notes(&p)
    );
}

#[test]
fn layout_rules_hold_at_many_lengths_and_rates() {
    let dir = TempDir::new("rates");
    fs::write(dir.path("spectrum.toml"), SPECTRUM_SPEC).unwrap();
    let cases: [(usize, f64, f64); 6] = [
        (256, 1e3, 50.0),
        (4096, 48e3, 440.0),
        (100_000, 48e3, 997.0),
        (3000, 1e6, 10e3),
        (1 << 17, 1e6, 123e3),
        (50_000, 1e9, 4e6),
    ];
    for (k, (n, rate, hz)) in cases.into_iter().enumerate() {
        let name = write_npy(&dir, &format!("t{k}.npy"), &tone(n, rate, hz));
        let rate_arg = format!("{rate}");
        tracekit(
            &dir.0,
            &[
                "run",
                "spectrum.toml",
                &name,
                "--sample-rate",
                &rate_arg,
                "--plot",
                "--out",
                "out",
            ],
        );
        let p = picture(&dir.path(&format!("out/t{k}.svg")));
        let what = format!("{n} samples at {rate} S/s of {hz} Hz");
        assert_layout(&p, &what);
        assert!(
            p.texts.iter().any(|t| t.starts_with("f0 ")),
            "{what}: the fundamental is labelled: {:?}",
            p.texts
        );
        let notes = panel_notes(&p);
        assert_eq!(notes.len(), 2, "{what}: input and fft: {notes:?}");
        // More than 30 periods: a window of five; else the whole.
        let windowed = n as f64 * hz / rate > 30.0;
        assert_eq!(
            notes[0].contains("5 periods"),
            windowed,
            "{what}: {}",
            notes[0]
        );
        assert_eq!(
            notes[0].contains("all of"),
            !windowed,
            "{what}: {}",
            notes[0]
        );
    }
}

#[test]
fn hostile_captures_still_make_a_picture() {
    let dir = TempDir::new("hostile");
    // The spectrum alone: the metrics refuse a capture without a tone.
    let fft_only = &SPECTRUM_SPEC[..SPECTRUM_SPEC.rfind("[[steps]]").unwrap()];
    fs::write(dir.path("spectrum.toml"), fft_only).unwrap();
    let mut gappy = tone(4096, 1e6, 10e3).samples().to_vec();
    for x in gappy.iter_mut().skip(100).step_by(7) {
        *x = f64::NAN;
    }
    let traces = [
        ("flat.npy", vec![0.25; 4096]),
        ("gappy.npy", gappy),
        ("nan.npy", vec![f64::NAN; 1024]),
        (
            "huge.npy",
            vec![f64::MAX, -f64::MAX, 0.0, 1.0, f64::INFINITY, 2.0, 3.0, 4.0],
        ),
    ];
    for (name, samples) in traces {
        write_npy(&dir, name, &Trace::new(samples, 1e6).unwrap());
        tracekit(
            &dir.0,
            &[
                "run",
                "spectrum.toml",
                name,
                "--sample-rate",
                "1e6",
                "--plot",
                "--out",
                "out",
            ],
        );
        let svg = dir.path(&format!("out/{}.svg", name.trim_end_matches(".npy")));
        let p = picture(&svg);
        assert_layout(&p, name);
        assert_eq!(panel_notes(&p).len(), 2, "{name}: {:?}", p.texts);
    }
}
