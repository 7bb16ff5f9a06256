//! A trace panel: a caption line, the chart of the trace, and for time
//! traces a strip below it (the whole capture around the window shown, or
//! the trace minus the input it was computed from).
//!
//! Time panels show a window of a few periods when the whole capture would
//! be a solid band ([`super::window`]); a trace computed from the input is
//! drawn over it in grey. Frequency panels are in dB over a logarithmic
//! axis unless the figure asks for [`SpectrumScale::Linear`].

use plotters::{
    coord::Shift,
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};
use tracekit_core::{Domain, Trace};

use super::{
    PlotError,
    axis::{self, XAxis, XMap, XScale},
    chart::{self, Chart, Drawn, Line, Values, YScale},
    font::FAMILY,
    style::{MARKER_COLOR, NOTE_COLOR, REFERENCE_COLOR, panel_color, shorten},
    window::{self, Window},
};

/// Height of the caption line above a chart.
const CAPTION_PX: u32 = 24;
/// Height of a time chart, x axis included.
const TIME_CHART_PX: u32 = 186;
/// Height of the strip under a time chart.
const STRIP_PX: u32 = 96;
/// Height of a frequency chart, x axis included.
const FREQUENCY_CHART_PX: u32 = 226;
/// The most harmonics [`Panel::with_harmonics`] marks.
const MAX_HARMONICS: usize = 32;

/// One trace in its own panel: a title (the step name, say), markers, and
/// the trace it was computed from.
#[derive(Debug, Clone)]
pub(crate) struct Panel<'a> {
    /// What the panel shows, such as `"input"` or `"lowpass"`; the trace's
    /// channel and units are added to it.
    pub(crate) title: String,
    /// The trace. Its domain picks the x axis: time (s, ms, µs...) or
    /// frequency (Hz, kHz, MHz...), x = start + i / sample_rate.
    pub(crate) trace: &'a Trace,
    /// Vertical markers at x positions in s or Hz (axis base units) with a
    /// label each, most important first, such as the fundamental and
    /// harmonics of a spectrum.
    pub(crate) markers: Vec<(f64, String)>,
    /// The trace this one was computed from, with its name: drawn beneath
    /// it in grey when both are in time, and subtracted in the strip below
    /// when they share their sample times.
    pub(crate) reference: Option<(String, &'a Trace)>,
}

impl<'a> Panel<'a> {
    /// A panel of `trace` titled `title`, without markers.
    pub(crate) fn new(title: impl Into<String>, trace: &'a Trace) -> Panel<'a> {
        Panel {
            title: title.into(),
            trace,
            markers: Vec::new(),
            reference: None,
        }
    }

    /// This panel with one more marker at `x` (s or Hz).
    #[cfg(test)]
    pub(crate) fn with_marker(mut self, x: f64, label: impl Into<String>) -> Panel<'a> {
        self.markers.push((x, label.into()));
        self
    }

    /// This panel drawn over `trace` (named `name`), the trace it was
    /// computed from.
    pub(crate) fn with_reference(mut self, name: impl Into<String>, trace: &'a Trace) -> Panel<'a> {
        self.reference = Some((name.into(), trace));
        self
    }

    /// This panel with markers at the fundamental `f0` (Hz), labelled with
    /// its frequency, and at its harmonics 2 to `count + 1` (at most 32 of
    /// them) that lie within the trace (`H2`, `H3`...). A fundamental that
    /// is not a positive number adds nothing.
    pub(crate) fn with_harmonics(mut self, f0: f64, count: usize) -> Panel<'a> {
        if !(f0.is_finite() && f0 > 0.0) {
            return self;
        }
        self.markers
            .push((f0, format!("f0 {}", axis::quantity(Domain::Frequency, f0))));
        let end = axis::x_extent(self.trace).1;
        for h in 2..=count.min(MAX_HARMONICS).saturating_add(1) {
            let f = h as f64 * f0;
            if f > end {
                break;
            }
            self.markers.push((f, format!("H{h}")));
        }
        self
    }

    /// The title drawn above the panel: title, channel, units.
    pub(super) fn caption(&self) -> String {
        let meta = self.trace.meta();
        let mut caption = self.title.clone();
        if !meta.channel.is_empty() {
            caption.push_str(" — ");
            caption.push_str(&meta.channel);
        }
        if !meta.units.is_empty() {
            caption.push_str(&format!(" [{}]", meta.units));
        }
        caption
    }

    /// The reference, when it shares this trace's sample times exactly.
    fn aligned_reference(&self) -> Option<&'a Trace> {
        let (_, r) = self.reference.as_ref()?;
        let (a, b) = (self.trace.meta(), r.meta());
        let aligned = self.trace.len() == r.len()
            && a.domain == Domain::Time
            && b.domain == Domain::Time
            && a.sample_rate.to_bits() == b.sample_rate.to_bits()
            && a.start.to_bits() == b.start.to_bits();
        aligned.then_some(*r)
    }
}

/// How frequency-domain panels are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum SpectrumScale {
    /// dB over a logarithmic frequency axis, the DC bin left out: a
    /// spectrum's harmonics and noise floor read at a glance.
    #[default]
    LogDb,
    /// The values as they are, over a linear frequency axis.
    Linear,
}

/// The time axes every time panel of a figure shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TimeAxes {
    /// The whole span of the time traces.
    pub(super) whole: XMap,
    /// The span shown: the whole, or a window of it.
    pub(super) shown: XMap,
    /// The window, with the frequency it was chosen for.
    pub(super) window: Window,
}

/// The frequency axis every frequency panel of a figure shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct FrequencyAxis {
    /// Logarithmic, or linear (asked for, or for a two-sided spectrum).
    pub(super) x: XMap,
    /// Whether values are drawn in dB.
    pub(super) db: bool,
}

/// The x axes of a figure's panels, one per domain that has a panel.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct Axes {
    /// For time panels.
    pub(super) time: Option<TimeAxes>,
    /// For frequency panels.
    pub(super) frequency: Option<FrequencyAxis>,
}

impl Axes {
    /// The axes of `panels`: time panels share the span of all time traces
    /// (shown through a window of `fundamental_hz` or the first time
    /// trace's dominant frequency), frequency panels the span of all
    /// frequency traces.
    pub(super) fn of(
        panels: &[Panel<'_>],
        fundamental_hz: Option<f64>,
        spectrum: SpectrumScale,
    ) -> Axes {
        let traces = || panels.iter().map(|p| p.trace);
        let time = XAxis::spanning(Domain::Time, traces()).map(|whole| {
            let whole = XMap::linear(&whole);
            let first = traces().find(|t| t.meta().domain == Domain::Time);
            let window = match first {
                Some(first) => Window::choose(whole.span(), first, fundamental_hz),
                None => Window {
                    lo: whole.span().0,
                    hi: whole.span().1,
                    hz: None,
                },
            };
            let shown = if window.is_part_of(whole.span()) {
                XMap::linear_over(Domain::Time, window.lo, window.hi)
            } else {
                whole
            };
            TimeAxes {
                whole,
                shown,
                window,
            }
        });
        let frequency = XAxis::spanning(Domain::Frequency, traces()).map(|linear| {
            let linear = XMap::linear(&linear);
            if spectrum == SpectrumScale::Linear {
                return FrequencyAxis {
                    x: linear,
                    db: false,
                };
            }
            let spectra =
                traces().filter(|t| t.meta().domain == Domain::Frequency && !t.is_empty());
            let extents: Option<Vec<(f64, f64)>> = spectra.map(axis::positive_extent).collect();
            let log = extents.and_then(|e| {
                let lo = e.iter().map(|x| x.0).fold(f64::INFINITY, f64::min);
                let hi = e.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
                XMap::log(lo, hi)
            });
            FrequencyAxis {
                x: log.unwrap_or(linear),
                db: true,
            }
        });
        Axes { time, frequency }
    }
}

/// What the strip under a time chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strip {
    /// Nothing: no strip.
    None,
    /// The whole trace, the window shaded.
    Overview,
    /// This trace minus its reference, in the window.
    Difference,
}

/// What the strip under `panel` shows: its difference from a reference that
/// shares its sample times, else the whole trace when a window is shown.
fn strip(panel: &Panel<'_>, axes: &Axes) -> Strip {
    let Some(time) = axes
        .time
        .filter(|_| panel.trace.meta().domain == Domain::Time)
    else {
        return Strip::None;
    };
    if panel.aligned_reference().is_some() {
        Strip::Difference
    } else if time.window.is_part_of(time.whole.span()) && !panel.trace.is_empty() {
        Strip::Overview
    } else {
        Strip::None
    }
}

/// The height `panel` takes in a figure with these axes.
pub(super) fn height(panel: &Panel<'_>, axes: &Axes) -> u32 {
    match panel.trace.meta().domain {
        Domain::Time if strip(panel, axes) == Strip::None => CAPTION_PX + TIME_CHART_PX,
        Domain::Time => CAPTION_PX + TIME_CHART_PX + STRIP_PX,
        Domain::Frequency => CAPTION_PX + FREQUENCY_CHART_PX,
    }
}

/// How a trace's values are drawn, and the y axis description.
fn y_scale(trace: &Trace, db_spectrum: bool) -> (YScale, bool, String) {
    let units = trace.meta().units.as_str();
    if trace.meta().domain == Domain::Time || !db_spectrum {
        return (YScale::AsIs, units == "dB", axis::y_label(trace));
    }
    if units == "dB" {
        (YScale::AsIs, true, "Magnitude (dB)".to_owned())
    } else if units == "1/Hz" {
        (YScale::PowerDb, true, "PSD (dB re 1/Hz)".to_owned())
    } else if units.ends_with("/Hz") {
        (YScale::PowerDb, true, format!("PSD (dB re 1 {units})"))
    } else if units.is_empty() {
        (YScale::AmplitudeDb, true, "Magnitude (dB)".to_owned())
    } else {
        (
            YScale::AmplitudeDb,
            true,
            format!("Magnitude (dB re 1 {units})"),
        )
    }
}

/// `lo to hi unit`, with the decimals the span needs: "524.25 to 524.75 ms"
/// (a dash would read as a minus sign before a negative end).
fn span_text(x: &XMap) -> String {
    let XScale::Linear(unit) = x.scale else {
        let (lo, hi) = x.span();
        return format!(
            "{} to {}",
            axis::quantity(x.domain, lo),
            axis::quantity(x.domain, hi)
        );
    };
    let step = (x.hi - x.lo) / 10.0;
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10().floor()).clamp(0.0, 9.0) as usize
    } else {
        0
    };
    format!("{:.decimals$} to {:.decimals$} {}", x.lo, x.hi, unit.name)
}

/// The grey part of the caption: length, rate, and what of it is shown.
fn caption_note(panel: &Panel<'_>, axes: &Axes) -> String {
    let trace = panel.trace;
    let n = crate::table::grouped(trace.len());
    match (trace.meta().domain, axes.time, axes.frequency) {
        (Domain::Time, Some(time), _) => {
            let mut note = format!("{n} samples at {}", axis::rate_text(trace));
            match time.window.hz {
                Some(hz) if time.window.is_part_of(time.whole.span()) => {
                    let (lo, hi) = time.whole.span();
                    let periods = ((time.window.hi - time.window.lo) * hz).round();
                    note.push_str(&format!(
                        " · shown: {}, {periods} periods of {}, of {}",
                        span_text(&time.shown),
                        axis::quantity(Domain::Frequency, hz),
                        axis::quantity(Domain::Time, hi - lo),
                    ));
                }
                _ => note.push_str(&format!(" · all of {}", span_text(&time.whole))),
            }
            note
        }
        (Domain::Frequency, _, Some(f)) => {
            let mut note = format!("{n} points, {}", axis::rate_text(trace));
            if f.x.scale == XScale::Log {
                note.push_str(" · dB over log frequency, DC bin left out");
            } else if f.db {
                note.push_str(" · dB");
            }
            note
        }
        _ => format!("{n} points"),
    }
}

/// Draws `panel`, the `k`-th of its figure, on `area` (as tall as
/// [`height`]); returns what each of its charts drew.
pub(super) fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel<'_>,
    k: usize,
    axes: &Axes,
) -> Result<Vec<Drawn>, PlotError> {
    let trace = panel.trace;
    let color = panel_color(k);
    let (caption_area, rest) = area.split_vertically(CAPTION_PX);
    let mut drawn = Vec::new();
    let mut legend: Vec<(String, RGBColor)> = Vec::new();
    let domain = trace.meta().domain;
    match (domain, axes.time, axes.frequency) {
        (Domain::Time, Some(time), _) => {
            let (scale, db, y_desc) = y_scale(trace, false);
            let shown = time.shown.span();
            let mut lines = Vec::new();
            if let Some((name, r)) = &panel.reference {
                if r.meta().domain == Domain::Time {
                    lines.push(Line {
                        values: Values::Trace(r, YScale::AsIs),
                        range: window::indices_within(r, shown.0, shown.1),
                        color: REFERENCE_COLOR,
                        band: false,
                    });
                    legend.push((panel.title.clone(), color));
                    legend.push((name.clone(), REFERENCE_COLOR));
                }
            }
            lines.push(Line {
                values: Values::Trace(trace, scale),
                range: window::indices_within(trace, shown.0, shown.1),
                color,
                band: false,
            });
            let strip = strip(panel, axes);
            let (main, below) = if strip == Strip::None {
                (rest, None)
            } else {
                let (main, below) = rest.split_vertically(TIME_CHART_PX);
                (main, Some(below))
            };
            let chart = Chart {
                x: time.shown,
                x_desc: time.shown.label(),
                y_desc,
                y_ticks: 6,
                db,
                lines,
                markers: panel.markers.clone(),
                shade: None,
                empty_note: "no samples",
            };
            drawn.push(chart::draw(&main, &chart, 42)?);
            if let Some(below) = below {
                drawn.push(draw_strip(&below, panel, strip, &time, color)?);
            }
        }
        (Domain::Frequency, _, Some(f)) => {
            let (scale, db, y_desc) = y_scale(trace, f.db);
            let (lo, hi) = f.x.span();
            let range = match f.x.scale {
                XScale::Log => window::indices_within(trace, lo, hi),
                XScale::Linear(_) => 0..trace.len(),
            };
            let chart = Chart {
                x: f.x,
                x_desc: f.x.label(),
                y_desc,
                y_ticks: 6,
                db,
                lines: vec![Line {
                    values: Values::Trace(trace, scale),
                    range,
                    color,
                    band: false,
                }],
                markers: panel.markers.clone(),
                shade: None,
                empty_note: "no samples",
            };
            drawn.push(chart::draw(&rest, &chart, 42)?);
        }
        _ => {}
    }
    let unplaced: Vec<String> = drawn
        .iter()
        .map(|d| d.unplaced(domain))
        .filter(|s| !s.is_empty())
        .collect();
    draw_caption(&caption_area, panel, axes, &legend, &unplaced.join(", "))?;
    Ok(drawn)
}

/// The strip under a time chart: the whole trace with the window shaded,
/// or the trace minus its reference in the window.
fn draw_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel<'_>,
    strip: Strip,
    time: &TimeAxes,
    color: RGBColor,
) -> Result<Drawn, PlotError> {
    let (title_area, chart_area) = area.split_vertically(18);
    let units = &panel.trace.meta().units;
    let units = if units.is_empty() {
        String::new()
    } else {
        format!(" [{units}]")
    };
    let (title, chart) = match (strip, panel.aligned_reference()) {
        (Strip::Difference, Some(r)) => {
            let name = panel
                .reference
                .as_ref()
                .map_or("input", |(n, _)| n.as_str());
            let (lo, hi) = time.shown.span();
            let chart = Chart {
                x: time.shown,
                x_desc: String::new(),
                y_desc: String::new(),
                y_ticks: 2,
                db: false,
                lines: vec![Line {
                    values: Values::Difference(panel.trace, r),
                    range: window::indices_within(panel.trace, lo, hi),
                    color,
                    band: false,
                }],
                markers: Vec::new(),
                shade: None,
                empty_note: "",
            };
            let title = format!(
                "{} − {name}{units}: what the step changed, over the span above",
                shorten(&panel.title, 30)
            );
            (title, chart)
        }
        _ => {
            let chart = Chart {
                x: time.whole,
                x_desc: String::new(),
                y_desc: String::new(),
                y_ticks: 2,
                db: false,
                lines: vec![Line {
                    values: Values::Trace(panel.trace, YScale::AsIs),
                    range: 0..panel.trace.len(),
                    color,
                    band: true,
                }],
                markers: Vec::new(),
                shade: Some((time.window.lo, time.window.hi)),
                empty_note: "",
            };
            let (lo, hi) = time.whole.span();
            let title = format!(
                "the whole trace ({}): smallest to largest sample of each pixel column; \
                 shaded, the span shown above",
                axis::quantity(Domain::Time, hi - lo)
            );
            (title, chart)
        }
    };
    title_area.draw(&Text::new(
        title,
        (80, 2),
        (FAMILY, 12).into_font().color(&NOTE_COLOR),
    ))?;
    chart::draw(&chart_area, &chart, 22)
}

/// The caption line: the title in black, the note in grey, and on the right
/// the overlay's legend and the labels that had no room.
fn draw_caption<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel<'_>,
    axes: &Axes,
    legend: &[(String, RGBColor)],
    unplaced: &str,
) -> Result<(), PlotError> {
    let (w, _) = area.dim_in_pixel();
    let width = |text: &str, font: &FontDesc<'_>| font.box_size(text).map_or(0, |s| s.0 as i32);
    let title_font = (FAMILY, 14).into_font();
    let note_font = (FAMILY, 12).into_font();
    let mut right = w as i32 - 18;
    // Right to left: the legend, then the labels without room.
    for (name, color) in legend.iter().rev() {
        let name = shorten(name, 24);
        let tw = width(&name, &note_font);
        area.draw(&Text::new(
            name,
            (right - tw, 13),
            note_font
                .clone()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        area.draw(&PathElement::new(
            [(right - tw - 22, 13), (right - tw - 4, 13)],
            color.stroke_width(2),
        ))?;
        right -= tw + 34;
    }
    let title = shorten(&panel.caption(), 60);
    let title_end = 12 + width(&title, &title_font);
    if !unplaced.is_empty() {
        // Before the note: the note says less than which labels are missing.
        let mut text = format!("no room to label {unplaced}");
        let room = right - title_end - 20;
        while width(&text, &note_font) > room {
            let keep = text.chars().count().saturating_sub(4);
            if keep <= 16 {
                text.clear();
                break;
            }
            text = shorten(&text, keep);
        }
        if !text.is_empty() {
            let tw = width(&text, &note_font);
            area.draw(&Text::new(
                text,
                (right - tw, 13),
                note_font
                    .clone()
                    .color(&MARKER_COLOR)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            right -= tw + 16;
        }
    }
    area.draw(&Text::new(
        title,
        (12, 13),
        title_font
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    let mut note = format!("· {}", caption_note(panel, axes));
    let room = right - title_end - 12;
    while !note.is_empty() && width(&note, &note_font) > room {
        let keep = note.chars().count().saturating_sub(4);
        note = if keep <= 3 {
            String::new()
        } else {
            shorten(&note, keep)
        };
    }
    if !note.is_empty() {
        area.draw(&Text::new(
            note,
            (title_end + 8, 13),
            note_font
                .color(&NOTE_COLOR)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}
