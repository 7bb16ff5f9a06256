//! The `merge` built-in: combines several traces into one.

use tracekit_core::{
    ParamValue, Params, StageError, Trace, Transformer,
    buffer::{AllocError, SampleVec},
};

use crate::{
    params,
    pooled::{map, output_blocks},
};

const KIND: &str = "merge";
const OPS: &[&str] = &["mean", "sum", "product", "max", "min", "subtract", "concat"];

/// How [`Merge`] combines its inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeOp {
    /// Element-wise mean: `np.mean(np.stack(xs), axis=0)`.
    Mean,
    /// Element-wise sum, added in input order.
    Sum,
    /// Element-wise product, multiplied in input order.
    Product,
    /// Element-wise maximum, NaN winning (`np.maximum.reduce`).
    Max,
    /// Element-wise minimum, NaN winning (`np.minimum.reduce`).
    Min,
    /// The first input minus all the others, in order.
    Subtract,
    /// The inputs one after another (`np.concatenate`); lengths may differ.
    Concat,
}

impl MergeOp {
    /// The parameter word for the op.
    pub fn name(self) -> &'static str {
        OPS[self as usize]
    }

    fn parse(word: &str) -> Option<MergeOp> {
        use MergeOp::*;
        [Mean, Sum, Product, Max, Min, Subtract, Concat]
            .into_iter()
            .find(|op| op.name() == word)
    }
}

/// Combines all its inputs with `op`; the output keeps the first input's metadata.
///
/// Element-wise ops need inputs of equal length and sample rate; `concat`
/// needs equal rates only. No inputs at all is an error.
///
/// ```
/// use tracekit_core::{Trace, Transformer};
/// use tracekit_dsp::{Merge, MergeOp};
///
/// let a = Trace::new(vec![1.0, 2.0], 10.0)?;
/// let b = Trace::new(vec![3.0, 4.0], 10.0)?;
/// assert_eq!(Merge::new(MergeOp::Subtract).transform(&[&a, &b])?.samples(), &[-2.0, -2.0]);
/// assert_eq!(Merge::new(MergeOp::Concat).transform(&[&a, &b])?.len(), 4);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    op: MergeOp,
}

impl Merge {
    /// A merge with `op`.
    pub fn new(op: MergeOp) -> Merge {
        Merge { op }
    }

    /// Builds from registry parameters (`op`, default "mean").
    pub fn from_params(p: &Params) -> Result<Merge, StageError> {
        params::apply(Merge::default(), p)
    }
}

impl Default for Merge {
    fn default() -> Merge {
        Merge::new(MergeOp::Mean)
    }
}

fn check_inputs(op: MergeOp, inputs: &[&Trace]) -> Result<(), StageError> {
    let Some(first) = inputs.first() else {
        return Err(format!("{KIND}: needs at least 1 input trace, got 0").into());
    };
    for (i, t) in inputs.iter().enumerate().skip(1) {
        if t.sample_rate() != first.sample_rate() {
            return Err(format!(
                "{KIND}: input {i} has sample rate {}, input 0 has {}",
                t.sample_rate(),
                first.sample_rate()
            )
            .into());
        }
        if op != MergeOp::Concat && t.len() != first.len() {
            return Err(format!(
                "{KIND}: input {i} has {} samples, input 0 has {}",
                t.len(),
                first.len()
            )
            .into());
        }
    }
    Ok(())
}

/// `out[i] = f(out[i], x[i])`.
fn fold_into(out: &mut [f64], x: &[f64], f: impl Fn(f64, f64) -> f64) {
    for (o, v) in out.iter_mut().zip(x) {
        *o = f(*o, *v);
    }
}

/// `f(a[i], b[i])` as a new buffer.
fn combine(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> Result<SampleVec, AllocError> {
    output_blocks(a.len().min(b.len()), |start, block| {
        let end = start + block.len();
        for (o, (x, y)) in block
            .iter_mut()
            .zip(a[start..end].iter().zip(&b[start..end]))
        {
            *o = f(*x, *y);
        }
    })
}

fn max(a: f64, b: f64) -> f64 {
    if a > b || a.is_nan() { a } else { b }
}

fn min(a: f64, b: f64) -> f64 {
    if a < b || a.is_nan() { a } else { b }
}

/// Combines the inputs element-wise with `f`, in input order.
fn reduce(xs: &[&[f64]], f: impl Fn(f64, f64) -> f64 + Copy) -> Result<SampleVec, AllocError> {
    match xs {
        [] => SampleVec::with_capacity(0),
        [a] => SampleVec::from_slice(a),
        [a, b, rest @ ..] => {
            let mut out = combine(a, b, f)?;
            for x in rest {
                fold_into(&mut out, x, f);
            }
            Ok(out)
        }
    }
}

/// `finish(sum of all inputs)`, element-wise, summed in input order.
fn mean_scaled(xs: &[&[f64]], finish: impl Fn(f64) -> f64 + Copy) -> Result<SampleVec, AllocError> {
    match xs {
        [a] => map(a, finish),
        [a, b] => combine(a, b, |x, y| finish(x + y)),
        [init @ .., last] => {
            let mut out = reduce(init, |a, b| a + b)?;
            fold_into(&mut out, last, |a, b| finish(a + b));
            Ok(out)
        }
        [] => SampleVec::with_capacity(0),
    }
}

/// The inputs one after another.
fn concat(xs: &[&[f64]]) -> Result<SampleVec, AllocError> {
    let total = xs.iter().fold(0usize, |n, x| n.saturating_add(x.len()));
    let mut out = SampleVec::with_capacity(total)?;
    for x in xs {
        out.extend_from_slice(x);
    }
    Ok(out)
}

impl Transformer for Merge {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        check_inputs(self.op, inputs)?;
        let xs: Vec<&[f64]> = inputs.iter().map(|t| t.samples()).collect();
        let out = match self.op {
            MergeOp::Mean => {
                let k = xs.len() as f64;
                // Dividing by a power of two is exactly multiplying by its
                // inverse, and much faster; other counts divide as NumPy does.
                if k.log2().fract() == 0.0 {
                    let inv = 1.0 / k;
                    mean_scaled(&xs, |s| s * inv)
                } else {
                    mean_scaled(&xs, |s| s / k)
                }
            }
            MergeOp::Sum => reduce(&xs, |a, b| a + b),
            MergeOp::Product => reduce(&xs, |a, b| a * b),
            MergeOp::Max => reduce(&xs, max),
            MergeOp::Min => reduce(&xs, min),
            MergeOp::Subtract => reduce(&xs, |a, b| a - b),
            MergeOp::Concat => concat(&xs),
        }?;
        Ok(inputs[0].derive_samples(out))
    }

    fn kind(&self) -> &str {
        KIND
    }

    fn get_params(&self) -> Params {
        Params::from([("op".to_owned(), ParamValue::from(self.op.name()))])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match name {
            "op" => {
                let word = params::choice(KIND, name, &value, OPS)?;
                self.op = MergeOp::parse(&word).unwrap_or(MergeOp::Mean);
            }
            _ => return Err(params::unknown(self, name)),
        }
        Ok(())
    }
}
