//! DS6000 WFM (`ksy/wfm6000`, RigolWFM `rigol_6000_wfm`): the DS2000's
//! header layout (`WfmInfoStru`) without its interwoven mode. A channel is
//! saved when the header's channel mask has its bit and its
//! `channel_offset` is non-zero (the layout documents a zero offset as no
//! saved data); its `wfm_len` codes are at `channel_offset + z_pt_offset`.
//!
//! Volts: `volt_scale = ±volt_per_division / 25` (negative when inverted),
//! higher codes are higher voltages: `v = -volt_scale * (127 - code) -
//! volt_offset`. Time: `1 / sample_rate_hz` per point, the record of
//! `storage_depth` points centred on `time_offset_ps + z_pt_offset` points.

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

/// `header.model_number`: 20 bytes of text.
const MODEL: usize = 4;
/// `header.firmware_version`: 20 bytes of text.
const FIRMWARE: usize = 24;
/// `header.enabled.raw_mask` (u16): bit `k` for channel `k + 1`.
const ENABLED: usize = 64;
/// `header.channel_offset[0..4]` (u32 each).
const CHANNEL_OFFSET: usize = 68;
/// `header.sample_rate_hz` (f32).
const SAMPLE_RATE: usize = 96;
/// `header.time_offset_ps` (s64).
const TIME_OFFSET: usize = 112;
/// `header.ch[0]`.
const CHANNELS: usize = 120;
/// `header.storage_depth` (u32).
const STORAGE_DEPTH: usize = 244;
/// `header.z_pt_offset` (u32).
const Z_PT_OFFSET: usize = 248;
/// `header.wfm_len` (u32): points per channel.
const WFM_LEN: usize = 252;

/// Every saved channel of a DS6000 file.
pub(super) fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let bytes = Bytes::new(input.data, Order::Little);
    let model_number = bytes.text(MODEL, 20)?;
    let firmware = bytes.text(FIRMWARE, 20)?;
    let mask = bytes.u16(ENABLED)?;
    let wfm_len = bytes.u32(WFM_LEN)?;
    require_points(u64::from(wfm_len), "each channel")?;
    input.check_samples(u64::from(wfm_len))?;
    let z_pt_offset = bytes.u32(Z_PT_OFFSET)?;
    let storage_depth = bytes.u32(STORAGE_DEPTH)?;
    let seconds_per_point = 1.0 / f64::from(bytes.f32(SAMPLE_RATE)?);
    let time_offset =
        1.0e-12 * bytes.i64(TIME_OFFSET)? as f64 + f64::from(z_pt_offset) * seconds_per_point;
    let start = start_sample_aligned(time_offset, u64::from(storage_depth), seconds_per_point);
    let mut channels = Vec::new();
    for k in 0..4 {
        let channel_offset = bytes.u32(CHANNEL_OFFSET + 4 * k)?;
        if mask >> k & 1 == 0 || channel_offset == 0 {
            continue;
        }
        let ch = ChannelHeader::read(&bytes, CHANNELS, k)?;
        let at = u64::from(channel_offset) + u64::from(z_pt_offset);
        let at = usize::try_from(at).unwrap_or(usize::MAX);
        let raw = sample_block(&bytes, at, u64::from(wfm_len), 1)?;
        let inverted = ch.byte16 != 0;
        let volt_signed = if inverted {
            -ch.volt_per_division
        } else {
            ch.volt_per_division
        };
        let volt_scale = volt_signed / 25.0;
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
            ("model", model_number),
            ("firmware", firmware),
            ("family", "DS6000".into()),
        ],
    )
}
