//! One- and multi-level discrete wavelet transforms with symmetric extension,
//! computed as PyWavelets computes them (`mode='symmetric'`).

use tracekit_core::StageError;

use super::coeffs::FilterBank;

/// The sample of the half-sample symmetric extension of `x` at `i`
/// (`... x1 x0 | x0 x1 ... xn-1 | xn-1 xn-2 ...`, repeated as often as needed).
fn symmetric(x: &[f64], i: isize) -> f64 {
    let n = x.len() as isize;
    let m = i.rem_euclid(2 * n);
    let k = if m < n { m } else { 2 * n - 1 - m };
    x[k as usize]
}

/// `pywt.dwt(x, wavelet, 'symmetric')` into `a` (approximation) and `d`
/// (detail), each of [`dwt_len`] coefficients. `x` must not be empty.
fn dwt_into(x: &[f64], bank: &FilterBank, a: &mut [f64], d: &mut [f64]) {
    let f = bank.dec_lo.len();
    let n = x.len();
    for (k, (ak, dk)) in a.iter_mut().zip(d.iter_mut()).enumerate() {
        // out[k] = sum_j filter[j] * x[2k + 1 - j]; the interior needs no extension.
        let top = 2 * k + 1;
        let (mut sa, mut sd) = (0.0, 0.0);
        if top >= f - 1 && top < n {
            for (j, (lo, hi)) in bank.dec_lo.iter().zip(bank.dec_hi).enumerate() {
                let v = x[top - j];
                sa += lo * v;
                sd += hi * v;
            }
        } else {
            for (j, (lo, hi)) in bank.dec_lo.iter().zip(bank.dec_hi).enumerate() {
                let v = symmetric(x, top as isize - j as isize);
                sa += lo * v;
                sd += hi * v;
            }
        }
        *ak = sa;
        *dk = sd;
    }
}

/// The number of coefficients of each half of one level of [`dwt_into`] on
/// `n` samples: `(n + filter_len - 1) / 2`.
fn dwt_len(n: usize, bank: &FilterBank) -> usize {
    (n + bank.dec_lo.len() - 1) / 2
}

/// The number of samples [`idwt_into`] makes from `n` coefficient pairs.
fn idwt_len(n: usize, bank: &FilterBank) -> usize {
    if n == 0 {
        0
    } else {
        (2 * n + 2).saturating_sub(bank.rec_lo.len())
    }
}

/// `pywt.idwt(a, d, wavelet, 'symmetric')` into `y`, which holds
/// [`idwt_len`] samples for `min(a.len(), d.len())` pairs; `a` and `d` have
/// at least `filter_len / 2` coefficients.
fn idwt_into(a: &[f64], d: &[f64], bank: &FilterBank, y: &mut [f64]) {
    let f = bank.rec_lo.len();
    let n = a.len().min(d.len());
    for (i, yi) in y.iter_mut().enumerate() {
        // y[i] = sum_k a[k] rec_lo[i + f - 2 - 2k] + d[k] rec_hi[...], 0 <= index < f.
        let top = i + f - 2;
        let k_min = (top + 1).saturating_sub(f).div_ceil(2);
        let k_max = (top / 2).min(n - 1);
        let mut s = 0.0;
        for k in k_min..=k_max {
            let j = top - 2 * k;
            s += a[k] * bank.rec_lo[j] + d[k] * bank.rec_hi[j];
        }
        *yi = s;
    }
}

/// `pywt.dwt_max_level(n, filter_len)`.
pub(crate) fn max_level(n: usize, filter_len: usize) -> usize {
    if filter_len <= 1 || n < filter_len - 1 {
        return 0;
    }
    (n / (filter_len - 1)).ilog2() as usize
}

/// The level to use: `level`, or the maximum when `level` is 0; an error when
/// the signal is too short for one level or for the level asked.
pub(crate) fn resolve_level(
    kind: &str,
    n: usize,
    bank: &FilterBank,
    level: usize,
) -> Result<usize, StageError> {
    let f = bank.dec_lo.len();
    let max = max_level(n, f);
    if max == 0 {
        let got = if n == 0 {
            "the trace is empty".to_string()
        } else {
            format!("got {n}")
        };
        return Err(format!(
            "{kind}: wavelet '{}' (filter length {f}) needs at least {} samples for one level, {got}",
            bank.name,
            2 * (f - 1)
        )
        .into());
    }
    if level > max {
        return Err(format!(
            "{kind}: level {level} is too high for {n} samples with wavelet '{}'; the maximum is {max}",
            bank.name
        )
        .into());
    }
    Ok(if level == 0 { max } else { level })
}

/// The lengths of a multilevel decomposition: `details[j - 1]` coefficients
/// at level `j`; the coarsest approximation is as long as the coarsest detail.
#[derive(Debug)]
pub(crate) struct Levels {
    details: Vec<usize>,
}

impl Levels {
    /// The lengths for `level` levels of `n` samples.
    pub(crate) fn new(n: usize, bank: &FilterBank, level: usize) -> Levels {
        let mut details = Vec::with_capacity(level);
        let mut len = n;
        for _ in 0..level {
            len = dwt_len(len, bank);
            details.push(len);
        }
        Levels { details }
    }

    /// All coefficients: `[cA_level, cD_level, ..., cD1]`, as
    /// `np.concatenate(pywt.wavedec(...))` lays them out.
    pub(crate) fn total(&self) -> usize {
        self.coarsest() + self.details.iter().sum::<usize>()
    }

    /// The coarsest approximation's length (where the details start).
    pub(crate) fn coarsest(&self) -> usize {
        self.details.last().copied().unwrap_or(0)
    }

    /// Where the finest detail starts in the coefficients, and its length.
    pub(crate) fn finest(&self) -> (usize, usize) {
        let len = self.details.first().copied().unwrap_or(0);
        (self.total() - len, len)
    }

    /// The scratch samples [`wavedec_into`] and [`waverec_into`] need: two
    /// approximations of the finest level, one sample of slack each.
    pub(crate) fn scratch(&self) -> usize {
        2 * (self.finest().1 + 1)
    }

    /// The approximation to use with a detail of `d` coefficients: one
    /// longer than the detail is cut to its length, as PyWavelets does.
    fn cut(a: usize, d: usize) -> usize {
        if a == d + 1 { d } else { a }
    }

    /// The length of the reconstruction [`waverec_into`] makes.
    pub(crate) fn reconstructed(&self, bank: &FilterBank) -> usize {
        self.details.iter().rev().fold(self.coarsest(), |a, &d| {
            idwt_len(Levels::cut(a, d).min(d), bank)
        })
    }
}

/// `np.concatenate(pywt.wavedec(x, wavelet, mode='symmetric', level))` into
/// `out` (`levels.total()` coefficients: `[cA_level, cD_level, ..., cD1]`),
/// with `scratch` (`levels.scratch()` samples) for the approximations
/// between levels. `x` must not be empty.
pub(crate) fn wavedec_into(
    x: &[f64],
    bank: &FilterBank,
    levels: &Levels,
    out: &mut [f64],
    scratch: &mut [f64],
) {
    // The approximations take turns in the two halves of the scratch.
    let (odd, even) = scratch.split_at_mut(scratch.len() / 2);
    let mut end = out.len();
    let mut prev = x.len();
    for (j, &len) in levels.details.iter().enumerate() {
        let d = &mut out[end - len..end];
        end -= len;
        match j {
            0 => dwt_into(x, bank, &mut odd[..len], d),
            _ if j % 2 == 1 => dwt_into(&odd[..prev], bank, &mut even[..len], d),
            _ => dwt_into(&even[..prev], bank, &mut odd[..len], d),
        }
        prev = len;
    }
    let a = if levels.details.len() % 2 == 1 {
        &odd[..prev]
    } else {
        &even[..prev]
    };
    out[..prev].copy_from_slice(a);
}

/// `pywt.waverec(coeffs, wavelet, mode='symmetric')` of coefficients laid
/// out as [`wavedec_into`] writes them, into `out`
/// ([`Levels::reconstructed`] samples), with `scratch` (`levels.scratch()`
/// samples) between levels.
pub(crate) fn waverec_into(
    coeffs: &[f64],
    bank: &FilterBank,
    levels: &Levels,
    out: &mut [f64],
    scratch: &mut [f64],
) {
    /// Where the approximation so far is.
    #[derive(Clone, Copy)]
    enum Place {
        Coeffs,
        Odd,
        Even,
    }
    let (odd, even) = scratch.split_at_mut(scratch.len() / 2);
    let mut start = levels.coarsest();
    let (mut place, mut a_len) = (Place::Coeffs, start);
    let steps = levels.details.len();
    for (step, &len) in levels.details.iter().rev().enumerate() {
        let d = &coeffs[start..start + len];
        start += len;
        let a_len_cut = Levels::cut(a_len, len);
        let y_len = idwt_len(a_len_cut.min(len), bank);
        let last = step + 1 == steps;
        let (a, y): (&[f64], &mut [f64]) = match (place, last) {
            (Place::Coeffs, true) => (&coeffs[..a_len_cut], &mut *out),
            (Place::Odd, true) => (&odd[..a_len_cut], &mut *out),
            (Place::Even, true) => (&even[..a_len_cut], &mut *out),
            (Place::Coeffs, false) => (&coeffs[..a_len_cut], &mut *odd),
            (Place::Even, false) => (&even[..a_len_cut], &mut *odd),
            (Place::Odd, false) => (&odd[..a_len_cut], &mut *even),
        };
        idwt_into(a, d, bank, &mut y[..y_len]);
        place = match place {
            Place::Odd => Place::Even,
            _ => Place::Odd,
        };
        a_len = y_len;
    }
}
