//! Min/max decimation: a long trace reduced to one (min, max) pair per pixel
//! column, so that every peak survives on screen, unlike skipping samples.

/// The index range `[first, end)` of `column` when `len` samples are split into
/// `columns` nearly equal, contiguous, non-empty runs (`columns <= len`).
pub(super) fn column_bounds(len: usize, columns: usize, column: usize) -> (usize, usize) {
    // `len * column` cannot overflow for any slice that fits in memory times
    // a pixel count; u128 keeps it exact anyway.
    let at = |c: usize| ((len as u128 * c as u128) / columns as u128) as usize;
    (at(column), at(column + 1))
}

/// The smallest and largest finite sample of each of `columns` contiguous runs
/// of `samples`.
///
/// The runs split the trace as evenly as possible and each holds at least one
/// sample: when there are fewer samples than columns, one column per sample is
/// returned. A run without any finite sample (all NaN or infinite) gives
/// `(NaN, NaN)`, which the plots draw as a gap. No samples or no columns give
/// an empty vector.
///
/// ```ignore
/// let spike = [0.0, 0.0, 9.0, 0.0, 0.0, 0.0, -1.0, 0.0];
/// assert_eq!(minmax_columns(&spike, 2), vec![(0.0, 9.0), (-1.0, 0.0)]);
/// ```
pub(crate) fn minmax_columns(samples: &[f64], columns: usize) -> Vec<(f64, f64)> {
    let columns = columns.min(samples.len());
    (0..columns)
        .map(|c| {
            let (first, end) = column_bounds(samples.len(), columns, c);
            finite_range(&samples[first..end]).unwrap_or((f64::NAN, f64::NAN))
        })
        .collect()
}

/// The smallest and largest finite value, or `None` if there is none.
pub(super) fn finite_range(samples: &[f64]) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &v in samples {
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

    #[test]
    fn single_sample_spike_survives() {
        let mut samples = vec![0.5; 1 << 20];
        samples[123_457] = 42.0;
        samples[900_001] = -17.0;
        let cols = minmax_columns(&samples, 1000);
        assert_eq!(cols.len(), 1000);
        let hi = cols.iter().map(|c| c.1).fold(f64::MIN, f64::max);
        let lo = cols.iter().map(|c| c.0).fold(f64::MAX, f64::min);
        assert_eq!((lo, hi), (-17.0, 42.0));
        // Exactly one column holds each spike; all others are flat.
        assert_eq!(cols.iter().filter(|c| c.1 == 42.0).count(), 1);
        assert_eq!(cols.iter().filter(|c| c.0 == -17.0).count(), 1);
        assert_eq!(cols.iter().filter(|c| **c == (0.5, 0.5)).count(), 998);
        // Skipping samples (every 1048th) would have lost both.
        let skipped: Vec<f64> = samples.iter().step_by(1 << 20 >> 10).copied().collect();
        assert!(!skipped.contains(&42.0) && !skipped.contains(&-17.0));
    }

    #[test]
    fn columns_cover_every_sample_once() {
        for (len, cols) in [(10, 3), (1000, 7), (5, 5), (1 << 24, 997)] {
            let mut next = 0;
            for c in 0..cols {
                let (a, b) = column_bounds(len, cols, c);
                assert_eq!(a, next, "len {len} cols {cols} column {c}");
                assert!(b > a, "empty column {c} of {cols} over {len}");
                next = b;
            }
            assert_eq!(next, len);
        }
    }

    #[test]
    fn short_and_empty_inputs() {
        assert_eq!(
            minmax_columns(&[3.0, 1.0], 10),
            vec![(3.0, 3.0), (1.0, 1.0)]
        );
        assert!(minmax_columns(&[], 10).is_empty());
        assert!(minmax_columns(&[1.0], 0).is_empty());
    }

    #[test]
    fn non_finite_samples_are_gaps() {
        let s = [
            f64::NAN,
            f64::INFINITY,
            1.0,
            2.0,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let cols = minmax_columns(&s, 3);
        assert!(cols[0].0.is_nan() && cols[0].1.is_nan());
        assert_eq!(cols[1], (1.0, 2.0));
        assert!(cols[2].0.is_nan());
        assert_eq!(finite_range(&s), Some((1.0, 2.0)));
        assert_eq!(finite_range(&[f64::NAN]), None);
    }
}
