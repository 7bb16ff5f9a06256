//! Tektronix's older spreadsheet layout (TDS1000/2000, TPS2000): the header
//! in columns 1-3 beside the data in columns 4-5 of the same lines.
//!
//! ```text
//! Record Length,2.500000e+03,,-0.0050000,0.04000,
//! Sample Interval,4.000000e-06,,-0.0049960,0.04000,
//! Trigger Point,1.250000000000e+03,,-0.0049920,0.04000,
//! ,,,-0.0049880,0.04000,
//! Source,CH1,,-0.0049840,0.04000,
//! ```
//!
//! A file that saves several channels repeats the five columns (and an
//! empty one) for each: every group whose first line says `Record Length`
//! is a channel with its own header.

use tracekit_core::Trace;

use super::{
    columns::is_comment,
    header::{KeyRow, Said, normalize},
    text::{Field, Lines, Sep, split},
    timebase::{self, Axis, HeaderTime, XAxis},
    units::{self, Quantity},
};
use crate::{
    error::{Result, bail},
    registry::Input,
};

/// Where each group starts: the columns of the first line that say `Record
/// Length` with a time and a value two columns later. Empty where the file
/// is not in this layout.
pub(super) fn groups(fields: &[Field<'_>]) -> Vec<usize> {
    (0..fields.len())
        .filter(|&p| {
            normalize(&fields[p].text()).0 == "record length"
                && fields.get(p + 3).and_then(Field::number).is_some()
                && fields.get(p + 4).and_then(Field::number).is_some()
        })
        .collect()
}

/// One group's header and data as the lines go by.
#[derive(Debug, Default)]
struct Group {
    said: Said,
    axis: Axis,
    samples: Vec<f64>,
}

/// Reads every group of `lines` (from the first line) starting at the columns `starts`.
pub(super) fn read(
    lines: Lines<'_>,
    sep: Sep,
    starts: &[usize],
    input: &Input<'_>,
) -> Result<Vec<Trace>> {
    input.check_channels(starts.len())?;
    let mut groups: Vec<Group> = starts.iter().map(|_| Group::default()).collect();
    let mut fields = Vec::new();
    for (line, bytes) in lines {
        if is_comment(bytes) {
            continue;
        }
        split(bytes, sep, &mut fields);
        for (&p, group) in starts.iter().zip(&mut groups) {
            let at = |k: usize| fields.get(p + k).copied();
            let key: Vec<String> = (0..2).filter_map(|k| at(k).map(|f| f.text())).collect();
            if let Some(row) = KeyRow::new(line, &key) {
                group.said.take(&row)?;
            }
            let (Some(t), Some(v)) = (at(3), at(4)) else {
                continue;
            };
            if t.is_empty() && v.is_empty() {
                continue;
            }
            let (Some(time), Some(value)) = (t.number(), v.number()) else {
                let bad = if t.number().is_none() { t } else { v };
                bail!(
                    "line {line}: '{}' is not a number in column {}",
                    bad.shown(),
                    p + if t.number().is_none() { 4 } else { 5 }
                );
            };
            if !time.is_finite() {
                bail!(
                    "line {line}: time stamp '{}' is not a finite number",
                    t.shown()
                );
            }
            if group.samples.len() as u64 >= input.options.max_samples {
                input.check_samples(group.samples.len() as u64 + 1)?;
            }
            group.axis.push(time, line);
            group.samples.push(value);
        }
    }
    groups
        .into_iter()
        .map(|group| trace(group, input))
        .collect()
}

/// One group as a trace: its header's time base, source and units.
fn trace(group: Group, input: &Input<'_>) -> Result<Trace> {
    let said = group.said;
    if let Some((n, _)) = said.points {
        input.check_samples(n)?;
    }
    let x = match said.horizontal_unit.as_ref() {
        Some(u) if u.quantity == Quantity::Frequency => XAxis::Frequency(u.scale),
        Some(u) if u.quantity == Quantity::Time => XAxis::Time(u.scale),
        _ => XAxis::Time(1.0),
    };
    let header = HeaderTime {
        interval: said.interval.clone(),
        start: None,
    };
    let base = timebase::decide(x, &group.axis, &header, input.options.sample_rate, "time")?;
    let label = said.names.first().cloned().unwrap_or_default();
    let unit = said.vertical_units.first().and_then(|u| units::parse(u));
    let scale = unit.as_ref().map_or(1.0, |u| u.scale);
    let mut samples = group.samples;
    if scale != 1.0 {
        samples.iter_mut().for_each(|x| *x *= scale);
    }
    super::trace(samples, label, unit, base, &said, Some("Tektronix"), 0, 1)
}
