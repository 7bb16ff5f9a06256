//! The stage timeline: a Gantt chart of which stage ran when, on which worker
//! (thread or process), one lane of rows per executor.

use std::collections::BTreeSet;

use plotters::{
    coord::{Shift, ranged1d::SegmentValue},
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};
use tracekit_core::{Domain, Run, StageRecord};

use super::{
    PlotError,
    axis::{self, Unit},
    font::FAMILY,
    style::{FRAME_COLOR, GRID_COLOR, shorten},
};

/// Height of one worker row.
const ROW_HEIGHT: u32 = 26;
/// Caption, x axis and margins of the timeline.
const CHROME: u32 = 96;
/// Width of the stage legend on the right.
const LEGEND_WIDTH: u32 = 170;

/// The rule between executors.
const RULE_COLOR: RGBColor = RGBColor(110, 110, 110);

/// Bar colours, one per stage name in order of first appearance.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// One executor's run: each stage's name and record (start, duration, worker).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lane {
    /// The executor, as shown: `"sequential"`, `"thread ×4"`...
    pub(crate) executor: String,
    /// Stages in any order; each is drawn on its worker's row.
    pub(crate) stages: Vec<(String, StageRecord)>,
}

impl Lane {
    /// A lane of these stages.
    pub(crate) fn new<S: Into<String>>(
        executor: impl Into<String>,
        stages: impl IntoIterator<Item = (S, StageRecord)>,
    ) -> Lane {
        Lane {
            executor: executor.into(),
            stages: stages.into_iter().map(|(s, r)| (s.into(), r)).collect(),
        }
    }

    /// The lane of one run: stage names from [`Run::timings`], records from
    /// [`Run::records`], both in declaration order.
    pub(crate) fn from_run(executor: impl Into<String>, run: &Run) -> Lane {
        let names = run.timings().iter().map(|(name, _)| name.as_str());
        Lane::new(executor, names.zip(run.records().iter().copied()))
    }
}

/// The stage timeline of these executors, as SVG.
#[cfg(test)]
pub(crate) fn timeline_svg(lanes: &[Lane]) -> Result<String, PlotError> {
    super::Figure::default()
        .with_timeline(lanes.iter().cloned())
        .to_svg()
}

/// The height the timeline of `lanes` takes; 0 without lanes.
pub(super) fn height(lanes: &[Lane]) -> u32 {
    if lanes.is_empty() {
        0
    } else {
        CHROME + ROW_HEIGHT * rows(lanes).len().max(1) as u32
    }
}

/// (lane, worker) of each row, top to bottom: lanes in order, workers ascending.
fn rows(lanes: &[Lane]) -> Vec<(usize, usize)> {
    lanes
        .iter()
        .enumerate()
        .flat_map(|(l, lane)| {
            let workers: BTreeSet<usize> = lane.stages.iter().map(|(_, r)| r.worker).collect();
            workers.into_iter().map(move |w| (l, w))
        })
        .collect()
}

/// "thread ×4 · worker 2": the label of a worker's row.
fn row_label(lane: &Lane, worker: usize) -> String {
    let executor = shorten(&lane.executor, 16);
    if worker == 0 {
        format!("{executor} · caller")
    } else {
        format!("{executor} · worker {worker}")
    }
}

/// Stage names in order of first appearance, which fixes their colours.
fn stage_names(lanes: &[Lane]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in lanes.iter().flat_map(|l| &l.stages) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    names
}

/// The colour of `stage`, by its place among `names`.
fn color_of(names: &[&str], stage: &str) -> RGBColor {
    let i = names.iter().position(|n| *n == stage).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

/// Draws the timeline of `lanes` on `area`: rows of bars, a shared time axis
/// from the start of each run, and a legend of stage colours.
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lanes: &[Lane],
) -> Result<(), PlotError> {
    let rows = rows(lanes);
    let names = stage_names(lanes);
    let end = lanes
        .iter()
        .flat_map(|l| &l.stages)
        .map(|(_, r)| (r.start + r.duration).as_secs_f64())
        .fold(0.0, f64::max);
    let end = if end > 0.0 { end } else { 1e-6 };
    let unit: Unit = axis::unit_for(Domain::Time, end);
    let x_max = end * 1.02 / unit.scale;
    let n = rows.len().max(1) as i32;
    // Segment k (bottom up) holds row n - 1 - k (top down).
    let segment_of = |row: usize| n - 1 - row as i32;

    let width = area.dim_in_pixel().0;
    let (chart_area, legend_area) = area.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
    let mut chart = ChartBuilder::on(&chart_area)
        .caption("Stage timeline", (FAMILY, 15))
        .margin(6)
        .margin_right(18)
        .x_label_area_size(36)
        .y_label_area_size(150)
        // Integer ranges are inclusive: 0..n - 1 holds n segments.
        .build_cartesian_2d(0.0..x_max, (0..n - 1).into_segmented())?;
    let label_of = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(k) => usize::try_from(n - 1 - k)
            .ok()
            .and_then(|row| rows.get(row))
            .map(|&(l, w)| row_label(&lanes[l], w))
            .unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .x_desc(format!("Time since the run started ({})", unit.name))
        .x_labels(10)
        .y_labels(n as usize)
        .x_label_formatter(&|v| axis::number(*v))
        .y_label_formatter(&label_of)
        .disable_y_mesh()
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 13))
        .x_max_light_lines(0)
        .bold_line_style(GRID_COLOR)
        .axis_style(FRAME_COLOR)
        .draw()?;

    // A rule between executors.
    for (row, pair) in rows.windows(2).enumerate() {
        if pair[0].0 != pair[1].0 {
            let y = SegmentValue::Exact(segment_of(row));
            chart.draw_series([PathElement::new(
                vec![(0.0, y.clone()), (x_max, y)],
                RULE_COLOR.stroke_width(1),
            )])?;
        }
    }

    let min_width = x_max / 1000.0;
    let label_font = (FAMILY, 11)
        .into_font()
        .color(&WHITE)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (l, lane) in lanes.iter().enumerate() {
        for (name, record) in &lane.stages {
            let Some(row) = rows.iter().position(|&r| r == (l, record.worker)) else {
                continue;
            };
            let k = segment_of(row);
            let x0 = record.start.as_secs_f64() / unit.scale;
            let x1 = (x0 + record.duration.as_secs_f64() / unit.scale).max(x0 + min_width);
            let mut bar = Rectangle::new(
                [
                    (x0, SegmentValue::Exact(k)),
                    (x1, SegmentValue::Exact(k + 1)),
                ],
                color_of(&names, name).filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            chart.draw_series([bar])?;
            let bar_px = chart.backend_coord(&(x1, SegmentValue::Exact(k))).0
                - chart.backend_coord(&(x0, SegmentValue::Exact(k))).0;
            let (text_px, _) = chart
                .plotting_area()
                .estimate_text_size(name, &label_font)?;
            if bar_px > text_px as i32 + 8 {
                chart.draw_series([EmptyElement::at((x0, SegmentValue::CenterOf(k)))
                    + Text::new(name.clone(), (4, 0), label_font.clone())])?;
            }
        }
    }
    draw_legend(&legend_area, &names)
}

/// The stage colours, one swatch and name per stage, cut to the height.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    names: &[&str],
) -> Result<(), PlotError> {
    const LINE: i32 = 18;
    const TOP: i32 = 56;
    let h = area.dim_in_pixel().1 as i32;
    area.draw(&Text::new(
        "Stages",
        (8, 30),
        (FAMILY, 13, FontStyle::Bold).into_font().color(&BLACK),
    ))?;
    let fits = ((h - TOP - 10) / LINE).max(1) as usize;
    let shown = if names.len() > fits {
        fits - 1
    } else {
        names.len()
    };
    let style = (FAMILY, 12)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, name) in names.iter().take(shown).enumerate() {
        let y = TOP + LINE * i as i32;
        area.draw(&Rectangle::new(
            [(8, y - 6), (20, y + 6)],
            color_of(names, name).filled(),
        ))?;
        area.draw(&Text::new(shorten(name, 20), (26, y), style.clone()))?;
    }
    if shown < names.len() {
        let more = format!("… and {} more", names.len() - shown);
        area.draw(&Text::new(more, (8, TOP + LINE * shown as i32), style))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::plot::tests_xml::{Svg, texts};

    fn rec(start_us: u64, dur_us: u64, worker: usize) -> StageRecord {
        StageRecord {
            start: Duration::from_micros(start_us),
            duration: Duration::from_micros(dur_us),
            worker,
        }
    }

    fn lanes() -> Vec<Lane> {
        let seq = Lane::new(
            "sequential",
            [
                ("lowpass", rec(0, 4000, 0)),
                ("highpass", rec(4000, 4000, 0)),
                ("fft", rec(8000, 2000, 0)),
            ],
        );
        let thread = Lane::new(
            "thread ×4",
            [
                ("lowpass", rec(50, 4000, 1)),
                ("highpass", rec(60, 4100, 2)),
                ("fft", rec(70, 2000, 3)),
            ],
        );
        vec![seq, thread]
    }

    #[test]
    fn rows_are_workers_per_executor() {
        let lanes = lanes();
        assert_eq!(rows(&lanes), vec![(0, 0), (1, 1), (1, 2), (1, 3)]);
        assert_eq!(height(&lanes), CHROME + 4 * ROW_HEIGHT);
        assert_eq!(height(&[]), 0);
        assert_eq!(stage_names(&lanes), vec!["lowpass", "highpass", "fft"]);
    }

    #[test]
    fn gantt_chart_has_a_row_per_worker_and_a_bar_per_stage() {
        let svg = timeline_svg(&lanes()).unwrap();
        let doc = Svg::parse(&svg);
        let texts = texts(&doc);
        for expected in [
            "Stage timeline",
            "Time since the run started (ms)",
            "sequential · caller",
            "thread ×4 · worker 1",
            "thread ×4 · worker 2",
            "thread ×4 · worker 3",
            "Stages",
            "lowpass",
            "highpass",
            "fft",
        ] {
            assert!(
                texts.iter().any(|t| t == expected),
                "no text {expected:?} in {texts:?}"
            );
        }
        // Each stage colour: two bars and one legend swatch.
        for colour in &PALETTE[..3] {
            assert_eq!(doc.count_filled_rects(*colour), 3);
        }
        // One rule between the two executors.
        assert_eq!(doc.count_stroked(RULE_COLOR), 1);
    }

    #[test]
    fn lane_from_a_run_pairs_names_with_records() {
        use tracekit_core::{Pipeline, StageError, Step, Trace, Transformer};

        #[derive(Clone)]
        struct Same;
        impl Transformer for Same {
            fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
                Ok(i[0].clone())
            }
        }
        let p = Pipeline::new([Step::new("a", Same), Step::new("b", Same)]).unwrap();
        let run = p.run(&Trace::new(vec![1.0], 1.0).unwrap()).unwrap();
        let lane = Lane::from_run("sequential", &run);
        let names: Vec<&str> = lane.stages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(lane.stages[1].1, run.records()[1]);
    }

    #[test]
    fn empty_and_instant_stages_still_draw() {
        let instant = Lane::new("sequential", [("a", rec(0, 0, 0))]);
        let svg = timeline_svg(&[instant, Lane::new("idle", Vec::<(String, _)>::new())]).unwrap();
        let doc = Svg::parse(&svg);
        assert_eq!(doc.count_filled_rects(PALETTE[0]), 2, "bar and swatch");
        let many = Lane::new("thread", (0..60).map(|i| (format!("s{i}"), rec(i, 1, 1))));
        let texts = texts(&Svg::parse(&timeline_svg(&[many]).unwrap()));
        assert!(texts.iter().any(|t| t.starts_with("… and ")), "{texts:?}");
    }
}
