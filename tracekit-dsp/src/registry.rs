//! Builds any built-in transformer from its kind name and parameters.

use tracekit_core::{Error, Params, Transformer};

/// The kind names the registry knows, in the order DESIGN.md lists them.
pub const KINDS: &[&str] = &[];

/// Builds the built-in transformer `kind` with `params` (defaults for the rest).
///
/// Unknown kinds, unknown parameter names, wrong types and missing required
/// parameters are errors that name the kind and the parameter.
pub fn build(kind: &str, params: &Params) -> Result<Box<dyn Transformer>, Error> {
    let built: Option<Result<Box<dyn Transformer>, tracekit_core::StageError>> = match kind {
        // Each built-in adds its arm here: "scale" => Some(Scale::from_params(params).map(boxed)),
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
