//! Rigol BIN, the `RG` container (`ksy/rigol_mso5000_bin`,
//! `rigol_7000_8000_bin`, `rigol_dho800_1000_bin`; the MSO7000/8000 manuals'
//! "Binary Data Format (.bin)" and the DHO1000 User Guide §19.2.4): a file
//! header, then for each waveform a waveform header and its buffers, each a
//! data header and `buffer_size` bytes of samples.
//!
//! | version | scopes | file header | waveform header | data header |
//! |---------|--------|-------------|-----------------|-------------|
//! | `RG01`  | MSO5000 | 12 bytes, u32 sizes | `header_size`, at least 140 | 12 bytes, u32 `buffer_size` |
//! | `RG01`  | MSO7000 / MSO8000 (first `header_size` 128) | 12 bytes | 128 bytes | 12 bytes |
//! | `RG03`  | DHO800 / DHO1000 | 16 bytes, u64 sizes | 140 bytes | 16 bytes, u64 `buffer_size` |
//!
//! Every waveform of the file becomes traces: an analog buffer (float32
//! volts, or the unit of `y_units`; NaN read as 0 and infinities as the
//! largest float32, as RigolWFM's `nan_to_num`) is one trace named by the
//! waveform's label (`CH1`; an unlabelled one `CH<n>` in order); a logic
//! record (its bytes one bit per line) is eight 0/1 traces `D0`..`D7` (the
//! next record `D8`..`D15`). Analog traces come first, in channel order as
//! RigolWFM's channel slots have them, then the logic traces. A waveform of several buffers
//! (peak detect: maximum and minimum) gives one trace per buffer, the
//! buffer's kind after the label (`CH1 max`). Time: `x_increment` per
//! point, the first at `-x_origin` (RigolWFM finds `x_origin` stored as the
//! pre-trigger distance).
//!
//! Old MSO5074 firmware wrote files of several concatenated `RG01` blocks
//! whose headers (144 bytes) do not describe their data; like RigolWFM, this
//! reader refuses them.

use tracekit_core::Trace;

use super::common::{Channel, require_points, traces};
use crate::{
    bytes::{Bytes, Order},
    convert::{ByteOrder, SampleType, decode},
    error::{Result, bail},
    formats::keysight::unit,
    registry::Input,
};

/// Whether `data` starts like a Rigol BIN: `RG` and a two-digit version.
pub(super) fn probe(data: &[u8]) -> bool {
    data.len() >= 4 && data.starts_with(b"RG") && data[2..4].iter().all(u8::is_ascii_digit)
}

/// The three variants of the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `RG01` with 140-byte (or longer) waveform headers.
    Mso5000,
    /// `RG01` with 128-byte waveform headers.
    Mso7000,
    /// `RG03`.
    Dho,
}

impl Layout {
    /// Size of the file header.
    fn file_header(self) -> usize {
        if self == Layout::Dho { 16 } else { 12 }
    }

    /// The least a waveform header takes, whatever its `header_size` says.
    fn waveform_header(self) -> usize {
        if self == Layout::Mso7000 { 128 } else { 140 }
    }

    /// The least a data header takes.
    fn data_header(self) -> usize {
        if self == Layout::Dho { 16 } else { 12 }
    }

    /// The family, for the attribute `family`.
    fn family(self, model: &str) -> &'static str {
        match self {
            Layout::Mso5000 => "MSO5000",
            Layout::Mso7000 if model.starts_with("MSO8") || model.starts_with("DS8") => "MSO8000",
            Layout::Mso7000 => "MSO7000",
            Layout::Dho if model.starts_with("DHO8") || model.starts_with("HDO8") => "DHO800",
            Layout::Dho => "DHO1000",
        }
    }
}

/// A waveform header (Table 19.3; offsets within it).
struct WaveformHeader {
    /// `header_size` (u32 at 0).
    header_size: u32,
    /// `waveform_type` (u32 at 4; 6 is logic).
    waveform_type: u32,
    /// `n_buffers` (u32 at 8).
    n_buffers: u32,
    /// `n_pts` (u32 at 12).
    n_pts: u32,
    /// `x_increment` (f64 at 32), s.
    x_increment: f64,
    /// `x_origin` (f64 at 40), s.
    x_origin: f64,
    /// `y_units` (u32 at 52).
    y_units: u32,
    /// `date` (16 bytes of text at 56).
    date: String,
    /// `time_str` (16 bytes at 72).
    time: String,
    /// `frame_string` / `model` (24 bytes at 88): `MODEL:SERIAL`.
    frame: String,
    /// `waveform_label` / `channel_name` (16 bytes at 112).
    label: String,
}

impl WaveformHeader {
    /// The waveform header at `at`.
    fn read(bytes: &Bytes<'_>, at: usize) -> Result<WaveformHeader> {
        Ok(WaveformHeader {
            header_size: bytes.u32(at)?,
            waveform_type: bytes.u32(at + 4)?,
            n_buffers: bytes.u32(at + 8)?,
            n_pts: bytes.u32(at + 12)?,
            x_increment: bytes.f64(at + 32)?,
            x_origin: bytes.f64(at + 40)?,
            y_units: bytes.u32(at + 52)?,
            date: bytes.text(at + 56, 16)?,
            time: bytes.text(at + 72, 16)?,
            frame: bytes.text(at + 88, 24)?,
            label: bytes.text(at + 112, 16)?,
        })
    }
}

/// A waveform's label for messages.
fn name(header: &WaveformHeader) -> &str {
    if header.label.is_empty() {
        "a waveform"
    } else {
        &header.label
    }
}

/// A float32 as RigolWFM's `nan_to_num` leaves it: NaN 0, infinities the
/// largest float32 of their sign.
fn finite(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else if v.is_infinite() {
        f64::from(f32::MAX).copysign(v)
    } else {
        v
    }
}

/// One buffer: what kind it is and its bytes.
struct Buffer<'a> {
    /// `buffer_type` (u16).
    buffer_type: u16,
    /// `bytes_per_point` (u16).
    bytes_per_point: u16,
    /// The samples.
    data: &'a [u8],
}

/// Whether a waveform is a logic record, and how its buffer's samples read.
enum Kind {
    /// Float32 samples in the waveform's unit.
    Analog,
    /// One byte a point.
    LogicBytes,
    /// Float32 counts, clipped to a byte (RigolWFM `_logic_byte_samples`).
    LogicCounts,
}

/// How the buffer of `header` reads: analog, or logic in one of two encodings.
fn kind(layout: Layout, header: &WaveformHeader, buffer: &Buffer<'_>) -> Result<Kind> {
    let (t, width) = (buffer.buffer_type, buffer.bytes_per_point);
    // The buffer type of one-byte digital data, and the analog float32 ones.
    let (digital, analog): (u16, &[u16]) = match layout {
        Layout::Dho => (5, &[1, 2, 3]),
        _ => (6, &[1, 2, 3, 4, 5]),
    };
    let logic = header.waveform_type == 6
        || header.label.to_ascii_uppercase().starts_with("LA")
        || t == digital;
    Ok(match (logic, t, width) {
        (true, _, 1) if t == digital => Kind::LogicBytes,
        (true, 5, 4) if layout != Layout::Dho => Kind::LogicCounts,
        (false, _, 4) if analog.contains(&t) => Kind::Analog,
        _ => bail!(
            "{}: unsupported {} buffer (buffer_type {t}, {width} bytes per point)",
            name(header),
            if logic { "logic" } else { "analog" }
        ),
    })
}

/// Counts traces made so far, for the names of unlabelled and logic waveforms.
#[derive(Default)]
struct Counters {
    /// Analog buffers so far.
    analog: usize,
    /// Logic records so far.
    logic: usize,
}

/// Where a trace goes in the file's list: analog channels first, by their
/// channel number (`CH2` is slot 1; an unlabelled one its place among the
/// analog waveforms), as RigolWFM orders its channel slots; logic traces
/// after them, in file order.
type Place = (u8, usize);

/// The slot of a label `CH<n>` (or `C<n>`), as RigolWFM's `_channel_slot`.
fn slot(label: &str) -> Option<usize> {
    let upper = label.to_ascii_uppercase();
    let digits = upper
        .strip_prefix("CH")
        .or_else(|| upper.strip_prefix('C'))?;
    digits.parse::<usize>().ok()?.checked_sub(1)
}

/// The traces of one buffer of a waveform, each with its place in the list.
fn buffer_channels(
    layout: Layout,
    header: &WaveformHeader,
    buffer: &Buffer<'_>,
    (index, several): (u32, bool),
    counters: &mut Counters,
    input: &Input<'_>,
) -> Result<Vec<(Place, Channel)>> {
    let kind = kind(layout, header, buffer)?;
    let width = usize::from(buffer.bytes_per_point.max(1));
    if buffer.data.len() % width != 0 {
        bail!(
            "{}: a buffer of {} bytes is not whole samples of {width} bytes",
            name(header),
            buffer.data.len()
        );
    }
    let points = (buffer.data.len() / width) as u64;
    require_points(points, name(header))?;
    input.check_samples(points)?;
    if layout == Layout::Mso5000 && points != u64::from(header.n_pts) {
        bail!(
            "{}: the header says {} points, its buffer holds {points}",
            name(header),
            header.n_pts
        );
    }
    let (spp, start) = (header.x_increment, -header.x_origin);
    let (model, serial) = match header.frame.split_once(':') {
        Some((model, serial)) => (model.to_owned(), serial.to_owned()),
        None => (header.frame.clone(), String::new()),
    };
    let common = |channel: Channel| {
        channel
            .with("model", &model)
            .with("serial", &serial)
            .with("family", layout.family(&model))
            .with("date", &header.date)
            .with("time", &header.time)
    };
    // A waveform counts once, however many buffers it has.
    let first = index == 0;
    if let Kind::Analog = kind {
        counters.analog += usize::from(first);
        let mut name = if header.label.is_empty() {
            format!("CH{}", counters.analog)
        } else {
            header.label.clone()
        };
        if several {
            match buffer.buffer_type {
                2 => name.push_str(" max"),
                3 => name.push_str(" min"),
                _ => {}
            }
        }
        let samples = decode(buffer.data, SampleType::F32, ByteOrder::Little, finite);
        let mut channel = common(Channel::new(name, samples, spp, start));
        channel.units = unit(header.y_units).into();
        let order = slot(&header.label).unwrap_or(counters.analog.saturating_sub(1));
        return Ok(vec![((0, order), channel)]);
    }
    // The sample type of the record's bytes, and how one reads as a byte.
    let (ty, byte): (SampleType, fn(f64) -> u8) = match kind {
        Kind::LogicCounts => (SampleType::F32, |v| finite(v).clamp(0.0, 255.0) as u8),
        _ => (SampleType::U8, |v| v as u8),
    };
    counters.logic += usize::from(first);
    let base = 8 * counters.logic.saturating_sub(1);
    Ok((0..8)
        .map(|bit| {
            let order = (1, base + bit);
            let samples = decode(buffer.data, ty, ByteOrder::Little, |v| {
                f64::from(byte(v) >> bit & 1)
            });
            let mut channel = common(Channel::new(
                format!("D{}", base + bit),
                samples,
                spp,
                start,
            ))
            .with("logic_label", &header.label);
            channel.units = String::new();
            (order, channel)
        })
        .collect())
}

/// Old MSO5074 exports: several `RG01` blocks with 144-byte headers
/// (RigolWFM `_looks_like_malformed_5074`).
fn looks_like_concatenated_5074(data: &[u8]) -> bool {
    data.starts_with(b"RG01")
        && data.windows(4).filter(|w| *w == b"RG01").nth(1).is_some()
        && Bytes::new(data, Order::Little).u32(12).ok() == Some(144)
}

/// `at + len`, which must lie within the file of `size` bytes.
fn past(at: usize, len: usize, size: usize) -> Result<usize> {
    match at.checked_add(len) {
        Some(end) if end <= size => Ok(end),
        _ => bail!("truncated: a header of {len} bytes at offset {at}, file holds {size}"),
    }
}

/// Reads the waveforms; returns the channels and where the last one ended.
fn waveforms(input: &Input<'_>, layout: Layout) -> Result<(Vec<Channel>, usize)> {
    let bytes = Bytes::new(input.data, Order::Little);
    let n_waveforms = if layout == Layout::Dho {
        bytes.u32(12)?
    } else {
        bytes.u32(8)?
    };
    input.check_channels(usize::try_from(n_waveforms).unwrap_or(usize::MAX))?;
    let mut at = layout.file_header();
    let mut channels = Vec::new();
    let mut counters = Counters::default();
    for _ in 0..n_waveforms {
        let header = WaveformHeader::read(&bytes, at)?;
        let len = (header.header_size as usize).max(layout.waveform_header());
        at = past(at, len, bytes.len())?;
        let several = header.n_buffers > 1;
        for index in 0..header.n_buffers.max(1) {
            let header_size = bytes.u32(at)? as usize;
            let buffer_type = bytes.u16(at + 4)?;
            let bytes_per_point = bytes.u16(at + 6)?;
            let buffer_size = if layout == Layout::Dho {
                bytes.u64(at + 8)?
            } else {
                u64::from(bytes.u32(at + 8)?)
            };
            at = past(at, header_size.max(layout.data_header()), bytes.len())?;
            let Some(data) = usize::try_from(buffer_size)
                .ok()
                .and_then(|n| bytes.slice(at, n).ok())
            else {
                bail!(
                    "truncated: {} declares a buffer of {buffer_size} bytes at offset {at}, file holds {}",
                    name(&header),
                    bytes.len()
                );
            };
            at += data.len();
            let buffer = Buffer {
                buffer_type,
                bytes_per_point,
                data,
            };
            channels.extend(buffer_channels(
                layout,
                &header,
                &buffer,
                (index, several),
                &mut counters,
                input,
            )?);
        }
    }
    channels.sort_by_key(|(order, _)| *order);
    Ok((channels.into_iter().map(|(_, c)| c).collect(), at))
}

/// Every waveform of a Rigol BIN file.
pub(super) fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let bytes = Bytes::new(input.data, Order::Little);
    let version = bytes.text(2, 2)?;
    let layout = match version.as_str() {
        "01" if bytes.u32(12)? == 128 => Layout::Mso7000,
        "01" => Layout::Mso5000,
        "03" => Layout::Dho,
        _ => bail!("unknown Rigol BIN version 'RG{version}' (tracekit reads RG01 and RG03)"),
    };
    let concatenated = layout == Layout::Mso5000 && looks_like_concatenated_5074(input.data);
    let channels = match waveforms(input, layout) {
        Ok((_, end)) if concatenated && end != input.data.len() => None,
        Ok((channels, _)) => Some(channels),
        Err(_) if concatenated => None,
        Err(e) => return Err(e),
    };
    let Some(channels) = channels else {
        bail!(
            "an old MSO5074 export of concatenated RG01 blocks, whose headers do not \
             describe its data (no calibration, wrong sizes): not readable"
        );
    };
    let version = format!("RG{version}");
    traces(channels, &[("file_version", version)])
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::ReadOptions;

    /// A waveform header of `BIN` layout `RG01`/MSO5000.
    fn waveform_header(n_buffers: u32, n_pts: u32, label: &str) -> Vec<u8> {
        let mut h = Vec::new();
        for v in [140u32, 2, n_buffers, n_pts, 0] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        h.extend_from_slice(&0f32.to_le_bytes());
        for v in [0.0f64, 1e-6, 5e-6] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        h.extend_from_slice(&2u32.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        let mut text = |s: &str, n: usize| {
            let mut field = s.as_bytes().to_vec();
            field.resize(n, 0);
            h.extend_from_slice(&field);
        };
        text("2026-01-01", 16);
        text("00:00:00", 16);
        text("MSO5074:MS5A0", 24);
        text(label, 16);
        h.resize(140, 0);
        h
    }

    fn buffer(buffer_type: u16, values: &[f32]) -> Vec<u8> {
        let mut b = 12u32.to_le_bytes().to_vec();
        b.extend_from_slice(&buffer_type.to_le_bytes());
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&(4 * values.len() as u32).to_le_bytes());
        for v in values {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b
    }

    fn read_file(body: &[u8], n_waveforms: u32) -> Result<Vec<Trace>> {
        let mut data = b"RG01".to_vec();
        data.extend_from_slice(&(12 + body.len() as u32).to_le_bytes());
        data.extend_from_slice(&n_waveforms.to_le_bytes());
        data.extend_from_slice(body);
        let options = ReadOptions::new();
        let input = Input {
            path: Path::new("peak.bin"),
            data: &data,
            options: &options,
            mapping: None,
        };
        read(&input)
    }

    #[test]
    fn a_peak_detect_waveform_gives_a_trace_per_buffer() {
        let mut body = waveform_header(2, 3, "");
        body.extend(buffer(2, &[0.5, 1.0, 1.5]));
        body.extend(buffer(3, &[-0.5, -1.0, -1.5]));
        body.extend(waveform_header(1, 3, ""));
        body.extend(buffer(1, &[0.25, 0.0, -0.25]));
        let traces = read_file(&body, 2).unwrap();
        let names: Vec<&str> = traces.iter().map(|t| t.meta().channel.as_str()).collect();
        assert_eq!(names, ["CH1 max", "CH1 min", "CH2"]);
        assert_eq!(traces[1].samples(), [-0.5, -1.0, -1.5]);
        assert_eq!(traces[2].meta().start, -5e-6);
        assert_eq!(traces[2].meta().attributes["serial"], "MS5A0");
    }

    #[test]
    fn unsupported_buffers_are_named() {
        let mut body = waveform_header(1, 3, "CH1");
        let mut b = buffer(1, &[0.0, 0.0, 0.0]);
        b[6] = 2; // two bytes a point
        body.extend(b);
        let e = read_file(&body, 1).unwrap_err();
        assert!(e.0.contains("CH1: unsupported analog buffer"), "{}", e.0);
    }
}
