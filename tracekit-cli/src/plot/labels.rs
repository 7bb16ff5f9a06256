//! Where marker labels go: in rows at the top of the plot area, each box
//! above its own marker line, clear of every other box and every other
//! marker's line; a label with no such place is dropped (and listed by the
//! caller instead).
//!
//! The plot keeps the trace below the rows ([`Placement::band_height`]), so
//! a placed label touches neither the trace nor another line.

/// A rectangle in pixels: `left..right` by `top..bottom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rect {
    /// The left edge.
    pub(crate) left: i32,
    /// The top edge.
    pub(crate) top: i32,
    /// The right edge, past the last pixel.
    pub(crate) right: i32,
    /// The bottom edge, past the last pixel.
    pub(crate) bottom: i32,
}

impl Rect {
    /// Whether the two rectangles share any pixel once each is grown by `gap`.
    pub(crate) fn overlaps(&self, other: &Rect, gap: i32) -> bool {
        self.left - gap < other.right
            && other.left - gap < self.right
            && self.top - gap < other.bottom
            && other.top - gap < self.bottom
    }

    /// Whether `other` lies wholly inside this rectangle.
    #[cfg(test)]
    pub(crate) fn contains(&self, other: &Rect) -> bool {
        other.left >= self.left
            && other.right <= self.right
            && other.top >= self.top
            && other.bottom <= self.bottom
    }

    /// Whether the vertical line at `x` passes through this rectangle grown
    /// by `gap` sideways.
    fn crossed_at(&self, x: i32, gap: i32) -> bool {
        self.left - gap <= x && x < self.right + gap
    }
}

/// Space kept between two boxes, and between a box and another line.
pub(crate) const GAP: i32 = 3;
/// Padding between a label's text and its box.
pub(crate) const PAD: i32 = 2;
/// The most rows of labels a panel gives up to them.
pub(crate) const MAX_ROWS: usize = 3;

/// A label to place: the pixel column of its marker line and the size of
/// its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wanted {
    /// The marker line's pixel column.
    pub(crate) x: i32,
    /// Text width in pixels.
    pub(crate) width: i32,
    /// Text height in pixels.
    pub(crate) height: i32,
}

/// Where the labels went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Placement {
    /// For each label, in the order asked: its box, or `None` if dropped.
    pub(crate) boxes: Vec<Option<Rect>>,
    /// Pixels from the top of the plot area to below the lowest row used
    /// (0 if no label was placed): the trace stays below this.
    pub(crate) band_height: i32,
}

impl Placement {
    /// How far up the marker line of label `i` reaches: the bottom of its
    /// box, or the bottom of the band for a dropped label.
    pub(crate) fn line_top(&self, i: usize, plot: &Rect) -> i32 {
        match self.boxes.get(i).copied().flatten() {
            Some(b) => b.bottom,
            None => plot.top + self.band_height,
        }
    }
}

/// Places `wanted` (most important first) in up to [`MAX_ROWS`] rows at the
/// top of `plot`, each box centred over its marker where the edges allow.
///
/// A box goes in the highest row where it overlaps no other box, no marker
/// line of a label placed higher passes through it, and its own line (which
/// runs from its box down through the rows below) passes through no box
/// there. The rows all fit in the top third of the plot area; labels wider
/// than the plot, or with no room, are dropped. The work is quadratic in
/// the labels, so callers keep their number small.
pub(crate) fn place(wanted: &[Wanted], plot: &Rect) -> Placement {
    let width = plot.right - plot.left;
    let height = plot.bottom - plot.top;
    let mut boxes: Vec<Option<Rect>> = vec![None; wanted.len()];
    // (row, box, marker column) of each placed label.
    let mut placed: Vec<(usize, Rect, i32)> = Vec::new();
    let mut lowest: Option<i32> = None;
    for (i, w) in wanted.iter().enumerate() {
        let (bw, bh) = (w.width + 2 * PAD, w.height + 2 * PAD);
        let inside = w.x >= plot.left && w.x < plot.right;
        if !inside || bw > width || bh <= 0 || bw <= 0 {
            continue;
        }
        let left = (w.x - bw / 2).clamp(plot.left, plot.right - bw);
        for row in 0..MAX_ROWS {
            let top = plot.top + GAP + row as i32 * (bh + GAP);
            let candidate = Rect {
                left,
                top,
                right: left + bw,
                bottom: top + bh,
            };
            if candidate.bottom - plot.top > height / 3 {
                break;
            }
            let clear = placed.iter().all(|&(r, b, x)| {
                let same_row = r == row && b.overlaps(&candidate, GAP);
                let their_line_here = r < row && candidate.crossed_at(x, GAP);
                let my_line_there = r > row && b.crossed_at(w.x, GAP);
                !(same_row || their_line_here || my_line_there)
            });
            if clear {
                boxes[i] = Some(candidate);
                placed.push((row, candidate, w.x));
                lowest = Some(lowest.map_or(candidate.bottom, |l| l.max(candidate.bottom)));
                break;
            }
        }
    }
    Placement {
        boxes,
        band_height: lowest.map_or(0, |l| l - plot.top + GAP),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLOT: Rect = Rect {
        left: 80,
        top: 30,
        right: 980,
        bottom: 230,
    };

    fn wanted(x: i32, width: i32) -> Wanted {
        Wanted {
            x,
            width,
            height: 12,
        }
    }

    /// The rules every placement keeps, whatever it was asked.
    fn assert_rules(w: &[Wanted], p: &Placement) {
        assert_eq!(p.boxes.len(), w.len());
        for (i, b) in p.boxes.iter().enumerate() {
            let Some(b) = b else { continue };
            assert!(PLOT.contains(b), "box {i} {b:?} leaves the plot");
            assert!(
                b.bottom - PLOT.top <= p.band_height,
                "box {i} below the band"
            );
            assert!(
                b.left <= w[i].x && w[i].x < b.right,
                "box {i} not over its line"
            );
            for (j, other) in p.boxes.iter().enumerate() {
                if i == j {
                    continue;
                }
                if let Some(o) = other {
                    assert!(!b.overlaps(o, 0), "boxes {i} and {j} overlap");
                }
                // Line j runs from its top down to the plot's bottom.
                let x = w[j].x;
                let top = p.line_top(j, &PLOT);
                let crosses = b.left <= x && x < b.right && top < b.bottom;
                assert!(!crosses, "line {j} crosses box {i}: {b:?} top {top}");
            }
        }
    }

    #[test]
    fn spread_labels_share_the_top_row() {
        let w = [wanted(100, 40), wanted(300, 20), wanted(500, 20)];
        let p = place(&w, &PLOT);
        assert_rules(&w, &p);
        let tops: Vec<i32> = p.boxes.iter().map(|b| b.unwrap().top).collect();
        assert_eq!(tops, [PLOT.top + GAP; 3]);
        assert_eq!(p.band_height, GAP + 12 + 2 * PAD + GAP);
    }

    #[test]
    fn crowded_labels_step_down_clear_of_lines_or_drop() {
        // The demo's harmonics on a log axis: f0, H2..H6 ever closer.
        let xs = [500, 545, 571, 590, 604, 616];
        let mut w: Vec<Wanted> = xs.iter().map(|&x| wanted(x, 16)).collect();
        w[0].width = 58;
        let p = place(&w, &PLOT);
        assert_rules(&w, &p);
        assert!(p.boxes[0].is_some() && p.boxes[1].is_some());
        // Forty lines 4 pixels apart: not all of them find room.
        let packed: Vec<Wanted> = (0..40).map(|k| wanted(400 + 4 * k, 16)).collect();
        let p = place(&packed, &PLOT);
        assert_rules(&packed, &p);
        assert!(p.boxes.iter().any(Option::is_none), "some are dropped");
        assert!(p.band_height <= (PLOT.bottom - PLOT.top) / 3 + GAP);
    }

    #[test]
    fn labels_at_the_edges_stay_inside() {
        let w = [
            wanted(PLOT.left, 50),
            wanted(PLOT.right - 1, 50),
            wanted(PLOT.left - 10, 10),
            wanted(500, 2000),
        ];
        let p = place(&w, &PLOT);
        assert_rules(&w, &p);
        assert!(p.boxes[0].is_some() && p.boxes[1].is_some());
        assert_eq!(p.boxes[2], None, "marker outside the plot");
        assert_eq!(p.boxes[3], None, "wider than the plot");
        let tiny = Rect {
            left: 0,
            top: 0,
            right: 30,
            bottom: 20,
        };
        let p = place(&[wanted(10, 10)], &tiny);
        assert_eq!((p.boxes[0], p.band_height), (None, 0), "no room at all");
    }

    #[test]
    fn random_markers_keep_the_rules() {
        // A small linear congruential generator: reproducible, no dependency.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: i32| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) % m as u64) as i32
        };
        for _ in 0..200 {
            let n = 1 + next(12) as usize;
            let w: Vec<Wanted> = (0..n)
                .map(|_| wanted(PLOT.left - 20 + next(940), 8 + next(60)))
                .collect();
            assert_rules(&w, &place(&w, &PLOT));
        }
    }
}
