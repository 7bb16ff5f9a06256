//! IIR filter design as second-order sections, step for step as SciPy's
//! `iirfilter(..., output='sos')` does it: analog prototype, frequency
//! transformation with prewarping, bilinear transform, then `zpk2sos` with
//! pairing `'nearest'`.

use std::{cmp::Ordering, f64::consts::PI};

use num_complex::Complex64 as C;
use tracekit_core::StageError;

use super::complex::{div, is_real, prod, sqrt};

/// The highest filter order the designs accept.
pub const MAX_ORDER: usize = 16;

/// One second-order section: `[b0, b1, b2, a0, a1, a2]` with `a0 == 1`, as SciPy lays it out.
pub type Section = [f64; 6];

/// The band a filter passes (or stops), with edge frequencies in the unit of
/// the sample rate given to the design function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Band {
    /// Passes frequencies below the cutoff.
    Lowpass(f64),
    /// Passes frequencies above the cutoff.
    Highpass(f64),
    /// Passes frequencies between `low` and `high`.
    Bandpass(f64, f64),
    /// Stops frequencies between `low` and `high`.
    Bandstop(f64, f64),
}

impl Band {
    /// SciPy's `btype` name of the band.
    pub fn name(&self) -> &'static str {
        match self {
            Band::Lowpass(_) => "lowpass",
            Band::Highpass(_) => "highpass",
            Band::Bandpass(..) => "bandpass",
            Band::Bandstop(..) => "bandstop",
        }
    }

    /// The edge frequencies divided by the Nyquist frequency `fs / 2`, checked
    /// to lie strictly between 0 and 1 and, for bands, to increase.
    fn normalized(&self, fs: f64) -> Result<Vec<f64>, StageError> {
        if !(fs.is_finite() && fs > 0.0) {
            return Err(format!("sample rate must be finite and greater than 0, got {fs}").into());
        }
        let edges = match *self {
            Band::Lowpass(f) | Band::Highpass(f) => vec![f],
            Band::Bandpass(lo, hi) | Band::Bandstop(lo, hi) => {
                if lo.partial_cmp(&hi) != Some(Ordering::Less) {
                    return Err(format!("low edge {lo} must be below high edge {hi}").into());
                }
                vec![lo, hi]
            }
        };
        let nyquist = fs / 2.0;
        edges
            .into_iter()
            .map(|f| {
                let wn = f / nyquist;
                if wn > 0.0 && wn < 1.0 {
                    Ok(wn)
                } else {
                    Err(format!(
                        "critical frequency {f} must be greater than 0 and below the Nyquist \
                         frequency {nyquist} (sample rate {fs})"
                    )
                    .into())
                }
            })
            .collect()
    }
}

/// Zeros, poles and gain of a system.
struct Zpk {
    z: Vec<C>,
    p: Vec<C>,
    k: f64,
}

fn check_order(order: usize) -> Result<(), StageError> {
    if (1..=MAX_ORDER).contains(&order) {
        Ok(())
    } else {
        Err(format!("filter order must be between 1 and {MAX_ORDER}, got {order}").into())
    }
}

/// A digital Butterworth filter of `order` (1 to 16) as second-order sections,
/// matching `scipy.signal.butter(order, edges, btype, fs=fs, output='sos')`.
///
/// ```
/// use tracekit_dsp::sos::{Band, butter_sos, sosfilt};
///
/// let sos = butter_sos(4, Band::Lowpass(100.0), 1000.0)?;
/// assert_eq!(sos.len(), 2);
/// let y = sosfilt(&sos, &[1.0; 200]);
/// assert!((y[199] - 1.0).abs() < 1e-6); // unit gain at DC
/// # Ok::<(), tracekit_core::StageError>(())
/// ```
pub fn butter_sos(order: usize, band: Band, fs: f64) -> Result<Vec<Section>, StageError> {
    check_order(order)?;
    let wn = band.normalized(fs)?;
    Ok(digital_sos(buttap(order), band, &wn))
}

/// A digital Chebyshev type I filter with `ripple_db` of passband ripple, as
/// second-order sections, matching
/// `scipy.signal.cheby1(order, ripple_db, edges, btype, fs=fs, output='sos')`.
pub fn cheby1_sos(
    order: usize,
    ripple_db: f64,
    band: Band,
    fs: f64,
) -> Result<Vec<Section>, StageError> {
    check_order(order)?;
    if !(ripple_db.is_finite() && ripple_db > 0.0) {
        return Err(format!("passband ripple must be greater than 0 dB, got {ripple_db}").into());
    }
    let wn = band.normalized(fs)?;
    Ok(digital_sos(cheb1ap(order, ripple_db), band, &wn))
}

fn digital_sos(proto: Zpk, band: Band, wn: &[f64]) -> Vec<Section> {
    // Prewarp for the bilinear transform with fs = 2.
    let warped: Vec<f64> = wn.iter().map(|w| 4.0 * (PI * w / 2.0).tan()).collect();
    let analog = match band {
        Band::Lowpass(_) => lp2lp(proto, warped[0]),
        Band::Highpass(_) => lp2hp(proto, warped[0]),
        Band::Bandpass(..) | Band::Bandstop(..) => {
            let bw = warped[1] - warped[0];
            let wo = (warped[0] * warped[1]).sqrt();
            if matches!(band, Band::Bandpass(..)) {
                lp2bp(proto, wo, bw)
            } else {
                lp2bs(proto, wo, bw)
            }
        }
    };
    zpk2sos(bilinear(analog))
}

/// Poles on the left half of the unit circle: `-exp(1j*pi*m/(2N))`.
fn buttap(n: usize) -> Zpk {
    let two_n = C::new(2.0 * n as f64, 0.0);
    let p = prototype_m(n)
        .map(|m| -div(C::new(0.0, PI * m), two_n).exp())
        .collect();
    Zpk {
        z: Vec::new(),
        p,
        k: 1.0,
    }
}

/// Poles on an ellipse: `-sinh(mu + 1j*theta)`.
fn cheb1ap(n: usize, rp: f64) -> Zpk {
    let eps = (10f64.powf(0.1 * rp) - 1.0).sqrt();
    let mu = 1.0 / n as f64 * (1.0 / eps).asinh();
    let p: Vec<C> = prototype_m(n)
        .map(|m| {
            let theta = PI * m / (2 * n) as f64;
            -C::new(mu.sinh() * theta.cos(), mu.cosh() * theta.sin())
        })
        .collect();
    let mut k = prod(&p.iter().map(|p| -p).collect::<Vec<_>>()).re;
    if n % 2 == 0 {
        k /= (1.0 + eps * eps).sqrt();
    }
    Zpk {
        z: Vec::new(),
        p,
        k,
    }
}

/// `-N+1, -N+3, ..., N-1` as floats.
fn prototype_m(n: usize) -> impl Iterator<Item = f64> {
    (0..n).map(move |i| (2 * i) as f64 - (n as f64 - 1.0))
}

fn relative_degree(s: &Zpk) -> usize {
    s.p.len() - s.z.len()
}

fn neg_prod_ratio(z: &[C], p: &[C]) -> f64 {
    let nz: Vec<C> = z.iter().map(|v| -v).collect();
    let np: Vec<C> = p.iter().map(|v| -v).collect();
    div(prod(&nz), prod(&np)).re
}

fn lp2lp(s: Zpk, wo: f64) -> Zpk {
    let degree = relative_degree(&s);
    Zpk {
        z: s.z.iter().map(|z| z * wo).collect(),
        p: s.p.iter().map(|p| p * wo).collect(),
        k: s.k * wo.powf(degree as f64),
    }
}

fn lp2hp(s: Zpk, wo: f64) -> Zpk {
    let degree = relative_degree(&s);
    let w = C::new(wo, 0.0);
    let mut z: Vec<C> = s.z.iter().map(|&z| div(w, z)).collect();
    z.extend(std::iter::repeat_n(C::new(0.0, 0.0), degree));
    Zpk {
        z,
        p: s.p.iter().map(|&p| div(w, p)).collect(),
        k: s.k * neg_prod_ratio(&s.z, &s.p),
    }
}

/// `v ± sqrt(v**2 - wo**2)` for every `v`: all the `+` roots, then all the `-` roots.
fn shift_pairs(v: &[C], wo: f64) -> Vec<C> {
    let wo2 = wo.powf(2.0);
    let roots: Vec<C> = v.iter().map(|&v| sqrt(v * v - wo2)).collect();
    let plus = v.iter().zip(&roots).map(|(v, r)| v + r);
    let minus = v.iter().zip(&roots).map(|(v, r)| v - r);
    plus.chain(minus).collect()
}

fn lp2bp(s: Zpk, wo: f64, bw: f64) -> Zpk {
    let degree = relative_degree(&s);
    let z_lp: Vec<C> = s.z.iter().map(|z| z * bw / 2.0).collect();
    let p_lp: Vec<C> = s.p.iter().map(|p| p * bw / 2.0).collect();
    let mut z = shift_pairs(&z_lp, wo);
    z.extend(std::iter::repeat_n(C::new(0.0, 0.0), degree));
    Zpk {
        z,
        p: shift_pairs(&p_lp, wo),
        k: s.k * bw.powf(degree as f64),
    }
}

fn lp2bs(s: Zpk, wo: f64, bw: f64) -> Zpk {
    let degree = relative_degree(&s);
    let half = C::new(bw / 2.0, 0.0);
    let z_hp: Vec<C> = s.z.iter().map(|&z| div(half, z)).collect();
    let p_hp: Vec<C> = s.p.iter().map(|&p| div(half, p)).collect();
    let mut z = shift_pairs(&z_hp, wo);
    z.extend(std::iter::repeat_n(C::new(0.0, wo), degree));
    z.extend(std::iter::repeat_n(C::new(0.0, -wo), degree));
    Zpk {
        z,
        p: shift_pairs(&p_hp, wo),
        k: s.k * neg_prod_ratio(&s.z, &s.p),
    }
}

/// The bilinear transform with `fs = 2`; zeros at infinity go to Nyquist (-1).
fn bilinear(s: Zpk) -> Zpk {
    let fs2 = 4.0;
    let degree = relative_degree(&s);
    let map = |v: &C| div(fs2 + v, fs2 - v);
    let mut z: Vec<C> = s.z.iter().map(map).collect();
    z.extend(std::iter::repeat_n(C::new(-1.0, 0.0), degree));
    let num: Vec<C> = s.z.iter().map(|v| fs2 - v).collect();
    let den: Vec<C> = s.p.iter().map(|v| fs2 - v).collect();
    Zpk {
        z,
        p: s.p.iter().map(map).collect(),
        k: s.k * div(prod(&num), prod(&den)).re,
    }
}

/// Splits into conjugate pairs (one of each, imaginary part positive, the
/// pair averaged) followed by the real values, as SciPy's `_cplxreal`.
fn cplxreal(mut z: Vec<C>) -> Vec<C> {
    let tol = 100.0 * f64::EPSILON;
    z.sort_by(|a, b| {
        a.re.total_cmp(&b.re)
            .then(a.im.abs().total_cmp(&b.im.abs()))
    });
    let (real, complex): (Vec<C>, Vec<C>) =
        z.into_iter().partition(|v| v.im.abs() <= tol * v.norm());
    let mut zp: Vec<C> = complex.iter().copied().filter(|v| v.im > 0.0).collect();
    let mut zn: Vec<C> = complex.iter().copied().filter(|v| v.im < 0.0).collect();
    // Within runs of (nearly) equal real part, order by imaginary magnitude.
    let mut start = 0;
    while start < zp.len() {
        let mut stop = start;
        while stop + 1 < zp.len() && zp[stop + 1].re - zp[stop].re <= tol * zp[stop].norm() {
            stop += 1;
        }
        if stop > start {
            let by_imag = |a: &C, b: &C| a.im.abs().total_cmp(&b.im.abs());
            zp[start..=stop].sort_by(by_imag);
            let end = (stop + 1).min(zn.len());
            zn[start.min(end)..end].sort_by(by_imag);
        }
        start = stop + 1;
    }
    let mut out: Vec<C> = zp
        .iter()
        .zip(&zn)
        .map(|(p, n)| (p + n.conj()) * 0.5)
        .collect();
    out.extend(real.iter().map(|v| C::new(v.re, 0.0)));
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Which {
    Real,
    Complex,
    Any,
}

/// The index of the element of `from` nearest to `to` that is of kind `which`.
fn nearest(from: &[C], to: C, which: Which) -> usize {
    let mut order: Vec<usize> = (0..from.len()).collect();
    order.sort_by(|&a, &b| (from[a] - to).norm().total_cmp(&(from[b] - to).norm()));
    order
        .into_iter()
        .find(|&i| match which {
            Which::Any => true,
            Which::Real => is_real(from[i]),
            Which::Complex => !is_real(from[i]),
        })
        .unwrap_or(0)
}

/// The index of the value closest to the unit circle (first on ties).
fn worst(values: &[C]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if (1.0 - v.norm()).abs() < (1.0 - values[best].norm()).abs() {
            best = i;
        }
    }
    best
}

/// Polynomial coefficients with the given roots (NumPy's `poly`), real parts.
fn poly(roots: &[C]) -> Vec<f64> {
    let mut a = vec![C::new(1.0, 0.0)];
    for r in roots {
        let mut next = a.clone();
        next.push(C::new(0.0, 0.0));
        for i in 1..next.len() {
            next[i] += a[i - 1] * -r;
        }
        a = next;
    }
    a.iter().map(|c| c.re).collect()
}

fn single_section(z: &[C], p: &[C]) -> Section {
    let (b, a) = (poly(z), poly(p));
    let mut s = [0.0; 6];
    s[3 - b.len()..3].copy_from_slice(&b);
    s[6 - a.len()..6].copy_from_slice(&a);
    s
}

/// SciPy's `zpk2sos` with `pairing='nearest'` for a digital system.
fn zpk2sos(s: Zpk) -> Vec<Section> {
    let Zpk { mut z, mut p, k } = s;
    if z.is_empty() && p.is_empty() {
        return vec![[k, 0.0, 0.0, 1.0, 0.0, 0.0]];
    }
    let n = z.len().max(p.len());
    z.resize(n, C::new(0.0, 0.0));
    p.resize(n, C::new(0.0, 0.0));
    let n_sections = n.div_ceil(2);
    if n % 2 == 1 {
        z.push(C::new(0.0, 0.0));
        p.push(C::new(0.0, 0.0));
    }
    let mut z = cplxreal(z);
    let mut p = cplxreal(p);
    let mut sos = vec![[0.0; 6]; n_sections];
    for si in (0..n_sections).rev() {
        let p1 = p.remove(worst(&p));
        let real_poles = p.iter().filter(|v| is_real(**v)).count();
        let real_zeros = z.iter().filter(|v| is_real(**v)).count();
        sos[si] = if is_real(p1) && real_poles == 0 {
            let z1 = z.remove(nearest(&z, p1, Which::Real));
            single_section(&[z1, C::new(0.0, 0.0)], &[p1, C::new(0.0, 0.0)])
        } else if p.len() + 1 == z.len() && !is_real(p1) && real_poles == 1 && real_zeros == 1 {
            let z1 = z.remove(nearest(&z, p1, Which::Complex));
            single_section(&[z1, z1.conj()], &[p1, p1.conj()])
        } else {
            let p2 = if is_real(p1) {
                let reals: Vec<usize> = (0..p.len()).filter(|&i| is_real(p[i])).collect();
                let vals: Vec<C> = reals.iter().map(|&i| p[i]).collect();
                p.remove(reals[worst(&vals)])
            } else {
                p1.conj()
            };
            if z.is_empty() {
                single_section(&[], &[p1, p2])
            } else {
                let z1 = z.remove(nearest(&z, p1, Which::Any));
                if !is_real(z1) {
                    single_section(&[z1, z1.conj()], &[p1, p2])
                } else if z.is_empty() {
                    single_section(&[z1], &[p1, p2])
                } else {
                    let z2 = z.remove(nearest(&z, p1, Which::Real));
                    single_section(&[z1, z2], &[p1, p2])
                }
            }
        };
    }
    for c in &mut sos[0][..3] {
        *c *= k;
    }
    sos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_designs() {
        let msg = |r: Result<Vec<Section>, StageError>| r.unwrap_err().to_string();
        assert!(msg(butter_sos(0, Band::Lowpass(1.0), 10.0)).contains("got 0"));
        assert!(msg(butter_sos(17, Band::Lowpass(1.0), 10.0)).contains("got 17"));
        assert!(msg(butter_sos(2, Band::Lowpass(5.0), 10.0)).contains("Nyquist frequency 5"));
        assert!(msg(butter_sos(2, Band::Highpass(-1.0), 10.0)).contains("-1"));
        assert!(msg(butter_sos(2, Band::Bandpass(3.0, 2.0), 10.0)).contains("low edge 3"));
    }

    #[test]
    fn lowpass_has_unit_dc_gain() {
        for order in 1..=MAX_ORDER {
            let sos = butter_sos(order, Band::Lowpass(0.2), 1.0).unwrap();
            assert_eq!(sos.len(), order.div_ceil(2));
            let gain: f64 = sos
                .iter()
                .map(|s| (s[0] + s[1] + s[2]) / (s[3] + s[4] + s[5]))
                .product();
            assert!((gain - 1.0).abs() < 1e-9, "order {order}: {gain}");
        }
    }
}
