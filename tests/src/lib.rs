#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod chaos;
mod kit;

pub use crate::kit::{Conformance, Failure, MakeExecutor, PROPERTIES, check_executor};

use proptest::prelude::*;
use tracekit_core::{INPUT, ParamValue, Params, StageError, Step, Trace, TraceMeta, Transformer};

/// A deterministic test stage; which operation is chosen by `op`.
#[derive(Debug, Clone, PartialEq)]
pub struct TestStage {
    /// The operation.
    pub op: Op,
    /// Its constant.
    pub k: f64,
}

/// The operations of [`TestStage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `x * k`.
    Scale,
    /// `x + k`.
    Offset,
    /// Running sum.
    CumSum,
    /// Element-wise sum of all inputs, truncated to the shortest.
    Sum,
    /// Element-wise `a - b - ...` of all inputs, truncated to the shortest.
    Diff,
    /// Every other sample; halves the sample rate.
    Decimate2,
    /// Adds measurements `mean` and `count` and a unit name; samples pass.
    Measure,
    /// Reverses the samples and moves the start.
    Reverse,
    /// Fails with a message when the first sample is above `k` (or any input is empty).
    FailAbove,
    /// Panics when the first sample is above `k`.
    PanicAbove,
}

impl Op {
    /// Whether the operation reads several inputs.
    pub fn multi_input(self) -> bool {
        matches!(self, Op::Sum | Op::Diff)
    }

    /// Whether the operation can fail.
    pub fn fallible(self) -> bool {
        matches!(self, Op::FailAbove | Op::PanicAbove)
    }
}

impl Transformer for TestStage {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let x = inputs[0].samples();
        let y: Vec<f64> = match self.op {
            Op::Scale => x.iter().map(|v| v * self.k).collect(),
            Op::Offset => x.iter().map(|v| v + self.k).collect(),
            Op::CumSum => x
                .iter()
                .scan(0.0, |acc, v| {
                    *acc += v;
                    Some(*acc)
                })
                .collect(),
            Op::Sum | Op::Diff => {
                let n = inputs.iter().map(|t| t.len()).min().unwrap_or(0);
                let mut acc = x[..n].to_vec();
                for t in &inputs[1..] {
                    for (a, v) in acc.iter_mut().zip(t.samples()) {
                        if self.op == Op::Sum {
                            *a += v;
                        } else {
                            *a -= v;
                        }
                    }
                }
                acc
            }
            Op::Decimate2 => {
                let mut meta = inputs[0].meta().clone();
                meta.sample_rate /= 2.0;
                return Ok(Trace::with_meta(
                    x.iter().step_by(2).copied().collect(),
                    meta,
                )?);
            }
            Op::Measure => {
                let mean = x.iter().sum::<f64>() / x.len().max(1) as f64;
                let mut out = inputs[0].clone().with_measurement("mean", mean);
                out.meta_mut()
                    .measurements
                    .insert("count".into(), x.len() as f64);
                out.meta_mut().units = "V".into();
                return Ok(out);
            }
            Op::Reverse => {
                let mut meta = inputs[0].meta().clone();
                meta.start -= 1.0;
                meta.channel.push('r');
                return Ok(Trace::with_meta(x.iter().rev().copied().collect(), meta)?);
            }
            Op::FailAbove => match x.first() {
                Some(v) if *v > self.k => {
                    return Err(format!("first sample {v} above {}", self.k).into());
                }
                None => return Err("empty trace".into()),
                _ => x.to_vec(),
            },
            Op::PanicAbove => match x.first() {
                Some(v) if *v > self.k => panic!("first sample {v} above {}", self.k),
                _ => x.to_vec(),
            },
        };
        Ok(inputs[0].derive(y))
    }

    fn kind(&self) -> &str {
        "test"
    }

    fn get_params(&self) -> Params {
        Params::from([("k".to_string(), ParamValue::Float(self.k))])
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        match (name, value.as_f64()) {
            ("k", Some(k)) => {
                self.k = k;
                Ok(())
            }
            _ => Err(tracekit_core::unknown_param(name, &self.get_params())),
        }
    }
}

/// One generated step: its operation and constant, and the indices of the
/// steps it reads in topological order (`None` entries read the input).
#[derive(Debug, Clone)]
pub struct StepSpec {
    /// The stage.
    pub stage: TestStage,
    /// Inputs: `Some(i)` reads step `i` (in topological order), `None` the pipeline input.
    pub inputs: Vec<Option<usize>>,
}

/// A generated acyclic pipeline: steps in a topological order, the order in
/// which they are declared, and the output step.
#[derive(Debug, Clone)]
pub struct PipelineSpec {
    /// Steps in topological order.
    pub steps: Vec<StepSpec>,
    /// A permutation: the declaration order of the steps.
    pub declaration: Vec<usize>,
    /// Whether steps use the default input (previous step) where they can.
    pub chain_defaults: bool,
    /// The output step (topological index), if not the last declared.
    pub output: Option<usize>,
}

impl PipelineSpec {
    /// The steps, named `s<topological index>`, in declaration order.
    pub fn build_steps(&self) -> Vec<Step> {
        self.declaration
            .iter()
            .enumerate()
            .map(|(pos, &i)| {
                let spec = &self.steps[i];
                let step = Step::new(format!("s{i}"), spec.stage.clone());
                let names: Vec<String> = spec
                    .inputs
                    .iter()
                    .map(|src| src.map_or_else(|| INPUT.to_string(), |j| format!("s{j}")))
                    .collect();
                // A single input equal to the default may be left undeclared.
                let default = if pos == 0 {
                    INPUT.to_string()
                } else {
                    format!("s{}", self.declaration[pos - 1])
                };
                if self.chain_defaults && names.len() == 1 && names[0] == default {
                    step
                } else {
                    step.inputs(names)
                }
            })
            .collect()
    }

    /// The pipeline, with its output set.
    pub fn build(&self) -> tracekit_core::Pipeline {
        let p = tracekit_core::Pipeline::new(self.build_steps())
            .expect("generated pipelines are valid");
        match self.output {
            Some(o) => p.with_output(&format!("s{o}")).expect("output exists"),
            None => p,
        }
    }
}

fn op_strategy(allow_fallible: bool) -> BoxedStrategy<Op> {
    let mut ops = vec![
        Op::Scale,
        Op::Offset,
        Op::CumSum,
        Op::Sum,
        Op::Diff,
        Op::Decimate2,
        Op::Measure,
        Op::Reverse,
    ];
    if allow_fallible {
        ops.extend([Op::FailAbove, Op::PanicAbove]);
    }
    proptest::sample::select(ops).boxed()
}

/// Random acyclic pipelines of 1..=`max_steps` steps, with at most one
/// fallible step (so that "the error" of a run is well defined).
pub fn pipeline_strategy(
    max_steps: usize,
    allow_failure: bool,
) -> impl Strategy<Value = PipelineSpec> {
    (1..=max_steps)
        .prop_flat_map(move |n| {
            let steps = proptest::collection::vec(
                (
                    op_strategy(false),
                    -3.0f64..3.0,
                    proptest::collection::vec(any::<prop::sample::Index>(), 1..4),
                ),
                n,
            );
            let fallible = if allow_failure {
                proptest::option::of((0..n, any::<bool>(), -1.0f64..1.0)).boxed()
            } else {
                Just(None).boxed()
            };
            (
                steps,
                fallible,
                Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
                any::<bool>(),
                any::<bool>(),
                proptest::option::of(0..n),
            )
        })
        .prop_map(
            |(raw, fallible, shuffled, shuffle, chain_defaults, output)| {
                let n = raw.len();
                let mut steps: Vec<StepSpec> = raw
                    .into_iter()
                    .enumerate()
                    .map(|(i, (op, k, picks))| {
                        let picks = if op.multi_input() {
                            &picks[..]
                        } else {
                            &picks[..1]
                        };
                        // Pick among the input (slot 0) and earlier steps (slots 1..=i).
                        let inputs = picks
                            .iter()
                            .map(|p| {
                                let slot = p.index(i + 1);
                                if slot == 0 { None } else { Some(slot - 1) }
                            })
                            .collect();
                        StepSpec {
                            stage: TestStage { op, k },
                            inputs,
                        }
                    })
                    .collect();
                if let Some((i, panics, k)) = fallible {
                    steps[i].stage = TestStage {
                        op: if panics {
                            Op::PanicAbove
                        } else {
                            Op::FailAbove
                        },
                        k,
                    };
                    steps[i].inputs.truncate(1);
                }
                let declaration = if shuffle { shuffled } else { (0..n).collect() };
                PipelineSpec {
                    steps,
                    declaration,
                    chain_defaults,
                    output,
                }
            },
        )
}

/// Sample values, with the special ones well represented.
pub fn sample_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -1.0e3f64..1.0e3,
        1 => Just(0.0),
        1 => Just(-0.0),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(f64::MIN_POSITIVE / 4.0),
        1 => Just(1.0e300),
        1 => Just(-1.0e300),
    ]
}

/// Traces of 0..=`max_len` samples at rates from 1 Hz to 10 GHz.
pub fn trace_strategy(max_len: usize) -> impl Strategy<Value = Trace> {
    (
        proptest::collection::vec(sample_strategy(), 0..=max_len),
        prop_oneof![
            Just(1.0),
            Just(1.0e3),
            Just(44_100.0),
            Just(1.0e6),
            Just(1.0e10),
            1.0f64..1.0e10
        ],
        -1.0f64..1.0,
    )
        .prop_map(|(samples, rate, start)| {
            let mut meta = TraceMeta::new(rate);
            meta.start = start;
            meta.channel = "CH1".into();
            Trace::with_meta(samples, meta).expect("rates are valid")
        })
}

/// Whether two errors are "the same": same variant and same step.
pub fn same_error(a: &tracekit_core::Error, b: &tracekit_core::Error) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b) && a.step() == b.step()
}

/// Compares two runs: the output and every intermediate, bit for bit.
pub fn assert_runs_equal(
    names: &[&str],
    expected: &tracekit_core::Run,
    got: &tracekit_core::Run,
) -> Result<(), String> {
    if !expected.output().bit_eq(got.output()) {
        return Err(format!(
            "outputs differ: {:?} vs {:?}",
            expected.output(),
            got.output()
        ));
    }
    for name in names {
        match (expected.get(name), got.get(name)) {
            (Some(a), Some(b)) if a.bit_eq(b) => {}
            (None, None) => {}
            (a, b) => return Err(format!("step {name} differs: {a:?} vs {b:?}")),
        }
    }
    Ok(())
}
