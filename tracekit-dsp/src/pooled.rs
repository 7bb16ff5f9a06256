//! How the built-ins get their trace-sized memory: outputs and scratch from
//! the core pool ([`SampleVec`]), reserved fallibly, written once.
//!
//! A [`SampleVec`] grows by `push` or `extend_from_slice`; a per-sample
//! `push` checks capacity each time and keeps loops from vectorising, so the
//! helpers here compute a block of samples at a time into a small array on
//! the stack and append it whole.

use tracekit_core::buffer::{AllocError, SampleVec};

/// Samples computed per block: 4 KiB, well inside the L1 cache.
const BLOCK: usize = 512;

/// Appends `n` samples to `out`, computed block by block: `f(start, block)`
/// writes samples `start..start + block.len()` into `block`.
pub(crate) fn extend_blocks(out: &mut SampleVec, n: usize, mut f: impl FnMut(usize, &mut [f64])) {
    let mut block = [0.0; BLOCK];
    let mut start = 0;
    while start < n {
        let b = &mut block[..BLOCK.min(n - start)];
        f(start, b);
        out.extend_from_slice(b);
        start += b.len();
    }
}

/// An output buffer of `n` samples computed by `f` as in [`extend_blocks`].
pub(crate) fn output_blocks(
    n: usize,
    f: impl FnMut(usize, &mut [f64]),
) -> Result<SampleVec, AllocError> {
    let mut out = SampleVec::with_capacity(n)?;
    extend_blocks(&mut out, n, f);
    Ok(out)
}

/// An output buffer of `f(v)` for every sample `v` of `x`.
pub(crate) fn map(x: &[f64], f: impl Fn(f64) -> f64) -> Result<SampleVec, AllocError> {
    output_blocks(x.len(), |start, b| {
        let end = start + b.len();
        for (o, &v) in b.iter_mut().zip(&x[start..end]) {
            *o = f(v);
        }
    })
}

/// A scratch buffer of `n` zeros.
pub(crate) fn zeroed_scratch(n: usize) -> Result<SampleVec, AllocError> {
    let mut v = SampleVec::scratch(n)?;
    v.resize(n, 0.0);
    Ok(v)
}

/// A copy of `x` as a vector, reserved fallibly.
pub(crate) fn try_copy(x: &[f64]) -> Result<Vec<f64>, AllocError> {
    let mut v = Vec::new();
    v.try_reserve_exact(x.len())
        .map_err(|_| AllocError { samples: x.len() })?;
    v.extend_from_slice(x);
    Ok(v)
}

/// A vector of `n` copies of `value`, reserved fallibly: for trace-sized
/// working memory that is not samples.
pub(crate) fn filled_vec<T: Clone>(n: usize, value: T) -> Result<Vec<T>, AllocError> {
    let mut v = Vec::new();
    try_resize(&mut v, n, value)?;
    Ok(v)
}

/// Sets `v` to length `n`, keeping its allocation where it is large enough
/// and its first values; new entries are `value`. Growing is reserved
/// fallibly; the error counts the vector's bytes in samples of 8 bytes, so
/// that its message gives the right size.
pub(crate) fn try_resize<T: Clone>(v: &mut Vec<T>, n: usize, value: T) -> Result<(), AllocError> {
    v.truncate(n);
    v.try_reserve_exact(n - v.len()).map_err(|_| AllocError {
        samples: n.saturating_mul(size_of::<T>()).div_ceil(size_of::<f64>()),
    })?;
    v.resize(n, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_every_sample_once() {
        for n in [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7] {
            let out = output_blocks(n, |start, b| {
                for (i, v) in b.iter_mut().enumerate() {
                    *v = (start + i) as f64;
                }
            })
            .unwrap();
            assert_eq!(out.len(), n);
            assert!(out.iter().enumerate().all(|(i, &v)| v == i as f64));
        }
    }

    #[test]
    fn huge_requests_are_errors() {
        assert!(map(&[1.0], |v| v).is_ok());
        let e = filled_vec(usize::MAX / 2, 0u8).unwrap_err();
        assert!(e.to_string().contains("cannot allocate"), "{e}");
        assert!(zeroed_scratch(usize::MAX).is_err());
    }
}
