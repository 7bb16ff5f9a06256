//! Built-in signal-processing transformers for tracekit, numerically matching
//! SciPy, NumPy and PyWavelets, and the registry that builds them by kind name.
//!
//! ```
//! use tracekit_core::{Params, ParamValue, Trace};
//! use tracekit_dsp::build;
//!
//! let scale = build("scale", &Params::from([("factor".to_string(), ParamValue::Float(2.0))]))?;
//! let out = scale.transform(&[&Trace::new(vec![1.0, -1.0], 1e3)?]).unwrap();
//! assert_eq!(out.samples(), &[2.0, -2.0]);
//! # Ok::<(), tracekit_core::Error>(())
//! ```
#![deny(missing_docs)]

mod budget;
mod decimate;
mod detrend;
mod elementwise;
mod filters;
mod input;
mod ln;
mod merge;
mod moving_average;
mod normalize;
pub mod params;
mod pooled;
mod registry;
mod simd;
pub mod sos;
mod stats;

mod envelope;
mod fftplan;
pub mod metrics;
mod psd;
mod resample;
mod spectrum;
pub mod wavelet;
pub mod window;

pub use crate::{
    budget::{STAGE_MEMORY_ENV, memory_budget, set_memory_budget},
    decimate::Decimate,
    detrend::Detrend,
    elementwise::{Clip, Offset, Scale},
    filters::{Bandpass, Bandstop, Highpass, Lowpass},
    merge::{Merge, MergeOp},
    moving_average::MovingAverage,
    normalize::Normalize,
    registry::{KINDS, build},
    stats::Stats,
};
pub use crate::{
    envelope::Envelope,
    metrics::SpectralMetrics,
    psd::Psd,
    resample::Resample,
    spectrum::{Fft, FftScale},
    wavelet::{Dwt, DwtDenoise, ThresholdMode},
};
