//! DS1000E and DS1000D WFM (`ksy/wfm1000e`, RigolWFM `rigol_1000e_wfm`,
//! after Rigol's "DS1000E/D WFM structure instruction"): a 276-byte header,
//! then channel 1's valid codes and its roll-mode padding, then channel 2's,
//! each only if enabled (logic-analyser words may follow; they are not read).
//!
//! In roll mode (`roll_stop` non-zero) the firmware leaves `roll_stop + 2`
//! invalid bytes after each channel's valid samples: a channel holds
//! `memory_depth - skip` points.
//!
//! Volts: `volt_scale = 1e-6 * scale_measured * probe_value / 25` (never
//! negative: inversion only flips the reported `volt_per_division`),
//! `volt_offset = shift_measured * volt_scale`, mid-code 125:
//! `v = volt_scale * (125 - code) - volt_offset`. Time: `1 /
//! time.sample_rate_hz` per point; the record is centred on the time base's
//! `offset_measured` (ps; channel 2 uses the second time base in alternate
//! trigger mode) over the channel's memory depth.

use tracekit_core::Trace;

use super::common::{Channel, require_points, start_sample_aligned, traces, volts_from_codes};
use crate::{
    bytes::{Bytes, Order, sample_block},
    error::{Result, bail},
    registry::Input,
};

/// `header.roll_stop` (u32).
const ROLL_STOP: usize = 20;
/// `header.ch1_points_tmp` (u32): channel 1's memory depth.
const CH1_POINTS: usize = 28;
/// `header.ch[0]`; two `channel_header`s of 24 bytes follow.
const CHANNELS: usize = 34;
/// Size of one `channel_header`.
const CHANNEL_SIZE: usize = 24;
/// `header.time` (`time_header`).
const TIME: usize = 84;
/// `header.logic` (`logic_analyzer_header`): bit 0 of its first byte is `enabled`.
const LOGIC: usize = 120;
/// `header.trigger_mode` (u8; 4 is `alt`).
const TRIGGER_MODE: usize = 142;
/// `header.ch2_points_tmp` (u32): channel 2's memory depth, 0 when it is channel 1's.
const CH2_POINTS: usize = 232;
/// `header.time2` (`time_header`), channel 2's time base in alternate trigger mode.
const TIME2: usize = 236;
/// Where the samples start.
const DATA: usize = 276;

/// `time_header.sample_rate_hz` (f32), from the start of the time header.
const TIME_SAMPLE_RATE: usize = 16;
/// `time_header.offset_measured` (s64, ps).
const TIME_OFFSET_MEASURED: usize = 28;
/// `trigger_mode` value `alt`.
const TRIGGER_ALT: u8 = 4;

/// One `channel_header` (offsets within it).
struct ChannelHeader {
    /// `probe_value` (f32 at 10).
    probe_value: f64,
    /// `enabled_val` (u8 at 15) non-zero.
    enabled: bool,
    /// `inverted_m_val` (u8 at 16) non-zero.
    inverted: bool,
    /// `scale_measured` (s32 at 18).
    scale_measured: i32,
    /// `shift_measured` (s16 at 22).
    shift_measured: i16,
}

impl ChannelHeader {
    /// The `channel_header` at `at`.
    fn read(bytes: &Bytes<'_>, at: usize) -> Result<ChannelHeader> {
        Ok(ChannelHeader {
            probe_value: f64::from(bytes.f32(at + 10)?),
            enabled: bytes.u8(at + 15)? != 0,
            inverted: bytes.u8(at + 16)? != 0,
            scale_measured: bytes.i32(at + 18)?,
            shift_measured: bytes.i16(at + 22)?,
        })
    }
}

/// Every enabled channel of a DS1000E or DS1000D file.
pub(super) fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let bytes = Bytes::new(input.data, Order::Little);
    let roll_stop = bytes.u32(ROLL_STOP)?;
    // `ch1_skip`: the invalid bytes after each channel in roll mode.
    let skip = if roll_stop == 0 {
        0
    } else {
        u64::from(roll_stop) + 2
    };
    let ch1_depth = bytes.u32(CH1_POINTS)?;
    let ch2_points_tmp = bytes.u32(CH2_POINTS)?;
    let headers = [
        ChannelHeader::read(&bytes, CHANNELS)?,
        ChannelHeader::read(&bytes, CHANNELS + CHANNEL_SIZE)?,
    ];
    // `ch2_memory_depth`: some files leave it 0, meaning channel 1's.
    let ch2_depth = if headers[1].enabled && ch2_points_tmp == 0 {
        ch1_depth
    } else {
        ch2_points_tmp
    };
    let seconds_per_point = 1.0 / f64::from(bytes.f32(TIME + TIME_SAMPLE_RATE)?);
    let ch1_time_offset = 1.0e-12 * bytes.i64(TIME + TIME_OFFSET_MEASURED)? as f64;
    let ch2_time_offset = if bytes.u8(TRIGGER_MODE)? == TRIGGER_ALT {
        1.0e-12 * bytes.i64(TIME2 + TIME_OFFSET_MEASURED)? as f64
    } else {
        ch1_time_offset
    };
    let logic = bytes.u8(LOGIC)? & 1 != 0;
    let mut offset = DATA;
    let mut channels = Vec::new();
    for (k, ch) in headers.iter().enumerate() {
        if !ch.enabled {
            continue;
        }
        let (depth, time_offset) = if k == 0 {
            (ch1_depth, ch1_time_offset)
        } else {
            (ch2_depth, ch2_time_offset)
        };
        let Some(points) = u64::from(depth).checked_sub(skip) else {
            bail!(
                "CH{}: memory depth {depth} is smaller than the {skip} roll-mode bytes to skip",
                k + 1
            );
        };
        require_points(points, &format!("CH{}", k + 1))?;
        input.check_samples(points)?;
        let raw = sample_block(&bytes, offset, points, 1)?;
        // Past the samples and the roll-mode padding (both within the file or not needed).
        offset = offset
            .saturating_add(raw.len())
            .saturating_add(usize::try_from(skip).unwrap_or(usize::MAX));
        let volt_scale = 0.0000010 * f64::from(ch.scale_measured) * ch.probe_value / 25.0;
        let volt_offset = f64::from(ch.shift_measured) * volt_scale;
        let sign = if ch.inverted { -0.0000010 } else { 0.0000010 };
        let volt_per_division = sign * f64::from(ch.scale_measured) * ch.probe_value;
        let samples = volts_from_codes(raw, volt_scale, volt_offset, 125.0);
        let start = start_sample_aligned(time_offset, u64::from(depth), seconds_per_point);
        channels.push(
            Channel::new(format!("CH{}", k + 1), samples, seconds_per_point, start)
                .with("probe", ch.probe_value)
                .with("volts_per_div", volt_per_division)
                .with("vertical_offset", volt_offset)
                .with("inverted", ch.inverted),
        );
    }
    let model = if logic { "DS1000D" } else { "DS1000E" };
    traces(
        channels,
        &[("model", model.into()), ("family", "DS1000D/E".into())],
    )
}
