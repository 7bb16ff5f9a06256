//! LeCroy TRC: `.trc` files and the `.000`, `.001`, ... of older scopes. A
//! WAVEDESC block (template LECROY_2_3 or LECROY_1_0, either byte order),
//! then the user text, the segment trigger times, the RIS times and the
//! sample array; a file saved from a remote query may open with the query's
//! answer prefix (`#9000200350`, `C1:WF ALL,#9...`) before WAVEDESC.
//!
//! `volts = VERTICAL_GAIN * code - VERTICAL_OFFSET` (ACQ_VERT_OFFSET in
//! LECROY_1_0); the first sample is at HORIZ_OFFSET, one every
//! HORIZ_INTERVAL (RigolWFM `lecroy.py`, which rounds volts to `f32`;
//! tracekit keeps `f64`). A sequence acquisition (SUBARRAY_COUNT segments
//! with their TRIGTIME entries) gives one trace per segment, each starting
//! at its trigger offset; RigolWFM reads the segments as one record.

mod wavedesc;

use std::collections::BTreeMap;

use tracekit_core::{Domain, Trace, TraceMeta};

use self::wavedesc::{Wavedesc, one_two_five, record_type};
use crate::{
    bytes::{Bytes, sample_block},
    convert::decode,
    error::{Result, bail},
    registry::{Format, Input},
};

/// LeCroy TRC, LECROY_2_3 or LECROY_1_0.
pub(crate) const FORMAT: Format = Format {
    name: "LeCroy TRC",
    probe: |input| wavedesc_at(input.data).is_some(),
    read,
};

/// How many bytes of a remote query's answer may come before WAVEDESC.
const MAX_PREFIX: usize = 256;

/// Where WAVEDESC starts: at 0, or after a prefix of printable text.
fn wavedesc_at(data: &[u8]) -> Option<usize> {
    let head = &data[..data.len().min(MAX_PREFIX + 8)];
    let at = head.windows(8).position(|w| w == b"WAVEDESC")?;
    head[..at]
        .iter()
        .all(|&c| c == b' ' || c.is_ascii_graphic())
        .then_some(at)
}

/// Reads the trace (or the segments) of a TRC file.
fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let Some(at) = wavedesc_at(input.data) else {
        bail!("no WAVEDESC block at the start of the file");
    };
    let wd = Wavedesc::read(input.data, at)?;
    let b = Bytes::new(input.data, wd.order);
    let width = wd.comm_type.width();
    let Some(array_at) = wd.blocks.iter().try_fold(at, |a, &n| a.checked_add(n)) else {
        bail!("the block lengths {:?} add up beyond any file", wd.blocks);
    };
    if wd.wave_array_1 == 0 {
        bail!("no waveform data: WAVE_ARRAY_1 is 0 bytes");
    }
    if wd.wave_array_1 % width != 0 {
        bail!(
            "WAVE_ARRAY_1 is {} bytes, not a whole number of {width}-byte samples",
            wd.wave_array_1
        );
    }
    let raw = sample_block(&b, array_at, (wd.wave_array_1 / width) as u64, width)?;
    let held = raw.len() / width;
    let points = match usize::try_from(wd.wave_array_count) {
        Ok(0) | Err(_) => held,
        Ok(count) if count > held => {
            bail!("WAVE_ARRAY_COUNT says {count} points, WAVE_ARRAY_1 holds {held}")
        }
        Ok(count) => count,
    };
    input.check_samples(points as u64)?;
    let interval = f64::from(wd.horiz_interval);
    if !(interval > 0.0 && (1.0 / interval).is_finite()) {
        bail!(
            "HORIZ_INTERVAL (the sample interval) is {interval}, which gives no finite positive sample rate"
        );
    }

    let attributes = attributes(&wd, &b, at);
    let meta = |start: f64, attributes: BTreeMap<String, String>| TraceMeta {
        sample_rate: 1.0 / interval,
        start,
        domain: if wd.horunit.eq_ignore_ascii_case("hz") {
            Domain::Frequency
        } else {
            Domain::Time
        },
        channel: match wd.wave_source {
            0..=3 => format!("C{}", wd.wave_source + 1),
            _ => wd.trace_label.clone(),
        },
        units: if wd.vertunit.is_empty() {
            "V".to_owned()
        } else {
            wd.vertunit.clone()
        },
        attributes,
        ..TraceMeta::default()
    };
    let (gain, offset) = (f64::from(wd.vertical_gain), f64::from(wd.vertical_offset));
    let volts = |code: f64| gain * code - offset;
    let raw = &raw[..points * width];

    let Some(segments) = segments(&wd, &b, at, points, input)? else {
        let samples = decode(raw, wd.comm_type, wd.order, volts);
        return Ok(vec![Trace::with_meta(
            samples,
            meta(wd.horiz_offset, attributes),
        )?]);
    };
    let per_segment = points / segments.len();
    segments
        .iter()
        .zip(raw.chunks_exact(per_segment * width))
        .enumerate()
        .map(|(k, (&(trigger_time, trigger_offset), raw))| {
            let mut attributes = attributes.clone();
            attributes.insert("segment".to_owned(), (k + 1).to_string());
            attributes.insert("segment_time".to_owned(), format!("{trigger_time}"));
            let samples = decode(raw, wd.comm_type, wd.order, volts);
            Ok(Trace::with_meta(samples, meta(trigger_offset, attributes))?)
        })
        .collect()
}

/// The TRIGTIME entries of a sequence acquisition (TRIGGER_TIME since the
/// first segment's trigger, TRIGGER_OFFSET of the segment's first point),
/// where SUBARRAY_COUNT > 1 segments of equal length each have one; else
/// `None` (the record is read whole, as RigolWFM reads it).
fn segments(
    wd: &Wavedesc,
    b: &Bytes<'_>,
    at: usize,
    points: usize,
    input: &Input<'_>,
) -> Result<Option<Vec<(f64, f64)>>> {
    let Ok(n) = usize::try_from(wd.subarray_count) else {
        return Ok(None);
    };
    if n < 2 || points % n != 0 || wd.blocks[2] < n.saturating_mul(16) {
        return Ok(None);
    }
    input.check_channels(n)?;
    let table = at + wd.blocks[0] + wd.blocks[1];
    (0..n)
        .map(|k| Ok((b.f64(table + 16 * k)?, b.f64(table + 16 * k + 8)?)))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// What WAVEDESC says about the instrument and its settings.
fn attributes(wd: &Wavedesc, b: &Bytes<'_>, at: usize) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    let mut put = |key: &str, value: String| {
        a.insert(key.to_owned(), value);
    };
    put("vendor", "LeCroy".to_owned());
    put("template", wd.template.clone());
    if !wd.instrument_name.is_empty() {
        put("model", wd.instrument_name.clone());
    }
    put("instrument_number", wd.instrument_number.to_string());
    if !wd.trace_label.is_empty() {
        put("label", wd.trace_label.clone());
    }
    put("trigger_time", wd.trigger_time.clone());
    // VERT_COUPLING: DC_50_Ohms, ground, DC_1MOhm, ground, AC_1MOhm.
    let (coupling, impedance) = match wd.vert_coupling {
        0 => ("DC", "50"),
        1 | 3 => ("GND", ""),
        2 => ("DC", "1000000"),
        4 => ("AC", "1000000"),
        _ => ("", ""),
    };
    if !coupling.is_empty() {
        put("coupling", coupling.to_owned());
    }
    if !impedance.is_empty() {
        put("input_impedance", impedance.to_owned());
    }
    if wd.probe_att > 0.0 {
        put("probe", format!("{}", wd.probe_att));
    }
    if wd.fixed_vert_gain <= 27 {
        put(
            "volts_per_div",
            format!("{}", one_two_five(wd.fixed_vert_gain, -6)),
        );
    }
    put("vertical_offset", format!("{}", wd.vertical_offset));
    if wd.timebase <= 47 {
        put(
            "time_per_div",
            format!("{}", one_two_five(wd.timebase, -12)),
        );
    }
    put("nominal_bits", wd.nominal_bits.to_string());
    if let Some(name) = record_type(wd.record_type).filter(|_| wd.template == "LECROY_2_3") {
        put("record_type", name.to_owned());
    }
    put(
        "bandwidth_limit",
        if wd.bandwidth_limit == 1 { "on" } else { "off" }.to_owned(),
    );
    if let Some(plugin) = wd.wave_source_plugin {
        put("wave_source_plugin", plugin.to_string());
    }
    if wd.subarray_count > 1 {
        put("segments", wd.subarray_count.to_string());
    }
    if wd.wave_array_2 > 0 {
        put("wave_array_2", wd.wave_array_2.to_string());
    }
    let text = at
        .checked_add(wd.blocks[0])
        .and_then(|t| b.slice(t, wd.blocks[1]).ok());
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        let text = String::from_utf8_lossy(text);
        let text = text.trim_matches(char::from(0)).trim();
        if !text.is_empty() {
            put("user_text", text.to_owned());
        }
    }
    a
}
