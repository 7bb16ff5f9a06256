//! DS1000C / CD / M / MD WFM (`ksy/wfm1000c`, RigolWFM `rigol_1000c_wfm`):
//! a 256-byte header, an optional 16-byte padding block (when byte 0 is
//! `A5` rather than `A1`), then `points` 8-bit codes of channel 1 and of
//! channel 2, each only if enabled. Where the samples start is decided by the
//! caller (see the module documentation of `rigol`).
//!
//! Volts: `volt_per_division = ±1e-6 * scale_measured * probe_value`
//! (negative when inverted), `volt_scale = volt_per_division / 25`,
//! `volt_offset = shift_measured * volt_scale`, and the DS1000C/D mid-code
//! 125: `v = volt_scale * (125 - code) - volt_offset`. Time: `1 /
//! sample_rate_hz` per point, centred on `time_offset` (ps) as RigolWFM's
//! `linspace`.

use tracekit_core::Trace;

use super::common::{Channel, require_points, start_linspace, traces, volts_from_codes};
use crate::{
    bytes::{Bytes, Order, sample_block},
    error::Result,
    registry::Input,
};

/// Where the samples start after a header whose byte 0 is `A1`.
pub(super) const DATA_OFFSET: usize = 256;

/// `header.points` (u32).
const POINTS: usize = 28;
/// `header.ch[0]`; two `channel_header`s of 24 bytes follow.
const CHANNELS: usize = 36;
/// Size of one `channel_header`.
const CHANNEL_SIZE: usize = 24;
/// `header.time_offset` (s64, ps).
const TIME_OFFSET: usize = 92;
/// `header.sample_rate_hz` (f32).
const SAMPLE_RATE: usize = 100;

/// One `channel_header` (offsets within it).
struct ChannelHeader {
    /// `probe_value` (f32 at 8).
    probe_value: f64,
    /// `enabled_val` (u8 at 13) non-zero.
    enabled: bool,
    /// `invert_m_val` (u8 at 14) non-zero.
    inverted: bool,
    /// `scale_measured` (s32 at 16).
    scale_measured: i32,
    /// `shift_measured` (s16 at 20).
    shift_measured: i16,
}

impl ChannelHeader {
    /// The `channel_header` at `at`.
    fn read(bytes: &Bytes<'_>, at: usize) -> Result<ChannelHeader> {
        Ok(ChannelHeader {
            probe_value: f64::from(bytes.f32(at + 8)?),
            enabled: bytes.u8(at + 13)? != 0,
            inverted: bytes.u8(at + 14)? != 0,
            scale_measured: bytes.i32(at + 16)?,
            shift_measured: bytes.i16(at + 20)?,
        })
    }
}

/// Every enabled channel of a DS1000C file whose samples start at `data_offset`.
pub(super) fn read(input: &Input<'_>, data_offset: usize) -> Result<Vec<Trace>> {
    let bytes = Bytes::new(input.data, Order::Little);
    let points = bytes.u32(POINTS)?;
    require_points(u64::from(points), "each channel")?;
    input.check_samples(u64::from(points))?;
    let seconds_per_point = 1.0 / f64::from(bytes.f32(SAMPLE_RATE)?);
    let time_offset = 1.0e-12 * bytes.i64(TIME_OFFSET)? as f64;
    let mut offset = data_offset;
    let mut channels = Vec::new();
    for k in 0..2 {
        let ch = ChannelHeader::read(&bytes, CHANNELS + k * CHANNEL_SIZE)?;
        if !ch.enabled {
            continue;
        }
        let raw = sample_block(&bytes, offset, u64::from(points), 1)?;
        offset += raw.len();
        let sign = if ch.inverted { -0.0000010 } else { 0.0000010 };
        let volt_per_division = sign * f64::from(ch.scale_measured) * ch.probe_value;
        let volt_scale = volt_per_division / 25.0;
        let volt_offset = f64::from(ch.shift_measured) * volt_scale;
        let samples = volts_from_codes(raw, volt_scale, volt_offset, 125.0);
        let start = start_linspace(time_offset, u64::from(points), seconds_per_point);
        channels.push(
            Channel::new(format!("CH{}", k + 1), samples, seconds_per_point, start)
                .with("probe", ch.probe_value)
                .with("volts_per_div", volt_per_division)
                .with("vertical_offset", volt_offset)
                .with("inverted", ch.inverted),
        );
    }
    traces(
        channels,
        &[("model", "DS1000C".into()), ("family", "DS1000C".into())],
    )
}
