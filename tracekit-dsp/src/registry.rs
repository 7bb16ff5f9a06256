//! Builds any built-in transformer from its kind name and parameters.

use tracekit_core::{Error, Params, Transformer};

use crate::{
    Bandpass, Bandstop, Clip, Decimate, Detrend, Dwt, DwtDenoise, Envelope, Fft, Highpass, Lowpass,
    Merge, MovingAverage, Normalize, Offset, Psd, Resample, Scale, SpectralMetrics, Stats, params,
};

/// The kind names the registry knows, in the order the crate documents them.
pub const KINDS: &[&str] = &[
    "scale",
    "offset",
    "clip",
    "normalize",
    "detrend",
    "moving_average",
    "lowpass",
    "highpass",
    "bandpass",
    "bandstop",
    "decimate",
    "resample",
    "fft",
    "psd",
    "envelope",
    "dwt",
    "dwt_denoise",
    "stats",
    "spectral_metrics",
    "merge",
];

/// Builds the built-in transformer `kind` with `params` (defaults for the rest).
///
/// Unknown kinds, unknown parameter names, wrong types and missing required
/// parameters are errors that name the kind and the parameter.
pub fn build(kind: &str, params: &Params) -> Result<Box<dyn Transformer>, Error> {
    let built: Option<Result<Box<dyn Transformer>, tracekit_core::StageError>> = match kind {
        "scale" => Some(Scale::from_params(params).map(boxed)),
        "offset" => Some(Offset::from_params(params).map(boxed)),
        "clip" => Some(Clip::from_params(params).map(boxed)),
        "normalize" => Some(Normalize::from_params(params).map(boxed)),
        "detrend" => Some(Detrend::from_params(params).map(boxed)),
        "moving_average" => Some(MovingAverage::from_params(params).map(boxed)),
        "lowpass" => Some(Lowpass::from_params(params).map(boxed)),
        "highpass" => Some(Highpass::from_params(params).map(boxed)),
        "bandpass" => Some(Bandpass::from_params(params).map(boxed)),
        "bandstop" => Some(Bandstop::from_params(params).map(boxed)),
        "decimate" => Some(Decimate::from_params(params).map(boxed)),
        "stats" => Some(params::apply(Stats, params).map(boxed)),
        "merge" => Some(Merge::from_params(params).map(boxed)),
        "resample" => Some(
            params::require(kind, params, &["samples"])
                .and_then(|()| params::apply(Resample::default(), params))
                .map(boxed),
        ),
        "fft" => Some(params::apply(Fft::default(), params).map(boxed)),
        "psd" => Some(params::apply(Psd::default(), params).map(boxed)),
        "envelope" => Some(params::apply(Envelope, params).map(boxed)),
        "dwt" => Some(params::apply(Dwt::default(), params).map(boxed)),
        "dwt_denoise" => Some(params::apply(DwtDenoise::default(), params).map(boxed)),
        "spectral_metrics" => Some(params::apply(SpectralMetrics::default(), params).map(boxed)),
        _ => None,
    };
    match built {
        Some(Ok(t)) => Ok(t),
        Some(Err(e)) => Err(Error::InvalidConfig(format!("cannot build '{kind}': {e}"))),
        None => Err(Error::InvalidConfig(format!(
            "unknown transformer kind '{kind}'; known kinds: [{}]",
            KINDS.join(", ")
        ))),
    }
}

/// A built transformer as the registry hands it out.
fn boxed<T: Transformer + 'static>(t: T) -> Box<dyn Transformer> {
    Box::new(t)
}
