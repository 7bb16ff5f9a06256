//! The WAVEDESC block of a LeCroy waveform: the fields tracekit reads, at
//! their offsets in the LECROY_2_3 template (346 bytes; "LeCroy Waveform
//! Template 2.3", RigolWFM `ksy/lecroy_2_3_*_trc.ksy`) and the older
//! LECROY_1_0 template (320 bytes; RigolWFM `ksy/lecroy_1_0_*_trc.ksy`).
//! Offsets are from the start of WAVEDESC.

use crate::{
    bytes::{Bytes, Order},
    convert::SampleType,
    error::{Result, bail},
};

/// Where a template keeps each field: every member is the offset, from
/// WAVEDESC's start, of the template field of its name (upper-cased).
struct Offsets {
    trigtime_array: usize,
    ris_time_array: Option<usize>,
    wave_array_1: usize,
    wave_array_2: usize,
    instrument_name: usize,
    instrument_number: usize,
    trace_label: usize,
    wave_array_count: usize,
    subarray_count: usize,
    vertical_gain: usize,
    /// The offset that `volts = VERTICAL_GAIN * code - offset` subtracts:
    /// VERTICAL_OFFSET in LECROY_2_3, ACQ_VERT_OFFSET in LECROY_1_0 (as
    /// RigolWFM `lecroy.py` reads them).
    vertical_offset: usize,
    nominal_bits: usize,
    horiz_interval: usize,
    horiz_offset: usize,
    vertunit: usize,
    horunit: usize,
    trigger_time: usize,
    record_type: usize,
    timebase: usize,
    vert_coupling: usize,
    probe_att: usize,
    fixed_vert_gain: usize,
    bandwidth_limit: usize,
    wave_source: usize,
}

/// LECROY_2_3.
const LECROY_2_3: Offsets = Offsets {
    trigtime_array: 48,
    ris_time_array: Some(52),
    wave_array_1: 60,
    wave_array_2: 64,
    instrument_name: 76,
    instrument_number: 92,
    trace_label: 96,
    wave_array_count: 116,
    subarray_count: 144,
    vertical_gain: 156,
    vertical_offset: 160,
    nominal_bits: 172,
    horiz_interval: 176,
    horiz_offset: 180,
    vertunit: 196,
    horunit: 244,
    trigger_time: 296,
    record_type: 316,
    timebase: 324,
    vert_coupling: 326,
    probe_att: 328,
    fixed_vert_gain: 332,
    bandwidth_limit: 334,
    wave_source: 344,
};

/// LECROY_1_0: no RIS time array, narrower fields, and WAVE_SOURCE counted from 1.
const LECROY_1_0: Offsets = Offsets {
    trigtime_array: 44,
    ris_time_array: None,
    wave_array_1: 48,
    wave_array_2: 52,
    instrument_name: 56,
    instrument_number: 72,
    trace_label: 76,
    wave_array_count: 92,
    subarray_count: 108,
    vertical_gain: 120,
    vertical_offset: 290,
    nominal_bits: 132,
    horiz_interval: 134,
    horiz_offset: 138,
    vertunit: 154,
    horunit: 202,
    trigger_time: 250,
    record_type: 270,
    timebase: 274,
    vert_coupling: 276,
    probe_att: 278,
    fixed_vert_gain: 282,
    bandwidth_limit: 284,
    wave_source: 296,
};

/// The WAVEDESC fields of one waveform.
#[derive(Debug)]
pub(super) struct Wavedesc {
    /// TEMPLATE_NAME: `LECROY_2_3` or `LECROY_1_0`.
    pub(super) template: String,
    /// COMM_ORDER: the byte order of every field and sample.
    pub(super) order: Order,
    /// COMM_TYPE: 8-bit (`byte`) or 16-bit (`word`) signed samples.
    pub(super) comm_type: SampleType,
    /// Lengths of the blocks after WAVEDESC, in file order: WAVE_DESCRIPTOR,
    /// USER_TEXT, TRIGTIME_ARRAY, RIS_TIME_ARRAY (0 in LECROY_1_0).
    pub(super) blocks: [usize; 4],
    /// WAVE_ARRAY_1 and WAVE_ARRAY_2: bytes of the two sample arrays.
    pub(super) wave_array_1: usize,
    /// WAVE_ARRAY_2 (the floor of extrema, the imaginary part of a complex FFT).
    pub(super) wave_array_2: usize,
    /// INSTRUMENT_NAME: the model, `LECROYWR64Xi-A`.
    pub(super) instrument_name: String,
    /// INSTRUMENT_NUMBER.
    pub(super) instrument_number: i32,
    /// TRACE_LABEL: the user's label of the trace.
    pub(super) trace_label: String,
    /// WAVE_ARRAY_COUNT: points in the sample array.
    pub(super) wave_array_count: i32,
    /// SUBARRAY_COUNT: segments of a sequence acquisition.
    pub(super) subarray_count: i32,
    /// VERTICAL_GAIN: volts per code.
    pub(super) vertical_gain: f32,
    /// VERTICAL_OFFSET (LECROY_2_3) or ACQ_VERT_OFFSET (LECROY_1_0).
    pub(super) vertical_offset: f32,
    /// NOMINAL_BITS: the ADC's resolution.
    pub(super) nominal_bits: i16,
    /// HORIZ_INTERVAL: the sample interval.
    pub(super) horiz_interval: f32,
    /// HORIZ_OFFSET: the time of the first point after the trigger.
    pub(super) horiz_offset: f64,
    /// VERTUNIT: the samples' unit, `V`.
    pub(super) vertunit: String,
    /// HORUNIT: the axis unit, `S` (or `Hz`).
    pub(super) horunit: String,
    /// TRIGGER_TIME as `YYYY-MM-DDTHH:MM:SS.fffffffff` (scope time).
    pub(super) trigger_time: String,
    /// RECORD_TYPE: single_sweep, interleaved, ... (see [`record_type`]).
    pub(super) record_type: u16,
    /// TIMEBASE: time per division, a 1-2-5 enum from 1 ps/div.
    pub(super) timebase: u16,
    /// VERT_COUPLING: DC_50_Ohms, ground, DC_1MOhm, ground, AC_1MOhm.
    pub(super) vert_coupling: u16,
    /// PROBE_ATT: the probe's attenuation.
    pub(super) probe_att: f32,
    /// FIXED_VERT_GAIN: volts per division, a 1-2-5 enum from 1 uV/div.
    pub(super) fixed_vert_gain: u16,
    /// BANDWIDTH_LIMIT: 0 off, 1 on.
    pub(super) bandwidth_limit: u16,
    /// WAVE_SOURCE counted from 0 (C1 is 0) in both templates.
    pub(super) wave_source: i32,
    /// WAVE_SOURCE_PLUGIN (LECROY_1_0 only, offset 294): the plug-in of the source.
    pub(super) wave_source_plugin: Option<i16>,
}

/// The block length `name` at `at`: a non-negative `i32`.
fn length(b: &Bytes<'_>, at: usize, name: &str) -> Result<usize> {
    let n = b.i32(at)?;
    match usize::try_from(n) {
        Ok(n) => Ok(n),
        Err(_) => bail!("{name} length is {n}, less than 0"),
    }
}

impl Wavedesc {
    /// Reads the WAVEDESC block at `at`.
    pub(super) fn read(data: &[u8], at: usize) -> Result<Wavedesc> {
        let b = Bytes::new(data, Order::Little);
        // COMM_ORDER (offset 34): 0 HIFIRST, 1 LOFIRST; its low byte tells either way.
        let order = match b.u16(at + 34)? {
            0x0001 => Order::Little,
            0x0000 => Order::Big,
            other => bail!("COMM_ORDER is {other:#06x}, neither 0 (HIFIRST) nor 1 (LOFIRST)"),
        };
        let b = b.with_order(order);
        let template = b.text(at + 16, 16)?;
        let o = match template.as_str() {
            "LECROY_2_3" => &LECROY_2_3,
            "LECROY_1_0" => &LECROY_1_0,
            _ => bail!(
                "unknown WAVEDESC template '{template}' (tracekit reads LECROY_2_3 and LECROY_1_0)"
            ),
        };
        let comm_type = match b.u16(at + 32)? {
            0 => SampleType::I8,
            1 => SampleType::I16,
            other => bail!("COMM_TYPE is {other}, neither 0 (byte) nor 1 (word)"),
        };
        let ris = match o.ris_time_array {
            Some(ris) => length(&b, at + ris, "RIS_TIME_ARRAY")?,
            None => 0,
        };
        let seconds = b.f64(at + o.trigger_time)?;
        let trigger_time = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{seconds:012.9}",
            b.i16(at + o.trigger_time + 12)?,
            b.u8(at + o.trigger_time + 11)?,
            b.u8(at + o.trigger_time + 10)?,
            b.u8(at + o.trigger_time + 9)?,
            b.u8(at + o.trigger_time + 8)?,
        );
        let one_based = template == "LECROY_1_0";
        Ok(Wavedesc {
            order,
            comm_type,
            blocks: [
                length(&b, at + 36, "WAVE_DESCRIPTOR")?,
                length(&b, at + 40, "USER_TEXT")?,
                length(&b, at + o.trigtime_array, "TRIGTIME_ARRAY")?,
                ris,
            ],
            wave_array_1: length(&b, at + o.wave_array_1, "WAVE_ARRAY_1")?,
            wave_array_2: length(&b, at + o.wave_array_2, "WAVE_ARRAY_2")?,
            instrument_name: b.text(at + o.instrument_name, 16)?,
            instrument_number: b.i32(at + o.instrument_number)?,
            trace_label: b.text(at + o.trace_label, 16)?,
            wave_array_count: b.i32(at + o.wave_array_count)?,
            subarray_count: b.i32(at + o.subarray_count)?,
            vertical_gain: b.f32(at + o.vertical_gain)?,
            vertical_offset: b.f32(at + o.vertical_offset)?,
            nominal_bits: b.i16(at + o.nominal_bits)?,
            horiz_interval: b.f32(at + o.horiz_interval)?,
            horiz_offset: b.f64(at + o.horiz_offset)?,
            vertunit: b.text(at + o.vertunit, 48)?,
            horunit: b.text(at + o.horunit, 48)?,
            trigger_time,
            record_type: b.u16(at + o.record_type)?,
            timebase: b.u16(at + o.timebase)?,
            vert_coupling: b.u16(at + o.vert_coupling)?,
            probe_att: b.f32(at + o.probe_att)?,
            fixed_vert_gain: b.u16(at + o.fixed_vert_gain)?,
            bandwidth_limit: b.u16(at + o.bandwidth_limit)?,
            wave_source: i32::from(b.i16(at + o.wave_source)?) - i32::from(one_based),
            wave_source_plugin: if one_based {
                Some(b.i16(at + 294)?)
            } else {
                None
            },
            template,
        })
    }
}

/// The 1-2-5 sequence of the template's scale enums: `k` ->
/// `{1,2,5}[k % 3] * 10^(k / 3 + exponent)` (FIXED_VERT_GAIN counts from
/// 1 uV/div, exponent -6; TIMEBASE from 1 ps/div, exponent -12).
pub(super) fn one_two_five(k: u16, exponent: i32) -> f64 {
    let mantissa = [1.0, 2.0, 5.0][usize::from(k % 3)];
    let e = i32::from(k / 3) + exponent;
    if e >= 0 {
        mantissa * 10f64.powi(e)
    } else {
        mantissa / 10f64.powi(-e)
    }
}

/// RECORD_TYPE's name (LECROY_2_3).
pub(super) fn record_type(code: u16) -> Option<&'static str> {
    [
        "single_sweep",
        "interleaved",
        "histogram",
        "graph",
        "filter_coefficient",
        "complex",
        "extrema",
        "sequence_obsolete",
        "centered_RIS",
        "peak_detect",
    ]
    .get(usize::from(code))
    .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_enums() {
        assert_eq!(one_two_five(11, -6), 5e-3);
        assert_eq!(one_two_five(18, -6), 1.0);
        assert_eq!(one_two_five(27, -12), 1e-3);
        assert_eq!(record_type(9), Some("peak_detect"));
        assert_eq!(record_type(10), None);
    }
}
