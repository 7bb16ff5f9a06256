//! One chart: a plot area with its y axis (from plotters), x ticks of our
//! own (linear or logarithmic), lines decimated per pixel column, an
//! optional shaded span, and marker lines whose labels are placed by
//! [`super::labels`] so that they cross nothing.

use std::ops::Range;

use plotters::{
    coord::{Shift, types::RangedCoordf64},
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};
use tracekit_core::Trace;

use super::{
    PlotError,
    axis::{self, XMap},
    decimate::{column_envelope, column_points, finite_range},
    font::FAMILY,
    labels::{self, PAD, Rect, Wanted},
    style::{
        FRAME_COLOR, GRID_COLOR, LABEL_BOX_COLOR, MARKER_COLOR, NOTE_COLOR, PLOT_FRAME_COLOR,
        WINDOW_EDGE, WINDOW_SHADE,
    },
    ticks,
};

/// How far below its peak a dB chart reaches; anything lower sits on the floor.
pub(super) const DB_RANGE: f64 = 200.0;
/// The most markers a chart draws; the rest are counted in its note.
const MAX_MARKERS: usize = 64;
/// Width of the y axis: tick labels and description.
const Y_AXIS_PX: u32 = 74;

/// How a trace's values become the chart's y.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum YScale {
    /// As they are.
    AsIs,
    /// Power to dB: 10 log10(v).
    PowerDb,
    /// Amplitude to dB: 20 log10(|v|).
    AmplitudeDb,
}

impl YScale {
    /// The chart's y for value `v`: NaN where dB has no value (below zero power).
    fn apply(self, v: f64) -> f64 {
        match self {
            YScale::AsIs => v,
            YScale::PowerDb => 10.0 * v.log10(),
            YScale::AmplitudeDb => 20.0 * v.abs().log10(),
        }
    }
}

/// What a line draws: a trace's values, or one trace minus another.
#[derive(Debug, Clone, Copy)]
pub(super) enum Values<'t> {
    /// The samples of a trace, scaled.
    Trace(&'t Trace, YScale),
    /// `a - b`, sample by sample (both of one length).
    Difference(&'t Trace, &'t Trace),
}

impl Values<'_> {
    /// The trace whose sample times place the points.
    fn trace(&self) -> &Trace {
        match self {
            Values::Trace(t, _) | Values::Difference(t, _) => t,
        }
    }

    /// The value of sample `i`; `None` for a gap (a sample that is not
    /// finite). A finite sample may give -inf (0 in dB): the floor.
    fn at(&self, i: usize) -> Option<f64> {
        let finite = |t: &Trace| t.samples().get(i).copied().filter(|v| v.is_finite());
        match *self {
            Values::Trace(t, scale) => finite(t).map(|v| scale.apply(v)).filter(|v| !v.is_nan()),
            Values::Difference(a, b) => Some(finite(a)? - finite(b)?).filter(|v| v.is_finite()),
        }
    }
}

/// One line of a chart: values over a range of sample indices, in a colour.
#[derive(Debug, Clone)]
pub(super) struct Line<'t> {
    /// What is drawn.
    pub(super) values: Values<'t>,
    /// Which samples.
    pub(super) range: Range<usize>,
    /// Its colour.
    pub(super) color: RGBColor,
    /// Drawn as the band between each pixel column's extremes, rather than
    /// as a line through the samples.
    pub(super) band: bool,
}

/// Everything a chart shows.
#[derive(Debug, Clone)]
pub(super) struct Chart<'t> {
    /// The x axis.
    pub(super) x: XMap,
    /// Below the tick labels ("Time (ms)"); none if empty.
    pub(super) x_desc: String,
    /// Beside the y axis ("Amplitude (V)").
    pub(super) y_desc: String,
    /// About how many y ticks.
    pub(super) y_ticks: usize,
    /// Whether y is in dB: then it reaches at most [`DB_RANGE`] below the peak.
    pub(super) db: bool,
    /// Drawn in order: the first lies beneath the others.
    pub(super) lines: Vec<Line<'t>>,
    /// Vertical markers at x (s or Hz) with a label, most important first.
    pub(super) markers: Vec<(f64, String)>,
    /// A span of x (s or Hz) shaded behind the lines.
    pub(super) shade: Option<(f64, f64)>,
    /// Written in the middle when there is no line to draw.
    pub(super) empty_note: &'static str,
}

/// What was drawn where, for the caller's notes and for tests.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Drawn {
    /// The plot area, in pixels of the whole picture.
    pub(super) plot: Rect,
    /// The labels of the markers inside the axis, each with its box or
    /// `None` where it had no room.
    pub(super) labels: Vec<(String, f64, Option<Rect>)>,
    /// Markers left out beyond [`MAX_MARKERS`].
    pub(super) too_many: usize,
}

impl Drawn {
    /// "H5 (50 kHz), H6 (60 kHz)": the labels that had no room, with where
    /// their lines are; empty if all were placed.
    pub(super) fn unplaced(&self, domain: tracekit_core::Domain) -> String {
        let mut names: Vec<String> = self
            .labels
            .iter()
            .filter(|(_, _, b)| b.is_none())
            .map(|(label, at, _)| {
                let at = axis::quantity(domain, *at);
                if label.contains(&at) {
                    label.clone()
                } else {
                    format!("{label} ({at})")
                }
            })
            .collect();
        if self.too_many > 0 {
            names.push(format!("{} more", self.too_many));
        }
        names.join(", ")
    }
}

/// A chart over f64 x and y, as plotters builds it.
type Context<'b, DB> = ChartContext<'b, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Builds the chart's coordinates on `area`, drawing nothing.
fn build<'b, DB: DrawingBackend>(
    area: &'b DrawingArea<DB, Shift>,
    x: &XMap,
    y: (f64, f64),
    x_label_px: u32,
) -> Result<Context<'b, DB>, PlotError> {
    Ok(ChartBuilder::on(area)
        .margin_top(6)
        .margin_left(6)
        .margin_right(18)
        .x_label_area_size(x_label_px)
        .y_label_area_size(Y_AXIS_PX)
        .build_cartesian_2d(x.lo..x.hi, y.0..y.1)?)
}

/// The y range of `lines`, padded; a dB chart reaches at most [`DB_RANGE`]
/// below its peak.
fn y_range(lines: &[Line<'_>], db: bool) -> (f64, f64) {
    let values = lines
        .iter()
        .flat_map(|l| l.range.clone().filter_map(move |i| l.values.at(i)));
    let (lo, hi) = finite_range(values).unwrap_or((-1.0, 1.0));
    // Keep the span finite even for values near f64::MAX.
    let (mut lo, hi) = (lo.max(-1e300), hi.min(1e300));
    if db {
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

/// Draws `chart` on `area`, with `x_label_px` pixels below the plot for the
/// x tick labels and description.
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart<'_>,
    x_label_px: u32,
) -> Result<Drawn, PlotError> {
    let base = area.get_base_pixel();
    let label_font = (FAMILY, 12).into_font();
    // The first build only measures: where the plot area is, where the
    // markers fall. The y range waits for the labels' band.
    let probe = build(area, &chart.x, (0.0, 1.0), x_label_px)?;
    let (xs, ys) = probe.plotting_area().get_pixel_range();
    let plot = Rect {
        left: xs.start,
        top: ys.start,
        right: xs.end,
        bottom: ys.end,
    };
    let inside = |v: f64| {
        let x = chart.x.chart_x(v);
        x.is_finite() && x >= chart.x.lo && x <= chart.x.hi
    };
    let mut markers: Vec<&(f64, String)> = chart.markers.iter().filter(|m| inside(m.0)).collect();
    let too_many = markers.len().saturating_sub(MAX_MARKERS);
    markers.truncate(MAX_MARKERS);
    let mut wanted = Vec::with_capacity(markers.len());
    for (at, label) in &markers {
        let (w, h) = label_font
            .box_size(label)
            .map_err(|e| PlotError::Draw(e.to_string()))?;
        wanted.push(Wanted {
            x: probe.backend_coord(&(chart.x.chart_x(*at), 0.0)).0,
            width: w as i32,
            height: h.max(1) as i32,
        });
    }
    let placement = labels::place(&wanted, &plot);

    let (ylo, data_hi) = y_range(&chart.lines, chart.db);
    let mut yhi = data_hi;
    let height = f64::from(plot.bottom - plot.top);
    let band = f64::from(placement.band_height);
    if band > 0.0 && height > band {
        // The highest value sits just below the labels.
        yhi = ylo + (yhi - ylo) * height / (height - band);
    }
    let mut ctx = build(area, &chart.x, (ylo, yhi), x_label_px)?;
    let mut mesh = ctx.configure_mesh();
    if !chart.y_desc.is_empty() {
        mesh.y_desc(chart.y_desc.as_str());
    }
    // Ticks of our own on both axes: plotters' would drop all but one tick
    // of a narrow range, and knows nothing of logarithmic frequency.
    mesh.disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .axis_desc_style((FAMILY, 13))
        .axis_style(FRAME_COLOR)
        .draw()?;
    let ctx = ctx;
    let plotting = ctx.plotting_area();
    let px = |x: f64| ctx.backend_coord(&(x, ylo)).0;
    let rel = |(x, y): (i32, i32)| (x - base.0, y - base.1);

    // Grid lines and tick labels of our own, each label only where it
    // clears the one before.
    let ticks = chart.x.ticks();
    let mut last_right = i32::MIN;
    for tick in &ticks {
        let x = px(tick.at);
        if x < plot.left || x > plot.right {
            continue;
        }
        area.draw(&PathElement::new(
            [rel((x, plot.top)), rel((x, plot.bottom))],
            GRID_COLOR.stroke_width(1),
        ))?;
        if tick.label.is_empty() {
            continue;
        }
        area.draw(&PathElement::new(
            [rel((x, plot.bottom)), rel((x, plot.bottom + 5))],
            FRAME_COLOR.stroke_width(1),
        ))?;
        let (w, _) = label_font
            .box_size(&tick.label)
            .map_err(|e| PlotError::Draw(e.to_string()))?;
        let left = x - w as i32 / 2;
        if left > last_right + 6 {
            area.draw(&Text::new(
                tick.label.clone(),
                rel((x, plot.bottom + 7)),
                label_font
                    .clone()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
            last_right = left + w as i32;
        }
    }
    if !chart.x_desc.is_empty() {
        area.draw(&Text::new(
            chart.x_desc.clone(),
            rel(((plot.left + plot.right) / 2, plot.bottom + 24)),
            (FAMILY, 13)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
    }

    // At least two labelled ticks where the range allows: a narrow range
    // can fall between the steps of a small target.
    let mut y_ticks = Vec::new();
    for target in [1, 2, 4].map(|k| k * chart.y_ticks.max(1)) {
        y_ticks = ticks::linear(ylo, data_hi, target);
        if y_ticks.len() >= 2 {
            break;
        }
    }
    let mut last_y = i32::MAX;
    for tick in &y_ticks {
        let y = ctx.backend_coord(&(chart.x.lo, tick.at)).1;
        // Bottom up, each label clear of the one below.
        if y < plot.top || y >= plot.bottom || last_y - y < 14 {
            continue;
        }
        last_y = y;
        area.draw(&PathElement::new(
            [rel((plot.left, y)), rel((plot.right, y))],
            GRID_COLOR.stroke_width(1),
        ))?;
        area.draw(&PathElement::new(
            [rel((plot.left - 5, y)), rel((plot.left, y))],
            FRAME_COLOR.stroke_width(1),
        ))?;
        area.draw(&Text::new(
            tick.label.clone(),
            rel((plot.left - 8, y)),
            label_font
                .clone()
                .color(&BLACK)
                .pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }

    let width = plot.right - plot.left;
    let (x_lo, x_span) = (chart.x.lo, chart.x.hi - chart.x.lo);
    let column = |x: f64| ((x - x_lo) / x_span * f64::from(width)).floor() as i64;
    let mut drew = false;
    for line in &chart.lines {
        let trace = line.values.trace();
        let (start, step) = axis::x_step(trace);
        let x_of = |i: usize| chart.x.chart_x(start + i as f64 * step);
        let y_of = |i: usize| line.values.at(i).map(|v| v.clamp(ylo, yhi));
        if line.band {
            for run in column_envelope(line.range.clone(), x_of, y_of, column) {
                drew = true;
                let upper = run.iter().map(|&(x, _, hi)| (x, hi));
                let lower = run.iter().rev().map(|&(x, lo, _)| (x, lo));
                plotting.draw(&Polygon::new(
                    upper.clone().chain(lower.clone()).collect::<Vec<_>>(),
                    line.color.mix(0.45).filled(),
                ))?;
                for edge in [upper.collect::<Vec<_>>(), lower.collect()] {
                    plotting.draw(&PathElement::new(edge, line.color.stroke_width(1)))?;
                }
            }
            continue;
        }
        let segments = column_points(line.range.clone(), x_of, y_of, column);
        let style = line.color.stroke_width(1);
        for segment in segments {
            drew = true;
            if let [only] = segment[..] {
                // A lone point between gaps would vanish as a path.
                plotting.draw(&Circle::new(only, 2, line.color.filled()))?;
            } else {
                plotting.draw(&PathElement::new(segment, style))?;
            }
        }
    }
    if !drew && !chart.empty_note.is_empty() {
        area.draw(&Text::new(
            chart.empty_note,
            rel(((plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2)),
            (FAMILY, 14)
                .into_font()
                .color(&NOTE_COLOR)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }

    // Over the lines, which on a whole-capture strip fill the height.
    if let Some((a, b)) = chart.shade {
        let (a, b) = (chart.x.chart_x(a), chart.x.chart_x(b));
        let (a, b) = (a.max(chart.x.lo), b.min(chart.x.hi));
        if a.is_finite() && b.is_finite() && a <= b {
            let (l, r) = (px(a) - 1, px(b).max(px(a) + 2) + 1);
            let corners = [rel((l, plot.top)), rel((r, plot.bottom - 1))];
            area.draw(&Rectangle::new(corners, WINDOW_SHADE.mix(0.7).filled()))?;
            area.draw(&Rectangle::new(corners, WINDOW_EDGE.stroke_width(1)))?;
        }
    }

    let text_style = label_font
        .clone()
        .color(&MARKER_COLOR)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let mut labels = Vec::with_capacity(markers.len());
    for (k, ((at, label), want)) in markers.iter().zip(&wanted).enumerate() {
        let top = placement.line_top(k, &plot);
        area.draw(&PathElement::new(
            [rel((want.x, plot.bottom - 1)), rel((want.x, top))],
            MARKER_COLOR.mix(0.7).stroke_width(1),
        ))?;
        let boxed = placement.boxes[k];
        if let Some(b) = boxed {
            area.draw(&Rectangle::new(
                [rel((b.left, b.top)), rel((b.right, b.bottom))],
                LABEL_BOX_COLOR.filled(),
            ))?;
            area.draw(&Text::new(
                label.clone(),
                rel(((b.left + b.right) / 2, b.top + PAD)),
                text_style.clone(),
            ))?;
        }
        labels.push((label.clone(), *at, boxed));
    }
    area.draw(&Rectangle::new(
        [rel((plot.left, plot.top)), rel((plot.right, plot.bottom))],
        PLOT_FRAME_COLOR.stroke_width(1),
    ))?;
    Ok(Drawn {
        plot,
        labels,
        too_many,
    })
}

#[cfg(test)]
mod tests {
    use tracekit_core::{Domain, TraceMeta};

    use super::*;

    #[test]
    fn values_in_db_and_differences() {
        let mut meta = TraceMeta::new(1.0);
        meta.units = "V".to_owned();
        let a = Trace::with_meta(vec![10.0, 0.0, -0.1, f64::NAN], meta).unwrap();
        let b = Trace::new(vec![1.0, 1.0, 1.0, 1.0], 1.0).unwrap();
        let db = Values::Trace(&a, YScale::AmplitudeDb);
        assert_eq!(db.at(0), Some(20.0));
        assert_eq!(db.at(1), Some(f64::NEG_INFINITY), "0 sits on the floor");
        assert_eq!(db.at(2), Some(-20.0));
        assert_eq!(db.at(3), None);
        assert_eq!(db.at(99), None);
        let power = Values::Trace(&a, YScale::PowerDb);
        assert_eq!(power.at(0), Some(10.0));
        assert_eq!(power.at(2), None, "negative power has no dB");
        let d = Values::Difference(&a, &b);
        assert_eq!((d.at(0), d.at(1), d.at(3)), (Some(9.0), Some(-1.0), None));
    }

    #[test]
    fn y_range_floors_db_and_survives_extremes() {
        let t = Trace::new(vec![0.0, -1000.0, f64::NEG_INFINITY], 1.0).unwrap();
        let line = |t| Line {
            values: Values::Trace(t, YScale::AsIs),
            range: 0..3,
            color: BLACK,
            band: false,
        };
        let (lo, hi) = y_range(&[line(&t)], true);
        assert!(
            lo > -DB_RANGE - 20.0 && lo < -DB_RANGE && hi > 0.0,
            "{lo} {hi}"
        );
        let huge = Trace::new(vec![f64::MAX, -f64::MAX, 0.0], 1.0).unwrap();
        let (lo, hi) = y_range(&[line(&huge)], false);
        assert!(lo.is_finite() && hi.is_finite() && lo < hi);
        let flat = Trace::new(vec![3.0; 3], 1.0).unwrap();
        let (lo, hi) = y_range(&[line(&flat)], false);
        assert!(lo < 3.0 && hi > 3.0);
        let (lo, hi) = y_range(&[], false);
        assert!((lo + 1.12).abs() < 1e-12 && (hi - 1.12).abs() < 1e-12);
    }

    #[test]
    fn unplaced_labels_say_where_their_lines_are() {
        let drawn = Drawn {
            plot: Rect {
                left: 0,
                top: 0,
                right: 10,
                bottom: 10,
            },
            labels: vec![
                ("f0 10 kHz".to_owned(), 10e3, None),
                ("H2".to_owned(), 20e3, None),
                (
                    "H3".to_owned(),
                    30e3,
                    Some(Rect {
                        left: 0,
                        top: 0,
                        right: 1,
                        bottom: 1,
                    }),
                ),
            ],
            too_many: 2,
        };
        assert_eq!(
            drawn.unplaced(Domain::Frequency),
            "f0 10 kHz, H2 (20 kHz), 2 more"
        );
    }
}
