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

/// `pywt.dwt(x, wavelet, 'symmetric')`: approximation and detail, each of
/// `(len + filter_len - 1) / 2` coefficients. `x` must not be empty.
pub(crate) fn dwt(x: &[f64], bank: &FilterBank) -> (Vec<f64>, Vec<f64>) {
    let f = bank.dec_lo.len();
    let n = x.len();
    let out = (n + f - 1) / 2;
    let mut a = Vec::with_capacity(out);
    let mut d = Vec::with_capacity(out);
    for k in 0..out {
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
        a.push(sa);
        d.push(sd);
    }
    (a, d)
}

/// `pywt.idwt(a, d, wavelet, 'symmetric')`: `2 * len - filter_len + 2` samples.
/// `a` and `d` have the same length, at least `filter_len / 2`.
pub(crate) fn idwt(a: &[f64], d: &[f64], bank: &FilterBank) -> Vec<f64> {
    let f = bank.rec_lo.len();
    let n = a.len().min(d.len());
    if n == 0 {
        return Vec::new();
    }
    let len = (2 * n + 2).saturating_sub(f);
    let mut y = vec![0.0; len];
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
    y
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

/// `pywt.wavedec(x, wavelet, mode='symmetric', level)`: `[cA_level, cD_level, ..., cD1]`.
pub(crate) fn wavedec(x: &[f64], bank: &FilterBank, level: usize) -> Vec<Vec<f64>> {
    let mut details = Vec::with_capacity(level);
    let mut a = x.to_vec();
    for _ in 0..level {
        let (na, d) = dwt(&a, bank);
        details.push(d);
        a = na;
    }
    let mut coeffs = Vec::with_capacity(level + 1);
    coeffs.push(a);
    coeffs.extend(details.into_iter().rev());
    coeffs
}

/// `pywt.waverec(coeffs, wavelet, mode='symmetric')`: an approximation one
/// longer than the next detail is cut to its length, as PyWavelets does.
pub(crate) fn waverec(coeffs: &[Vec<f64>], bank: &FilterBank) -> Vec<f64> {
    let Some((first, details)) = coeffs.split_first() else {
        return Vec::new();
    };
    let mut a = first.clone();
    for d in details {
        if a.len() == d.len() + 1 {
            a.pop();
        }
        a = idwt(&a, d, bank);
    }
    a
}
