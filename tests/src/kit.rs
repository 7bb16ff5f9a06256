//! The conformance kit: every property, run against one executor.

use std::{fmt, sync::Arc};

use proptest::{
    prelude::*,
    test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner},
};
use tracekit_core::{Executor, INPUT, Pipeline, SequentialExecutor, Step, Trace, batch_result};

use crate::{
    Op, TestStage,
    chaos::{chaos_strategy, quiet_chaos_panics, same_batch, same_outcome, same_run},
    pipeline_strategy, trace_strategy,
};

/// Makes the executor under test; called once per case, so that every case
/// starts from a fresh executor (fresh workers).
pub type MakeExecutor<'m> = &'m dyn Fn() -> Box<dyn Executor>;

/// The properties of the kit, in the order they run.
pub const PROPERTIES: [&str; 5] = [
    "equivalence",
    "batches",
    "failures",
    "fit_and_clone",
    "hostile",
];

/// Checks `make`'s executor against every property of the kit and panics
/// with the first failure: for a `#[test]`.
///
/// Equivalent to `Conformance::new(name).check(make)`; see [`Conformance`]
/// for the case counts, a fixed seed, and a run that returns the failure.
pub fn check_executor(name: &str, make: impl Fn() -> Box<dyn Executor>) {
    Conformance::new(name).check(make);
}

/// A conformance run: the executor's name, how many cases each property
/// runs, and where the cases come from.
///
/// By default each property runs its own number of cases (scaled by
/// `PROPTEST_CASES` when set: that many for the quick properties, a quarter
/// for those that run many executors per case), from a random seed, and a
/// failing case is shrunk to a minimal one. [`Conformance::seed`] makes the
/// cases a pure function of the seed and turns shrinking off, so that
/// several processes (the ranks of an SPMD job) run exactly the same cases.
///
/// ```
/// use tracekit_conformance::Conformance;
/// use tracekit_core::SequentialExecutor;
///
/// Conformance::new("sequential")
///     .cases(2)
///     .seed(7)
///     .run(&|| Box::new(SequentialExecutor))
///     .expect("the reference conforms to itself");
/// ```
#[derive(Debug, Clone)]
pub struct Conformance {
    name: String,
    cases: Option<u32>,
    seed: Option<u64>,
    only: Option<Vec<String>>,
}

/// A property that an executor does not have: which, and the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The executor's name.
    pub executor: String,
    /// The property (one of [`PROPERTIES`]).
    pub property: &'static str,
    /// What went wrong, and the (minimal, unless seeded) failing case.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "executor '{}' fails the conformance property '{}': {}",
            self.executor, self.property, self.message
        )
    }
}

impl std::error::Error for Failure {}

impl Conformance {
    /// A run for the executor called `name` (used in messages).
    pub fn new(name: impl Into<String>) -> Conformance {
        Conformance {
            name: name.into(),
            cases: None,
            seed: None,
            only: None,
        }
    }

    /// Runs `cases` cases of every random property (overrides `PROPTEST_CASES`).
    pub fn cases(mut self, cases: u32) -> Conformance {
        self.cases = Some(cases);
        self
    }

    /// Draws the cases from `seed`, and reports a failing case as drawn, not
    /// shrunk: the same seed gives the same cases in every process.
    pub fn seed(mut self, seed: u64) -> Conformance {
        self.seed = Some(seed);
        self
    }

    /// Runs only the properties named (see [`PROPERTIES`]).
    pub fn only<I, S>(mut self, properties: I) -> Conformance
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.only = Some(properties.into_iter().map(Into::into).collect());
        self
    }

    /// Runs every property; panics with the first failure.
    pub fn check(&self, make: impl Fn() -> Box<dyn Executor>) {
        if let Err(failure) = self.run(&make) {
            panic!("{failure}");
        }
    }

    /// Runs every property; the first failure, if any.
    pub fn run(&self, make: MakeExecutor<'_>) -> Result<(), Failure> {
        quiet_chaos_panics();
        for (index, property) in PROPERTIES.into_iter().enumerate() {
            if self
                .only
                .as_ref()
                .is_some_and(|only| !only.iter().any(|p| p == property))
            {
                continue;
            }
            let result = match property {
                "equivalence" => self.property(index, 48, |r| equivalence(r, make)),
                "batches" => self.property(index, 12, |r| batches(r, make)),
                "failures" => self.property(index, 12, |r| failures(r, make)),
                "fit_and_clone" => self.property(index, 12, |r| fit_and_clone(r, make)),
                _ => hostile(make),
            };
            result.map_err(|message| Failure {
                executor: self.name.clone(),
                property,
                message,
            })?;
        }
        Ok(())
    }

    /// A runner for property number `index` with `default` cases, and the property run on it.
    fn property(
        &self,
        index: usize,
        default: u32,
        run: impl FnOnce(&mut TestRunner) -> Result<(), String>,
    ) -> Result<(), String> {
        let from_env = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse::<u32>().ok())
            .map(|c| if default < 48 { (c / 4).max(1) } else { c });
        let config = Config {
            cases: self.cases.or(from_env).unwrap_or(default),
            failure_persistence: None,
            max_shrink_iters: if self.seed.is_some() { 0 } else { 256 },
            ..Config::default()
        };
        let mut runner = match self.seed {
            Some(seed) => {
                let mut bytes = [0u8; 32];
                bytes[..8].copy_from_slice(&seed.to_le_bytes());
                bytes[8..16].copy_from_slice(&(index as u64).to_le_bytes());
                TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
            }
            None => TestRunner::new(config),
        };
        run(&mut runner)
    }
}

/// Runs `test` on `strategy` with `runner`; the failure as text.
fn drive<S: Strategy>(
    runner: &mut TestRunner,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) -> Result<(), String>
where
    S::Value: fmt::Debug,
{
    runner.run(&strategy, test).map_err(|e| match e {
        TestError::Fail(reason, case) => format!("{reason}\n  case: {case:#?}"),
        TestError::Abort(reason) => format!("aborted: {reason}"),
    })
}

fn fail(context: &str) -> impl Fn(String) -> TestCaseError + '_ {
    move |e| TestCaseError::fail(format!("{context}: {e}"))
}

fn arc(make: MakeExecutor<'_>) -> Arc<dyn Executor> {
    Arc::from(make())
}

/// Random DAGs (shuffled declarations, some with a failing or panicking
/// stage) and random traces (empty, NaN, infinities, subnormals): the same
/// run as sequential, bit for bit, or the same error.
fn equivalence(runner: &mut TestRunner, make: MakeExecutor<'_>) -> Result<(), String> {
    let strategy = (pipeline_strategy(40, true), trace_strategy(4096));
    drive(runner, strategy, |(spec, input)| {
        let pipeline = spec.build();
        let expected = pipeline.run_on(&SequentialExecutor, &input);
        let executor = make();
        same_outcome(&expected, &pipeline.run_on(&*executor, &input)).map_err(fail("run"))?;
        // The executor is reused: a second run is the same.
        same_outcome(&expected, &pipeline.run_on(&*executor, &input)).map_err(fail("second run"))
    })
}

/// Batches of 0 to 5 random traces: `run_batch` and `run_batch_each` equal
/// the mapped sequential runs, in order.
fn batches(runner: &mut TestRunner, make: MakeExecutor<'_>) -> Result<(), String> {
    let strategy = (
        pipeline_strategy(12, false),
        proptest::collection::vec(trace_strategy(256), 0..6),
    );
    drive(runner, strategy, |(spec, inputs)| {
        let pipeline = spec.build();
        let mapped: Vec<_> = inputs.iter().map(|x| pipeline.run(x)).collect();
        let on = pipeline.clone().with_executor(arc(make));
        let expected = batch_result(inputs.iter().map(|x| pipeline.run(x)).collect());
        same_batch(&expected, &on.run_batch(&inputs)).map_err(fail("run_batch"))?;
        let each = on.run_batch_each(&inputs);
        prop_assert_eq!(each.len(), inputs.len());
        for (i, (a, b)) in mapped.iter().zip(&each).enumerate() {
            same_outcome(a, b).map_err(fail(&format!("run_batch_each, input {i}")))?;
        }
        Ok(())
    })
}

/// Failing runs and batches: random DAGs of stages that fail or panic on
/// random inputs after random delays (up to 5 ms). `run_batch`,
/// `run_batch_each` and `run` give the sequential error (same variant, same
/// message) whatever the timing.
fn failures(runner: &mut TestRunner, make: MakeExecutor<'_>) -> Result<(), String> {
    drive(runner, chaos_strategy(8, 5_000), |case| {
        let pipeline = case.pipeline();
        let inputs = case.traces();
        let on = pipeline.clone().with_executor(arc(make));
        same_batch(&pipeline.run_batch(&inputs), &on.run_batch(&inputs))
            .map_err(fail("run_batch"))?;
        let expected = pipeline.run_batch_each(&inputs);
        let got = on.run_batch_each(&inputs);
        prop_assert_eq!(expected.len(), got.len());
        for (i, (a, b)) in expected.iter().zip(&got).enumerate() {
            same_outcome(a, b).map_err(fail(&format!("run_batch_each, input {i}")))?;
            same_outcome(a, &on.run(&inputs[i])).map_err(fail(&format!("run, input {i}")))?;
        }
        Ok(())
    })
}

/// Fitted pipelines run the same on the executor; clones are independent
/// (changing one's parameters leaves the other's runs alone).
fn fit_and_clone(runner: &mut TestRunner, make: MakeExecutor<'_>) -> Result<(), String> {
    let strategy = (
        pipeline_strategy(10, false),
        trace_strategy(256),
        -4.0f64..4.0,
    );
    drive(runner, strategy, |(spec, input, factor)| {
        let mut reference = spec.build();
        reference
            .fit(&input)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected = reference
            .run(&input)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut on = reference.clone().with_executor(arc(make));
        let got = on
            .run(&input)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        same_run(&expected, &got).map_err(fail("fitted run"))?;
        let first = reference.step_names()[0].to_owned();
        on.set_params([(format!("{first}__k"), factor)])
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        // The clone's own run sees the change, as the sequential executor would.
        let changed = on.clone().with_executor(Arc::new(SequentialExecutor));
        same_outcome(&changed.run(&input), &on.run(&input)).map_err(fail("changed clone"))?;
        let again = reference
            .run(&input)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        same_run(&expected, &again).map_err(fail("original after the clone changed"))
    })
}

/// Fixed hostile cases: a long chain, a wide fan-out and fan-in, empty and
/// non-finite traces, a batch of empty traces.
fn hostile(make: MakeExecutor<'_>) -> Result<(), String> {
    let stage = |op| TestStage { op, k: 1.0 };
    let chain = Pipeline::new((0..2_000).map(|i| Step::new(format!("s{i}"), stage(Op::Offset))))
        .map_err(|e| e.to_string())?;
    let mut wide: Vec<Step> = (0..1_000)
        .map(|i| Step::new(format!("w{i}"), stage(Op::Offset)).input(INPUT))
        .collect();
    wide.push(Step::new("join", stage(Op::Sum)).inputs((0..1_000).map(|i| format!("w{i}"))));
    let wide = Pipeline::new(wide).map_err(|e| e.to_string())?;
    let traces = [
        Trace::new(vec![], 1.0),
        Trace::new(
            vec![f64::NAN, f64::INFINITY, -0.0, f64::MIN_POSITIVE / 4.0],
            1e10,
        ),
        Trace::new(vec![1.0, 2.0], 1e-300),
    ];
    let traces: Vec<Trace> = traces
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let executor = make();
    for (name, pipeline) in [
        ("a 2,000-step chain", &chain),
        ("a 1,000-wide fan-out", &wide),
    ] {
        for (i, input) in traces.iter().enumerate() {
            let expected = pipeline.run_on(&SequentialExecutor, input);
            same_outcome(&expected, &pipeline.run_on(&*executor, input))
                .map_err(|e| format!("{name}, trace {i}: {e}"))?;
        }
        let expected = pipeline.run_batch_on(&SequentialExecutor, &traces);
        same_batch(&expected, &pipeline.run_batch_on(&*executor, &traces))
            .map_err(|e| format!("{name}, batch: {e}"))?;
    }
    let empties = vec![traces[0].clone(); 9];
    let failing =
        Pipeline::new([Step::new("f", stage(Op::FailAbove))]).map_err(|e| e.to_string())?;
    same_batch(
        &failing.run_batch_on(&SequentialExecutor, &empties),
        &failing.run_batch_on(&*executor, &empties),
    )
    .map_err(|e| format!("a batch of empty traces into a failing stage: {e}"))?;
    Ok(())
}
