//! Pictures: traces and spectra as stacked panels, the stage timeline of a
//! run, and the dependency graph of a pipeline, drawn with plotters as SVG or
//! PNG.
//!
//! Nothing here runs unless a command asks for a plot (`--plot`, `--svg`).
//! Text in PNG files is drawn with a font bundled in the binary
//! (`assets/DejaVuSans-subset.ttf`), so no system font is needed; SVG files
//! name the generic `sans-serif` family and leave the font to the viewer.
//!
//! - [`Figure`]: stacked trace panels (time and frequency axes, markers), an
//!   optional stage timeline and tables of measurements beside them;
//!   stacked traces alone and a timeline alone are its two common shapes.
//!   Time panels show a window of a few periods of a long capture
//!   ([`window`]), frequency panels dB over a logarithmic axis, and marker
//!   labels go where they cross nothing ([`labels`]).
//! - [`write_graph`]: steps as boxes, generations as columns.
//! - [`decimate::column_points`]: the decimation behind every long trace.

mod axis;
mod chart;
mod decimate;
mod figure;
mod font;
mod graph;
mod labels;
mod panel;
mod style;
mod tables;
mod ticks;
mod timeline;
mod window;

use std::{
    error::Error,
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

use plotters::{
    coord::Shift,
    prelude::{
        BitMapBackend, DrawingArea, DrawingAreaErrorKind, DrawingBackend, IntoDrawingArea,
        SVGBackend,
    },
};

#[expect(unused_imports, reason = "for commands that offer linear spectra")]
pub(crate) use self::panel::SpectrumScale;
pub(crate) use self::{figure::Figure, graph::write_graph, timeline::Lane};

/// The file format of a plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) enum PlotFormat {
    /// Scalable vector graphics: text stays text, any size stays sharp.
    #[default]
    Svg,
    /// A PNG bitmap, text drawn with the bundled font.
    Png,
}

impl PlotFormat {
    /// The file extension, without the dot: `"svg"` or `"png"`.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            PlotFormat::Svg => "svg",
            PlotFormat::Png => "png",
        }
    }
}

impl fmt::Display for PlotFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for PlotFormat {
    type Err = String;

    /// `"svg"` or `"png"`, in any case.
    fn from_str(s: &str) -> Result<PlotFormat, String> {
        match s.to_ascii_lowercase().as_str() {
            "svg" => Ok(PlotFormat::Svg),
            "png" => Ok(PlotFormat::Png),
            _ => Err(format!("unknown plot format `{s}`: expected svg or png")),
        }
    }
}

/// Why a plot could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum PlotError {
    /// The drawing library failed (a font that would not load, say).
    Draw(String),
    /// The file could not be written.
    Write {
        /// The file that was being written.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::Draw(why) => write!(f, "could not draw the plot: {why}"),
            PlotError::Write { path, reason } => {
                write!(f, "could not write the plot {}: {reason}", path.display())
            }
        }
    }
}

impl Error for PlotError {}

impl<E: Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> PlotError {
        PlotError::Draw(e.to_string())
    }
}

/// Something drawable at a size of its own choosing, on any backend.
trait Picture {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);

    /// Draws the whole picture on `root`, which is `size()` large.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// The picture as an SVG document.
fn to_svg(picture: &impl Picture) -> Result<String, PlotError> {
    font::register()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, picture.size()).into_drawing_area();
        picture.draw(&root)?;
        root.present()?;
    }
    Ok(svg)
}

/// Writes the picture to `path` in `format`.
fn write(picture: &impl Picture, path: &Path, format: PlotFormat) -> Result<(), PlotError> {
    let failed = |reason: String| PlotError::Write {
        path: path.to_owned(),
        reason,
    };
    match format {
        PlotFormat::Svg => {
            let svg = to_svg(picture)?;
            std::fs::write(path, svg).map_err(|e| failed(e.to_string()))
        }
        PlotFormat::Png => {
            font::register()?;
            let root = BitMapBackend::new(path, picture.size()).into_drawing_area();
            picture.draw(&root)?;
            root.present().map_err(|e| failed(e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{panel::Panel, *};

    #[test]
    fn formats_parse_and_print() {
        assert_eq!("svg".parse(), Ok(PlotFormat::Svg));
        assert_eq!("PNG".parse(), Ok(PlotFormat::Png));
        assert_eq!(
            "pdf".parse::<PlotFormat>(),
            Err("unknown plot format `pdf`: expected svg or png".to_owned())
        );
        assert_eq!(PlotFormat::Png.to_string(), "png");
        assert_eq!(PlotFormat::default().extension(), "svg");
    }

    #[test]
    fn unwritable_path_is_reported_by_name() {
        let trace = tracekit_core::Trace::new(vec![1.0, 2.0], 1.0).unwrap();
        let figure = Figure::new([Panel::new("input", &trace)]);
        for format in [PlotFormat::Svg, PlotFormat::Png] {
            let path = Path::new("/nonexistent-dir/plot").with_extension(format.extension());
            let err = figure.write(&path, format).unwrap_err().to_string();
            assert!(
                err.starts_with("could not write the plot /nonexistent-dir/plot."),
                "{err}"
            );
        }
    }
}

/// Reading the SVG documents back in tests.
#[cfg(test)]
mod tests_xml {
    use plotters::style::RGBColor;

    /// A parsed SVG document; parsing fails the test on malformed XML.
    pub(super) struct Svg<'a>(roxmltree::Document<'a>);

    impl<'a> Svg<'a> {
        pub(super) fn parse(text: &'a str) -> Svg<'a> {
            let doc = roxmltree::Document::parse(text).unwrap_or_else(|e| {
                panic!("malformed SVG: {e}\n{}", &text[..text.len().min(2000)])
            });
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            Svg(doc)
        }

        pub(super) fn elements(&self) -> impl Iterator<Item = roxmltree::Node<'_, 'a>> {
            self.0.descendants().filter(|n| n.is_element())
        }

        pub(super) fn count_tag(&self, tag: &str) -> usize {
            self.elements()
                .filter(|n| n.tag_name().name() == tag)
                .count()
        }

        /// Lines and outlines drawn in `color`.
        pub(super) fn count_stroked(&self, color: RGBColor) -> usize {
            let hex = format!("#{:02X}{:02X}{:02X}", color.0, color.1, color.2);
            self.elements()
                .filter(|n| {
                    n.tag_name().name() == "polyline" && n.attribute("stroke") == Some(&hex)
                })
                .count()
        }

        /// Rectangles filled with `color`.
        pub(super) fn count_filled_rects(&self, color: RGBColor) -> usize {
            let hex = format!("#{:02X}{:02X}{:02X}", color.0, color.1, color.2);
            self.elements()
                .filter(|n| n.tag_name().name() == "rect" && n.attribute("fill") == Some(&hex))
                .count()
        }

        pub(super) fn height(&self) -> u32 {
            let root = self.0.root_element();
            root.attribute("height")
                .and_then(|h| h.parse().ok())
                .unwrap_or(0)
        }
    }

    /// The content of every `<text>`, in document order.
    pub(super) fn texts(svg: &Svg<'_>) -> Vec<String> {
        svg.elements()
            .filter(|n| n.tag_name().name() == "text")
            .map(|n| n.text().unwrap_or("").trim().to_owned())
            .collect()
    }
}
