//! Siglent BIN: the binary waveform files of SDS oscilloscopes, revisions
//! V0.1 to V6.0 of Siglent's "How to Extract Data from the Binary File of
//! SIGLENT Oscilloscope", as RigolWFM describes them (Kaitai `siglent_*_bin`)
//! and converts them (`siglent.py`), which is the reference for the values.
//!
//! # Telling the revisions apart
//! The files have no magic number, and V0.1, V0.2 and V1.0 not even a
//! version word, so a file is taken as Siglent only when its extension is
//! `.bin` and its header is plausible for a revision, tried newest first
//! (RigolWFM's `detect_revision_from_bytes`):
//! - V6.0: `u4` 6 at 0, a file header of at least 108 bytes, at least one
//!   waveform record, and a model name;
//! - V5.0: `u4` 5 at 0 and plausible time fields at 0x1B68 and 0x1B78;
//! - V4.0: `u4` 4 at 0, a data offset of at least 0x1000, channel flags of 0
//!   or 1, plausible `time_div` and `sample_rate`, `data_width` and
//!   `byte_order` of 0 or 1;
//! - V3.0 (`u4` 3) and V2.0 (`u4` 2): the same tests at their offsets, V3.0
//!   also a grid of 1 to 20 divisions;
//! - V1.0, V0.2, V0.1 (no version word): channel flags of 0 or 1 and
//!   plausible `time_div` and `sample_rate` fields at their offsets.
//!
//! A value field is plausible when its value is finite and below 1e300 in
//! size, its SI-prefix index at most 16 and its unit code in range; every
//! revision also needs an enabled channel, a sample count, and a file long
//! enough for them. A file that passes every test but the sample count and
//! the length is read as the first such revision (and reported truncated or
//! empty), so that a damaged file says what is wrong rather than being
//! unknown. Siglent is tried after every format with a magic number, just
//! before CSV.
//!
//! The old SDS1000X/SDS2000X platform is not read: RigolWFM leaves its
//! scaling undefined (its constants differ between the two families).
//!
//! # Values
//! Each enabled analog channel is a trace `CH<n>` and each V4.0 math trace
//! `F<n>`; a V4.0 zoom save is its channel with the zoom window's time base.
//! Codes are unsigned, 128 or 32768 at 0 V; `scale` is `volt_div /
//! code_per_div` (25 codes a division before V3.0):
//! - V0.1 to V3.0 and V5.0: `(code − center) × scale + vert_offset`;
//! - V4.0: `((code − center) × scale − vert_offset) × probe`, math traces
//!   `(code − center) × scale − vert_pos`;
//! - V6.0: see [`v6`].
//!
//! RigolWFM rounds volts to `f32`; tracekit keeps `f64`, so the two agree
//! to within that rounding. The first sample is at `−time_div × 14 / 2`
//! (V0.1 to V2.0, V5.0; `time_delay` unused) or `−time_div × hori_div_num / 2
//! − time_delay` (V3.0, V4.0), the interval is `1 / sample_rate`. Digital
//! channels are not read. No revision stores the coupling; `probe` is given
//! where the file has the field.
//!
//! Beyond RigolWFM, which reads CH1 to CH4 only, V4.0's CH5 to CH8 are read
//! after CH1 to CH4 (the document's order of the channel blocks).

mod detect;
mod fixed;
mod v4;
mod v6;

use std::collections::BTreeMap;

use tracekit_core::{Trace, TraceMeta};

use self::detect::Revision;
use crate::{
    bytes::Bytes,
    error::{Result, bail},
    registry::{Format, Input},
};

/// Siglent BIN, revisions V0.1 to V6.0.
pub(crate) const FORMAT: Format = Format {
    name: "Siglent BIN",
    probe: |input| input.extension() == "bin" && detect::revision(input.data).is_some(),
    read,
};

/// Reads a file of any revision (see the module doc).
fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let Some(revision) = detect::revision(input.data) else {
        bail!("the header fits no Siglent BIN revision (V0.1 to V6.0)");
    };
    match fixed::layout(revision) {
        Some(layout) => fixed::read(input, layout),
        None => v6::read(input),
    }
}

/// The SI value of a value/unit field (16-byte value/unit or 40-byte
/// data-with-unit): `value × 10^(3 × (magnitude − 8))` (RigolWFM `_scaled_to_si`).
fn scaled(b: &Bytes<'_>, offset: usize, field: &str) -> Result<f64> {
    let value = b.f64(offset)?;
    let magnitude = b.u32(offset + 8)?;
    let si = value * 10f64.powf(3.0 * (f64::from(magnitude) - 8.0));
    if !si.is_finite() {
        bail!(
            "the header's {field} ({value} at SI prefix index {magnitude}) is not a finite number"
        );
    }
    Ok(si)
}

/// A trace of Siglent volts, with the vendor among its attributes.
fn trace(
    samples: Vec<f64>,
    channel: String,
    units: String,
    sample_rate: f64,
    start: f64,
    mut attributes: BTreeMap<String, String>,
) -> Result<Trace> {
    attributes.insert("vendor".into(), "Siglent".into());
    let meta = TraceMeta {
        sample_rate,
        start,
        channel,
        units,
        attributes,
        ..TraceMeta::default()
    };
    Ok(Trace::with_meta(samples, meta)?)
}
