//! Decimation per pixel column: a long trace reduced to the first, smallest,
//! largest and last sample of each column it falls in, so that every peak
//! survives on screen (unlike skipping samples) and the line between
//! columns joins the samples that really follow each other.
//!
//! It works for any monotone mapping from samples to columns, so a linear
//! time axis, a window of it and a logarithmic frequency axis decimate alike.

use std::ops::Range;

/// The polylines that draw the samples `range`: sample `i` sits at
/// `x_of(i)` (chart coordinates) with value `y_of(i)` (`None` for a gap, a
/// NaN say), in pixel column `column_of(x_of(i))`.
///
/// A column of one or two samples keeps them as they are; a longer one
/// keeps its first, smallest, largest and last sample, in sample order. So
/// the output holds at most four points per column (and never more points
/// than samples), whatever the length of the trace.
///
/// ```ignore
/// // 1000 samples over 10 columns: 40 points, the spike among them.
/// let mut s = vec![0.0; 1000];
/// s[123] = 9.0;
/// let lines = column_points(0..1000, |i| i as f64, |i| Some(s[i]), |x| (x / 100.0) as i64);
/// assert!(lines[0].len() <= 40 && lines[0].contains(&(123.0, 9.0)));
/// ```
pub(super) fn column_points(
    range: Range<usize>,
    x_of: impl Fn(usize) -> f64,
    y_of: impl Fn(usize) -> Option<f64>,
    column_of: impl Fn(f64) -> i64,
) -> Vec<Vec<(f64, f64)>> {
    let mut lines = Vec::new();
    let mut line: Vec<(f64, f64)> = Vec::new();
    let mut column: Option<(i64, Column)> = None;
    for i in range {
        let x = x_of(i);
        let Some(y) = y_of(i).filter(|y| y.is_finite() && x.is_finite()) else {
            if let Some((_, c)) = column.take() {
                c.flush(&mut line);
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            continue;
        };
        let col = column_of(x);
        match &mut column {
            Some((at, c)) if *at == col => c.add(i, x, y),
            _ => {
                if let Some((_, c)) = column.replace((col, Column::new(i, x, y))) {
                    c.flush(&mut line);
                }
            }
        }
    }
    if let Some((_, c)) = column {
        c.flush(&mut line);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The envelope of the samples `range` (placed as in [`column_points`]):
/// for each pixel column, the x of its first sample with the smallest and
/// largest value, split into runs at gaps. Drawn as a filled band, it shows
/// the shape of a capture far longer than the picture is wide.
pub(super) fn column_envelope(
    range: Range<usize>,
    x_of: impl Fn(usize) -> f64,
    y_of: impl Fn(usize) -> Option<f64>,
    column_of: impl Fn(f64) -> i64,
) -> Vec<Vec<(f64, f64, f64)>> {
    let mut runs = Vec::new();
    let mut run: Vec<(f64, f64, f64)> = Vec::new();
    let mut column: Option<(i64, (f64, f64, f64))> = None;
    for i in range {
        let x = x_of(i);
        let Some(y) = y_of(i).filter(|y| y.is_finite() && x.is_finite()) else {
            run.extend(column.take().map(|(_, c)| c));
            if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
            continue;
        };
        let col = column_of(x);
        match &mut column {
            Some((at, (_, lo, hi))) if *at == col => {
                *lo = lo.min(y);
                *hi = hi.max(y);
            }
            _ => run.extend(column.replace((col, (x, y, y))).map(|(_, c)| c)),
        }
    }
    run.extend(column.map(|(_, c)| c));
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// The samples of one pixel column that are drawn.
#[derive(Debug, Clone, Copy)]
struct Column {
    /// (index, x, y) of the first, smallest, largest and last sample.
    first: (usize, f64, f64),
    min: (usize, f64, f64),
    max: (usize, f64, f64),
    last: (usize, f64, f64),
}

impl Column {
    /// A column holding sample `i` alone.
    fn new(i: usize, x: f64, y: f64) -> Column {
        let p = (i, x, y);
        Column {
            first: p,
            min: p,
            max: p,
            last: p,
        }
    }

    /// Adds sample `i`, the latest of the column.
    fn add(&mut self, i: usize, x: f64, y: f64) {
        let p = (i, x, y);
        if y < self.min.2 {
            self.min = p;
        }
        if y > self.max.2 {
            self.max = p;
        }
        self.last = p;
    }

    /// Appends the kept samples to `line`, in sample order, each once.
    fn flush(self, line: &mut Vec<(f64, f64)>) {
        let mut kept = [self.first, self.min, self.max, self.last];
        kept.sort_by_key(|p| p.0);
        let mut previous = None;
        for (i, x, y) in kept {
            if previous != Some(i) {
                line.push((x, y));
                previous = Some(i);
            }
        }
    }
}

/// The smallest and largest finite value, or `None` if there is none.
pub(super) fn finite_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in values {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    (lo <= hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear(samples: &[f64], columns: i64) -> Vec<Vec<(f64, f64)>> {
        let n = samples.len() as f64;
        column_points(
            0..samples.len(),
            |i| i as f64,
            |i| Some(samples[i]),
            |x| (x / n * columns as f64) as i64,
        )
    }

    #[test]
    fn single_sample_spikes_survive() {
        let mut samples = vec![0.5; 1 << 20];
        samples[123_457] = 42.0;
        samples[900_001] = -17.0;
        let lines = linear(&samples, 1000);
        assert_eq!(lines.len(), 1);
        let points = &lines[0];
        assert!(points.len() <= 4000, "{}", points.len());
        assert!(points.contains(&(123_457.0, 42.0)));
        assert!(points.contains(&(900_001.0, -17.0)));
        // In sample order, so the polyline never runs backwards.
        assert!(points.windows(2).all(|w| w[0].0 < w[1].0));
        // Skipping samples (every 1048th) would have lost both.
        let skipped: Vec<f64> = samples.iter().step_by(1 << 20 >> 10).copied().collect();
        assert!(!skipped.contains(&42.0) && !skipped.contains(&-17.0));
    }

    #[test]
    fn sparse_columns_keep_every_sample() {
        let s = [3.0, 1.0, 4.0, 1.0, 5.0];
        let lines = linear(&s, 100);
        let ys: Vec<f64> = lines[0].iter().map(|p| p.1).collect();
        assert_eq!(ys, s);
        assert!(linear(&[], 10).is_empty());
    }

    #[test]
    fn gaps_split_lines() {
        let s = [f64::NAN, 1.0, 2.0, f64::INFINITY, 3.0, f64::NAN];
        let lines = linear(&s, 100);
        let ys: Vec<Vec<f64>> = lines
            .iter()
            .map(|l| l.iter().map(|p| p.1).collect())
            .collect();
        assert_eq!(ys, vec![vec![1.0, 2.0], vec![3.0]]);
        // Non-finite x is a gap too.
        let lines = column_points(
            0..3,
            |i| [0.0, f64::NAN, 2.0][i],
            |_| Some(1.0),
            |x| x as i64,
        );
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn envelopes_hold_each_columns_extremes() {
        let s = [0.0, 5.0, -1.0, 2.0, f64::NAN, 3.0, 4.0];
        let runs = column_envelope(
            0..s.len(),
            |i| i as f64,
            |i| Some(s[i]),
            |x| (x / 2.0) as i64,
        );
        assert_eq!(
            runs,
            vec![
                vec![(0.0, 0.0, 5.0), (2.0, -1.0, 2.0)],
                vec![(5.0, 3.0, 3.0), (6.0, 4.0, 4.0)]
            ]
        );
        let long: Vec<f64> = (0..1 << 20).map(|i| f64::from(i % 7)).collect();
        let n = long.len() as f64;
        let runs = column_envelope(
            0..long.len(),
            |i| i as f64,
            |i| Some(long[i]),
            |x| (x / n * 500.0) as i64,
        );
        assert_eq!(runs[0].len(), 500);
        assert!(runs[0].iter().all(|c| (c.1, c.2) == (0.0, 6.0)));
    }

    #[test]
    fn finite_range_skips_what_is_not_finite() {
        let s = [f64::NAN, f64::INFINITY, 1.0, 2.0, f64::NEG_INFINITY];
        assert_eq!(finite_range(s), Some((1.0, 2.0)));
        assert_eq!(finite_range([f64::NAN]), None);
        assert_eq!(finite_range([]), None);
    }
}
