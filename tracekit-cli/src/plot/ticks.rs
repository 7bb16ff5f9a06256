//! Where the ticks of an axis go and what they say: steps of 1, 2 or 5 × 10^k
//! on a linear axis, decades (and 2 and 5 between them on a short span) on a
//! logarithmic one.
//!
//! Every function here returns a bounded number of ticks, whatever its
//! input: a range that is empty, inverted, not finite or too fine for f64
//! gives no ticks rather than a loop.

use tracekit_core::Domain;

use super::axis;

/// The most ticks any axis gets.
const MAX_TICKS: usize = 40;

/// One tick: where it is, in the axis's coordinates, and its label.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Tick {
    /// Position in axis coordinates: display units on a linear axis,
    /// log10 of the base unit on a logarithmic one.
    pub(super) at: f64,
    /// The label drawn under it; empty for an unlabelled grid line.
    pub(super) label: String,
}

/// Ticks every 1, 2 or 5 × 10^k across `lo..=hi`, about `target` of them,
/// each labelled with as many decimals as its step needs (so that a window
/// at 524.25..524.75 reads 524.3, 524.35... rather than 524.3 twice).
pub(super) fn linear(lo: f64, hi: f64, target: usize) -> Vec<Tick> {
    let Some(step) = nice_step(lo, hi, target) else {
        return Vec::new();
    };
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    if !(first.is_finite() && last.is_finite()) || last - first > MAX_TICKS as f64 {
        return Vec::new();
    }
    // Decimals the step needs: 0.05 needs 2, 20 needs none.
    let decimals = (-step.log10().floor()).clamp(0.0, 12.0) as usize;
    let mut ticks: Vec<Tick> = Vec::new();
    let mut k = first;
    while k <= last {
        let at = k * step;
        let label = if at.abs() < 1e6 && step >= 1e-6 {
            let text = format!("{at:.decimals$}");
            if text
                .trim_start_matches('-')
                .trim_matches(['0', '.'])
                .is_empty()
            {
                "0".to_owned()
            } else {
                text
            }
        } else {
            axis::number(at)
        };
        // Far from zero, f64 may not resolve the step: labels then repeat.
        if ticks.last().is_none_or(|t| t.label != label) {
            ticks.push(Tick { at, label });
        }
        k += 1.0;
    }
    ticks
}

/// The step of 1, 2 or 5 × 10^k that splits `lo..hi` into at most about
/// `target` parts; `None` for a range with nothing to split.
pub(super) fn nice_step(lo: f64, hi: f64, target: usize) -> Option<f64> {
    let span = hi - lo;
    if !(lo.is_finite() && hi.is_finite() && span.is_finite() && span > 0.0) {
        return None;
    }
    let raw = span / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    if !(magnitude.is_finite() && magnitude > 0.0) {
        return None;
    }
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)?;
    // A step that adding to `lo` cannot change draws nothing new.
    (lo + step != lo && hi - step != hi).then_some(step)
}

/// Ticks of a logarithmic frequency axis from `lo_hz` to `hi_hz` (both
/// positive), positioned at log10 of the frequency and labelled with their
/// own unit ("100 Hz", "10 kHz").
///
/// Up to 2.5 decades: 1, 2 and 5 of each decade. Up to 10: each decade,
/// with unlabelled lines at 2..9. Beyond: every n-th decade, n chosen so
/// that about 10 are labelled.
pub(super) fn log_frequency(lo_hz: f64, hi_hz: f64) -> Vec<Tick> {
    if !(lo_hz > 0.0 && hi_hz > lo_hz && hi_hz.is_finite()) {
        return Vec::new();
    }
    let (lx, hx) = (lo_hz.log10(), hi_hz.log10());
    let span = hx - lx;
    let label = |f: f64| {
        let unit = axis::unit_for(Domain::Frequency, f);
        format!("{} {}", axis::number(f / unit.scale), unit.name)
    };
    let first = lx.floor() as i32;
    let last = hx.ceil() as i32;
    let (mantissas, labelled, stride): (&[f64], &[f64], i32) = if span <= 2.5 {
        (&[1.0, 2.0, 5.0], &[1.0, 2.0, 5.0], 1)
    } else if span <= 10.0 {
        (&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], &[1.0], 1)
    } else {
        (&[1.0], &[1.0], (span / 10.0).ceil() as i32)
    };
    let mut ticks = Vec::new();
    // At most 617 decades between the smallest and largest f64; the stride
    // keeps what is pushed to about 10 of them.
    let mut decade = first.div_euclid(stride) * stride;
    while decade <= last && ticks.len() < MAX_TICKS * 3 {
        for &m in mantissas {
            let f = m * 10f64.powi(decade);
            let at = f.log10();
            if at >= lx - 1e-9 && at <= hx + 1e-9 {
                let text = if labelled.contains(&m) {
                    label(f)
                } else {
                    String::new()
                };
                ticks.push(Tick { at, label: text });
            }
        }
        decade += stride;
    }
    ticks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ticks: &[Tick]) -> Vec<&str> {
        ticks.iter().map(|t| t.label.as_str()).collect()
    }

    #[test]
    fn linear_ticks_carry_the_decimals_of_their_step() {
        let t = linear(0.0, 1.0, 5);
        assert_eq!(labels(&t), ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let t = linear(524.25, 524.75, 10);
        assert_eq!(t.first().map(|t| t.label.as_str()), Some("524.25"));
        assert!(labels(&t).contains(&"524.30"), "{t:?}");
        let all = labels(&t);
        let mut unique = all.clone();
        unique.dedup();
        assert_eq!(all, unique, "no label twice");
        assert_eq!(
            labels(&linear(-3.0, 3.0, 6)),
            ["-3", "-2", "-1", "0", "1", "2", "3"]
        );
    }

    #[test]
    fn degenerate_linear_ranges_give_no_ticks() {
        for (lo, hi) in [
            (1.0, 1.0),
            (2.0, 1.0),
            (f64::NAN, 1.0),
            (0.0, f64::INFINITY),
            (-f64::MAX, f64::MAX),
            (1e300, 1e300 + 1.0),
        ] {
            assert!(linear(lo, hi, 10).is_empty(), "{lo} {hi}");
        }
        // Tiny and huge, but representable: a handful of ticks each.
        for (lo, hi) in [(0.0, 1e-300), (1e15, 1e15 + 10.0), (0.0, 1e300)] {
            let n = linear(lo, hi, 10).len();
            assert!((1..=MAX_TICKS).contains(&n), "{lo} {hi}: {n}");
        }
        assert_eq!(linear(0.0, 1.0, 0).len(), 2, "a target of 0 counts as 1");
    }

    #[test]
    fn log_ticks_follow_the_span() {
        let t = log_frequency(1.0, 500e3);
        let named: Vec<&str> = labels(&t).into_iter().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            named,
            ["1 Hz", "10 Hz", "100 Hz", "1 kHz", "10 kHz", "100 kHz"]
        );
        assert!(t.len() > named.len(), "grid lines between decades");
        let t = log_frequency(100.0, 20e3);
        assert_eq!(
            labels(&t),
            [
                "100 Hz", "200 Hz", "500 Hz", "1 kHz", "2 kHz", "5 kHz", "10 kHz", "20 kHz"
            ]
        );
        let t = log_frequency(1e-300, 1e300);
        assert!((5..=15).contains(&t.len()), "{}", t.len());
        assert!(log_frequency(0.0, 1.0).is_empty());
        assert!(log_frequency(5.0, 5.0).is_empty());
        assert!(log_frequency(1.0, f64::INFINITY).is_empty());
        for w in t.windows(2) {
            assert!(w[0].at < w[1].at);
        }
    }
}
