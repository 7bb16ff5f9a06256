//! The data rows: one `f64` vector per channel, and the X column's
//! statistics (never a vector of it).

use super::{
    layout::{Layout, XKind},
    text::{Field, Lines, Sep, split},
    timebase::{Axis, XAxis},
};
use crate::{
    error::{Result, bail},
    registry::Input,
};

/// The data of a file.
#[derive(Debug)]
pub(super) struct Columns {
    /// One vector per channel of the layout, in its order.
    pub(super) channels: Vec<Vec<f64>>,
    /// The X column (column 0) where the layout has one.
    pub(super) axis: Axis,
    /// Whether column 0 can be an axis where the layout only guesses (its
    /// values are all finite).
    pub(super) axis_finite: bool,
    /// The data rows.
    pub(super) rows: usize,
}

/// Whether a line is a comment (`#` or `%` first).
pub(super) fn is_comment(line: &[u8]) -> bool {
    matches!(
        line.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'#' | b'%')
    )
}

/// Reads every data row of `lines` (the first of which is the first data row).
pub(super) fn read(
    lines: Lines<'_>,
    sep: Sep,
    layout: &Layout,
    input: &Input<'_>,
) -> Result<Columns> {
    let limit = input.options.max_samples;
    let estimate = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .min(lines.rows_left(layout.width));
    let mut channels: Vec<Vec<f64>> = layout
        .channels
        .iter()
        .map(|_| Vec::with_capacity(estimate))
        .collect();
    let x_column = match layout.x {
        XKind::Known(XAxis::None) => None,
        XKind::Known(axis) => Some(axis),
        XKind::Auto | XKind::Guess => Some(XAxis::Time(1.0)),
    };
    let guess = layout.x == XKind::Guess;
    let mut out = Columns {
        channels: Vec::new(),
        axis: Axis::default(),
        axis_finite: true,
        rows: 0,
    };
    let mut fields: Vec<Field<'_>> = Vec::with_capacity(layout.width + 4);
    let mut first_line = 0;
    for (line, bytes) in lines {
        if is_comment(bytes) {
            continue;
        }
        split(bytes, sep, &mut fields);
        if fields.is_empty() {
            continue;
        }
        if first_line == 0 {
            first_line = line;
        }
        if fields.len() != layout.width {
            bail!(
                "line {line}: {} fields, but the data rows before have {} (from line {first_line})",
                fields.len(),
                layout.width
            );
        }
        if out.rows as u64 >= limit {
            input.check_samples(out.rows as u64 + 1)?;
        }
        if let Some(kind) = x_column {
            let field = &fields[0];
            match field.number() {
                Some(x) if x.is_finite() => out.axis.push(x, line),
                Some(_) if guess => out.axis_finite = false,
                Some(_) => bail!(
                    "line {line}: {} '{}' in column {} is not a finite number",
                    what(kind),
                    field.shown(),
                    layout.x_label
                ),
                None => bail!(
                    "line {line}: '{}' is not a number in column {}",
                    field.shown(),
                    layout.x_label
                ),
            }
        }
        for (channel, samples) in layout.channels.iter().zip(&mut channels) {
            let field = &fields[channel.column];
            match field.number() {
                Some(x) => samples.push(x * channel.unit.as_ref().map_or(1.0, |u| u.scale)),
                None if field.is_empty() => {
                    bail!("line {line}: column {} is empty", channel.name())
                }
                None => bail!(
                    "line {line}: '{}' is not a number in column {}",
                    field.shown(),
                    channel.name()
                ),
            }
        }
        out.rows += 1;
    }
    out.channels = channels;
    Ok(out)
}

/// How messages name a value of the X column.
fn what(axis: XAxis) -> &'static str {
    match axis {
        XAxis::Index => "sample index",
        XAxis::Frequency(_) => "frequency",
        XAxis::Time(_) | XAxis::None => "time stamp",
    }
}
