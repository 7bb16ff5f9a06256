//! WAV: RIFF audio, every channel a trace.

use tracekit_core::Trace;

use crate::{
    error::{Result, bail},
    registry::{Format, Input},
};

/// RIFF WAVE audio.
pub(crate) const FORMAT: Format = Format {
    name: "WAV",
    probe: |input| input.data.starts_with(b"RIFF") && input.data.get(8..12) == Some(b"WAVE"),
    read,
};

fn read(input: &Input<'_>) -> Result<Vec<Trace>> {
    let mut reader = hound::WavReader::new(input.data).map_err(|e| e.to_string())?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 {
        bail!("the WAV file has no channels");
    }
    let interleaved: Vec<f64> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .map(|s| s.map(f64::from))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| e.to_string())?,
        hound::SampleFormat::Int => {
            let scale = 2f64.powi(i32::from(spec.bits_per_sample) - 1);
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| f64::from(v) / scale))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| e.to_string())?
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
            Ok(Trace::new(samples, rate)?)
        })
        .collect()
}
