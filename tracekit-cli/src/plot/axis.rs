//! Axis units (s/ms/µs, Hz/kHz/MHz), the mapping from s or Hz to chart
//! coordinates (linear or logarithmic), and number formatting for labels.

use tracekit_core::{Domain, Trace};

use super::ticks::{self, Tick};

/// A display unit: axis values are divided by `scale` and labelled `name`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Unit {
    pub(super) scale: f64,
    pub(super) name: &'static str,
}

/// Time units, largest first.
const TIME_UNITS: [Unit; 4] = [
    Unit {
        scale: 1.0,
        name: "s",
    },
    Unit {
        scale: 1e-3,
        name: "ms",
    },
    Unit {
        scale: 1e-6,
        name: "µs",
    },
    Unit {
        scale: 1e-9,
        name: "ns",
    },
];

/// Frequency units, largest first.
const FREQUENCY_UNITS: [Unit; 4] = [
    Unit {
        scale: 1e9,
        name: "GHz",
    },
    Unit {
        scale: 1e6,
        name: "MHz",
    },
    Unit {
        scale: 1e3,
        name: "kHz",
    },
    Unit {
        scale: 1.0,
        name: "Hz",
    },
];

/// The largest unit in which `magnitude` (the largest |x| on the axis) is at
/// least 1; the smallest unit for anything below.
pub(super) fn unit_for(domain: Domain, magnitude: f64) -> Unit {
    let units: &[Unit] = match domain {
        Domain::Time => &TIME_UNITS,
        Domain::Frequency => &FREQUENCY_UNITS,
    };
    // Both tables run from the largest unit to the smallest.
    let smallest = units[units.len() - 1];
    units
        .iter()
        .copied()
        .find(|u| magnitude >= u.scale)
        .unwrap_or(smallest)
}

/// The x axis shared by every panel of one domain: its range in display
/// units and its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct XAxis {
    pub(super) domain: Domain,
    pub(super) unit: Unit,
    /// Range in display units.
    pub(super) lo: f64,
    /// Range in display units.
    pub(super) hi: f64,
}

impl XAxis {
    /// The axis that spans every trace of `domain` among `traces`, or `None`
    /// if there is no such trace.
    pub(super) fn spanning<'a>(
        domain: Domain,
        traces: impl IntoIterator<Item = &'a Trace>,
    ) -> Option<XAxis> {
        let mut range: Option<(f64, f64)> = None;
        for t in traces.into_iter().filter(|t| t.meta().domain == domain) {
            let (a, b) = x_extent(t);
            range = Some(match range {
                None => (a, b),
                Some((lo, hi)) => (lo.min(a), hi.max(b)),
            });
        }
        let (lo, hi) = range?;
        let (lo, hi) = widened(lo, hi);
        let unit = unit_for(domain, lo.abs().max(hi.abs()));
        Some(XAxis {
            domain,
            unit,
            lo: lo / unit.scale,
            hi: hi / unit.scale,
        })
    }
}

/// How chart x coordinates relate to the axis base unit (s or Hz).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum XScale {
    /// x = value / unit.scale.
    Linear(Unit),
    /// x = log10(value in Hz); only positive values have a place.
    Log,
}

/// An x axis as a chart draws it: the scale and the range in chart
/// coordinates (`lo < hi`, both finite).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct XMap {
    /// What the axis measures.
    pub(super) domain: Domain,
    /// Linear in a display unit, or logarithmic.
    pub(super) scale: XScale,
    /// Left end, in chart coordinates.
    pub(super) lo: f64,
    /// Right end, in chart coordinates.
    pub(super) hi: f64,
}

impl XMap {
    /// The linear axis of `axis`.
    pub(super) fn linear(axis: &XAxis) -> XMap {
        XMap {
            domain: axis.domain,
            scale: XScale::Linear(axis.unit),
            lo: axis.lo,
            hi: axis.hi,
        }
    }

    /// A linear axis over `lo..hi` (s or Hz), in the unit that suits it;
    /// an empty or inverted span is widened as [`XAxis::spanning`] does.
    pub(super) fn linear_over(domain: Domain, lo: f64, hi: f64) -> XMap {
        let (lo, hi) = widened(lo, hi);
        let unit = unit_for(domain, lo.abs().max(hi.abs()));
        XMap {
            domain,
            scale: XScale::Linear(unit),
            lo: lo / unit.scale,
            hi: hi / unit.scale,
        }
    }

    /// A logarithmic frequency axis over `lo_hz..hi_hz`, or `None` unless
    /// `0 < lo_hz < hi_hz` (both finite).
    pub(super) fn log(lo_hz: f64, hi_hz: f64) -> Option<XMap> {
        (lo_hz > 0.0 && hi_hz > lo_hz && hi_hz.is_finite()).then(|| XMap {
            domain: Domain::Frequency,
            scale: XScale::Log,
            lo: lo_hz.log10(),
            hi: hi_hz.log10(),
        })
    }

    /// The chart coordinate of `value` (s or Hz); NaN where the axis has no
    /// place for it (zero or below on a logarithmic axis).
    pub(super) fn chart_x(&self, value: f64) -> f64 {
        match self.scale {
            XScale::Linear(unit) => value / unit.scale,
            XScale::Log if value > 0.0 => value.log10(),
            XScale::Log => f64::NAN,
        }
    }

    /// The value (s or Hz) at chart coordinate `x`.
    pub(super) fn value(&self, x: f64) -> f64 {
        match self.scale {
            XScale::Linear(unit) => x * unit.scale,
            XScale::Log => 10f64.powf(x),
        }
    }

    /// The span in s or Hz.
    pub(super) fn span(&self) -> (f64, f64) {
        (self.value(self.lo), self.value(self.hi))
    }

    /// Where the ticks go and what they say.
    pub(super) fn ticks(&self) -> Vec<Tick> {
        match self.scale {
            XScale::Linear(_) => ticks::linear(self.lo, self.hi, 10),
            XScale::Log => ticks::log_frequency(self.value(self.lo), self.value(self.hi)),
        }
    }

    /// "Time (ms)", "Frequency (kHz)", "Frequency (log scale)".
    pub(super) fn label(&self) -> String {
        let what = match self.domain {
            Domain::Time => "Time",
            Domain::Frequency => "Frequency",
        };
        match self.scale {
            XScale::Linear(unit) => format!("{what} ({})", unit.name),
            XScale::Log => format!("{what} (log scale)"),
        }
    }
}

/// `lo..hi` widened to a span that is not empty.
fn widened(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        (lo, hi)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.5 };
        (lo - pad, lo + pad)
    }
}

/// The first positive x and the last x of `trace` (Hz), for a logarithmic
/// axis: `None` if it has a point below zero (a two-sided spectrum, which a
/// logarithmic axis cannot show) or no positive point. The DC bin at 0 is
/// left out.
pub(super) fn positive_extent(trace: &Trace) -> Option<(f64, f64)> {
    let (start, step) = x_step(trace);
    let n = trace.len();
    if n == 0 || start < 0.0 || step.is_nan() || step <= 0.0 {
        return None;
    }
    let first = if start > 0.0 { start } else { start + step };
    let last = start + (n - 1) as f64 * step;
    (first > 0.0 && last >= first && last.is_finite()).then_some((first, last))
}

/// Samples per second (or points per Hz) as read: "1 MS/s", "44.1 kS/s".
pub(super) fn rate_text(trace: &Trace) -> String {
    let rate = trace.sample_rate();
    match trace.meta().domain {
        Domain::Time => {
            let unit = unit_for(Domain::Frequency, rate);
            let prefix = unit.name.trim_end_matches("Hz");
            format!("{} {prefix}S/s", number(rate / unit.scale))
        }
        Domain::Frequency => {
            let spacing = 1.0 / rate;
            let unit = unit_for(Domain::Frequency, spacing);
            format!("{} {} apart", number(spacing / unit.scale), unit.name)
        }
    }
}

/// A time or frequency with its unit: "524.3 ms", "10 kHz".
pub(super) fn quantity(domain: Domain, value: f64) -> String {
    let unit = unit_for(domain, value.abs());
    format!("{} {}", number(value / unit.scale), unit.name)
}

/// The x value (in axis base units, s or Hz) of the first point and the step
/// between points: `start` and `1 / sample_rate`.
///
/// A non-finite start counts as 0. A trace whose x values would leave
/// ±1e300 (a rate near zero, say) is drawn against its sample index instead,
/// so that every axis stays finite.
pub(super) fn x_step(trace: &Trace) -> (f64, f64) {
    const LIMIT: f64 = 1e300;
    let meta = trace.meta();
    let start = if meta.start.is_finite() {
        meta.start
    } else {
        0.0
    };
    let step = 1.0 / meta.sample_rate;
    let last = start + trace.len().saturating_sub(1) as f64 * step;
    if step.is_finite() && start.abs() <= LIMIT && last.abs() <= LIMIT {
        (start, step)
    } else {
        (0.0, 1.0)
    }
}

/// The x values (in axis base units) of the first and last point; an empty
/// trace spans its start alone.
pub(super) fn x_extent(trace: &Trace) -> (f64, f64) {
    let (start, step) = x_step(trace);
    (start, start + trace.len().saturating_sub(1) as f64 * step)
}

/// The y axis description: what is plotted and in which units.
pub(super) fn y_label(trace: &Trace) -> String {
    let meta = trace.meta();
    let what = match meta.domain {
        Domain::Time => "Amplitude",
        Domain::Frequency => "Magnitude",
    };
    if meta.units.is_empty() {
        what.to_owned()
    } else {
        format!("{what} ({})", meta.units)
    }
}

/// A short label for a tick or a measurement: up to 4 significant digits,
/// no trailing zeros, scientific notation for very large or small values.
pub(super) fn number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let a = v.abs();
    if !(1e-3..1e6).contains(&a) {
        let s = format!("{v:.3e}");
        // 1.500e-5 -> 1.5e-5
        return match s.split_once('e') {
            Some((m, e)) => format!("{}e{e}", trim_zeros(m)),
            None => s,
        };
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    trim_zeros(&format!("{v:.decimals$}")).to_owned()
}

/// `s` without the trailing zeros of its decimals (and the point, if none are left).
fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use tracekit_core::TraceMeta;

    use super::*;

    #[test]
    fn time_units_fit_the_span() {
        let unit = |m| unit_for(Domain::Time, m).name;
        assert_eq!(unit(1.048_575), "s");
        assert_eq!(unit(0.999), "ms");
        assert_eq!(unit(1e-3), "ms");
        assert_eq!(unit(65e-6), "µs");
        assert_eq!(unit(2e-9), "ns");
        assert_eq!(unit(0.0), "ns");
    }

    #[test]
    fn frequency_units_fit_the_span() {
        let unit = |m| unit_for(Domain::Frequency, m).name;
        assert_eq!(unit(500e3), "kHz");
        assert_eq!(unit(2.5e6), "MHz");
        assert_eq!(unit(999.0), "Hz");
        assert_eq!(unit(3e9), "GHz");
    }

    #[test]
    fn axis_spans_all_traces_of_its_domain() {
        let a = Trace::new(vec![0.0; 1001], 1e6).unwrap(); // 0..1 ms
        let mut meta = TraceMeta::new(1.0 / 500.0); // 2 kHz per point... in points/Hz
        meta.domain = Domain::Frequency;
        let f = Trace::with_meta(vec![0.0; 251], meta).unwrap(); // 0..125 kHz
        let x = XAxis::spanning(Domain::Time, [&a, &f]).unwrap();
        assert_eq!(x.unit.name, "ms");
        assert!((x.lo, x.hi) == (0.0, 1.0), "{x:?}");
        assert_eq!(XMap::linear(&x).label(), "Time (ms)");
        let x = XAxis::spanning(Domain::Frequency, [&a, &f]).unwrap();
        assert_eq!((x.unit.name, x.lo, x.hi), ("kHz", 0.0, 125.0));
        assert_eq!(XMap::linear(&x).label(), "Frequency (kHz)");
        let one = Trace::new(vec![1.0], 1.0).unwrap();
        let x = XAxis::spanning(Domain::Time, [&one]).unwrap();
        assert!(x.hi > x.lo);
        assert!(XAxis::spanning(Domain::Frequency, [&one]).is_none());
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(10_000.0), "10000");
        assert_eq!(number(-62.123_456), "-62.12");
        assert_eq!(number(1.5e-5), "1.5e-5");
        assert_eq!(number(2.0e7), "2e7");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
