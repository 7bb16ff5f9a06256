//! WFM#001, #002 and #003: the static file information, the waveform header
//! and the curve buffer (Tektronix 077-0220 "Reference Waveform File Format";
//! RigolWFM `ksy/tektronix_wfm_001_*`, `ksy/tektronix_wfm_002_*`).
//!
//! A curve buffer opens with pre-charge points and ends with post-charge
//! points, kept for interpolation; the samples are the bytes from the curve
//! object's `data_start_offset` up to its `postcharge_start_offset`, and the
//! implicit dimension's offset is the time of the first of them (as RigolWFM
//! and Tektronix's own `wfm2read` read it). A FastFrame file gives one trace
//! per frame (attribute `frame`, from 1), frame `k` at
//! `k * end_of_curve_buffer_offset` in the buffer.

use tracekit_core::{Trace, TraceMeta};

use super::{domain_of, gmt::utc_time, tekmeta};
use crate::{
    bytes::{Bytes, Order},
    convert::{SampleType, decode},
    error::{Result, bail},
    registry::Input,
    strided::{Strided, decode_strided},
};

/// Static file information: the version number `:WFM#00n` (offset 2, 8 bytes).
const VERSION_NUMBER: usize = 3;
/// Static file information: number of bytes per point (offset 15, `u8`).
const NUM_BYTES_PER_POINT: usize = 15;
/// Static file information: byte offset to the curve buffer (offset 16, `i32`).
const BYTE_OFFSET_TO_CURVE_BUFFER: usize = 16;
/// Static file information: waveform label (offset 40, 32 bytes).
const WAVEFORM_LABEL: usize = 40;
/// Static file information: number of FastFrames minus one (offset 72, `u32`).
const N_FAST_FRAMES_MINUS_1: usize = 72;
/// Waveform header, reference file data: set type (offset 78, `i32`).
const SET_TYPE: usize = 78;
/// Waveform header, reference file data: data type (offset 122, `i32`).
const DATA_TYPE: usize = 122;
/// Waveform header, reference file data: curve ref count (offset 142, `u32`).
const CURVE_REF_COUNT: usize = 142;
/// Bytes of one FastFrame's extra update specification (24) and curve object (30).
const FRAME_SPEC_BYTES: u64 = 54;
/// The data type of digital waveforms from an MSO source.
const DATA_TYPE_DIGITAL: i32 = 6;
/// tekmeta keys that only an I/Q capture records (RigolWFM `_IQ_META_KEYS`).
const IQ_KEYS: [&str; 6] = [
    "IQ_centerFrequency",
    "IQ_fftLength",
    "IQ_rbw",
    "IQ_span",
    "IQ_windowType",
    "IQ_sampleRate",
];

/// Whether `input` starts with a WFM byte-order mark and a `WFM#` version.
pub(super) fn probe(input: &Input<'_>) -> bool {
    let d = input.data;
    matches!(d.get(..2), Some([0x0f, 0x0f] | [0xf0, 0xf0])) && d.get(3..7) == Some(&b"WFM#"[..])
}

/// Where one version's waveform header blocks lie: WFM#002 inserts a 2-byte
/// summary frame type before explicit dimension 1; WFM#003 widens each
/// dimension's point density from `u4` to `f8`.
struct Layout {
    /// Offset of explicit dimension 1.
    exp_dim1: usize,
    /// Size of an explicit dimension (description and user view).
    exp_dim_size: usize,
    /// Size of an implicit dimension (description and user view).
    imp_dim_size: usize,
}

impl Layout {
    fn of(version: &str) -> Result<Layout> {
        let (exp_dim1, exp_dim_size, imp_dim_size) = match version {
            "WFM#001" => (166, 156, 132),
            "WFM#002" => (168, 156, 132),
            "WFM#003" => (168, 160, 136),
            other => {
                bail!("unknown WFM version '{other}' (tracekit reads WFM#001, WFM#002 and WFM#003)")
            }
        };
        Ok(Layout {
            exp_dim1,
            exp_dim_size,
            imp_dim_size,
        })
    }

    fn imp_dim1(&self) -> usize {
        self.exp_dim1 + 2 * self.exp_dim_size
    }

    /// The first waveform update specification, after two time base blocks.
    fn update_spec(&self) -> usize {
        self.imp_dim1() + 2 * self.imp_dim_size + 2 * 12
    }

    /// The first curve object, after the 24-byte update specification.
    fn curve(&self) -> usize {
        self.update_spec() + 24
    }
}

/// Waveform update specification: when the frame triggered.
#[derive(Clone, Copy)]
struct UpdateSpec {
    /// Fraction of a second of the trigger (offset 12, `f8`).
    frac_sec: f64,
    /// Whole seconds since 1970 UTC of the trigger (offset 20, `i4`).
    gmt_sec: i32,
}

impl UpdateSpec {
    fn read(b: &Bytes<'_>, at: usize) -> Result<UpdateSpec> {
        Ok(UpdateSpec {
            frac_sec: b.f64(at + 12)?,
            gmt_sec: b.i32(at + 20)?,
        })
    }
}

/// Curve object: byte offsets of the regions of a frame's curve buffer.
#[derive(Clone, Copy)]
struct Curve {
    /// Start of the user data (offset 14, `u4`).
    data_start_offset: u32,
    /// Start of the post-charge points: end of the user data (offset 18, `u4`).
    postcharge_start_offset: u32,
    /// Size of one frame's curve buffer (offset 26, `u4`).
    end_of_curve_buffer_offset: u32,
}

impl Curve {
    fn read(b: &Bytes<'_>, at: usize) -> Result<Curve> {
        Ok(Curve {
            data_start_offset: b.u32(at + 14)?,
            postcharge_start_offset: b.u32(at + 18)?,
            end_of_curve_buffer_offset: b.u32(at + 26)?,
        })
    }
}

/// The sample type of explicit dimension 1's `format` code (RigolWFM
/// `tek.py` `_FORMAT_DTYPE`; 6 and 7 are WFM#003's 8-bit formats).
fn sample_type(format: i32) -> Result<SampleType> {
    Ok(match format {
        0 => SampleType::I16,
        1 => SampleType::I32,
        2 => SampleType::U32,
        3 => SampleType::U64,
        4 => SampleType::F32,
        5 => SampleType::F64,
        6 => SampleType::U8,
        7 => SampleType::I8,
        other => bail!(
            "unknown curve data format {other} in explicit dimension 1 (tracekit reads 0 to 7)"
        ),
    })
}

/// Reads every frame of a WFM file (one trace, or one per FastFrame frame;
/// one per line for digital data, I and Q for an I/Q capture).
pub(super) fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let order = match input.data.get(..2) {
        Some([0x0f, 0x0f]) => Order::Little,
        Some([0xf0, 0xf0]) => Order::Big,
        _ => bail!("no byte order verification mark (0x0F0F or 0xF0F0) at offset 0"),
    };
    let b = Bytes::new(input.data, order);
    let version = b.text(VERSION_NUMBER, 7)?;
    let layout = Layout::of(&version)?;
    let set_type = b.i32(SET_TYPE)?;
    if !matches!(set_type, 0 | 1) {
        bail!("unknown set type {set_type} (0 is a single waveform, 1 FastFrame)");
    }
    let curve_ref_count = b.u32(CURVE_REF_COUNT)?;
    if version != "WFM#001" && curve_ref_count != 1 {
        bail!("the header says {curve_ref_count} curves; tracekit reads files of one curve");
    }
    // Explicit dimension 1: the vertical axis (volts = dim_scale * code + dim_offset).
    let exp = layout.exp_dim1;
    let (y_scale, y_offset) = (b.f64(exp)?, b.f64(exp + 8)?);
    let y_units = b.text(exp + 20, 20)?;
    let ty = sample_type(b.i32(exp + 72)?)?;
    let user_scale = b.f64(exp + 100)?;
    // Implicit dimension 1: the time axis (t = dim_offset + i * dim_scale).
    let imp = layout.imp_dim1();
    let (x_scale, x_offset) = (b.f64(imp)?, b.f64(imp + 8)?);
    let dim_size = b.u32(imp + 16)?;
    let x_units = b.text(imp + 20, 20)?;
    if !(x_scale > 0.0 && (1.0 / x_scale).is_finite()) {
        bail!(
            "implicit dimension 1 scale (the sample interval) is {x_scale}, which gives no finite positive sample rate"
        );
    }

    let width = ty.width();
    let bytes_per_point = usize::from(b.u8(NUM_BYTES_PER_POINT)?);
    if bytes_per_point != width {
        bail!(
            "the file says {bytes_per_point} bytes per point, its curve format {ty:?} has {width}"
        );
    }
    let frames = u64::from(b.u32(N_FAST_FRAMES_MINUS_1)?) + 1;
    input.check_channels(usize::try_from(frames).unwrap_or(usize::MAX))?;
    let curve_offset = b.i32(BYTE_OFFSET_TO_CURVE_BUFFER)?;
    let Ok(curve_offset) = usize::try_from(curve_offset) else {
        bail!("byte offset to the curve buffer is {curve_offset}");
    };
    let first = Curve::read(&b, layout.curve())?;
    let frame_size = u64::from(first.end_of_curve_buffer_offset);
    let buffer_len = frame_size
        .checked_mul(frames)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(usize::MAX);
    let buffer = b.slice(curve_offset, buffer_len).map_err(|_| {
        format!(
            "truncated: the curve buffer ({frames} frame(s) of {frame_size} bytes) at offset \
             {curve_offset} does not fit in the file's {} bytes",
            b.len()
        )
    })?;

    let meta = tekmeta::entries(&b, curve_offset + buffer_len);
    let has = |key: &str| meta.iter().any(|(k, _)| k == key);
    let lines: Vec<String> = (0..8)
        .map(|bit| format!("d{bit}"))
        .filter(|name| has(name))
        .collect();
    let digital = b.i32(DATA_TYPE)? == DATA_TYPE_DIGITAL || !lines.is_empty();
    let iq = IQ_KEYS.iter().any(|k| has(k));

    let mut common = std::collections::BTreeMap::new();
    common.insert("vendor".to_owned(), "Tektronix".to_owned());
    common.insert("wfm_version".to_owned(), version.clone());
    let label = b.text(WAVEFORM_LABEL, 32)?;
    if !label.is_empty() {
        common.insert("label".to_owned(), label);
    }
    if user_scale != 0.0 && !digital {
        common.insert("volts_per_div".to_owned(), format!("{user_scale}"));
    }
    for (key, value) in &meta {
        common.insert(
            format!("tekmeta_{}", tekmeta::snake_case(key)),
            value.clone(),
        );
    }
    if frames > 1 {
        common.insert("frames".to_owned(), frames.to_string());
    }

    // Frames 1..N describe themselves in blocks just before the curve buffer:
    // N update specifications, then N curve objects.
    let extra = frames - 1;
    let specs = (curve_offset as u64)
        .checked_sub(extra * FRAME_SPEC_BYTES)
        .filter(|&at| extra == 0 || at >= layout.curve() as u64 + 30);
    let Some(specs) = specs else {
        bail!(
            "the header says {frames} FastFrame frames, whose {} bytes of frame information \
             do not fit before the curve buffer at offset {curve_offset}",
            extra * FRAME_SPEC_BYTES
        );
    };
    let specs = specs as usize;
    let first_spec = UpdateSpec::read(&b, layout.update_spec())?;
    let mut traces = Vec::new();
    for frame in 0..frames as usize {
        let (curve, spec) = if frame == 0 {
            (first, first_spec)
        } else {
            let k = frame - 1;
            let curve_at = specs + extra as usize * 24 + k * 30;
            (
                Curve::read(&b, curve_at)?,
                UpdateSpec::read(&b, specs + k * 24)?,
            )
        };
        let raw = frame_data(buffer, frame, frame_size as usize, &curve, dim_size, width)?;
        input.check_samples((raw.len() / width) as u64)?;

        let mut attributes = common.clone();
        if spec.gmt_sec != 0 {
            attributes.insert(
                "trigger_time".to_owned(),
                utc_time(spec.gmt_sec, spec.frac_sec),
            );
        }
        if frames > 1 {
            attributes.insert("frame".to_owned(), (frame + 1).to_string());
            let offset = f64::from(spec.gmt_sec.wrapping_sub(first_spec.gmt_sec))
                + (spec.frac_sec - first_spec.frac_sec);
            attributes.insert("frame_trigger_offset".to_owned(), format!("{offset}"));
        }
        let meta = |channel: &str, units: &str, sample_rate: f64| TraceMeta {
            sample_rate,
            start: x_offset,
            domain: domain_of(&x_units),
            channel: channel.to_owned(),
            units: units.to_owned(),
            attributes: attributes.clone(),
            ..TraceMeta::default()
        };
        let rate = 1.0 / x_scale;
        if digital {
            // One byte a sample; bit k is the k-th line tekmeta names, in the
            // order d0..d7 (all eight lines where it names none), as RigolWFM
            // `_unpack_digital_lines` reads them.
            let names: Vec<String> = if lines.is_empty() {
                (0..8).map(|bit| format!("d{bit}")).collect()
            } else {
                lines.clone()
            };
            for (bit, name) in (0u32..).zip(&names) {
                let samples = decode(raw, SampleType::U8, order, |code| {
                    f64::from((code as u32 >> bit) & 1)
                });
                traces.push(Trace::with_meta(samples, meta(name, "", rate))?);
            }
            continue;
        }
        let units = if y_units.is_empty() { "V" } else { &y_units };
        let volts = |code: f64| y_scale * code + y_offset;
        if iq {
            // Interleaved I/Q: even samples in-phase, odd quadrature; one
            // step of the implicit dimension spans a pair.
            let pairs = raw.len() / width / 2;
            for (name, first) in [("I", 0), ("Q", width)] {
                let at = Strided {
                    first,
                    stride: 2 * width,
                    count: pairs,
                    width,
                };
                let samples = decode_strided(raw, at, ty, order, volts)?;
                traces.push(Trace::with_meta(samples, meta(name, units, rate))?);
            }
        } else {
            let samples = decode(raw, ty, order, volts);
            traces.push(Trace::with_meta(samples, meta("CH1", units, rate))?);
        }
    }
    Ok(traces)
}

/// The user data of `frame` (from 0) in the curve buffer: from `data_start_offset`
/// up to `postcharge_start_offset` (pre- and post-charge points left out),
/// or, where the curve object gives no such region, implicit dimension 1's
/// `dim_size` points from `data_start_offset` (RigolWFM's fallback).
fn frame_data<'a>(
    buffer: &'a [u8],
    frame: usize,
    frame_size: usize,
    curve: &Curve,
    dim_size: u32,
    width: usize,
) -> Result<&'a [u8]> {
    let base = frame * frame_size;
    let number = frame + 1;
    let start = curve.data_start_offset as usize;
    let end = curve.postcharge_start_offset as usize;
    let end = if end > start {
        end
    } else {
        start.saturating_add((dim_size as usize).saturating_mul(width))
    };
    if end == start {
        bail!(
            "no waveform data: frame {number}'s curve has no points (data_start_offset \
             {start}, postcharge_start_offset {}, record length {dim_size})",
            curve.postcharge_start_offset
        );
    }
    if end > frame_size {
        bail!(
            "truncated: frame {number}'s curve data ends at byte {end} of a {frame_size}-byte \
             curve buffer"
        );
    }
    if (end - start) % width != 0 {
        bail!(
            "frame {number}'s curve data is {} bytes, not a whole number of {width}-byte points",
            end - start
        );
    }
    Ok(&buffer[base + start..base + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_place_the_curve_object() {
        assert_eq!(Layout::of("WFM#001").unwrap().curve(), 790);
        assert_eq!(Layout::of("WFM#002").unwrap().curve(), 792);
        assert_eq!(Layout::of("WFM#003").unwrap().curve(), 808);
        let e = Layout::of("WFM#004").err().unwrap();
        assert!(e.0.contains("unknown WFM version 'WFM#004'"), "{}", e.0);
    }
}
