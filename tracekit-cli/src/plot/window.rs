//! Which part of a long capture the time panels show: a few periods of the
//! dominant frequency from the middle of the capture, when the whole of it
//! would be more periods than a panel can show apart.

use std::ops::Range;

use tracekit_core::Trace;

use super::{axis, ticks};

/// Periods shown in a window.
pub(super) const PERIODS: f64 = 5.0;
/// A trace of at most this many periods is shown whole.
const MAX_WHOLE_PERIODS: f64 = 30.0;
/// The fewest samples (at the first trace's rate) a window holds.
const MIN_SAMPLES: f64 = 32.0;

/// The time span the time panels show, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Window {
    /// The span shown.
    pub(super) lo: f64,
    /// The span shown.
    pub(super) hi: f64,
    /// The frequency whose periods it holds; `None` when the whole span of
    /// the traces is shown.
    pub(super) hz: Option<f64>,
}

impl Window {
    /// The window for time traces spanning `whole` (s), the first of them
    /// `first`: five periods of `hint` (a measured fundamental, say) or else
    /// of `first`'s dominant frequency, taken from the middle and started
    /// on a round time; the whole span when that would not help.
    pub(super) fn choose(whole: (f64, f64), first: &Trace, hint: Option<f64>) -> Window {
        let everything = Window {
            lo: whole.0,
            hi: whole.1,
            hz: None,
        };
        let span = whole.1 - whole.0;
        let hz = hint
            .filter(|f| f.is_finite() && *f > 0.0)
            .or_else(|| dominant_hz(first));
        let Some(hz) = hz else {
            return everything;
        };
        if !(span.is_finite() && span > 0.0) || hz * span <= MAX_WHOLE_PERIODS {
            return everything;
        }
        let (_, dt) = axis::x_step(first);
        let width = (PERIODS / hz).max(MIN_SAMPLES * dt);
        if !(width.is_finite() && width > 0.0) || width >= span {
            return everything;
        }
        let middle = whole.0 + span / 2.0;
        // Start on a multiple of a tenth of the width, so the ticks read round.
        let lo = match ticks::nice_step(0.0, width, 10) {
            Some(step) => ((middle - width / 2.0) / step).floor() * step,
            None => middle - width / 2.0,
        };
        let lo = lo.clamp(whole.0, whole.1 - width);
        Window {
            lo,
            hi: lo + width,
            hz: Some(hz),
        }
    }

    /// Whether this window shows less than `whole`.
    pub(super) fn is_part_of(&self, whole: (f64, f64)) -> bool {
        self.lo > whole.0 || self.hi < whole.1
    }
}

/// The indices of `trace`'s samples whose x (axis base units, see
/// [`axis::x_step`]) lies in `lo..=hi`.
pub(super) fn indices_within(trace: &Trace, lo: f64, hi: f64) -> Range<usize> {
    let n = trace.len();
    let (start, step) = axis::x_step(trace);
    // In f64 and clamped before the cast, so that no length or rate makes
    // an index outside the trace.
    let at = |x: f64| ((x - start) / step).clamp(0.0, n as f64);
    if lo.is_nan() || hi.is_nan() {
        return 0..0;
    }
    // A millionth of a sample of slack: a window edge computed to sit on a
    // sample keeps that sample whichever way the rounding went.
    let first = (at(lo) - 1e-6).ceil().max(0.0);
    let end = ((at(hi) + 1e-6).floor() + 1.0).min(n as f64);
    if first.is_nan() || end.is_nan() || end <= first {
        return 0..0;
    }
    first as usize..end as usize
}

/// The frequency of the strongest tone in `trace`, from how often it
/// crosses its mean with hysteresis (half its standard deviation either
/// side, so that noise on a slow wave does not count as crossings); `None`
/// for fewer than three rising crossings, a flat trace or no finite sample.
///
/// Two passes over the samples and no allocation, so any length is fine.
pub(super) fn dominant_hz(trace: &Trace) -> Option<f64> {
    let samples = trace.samples();
    let finite = || samples.iter().copied().filter(|v| v.is_finite());
    let count = finite().count();
    if count < 4 {
        return None;
    }
    let mean = finite().sum::<f64>() / count as f64;
    let var = finite().map(|v| (v - mean) * (v - mean)).sum::<f64>() / count as f64;
    let h = 0.5 * var.sqrt();
    if !(h.is_finite() && h > 0.0) {
        return None;
    }
    let (mut below, mut rises, mut first, mut last) = (None, 0usize, 0usize, 0usize);
    for (i, &v) in samples.iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        if v < mean - h {
            below = Some(true);
        } else if v > mean + h {
            if below == Some(true) {
                if rises == 0 {
                    first = i;
                }
                rises += 1;
                last = i;
            }
            below = Some(false);
        }
    }
    if rises < 3 || last <= first {
        return None;
    }
    let (_, dt) = axis::x_step(trace);
    let hz = (rises - 1) as f64 / ((last - first) as f64 * dt);
    (hz.is_finite() && hz > 0.0).then_some(hz)
}

#[cfg(test)]
mod tests {
    use std::f64::consts::TAU;

    use super::*;

    fn tone(n: usize, rate: f64, hz: f64) -> Trace {
        let s = (0..n)
            .map(|i| {
                (TAU * hz * i as f64 / rate).sin() + 0.1 * (TAU * 3.0 * hz * i as f64 / rate).sin()
            })
            .collect();
        Trace::new(s, rate).unwrap()
    }

    #[test]
    fn the_demo_capture_shows_five_periods_from_its_middle() {
        let t = tone(1 << 20, 1e6, 10e3);
        let hz = dominant_hz(&t).unwrap();
        assert!((hz - 10e3).abs() < 1.0, "{hz}");
        let whole = axis::x_extent(&t);
        let w = Window::choose(whole, &t, None);
        assert!(w.is_part_of(whole));
        assert!(((w.hi - w.lo) - 5e-4).abs() < 1e-9, "{w:?}");
        assert!(w.lo > 0.5 && w.lo < 0.53, "from the middle: {w:?}");
        // Round: a multiple of 50 µs.
        assert!(((w.lo / 5e-5).round() * 5e-5 - w.lo).abs() < 1e-12, "{w:?}");
        assert_eq!(indices_within(&t, w.lo, w.hi).len(), 501);
        // A measured fundamental wins over the estimate.
        let w = Window::choose(whole, &t, Some(1e3));
        assert!(((w.hi - w.lo) - 5e-3).abs() < 1e-9);
    }

    #[test]
    fn short_or_shapeless_traces_are_shown_whole() {
        let few = tone(2000, 1e6, 10e3); // 20 periods
        let whole = axis::x_extent(&few);
        assert!(!Window::choose(whole, &few, None).is_part_of(whole));
        let ramp = Trace::new((0..100_000).map(f64::from).collect(), 1e6).unwrap();
        assert_eq!(dominant_hz(&ramp), None);
        let whole = axis::x_extent(&ramp);
        assert_eq!(Window::choose(whole, &ramp, None).hz, None);
        let flat = Trace::new(vec![1.0; 1000], 1.0).unwrap();
        assert_eq!(dominant_hz(&flat), None);
        let nan = Trace::new(vec![f64::NAN; 1000], 1.0).unwrap();
        assert_eq!(dominant_hz(&nan), None);
        let empty = Trace::new(vec![], 1.0).unwrap();
        assert_eq!(Window::choose((0.0, 0.0), &empty, Some(1e3)).hz, None);
    }

    #[test]
    fn indices_stay_inside_the_trace() {
        let t = Trace::new(vec![0.0; 10], 1.0).unwrap();
        assert_eq!(indices_within(&t, 2.5, 5.0), 3..6);
        assert_eq!(indices_within(&t, -1e300, 1e300), 0..10);
        assert_eq!(indices_within(&t, 20.0, 30.0), 0..0);
        assert_eq!(indices_within(&t, f64::NAN, 3.0), 0..0);
        assert_eq!(indices_within(&t, 5.0, 2.0), 0..0);
        let empty = Trace::new(vec![], 1.0).unwrap();
        assert_eq!(indices_within(&empty, 0.0, 1.0), 0..0);
    }
}
