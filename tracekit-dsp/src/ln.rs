//! A natural logarithm without branches, so that loops over it vectorise.
//!
//! The reduction and the polynomial are fdlibm's (`e_log.c`, the form it
//! uses away from 1): `x = 2^k * m` with `m` in `[sqrt(1/2), sqrt(2))`,
//! `f = m - 1`, `s = f / (2 + f)`, and `ln(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2)))`
//! with fdlibm's degree-14 minimax `R`; `k ln 2` is added in two parts.
//! The error is below one unit in the last place, as fdlibm's; the system
//! `ln` differs from it by at most one unit in the last place.

/// `sqrt(1/2)`'s bits: mantissas are reduced to `[sqrt(1/2), sqrt(2))`.
const SQRT_HALF: u64 = 0x3FE6_A09E_667F_3BCD;
/// Added to a value's bits to give `(k + 1023) << 52 | (m's bits - SQRT_HALF)`.
const OFFSET: u64 = (1023 << 52) - SQRT_HALF;
const MANTISSA: u64 = (1 << 52) - 1;
/// `2^52`: its bits with a small integer or-ed in are `2^52` plus that integer.
const TWO_52: f64 = 4_503_599_627_370_496.0;

// fdlibm's constants, by their bits.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
const LG1: f64 = f64::from_bits(0x3FE5_5555_5555_5593);
const LG2: f64 = f64::from_bits(0x3FD9_9999_9997_FA04);
const LG3: f64 = f64::from_bits(0x3FD2_4924_9422_9359);
const LG4: f64 = f64::from_bits(0x3FCC_71C5_1D8E_78AF);
const LG5: f64 = f64::from_bits(0x3FC7_4664_96CB_03DE);
const LG6: f64 = f64::from_bits(0x3FC3_9A09_D078_C69F);
const LG7: f64 = f64::from_bits(0x3FC2_F112_DF3E_5244);

/// `ln(x)` for a positive normal `x` or `+inf`, within one unit in the last
/// place; anything else (zero, subnormal, negative, NaN) gives a wrong value.
#[inline(always)]
pub(crate) fn ln_normal(x: f64) -> f64 {
    let t = x.to_bits().wrapping_add(OFFSET);
    let k = t >> 52;
    let m = f64::from_bits((t & MANTISSA) + SQRT_HALF);
    let dk = f64::from_bits(TWO_52.to_bits() | k) - (TWO_52 + 1023.0);
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    let y = dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f);
    if x == f64::INFINITY { x } else { y }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn within_one_ulp_of_the_system_ln() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut worst = 0;
        for i in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Every exponent of the normal range, and values near 1.
            let x = if i % 2 == 0 {
                f64::from_bits((state % (0x7FE0_0000_0000_0000 - (1 << 52))) + (1 << 52))
            } else {
                1.0 + (state >> 11) as f64 / (1u64 << 53) as f64 * 1e-3 - 0.5e-3
            };
            let (got, want) = (ln_normal(x), x.ln());
            worst = worst.max(ulps(got, want));
            assert!(ulps(got, want) <= 1, "ln({x:e}) = {got:e}, want {want:e}");
        }
        assert!(worst <= 1);
        for x in [
            1.0,
            2.0,
            0.5,
            f64::MIN_POSITIVE,
            f64::MAX,
            1e-40,
            std::f64::consts::SQRT_2,
            std::f64::consts::FRAC_1_SQRT_2,
        ] {
            assert!(ulps(ln_normal(x), x.ln()) <= 1, "{x:e}");
        }
        assert_eq!(ln_normal(1.0), 0.0);
        assert_eq!(ln_normal(f64::INFINITY), f64::INFINITY);
    }
}
