//! Traces: sampled signals with their metadata.

use std::{collections::BTreeMap, fmt, sync::Arc};

use crate::{
    Error,
    buffer::{ExternalMemory, SampleVec},
};

/// What the x axis of a trace measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Domain {
    /// Samples over time; the sample rate is in samples per second.
    #[default]
    Time,
    /// Points over frequency; the sample rate is in points per hertz.
    Frequency,
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Domain::Time => "time",
            Domain::Frequency => "frequency",
        })
    }
}

/// Everything about a trace except its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceMeta {
    /// Points per axis unit: samples/s in [`Domain::Time`], points/Hz in [`Domain::Frequency`].
    pub sample_rate: f64,
    /// The x value of the first point (s or Hz).
    pub start: f64,
    /// What the x axis measures.
    pub domain: Domain,
    /// The channel the trace came from (`"CH1"`, a file stem...).
    pub channel: String,
    /// Units of the samples (`"V"`, `"dB"`...).
    pub units: String,
    /// Named scalar results computed by stages (`"thd_db"`, `"mean"`...).
    pub measurements: BTreeMap<String, f64>,
    /// What the capture file says about the trace: `vendor`, `model`,
    /// `serial`, `coupling`, `probe`, `trigger_time`, `source`... Stages pass
    /// them through unchanged.
    pub attributes: BTreeMap<String, String>,
}

impl TraceMeta {
    /// Metadata of a time-domain trace at `sample_rate`, starting at 0, with no names.
    pub fn new(sample_rate: f64) -> TraceMeta {
        TraceMeta {
            sample_rate,
            start: 0.0,
            domain: Domain::Time,
            channel: String::new(),
            units: String::new(),
            measurements: BTreeMap::new(),
            attributes: BTreeMap::new(),
        }
    }
}

impl Default for TraceMeta {
    fn default() -> TraceMeta {
        TraceMeta::new(1.0)
    }
}

/// Storage of samples that a [`Trace`] can share without copying.
///
/// `Vec<f64>` is the ordinary storage; an executor may provide its own, such
/// as a read-only shared-memory mapping, through [`Trace::from_buffer`].
pub trait SampleBuffer: Send + Sync + fmt::Debug + 'static {
    /// The samples: the same on every call. A buffer never changes once a
    /// trace holds it; executors rely on that to skip copying a buffer they
    /// have seen before.
    fn samples(&self) -> &[f64];

    /// The memory outside the heap that holds the samples, if any: an
    /// executor recognises its own shared memory by it (see
    /// [`buffer::set_output_memory`](crate::buffer::set_output_memory)).
    fn external(&self) -> Option<&dyn ExternalMemory> {
        None
    }
}

impl SampleBuffer for Vec<f64> {
    fn samples(&self) -> &[f64] {
        self
    }
}

/// A sampled signal: shared samples plus [`TraceMeta`].
///
/// Cloning a trace never copies its samples.
///
/// ```
/// use tracekit_core::Trace;
///
/// let t = Trace::new(vec![1.0, 2.0, 3.0], 1e6)?;
/// assert_eq!(t.len(), 3);
/// let doubled = t.derive(t.samples().iter().map(|x| 2.0 * x).collect());
/// assert_eq!(doubled.samples(), &[2.0, 4.0, 6.0]);
/// assert_eq!(doubled.sample_rate(), 1e6);
/// # Ok::<(), tracekit_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Trace {
    samples: Arc<dyn SampleBuffer>,
    meta: TraceMeta,
}

fn check_rate(rate: f64) -> Result<(), Error> {
    if rate.is_finite() && rate > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidTrace(format!(
            "sample rate must be finite and greater than 0, got {rate}"
        )))
    }
}

impl Trace {
    /// A time-domain trace of `samples` at `sample_rate`.
    ///
    /// Fails unless the rate is finite and greater than zero. Samples may be
    /// anything, NaN and infinities included; an empty trace is valid.
    pub fn new(samples: Vec<f64>, sample_rate: f64) -> Result<Trace, Error> {
        Trace::with_meta(samples, TraceMeta::new(sample_rate))
    }

    /// A trace of `samples` with the given metadata; the rate is checked as in [`Trace::new`].
    pub fn with_meta(samples: Vec<f64>, meta: TraceMeta) -> Result<Trace, Error> {
        Trace::from_buffer(Arc::new(samples), meta)
    }

    /// A trace over samples stored elsewhere (a shared-memory mapping, say).
    pub fn from_buffer(buffer: Arc<dyn SampleBuffer>, meta: TraceMeta) -> Result<Trace, Error> {
        check_rate(meta.sample_rate)?;
        Ok(Trace {
            samples: buffer,
            meta,
        })
    }

    /// A trace of `samples` from the buffer pool, with the given metadata;
    /// the rate is checked as in [`Trace::new`]. The buffer goes back to
    /// the pool when the last trace holding it drops.
    pub fn from_samples(samples: SampleVec, meta: TraceMeta) -> Result<Trace, Error> {
        Trace::from_buffer(Arc::new(samples), meta)
    }

    /// The samples.
    pub fn samples(&self) -> &[f64] {
        self.samples.samples()
    }

    /// The shared storage of the samples: traces cloned or derived with the
    /// same samples hold the same `Arc`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tracekit_core::Trace;
    ///
    /// let a = Trace::new(vec![1.0, 2.0], 1e3)?;
    /// let b = a.clone().with_measurement("peak", 2.0);
    /// assert!(Arc::ptr_eq(a.buffer(), b.buffer()));
    /// # Ok::<(), tracekit_core::Error>(())
    /// ```
    pub fn buffer(&self) -> &Arc<dyn SampleBuffer> {
        &self.samples
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.samples().len()
    }

    /// Whether the trace has no samples.
    pub fn is_empty(&self) -> bool {
        self.samples().is_empty()
    }

    /// Points per axis unit (samples/s for time-domain traces).
    pub fn sample_rate(&self) -> f64 {
        self.meta.sample_rate
    }

    /// The metadata.
    pub fn meta(&self) -> &TraceMeta {
        &self.meta
    }

    /// The metadata, to change it (the samples stay shared).
    ///
    /// A sample rate set here is not checked; prefer [`Trace::derive_with_meta`].
    pub fn meta_mut(&mut self) -> &mut TraceMeta {
        &mut self.meta
    }

    /// The measurement `name`, if a stage recorded one.
    pub fn measurement(&self, name: &str) -> Option<f64> {
        self.meta.measurements.get(name).copied()
    }

    /// This trace with one more measurement.
    pub fn with_measurement(mut self, name: impl Into<String>, value: f64) -> Trace {
        self.meta.measurements.insert(name.into(), value);
        self
    }

    /// A trace with the same metadata and new samples.
    pub fn derive(&self, samples: Vec<f64>) -> Trace {
        Trace {
            samples: Arc::new(samples),
            meta: self.meta.clone(),
        }
    }

    /// A trace with the same metadata and new samples from the buffer pool
    /// (see [`buffer`](crate::buffer)).
    pub fn derive_samples(&self, samples: SampleVec) -> Trace {
        Trace {
            samples: Arc::new(samples),
            meta: self.meta.clone(),
        }
    }

    /// A trace with new samples and new metadata; the rate is checked as in [`Trace::new`].
    pub fn derive_with_meta(&self, samples: Vec<f64>, meta: TraceMeta) -> Result<Trace, Error> {
        Trace::with_meta(samples, meta)
    }

    /// Whether the two traces are the same bit for bit: samples compared by
    /// bit pattern (so NaN equals the same NaN), and equal metadata, measurements
    /// also by bit pattern.
    pub fn bit_eq(&self, other: &Trace) -> bool {
        let same_samples = self.len() == other.len()
            && self
                .samples()
                .iter()
                .zip(other.samples())
                .all(|(a, b)| a.to_bits() == b.to_bits());
        let (a, b) = (&self.meta, &other.meta);
        same_samples
            && a.sample_rate.to_bits() == b.sample_rate.to_bits()
            && a.start.to_bits() == b.start.to_bits()
            && a.domain == b.domain
            && a.channel == b.channel
            && a.units == b.units
            && a.measurements.len() == b.measurements.len()
            && a.measurements
                .iter()
                .zip(&b.measurements)
                .all(|((ka, va), (kb, vb))| ka == kb && va.to_bits() == vb.to_bits())
            && a.attributes == b.attributes
    }
}

impl PartialEq for Trace {
    /// Numeric equality of samples (NaN is unequal to itself) and equal metadata.
    fn eq(&self, other: &Trace) -> bool {
        self.samples() == other.samples() && self.meta == other.meta
    }
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let samples = self.samples();
        let mut d = f.debug_struct("Trace");
        d.field("len", &samples.len());
        if samples.len() <= 8 {
            d.field("samples", &samples);
        } else {
            d.field("head", &&samples[..4]);
        }
        d.field("meta", &self.meta).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_rates() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = Trace::new(vec![1.0], rate).unwrap_err();
            assert!(err.to_string().contains("sample rate"), "{err}");
        }
        assert!(Trace::new(vec![], 1.0).unwrap().is_empty());
    }

    #[test]
    fn clone_shares_samples() {
        let t = Trace::new(vec![1.0; 1000], 1.0).unwrap();
        let c = t.clone();
        assert!(std::ptr::eq(t.samples().as_ptr(), c.samples().as_ptr()));
    }

    #[test]
    fn bit_eq_handles_nan() {
        let a = Trace::new(vec![f64::NAN, -0.0], 1.0).unwrap();
        let b = a.derive(vec![f64::NAN, -0.0]);
        assert!(a.bit_eq(&b));
        assert_ne!(a, b);
        assert!(!a.bit_eq(&a.derive(vec![f64::NAN, 0.0])));
    }

    #[test]
    fn measurements() {
        let t = Trace::new(vec![], 1.0)
            .unwrap()
            .with_measurement("mean", 2.0);
        assert_eq!(t.measurement("mean"), Some(2.0));
        assert_eq!(t.measurement("std"), None);
    }
}
