//! Captures in and out: the files oscilloscopes, logic analysers and
//! digitizers write, read into [`Trace`]s; traces written as CSV, NPY or JSON.
//!
//! [`read`] recognises a file by its content (magic bytes and headers; size
//! and extension only where content cannot tell) and returns one trace per
//! channel: samples in volts (or the file's own unit, in `units`) exactly as
//! the vendor's conversion gives them, `sample_rate` and `start` from the
//! file's time base, `channel` the label the file gives (`"CH1"`), and
//! `attributes` what the file says (vendor, model, serial, coupling, probe,
//! ... plus `format` and `source`, the file name).
//!
//! ```no_run
//! for trace in tracekit_io::read("scope.wfm")? {
//!     let meta = trace.meta();
//!     println!("{}: {} samples at {} Sa/s", meta.channel, trace.len(), meta.sample_rate);
//! }
//! # Ok::<(), tracekit_io::Error>(())
//! ```
//!
//! Files that do not say their sample rate (a one-column CSV, an NPY array)
//! take it from [`ReadOptions`]:
//!
//! ```
//! use tracekit_io::{ReadOptions, read_with};
//!
//! let dir = std::env::temp_dir().join(format!("tracekit-io-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("column.csv");
//! std::fs::write(&path, "0.5\n1.5\n")?;
//! assert!(tracekit_io::read(&path).unwrap_err().to_string().contains("--sample-rate"));
//! let traces = read_with(&path, &ReadOptions::new().sample_rate(1e6))?;
//! assert_eq!(traces[0].samples(), &[0.5, 1.5]);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Reading is bounded: a file is read once, a header is checked against the
//! file's real length before anything is allocated, and the samples and
//! channels of one file are limited ([`ReadOptions::max_samples`],
//! [`ReadOptions::max_channels`], or the environment variables
//! `TRACEKIT_MAX_SAMPLES` and `TRACEKIT_MAX_CHANNELS`).
#![deny(missing_docs)]

mod bytes;
pub mod convert;
mod error;
mod formats;
mod naming;
mod registry;
mod strided;
mod sys;
mod write;

use std::path::Path;

pub use tracekit_core::Trace;

pub use crate::{
    error::Error,
    naming::NamedTrace,
    write::{
        OutputFormat, is_temporary, remove_temporaries, trace_to_json, write_atomically, write_csv,
        write_json, write_npy, write_trace,
    },
};

/// The environment variable that sets the default of [`ReadOptions::max_samples`].
pub const MAX_SAMPLES_ENV: &str = "TRACEKIT_MAX_SAMPLES";
/// The environment variable that sets the default of [`ReadOptions::max_channels`].
pub const MAX_CHANNELS_ENV: &str = "TRACEKIT_MAX_CHANNELS";

/// Default limit of samples per channel: 2^30 (8 GiB of `f64`).
pub const DEFAULT_MAX_SAMPLES: u64 = 1 << 30;
/// Default limit of channels per file.
pub const DEFAULT_MAX_CHANNELS: usize = 4096;

/// How to read a capture: a sample rate for files that do not say theirs,
/// and limits.
///
/// ```
/// let options = tracekit_io::ReadOptions::new().sample_rate(48_000.0).max_samples(1 << 20);
/// assert_eq!(options.sample_rate, Some(48_000.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Samples per second for files whose header does not give a time base
    /// (one-column CSV, NPY, a CSV whose X column is a sample index). A file
    /// that gives its own rate keeps it.
    pub sample_rate: Option<f64>,
    /// Most samples one channel may declare; a header that declares more is
    /// an error before anything is allocated.
    pub max_samples: u64,
    /// Most channels one file may hold.
    pub max_channels: usize,
}

fn env_limit<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

impl Default for ReadOptions {
    /// No sample rate; limits from `TRACEKIT_MAX_SAMPLES` and
    /// `TRACEKIT_MAX_CHANNELS` where set, else [`DEFAULT_MAX_SAMPLES`] and
    /// [`DEFAULT_MAX_CHANNELS`].
    fn default() -> ReadOptions {
        ReadOptions {
            sample_rate: None,
            max_samples: env_limit(MAX_SAMPLES_ENV, DEFAULT_MAX_SAMPLES),
            max_channels: env_limit(MAX_CHANNELS_ENV, DEFAULT_MAX_CHANNELS),
        }
    }
}

impl ReadOptions {
    /// The defaults (see [`Default`]).
    pub fn new() -> ReadOptions {
        ReadOptions::default()
    }

    /// Sets [`ReadOptions::sample_rate`].
    pub fn sample_rate(mut self, hz: f64) -> ReadOptions {
        self.sample_rate = Some(hz);
        self
    }

    /// Sets [`ReadOptions::max_samples`].
    pub fn max_samples(mut self, samples: u64) -> ReadOptions {
        self.max_samples = samples;
        self
    }

    /// Sets [`ReadOptions::max_channels`].
    pub fn max_channels(mut self, channels: usize) -> ReadOptions {
        self.max_channels = channels;
        self
    }

    fn check(&self) -> Result<(), Error> {
        match self.sample_rate {
            Some(rate) if !(rate.is_finite() && rate > 0.0) => Err(Error::InvalidOption(format!(
                "sample rate must be finite and greater than 0, got {rate}"
            ))),
            _ => Ok(()),
        }
    }
}

/// Reads every trace (one per channel) of the capture at `path`, with the
/// default [`ReadOptions`].
pub fn read(path: impl AsRef<Path>) -> Result<Vec<Trace>, Error> {
    read_with(path, &ReadOptions::default())
}

/// Reads every trace (one per channel) of the capture at `path`.
pub fn read_with(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Vec<Trace>, Error> {
    options.check()?;
    registry::read(path.as_ref(), options)
}

/// Reads every trace of the capture at `path` with the names they go by in
/// outputs (see [`NamedTrace::name`]).
pub fn read_named(path: impl AsRef<Path>, options: &ReadOptions) -> Result<Vec<NamedTrace>, Error> {
    let path = path.as_ref();
    Ok(naming::name_traces(path, read_with(path, options)?))
}

/// The names of the formats tracekit reads, in the order they are tried.
pub fn formats() -> impl Iterator<Item = &'static str> {
    registry::FORMATS.iter().map(|f| f.name)
}
