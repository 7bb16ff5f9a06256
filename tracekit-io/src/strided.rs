//! Samples that lie at a stride (one channel of interleaved frames, one row
//! of a Fortran-ordered array), decoded through [`crate::convert`] without
//! an intermediate copy of the whole block; and IEEE 754 half precision.
//!
//! Shared by the readers whose channels are interleaved or strided (WAV,
//! NPY); plain contiguous blocks go straight to [`decode_append`].

use crate::{
    convert::{ByteOrder, SampleType, decode_append},
    error::{Result, bail},
};

/// Elements gathered per call of [`decode_append`]: a 32 KiB scratch buffer
/// for 8-byte containers.
const BLOCK: usize = 4096;

/// Where the samples of one trace lie in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Strided {
    /// Offset of the first sample's bytes.
    pub(crate) first: usize,
    /// Bytes from the start of one sample to the start of the next.
    pub(crate) stride: usize,
    /// Number of samples.
    pub(crate) count: usize,
    /// Bytes each sample occupies: the container's width, or fewer (a
    /// 3-byte sample decoded as a left-justified 4-byte one).
    pub(crate) width: usize,
}

/// The `count` samples `at` describes, each read in `order` as a `ty` whose
/// most significant bytes are the sample's `width` bytes and whose others
/// are zero (left-justified, as SciPy widens 24-bit WAV samples), then
/// mapped through `map` by [`decode_append`].
///
/// The result is the only copy made: one allocation of `count` values, and
/// a scratch buffer of [`BLOCK`] containers where the samples are not
/// already contiguous containers. Errors, never panics, where `at` does not
/// fit in `raw`.
pub(crate) fn decode_strided(
    raw: &[u8],
    at: Strided,
    ty: SampleType,
    order: ByteOrder,
    map: impl Fn(f64) -> f64,
) -> Result<Vec<f64>> {
    let container = ty.width();
    if at.width == 0 || at.width > container {
        bail!(
            "{}-byte samples do not fit a {container}-byte container",
            at.width
        );
    }
    if at.count == 0 {
        return Ok(Vec::new());
    }
    let end = (at.count - 1)
        .checked_mul(at.stride)
        .and_then(|last| last.checked_add(at.first))
        .and_then(|last| last.checked_add(at.width))
        .filter(|&end| end <= raw.len());
    let Some(end) = end else {
        bail!(
            "truncated: {} samples of {} bytes every {} bytes from offset {} do not fit in {} bytes",
            at.count,
            at.width,
            at.stride,
            at.first,
            raw.len()
        );
    };
    let mut out = Vec::new();
    if out.try_reserve_exact(at.count).is_err() {
        bail!("{} samples do not fit in memory", at.count);
    }
    if at.width == container && at.stride == container {
        decode_append(&raw[at.first..end], ty, order, &mut out, map);
        return Ok(out);
    }
    // Zero-filled once: only the sample's own bytes are rewritten below.
    let mut scratch = vec![0u8; BLOCK * container];
    let lead = match order {
        ByteOrder::Little => container - at.width,
        ByteOrder::Big => 0,
    };
    let mut next = at.first;
    let mut left = at.count;
    while left > 0 {
        let n = left.min(BLOCK);
        for slot in scratch.chunks_exact_mut(container).take(n) {
            slot[lead..lead + at.width].copy_from_slice(&raw[next..next + at.width]);
            // The last sample's stride may point past the end: never read there.
            next = next.saturating_add(at.stride);
        }
        decode_append(&scratch[..n * container], ty, order, &mut out, &map);
        left -= n;
    }
    Ok(out)
}

/// The IEEE 754 binary16 value of `bits`, exactly (every half is a double),
/// NaN payloads kept as NumPy keeps them.
pub(crate) fn half_to_f64(bits: u16) -> f64 {
    let sign = u64::from(bits >> 15) << 63;
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = u64::from(bits & 0x3ff);
    let magnitude = match exponent {
        // Zero and subnormals: fraction * 2^-24, exact in a double.
        0 => fraction as f64 * f64::from_bits((1023 - 24) << 52),
        // Infinities and NaNs: the fraction moved to the top of a double's.
        31 => f64::from_bits(0x7ff0_0000_0000_0000 | fraction << 42),
        // Normal: the same fraction under a re-biased exponent.
        _ => f64::from_bits(((exponent - 15 + 1023) as u64) << 52 | fraction << 42),
    };
    f64::from_bits(magnitude.to_bits() | sign)
}

/// [`half_to_f64`] over a contiguous block of halves, through `decode`:
/// each 16-bit code goes through the conversion as the closure.
#[cfg(test)]
fn decode_halves(raw: &[u8], order: ByteOrder) -> Vec<f64> {
    crate::convert::decode(raw, SampleType::U16, order, |code| half_to_f64(code as u16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_convert_exactly() {
        let cases: [(u16, f64); 9] = [
            (0x0000, 0.0),
            (0x3c00, 1.0),
            (0xc000, -2.0),
            (0x3555, 0.333_251_953_125),
            (0x7bff, 65504.0),
            (0x0001, 2f64.powi(-24)),
            (0x03ff, 1023.0 * 2f64.powi(-24)),
            (0x0400, 2f64.powi(-14)),
            (0x7c00, f64::INFINITY),
        ];
        for (bits, want) in cases {
            assert_eq!(half_to_f64(bits), want, "{bits:#06x}");
        }
        assert_eq!(half_to_f64(0x8000).to_bits(), (-0.0f64).to_bits());
        assert_eq!(half_to_f64(0xfc00), f64::NEG_INFINITY);
        assert!(half_to_f64(0x7e00).is_nan());
        assert_eq!(
            decode_halves(&[0x00, 0x3c, 0x00, 0xc0], ByteOrder::Little),
            [1.0, -2.0]
        );
    }

    #[test]
    fn every_finite_half_matches_its_formula() {
        // (-1)^s * fraction * 2^-24 for subnormals, (1024 + fraction) * 2^(e-25)
        // otherwise: products of small integers and powers of two, exact.
        for bits in 0..=u16::MAX {
            let exponent = (bits >> 10) & 0x1f;
            if exponent == 31 {
                continue;
            }
            let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
            let fraction = f64::from(bits & 0x3ff);
            let want = if exponent == 0 {
                sign * fraction * 2f64.powi(-24)
            } else {
                sign * (1024.0 + fraction) * 2f64.powi(i32::from(exponent) - 25)
            };
            assert_eq!(half_to_f64(bits).to_bits(), want.to_bits(), "{bits:#06x}");
        }
    }

    #[test]
    fn strided_and_left_justified() {
        // Two interleaved channels of 3-byte little-endian samples.
        let raw = [
            0x01, 0x02, 0x03, 0xff, 0xff, 0xff, 0x00, 0x00, 0x80, 0x10, 0x00, 0x00,
        ];
        let ch = |c: usize| Strided {
            first: 3 * c,
            stride: 6,
            count: 2,
            width: 3,
        };
        let left = decode_strided(&raw, ch(0), SampleType::I32, ByteOrder::Little, |x| x).unwrap();
        assert_eq!(left, [f64::from(0x0302_0100), f64::from(i32::MIN)]);
        let right = decode_strided(&raw, ch(1), SampleType::I32, ByteOrder::Little, |x| x).unwrap();
        assert_eq!(right, [-256.0, f64::from(0x10_00)]);
        let big = decode_strided(&raw, ch(0), SampleType::I32, ByteOrder::Big, |x| x).unwrap();
        assert_eq!(big, [f64::from(0x0102_0300), f64::from(0x0000_8000)]);
    }

    #[test]
    fn contiguous_and_many_blocks() {
        let raw: Vec<u8> = (0..3 * BLOCK as u32 + 5)
            .flat_map(|k| (k as u16).to_le_bytes())
            .collect();
        let n = raw.len() / 2;
        let all = Strided {
            first: 0,
            stride: 2,
            count: n,
            width: 2,
        };
        let got = decode_strided(&raw, all, SampleType::U16, ByteOrder::Little, |x| x).unwrap();
        assert_eq!(got.len(), n);
        assert!(got.iter().enumerate().all(|(k, &x)| x == k as f64));
        let odd = Strided {
            first: 2,
            stride: 4,
            count: n / 2,
            width: 2,
        };
        let got = decode_strided(&raw, odd, SampleType::U16, ByteOrder::Little, |x| x).unwrap();
        assert_eq!(got.len(), n / 2);
        assert!(
            got.iter()
                .enumerate()
                .all(|(k, &x)| x == (2 * k + 1) as f64)
        );
        assert_eq!(got.capacity(), n / 2);
    }

    #[test]
    fn out_of_bounds_is_an_error() {
        let raw = [0u8; 8];
        let at = Strided {
            first: 2,
            stride: 4,
            count: 2,
            width: 4,
        };
        assert!(decode_strided(&raw, at, SampleType::I32, ByteOrder::Little, |x| x).is_err());
        let huge = Strided {
            first: 0,
            stride: usize::MAX,
            count: 3,
            width: 1,
        };
        assert!(decode_strided(&raw, huge, SampleType::U8, ByteOrder::Little, |x| x).is_err());
        let wide = Strided {
            first: 0,
            stride: 4,
            count: 1,
            width: 4,
        };
        assert!(decode_strided(&raw, wide, SampleType::U16, ByteOrder::Little, |x| x).is_err());
    }
}
