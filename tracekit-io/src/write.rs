//! Writing traces: CSV, NPY and JSON, each file complete or absent.

use std::{
    fmt,
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    str::FromStr,
};

use tracekit_core::{Domain, Trace};

use crate::Error;

/// The file formats traces can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OutputFormat {
    /// Time domain: one value a line. Frequency domain: a header line
    /// `frequency_hz,value` and two columns.
    Csv,
    /// A 1-D little-endian f64 NumPy array.
    #[default]
    Npy,
    /// An object with samples, sample_rate, start, domain, channel, units, measurements.
    Json,
}

impl OutputFormat {
    /// The file extension: `csv`, `npy` or `json`.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Csv => "csv",
            OutputFormat::Npy => "npy",
            OutputFormat::Json => "json",
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for OutputFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "csv" => Ok(OutputFormat::Csv),
            "npy" => Ok(OutputFormat::Npy),
            "json" => Ok(OutputFormat::Json),
            _ => Err(Error::InvalidOption(format!(
                "output format must be 'csv', 'npy' or 'json', got '{s}'"
            ))),
        }
    }
}

/// A name beside `path` for writing before the rename: hidden, and unique to
/// this process and call.
fn temporary_beside(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    path.with_file_name(tmp)
}

/// Whether `name` is a temporary file of [`write_atomically`] (a leftover
/// when the process writing it was killed).
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp-")
}

/// Removes the leftover temporary files of [`write_atomically`] in `dir`
/// (not in its subdirectories), returning how many there were. Call it only
/// when no other process writes into `dir`.
pub fn remove_temporaries(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if is_temporary(&entry.file_name().to_string_lossy()) && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Writes a file atomically: `fill` writes into a temporary file beside
/// `path`, which is flushed, synced and renamed over `path` only if all of
/// that succeeds. On any failure the temporary file is removed and `path`
/// is left as it was.
pub fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let tmp = temporary_beside(path);
    let result = (|| {
        let mut out = BufWriter::new(File::create(&tmp)?);
        fill(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    })
}

/// Writes a trace in `format`, complete or not at all (see [`write_atomically`]).
pub fn write_trace(trace: &Trace, path: &Path, format: OutputFormat) -> Result<(), Error> {
    write_atomically(path, |out| match format {
        OutputFormat::Csv => write_csv(trace, out),
        OutputFormat::Npy => write_npy(trace, out),
        OutputFormat::Json => write_json(trace, out),
    })
}

/// Writes the samples as CSV (shortest text that reads back exactly): one
/// value a line in the time domain; in the frequency domain a header line
/// `frequency_hz,value` and a frequency column before the values.
pub fn write_csv(trace: &Trace, out: &mut dyn Write) -> std::io::Result<()> {
    match trace.meta().domain {
        Domain::Time => {
            for x in trace.samples() {
                writeln!(out, "{x:?}")?;
            }
        }
        Domain::Frequency => {
            let meta = trace.meta();
            writeln!(out, "frequency_hz,value")?;
            for (k, x) in trace.samples().iter().enumerate() {
                let f = meta.start + k as f64 / meta.sample_rate;
                writeln!(out, "{f:?},{x:?}")?;
            }
        }
    }
    Ok(())
}

/// Writes the samples as a 1-D little-endian f64 NPY array (format 1.0).
pub fn write_npy(trace: &Trace, out: &mut dyn Write) -> std::io::Result<()> {
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({},), }}",
        trace.len()
    );
    // Magic (6) + version (2) + header length (2) + header + '\n', padded to 64.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    out.write_all(b"\x93NUMPY\x01\x00")?;
    let len = u16::try_from(header.len()).expect("an NPY header of a 1-D shape is short");
    out.write_all(&len.to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    for chunk in trace.samples().chunks(8192) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|x| x.to_le_bytes()).collect();
        out.write_all(&bytes)?;
    }
    Ok(())
}

fn json_number(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// The trace as a JSON value: samples (non-finite values as null), sample_rate,
/// start, domain, channel, units, measurements, attributes, and the x axis
/// stated plainly: `x_start` and `x_step` in `x_unit` (`"s"` in the time
/// domain, `"Hz"` in the frequency domain, where `sample_rate` is points per
/// hertz).
///
/// ```
/// use tracekit_io::{Trace, trace_to_json};
///
/// let json = trace_to_json(&Trace::new(vec![1.0, 2.0], 4.0)?);
/// assert_eq!((json["x_step"].as_f64(), json["x_unit"].as_str()), (Some(0.25), Some("s")));
/// # Ok::<(), tracekit_core::Error>(())
/// ```
pub fn trace_to_json(trace: &Trace) -> serde_json::Value {
    let meta = trace.meta();
    let x_unit = match meta.domain {
        Domain::Time => "s",
        Domain::Frequency => "Hz",
    };
    let measurements: serde_json::Map<String, serde_json::Value> = meta
        .measurements
        .iter()
        .map(|(k, v)| (k.clone(), json_number(*v)))
        .collect();
    serde_json::json!({
        "samples": trace.samples().iter().map(|x| json_number(*x)).collect::<Vec<_>>(),
        "sample_rate": meta.sample_rate,
        "start": json_number(meta.start),
        "domain": meta.domain.to_string(),
        "channel": meta.channel,
        "units": meta.units,
        "measurements": measurements,
        "attributes": meta.attributes,
        "x_start": json_number(meta.start),
        "x_step": json_number(1.0 / meta.sample_rate),
        "x_unit": x_unit,
    })
}

/// Writes the trace as JSON (see [`trace_to_json`]).
pub fn write_json(trace: &Trace, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &trace_to_json(trace))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spectrum_states_its_axis_in_json() {
        let mut meta = tracekit_core::TraceMeta::new(0.5);
        meta.domain = Domain::Frequency;
        meta.start = 10.0;
        let json = trace_to_json(&Trace::with_meta(vec![3.0], meta).unwrap());
        assert_eq!(json["x_start"], 10.0);
        assert_eq!(json["x_step"], 2.0);
        assert_eq!(json["x_unit"], "Hz");
        assert_eq!(json["sample_rate"], 0.5);
    }

    #[test]
    fn npy_header_is_padded_to_64() {
        let t = Trace::new(vec![1.0, 2.0], 1.0).unwrap();
        let mut out = Vec::new();
        write_npy(&t, &mut out).unwrap();
        let header = out.len() - 16;
        assert_eq!(header % 64, 0);
        assert_eq!(out[header - 1], b'\n');
        assert!(out.starts_with(b"\x93NUMPY\x01\x00"));
    }

    #[test]
    fn spectrum_csv_has_frequencies() {
        let mut meta = tracekit_core::TraceMeta::new(0.5);
        meta.domain = Domain::Frequency;
        let t = Trace::with_meta(vec![3.0, 4.0], meta).unwrap();
        let mut out = Vec::new();
        write_csv(&t, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "frequency_hz,value\n0.0,3.0\n2.0,4.0\n"
        );
    }

    #[test]
    fn failed_writes_leave_nothing() {
        let dir = std::env::temp_dir().join(format!("tracekit-io-write-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.csv");
        std::fs::write(&path, "old").unwrap();
        let err = write_atomically(&path, |out| {
            out.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::write(temporary_beside(&path), "left by a killed run").unwrap();
        assert_eq!(remove_temporaries(&dir).unwrap(), 1);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
