//! Failing runs and batches: pipelines whose stages fail (or panic) on some
//! inputs and take random time, to check that every executor reports the
//! same failure as the sequential one, whatever the timing.

use std::{
    panic,
    sync::Once,
    time::{Duration, Instant},
};

use proptest::prelude::*;
use tracekit_core::{Error, INPUT, Pipeline, Run, StageError, Step, Trace, TraceMeta, Transformer};

/// The most inputs of a generated batch (input ids are `0..MAX_INPUTS`).
pub const MAX_INPUTS: usize = 4;

/// The text every panic of a [`Chaos`] stage starts with.
pub const CHAOS_PANIC: &str = "chaos panic";

/// A stage that adds its inputs and scales the sum; on the inputs in its
/// masks it fails or panics instead, after a delay that depends on the input.
///
/// The input's id is read from the first input's channel (`"in3"`), which
/// every stage passes through.
#[derive(Debug, Clone, PartialEq)]
pub struct Chaos {
    /// The scale factor.
    pub k: f64,
    /// Bit `i`: fail on input `i`.
    pub fail: u8,
    /// Bit `i`: panic on input `i` (unless it fails).
    pub panic: u8,
    /// Time spent on each input id, in microseconds (busy-waiting, so that
    /// it costs as much on every executor).
    pub delay_us: [u16; MAX_INPUTS],
}

impl Chaos {
    fn input_id(trace: &Trace) -> usize {
        trace
            .meta()
            .channel
            .strip_prefix("in")
            .and_then(|id| id.parse().ok())
            .unwrap_or(0)
            % MAX_INPUTS
    }
}

impl Transformer for Chaos {
    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let id = Chaos::input_id(inputs[0]);
        let until = Instant::now() + Duration::from_micros(self.delay_us[id].into());
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        if self.fail & (1 << id) != 0 {
            return Err(format!("chaos failure on input {id} (k = {})", self.k).into());
        }
        if self.panic & (1 << id) != 0 {
            panic!("{CHAOS_PANIC} on input {id} (k = {})", self.k);
        }
        let n = inputs.iter().map(|t| t.len()).min().unwrap_or(0);
        let samples = (0..n)
            .map(|j| self.k * inputs.iter().map(|t| t.samples()[j]).sum::<f64>())
            .collect();
        Ok(inputs[0].derive(samples))
    }

    fn kind(&self) -> &str {
        "chaos"
    }
}

/// A generated failing case: a pipeline of [`Chaos`] stages and its inputs.
#[derive(Debug, Clone)]
pub struct ChaosCase {
    /// For each step (named `c<i>`), its stage and the earlier steps it
    /// reads (`None`: the pipeline input).
    pub steps: Vec<(Chaos, Vec<Option<usize>>)>,
    /// A permutation: the order in which the steps are declared.
    pub declaration: Vec<usize>,
    /// How many inputs the batch has (ids `0..inputs`).
    pub inputs: usize,
}

impl ChaosCase {
    /// The pipeline, declared in [`ChaosCase::declaration`] order.
    pub fn pipeline(&self) -> Pipeline {
        let steps = self.declaration.iter().map(|&i| {
            let (stage, reads) = &self.steps[i];
            let names = reads
                .iter()
                .map(|r| r.map_or_else(|| INPUT.to_owned(), |j| format!("c{j}")));
            Step::new(format!("c{i}"), stage.clone()).inputs(names)
        });
        Pipeline::new(steps).expect("generated pipelines are valid")
    }

    /// The inputs: 16 samples each, channel `in<id>`.
    pub fn traces(&self) -> Vec<Trace> {
        (0..self.inputs)
            .map(|id| {
                let meta = TraceMeta {
                    channel: format!("in{id}"),
                    ..TraceMeta::new(1e3)
                };
                let samples = (0..16).map(|j| (id * 16 + j) as f64 * 0.25).collect();
                Trace::with_meta(samples, meta).expect("a valid rate")
            })
            .collect()
    }
}

/// Failing cases: 1..=`max_steps` stages in a random DAG declared in a
/// random order, 1..=[`MAX_INPUTS`] inputs, each stage failing or panicking
/// on a random subset of the inputs (about a third of the stages are
/// fallible), delays of 0 to `max_delay_us` microseconds.
pub fn chaos_strategy(max_steps: usize, max_delay_us: u16) -> impl Strategy<Value = ChaosCase> {
    let stage = (
        -2.0f64..2.0,
        prop_oneof![2 => Just(0u8), 1 => any::<u8>()],
        prop_oneof![3 => Just(0u8), 1 => any::<u8>()],
        proptest::array::uniform4(prop_oneof![
            1 => Just(0u16),
            2 => 0..=max_delay_us,
        ]),
        proptest::collection::vec(any::<prop::sample::Index>(), 1..=3),
    );
    (1..=max_steps)
        .prop_flat_map(move |n| {
            (
                proptest::collection::vec(stage.clone(), n),
                Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
                1..=MAX_INPUTS,
            )
        })
        .prop_map(|(raw, declaration, inputs)| {
            let steps = raw
                .into_iter()
                .enumerate()
                .map(|(i, (k, fail, panic, delay_us, picks))| {
                    // Slot 0 is the input, slots 1..=i the earlier steps.
                    let reads = picks
                        .iter()
                        .map(|p| p.index(i + 1).checked_sub(1))
                        .collect();
                    let stage = Chaos {
                        k,
                        fail,
                        panic,
                        delay_us,
                    };
                    (stage, reads)
                })
                .collect();
            ChaosCase {
                steps,
                declaration,
                inputs,
            }
        })
}

/// Keeps the panics of [`Chaos`] stages off stderr (they are expected);
/// every other panic is reported as usual.
pub fn quiet_chaos_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !message.starts_with(CHAOS_PANIC) {
                previous(info);
            }
        }));
    });
}

/// Whether two errors are the same: the same variant, all the way down
/// through batch errors, and the same message.
pub fn same_error(a: &Error, b: &Error) -> bool {
    let same_variant = match (a, b) {
        (
            Error::Batch {
                index: i,
                source: x,
            },
            Error::Batch {
                index: j,
                source: y,
            },
        ) => i == j && same_error(x, y),
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    };
    same_variant && a.to_string() == b.to_string()
}

/// Compares the outcomes of one run: equal runs (output and every kept
/// intermediate, bit for bit, and the same kept steps), or the same error.
pub fn same_outcome(expected: &Result<Run, Error>, got: &Result<Run, Error>) -> Result<(), String> {
    match (expected, got) {
        (Ok(a), Ok(b)) => same_run(a, b),
        (Err(a), Err(b)) if same_error(a, b) => Ok(()),
        (Err(a), Err(b)) => Err(format!("expected the error\n  {a}\ngot\n  {b}")),
        (Ok(_), Err(b)) => Err(format!("expected a run, got the error {b}")),
        (Err(a), Ok(_)) => Err(format!("expected the error {a}, got a run")),
    }
}

/// Compares two runs: the output and every kept intermediate, bit for bit.
pub fn same_run(a: &Run, b: &Run) -> Result<(), String> {
    if !a.output().bit_eq(b.output()) {
        return Err(format!(
            "outputs differ: {:?} vs {:?}",
            a.output(),
            b.output()
        ));
    }
    if a.kept_steps() != b.kept_steps() {
        return Err(format!(
            "kept steps differ: {:?} vs {:?}",
            a.kept_steps(),
            b.kept_steps()
        ));
    }
    for step in a.kept_steps() {
        match (a.get(step), b.get(step)) {
            (Some(x), Some(y)) if x.bit_eq(y) => {}
            (x, y) => return Err(format!("step {step} differs: {x:?} vs {y:?}")),
        }
    }
    Ok(())
}

/// Compares the outcomes of one batch: equal runs in order, or the same error.
pub fn same_batch(
    expected: &Result<Vec<Run>, Error>,
    got: &Result<Vec<Run>, Error>,
) -> Result<(), String> {
    match (expected, got) {
        (Ok(a), Ok(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .try_for_each(|(i, (x, y))| same_run(x, y).map_err(|e| format!("input {i}: {e}"))),
        (Ok(a), Ok(b)) => Err(format!("{} runs instead of {}", b.len(), a.len())),
        (Err(a), Err(b)) if same_error(a, b) => Ok(()),
        (Err(a), Err(b)) => Err(format!("expected the error\n  {a}\ngot\n  {b}")),
        (Ok(_), Err(b)) => Err(format!("expected runs, got the error {b}")),
        (Err(a), Ok(_)) => Err(format!("expected the error {a}, got runs")),
    }
}
