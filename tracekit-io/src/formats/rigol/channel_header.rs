//! The 28-byte `channel_header` that the DS2000, DS4000 and DS6000 layouts
//! share (`ksy/wfm2000`, `wfm4000`, `wfm6000`): four of them follow each
//! other in the waveform header.

use crate::{bytes::Bytes, error::Result};

/// Size of one `channel_header`.
pub(super) const SIZE: usize = 28;

/// One `channel_header`, its fields as the Kaitai descriptions name them.
#[derive(Debug)]
pub(super) struct ChannelHeader {
    /// `enabled_val` / `enabled_temp` (u8 at 0).
    pub(super) enabled_val: u8,
    /// `coupling` (u8 at 1; DS2000: `coupling_raw`, its top two bits).
    pub(super) coupling: u8,
    /// `probe_ratio` (u8 at 4).
    pub(super) probe_ratio: u8,
    /// `probe_impedance` (u8 at 7).
    pub(super) probe_impedance: u8,
    /// `volt_per_division` (f32 at 8).
    pub(super) volt_per_division: f64,
    /// `volt_offset` (f32 at 12), V.
    pub(super) volt_offset: f64,
    /// `inverted_val` (u8 at 16; DS2000: `inverted_temp`).
    pub(super) byte16: u8,
    /// `unit` (u8 at 17; DS2000: `unit_temp`).
    pub(super) byte17: u8,
}

impl ChannelHeader {
    /// The `k`-th of the four headers that start at `at`.
    pub(super) fn read(bytes: &Bytes<'_>, at: usize, k: usize) -> Result<ChannelHeader> {
        let at = at + k * SIZE;
        Ok(ChannelHeader {
            enabled_val: bytes.u8(at)?,
            coupling: bytes.u8(at + 1)?,
            probe_ratio: bytes.u8(at + 4)?,
            probe_impedance: bytes.u8(at + 7)?,
            volt_per_division: f64::from(bytes.f32(at + 8)?),
            volt_offset: f64::from(bytes.f32(at + 12)?),
            byte16: bytes.u8(at + 16)?,
            byte17: bytes.u8(at + 17)?,
        })
    }

    /// `enabled`.
    pub(super) fn enabled(&self) -> bool {
        self.enabled_val != 0
    }
}
