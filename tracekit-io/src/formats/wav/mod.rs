//! WAV: every channel a trace, read exactly as `scipy.io.wavfile.read`
//! reads the file, its integers scaled to [-1, 1).
//!
//! Containers: RIFF, RIFX (every field and sample big-endian) and RF64
//! (sizes in the `ds64` chunk). Formats: WAVE_FORMAT_PCM of 1 to 64 bits,
//! WAVE_FORMAT_IEEE_FLOAT of 32 and 64 bits, and both under
//! WAVE_FORMAT_EXTENSIBLE (the SubFormat GUID's tag). fmt chunks of 16, 18,
//! 40 or any other size of at least 16 bytes; `fact`, `LIST`, `JUNK` and
//! unknown chunks are skipped with their pad bytes.
//!
//! # Values
//!
//! In one line: integers are scaled to [-1, 1), unsigned 8-bit as
//! `(x - 128) / 128` and signed as `x / 2^(n - 1)` with `n` the width
//! SciPy returns them in (16, 32 or 64 bits: 24-bit samples come as 32);
//! floats are read as stored.
//!
//! The sample container is nBlockAlign / nChannels bytes, and SciPy returns
//! each sample as an integer of the container's width (3-byte containers
//! as 32-bit, 5- to 7-byte ones as 64-bit, left-justified: the stored bytes
//! on top, zeros below). tracekit divides that integer by its full scale:
//!
//! - PCM of 1 to 8 bits (unsigned bytes): `(x - 128) / 128`;
//! - other PCM: `x / 2^(n - 1)`, where `n` is the width SciPy returns (8,
//!   16, 32 or 64 bits); so 16-bit samples are `x / 32768`, 24-bit ones
//!   `x / 2^23` (`x * 256 / 2^31`), 12-bit ones in 2-byte containers
//!   `x / 32768` with `x` the container as stored, and 36-bit ones in
//!   5-byte containers `x / 2^39`;
//! - IEEE float: the stored values, widened exactly to `f64` (not clipped;
//!   a 2-byte container holds a binary16 half, as NumPy's `f2`).
//!
//! Every division is by a power of two and exact, so the values are
//! SciPy's integers times an exact factor: `data / 2**(8*data.itemsize-1)`
//! in NumPy (`(data - 128) / 128` for `uint8`). wValidBitsPerSample is not
//! read (SciPy does not read it either).
//!
//! # Layout
//!
//! Each channel is one trace (`<stem>.ch<k>` in outputs; the channel label
//! is empty, as WAV names none), at nSamplesPerSec of the fmt chunk, with
//! `start` 0. The `container`, `wave_format` (`PCM` or `IEEE float`),
//! `bits_per_sample` (wBitsPerSample) and `container_bits` (the `n` above)
//! attributes say how it was read.
//!
//! # What SciPy reads and refuses
//!
//! A data chunk larger than the file is read as far as the file holds
//! whole frames; one that ends inside a frame (or, with 3-, 5-, 6- and
//! 7-byte containers, inside a sample) is refused. A later data or fmt
//! chunk replaces an earlier one. Refused as SciPy refuses them: other
//! format tags (mu-law, ADPCM, MPEG, ...), PCM of more than 64 bits, IEEE
//! float of other than 32 or 64 bits, PCM whose nAvgBytesPerSec is not
//! nSamplesPerSec x nBlockAlign, an EXTENSIBLE fmt chunk whose cbSize is
//! under 22, no fmt chunk before the data, and files that end before a
//! data chunk. tracekit also refuses two kinds of file SciPy reads: a
//! sample rate of 0 (a trace needs a positive rate) and IEEE floats in 16-byte
//! containers (NumPy's `float128`). Where a data chunk declares more than
//! memory holds (an RF64 dataSize of terabytes in a small file), SciPy
//! fails to allocate it and tracekit reads what the file holds; sizes of
//! 2^63 bytes and more, which NumPy refuses on any machine, are refused.

mod fmt;
mod riff;

use tracekit_core::{Trace, TraceMeta};

use self::{fmt::Scale, riff::Container};
use crate::{
    error::{Result, bail},
    registry::{Format, Input},
    strided::{Strided, decode_strided, half_to_f64},
};

/// RIFF, RIFX and RF64 WAVE audio.
pub(crate) const FORMAT: Format = Format {
    name: "WAV",
    probe,
    read,
};

/// A RIFF, RIFX or RF64 magic: a form type other than `WAVE` (an AVI, a
/// WebP) is then an error that says so, not a file of another format.
fn probe(input: &Input<'_>) -> bool {
    input.data.get(..4).and_then(Container::of).is_some()
}

/// Every channel of the data chunk SciPy returns, as a trace, scaled as
/// the module documents.
fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let wave = riff::parse(input.data)?;
    let data = wave.data;
    if wave.samples_per_sec == 0 {
        bail!("the fmt chunk says 0 samples per second");
    }
    let channels = usize::from(data.format.channels);
    input.check_channels(channels)?;
    let frames = data.elements / channels;
    input.check_samples(frames as u64)?;
    let encoding = data.encoding;
    let mut meta = TraceMeta::new(f64::from(wave.samples_per_sec));
    let attributes = [
        ("container", wave.container.name().to_owned()),
        (
            "wave_format",
            if data.format.is_float() {
                "IEEE float"
            } else {
                "PCM"
            }
            .to_owned(),
        ),
        ("bits_per_sample", data.format.bits_per_sample.to_string()),
        ("container_bits", (8 * encoding.ty.width()).to_string()),
    ];
    meta.attributes = attributes
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    (0..channels)
        .map(|c| {
            let at = Strided {
                first: data.offset.saturating_add(c * encoding.width),
                stride: channels * encoding.width,
                count: frames,
                width: encoding.width,
            };
            let (raw, ty, order) = (input.data, encoding.ty, wave.order);
            let samples = match encoding.scale {
                Scale::Unsigned8 => decode_strided(raw, at, ty, order, |x| (x - 128.0) / 128.0),
                Scale::Signed { full_scale } => {
                    decode_strided(raw, at, ty, order, |x| x / full_scale)
                }
                Scale::Float => decode_strided(raw, at, ty, order, |x| x),
                Scale::Half => decode_strided(raw, at, ty, order, |x| half_to_f64(x as u16)),
            }?;
            Ok(Trace::with_meta(samples, meta.clone())?)
        })
        .collect()
}
