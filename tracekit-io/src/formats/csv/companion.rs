//! The companion header of a Rohde & Schwarz `.Wfm.csv` export.
//!
//! An RTP scope writes `name.Wfm.csv` (no header: values, or time and
//! values) beside `name.bin`, an XML `Database` of `<Prop Name=.. Value=..>`
//! elements that holds the time base. Where that file is there, its
//! `Resolution` (s per sample), `XStart` (time of the first sample),
//! `RecordLength`, `SignalFormat` (`..._XYDOUBLEFLOAT` exports carry a time
//! column) and sources (`Source`, or `MultiChannelSource` where
//! `MultiChannelExport` is on) give the layout. RigolWFM's
//! `rohde_schwarz.py` reads the same fields for the binary export.

use std::{
    fs::File,
    io::Read,
    path::{Path, PathBuf},
};

use super::timebase::Stated;
use crate::error::{Result, bail};

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

/// The attributes of the first `<Prop>` named `name`.
fn prop<'a>(xml: &'a str, name: &str) -> Option<Vec<(&'a str, &'a str)>> {
    xml.split("<Prop ").skip(1).find_map(|element| {
        let attributes = attributes(&element[..element.find('>').unwrap_or(element.len())]);
        attributes
            .iter()
            .any(|&(k, v)| k == "Name" && v == name)
            .then_some(attributes)
    })
}

/// `key="value"` pairs of an element's text.
fn attributes(element: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = element;
    while let Some(eq) = rest.find("=\"") {
        let key = rest[..eq].trim().rsplit(' ').next().unwrap_or("");
        let after = &rest[eq + 2..];
        let Some(end) = after.find('"') else { break };
        out.push((key, &after[..end]));
        rest = &after[end + 1..];
    }
    out
}

/// The attribute `key` of the first `<Prop>` named `name`.
fn value<'a>(xml: &'a str, name: &str, key: &str) -> Option<&'a str> {
    prop(xml, name)?
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// `eRS_SIGNAL_SOURCE_CH2_TR1` -> `CH2`.
fn channel_name(source: &str) -> Option<String> {
    let cleaned = source.strip_prefix("eRS_SIGNAL_SOURCE_").unwrap_or(source);
    let digit = cleaned.find(|c: char| c.is_ascii_digit())?;
    let prefix = &cleaned[..digit];
    (prefix == "CH" || prefix == "C").then(|| format!("CH{}", &cleaned[digit..=digit]))
}

/// What the header `xml` (the file `name`) says.
fn parse(xml: &str, name: String) -> Result<Companion> {
    let number = |prop: &str| -> Result<f64> {
        let text = value(xml, prop, "Value").unwrap_or("");
        match text.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => bail!("{name}: {prop} '{text}' is not a number"),
        }
    };
    let acquisitions = number("NumberOfAcquisitions").unwrap_or(1.0);
    if acquisitions != 1.0 {
        bail!("{name}: {acquisitions} acquisitions (a history export); tracekit reads one");
    }
    let resolution = number("Resolution")?;
    let record_length = number("RecordLength")?;
    if !(record_length >= 0.0 && record_length.fract() == 0.0 && record_length < 2f64.powi(53)) {
        bail!("{name}: RecordLength {record_length} is not a number of points");
    }
    let format = value(xml, "SignalFormat", "Value").unwrap_or("");
    let multi = value(xml, "MultiChannelExport", "Value") == Some("eRS_ONOFF_ON");
    let channels: Vec<String> = if multi {
        let state = prop(xml, "MultiChannelExportState").unwrap_or_default();
        let source = prop(xml, "MultiChannelSource").unwrap_or_default();
        (0..4)
            .filter_map(|k| {
                let key = format!("I_{k}");
                let on = state.iter().any(|&(a, v)| a == key && v == "eRS_ONOFF_ON");
                let source = source.iter().find(|&&(a, _)| a == key)?.1;
                on.then(|| channel_name(source)).flatten()
            })
            .collect()
    } else {
        let source = value(xml, "Source", "Value").unwrap_or("");
        vec![channel_name(source).unwrap_or_else(|| "CH1".into())]
    };
    if channels.is_empty() {
        bail!("{name}: no exported channel (MultiChannelExportState)");
    }
    Ok(Companion {
        interval: Stated::interval(resolution, format!("{name}: Resolution")),
        start: number("XStart")?,
        record_length: record_length as u64,
        time_column: format.contains("_XY"),
        channels,
        unit: (value(xml, "BaseUnit", "Value") == Some("eRS_UNIT_LEVEL_V")).then(|| "V".into()),
        firmware: value(xml, "FirmwareVersion", "Value")
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
