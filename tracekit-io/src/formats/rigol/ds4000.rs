//! DS4000 / MSO4000 WFM (`ksy/wfm4000`, RigolWFM `rigol_4000_wfm`,
//! reverse-engineered): a waveform header with four `channel_header`s and a
//! time header, each enabled channel's `mem_depth` codes at its `position`.
//!
//! Volts: `volt_scale = ±volt_per_division / 25` when the third character
//! of the header's model text is `2`, else `/ 32` (negative when inverted),
//! and higher codes are higher voltages:
//! `v = -volt_scale * (127 - code) - volt_offset`. Time: `1 /
//! sample_rate_hz` per point, the record of `mem_depth` points centred on
//! the time header's `actual_offset_ps`.
//!
//! A channel is read when its header says enabled and the channel mask has
//! its bit; one whose header says enabled without the bit has no block and
//! is left out (RigolWFM fails on such a file).

use tracekit_core::Trace;

use super::{
    channel_header::ChannelHeader,
    common::{
        Channel, coupling, probe_ratio, require_points, start_sample_aligned, traces,
        volts_from_codes, wfm_unit,
    },
};
use crate::{
    bytes::{Bytes, Order, sample_block},
    error::Result,
    registry::Input,
};

/// `header.model_number`: 20 bytes of text (the serial number, in fact).
const MODEL: usize = 4;
/// `header.firmware_version`: 20 bytes of text.
const FIRMWARE: usize = 24;
/// `header.enabled`: `channel_4` .. `channel_1` in the low four bits.
const ENABLED: usize = 64;
/// `header.position.channel_1` .. `channel_4` (u32 each): where the codes are.
const POSITION: usize = 68;
/// `header.sample_rate_hz` (f32).
const SAMPLE_RATE: usize = 100;
/// `header.ch[0]`.
const CHANNELS: usize = 124;
/// `header.mem_depth` (u32): points per channel.
const MEM_DEPTH: usize = 268;
/// `header.time.actual_offset_ps` (s64; the time header starts at 528).
const ACTUAL_OFFSET: usize = 568;

/// Every saved channel of a DS4000 file.
pub(super) fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let bytes = Bytes::new(input.data, Order::Little);
    let model_number = bytes.text(MODEL, 20)?;
    let firmware = bytes.text(FIRMWARE, 20)?;
    let mask = bytes.u8(ENABLED)?;
    let mem_depth = bytes.u32(MEM_DEPTH)?;
    require_points(u64::from(mem_depth), "each channel")?;
    input.check_samples(u64::from(mem_depth))?;
    let seconds_per_point = 1.0 / f64::from(bytes.f32(SAMPLE_RATE)?);
    let time_offset = 1.0e-12 * bytes.i64(ACTUAL_OFFSET)? as f64;
    let start = start_sample_aligned(time_offset, u64::from(mem_depth), seconds_per_point);
    // `vertical_scale_factor`.
    let text = bytes.slice(MODEL, 20)?;
    let text = &text[..text.iter().position(|&b| b == 0).unwrap_or(text.len())];
    let divisions = if text.get(2) == Some(&b'2') {
        25.0
    } else {
        32.0
    };
    let mut channels = Vec::new();
    for k in 0..4 {
        let ch = ChannelHeader::read(&bytes, CHANNELS, k)?;
        // A channel is saved when its header says enabled and the mask has its bit.
        if !ch.enabled() || mask >> k & 1 == 0 {
            continue;
        }
        let position = bytes.u32(POSITION + 4 * k)?;
        let at = usize::try_from(position).unwrap_or(usize::MAX);
        let raw = sample_block(&bytes, at, u64::from(mem_depth), 1)?;
        let inverted = ch.byte16 != 0;
        let volt_signed = if inverted {
            -ch.volt_per_division
        } else {
            ch.volt_per_division
        };
        let volt_scale = volt_signed / divisions;
        let samples = volts_from_codes(raw, -volt_scale, ch.volt_offset, 127.0);
        let mut channel = Channel::new(format!("CH{}", k + 1), samples, seconds_per_point, start)
            .with_some("coupling", coupling(ch.coupling))
            .with("probe", probe_ratio(ch.probe_ratio))
            .with("volts_per_div", ch.volt_per_division)
            .with("vertical_offset", ch.volt_offset)
            .with("inverted", inverted);
        channel.units = wfm_unit(ch.byte17).into();
        channels.push(channel);
    }
    traces(
        channels,
        &[
            ("model", "DS4000".into()),
            ("serial", model_number),
            ("firmware", firmware),
            ("family", "DS4000".into()),
        ],
    )
}
