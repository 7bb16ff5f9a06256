//! The fmt chunk (WAVEFORMATEX, WAVEFORMATEXTENSIBLE) and what it makes of
//! the data chunk's bytes, rule for rule as SciPy's `_read_fmt_chunk` and
//! `_read_data_chunk` (scipy/io/wavfile.py, SciPy 1.17).

use super::riff::Cursor;
use crate::{
    convert::SampleType,
    error::{Result, bail},
};

/// wFormatTag of integer PCM (mmreg.h).
const WAVE_FORMAT_PCM: u32 = 0x0001;
/// wFormatTag of IEEE 754 floats (mmreg.h).
const WAVE_FORMAT_IEEE_FLOAT: u32 = 0x0003;
/// wFormatTag saying the real format is the SubFormat GUID (mmreg.h).
const WAVE_FORMAT_EXTENSIBLE: u32 = 0xFFFE;

/// The last 12 bytes of a SubFormat GUID built on the RFC 2361 template
/// {XXXXXXXX-0000-0010-8000-00AA00389B71}, as a little-endian file stores
/// it (the first three groups in the file's byte order, the rest as is).
const GUID_TAIL_LITTLE: [u8; 12] = [0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71];
/// [`GUID_TAIL_LITTLE`] as a big-endian (RIFX) file stores it.
const GUID_TAIL_BIG: [u8; 12] = [0, 0, 0, 0x10, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71];

/// The fields of a fmt chunk that reading needs (WAVEFORMATEX).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WaveFormat {
    /// wFormatTag, or for WAVE_FORMAT_EXTENSIBLE the first field of a
    /// SubFormat GUID on the RFC 2361 template (0xFFFE when it is not).
    pub(super) format_tag: u32,
    /// nChannels.
    pub(super) channels: u16,
    /// nSamplesPerSec: frames per second.
    pub(super) samples_per_sec: u32,
    /// nBlockAlign: bytes per frame, all channels.
    pub(super) block_align: u16,
    /// wBitsPerSample: the bits of a sample (12 in a 2-byte container, say;
    /// WAVEFORMATEXTENSIBLE's wValidBitsPerSample is not read, as SciPy
    /// does not read it).
    pub(super) bits_per_sample: u16,
}

/// How the values of one data-chunk element are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Scale {
    /// Unsigned 8-bit PCM: `(x - 128) / 128`.
    Unsigned8,
    /// Signed PCM: `x / full_scale`, `full_scale` = 2^(container bits - 1).
    Signed {
        /// 2^(bits - 1) for the container's bits (8, 16, 32 or 64).
        full_scale: f64,
    },
    /// IEEE float, as stored.
    Float,
    /// IEEE binary16, as stored (a 2-byte float container).
    Half,
}

/// What the data chunk's bytes are: elements of `width` bytes decoded as a
/// `ty` (left-justified where `width` is smaller), then scaled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Encoding {
    /// The type the elements are decoded as: the one SciPy returns them as
    /// (I32 for 3-byte samples), or U16 for the codes of halves.
    pub(super) ty: SampleType,
    /// Bytes one element occupies in the file.
    pub(super) width: usize,
    /// Whether SciPy reads the chunk byte by byte and regroups it (3-, 5-,
    /// 6- and 7-byte containers): then the chunk must hold whole elements.
    pub(super) regrouped: bool,
    /// From the decoded element to the value.
    pub(super) scale: Scale,
    /// nBlockAlign / nChannels: the bytes of one sample container, which
    /// the declared chunk size is counted in.
    pub(super) bytes_per_sample: usize,
}

/// The name of a wFormatTag others than PCM and IEEE float use, for errors.
fn tag_name(tag: u32) -> &'static str {
    match tag {
        0x0000 => "unknown",
        0x0002 => "Microsoft ADPCM",
        0x0006 => "A-law",
        0x0007 => "mu-law",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0050 => "MPEG",
        0x0055 => "MPEG Layer 3",
        0x0092 => "Dolby AC-3 SPDIF",
        0x00FF => "AAC",
        0x0161 => "Windows Media Audio",
        0x1610 => "HE-AAC",
        0x6C61 => "Apple Lossless",
        0x704F => "Opus",
        0xF1AC => "FLAC",
        0xFFFE => "WAVE_FORMAT_EXTENSIBLE with an unknown SubFormat GUID",
        _ => "not PCM",
    }
}

/// Reads a fmt chunk, the cursor just after its ID; leaves the cursor
/// after the chunk and its pad byte.
pub(super) fn read_fmt(cur: &mut Cursor<'_>) -> Result<WaveFormat> {
    let size = cur.u32("the fmt chunk's size")?;
    if size < 16 {
        bail!("fmt chunk of {size} bytes, fewer than the 16 of a WAVEFORMAT");
    }
    let fields = cur.exact(16, "the fmt chunk")?;
    let mut format = WaveFormat {
        format_tag: u32::from(fields.u16(0)?),
        channels: fields.u16(2)?,
        samples_per_sec: fields.u32(4)?,
        block_align: fields.u16(12)?,
        bits_per_sample: fields.u16(14)?,
    };
    let avg_bytes_per_sec = fields.u32(8)?;
    let mut bytes_read = 16u64;
    if format.format_tag == WAVE_FORMAT_EXTENSIBLE && size >= 18 {
        let cb_size = cur.u16("the fmt chunk's cbSize")?;
        bytes_read += 2;
        if cb_size < 22 {
            bail!(
                "WAVE_FORMAT_EXTENSIBLE fmt chunk with cbSize {cb_size}, fewer than \
                 the 22 bytes of its extension"
            );
        }
        // wValidBitsPerSample (2), dwChannelMask (4), SubFormat (16).
        let extension = cur.read(22);
        bytes_read += 22;
        let guid = extension.get(6..).unwrap_or_default();
        let tail = match cur.order() {
            crate::bytes::Order::Little => GUID_TAIL_LITTLE,
            crate::bytes::Order::Big => GUID_TAIL_BIG,
        };
        if guid.ends_with(&tail) {
            format.format_tag = crate::bytes::Bytes::new(guid, cur.order()).u32(0)?;
        }
    }
    if format.format_tag != WAVE_FORMAT_PCM && format.format_tag != WAVE_FORMAT_IEEE_FLOAT {
        bail!(
            "unsupported format tag {:#06x} ({}); tracekit reads PCM and IEEE float",
            format.format_tag,
            tag_name(format.format_tag)
        );
    }
    if u64::from(size) > bytes_read {
        cur.read_past(u64::from(size) - bytes_read);
    }
    cur.pad(u64::from(size));
    let product = u64::from(format.samples_per_sec) * u64::from(format.block_align);
    if format.format_tag == WAVE_FORMAT_PCM && u64::from(avg_bytes_per_sec) != product {
        bail!(
            "inconsistent fmt chunk: nAvgBytesPerSec is {avg_bytes_per_sec}, not \
             nSamplesPerSec {} x nBlockAlign {} = {product}",
            format.samples_per_sec,
            format.block_align
        );
    }
    Ok(format)
}

impl WaveFormat {
    /// How the data chunk's bytes are decoded under this fmt chunk.
    ///
    /// SciPy's rules: the container is nBlockAlign / nChannels bytes; PCM
    /// of 1 to 8 bits is unsigned bytes; 3-, 5-, 6- and 7-byte containers
    /// are widened, left-justified, to 32 or 64 bits; 1-, 2-, 4- and 8-byte
    /// ones are signed integers of that width (up to 64 bits per sample);
    /// IEEE float needs 32 or 64 bits per sample, and its container says
    /// the width actually read.
    pub(super) fn encoding(&self) -> Result<Encoding> {
        let channels = usize::from(self.channels);
        if channels == 0 {
            bail!("the fmt chunk says 0 channels");
        }
        let bytes_per_sample = usize::from(self.block_align) / channels;
        if bytes_per_sample == 0 {
            bail!(
                "the fmt chunk's nBlockAlign {} gives less than one byte to each of its {channels} channels",
                self.block_align
            );
        }
        let bits = self.bits_per_sample;
        let signed = |ty: SampleType, width: usize, regrouped: bool| Encoding {
            ty,
            width,
            regrouped,
            scale: Scale::Signed {
                full_scale: (1u64 << (8 * ty.width() - 1)) as f64,
            },
            bytes_per_sample,
        };
        let plain = |ty: SampleType, scale: Scale| Encoding {
            ty,
            width: ty.width(),
            regrouped: false,
            scale,
            bytes_per_sample,
        };
        Ok(if self.format_tag == WAVE_FORMAT_PCM {
            match (bits, bytes_per_sample) {
                (1..=8, _) => plain(SampleType::U8, Scale::Unsigned8),
                (_, 3) => signed(SampleType::I32, 3, true),
                (_, 5..=7) => signed(SampleType::I64, bytes_per_sample, true),
                (65.., _) => {
                    bail!("{bits}-bit PCM: tracekit reads integer samples of at most 64 bits")
                }
                (_, 1) => signed(SampleType::I8, 1, false),
                (_, 2) => signed(SampleType::I16, 2, false),
                (_, 4) => signed(SampleType::I32, 4, false),
                (_, 8) => signed(SampleType::I64, 8, false),
                (_, n) => bail!(
                    "{bits}-bit PCM in {n}-byte containers (nBlockAlign {} for {channels} \
                     channels): tracekit reads containers of at most 8 bytes",
                    self.block_align
                ),
            }
        } else {
            if bits != 32 && bits != 64 {
                bail!("{bits}-bit IEEE float: tracekit reads 32- and 64-bit floats");
            }
            match bytes_per_sample {
                2 => plain(SampleType::U16, Scale::Half),
                4 => plain(SampleType::F32, Scale::Float),
                8 => plain(SampleType::F64, Scale::Float),
                n => bail!(
                    "{bits}-bit IEEE float in {n}-byte containers (nBlockAlign {} for \
                     {channels} channels): tracekit reads 2-, 4- and 8-byte floats",
                    self.block_align
                ),
            }
        })
    }

    /// Whether the samples are IEEE floats (else integer PCM).
    pub(super) fn is_float(&self) -> bool {
        self.format_tag == WAVE_FORMAT_IEEE_FLOAT
    }
}
