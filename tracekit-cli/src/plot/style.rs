//! Colours shared by the pictures, and cutting text to fit.
//!
//! Two colours are used for one thing each, so that a test reading the SVG
//! back can find those things: [`PLOT_FRAME_COLOR`] outlines every plot area
//! and [`LABEL_BOX_COLOR`] fills every marker label's box.

use plotters::style::RGBColor;

/// A trace drawn alone (and the boxes of the dependency graph).
pub(super) const TRACE_COLOR: RGBColor = RGBColor(31, 119, 180);
/// Marker lines and their labels.
pub(super) const MARKER_COLOR: RGBColor = RGBColor(214, 39, 40);
/// Grid lines.
pub(super) const GRID_COLOR: RGBColor = RGBColor(232, 232, 232);
/// Axes and frames.
pub(super) const FRAME_COLOR: RGBColor = RGBColor(150, 150, 150);
/// The outline of a plot area, and nothing else.
pub(crate) const PLOT_FRAME_COLOR: RGBColor = RGBColor(160, 160, 160);
/// The fill of a marker label's box, and nothing else.
pub(crate) const LABEL_BOX_COLOR: RGBColor = RGBColor(255, 244, 244);
/// The input, drawn beneath a trace derived from it.
pub(super) const REFERENCE_COLOR: RGBColor = RGBColor(190, 190, 190);
/// The window's place on the whole-capture strip.
pub(super) const WINDOW_SHADE: RGBColor = RGBColor(255, 226, 160);
/// The outline of the window's place on the whole-capture strip.
pub(super) const WINDOW_EDGE: RGBColor = RGBColor(190, 120, 0);
/// Notes: what a panel shows, which labels had no room.
pub(super) const NOTE_COLOR: RGBColor = RGBColor(90, 90, 90);

/// Colours of the traces, one per panel in turn, so that panels of the same
/// capture do not look alike; red is left to the markers.
const PANEL_PALETTE: [RGBColor; 7] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// The colour of the `k`-th panel's trace.
pub(super) fn panel_color(k: usize) -> RGBColor {
    PANEL_PALETTE[k % PANEL_PALETTE.len()]
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
    use super::*;

    #[test]
    fn shorten_cuts_with_an_ellipsis() {
        assert_eq!(shorten("lowpass", 10), "lowpass");
        assert_eq!(shorten("lowpass", 4), "low…");
        assert_eq!(shorten("", 0), "");
    }

    #[test]
    fn panel_colours_leave_red_to_the_markers() {
        for k in 0..20 {
            assert_ne!(panel_color(k), MARKER_COLOR);
            assert_ne!(panel_color(k), PLOT_FRAME_COLOR);
        }
        assert_ne!(panel_color(0), panel_color(1));
    }
}
