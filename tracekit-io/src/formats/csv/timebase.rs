//! The time base: from the header where it gives one, from the time
//! stamps where they are evenly spaced, from the user's `--sample-rate`
//! where the file gives none; never from a sample index.
//!
//! The rule, in order:
//! - an X column that is a sample index (Rigol's `Sequence`, or a column of
//!   consecutive integers under a label that does not say it is a time) is
//!   never a time base: the header's Increment or sample interval is, else
//!   the user's rate, else an error that asks for `--sample-rate`;
//! - a header's sample interval (or sampling frequency) wins over time
//!   stamps, which the scope may have rounded; `start` is the header's where
//!   it gives one, else the first stamp. Stamps that contradict the header
//!   by more than 2% of the record's span are an error;
//! - time stamps without a header rate must be evenly spaced within 1% of
//!   their mean step: the rate is then `(n - 1) / (t_last - t_first)`;
//!   otherwise the error names the lines where the spacing breaks (and the
//!   user's rate, where given, is used instead);
//! - a file with neither (one column of values) needs the user's rate.

use tracekit_core::Domain;

use crate::error::{Result, bail};

/// How far steps may stray from their mean (a fraction of it) and still be
/// one sample rate.
const STEP_TOLERANCE: f64 = 0.01;

/// How far a record's span may stray from what the header's rate gives.
const HEADER_TOLERANCE: f64 = 0.02;

/// What the first column of the data holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum XAxis {
    /// There is no X column: every column is a channel.
    None,
    /// A sample index, not a time.
    Index,
    /// Time stamps, times `scale` to seconds.
    Time(f64),
    /// Frequencies, times `scale` to hertz (a spectrum).
    Frequency(f64),
}

/// A sample interval the header gives, with where: for messages.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Stated {
    /// The interval in seconds.
    pub(super) interval: f64,
    /// The rate: `1 / interval`, or the header's sampling frequency as written.
    pub(super) rate: f64,
    /// The header's own words and the line: `Increment (line 2)`.
    pub(super) what: String,
}

impl Stated {
    /// A sample interval of `interval` seconds.
    pub(super) fn interval(interval: f64, what: String) -> Stated {
        Stated {
            interval,
            rate: 1.0 / interval,
            what,
        }
    }

    /// A sampling frequency of `rate` Hz.
    pub(super) fn rate(rate: f64, what: String) -> Stated {
        Stated {
            interval: 1.0 / rate,
            rate,
            what,
        }
    }
}

/// The X column as the rows go by: first, last and the extreme steps, so
/// that no vector of stamps is kept.
#[derive(Debug, Clone, Default)]
pub(super) struct Axis {
    count: usize,
    first: f64,
    last: f64,
    last_line: usize,
    /// The smallest step and the lines it joins.
    min_step: (f64, usize, usize),
    /// The largest step and the lines it joins.
    max_step: (f64, usize, usize),
    /// The first place the column goes down: (line before, line, value before, value).
    backwards: Option<(usize, usize, f64, f64)>,
    /// The first place the column does not count up by one, same layout.
    not_counting: Option<(usize, usize, f64, f64)>,
}

impl Axis {
    /// Takes the next value (already checked to be finite), on `line`.
    pub(super) fn push(&mut self, x: f64, line: usize) {
        if self.count == 0 {
            self.first = x;
            self.min_step = (f64::INFINITY, 0, 0);
            self.max_step = (f64::NEG_INFINITY, 0, 0);
            if x.fract() != 0.0 {
                self.not_counting = Some((line, line, x, x));
            }
        } else {
            let step = x - self.last;
            if step < self.min_step.0 {
                self.min_step = (step, self.last_line, line);
            }
            if step > self.max_step.0 {
                self.max_step = (step, self.last_line, line);
            }
            if step < 0.0 && self.backwards.is_none() {
                self.backwards = Some((self.last_line, line, self.last, x));
            }
            if step != 1.0 && self.not_counting.is_none() {
                self.not_counting = Some((self.last_line, line, self.last, x));
            }
        }
        self.count += 1;
        self.last = x;
        self.last_line = line;
    }

    /// Whether the column counts up by one from an integer: 0, 1, 2, ...
    pub(super) fn is_counting(&self) -> bool {
        self.count >= 2 && self.not_counting.is_none()
    }

    /// Whether the column only goes up (equal neighbours allowed) and ends
    /// above where it starts: what a time axis does.
    pub(super) fn rises(&self) -> bool {
        self.count >= 2 && self.backwards.is_none() && self.last > self.first
    }

    /// Where the column goes down, for messages: `line 7 (0.5 after 0.6)`.
    pub(super) fn backwards_at(&self) -> Option<String> {
        self.backwards
            .map(|(_, line, before, x)| format!("line {line} ({} after {})", num(x), num(before)))
    }
}

/// The time base of the traces: points per axis unit, the first point's x, the domain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TimeBase {
    /// Samples per second (points per hertz for a spectrum).
    pub(super) rate: f64,
    /// The x of the first point, in seconds (hertz).
    pub(super) start: f64,
    /// Time or frequency.
    pub(super) domain: Domain,
}

/// What the header says about the time base.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct HeaderTime {
    /// The sample interval in seconds (from an Increment, a sample interval
    /// or the inverse of a sampling frequency).
    pub(super) interval: Option<Stated>,
    /// The time of sample index 0, or of the first row where there is no index.
    pub(super) start: Option<f64>,
}

/// `x` for messages: six significant digits, in exponent form where it is
/// very small or large (`5e-8`, `0.0025`, `250000`).
pub(super) fn num(x: f64) -> String {
    let rounded: f64 = format!("{x:.5e}").parse().unwrap_or(x);
    if rounded == 0.0 || !rounded.is_finite() || (1e-4..1e7).contains(&rounded.abs()) {
        format!("{rounded}")
    } else {
        format!("{rounded:e}")
    }
}

/// The header's interval and rate, or an error where they are no time base.
fn check_interval(stated: &Stated) -> Result<(f64, f64)> {
    let (dt, rate) = (stated.interval, stated.rate);
    let good = |x: f64| x.is_finite() && x > 0.0;
    if !(good(dt) && good(rate)) {
        bail!(
            "{} gives a sample interval of {} s ({} Sa/s): it must be finite and \
             greater than 0",
            stated.what,
            num(dt),
            num(rate)
        );
    }
    Ok((dt, rate))
}

/// What every message about a missing time base ends with.
const ASK: &str = "give the sample rate with --sample-rate HZ";

/// The time base of a file whose X column is `x` (its values in `axis`),
/// whose header says `header`, read with the user's rate `user`.
pub(super) fn decide(
    x: XAxis,
    axis: &Axis,
    header: &HeaderTime,
    user: Option<f64>,
    x_label: &str,
) -> Result<TimeBase> {
    let time = |rate, start| TimeBase {
        rate,
        start,
        domain: Domain::Time,
    };
    let stated = header.interval.as_ref().map(check_interval).transpose()?;
    match x {
        XAxis::None => match (stated, user) {
            (Some((_, rate)), _) => Ok(time(rate, header.start.unwrap_or(0.0))),
            (None, Some(rate)) => Ok(time(rate, header.start.unwrap_or(0.0))),
            (None, None) => bail!(
                "the file does not say its sample rate (it has no time column and its \
                 header gives no sample interval); {ASK}"
            ),
        },
        XAxis::Index => {
            if let Some((before, line, a, b)) = axis.not_counting {
                bail!(
                    "line {line}: sample index {b} follows {a} on line {before}: \
                     the {x_label} column must count up by one"
                );
            }
            let offset = axis.first;
            match (stated, user) {
                (Some((dt, rate)), _) => Ok(time(rate, header.start.unwrap_or(0.0) + offset * dt)),
                (None, Some(rate)) => Ok(time(rate, header.start.unwrap_or(0.0) + offset / rate)),
                (None, None) => bail!(
                    "the {x_label} column is a sample index, not a time, and the header \
                     gives no Increment or sample interval; {ASK}"
                ),
            }
        }
        XAxis::Time(scale) => {
            if let Some(at) = axis.backwards_at() {
                bail!("time stamps go backwards at {at}");
            }
            let first = axis.first * scale;
            if let Some((dt, rate)) = stated {
                check_span(axis, scale, dt, header)?;
                return Ok(time(rate, header.start.unwrap_or(first)));
            }
            match (even_rate(axis, scale, "time stamps", "s"), user) {
                (Ok(rate), _) => Ok(time(rate, first)),
                (Err(_), Some(rate)) => Ok(time(rate, first)),
                (Err(why), None) => bail!("{why}; {ASK}"),
            }
        }
        XAxis::Frequency(scale) => {
            if let Some(at) = axis.backwards_at() {
                bail!("frequencies go backwards at {at}");
            }
            Ok(TimeBase {
                rate: even_rate(axis, scale, "frequencies", "Hz")?,
                start: axis.first * scale,
                domain: Domain::Frequency,
            })
        }
    }
}

/// `(n - 1) / (x_last - x_first)` where the steps are within 1% of their
/// mean; else what is wrong, naming the lines.
fn even_rate(axis: &Axis, scale: f64, what: &str, unit: &str) -> std::result::Result<f64, String> {
    if axis.count < 2 {
        return Err(format!(
            "{} data row: one x value cannot give a sample rate and the header gives none",
            if axis.count == 0 { "no" } else { "only one" }
        ));
    }
    let n = axis.count as f64;
    let mean = (axis.last - axis.first) / (n - 1.0);
    if !(mean > 0.0 && mean.is_finite()) {
        return Err(format!(
            "the {what} do not rise: {} on the first row, {} on line {}",
            axis.first, axis.last, axis.last_line
        ));
    }
    let (low, high) = (axis.min_step, axis.max_step);
    if (mean - low.0).max(high.0 - mean) > STEP_TOLERANCE * mean {
        return Err(format!(
            "the {what} are not evenly spaced: the steps range from {} {unit} (lines {} to \
             {}) to {} {unit} (lines {} to {}), more than 1% from their mean of {} {unit} \
             (the stamps may be rounded, or the record has gaps)",
            num(low.0 * scale),
            low.1,
            low.2,
            num(high.0 * scale),
            high.1,
            high.2,
            num(mean * scale)
        ));
    }
    let rate = (n - 1.0) / ((axis.last - axis.first) * scale);
    if rate.is_finite() && rate > 0.0 {
        Ok(rate)
    } else {
        Err(format!("the {what} give a sample rate of {}", num(rate)))
    }
}

/// An error where the stamps span a record more than 2% longer or shorter
/// than the header's interval gives.
fn check_span(axis: &Axis, scale: f64, dt: f64, header: &HeaderTime) -> Result<()> {
    if axis.count < 2 {
        return Ok(());
    }
    let span = (axis.last - axis.first) * scale;
    let expected = (axis.count - 1) as f64 * dt;
    if (span - expected).abs() > HEADER_TOLERANCE * expected {
        let what = header
            .interval
            .as_ref()
            .map_or("the header", |s| s.what.as_str());
        bail!(
            "{what} gives a sample interval of {} s, but the time stamps of {} rows span \
             {} s (a step of {} s): the file contradicts itself",
            num(dt),
            axis.count,
            num(span),
            num(span / (axis.count - 1) as f64)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(values: &[f64]) -> Axis {
        let mut a = Axis::default();
        for (i, &x) in values.iter().enumerate() {
            a.push(x, i + 3);
        }
        a
    }

    fn stated(dt: f64) -> HeaderTime {
        HeaderTime {
            interval: Some(Stated::interval(dt, "Increment (line 2)".into())),
            start: Some(-1.0),
        }
    }

    #[test]
    fn an_index_is_never_a_time_base() {
        let a = axis(&[0.0, 1.0, 2.0]);
        let e = decide(XAxis::Index, &a, &HeaderTime::default(), None, "X").unwrap_err();
        assert!(e.0.contains("--sample-rate"), "{}", e.0);
        let b = decide(XAxis::Index, &axis(&[2.0, 3.0]), &stated(0.5), None, "X").unwrap();
        assert_eq!((b.rate, b.start), (2.0, 0.0));
        let e = decide(
            XAxis::Index,
            &axis(&[0.0, 1.0, 3.0]),
            &stated(0.5),
            None,
            "X",
        )
        .unwrap_err();
        assert!(
            e.0.starts_with("line 5: sample index 3 follows 1 on line 4"),
            "{}",
            e.0
        );
    }

    #[test]
    fn rounded_stamps_within_one_percent() {
        let a = axis(&[0.0, 1.0e-3, 2.005e-3, 3.0e-3]);
        let b = decide(XAxis::Time(1.0), &a, &HeaderTime::default(), None, "X").unwrap();
        assert_eq!(b.rate, 3.0 / 3.0e-3);
        let a = axis(&[0.0, 0.0, 1.0e-3, 1.0e-3]);
        let e = decide(XAxis::Time(1.0), &a, &HeaderTime::default(), None, "X").unwrap_err();
        assert!(
            e.0.contains("from 0 s (lines 3 to 4) to 0.001 s (lines 4 to 5)"),
            "{}",
            e.0
        );
        assert!(e.0.contains("--sample-rate"), "{}", e.0);
        let b = decide(XAxis::Time(1.0), &a, &HeaderTime::default(), Some(5.0), "X").unwrap();
        assert_eq!(b.rate, 5.0);
    }

    #[test]
    fn the_header_wins_but_must_agree() {
        let a = axis(&[0.0, 0.0, 1.0, 1.0]);
        let b = decide(XAxis::Time(1.0), &a, &stated(1.0 / 3.0), None, "X").unwrap();
        assert_eq!((b.rate, b.start), (3.0, -1.0));
        let e = decide(XAxis::Time(1.0), &a, &stated(1.0), None, "X").unwrap_err();
        assert!(e.0.contains("contradicts"), "{}", e.0);
        let e = decide(XAxis::None, &a, &stated(0.0), None, "X").unwrap_err();
        assert!(
            e.0.contains("Increment (line 2) gives a sample interval of 0 s"),
            "{}",
            e.0
        );
    }

    #[test]
    fn numbers_in_messages_are_short() {
        assert_eq!(num(4.999170301762203e-8), "4.99917e-8");
        assert_eq!(num(0.00010000000000000286), "0.0001");
        assert_eq!(num(250_000_000.0), "2.5e8");
        assert_eq!(num(-0.0025), "-0.0025");
        assert_eq!(num(0.0), "0");
    }

    #[test]
    fn one_row_needs_a_rate() {
        let e = decide(
            XAxis::Time(1.0),
            &axis(&[1.0]),
            &HeaderTime::default(),
            None,
            "X",
        )
        .unwrap_err();
        assert!(e.0.contains("only one data row"), "{}", e.0);
        let e = decide(
            XAxis::Time(1.0),
            &axis(&[1.0, 0.5]),
            &HeaderTime::default(),
            None,
            "X",
        )
        .unwrap_err();
        assert!(e.0.contains("backwards at line 4 (0.5 after 1)"), "{}", e.0);
    }
}
