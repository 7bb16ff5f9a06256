//! Reading and writing traces: CSV, WAV and NPY in, CSV, NPY and JSON out.
//!
//! A file may hold several traces (WAV channels, rows of a 2-D NPY, value
//! columns of a CSV); each becomes one [`NamedTrace`] named `<stem>.ch<k>`,
//! or just `<stem>` when the file holds one trace.
//!
//! ```no_run
//! use tracekit::io::{read_traces, write_trace, OutputFormat};
//!
//! for named in read_traces("capture.wav".as_ref(), None)? {
//!     println!("{}: {} samples at {} Hz", named.name, named.trace.len(), named.trace.sample_rate());
//!     write_trace(&named.trace, format!("{}.npy", named.name).as_ref(), OutputFormat::Npy)?;
//! }
//! # Ok::<(), tracekit::Error>(())
//! ```

use std::{
    fmt,
    fs::File,
    io::{BufRead, BufReader, BufWriter, Read, Write},
    path::Path,
    str::FromStr,
};

use tracekit_core::{Domain, Error, Trace, TraceMeta};

/// A trace read from a file, with the name it goes by in outputs.
#[derive(Debug, Clone)]
pub struct NamedTrace {
    /// `<stem>` or `<stem>.ch<k>`.
    pub name: String,
    /// The trace.
    pub trace: Trace,
}

/// The file formats traces can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OutputFormat {
    /// One value a line.
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
            _ => Err(Error::InvalidConfig(format!(
                "output format must be 'csv', 'npy' or 'json', got '{s}'"
            ))),
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
}

fn format_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Format {
        path: path.display().to_string(),
        message: message.into(),
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trace".into())
}

fn name_traces(path: &Path, traces: Vec<Trace>) -> Vec<NamedTrace> {
    let stem = stem(path);
    let single = traces.len() == 1;
    traces
        .into_iter()
        .enumerate()
        .map(|(k, mut trace)| {
            let name = if single {
                stem.clone()
            } else {
                format!("{stem}.ch{k}")
            };
            if trace.meta().channel.is_empty() {
                trace.meta_mut().channel = name.clone();
            }
            NamedTrace { name, trace }
        })
        .collect()
}

/// Reads every trace in a CSV, WAV or NPY file (chosen by extension).
///
/// `sample_rate` is needed for files that do not say their rate (one-column
/// CSV, NPY); WAV and time,value CSV files carry their own.
pub fn read_traces(path: &Path, sample_rate: Option<f64>) -> Result<Vec<NamedTrace>, Error> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let traces = match ext.as_str() {
        "csv" | "txt" => read_csv(path, sample_rate)?,
        "wav" => read_wav(path)?,
        "npy" => read_npy(path, sample_rate)?,
        other => {
            return Err(format_error(
                path,
                format!("unknown file type '{other}'; tracekit reads .csv, .wav and .npy files"),
            ));
        }
    };
    if traces.is_empty() {
        return Err(format_error(path, "the file holds no trace"));
    }
    Ok(name_traces(path, traces))
}

fn need_rate(path: &Path, rate: Option<f64>, why: &str) -> Result<f64, Error> {
    let rate = rate.ok_or_else(|| {
        format_error(
            path,
            format!("{why} does not say its sample rate; give one (--sample-rate HZ)"),
        )
    })?;
    if rate.is_finite() && rate > 0.0 {
        Ok(rate)
    } else {
        Err(format_error(
            path,
            format!("sample rate must be finite and greater than 0, got {rate}"),
        ))
    }
}

/// Reads a CSV file: one column of samples, or a time column followed by one
/// or more value columns. A header line (any non-numeric first line) is skipped,
/// as are blank lines and lines starting with `#`.
pub fn read_csv(path: &Path, sample_rate: Option<f64>) -> Result<Vec<Trace>, Error> {
    let file = File::open(path).map_err(|e| io_error(path, e))?;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut width = None;
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| io_error(path, e))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split([',', ';', '\t']).map(str::trim).collect();
        let parsed: Result<Vec<f64>, _> = fields.iter().map(|f| parse_number(f)).collect();
        match parsed {
            Ok(values) => {
                let w = *width.get_or_insert(values.len());
                if values.len() != w {
                    return Err(format_error(
                        path,
                        format!(
                            "line {}: {} columns, expected {w}",
                            number + 1,
                            values.len()
                        ),
                    ));
                }
                rows.push(values);
            }
            Err(_) if rows.is_empty() && width.is_none() => {} // header
            Err(bad) => {
                return Err(format_error(
                    path,
                    format!("line {}: not a number: {bad:?}", number + 1),
                ));
            }
        }
    }
    let width = width.ok_or_else(|| format_error(path, "no numeric rows"))?;
    if width == 1 {
        let rate = need_rate(path, sample_rate, "a one-column CSV file")?;
        let samples = rows.into_iter().map(|r| r[0]).collect();
        return Ok(vec![
            Trace::new(samples, rate).map_err(|e| format_error(path, e.to_string()))?,
        ]);
    }
    let times: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    let rate = uniform_rate(&times).map_err(|m| format_error(path, m))?;
    let mut meta = TraceMeta::new(rate);
    meta.start = times[0];
    (1..width)
        .map(|c| {
            Trace::with_meta(rows.iter().map(|r| r[c]).collect(), meta.clone())
                .map_err(|e| format_error(path, e.to_string()))
        })
        .collect()
}

fn parse_number(field: &str) -> Result<f64, String> {
    match field.to_ascii_lowercase().as_str() {
        "nan" => Ok(f64::NAN),
        "inf" | "+inf" | "infinity" => Ok(f64::INFINITY),
        "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
        _ => field.parse::<f64>().map_err(|_| field.to_owned()),
    }
}

/// The sample rate of evenly spaced, increasing time stamps.
fn uniform_rate(times: &[f64]) -> Result<f64, String> {
    if times.len() < 2 {
        return Err("a time,value file needs at least two rows to know its sample rate".into());
    }
    let n = times.len();
    let dt = (times[n - 1] - times[0]) / (n - 1) as f64;
    if !(dt.is_finite() && dt > 0.0) {
        return Err(format!(
            "time stamps must increase; first {} last {}",
            times[0],
            times[n - 1]
        ));
    }
    for (i, w) in times.windows(2).enumerate() {
        let step = w[1] - w[0];
        if (step - dt).abs() > 1e-3 * dt {
            return Err(format!(
                "time stamps are not evenly spaced: step {step} between rows {} and {}, expected {dt}",
                i + 1,
                i + 2
            ));
        }
    }
    Ok(1.0 / dt)
}

/// Reads a WAV file: every channel is a trace, integer PCM scaled to [-1, 1).
pub fn read_wav(path: &Path) -> Result<Vec<Trace>, Error> {
    let mut reader = hound::WavReader::open(path).map_err(|e| format_error(path, e.to_string()))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 {
        return Err(format_error(path, "the WAV file has no channels"));
    }
    let interleaved: Vec<f64> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .map(|s| s.map(f64::from))
            .collect::<Result<_, _>>()
            .map_err(|e| format_error(path, e.to_string()))?,
        hound::SampleFormat::Int => {
            let scale = 2f64.powi(i32::from(spec.bits_per_sample) - 1);
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| f64::from(v) / scale))
                .collect::<Result<_, _>>()
                .map_err(|e| format_error(path, e.to_string()))?
        }
    };
    let rate = f64::from(spec.sample_rate);
    (0..channels)
        .map(|c| {
            let samples = interleaved
                .iter()
                .skip(c)
                .step_by(channels)
                .copied()
                .collect();
            Trace::new(samples, rate).map_err(|e| format_error(path, e.to_string()))
        })
        .collect()
}

/// Reads an NPY file of floats or integers: 1-D is one trace, 2-D one trace per row.
pub fn read_npy(path: &Path, sample_rate: Option<f64>) -> Result<Vec<Trace>, Error> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| io_error(path, e))?;
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| format_error(path, e.to_string()))?;
    let shape: Vec<u64> = npy.shape().to_vec();
    let fortran = npy.order() == npyz::Order::Fortran;
    let descr = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => {
            return Err(format_error(
                path,
                format!("unsupported NPY dtype {other:?}"),
            ));
        }
    };
    let bad = |e: std::io::Error| format_error(path, e.to_string());
    let flat: Vec<f64> = match &descr[1..] {
        "f8" => npy.into_vec::<f64>().map_err(bad)?,
        "f4" => npy
            .into_vec::<f32>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        "i8" => npy
            .into_vec::<i64>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        "i4" => npy
            .into_vec::<i32>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        "i2" => npy
            .into_vec::<i16>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        "i1" => npy
            .into_vec::<i8>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        "u8" => npy
            .into_vec::<u64>()
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        "u4" => npy
            .into_vec::<u32>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        "u2" => npy
            .into_vec::<u16>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        "u1" => npy
            .into_vec::<u8>()
            .map_err(bad)?
            .into_iter()
            .map(f64::from)
            .collect(),
        _ => {
            return Err(format_error(
                path,
                format!("unsupported NPY dtype '{descr}'; tracekit reads float and integer arrays"),
            ));
        }
    };
    let rate = need_rate(path, sample_rate, "an NPY file")?;
    let make = |samples: Vec<f64>| {
        Trace::new(samples, rate).map_err(|e| format_error(path, e.to_string()))
    };
    match shape.as_slice() {
        [_] => Ok(vec![make(flat)?]),
        &[rows, cols] => {
            let (rows, cols) = (rows as usize, cols as usize);
            (0..rows)
                .map(|r| {
                    let row = if fortran {
                        (0..cols).map(|c| flat[c * rows + r]).collect()
                    } else {
                        flat[r * cols..(r + 1) * cols].to_vec()
                    };
                    make(row)
                })
                .collect()
        }
        other => Err(format_error(
            path,
            format!("NPY arrays must be 1-D or 2-D (one trace per row), got shape {other:?}"),
        )),
    }
}

/// Writes a trace in `format`.
pub fn write_trace(trace: &Trace, path: &Path, format: OutputFormat) -> Result<(), Error> {
    let file = File::create(path).map_err(|e| io_error(path, e))?;
    let mut out = BufWriter::new(file);
    let written = match format {
        OutputFormat::Csv => write_csv(trace, &mut out),
        OutputFormat::Npy => write_npy(trace, &mut out),
        OutputFormat::Json => write_json(trace, &mut out),
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| io_error(path, e))
}

/// Writes the samples as CSV, one value a line (shortest text that reads back exactly).
pub fn write_csv(trace: &Trace, out: &mut impl Write) -> std::io::Result<()> {
    for x in trace.samples() {
        writeln!(out, "{x:?}")?;
    }
    Ok(())
}

/// Writes the samples as a 1-D little-endian f64 NPY array.
pub fn write_npy(trace: &Trace, out: &mut impl Write) -> std::io::Result<()> {
    use npyz::WriterBuilder;
    let mut writer = npyz::WriteOptions::<f64>::new()
        .default_dtype()
        .shape(&[trace.len() as u64])
        .writer(out)
        .begin_nd()?;
    writer.extend(trace.samples().iter().copied())?;
    writer.finish()
}

fn json_number(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// The trace as a JSON value: samples (non-finite values as null), sample_rate,
/// start, domain, channel, units, measurements.
pub fn trace_to_json(trace: &Trace) -> serde_json::Value {
    let meta = trace.meta();
    let measurements: serde_json::Map<String, serde_json::Value> = meta
        .measurements
        .iter()
        .map(|(k, v)| (k.clone(), json_number(*v)))
        .collect();
    serde_json::json!({
        "samples": trace.samples().iter().map(|x| json_number(*x)).collect::<Vec<_>>(),
        "sample_rate": meta.sample_rate,
        "start": json_number(meta.start),
        "domain": match meta.domain { Domain::Time => "time", Domain::Frequency => "frequency" },
        "channel": meta.channel,
        "units": meta.units,
        "measurements": measurements,
    })
}

/// Writes the trace as JSON (see [`trace_to_json`]).
pub fn write_json(trace: &Trace, out: &mut impl Write) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &trace_to_json(trace))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tracekit-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn csv_one_column_needs_a_rate() {
        let p = tmp("one.csv");
        std::fs::write(&p, "value\n1\n2.5\n-3e2\n").unwrap();
        let e = read_traces(&p, None).unwrap_err();
        assert!(e.to_string().contains("--sample-rate"), "{e}");
        let t = read_traces(&p, Some(10.0)).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].name, "one");
        assert_eq!(t[0].trace.samples(), &[1.0, 2.5, -300.0]);
    }

    #[test]
    fn csv_time_value_derives_the_rate() {
        let p = tmp("tv.csv");
        std::fs::write(&p, "t,a,b\n0.5,1,10\n0.75,2,20\n1.0,3,30\n").unwrap();
        let t = read_traces(&p, None).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].name, "tv.ch1");
        assert_eq!(t[0].trace.sample_rate(), 4.0);
        assert_eq!(t[0].trace.meta().start, 0.5);
        assert_eq!(t[1].trace.samples(), &[10.0, 20.0, 30.0]);
        std::fs::write(&p, "0,1\n1,2\n3,3\n").unwrap();
        assert!(
            read_traces(&p, None)
                .unwrap_err()
                .to_string()
                .contains("evenly spaced")
        );
        std::fs::write(&p, "0,1\n1,x\n").unwrap();
        assert!(
            read_traces(&p, None)
                .unwrap_err()
                .to_string()
                .contains("line 2")
        );
    }

    #[test]
    fn npy_round_trip_and_rows() {
        let p = tmp("rt.npy");
        let t = Trace::new(vec![1.0, f64::NAN, -0.0, 1e300], 5.0).unwrap();
        write_trace(&t, &p, OutputFormat::Npy).unwrap();
        let back = read_traces(&p, Some(5.0)).unwrap();
        assert_eq!(back.len(), 1);
        let bits: Vec<u64> = back[0]
            .trace
            .samples()
            .iter()
            .map(|x| x.to_bits())
            .collect();
        assert_eq!(
            bits,
            t.samples().iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn wav_channels() {
        let p = tmp("st.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&p, spec).unwrap();
        for (l, r) in [(16384i16, -32768i16), (0, 8192)] {
            w.write_sample(l).unwrap();
            w.write_sample(r).unwrap();
        }
        w.finalize().unwrap();
        let t = read_traces(&p, None).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].name, "st.ch0");
        assert_eq!(t[0].trace.samples(), &[0.5, 0.0]);
        assert_eq!(t[1].trace.samples(), &[-1.0, 0.25]);
        assert_eq!(t[1].trace.sample_rate(), 8000.0);
    }

    #[test]
    fn corrupt_and_missing_files_are_named() {
        let p = tmp("bad.wav");
        std::fs::write(&p, b"RIFF....not a wav").unwrap();
        let e = read_traces(&p, None).unwrap_err().to_string();
        assert!(e.contains("bad.wav"), "{e}");
        let e = read_traces(&tmp("missing.csv"), Some(1.0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.csv"), "{e}");
        let e = read_traces(&tmp("x.mat"), None).unwrap_err().to_string();
        assert!(e.contains("unknown file type"), "{e}");
    }

    #[test]
    fn json_has_every_field() {
        let t = Trace::new(vec![1.0, f64::INFINITY], 2.0)
            .unwrap()
            .with_measurement("mean", 1.5);
        let v = trace_to_json(&t);
        assert_eq!(v["samples"][1], serde_json::Value::Null);
        assert_eq!(v["sample_rate"], 2.0);
        assert_eq!(v["domain"], "time");
        assert_eq!(v["measurements"]["mean"], 1.5);
    }
}
