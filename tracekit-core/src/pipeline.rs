//! The pipeline: named steps, their checked wiring, and the last run's intermediates.

use std::{
    collections::BTreeMap,
    fmt,
    ops::Index,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::{
    Error, Executor, INPUT, ParamValue, Params, Plan, Run, SequentialExecutor, Source, Step, Trace,
    Transformer, graph::Graph, plan::guarded,
};

static NEXT_STATE_ID: AtomicU64 = AtomicU64::new(1);

fn next_state_id() -> u64 {
    NEXT_STATE_ID.fetch_add(1, Ordering::Relaxed)
}

/// A checked graph of named transformers, and the executor it runs on
/// (the [`SequentialExecutor`] unless [`Pipeline::with_executor`] says otherwise).
///
/// Steps without declared inputs read the previous step, so a plain list is
/// a chain; declared inputs make any DAG. Wiring mistakes (duplicate or
/// reserved names, unknown inputs, cycles) are errors here, at construction.
///
/// ```
/// use tracekit_core::{Pipeline, Step, Trace, Transformer, StageError, INPUT};
///
/// #[derive(Clone)]
/// struct Add(f64);
/// impl Transformer for Add {
///     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> {
///         let sum = i.iter().fold(vec![self.0; i[0].len()], |mut acc, t| {
///             acc.iter_mut().zip(t.samples()).for_each(|(a, x)| *a += x);
///             acc
///         });
///         Ok(i[0].derive(sum))
///     }
///     fn kind(&self) -> &str { "add" }
/// }
///
/// let mut p = Pipeline::new([
///     Step::new("left", Add(1.0)).input(INPUT),
///     Step::new("right", Add(2.0)).input(INPUT),
///     Step::new("sum", Add(0.0)).inputs(["left", "right"]),
/// ])?;
/// assert_eq!(p.get_execution_order(), vec![vec!["left", "right"], vec!["sum"]]);
/// let out = p.transform(&Trace::new(vec![10.0], 1.0)?)?;
/// assert_eq!(out.samples(), &[23.0]);
/// assert_eq!(p.get_intermediate("left")?.samples(), &[11.0]);
/// # Ok::<(), tracekit_core::Error>(())
/// ```
pub struct Pipeline {
    steps: Vec<Step>,
    /// Boxed so that a [`Plan`] borrows only heap memory (see there).
    graph: Box<Graph>,
    output: usize,
    last: Option<Run>,
    stage_timeout: Option<Duration>,
    state_id: u64,
    executor: Arc<dyn Executor>,
}

impl Pipeline {
    /// Builds and checks a pipeline; the output is the last step's.
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Result<Pipeline, Error> {
        let steps: Vec<Step> = steps.into_iter().collect();
        let graph = Graph::build(&steps)?;
        let output = steps.len() - 1;
        Ok(Pipeline {
            steps,
            graph: Box::new(graph),
            output,
            last: None,
            stage_timeout: None,
            state_id: next_state_id(),
            executor: Arc::new(SequentialExecutor),
        })
    }

    /// Runs this pipeline on `executor` from now on: [`Pipeline::run`],
    /// [`Pipeline::transform`], [`Pipeline::fit_transform`],
    /// [`Pipeline::run_batch`] and [`Pipeline::run_batch_each`] use it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tracekit_core::{Executor, Pipeline, Plan, Run, SequentialExecutor, Step, Trace, Transformer, StageError, Error};
    ///
    /// #[derive(Clone)]
    /// struct Id;
    /// impl Transformer for Id {
    ///     fn transform(&self, i: &[&Trace]) -> Result<Trace, StageError> { Ok(i[0].clone()) }
    /// }
    ///
    /// /// Counts the runs it is given, then runs them sequentially.
    /// #[derive(Default)]
    /// struct Counting(std::sync::atomic::AtomicUsize);
    /// impl Executor for Counting {
    ///     fn run(&self, plan: &Plan<'_>, input: &Trace) -> Result<Run, Error> {
    ///         self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ///         SequentialExecutor.run(plan, input)
    ///     }
    /// }
    ///
    /// let counting = Arc::new(Counting::default());
    /// let mut p = Pipeline::new([Step::new("id", Id)])?.with_executor(counting.clone());
    /// let x = Trace::new(vec![1.0], 1.0)?;
    /// p.run(&x)?;
    /// p.transform(&x)?;
    /// p.run_batch(&[x.clone(), x])?;
    /// assert_eq!(counting.0.load(std::sync::atomic::Ordering::Relaxed), 4);
    /// # Ok::<(), tracekit_core::Error>(())
    /// ```
    pub fn with_executor(mut self, executor: Arc<dyn Executor>) -> Pipeline {
        self.executor = executor;
        self
    }

    /// [`Pipeline::with_executor`] in place.
    pub fn set_executor(&mut self, executor: Arc<dyn Executor>) -> &mut Self {
        self.executor = executor;
        self
    }

    /// The executor this pipeline runs on.
    pub fn executor(&self) -> &Arc<dyn Executor> {
        &self.executor
    }

    /// Checks `steps` as [`Pipeline::new`] would (names, inputs, cycles),
    /// without taking them.
    pub fn check_steps(steps: &[Step]) -> Result<(), Error> {
        Graph::build(steps).map(drop)
    }

    /// Makes `step` the pipeline's output.
    pub fn with_output(mut self, step: &str) -> Result<Pipeline, Error> {
        self.output = self.position(step)?;
        self.last = None;
        Ok(self)
    }

    fn position(&self, step: &str) -> Result<usize, Error> {
        self.graph
            .names
            .position(step)
            .ok_or_else(|| Error::StepNotFound {
                step: step.to_owned(),
            })
    }

    fn touch(&mut self) {
        self.state_id = next_state_id();
    }

    /// The number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Always false: a pipeline has at least one step.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The step names in declaration order.
    pub fn step_names(&self) -> Vec<&str> {
        self.graph.names.iter().collect()
    }

    /// The steps, in declaration order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The steps, given back (to add more and build a new pipeline).
    pub fn into_steps(self) -> Vec<Step> {
        self.steps
    }

    /// The name of the output step.
    pub fn output_step(&self) -> &str {
        &self.steps[self.output].name
    }

    /// The transformer of step `name`.
    pub fn named_step(&self, name: &str) -> Option<&(dyn Transformer + 'static)> {
        let i = self.graph.names.position(name)?;
        Some(&*self.steps[i].transformer)
    }

    /// The transformer of step `name`, to change it; the change is seen by
    /// every executor on the next run.
    pub fn named_step_mut(&mut self, name: &str) -> Option<&mut (dyn Transformer + 'static)> {
        let i = self.graph.names.position(name)?;
        self.touch();
        Some(&mut *self.steps[i].transformer)
    }

    /// The time limit for each stage (`None`: no limit).
    pub fn stage_timeout(&self) -> Option<Duration> {
        self.stage_timeout
    }

    /// Sets the time limit for each stage. A stage that returns after the
    /// limit has its result discarded ([`Plan::run_stage`]); a backend that
    /// can stop a stage (by killing the process that runs it) does so at the
    /// limit. Either way the run gives [`Error::Timeout`].
    pub fn set_stage_timeout(&mut self, limit: Option<Duration>) -> &mut Self {
        self.stage_timeout = limit;
        self
    }

    /// The plan an executor runs.
    pub fn plan(&self) -> Plan<'_> {
        Plan::new(
            &self.steps,
            &self.graph,
            self.output,
            self.stage_timeout,
            self.state_id,
        )
    }

    /// Runs every step on `input` on the pipeline's executor. Reentrant:
    /// several threads may run one pipeline at once.
    pub fn run(&self, input: &Trace) -> Result<Run, Error> {
        run_ended(self.executor.run(&self.plan(), input))
    }

    /// Runs every step on `input` with another executor, once.
    pub fn run_on(&self, executor: &dyn Executor, input: &Trace) -> Result<Run, Error> {
        run_ended(executor.run(&self.plan(), input))
    }

    /// Runs the pipeline on each input on its executor, results in input
    /// order. A failure is `Batch input N failed: ...` ([`Error::Batch`]) for
    /// the lowest failing `N`, the error a sequential loop would report, on
    /// every executor.
    pub fn run_batch(&self, inputs: &[Trace]) -> Result<Vec<Run>, Error> {
        run_ended(self.executor.run_batch(&self.plan(), inputs))
    }

    /// [`Pipeline::run_batch`] with another executor, once.
    pub fn run_batch_on(
        &self,
        executor: &dyn Executor,
        inputs: &[Trace],
    ) -> Result<Vec<Run>, Error> {
        run_ended(executor.run_batch(&self.plan(), inputs))
    }

    /// Runs the pipeline on every input, also after failures, on its
    /// executor: one result per input, in input order. Each failing input's
    /// error is the one [`Pipeline::run`] gives for it;
    /// [`batch_result`](crate::batch_result) turns the results into what
    /// [`Pipeline::run_batch`] returns.
    pub fn run_batch_each(&self, inputs: &[Trace]) -> Vec<Result<Run, Error>> {
        run_ended(self.executor.run_batch_each(&self.plan(), inputs))
    }

    /// Runs the pipeline on its executor and keeps every intermediate for
    /// [`Pipeline::get_intermediate`].
    pub fn transform(&mut self, input: &Trace) -> Result<Trace, Error> {
        let run = self.run(input)?;
        let out = run.output().clone();
        self.last = Some(run);
        Ok(out)
    }

    /// Fits every stage in the sequential order ([`Plan::order`]), each on
    /// the fitted outputs of the stages it reads. Sequential by nature, on
    /// the calling thread whatever the executor; the stage time limit does
    /// not apply.
    pub fn fit(&mut self, input: &Trace) -> Result<&mut Self, Error> {
        self.touch();
        let mut results: Vec<Option<Trace>> = vec![None; self.len()];
        let start = Instant::now();
        for k in 0..self.graph.order.len() {
            let i = self.graph.order[k];
            let inputs: Vec<Trace> = self
                .graph
                .gather(i, input, |d| results[d].as_ref())
                .ok_or_else(|| {
                    Error::Internal(format!(
                        "inputs of step '{}' are missing",
                        self.steps[i].name
                    ))
                })?
                .into_iter()
                .cloned()
                .collect();
            let refs: Vec<&Trace> = inputs.iter().collect();
            let step = &mut self.steps[i];
            guarded(&step.name, || step.transformer.fit(&refs))?;
            if !self.graph.readers[i].is_empty() {
                let plan = self.plan().with_stage_timeout(None);
                let (out, _) = plan.run_stage(i, &refs, start, 0)?;
                results[i] = Some(out);
            }
        }
        Ok(self)
    }

    /// [`Pipeline::fit`], then [`Pipeline::transform`].
    pub fn fit_transform(&mut self, input: &Trace) -> Result<Trace, Error> {
        self.fit(input)?;
        self.transform(input)
    }

    /// The output of `step` in the last [`Pipeline::transform`].
    pub fn get_intermediate(&self, step: &str) -> Result<&Trace, Error> {
        self.position(step)?;
        self.last
            .as_ref()
            .and_then(|run| run.get(step))
            .ok_or_else(|| Error::NoIntermediate {
                step: step.to_owned(),
            })
    }

    /// A measurement of `step`'s output in the last [`Pipeline::transform`].
    pub fn get_intermediate_value(&self, step: &str, key: &str) -> Result<f64, Error> {
        let trace = self.get_intermediate(step)?;
        trace.measurement(key).ok_or_else(|| Error::NoMeasurement {
            step: step.to_owned(),
            key: key.to_owned(),
            available: trace.meta().measurements.keys().cloned().collect(),
        })
    }

    /// Whether the last transform kept an output for `step`.
    pub fn has_intermediate(&self, step: &str) -> bool {
        self.last
            .as_ref()
            .is_some_and(|run| run.get(step).is_some())
    }

    /// Steps with an intermediate from the last transform, in declaration order.
    pub fn list_intermediates(&self) -> Vec<&str> {
        self.last.as_ref().map(Run::kept_steps).unwrap_or_default()
    }

    /// The last transform's run, if any.
    pub fn last_run(&self) -> Option<&Run> {
        self.last.as_ref()
    }

    /// Every parameter of every step, keyed `step__param`.
    pub fn get_params(&self) -> Params {
        let mut all = Params::new();
        for step in &self.steps {
            for (k, v) in step.transformer.get_params() {
                all.insert(format!("{}__{k}", step.name), v);
            }
        }
        all
    }

    /// Sets parameters given as `step__param` keys. All or nothing: on an
    /// error no step is changed.
    pub fn set_params<I, K, V>(&mut self, params: I) -> Result<&mut Self, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<ParamValue>,
    {
        let mut changed: BTreeMap<usize, Box<dyn Transformer>> = BTreeMap::new();
        for (key, value) in params {
            let key = key.as_ref();
            let (step, param) = key.split_once("__").ok_or_else(|| {
                Error::InvalidConfig(format!("parameter key '{key}' must read 'step__param'"))
            })?;
            let i = self.position(step)?;
            let stage = changed
                .entry(i)
                .or_insert_with(|| self.steps[i].transformer.clone());
            let valid = stage.get_params();
            if !valid.contains_key(param) {
                return Err(Error::InvalidParameter {
                    step: step.to_owned(),
                    param: param.to_owned(),
                    valid: valid.into_keys().collect(),
                });
            }
            stage.set_param(param, value.into()).map_err(|source| {
                Error::InvalidParameterValue {
                    step: step.to_owned(),
                    param: param.to_owned(),
                    source,
                }
            })?;
        }
        for (i, stage) in changed {
            self.steps[i].transformer = stage;
        }
        self.touch();
        Ok(self)
    }

    /// Each step and the steps it reads (the input omitted), deduplicated.
    pub fn get_dependency_graph(&self) -> BTreeMap<String, Vec<String>> {
        (0..self.len())
            .map(|i| {
                let deps = self.graph.deps[i]
                    .iter()
                    .map(|&d| self.steps[d].name.clone())
                    .collect();
                (self.steps[i].name.clone(), deps)
            })
            .collect()
    }

    /// The generations: steps that depend only on earlier generations, each in
    /// declaration order.
    pub fn get_execution_order(&self) -> Vec<Vec<String>> {
        self.graph
            .generations
            .iter()
            .map(|g| g.iter().map(|&i| self.steps[i].name.clone()).collect())
            .collect()
    }

    /// The dependency graph in Graphviz's DOT language.
    pub fn to_dot(&self) -> String {
        let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let mut dot = String::from("digraph pipeline {\n  rankdir=LR;\n  node [shape=box];\n");
        dot += &format!("  {} [shape=ellipse];\n", q(INPUT));
        for (i, step) in self.steps.iter().enumerate() {
            let label = format!(
                "{}\\n({})",
                step.name.replace('"', "\\\""),
                step.transformer.kind()
            );
            let extra = if i == self.output {
                ", peripheries=2"
            } else {
                ""
            };
            dot += &format!("  {} [label=\"{label}\"{extra}];\n", q(&step.name));
        }
        for (i, step) in self.steps.iter().enumerate() {
            let mut seen_input = false;
            for source in &self.graph.inputs[i] {
                match *source {
                    Source::Input if !seen_input => {
                        seen_input = true;
                        dot += &format!("  {} -> {};\n", q(INPUT), q(&step.name));
                    }
                    Source::Input => {}
                    Source::Stage(_) => {}
                }
            }
            for &d in &self.graph.deps[i] {
                dot += &format!("  {} -> {};\n", q(&self.steps[d].name), q(&step.name));
            }
        }
        for generation in &self.graph.generations {
            let names: Vec<String> = generation.iter().map(|&i| q(&self.steps[i].name)).collect();
            dot += &format!("  {{ rank=same; {} }}\n", names.join("; "));
        }
        dot.push_str("}\n");
        dot
    }
}

impl fmt::Display for Pipeline {
    /// `Pipeline([\n  ('name', kind),\n  ...\n])`, like the original's repr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Pipeline([")?;
        let rows: Vec<String> = self
            .steps
            .iter()
            .map(|s| format!("  ('{}', {})", s.name, s.transformer.kind()))
            .collect();
        writeln!(f, "{}", rows.join(",\n"))?;
        write!(f, "])")
    }
}

impl Clone for Pipeline {
    /// A deep copy: the transformers are cloned, so changing the copy leaves
    /// the original alone. The copy runs on the same executor.
    fn clone(&self) -> Pipeline {
        Pipeline {
            steps: self.steps.clone(),
            graph: self.graph.clone(),
            output: self.output,
            last: self.last.clone(),
            stage_timeout: self.stage_timeout,
            state_id: next_state_id(),
            executor: Arc::clone(&self.executor),
        }
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("steps", &self.steps)
            .field("output", &self.output_step())
            .field("stage_timeout", &self.stage_timeout)
            .finish_non_exhaustive()
    }
}

impl Index<usize> for Pipeline {
    type Output = dyn Transformer;

    /// The transformer of the step at `index`; panics if out of range, like a slice.
    fn index(&self, index: usize) -> &Self::Output {
        &*self.steps[index].transformer
    }
}

impl Index<&str> for Pipeline {
    type Output = dyn Transformer;

    /// The transformer of step `name`; panics if there is none, like a map.
    /// Use [`Pipeline::named_step`] for a fallible lookup.
    fn index(&self, name: &str) -> &Self::Output {
        match self.named_step(name) {
            Some(t) => t,
            None => panic!("Step '{name}' not found in pipeline"),
        }
    }
}

/// Gives `result` back after releasing the buffer pool's idle memory above
/// [`RUN_END_IDLE`](crate::buffer::RUN_END_IDLE): the buffers of a large run
/// do not stay reserved for the small runs after it.
fn run_ended<T>(result: T) -> T {
    crate::buffer::release_idle(crate::buffer::RUN_END_IDLE);
    result
}
