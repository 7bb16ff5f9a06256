//! CSV as oscilloscopes and tracekit write it: a header in one of the
//! vendors' dialects (or none), then rows of numbers.
//!
//! Dialects read (see the modules for each part):
//! - Rigol: `X,CH1,CH2,Start,Increment` over `Sequence,Volt,Volt,<start>,<increment>`
//!   and rows `index,v1,v2,` (DS1000Z, DS2000, DS4000: the X column is a
//!   sample index); `X,CH1` / `,CH1` over `Second,Volt` (DS1000B/C/D/E);
//!   `X,CH 1 (V)`; the `"Sampling Frequency (Hz)=",...` key rows of Rigol's
//!   PC software; `Time(s),CH1V,t0 = ...,tInc = ...` of newer models;
//! - Tektronix: the TDS/TPS layout with the header in columns 1-3 beside the
//!   data ([`tek`]), and the newer key rows (`Sample Interval,4e-09`,
//!   `Record Length,...`) over `TIME,CH1,CH2` (TBS, MSO/MDO/DPO);
//! - Keysight: `x-axis,1,2` over `second,Volt,Volt`; Infiniium key rows
//!   (`XInc`, `XOrg`, `Points`) over `Data`;
//! - PicoScope: `Time,Channel A` over `(us),(mV)` (also `(µs)` in UTF-8 or Latin-1);
//! - Rohde & Schwarz `.Wfm.csv`: no header; the time base from the XML
//!   `.bin` beside it ([`companion`]), where it is there;
//! - tracekit's own output: one value a line, or `frequency_hz,value` (a spectrum);
//! - plain `time,value...` or one column of values, with `,` `;` (decimal
//!   commas allowed), tab or blanks between fields, quoted fields, a UTF-8
//!   byte order mark, CRLF, `#` comment lines, trailing empty fields and
//!   empty `,,` lines.
//!
//! Units in the header scale to volts and seconds (`(ms)`, `(us)`, `(mV)`,
//! `(kV)`, `Volt`...); other units are kept in `units`. The time base
//! follows [`timebase`]: an X column that is a sample index is never one.

mod columns;
mod companion;
mod header;
mod layout;
mod tek;
mod text;
mod timebase;
mod units;

use tracekit_core::{Trace, TraceMeta};

use self::{
    columns::is_comment,
    header::Said,
    layout::{HeaderLine, Layout, XKind},
    text::{Field, Lines, Sep, split},
    timebase::{TimeBase, XAxis},
    units::Unit,
};
use crate::{
    error::{Result, bail},
    registry::{Format, Input},
};

/// Text with numbers in columns.
pub(crate) const FORMAT: Format = Format {
    name: "CSV",
    probe,
    read,
};

/// Most header lines before the first data row.
const MAX_HEADER_LINES: usize = 10_000;

/// Most fields in all header lines together (each is kept as text).
const MAX_HEADER_FIELDS: usize = 100_000;

/// Bytes the probe and the separator detection look at.
const HEAD: usize = 64 << 10;

/// Lines the separator detection looks at.
const SAMPLE_LINES: usize = 200;

/// Whether the file is text (UTF-8 or Latin-1: no NUL or other control
/// bytes but tab, CR, LF and form feed) with a line of delimited numbers in
/// its first 64 KiB; or, named `.csv`, `.tsv` or `.txt`, any such text.
fn probe(input: &Input<'_>) -> bool {
    let data = input.data.strip_prefix(text::BOM).unwrap_or(input.data);
    let head = &data[..data.len().min(HEAD)];
    let control = |b: &u8| (*b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || *b == 0x7f;
    if head.is_empty() || head.iter().any(control) {
        return false;
    }
    if matches!(input.extension().as_str(), "csv" | "tsv" | "txt") {
        return true;
    }
    let mut fields = Vec::new();
    Sep::CANDIDATES.iter().any(|&sep| {
        Lines::new(head).take(SAMPLE_LINES).any(|(_, line)| {
            split(line, sep, &mut fields);
            text::is_numeric(&fields)
        })
    })
}

/// The separator: the one an Excel `sep=` first line names (that line is
/// then skipped), else the candidate that splits the most of the first 200
/// lines into two or more numbers (ties to `,`, then tab, `;`, blanks), else `,`.
fn separator(lines: &mut Lines<'_>) -> Sep {
    let mut peek = lines.clone();
    if let Some((_, first)) = peek.next() {
        let first = text::text(first);
        if let Some(named) = first.trim().strip_prefix("sep=") {
            if let [b] = named.as_bytes() {
                *lines = peek;
                return Sep::Byte(*b);
            }
        }
    }
    let mut fields = Vec::new();
    let mut best = (0, Sep::Byte(b','));
    let mut bytes = 0;
    let sample: Vec<&[u8]> = lines
        .clone()
        .take(SAMPLE_LINES)
        .take_while(|(_, l)| {
            bytes += l.len();
            bytes <= HEAD
        })
        .map(|(_, l)| l)
        .collect();
    for sep in Sep::CANDIDATES {
        let score = sample
            .iter()
            .filter(|line| {
                split(line, sep, &mut fields);
                fields.len() >= 2 && text::is_numeric(&fields)
            })
            .count();
        if score > best.0 {
            best = (score, sep);
        }
    }
    best.1
}

/// Reads every channel of the file (see the module's documentation).
fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let data = input.data.strip_prefix(text::BOM).unwrap_or(input.data);
    if data.starts_with(b"\xFF\xFE") || data.starts_with(b"\xFE\xFF") {
        bail!("UTF-16 text: tracekit reads CSV in UTF-8 or Latin-1");
    }
    let mut lines = Lines::new(data);
    let sep = separator(&mut lines);
    let mut fields: Vec<Field<'_>> = Vec::new();
    let mut header: Vec<HeaderLine> = Vec::new();
    let mut header_fields = 0;
    let (rows, width) = loop {
        let before = lines.clone();
        let Some((line, bytes)) = lines.next() else {
            bail!("{}", no_data(&header));
        };
        if is_comment(bytes) {
            continue;
        }
        split(bytes, sep, &mut fields);
        if fields.is_empty() {
            continue;
        }
        if header.is_empty() {
            let groups = tek::groups(&fields);
            if !groups.is_empty() {
                return tek::read(before, sep, &groups, input);
            }
        }
        if text::is_numeric(&fields) {
            break (before, fields.len());
        }
        let limit = input.options.max_channels.saturating_add(16);
        if fields.len() > limit {
            bail!(
                "line {line}: {} fields, more than the limit of {} channels \
                 (raise it with {} or ReadOptions::max_channels)",
                fields.len(),
                input.options.max_channels,
                crate::MAX_CHANNELS_ENV
            );
        }
        if header.len() >= MAX_HEADER_LINES {
            bail!("no row of numbers in the first {MAX_HEADER_LINES} lines");
        }
        header_fields += fields.len();
        if header_fields > MAX_HEADER_FIELDS {
            bail!(
                "line {line}: the header holds more than {MAX_HEADER_FIELDS} fields before \
                 the first row of numbers"
            );
        }
        header.push(HeaderLine {
            line,
            fields: fields.iter().map(Field::text).collect(),
        });
    };
    // The X column, where there is one, is no channel.
    input.check_channels(width.saturating_sub(1))?;
    let layout = match companion::find(input.path)? {
        Some(companion) if header.is_empty() => Layout::from_companion(companion, width)?,
        _ => Layout::new(&header, width)?,
    };
    input.check_channels(layout.channels.len())?;
    if let Some((n, _)) = layout.said.points {
        input.check_samples(n)?;
    }
    let columns = columns::read(rows, sep, &layout, input)?;
    let mut channels = layout.channels;
    let mut samples = columns.channels;
    let x = match layout.x {
        XKind::Known(x) => x,
        XKind::Auto if columns.axis.is_counting() => XAxis::Index,
        XKind::Auto => XAxis::Time(1.0),
        XKind::Guess if columns.axis_finite && columns.axis.rises() => {
            channels.remove(0);
            samples.remove(0);
            if columns.axis.is_counting() {
                XAxis::Index
            } else {
                XAxis::Time(1.0)
            }
        }
        XKind::Guess => XAxis::None,
    };
    let base = timebase::decide(
        x,
        &columns.axis,
        &layout.time,
        input.options.sample_rate,
        &layout.x_label,
    )
    .map_err(|e| match (layout.x, x) {
        (XKind::Guess, XAxis::None) => {
            let why = match columns.axis.backwards_at() {
                Some(at) => format!("it goes down at {at}"),
                None if !columns.axis_finite => "it holds values that are not finite".into(),
                None => "it does not rise".into(),
            };
            format!(
                "the file has no header and its first column is not a time axis ({why}), so \
                 its {} columns are channels; {}",
                samples.len(),
                e.0
            )
            .into()
        }
        _ => e,
    })?;
    let n = channels.len();
    channels
        .into_iter()
        .zip(samples)
        .enumerate()
        .map(|(k, (channel, samples))| {
            trace(
                samples,
                channel.label,
                channel.unit,
                base,
                &layout.said,
                layout.vendor,
                k,
                n,
            )
        })
        .collect()
}

/// Why there is no data: what the last header line was.
fn no_data(header: &[HeaderLine]) -> String {
    match header.last() {
        Some(last) => format!(
            "no rows of numbers: the file ends after {} header line(s) (the last, line {}, \
             starts '{}')",
            header.len(),
            last.line,
            last.fields.first().map_or("", String::as_str)
        ),
        None => "no rows of numbers: the file holds only empty lines and comments".into(),
    }
}

/// An error where the header's record length and the rows disagree (unless
/// a gate says the rows are part of the record).
fn check_points(said: &Said, rows: usize) -> Result<()> {
    match said.points {
        Some((n, line)) if !said.gated && n != rows as u64 => {
            let whose = if line == 0 {
                "the header".to_owned()
            } else {
                format!("the header (line {line})")
            };
            if (rows as u64) < n {
                bail!("truncated: {whose} says {n} points, the file holds {rows} rows");
            }
            bail!("{whose} says {n} points, but the file holds {rows} rows");
        }
        _ => Ok(()),
    }
}

/// Channel `k` of `n` as a trace: its samples (already in SI units), label
/// and unit, the time base, and the header's attributes.
#[expect(
    clippy::too_many_arguments,
    reason = "one trace's parts, built in two places"
)]
fn trace(
    samples: Vec<f64>,
    label: String,
    unit: Option<Unit>,
    base: TimeBase,
    said: &Said,
    vendor: Option<&str>,
    k: usize,
    n: usize,
) -> Result<Trace> {
    check_points(said, samples.len())?;
    let mut attributes = said.attributes_of(k, n);
    if let Some(vendor) = vendor {
        attributes
            .entry("vendor".into())
            .or_insert_with(|| vendor.into());
    }
    let meta = TraceMeta {
        sample_rate: base.rate,
        start: base.start,
        domain: base.domain,
        channel: label,
        units: unit.map(|u| u.name).unwrap_or_default(),
        attributes,
        ..TraceMeta::default()
    };
    Ok(Trace::with_meta(samples, meta)?)
}
