//! A figure: traces as stacked panels over shared axes, an optional stage
//! timeline below them, and the measurements in a side box.

use std::{mem, path::Path};

use plotters::{
    coord::Shift,
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};
use tracekit_core::{Domain, INPUT, Run, Trace};

use super::{
    Picture, PlotError, PlotFormat,
    axis::{self, XAxis},
    decimate::{column_bounds, finite_range, minmax_columns},
    font::FAMILY,
    timeline::{self, Lane},
};

/// Width of every figure, side box included.
const WIDTH: u32 = 1200;
/// Width of the measurement box, when there are measurements.
const SIDE_WIDTH: u32 = 250;
/// Height of one trace panel.
const PANEL_HEIGHT: u32 = 210;
/// How far below its peak a dB trace is drawn; anything lower sits on the floor.
const DB_RANGE: f64 = 200.0;

pub(super) const TRACE_COLOR: RGBColor = RGBColor(31, 119, 180);
pub(super) const MARKER_COLOR: RGBColor = RGBColor(214, 39, 40);
pub(super) const GRID_COLOR: RGBColor = RGBColor(232, 232, 232);
pub(super) const FRAME_COLOR: RGBColor = RGBColor(150, 150, 150);

/// One trace in its own panel: a title (the step name, say) and markers.
#[derive(Debug, Clone)]
pub(crate) struct Panel<'a> {
    /// What the panel shows, such as `"input"` or `"lowpass"`; the trace's
    /// channel and units are added to it.
    pub(crate) title: String,
    /// The trace. Its domain picks the x axis: time (s, ms, µs...) or
    /// frequency (Hz, kHz, MHz...), x = start + i / sample_rate.
    pub(crate) trace: &'a Trace,
    /// Vertical markers at x positions in s or Hz (axis base units) with a
    /// label each, such as the fundamental and harmonics of a spectrum.
    pub(crate) markers: Vec<(f64, String)>,
}

impl<'a> Panel<'a> {
    /// A panel of `trace` titled `title`, without markers.
    pub(crate) fn new(title: impl Into<String>, trace: &'a Trace) -> Panel<'a> {
        Panel {
            title: title.into(),
            trace,
            markers: Vec::new(),
        }
    }

    /// This panel with one more marker at `x` (s or Hz).
    #[cfg(test)]
    pub(crate) fn with_marker(mut self, x: f64, label: impl Into<String>) -> Panel<'a> {
        self.markers.push((x, label.into()));
        self
    }

    /// This panel with markers at the fundamental `f0` (Hz), labelled with
    /// its frequency, and at its harmonics 2 to `count + 1` that lie within
    /// the trace (`H2`, `H3`...). A fundamental that is not a positive
    /// number adds nothing.
    pub(crate) fn with_harmonics(mut self, f0: f64, count: usize) -> Panel<'a> {
        if !(f0.is_finite() && f0 > 0.0) {
            return self;
        }
        let unit = axis::unit_for(Domain::Frequency, f0);
        let label = format!("f0 {} {}", axis::number(f0 / unit.scale), unit.name);
        self.markers.push((f0, label));
        let end = axis::x_extent(self.trace).1;
        for h in 2..=count.saturating_add(1) {
            let f = h as f64 * f0;
            if f > end {
                break;
            }
            self.markers.push((f, format!("H{h}")));
        }
        self
    }

    /// The title drawn above the panel: title, channel, units, length.
    fn caption(&self) -> String {
        let meta = self.trace.meta();
        let mut caption = self.title.clone();
        if !meta.channel.is_empty() {
            caption.push_str(" — ");
            caption.push_str(&meta.channel);
        }
        if !meta.units.is_empty() {
            caption.push_str(&format!(" [{}]", meta.units));
        }
        let what = match meta.domain {
            Domain::Time => "samples",
            Domain::Frequency => "points",
        };
        caption.push_str(&format!(" · {} {what}", self.trace.len()));
        caption
    }
}

/// A whole picture: stacked trace panels, then an optional stage timeline,
/// with the measurements listed in a box on the right.
///
/// Panels of the same domain share one x range and unit, so that the input
/// and the steps derived from it line up. Long traces are drawn from their
/// min/max per pixel column ([`super::decimate::minmax_columns`]).
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
    /// Named values listed in the side box; no box if empty.
    pub(crate) measurements: Vec<(String, f64)>,
    /// Executors whose stages are drawn as a timeline below the panels;
    /// no timeline if empty.
    pub(crate) timeline: Vec<Lane>,
}

impl<'a> Figure<'a> {
    /// A figure of these panels, without title, measurements or timeline.
    pub(crate) fn new(panels: impl IntoIterator<Item = Panel<'a>>) -> Figure<'a> {
        Figure {
            panels: panels.into_iter().collect(),
            ..Figure::default()
        }
    }

    /// The input and every step `run` kept (declaration order), with the
    /// measurements of all of them in the side box. Where a step recorded a
    /// `fundamental_hz`, frequency-domain panels mark it and 5 harmonics.
    ///
    /// A measurement that several steps carry with one value (measurements
    /// travel downstream with the metadata) is listed once; one that changes
    /// value is listed again as `step.name`.
    #[cfg(test)]
    pub(crate) fn of_run(input: &'a Trace, run: &'a Run) -> Figure<'a> {
        Figure::of_steps(input, run, &run.kept_steps())
    }

    /// Like `Figure::of_run` (every kept step), with panels for the input and `shown` only
    /// (steps the run did not keep are left out); the side box and the
    /// harmonic markers still use the measurements of every kept step.
    pub(crate) fn of_steps(input: &'a Trace, run: &'a Run, shown: &[&str]) -> Figure<'a> {
        let all: Vec<(&str, &Trace)> = std::iter::once((INPUT, input))
            .chain(
                run.kept_steps()
                    .into_iter()
                    .filter_map(|s| Some((s, run.get(s)?))),
            )
            .collect();
        let measurements = merged_measurements(&all);
        let steps: Vec<(&str, &Trace)> = std::iter::once((INPUT, input))
            .chain(shown.iter().filter_map(|&s| Some((s, run.get(s)?))))
            .collect();
        let f0 = measurements
            .iter()
            .find(|(name, _)| name == "fundamental_hz")
            .map(|m| m.1);
        let panels = steps.into_iter().map(|(step, trace)| {
            let panel = Panel::new(step, trace);
            match f0 {
                Some(f0) if trace.meta().domain == Domain::Frequency => panel.with_harmonics(f0, 5),
                _ => panel,
            }
        });
        Figure::new(panels).with_measurements(measurements)
    }

    /// This figure with a title line.
    pub(crate) fn with_title(mut self, title: impl Into<String>) -> Figure<'a> {
        self.title = title.into();
        self
    }

    /// This figure with these measurements in its side box, in this order.
    pub(crate) fn with_measurements<K: Into<String>>(
        mut self,
        measurements: impl IntoIterator<Item = (K, f64)>,
    ) -> Figure<'a> {
        self.measurements = measurements
            .into_iter()
            .map(|(k, v)| (k.into(), v))
            .collect();
        self
    }

    /// This figure with a stage timeline of these executors below the panels.
    pub(crate) fn with_timeline(mut self, lanes: impl IntoIterator<Item = Lane>) -> Figure<'a> {
        self.timeline = lanes.into_iter().collect();
        self
    }

    /// The figure as an SVG document.
    #[cfg(test)]
    pub(crate) fn to_svg(&self) -> Result<String, PlotError> {
        super::to_svg(self)
    }

    /// Writes the figure to `path` as `format`; the path is used as given
    /// (see [`PlotFormat::extension`]).
    pub(crate) fn write(&self, path: &Path, format: PlotFormat) -> Result<(), PlotError> {
        super::write(self, path, format)
    }

    fn title_height(&self) -> u32 {
        if self.title.is_empty() { 0 } else { 40 }
    }
}

/// The measurements of `steps`, each (name, value) once; see [`Figure::of_steps`].
fn merged_measurements(steps: &[(&str, &Trace)]) -> Vec<(String, f64)> {
    let mut merged: Vec<(String, f64)> = Vec::new();
    for (step, trace) in steps {
        for (name, &value) in &trace.meta().measurements {
            match merged.iter().find(|(seen, _)| seen == name) {
                Some((_, v)) if v.to_bits() == value.to_bits() => {}
                Some(_) => merged.push((format!("{step}.{name}"), value)),
                None => merged.push((name.clone(), value)),
            }
        }
    }
    merged
}

/// Traces as stacked panels with the measurements beside them, as SVG.
#[cfg(test)]
pub(crate) fn traces_svg(
    panels: &[Panel<'_>],
    measurements: &[(String, f64)],
) -> Result<String, PlotError> {
    Figure::new(panels.iter().cloned())
        .with_measurements(measurements.iter().cloned())
        .to_svg()
}

impl Picture for Figure<'_> {
    fn size(&self) -> (u32, u32) {
        let panels = PANEL_HEIGHT * self.panels.len() as u32;
        let timeline = timeline::height(&self.timeline);
        let body = (panels + timeline).max(120);
        (WIDTH, self.title_height() + body)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
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
        let main = if self.measurements.is_empty() {
            body
        } else {
            let (main, side) = body.split_horizontally(WIDTH - SIDE_WIDTH);
            draw_side_box(&side, &self.measurements)?;
            main
        };
        if self.panels.is_empty() && self.timeline.is_empty() {
            main.draw(&Text::new(
                "nothing to plot",
                (40, 50),
                (FAMILY, 16).into_font().color(&FRAME_COLOR),
            ))?;
            return Ok(());
        }
        let breaks: Vec<u32> = (1..=self.panels.len() as u32)
            .map(|k| k * PANEL_HEIGHT)
            .collect();
        let areas = main.split_by_breakpoints([0u32; 0], breaks);
        let traces = self.panels.iter().map(|p| p.trace);
        let time = XAxis::spanning(Domain::Time, traces.clone());
        let frequency = XAxis::spanning(Domain::Frequency, traces);
        for (panel, area) in self.panels.iter().zip(&areas) {
            let x = match panel.trace.meta().domain {
                Domain::Time => time,
                Domain::Frequency => frequency,
            };
            if let Some(x) = x {
                draw_panel(area, panel, &x)?;
            }
        }
        let below = areas.get(self.panels.len());
        if let Some(area) = below.filter(|_| !self.timeline.is_empty()) {
            timeline::draw(area, &self.timeline)?;
        }
        Ok(())
    }
}

/// The y range of a trace: its finite extremes, padded; a dB trace reaches
/// at most [`DB_RANGE`] below its peak.
fn y_range(trace: &Trace) -> (f64, f64) {
    let (lo, hi) = finite_range(trace.samples()).unwrap_or((-1.0, 1.0));
    // Keep the span finite even for values near f64::MAX.
    let (mut lo, hi) = (lo.max(-1e300), hi.min(1e300));
    if trace.meta().units == "dB" {
        lo = lo.max(hi - DB_RANGE);
    }
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.06
    } else if hi != 0.0 {
        hi.abs() * 0.1
    } else {
        1.0
    };
    (lo - pad, hi + pad)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel<'_>,
    x: &XAxis,
) -> Result<(), PlotError> {
    let trace = panel.trace;
    let (ylo, yhi) = y_range(trace);
    let mut chart = ChartBuilder::on(area)
        .caption(panel.caption(), (FAMILY, 15))
        .margin(6)
        .margin_right(18)
        .x_label_area_size(36)
        .y_label_area_size(74)
        .build_cartesian_2d(x.lo..x.hi, ylo..yhi)?;
    chart
        .configure_mesh()
        .x_desc(x.label())
        .y_desc(axis::y_label(trace))
        .x_labels(10)
        .y_labels(5)
        .x_label_formatter(&|v| axis::number(*v))
        .y_label_formatter(&|v| axis::number(*v))
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 13))
        .max_light_lines(0)
        .bold_line_style(GRID_COLOR)
        .axis_style(FRAME_COLOR)
        .draw()?;

    if trace.is_empty() {
        let middle = ((x.lo + x.hi) / 2.0, (ylo + yhi) / 2.0);
        chart.draw_series([Text::new(
            "no samples",
            middle,
            (FAMILY, 14)
                .into_font()
                .color(&FRAME_COLOR)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        )])?;
    }

    let columns = chart.plotting_area().dim_in_pixel().0.max(1) as usize;
    let segments = trace_segments(trace, x, columns, (ylo, yhi));
    let style = TRACE_COLOR.stroke_width(1);
    chart.draw_series(
        segments
            .iter()
            .filter(|s| s.len() > 1)
            .map(|s| PathElement::new(s.clone(), style)),
    )?;
    // A lone point between gaps would vanish as a path.
    chart.draw_series(
        segments
            .iter()
            .filter(|s| s.len() == 1)
            .map(|s| Circle::new(s[0], 2, TRACE_COLOR.filled())),
    )?;

    let label_style = (FAMILY, 12).into_font().color(&MARKER_COLOR);
    let mut markers: Vec<(f64, &str)> = panel
        .markers
        .iter()
        .map(|(at, label)| (at / x.unit.scale, label.as_str()))
        .filter(|(xm, _)| (x.lo..=x.hi).contains(xm))
        .collect();
    markers.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Labels that would overlap the one before go one line lower.
    let mut line_ends: Vec<i32> = Vec::new();
    for (xm, label) in markers {
        chart.draw_series([PathElement::new(
            vec![(xm, ylo), (xm, yhi)],
            MARKER_COLOR.mix(0.7).stroke_width(1),
        )])?;
        let left = chart.backend_coord(&(xm, yhi)).0 + 4;
        let (w, h) = chart
            .plotting_area()
            .estimate_text_size(label, &label_style)?;
        let line = match line_ends.iter().position(|&end| left > end + 6) {
            Some(line) => line,
            None => {
                line_ends.push(i32::MIN);
                line_ends.len() - 1
            }
        };
        line_ends[line] = left + w as i32;
        let dy = 3 + line as i32 * (h as i32 + 3);
        chart
            .draw_series([EmptyElement::at((xm, yhi))
                + Text::new(label.to_owned(), (4, dy), label_style.clone())])?;
    }
    Ok(())
}

/// The polylines that draw `trace` on `columns` pixel columns, in display
/// units, split where samples are not finite.
///
/// Up to two samples per column are drawn as they are; longer traces are
/// drawn from each column's min and max, so no peak is lost.
fn trace_segments(
    trace: &Trace,
    x: &XAxis,
    columns: usize,
    (ylo, yhi): (f64, f64),
) -> Vec<Vec<(f64, f64)>> {
    let samples = trace.samples();
    let n = samples.len();
    let (start, step) = axis::x_step(trace);
    let (start, dx) = (start / x.unit.scale, step / x.unit.scale);
    let mut segments = Vec::new();
    let mut current = Vec::new();
    let mut push = |point: Option<(f64, f64)>| match point {
        Some((px, py)) => current.push((px, py.clamp(ylo, yhi))),
        None if !current.is_empty() => segments.push(mem::take(&mut current)),
        None => {}
    };
    if n <= 2 * columns {
        for (i, &y) in samples.iter().enumerate() {
            push(y.is_finite().then_some((start + i as f64 * dx, y)));
        }
    } else {
        for (c, (lo, hi)) in minmax_columns(samples, columns).into_iter().enumerate() {
            let (first, end) = column_bounds(n, columns, c);
            let xc = start + (first + end - 1) as f64 / 2.0 * dx;
            if lo.is_nan() {
                push(None);
            } else {
                push(Some((xc, lo)));
                push(Some((xc, hi)));
            }
        }
    }
    push(None);
    segments
}

fn draw_side_box<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    measurements: &[(String, f64)],
) -> Result<(), PlotError> {
    const LINE: i32 = 19;
    const TOP: i32 = 40;
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let fits = ((h - TOP - 20) / LINE).max(1) as usize;
    let shown = if measurements.len() > fits {
        fits - 1
    } else {
        measurements.len()
    };
    let bottom = TOP + LINE * (shown + usize::from(shown < measurements.len())) as i32 + 8;
    area.draw(&Rectangle::new(
        [(4, 8), (w - 10, bottom)],
        ShapeStyle::from(&FRAME_COLOR).stroke_width(1),
    ))?;
    area.draw(&Text::new(
        "Measurements",
        (16, 16),
        (FAMILY, 15, FontStyle::Bold).into_font().color(&BLACK),
    ))?;
    let style = (FAMILY, 13).into_font().color(&BLACK);
    for (i, (name, value)) in measurements.iter().take(shown).enumerate() {
        let line = format!("{} = {}", shorten(name, 24), axis::number(*value));
        area.draw(&Text::new(line, (16, TOP + LINE * i as i32), style.clone()))?;
    }
    if shown < measurements.len() {
        let more = format!("… and {} more", measurements.len() - shown);
        area.draw(&Text::new(more, (16, TOP + LINE * shown as i32), style))?;
    }
    Ok(())
}

/// `text` cut to `max` characters, the last one an ellipsis if cut.
pub(super) fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tracekit_core::{StageRecord, TraceMeta};

    use super::*;
    use crate::plot::tests_xml::{Svg, texts};

    fn sine(n: usize, rate: f64, hz: f64) -> Trace {
        let samples = (0..n)
            .map(|i| (std::f64::consts::TAU * hz * i as f64 / rate).sin())
            .collect();
        let mut meta = TraceMeta::new(rate);
        meta.channel = "CH1".to_owned();
        meta.units = "V".to_owned();
        Trace::with_meta(samples, meta).unwrap()
    }

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

    #[test]
    fn stacked_panels_with_titles_axes_and_measurements() {
        let input = sine(4096, 1e6, 10e3);
        let low = input.derive(input.samples().iter().map(|x| x * 0.5).collect());
        let spec = spectrum();
        let panels = [
            Panel::new("input", &input),
            Panel::new("lowpass", &low),
            Panel::new("fft", &spec)
                .with_marker(10e3, "f0")
                .with_marker(20e3, "H2"),
        ];
        let svg = traces_svg(
            &panels,
            &[("thd_db".to_owned(), -40.5), ("snr_db".to_owned(), 60.25)],
        )
        .unwrap();
        let doc = Svg::parse(&svg);
        let texts = texts(&doc);
        for expected in [
            "input — CH1 [V] · 4096 samples",
            "lowpass — CH1 [V] · 4096 samples",
            "fft — CH1 [dB] · 501 points",
            "Time (ms)",
            "Amplitude (V)",
            "Frequency (kHz)",
            "Magnitude (dB)",
            "Measurements",
            "thd_db = -40.5",
            "snr_db = 60.25",
            "f0",
            "H2",
        ] {
            assert!(
                texts.iter().any(|t| t == expected),
                "no text {expected:?} in {texts:?}"
            );
        }
        // Both time panels share one axis: the same tick labels twice.
        assert_eq!(texts.iter().filter(|t| *t == "Time (ms)").count(), 2);
        assert_eq!(
            texts.iter().filter(|t| *t == "4.095" || *t == "4").count(),
            2
        );
        // One trace polyline per panel plus two marker lines.
        let blue = doc.count_stroked(TRACE_COLOR);
        assert_eq!(blue, 3, "trace polylines");
        assert_eq!(doc.count_stroked(MARKER_COLOR), 2, "marker lines");
    }

    #[test]
    fn long_trace_is_decimated_but_keeps_its_spike() {
        let mut samples = vec![0.0; 1 << 20];
        samples[777_777] = 5.0;
        let t = Trace::new(samples, 1e6).unwrap();
        let x = XAxis::spanning(Domain::Time, [&t]).unwrap();
        let range = y_range(&t);
        assert!(range.0 < 0.0 && range.1 > 5.0);
        let segments = trace_segments(&t, &x, 900, range);
        assert_eq!(segments.len(), 1);
        assert_eq!(segments[0].len(), 1800, "two points per column");
        assert!(segments[0].iter().any(|p| p.1 == 5.0));
        // The spike's column sits at its time.
        let (sx, _) = segments[0].iter().find(|p| p.1 == 5.0).unwrap();
        assert!((sx - 0.777_777).abs() < 1.2e-3, "{sx}");
    }

    #[test]
    fn short_trace_is_drawn_as_is_with_gaps() {
        let t = Trace::new(vec![1.0, 2.0, f64::NAN, 3.0, f64::INFINITY, 4.0, 5.0], 1e3).unwrap();
        let x = XAxis::spanning(Domain::Time, [&t]).unwrap();
        let segments = trace_segments(&t, &x, 100, y_range(&t));
        let ys: Vec<Vec<f64>> = segments
            .iter()
            .map(|s| s.iter().map(|p| p.1).collect())
            .collect();
        assert_eq!(ys, vec![vec![1.0, 2.0], vec![3.0], vec![4.0, 5.0]]);
        assert_eq!(segments[2][0].0, 5.0, "x in ms");
        let svg = Figure::new([Panel::new("gappy", &t)]).to_svg().unwrap();
        assert_eq!(Svg::parse(&svg).count_tag("circle"), 1, "the lone point");
    }

    #[test]
    fn db_floor_and_degenerate_traces() {
        let mut meta = TraceMeta::new(1.0);
        meta.units = "dB".to_owned();
        let db = Trace::with_meta(vec![0.0, -1000.0, f64::NEG_INFINITY], meta).unwrap();
        let (lo, hi) = y_range(&db);
        assert!(
            lo > -DB_RANGE - 20.0 && lo < -DB_RANGE && hi > 0.0,
            "{lo} {hi}"
        );
        let flat = Trace::new(vec![3.0; 10], 1.0).unwrap();
        assert!(y_range(&flat).0 < 3.0 && y_range(&flat).1 > 3.0);
        let huge = Trace::new(vec![f64::MAX, -f64::MAX], 1e-300).unwrap();
        let empty = Trace::new(vec![], 1.0).unwrap();
        let nan = Trace::new(vec![f64::NAN; 5], 1.0).unwrap();
        let svg = Figure::new([
            Panel::new("huge", &huge),
            Panel::new("empty", &empty),
            Panel::new("nan", &nan),
        ])
        .to_svg()
        .unwrap();
        assert!(texts(&Svg::parse(&svg)).contains(&"no samples".to_owned()));
        let svg = Figure::default().to_svg().unwrap();
        assert!(texts(&Svg::parse(&svg)).contains(&"nothing to plot".to_owned()));
    }

    #[test]
    fn figure_of_a_run_shows_input_kept_steps_and_harmonics() {
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
        #[derive(Clone)]
        struct Mean(f64);
        impl Transformer for Mean {
            fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
                Ok(i[0].clone().with_measurement("mean", self.0))
            }
        }
        let p = Pipeline::new([
            Step::new("fft", Spectrum),
            Step::new("same", Mean(1.0)),
            Step::new("other", Mean(2.0)),
        ])
        .unwrap();
        let input = sine(1000, 1e6, 10e3);
        let run = p.run(&input).unwrap();
        let figure = Figure::of_run(&input, &run);
        let titles: Vec<&str> = figure.panels.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles[0], "input");
        assert_eq!(titles.last(), Some(&"other"));
        assert_eq!(
            figure.measurements,
            vec![
                ("fundamental_hz".to_owned(), 10e3),
                ("mean".to_owned(), 1.0),
                ("other.mean".to_owned(), 2.0)
            ]
        );
        let fft = figure.panels.iter().find(|p| p.title == "fft").unwrap();
        let labels: Vec<&str> = fft.markers.iter().map(|m| m.1.as_str()).collect();
        assert_eq!(
            labels,
            ["f0 10 kHz", "H2", "H3", "H4", "H5"],
            "H6 is past 50 kHz"
        );
        assert!(figure.panels[0].markers.is_empty(), "time panels get none");
        let svg = figure.to_svg().unwrap();
        let texts = texts(&Svg::parse(&svg));
        assert!(texts.contains(&"other.mean = 2".to_owned()), "{texts:?}");
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
            let svg = Figure::new([
                Panel::new("t", &t).with_marker(start, "m"),
                Panel::new("f", &f),
            ])
            .to_svg()
            .unwrap_or_else(|e| panic!("rate {rate} start {start}: {e}"));
            Svg::parse(&svg);
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
                .any(|s| s.starts_with("… and ") && s.ends_with(" more"))
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
        assert!(texts.contains(&"input — CH1 [V] · 1000 samples".to_owned()));
        let (_, h) = Figure::new([Panel::new("input", &t)]).size();
        assert_eq!(h, PANEL_HEIGHT);
        assert!(doc.height() > PANEL_HEIGHT);
    }

    /// The 2^24-sample timing: `cargo test --release -p tracekit-cli --
    /// --ignored --nocapture huge_trace_timing`.
    #[test]
    #[ignore = "a timing to read, in release builds"]
    fn huge_trace_timing() {
        let samples: Vec<f64> = (0..1usize << 24)
            .map(|i| (i as f64 * 0.0628).sin())
            .collect();
        let t = Trace::new(samples, 1e6).unwrap();
        let dir = std::env::temp_dir().join(format!("tracekit-plot-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for format in [PlotFormat::Svg, PlotFormat::Png] {
            let path = dir.join(format!("big.{format}"));
            let started = std::time::Instant::now();
            Figure::new([Panel::new("big", &t)])
                .write(&path, format)
                .unwrap();
            let took = started.elapsed();
            let bytes = std::fs::metadata(&path).unwrap().len();
            println!("2^24 samples to {format}: {took:?}, {bytes} bytes");
        }
        std::fs::remove_dir_all(&dir).unwrap();
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
