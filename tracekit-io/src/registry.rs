//! The formats tracekit reads, and how a file is matched to one.
//!
//! Each format family lives in its own module under `formats/` and exports
//! one [`Format`] (or a few) per layout it reads; [`FORMATS`] lists them in
//! the order they are tried. Adding a format is one file and one line here.

use std::{fs::File, io::Read, path::Path, sync::Arc};

use tracekit_core::Trace;

use crate::{Error, ReadOptions, error::Result, formats, sys::Mapping};

/// One file format: a name, a probe and a reader.
#[derive(Debug)]
pub(crate) struct Format {
    /// What the format is called in messages and in `tracekit info`: `"Rigol WFM"`.
    pub(crate) name: &'static str,
    /// Whether the file looks like this format, from its first bytes (and,
    /// where content cannot tell, its size and extension). Cheap; never fails.
    pub(crate) probe: fn(&Input<'_>) -> bool,
    /// Reads every trace of the file: samples in the vendor's units, the time
    /// base from the header, `channel` and `attributes` from the file.
    pub(crate) read: fn(&Input<'_>) -> Result<Vec<Trace>>,
}

/// The formats in the order they are tried: those with a magic number
/// first, then those told apart by size and extension, text last.
pub(crate) const FORMATS: &[Format] = &[
    formats::npy::FORMAT,
    formats::wav::FORMAT,
    formats::tektronix::WFM,
    formats::tektronix::ISF,
    formats::lecroy::FORMAT,
    formats::keysight::FORMAT,
    formats::rigol::WFM,
    formats::rigol::BIN,
    formats::rohde_schwarz::FORMAT,
    formats::sigrok::FORMAT,
    formats::tdms::FORMAT,
    formats::siglent::FORMAT,
    formats::csv::FORMAT,
];

/// A file being read: its path, its bytes (read once) and the caller's options.
#[derive(Debug)]
pub(crate) struct Input<'a> {
    /// The path the caller gave.
    pub(crate) path: &'a Path,
    /// The whole file.
    pub(crate) data: &'a [u8],
    /// Sample rate for files that do not say theirs, and limits.
    pub(crate) options: &'a ReadOptions,
    /// The file's mapping, when it was mapped rather than read (NPY), so
    /// that a reader may build traces over it without a copy.
    pub(crate) mapping: Option<&'a Arc<Mapping>>,
}

impl Input<'_> {
    /// The file name's extension, lower-cased (`"wfm"`), or `""`.
    #[allow(dead_code, reason = "used by the readers told apart by extension")]
    pub(crate) fn extension(&self) -> String {
        self.path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// An error unless `samples` (per channel, or in all) is within the limit.
    #[allow(dead_code, reason = "used by the binary format readers")]
    pub(crate) fn check_samples(&self, samples: u64) -> Result<()> {
        let limit = self.options.max_samples;
        if samples > limit {
            crate::error::bail!(
                "header says {samples} samples, more than the limit of {limit} \
                 (raise it with {} or ReadOptions::max_samples)",
                crate::MAX_SAMPLES_ENV
            );
        }
        Ok(())
    }

    /// An error unless `channels` is within the limit.
    pub(crate) fn check_channels(&self, channels: usize) -> Result<()> {
        let limit = self.options.max_channels;
        if channels > limit {
            crate::error::bail!(
                "the file holds {channels} channels, more than the limit of {limit} \
                 (raise it with {} or ReadOptions::max_channels)",
                crate::MAX_CHANNELS_ENV
            );
        }
        Ok(())
    }
}

fn path_text(path: &Path) -> String {
    path.display().to_string()
}

/// A file's bytes: read into memory, or mapped (NPY arrays, whose `<f8`
/// data then needs no copy at all).
enum Loaded {
    Read(Vec<u8>),
    Mapped(Arc<Mapping>),
}

impl Loaded {
    fn bytes(&self) -> &[u8] {
        match self {
            Loaded::Read(data) => data,
            Loaded::Mapped(map) => map.bytes(),
        }
    }

    fn mapping(&self) -> Option<&Arc<Mapping>> {
        match self {
            Loaded::Read(_) => None,
            Loaded::Mapped(map) => Some(map),
        }
    }
}

/// The whole file, refusing what is not a regular file (a device or a FIFO
/// could be endless).
fn load(path: &Path) -> std::result::Result<Loaded, Error> {
    let io = |source| Error::Io {
        path: path_text(path),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(Error::Unknown {
            path: path_text(path),
            message: "not a regular file (tracekit reads captures from files)".into(),
        });
    }
    let len = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    let mut magic = [0u8; 6];
    if len >= magic.len() && file.read_exact(&mut magic).is_ok() && &magic == b"\x93NUMPY" {
        // A mapping that fails (a file system without mmap) falls back to reading.
        if let Ok(map) = Mapping::new(&file, len) {
            return Ok(Loaded::Mapped(Arc::new(map)));
        }
    }
    std::io::Seek::rewind(&mut file).map_err(io)?;
    let mut data = Vec::new();
    data.try_reserve_exact(len).map_err(|_| Error::Unknown {
        path: path_text(path),
        message: format!("{} bytes do not fit in memory", meta.len()),
    })?;
    file.read_to_end(&mut data).map_err(io)?;
    Ok(Loaded::Read(data))
}

/// The format of `input`, the first whose probe accepts it.
pub(crate) fn detect(input: &Input<'_>) -> Option<&'static Format> {
    FORMATS.iter().find(|f| (f.probe)(input))
}

fn unknown(input: &Input<'_>) -> Error {
    let head = &input.data[..input.data.len().min(8)];
    let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
    let names: Vec<&str> = FORMATS.iter().map(|f| f.name).collect();
    let message = if head.is_empty() {
        "the file is empty".to_owned()
    } else {
        format!(
            "starts with bytes {} ({:?}); tracekit reads {}",
            hex.join(" "),
            String::from_utf8_lossy(head),
            names.join(", ")
        )
    };
    Error::Unknown {
        path: path_text(input.path),
        message,
    }
}

/// Reads every trace of the file at `path`; see [`crate::read_with`].
pub(crate) fn read(path: &Path, options: &ReadOptions) -> std::result::Result<Vec<Trace>, Error> {
    let loaded = load(path)?;
    let input = Input {
        path,
        data: loaded.bytes(),
        options,
        mapping: loaded.mapping(),
    };
    let format = detect(&input).ok_or_else(|| unknown(&input))?;
    let fail = |message: String| Error::Format {
        path: path_text(path),
        format: format.name,
        message,
    };
    let mut traces = (format.read)(&input).map_err(|bad| fail(bad.0))?;
    if traces.is_empty() {
        return Err(fail("the file holds no trace".into()));
    }
    input
        .check_channels(traces.len())
        .map_err(|bad| fail(bad.0))?;
    let source = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for trace in &mut traces {
        let attributes = &mut trace.meta_mut().attributes;
        attributes.insert("format".into(), format.name.into());
        attributes.insert("source".into(), source.clone());
    }
    Ok(traces)
}
