//! DS1000B WFM (`ksy/wfm1000b`, RigolWFM `rigol_1000b_wfm`): a 420-byte
//! header, then one block of `points` 8-bit codes per channel slot.
//!
//! Volts: `volt_per_division = ±1e-6 * scale_measured * probe_value`
//! (negative when inverted), `volt_scale = volt_per_division / 25`,
//! `volt_offset = shift_measured * volt_scale`; RigolWFM then biases the
//! offset by 1.12 divisions: `v = volt_scale * (127 - code) - (volt_offset +
//! 1.12 * volt_per_division)`. Time: `1 / sample_rate_hz` per point, the
//! record centred on `time_offset` (ps), spread as RigolWFM's `linspace`.

use tracekit_core::Trace;

use super::common::{Channel, require_points, start_linspace, traces, volts_from_codes};
use crate::{
    bytes::{Bytes, Order, sample_block},
    error::Result,
    registry::Input,
};

/// `header.points` (u32).
const POINTS: usize = 60;
/// `header.scopetype`: 8 bytes of text.
const SCOPETYPE: usize = 4;
/// `header.ch[0]`; four `channel_header`s of 24 bytes follow.
const CHANNELS: usize = 68;
/// Size of one `channel_header`.
const CHANNEL_SIZE: usize = 24;
/// `header.time_offset` (s64, ps).
const TIME_OFFSET: usize = 172;
/// `header.sample_rate_hz` (f32).
const SAMPLE_RATE: usize = 180;
/// `header.coupling_ch12`, then `coupling_ch34`.
const COUPLING: usize = 216;
/// The first channel slot's samples; slot `k` starts `k * points` later.
const DATA: usize = 420;

/// One `channel_header` (offsets within it).
struct ChannelHeader {
    /// `probe_value` (f32 at 8).
    probe_value: f64,
    /// `enabled_val` (u8 at 14) non-zero.
    enabled: bool,
    /// `invert_m_val` (u8 at 15) non-zero.
    inverted: bool,
    /// `scale_measured` (s32 at 16), µV per division before the probe.
    scale_measured: i32,
    /// `shift_measured` (s16 at 20), in codes.
    shift_measured: i16,
}

impl ChannelHeader {
    /// The `channel_header` at `at`.
    fn read(bytes: &Bytes<'_>, at: usize) -> Result<ChannelHeader> {
        Ok(ChannelHeader {
            probe_value: f64::from(bytes.f32(at + 8)?),
            enabled: bytes.u8(at + 14)? != 0,
            inverted: bytes.u8(at + 15)? != 0,
            scale_measured: bytes.i32(at + 16)?,
            shift_measured: bytes.i16(at + 20)?,
        })
    }

    /// `volt_per_division`, as the Kaitai instance computes it.
    fn volt_per_division(&self) -> f64 {
        let sign = if self.inverted { -0.0000010 } else { 0.0000010 };
        sign * f64::from(self.scale_measured) * self.probe_value
    }
}

/// Every enabled channel of a DS1000B file.
pub(super) fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let bytes = Bytes::new(input.data, Order::Little);
    let points = bytes.u32(POINTS)?;
    require_points(u64::from(points), "each channel")?;
    input.check_samples(u64::from(points))?;
    let model = bytes.text(SCOPETYPE, 8)?;
    let seconds_per_point = 1.0 / f64::from(bytes.f32(SAMPLE_RATE)?);
    let time_offset = 1.0e-12 * bytes.i64(TIME_OFFSET)? as f64;
    let coupling_ch12 = bytes.u8(COUPLING)?;
    let coupling_ch34 = bytes.u8(COUPLING + 1)?;
    let mut channels = Vec::new();
    for k in 0..4 {
        let ch = ChannelHeader::read(&bytes, CHANNELS + k * CHANNEL_SIZE)?;
        if !ch.enabled {
            continue;
        }
        let offset = (k as u64)
            .checked_mul(u64::from(points))
            .and_then(|o| usize::try_from(o).ok())
            .and_then(|o| o.checked_add(DATA))
            .unwrap_or(usize::MAX);
        let raw = sample_block(&bytes, offset, u64::from(points), 1)?;
        let volt_per_division = ch.volt_per_division();
        let volt_scale = volt_per_division / 25.0;
        let volt_offset = f64::from(ch.shift_measured) * volt_scale;
        let y_offset = volt_offset + 1.12 * volt_per_division;
        // Channel 1 and 3 use the high bits, 2 and 4 the low ones.
        let flags = if k < 2 { coupling_ch12 } else { coupling_ch34 };
        let mask = if k % 2 == 0 { 0xC0 } else { 0x0C };
        let coupling = if flags & mask == mask { "DC" } else { "AC" };
        let samples = volts_from_codes(raw, volt_scale, y_offset, 127.0);
        let start = start_linspace(time_offset, u64::from(points), seconds_per_point);
        channels.push(
            Channel::new(format!("CH{}", k + 1), samples, seconds_per_point, start)
                .with("coupling", coupling)
                .with("probe", ch.probe_value)
                .with("volts_per_div", volt_per_division)
                .with("vertical_offset", volt_offset)
                .with("inverted", ch.inverted),
        );
    }
    let model = if model.is_empty() {
        "DS1000B".to_owned()
    } else {
        model
    };
    traces(channels, &[("model", model), ("family", "DS1000B".into())])
}
