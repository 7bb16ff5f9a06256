//! Which Siglent revision a file is, by the plausibility of its header
//! fields (the rule of RigolWFM's `siglent.detect_revision_from_bytes`).
//!
//! The revisions are tried newest first; each looks for its version word
//! (V2.0 on), enable flags that are 0 or 1, value/unit fields that hold a
//! finite value with a sane magnitude and unit code, an enabled channel, and
//! a sample count and payload large enough for it. A file that fails only
//! those last tests is taken, in a second pass, as a damaged file of the first
//! revision whose other tests it passes, so that reading it says what is wrong.

use super::fixed::{self, Data};
use crate::bytes::{Bytes, Order};

/// A Siglent BIN revision, as the published description names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Revision {
    /// "Binary Format V0.1": no version word, samples at 0x8A60.
    V0_1,
    /// "Binary Format V0.2": no version word, samples at 0x932C.
    V0_2,
    /// "Binary Format V1.0": no version word, 2 KiB header.
    V1,
    /// "Binary Format V2.0": version word 2, 8- or 16-bit samples.
    V2,
    /// "Binary Format V3.0": codes per division, byte order, grid size.
    V3,
    /// "Binary Format V4.0": 4 KiB header, data offset, math and zoom saves.
    V4,
    /// "Binary Format V5.0".
    V5,
    /// "Binary Format V6.0": a file header and self-describing waveform records.
    V6,
}

impl Revision {
    /// The revision as the documents write it: `"V4.0"`.
    pub(super) fn name(self) -> &'static str {
        match self {
            Revision::V0_1 => "V0.1",
            Revision::V0_2 => "V0.2",
            Revision::V1 => "V1.0",
            Revision::V2 => "V2.0",
            Revision::V3 => "V3.0",
            Revision::V4 => "V4.0",
            Revision::V5 => "V5.0",
            Revision::V6 => "V6.0",
        }
    }
}

/// The revision of `data` (the whole file), or `None` if it is not a Siglent BIN.
pub(super) fn revision(data: &[u8]) -> Option<Revision> {
    let head = Head(Bytes::new(data, Order::Little));
    head.detect(true).or_else(|| head.detect(false))
}

/// A file's header, read little-endian; fields beyond the file read as absent.
struct Head<'a>(Bytes<'a>);

impl Head<'_> {
    /// The file's length.
    fn len(&self) -> usize {
        self.0.len()
    }

    /// The `u4` at `offset`, if the file holds it.
    fn u32(&self, offset: usize) -> Option<u32> {
        self.0.u32(offset).ok()
    }

    /// The byte at `offset`, if the file holds it.
    fn u8(&self, offset: usize) -> Option<u8> {
        self.0.u8(offset).ok()
    }

    /// Every flag present and 0 or 1 (`_all_flags`).
    fn flags(&self, offsets: [usize; 4]) -> bool {
        offsets.iter().all(|&o| self.u32(o).is_some_and(|f| f <= 1))
    }

    /// The sum of the flags (absent ones count 0), as the payload test counts channels.
    fn enabled(&self, offsets: [usize; 4]) -> u64 {
        offsets
            .iter()
            .map(|&o| u64::from(self.u32(o).unwrap_or(0)))
            .sum()
    }

    /// An 8-byte float that is finite and below 1e300 in size, and a
    /// magnitude (SI prefix index) of at most 16.
    fn value_and_magnitude(&self, offset: usize) -> bool {
        let value = self.0.f64(offset).ok();
        value.is_some_and(|v| v.is_finite() && v.abs() < 1e300)
            && self.u32(offset + 8).is_some_and(|m| m <= 16)
    }

    /// A plausible 16-byte value/unit field (`_looks_like_scaled_value_16`).
    fn scaled16(&self, offset: usize) -> bool {
        self.0.slice(offset, 16).is_ok()
            && self.value_and_magnitude(offset)
            && self.u32(offset + 12).is_some_and(|u| u <= 23)
    }

    /// A plausible 40-byte data-with-unit field (`_looks_like_data_with_unit`).
    fn with_unit(&self, offset: usize) -> bool {
        self.0.slice(offset, 40).is_ok()
            && self.value_and_magnitude(offset)
            && self.u32(offset + 12).is_some_and(|u| u <= 12)
    }

    /// An enabled channel and (when `strict`) a sample count and a file long
    /// enough for them (`_min_payload_ok`).
    fn payload(
        &self,
        strict: bool,
        data_offset: u64,
        traces: u64,
        points: u64,
        width: u64,
    ) -> bool {
        if traces == 0 {
            return false;
        }
        if !strict {
            return true;
        }
        points > 0
            && traces
                .checked_mul(points)
                .and_then(|n| n.checked_mul(width))
                .and_then(|n| n.checked_add(data_offset))
                .is_some_and(|need| self.len() as u64 >= need)
    }

    /// Sample width from a data-width byte: 0 is 8-bit, anything else 16-bit.
    fn width(&self, offset: usize) -> u64 {
        if self.u8(offset) == Some(0) { 1 } else { 2 }
    }

    /// The first revision, newest first, that the file fits (`strict`: with its payload).
    fn detect(&self, strict: bool) -> Option<Revision> {
        const NEWEST_FIRST: [Revision; 8] = [
            Revision::V6,
            Revision::V5,
            Revision::V4,
            Revision::V3,
            Revision::V2,
            Revision::V1,
            Revision::V0_2,
            Revision::V0_1,
        ];
        NEWEST_FIRST.into_iter().find(|&r| self.fits(r, strict))
    }

    /// Whether the file fits `revision`'s tests.
    fn fits(&self, revision: Revision, strict: bool) -> bool {
        match revision {
            Revision::V6 => self.v6(),
            Revision::V5 => self.v5(strict),
            Revision::V4 => self.v4(strict),
            Revision::V3 => self.v3(strict),
            Revision::V2 => self.v2(strict),
            Revision::V1 => self.unversioned(revision, 0x11C, strict),
            Revision::V0_2 => self.unversioned(revision, 0xDEC, strict),
            Revision::V0_1 => self.unversioned(revision, 0xAB8, strict),
        }
    }

    /// Version 6, a file header of at least 108 bytes, waveforms, a model name.
    fn v6(&self) -> bool {
        let module = self.0.slice(0x08, 0x20).ok().map(|raw| {
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            raw[..end]
                .iter()
                .any(|b| b.is_ascii() && !b" \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f".contains(b))
        });
        self.len() >= 108
            && self.u32(0) == Some(6)
            && self.0.u16(4).is_ok_and(|n| n >= 108)
            && self.u32(0x68).is_some_and(|n| n > 0)
            && module == Some(true)
    }

    /// Version 5, plausible `time_div` and `time_delay`, channels and points.
    fn v5(&self, strict: bool) -> bool {
        let enabled = self.enabled([0x76, 0xF0, 0x194, 0x238]);
        let points = self.u32(0x1B88).unwrap_or(0);
        self.len() >= 0x1BA2
            && self.u32(0) == Some(5)
            && self.scaled16(0x1B68)
            && self.scaled16(0x1B78)
            && self.payload(strict, 0x800, enabled, u64::from(points), 1)
    }

    /// Version 4, a data offset past the 4 KiB header, flags, fields and payload.
    fn v4(&self, strict: bool) -> bool {
        if self.len() < 0x280 || self.u32(0) != Some(4) {
            return false;
        }
        let flags = [0x08, 0x0C, 0x10, 0x14];
        let enabled = self.enabled(flags);
        let data_offset = self.u32(0x04).unwrap_or(0);
        // A math (F1-F4) save clears every channel flag and gives its
        // length in `math_store_len` instead.
        let (traces, points) = if enabled > 0 {
            (enabled, u64::from(self.u32(0x1EC).unwrap_or(0)))
        } else {
            let math = (0..4)
                .filter(|i| self.u32(0x280 + 4 * i) == Some(1))
                .map(|i| u64::from(self.u32(0x3D0 + 4 * i).unwrap_or(0)))
                .sum();
            (1, math)
        };
        data_offset >= 0x1000
            && self.flags(flags)
            && self.with_unit(0x19C)
            && self.with_unit(0x1F0)
            && self.u8(0x264).is_some_and(|b| b <= 1)
            && self.u8(0x265).is_some_and(|b| b <= 1)
            && self.payload(
                strict,
                u64::from(data_offset),
                traces,
                points,
                self.width(0x264),
            )
    }

    /// Version 3, flags, fields, a grid of 1 to 20 divisions and payload.
    fn v3(&self, strict: bool) -> bool {
        let flags = [0x04, 0x08, 0x0C, 0x10];
        self.len() >= 0x280
            && self.u32(0) == Some(3)
            && self.flags(flags)
            && self.with_unit(0x198)
            && self.with_unit(0x1EC)
            && self.u8(0x260).is_some_and(|b| b <= 1)
            && self.u8(0x261).is_some_and(|b| b <= 1)
            && self.u32(0x268).is_some_and(|n| (1..=20).contains(&n))
            && self.payload(
                strict,
                0x800,
                self.enabled(flags),
                u64::from(self.u32(0x1E8).unwrap_or(0)),
                self.width(0x260),
            )
    }

    /// Version 2, flags, fields and payload.
    fn v2(&self, strict: bool) -> bool {
        let flags = [0x04, 0x08, 0x0C, 0x10];
        self.len() >= 0x261
            && self.u32(0) == Some(2)
            && self.flags(flags)
            && self.with_unit(0x198)
            && self.with_unit(0x1EC)
            && self.u8(0x260).is_some_and(|b| b <= 1)
            && self.payload(
                strict,
                0x800,
                self.enabled(flags),
                u64::from(self.u32(0x1E8).unwrap_or(0)),
                self.width(0x260),
            )
    }

    /// A revision without a version word (V1, V0.2, V0.1): a header of at
    /// least `min_len` bytes with its channel flags, plausible `time_div`
    /// and `sample_rate`, and payload, at the offsets the reader's layout
    /// gives.
    fn unversioned(&self, revision: Revision, min_len: usize, strict: bool) -> bool {
        let Some(layout) = fixed::layout(revision) else {
            return false;
        };
        let Data::At(data) = layout.data else {
            return false;
        };
        let flags = layout.banks[0].on;
        self.len() >= min_len
            && self.flags(flags)
            && self.scaled16(layout.time_div)
            && self.scaled16(layout.sample_rate)
            && self.payload(
                strict,
                data as u64,
                self.enabled(flags),
                u64::from(self.u32(layout.wave_length).unwrap_or(0)),
                1,
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_and_empty_files_are_not_siglent() {
        assert_eq!(revision(&[]), None);
        assert_eq!(revision(&[0u8; 0x9000]), None);
        let noise: Vec<u8> = (0..0x9000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(revision(&noise), None);
    }

    #[test]
    fn a_short_v1_payload_is_still_v1() {
        let mut data = vec![0u8; 0x800];
        data[0] = 1; // CH1 on
        data[0xF4] = 100; // 100 points, none stored
        assert_eq!(revision(&data), Some(Revision::V1));
        data[0] = 2; // a flag that is not 0 or 1
        assert_eq!(revision(&data), None);
    }
}
