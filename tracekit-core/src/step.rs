//! Steps: a named transformer and where its inputs come from.

use std::fmt;

use crate::Transformer;

/// The name under which steps read the pipeline's input trace; no step may take it.
pub const INPUT: &str = "input";

/// A named stage of a pipeline, with the names of the steps it reads.
///
/// With no declared input, a step reads the previous step's output (the first
/// step reads [`INPUT`]), so a list of plain steps is the classic chain.
///
/// ```
/// use tracekit_core::{Step, Trace, Transformer, StageError, INPUT};
///
/// #[derive(Clone)]
/// struct Negate;
/// impl Transformer for Negate {
///     fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
///         Ok(inputs[0].derive(inputs[0].samples().iter().map(|x| -x).collect()))
///     }
/// }
///
/// let a = Step::new("a", Negate).input(INPUT);
/// let b = Step::new("b", Negate).inputs(["a", INPUT]);
/// assert_eq!(b.declared_inputs(), Some(&["a".to_string(), "input".to_string()][..]));
/// # let _ = a;
/// ```
#[derive(Clone)]
pub struct Step {
    pub(crate) name: String,
    pub(crate) transformer: Box<dyn Transformer>,
    pub(crate) inputs: Option<Vec<String>>,
}

impl Step {
    /// A step named `name` running `t`, reading the previous step.
    pub fn new(name: impl Into<String>, t: impl Transformer + 'static) -> Step {
        Step::boxed(name, Box::new(t))
    }

    /// A step from an already boxed transformer (as the registry builds them).
    pub fn boxed(name: impl Into<String>, t: Box<dyn Transformer>) -> Step {
        Step {
            name: name.into(),
            transformer: t,
            inputs: None,
        }
    }

    /// Reads one input: a step name or [`INPUT`].
    pub fn input(self, name: impl Into<String>) -> Step {
        self.inputs([name])
    }

    /// Reads several inputs, handed to the transformer in this order.
    ///
    /// An empty list means the default: the previous step.
    pub fn inputs<I, S>(mut self, names: I) -> Step
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        self.inputs = if names.is_empty() { None } else { Some(names) };
        self
    }

    /// The step's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The step's transformer.
    pub fn transformer(&self) -> &dyn Transformer {
        &*self.transformer
    }

    /// The inputs as declared, or `None` for the default (the previous step).
    pub fn declared_inputs(&self) -> Option<&[String]> {
        self.inputs.as_deref()
    }
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("name", &self.name)
            .field("transformer", &self.transformer)
            .field("inputs", &self.inputs)
            .finish()
    }
}
