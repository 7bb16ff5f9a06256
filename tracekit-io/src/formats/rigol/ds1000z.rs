//! DS1000Z / MSO1000Z WFM (`ksy/wfm1000z`, RigolWFM `rigol_1000z_wfm`, after
//! Rigol's "DS1000Z Waveform Storage Structure"): a 64-byte file header
//! (model, firmware), the waveform header at 64, a horizontal block, then the
//! codes of every enabled channel interleaved, `stride` bytes a point.
//!
//! `stride` is the number of enabled channels (1, 2 or 4; three channels
//! take 4 lanes). With two, the first enabled channel is in the odd bytes;
//! with four lanes, channel `n` is in lane `4 - n`.
//!
//! Volts: `volt_per_division = ±scale` (negative when inverted),
//! `y_scale = -volt_per_division / 20`, `y_offset = shift - bias` with a bias
//! of one division (firmware `00.04.04.SP3` with two channels: a fifth of a
//! division for negative shifts, none otherwise, as RigolWFM calibrated it):
//! `v = y_scale * (127 - code) - y_offset`. Time: `1 / (sample_rate_ghz *
//! 1e9)` per point, the record centred on `picoseconds_offset`.
//!
//! MSO captures with the logic analyser on store logic bytes in some lanes;
//! RigolWFM recognises them by their values ([`super::ds1000z_logic`]), and
//! so does this reader: their bits become traces `D0`..`D15`.

use std::borrow::Cow;

use tracekit_core::Trace;

use super::{
    common::{
        Channel, coupling, probe_ratio, require_points, start_sample_aligned, traces,
        volts_from_codes, wfm_unit,
    },
    ds1000z_logic::{self, Split},
};
use crate::{
    bytes::{Bytes, Order},
    error::{Result, bail},
    registry::Input,
};

/// `preheader.model_number`: 20 bytes of text.
const MODEL: usize = 8;
/// `preheader.firmware_version`: 20 bytes of text.
const FIRMWARE: usize = 28;
/// `header` (`wfm_header`).
const HEADER: usize = 64;
/// `wfm_header.picoseconds_offset` (s64).
const PS_OFFSET: usize = HEADER + 8;
/// The byte with `ch4_enabled` .. `ch1_enabled` in its low four bits.
const ENABLED: usize = HEADER + 24;
/// `wfm_header.memory_depth` (u32): points times stride.
const MEMORY_DEPTH: usize = HEADER + 52;
/// `wfm_header.sample_rate_ghz` (f32).
const SAMPLE_RATE: usize = HEADER + 56;
/// `wfm_header.ch[0]`; four `channel_head`s of 28 bytes follow.
const CHANNELS: usize = HEADER + 60;
/// Size of one `channel_head`.
const CHANNEL_SIZE: usize = 28;
/// `wfm_header.horizontal_size` (u32), then `horizontal_offset`: the codes
/// follow the horizontal block.
const HORIZONTAL_SIZE: usize = HEADER + 192;
/// `wfm_header.horizontal_offset` (u32).
const HORIZONTAL_OFFSET: usize = HEADER + 196;

/// One `channel_head` (offsets within it).
struct ChannelHead {
    /// `coupling` (u8 at 1).
    coupling: u8,
    /// `probe_ratio` (u8 at 4).
    probe_ratio: u8,
    /// `scale` (f32 at 8), V per division.
    scale: f64,
    /// `shift` (f32 at 12), V.
    shift: f64,
    /// `inverted_val` (u8 at 16) non-zero.
    inverted: bool,
    /// `unit` (u8 at 17).
    unit: u8,
}

impl ChannelHead {
    /// The `channel_head` at `at`.
    fn read(bytes: &Bytes<'_>, at: usize) -> Result<ChannelHead> {
        Ok(ChannelHead {
            coupling: bytes.u8(at + 1)?,
            probe_ratio: bytes.u8(at + 4)?,
            scale: f64::from(bytes.f32(at + 8)?),
            shift: f64::from(bytes.f32(at + 12)?),
            inverted: bytes.u8(at + 16)? != 0,
            unit: bytes.u8(at + 17)?,
        })
    }
}

/// Every enabled channel (and logic line) of a DS1000Z or MSO1000Z file.
pub(super) fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let bytes = Bytes::new(input.data, Order::Little);
    let model = bytes.text(MODEL, 20)?;
    let firmware = bytes.text(FIRMWARE, 20)?;
    let mask = bytes.u8(ENABLED)?;
    let enabled: Vec<bool> = (0..4).map(|k| mask >> k & 1 != 0).collect();
    let enabled_count = enabled.iter().filter(|&&e| e).count();
    // `total_channels` and `stride`.
    let total_channels = enabled_count.max(1);
    let stride = if total_channels == 3 {
        4
    } else {
        total_channels
    };
    let memory_depth = bytes.u32(MEMORY_DEPTH)?;
    let points = u64::from(memory_depth) / stride as u64;
    require_points(points, "each channel")?;
    input.check_samples(points)?;
    let data_offset =
        u64::from(bytes.u32(HORIZONTAL_OFFSET)?) + u64::from(bytes.u32(HORIZONTAL_SIZE)?);
    let len = points * stride as u64;
    let raw = usize::try_from(data_offset)
        .ok()
        .and_then(|at| bytes.slice(at, usize::try_from(len).ok()?).ok());
    let Some(raw) = raw else {
        bail!(
            "truncated: header says {points} points of {stride} bytes at offset {data_offset}, \
             file holds {} bytes",
            bytes.len()
        );
    };
    let seconds_per_point = 1.0 / (f64::from(bytes.f32(SAMPLE_RATE)?) * 1e9);
    let time_offset = bytes.i64(PS_OFFSET)? as f64 * 1e-12;
    let split = ds1000z_logic::split(raw, enabled_count);
    let mut channels = Vec::new();
    for (k, _) in enabled.iter().enumerate().filter(|(_, e)| **e) {
        let ch = ChannelHead::read(&bytes, CHANNELS + k * CHANNEL_SIZE)?;
        let lane: Cow<'_, [u8]> = match &split {
            Some(Split {
                analog: Some(analog),
                ..
            }) => Cow::Borrowed(analog),
            _ if stride == 1 => Cow::Borrowed(raw),
            _ => {
                // `_channel_bytes`: which lane of the interleaved codes.
                let lane = match stride {
                    2 if !enabled[..k].iter().any(|&e| e) => 1,
                    4 => 3 - k,
                    _ => 0,
                };
                Cow::Owned(raw.iter().skip(lane).step_by(stride).copied().collect())
            }
        };
        let volt_per_division = if ch.inverted { -ch.scale } else { ch.scale };
        let y_scale = -volt_per_division / 20.0;
        let bias = if firmware == "00.04.04.SP3" && total_channels == 2 {
            if ch.shift < 0.0 {
                volt_per_division / 5.0
            } else {
                0.0
            }
        } else {
            volt_per_division
        };
        let y_offset = ch.shift - bias;
        let samples = volts_from_codes(&lane, y_scale, y_offset, 127.0);
        let start = start_sample_aligned(time_offset, lane.len() as u64, seconds_per_point);
        let mut channel = Channel::new(format!("CH{}", k + 1), samples, seconds_per_point, start)
            .with_some("coupling", coupling(ch.coupling))
            .with("probe", probe_ratio(ch.probe_ratio))
            .with("volts_per_div", volt_per_division)
            .with("vertical_offset", ch.shift)
            .with("inverted", ch.inverted);
        channel.units = wfm_unit(ch.unit).into();
        channels.push(channel);
    }
    if let Some(split) = &split {
        channels.extend(ds1000z_logic::traces(split, time_offset, seconds_per_point));
    }
    if channels.is_empty() {
        bail!("no channel is enabled (channel mask {mask:#04x})");
    }
    traces(
        channels,
        &[
            ("model", model),
            ("firmware", firmware),
            ("family", "DS1000Z".into()),
        ],
    )
}
