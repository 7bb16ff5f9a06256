//! Reading and checking parameter values, shared by every built-in.
//!
//! Each built-in keeps typed fields and implements
//! [`tracekit_core::Transformer::set_param`] with these
//! helpers, so a wrong type or value gives an error that names the parameter,
//! the kind and the value.

use tracekit_core::{ParamValue, Params, StageError, Transformer, unknown_param};

/// The value as a number (integers convert), or an error naming `name`.
pub fn float(kind: &str, name: &str, value: &ParamValue) -> Result<f64, StageError> {
    value
        .as_f64()
        .ok_or_else(|| wrong_type(kind, name, "a number", value))
}

/// The value as a finite number.
pub fn finite(kind: &str, name: &str, value: &ParamValue) -> Result<f64, StageError> {
    let x = float(kind, name, value)?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("{kind}: parameter '{name}' must be finite, got {x}").into())
    }
}

/// The value as a non-negative integer (a float with no fraction is accepted).
pub fn count(kind: &str, name: &str, value: &ParamValue) -> Result<usize, StageError> {
    match value.as_i64() {
        Some(i) if i >= 0 => usize::try_from(i).map_err(|_| too_large(kind, name, i)),
        Some(i) => Err(format!("{kind}: parameter '{name}' must be >= 0, got {i}").into()),
        None => Err(wrong_type(kind, name, "a non-negative integer", value)),
    }
}

/// The value as a flag.
pub fn flag(kind: &str, name: &str, value: &ParamValue) -> Result<bool, StageError> {
    value
        .as_bool()
        .ok_or_else(|| wrong_type(kind, name, "true or false", value))
}

/// The value as one of the words in `allowed`.
pub fn choice(
    kind: &str,
    name: &str,
    value: &ParamValue,
    allowed: &[&str],
) -> Result<String, StageError> {
    match value.as_str() {
        Some(s) if allowed.contains(&s) => Ok(s.to_owned()),
        Some(s) => Err(format!(
            "{kind}: parameter '{name}' must be one of [{}], got {s:?}",
            allowed.join(", ")
        )
        .into()),
        None => Err(wrong_type(
            kind,
            name,
            &format!("one of [{}]", allowed.join(", ")),
            value,
        )),
    }
}

/// The value as text.
pub fn text(kind: &str, name: &str, value: &ParamValue) -> Result<String, StageError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| wrong_type(kind, name, "text", value))
}

fn too_large(kind: &str, name: &str, i: i64) -> StageError {
    format!("{kind}: parameter '{name}' is too large: {i}").into()
}

fn wrong_type(kind: &str, name: &str, expected: &str, value: &ParamValue) -> StageError {
    format!(
        "{kind}: parameter '{name}' must be {expected}, got {} {value}",
        value.type_name()
    )
    .into()
}

/// The error for a parameter name that `t` does not have.
pub fn unknown(t: &dyn Transformer, name: &str) -> StageError {
    unknown_param(name, &t.get_params())
}

/// Applies every entry of `params` to `t` with `set_param`, in key order.
pub fn apply<T: Transformer>(mut t: T, params: &Params) -> Result<T, StageError> {
    for (name, value) in params {
        t.set_param(name, value.clone())?;
    }
    Ok(t)
}

/// An error unless `params` has every name in `required`; when a given name
/// is a near miss of the missing one (`cutof`), the error says so.
pub fn require(kind: &str, params: &Params, required: &[&str]) -> Result<(), StageError> {
    let Some(missing) = required.iter().find(|r| !params.contains_key(**r)) else {
        return Ok(());
    };
    let near = params
        .keys()
        .find(|k| !required.contains(&k.as_str()) && edit_distance(k, missing) <= 2);
    Err(match near {
        Some(typo) => format!(
            "{kind}: unknown parameter '{typo}'; did you mean '{missing}'? \
             (parameter '{missing}' is required)"
        ),
        None => format!("{kind}: parameter '{missing}' is required"),
    }
    .into())
}

/// The Levenshtein distance of two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_near_miss_of_a_required_parameter_is_suggested() {
        let p = Params::from([("cutof".to_owned(), ParamValue::Float(1.0))]);
        let e = require("lowpass", &p, &["cutoff"]).unwrap_err().to_string();
        assert!(
            e.contains("unknown parameter 'cutof'; did you mean 'cutoff'?"),
            "{e}"
        );
        let p = Params::from([("order".to_owned(), ParamValue::Int(2))]);
        let e = require("lowpass", &p, &["cutoff"]).unwrap_err().to_string();
        assert_eq!(e, "lowpass: parameter 'cutoff' is required");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
