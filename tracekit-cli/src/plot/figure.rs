//! A figure: traces as stacked panels over shared axes, an optional stage
//! timeline below them, and measurement tables on the right.

use std::{path::Path, sync::Arc};

use plotters::{coord::Shift, prelude::*};
use tracekit_core::{Domain, INPUT, Run, Trace};

use super::{
    Picture, PlotError, PlotFormat,
    chart::Drawn,
    font::FAMILY,
    panel::{self, Axes, Panel, SpectrumScale},
    style::NOTE_COLOR,
    tables::{self, Table},
    timeline::{self, Lane},
};

/// Width of every figure, side column included.
const WIDTH: u32 = 1200;
/// Width of the measurement tables, when there are any.
const SIDE_WIDTH: u32 = 250;

/// A whole picture: stacked trace panels, then an optional stage timeline,
/// with measurement tables on the right.
///
/// Panels of the same domain share one x axis, so that the input and the
/// steps derived from it line up: time panels show one window of a few
/// periods when the whole capture would be a solid band, and frequency
/// panels are in dB over a logarithmic axis by default. Long traces are
/// drawn from the extremes of each pixel column
/// ([`super::decimate::column_points`]).
///
/// ```ignore
/// let figure = Figure::new([Panel::new("input", &input), Panel::new("lowpass", &low)])
///     .with_title("capture.wav")
///     .with_measurements(run.output().meta().measurements.clone());
/// figure.write(Path::new("out/capture.svg"), PlotFormat::Svg)?;
/// ```
#[derive(Debug, Clone, Default)]
pub(crate) struct Figure<'a> {
    /// A line above everything (the input's name, say); none if empty.
    pub(crate) title: String,
    /// The trace panels, top to bottom.
    pub(crate) panels: Vec<Panel<'a>>,
    /// Tables of measurements, drawn top to bottom on the right; no side
    /// column if empty.
    pub(crate) tables: Vec<Table>,
    /// Executors whose stages are drawn as a timeline below the panels;
    /// no timeline if empty.
    pub(crate) timeline: Vec<Lane>,
    /// The fundamental of the capture (Hz), if measured: time panels show
    /// a few of its periods. Without it they use the first time trace's
    /// dominant frequency.
    pub(crate) fundamental_hz: Option<f64>,
    /// How frequency panels are drawn.
    pub(crate) spectrum: SpectrumScale,
}

impl<'a> Figure<'a> {
    /// A figure of these panels, without title, measurements or timeline.
    pub(crate) fn new(panels: impl IntoIterator<Item = Panel<'a>>) -> Figure<'a> {
        Figure {
            panels: panels.into_iter().collect(),
            ..Figure::default()
        }
    }

    /// The input and every step `run` kept (declaration order), as
    /// [`Figure::of_steps`] draws them.
    #[cfg(test)]
    pub(crate) fn of_run(input: &'a Trace, run: &'a Run) -> Figure<'a> {
        Figure::of_steps(input, run, &run.kept_steps())
    }

    /// The input and the steps `shown` that `run` kept, each in a panel
    /// (steps it did not keep are left out), with tables of what every kept
    /// step measured.
    ///
    /// - A step whose output has the same samples as its input (a
    ///   measurement such as `stats` or `spectral_metrics`) is drawn as its
    ///   table only, not as another copy of the trace.
    /// - A time-domain step is drawn over the input in grey, and with its
    ///   difference from the input when they share their sample times.
    /// - Where a step recorded a `fundamental_hz`, frequency panels mark it
    ///   and 5 harmonics, and time panels show a few of its periods.
    ///
    /// A step's table lists the measurements it added: one that it carries
    /// with the value an earlier step gave (measurements travel downstream
    /// with the metadata) is not listed again.
    pub(crate) fn of_steps(input: &'a Trace, run: &'a Run, shown: &[&str]) -> Figure<'a> {
        let kept: Vec<(&str, &Trace)> = std::iter::once((INPUT, input))
            .chain(
                run.kept_steps()
                    .into_iter()
                    .filter_map(|s| Some((s, run.get(s)?))),
            )
            .collect();
        let sources = pass_through_sources(&kept);
        let mut seen: Vec<(&str, u64)> = Vec::new();
        let mut tables = Vec::new();
        for ((name, trace), source) in kept.iter().zip(&sources) {
            let mut rows = Vec::new();
            for (key, &value) in &trace.meta().measurements {
                let bits = value.to_bits();
                if !seen.contains(&(key.as_str(), bits)) {
                    seen.push((key, bits));
                    rows.push((key.clone(), value));
                }
            }
            if rows.is_empty() && source.is_none() {
                continue;
            }
            let mut table = Table::new(*name, rows);
            if let Some(source) = source {
                table.note = format!("measured {source}; samples unchanged");
            }
            tables.push(table);
        }
        let fundamental_hz = kept
            .iter()
            .find_map(|(_, t)| t.measurement("fundamental_hz"))
            .filter(|f| f.is_finite() && *f > 0.0);
        let is_shown = |name: &str| name == INPUT || shown.contains(&name);
        let panels = kept
            .iter()
            .zip(&sources)
            .filter(|((name, _), source)| is_shown(name) && source.is_none())
            .map(|((name, trace), _)| {
                let mut panel = Panel::new(*name, trace);
                let domain = trace.meta().domain;
                if *name != INPUT && domain == Domain::Time {
                    panel = panel.with_reference(INPUT, input);
                }
                match fundamental_hz {
                    Some(f0) if domain == Domain::Frequency => panel.with_harmonics(f0, 5),
                    _ => panel,
                }
            });
        Figure {
            tables,
            fundamental_hz,
            ..Figure::new(panels)
        }
    }

    /// This figure with a title line.
    pub(crate) fn with_title(mut self, title: impl Into<String>) -> Figure<'a> {
        self.title = title.into();
        self
    }

    /// This figure with one more table of named values, headed "Measurements".
    #[cfg(test)]
    pub(crate) fn with_measurements<S: Into<String>>(
        mut self,
        measurements: impl IntoIterator<Item = (S, f64)>,
    ) -> Figure<'a> {
        let table = Table::new("Measurements", measurements);
        if !table.rows.is_empty() {
            self.tables.push(table);
        }
        self
    }

    /// This figure with a stage timeline of these executors below the panels.
    pub(crate) fn with_timeline(mut self, lanes: impl IntoIterator<Item = Lane>) -> Figure<'a> {
        self.timeline = lanes.into_iter().collect();
        self
    }

    /// This figure with frequency panels drawn on `scale`.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "no command offers linear spectra yet")
    )]
    pub(crate) fn with_spectrum_scale(mut self, scale: SpectrumScale) -> Figure<'a> {
        self.spectrum = scale;
        self
    }

    /// The figure as an SVG document.
    #[cfg(test)]
    pub(crate) fn to_svg(&self) -> Result<String, PlotError> {
        super::to_svg(self)
    }

    /// What every chart of the figure drew where, drawing it as SVG.
    #[cfg(test)]
    pub(super) fn layout(&self) -> Result<Vec<Drawn>, PlotError> {
        super::font::register()?;
        let mut svg = String::new();
        let root = SVGBackend::with_string(&mut svg, self.size()).into_drawing_area();
        self.draw_all(&root)
    }

    /// Writes the figure to `path` as `format`; the path is used as given
    /// (see [`PlotFormat::extension`]).
    pub(crate) fn write(&self, path: &Path, format: PlotFormat) -> Result<(), PlotError> {
        super::write(self, path, format)
    }

    /// Pixels above the panels for the title line.
    fn title_height(&self) -> u32 {
        if self.title.is_empty() { 0 } else { 40 }
    }

    /// The axes the panels share.
    fn axes(&self) -> Axes {
        Axes::of(&self.panels, self.fundamental_hz, self.spectrum)
    }

    /// Draws the figure, returning what each chart drew.
    fn draw_all<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<Vec<Drawn>, PlotError> {
        root.fill(&WHITE)?;
        let body = if self.title.is_empty() {
            root.clone()
        } else {
            let (top, body) = root.split_vertically(self.title_height());
            top.draw(&Text::new(
                self.title.as_str(),
                (14, 12),
                (FAMILY, 20, FontStyle::Bold).into_font().color(&BLACK),
            ))?;
            body
        };
        let main = if self.tables.is_empty() {
            body
        } else {
            let (main, side) = body.split_horizontally(WIDTH - SIDE_WIDTH);
            tables::draw(&side, &self.tables)?;
            main
        };
        if self.panels.is_empty() && self.timeline.is_empty() {
            main.draw(&Text::new(
                "nothing to plot",
                (40, 50),
                (FAMILY, 16).into_font().color(&NOTE_COLOR),
            ))?;
            return Ok(Vec::new());
        }
        let axes = self.axes();
        let mut top = 0;
        let breaks: Vec<u32> = self
            .panels
            .iter()
            .map(|p| {
                top += panel::height(p, &axes);
                top
            })
            .collect();
        let areas = main.split_by_breakpoints([0u32; 0], breaks);
        let mut drawn = Vec::new();
        for (k, (p, area)) in self.panels.iter().zip(&areas).enumerate() {
            drawn.extend(panel::draw(area, p, k, &axes)?);
        }
        let below = areas.get(self.panels.len());
        if let Some(area) = below.filter(|_| !self.timeline.is_empty()) {
            timeline::draw(area, &self.timeline)?;
        }
        Ok(drawn)
    }
}

/// For each of `kept` (the input first), the name of the trace whose samples
/// it passes through unchanged, or `None` if it made samples of its own.
///
/// A step passes `other` through when both have the same samples, domain,
/// rate and start, and it measured something `other` did not (or, measuring
/// nothing new, comes after it). The input passes nothing through.
fn pass_through_sources<'n>(kept: &[(&'n str, &Trace)]) -> Vec<Option<&'n str>> {
    kept.iter()
        .enumerate()
        .map(|(k, &(_, trace))| {
            if k == 0 {
                return None;
            }
            kept.iter()
                .enumerate()
                .filter(|&(j, _)| j != k)
                .find(|&(j, &(_, other))| {
                    let adds = trace.meta().measurements.iter().any(|(key, v)| {
                        other.measurement(key).map(f64::to_bits) != Some(v.to_bits())
                    });
                    same_samples(trace, other) && (adds || j < k)
                })
                .map(|(_, &(name, _))| name)
        })
        .collect()
}

/// Whether `a` and `b` hold the same samples at the same x positions; the
/// shared buffer of a clone answers at once, others are compared bit by bit.
fn same_samples(a: &Trace, b: &Trace) -> bool {
    let (ma, mb) = (a.meta(), b.meta());
    let placed = a.len() == b.len()
        && ma.domain == mb.domain
        && ma.sample_rate.to_bits() == mb.sample_rate.to_bits()
        && ma.start.to_bits() == mb.start.to_bits();
    placed
        && (Arc::ptr_eq(a.buffer(), b.buffer())
            || a.samples()
                .iter()
                .zip(b.samples())
                .all(|(x, y)| x.to_bits() == y.to_bits()))
}

impl Picture for Figure<'_> {
    fn size(&self) -> (u32, u32) {
        let axes = self.axes();
        let panels: u32 = self.panels.iter().map(|p| panel::height(p, &axes)).sum();
        let timeline = timeline::height(&self.timeline);
        let body = (panels + timeline).max(120);
        (WIDTH, self.title_height() + body)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        self.draw_all(root).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tracekit_core::{StageRecord, TraceMeta};

    use super::*;
    use crate::plot::{
        labels::Rect,
        style::{LABEL_BOX_COLOR, MARKER_COLOR, REFERENCE_COLOR, panel_color},
        tests_xml::{Svg, texts},
    };

    fn sine(n: usize, rate: f64, hz: f64) -> Trace {
        let samples = (0..n)
            .map(|i| {
                let t = i as f64 / rate;
                (std::f64::consts::TAU * hz * t).sin()
                    + 0.1 * (std::f64::consts::TAU * 3.0 * hz * t).sin()
            })
            .collect();
        let mut meta = TraceMeta::new(rate);
        meta.channel = "CH1".to_owned();
        meta.units = "V".to_owned();
        Trace::with_meta(samples, meta).unwrap()
    }

    /// 0..500 kHz in 1 kHz points, in dB, a peak at 10 kHz.
    fn spectrum() -> Trace {
        let mut meta = TraceMeta::new(1.0 / 1000.0);
        meta.domain = Domain::Frequency;
        meta.units = "dB".to_owned();
        meta.channel = "CH1".to_owned();
        let samples = (0..501)
            .map(|i| if i == 10 { 0.0 } else { -90.0 - (i % 7) as f64 })
            .collect();
        Trace::with_meta(samples, meta).unwrap()
    }

    /// The rules of every chart's layout: labels inside the plot area, no
    /// two label boxes overlapping, no label under the trace's band.
    fn assert_layout(drawn: &[Drawn]) {
        for (c, d) in drawn.iter().enumerate() {
            let boxes: Vec<Rect> = d.labels.iter().filter_map(|l| l.2).collect();
            for (i, b) in boxes.iter().enumerate() {
                assert!(
                    d.plot.contains(b),
                    "chart {c}: label {b:?} outside {:?}",
                    d.plot
                );
                for o in &boxes[i + 1..] {
                    assert!(!b.overlaps(o, 0), "chart {c}: {b:?} overlaps {o:?}");
                }
            }
        }
    }

    #[test]
    fn stacked_panels_with_titles_axes_and_measurements() {
        let input = sine(2048, 1e6, 10e3);
        let low = input.derive(input.samples().iter().map(|x| x * 0.5).collect());
        let spec = spectrum();
        let figure = Figure::new([
            Panel::new("input", &input),
            Panel::new("lowpass", &low).with_reference("input", &input),
            Panel::new("fft", &spec)
                .with_marker(10e3, "f0")
                .with_marker(20e3, "H2"),
        ])
        .with_measurements([("thd_db", -40.5), ("snr_db", 60.25)]);
        let svg = figure.to_svg().unwrap();
        let doc = Svg::parse(&svg);
        let texts = texts(&doc);
        for expected in [
            "input — CH1 [V]",
            "· 2,048 samples at 1 MS/s · all of 0.0 to 2.0 ms",
            "lowpass — CH1 [V]",
            "fft — CH1 [dB]",
            "Time (ms)",
            "Amplitude (V)",
            "Frequency (log scale)",
            "Magnitude (dB)",
            "10 kHz",
            "100 kHz",
            "Measurements",
            "thd_db",
            "-40.5",
            "60.25",
            "f0",
            "H2",
        ] {
            assert!(
                texts.iter().any(|t| t == expected),
                "no text {expected:?} in {texts:?}"
            );
        }
        // One trace line per panel, the input again beneath lowpass, and
        // lowpass minus the input in its strip; the legend's swatches.
        assert_eq!(doc.count_stroked(panel_color(0)), 1, "input");
        assert_eq!(
            doc.count_stroked(panel_color(1)),
            3,
            "lowpass, its difference, its swatch"
        );
        assert_eq!(doc.count_stroked(panel_color(2)), 1, "fft");
        assert_eq!(
            doc.count_stroked(REFERENCE_COLOR),
            2,
            "input beneath lowpass, its swatch"
        );
        assert_eq!(
            doc.count_filled_rects(LABEL_BOX_COLOR),
            2,
            "two label boxes"
        );
        assert_layout(&figure.layout().unwrap());
    }

    #[test]
    fn a_long_capture_is_shown_through_a_window_of_five_periods() {
        let input = sine(1 << 20, 1e6, 10e3);
        let figure = Figure::new([Panel::new("input", &input)]);
        let axes = figure.axes();
        let time = axes.time.unwrap();
        assert_eq!(time.window.hz.map(f64::round), Some(10e3));
        let (lo, hi) = time.shown.span();
        assert!(((hi - lo) - 5e-4).abs() < 1e-9, "{lo} {hi}");
        let svg = figure.to_svg().unwrap();
        let texts = texts(&Svg::parse(&svg));
        let note = texts.iter().find(|t| t.contains("shown:")).unwrap();
        assert!(note.contains("5 periods of 10 kHz, of 1.049 s"), "{note}");
        assert!(
            texts.iter().any(|t| t.starts_with("the whole trace")),
            "an overview strip: {texts:?}"
        );
        // The output does not grow with the capture: the window's 501
        // samples and four points per pixel column of the overview.
        assert!(svg.len() < 200_000, "{} bytes", svg.len());
    }

    #[test]
    fn linear_spectra_on_request() {
        let spec = spectrum();
        let figure =
            Figure::new([Panel::new("fft", &spec)]).with_spectrum_scale(SpectrumScale::Linear);
        let texts = texts(&Svg::parse(&figure.to_svg().unwrap()));
        assert!(texts.contains(&"Frequency (kHz)".to_owned()), "{texts:?}");
        assert!(!texts.iter().any(|t| t.contains("log")), "{texts:?}");
    }

    #[test]
    fn power_and_amplitude_spectra_are_converted_to_db() {
        let mut meta = TraceMeta::new(1.0 / 10.0);
        meta.domain = Domain::Frequency;
        meta.units = "V^2/Hz".to_owned();
        let psd = Trace::with_meta(vec![1.0, 1e-3, 1e-6, 0.0, 1e-4], meta.clone()).unwrap();
        meta.units = "V".to_owned();
        let amp = Trace::with_meta(vec![1.0, 0.1, 0.01, 0.0, 1.0], meta).unwrap();
        let figure = Figure::new([Panel::new("psd", &psd), Panel::new("amp", &amp)]);
        let texts = texts(&Svg::parse(&figure.to_svg().unwrap()));
        for expected in [
            "PSD (dB re 1 V^2/Hz)",
            "Magnitude (dB re 1 V)",
            "-60",
            "-40",
        ] {
            assert!(
                texts.iter().any(|t| t == expected),
                "no {expected:?}: {texts:?}"
            );
        }
        let axes = figure.axes();
        let (lo, hi) = axes.frequency.unwrap().x.span();
        assert!(
            (lo - 10.0).abs() < 1e-9 && (hi - 40.0).abs() < 1e-9,
            "DC left out: {lo} {hi}"
        );
    }

    #[test]
    fn crowded_harmonics_keep_the_layout_rules() {
        // 1 Hz points to 500 kHz: the harmonics of 10 kHz crowd on a log axis.
        let mut meta = TraceMeta::new(1.0);
        meta.domain = Domain::Frequency;
        meta.units = "dB".to_owned();
        let spec = Trace::with_meta(vec![-100.0; 500_001], meta).unwrap();
        for f0 in [10e3, 1.0, 123.0, 200e3, 499e3] {
            let figure = Figure::new([Panel::new("fft", &spec).with_harmonics(f0, 30)]);
            let drawn = figure.layout().unwrap();
            assert_layout(&drawn);
            let placed = drawn[0].labels.iter().filter(|l| l.2.is_some()).count();
            assert!(placed >= 1, "f0 {f0}: the fundamental has room");
            let svg = figure.to_svg().unwrap();
            let texts = texts(&Svg::parse(&svg));
            if placed < drawn[0].labels.len() {
                assert!(
                    texts.iter().any(|t| t.starts_with("no room to label")),
                    "f0 {f0}: the dropped labels are listed: {texts:?}"
                );
            }
        }
    }

    #[test]
    fn empty_nan_and_degenerate_traces() {
        let huge = Trace::new(vec![f64::MAX, -f64::MAX], 1e-300).unwrap();
        let empty = Trace::new(vec![], 1.0).unwrap();
        let nan = Trace::new(vec![f64::NAN; 5], 1.0).unwrap();
        let svg = Figure::new([
            Panel::new("huge", &huge),
            Panel::new("empty", &empty),
            Panel::new("nan", &nan).with_reference("empty", &empty),
        ])
        .to_svg()
        .unwrap();
        assert!(texts(&Svg::parse(&svg)).contains(&"no samples".to_owned()));
        let svg = Figure::default().to_svg().unwrap();
        assert!(texts(&Svg::parse(&svg)).contains(&"nothing to plot".to_owned()));
        let mut meta = TraceMeta::new(1.0);
        meta.domain = Domain::Frequency;
        let dc_only = Trace::with_meta(vec![1.0], meta.clone()).unwrap();
        meta.start = -2.0;
        let two_sided = Trace::with_meta(vec![1.0, 2.0, 3.0, 4.0, 5.0], meta).unwrap();
        for t in [&dc_only, &two_sided] {
            let figure = Figure::new([Panel::new("f", t).with_harmonics(1.0, 3)]);
            Svg::parse(&figure.to_svg().unwrap());
            assert_layout(&figure.layout().unwrap());
        }
    }

    #[test]
    fn a_gap_leaves_a_lone_point_as_a_dot() {
        let t = Trace::new(vec![1.0, 2.0, f64::NAN, 3.0, f64::INFINITY, 4.0, 5.0], 1e3).unwrap();
        let svg = Figure::new([Panel::new("gappy", &t)]).to_svg().unwrap();
        let doc = Svg::parse(&svg);
        assert_eq!(doc.count_tag("circle"), 1, "the lone point");
        assert_eq!(doc.count_stroked(panel_color(0)), 2, "two lines around it");
    }

    #[test]
    fn figure_of_a_run_shows_input_kept_steps_tables_and_harmonics() {
        use tracekit_core::{Pipeline, StageError, Step, Transformer};

        /// A fake spectrum: 0..50 kHz in 1 kHz points, with a measurement.
        #[derive(Clone)]
        struct Spectrum;
        impl Transformer for Spectrum {
            fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
                let mut meta = i[0].meta().clone();
                meta.domain = Domain::Frequency;
                meta.sample_rate = 1e-3;
                meta.units = "dB".to_owned();
                let t = Trace::with_meta(vec![-100.0; 51], meta)?;
                Ok(t.with_measurement("fundamental_hz", 10e3)
                    .with_measurement("mean", 1.0))
            }
        }
        /// Measures without touching the samples, as `stats` does.
        #[derive(Clone)]
        struct Mean(f64);
        impl Transformer for Mean {
            fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
                Ok(i[0].clone().with_measurement("mean", self.0))
            }
        }
        /// Measures on a copy of the samples, as another process would.
        #[derive(Clone)]
        struct Copied;
        impl Transformer for Copied {
            fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
                Ok(i[0]
                    .derive(i[0].samples().to_vec())
                    .with_measurement("peak", 1.1))
            }
        }
        #[derive(Clone)]
        struct Half;
        impl Transformer for Half {
            fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
                Ok(i[0].derive(i[0].samples().iter().map(|x| x / 2.0).collect()))
            }
        }
        let p = Pipeline::new([
            Step::new("fft", Spectrum).input(INPUT),
            Step::new("same", Mean(1.0)).input(INPUT),
            Step::new("other", Mean(2.0)).input(INPUT),
            Step::new("half", Half).input(INPUT),
            Step::new("copied", Copied).input("half"),
        ])
        .unwrap();
        let input = sine(1000, 1e6, 10e3);
        let run = p.run(&input).unwrap();
        let figure = Figure::of_run(&input, &run);
        let titles: Vec<&str> = figure.panels.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(
            titles,
            ["input", "fft", "half"],
            "measurements are no panels"
        );
        let table = |title: &str, note: &str, rows: &[(&str, f64)]| Table {
            note: note.to_owned(),
            ..Table::new(title, rows.iter().copied())
        };
        let unchanged = |of: &str| format!("measured {of}; samples unchanged");
        assert_eq!(
            figure.tables,
            [
                table("fft", "", &[("fundamental_hz", 10e3), ("mean", 1.0)]),
                table("same", &unchanged("input"), &[]),
                table("other", &unchanged("input"), &[("mean", 2.0)]),
                table("copied", &unchanged("half"), &[("peak", 1.1)]),
            ]
        );
        let fft = &figure.panels[1];
        let labels: Vec<&str> = fft.markers.iter().map(|m| m.1.as_str()).collect();
        assert_eq!(
            labels,
            ["f0 10 kHz", "H2", "H3", "H4", "H5"],
            "H6 is past 50 kHz"
        );
        assert!(figure.panels[0].markers.is_empty(), "time panels get none");
        assert!(figure.panels[0].reference.is_none());
        assert_eq!(
            figure.panels[2].reference.as_ref().map(|r| r.0.as_str()),
            Some(INPUT)
        );
        assert_eq!(figure.fundamental_hz, Some(10e3));
        let svg = figure.to_svg().unwrap();
        let texts = texts(&Svg::parse(&svg));
        assert!(
            texts.contains(&"measured half; samples unchanged".to_owned()),
            "{texts:?}"
        );
        assert_layout(&figure.layout().unwrap());
        // Only the steps asked for get panels; every table stays.
        let figure = Figure::of_steps(&input, &run, &["other"]);
        assert_eq!(figure.panels.len(), 1);
        assert_eq!(figure.tables.len(), 4);
    }

    #[test]
    fn hostile_axes_still_draw() {
        let cases = [
            (5e-324, 0.0),
            (1e-300, 0.0),
            (1.0, 1e308),
            (1.0, -1e308),
            (1e300, 0.0),
            (1e6, 1e15),
            (1e-3, f64::NAN),
        ];
        for (rate, start) in cases {
            let mut meta = TraceMeta::new(rate);
            meta.start = start;
            let t = Trace::with_meta(vec![0.0, 1.0, -1.0, 0.5], meta.clone()).unwrap();
            meta.domain = Domain::Frequency;
            let f = Trace::with_meta(vec![1.0, 2.0], meta).unwrap();
            let figure = Figure::new([
                Panel::new("t", &t).with_marker(start, "m"),
                Panel::new("f", &f).with_harmonics(rate, 3),
            ]);
            let svg = figure
                .to_svg()
                .unwrap_or_else(|e| panic!("rate {rate} start {start}: {e}"));
            Svg::parse(&svg);
            assert_layout(&figure.layout().unwrap());
        }
    }

    #[test]
    fn titles_are_escaped_and_long_lists_cut() {
        let t = Trace::new(vec![0.0, 1.0], 1.0).unwrap();
        let many: Vec<(String, f64)> = (0..100).map(|i| (format!("m{i}"), i as f64)).collect();
        let svg = Figure::new([Panel::new("a<b & \"c\"", &t)])
            .with_title("run <1>")
            .with_measurements(many)
            .to_svg()
            .unwrap();
        let texts = texts(&Svg::parse(&svg));
        assert!(texts.contains(&"run <1>".to_owned()));
        assert!(texts.iter().any(|s| s.starts_with("a<b & \"c\"")));
        assert!(
            texts
                .iter()
                .any(|s| s.starts_with("… and ") && s.ends_with(" more")),
            "{texts:?}"
        );
    }

    #[test]
    fn figure_with_timeline_below_panels() {
        let t = sine(1000, 1e3, 5.0);
        let rec = |start_us, dur_us, worker| StageRecord {
            start: Duration::from_micros(start_us),
            duration: Duration::from_micros(dur_us),
            worker,
        };
        let lane = Lane::new("thread", [("a", rec(0, 400, 1)), ("b", rec(10, 300, 2))]);
        let svg = Figure::new([Panel::new("input", &t)])
            .with_timeline([lane])
            .to_svg()
            .unwrap();
        let doc = Svg::parse(&svg);
        let texts = texts(&doc);
        assert!(texts.contains(&"Stage timeline".to_owned()), "{texts:?}");
        assert!(texts.contains(&"input — CH1 [V]".to_owned()));
        let figure = Figure::new([Panel::new("input", &t)]);
        let (_, h) = figure.size();
        assert_eq!(h, panel::height(&figure.panels[0], &figure.axes()));
        assert!(doc.height() > h);
        assert_eq!(doc.count_stroked(MARKER_COLOR), 0);
    }

    #[test]
    fn writes_png_with_the_bundled_font() {
        let t = sine(1 << 16, 1e6, 10e3);
        let dir = std::env::temp_dir().join(format!("tracekit-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.png");
        Figure::new([Panel::new("input", &t)])
            .with_measurements([("rms", 0.707)])
            .write(&path, PlotFormat::Png)
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(bytes.len() > 10_000, "{} bytes", bytes.len());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
