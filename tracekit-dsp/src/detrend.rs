//! The `detrend` built-in.

use tracekit_core::{
    ParamValue, Params, StageError, Trace, Transformer,
    buffer::{AllocError, SampleVec},
};

use crate::{
    input::{mean, one, pairwise_sum},
    params,
    pooled::{map, output_blocks},
};

const KIND: &str = "detrend";
const TYPES: &[&str] = &["mean", "linear"];

/// Removes the mean (`type = "mean"`, `scipy.signal.detrend(x, type='constant')`)
/// or the least-squares line (`"linear"`, `scipy.signal.detrend(x, type='linear')`).
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::Detrend;
///
/// let t = Trace::new(vec![1.0, 3.0, 5.0, 7.0], 1.0)?;
/// let out = Detrend::linear().transform(&[&t])?;
/// assert!(out.samples().iter().all(|v| v.abs() < 1e-12));
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Detrend {
    linear: bool,
}

impl Detrend {
    /// Removes the mean.
    pub fn mean() -> Detrend {
        Detrend { linear: false }
    }

    /// Removes the least-squares line.
    pub fn linear() -> Detrend {
        Detrend { linear: true }
    }

    /// Builds from registry parameters (`type` "mean" | "linear", default "mean").
    pub fn from_params(p: &Params) -> Result<Detrend, StageError> {
        params::apply(Detrend::mean(), p)
    }
}

impl Default for Detrend {
    fn default() -> Detrend {
        Detrend::mean()
    }
}

/// `x` minus its least-squares line over `t = (i + 1) / n`.
fn remove_line(x: &[f64]) -> Result<SampleVec, AllocError> {
    let n = x.len() as f64;
    let t = |i: usize| (i + 1) as f64 / n;
    let tm = (n + 1.0) / (2.0 * n);
    let xm = mean(x);
    let (mut stt, mut stx) = (0.0, 0.0);
    for (i, v) in x.iter().enumerate() {
        let dt = t(i) - tm;
        stt += dt * dt;
        stx += dt * (v - xm);
    }
    let slope = if stt > 0.0 { stx / stt } else { 0.0 };
    output_blocks(x.len(), |start, block| {
        for (i, (o, v)) in (start..).zip(block.iter_mut().zip(&x[start..])) {
            *o = v - (xm + slope * (t(i) - tm));
        }
    })
}

impl Transformer for Detrend {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let t = one(KIND, inputs)?;
        let x = t.samples();
        if x.is_empty() {
            return Ok(t.clone());
        }
        Ok(t.derive_samples(if self.linear {
            remove_line(x)?
        } else {
            let m = pairwise_sum(x, &|v| v) / x.len() as f64;
            map(x, |v| v - m)?
        }))
    }

    fn kind(&self) -> &str {
        KIND
    }

    fn get_params(&self) -> Params {
        let ty = if self.linear { "linear" } else { "mean" };
        Params::from([("type".to_owned(), ParamValue::from(ty))])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "type" => self.linear = params::choice(KIND, name, &value, TYPES)? == "linear",
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}
