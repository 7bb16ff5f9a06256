//! The transformer trait: what one pipeline stage does.

use std::{collections::BTreeMap, fmt};

use crate::Trace;

/// The error a stage returns; any error type converts into it with `?` or `.into()`.
pub type StageError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Parameters of a stage by name.
pub type Params = BTreeMap<String, ParamValue>;

/// The value of one stage parameter.
///
/// ```
/// use tracekit_core::ParamValue;
///
/// assert_eq!(ParamValue::from(4_i64).as_f64(), Some(4.0));
/// assert_eq!(ParamValue::from("hann"), ParamValue::Text("hann".into()));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A real number.
    Float(f64),
    /// An integer.
    Int(i64),
    /// A flag.
    Bool(bool),
    /// A word or a name.
    Text(String),
}

impl ParamValue {
    /// The value as a number: floats as they are, integers converted.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            ParamValue::Float(x) => Some(x),
            ParamValue::Int(i) => Some(i as f64),
            _ => None,
        }
    }

    /// The value as an integer: integers, and floats with no fractional part.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            ParamValue::Int(i) => Some(i),
            ParamValue::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some(x as i64),
            _ => None,
        }
    }

    /// The value as a flag.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            ParamValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value as text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ParamValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The name of the value's type: `"float"`, `"int"`, `"bool"` or `"text"`.
    pub fn type_name(&self) -> &'static str {
        match self {
            ParamValue::Float(_) => "float",
            ParamValue::Int(_) => "int",
            ParamValue::Bool(_) => "bool",
            ParamValue::Text(_) => "text",
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Float(x) => write!(f, "{x:?}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Text(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<f64> for ParamValue {
    fn from(x: f64) -> Self {
        ParamValue::Float(x)
    }
}
impl From<i64> for ParamValue {
    fn from(i: i64) -> Self {
        ParamValue::Int(i)
    }
}
impl From<i32> for ParamValue {
    fn from(i: i32) -> Self {
        ParamValue::Int(i.into())
    }
}
impl From<usize> for ParamValue {
    fn from(i: usize) -> Self {
        ParamValue::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<bool> for ParamValue {
    fn from(b: bool) -> Self {
        ParamValue::Bool(b)
    }
}
impl From<&str> for ParamValue {
    fn from(s: &str) -> Self {
        ParamValue::Text(s.to_owned())
    }
}
impl From<String> for ParamValue {
    fn from(s: String) -> Self {
        ParamValue::Text(s)
    }
}

/// One stage of a pipeline: turns its input traces into one output trace.
///
/// Implementors write `#[derive(Clone)]` and `impl Transformer`; that is all
/// it takes to be boxed, cloned and run on any executor, also one that runs
/// stages in other processes (nothing is serialized: they inherit the stages).
///
/// `transform` takes `&self` because stages run concurrently: a stage keeps no
/// per-call state, and puts named results in its output's measurements.
///
/// ```
/// use tracekit_core::{ParamValue, Params, StageError, Trace, Transformer};
///
/// #[derive(Clone)]
/// struct Gain(f64);
///
/// impl Transformer for Gain {
///     fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
///         Ok(inputs[0].derive(inputs[0].samples().iter().map(|x| x * self.0).collect()))
///     }
///     fn get_params(&self) -> Params {
///         Params::from([("gain".to_string(), ParamValue::Float(self.0))])
///     }
///     fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
///         match (name, value.as_f64()) {
///             ("gain", Some(g)) => Ok(self.0 = g),
///             _ => Err(format!("gain takes a number, got {name} = {value}").into()),
///         }
///     }
/// }
///
/// let t = Trace::new(vec![1.0, 2.0], 10.0)?;
/// let out = Gain(3.0).transform(&[&t])?;
/// assert_eq!(out.samples(), &[3.0, 6.0]);
/// # Ok::<(), tracekit_core::StageError>(())
/// ```
pub trait Transformer: dyn_clone::DynClone + Send + Sync {
    /// Computes the output from the inputs: one trace per declared input, in declaration order.
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError>;

    /// Learns state from the inputs (statistics, say); the default learns nothing.
    fn fit(&mut self, inputs: &[&Trace]) -> Result<(), StageError> {
        let _ = inputs;
        Ok(())
    }

    /// The kind name: `"lowpass"` and so on for built-ins, `"custom"` by default.
    fn kind(&self) -> &str {
        "custom"
    }

    /// The parameters by their own names (`"cutoff"`); none by default.
    fn get_params(&self) -> Params {
        Params::new()
    }

    /// Sets one parameter; the default knows none and says so.
    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        let _ = value;
        Err(unknown_param(name, &self.get_params()))
    }
}

dyn_clone::clone_trait_object!(Transformer);

impl fmt::Debug for dyn Transformer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.kind())?;
        for (i, (k, v)) in self.get_params().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={v}")?;
        }
        f.write_str(")")
    }
}

/// The error a stage gives for a parameter name it does not have, listing the ones it has.
pub fn unknown_param(name: &str, params: &Params) -> StageError {
    let valid: Vec<&str> = params.keys().map(String::as_str).collect();
    format!(
        "unknown parameter '{name}'; valid parameters: [{}]",
        valid.join(", ")
    )
    .into()
}
