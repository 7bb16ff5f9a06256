//! Running second-order sections over a signal: `sosfilt`, `sosfilt_zi` and
//! `sosfiltfilt` as SciPy defines them.
//!
//! The kernel keeps every section's state in registers and runs up to four
//! sections together, one sample through all of them before the next, so the
//! sections' recurrences overlap instead of waiting on each other. After the
//! first two samples (computed exactly as SciPy's transposed direct form II
//! does, so initial conditions mean the same thing) each section runs in
//! direct form I, whose loop-carried dependency is one multiply and one
//! subtract per sample.
//!
//! A [`Cascade`] filters a signal block by block, every group of sections
//! over one block before the next block, so a long cascade passes over the
//! data once and the block stays in the cache between groups. Zero-phase
//! filtering copies the input and its back extension into the one buffer it
//! returns and runs the forward, then the backward cascade over it in place;
//! the front extension is filtered on its own, for the state it leaves.

use tracekit_core::{
    StageError,
    buffer::{AllocError, SampleVec},
};

use super::design::Section;
use crate::pooled::{extend_blocks, try_copy};

/// Sections run together in one pass over a block.
const GROUP: usize = 4;

/// Groups of at least this many sections run skewed (see [`df1`]): four
/// gain about a quarter; two and three lose a little, their recurrences
/// being short enough to overlap anyway.
const SKEWED: usize = 4;

/// Samples filtered in place per block by [`Cascade::filter_in_place`].
const BLOCK: usize = 2048;

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
    Cascade::from_rest(&normalized(sos)).filter_in_place::<false>(&mut y);
    y
}

/// [`sosfilt`] into a buffer from the pool: `make(len)` gives an empty one
/// (an output or a scratch buffer).
pub(crate) fn sosfilt_pooled(
    sos: &[Section],
    x: &[f64],
    make: fn(usize) -> Result<SampleVec, AllocError>,
) -> Result<SampleVec, AllocError> {
    let mut y = make(x.len())?;
    y.extend_from_slice(x);
    Cascade::from_rest(&normalized(sos)).filter_in_place::<false>(&mut y);
    Ok(y)
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
    let mut cascade = Cascade::new(&normalized(sos), zi);
    cascade.filter_in_place::<false>(data);
    cascade.final_conditions(zi);
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
/// Fails, as SciPy does, unless `x` is longer than the padding, and when
/// memory for the result cannot be had.
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
    let y = sosfiltfilt_pooled(sos, x, SampleVec::scratch)?;
    Ok(try_copy(&y)?)
}

/// [`sosfiltfilt`] into a buffer from the pool: `make(capacity)` gives an
/// empty one (an output or a scratch buffer), which is filled and returned.
pub(crate) fn sosfiltfilt_pooled(
    sos: &[Section],
    x: &[f64],
    make: fn(usize) -> Result<SampleVec, AllocError>,
) -> Result<SampleVec, StageError> {
    let n = x.len();
    let edge = sosfiltfilt_padlen(sos);
    if n <= edge {
        return Err(format!(
            "zero-phase filtering needs more samples than the padding length {edge}, got {n}"
        )
        .into());
    }
    let sos = normalized(sos);
    let zi = sosfilt_zi(&sos);
    let scaled = |by: f64| -> Vec<[f64; 2]> { zi.iter().map(|z| [z[0] * by, z[1] * by]).collect() };
    // The signal with its odd extensions: `edge` samples `2 x[0] - x[edge - i]`
    // before, then `x`, then `edge` samples `2 x[n-1] - x[n-2-i]` after.
    let (first, last) = (x[0], x[n - 1]);
    let extended = |i: usize| -> f64 {
        if i < edge {
            2.0 * first - x[edge - i]
        } else if i < edge + n {
            x[i - edge]
        } else {
            2.0 * last - x[2 * n + edge - 2 - i]
        }
    };
    // Forward. The outputs at the front extension are needed only for the
    // state they leave: they are filtered and dropped, and the buffer holds
    // the signal, then its back extension, filtered in place.
    let mut forward = Cascade::new(&sos, &scaled(extended(0)));
    let mut front: Vec<f64> = (0..edge).map(extended).collect();
    forward.process::<false>(&mut front);
    let mut y = make(n + edge)?;
    y.extend_from_slice(x);
    extend_blocks(&mut y, edge, |start, block| {
        for (i, v) in block.iter_mut().enumerate() {
            *v = extended(edge + n + start + i);
        }
    });
    forward.filter_in_place::<false>(&mut y);
    // Backward, in place, from the last forward output down to the one at
    // `x[0]`: the outputs at the front extension would be dropped, so they
    // are not computed.
    let mut backward = Cascade::new(&sos, &scaled(y[n + edge - 1]));
    backward.filter_in_place::<true>(&mut y);
    y.truncate(n);
    Ok(y)
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

/// Up to [`GROUP`] sections run together, and their state.
#[derive(Debug, Clone)]
struct Group {
    /// How many of the sections below are in use (1 to [`GROUP`]).
    len: usize,
    coef: [Section; GROUP],
    /// Transposed direct form II state `[z0, z1]`: the initial conditions,
    /// updated over the first two samples.
    z: [[f64; 2]; GROUP],
    /// Each section's inputs and outputs at the first two samples.
    xs: [[f64; 2]; GROUP],
    ys: [[f64; 2]; GROUP],
    /// Direct form I state `[x[n-1], x[n-2], y[n-1], y[n-2]]`, from the
    /// third sample on.
    st: [[f64; 4]; GROUP],
    /// Samples filtered so far.
    seen: usize,
}

/// A cascade of sections that filters a signal block by block: forward, or
/// backward with the blocks given from the end of the signal to its start.
#[derive(Debug, Clone)]
struct Cascade {
    groups: Vec<Group>,
}

impl Cascade {
    /// `sos` (normalised) starting from the conditions `zi`, one pair per section.
    fn new(sos: &[Section], zi: &[[f64; 2]]) -> Cascade {
        let groups = sos
            .chunks(GROUP)
            .zip(zi.chunks(GROUP))
            .map(|(secs, zi)| {
                let mut g = Group {
                    len: secs.len(),
                    coef: [[0.0; 6]; GROUP],
                    z: [[0.0; 2]; GROUP],
                    xs: [[0.0; 2]; GROUP],
                    ys: [[0.0; 2]; GROUP],
                    st: [[0.0; 4]; GROUP],
                    seen: 0,
                };
                g.coef[..secs.len()].copy_from_slice(secs);
                g.z[..zi.len()].copy_from_slice(zi);
                g
            })
            .collect();
        Cascade { groups }
    }

    /// `sos` (normalised) starting from rest.
    fn from_rest(sos: &[Section]) -> Cascade {
        Cascade::new(sos, &vec![[0.0; 2]; sos.len()])
    }

    /// Filters `data` in place, block by block (from its end when `REV`).
    fn filter_in_place<const REV: bool>(&mut self, data: &mut [f64]) {
        if REV {
            for block in data.rchunks_mut(BLOCK) {
                self.process::<true>(block);
            }
        } else {
            for block in data.chunks_mut(BLOCK) {
                self.process::<false>(block);
            }
        }
    }

    /// Filters the next block of the signal in place (from its end when `REV`).
    fn process<const REV: bool>(&mut self, block: &mut [f64]) {
        for g in &mut self.groups {
            match g.len {
                1 => g.run::<1, REV>(block),
                2 => g.run::<2, REV>(block),
                3 => g.run::<3, REV>(block),
                _ => g.run::<GROUP, REV>(block),
            }
        }
    }

    /// The final conditions, in SciPy's `zi` layout, into `zi`.
    fn final_conditions(&self, zi: &mut [[f64; 2]]) {
        for (g, zi) in self.groups.iter().zip(zi.chunks_mut(GROUP)) {
            for (s, z) in zi.iter_mut().enumerate() {
                *z = if g.seen <= 2 {
                    g.z[s]
                } else {
                    let (c, [x1, x2, y1, y2]) = (&g.coef[s], g.st[s]);
                    [
                        c[1] * x1 - c[4] * y1 + (c[2] * x2 - c[5] * y2),
                        c[2] * x1 - c[5] * y1,
                    ]
                };
            }
        }
    }
}

impl Group {
    /// The `N` sections over the block, each sample through all of them in turn.
    #[inline(never)]
    fn run<const N: usize, const REV: bool>(&mut self, data: &mut [f64]) {
        let coef: [Section; N] = std::array::from_fn(|s| self.coef[s]);
        let n = data.len();
        let mut done = 0;
        // The signal's first two samples in transposed direct form II.
        while self.seen < 2 && done < n {
            let idx = if REV { n - 1 - done } else { done };
            let mut x = data[idx];
            for (s, c) in coef.iter().enumerate() {
                let z = &mut self.z[s];
                let y = c[0] * x + z[0];
                z[0] = c[1] * x - c[4] * y + z[1];
                z[1] = c[2] * x - c[5] * y;
                self.xs[s][self.seen] = x;
                self.ys[s][self.seen] = y;
                x = y;
            }
            data[idx] = x;
            self.seen += 1;
            done += 1;
            if self.seen == 2 {
                for s in 0..N {
                    let (xs, ys) = (self.xs[s], self.ys[s]);
                    self.st[s] = [xs[1], xs[0], ys[1], ys[0]];
                }
            }
        }
        if done == n {
            return;
        }
        let mut st: [[f64; 4]; N] = std::array::from_fn(|s| self.st[s]);
        if REV {
            df1::<N, true>(&coef, &mut st, &mut data[..n - done]);
        } else {
            df1::<N, false>(&coef, &mut st, &mut data[done..]);
        }
        self.st[..N].copy_from_slice(&st);
        self.seen += n - done;
    }
}

/// One section in direct form I: the output for input `x`, with the state
/// `[x[n-1], x[n-2], y[n-1], y[n-2]]` moved on.
#[inline(always)]
fn section(c: &Section, st: &mut [f64; 4], x: f64) -> f64 {
    let [x1, x2, y1, y2] = *st;
    let t = c[0] * x + c[1] * x1 + c[2] * x2 - c[5] * y2;
    let y = scalar(t - c[4] * y1);
    *st = [x, x1, y, y1];
    y
}

/// `v`, kept a scalar: the skewed sections' updates look alike, and packed
/// into one vector they would wait on each other through the lanes.
#[inline(always)]
fn scalar(v: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        let mut v = v;
        // SAFETY:
        // - The template is empty: the instruction stream is unchanged, and
        //   `v` goes in and comes out of the same register untouched.
        unsafe {
            std::arch::asm!("/* {0} */", inout(xmm_reg) v, options(pure, nomem, nostack, preserves_flags));
        }
        v
    }
    #[cfg(not(target_arch = "x86_64"))]
    v
}

/// Each sample through all `N` sections in turn, in direct form I.
#[inline(always)]
fn through<'a, const N: usize>(
    coef: &[Section; N],
    st: &mut [[f64; 4]; N],
    samples: impl Iterator<Item = &'a mut f64>,
) {
    let mut s_local = *st;
    for v in samples {
        let mut x = *v;
        for s in 0..N {
            x = section(&coef[s], &mut s_local[s], x);
        }
        *v = x;
    }
    *st = s_local;
}

/// The `N` sections over `data` in direct form I (from its end when `REV`).
///
/// The sections run skewed: at each step section `s` filters the sample
/// that section `s - 1` filtered at the step before, so the `N` updates of
/// a step are independent of each other and the processor overlaps them
/// without having to look far ahead. Every section still sees its samples
/// in order, so the results are those of running each sample through all
/// the sections in turn.
#[inline(always)]
fn df1<const N: usize, const REV: bool>(
    coef: &[Section; N],
    st: &mut [[f64; 4]; N],
    data: &mut [f64],
) {
    let len = data.len();
    let at = |t: usize| if REV { len - 1 - t } else { t };
    let mut s_local = *st;
    if N < SKEWED || len < N {
        if REV {
            through(coef, st, data.iter_mut().rev());
        } else {
            through(coef, st, data.iter_mut());
        }
        return;
    }
    // `pending[s]`: the sample section `s` filters at the next step.
    let mut pending = [0.0; N];
    // Steps 0 to N - 2: only the first sections have a sample yet.
    for t in 0..N - 1 {
        pending[0] = data[at(t)];
        for s in (0..=t).rev() {
            pending[s + 1] = section(&coef[s], &mut s_local[s], pending[s]);
        }
    }
    for t in N - 1..len {
        pending[0] = data[at(t)];
        let mut out = 0.0;
        for s in (0..N).rev() {
            let y = section(&coef[s], &mut s_local[s], pending[s]);
            if s + 1 < N {
                pending[s + 1] = y;
            } else {
                out = y;
            }
        }
        data[at(t + 1 - N)] = out;
    }
    // Steps len to len + N - 2: the last sections finish the last samples.
    for t in len..len + N - 1 {
        let mut out = 0.0;
        for s in (t + 1 - len..N).rev() {
            let y = section(&coef[s], &mut s_local[s], pending[s]);
            if s + 1 < N {
                pending[s + 1] = y;
            } else {
                out = y;
            }
        }
        data[at(t + 1 - N)] = out;
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
    fn blocks_of_any_size_give_the_same_bits() {
        let sos: Vec<Section> = (0..6)
            .map(|i| {
                let f = i as f64 * 0.1;
                [0.2 + f, -0.1, 0.05 * f, 1.0, -0.9 + 0.1 * f, 0.3 - 0.02 * f]
            })
            .collect();
        let zi: Vec<[f64; 2]> = (0..6).map(|i| [0.1 * i as f64, -0.05]).collect();
        let x: Vec<f64> = (0..5000)
            .map(|i| ((i * 37 % 11) as f64 - 5.0) * 0.3)
            .collect();
        let mut want = x.clone();
        let mut zr = zi.clone();
        reference(&sos, &x, &mut zr);
        let mut whole = Cascade::new(&sos, &zi);
        whole.filter_in_place::<false>(&mut want);
        let mut want_back = x.clone();
        Cascade::new(&sos, &zi).filter_in_place::<true>(&mut want_back);
        for size in [1, 2, 3, 7, 512, 4999] {
            let mut got = x.clone();
            let mut c = Cascade::new(&sos, &zi);
            for block in got.chunks_mut(size) {
                c.process::<false>(block);
            }
            assert!(same_bits(&got, &want), "{size}");
            let (mut za, mut zb) = (zi.clone(), zi.clone());
            c.final_conditions(&mut za);
            whole.final_conditions(&mut zb);
            assert_eq!(za, zb, "{size}");
            let mut back = x.clone();
            let mut c = Cascade::new(&sos, &zi);
            for block in back.rchunks_mut(size) {
                c.process::<true>(block);
            }
            assert!(same_bits(&back, &want_back), "{size}");
        }
        // The final conditions agree with the transposed form's.
        let mut z = zi.clone();
        whole.final_conditions(&mut z);
        for (g, w) in z.iter().flatten().zip(zr.iter().flatten()) {
            assert!((g - w).abs() <= 1e-9 * (1.0 + w.abs()), "{g} vs {w}");
        }
    }

    fn same_bits(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn zero_phase_pooled_equals_public() {
        let sos = [
            [0.1, 0.2, 0.1, 1.0, -1.2, 0.5],
            [1.0, -2.0, 1.0, 1.0, -1.5, 0.7],
        ];
        let x: Vec<f64> = (0..3000).map(|i| (i as f64 * 0.05).sin()).collect();
        let a = sosfiltfilt(&sos, &x).unwrap();
        let b = sosfiltfilt_pooled(&sos, &x, SampleVec::with_capacity).unwrap();
        assert_eq!(a.len(), 3000);
        assert_eq!(&a[..], &b[..]);
        let c = sosfilt_pooled(&sos, &x, SampleVec::scratch).unwrap();
        assert_eq!(&sosfilt(&sos, &x)[..], &c[..]);
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
