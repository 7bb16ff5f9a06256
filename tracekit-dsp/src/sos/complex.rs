//! Complex arithmetic written the way NumPy and the C library compute it, so
//! that filter designs agree with SciPy's to the last bits where possible.

use num_complex::Complex64;

/// `a / b` with Smith's algorithm, as NumPy divides complex numbers.
pub(super) fn div(a: Complex64, b: Complex64) -> Complex64 {
    let (ar, ai, br, bi) = (a.re, a.im, b.re, b.im);
    if br.abs() >= bi.abs() {
        if br == 0.0 && bi == 0.0 {
            return Complex64::new(ar / br.abs(), ai / br.abs());
        }
        let rat = bi / br;
        let scl = 1.0 / (br + bi * rat);
        Complex64::new((ar + ai * rat) * scl, (ai - ar * rat) * scl)
    } else {
        let rat = br / bi;
        let scl = 1.0 / (bi + br * rat);
        Complex64::new((ar * rat + ai) * scl, (ai * rat - ar) * scl)
    }
}

/// The principal square root, computed as the C library's `csqrt` does.
pub(super) fn sqrt(z: Complex64) -> Complex64 {
    let (re, im) = (z.re, z.im);
    if im == 0.0 {
        return if re < 0.0 {
            Complex64::new(0.0, (-re).sqrt().copysign(im))
        } else {
            Complex64::new(re.sqrt(), im)
        };
    }
    if re == 0.0 {
        let r = (0.5 * im.abs()).sqrt();
        return Complex64::new(r, r.copysign(im));
    }
    let d = re.hypot(im);
    let (r, s) = if re > 0.0 {
        let r = (0.5 * (d + re)).sqrt();
        (r, 0.5 * (im / r))
    } else {
        let s = (0.5 * (d - re)).sqrt();
        ((0.5 * (im / s)).abs(), s)
    };
    Complex64::new(r, s.copysign(im))
}

/// The product of all values, multiplied left to right.
pub(super) fn prod(values: &[Complex64]) -> Complex64 {
    values
        .iter()
        .fold(Complex64::new(1.0, 0.0), |acc, v| acc * v)
}

/// Whether the value has no imaginary part (NumPy's `isreal`).
pub(super) fn is_real(z: Complex64) -> bool {
    z.im == 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrt_and_div() {
        let z = Complex64::new(-3.0, 4.0);
        let r = sqrt(z);
        assert!((r - Complex64::new(1.0, 2.0)).norm() < 1e-15);
        let q = div(Complex64::new(1.0, 2.0), Complex64::new(3.0, -4.0));
        assert!((q - Complex64::new(1.0, 2.0) / Complex64::new(3.0, -4.0)).norm() < 1e-15);
        assert_eq!(sqrt(Complex64::new(-4.0, 0.0)), Complex64::new(0.0, 2.0));
    }
}
