//! The dependency graph of a pipeline: the input, then one column per
//! generation, each step a box with arrows from the steps it reads. Drawn
//! directly, with no Graphviz needed.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::Path,
};

use plotters::{
    coord::Shift,
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};
use tracekit_core::{INPUT, Pipeline};

use super::{
    Picture, PlotError, PlotFormat,
    font::FAMILY,
    style::{FRAME_COLOR, TRACE_COLOR, shorten},
};

/// Space around the picture.
const MARGIN: i32 = 24;
/// Height of the generation headings.
const HEADER: i32 = 34;
/// Height of a step's box.
const NODE_HEIGHT: i32 = 42;
/// Space between two boxes of one column.
const ROW_GAP: i32 = 22;
/// Space between two columns, where the arrows run.
const COLUMN_GAP: i32 = 84;
/// Longest name drawn in a box, in characters; longer ones end in an ellipsis.
const NAME_CHARS: usize = 30;

/// The fill of a step's box.
const STEP_FILL: RGBColor = RGBColor(222, 235, 247);
/// The fill of the input's box.
const INPUT_FILL: RGBColor = RGBColor(238, 238, 238);
/// Arrows.
const EDGE_COLOR: RGBColor = RGBColor(90, 90, 90);

/// A pipeline's steps by generation, what each reads, and optionally each
/// step's kind and the output step.
#[derive(Debug, Clone, Default)]
pub(crate) struct DependencyGraph {
    /// Generations, as [`Pipeline::get_execution_order`] gives them.
    pub(crate) order: Vec<Vec<String>>,
    /// Steps each step reads, the input omitted, as
    /// [`Pipeline::get_dependency_graph`] gives them.
    pub(crate) deps: BTreeMap<String, Vec<String>>,
    /// Steps that read the pipeline input.
    pub(crate) reads_input: BTreeSet<String>,
    /// Kind of each step (`"lowpass"`), shown under its name.
    pub(crate) kinds: BTreeMap<String, String>,
    /// The step whose output is the pipeline's, drawn with a heavier frame.
    pub(crate) output: Option<String>,
}

impl DependencyGraph {
    /// The graph of these generations and dependencies; steps that read no
    /// other step are taken to read the input.
    pub(crate) fn new(order: &[Vec<String>], deps: &BTreeMap<String, Vec<String>>) -> Self {
        let reads_input = order
            .iter()
            .flatten()
            .filter(|s| deps.get(*s).is_none_or(Vec::is_empty))
            .cloned()
            .collect();
        DependencyGraph {
            order: order.to_vec(),
            deps: deps.clone(),
            reads_input,
            ..DependencyGraph::default()
        }
    }

    /// The graph of `pipeline`, with every input edge, kinds and the output step.
    pub(crate) fn of(pipeline: &Pipeline) -> Self {
        let mut graph = DependencyGraph::new(
            &pipeline.get_execution_order(),
            &pipeline.get_dependency_graph(),
        );
        graph.reads_input = pipeline
            .steps()
            .iter()
            .enumerate()
            .filter(|(i, step)| match step.declared_inputs() {
                Some(inputs) => inputs.iter().any(|s| s == INPUT),
                None => *i == 0,
            })
            .map(|(_, step)| step.name().to_owned())
            .collect();
        graph.kinds = pipeline
            .steps()
            .iter()
            .map(|s| (s.name().to_owned(), s.transformer().kind().to_owned()))
            .collect();
        graph.output = Some(pipeline.output_step().to_owned());
        graph
    }

    /// The graph as an SVG document.
    #[cfg(test)]
    pub(crate) fn to_svg(&self) -> Result<String, PlotError> {
        super::to_svg(self)
    }

    /// Writes the graph to `path` as `format`.
    pub(crate) fn write(&self, path: &Path, format: PlotFormat) -> Result<(), PlotError> {
        super::write(self, path, format)
    }

    /// Where every box goes: columns (input first, then generations) and the
    /// box size.
    fn layout(&self) -> Layout {
        let name_font = (FAMILY, 13).into_font();
        let text_width = |s: &str| {
            let s = shorten(s, NAME_CHARS);
            name_font
                .box_size(&s)
                .map_or(8 * s.chars().count() as i32, |(w, _)| w as i32)
        };
        let widest = self
            .order
            .iter()
            .flatten()
            .map(|s| text_width(s).max(self.kinds.get(s).map_or(0, |k| text_width(k))))
            .fold(text_width(INPUT), i32::max);
        let box_width = (widest + 28).clamp(90, 300);
        let columns: Vec<Vec<&str>> = std::iter::once(vec![INPUT])
            .chain(
                self.order
                    .iter()
                    .map(|g| g.iter().map(String::as_str).collect()),
            )
            .collect();
        let tallest = columns.iter().map(Vec::len).max().unwrap_or(1) as i32;
        let mut boxes = HashMap::new();
        for (c, column) in columns.iter().enumerate() {
            let x = MARGIN + c as i32 * (box_width + COLUMN_GAP);
            let pad = (tallest - column.len() as i32) * (NODE_HEIGHT + ROW_GAP) / 2;
            for (r, name) in column.iter().enumerate() {
                let y = MARGIN + HEADER + pad + r as i32 * (NODE_HEIGHT + ROW_GAP);
                // A name listed twice keeps its first place.
                boxes.entry(name.to_string()).or_insert((x, y));
            }
        }
        let width = 2 * MARGIN + columns.len() as i32 * (box_width + COLUMN_GAP) - COLUMN_GAP;
        let height = 2 * MARGIN + HEADER + tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP;
        Layout {
            columns: columns.len(),
            box_width,
            boxes,
            size: (width as u32, height as u32),
        }
    }

    /// Every edge, reader last: (from, to).
    fn edges(&self) -> Vec<(&str, &str)> {
        let mut edges = Vec::new();
        for step in self.order.iter().flatten() {
            if self.reads_input.contains(step) {
                edges.push((INPUT, step.as_str()));
            }
            for dep in self.deps.get(step).into_iter().flatten() {
                edges.push((dep.as_str(), step.as_str()));
            }
        }
        edges
    }
}

/// The dependency graph of these generations and dependencies, as SVG.
#[cfg(test)]
pub(crate) fn graph_svg(
    order: &[Vec<String>],
    deps: &BTreeMap<String, Vec<String>>,
) -> Result<String, PlotError> {
    DependencyGraph::new(order, deps).to_svg()
}

/// Writes the dependency graph of `pipeline` to `path` as `format`.
pub(crate) fn write_graph(
    path: &Path,
    format: PlotFormat,
    pipeline: &Pipeline,
) -> Result<(), PlotError> {
    DependencyGraph::of(pipeline).write(path, format)
}

/// Where the boxes of a graph go.
#[derive(Debug)]
struct Layout {
    /// Columns: the input's and one per generation.
    columns: usize,
    /// Width of every box.
    box_width: i32,
    /// Top-left corner of each box, by step name.
    boxes: HashMap<String, (i32, i32)>,
    /// Width and height of the picture.
    size: (u32, u32),
}

impl Picture for DependencyGraph {
    fn size(&self) -> (u32, u32) {
        self.layout().size
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let layout = self.layout();
        let w = layout.box_width;
        root.fill(&WHITE)?;

        let header = (FAMILY, 12)
            .into_font()
            .color(&FRAME_COLOR)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for c in 0..layout.columns {
            let x = MARGIN + c as i32 * (w + COLUMN_GAP) + w / 2;
            if c > 0 {
                let text = format!("generation {c}");
                root.draw(&Text::new(text, (x, MARGIN), header.clone()))?;
            }
        }

        for (from, to) in self.edges() {
            let (Some(&(x0, y0)), Some(&(x1, y1))) = (layout.boxes.get(from), layout.boxes.get(to))
            else {
                continue;
            };
            let start = (x0 + w, y0 + NODE_HEIGHT / 2);
            let end = (x1 - 1, y1 + NODE_HEIGHT / 2);
            root.draw(&PathElement::new(
                curve(start, end),
                EDGE_COLOR.stroke_width(1),
            ))?;
            let (ex, ey) = end;
            root.draw(&Polygon::new(
                vec![(ex, ey), (ex - 9, ey - 4), (ex - 9, ey + 4)],
                EDGE_COLOR.filled(),
            ))?;
        }

        let name_font = (FAMILY, 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let kind_font = (FAMILY, 11)
            .into_font()
            .color(&FRAME_COLOR)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let mut names: Vec<(&String, &(i32, i32))> = layout.boxes.iter().collect();
        names.sort();
        for (name, &(x, y)) in names {
            let is_input = name == INPUT;
            let (fill, frame) = if is_input {
                (INPUT_FILL, FRAME_COLOR)
            } else {
                (STEP_FILL, TRACE_COLOR)
            };
            let heavy = self.output.as_ref() == Some(name);
            root.draw(&Rectangle::new(
                [(x, y), (x + w, y + NODE_HEIGHT)],
                fill.filled(),
            ))?;
            // An outline as a path: SVG rectangles drop the stroke width.
            let (x1, y1) = (x + w, y + NODE_HEIGHT);
            root.draw(&PathElement::new(
                vec![(x, y), (x1, y), (x1, y1), (x, y1), (x, y)],
                frame.stroke_width(if heavy { 3 } else { 1 }),
            ))?;
            let cx = x + w / 2;
            let kind = self.kinds.get(name.as_str()).filter(|_| !is_input);
            let name_y = y + NODE_HEIGHT / 2 - if kind.is_some() { 7 } else { 0 };
            root.draw(&Text::new(
                shorten(name, NAME_CHARS),
                (cx, name_y),
                name_font.clone(),
            ))?;
            if let Some(kind) = kind {
                root.draw(&Text::new(
                    shorten(kind, NAME_CHARS),
                    (cx, y + NODE_HEIGHT / 2 + 9),
                    kind_font.clone(),
                ))?;
            }
        }
        Ok(())
    }
}

/// A smooth curve from `a` leaving rightwards to `b` arriving rightwards: a
/// cubic Bézier with horizontal tangents, as line segments.
fn curve(a: (i32, i32), b: (i32, i32)) -> Vec<(i32, i32)> {
    const STEPS: i32 = 24;
    let (ax, ay, bx, by) = (a.0 as f64, a.1 as f64, b.0 as f64, b.1 as f64);
    let pull = ((bx - ax).abs() / 2.0).max(30.0);
    let (c1x, c2x) = (ax + pull, bx - pull);
    (0..=STEPS)
        .map(|i| {
            let t = f64::from(i) / f64::from(STEPS);
            let u = 1.0 - t;
            let x = u * u * u * ax + 3.0 * u * u * t * c1x + 3.0 * u * t * t * c2x + t * t * t * bx;
            let y = u * u * u * ay + 3.0 * u * u * t * ay + 3.0 * u * t * t * by + t * t * t * by;
            (x.round() as i32, y.round() as i32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use tracekit_core::{StageError, Step, Trace, Transformer};

    use super::*;
    use crate::plot::tests_xml::{Svg, texts};

    #[derive(Clone)]
    struct Kind(&'static str);
    impl Transformer for Kind {
        fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
            Ok(i[0].clone())
        }
        fn kind(&self) -> &str {
            self.0
        }
    }

    fn fan_out() -> Pipeline {
        Pipeline::new([
            Step::new("lowpass", Kind("lowpass")).input(INPUT),
            Step::new("highpass", Kind("highpass")).input(INPUT),
            Step::new("fft", Kind("fft")).input(INPUT),
            Step::new("merge", Kind("merge")).inputs(["lowpass", "highpass", "fft", INPUT]),
        ])
        .unwrap()
    }

    #[test]
    fn generations_are_columns_and_every_edge_is_drawn() {
        let graph = DependencyGraph::of(&fan_out());
        assert_eq!(graph.edges().len(), 3 + 4);
        let layout = graph.layout();
        assert_eq!(layout.columns, 3);
        let x = |s: &str| layout.boxes[s].0;
        assert!(x(INPUT) < x("lowpass"));
        assert_eq!(x("lowpass"), x("fft"));
        assert!(x("fft") < x("merge"));

        let svg = graph.to_svg().unwrap();
        let doc = Svg::parse(&svg);
        let texts = texts(&doc);
        for expected in [
            "input",
            "generation 1",
            "generation 2",
            "lowpass",
            "highpass",
            "fft",
            "merge",
        ] {
            assert!(
                texts.iter().any(|t| t == expected),
                "no {expected:?} in {texts:?}"
            );
        }
        assert_eq!(doc.count_stroked(EDGE_COLOR), 7, "edges");
        assert_eq!(doc.count_tag("polygon"), 7, "arrowheads");
        assert_eq!(doc.count_filled_rects(STEP_FILL), 4);
        assert_eq!(doc.count_filled_rects(INPUT_FILL), 1);
        let heavy = doc
            .elements()
            .filter(|n| {
                n.tag_name().name() == "polyline" && n.attribute("stroke-width") == Some("3")
            })
            .count();
        assert_eq!(heavy, 1, "the output step");
    }

    #[test]
    fn from_order_and_deps_alone() {
        let p = Pipeline::new([
            Step::new("a", Kind("scale")),
            Step::new("b", Kind("scale")),
            Step::new("c", Kind("scale")).inputs(["a", "b"]),
        ])
        .unwrap();
        let svg = graph_svg(&p.get_execution_order(), &p.get_dependency_graph()).unwrap();
        let doc = Svg::parse(&svg);
        // input -> a -> b, a -> c, b -> c
        assert_eq!(doc.count_stroked(EDGE_COLOR), 4);
        let texts = texts(&doc);
        assert!(texts.contains(&"generation 3".to_owned()), "{texts:?}");
        assert!(
            !texts.contains(&"scale".to_owned()),
            "no kinds without a pipeline"
        );
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let long = "x".repeat(1000);
        let deps = BTreeMap::from([
            ("b".to_owned(), vec!["ghost".to_owned()]),
            (long.clone(), vec!["b".to_owned()]),
        ]);
        let order = vec![vec!["b".to_owned(), "b".to_owned()], vec![long]];
        let doc_text = graph_svg(&order, &deps).unwrap();
        let texts = texts(&Svg::parse(&doc_text));
        assert!(
            texts
                .iter()
                .any(|t| t.ends_with('…') && t.chars().count() == NAME_CHARS)
        );
        let empty = graph_svg(&[], &BTreeMap::new()).unwrap();
        assert!(texts_of(&empty).contains(&"input".to_owned()));
    }

    fn texts_of(svg: &str) -> Vec<String> {
        texts(&Svg::parse(svg))
    }

    #[test]
    fn curves_join_their_ends() {
        let c = curve((10, 20), (200, 80));
        assert_eq!(c.first(), Some(&(10, 20)));
        assert_eq!(c.last(), Some(&(200, 80)));
        assert!(c.windows(2).all(|w| w[1].0 >= w[0].0 && w[1].1 >= w[0].1));
    }
}
