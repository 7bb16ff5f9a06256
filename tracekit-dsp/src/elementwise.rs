//! Element-wise built-ins: `scale`, `offset` and `clip`.

use tracekit_core::{ParamValue, Params, StageError, Trace, Transformer};

use crate::{input::one, params, pooled::map};

/// Multiplies every sample by `factor`, like NumPy's `x * factor`.
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::Scale;
///
/// let out = Scale::new(2.0).transform(&[&Trace::new(vec![1.0, -3.0], 1e3)?])?;
/// assert_eq!(out.samples(), &[2.0, -6.0]);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    factor: f64,
}

impl Scale {
    /// A stage multiplying by `factor`.
    pub fn new(factor: f64) -> Scale {
        Scale { factor }
    }

    /// Builds from registry parameters (`factor`, default 1.0).
    pub fn from_params(p: &Params) -> Result<Scale, StageError> {
        params::apply(Scale::new(1.0), p)
    }
}

impl Default for Scale {
    fn default() -> Scale {
        Scale::new(1.0)
    }
}

impl Transformer for Scale {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let t = one("scale", inputs)?;
        let f = self.factor;
        Ok(t.derive_samples(map(t.samples(), |v| v * f)?))
    }

    fn kind(&self) -> &str {
        "scale"
    }

    fn get_params(&self) -> Params {
        Params::from([("factor".to_owned(), ParamValue::Float(self.factor))])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "factor" => self.factor = params::finite("scale", name, &value)?,
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}

/// Adds `value` to every sample, like NumPy's `x + value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Offset {
    value: f64,
}

impl Offset {
    /// A stage adding `value`.
    pub fn new(value: f64) -> Offset {
        Offset { value }
    }

    /// Builds from registry parameters (`value`, default 0.0).
    pub fn from_params(p: &Params) -> Result<Offset, StageError> {
        params::apply(Offset::new(0.0), p)
    }
}

impl Default for Offset {
    fn default() -> Offset {
        Offset::new(0.0)
    }
}

impl Transformer for Offset {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let t = one("offset", inputs)?;
        let c = self.value;
        Ok(t.derive_samples(map(t.samples(), |v| v + c)?))
    }

    fn kind(&self) -> &str {
        "offset"
    }

    fn get_params(&self) -> Params {
        Params::from([("value".to_owned(), ParamValue::Float(self.value))])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "value" => self.value = params::finite("offset", name, &value)?,
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}

/// Limits samples to `[low, high]`, like `np.clip(x, low, high)` (NaN stays NaN).
///
/// Either bound may be infinite; `low` above `high` is an error when the stage runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    low: f64,
    high: f64,
}

impl Clip {
    /// A stage clipping to `[low, high]`.
    pub fn new(low: f64, high: f64) -> Clip {
        Clip { low, high }
    }

    /// Builds from registry parameters (`low` and `high`, both required).
    pub fn from_params(p: &Params) -> Result<Clip, StageError> {
        params::require("clip", p, &["low", "high"])?;
        let c = params::apply(Clip::new(f64::NEG_INFINITY, f64::INFINITY), p)?;
        c.check()?;
        Ok(c)
    }

    fn check(&self) -> Result<(), StageError> {
        if self.low <= self.high {
            Ok(())
        } else {
            Err(format!("clip: low {} must not exceed high {}", self.low, self.high).into())
        }
    }
}

impl Transformer for Clip {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let t = one("clip", inputs)?;
        self.check()?;
        let (lo, hi) = (self.low, self.high);
        Ok(t.derive_samples(map(t.samples(), |v| {
            let v = if v < lo { lo } else { v };
            if v > hi { hi } else { v }
        })?))
    }

    fn kind(&self) -> &str {
        "clip"
    }

    fn get_params(&self) -> Params {
        Params::from([
            ("high".to_owned(), ParamValue::Float(self.high)),
            ("low".to_owned(), ParamValue::Float(self.low)),
        ])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        let bound = params::float("clip", name, &value);
        match name {
            "low" | "high" => {
                let x = bound?;
                if x.is_nan() {
                    return Err(format!("clip: parameter '{name}' must not be NaN").into());
                }
                if name == "low" {
                    self.low = x
                } else {
                    self.high = x
                }
            }
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}
