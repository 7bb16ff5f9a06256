//! Binary Format V6.0: a file header, then waveform records that each
//! describe their own scaling (RigolWFM Kaitai `siglent_v6_bin`;
//! conversion of `siglent.py` `_normalize_v6`).
//!
//! File header (108 bytes, then `header_bytes − 108` more): `version` u4 = 6,
//! `header_bytes` u2, `endian_marker` u2, `module` 32 bytes, `serial` 32,
//! `software_version` 32, `wave_number` u4. Each record: a base header of
//! 264 bytes (or `base_header_bytes` where larger), `add_info_bytes` of
//! additional information, then `data_bytes` of unsigned little-endian codes,
//! `data_number` of them. Volts are `(code − vert_origin_pos) × vert_interval`;
//! the first sample is at `−hori_origin_pos × hori_interval`.
//!
//! Records of the analog channels are read (channel index 1-4, or a label
//! `CH<n>`); others (math, digital) are skipped, as RigolWFM does: their
//! encoding is not described.

use std::collections::BTreeMap;

use tracekit_core::Trace;

use super::trace;
use crate::{
    bytes::{Bytes, Order},
    convert::{ByteOrder, SampleType, decode},
    error::{Result, bail},
    registry::Input,
};

/// Bytes of the file header before any extension.
const FILE_HEADER: usize = 108;
/// Bytes of a record's base header before any extension.
const BASE_HEADER: usize = 264;

/// The analog channel (1-4) a record holds, from its `channel_index` or its label.
fn analog_channel(index: u16, label: &str) -> Option<usize> {
    match index {
        1..=4 => Some(usize::from(index)),
        0 => Some(1),
        _ => {
            let n: usize = label
                .trim()
                .to_ascii_uppercase()
                .strip_prefix("CH")?
                .parse()
                .ok()?;
            (1..=4).contains(&n).then_some(n)
        }
    }
}

/// Reads a V6.0 file.
pub(super) fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let b = Bytes::new(input.data, Order::Little);
    let header_bytes = usize::from(b.u16(4)?);
    let module = b.text(0x08, 32)?;
    let serial = b.text(0x28, 32)?;
    let software_version = b.text(0x48, 32)?;
    let wave_number = b.u32(0x68)?;
    let mut at = header_bytes.max(FILE_HEADER);
    let mut traces = Vec::new();
    let mut empty = Vec::new();
    for record in 0..wave_number {
        let h = at;
        let base_header_bytes = b.u32(h + 4)? as usize;
        let channel_index = b.u16(h + 14)?;
        let label = b.text(h + 16, 16)?;
        let hori_origin_pos = b.f64(h + 96)?;
        let hori_interval = b.f64(h + 104)?;
        let vert_scale = b.f64(h + 160)?;
        let vert_origin_pos = b.f64(h + 176)?;
        let vert_interval = b.f64(h + 184)?;
        let vert_unit = b.text(h + 224, 16)?;
        let add_info_bytes = b.u32(h + 240)? as usize;
        let data_number = b.u64(h + 248)?;
        let data_bytes = b.u64(h + 256)?;
        let data_at = h
            .checked_add(base_header_bytes.max(BASE_HEADER))
            .and_then(|n| n.checked_add(add_info_bytes));
        let stored = match (data_at, usize::try_from(data_bytes)) {
            (Some(start), Ok(len)) => b.slice(start, len).ok().map(|raw| (start + len, raw)),
            _ => None,
        };
        let Some((end, raw)) = stored else {
            bail!(
                "truncated: waveform record {} ({label}) says {data_bytes} bytes of samples, \
                 the file holds {} bytes",
                record + 1,
                b.len()
            );
        };
        at = end;
        let Some(channel) = analog_channel(channel_index, &label) else {
            continue;
        };
        if data_number == 0 {
            empty.push(label);
            continue;
        }
        input.check_samples(data_number)?;
        input.check_channels(traces.len() + 1)?;
        let width = match data_bytes / data_number {
            1 if data_bytes == data_number => SampleType::U8,
            2 if data_bytes == 2 * data_number => SampleType::U16,
            4 if data_bytes == 4 * data_number => SampleType::U32,
            _ => bail!(
                "waveform record {} ({label}) holds {data_bytes} bytes for {data_number} points, \
                 not 1, 2 or 4 bytes a point",
                record + 1
            ),
        };
        if !(hori_interval.is_finite() && hori_interval > 0.0) {
            bail!(
                "waveform record {} ({label}) has hori_interval {hori_interval} s, it must be positive",
                record + 1
            );
        }
        let samples = decode(raw, width, ByteOrder::Little, |code| {
            (code - vert_origin_pos) * vert_interval
        });
        let mut attributes = BTreeMap::from([
            ("revision".to_owned(), "V6.0".to_owned()),
            ("volts_per_div".to_owned(), format!("{}", vert_scale.abs())),
        ]);
        for (key, value) in [
            ("model", &module),
            ("serial", &serial),
            ("firmware", &software_version),
        ] {
            if !value.is_empty() {
                attributes.insert(key.to_owned(), value.clone());
            }
        }
        let label = if label.is_empty() {
            format!("CH{channel}")
        } else {
            label
        };
        let units = if vert_unit.is_empty() {
            "V".to_owned()
        } else {
            vert_unit
        };
        let start = -hori_origin_pos * hori_interval;
        traces.push(trace(
            samples,
            label,
            units,
            1.0 / hori_interval,
            start,
            attributes,
        )?);
    }
    if traces.is_empty() && !empty.is_empty() {
        bail!(
            "the analog waveform records ({}) hold 0 points",
            empty.join(", ")
        );
    }
    if traces.is_empty() {
        bail!("none of the {wave_number} waveform records holds an analog channel");
    }
    Ok(traces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_of_analog_channels() {
        assert_eq!(analog_channel(2, ""), Some(2));
        assert_eq!(analog_channel(0, "CH1"), Some(1));
        assert_eq!(analog_channel(9, "ch3"), Some(3));
        assert_eq!(analog_channel(9, "F1"), None);
        assert_eq!(analog_channel(9, "CH9"), None);
    }
}
