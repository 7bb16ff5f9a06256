//! The fixed-header revisions V0.1 to V5.0: header fields at fixed offsets,
//! then the samples of each enabled channel in turn (then, in V4.0, the math
//! traces).
//!
//! Field names and offsets are those of RigolWFM's Kaitai descriptions
//! `siglent_v0_1_bin` ... `siglent_v5_bin` (after Siglent's "How to Extract
//! Data from the Binary File of SIGLENT Oscilloscope"); the conversions are
//! those of RigolWFM's `siglent.py` (`_normalize_v*`, `_normalized_waveform`).

use std::collections::BTreeMap;

use tracekit_core::Trace;

use super::{Revision, scaled, trace, v4};
use crate::{
    bytes::{Bytes, Order},
    convert::{ByteOrder, SampleType, decode},
    error::{Result, bail},
    registry::Input,
};

/// Offsets of four channels' fields spaced `step` bytes apart.
const fn every(first: usize, step: usize) -> [usize; 4] {
    [first, first + step, first + 2 * step, first + 3 * step]
}

/// The fields of four analog channels.
#[derive(Debug)]
pub(super) struct Bank {
    /// The number of the bank's first channel (CH1 or CH5).
    pub(super) first: usize,
    /// `chN_on` (s4): nonzero when the channel is saved.
    pub(super) on: [usize; 4],
    /// `chN_volt_div`: V/div, a value/unit field.
    pub(super) volt_div: [usize; 4],
    /// `chN_vert_offset`: vertical offset (V), a value/unit field.
    pub(super) vert_offset: [usize; 4],
    /// `ch_probe` (4 × f8): probe attenuation; 1 where absent.
    pub(super) probe: Option<usize>,
    /// `ch_vert_code_per_div` (4 × s4): ADC codes per division; 25 where absent.
    pub(super) code_per_div: Option<usize>,
}

/// Where one fixed-header revision keeps its fields.
#[derive(Debug)]
pub(super) struct Layout {
    /// The revision this layout describes.
    pub(super) revision: Revision,
    /// The analog channel banks (CH1-CH4, and in V4.0 CH5-CH8).
    pub(super) banks: &'static [Bank],
    /// `time_div`: s/div, a value/unit field.
    pub(super) time_div: usize,
    /// `time_delay`: trigger delay (s), a value/unit field.
    pub(super) time_delay: usize,
    /// `wave_length` (u4): samples per channel.
    pub(super) wave_length: usize,
    /// `sample_rate`: Sa/s, a value/unit field.
    pub(super) sample_rate: usize,
    /// Where the samples start: a fixed offset, or the `data_offset_byte` field.
    pub(super) data: Data,
    /// `data_width` (u1): 0 for 8-bit samples, else 16-bit; 8-bit where absent.
    pub(super) data_width: Option<usize>,
    /// `byte_order` (u1): 0 little-endian, else big; little where absent.
    pub(super) byte_order: Option<usize>,
    /// `hori_div_num` (s4): horizontal divisions. Where absent the record
    /// spans 14 divisions centred on the trigger and `time_delay` is not
    /// applied (as RigolWFM reads these revisions).
    pub(super) hori_div_num: Option<usize>,
}

/// Where a revision's samples start.
#[derive(Debug)]
pub(super) enum Data {
    /// At this offset.
    At(usize),
    /// At the offset the `u4` at this offset gives (`data_offset_byte`).
    Field(usize),
}

/// Binary Format V0.1 (`siglent_v0_1_bin`).
const V0_1: Layout = Layout {
    revision: Revision::V0_1,
    banks: &[Bank {
        first: 1,
        on: [0x44, 0xC0, 0x13C, 0x1B8],
        volt_div: [0x90, 0x10C, 0x188, 0x204],
        vert_offset: [0xA0, 0x11C, 0x198, 0x214],
        probe: None,
        code_per_div: None,
    }],
    time_div: 0xA84,
    time_delay: 0xA94,
    wave_length: 0xAA4,
    sample_rate: 0xAA8,
    data: Data::At(0x8A60),
    data_width: None,
    byte_order: None,
    hori_div_num: None,
};

/// Binary Format V0.2 (`siglent_v0_2_bin`).
const V0_2: Layout = Layout {
    revision: Revision::V0_2,
    banks: &[Bank {
        first: 1,
        on: [0x44, 0xE8, 0x18C, 0x230],
        volt_div: [0xB4, 0x158, 0x1FC, 0x2A0],
        vert_offset: [0xC4, 0x168, 0x20C, 0x2B0],
        probe: None,
        code_per_div: None,
    }],
    time_div: 0xDB8,
    time_delay: 0xDC8,
    wave_length: 0xDD8,
    sample_rate: 0xDDC,
    data: Data::At(0x932C),
    data_width: None,
    byte_order: None,
    hori_div_num: None,
};

/// Binary Format V1.0 (`siglent_v1_bin`): 16-byte value/unit fields.
const V1: Layout = Layout {
    revision: Revision::V1,
    banks: &[Bank {
        first: 1,
        on: every(0x00, 4),
        volt_div: every(0x10, 16),
        vert_offset: every(0x50, 16),
        probe: None,
        code_per_div: None,
    }],
    time_div: 0xD4,
    time_delay: 0xE4,
    wave_length: 0xF4,
    sample_rate: 0xF8,
    data: Data::At(0x800),
    data_width: None,
    byte_order: None,
    hori_div_num: None,
};

/// The channel bank of V2.0 and V3.0: 40-byte data-with-unit fields.
const V2_BANK: Bank = Bank {
    first: 1,
    on: every(0x04, 4),
    volt_div: every(0x14, 40),
    vert_offset: every(0xB4, 40),
    probe: Some(0x240),
    code_per_div: None,
};

/// Binary Format V2.0 (`siglent_v2_bin`).
const V2: Layout = Layout {
    revision: Revision::V2,
    banks: &[V2_BANK],
    time_div: 0x198,
    time_delay: 0x1C0,
    wave_length: 0x1E8,
    sample_rate: 0x1EC,
    data: Data::At(0x800),
    data_width: Some(0x260),
    byte_order: None,
    hori_div_num: None,
};

/// Binary Format V3.0 (`siglent_v3_bin`).
const V3: Layout = Layout {
    revision: Revision::V3,
    banks: &[Bank {
        code_per_div: Some(0x26C),
        ..V2_BANK
    }],
    time_div: 0x198,
    time_delay: 0x1C0,
    wave_length: 0x1E8,
    sample_rate: 0x1EC,
    data: Data::At(0x800),
    data_width: Some(0x260),
    byte_order: Some(0x261),
    hori_div_num: Some(0x268),
};

/// Binary Format V4.0 (`siglent_v4_bin`): CH1-CH4 and CH5-CH8 banks.
const V4: Layout = Layout {
    revision: Revision::V4,
    banks: &[
        Bank {
            first: 1,
            on: every(0x08, 4),
            volt_div: every(0x18, 40),
            vert_offset: every(0xB8, 40),
            probe: Some(0x244),
            code_per_div: Some(0x270),
        },
        Bank {
            first: 5,
            on: every(0x404, 4),
            volt_div: every(0x414, 40),
            vert_offset: every(0x4B4, 40),
            probe: Some(0x554),
            code_per_div: Some(0x574),
        },
    ],
    time_div: 0x19C,
    time_delay: 0x1C4,
    wave_length: 0x1EC,
    sample_rate: 0x1F0,
    data: Data::Field(0x04),
    data_width: Some(0x264),
    byte_order: Some(0x265),
    hori_div_num: Some(0x26C),
};

/// Binary Format V5.0 (`siglent_v5_bin`). Its time fields lie beyond the
/// sample start 0x800, as the description places them.
const V5: Layout = Layout {
    revision: Revision::V5,
    banks: &[Bank {
        first: 1,
        on: [0x76, 0xF0, 0x194, 0x238],
        volt_div: [0xAB, 0x160, 0x204, 0x2A8],
        vert_offset: [0xBC, 0x170, 0x214, 0x2B8],
        probe: None,
        code_per_div: None,
    }],
    time_div: 0x1B68,
    time_delay: 0x1B78,
    wave_length: 0x1B88,
    sample_rate: 0x1B92,
    data: Data::At(0x800),
    data_width: None,
    byte_order: None,
    hori_div_num: None,
};

/// The layout of a fixed-header revision (`None` for V6.0).
pub(super) fn layout(revision: Revision) -> Option<&'static Layout> {
    Some(match revision {
        Revision::V0_1 => &V0_1,
        Revision::V0_2 => &V0_2,
        Revision::V1 => &V1,
        Revision::V2 => &V2,
        Revision::V3 => &V3,
        Revision::V4 => &V4,
        Revision::V5 => &V5,
        Revision::V6 => return None,
    })
}

/// How a stored code becomes volts; `scale` is V/div over codes/div and
/// `center` the code of 0 (128 or 32768).
#[derive(Debug, Clone, Copy)]
pub(super) enum Conversion {
    /// `(code − center) × scale + vert_offset` (V0.1 to V3.0, V5.0).
    PlusOffset {
        /// V per code.
        scale: f64,
        /// `vert_offset` (V).
        offset: f64,
    },
    /// `((code − center) × scale − vert_offset) × probe` (V4.0, whose
    /// `volt_div` does not include the probe).
    Probe {
        /// V per code, before the probe.
        scale: f64,
        /// `vert_offset` (V), before the probe.
        offset: f64,
        /// `ch_probe`.
        probe: f64,
    },
    /// `(code − center) × scale − vert_pos` (V4.0 math traces).
    Math {
        /// V per code.
        scale: f64,
        /// `math_vert_pos` (V).
        position: f64,
    },
}

/// One trace to read from the payload.
#[derive(Debug)]
pub(super) struct Planned {
    /// The trace label: `CH1`, `F1`.
    pub(super) label: String,
    /// Samples to read.
    pub(super) points: u64,
    /// How codes become volts.
    pub(super) conversion: Conversion,
    /// Samples per second.
    pub(super) sample_rate: f64,
    /// The unit of the values.
    pub(super) units: String,
    /// What the header says of the trace.
    pub(super) attributes: BTreeMap<String, String>,
}

/// Reads a file of a fixed-header revision.
pub(super) fn read(input: &Input<'_>, layout: &Layout) -> Result<Vec<Trace>> {
    let b = Bytes::new(input.data, Order::Little);
    let revision = layout.revision;
    let sample_rate = scaled(&b, layout.sample_rate, "sample_rate")?;
    if sample_rate <= 0.0 {
        bail!("the header's sample_rate is {sample_rate} Sa/s, it must be positive");
    }
    let wave_length = b.u32(layout.wave_length)?;
    if wave_length == 0 {
        bail!("the header's wave_length is 0 samples");
    }
    input.check_samples(u64::from(wave_length))?;
    let width = match layout.data_width {
        Some(at) if b.u8(at)? != 0 => 2,
        _ => 1,
    };
    let order = match layout.byte_order {
        Some(at) if b.u8(at)? != 0 => ByteOrder::Big,
        _ => ByteOrder::Little,
    };
    let time_div = scaled(&b, layout.time_div, "time_div")?;
    let time_delay = scaled(&b, layout.time_delay, "time_delay")?;
    let mut start = match layout.hori_div_num {
        None => -(time_div * 14.0 / 2.0),
        Some(at) => -(time_div * f64::from(b.i32(at)?) / 2.0) - time_delay,
    };
    let zoom = revision == Revision::V4 && v4::is_zoom(&b)?;
    if zoom {
        start = v4::zoom_start(&b)?;
    }

    let mut planned = Vec::new();
    for bank in layout.banks {
        for i in 0..4 {
            if b.i32(bank.on[i])? == 0 {
                continue;
            }
            let number = bank.first + i;
            let volt_div = scaled(&b, bank.volt_div[i], "volt_div")?;
            let offset = scaled(&b, bank.vert_offset[i], "vert_offset")?;
            let probe = match bank.probe {
                Some(at) => Some(b.f64(at + 8 * i)?),
                None => None,
            };
            let code_per_div = match bank.code_per_div {
                Some(at) => f64::from(b.i32(at + 4 * i)?),
                None => 25.0,
            };
            if code_per_div <= 0.0 {
                bail!("CH{number}'s code_per_div is {code_per_div}, it must be positive");
            }
            let scale = volt_div / code_per_div;
            let (conversion, volts_per_div, units) = if revision == Revision::V4 {
                let probe = probe.unwrap_or(1.0);
                let conversion = Conversion::Probe {
                    scale,
                    offset,
                    probe,
                };
                (
                    conversion,
                    volt_div * probe,
                    v4::units(&b, bank.volt_div[i])?,
                )
            } else {
                (
                    Conversion::PlusOffset { scale, offset },
                    volt_div,
                    "V".to_owned(),
                )
            };
            let mut attributes = BTreeMap::from([
                ("vertical_offset".to_owned(), format!("{offset}")),
                ("code_per_div".to_owned(), format!("{code_per_div}")),
            ]);
            if volts_per_div > 0.0 {
                attributes.insert("volts_per_div".into(), format!("{}", volts_per_div.abs()));
            }
            if let Some(probe) = probe {
                attributes.insert("probe".into(), format!("{probe}"));
            }
            planned.push(Planned {
                label: format!("CH{number}"),
                points: u64::from(wave_length),
                conversion,
                sample_rate,
                units,
                attributes,
            });
        }
    }
    if revision == Revision::V4 {
        planned.extend(v4::math_traces(input, &b)?);
    }
    if planned.is_empty() {
        bail!("the header enables no channel");
    }
    input.check_channels(planned.len())?;

    let data_offset = match layout.data {
        Data::At(at) => at,
        Data::Field(at) => b.u32(at)? as usize,
    };
    let total = planned
        .iter()
        .try_fold(0u64, |sum, p| sum.checked_add(p.points));
    let held = b.len().saturating_sub(data_offset) / width;
    let fits = total
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| n.checked_mul(width))
        .and_then(|n| n.checked_add(data_offset))
        .is_some_and(|end| end <= b.len());
    if !fits {
        bail!(
            "truncated: header says {} samples ({} traces) from offset {data_offset}, file holds {held}",
            total.map_or_else(|| "too many".to_owned(), |n| n.to_string()),
            planned.len()
        );
    }

    let ty = if width == 1 {
        SampleType::U8
    } else {
        SampleType::U16
    };
    let center = if width == 1 { 128.0 } else { 32768.0 };
    let mut at = data_offset;
    let mut traces = Vec::with_capacity(planned.len());
    for p in planned {
        // The sizes were checked against the file above.
        let len = p.points as usize * width;
        let raw = b.slice(at, len)?;
        at += len;
        let samples = match p.conversion {
            Conversion::PlusOffset { scale, offset } => {
                decode(raw, ty, order, |code| (code - center) * scale + offset)
            }
            Conversion::Probe {
                scale,
                offset,
                probe,
            } => decode(raw, ty, order, |code| {
                ((code - center) * scale - offset) * probe
            }),
            Conversion::Math { scale, position } => {
                decode(raw, ty, order, |code| (code - center) * scale - position)
            }
        };
        let mut attributes = p.attributes;
        attributes.insert("revision".into(), revision.name().into());
        attributes.insert("time_per_div".into(), format!("{time_div}"));
        if zoom {
            attributes.insert("zoom".into(), "true".into());
        }
        traces.push(trace(
            samples,
            p.label,
            p.units,
            p.sample_rate,
            start,
            attributes,
        )?);
    }
    Ok(traces)
}
