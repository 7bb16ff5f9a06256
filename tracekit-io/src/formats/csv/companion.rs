//! The companion header of a Rohde & Schwarz `.Wfm.csv` export.
//!
//! An RTP scope writes `name.Wfm.csv` (no header: values, or time and
//! values) beside `name.bin`, an XML `Database` of `<Prop Name=.. Value=..>`
//! elements that holds the time base. Where that file is there, its
//! `Resolution` (s per sample), `XStart` (time of the first sample),
//! `RecordLength`, `SignalFormat` (`..._XYDOUBLEFLOAT` exports carry a time
//! column) and sources (`Source`, or `MultiChannelSource` where
//! `MultiChannelExport` is on) give the layout, read as the R&S binary
//! reader (`formats/rohde_schwarz/`, whose header code this shares) and RigolWFM's `rohde_schwarz.py`
//! read them.

use std::{
    fs::File,
    io::Read,
    path::{Path, PathBuf},
};

use roxmltree::Document;

use super::timebase::Stated;
use crate::{
    error::{Result, bail},
    formats::rohde_schwarz::{Props, channel_label, sources},
};

/// Most bytes of a companion header read (RTP headers are about 70 KB).
const MAX_HEADER: u64 = 4 << 20;

/// What the companion header says.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Companion {
    /// The companion's file name, for messages.
    pub(super) name: String,
    /// `Resolution`: the sample interval.
    pub(super) interval: Stated,
    /// `XStart`: the time of the first sample.
    pub(super) start: f64,
    /// `RecordLength`: the rows the export holds.
    pub(super) record_length: u64,
    /// Whether the export's first column is time (`SignalFormat` `..._XY...`).
    pub(super) time_column: bool,
    /// The exported channels, `CH1`...
    pub(super) channels: Vec<String>,
    /// `V` where `BaseUnit` is a voltage level.
    pub(super) unit: Option<String>,
    /// `FirmwareVersion`.
    pub(super) firmware: Option<String>,
}

/// `name.bin` beside `name.Wfm.csv`, where `path` is named so.
fn companion_path(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = name.len().checked_sub(".wfm.csv".len())?;
    name.get(stem..)?
        .eq_ignore_ascii_case(".wfm.csv")
        .then(|| path.with_file_name(format!("{}.bin", &name[..stem])))
}

/// The companion header of `path`, where it has one: `Ok(None)` where the
/// file is not a `.Wfm.csv` or has no XML header beside it; an error where
/// the header is there but does not say what the export needs.
pub(super) fn find(path: &Path) -> Result<Option<Companion>> {
    let Some(header) = companion_path(path) else {
        return Ok(None);
    };
    let Ok(file) = File::open(&header) else {
        return Ok(None);
    };
    let mut xml = Vec::new();
    if file.take(MAX_HEADER).read_to_end(&mut xml).is_err() || !xml.starts_with(b"<?xml") {
        return Ok(None);
    }
    let name = header
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parse(&String::from_utf8_lossy(&xml), name).map(Some)
}

/// What the header `xml` (the file `name`) says.
fn parse(xml: &str, name: String) -> Result<Companion> {
    let doc = match Document::parse(xml) {
        Ok(doc) => doc,
        Err(e) => bail!("{name}: the XML header cannot be read: {e}"),
    };
    let props = Props::new(&doc);
    let number = |prop: &str| -> Result<f64> {
        let text = props.value_opt(prop).unwrap_or("");
        match text.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => bail!("{name}: {prop} '{text}' is not a number"),
        }
    };
    let acquisitions = number("NumberOfAcquisitions").unwrap_or(1.0);
    if acquisitions != 1.0 {
        bail!("{name}: {acquisitions} acquisitions (a history export); tracekit reads one");
    }
    let record_length = number("RecordLength")?;
    if !(record_length >= 1.0 && record_length.fract() == 0.0 && record_length < 2f64.powi(53)) {
        bail!("{name}: RecordLength {record_length} is not a number of points");
    }
    let start = number("XStart")?;
    let interval = match props.value_opt("Resolution") {
        Some(_) => Stated::interval(number("Resolution")?, format!("{name}: Resolution")),
        None => Stated::interval(
            (number("XStop")? - start) / record_length,
            format!("{name}: (XStop - XStart) / RecordLength"),
        ),
    };
    let channels: Vec<String> = match sources(&props) {
        Ok(sources) => sources.iter().map(|s| channel_label(&s.name)).collect(),
        Err(e) => bail!("{name}: {}", e.0),
    };
    if channels.is_empty() {
        bail!("{name}: no exported channel (Source, MultiChannelExportState)");
    }
    Ok(Companion {
        interval,
        start,
        record_length: record_length as u64,
        time_column: props
            .value_opt("SignalFormat")
            .unwrap_or("")
            .contains("_XY"),
        channels,
        unit: (props.value_opt("BaseUnit") == Some("eRS_UNIT_LEVEL_V")).then(|| "V".into()),
        firmware: props
            .value_opt("FirmwareVersion")
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0"?>
<Database FWVersion="">
  <Prop Avail="0" ValueKey="" Name="Resolution" Value="2.5e-11" UnitName="s"/>
  <Prop Avail="0" ValueKey="" Name="RecordLength" Value="4000"/>
  <Prop Avail="0" ValueKey="" Name="XStart" Value="-5.24e-08"/>
  <Prop Avail="0" ValueKey="" Name="SignalFormat" Value="eRS_SIGNAL_FORMAT_XYDOUBLEFLOAT"/>
  <Prop Avail="0" ValueKey="" Name="MultiChannelExport" Value="eRS_ONOFF_ON"/>
  <Prop Name="MultiChannelExportState" I_0="eRS_ONOFF_ON" I_1="eRS_ONOFF_ON" I_2="eRS_ONOFF_OFF"/>
  <Prop Name="MultiChannelSource" I_0="eRS_SIGNAL_SOURCE_CH1_TR1" I_1="eRS_SIGNAL_SOURCE_CH3_TR1"/>
  <Prop Name="BaseUnit" Value="eRS_UNIT_LEVEL_V"/>
</Database>"#;

    #[test]
    fn reads_the_time_base_and_channels() {
        let c = parse(XML, "x.bin".into()).unwrap();
        assert_eq!(c.interval.interval, 2.5e-11);
        assert_eq!(c.start, -5.24e-8);
        assert_eq!(c.record_length, 4000);
        assert!(c.time_column);
        assert_eq!(c.channels, ["CH1", "CH3"]);
        assert_eq!(c.unit.as_deref(), Some("V"));
        let e = parse(&XML.replace("2.5e-11", "abc"), "x.bin".into()).unwrap_err();
        assert_eq!(e.0, "x.bin: Resolution 'abc' is not a number");
    }

    #[test]
    fn only_wfm_csv_files_have_one() {
        assert_eq!(
            companion_path(Path::new("d/rs_01.Wfm.csv")),
            Some(PathBuf::from("d/rs_01.bin"))
        );
        assert_eq!(companion_path(Path::new("d/a.csv")), None);
    }
}
