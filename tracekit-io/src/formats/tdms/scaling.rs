//! NI scaling properties (`NI_Number_Of_Scales`, `NI_Scale[i]_...`): the
//! scalings npTDMS applies to a channel's raw values (`nptdms/scaling.py`,
//! `get_scaling`), with the same arithmetic.
//!
//! Linear (`y = x * slope + intercept`), polynomial (Horner's rule, as
//! `numpy.polynomial.polynomial.polyval`) and AdvancedAPI (no change)
//! scalings are applied, chained through their input sources. npTDMS keeps
//! single-precision data single-precision through linear scalings (NumPy
//! multiplies a `float32` array by a Python float in `float32`); so does
//! this. Scalings that need device tables or sensor models (RTD, strain,
//! table, thermistor, thermocouple, add, subtract) are an error naming the
//! scaling, not silently raw values.

use super::{segment::Object, types::Value};
use crate::error::{Result, bail};

/// "Input source" of a scaling that reads the raw data.
const RAW_DATA_INPUT_SOURCE: f64 = 4_294_967_295.0;

/// Where a scaling takes its input from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    /// The channel's raw values.
    Raw,
    /// The output of scaling `i`.
    Scale(usize),
}

/// One scaling of a channel.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// "Linear": `x * slope + intercept`.
    Linear {
        slope: f64,
        intercept: f64,
        input: Source,
    },
    /// "Polynomial": coefficients from the constant term up.
    Polynomial {
        coefficients: Vec<f64>,
        input: Source,
    },
    /// "AdvancedAPI": the input unchanged.
    NoOp { input: Source },
    /// A scaling npTDMS applies and tracekit does not.
    Unapplied(String),
}

/// The scalings of a channel, applied from the last one back to the raw data.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scaling {
    nodes: Vec<Node>,
}

/// The scaling npTDMS applies to a channel: the channel's own, else its
/// group's, else the file's; `None` where none has one.
pub(super) fn find(
    channel: &Object,
    group: Option<&Object>,
    file: Option<&Object>,
) -> Result<Option<Scaling>> {
    for object in [Some(channel), group, file].into_iter().flatten() {
        if let Some(scaling) = from_properties(object)? {
            return Ok(Some(scaling));
        }
    }
    Ok(None)
}

impl Scaling {
    /// Applies the scalings to one raw value `x`; `single` says whether the
    /// raw data is single precision.
    pub(super) fn apply(&self, x: f64, single: bool) -> f64 {
        self.eval(Source::Scale(self.nodes.len() - 1), x, single).0
    }

    /// The value of `source` and whether it is still single precision.
    fn eval(&self, source: Source, x: f64, single: bool) -> (f64, bool) {
        let Source::Scale(i) = source else {
            return (x, single);
        };
        match &self.nodes[i] {
            Node::Linear {
                slope,
                intercept,
                input,
            } => match self.eval(*input, x, single) {
                (v, true) => ((v as f32 * *slope as f32 + *intercept as f32).into(), true),
                (v, false) => (v * slope + intercept, false),
            },
            Node::Polynomial {
                coefficients,
                input,
            } => {
                let (v, _) = self.eval(*input, x, single);
                let mut terms = coefficients.iter().rev();
                let first = terms.next().map_or(0.0, |&c| c + v * 0.0);
                (terms.fold(first, |acc, &c| c + acc * v), false)
            }
            Node::NoOp { input } => self.eval(*input, x, single),
            Node::Unapplied(_) => (f64::NAN, false),
        }
    }

    /// An error if the chain from the last scaling back to the raw data
    /// loops, or reaches a scaling tracekit does not apply.
    fn check(&self) -> Result<()> {
        let mut source = Source::Scale(self.nodes.len() - 1);
        for _ in 0..=self.nodes.len() {
            let Source::Scale(i) = source else {
                return Ok(());
            };
            source = match self.nodes.get(i) {
                Some(
                    Node::Linear { input, .. }
                    | Node::Polynomial { input, .. }
                    | Node::NoOp { input },
                ) => *input,
                Some(Node::Unapplied(why)) => bail!("{why}"),
                None => bail!(
                    "an NI scaling takes its input from scale {i}, but there are {} scales",
                    self.nodes.len()
                ),
            };
        }
        bail!("the NI scalings' input sources form a loop")
    }
}

/// The scalings one object's properties give, as npTDMS's
/// `_get_channel_scaling` reads them.
fn from_properties(object: &Object) -> Result<Option<Scaling>> {
    let count = match object
        .property("NI_Number_Of_Scales")
        .and_then(Value::number)
    {
        Some(n) => n as usize,
        None => object
            .properties
            .iter()
            .filter_map(|(name, _)| scale_index(name))
            .max()
            .map_or(0, |i| i + 1),
    };
    if count == 0 {
        return Ok(None);
    }
    if matches!(object.property("NI_Scaling_Status"), Some(Value::Text(s)) if s == "scaled") {
        return Ok(None);
    }
    if count > object.properties.len() {
        bail!(
            "{} says {count} NI scales but has {} properties",
            object.path,
            object.properties.len()
        );
    }
    let mut nodes = Vec::with_capacity(count);
    for i in 0..count {
        let property = |suffix: &str| object.property(&format!("NI_Scale[{i}]_{suffix}"));
        let number = |suffix: &str| -> Result<f64> {
            match property(suffix).and_then(Value::number) {
                Some(v) => Ok(v),
                None => bail!(
                    "{} has no numeric property NI_Scale[{i}]_{suffix}",
                    object.path
                ),
            }
        };
        let input = |suffix: &str| -> Result<Source> {
            match property(suffix).map(|v| v.number()) {
                None => Ok(Source::Raw),
                Some(Some(v)) if v == RAW_DATA_INPUT_SOURCE => Ok(Source::Raw),
                Some(Some(v)) if v >= 0.0 && v.fract() == 0.0 => Ok(Source::Scale(v as usize)),
                Some(_) => bail!(
                    "{}: NI_Scale[{i}]_{suffix} is not a scale number",
                    object.path
                ),
            }
        };
        let kind = match property("Scale_Type") {
            Some(Value::Text(kind)) => kind.as_str(),
            _ => bail!(
                "{}: NI_Scale[{i}] has no Scale_Type (a DAQmx scaler, which tracekit does not read)",
                object.path
            ),
        };
        nodes.push(match kind {
            "Linear" => Node::Linear {
                slope: number("Linear_Slope")?,
                intercept: number("Linear_Y_Intercept")?,
                input: input("Linear_Input_Source")?,
            },
            "Polynomial" => {
                let size = property("Polynomial_Coefficients_Size")
                    .and_then(Value::number)
                    .map_or(4, |n| n as usize);
                if size > object.properties.len() {
                    bail!(
                        "{}: NI_Scale[{i}] says {size} polynomial coefficients",
                        object.path
                    );
                }
                let coefficients = (0..size)
                    .map(|k| number(&format!("Polynomial_Coefficients[{k}]")))
                    .collect::<Result<_>>()?;
                Node::Polynomial {
                    coefficients,
                    input: input("Polynomial_Input_Source")?,
                }
            }
            "AdvancedAPI" => Node::NoOp {
                input: input("AdvancedAPI_Input_Source")?,
            },
            "RTD" | "Strain" | "Table" | "Thermistor" | "Thermocouple" | "Add" | "Subtract" => {
                Node::Unapplied(format!(
                    "{} uses an NI '{kind}' scaling (NI_Scale[{i}]), which tracekit does not apply",
                    object.path
                ))
            }
            // npTDMS warns and leaves such an object unscaled.
            _ => return Ok(None),
        });
    }
    let scaling = Scaling { nodes };
    scaling.check()?;
    Ok(Some(scaling))
}

/// `i` of a property named `NI_Scale[i]_Scale_Type`.
fn scale_index(name: &str) -> Option<usize> {
    name.strip_prefix("NI_Scale[")?
        .strip_suffix("]_Scale_Type")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(properties: &[(&str, Value)]) -> Object {
        let properties = properties
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect();
        Object::new("/'g'/'c'".into(), properties)
    }

    #[test]
    fn linear_then_polynomial() {
        let o = object(&[
            ("NI_Number_Of_Scales", Value::UInt(2)),
            ("NI_Scale[0]_Scale_Type", Value::Text("Linear".into())),
            ("NI_Scale[0]_Linear_Slope", Value::Float(2.0)),
            ("NI_Scale[0]_Linear_Y_Intercept", Value::Float(1.0)),
            ("NI_Scale[1]_Scale_Type", Value::Text("Polynomial".into())),
            ("NI_Scale[1]_Polynomial_Coefficients_Size", Value::UInt(3)),
            ("NI_Scale[1]_Polynomial_Coefficients[0]", Value::Float(1.0)),
            ("NI_Scale[1]_Polynomial_Coefficients[1]", Value::Float(0.0)),
            ("NI_Scale[1]_Polynomial_Coefficients[2]", Value::Float(3.0)),
            ("NI_Scale[1]_Polynomial_Input_Source", Value::UInt(0)),
        ]);
        let s = from_properties(&o).unwrap().unwrap();
        // x = 2: linear 5, polynomial 1 + 3 * 25 = 76.
        assert_eq!(s.apply(2.0, false), 76.0);
    }

    #[test]
    fn single_precision_stays_single_through_linear() {
        let o = object(&[
            ("NI_Scale[0]_Scale_Type", Value::Text("Linear".into())),
            ("NI_Scale[0]_Linear_Slope", Value::Float(0.1)),
            ("NI_Scale[0]_Linear_Y_Intercept", Value::Float(0.2)),
        ]);
        let s = from_properties(&o).unwrap().unwrap();
        let x = f64::from(1.5f32);
        assert_eq!(s.apply(x, true), f64::from(1.5f32 * 0.1f32 + 0.2f32));
        assert_eq!(s.apply(x, false), 1.5 * 0.1 + 0.2);
    }

    #[test]
    fn errors_name_the_scaling() {
        let o = object(&[("NI_Scale[0]_Scale_Type", Value::Text("Thermocouple".into()))]);
        let e = from_properties(&o).unwrap_err();
        assert!(e.0.contains("'Thermocouple' scaling"), "{}", e.0);
        let o = object(&[
            ("NI_Scale[0]_Scale_Type", Value::Text("AdvancedAPI".into())),
            ("NI_Scale[0]_AdvancedAPI_Input_Source", Value::UInt(0)),
        ]);
        assert!(from_properties(&o).unwrap_err().0.contains("loop"));
        let o = object(&[("NI_Scale[0]_Scale_Type", Value::Text("Unknown".into()))]);
        assert_eq!(from_properties(&o), Ok(None));
        let o = object(&[
            ("NI_Scaling_Status", Value::Text("scaled".into())),
            ("NI_Scale[0]_Scale_Type", Value::Text("Linear".into())),
        ]);
        assert_eq!(from_properties(&o), Ok(None));
    }
}
