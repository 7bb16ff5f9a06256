//! The layout of a CSV file from its header: which column is the X axis
//! and what it holds, the channels with their labels and units, the time
//! base the header states, and the vendor.
//!
//! A header is the lines before the first row of numbers. Its last line
//! may be a units row (`Second,Volt`, `(us),(mV)`, Rigol's
//! `Sequence,Volt,...,<Start>,<Increment>`); the line before that (or the
//! last line) is the row of column labels (`X,CH1,CH2,Start,Increment`,
//! `TIME,CH1`, `x-axis,1`, `Time,Channel A`) unless it starts with a key
//! tracekit knows; every other line is a key row (see `header.rs`).

use super::{
    companion::Companion,
    header::{self, KeyRow, Said},
    timebase::{HeaderTime, Stated, XAxis},
    units::{self, Quantity, Unit},
};
use crate::error::{Result, bail};

/// One line of a header, its fields as text.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct HeaderLine {
    /// The line, 1-based.
    pub(super) line: usize,
    /// The fields, trailing empty ones dropped.
    pub(super) fields: Vec<String>,
}

/// What the X column is, as far as the header tells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum XKind {
    /// The header says.
    Known(XAxis),
    /// A column labelled `X` (or not labelled) with no unit: a sample index
    /// where it counts up by one, else a time in seconds.
    Auto,
    /// No header: the first column is a time axis (or an index) if it rises,
    /// else a channel like the others.
    Guess,
}

/// One value column.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Channel {
    /// The column, 0-based.
    pub(super) column: usize,
    /// The label as the file writes it (a unit in parentheses removed).
    pub(super) label: String,
    /// The unit, where the file gives one.
    pub(super) unit: Option<Unit>,
}

impl Channel {
    /// How messages name the column: its label, else `column 3`.
    pub(super) fn name(&self) -> String {
        if self.label.is_empty() {
            format!("column {}", self.column + 1)
        } else {
            self.label.clone()
        }
    }
}

/// How to read the data rows, and what the header says about them.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    /// Fields on every data row.
    pub(super) width: usize,
    /// The X column (column 0), where there is one.
    pub(super) x: XKind,
    /// The X column's label (`X`, `Time`), for messages.
    pub(super) x_label: String,
    /// The value columns (with column 0 where `x` is [`XKind::Guess`]).
    pub(super) channels: Vec<Channel>,
    /// The time base the header states.
    pub(super) time: HeaderTime,
    /// What the key rows say.
    pub(super) said: Said,
    /// Who wrote the file, where the dialect tells.
    pub(super) vendor: Option<&'static str>,
}

/// Whether a header line is a units row: every one of its first `width`
/// fields empty, a unit tracekit knows or a short `(unit)`.
fn is_units_row(fields: &[String], width: usize) -> bool {
    let head = &fields[..fields.len().min(width)];
    head.iter().any(|f| !f.is_empty())
        && !header::is_known(&fields[0])
        && head.iter().all(|f| {
            f.is_empty()
                || units::known(f).is_some()
                || (units::is_bracketed(f) && f.chars().count() <= 16)
        })
}

/// Whether a header line is a row of column labels, not a key row.
fn is_label_row(fields: &[String]) -> bool {
    let first = fields.first().map_or("", |f| f.trim());
    !(header::is_known(first) || first.ends_with('=') || first.ends_with(':'))
}

/// `Start`/`Increment` columns (Rigol) or `t0 = ...`/`tInc = ...` fields
/// (newer Rigol) in the label row, beyond the data columns.
fn rigol_time(labels: &[String], units_row: Option<&HeaderLine>, line: usize) -> Result<Rigol> {
    let mut out = Rigol {
        first_extra: usize::MAX,
        ..Rigol::default()
    };
    for (k, label) in labels.iter().enumerate() {
        let lower = label.trim().to_ascii_lowercase();
        if lower == "start" || lower == "increment" {
            let Some(row) = units_row else {
                bail!("line {line} names a {label} column, but no line below gives its value");
            };
            let value = row.fields.get(k).map_or("", String::as_str);
            let Some(x) = super::text::number(value.as_bytes()) else {
                bail!("line {}: {label} '{value}' is not a number", row.line);
            };
            let what = format!("{label} (line {})", row.line);
            if lower == "start" {
                out.start = Some((x, what));
            } else {
                out.increment = Some((x, what));
            }
            out.first_extra = out.first_extra.min(k);
        } else if let Some((key, value)) = label.split_once('=') {
            let key = key.trim().to_ascii_lowercase();
            if key == "t0" || key == "tinc" {
                let value = value.trim();
                let digits = value.trim_end_matches(|c: char| c.is_alphabetic());
                let scale = units::known(&value[digits.len()..]).map_or(1.0, |u| u.scale);
                let Some(x) = super::text::number(digits.as_bytes()) else {
                    bail!("line {line}: {label}: '{value}' is not a number");
                };
                let what = format!("{} (line {line})", key.replace("tinc", "tInc"));
                if key == "t0" {
                    out.start = Some((x * scale, what));
                } else {
                    out.increment = Some((x * scale, what));
                }
                out.first_extra = out.first_extra.min(k);
                out.glued_units = true;
            }
        }
    }
    Ok(out)
}

/// What Rigol's label row says about the time base.
#[derive(Debug, Default)]
struct Rigol {
    start: Option<(f64, String)>,
    increment: Option<(f64, String)>,
    /// The first column that is not a data column.
    first_extra: usize,
    /// Whether labels carry their unit glued on (`CH1V`).
    glued_units: bool,
}

/// `CH1V` -> (`CH1`, V), as newer Rigol exports label their columns.
fn unglue(label: &str) -> (String, Option<Unit>) {
    let digits_end = label
        .rfind(|c: char| c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    match units::known(&label[digits_end..]) {
        Some(unit) if digits_end > 0 => (label[..digits_end].to_owned(), Some(unit)),
        _ => (label.to_owned(), None),
    }
}

/// The X column's kind from its label and unit.
fn x_kind(label: &str, unit: Option<&Unit>, horizontal: Option<&Unit>) -> Option<XKind> {
    let axis = |unit: &Unit| match unit.quantity {
        Quantity::Index => Some(XKind::Known(XAxis::Index)),
        Quantity::Time => Some(XKind::Known(XAxis::Time(unit.scale))),
        Quantity::Frequency => Some(XKind::Known(XAxis::Frequency(unit.scale))),
        _ => None,
    };
    if let Some(unit) = unit {
        return axis(unit);
    }
    let lower = label.trim().to_lowercase();
    match lower.as_str() {
        "x" | "" | "x-axis" | "xaxis" => Some(horizontal.and_then(axis).unwrap_or(XKind::Auto)),
        "time" | "times" | "t" | "zeit" | "temps" | "tiempo" => Some(
            horizontal
                .and_then(axis)
                .unwrap_or(XKind::Known(XAxis::Time(1.0))),
        ),
        "sequence" | "index" | "sample" | "samples" | "point" | "points" | "no" | "no." | "#" => {
            Some(XKind::Known(XAxis::Index))
        }
        "frequency_hz" | "frequency" | "freq" => Some(XKind::Known(XAxis::Frequency(1.0))),
        _ => None,
    }
}

impl Layout {
    /// The layout of a file whose header is `lines` and whose first data row
    /// has `width` fields.
    pub(super) fn new(lines: &[HeaderLine], width: usize) -> Result<Layout> {
        let mut lines = lines;
        let mut units_row = None;
        let mut labels = None;
        if let Some((last, rest)) = lines.split_last() {
            if is_units_row(&last.fields, width) {
                units_row = Some(last);
                lines = rest;
            }
        }
        if let Some((last, rest)) = lines.split_last() {
            if is_label_row(&last.fields) {
                labels = Some(last);
                lines = rest;
            }
        }
        let mut said = Said::default();
        for line in lines {
            if let Some(row) = KeyRow::new(line.line, &line.fields) {
                said.take(&row)?;
            }
        }
        let label_fields = labels.map_or(&[][..], |l| &l.fields[..]);
        let rigol = rigol_time(label_fields, units_row, labels.map_or(0, |l| l.line))?;
        let unit_at = |k: usize| -> Option<Unit> {
            let text = units_row?.fields.get(k)?;
            units::parse(text)
        };
        let label_at = |k: usize| -> (String, Option<Unit>) {
            let text = label_fields.get(k).map_or("", String::as_str);
            if rigol.glued_units {
                let (label, unit) = units::split_label(text);
                match unit {
                    Some(unit) => (label, Some(unit)),
                    None => unglue(&label),
                }
            } else {
                units::split_label(text)
            }
        };

        let (x_label, x_label_unit) = label_at(0);
        let x_unit = unit_at(0).or(x_label_unit);
        let x = match (width, labels) {
            (1, _) => XKind::Known(XAxis::None),
            (_, None) if units_row.is_none() => XKind::Guess,
            _ => x_kind(&x_label, x_unit.as_ref(), said.horizontal_unit.as_ref())
                .unwrap_or(XKind::Known(XAxis::None)),
        };
        let has_x = x != XKind::Known(XAxis::None) && x != XKind::Guess;
        let first = usize::from(has_x);
        let mut channels: Vec<Channel> = (first..width)
            .map(|column| {
                let (label, label_unit) = label_at(column);
                Channel {
                    column,
                    label,
                    unit: unit_at(column).or(label_unit),
                }
            })
            .collect();
        let n = channels.len();
        if said.names.len() == n && said.names.iter().all(|s| !s.is_empty()) {
            for (channel, name) in channels.iter_mut().zip(&said.names) {
                channel.label.clone_from(name);
            }
        }
        if !said.vertical_units.is_empty() {
            for (k, channel) in channels.iter_mut().enumerate() {
                if channel.unit.is_none() {
                    let text = said.vertical_units.get(k).or(said.vertical_units.first());
                    channel.unit = text.and_then(|t| units::parse(t));
                }
            }
        }
        if rigol.first_extra < width {
            bail!(
                "line {}: the {} column sits among the data columns (the data rows have {width} fields)",
                labels.map_or(0, |l| l.line),
                label_fields[rigol.first_extra]
            );
        }

        let scale = match x {
            XKind::Known(XAxis::Time(scale)) => scale,
            _ => 1.0,
        };
        if let Some((dt, what)) = rigol.increment.clone() {
            said.set_interval(Stated::interval(dt * scale, what))?;
        }
        let start = rigol
            .start
            .as_ref()
            .map(|(t0, _)| t0 * scale)
            .or(said.start);
        let vendor = vendor(&said, &x_label, &channels, units_row, &rigol);
        Ok(Layout {
            width,
            x,
            x_label: if x_label.is_empty() {
                "X".into()
            } else {
                x_label
            },
            channels,
            time: HeaderTime {
                interval: said.interval.clone(),
                start,
            },
            said,
            vendor,
        })
    }

    /// The layout of an R&S `.Wfm.csv` export, from its companion header.
    pub(super) fn from_companion(companion: Companion, width: usize) -> Result<Layout> {
        let first = usize::from(companion.time_column);
        let expected = first + companion.channels.len();
        if width != expected {
            bail!(
                "{} says {} channel(s){}, but the data rows have {width} fields",
                companion.name,
                companion.channels.len(),
                if companion.time_column {
                    " after a time column"
                } else {
                    ""
                },
            );
        }
        let unit = companion.unit.as_deref().and_then(units::known);
        let channels = companion
            .channels
            .iter()
            .enumerate()
            .map(|(k, label)| Channel {
                column: first + k,
                label: label.clone(),
                unit: unit.clone(),
            })
            .collect();
        let mut said = Said {
            points: Some((companion.record_length, 0)),
            ..Said::default()
        };
        if let Some(firmware) = companion.firmware {
            said.attributes.insert("firmware".into(), vec![firmware]);
        }
        Ok(Layout {
            width,
            x: XKind::Known(if companion.time_column {
                XAxis::Time(1.0)
            } else {
                XAxis::None
            }),
            x_label: "time".into(),
            channels,
            time: HeaderTime {
                interval: Some(companion.interval),
                start: Some(companion.start),
            },
            said,
            vendor: Some("Rohde & Schwarz"),
        })
    }
}

/// Who wrote the file, where the dialect is one vendor's.
fn vendor(
    said: &Said,
    x_label: &str,
    channels: &[Channel],
    units_row: Option<&HeaderLine>,
    rigol: &Rigol,
) -> Option<&'static str> {
    let unit_words = |words: &[&str]| {
        units_row.is_some_and(|row| row.fields.iter().any(|f| words.contains(&f.as_str())))
    };
    if said.is_tektronix() {
        Some("Tektronix")
    } else if said.is_rigol()
        || rigol.start.is_some()
        || rigol.increment.is_some()
        || unit_words(&["Sequence"])
        || (matches!(x_label, "X" | "") && unit_words(&["Second"]))
    {
        Some("Rigol")
    } else if x_label.eq_ignore_ascii_case("x-axis") {
        Some("Keysight")
    } else if channels.iter().any(|c| c.label.starts_with("Channel "))
        && units_row.is_some_and(|row| row.fields.iter().all(|f| units::is_bracketed(f)))
    {
        Some("Pico Technology")
    } else {
        None
    }
}
