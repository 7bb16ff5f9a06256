//! Running second-order sections over a signal: `sosfilt`, `sosfilt_zi` and
//! `sosfiltfilt` as SciPy defines them.
//!
//! The kernel keeps every section's state in registers and runs up to four
//! sections per pass over the data, one sample through all of them before the
//! next, so the sections' recurrences overlap instead of waiting on each
//! other. After the first two samples (computed exactly as SciPy's transposed
//! direct form II does, so initial conditions mean the same thing) each
//! section runs in direct form I, whose loop-carried dependency is one
//! multiply and one subtract per sample.

use tracekit_core::StageError;

use super::design::Section;

/// Sections run together in one pass over the data.
const GROUP: usize = 4;

/// Filters `x` through the cascade starting from rest, like
/// `scipy.signal.sosfilt(sos, x)`.
///
/// Each section is divided by its `a0` first (SciPy requires `a0 == 1`).
///
/// ```
/// use tracekit_dsp::sos::sosfilt;
///
/// // y[n] = x[n] + 0.5 y[n-1]
/// let y = sosfilt(&[[1.0, 0.0, 0.0, 1.0, -0.5, 0.0]], &[1.0, 0.0, 0.0]);
/// assert_eq!(y, vec![1.0, 0.5, 0.25]);
/// ```
pub fn sosfilt(sos: &[Section], x: &[f64]) -> Vec<f64> {
    let mut y = x.to_vec();
    let mut state = vec![[0.0; 2]; sos.len()];
    run(&normalized(sos), &mut y, &mut state, false);
    y
}

/// Filters `data` in place from the initial conditions `zi` (one
/// `[z0, z1]` pair per section, SciPy's `zi` layout), leaving the final
/// conditions in `zi`: `sosfilt(sos, x, zi=zi)`.
///
/// Fails when `zi` does not have one pair per section.
pub fn sosfilt_in_place(
    sos: &[Section],
    data: &mut [f64],
    zi: &mut [[f64; 2]],
) -> Result<(), StageError> {
    if zi.len() != sos.len() {
        return Err(format!(
            "initial conditions have {} pairs, the filter has {} sections",
            zi.len(),
            sos.len()
        )
        .into());
    }
    run(&normalized(sos), data, zi, false);
    Ok(())
}

/// Initial conditions for the step response's steady state, like
/// `scipy.signal.sosfilt_zi(sos)`: scaled by the first sample, they start the
/// filter as if the signal had always had that value.
pub fn sosfilt_zi(sos: &[Section]) -> Vec<[f64; 2]> {
    let mut scale = 1.0;
    normalized(sos)
        .iter()
        .map(|s| {
            let zi = lfilter_zi(s);
            let out = [scale * zi[0], scale * zi[1]];
            scale *= (s[0] + s[1] + s[2]) / (s[3] + s[4] + s[5]);
            out
        })
        .collect()
}

/// The number of samples `sosfiltfilt` adds at each end: SciPy's default
/// `3 * (2 * len(sos) + 1 - min(#(b2 == 0), #(a2 == 0)))`.
pub fn sosfiltfilt_padlen(sos: &[Section]) -> usize {
    let b2_zero = sos.iter().filter(|s| s[2] == 0.0).count();
    let a2_zero = sos.iter().filter(|s| s[5] == 0.0).count();
    3 * (2 * sos.len() + 1 - b2_zero.min(a2_zero))
}

/// Zero-phase filtering, forward then backward, like
/// `scipy.signal.sosfiltfilt(sos, x)` with its default odd extension of
/// [`sosfiltfilt_padlen`] samples at each end and `sosfilt_zi` initial
/// conditions.
///
/// Fails, as SciPy does, unless `x` is longer than the padding.
///
/// ```
/// use tracekit_dsp::sos::{Band, butter_sos, sosfiltfilt};
///
/// let sos = butter_sos(4, Band::Lowpass(50.0), 1000.0)?;
/// let y = sosfiltfilt(&sos, &vec![2.0; 100])?;
/// assert!(y.iter().all(|v| (v - 2.0).abs() < 1e-9)); // a constant passes unchanged
/// assert!(sosfiltfilt(&sos, &[1.0; 10]).is_err()); // shorter than the padding (27)
/// # Ok::<(), tracekit_core::StageError>(())
/// ```
pub fn sosfiltfilt(sos: &[Section], x: &[f64]) -> Result<Vec<f64>, StageError> {
    let n = x.len();
    let edge = sosfiltfilt_padlen(sos);
    if n <= edge {
        return Err(format!(
            "zero-phase filtering needs more samples than the padding length {edge}, got {n}"
        )
        .into());
    }
    let sos = normalized(sos);
    let (first, last) = (x[0], x[n - 1]);
    let mut ext = Vec::with_capacity(n + 2 * edge);
    ext.extend(x[1..=edge].iter().rev().map(|v| 2.0 * first - v));
    ext.extend_from_slice(x);
    ext.extend(x[n - 1 - edge..n - 1].iter().rev().map(|v| 2.0 * last - v));

    let zi = sosfilt_zi(&sos);
    let scaled = |by: f64| -> Vec<[f64; 2]> { zi.iter().map(|z| [z[0] * by, z[1] * by]).collect() };
    let mut state = scaled(ext[0]);
    run(&sos, &mut ext, &mut state, false);
    let mut state = scaled(ext[ext.len() - 1]);
    run(&sos, &mut ext, &mut state, true);
    ext.copy_within(edge..edge + n, 0);
    ext.truncate(n);
    Ok(ext)
}

/// The sections with `a0 == 1`.
fn normalized(sos: &[Section]) -> Vec<Section> {
    sos.iter()
        .map(|s| {
            if s[3] == 1.0 {
                *s
            } else {
                let a0 = s[3];
                [s[0] / a0, s[1] / a0, s[2] / a0, 1.0, s[4] / a0, s[5] / a0]
            }
        })
        .collect()
}

/// `lfilter_zi` for one section: solves `(I - A) zi = B` by LU with partial
/// pivoting, as LAPACK's `gesv` does for this 2x2 system.
fn lfilter_zi(s: &Section) -> [f64; 2] {
    let (b0, b1, b2, a1, a2) = (s[0], s[1], s[2], s[4], s[5]);
    let rhs = [b1 - a1 * b0, b2 - a2 * b0];
    let m = [[1.0 + a1, -1.0], [a2, 1.0]];
    let (rows, rhs) = if m[1][0].abs() > m[0][0].abs() {
        ([m[1], m[0]], [rhs[1], rhs[0]])
    } else {
        (m, rhs)
    };
    let l = rows[1][0] * (1.0 / rows[0][0]);
    let u11 = rows[1][1] - l * rows[0][1];
    let y1 = rhs[1] - l * rhs[0];
    let x1 = y1 / u11;
    let x0 = (rhs[0] - x1 * rows[0][1]) / rows[0][0];
    [x0, x1]
}

/// Runs the cascade over `data` (backward when `reverse`), in groups of sections.
fn run(sos: &[Section], data: &mut [f64], state: &mut [[f64; 2]], reverse: bool) {
    for (secs, st) in sos.chunks(GROUP).zip(state.chunks_mut(GROUP)) {
        match (secs.len(), reverse) {
            (1, false) => group::<1, false>(secs, st, data),
            (2, false) => group::<2, false>(secs, st, data),
            (3, false) => group::<3, false>(secs, st, data),
            (_, false) => group::<GROUP, false>(secs, st, data),
            (1, true) => group::<1, true>(secs, st, data),
            (2, true) => group::<2, true>(secs, st, data),
            (3, true) => group::<3, true>(secs, st, data),
            (_, true) => group::<GROUP, true>(secs, st, data),
        }
    }
}

/// `N` sections over the data, each sample through all of them in turn.
fn group<const N: usize, const REV: bool>(secs: &[Section], zi: &mut [[f64; 2]], data: &mut [f64]) {
    let coef: [Section; N] = std::array::from_fn(|s| secs[s]);
    let mut z: [[f64; 2]; N] = std::array::from_fn(|s| zi[s]);
    let n = data.len();
    let head = n.min(2);
    // Inputs and outputs of every section at the first two samples.
    let mut xs = [[0.0; 2]; N];
    let mut ys = [[0.0; 2]; N];
    for i in 0..head {
        let idx = if REV { n - 1 - i } else { i };
        let mut x = data[idx];
        for s in 0..N {
            let c = &coef[s];
            let y = c[0] * x + z[s][0];
            z[s][0] = c[1] * x - c[4] * y + z[s][1];
            z[s][1] = c[2] * x - c[5] * y;
            xs[s][i] = x;
            ys[s][i] = y;
            x = y;
        }
        data[idx] = x;
    }
    if n <= 2 {
        zi.copy_from_slice(&z);
        return;
    }
    // Direct form I from here on: state [x[n-1], x[n-2], y[n-1], y[n-2]].
    let mut st: [[f64; 4]; N] = std::array::from_fn(|s| [xs[s][1], xs[s][0], ys[s][1], ys[s][0]]);
    if REV {
        df1::<N>(&coef, &mut st, data[..n - 2].iter_mut().rev());
    } else {
        df1::<N>(&coef, &mut st, data[2..].iter_mut());
    }
    for s in 0..N {
        let (c, [x1, x2, y1, y2]) = (&coef[s], st[s]);
        zi[s] = [
            c[1] * x1 - c[4] * y1 + (c[2] * x2 - c[5] * y2),
            c[2] * x1 - c[5] * y1,
        ];
    }
}

#[inline(always)]
fn df1<'a, const N: usize>(
    coef: &[Section; N],
    st: &mut [[f64; 4]; N],
    samples: impl Iterator<Item = &'a mut f64>,
) {
    let mut s_local = *st;
    for v in samples {
        let mut x = *v;
        for s in 0..N {
            let c = &coef[s];
            let [x1, x2, y1, y2] = s_local[s];
            let t = c[0] * x + c[1] * x1 + c[2] * x2 - c[5] * y2;
            let y = t - c[4] * y1;
            s_local[s] = [x, x1, y, y1];
            x = y;
        }
        *v = x;
    }
    *st = s_local;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SciPy's transposed direct form II, sample by sample.
    fn reference(sos: &[Section], x: &[f64], zi: &mut [[f64; 2]]) -> Vec<f64> {
        x.iter()
            .map(|&v| {
                let mut x = v;
                for (c, z) in sos.iter().zip(zi.iter_mut()) {
                    let y = c[0] * x + z[0];
                    z[0] = c[1] * x - c[4] * y + z[1];
                    z[1] = c[2] * x - c[5] * y;
                    x = y;
                }
                x
            })
            .collect()
    }

    #[test]
    fn matches_transposed_form_with_state() {
        let sos: Vec<Section> = (0..7)
            .map(|i| {
                let f = i as f64 * 0.1;
                [0.2 + f, -0.1, 0.05 * f, 1.0, -0.9 + 0.1 * f, 0.3 - 0.02 * f]
            })
            .collect();
        let x: Vec<f64> = (0..50)
            .map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.3)
            .collect();
        for len in [0, 1, 2, 3, 50] {
            let mut zi: Vec<[f64; 2]> = (0..7).map(|i| [0.1 * i as f64, -0.05]).collect();
            let mut zr = zi.clone();
            let want = reference(&sos, &x[..len], &mut zr);
            let mut got = x[..len].to_vec();
            sosfilt_in_place(&sos, &mut got, &mut zi).unwrap();
            for (g, w) in got
                .iter()
                .zip(&want)
                .chain(zi.iter().flatten().zip(zr.iter().flatten()))
            {
                assert!(
                    (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
                    "len {len}: {g} vs {w}"
                );
            }
        }
    }

    #[test]
    fn zi_is_the_step_steady_state() {
        let sos = [
            [0.1, 0.2, 0.1, 1.0, -1.2, 0.5],
            [1.0, -2.0, 1.0, 1.0, -1.5, 0.7],
        ];
        let mut zi = sosfilt_zi(&sos);
        let mut y = vec![1.0; 20];
        sosfilt_in_place(&sos, &mut y, &mut zi).unwrap();
        let gain: f64 = sos
            .iter()
            .map(|s| s[..3].iter().sum::<f64>() / s[3..].iter().sum::<f64>())
            .product();
        assert!(y.iter().all(|v| (v - gain).abs() < 1e-12), "{y:?}");
    }

    #[test]
    fn padlen_counts_first_order_sections() {
        let full = [1.0, 2.0, 1.0, 1.0, 0.1, 0.2];
        let first = [1.0, 1.0, 0.0, 1.0, 0.1, 0.0];
        assert_eq!(sosfiltfilt_padlen(&[full, full]), 15);
        assert_eq!(sosfiltfilt_padlen(&[first, full]), 12);
    }
}
