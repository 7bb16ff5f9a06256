//! Rigol WFM and BIN, every family: the layouts of the Kaitai descriptions
//! of RigolWFM (`ksy/rigol_*`), values as RigolWFM 1.6.0 computes them.
//!
//! # Telling the families apart
//!
//! A WFM file is recognised by its first four bytes:
//!
//! | bytes 0..4    | family |
//! |---------------|--------|
//! | `A5 A5 A4 01` | DS1000B ([`ds1000b`]) |
//! | `A1 A5 00 00` | DS1000C ([`ds1000c`]) |
//! | `A5 A5 00 00` | DS1000C, DS1000D or DS1000E: by size, below |
//! | `01 FF FF FF` | DS1000Z / MSO1000Z ([`ds1000z`]) |
//! | `A5 A5 38 00` | DS2000, DS4000 or DS6000: by the text at offset 4 ([`ds2000`], [`ds4000`], [`ds6000`]) |
//! | `02 00 00 00` | DHO800 / DHO1000, only with the extension `.wfm` (or none): four bytes this common are not enough on their own ([`dho`]) |
//!
//! DS1000C, D and E files may share the magic `A5 A5 00 00`, and their
//! content does not say which they are; the size does, as RigolWFM decides
//! (`detect_model`). With `points` the u32 at offset 28 and `n` the number of
//! enabled channels (bytes 49 and 73 non-zero):
//!
//! - size `256 + n * points`: DS1000C, samples at 256 (RigolWFM itself
//!   would look for them at 272 and fail: the size says there is no padding);
//! - size `272 + n * points`: DS1000C with its 16-byte padding block;
//! - anything else (normally `276 + n * points`): the DS1000E layout, which
//!   DS1000D files share sample for sample (RigolWFM reads both with the same
//!   parser and the same conversion). A DS1000D file whose logic analyser is
//!   off cannot be told from a DS1000E one: its `model` reads `DS1000E`.
//!
//! A BIN file starts with the cookie `RG` and a two-digit version ([`bin`]):
//! `RG01` is the MSO5000 / MSO7000 / MSO8000 layout, `RG03` the DHO800 /
//! DHO1000 one.
//!
//! # Channels and values
//!
//! One trace per enabled channel, named `CH1`..`CH4` (RigolWFM's `CH 1`
//! without the space), samples in volts (or the channel's unit) from the
//! series' own formula, and the time base from the header: `sample_rate` is
//! `1 / seconds_per_point` and `start` is RigolWFM's `times[0]`. Every trace
//! carries `vendor` = `Rigol` and, where the file says them, `model`,
//! `serial`, `firmware`, `coupling`, `probe`, `volts_per_div`,
//! `vertical_offset` (as RigolWFM reports them: `volt_per_division`,
//! `volt_offset`, `probe_value`).

mod bin;
mod channel_header;
mod common;
mod dho;
mod ds1000b;
mod ds1000c;
mod ds1000e;
mod ds1000z;
mod ds1000z_logic;
mod ds2000;
mod ds4000;
mod ds6000;
mod inflate;

use tracekit_core::Trace;

use crate::{
    bytes::{Bytes, Order},
    error::{Result, bail},
    registry::{Format, Input},
};

/// Rigol WFM: DS1000B/C/D/E, DS1000Z, DS2000, DS4000, DS6000, DHO800/1000.
pub(crate) const WFM: Format = Format {
    name: "Rigol WFM",
    probe: |input| family(input).is_some(),
    read: read_wfm,
};

/// Rigol BIN: the `RG` container of the MSO5000/7000/8000 and DHO800/1000.
pub(crate) const BIN: Format = Format {
    name: "Rigol BIN",
    probe: |input| bin::probe(input.data),
    read: bin::read,
};

/// The WFM layouts, as told apart in the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// DS1000B (`wfm1000b`).
    Ds1000b,
    /// DS1000C (`wfm1000c`).
    Ds1000c {
        /// Where its samples start: 256, or 272 after the padding block.
        data_offset: usize,
    },
    /// DS1000D and DS1000E (`wfm1000e`).
    Ds1000e,
    /// DS1000Z and MSO1000Z (`wfm1000z`).
    Ds1000z,
    /// DS2000 (`wfm2000`).
    Ds2000,
    /// DS4000 (`wfm4000`).
    Ds4000,
    /// DS6000 (`wfm6000`).
    Ds6000,
    /// DHO800 and DHO1000 (`wfmdho1000`).
    Dho,
}

/// The family of a WFM file, or `None` when it is not one.
fn family(input: &Input<'_>) -> Option<Family> {
    let data = input.data;
    let magic = data.get(..4)?;
    Some(match magic {
        [0xA5, 0xA5, 0xA4, 0x01] => Family::Ds1000b,
        [0xA1, 0xA5, 0x00, 0x00] => Family::Ds1000c {
            data_offset: ds1000c::DATA_OFFSET,
        },
        [0xA5, 0xA5, 0x00, 0x00] => by_size(data),
        [0x01, 0xFF, 0xFF, 0xFF] => Family::Ds1000z,
        [0xA5, 0xA5, 0x38, 0x00] => {
            // The model text at offset 4, up to its NUL (RigolWFM `detect_model`).
            let text = data.get(4..24).unwrap_or(&data[4..]);
            let text = &text[..text.iter().position(|&b| b == 0).unwrap_or(text.len())];
            if text.starts_with(b"DS4") || text.starts_with(b"MSO4") {
                Family::Ds4000
            } else if text.starts_with(b"DS6") || text.starts_with(b"MSO6") {
                Family::Ds6000
            } else {
                Family::Ds2000
            }
        }
        [0x02, 0x00, 0x00, 0x00] if matches!(input.extension().as_str(), "wfm" | "") => Family::Dho,
        _ => return None,
    })
}

/// DS1000C or DS1000D/E for the shared magic `A5 A5 00 00`, by the file size.
fn by_size(data: &[u8]) -> Family {
    let bytes = Bytes::new(data, Order::Little);
    let (Ok(points), Ok(ch1), Ok(ch2)) = (bytes.u32(28), bytes.u8(49), bytes.u8(73)) else {
        return Family::Ds1000e;
    };
    let channels = u64::from(ch1 != 0) + u64::from(ch2 != 0);
    if points == 0 || channels == 0 {
        return Family::Ds1000e;
    }
    let samples = channels * u64::from(points);
    let size = data.len() as u64;
    if size == 256 + samples {
        Family::Ds1000c { data_offset: 256 }
    } else if size == 272 + samples {
        Family::Ds1000c { data_offset: 272 }
    } else {
        Family::Ds1000e
    }
}

/// Reads a WFM file with the reader of its family.
fn read_wfm(input: &Input<'_>) -> Result<Vec<Trace>> {
    let Some(family) = family(input) else {
        bail!("not a Rigol WFM file");
    };
    match family {
        Family::Ds1000b => ds1000b::read(input),
        Family::Ds1000c { data_offset } => ds1000c::read(input, data_offset),
        Family::Ds1000e => ds1000e::read(input),
        Family::Ds1000z => ds1000z::read(input),
        Family::Ds2000 => ds2000::read(input),
        Family::Ds4000 => ds4000::read(input),
        Family::Ds6000 => ds6000::read(input),
        Family::Dho => dho::read(input),
    }
}
