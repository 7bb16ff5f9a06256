//! DS2000 / MSO2000 WFM (`ksy/wfm2000`, RigolWFM `rigol_2000_wfm`, after
//! Rigol's "WFM save format: Secretary Bird"): a waveform header with four
//! `channel_header`s, each channel's 8-bit codes at its `channel_offset`
//! plus `z_pt_offset`.
//!
//! An interwoven capture (`enabled.interwoven`) spreads one channel over the
//! memory of two: its codes alternate between the blocks of channel 1 and 2,
//! `wfm_len / 2` each. An enabled channel whose `channel_offset` is 0 has no
//! block and is left out (RigolWFM fails on such a file).
//!
//! Volts: `volt_scale = ±volt_per_division / 25` (negative when inverted)
//! and the higher-code-is-higher-voltage convention of the DS2000/4000/6000:
//! `v = -volt_scale * (127 - code) - volt_offset`. Time: `1 /
//! sample_rate_hz` per point; the record of `storage_depth` points is
//! centred on `time_offset_ps + z_pt_offset` points (RigolWFM takes the time
//! offset as 0 for model `DS2A…` with firmware `00.03.00.01.03`, whose
//! captures store an offset their screens do not show).
//!
//! Some DS2072A firmware stores the unit before the inversion flag and zeroes
//! the probe fields; RigolWFM tells the two orders apart by `enabled_temp`
//! (1 is the documented order) and so does this reader.

use tracekit_core::Trace;

use super::{
    channel_header::ChannelHeader,
    common::{
        Channel, probe_ratio, require_points, start_sample_aligned, traces, volts_from_codes,
        wfm_unit,
    },
};
use crate::{
    bytes::{Bytes, Order, sample_block},
    error::{Result, bail},
    registry::Input,
};

/// `header.model_number`: 20 bytes of text (the serial number, in fact).
const MODEL: usize = 4;
/// `header.firmware_version`: 20 bytes of text.
const FIRMWARE: usize = 24;
/// `header.enabled`: the byte after the channel bits has `interwoven` in bit 0.
const INTERWOVEN: usize = 65;
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

/// The `len` codes at `channel_offset + z_pt_offset`.
fn block<'a>(
    bytes: &Bytes<'a>,
    channel_offset: u32,
    z_pt_offset: u32,
    len: u64,
) -> Result<&'a [u8]> {
    let at = u64::from(channel_offset) + u64::from(z_pt_offset);
    sample_block(bytes, usize::try_from(at).unwrap_or(usize::MAX), len, 1)
}

/// Every saved channel of a DS2000 file.
pub(super) fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let bytes = Bytes::new(input.data, Order::Little);
    let model_number = bytes.text(MODEL, 20)?;
    let firmware = bytes.text(FIRMWARE, 20)?;
    let interwoven = bytes.u8(INTERWOVEN)? & 1 != 0;
    let wfm_len = bytes.u32(WFM_LEN)?;
    require_points(u64::from(wfm_len), "each channel")?;
    input.check_samples(u64::from(wfm_len))?;
    let z_pt_offset = bytes.u32(Z_PT_OFFSET)?;
    let storage_depth = bytes.u32(STORAGE_DEPTH)?;
    let seconds_per_point = 1.0 / f64::from(bytes.f32(SAMPLE_RATE)?);
    let time_offset = if model_number.starts_with("DS2A") && firmware == "00.03.00.01.03" {
        0.0
    } else {
        1.0e-12 * bytes.i64(TIME_OFFSET)? as f64
    };
    let time_offset = time_offset + f64::from(z_pt_offset) * seconds_per_point;
    let start = start_sample_aligned(time_offset, u64::from(storage_depth), seconds_per_point);
    let offsets: Vec<u32> = (0..4)
        .map(|k| bytes.u32(CHANNEL_OFFSET + 4 * k))
        .collect::<Result<_>>()?;
    let mut channels = Vec::new();
    for k in 0..4 {
        let ch = ChannelHeader::read(&bytes, CHANNELS, k)?;
        if !ch.enabled() {
            continue;
        }
        let owned;
        let raw: &[u8] = if interwoven {
            let half = u64::from(wfm_len / 2);
            if offsets[0] == 0 || offsets[1] == 0 {
                bail!(
                    "interwoven capture without both halves: channel offsets {} and {}",
                    offsets[0],
                    offsets[1]
                );
            }
            let a = block(&bytes, offsets[0], z_pt_offset, half)?;
            let b = block(&bytes, offsets[1], z_pt_offset, half)?;
            owned = a
                .iter()
                .zip(b)
                .flat_map(|(x, y)| [*x, *y])
                .collect::<Vec<u8>>();
            &owned
        } else if offsets[k] == 0 {
            // No block saved for this channel.
            continue;
        } else {
            block(&bytes, offsets[k], z_pt_offset, u64::from(wfm_len))?
        };
        // `legacy_vertical_layout`: which of bytes 16 and 17 is the inversion flag.
        let legacy = ch.enabled_val == 1;
        let (inverted, unit) = if legacy {
            (ch.byte16 == 1, ch.byte17)
        } else {
            (ch.byte17 == 1, ch.byte16)
        };
        let ratio = if !legacy && ch.probe_ratio == 0 && ch.probe_impedance == 0 {
            6 // x1: zeroed probe fields
        } else {
            ch.probe_ratio
        };
        let volt_signed = if inverted {
            -ch.volt_per_division
        } else {
            ch.volt_per_division
        };
        let volt_scale = volt_signed / 25.0;
        let samples = volts_from_codes(raw, -volt_scale, ch.volt_offset, 127.0);
        let coupling = match ch.coupling >> 6 {
            0 => "DC",
            1 => "AC",
            _ => "GND",
        };
        let mut channel = Channel::new(format!("CH{}", k + 1), samples, seconds_per_point, start)
            .with("coupling", coupling)
            .with("probe", probe_ratio(ratio))
            .with("volts_per_div", ch.volt_per_division)
            .with("vertical_offset", ch.volt_offset)
            .with("inverted", inverted);
        channel.units = wfm_unit(unit).into();
        channels.push(channel);
    }
    traces(
        channels,
        &[
            ("model", "DS2000".into()),
            ("serial", model_number),
            ("firmware", firmware),
            ("family", "DS2000".into()),
        ],
    )
}
