//! Checks on the traces a built-in receives, and NumPy's summation.

use tracekit_core::{StageError, Trace};

/// The one input of a single-input stage, or an error naming `kind`.
pub(crate) fn one<'a>(kind: &str, inputs: &[&'a Trace]) -> Result<&'a Trace, StageError> {
    match inputs {
        [t] => Ok(t),
        _ => Err(format!("{kind} takes exactly 1 input trace, got {}", inputs.len()).into()),
    }
}

/// An error unless the trace has samples.
pub(crate) fn non_empty(kind: &str, t: &Trace) -> Result<(), StageError> {
    if t.is_empty() {
        Err(format!("{kind}: the input trace is empty (0 samples)").into())
    } else {
        Ok(())
    }
}

/// NumPy's pairwise summation of `f(x)` over `x` (`np.sum(f(x))` bit for bit):
/// blocks of at most 128 with eight accumulators, halves above that.
pub(crate) fn pairwise_sum(x: &[f64], f: &impl Fn(f64) -> f64) -> f64 {
    let n = x.len();
    if n < 8 {
        x.iter().fold(-0.0, |acc, &v| acc + f(v))
    } else if n <= 128 {
        let mut r: [f64; 8] = std::array::from_fn(|j| f(x[j]));
        let whole = n - n % 8;
        for block in x[8..whole].chunks_exact(8) {
            for (acc, &v) in r.iter_mut().zip(block) {
                *acc += f(v);
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &x[whole..] {
            res += f(v);
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&x[..half], f) + pairwise_sum(&x[half..], f)
    }
}

/// `np.mean(x)`.
pub(crate) fn mean(x: &[f64]) -> f64 {
    pairwise_sum(x, &|v| v) / x.len() as f64
}

/// `np.std(x)` (ddof 0) given `m = np.mean(x)`.
pub(crate) fn std_about(x: &[f64], m: f64) -> f64 {
    (pairwise_sum(x, &|v| (v - m) * (v - m)) / x.len() as f64).sqrt()
}

/// `np.min(x)` and `np.max(x)`: NaN if any sample is NaN.
pub(crate) fn min_max(x: &[f64]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut nan = false;
    for &v in x {
        nan |= v.is_nan();
        lo = if v < lo { v } else { lo };
        hi = if v > hi { v } else { hi };
    }
    if nan { (f64::NAN, f64::NAN) } else { (lo, hi) }
}
