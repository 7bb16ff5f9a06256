//! The RIFF, RIFX and RF64 containers: the walk over chunks that finds the
//! fmt and data chunks, step for step as SciPy's `wavfile.read`.
//!
//! SciPy reads the file as a stream: a position that may move past the end
//! (a chunk size larger than the file), reads that come back short there,
//! and a loop that stops where the RIFF header says the file ends. The
//! [`Cursor`] models that stream over the bytes in memory, so that every
//! file SciPy reads is read alike and every file it refuses is refused.

use super::fmt::{Encoding, WaveFormat, read_fmt};
use crate::{
    bytes::{Bytes, Order},
    error::{Result, bail},
};

/// A read position in the file, as a Python file object has one: it can be
/// moved past the end, and reads there return fewer bytes or none.
#[derive(Debug)]
pub(super) struct Cursor<'a> {
    data: &'a [u8],
    pos: u64,
    order: Order,
}

impl<'a> Cursor<'a> {
    /// The byte order of sizes and fields.
    pub(super) fn order(&self) -> Order {
        self.order
    }

    /// The position.
    pub(super) fn pos(&self) -> u64 {
        self.pos
    }

    /// The file's length.
    fn len(&self) -> u64 {
        self.data.len() as u64
    }

    /// Up to `n` bytes from the position (fewer, or none, near or past the
    /// end); the position moves past what was read.
    pub(super) fn read(&mut self, n: u64) -> &'a [u8] {
        let start = self.pos.min(self.len());
        let end = start.saturating_add(n).min(self.len());
        self.pos = self.pos.max(end);
        // Both ends are at most the length of an in-memory slice.
        &self.data[start as usize..end as usize]
    }

    /// Moves `n` bytes on, past the end if need be (a seek).
    pub(super) fn seek(&mut self, n: u64) {
        self.pos = self.pos.saturating_add(n);
    }

    /// Reads `n` bytes and discards them: stops at the end (a read, where
    /// [`Cursor::seek`] does not).
    pub(super) fn read_past(&mut self, n: u64) {
        self.read(n);
    }

    /// Steps over the pad byte that follows a chunk of odd `size`.
    pub(super) fn pad(&mut self, size: u64) {
        if size % 2 == 1 {
            self.seek(1);
        }
    }

    /// Exactly `n` bytes, or an error saying `what` the file ends inside.
    pub(super) fn exact(&mut self, n: usize, what: &str) -> Result<Bytes<'a>> {
        let at = self.pos;
        let got = self.read(n as u64);
        if got.len() < n {
            bail!(
                "file truncated: {what} needs {n} bytes at offset {at}, the file ends at {}",
                self.len()
            );
        }
        Ok(Bytes::new(got, self.order))
    }

    /// A `u16` field in the file's byte order.
    pub(super) fn u16(&mut self, what: &str) -> Result<u16> {
        self.exact(2, what)?.u16(0)
    }

    /// A `u32` field in the file's byte order.
    pub(super) fn u32(&mut self, what: &str) -> Result<u32> {
        self.exact(4, what)?.u32(0)
    }

    /// A `u64` field in the file's byte order.
    fn u64(&mut self, what: &str) -> Result<u64> {
        self.exact(8, what)?.u64(0)
    }
}

/// The container a WAV file uses (its first four bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Container {
    /// `RIFF`: little-endian, 32-bit sizes.
    Riff,
    /// `RIFX`: the same with every field and sample big-endian.
    Rifx,
    /// `RF64` (EBU Tech 3306): little-endian, 64-bit sizes in a `ds64` chunk.
    Rf64,
}

impl Container {
    /// The container of a file starting with `magic`, if it is one.
    pub(super) fn of(magic: &[u8]) -> Option<Container> {
        match magic {
            b"RIFF" => Some(Container::Riff),
            b"RIFX" => Some(Container::Rifx),
            b"RF64" => Some(Container::Rf64),
            _ => None,
        }
    }

    /// Its four-letter name.
    pub(super) fn name(self) -> &'static str {
        match self {
            Container::Riff => "RIFF",
            Container::Rifx => "RIFX",
            Container::Rf64 => "RF64",
        }
    }
}

/// The data chunk SciPy returns (the last one read), as it reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct DataChunk {
    /// Offset of the chunk's first sample.
    pub(super) offset: usize,
    /// Elements read: the chunk's whole containers, or as many as the file
    /// holds where the chunk runs past its end; a multiple of nChannels.
    pub(super) elements: usize,
    /// How its bytes are decoded.
    pub(super) encoding: Encoding,
    /// The fmt chunk it was read under.
    pub(super) format: WaveFormat,
}

/// A WAV file's layout: the container, the data chunk, and the sample rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Wave {
    /// RIFF, RIFX or RF64.
    pub(super) container: Container,
    /// The byte order of fields and samples.
    pub(super) order: Order,
    /// The samples.
    pub(super) data: DataChunk,
    /// nSamplesPerSec of the last fmt chunk in the file (which SciPy returns,
    /// even where it follows the data chunk).
    pub(super) samples_per_sec: u32,
}

/// Where the chunks start, and where the file ends by its header.
struct Header {
    /// RIFF, RIFX or RF64.
    container: Container,
    /// The RIFF (or ds64) size plus the 8 bytes before it.
    file_size: u64,
    /// RF64: the ds64 chunk's dataSize, which replaces every data chunk's size.
    rf64_data_size: Option<u64>,
}

/// Reads the container header (SciPy's `_read_riff_chunk`).
fn read_header(cur: &mut Cursor<'_>) -> Result<Header> {
    let magic = cur.read(4);
    let Some(container) = Container::of(magic) else {
        bail!("starts with {}, not RIFF, RIFX or RF64", quoted(magic));
    };
    if container == Container::Rifx {
        cur.order = Order::Big;
    }
    let (file_size, rf64_data_size) = if container == Container::Rf64 {
        cur.read(4); // 0xFFFFFFFF: the size is in ds64.
        let form = cur.read(4);
        let ds64 = cur.read(4);
        if ds64 != b"ds64" {
            bail!(
                "RF64 file without a ds64 chunk at offset 12 (found {})",
                quoted(ds64)
            );
        }
        check_form(form)?;
        let ds64_size = cur.u32("the ds64 chunk's size")?;
        let riff_size = cur.u64("the ds64 chunk's riffSize")?;
        let data_size = cur.u64("the ds64 chunk's dataSize")?;
        // SciPy skips the rest of ds64 (sampleCount, the table) from the
        // position after dataSize by ds64_size - 16 bytes, with no pad byte.
        cur.pos = 20 + u64::from(ds64_size);
        (riff_size.saturating_add(8), Some(data_size))
    } else {
        let riff_size = cur.u32("the RIFF chunk's size")?;
        check_form(cur.read(4))?;
        (u64::from(riff_size) + 8, None)
    };
    Ok(Header {
        container,
        file_size,
        rf64_data_size,
    })
}

/// Four-letter codes as they read, quoted: `"WAVE"`, `"da"`, `"\u{0}\u{0}"`.
fn quoted(code: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(code))
}

/// An error unless the RIFF form type is `WAVE`.
fn check_form(form: &[u8]) -> Result<()> {
    if form != b"WAVE" {
        bail!("RIFF form type is {}, not \"WAVE\"", quoted(form));
    }
    Ok(())
}

/// Walks the chunks of `data` and returns where the samples are and how to
/// decode them.
///
/// Chunks are read while the position is before the end the header gives:
/// `fmt ` and `data` are read, every other chunk (`fact`, `LIST`, `JUNK`,
/// any other) is skipped with its pad byte. A later fmt or data chunk
/// replaces an earlier one. The end of the file ends the walk once a data
/// chunk is read; before one, it is an error.
pub(super) fn parse(data: &[u8]) -> Result<Wave> {
    let mut cur = Cursor {
        data,
        pos: 0,
        order: Order::Little,
    };
    let header = read_header(&mut cur)?;
    let mut format: Option<WaveFormat> = None;
    let mut samples: Option<DataChunk> = None;
    while cur.pos() < header.file_size {
        let at = cur.pos();
        let id = cur.read(4);
        if id.is_empty() {
            if samples.is_some() {
                break;
            }
            bail!(
                "file truncated: no data chunk before the end of the file at offset {}",
                data.len()
            );
        }
        if id.len() < 4 {
            if format.is_some() && samples.is_some() {
                break;
            }
            bail!(
                "file truncated: incomplete chunk ID {} at offset {at}",
                quoted(id)
            );
        }
        match id {
            b"fmt " => format = Some(read_fmt(&mut cur)?),
            b"data" => {
                let Some(format) = format else {
                    bail!("data chunk at offset {at} before any fmt chunk");
                };
                samples = Some(read_data(&mut cur, format, header.rf64_data_size)?);
            }
            _ => skip_chunk(&mut cur, id)?,
        }
    }
    match (samples, format) {
        (Some(data), Some(last)) => Ok(Wave {
            container: header.container,
            order: cur.order(),
            data,
            samples_per_sec: last.samples_per_sec,
        }),
        (_, None) => bail!("no fmt chunk before offset {}", header.file_size),
        (None, _) => bail!("no data chunk before offset {}", header.file_size),
    }
}

/// Steps over a chunk tracekit does not read (SciPy's `_skip_unknown_chunk`):
/// its 32-bit size, even in RF64, then its bytes and pad byte.
fn skip_chunk(cur: &mut Cursor<'_>, id: &[u8]) -> Result<()> {
    let at = cur.pos();
    let size = cur.read(4);
    match size.len() {
        0 => {}
        4 => {
            let size = u64::from(Bytes::new(size, cur.order()).u32(0)?);
            cur.seek(size);
            cur.pad(size);
        }
        n => bail!(
            "file truncated: chunk {} has {n} of the 4 bytes of its size at offset {at}",
            quoted(id)
        ),
    }
    Ok(())
}

/// Reads a data chunk's size and finds its samples (SciPy's
/// `_read_data_chunk`): the elements the chunk declares, or as many whole
/// ones as the file holds where it runs past the end.
fn read_data(
    cur: &mut Cursor<'_>,
    format: WaveFormat,
    rf64_size: Option<u64>,
) -> Result<DataChunk> {
    let size = match rf64_size {
        Some(size) => {
            cur.read(4); // 0xFFFFFFFF: the size is in ds64.
            size
        }
        None => u64::from(cur.u32("the data chunk's size")?),
    };
    let encoding = format.encoding()?;
    let start = cur.pos();
    let available = cur.len().saturating_sub(start);
    let bytes_per_sample = encoding.bytes_per_sample as u64;
    let width = encoding.width as u64;
    // NumPy allocates what the chunk declares before reading.
    let declared_bytes = if encoding.regrouped {
        size
    } else {
        (size / bytes_per_sample).saturating_mul(width)
    };
    if declared_bytes > i64::MAX as u64 {
        bail!("the data chunk declares {size} bytes, more than can be allocated");
    }
    let truncated = |what: &str| {
        format!(
            "file truncated: the data chunk at offset {start} declares {size} bytes, \
             the file holds {available}, which ends inside {what}"
        )
    };
    let (elements, consumed) = if encoding.regrouped {
        let bytes = size.min(available);
        if bytes % bytes_per_sample != 0 {
            if size > available {
                return Err(truncated(&format!("a {bytes_per_sample}-byte sample")).into());
            }
            bail!(
                "the data chunk's {size} bytes are not a whole number of \
                 {bytes_per_sample}-byte samples"
            );
        }
        (bytes / bytes_per_sample, bytes)
    } else {
        let elements = (size / bytes_per_sample).min(available / width);
        // NumPy's read stops after the elements declared, or at the end of
        // the file, past a last partial element.
        (elements, declared_bytes.min(available))
    };
    let channels = u64::from(format.channels);
    if elements % channels != 0 {
        if declared_bytes > available {
            return Err(truncated(&format!("a frame of {channels} channels")).into());
        }
        bail!(
            "the data chunk's {size} bytes are not a whole number of frames \
             ({channels} channels of {bytes_per_sample} bytes)"
        );
    }
    cur.read_past(consumed);
    cur.pad(size);
    Ok(DataChunk {
        // Both are within the file: `start` is before its end when any
        // element is read, and nothing is read from it otherwise.
        offset: usize::try_from(start).unwrap_or(usize::MAX),
        elements: usize::try_from(elements).unwrap_or(usize::MAX),
        encoding,
        format,
    })
}
