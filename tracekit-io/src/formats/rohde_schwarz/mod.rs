//! Rohde & Schwarz RTP waveform exports: an XML header `<name>.bin` that
//! describes the record, and beside it `<name>.Wfm.bin` that holds the samples.
//!
//! The layout is the one RigolWFM reads (its `rohde_schwarz.py` and the Kaitai
//! description `rohde_schwarz_rtp_wfm_bin`), checked against R&S's own CSV
//! export of the same records.
//!
//! # The header (`<name>.bin`)
//! An XML document whose root `Database` says `SaveItemType="Data"`. Its
//! `Prop` elements each carry a `Name` and a `Value`, or `I_0`, `I_1`, ... for
//! the per-channel arrays of a multi-channel export; the first element of a
//! name counts. The reader uses:
//! - `SignalFormat`: `eRS_SIGNAL_FORMAT_INT8BIT`, `_INT16BIT`, `_FLOAT` or
//!   `_XYDOUBLEFLOAT`;
//! - `TraceType` NORMAL or AVERAGE, and `NumberOfAcquisitions` 1 (envelope
//!   traces and history saves of several acquisitions are not read);
//! - `SignalHardwareRecordLength`: the rows in the data file, of which
//!   `RecordLength` rows from row `LeadingSettlingSamples` on are the record;
//! - `MultiChannelExport`: when ON, the channels whose `MultiChannelExportState`
//!   `I_k` is ON are the columns, in that order, named by `MultiChannelSource`
//!   `I_k`; when OFF, `Source` is the one column;
//! - the time base: `XStart`, the time of the record's first sample, and
//!   `Resolution`, the sample interval (`(XStop - XStart) / RecordLength` where
//!   `Resolution` is absent);
//! - for integer formats the vertical scaling: volts = code × (`StepFactor` of
//!   `VerticalScale` × `VerticalScale` / `NofQuantisationLevels`) +
//!   (`VerticalOffset` − `VerticalPosition` × `VerticalScale`), with the
//!   `MultiChannelVerticalScale`/`Position`/`Offset` entries `I_k` in a
//!   multi-channel export. Float formats hold volts already.
//!
//! # The data (`<name>.Wfm.bin`)
//! A little-endian `u32` format code (0 INT8BIT, 1 INT16BIT, 4 FLOAT,
//! 6 XYDOUBLEFLOAT) and a `u32` record length (the hardware record length),
//! then one row per sample: a value per channel (`i8`, `i16` or `f32`), or for
//! XYDOUBLEFLOAT an `f64` time and then an `f32` per channel. The data is
//! little-endian even where the header's `ByteOrder` says MSB first (as in
//! every known file, and as RigolWFM reads it). The file must hold exactly
//! the rows the header declares.
//!
//! The header file is the one to read; given the `.Wfm.bin` file itself, the
//! reader says so.

use std::{
    borrow::Cow,
    collections::BTreeMap,
    fs::File,
    io::Read,
    path::{Path, PathBuf},
};

use roxmltree::Document;
use tracekit_core::{Trace, TraceMeta};

mod header;

pub(crate) use self::header::{Props, channel_label, sources};
use self::header::{Source, strip_prefix};
use crate::{
    bytes::{Bytes, Order},
    convert::{ByteOrder, SampleType, decode},
    error::{Result, bail},
    registry::{Format, Input},
};

/// R&S RTP waveform export: XML header `.bin` plus `.Wfm.bin` data.
pub(crate) const FORMAT: Format = Format {
    name: "R&S RTP BIN",
    probe,
    read,
};

/// How the name of a data file ends (compared lower-cased).
const DATA_SUFFIX: &str = ".wfm.bin";
/// The extensions tried for the data file beside a header, in order.
const DATA_EXTENSIONS: [&str; 3] = ["Wfm.bin", "wfm.bin", "WFM.BIN"];
/// How far into the header the probe looks for the root element.
const PROBE_HEAD: usize = 4096;
/// Bytes before the first row of the data file: format code and record length.
const DATA_HEADER: u64 = 8;

/// A header (XML with R&S's root) or a data file given by mistake.
fn probe(input: &Input<'_>) -> bool {
    is_header(input.data) || is_data_file(input)
}

/// The XML text, without a UTF-8 byte order mark.
fn xml_bytes(data: &[u8]) -> &[u8] {
    data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data)
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An XML declaration, then R&S's `Database` root with its `SaveItemType`.
fn is_header(data: &[u8]) -> bool {
    let data = xml_bytes(data);
    let head = &data[..data.len().min(PROBE_HEAD)];
    head.starts_with(b"<?xml") && contains(head, b"<Database") && contains(head, b"SaveItemType=")
}

/// A `.Wfm.bin` file that starts with a known format code.
fn is_data_file(input: &Input<'_>) -> bool {
    let name = input
        .path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(DATA_SUFFIX)
        && Bytes::new(input.data, Order::Little)
            .u32(0)
            .is_ok_and(|code| SignalFormat::from_code(code).is_some())
}

/// `SignalFormat`: how one row of the data file is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignalFormat {
    /// `eRS_SIGNAL_FORMAT_INT8BIT`: one `i8` code per channel.
    Int8,
    /// `eRS_SIGNAL_FORMAT_INT16BIT`: one `i16` code per channel.
    Int16,
    /// `eRS_SIGNAL_FORMAT_FLOAT`: one `f32` value per channel.
    Float,
    /// `eRS_SIGNAL_FORMAT_XYDOUBLEFLOAT`: an `f64` time, then one `f32` per channel.
    XyDoubleFloat,
}

impl SignalFormat {
    /// The format a `SignalFormat` value names.
    fn parse(value: &str) -> Result<SignalFormat> {
        Ok(match value {
            "eRS_SIGNAL_FORMAT_INT8BIT" => SignalFormat::Int8,
            "eRS_SIGNAL_FORMAT_INT16BIT" => SignalFormat::Int16,
            "eRS_SIGNAL_FORMAT_FLOAT" => SignalFormat::Float,
            "eRS_SIGNAL_FORMAT_XYDOUBLEFLOAT" => SignalFormat::XyDoubleFloat,
            other => bail!(
                "unsupported SignalFormat '{other}' (tracekit reads INT8BIT, INT16BIT, FLOAT \
                 and XYDOUBLEFLOAT)"
            ),
        })
    }

    /// The format a data file's format code names.
    fn from_code(code: u32) -> Option<SignalFormat> {
        [
            SignalFormat::Int8,
            SignalFormat::Int16,
            SignalFormat::Float,
            SignalFormat::XyDoubleFloat,
        ]
        .into_iter()
        .find(|f| f.code() == code)
    }

    /// The format code at the start of the data file.
    fn code(self) -> u32 {
        match self {
            SignalFormat::Int8 => 0,
            SignalFormat::Int16 => 1,
            SignalFormat::Float => 4,
            SignalFormat::XyDoubleFloat => 6,
        }
    }

    /// The type of one channel's value in a row.
    fn value_type(self) -> SampleType {
        match self {
            SignalFormat::Int8 => SampleType::I8,
            SignalFormat::Int16 => SampleType::I16,
            SignalFormat::Float | SignalFormat::XyDoubleFloat => SampleType::F32,
        }
    }

    /// Bytes before the first channel's value in a row (the XY time).
    fn lead(self) -> usize {
        match self {
            SignalFormat::XyDoubleFloat => 8,
            _ => 0,
        }
    }

    /// Whether values are ADC codes that the header's vertical settings scale.
    fn is_integer(self) -> bool {
        matches!(self, SignalFormat::Int8 | SignalFormat::Int16)
    }
}

/// A channel's vertical settings (`VerticalScale` etc., or the
/// `MultiChannelVertical*` entries of its column).
#[derive(Debug, Clone, Copy)]
struct Vertical {
    /// V/div.
    scale: f64,
    /// Divisions.
    position: f64,
    /// Volts.
    offset: f64,
    /// The `StepFactor` attribute of the scale: the divisions the codes span.
    step_factor: f64,
}

/// The vertical settings of `source`'s column.
fn vertical(props: &Props<'_, '_>, source: &Source) -> Result<Vertical> {
    Ok(match &source.index {
        None => Vertical {
            scale: props.float("VerticalScale")?,
            position: props.float("VerticalPosition")?,
            offset: props.float("VerticalOffset")?,
            step_factor: props.float_attr("VerticalScale", "StepFactor")?,
        },
        Some(k) => Vertical {
            scale: props.float_attr("MultiChannelVerticalScale", k)?,
            position: props.float_attr("MultiChannelVerticalPosition", k)?,
            offset: props.float_attr("MultiChannelVerticalOffset", k)?,
            step_factor: props.float_attr("MultiChannelVerticalScale", "StepFactor")?,
        },
    })
}

/// The unit of a channel: `BaseUnit`, or its `MultiChannelViewUnit` entry.
fn units(props: &Props<'_, '_>, source: &Source) -> String {
    let unit = match &source.index {
        Some(k) => props.attr("MultiChannelViewUnit", k),
        None => props.value("BaseUnit"),
    }
    .or_else(|_| props.value("BaseUnit"))
    .unwrap_or("eRS_UNIT_LEVEL_V");
    match strip_prefix(strip_prefix(unit, "eRS_UNIT_"), "LEVEL_") {
        "NONE" => String::new(),
        other => other.to_owned(),
    }
}

/// The record as the header describes it.
#[derive(Debug)]
struct Record {
    /// `SignalFormat`.
    format: SignalFormat,
    /// `SignalHardwareRecordLength`: rows in the data file.
    hardware_rows: u64,
    /// `LeadingSettlingSamples`: rows before the record.
    leading: u64,
    /// `RecordLength`: rows of the record.
    rows: u64,
    /// Bytes per row.
    row_bytes: usize,
}

impl Record {
    /// The record of a header whose export holds `channels` columns.
    fn new(props: &Props<'_, '_>, format: SignalFormat, channels: usize) -> Result<Record> {
        let rows = props.count("RecordLength", 1)?;
        let hardware_rows = props.count("SignalHardwareRecordLength", 1)?;
        let leading = props.count("LeadingSettlingSamples", 0)?;
        if leading
            .checked_add(rows)
            .is_none_or(|end| end > hardware_rows)
        {
            bail!(
                "the header's LeadingSettlingSamples {leading} + RecordLength {rows} exceed \
                 SignalHardwareRecordLength {hardware_rows}"
            );
        }
        let row_bytes = format
            .value_type()
            .width()
            .checked_mul(channels)
            .and_then(|n| n.checked_add(format.lead()));
        let Some(row_bytes) = row_bytes else {
            bail!("{channels} channels do not fit in a row");
        };
        Ok(Record {
            format,
            hardware_rows,
            leading,
            rows,
            row_bytes,
        })
    }

    /// The data file's expected size.
    fn data_bytes(&self) -> Option<u64> {
        self.hardware_rows
            .checked_mul(u64::try_from(self.row_bytes).ok()?)?
            .checked_add(DATA_HEADER)
    }
}

/// The data file beside `header`: `<stem>.Wfm.bin` (or `.wfm.bin`, `.WFM.BIN`).
fn data_path(header: &Path) -> PathBuf {
    let candidates = DATA_EXTENSIONS.map(|ext| header.with_extension(ext));
    candidates
        .iter()
        .find(|p| p.is_file())
        .unwrap_or(&candidates[0])
        .clone()
}

/// The rows of the data file at `path`, after checking its header and its
/// size against `record` (nothing is allocated beyond the file's real size).
fn read_data(path: &Path, record: &Record) -> Result<Vec<u8>> {
    let shown = path.display();
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("the samples belong in the data file {shown} beside the header, which is missing")
        }
        Err(e) => bail!("cannot open the data file {shown}: {e}"),
    };
    let size = match file.metadata() {
        Ok(meta) if meta.is_file() => meta.len(),
        Ok(_) => bail!("the data file {shown} is not a regular file"),
        Err(e) => bail!("cannot read the data file {shown}: {e}"),
    };
    let mut head = [0u8; DATA_HEADER as usize];
    if size < DATA_HEADER || file.read_exact(&mut head).is_err() {
        bail!("truncated: the data file {shown} holds {size} bytes, less than its 8-byte header");
    }
    let head = Bytes::new(&head, Order::Little);
    let (code, length) = (head.u32(0)?, head.u32(4)?);
    if code != record.format.code() {
        bail!(
            "the data file {shown} has format code {code}, the header's SignalFormat means {}",
            record.format.code()
        );
    }
    if u64::from(length) != record.hardware_rows {
        bail!(
            "the data file {shown} says {length} rows, the header's SignalHardwareRecordLength \
             is {}",
            record.hardware_rows
        );
    }
    let Some(expected) = record.data_bytes() else {
        bail!(
            "the header's {} rows do not fit in a file",
            record.hardware_rows
        );
    };
    let rows_held = (size - DATA_HEADER) / record.row_bytes as u64;
    if size < expected {
        bail!(
            "truncated: the header says {} rows of {} bytes, the data file {shown} holds {rows_held}",
            record.hardware_rows,
            record.row_bytes
        );
    }
    if size > expected {
        bail!(
            "the data file {shown} holds {size} bytes, the header describes {expected} \
             ({} rows of {} bytes after an 8-byte header)",
            record.hardware_rows,
            record.row_bytes
        );
    }
    let payload_len = expected - DATA_HEADER;
    let Ok(capacity) = usize::try_from(payload_len) else {
        bail!("the data file {shown} ({size} bytes) does not fit in memory");
    };
    let mut payload = Vec::new();
    if payload.try_reserve_exact(capacity).is_err() {
        bail!("the data file {shown} ({size} bytes) does not fit in memory");
    }
    if let Err(e) = file.take(payload_len).read_to_end(&mut payload) {
        bail!("cannot read the data file {shown}: {e}");
    }
    if payload.len() != capacity {
        bail!(
            "truncated: the data file {shown} ended after {} of {payload_len} bytes",
            payload.len()
        );
    }
    Ok(payload)
}

/// The bytes of column `at` (byte offset in the row) over the record's rows.
fn column<'p>(payload: &'p [u8], record: &Record, at: usize, width: usize) -> Cow<'p, [u8]> {
    // The payload holds exactly `hardware_rows` rows and the record lies
    // within them (checked by `Record::new` and `read_data`).
    let first = record.leading as usize;
    let rows = record.rows as usize;
    let row = record.row_bytes;
    if row == width {
        return Cow::Borrowed(&payload[first * row..(first + rows) * row]);
    }
    Cow::Owned(
        payload
            .chunks_exact(row)
            .skip(first)
            .take(rows)
            .flat_map(|r| &r[at..at + width])
            .copied()
            .collect(),
    )
}

/// Reads the traces of an export, given its header (see the module doc).
fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    if is_data_file(input) && !is_header(input.data) {
        let header = input.path.with_extension("").with_extension("bin");
        bail!(
            "this is the data file of an R&S waveform export; read its XML header file {} \
             (the .bin beside it) instead",
            header.display()
        );
    }
    let Ok(text) = std::str::from_utf8(xml_bytes(input.data)) else {
        bail!("the XML header is not valid UTF-8");
    };
    let doc = match Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => bail!("the XML header cannot be parsed: {e}"),
    };
    let root = doc.root_element();
    let item = root.attribute("SaveItemType").unwrap_or("");
    if root.tag_name().name() != "Database" || item != "Data" {
        bail!(
            "the XML root is <{} SaveItemType=\"{item}\">, a waveform export has \
             <Database SaveItemType=\"Data\">",
            root.tag_name().name()
        );
    }
    let props = Props::new(&doc);
    let format = SignalFormat::parse(props.value("SignalFormat")?)?;
    let trace_type = strip_prefix(props.value("TraceType")?, "eRS_TRACE_TYPE_");
    if !matches!(trace_type, "NORMAL" | "AVERAGE") {
        bail!("TraceType {trace_type} is not read (tracekit reads NORMAL and AVERAGE traces)");
    }
    let acquisitions = props.int("NumberOfAcquisitions")?;
    if acquisitions != 1 {
        bail!(
            "the export holds {acquisitions} acquisitions (a history save); tracekit reads \
             exports of one acquisition"
        );
    }
    let sources = sources(&props)?;
    input.check_channels(sources.len())?;
    let record = Record::new(&props, format, sources.len())?;
    input.check_samples(record.hardware_rows)?;

    let start = props.float("XStart")?;
    let interval = match props.float("Resolution") {
        Ok(resolution) if resolution > 0.0 => resolution,
        _ => (props.float("XStop")? - start) / record.rows as f64,
    };
    if !(interval.is_finite() && interval > 0.0) {
        bail!("the header's sample interval {interval} s is not a positive number");
    }

    let payload = read_data(&data_path(input.path), &record)?;
    let firmware = props
        .value("FirmwareVersion")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| root.attribute("FWVersion").filter(|v| !v.is_empty()));
    let width = format.value_type().width();
    sources
        .iter()
        .enumerate()
        .map(|(k, source)| {
            let vert = vertical(&props, source);
            let raw = column(&payload, &record, format.lead() + k * width, width);
            let samples = if format.is_integer() {
                let v = vert.clone()?;
                let levels = props.int("NofQuantisationLevels")?;
                if levels <= 0 {
                    bail!("the header's NofQuantisationLevels is {levels}, it must be positive");
                }
                // RigolWFM rohde_schwarz.py `_raw_scaling`.
                let factor = (v.step_factor * v.scale) / levels as f64;
                let offset = v.offset - v.position * v.scale;
                decode(&raw, format.value_type(), ByteOrder::Little, |code| {
                    code * factor + offset
                })
            } else {
                decode(&raw, format.value_type(), ByteOrder::Little, |x| x)
            };
            let mut attributes = BTreeMap::from([
                ("vendor".to_owned(), "Rohde & Schwarz".to_owned()),
                ("signal_source".to_owned(), source.name.clone()),
                (
                    "signal_format".to_owned(),
                    strip_prefix(props.value("SignalFormat")?, "eRS_SIGNAL_FORMAT_").to_owned(),
                ),
                ("trace_type".to_owned(), trace_type.to_owned()),
            ]);
            if let Some(firmware) = firmware {
                attributes.insert("firmware".into(), firmware.to_owned());
            }
            if let Ok(v) = vert {
                attributes.insert("volts_per_div".into(), format!("{}", v.scale.abs()));
                attributes.insert("vertical_offset".into(), format!("{}", v.offset));
                attributes.insert("vertical_position".into(), format!("{}", v.position));
            }
            if let Ok(offset) = props.float("TriggerOffset") {
                attributes.insert("trigger_offset".into(), format!("{offset}"));
            }
            let meta = TraceMeta {
                sample_rate: 1.0 / interval,
                start,
                channel: channel_label(&source.name),
                units: units(&props, source),
                attributes,
                ..TraceMeta::default()
            };
            Ok(Trace::with_meta(samples, meta)?)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_channel() {
        assert_eq!(channel_label("CH1_TR1"), "CH1");
        assert_eq!(channel_label("C2W1"), "CH2");
        assert_eq!(channel_label("CH3"), "CH3");
        assert_eq!(channel_label("CH1_TR2"), "CH1_TR2");
        assert_eq!(channel_label("M1"), "M1");
        assert_eq!(channel_label("CHX"), "CHX");
    }

    #[test]
    fn format_codes_round_trip() {
        for code in [0, 1, 4, 6] {
            assert_eq!(
                SignalFormat::from_code(code).map(SignalFormat::code),
                Some(code)
            );
        }
        assert_eq!(SignalFormat::from_code(2), None);
    }
}
