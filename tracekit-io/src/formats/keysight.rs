//! Keysight / Agilent BIN: the `AG` cookie and version (`AG01`, `AG10`;
//! `AG03` with 64-bit sizes), then for each waveform a waveform header and
//! its buffers, each a waveform data header and its points (Keysight
//! "Binary Header Format" of the InfiniiVision and Infiniium manuals;
//! RigolWFM `ksy/agilent_agxx_bin.ksy`). Little-endian throughout.
//!
//! Analog buffers hold volts (or the waveform's unit) as `f32`, which is
//! what RigolWFM `agilent.py` gives; every buffer is a trace. A Peak Detect
//! waveform's maximum and minimum buffers are `CH1 max` and `CH1 min`
//! (RigolWFM refuses such files), digital buffers (`u8`/`u16`) their codes
//! (RigolWFM leaves them out), and each saved segment its own trace.
//! Count and time buffers (types 4 and 5) hold no samples over time and are
//! left out, as RigolWFM leaves them out. Points stored as NaN stay NaN
//! (RigolWFM's `nan_to_num` makes them 0).

use std::collections::BTreeMap;

use tracekit_core::{Domain, Trace, TraceMeta};

use crate::{
    bytes::{Bytes, Order, sample_block},
    convert::{SampleType, decode},
    error::{Result, bail},
    registry::{Format, Input},
};

/// Keysight / Agilent `AGxx` BIN.
pub(crate) const FORMAT: Format = Format {
    name: "Keysight BIN",
    probe: |input| {
        let d = input.data;
        d.len() >= 4 && d.starts_with(b"AG") && d[2].is_ascii_digit() && d[3].is_ascii_digit()
    },
    read,
};

/// Bytes of the waveform header's fields; `Header Size` may say more.
const WAVEFORM_HEADER_FIELDS: usize = 140;

/// Waveform header: one waveform (a channel, or one segment of one).
struct WaveformHeader {
    /// Header Size (offset 0).
    header_size: usize,
    /// Waveform Type (offset 4): 1 normal, 2 peak detect, 3 average, ...
    waveform_type: u32,
    /// Number of Waveform Buffers (offset 8).
    n_buffers: u32,
    /// Points (offset 12).
    points: u32,
    /// Count (offset 16): hits per time bucket, the averages of an average.
    count: u32,
    /// X Display Range (offset 20, `f32`): the time across the screen.
    x_display_range: f32,
    /// X Display Origin (offset 24): the time at the screen's left edge.
    x_display_origin: f64,
    /// X Increment (offset 32): the sample interval.
    x_increment: f64,
    /// X Origin (offset 40): the time of the first point.
    x_origin: f64,
    /// X Units (offset 48): 2 seconds, 6 hertz, ...
    x_units: u32,
    /// Y Units (offset 52): 1 volts, 4 amps, ...
    y_units: u32,
    /// Date (offset 56, 16 characters; blank in InfiniiVision files).
    date: String,
    /// Time (offset 72, 16 characters; blank in InfiniiVision files).
    time: String,
    /// Frame (offset 88, 24 characters): `MODEL#:SERIAL#`.
    frame: String,
    /// Waveform Label (offset 112, 16 characters): `1`, `EXT`, ...
    label: String,
    /// Time Tag (offset 128): seconds since the first trigger of a saved segment.
    time_tag: f64,
    /// Segment Index (offset 136): the number of a saved segment.
    segment_index: u32,
}

impl WaveformHeader {
    /// The waveform header at `at`.
    fn read(b: &Bytes<'_>, at: usize) -> Result<WaveformHeader> {
        let header_size = b.u32(at)? as usize;
        if header_size < WAVEFORM_HEADER_FIELDS {
            bail!(
                "waveform header at offset {at} says it is {header_size} bytes, less than the \
                 {WAVEFORM_HEADER_FIELDS} of its fields"
            );
        }
        Ok(WaveformHeader {
            header_size,
            waveform_type: b.u32(at + 4)?,
            n_buffers: b.u32(at + 8)?,
            points: b.u32(at + 12)?,
            count: b.u32(at + 16)?,
            x_display_range: b.f32(at + 20)?,
            x_display_origin: b.f64(at + 24)?,
            x_increment: b.f64(at + 32)?,
            x_origin: b.f64(at + 40)?,
            x_units: b.u32(at + 48)?,
            y_units: b.u32(at + 52)?,
            date: b.text(at + 56, 16)?,
            time: b.text(at + 72, 16)?,
            frame: b.text(at + 88, 24)?,
            label: b.text(at + 112, 16)?,
            time_tag: b.f64(at + 128)?,
            segment_index: b.u32(at + 136)?,
        })
    }
}

/// A Y or X unit code's symbol (the same `unit_enum` in Rigol's BIN files,
/// whose container follows this one).
pub(crate) fn unit(code: u32) -> &'static str {
    match code {
        1 => "V",
        2 => "s",
        4 => "A",
        5 => "dB",
        6 => "Hz",
        _ => "",
    }
}

/// A Waveform Type's name.
fn waveform_type(code: u32) -> String {
    match code {
        1 => "normal".into(),
        2 => "peak_detect".into(),
        3 => "average".into(),
        4 => "horizontal_histogram".into(),
        5 => "vertical_histogram".into(),
        6 => "logic".into(),
        other => other.to_string(),
    }
}

/// What a buffer holds, from its Buffer Type and its waveform's type.
#[derive(Clone, Copy, PartialEq)]
enum Buffer {
    /// Normal 32-bit float data (1).
    Normal,
    /// Maximum float data (2), of Peak Detect.
    Maximum,
    /// Minimum float data (3), of Peak Detect.
    Minimum,
    /// Digital unsigned 8-bit (or 16-bit) data (6; 5 in a logic waveform).
    Digital,
    /// Counts or times (types 4 and 5): not samples over time.
    Skipped,
}

impl Buffer {
    /// The kind of a buffer of `buffer_type` in a waveform of `waveform_type`.
    fn of(buffer_type: u16, waveform_type: u32) -> Result<Buffer> {
        Ok(match buffer_type {
            1 => Buffer::Normal,
            2 => Buffer::Maximum,
            3 => Buffer::Minimum,
            6 => Buffer::Digital,
            5 if waveform_type == 6 => Buffer::Digital,
            4 | 5 => Buffer::Skipped,
            other => bail!("buffer type {other} is not one tracekit reads (1 to 6)"),
        })
    }

    /// The `buffer` attribute's value.
    fn name(self) -> &'static str {
        match self {
            Buffer::Normal => "normal",
            Buffer::Maximum => "maximum",
            Buffer::Minimum => "minimum",
            Buffer::Digital => "digital",
            Buffer::Skipped => "skipped",
        }
    }
}

/// Reads every buffer of every waveform of a BIN file.
fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let b = Bytes::new(input.data, Order::Little);
    // File header: Cookie, Version, File Size (32-bit, 64-bit in AG03), Number of Waveforms.
    let version = b.text(2, 2)?;
    let wide = match version.as_str() {
        "01" | "10" => false,
        "03" => true,
        other => bail!("unknown BIN version 'AG{other}' (tracekit reads AG01, AG03 and AG10)"),
    };
    let (n_waveforms, mut at) = if wide {
        (b.u32(12)?, 16)
    } else {
        (b.u32(8)?, 12)
    };
    if n_waveforms == 0 {
        bail!("the file header says 0 waveforms");
    }
    let mut traces = Vec::new();
    let mut skipped = 0;
    let mut analog = 0;
    for w in 0..n_waveforms {
        let h = WaveformHeader::read(&b, at)?;
        at = at.saturating_add(h.header_size);
        let channel = match h.label.as_str() {
            "" => format!("CH{}", analog + 1),
            l if l.bytes().all(|c| c.is_ascii_digit()) => format!("CH{l}"),
            l => l.to_owned(),
        };
        for k in 0..h.n_buffers {
            // Waveform data header: Header Size, Buffer Type, Bytes Per Point, Buffer Size.
            let header_size = b.u32(at)? as usize;
            let buffer = Buffer::of(b.u16(at + 4)?, h.waveform_type)?;
            let bytes_per_point = usize::from(b.u16(at + 6)?);
            let buffer_size = if wide {
                b.u64(at + 8)?
            } else {
                u64::from(b.u32(at + 8)?)
            };
            let least = if wide { 16 } else { 12 };
            if header_size < least {
                bail!(
                    "waveform {w} buffer {k}: data header says it is {header_size} bytes, \
                     less than its {least}"
                );
            }
            at = at.saturating_add(header_size);
            let ty = match (buffer, bytes_per_point) {
                (Buffer::Skipped, _) => None,
                (Buffer::Digital, 1) => Some(SampleType::U8),
                (Buffer::Digital, 2) => Some(SampleType::U16),
                (Buffer::Normal | Buffer::Maximum | Buffer::Minimum, 4) => Some(SampleType::F32),
                (Buffer::Normal | Buffer::Maximum | Buffer::Minimum, 8) => Some(SampleType::F64),
                (_, bpp) => bail!(
                    "waveform {w} buffer {k}: {bpp} bytes per point for {} data",
                    buffer.name()
                ),
            };
            let Some(ty) = ty else {
                let size = usize::try_from(buffer_size).unwrap_or(usize::MAX);
                b.slice(at, size)?;
                at += size;
                skipped += 1;
                continue;
            };
            let width = ty.width();
            if buffer_size % width as u64 != 0 {
                bail!(
                    "waveform {w} buffer {k} is {buffer_size} bytes, not a whole number of \
                     {width}-byte points"
                );
            }
            let raw = sample_block(&b, at, buffer_size / width as u64, width)?;
            at += raw.len();
            let points = raw.len() / width;
            if points != h.points as usize {
                bail!(
                    "waveform {w} header says {} points, its {} buffer holds {points}",
                    h.points,
                    buffer.name()
                );
            }
            if points == 0 {
                bail!("no waveform data: waveform {w} ({channel}) has 0 points");
            }
            input.check_samples(points as u64)?;
            if !(h.x_increment > 0.0 && (1.0 / h.x_increment).is_finite()) {
                bail!(
                    "waveform {w}: X Increment (the sample interval) is {}, which gives no finite positive sample rate",
                    h.x_increment
                );
            }
            let name = match buffer {
                Buffer::Maximum => format!("{channel} max"),
                Buffer::Minimum => format!("{channel} min"),
                _ => channel.clone(),
            };
            let meta = TraceMeta {
                sample_rate: 1.0 / h.x_increment,
                start: h.x_origin,
                domain: if h.x_units == 6 {
                    Domain::Frequency
                } else {
                    Domain::Time
                },
                channel: name,
                units: if buffer == Buffer::Digital {
                    String::new()
                } else {
                    unit(h.y_units).to_owned()
                },
                attributes: attributes(&h, buffer),
                ..TraceMeta::default()
            };
            traces.push(Trace::with_meta(
                decode(raw, ty, Order::Little, |x| x),
                meta,
            )?);
            input.check_channels(traces.len())?;
        }
        if h.waveform_type != 6 {
            analog += 1;
        }
    }
    if traces.is_empty() {
        bail!("no buffer holds samples over time ({skipped} count or time buffers)");
    }
    Ok(traces)
}

/// What a waveform header says about the instrument and the acquisition.
fn attributes(h: &WaveformHeader, buffer: Buffer) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    let mut put = |key: &str, value: String| {
        a.insert(key.to_owned(), value);
    };
    put("vendor", "Keysight".to_owned());
    let (model, serial) = h.frame.split_once(':').unwrap_or((&h.frame, ""));
    if !model.trim().is_empty() {
        put("model", model.trim().to_owned());
    }
    if !serial.trim().is_empty() {
        put("serial", serial.trim().to_owned());
    }
    if !h.label.is_empty() {
        put("label", h.label.clone());
    }
    put("waveform_type", waveform_type(h.waveform_type));
    put("buffer", buffer.name().to_owned());
    put("count", h.count.to_string());
    put("x_display_range", format!("{}", h.x_display_range));
    put("x_display_origin", format!("{}", h.x_display_origin));
    if !h.date.is_empty() {
        put("date", h.date.clone());
    }
    if !h.time.is_empty() {
        put("time", h.time.clone());
    }
    if !h.date.is_empty() && !h.time.is_empty() {
        put("trigger_time", format!("{} {}", h.date, h.time));
    }
    if h.segment_index != 0 || h.time_tag != 0.0 {
        put("segment_index", h.segment_index.to_string());
        put("time_tag", format!("{}", h.time_tag));
    }
    a
}
